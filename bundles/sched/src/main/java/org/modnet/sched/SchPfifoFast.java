package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.shell.CommandException;

/**
 * {@code prio} ({@code net/sched/sch_prio.c}) and {@code pfifo_fast} ({@code sch_generic.c}): bands
 * served strictly in order, a packet's band chosen by its priority through the priomap. prio's bands
 * hold up to {@code txqueuelen} packets each (its default pfifo children); pfifo_fast holds
 * {@code txqueuelen} in all and takes no options.
 */
final class SchPfifoFast extends SchedQdisc {
    static final String USAGE = "Usage: ... prio bands NUMBER priomap P1 P2...[multiqueue]";
    static final int[] DEFAULT_PRIOMAP = { 1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 };
    private static final int TCQ_PRIO_BANDS = 16;

    private final boolean fast;
    private SkbQueue[] bands;
    private int[] prio2band;

    SchPfifoFast(QdiscEnv env, boolean fast, List<String> args) {
        super(env);
        this.fast = fast;
        if (fast && !args.isEmpty()) {
            throw new CommandException("qdisc 'pfifo_fast' does not support option parsing", 1);
        }
        configure(args);
    }

    private void configure(List<String> words) {
        int n = 3;
        int[] map = DEFAULT_PRIOMAP.clone();
        Args a = new Args(words, USAGE);
        while (a.more()) {
            String w = a.next();
            if (w.equals("bands")) {
                Integer v = TcUtil.parseU32(a.value());
                if (v == null || v < 2 || v > TCQ_PRIO_BANDS) {
                    throw TcUtil.illegal("bands");
                }
                n = v;
            } else if (w.equals("priomap")) {
                for (int p = 0; p < 16; p++) {
                    Integer v = TcUtil.parseU32(a.value());
                    if (v == null) {
                        throw TcUtil.illegal("priomap");
                    }
                    map[p] = v;
                }
            } else {
                throw a.unknown(w);
            }
        }
        for (int band : map) {
            if (band >= n) {
                throw new CommandException("Illegal \"priomap\" element", 1);
            }
        }
        SkbQueue[] q = new SkbQueue[n];
        for (int i = 0; i < n; i++) {
            q[i] = new SkbQueue();
        }
        if (bands != null) { // change: keep what is queued, in its band or the last one
            for (int i = 0; i < bands.length; i++) {
                SkBuff skb;
                while ((skb = bands[i].pollFirst()) != null) {
                    q[Math.min(i, n - 1)].addLast(skb);
                }
            }
        }
        bands = q;
        prio2band = map;
    }

    @Override
    public String kind() {
        return fast ? "pfifo_fast" : "prio";
    }

    @Override
    public int enqueue(SkBuff skb) {
        int limit = txQueueLen();
        SkbQueue band = bands[prio2band[skb.priority() & 15]];
        if ((fast ? queueLen() : band.len()) >= limit) {
            return drop(skb);
        }
        band.addLast(skb);
        return NET_XMIT_SUCCESS;
    }

    @Override
    protected SkBuff dequeueNext() {
        for (SkbQueue band : bands) {
            SkBuff skb = band.pollFirst();
            if (skb != null) {
                return skb;
            }
        }
        return null;
    }

    @Override
    protected int resetQueue() {
        int n = 0;
        for (SkbQueue band : bands) {
            n += band.purge();
        }
        return n;
    }

    @Override
    protected int queueLen() {
        int n = 0;
        for (SkbQueue band : bands) {
            n += band.len();
        }
        return n;
    }

    @Override
    protected int queueBytes() {
        int n = 0;
        for (SkbQueue band : bands) {
            n += band.bytes();
        }
        return n;
    }

    @Override
    public void change(List<String> args) {
        if (fast) {
            super.change(args);
        }
        configure(args);
    }

    @Override
    public String options() {
        StringBuilder sb = new StringBuilder("bands ").append(bands.length).append(" priomap");
        for (int b : prio2band) {
            sb.append(' ').append(b);
        }
        return sb.toString();
    }
}

package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/**
 * {@code prio} ({@code net/sched/sch_prio.c}): a classful qdisc whose classes {@code H:1} ..
 * {@code H:bands} are served strictly in order, a packet's class chosen by its priority through the
 * priomap. Each class holds a child qdisc: a {@code pfifo} of {@code txqueuelen} until {@code tc qdisc
 * add ... parent H:N} grafts another (netem, tbf, ...) there.
 */
final class SchPrio extends SchedQdisc implements ClassfulQdisc, TcFilterParent {
    static final String USAGE = "Usage: ... prio bands NUMBER priomap P1 P2...[multiqueue]";
    private static final int TCQ_PRIO_BANDS = 16;

    private Qdisc[] children;
    /** The filters {@code tc filter add ... parent H:} put here ({@code q->filter_list}). */
    private final TcFilterBlock filters = new TcFilterBlock();
    private int[] prio2band;

    SchPrio(QdiscEnv env, List<String> args) {
        super(env);
        configure(args);
    }

    private void configure(List<String> words) {
        int n = 3;
        int[] map = SchPfifoFast.DEFAULT_PRIOMAP.clone();
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
        if (children != null && n < children.length) {
            for (int i = n; i < children.length; i++) { // prio_tune: bands that go take their queues with them
                stats.drops(children[i].reset());
                children[i].destroy();
            }
        }
        Qdisc[] c = new Qdisc[n];
        for (int i = 0; i < n; i++) {
            c[i] = children != null && i < children.length ? children[i] : new SchFifo(env, false, List.of());
        }
        children = c;
        prio2band = map;
    }

    @Override
    public String kind() {
        return "prio";
    }

    /** The number of classes ({@code H:1} .. {@code H:bands}). */
    int bands() {
        return children.length;
    }

    @Override
    public boolean hasLeaf(int classid) {
        int minor = classid & 0xffff;
        return minor >= 1 && minor <= children.length;
    }

    @Override
    public Qdisc leaf(int classid) {
        return hasLeaf(classid) ? children[(classid & 0xffff) - 1] : null;
    }

    /** {@code prio_graft}: puts {@code q} in a class's band (null: a fresh pfifo); returns the one it replaced, not yet reset. */
    @Override
    public Qdisc graft(int classid, Qdisc q) {
        int band = (classid & 0xffff) - 1;
        Qdisc old = children[band];
        children[band] = q != null ? q : new SchFifo(env, false, List.of());
        return old;
    }

    @Override
    public TcFilterBlock filters() {
        return filters;
    }

    @Override
    public int enqueue(SkBuff skb) {
        int band = prio2band[skb.priority() & 15];
        if (!filters.isEmpty()) { // prio_classify: a filter's class id names the band
            long r = filters.classify(skb, false);
            int verdict = TcFilterBlock.verdict(r);
            if (verdict == org.modnet.api.sched.TcHook.TC_ACT_SHOT) {
                stats.drop(); // __NET_XMIT_BYPASS: the qdisc counts it, the sender is not told
                skb.free();
                return NET_XMIT_SUCCESS;
            }
            if (verdict == org.modnet.api.sched.TcHook.TC_ACT_STOLEN) {
                return NET_XMIT_SUCCESS; // an action took it
            }
            if (verdict >= 0) {
                int minor = TcFilterBlock.classid(r) & 0xffff;
                band = minor >= 1 && minor <= children.length ? minor - 1 : prio2band[0];
            }
        }
        int rc = children[band].enqueue(skb);
        if (rc != NET_XMIT_SUCCESS) {
            stats.drop();
        }
        return rc;
    }

    @Override
    protected SkBuff dequeueNext() {
        for (Qdisc child : children) {
            SkBuff skb = child.dequeue();
            if (skb != null) {
                return skb;
            }
        }
        return null;
    }

    @Override
    protected int resetQueue() {
        int n = 0;
        for (Qdisc child : children) {
            n += child.reset();
        }
        return n;
    }

    @Override
    protected int queueLen() {
        int n = 0;
        for (Qdisc child : children) {
            n += child.qlen();
        }
        return n;
    }

    @Override
    protected int queueBytes() {
        int n = 0;
        for (Qdisc child : children) {
            n += child.backlogBytes();
        }
        return n;
    }

    @Override
    public void change(List<String> args) {
        configure(args);
    }

    @Override
    public void destroy() {
        filters.flush(); // its filters go with it: their actions and programs are let go
        for (Qdisc child : children) {
            child.destroy();
        }
    }

    @Override
    public String options() {
        StringBuilder sb = new StringBuilder("bands ").append(children.length).append(" priomap");
        for (int b : prio2band) {
            sb.append(' ').append(b);
        }
        return sb.toString();
    }
}

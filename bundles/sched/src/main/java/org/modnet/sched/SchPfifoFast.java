package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/**
 * {@code pfifo_fast} ({@code net/sched/sch_generic.c}): three FIFO bands served in order, a packet's
 * band chosen by its priority through the fixed priomap, {@code txqueuelen} packets in all. It takes
 * no options. (The core keeps its own copy as every device's built-in default; this one is what
 * {@code tc qdisc add ... pfifo_fast} puts there, with a handle.)
 */
final class SchPfifoFast extends SchedQdisc {
    /** {@code sch_default_prio2band}: TC_PRIO_* ({@code skb->priority & 15}) to band. */
    static final int[] DEFAULT_PRIOMAP = { 1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 };

    private final SkbQueue[] bands = { new SkbQueue(), new SkbQueue(), new SkbQueue() };

    SchPfifoFast(QdiscEnv env, List<String> args) {
        super(env);
        if (!args.isEmpty()) {
            throw new CommandException("qdisc 'pfifo_fast' does not support option parsing", 1);
        }
    }

    @Override
    public String kind() {
        return "pfifo_fast";
    }

    @Override
    public int enqueue(SkBuff skb) {
        if (queueLen() >= txQueueLen()) {
            return drop(skb);
        }
        bands[DEFAULT_PRIOMAP[skb.priority() & 15]].addLast(skb);
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
        return bands[0].purge() + bands[1].purge() + bands[2].purge();
    }

    @Override
    protected int queueLen() {
        return bands[0].len() + bands[1].len() + bands[2].len();
    }

    @Override
    protected int queueBytes() {
        return bands[0].bytes() + bands[1].bytes() + bands[2].bytes();
    }

    @Override
    public boolean canBypass() {
        return true;
    }

    @Override
    public String options() {
        return "bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1";
    }
}

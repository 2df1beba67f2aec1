package org.modnet.sched;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscStats;
import org.modnet.api.skb.SkBuff;

/**
 * What every qdisc of this bundle shares ({@code struct Qdisc} around its ops): the counters, the
 * requeued frame that goes out first ({@code q->gso_skb}, {@code dev_requeue_skb}) and the
 * packet/byte backlog. A family implements {@link #enqueue}, {@link #dequeueNext} and
 * {@link #resetQueue}; it calls {@link #drop} for what it refuses.
 */
abstract class SchedQdisc implements Qdisc {
    protected final QdiscEnv env;
    protected final QdiscStats stats = new QdiscStats();
    private SkBuff requeued;

    SchedQdisc(QdiscEnv env) {
        this.env = env;
    }

    /** The next frame by the family's rules, or null (empty or throttled). */
    protected abstract SkBuff dequeueNext();

    /** Frees the family's queue; returns how many packets. */
    protected abstract int resetQueue();

    /** The family's own backlog. */
    protected abstract int queueLen();

    protected abstract int queueBytes();

    /** {@code qdisc_drop}: frees and counts. */
    protected final int drop(SkBuff skb) {
        stats.drop();
        skb.free();
        return NET_XMIT_DROP;
    }

    @Override
    public final SkBuff dequeue() {
        SkBuff skb = requeued;
        if (skb != null) {
            requeued = null;
            return skb;
        }
        skb = dequeueNext();
        if (skb != null) {
            stats.sent(skb.len());
        }
        return skb;
    }

    @Override
    public final void requeue(SkBuff skb) {
        if (requeued != null) { // cannot happen: the core requeues at most the one frame it took
            drop(skb);
            return;
        }
        requeued = skb;
        stats.requeue();
    }

    @Override
    public final int qlen() {
        return queueLen() + (requeued != null ? 1 : 0);
    }

    @Override
    public final int backlogBytes() {
        SkBuff r = requeued;
        return queueBytes() + (r != null ? r.len() : 0);
    }

    @Override
    public final int reset() {
        int n = resetQueue();
        SkBuff r = requeued;
        if (r != null) {
            requeued = null;
            r.free();
            n++;
        }
        return n;
    }

    @Override
    public final QdiscStats stats() {
        return stats;
    }

    /** The device's {@code txqueuelen}, or 1 when it is 0, as {@code fifo_init} takes it. */
    protected final int txQueueLen() {
        return Math.max(1, env.device().txQueueLen());
    }
}

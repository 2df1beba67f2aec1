package org.modnet.api.sched;

import java.util.List;

import org.modnet.api.skb.SkBuff;

/**
 * {@code sch_mq.c}: the root of a multi-queue device, which gives each transmit queue a qdisc of its
 * own (class {@code :N} is queue N-1), so the queues' senders never share a lock or a run flag. It
 * holds no frame (the core sends each frame to its queue's qdisc); its counters are the sum of its
 * children's ({@code mq_dump}). The core's default root ({@code attach_default_qdiscs}) and the one
 * {@code tc qdisc ... root mq} makes are both one; they differ in who grafts the children.
 *
 * @since 1.3
 */
public abstract class MqQdisc implements Qdisc {
    private final QdiscStats raced = new QdiscStats();

    /** The children, queue 0's first. */
    protected abstract List<Qdisc> children();

    @Override
    public final String kind() {
        return "mq";
    }

    /** Only a frame that races the attach comes here: dropped, counted (mq has no enqueue in Linux). */
    @Override
    public final int enqueue(SkBuff skb) {
        raced.drop();
        skb.free();
        return NET_XMIT_DROP;
    }

    @Override
    public final SkBuff dequeue() {
        return null;
    }

    @Override
    public final void requeue(SkBuff skb) {
        raced.drop();
        skb.free();
    }

    @Override
    public final int qlen() {
        int n = 0;
        for (Qdisc c : children()) {
            synchronized (c) {
                n += c.qlen();
            }
        }
        return n;
    }

    @Override
    public final int backlogBytes() {
        int n = 0;
        for (Qdisc c : children()) {
            synchronized (c) {
                n += c.backlogBytes();
            }
        }
        return n;
    }

    /** Nothing: the children are the core's to reset when the root goes. */
    @Override
    public final int reset() {
        return 0;
    }

    @Override
    public final QdiscStats stats() {
        QdiscStats sum = new QdiscStats();
        sum.add(raced);
        for (Qdisc c : children()) {
            sum.add(c.stats());
        }
        return sum;
    }

    @Override
    public void destroy() {
        for (Qdisc c : children()) {
            c.destroy();
        }
    }
}

package org.modnet.core;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscStats;
import org.modnet.api.skb.SkBuff;

/**
 * {@code sch_mq.c}: the root of a multi-queue device, which gives each transmit queue a qdisc of its
 * own (class {@code :N} is queue N-1), so the queues' senders never share a lock or a run flag. It
 * holds no frame (each frame goes to its queue's qdisc); its counters are the sum of its children's
 * ({@code mq_dump}). Built into the core, as {@code sch_mq} is into the kernel: the default root
 * {@code attach_default_qdiscs} gives a multi-queue device ({@code qdisc mq 0: root}, children
 * {@code parent :N}) and the one {@code tc qdisc ... root mq} asks for ({@link NetDev#graftMulti}
 * with no root of its own) are both one.
 */
final class Mq implements Qdisc {
    private final QdiscStats raced = new QdiscStats();
    /** The children, queue 0's first; a queue's replacement ({@link NetDev#graftTx}) is written in. */
    private volatile List<Qdisc> children;

    Mq(List<Qdisc> children) {
        this.children = List.copyOf(children);
    }

    List<Qdisc> children() {
        return children;
    }

    /** Queue {@code index} now feeds {@code q}. Under the device's graftLock. */
    void child(int index, Qdisc q) {
        Qdisc[] now = children.toArray(new Qdisc[0]);
        now[index] = q;
        children = List.of(now);
    }

    @Override
    public String kind() {
        return "mq";
    }

    /** Only a frame that races the attach comes here: dropped, counted (mq has no enqueue in Linux). */
    @Override
    public int enqueue(SkBuff skb) {
        raced.drop();
        skb.free();
        return NET_XMIT_DROP;
    }

    @Override
    public SkBuff dequeue() {
        return null;
    }

    @Override
    public void requeue(SkBuff skb) {
        raced.drop();
        skb.free();
    }

    @Override
    public int qlen() {
        int n = 0;
        for (Qdisc c : children) {
            synchronized (c) {
                n += c.qlen();
            }
        }
        return n;
    }

    @Override
    public int backlogBytes() {
        int n = 0;
        for (Qdisc c : children) {
            synchronized (c) {
                n += c.backlogBytes();
            }
        }
        return n;
    }

    /** Nothing: the children are the core's to reset when the root goes. */
    @Override
    public int reset() {
        return 0;
    }

    @Override
    public QdiscStats stats() {
        QdiscStats sum = new QdiscStats();
        sum.add(raced);
        for (Qdisc c : children) {
            sum.add(c.stats());
        }
        return sum;
    }

    @Override
    public void destroy() {
        for (Qdisc c : children) {
            c.destroy();
        }
    }
}

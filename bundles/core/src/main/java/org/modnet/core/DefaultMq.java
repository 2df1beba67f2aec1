package org.modnet.core;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscStats;
import org.modnet.api.skb.SkBuff;

/**
 * The {@code mq} root {@code attach_default_qdiscs} gives a multi-queue device with a queue: each
 * transmit queue gets a default qdisc of its own ({@code net.core.default_qdisc}), shown as
 * {@code qdisc mq 0: root} with its children {@code parent :N}. It holds no frame; its counters are
 * its children's sum ({@code mq_dump}). Built into the core, as {@code sch_mq} is into the kernel;
 * {@code tc qdisc replace ... root mq} makes the sched bundle's own.
 */
final class DefaultMq implements Qdisc {
    private final List<Qdisc> children;
    private final QdiscStats raced = new QdiscStats();

    DefaultMq(List<Qdisc> children) {
        this.children = List.copyOf(children);
    }

    List<Qdisc> children() {
        return children;
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

    @Override
    public int reset() {
        return 0; // the children are reset by the core as the root goes
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

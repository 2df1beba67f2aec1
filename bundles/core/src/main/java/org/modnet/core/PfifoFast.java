package org.modnet.core;

import java.util.ArrayDeque;
import java.util.function.IntSupplier;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscStats;
import org.modnet.api.skb.SkBuff;

/**
 * {@code pfifo_fast}, the built-in default ({@code sch_generic.c}): three FIFO bands chosen by the
 * packet's priority through Linux's default priomap, band 0 first; at most {@code txqueuelen} packets
 * in all. Callers hold the qdisc's lock. The sched bundle grafts others over it.
 */
final class PfifoFast implements Qdisc {
    /** {@code sch_default_prio2band}: TC_PRIO_* (skb->priority & 15) to band. */
    private static final int[] PRIO2BAND = { 1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 };

    @SuppressWarnings("unchecked")
    private final ArrayDeque<SkBuff>[] bands = new ArrayDeque[] { new ArrayDeque<>(), new ArrayDeque<>(), new ArrayDeque<>() };
    private final IntSupplier limit;
    private final QdiscStats stats = new QdiscStats();
    private int qlen;
    private int bytes;

    PfifoFast(IntSupplier limit) {
        this.limit = limit;
    }

    @Override
    public String kind() {
        return "pfifo_fast";
    }

    @Override
    public int enqueue(SkBuff skb) {
        if (qlen >= limit.getAsInt()) {
            stats.drop();
            skb.free();
            return NET_XMIT_DROP;
        }
        bands[PRIO2BAND[skb.priority() & 15]].addLast(skb);
        qlen++;
        bytes += skb.len();
        return NET_XMIT_SUCCESS;
    }

    @Override
    public SkBuff dequeue() {
        for (ArrayDeque<SkBuff> band : bands) {
            SkBuff skb = band.pollFirst();
            if (skb != null) {
                qlen--;
                bytes -= skb.len();
                stats.sent(skb.len());
                return skb;
            }
        }
        return null;
    }

    @Override
    public void requeue(SkBuff skb) {
        bands[0].addFirst(skb);
        qlen++;
        bytes += skb.len();
        stats.requeue();
    }

    @Override
    public int qlen() {
        return qlen;
    }

    @Override
    public int backlogBytes() {
        return bytes;
    }

    @Override
    public int reset() {
        int n = 0;
        for (ArrayDeque<SkBuff> band : bands) {
            SkBuff skb;
            while ((skb = band.pollFirst()) != null) {
                skb.free();
                n++;
            }
        }
        qlen = 0;
        bytes = 0;
        return n;
    }

    @Override
    public QdiscStats stats() {
        return stats;
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

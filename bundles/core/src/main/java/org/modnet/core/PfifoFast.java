package org.modnet.core;

import java.util.ArrayDeque;
import java.util.function.IntSupplier;

import org.modnet.api.skb.SkBuff;

/**
 * {@code pfifo_fast}: three FIFO bands chosen by the packet's priority through Linux's default
 * priomap, band 0 first; at most {@code txqueuelen} packets in all. Callers hold the device's
 * transmit lock.
 */
final class PfifoFast implements Qdisc {
    /** {@code sch_default_prio2band}: TC_PRIO_* (skb->priority & 15) to band. */
    private static final int[] PRIO2BAND = { 1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 };

    @SuppressWarnings("unchecked")
    private final ArrayDeque<SkBuff>[] bands = new ArrayDeque[] { new ArrayDeque<>(), new ArrayDeque<>(), new ArrayDeque<>() };
    private final IntSupplier limit;
    private int backlog;
    private long drops;

    PfifoFast(IntSupplier limit) {
        this.limit = limit;
    }

    @Override
    public String name() {
        return "pfifo_fast";
    }

    @Override
    public boolean enqueue(SkBuff skb) {
        if (backlog >= limit.getAsInt()) {
            drops++;
            return false;
        }
        bands[PRIO2BAND[skb.priority() & 15]].addLast(skb);
        backlog++;
        return true;
    }

    @Override
    public SkBuff dequeue() {
        for (ArrayDeque<SkBuff> band : bands) {
            SkBuff skb = band.pollFirst();
            if (skb != null) {
                backlog--;
                return skb;
            }
        }
        return null;
    }

    @Override
    public void requeue(SkBuff skb) {
        bands[0].addFirst(skb);
        backlog++;
    }

    @Override
    public int backlog() {
        return backlog;
    }

    @Override
    public int purge() {
        int n = 0;
        for (ArrayDeque<SkBuff> band : bands) {
            SkBuff skb;
            while ((skb = band.pollFirst()) != null) {
                skb.free();
                n++;
            }
        }
        backlog = 0;
        return n;
    }

    @Override
    public long drops() {
        return drops;
    }
}

package org.modnet.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.modnet.api.skb.SkBuff;

/**
 * A bounded ring of frames, a NIC's descriptor ring: producers are the device's receive side (a
 * veth peer's transmit, pktgen, a TAP read), usually one at a time but possibly several; the consumer
 * is the NAPI poll, one at a time by NAPI's own rule. No locks and no allocation: a power-of-two array
 * and two counters; a producer claims a slot with a CAS on the tail and then publishes the frame.
 */
final class SkbRing {
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(SkBuff[].class);
    private static final VarHandle HEAD;
    private static final VarHandle TAIL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(SkbRing.class, "head", long.class);
            TAIL = l.findVarHandle(SkbRing.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final SkBuff[] slots;
    /** Whether frames may carry tags (a CPU's backlog). */
    private final boolean tagged;
    /**
     * What a producer attached to each frame; made at the first tag, so that rings whose frames never
     * carry one hold no second array (the backlog's is 64 Ki slots).
     */
    private volatile Object[] tags;
    /** The tag of the frame {@link #poll} took last (the consumer's own). */
    private Object taken;
    private final int mask;
    private final int size;
    @SuppressWarnings("unused") // written through TAIL
    private volatile long tail; // next slot the producer fills
    @SuppressWarnings("unused") // written through HEAD
    private volatile long head; // next slot the consumer takes

    /** A ring of {@code size} frames (the usable size; the array rounds up to a power of two). */
    SkbRing(int size) {
        this(size, false);
    }

    /** A ring whose frames may each carry a tag ({@link #offer(SkBuff, Object)}, {@link #takenTag}). */
    SkbRing(int size, boolean tagged) {
        if (size < 1) {
            throw new IllegalArgumentException("ring size " + size);
        }
        this.size = size;
        this.slots = new SkBuff[Integer.highestOneBit(Math.max(1, size - 1)) << 1];
        this.mask = slots.length - 1;
        this.tagged = tagged;
    }

    int size() {
        return size;
    }

    int pending() {
        return (int) ((long) TAIL.getAcquire(this) - (long) HEAD.getAcquire(this));
    }

    /** Producer: false when the ring is full (the caller drops and counts). */
    boolean offer(SkBuff skb) {
        return offer(skb, null);
    }

    /** Producer: the frame with a tag the consumer reads back with {@link #takenTag} (a tagged ring only). */
    boolean offer(SkBuff skb, Object tag) {
        return offer(skb, tag, null);
    }

    /**
     * Producer: the frame tagged with the sender's transmit queue, charged to it ({@code sent}) after
     * its slot is claimed and before the consumer can see it, so no completion comes before the charge
     * (a tagged ring only).
     */
    boolean offerCharged(SkBuff skb, org.modnet.api.net.RxQueue.TxCompletion completion) {
        return offer(skb, completion, completion);
    }

    private boolean offer(SkBuff skb, Object tag, org.modnet.api.net.RxQueue.TxCompletion charge) {
        long t;
        do {
            t = (long) TAIL.getVolatile(this);
            if (t - (long) HEAD.getAcquire(this) >= size) {
                return false;
            }
        } while (!TAIL.compareAndSet(this, t, t + 1));
        if (tag != null) {
            tags()[(int) (t & mask)] = tag; // published by the release store of the frame
        }
        if (charge != null) {
            charge.sent(skb.len());
        }
        SLOTS.setRelease(slots, (int) (t & mask), skb);
        return true;
    }

    /**
     * Consumer: the next frame, or null when the ring is empty, or when its next slot is claimed
     * but not yet published (the producer is between its CAS and its store; the next poll sees it).
     */
    SkBuff poll() {
        long h = (long) HEAD.getOpaque(this);
        if (h >= (long) TAIL.getAcquire(this)) {
            return null;
        }
        int i = (int) (h & mask);
        SkBuff skb = (SkBuff) SLOTS.getAcquire(slots, i);
        if (skb == null) {
            return null;
        }
        Object[] t = tags;
        if (t != null) {
            taken = t[i];
            t[i] = null;
        }
        SLOTS.setRelease(slots, i, null);
        HEAD.setRelease(this, h + 1);
        return skb;
    }

    private Object[] tags() {
        Object[] t = tags;
        if (t == null) {
            if (!tagged) {
                throw new IllegalStateException("a ring without tags");
            }
            synchronized (this) {
                t = tags;
                if (t == null) {
                    tags = t = new Object[slots.length];
                }
            }
        }
        return t;
    }

    /** Consumer: the tag of the frame the last {@link #poll} returned (null for none, or an untagged ring). */
    Object takenTag() {
        return taken;
    }
}

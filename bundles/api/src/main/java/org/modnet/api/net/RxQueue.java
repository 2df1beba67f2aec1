package org.modnet.api.net;

import org.modnet.api.skb.SkBuff;

/**
 * One receive queue of a device: the ring the hardware fills and the NAPI instance that drains it.
 * {@link #receive} is the hardware's side (DMA into the ring, then the interrupt): when the ring is
 * full the frame is dropped and counted ({@code rx_missed_errors}), as a NIC drops what it has no
 * descriptor for; otherwise the NAPI instance is scheduled on its softirq thread, unless it already is.
 */
public interface RxQueue {
    int index();

    /** Places a received frame in the ring; the queue owns the skb either way. False if dropped. */
    boolean receive(SkBuff skb);

    /**
     * A frame the driver received into its own buffer ({@code len} bytes at {@code data} of
     * {@code buffer}; headroom before it): with a native XDP program attached it runs there first, and
     * only a frame it passes becomes an skb (copied out of the buffer) in the ring. The buffer stays the
     * driver's, free to reuse when this returns. False if the frame did not go on into the ring
     * (dropped, counted; or taken by XDP_TX or XDP_REDIRECT).
     */
    default boolean receiveFrame(java.lang.foreign.MemorySegment buffer, int data, int len) {
        throw new UnsupportedOperationException("receiveFrame");
    }

    /** The ring's size in frames. */
    int size();

    /** Frames in the ring now. */
    int pending();

    /** The softirq thread (CPU) that polls this queue. */
    int cpu();
}

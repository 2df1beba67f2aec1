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

    /** The ring's size in frames. */
    int size();

    /** Frames in the ring now. */
    int pending();

    /** The softirq thread (CPU) that polls this queue. */
    int cpu();
}

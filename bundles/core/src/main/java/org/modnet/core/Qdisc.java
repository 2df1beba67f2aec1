package org.modnet.core;

import org.modnet.api.skb.SkBuff;

/**
 * A queueing discipline on a device's transmit side, {@code struct Qdisc_ops}. The traffic-control
 * work adds more disciplines behind this interface.
 */
interface Qdisc {
    String name();

    /** Queues the frame; false when the qdisc refuses it (full): the caller frees and counts it. */
    boolean enqueue(SkBuff skb);

    /** The next frame to send, or null. */
    SkBuff dequeue();

    /** Puts back a frame the driver could not take ({@code dev_requeue_skb}): it goes out first. */
    void requeue(SkBuff skb);

    int backlog();

    /** Frees what is queued (device down or gone); returns how many. */
    int purge();

    long drops();
}

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
     * The sender's transmit queue a frame in this ring is charged to, as a veth's peer ring carries
     * its transmit queue's frames: byte queue limits across the pair ({@code netdev_tx_sent_queue} as
     * the frame takes its slot, {@code netdev_tx_completed_queue} as the peer's NAPI poll takes it).
     *
     * @since 1.10
     */
    interface TxCompletion {
        /**
         * The frame of {@code bytes} has its slot and the poll cannot see it yet: charge it now, so its
         * completion never comes before its charge. Called on the sender's transmit path.
         */
        void sent(int bytes);

        /**
         * The poll took {@code packets} frames of {@code bytes} charged here (or they were freed with
         * the ring): one call per poll and sender, on the polling thread.
         */
        void completed(int packets, int bytes);
    }

    /**
     * {@link #receive(SkBuff)} charging the frame to {@code completion} (null: none) once it has a
     * slot; a refused frame is not charged. A queue that cannot report completions takes the frame
     * uncharged.
     *
     * @since 1.10
     */
    default boolean receive(SkBuff skb, TxCompletion completion) {
        return receive(skb);
    }

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

    /**
     * A driver whose frames are read by the NAPI poll itself, as a NIC's poll cleans its receive ring:
     * the driver's interrupt masks itself and {@link #schedule}s the queue; each poll asks the driver
     * for up to its budget of frames (it hands them to {@link #receive} or {@link #receiveFrame}) and
     * delivers them; a poll that finds fewer completes and calls {@link DriverPoll#rearm} — the
     * interrupt is enabled again. Null: the ring is filled from outside only.
     */
    interface DriverPoll {
        /** Reads up to {@code budget} frames into the queue without blocking; how many. */
        int fill(RxQueue queue, int budget);

        /** NAPI completed: the driver enables its interrupt again (level-triggered, so nothing is missed). */
        void rearm(RxQueue queue);

        /**
         * A busy poller took the queue ({@code napi_busy_loop}): the driver masks its interrupt until
         * {@link #rearm}, so frames the poller reads itself wake nobody.
         *
         * @since 1.15
         */
        default void disarm(RxQueue queue) {
        }
    }

    default void setDriverPoll(DriverPoll poll) {
        throw new UnsupportedOperationException("setDriverPoll");
    }

    /**
     * A driver's interrupt that the queue's CPU waits for itself when it is idle, as an idle CPU takes
     * its interrupts and runs the softirq on the way out of them, with no thread between: the softirq
     * thread, with no NAPI instance scheduled and no timer due, sleeps in {@link #idle} instead of
     * parking, and the driver schedules the queues it finds ready there. Frames then cost no wake-up of
     * a separate interrupt thread and no unmasking per NAPI cycle (nobody else waits for the interrupt).
     *
     * @since 1.14
     */
    interface IdleWait {
        /**
         * Called by the softirq thread with nothing to do: waits up to {@code nanos} (negative: no limit)
         * for the driver's interrupt or {@link #wake}, and schedules what became ready.
         */
        void idle(long nanos);

        /** Ends the current {@link #idle} at once, or the next one if none runs now: work was raised. From any thread. */
        void wake();
    }

    /**
     * Lets the softirq thread of this queue's CPU wait in {@code wait} when idle ({@link IdleWait}); null
     * takes back {@code wait} if it is the one set. False when that CPU has no softirq thread of its own
     * (tests that run the softirq by hand) or waits in another driver's already: the driver then keeps
     * its own interrupt thread.
     *
     * @since 1.14
     */
    default boolean setIdleWait(IdleWait wait) {
        return false;
    }

    /** Takes {@code wait} back from the softirq thread of this queue's CPU if it is the one set ({@link #setIdleWait}). */
    default void clearIdleWait(IdleWait wait) {
    }

    /** {@code napi_schedule} from the driver's interrupt: the queue will be polled soon on its CPU. */
    default void schedule() {
        throw new UnsupportedOperationException("schedule");
    }

    /** The ring's size in frames. */
    int size();

    /** Frames in the ring now. */
    int pending();

    /** The softirq thread (CPU) that polls this queue. */
    int cpu();

    /**
     * The queue's NAPI instance's id ({@code napi_id}, what {@code SO_INCOMING_NAPI_ID} and the netdev
     * netlink family's {@code napi-get} show); 0 when it has none.
     *
     * @since 1.17
     */
    default int napiId() {
        return 0;
    }

    /**
     * The NAPI instance's {@code irq-suspend-timeout} (Linux 6.13, set through the netdev netlink
     * family's {@code napi-set}), nanoseconds: while an application's preferred epoll busy polling keeps
     * finding events, the device's interrupt stays off for up to this long after each {@code epoll_wait}
     * that returned some ({@code napi_suspend_irqs}); a busy poll that finds nothing gives it back at
     * once ({@code napi_resume_irqs}). 0, the default: no suspension.
     *
     * @since 1.17
     */
    default long irqSuspendTimeout() {
        return 0;
    }

    /**
     * Sets {@link #irqSuspendTimeout()}, as {@code napi-set} does.
     *
     * @throws NetException EINVAL below 0, EOPNOTSUPP for a queue without a NAPI instance
     * @since 1.17
     */
    default void setIrqSuspendTimeout(long nanos) throws NetException {
        throw new NetException(Errno.EOPNOTSUPP, "no NAPI instance");
    }
}

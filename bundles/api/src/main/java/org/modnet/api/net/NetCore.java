package org.modnet.api.net;

import java.util.List;

import org.modnet.api.skb.SkBuff;

/**
 * The core of the stack ({@code net/core}): namespaces, the receive engine (per-CPU softirq threads
 * polling NAPI instances) and the transmit path. A service; layers and drivers reach it by reference.
 */
public interface NetCore {
    NetNamespace initNet();

    /** The namespace of that name ({@code init_net} for the initial one), or null. */
    NetNamespace namespace(String name);

    List<NetNamespace> namespaces();

    /** {@code ip netns add}: a new namespace with its own loopback (once the loopback driver runs). */
    NetNamespace addNamespace(String name) throws NetException;

    /** {@code ip netns del}: its devices are unregistered (veth ends with their peers). */
    void deleteNamespace(String name) throws NetException;

    /** The number of softirq threads ("CPUs") that poll receive queues. */
    int cpus();

    /**
     * {@code smp_processor_id()} in softirq context: the CPU whose softirq (receive polls, timers) the
     * calling thread runs now, or -1 outside any softirq (a shell command, an application's thread).
     * Runs on one CPU are never concurrent, which is what per-CPU data relies on.
     */
    default int currentCpu() {
        return -1;
    }

    /**
     * The id of the NAPI instance whose poll runs on the calling thread now ({@code skb->napi_id} as
     * {@code skb_mark_napi_id} sets it), for {@code sk_mark_napi_id}; 0 outside a poll. Ids start
     * above the CPUs' numbers, as {@code MIN_NAPI_ID} does.
     *
     * @since 1.15
     */
    default int currentNapiId() {
        return 0;
    }

    /**
     * {@code napi_busy_loop}: the calling thread polls NAPI instance {@code napiId} itself, running
     * the stack on what it reads (in that instance's softirq context, which it excludes meanwhile),
     * until {@code loopEnd} says so or {@code nanos} pass; the driver's interrupt stays masked while it
     * does, so the softirq thread is not woken for those frames. When it stops, one more poll
     * completes the instance (the interrupt enabled again), or leaves it to the softirq when work is
     * left. Returns at once for an unknown id (0) or a queue the softirq is polling now. Allocates nothing.
     *
     * @since 1.15
     */
    default void napiBusyLoop(int napiId, java.util.function.BooleanSupplier loopEnd, long nanos) {
    }

    /**
     * {@code napi_busy_loop} with {@code prefer_busy_poll} and a budget, as {@code SO_PREFER_BUSY_POLL},
     * {@code SO_BUSY_POLL_BUDGET} and epoll's {@code EPIOCSPARAMS} ask: {@code budget} frames a poll
     * (0: {@code BUSY_POLL_BUDGET}, 8); with {@code prefer} and the device's {@code napi_defer_hard_irqs}
     * and {@code gro_flush_timeout} both set, the poll that ends the loop leaves the device's interrupt
     * off and arms the instance's watchdog instead: the next busy poll finds the queue its own, and the
     * softirq takes over only when the watchdog fires ({@code gro_flush_timeout} after the last poll),
     * for as many polls as {@code napi_defer_hard_irqs} before the interrupt comes back.
     *
     * @since 1.16
     */
    default void napiBusyLoop(int napiId, java.util.function.BooleanSupplier loopEnd, long nanos, boolean prefer, int budget) {
        napiBusyLoop(napiId, loopEnd, nanos);
    }

    /** Per-CPU receive statistics, {@code /proc/net/softnet_stat}. */
    List<SoftnetStat> softnetStats();

    /** {@code netif_receive_skb}: hands a received frame (protocol set) to the packet handlers. */
    void netifReceiveSkb(SkBuff skb);

    /** {@code dev_queue_xmit}: queues a frame (data at the MAC header) on {@code skb.dev()}'s qdisc and runs it. */
    void devQueueXmit(SkBuff skb);

    /**
     * {@code dev_queue_xmit} with its answer: {@code NET_XMIT_SUCCESS} (0), or {@code NET_XMIT_DROP} (1)
     * when the frame was dropped on the way (a full qdisc refused it, the device is down), which a
     * sender turns into {@code ENOBUFS} ({@code net_xmit_errno}). Takes the skb either way.
     */
    default int devQueueXmitStatus(SkBuff skb) {
        devQueueXmit(skb);
        return 0;
    }

    /**
     * A timer whose function runs on softirq thread {@code cpu % cpus()} ({@code timer_setup}). Timers
     * live in that thread's timer wheel; the function must not block.
     */
    Timer timer(int cpu, Runnable function);

    /**
     * A high-resolution timer ({@code hrtimer_setup}) whose function runs on softirq thread
     * {@code cpu % cpus()}: {@link Timer#mod}'s delay counts in milliseconds, not rounded to jiffies, as
     * the qdisc watchdog and TCP's pacing timer have it in Linux. By default, a jiffy {@link #timer}.
     */
    default Timer hrtimer(int cpu, Runnable function) {
        return timer(cpu, function);
    }

    /** The core's clock in nanoseconds: what timers and budgets count by (virtual in tests). */
    long nanoTime();

    /** The pool of ordinary packet buffers (an MTU-sized frame and its headroom each). */
    org.modnet.api.skb.SkBuffPool pool();

    /**
     * A buffer with room for {@code len} bytes after {@code headroom}, from the ordinary pool when it
     * fits there, else from the pool of large buffers (64 KiB datagrams: reassembly, loopback); null
     * when neither has one (the pools count the refusal).
     */
    org.modnet.api.skb.SkBuff allocSkb(int len, int headroom);

    /**
     * {@code enqueue_to_backlog}: hands a received frame (its device set, data at the MAC header) to
     * CPU {@code cpu}'s backlog, whose softirq takes it into the stack — where an XDP cpumap redirect
     * sends frames. False, the frame freed and counted in {@code softnet_stat}, when the backlog holds
     * {@code net.core.netdev_max_backlog} frames already or there is no such CPU.
     */
    default boolean enqueueToBacklog(org.modnet.api.skb.SkBuff skb, int cpu) {
        skb.free();
        return false;
    }

    /**
     * {@link #enqueueToBacklog(org.modnet.api.skb.SkBuff, int)} with a first step that runs on CPU
     * {@code cpu}, in its softirq, before the frame enters the stack: a cpumap entry's XDP program runs
     * there. The step returns true to let the frame go on into the stack, false when it has taken the
     * frame (sent it elsewhere, or freed it and counted the drop).
     */
    default boolean enqueueToBacklog(org.modnet.api.skb.SkBuff skb, int cpu,
            java.util.function.Predicate<org.modnet.api.skb.SkBuff> first) {
        skb.free();
        return false;
    }

    /**
     * {@code napi_suspend_irqs} (Linux 6.13): epoll's preferred busy polling returned events; if NAPI
     * instance {@code napiId} has an {@code irq-suspend-timeout}, its watchdog moves out to it, so the
     * device's interrupt stays off while the application works on what it got.
     *
     * @since 1.17
     */
    default void napiSuspendIrqs(int napiId) {
    }

    /**
     * {@code napi_resume_irqs} (Linux 6.13): epoll's preferred busy poll found nothing and the caller is
     * about to sleep; if NAPI instance {@code napiId} has an {@code irq-suspend-timeout}, it is scheduled
     * now, and its poll's completion gives the device's interrupt back (after {@code napi_defer_hard_irqs}
     * more deferrals), instead of the watchdog's, {@code gro_flush_timeout} later.
     *
     * @since 1.17
     */
    default void napiResumeIrqs(int napiId) {
    }
}

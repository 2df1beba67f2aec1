package org.modnet.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A NAPI instance, {@code struct napi_struct}. Scheduling it is what a driver's receive interrupt
 * does: the first {@link #schedule} sets SCHED (the interrupt is now masked) and queues the instance
 * on its softirq thread; later ones only note MISSED. The softirq thread calls {@link #poll} with a
 * budget; a poll that does less than its budget completes ({@code napi_complete_done}), which
 * unmasks, unless work arrived meanwhile (MISSED), in which case the instance stays scheduled.
 *
 * <p>With the device's {@code napi_defer_hard_irqs} and {@code gro_flush_timeout} set, a completion
 * leaves the interrupt off (the driver is not told) and arms the instance's watchdog
 * ({@code napi->timer}) for {@code gro_flush_timeout} instead, as many times in a row as
 * {@code napi_defer_hard_irqs} (a poll that found frames starts the count again); the watchdog, fired
 * by the softirq thread, schedules the instance if nobody holds it. A preferred busy poll
 * ({@code SO_PREFER_BUSY_POLL}) ends that way too, so the queue stays the busy poller's between its
 * polls and no interrupt wakes the softirq thread for its frames.
 *
 * <p>{@code NAPI_STATE_PREFER_BUSY_POLL}: a preferred busy poller that found the instance held sets
 * it; the softirq's poll that used its whole budget then completes (with the deferral) instead of
 * keeping the instance, so the busy poller gets it; a completion or the watchdog clears it. Linux
 * 6.13's {@code irq_suspend_timeout}: epoll's preferred busy polling that returned events moves the
 * watchdog out to it ({@link #suspendIrqs}), so the interrupt stays off while the application works;
 * one that found nothing schedules the instance at once ({@link #resumeIrqs}), and that poll's
 * completion gives the interrupt back (or defers it by what is left of {@code napi_defer_hard_irqs}).
 */
final class Napi {
    private static final int SCHED = 1;
    private static final int MISSED = 2;
    /** {@code NAPI_STATE_PREFER_BUSY_POLL}. */
    private static final int PREFER_BUSY_POLL = 4;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Napi.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The driver's poll function, {@code napi->poll}: processes up to {@code budget} frames, returns how many. */
    interface Poller {
        int poll(Napi napi, int budget);

        /** The instance completed (unmasked): a driver that masked its interrupt enables it again. */
        default void completed() {
        }

        /** A busy poller took the instance: a driver masks its interrupt until {@link #completed}. */
        default void busyPollStarted() {
        }

        /** The device's {@code napi_defer_hard_irqs}: 0, none. */
        default int deferHardIrqs() {
            return 0;
        }

        /** The device's {@code gro_flush_timeout}, nanoseconds: 0, none. */
        default long groFlushTimeout() {
            return 0;
        }

        /** GRO holds flows ({@code napi->gro_bitmask} set). */
        default boolean groHeld() {
            return false;
        }

        /**
         * {@code napi_gro_flush}: the held flows go up; with {@code flushOld} only those held since an
         * earlier jiffy ({@code NAPI_GRO_CB(skb)->age != jiffies}), the younger kept for the next poll.
         */
        default void groFlush(boolean flushOld) {
        }

        /** A busy poll took {@code work} frames ({@code LINUX_MIB_BUSYPOLLRXPACKETS}, counted in the device's namespace). */
        default void busyPolled(int work) {
        }
    }

    private static final VarHandle WATCHDOG;

    static {
        try {
            WATCHDOG = MethodHandles.lookup().findVarHandle(Napi.class, "watchdogAt", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What a completion did: the instance stays scheduled (work came in), the interrupt is back, or it stays off (deferred). */
    private static final int STILL_SCHEDULED = 0;
    private static final int IRQ_ON = 1;
    private static final int IRQ_DEFERRED = 2;
    /** {@code napi_gro_flush(n, HZ >= 1000)}: at a jiffy of a millisecond or less, only flows too old go up. */
    private static final boolean FLUSH_OLD = org.modnet.api.net.Jiffies.HZ >= 1000;

    private final Softirq softirq;
    private final Poller poller;
    /** {@code napi_id}, for busy polling ({@link CoreEngine#napiBusyLoop}); 0 when not hashed. */
    private volatile int id;
    @SuppressWarnings("unused") // through STATE
    private volatile int state;
    /** Link in the softirq's list of newly scheduled instances; touched only by that list. */
    Napi nextScheduled;

    private long schedules; // interrupts taken: written by whoever wins SCHED, one at a time
    private long polls; // written by the polling softirq thread only
    /** {@code defer_hard_irqs_count}: completions left that keep the interrupt off; the SCHED holder's. */
    private int deferCount;
    /** The interrupt was left off by a deferred completion and not yet given back ({@link Poller#completed}); the SCHED holder's. */
    private volatile boolean irqDeferred;
    /** The watchdog's deadline on the softirq's clock ({@link Softirq#now}), or 0 when not armed. */
    @SuppressWarnings("unused") // through WATCHDOG
    private volatile long watchdogAt;
    /** Link in the softirq's stack of newly armed watchdogs; touched only by that stack. */
    Napi nextArmed;
    private long watchdogFires; // the softirq thread's
    /** {@code napi->irq_suspend_timeout}, nanoseconds (netdev netlink's {@code napi-set}); 0, none. */
    private volatile long irqSuspendTimeout;
    /** {@link #resumeIrqs} calls that scheduled the instance (took SCHED); racing callers, so atomic. */
    private final java.util.concurrent.atomic.AtomicLong irqResumes = new java.util.concurrent.atomic.AtomicLong();
    /** Completions that gave the driver its interrupt back ({@link Poller#completed}); the SCHED holder's, one at a time. */
    private long irqEnables;

    Napi(Softirq softirq, Poller poller) {
        this.softirq = softirq;
        this.poller = poller;
    }

    Softirq softirq() {
        return softirq;
    }

    int id() {
        return id;
    }

    void id(int id) {
        this.id = id;
    }

    /**
     * {@code napi_busy_loop}'s take: SCHED, if nobody holds it (neither the softirq nor an interrupt),
     * the driver's interrupt masked meanwhile. False when taken: the softirq polls it now, or will.
     */
    boolean busyPollStart() {
        return busyPollStart(false);
    }

    /**
     * {@link #busyPollStart()}; a preferred poller ({@code prefer}) that finds the instance held sets
     * PREFER_BUSY_POLL, so the holder's next full poll hands the instance over.
     */
    boolean busyPollStart(boolean prefer) {
        int s = (int) STATE.getVolatile(this);
        if ((s & SCHED) != 0 || !STATE.compareAndSet(this, s, s | SCHED)) {
            if (prefer && ((int) STATE.getVolatile(this) & PREFER_BUSY_POLL) == 0) {
                STATE.getAndBitwiseOr(this, PREFER_BUSY_POLL); // set_bit: written once per wait, not per spin
            }
            return false;
        }
        // even when a deferred completion left the interrupt off: a driver whose softirq path never masks (the
        // TAP's level-triggered idle wait) masks it only here; one that is masked already returns at once
        poller.busyPollStarted();
        return true;
    }

    /**
     * One poll by a busy poller that holds SCHED ({@link #busyPollStart}): no completion, so GRO's held
     * flows stay held ({@code napi_complete_done} does nothing under {@code NAPI_STATE_IN_BUSY_POLL}) and
     * the next busy poll's frames merge into them; {@link #busyPollStop}'s completion sends them up. How
     * many frames.
     */
    int busyPoll(int budget) {
        polls++;
        int work = poller.poll(this, budget);
        if (work > 0) {
            poller.busyPolled(work);
        }
        return work;
    }

    /**
     * {@code busy_poll_stop}: one more poll, which completes the instance (the interrupt enabled again)
     * when it finds less than its budget and nothing came in meanwhile; otherwise the instance stays
     * scheduled and goes to its softirq, as {@code __napi_schedule} would. The flows GRO held over the
     * busy polls go up in that completion ({@code napi_gro_flush}: all of them, or, with
     * {@code gro_flush_timeout} when that poll found frames or the deferral runs, only those of an
     * earlier jiffy, the watchdog armed for the rest), or in the softirq's poll the instance goes to. With {@code prefer} and the
     * device's {@code napi_defer_hard_irqs} and {@code gro_flush_timeout} set, the interrupt stays off
     * and the watchdog is armed instead, and a full budget only gives SCHED back (the watchdog polls).
     */
    void busyPollStop(int budget, boolean prefer) {
        int s = (int) STATE.getVolatile(this);
        if ((s & MISSED) != 0) {
            STATE.compareAndSet(this, s, s & ~MISSED); // the poll below reads what the interrupt saw
        }
        boolean skipSchedule = false;
        if (prefer) {
            deferCount = poller.deferHardIrqs();
            long timeout = irqSuspendTimeout; // the suspension's, when set: a full poll leaves the interrupt off that long
            if (timeout <= 0) {
                timeout = poller.groFlushTimeout();
            }
            if (deferCount > 0 && timeout > 0) {
                armWatchdog(timeout);
                skipSchedule = true;
            }
        }
        polls++;
        int done = poller.poll(this, budget);
        if (done < budget) {
            switch (completeDone(done)) {
                case IRQ_ON -> irqOn();
                case STILL_SCHEDULED -> softirq.raise(this);
                default -> { // deferred: the watchdog takes it from here
                }
            }
            return;
        }
        if (skipSchedule) {
            poller.groFlush(FLUSH_OLD); // __busy_poll_stop: flows held since an earlier jiffy go up, the watchdog flushes the rest
            irqDeferred = true;
            STATE.getAndBitwiseAnd(this, ~(SCHED | MISSED)); // __busy_poll_stop: the armed watchdog schedules it
            return;
        }
        softirq.raise(this); // still SCHED: the softirq's poll list takes it from here
    }

    void busyPollStop(int budget) {
        busyPollStop(budget, false);
    }

    private void irqOn() {
        irqDeferred = false;
        irqEnables++;
        poller.completed();
    }

    long irqSuspendTimeout() {
        return irqSuspendTimeout;
    }

    void irqSuspendTimeout(long nanos) {
        irqSuspendTimeout = nanos;
    }

    /**
     * {@code napi_suspend_irqs}: an epoll wait that busy polled preferred returned events; with an
     * {@code irq_suspend_timeout}, the watchdog moves out to it ({@code hrtimer_start}), so the
     * interrupt stays off while the application works on them.
     */
    void suspendIrqs() {
        long t = irqSuspendTimeout;
        if (t > 0) {
            armWatchdog(t);
        }
    }

    /**
     * {@code napi_resume_irqs}: the epoll wait's busy poll found nothing and it is about to sleep; with
     * an {@code irq_suspend_timeout}, the instance is scheduled now ({@code napi_schedule}, no interrupt
     * counted) and its poll's completion gives the interrupt back, instead of the watchdog later.
     */
    void resumeIrqs() {
        if (irqSuspendTimeout <= 0) {
            return; // set to 0 since the suspension: the watchdog armed then resumes the interrupt
        }
        while (true) {
            int s = (int) STATE.getVolatile(this);
            if ((s & SCHED) != 0) {
                if ((s & MISSED) != 0 || STATE.compareAndSet(this, s, s | MISSED)) {
                    return;
                }
            } else if (STATE.compareAndSet(this, s, s | SCHED)) {
                irqResumes.incrementAndGet();
                softirq.raise(this);
                return;
            }
        }
    }

    /** {@link #resumeIrqs} calls that scheduled the instance. */
    long irqResumes() {
        return irqResumes.get();
    }

    /** Completions that enabled the driver's interrupt again. */
    long irqEnables() {
        return irqEnables;
    }

    /** {@code NAPI_STATE_PREFER_BUSY_POLL} is set: a preferred busy poller waits for the instance. */
    boolean preferBusyPoll() {
        return ((int) STATE.getVolatile(this) & PREFER_BUSY_POLL) != 0;
    }

    /** Arms the watchdog {@code nanos} from now (re-arms it if armed: {@code hrtimer_start} moves it). */
    private void armWatchdog(long nanos) {
        long at = softirq.now() + nanos;
        if (at == 0) {
            at = 1;
        }
        if ((long) WATCHDOG.getAndSet(this, at) == 0) {
            softirq.watchdogArmed(this, at); // newly armed: onto the softirq's list, which wakes for it
        }
    }

    /** The device's interrupt is off since a deferred completion: a frame pushed now does not schedule the instance. */
    boolean irqDeferred() {
        return irqDeferred;
    }

    /** The watchdog's deadline, 0 when not armed. */
    long watchdogAt() {
        return (long) WATCHDOG.getVolatile(this);
    }

    /**
     * {@code napi_watchdog}, on the softirq thread, for the deadline {@code at} it found due: disarms,
     * and schedules the instance if nobody holds it (without MISSED: no interrupt came). False if the
     * deadline moved meanwhile (re-armed): the watchdog stays armed.
     */
    boolean fireWatchdog(long at) {
        if (!WATCHDOG.compareAndSet(this, at, 0L)) {
            return false;
        }
        watchdogFires++;
        int s = (int) STATE.getVolatile(this);
        // napi_watchdog's take: no MISSED (no interrupt came), and PREFER_BUSY_POLL cleared
        if ((s & SCHED) == 0 && STATE.compareAndSet(this, s, (s | SCHED) & ~PREFER_BUSY_POLL)) {
            softirq.raise(this);
        }
        return true;
    }

    long watchdogFires() {
        return watchdogFires;
    }

    /** {@code napi_schedule}: true if this call took the interrupt and queued the instance. */
    boolean schedule() {
        while (true) {
            int s = (int) STATE.getVolatile(this);
            if ((s & SCHED) != 0) {
                if ((s & MISSED) != 0 || STATE.compareAndSet(this, s, s | MISSED)) {
                    return false;
                }
            } else if (STATE.compareAndSet(this, s, s | SCHED)) {
                schedules++;
                softirq.raise(this);
                return true;
            }
        }
    }

    /**
     * Polls and, if the poll did less than its budget, completes. Returns true if the instance is
     * still scheduled afterwards (it used its whole budget, or work came in during the poll) and
     * so belongs back on the poll list.
     */
    boolean poll(int budget, int[] work) {
        polls++;
        // frames that arrived before this poll starts are this poll's: only later ones need MISSED
        int s = (int) STATE.getVolatile(this);
        if ((s & MISSED) != 0) {
            STATE.compareAndSet(this, s, s & ~MISSED);
        }
        int done = poller.poll(this, budget);
        work[0] = done;
        if (done >= budget) {
            if (((int) STATE.getVolatile(this) & PREFER_BUSY_POLL) == 0) {
                poller.groFlush(FLUSH_OLD); // __napi_poll: the instance stays scheduled; flows too old go up
                return true;
            }
            // more to do, but a preferred busy poller waits: complete (with the deferral) and let it take the
            // instance; a completion that enabled the interrupt is scheduled again by the driver's level (completed())
        }
        switch (completeDone(done)) {
            case STILL_SCHEDULED:
                return true;
            case IRQ_ON:
                irqOn();
                return false;
            default:
                return false; // the interrupt stays off; the watchdog schedules the instance again
        }
    }

    /**
     * {@code napi_complete_done} with its deferral: a poll that found frames starts the count again
     * ({@code napi_defer_hard_irqs}); while the count lasts and {@code gro_flush_timeout} is set, the
     * instance completes with the interrupt left off and the watchdog armed. GRO's held flows go up
     * here; with {@code gro_flush_timeout} set and flows held after a poll that found frames (or while
     * the deferral lasts) only those older than this jiffy do: the rest stay held for the next poll,
     * the watchdog's at the latest, whose completion (no frames, no deferral left) sends them all up.
     */
    private int completeDone(int workDone) {
        long timeout = 0;
        if (workDone > 0) {
            if (poller.groHeld()) {
                timeout = poller.groFlushTimeout(); // held flows wait for the watchdog (or the next poll)
            }
            deferCount = poller.deferHardIrqs();
        }
        boolean irq = true;
        if (deferCount > 0) {
            deferCount--;
            timeout = poller.groFlushTimeout();
            irq = timeout <= 0;
        }
        // napi_gro_flush: with a timeout only flows older than this jiffy go up (the watchdog bounds how
        // long the rest wait); without one, every flow
        poller.groFlush(timeout > 0);
        if (!irq) {
            irqDeferred = true; // before SCHED goes: the next holder reads it
        }
        if (!complete()) {
            return STILL_SCHEDULED;
        }
        if (timeout > 0) {
            armWatchdog(timeout);
        }
        return irq ? IRQ_ON : IRQ_DEFERRED;
    }

    /**
     * {@code napi_complete_done}: unmask. Returns false when work came in meanwhile (MISSED): the
     * instance then stays scheduled.
     */
    private boolean complete() {
        while (true) {
            int s = (int) STATE.getVolatile(this);
            if ((s & MISSED) != 0) {
                if (STATE.compareAndSet(this, s, SCHED)) {
                    return false;
                }
            } else if (STATE.compareAndSet(this, s, 0)) {
                return true;
            }
        }
    }

    boolean isScheduled() {
        return ((int) STATE.getVolatile(this) & SCHED) != 0;
    }

    long schedules() {
        return schedules;
    }

    long polls() {
        return polls;
    }
}

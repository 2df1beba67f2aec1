package org.modnet.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A NAPI instance, {@code struct napi_struct}. Scheduling it is what a driver's receive interrupt
 * does: the first {@link #schedule} sets SCHED (the interrupt is now masked) and queues the instance
 * on its softirq thread; later ones only note MISSED. The softirq thread calls {@link #poll} with a
 * budget; a poll that does less than its budget completes ({@code napi_complete_done}), which
 * unmasks, unless work arrived meanwhile (MISSED), in which case the instance stays scheduled.
 */
final class Napi {
    private static final int SCHED = 1;
    private static final int MISSED = 2;
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
    }

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
        if (!STATE.compareAndSet(this, 0, SCHED)) {
            return false;
        }
        poller.busyPollStarted();
        return true;
    }

    /** One poll by a busy poller that holds SCHED ({@link #busyPollStart}): no completion. How many frames. */
    int busyPoll(int budget) {
        polls++;
        return poller.poll(this, budget);
    }

    /**
     * {@code busy_poll_stop}: one more poll, which completes the instance (the interrupt enabled again)
     * when it finds less than its budget and nothing came in meanwhile; otherwise the instance stays
     * scheduled and goes to its softirq, as {@code __napi_schedule} would.
     */
    void busyPollStop(int budget) {
        int s = (int) STATE.getVolatile(this);
        if ((s & MISSED) != 0) {
            STATE.compareAndSet(this, s, s & ~MISSED); // the poll below reads what the interrupt saw
        }
        polls++;
        int done = poller.poll(this, budget);
        if (done < budget && complete()) {
            poller.completed();
            return;
        }
        softirq.raise(this); // still SCHED: the softirq's poll list takes it from here
    }

    /** {@code napi_schedule}: true if this call took the interrupt and queued the instance. */
    boolean schedule() {
        while (true) {
            int s = (int) STATE.getVolatile(this);
            if ((s & SCHED) != 0) {
                if ((s & MISSED) != 0 || STATE.compareAndSet(this, s, s | MISSED)) {
                    return false;
                }
            } else if (STATE.compareAndSet(this, s, SCHED)) {
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
            return true;
        }
        if (!complete()) {
            return true;
        }
        poller.completed();
        return false;
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

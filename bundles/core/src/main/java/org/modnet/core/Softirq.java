package org.modnet.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

import org.modnet.api.net.Jiffies;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.SoftnetStat;

/**
 * One CPU's NET_RX softirq: the list of scheduled NAPI instances and {@link #netRxAction}, which
 * polls them as {@code net_rx_action} does. Each instance is polled up to its weight
 * ({@code net.core.dev_weight}); one round stops after {@code net.core.netdev_budget} frames or
 * {@code net.core.netdev_budget_usecs}, and counts a time squeeze if work was left. The thread sleeps
 * when nothing is scheduled, until its next timer is due, and is woken by {@link #raise} or by a timer
 * armed for earlier (from any thread); tests may call {@link #netRxAction} themselves instead of
 * running the thread.
 */
final class Softirq {
    /**
     * The thread running a round of this CPU's softirq now (a test's thread, in manual mode), or null:
     * what {@code smp_processor_id()} reads for threads other than the CPU's own ksoftirqd.
     */
    private volatile Thread runner;

    private static final VarHandle SCHEDULED;
    private static final VarHandle SLEEPING;
    private static final VarHandle BH;
    private static final VarHandle ARMED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            SCHEDULED = l.findVarHandle(Softirq.class, "scheduled", Napi.class);
            SLEEPING = l.findVarHandle(Softirq.class, "sleeping", boolean.class);
            BH = l.findVarHandle(Softirq.class, "bh", int.class);
            ARMED = l.findVarHandle(Softirq.class, "armed", Napi.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int cpu;
    private final IntSupplier weight;
    private final IntSupplier budget;
    private final IntSupplier budgetUsecs;
    private final LongSupplier nanoClock;
    /** This CPU's timers ({@code TIMER_SOFTIRQ}), in jiffies at {@link Jiffies#HZ}. */
    private final TimerWheel timers;
    /** Its high-resolution timers ({@code HRTIMER_SOFTIRQ}), in milliseconds. */
    private final TimerWheel hrtimers;

    /** Newly scheduled instances, pushed by any thread (a lock-free stack through {@code Napi.nextScheduled}). */
    @SuppressWarnings("unused") // through SCHEDULED
    private volatile Napi scheduled;
    /** NAPI watchdogs newly armed ({@code napi->timer}), pushed by any thread (a lock-free stack through {@code Napi.nextArmed}). */
    @SuppressWarnings("unused") // through ARMED
    private volatile Napi armed;
    /** The armed watchdogs this thread watches ({@code hrtimer}s of this CPU); the thread's own. */
    private Napi[] watched = new Napi[16];
    private int watchedCount;
    /** The earliest watched deadline ({@link #nanoClock}), or {@link Long#MAX_VALUE}: where the thread's sleep ends for them. */
    private volatile long watchdogNext = Long.MAX_VALUE;
    /** The poll list, owned by the softirq thread. */
    private final ArrayDeque<Napi> pollList = new ArrayDeque<>(64);
    private final int[] work = new int[1];
    @SuppressWarnings("unused") // through SLEEPING
    private volatile boolean sleeping;
    private volatile Thread thread;
    private volatile boolean stopped;
    /** A driver's interrupt this thread waits for itself when idle, instead of parking ({@link RxQueue.IdleWait}); null: none. */
    private volatile RxQueue.IdleWait idleWait;

    /**
     * 1 while this CPU's softirq context is held ({@code local_bh_disable}): by its thread for a round
     * of timers and polls, or by a busy poller for one poll ({@link CoreEngine#napiBusyLoop}). Two
     * threads never run one CPU's softirq at once, which per-CPU counters rely on.
     */
    @SuppressWarnings("unused") // through BH
    private volatile int bh;
    /** The thread waits for {@link #bh}: busy pollers let it have it before their next poll. */
    private volatile boolean bhWanted;
    /** The NAPI instance polled in this softirq context now ({@code skb->napi_id}'s source), or null; the {@link #bh} holder's. */
    Napi polling;
    /** Times the thread came back from sleeping (parked or in its driver's idle wait): a wake-up each. */
    private volatile long wakeups;

    // softnet_stat: written by this softirq only, read by anyone
    private volatile long processed;
    private volatile long dropped;
    private volatile long timeSqueeze;
    private volatile long polls;

    Softirq(int cpu, IntSupplier weight, IntSupplier budget, IntSupplier budgetUsecs, LongSupplier nanoClock) {
        this.cpu = cpu;
        this.weight = weight;
        this.budget = budget;
        this.budgetUsecs = budgetUsecs;
        this.nanoClock = nanoClock;
        this.timers = TimerWheel.jiffies(nanoClock, Jiffies.HZ, this::kick);
        this.hrtimers = new TimerWheel(() -> nanoClock.getAsLong() / 1_000_000, this::kick);
    }

    org.modnet.api.net.Timer timer(Runnable function) {
        return timers.timer(function);
    }

    org.modnet.api.net.Timer hrtimer(Runnable function) {
        return hrtimers.timer(function);
    }

    /** {@code run_timer_softirq}: calls the timers that are due by the clock; returns how many ran. */
    int runTimers() {
        Thread previous = enter();
        try {
            long now = nanoClock.getAsLong();
            return hrtimers.advance(now / 1_000_000) + timers.advance(Jiffies.at(now, Jiffies.HZ));
        } finally {
            runner = previous;
        }
    }

    /** Whether {@code t} runs this CPU's softirq now: its ksoftirqd thread, or a thread running a round of it. */
    boolean runsOn(Thread t) {
        return t == thread || t == runner;
    }

    Thread enter() {
        Thread previous = runner;
        runner = Thread.currentThread();
        return previous;
    }

    void exit(Thread previous) {
        runner = previous;
    }

    /** A busy poller's try for this CPU's softirq context: false while the thread holds it or waits for it. */
    boolean tryBh() {
        return !bhWanted && BH.compareAndSet(this, 0, 1);
    }

    /** Takes this CPU's softirq context, waiting for a busy poller's poll to end (a few frames at most). */
    void lockBh() {
        if (BH.compareAndSet(this, 0, 1)) {
            return;
        }
        bhWanted = true;
        for (int spins = 0; !BH.compareAndSet(this, 0, 1); spins++) {
            if (spins < 1000) {
                Thread.onSpinWait();
            } else {
                Thread.yield(); // the holder may have lost its CPU
            }
        }
        bhWanted = false;
    }

    void unlockBh() {
        BH.setRelease(this, 0);
    }

    /** Times the thread was woken from its sleep. */
    long wakeups() {
        return wakeups;
    }

    int cpu() {
        return cpu;
    }

    /** A timer was armed for before the end of the thread's sleep: wake it, as an IPI wakes an idle CPU. */
    private void kick() {
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            wakeThread(t);
        }
    }

    /** Wakes the sleeping thread: out of its driver's idle wait, if it sleeps there, else out of park. */
    private void wakeThread(Thread t) {
        RxQueue.IdleWait w = idleWait;
        if (w != null) {
            w.wake();
        }
        LockSupport.unpark(t); // also when a waiter was just set or taken back: the thread may sleep either way
    }

    /**
     * Lets this CPU's thread wait in {@code w} when idle; false if the thread is not running (tests run
     * rounds by hand) or another driver's waiter is set.
     */
    synchronized boolean setIdleWait(RxQueue.IdleWait w) {
        if (thread == null || stopped || (idleWait != null && idleWait != w)) {
            return false;
        }
        if (idleWait != w) {
            idleWait = w;
            LockSupport.unpark(thread); // parked until further notice: it must come to wait in w instead
        }
        return true;
    }

    /** Takes {@code w} back, and wakes the thread out of it (it parks from then on). */
    synchronized void clearIdleWait(RxQueue.IdleWait w) {
        if (idleWait == w) {
            idleWait = null;
            w.wake();
        }
    }

    /** The clock watchdogs are armed on (the core's). */
    long now() {
        return nanoClock.getAsLong();
    }

    /**
     * A NAPI watchdog went from disarmed to armed for {@code at}: onto this CPU's list; the thread is
     * woken only if it sleeps past {@code at} (a re-armed watchdog, the busy poller's usual case, wakes nobody).
     */
    void watchdogArmed(Napi napi, long at) {
        Napi head;
        do {
            head = (Napi) ARMED.getVolatile(this);
            napi.nextArmed = head;
        } while (!ARMED.compareAndSet(this, head, napi));
        Thread t = thread;
        if (t != null && t != Thread.currentThread() && (boolean) SLEEPING.getVolatile(this) && at - watchdogNext < 0) {
            wakeThread(t);
        }
    }

    /**
     * The hrtimer interrupt for the watchdogs: fires those due (a watchdog re-armed later stays),
     * and notes the earliest left. Returns how many fired.
     */
    int runWatchdogs() {
        for (Napi n = (Napi) ARMED.getAndSet(this, (Napi) null); n != null;) {
            Napi next = n.nextArmed;
            n.nextArmed = null;
            if (watchedCount == watched.length) {
                watched = java.util.Arrays.copyOf(watched, watchedCount * 2); // more devices than ever before on this CPU
            }
            watched[watchedCount++] = n;
            n = next;
        }
        long now = nanoClock.getAsLong();
        long next = Long.MAX_VALUE;
        int fired = 0;
        for (int i = 0; i < watchedCount;) {
            Napi n = watched[i];
            long at = n.watchdogAt();
            if (at != 0 && now - at >= 0) {
                if (n.fireWatchdog(at)) {
                    fired++;
                    at = 0;
                } else {
                    at = n.watchdogAt(); // re-armed meanwhile: later
                }
            }
            if (at == 0) { // fired: pushed anew when armed again
                watched[i] = watched[--watchedCount];
                watched[watchedCount] = null;
                continue;
            }
            if (next == Long.MAX_VALUE || at - next < 0) {
                next = at;
            }
            i++;
        }
        watchdogNext = next;
        return fired;
    }

    /** {@code raise_softirq}: queue a NAPI instance that just took SCHED, and wake the thread. */
    void raise(Napi napi) {
        Napi head;
        do {
            head = (Napi) SCHEDULED.getVolatile(this);
            napi.nextScheduled = head;
        } while (!SCHEDULED.compareAndSet(this, head, napi));
        Thread t = thread;
        if (t != null && (boolean) SLEEPING.getVolatile(this) && t != Thread.currentThread()) {
            wakeThread(t); // not from the thread itself: its driver's idle wait scheduling what it found
        }
    }

    /**
     * One round of {@code net_rx_action}. Returns true if work is left (instances still scheduled),
     * so the caller runs another round; the thread does at once, as ksoftirqd would.
     */
    boolean netRxAction() {
        Thread previous = enter();
        try {
            return rxAction();
        } finally {
            runner = previous;
        }
    }

    private boolean rxAction() {
        takeScheduled();
        int left = budget.getAsInt();
        long deadline = nanoClock.getAsLong() + budgetUsecs.getAsInt() * 1000L;
        int w = weight.getAsInt();
        long done = 0;
        long polled = 0;
        while (!pollList.isEmpty()) {
            if (left <= 0 || nanoClock.getAsLong() - deadline >= 0) {
                timeSqueeze = timeSqueeze + 1;
                break;
            }
            Napi napi = pollList.pollFirst();
            polling = napi;
            boolean again;
            try {
                again = napi.poll(w, work);
            } finally {
                polling = null;
            }
            if (again) {
                pollList.addLast(napi); // used its whole weight, or work came in meanwhile: to the tail
            }
            polled++;
            done += work[0];
            left -= work[0];
            takeScheduled();
        }
        processed = processed + done;
        polls = polls + polled;
        return hasWork();
    }

    /** NAPI instances wait to be polled: scheduled, or still on the poll list. */
    boolean hasWork() {
        return !pollList.isEmpty() || SCHEDULED.getVolatile(this) != null;
    }

    /** Moves newly scheduled instances to the poll list, in the order they were scheduled. */
    private void takeScheduled() {
        Napi head = (Napi) SCHEDULED.getAndSet(this, (Napi) null);
        if (head == null) {
            return;
        }
        int start = pollList.size();
        for (Napi n = head; n != null;) {
            Napi next = n.nextScheduled;
            n.nextScheduled = null;
            pollList.addLast(n);
            n = next;
        }
        reverseTail(start);
    }

    private void reverseTail(int start) {
        int n = pollList.size() - start;
        if (n < 2) {
            return;
        }
        Napi[] tail = new Napi[n];
        for (int i = n - 1; i >= 0; i--) {
            tail[i] = pollList.pollLast();
        }
        for (int i = n - 1; i >= 0; i--) {
            pollList.addLast(tail[i]);
        }
    }

    /** Counts a frame dropped before it reached a NAPI ring (the backlog was full). */
    void countDrop() {
        dropped = dropped + 1;
    }

    SoftnetStat stat() {
        return new SoftnetStat(cpu, processed, dropped, timeSqueeze, polls);
    }

    /** Starts the softirq thread ({@code ksoftirqd/N}). */
    void start() {
        Thread t = Thread.ofPlatform().name("ksoftirqd/" + cpu).daemon().unstarted(this::run);
        thread = t;
        t.start();
    }

    void stop() {
        stopped = true;
        Thread t = thread;
        if (t != null) {
            wakeThread(t);
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        while (!stopped) {
            boolean more;
            lockBh();
            try {
                runTimers();
                runWatchdogs();
                more = netRxAction();
            } finally {
                unlockBh();
            }
            if (more) {
                continue;
            }
            SLEEPING.setVolatile(this, true);
            boolean asked = false;
            while (SCHEDULED.getVolatile(this) == null && pollList.isEmpty() && !stopped && ARMED.getVolatile(this) == null) {
                // NOHZ: sleep until the next timer (jiffy or high-resolution) or NAPI watchdog is due; an earlier
                // one armed meanwhile kicks us
                long untilMs = hrtimers.sleep();
                long untilJiffy = timers.sleep();
                asked = true;
                long until = Math.min(untilMs == TimerWheel.NEVER ? Long.MAX_VALUE : untilMs * 1_000_000,
                        untilJiffy == TimerWheel.NEVER ? Long.MAX_VALUE : Jiffies.nanos(untilJiffy, Jiffies.HZ));
                RxQueue.IdleWait w = idleWait;
                long now = nanoClock.getAsLong();
                long nanos = until == Long.MAX_VALUE ? -1 : until - now;
                if (until != Long.MAX_VALUE && nanos <= 0) {
                    break; // a timer is due: a round in the softirq context
                }
                long dog = watchdogNext;
                if (dog != Long.MAX_VALUE && (nanos < 0 || dog - now < nanos)) {
                    nanos = Math.max(1, dog - now);
                }
                if (nanos < 0) {
                    if (w != null) {
                        w.idle(-1); // the CPU idles waiting for its interrupts, which schedule NAPI here
                    } else {
                        LockSupport.park(this);
                    }
                } else if (nanos > 0) {
                    if (w != null) {
                        w.idle(nanos);
                    } else {
                        LockSupport.parkNanos(this, nanos);
                    }
                }
                wakeups = wakeups + 1;
                // a watchdog re-armed later than this sleep's end (a busy poller's, at each of its polls) is looked
                // at again here, outside the softirq context the poller holds: nothing due, back to sleep
                runWatchdogs();
            }
            if (asked) {
                timers.awake();
                hrtimers.awake();
            }
            SLEEPING.setVolatile(this, false);
        }
    }
}

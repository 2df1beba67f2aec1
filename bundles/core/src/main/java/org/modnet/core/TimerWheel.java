package org.modnet.core;

import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;

import org.modnet.api.net.Jiffies;
import org.modnet.api.net.Timer;

/**
 * A hierarchical timer wheel as {@code kernel/time/timer.c} has it since Linux 4.8: 8 levels of 64
 * buckets; level 0's buckets are one tick of its clock, each next level 8 times coarser, so a timer
 * fires a little late (by less than 8/63 of its delay, the wheel's "slack"), never early, and nothing
 * cascades. Arming and expiring are O(1). The tick is the jiffy for the kernel's timers (at HZ=250,
 * level 0 is 4 ms, level 1 32 ms, level 2 256 ms, as timer.c's header tabulates), and the millisecond
 * for modnet's stand-in for hrtimers. Two wheels per softirq thread; a lock guards each, since any
 * thread may arm a timer on it.
 *
 * <p>The owner sleeps until the wheel's next expiry ({@link #sleep}, the kernel's
 * {@code get_next_timer_interrupt} under NOHZ). Arming a timer from any thread for earlier than that
 * calls the wheel's kick, which wakes the owner, as {@code add_timer_on} kicks an idle CPU with an
 * IPI; and the wheel's clock is forwarded over empty ticks first ({@code forward_timer_base}), so a
 * timer armed after a long sleep lands on the level its delay calls for, not on a coarser one.
 */
final class TimerWheel {
    /** What {@link #sleep} answers when no timer is pending: sleep until kicked. */
    static final long NEVER = Long.MAX_VALUE;

    static final int LVL_BITS = 6;
    static final int LVL_SIZE = 1 << LVL_BITS;
    static final int LVL_CLK_SHIFT = 3;
    static final int LEVELS = 8;

    /** A timer; its list links are the wheel's, touched under the wheel's lock. */
    final class Entry implements Timer {
        private final Runnable function;
        long expires = -1;
        int bucket = -1;
        Entry prev;
        Entry next;
        /**
         * The link of the tick's list of due timers in {@link #advance}, apart from the bucket links: a
         * timer re-armed while it waits there (by an earlier callback, or another thread) is linked into
         * a bucket again, and the due list must not then run into that bucket.
         */
        Entry dueNext;

        Entry(Runnable function) {
            this.function = function;
        }

        @Override
        public void mod(long delayMillis) {
            long now = ticks.getAsLong();
            long delay = delayTicks.applyAsLong(Math.max(0, delayMillis));
            boolean wake;
            synchronized (TimerWheel.this) {
                unlink(this);
                forward(now);
                expires = now + delay;
                link(this);
                // the tick its bucket is looked at, not its expiry (Linux's bucket_expiry against next_expiry): a
                // timer re-armed within its tick (a socket's delayed ACK at each request) is due one tick past
                // its expiry, which the sleep already ends at; comparing the expiry kicked the owner each time
                wake = linkedTick < sleepUntil;
                if (wake) {
                    sleepUntil = Long.MIN_VALUE; // one kick per sleep
                }
            }
            if (wake) {
                kick.run();
            }
        }

        @Override
        public boolean del() {
            synchronized (TimerWheel.this) {
                return unlink(this);
            }
        }

        @Override
        public boolean pending() {
            synchronized (TimerWheel.this) {
                return bucket >= 0;
            }
        }
    }

    private final Entry[] buckets = new Entry[LEVELS * LVL_SIZE];
    /** One bit per non-empty bucket, a word per level ({@code pending_map}). */
    private final long[] pendingMap = new long[LEVELS];
    private final LongSupplier ticks;
    /** A delay in milliseconds to ticks, rounded up ({@code msecs_to_jiffies}). */
    private final LongUnaryOperator delayTicks;
    /**
     * Linux's {@code calc_index}: a timer goes in the bucket after the one its expiry truncates to, on
     * level 0 too (it may be armed at the very end of a tick), so a jiffy timer due at tick e fires at
     * e + 1. The millisecond wheel, hrtimers' stand-in, fires at its expiry.
     */
    private final boolean linuxIndex;
    private final Runnable kick;
    private long clk; // the wheel's time, in ticks: the next tick to process
    private int pending;
    /** The tick {@link #index}'s bucket is looked at ({@code bucket_expiry}); under the wheel's lock. */
    private long bucketTick;
    /** {@link #bucketTick} of the timer {@link #link} linked last; under the wheel's lock. */
    private long linkedTick;
    /** The tick the owner sleeps until, {@link #NEVER}; {@code Long.MIN_VALUE} while it is awake. */
    private long sleepUntil = Long.MIN_VALUE;

    /** A wheel ticking each millisecond of the clock {@code millis}, starting at its time now, whose owner is never asleep. */
    TimerWheel(LongSupplier millis) {
        this(millis, () -> { });
    }

    /** A millisecond wheel whose owner is woken by {@code kick} when a timer is armed for before the end of its sleep. */
    TimerWheel(LongSupplier millis, Runnable kick) {
        this(millis, ms -> ms, kick, false);
    }

    /**
     * A wheel on the clock {@code ticks}, whose timers' delays in milliseconds {@code delayTicks} turns
     * into ticks, rounding up; its owner is woken by {@code kick} as above; {@code linuxIndex}: Linux's
     * bucket rounding, one tick past the expiry.
     */
    TimerWheel(LongSupplier ticks, LongUnaryOperator delayTicks, Runnable kick, boolean linuxIndex) {
        this.ticks = ticks;
        this.delayTicks = delayTicks;
        this.linuxIndex = linuxIndex;
        this.kick = kick;
        this.clk = ticks.getAsLong();
    }

    /** A wheel ticking each jiffy at {@code hz} of the nanosecond clock {@code nanoClock}: the kernel's timers. */
    static TimerWheel jiffies(LongSupplier nanoClock, int hz, Runnable kick) {
        return new TimerWheel(() -> Jiffies.at(nanoClock.getAsLong(), hz), ms -> Jiffies.fromMsecs(ms, hz), kick, true);
    }

    Timer timer(Runnable function) {
        return new Entry(function);
    }

    synchronized int pending() {
        return pending;
    }

    /** {@code calc_wheel_index}: the level whose range holds the delay, the bucket rounded up so it never fires early. */
    private int index(long due) {
        long expires = Math.max(due, clk); // already due: the next tick takes it
        long delta = expires - clk;
        int lvl = 0;
        while (lvl < LEVELS - 1 && delta >= ((long) LVL_SIZE << (lvl * LVL_CLK_SHIFT)) - (1L << (lvl * LVL_CLK_SHIFT))) {
            lvl++;
        }
        int shift = lvl * LVL_CLK_SHIFT;
        long slot = linuxIndex ? (expires >>> shift) + 1 : lvl == 0 ? expires : (expires + (1L << shift) - 1) >>> shift;
        bucketTick = slot << shift;
        return lvl * LVL_SIZE + (int) (slot & (LVL_SIZE - 1));
    }

    private void link(Entry e) {
        int b = index(e.expires);
        linkedTick = bucketTick;
        e.bucket = b;
        e.prev = null;
        e.next = buckets[b];
        if (e.next != null) {
            e.next.prev = e;
        }
        buckets[b] = e;
        pendingMap[b >>> LVL_BITS] |= 1L << (b & (LVL_SIZE - 1));
        pending++;
    }

    /**
     * The first tick at or after the wheel's time at which a non-empty bucket is looked at, or
     * {@link #NEVER}. A bucket's timers are due then, but for far timers on the last level that wrapped
     * around it: those make the answer early, never late.
     */
    private long nextTick() {
        long next = NEVER;
        for (int lvl = 0; lvl < LEVELS; lvl++) {
            long map = pendingMap[lvl];
            if (map == 0) {
                continue;
            }
            int shift = lvl * LVL_CLK_SHIFT;
            long unit = (clk + (1L << shift) - 1) >>> shift; // the first of this level's ticks not yet looked at
            int from = (int) (unit & (LVL_SIZE - 1));
            long rotated = Long.rotateRight(map, from); // bit k: the bucket looked at k units from now
            long tick = (unit + Long.numberOfTrailingZeros(rotated)) << shift;
            next = Math.min(next, tick);
        }
        return next;
    }

    /** Moves the wheel's time over empty ticks up to {@code now}, so a timer armed now is placed by its real delay. */
    private void forward(long now) {
        if (now > clk) {
            clk = Math.min(now, nextTick());
        }
    }

    /**
     * The owner is about to sleep: answers the tick it may sleep until ({@link #NEVER} if no timer is
     * pending), and from now until {@link #awake} a timer armed for earlier kicks it.
     */
    synchronized long sleep() {
        forward(ticks.getAsLong());
        sleepUntil = nextTick();
        return sleepUntil;
    }

    /** The owner is running again: arming no longer needs to kick it. */
    synchronized void awake() {
        sleepUntil = Long.MIN_VALUE;
    }

    private boolean unlink(Entry e) {
        if (e.bucket < 0) {
            return false;
        }
        if (e.prev != null) {
            e.prev.next = e.next;
        } else {
            buckets[e.bucket] = e.next;
        }
        if (e.next != null) {
            e.next.prev = e.prev;
        }
        if (buckets[e.bucket] == null) {
            pendingMap[e.bucket >>> LVL_BITS] &= ~(1L << (e.bucket & (LVL_SIZE - 1)));
        }
        e.prev = null;
        e.next = null;
        e.bucket = -1;
        pending--;
        return true;
    }

    /**
     * {@code run_timers}: moves the wheel's time to the tick {@code nowTicks}, calling every timer that
     * is due, outside the lock (a function may re-arm its timer). Returns how many ran.
     */
    int advance(long nowTicks) {
        int ran = 0;
        while (true) {
            Entry due = null;
            synchronized (this) {
                if (pending == 0) {
                    clk = Math.max(clk, nowTicks);
                    return ran;
                }
                if (clk > nowTicks) {
                    return ran;
                }
                forward(nowTicks); // over empty ticks in one step, after a long sleep too
                // collect this tick's buckets on every level whose granularity the tick completes
                for (int lvl = 0; lvl < LEVELS; lvl++) {
                    int shift = lvl * LVL_CLK_SHIFT;
                    if ((clk & ((1L << shift) - 1)) != 0) {
                        break;
                    }
                    int b = lvl * LVL_SIZE + (int) ((clk >>> shift) & (LVL_SIZE - 1));
                    Entry e = buckets[b];
                    while (e != null) {
                        Entry n = e.next;
                        if (e.expires <= clk) {
                            unlink(e);
                            e.dueNext = due;
                            due = e;
                        }
                        e = n;
                    }
                }
                clk++;
            }
            while (due != null) {
                Entry n = due.dueNext;
                due.dueNext = null;
                due.function.run();
                ran++;
                due = n;
            }
        }
    }
}

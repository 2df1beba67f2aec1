package org.modnet.core;

import org.modnet.api.net.Timer;

/**
 * A hierarchical timer wheel as {@code kernel/time/timer.c} has it since Linux 4.8: 8 levels of 64
 * buckets; level 0 has 1 ms buckets, each next level 8 times coarser, so a timer fires a little
 * late (by less than 8/63 of its delay, the wheel's "slack"), never early, and nothing cascades. Arming and expiring are O(1). One wheel per softirq thread;
 * a lock guards it, since any thread may arm a timer on it.
 */
final class TimerWheel {
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

        Entry(Runnable function) {
            this.function = function;
        }

        @Override
        public void mod(long delayMillis) {
            long now = millis.getAsLong();
            synchronized (TimerWheel.this) {
                unlink(this);
                expires = now + Math.max(0, delayMillis);
                link(this);
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
    private final java.util.function.LongSupplier millis;
    private long clk; // the wheel's time, in ms: the next tick to process
    private int pending;

    /** A wheel on the clock {@code millis} (jiffies), starting at its time now. */
    TimerWheel(java.util.function.LongSupplier millis) {
        this.millis = millis;
        this.clk = millis.getAsLong();
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
        long slot = lvl == 0 ? expires : (expires + (1L << shift) - 1) >>> shift;
        return lvl * LVL_SIZE + (int) (slot & (LVL_SIZE - 1));
    }

    private void link(Entry e) {
        int b = index(e.expires);
        e.bucket = b;
        e.prev = null;
        e.next = buckets[b];
        if (e.next != null) {
            e.next.prev = e;
        }
        buckets[b] = e;
        pending++;
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
        e.prev = null;
        e.next = null;
        e.bucket = -1;
        pending--;
        return true;
    }

    /**
     * {@code run_timers}: moves the wheel's time to {@code nowMillis}, calling every timer that is
     * due, outside the lock (a function may re-arm its timer). Returns how many ran.
     */
    int advance(long nowMillis) {
        int ran = 0;
        while (true) {
            Entry due = null;
            synchronized (this) {
                if (pending == 0) {
                    clk = Math.max(clk, nowMillis);
                    return ran;
                }
                if (clk > nowMillis) {
                    return ran;
                }
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
                            e.next = due;
                            due = e;
                        }
                        e = n;
                    }
                }
                clk++;
            }
            while (due != null) {
                Entry n = due.next;
                due.next = null;
                due.function.run();
                ran++;
                due = n;
            }
        }
    }
}

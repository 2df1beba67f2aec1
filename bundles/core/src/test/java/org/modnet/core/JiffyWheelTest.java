package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Jiffies;

/**
 * The kernel's timers count in jiffies ({@code modnet.hz}, Debian's HZ=250 by default): a delay rounds
 * up to whole jiffies, the wheel's level 0 is one jiffy and each level above 8 times coarser, and a timer
 * goes in the bucket after its expiry's (Linux's {@code calc_index}), so it fires at the tick after.
 */
class JiffyWheelTest {
    private static final long MS = 1_000_000;

    /** A wheel at {@code hz} on a nanosecond clock starting at 0, and a count of how often its timer fired. */
    private static final class Bed {
        final int hz;
        final long[] nanos = { 0 };
        final int[] fired = { 0 };
        final TimerWheel wheel;

        Bed(int hz) {
            this.hz = hz;
            this.wheel = TimerWheel.jiffies(() -> nanos[0], hz, () -> { });
        }

        /** Moves the clock to {@code ms} and runs what is due: fired so far. */
        int at(double ms) {
            nanos[0] = Math.round(ms * MS);
            wheel.advance(Jiffies.at(nanos[0], hz));
            return fired[0];
        }
    }

    private static Bed bed(int hz) {
        return new Bed(hz);
    }

    @Test
    void theReorderingTimeoutOf27MsIs7JiffiesAtHz250AndFiresAt32Ms() {
        Bed b = bed(250);
        b.wheel.timer(() -> b.fired[0]++).mod(27); // usecs_to_jiffies(25 ms + TCP_TIMEOUT_MIN_US): 7 jiffies
        assertEquals(0, b.at(31.9), "7 jiffies (28 ms) and the tick after: not before 32 ms");
        assertEquals(1, b.at(32));
    }

    @Test
    void atHz1000TheSameTimerFiresAt28Ms() {
        Bed b = bed(1000);
        b.wheel.timer(() -> b.fired[0]++).mod(27);
        assertEquals(0, b.at(27.9));
        assertEquals(1, b.at(28));
    }

    @Test
    void aTimerArmedLateInATickCountsFromThatTick() {
        Bed b = bed(250);
        b.at(3.9); // jiffy 0 still
        b.wheel.timer(() -> b.fired[0]++).mod(4); // one jiffy from jiffy 0: the bucket of jiffy 2
        assertEquals(0, b.at(7.9));
        assertEquals(1, b.at(8), "4.1 ms after it was armed, as Linux's timer armed at the end of a tick");
    }

    @Test
    void a300MsTimerAtHz250SitsOnLevelOneAndItsBucketOf32Ms() {
        Bed b = bed(250);
        b.wheel.timer(() -> b.fired[0]++).mod(300); // 75 jiffies: level 1 (63 and more), buckets of 8 jiffies
        assertEquals(0, b.at(319.9), "75 jiffies truncate to bucket 9 of level 1, and go in bucket 10");
        assertEquals(1, b.at(320));
    }

    @Test
    void jiffyTimersAreNeverEarlyAndLateByAtMostTheirLevelsBucketAndATick() {
        for (int hz : new int[] { 100, 250, 300, 1000 }) {
            Random r = new Random(hz);
            for (int k = 0; k < 300; k++) {
                Bed b = bed(hz);
                double start = r.nextInt(10_000) / 10.0;
                b.at(start);
                long delay = 1 + r.nextInt(r.nextBoolean() ? 300 : 20_000);
                b.wheel.timer(() -> b.fired[0]++).mod(delay);
                long startJiffy = Jiffies.at(b.nanos[0], hz);
                long due = startJiffy + Jiffies.fromMsecs(delay, hz);
                long j = startJiffy;
                while (b.fired[0] == 0) {
                    j++;
                    b.at(Jiffies.nanos(j, hz) / (double) MS);
                }
                long late = j - due;
                long delta = due - startJiffy;
                long gran = delta < 63 ? 1 : delta < 63 * 8 ? 8 : delta < 63 * 64 ? 64 : 512;
                assertTrue(late >= 1 && late <= gran, "HZ=" + hz + " delay " + delay + " ms from " + start + ": " + late
                        + " jiffies late");
            }
        }
    }

    @Test
    void conversionsRoundAsLinuxDoes() {
        assertEquals(7, Jiffies.fromMsecs(25, 250), "msecs_to_jiffies rounds up");
        assertEquals(1, Jiffies.fromMsecs(1, 250));
        assertEquals(0, Jiffies.fromMsecs(0, 250));
        assertEquals(3, Jiffies.fromMsecs(10, 300));
        assertEquals(3, Jiffies.fromMsecs(25, 100));
        for (int hz : new int[] { 100, 250, 300, 1000 }) {
            for (long j = 0; j < 1000; j++) {
                assertEquals(j, Jiffies.fromMsecs(Jiffies.delayMsecs(j, hz), hz), "HZ=" + hz + ": " + j + " jiffies");
                assertEquals(j, Jiffies.at(Jiffies.nanos(j, hz), hz));
                assertEquals(j - 1, Jiffies.at(Jiffies.nanos(j, hz) - 1, hz));
            }
        }
        assertEquals(375_000_000_000L, Jiffies.at(1_500_000_000_000_000_000L, 250), "no overflow on a long-running clock");
    }

    @Test
    void onlyLinuxsChoicesOfHzAreAccepted() {
        assertEquals(250, Jiffies.hz(null), "Debian's CONFIG_HZ by default");
        assertEquals(1000, Jiffies.hz("1000"));
        assertEquals(300, Jiffies.hz(" 300 "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Jiffies.hz("200"));
        assertEquals("modnet.hz=200: not a CONFIG_HZ of Linux's; choose 100, 250, 300 or 1000 (default 250)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Jiffies.hz("fast"));
    }
}

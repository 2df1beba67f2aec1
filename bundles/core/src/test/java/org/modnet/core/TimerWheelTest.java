package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Timer;

/** The timer wheel on virtual time: never early, late by at most its level's granularity. */
class TimerWheelTest {

    @Test
    void aTimerFiresAtItsTimeAndNotBefore() {
        long[] now = { 0 };
        TimerWheel wheel = new TimerWheel(() -> now[0]);
        int[] fired = new int[1];
        wheel.timer(() -> fired[0]++).mod(10);
        wheel.advance(9);
        assertEquals(0, fired[0]);
        wheel.advance(10);
        assertEquals(1, fired[0]);
        wheel.advance(1000);
        assertEquals(1, fired[0], "once");
    }

    @Test
    void longTimersAreNeverEarlyAndLateByLessThanTheWheelsSlack() {
        long[] now = { 12345 };
        TimerWheel wheel = new TimerWheel(() -> now[0]);
        Random random = new Random(3);
        List<long[]> fired = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            long delay = 1 + random.nextInt(3_600_000); // up to an hour
            long due = now[0] + delay;
            wheel.timer(() -> fired.add(new long[] { due, now[0] })).mod(delay);
        }
        for (long t = 12345; t <= 12345 + 4_200_000; t += 250) {
            now[0] = t;
            wheel.advance(t);
        }
        assertEquals(2000, fired.size());
        for (long[] f : fired) {
            long late = f[1] - f[0];
            assertTrue(late >= 0, "early by " + -late);
            long delay = f[0] - 12345;
            assertTrue(late <= delay * 8 / 63 + 250, "late by " + late + " for a delay of " + delay);
        }
    }

    @Test
    void modMovesAnArmedTimerAndDelDisarmsIt() {
        TimerWheel wheel = new TimerWheel(() -> 0L);
        int[] fired = new int[1];
        Timer t = wheel.timer(() -> fired[0]++);
        t.mod(5);
        t.mod(50);
        wheel.advance(20);
        assertEquals(0, fired[0]);
        assertTrue(t.pending());
        assertTrue(t.del());
        assertFalse(t.del());
        wheel.advance(100);
        assertEquals(0, fired[0]);
        assertEquals(0, wheel.pending());
    }

    @Test
    void aTimerMayRearmItselfFromItsFunction() {
        long[] now = { 0 };
        TimerWheel wheel = new TimerWheel(() -> now[0]);
        List<Long> at = new ArrayList<>();
        Timer[] t = new Timer[1];
        t[0] = wheel.timer(() -> {
            at.add(now[0]);
            if (at.size() < 3) {
                t[0].mod(10);
            }
        });
        t[0].mod(10);
        for (now[0] = 0; now[0] <= 100; now[0]++) {
            wheel.advance(now[0]);
        }
        assertEquals(List.of(10L, 20L, 30L), at);
    }
}

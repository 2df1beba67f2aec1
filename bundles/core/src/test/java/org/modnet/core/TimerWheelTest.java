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

    /**
     * A timer re-armed while it waits in the tick's list of due timers (its callback not run yet: another
     * due timer's callback, or another thread, re-arms it) is linked into a bucket again; the due list
     * must not follow its bucket links, or a later timer in that bucket runs now and the bucket's list
     * is cut (TcpBulkIT hung with the softirq looping in advance over a list turned into a cycle).
     */
    @Test
    void aDueTimerReArmedBeforeItRunsNeitherRunsOthersEarlyNorBreaksTheirBucket() {
        long[] now = { 0 };
        TimerWheel wheel = new TimerWheel(() -> now[0]);
        List<String> ran = new ArrayList<>();
        Timer later = wheel.timer(() -> ran.add("later@" + now[0]));
        later.mod(55);
        Timer[] pair = new Timer[2];
        boolean[] rearmed = new boolean[1];
        for (int i = 0; i < 2; i++) {
            int me = i;
            pair[i] = wheel.timer(() -> {
                ran.add((me == 0 ? "a@" : "b@") + now[0]);
                if (!rearmed[0]) {
                    rearmed[0] = true;
                    pair[1 - me].mod(50); // the other is due now too, collected with this one: into later's bucket (55)
                }
            });
        }
        pair[0].mod(5);
        pair[1].mod(5);
        now[0] = 5;
        wheel.advance(5);
        assertEquals(2, ran.size(), "both due timers ran once, and nothing else: " + ran);
        assertEquals(2, wheel.pending(), "later and the re-armed one wait: " + ran);
        now[0] = 55;
        wheel.advance(55);
        assertEquals(4, ran.size(), ran.toString());
        assertTrue(ran.contains("later@55"), "later runs at its time: " + ran);
        assertEquals(0, wheel.pending());
    }

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

    @Test
    void aTimerArmedForBeforeTheOwnersSleepEndsKicksItAndALaterOneDoesNot() {
        long[] now = { 0 };
        int[] kicks = new int[1];
        TimerWheel wheel = new TimerWheel(() -> now[0], () -> kicks[0]++);
        wheel.timer(() -> { }).mod(50);
        assertEquals(0, kicks[0], "the owner is awake: no kick");
        assertEquals(50, wheel.sleep());
        wheel.timer(() -> { }).mod(500);
        assertEquals(0, kicks[0], "due after the sleep ends");
        wheel.timer(() -> { }).mod(40);
        assertEquals(1, kicks[0], "due before the sleep ends");
        wheel.timer(() -> { }).mod(20);
        assertEquals(1, kicks[0], "one kick per sleep");
        wheel.awake();
        assertEquals(20, wheel.sleep());
    }

    /**
     * Linux's wheel puts a timer one tick past its expiry at level 0 (calc_index's + 1), and the sleep ends
     * at that bucket's tick: a timer re-armed for the same expiry, or any later one in the same bucket, is
     * due when the sleep ends anyway and must not kick. Comparing the expiry with the sleep's end kicked
     * the softirq thread at each request's delayed ACK (0.04 wake-ups a round trip over the TAP).
     */
    @Test
    void aTimerReArmedIntoTheBucketTheSleepEndsAtDoesNotKick() {
        long[] now = { 1000 };
        int[] kicks = new int[1];
        TimerWheel wheel = new TimerWheel(() -> now[0], d -> d, () -> kicks[0]++, true);
        Timer delack = wheel.timer(() -> { });
        delack.mod(10);
        assertEquals(1011, wheel.sleep(), "level 0: one tick past the expiry");
        delack.mod(10);
        assertEquals(0, kicks[0], "re-armed for the same expiry: its bucket is the one the sleep ends at");
        wheel.timer(() -> { }).mod(9);
        assertEquals(1, kicks[0], "a bucket before the sleep's end kicks");
    }

    @Test
    void anEmptyWheelSleepsUntilKickedAndAnyTimerKicksIt() {
        long[] now = { 5000 };
        int[] kicks = new int[1];
        TimerWheel wheel = new TimerWheel(() -> now[0], () -> kicks[0]++);
        assertEquals(TimerWheel.NEVER, wheel.sleep());
        wheel.timer(() -> { }).mod(3_600_000);
        assertEquals(1, kicks[0]);
    }

    @Test
    void aTimerArmedAfterALongIdleFiresByItsOwnDelayNotTheIdlesLength() {
        long[] now = { 0 };
        TimerWheel wheel = new TimerWheel(() -> now[0]);
        wheel.advance(0);
        now[0] = 10_000_000; // idle for almost three hours: the wheel's time did not move
        long[] fired = { -1 };
        wheel.timer(() -> fired[0] = now[0]).mod(10);
        for (; now[0] <= 10_000_100; now[0]++) {
            wheel.advance(now[0]);
        }
        assertEquals(10_000_010, fired[0]);
    }

    @Test
    void sleepingFromExpiryToExpiryFiresEveryTimerWhenTickingEveryMillisecondWould() {
        Random random = new Random(11);
        long[] now = { 777 };
        long[] ticked = { 777 };
        TimerWheel sleeper = new TimerWheel(() -> now[0]);
        TimerWheel ticker = new TimerWheel(() -> ticked[0]);
        List<long[]> bySleeping = new ArrayList<>();
        List<long[]> byTicking = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            long delay = random.nextInt(i % 2 == 0 ? 200 : 400_000);
            long id = i;
            sleeper.timer(() -> bySleeping.add(new long[] { id, now[0] })).mod(delay);
            ticker.timer(() -> byTicking.add(new long[] { id, ticked[0] })).mod(delay);
        }
        int wakes = 0;
        while (sleeper.pending() > 0) {
            long until = sleeper.sleep();
            assertTrue(until > now[0] || until == now[0], "never in the past");
            now[0] = Math.max(until, now[0]); // woke at its time
            sleeper.awake();
            sleeper.advance(now[0]);
            wakes++;
        }
        for (; ticked[0] <= now[0]; ticked[0]++) {
            ticker.advance(ticked[0]);
        }
        assertEquals(500, bySleeping.size());
        assertEquals(byTicking.stream().map(f -> f[0] + "@" + f[1]).sorted().toList(),
                bySleeping.stream().map(f -> f[0] + "@" + f[1]).sorted().toList(), "the same timers at the same ticks");
        assertTrue(wakes < 500, "asleep between expiries, not woken each millisecond: " + wakes + " wakes");
    }
}

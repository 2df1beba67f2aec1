package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Timer;

/**
 * {@code inet_csk_clear_xmit_timer} as Linux builds it: clearing a socket timer (the delayed ACK when an ACK
 * goes out, the RTO when all data is acknowledged) leaves the CPU's wheel timer armed, firing to nothing,
 * so re-arming it moves it instead of adding one to a wheel its softirq thread sleeps on without it.
 */
class TcpTimerTest {
    /** A wheel timer that records what the TCP timer does to it. */
    private static final class WheelTimer implements Timer {
        Runnable fire;
        boolean pending;
        int mods;
        int dels;

        @Override
        public void mod(long delayMillis) {
            pending = true;
            mods++;
        }

        @Override
        public boolean del() {
            dels++;
            boolean was = pending;
            pending = false;
            return was;
        }

        @Override
        public boolean pending() {
            return pending;
        }

        void expire() {
            pending = false;
            fire.run();
        }
    }

    @Test
    void aClearedTimerStaysInTheWheelAndFiresToNothing() {
        WheelTimer wheel = new WheelTimer();
        int[] ran = new int[1];
        TcpTimer t = new TcpTimer(f -> {
            wheel.fire = f;
            return wheel;
        }, () -> ran[0]++, () -> 0L);
        t.mod(40);
        assertTrue(t.pending());
        assertTrue(t.clear(), "it was pending for the socket");
        assertFalse(t.pending(), "not pending for the socket (ss -o, the handlers' checks)");
        assertTrue(wheel.pending, "still in the wheel: nothing for the softirq thread to lose");
        assertEquals(0, wheel.dels);
        assertFalse(t.clear(), "cleared already");
        wheel.expire();
        assertEquals(0, ran[0], "a cleared timer fires to nothing");
        t.mod(40);
        wheel.expire();
        assertEquals(1, ran[0], "armed again, it runs its handler");
        assertFalse(t.pending());
    }

    @Test
    void deletingTakesItOutOfTheWheel() {
        WheelTimer wheel = new WheelTimer();
        TcpTimer t = new TcpTimer(f -> {
            wheel.fire = f;
            return wheel;
        }, () -> { }, () -> 0L);
        t.mod(200);
        assertTrue(t.del());
        assertFalse(wheel.pending);
        t.mod(200);
        t.clear();
        assertFalse(t.del(), "cleared: not pending for the socket, though the wheel had it");
        assertFalse(wheel.pending);
    }
}

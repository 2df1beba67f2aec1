package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code tcp_tso_should_defer}'s rules, one at a time, from a case that defers. */
class TcpTsoDeferTest {
    private static final int MSS = 1000;

    /** 20 KB queued at the tail, room for 2 MSS of a 20-MSS window, the head sent an RTT (100 ms) ago. */
    private static boolean defer(int skbLen, boolean tail, int room, int maxSegs, int divisor, long sinceLastSendMs,
            long sinceHeadUs) {
        return TcpTso.shouldDefer(skbLen, tail, 64000, room, 64000, 20 * MSS, MSS, maxSegs, divisor, sinceLastSendMs,
                sinceHeadUs, 100_000);
    }

    @Test
    void aSmallRoomRightAfterASendWaitsForTheAck() {
        assertTrue(defer(20_000, true, 2 * MSS, 10, 3, 0, 100_000));
    }

    @Test
    void aSendInAnEarlierJiffyNeverDefers() {
        assertFalse(defer(20_000, true, 2 * MSS, 10, 3, 1, 100_000));
    }

    @Test
    void roomForAFullSkbGoesNow() {
        assertFalse(defer(20_000, true, 10 * MSS, 10, 3, 0, 100_000));
    }

    @Test
    void aThirdOfTheWindowGoesNowWithTheDefaultDivisor() {
        assertFalse(defer(20_000, true, 7 * MSS, 10, 3, 0, 100_000)); // 7000 >= 20000 / 3
        assertFalse(defer(20_000, true, 2 * MSS, 10, 100, 0, 100_000), "tcp_tso_win_divisor 100: 200 bytes suffice");
    }

    @Test
    void theMiddleOfTheQueueGoesWhenItFitsWhole() {
        assertFalse(defer(2 * MSS, false, 2 * MSS, 10, 3, 0, 100_000));
        assertTrue(defer(2 * MSS, true, 2 * MSS, 10, 3, 0, 100_000), "the tail may still grow");
    }

    @Test
    void anAckMoreThanHalfAnRttAwayIsNotWaitedFor() {
        assertFalse(defer(20_000, true, 2 * MSS, 10, 3, 0, 40_000));
        assertFalse(defer(20_000, true, 2 * MSS, 10, 3, 0, -1), "nothing in flight: no ACK to wait for");
    }
}

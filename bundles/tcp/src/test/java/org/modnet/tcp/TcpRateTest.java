package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Delivery-rate sampling (tcp_rate.c) on a scoreboard driven by hand, times in microseconds. */
class TcpRateTest {
    private static final int MSS = 1000;
    /** The clock is never 0 when a connection sends (a 0 stamp means "not sampled"). */
    private static final long BASE = 5_000_000;

    private final TcpRtxQueue q = new TcpRtxQueue();
    private final TcpRate rate = new TcpRate();
    private int delivered;
    private int nxt = 1;

    /** {@code n} segments go out at {@code nowUs}, as tcp_event_new_data_sent records them. */
    private void send(int n, long t) {
        long nowUs = BASE + t;
        for (int k = 0; k < n; k++) {
            boolean first = q.packetsOut == 0;
            q.add(nxt, nxt + MSS, false, nowUs);
            rate.skbSent(q, q.at(q.size() - 1), delivered, first, nowUs);
            nxt += MSS;
        }
    }

    /** A cumulative ACK of the oldest {@code n} segments at {@code nowUs}; returns the sample. */
    private TcpRate ack(int n, long t) {
        long nowUs = BASE + t;
        rate.reset(q.packetsOut);
        for (int k = 0; k < n; k++) {
            rate.skbDelivered(q, q.at(0), false);
            q.removeHead();
            delivered++;
        }
        rate.gen(delivered, n, 0, false, 0, -1, nowUs);
        return rate;
    }

    @Test
    void tenSegmentsAckedOneRoundTripLaterGiveTenSegmentsPerRoundTrip() {
        send(10, 1_000_000);
        TcpRate rs = ack(10, 1_100_000); // 100 ms later
        assertEquals(10, rs.delivered());
        assertEquals(100_000, rs.intervalUs());
        assertEquals(10L * MSS * 10, rate.deliveryRate(MSS), "10 segments per 100 ms: 100 kB/s");
        assertFalse(rs.isAppLimited());
    }

    @Test
    void aSteadyFlowSamplesTheAckRateNotTheSendBurst() {
        send(10, 0);
        // ACKs of one segment each every 10 ms, each releasing one new segment (a window of 10)
        long t = 100_000;
        for (int i = 0; i < 30; i++) {
            ack(1, t);
            send(1, t);
            t += 10_000;
        }
        assertTrue(rate.delivered() > 0);
        long bps = rate.deliveryRate(MSS);
        assertEquals(100_000, bps, 2_000, "one 1000-byte segment per 10 ms");
    }

    @Test
    void sendingWithLessThanASegmentWaitingMarksTheSegmentsApplicationLimited() {
        // nothing waits (0 bytes unsent), 2 in flight under a window of 10, no loss: application-limited
        rate.checkAppLimited(0, MSS, 0, 10, 0, 0, delivered);
        assertEquals(1, rate.appLimited, "(delivered + in flight) or 1");
        send(2, 0);
        TcpRate rs = ack(2, 50_000);
        assertTrue(rs.isAppLimited(), "the sample of segments sent while application-limited");
        assertEquals(0, rate.appLimited, "every segment of the limited phase is delivered");
        send(2, 50_000);
        assertFalse(ack(2, 100_000).isAppLimited());
    }

    @Test
    void aFullWindowOrDataWaitingIsNotApplicationLimited() {
        rate.checkAppLimited(5 * MSS, MSS, 2, 10, 0, 0, 0);
        assertEquals(0, rate.appLimited, "data waits: the network limits");
        rate.checkAppLimited(0, MSS, 10, 10, 0, 0, 0);
        assertEquals(0, rate.appLimited, "the window is full");
        rate.checkAppLimited(0, MSS, 2, 10, 1, 0, 0);
        assertEquals(0, rate.appLimited, "a lost segment waits for its retransmission");
    }

    @Test
    void anApplicationLimitedLowSampleDoesNotReplaceTheReportedRate() {
        send(10, 0);
        ack(10, 100_000); // 100 kB/s
        long before = rate.deliveryRate(MSS);
        rate.checkAppLimited(0, MSS, 0, 10, 0, 0, delivered);
        send(1, 100_000);
        ack(1, 300_000); // one segment in 200 ms, application-limited
        assertEquals(before, rate.deliveryRate(MSS));
    }

    @Test
    void aSackedSegmentIsSampledOnceAndTheLaterCumulativeAckAddsNothing() {
        send(3, 0);
        rate.reset(3);
        rate.skbDelivered(q, q.at(2), true); // the third SACKed
        q.markSacked(q.at(2));
        delivered++;
        rate.gen(delivered, 1, 0, false, 0, -1, BASE + 30_000);
        assertEquals(1, rate.delivered());
        assertEquals(0, q.txDeliveredUs[q.at(2)], "its stamp cleared");
        rate.reset(2);
        rate.skbDelivered(q, q.at(0), false);
        rate.skbDelivered(q, q.at(1), false);
        rate.skbDelivered(q, q.at(2), false); // ignored: sampled already
        delivered += 2;
        rate.gen(delivered, 2, 0, false, 0, -1, BASE + 40_000);
        assertEquals(3, rate.delivered(), "from the send of the newest segment the ACK newly delivered");
    }

    @Test
    void anIntervalShorterThanTheMinimumRttIsNoSample() {
        send(4, 0);
        TcpRate rs = ack(4, 0); // ACKed at once: a compressed train
        rate.reset(0);
        send(4, 10);
        rate.reset(4);
        for (int k = 0; k < 4; k++) {
            rate.skbDelivered(q, q.at(0), false);
            q.removeHead();
            delivered++;
        }
        rate.gen(delivered, 4, 0, false, 50_000, -1, BASE + 20); // min RTT 50 ms, interval 10 us
        assertEquals(-1, rs.intervalUs());
    }
}

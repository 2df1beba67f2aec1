package org.modnet.tcp_westwood;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionState;

/** Westwood+ against a connection of its own making: ACKs at a known rate, then a loss. */
class WestwoodTest {
    static final class Conn implements TcpCongestionState {
        int cwnd = 10;
        int ssthresh = Integer.MAX_VALUE;
        int cnt;
        int una;
        Object priv;
        long now = 1_000_000;

        @Override public int cwnd() { return cwnd; }
        @Override public void cwnd(int segments) { cwnd = segments; }
        @Override public int ssthresh() { return ssthresh; }
        @Override public void ssthresh(int segments) { ssthresh = segments; }
        @Override public int cwndCnt() { return cnt; }
        @Override public void cwndCnt(int count) { cnt = count; }
        @Override public int cwndClamp() { return Integer.MAX_VALUE; }
        @Override public int mss() { return 1000; }
        @Override public int packetsInFlight() { return cwnd; }
        @Override public int sndUna() { return una; }
        @Override public int sndNxt() { return una; }
        @Override public long srttUs() { return 20_000; }
        @Override public long nowUs() { return now; }
        @Override public int caState() { return 0; }
        @Override public Object priv() { return priv; }
    }

    private final Westwood cc = new Westwood();

    /** One ACK of 1000 bytes every millisecond for {@code ms} ms with a 20 ms RTT: 1,000,000 bytes/s. */
    private static void ackAtOneMegabytePerSecond(Westwood cc, Conn c, int ms) {
        for (int i = 0; i < ms; i++) {
            c.now += 1000;
            c.una += 1000;
            cc.pktsAcked(c, 1, 20_000);
            cc.congAvoid(c, c.una, 1);
        }
    }

    @Test
    void theEstimateConvergesOnTheRateTheAcksShow() {
        Conn c = new Conn();
        c.priv = cc.init(c);
        ackAtOneMegabytePerSecond(cc, c, 2000);
        long bw = ((Westwood.State) c.priv).bwEst;
        assertTrue(Math.abs(bw - 1_000_000) < 50_000, "bandwidth estimate " + bw);
    }

    @Test
    void aLossSetsSsthreshToTheBandwidthTimesTheMinimumRtt() {
        Conn c = new Conn();
        c.priv = cc.init(c);
        ackAtOneMegabytePerSecond(cc, c, 2000);
        c.cwnd = 100;
        // 1,000,000 B/s * 20 ms = 20,000 bytes = 20 segments of 1000: not Reno's 50
        int t = cc.ssthresh(c);
        assertTrue(t >= 19 && t <= 21, "ssthresh " + t);
    }

    @Test
    void beforeAnyEstimateALossHalvesTheWindowAsReno() {
        Conn c = new Conn();
        c.priv = cc.init(c);
        c.cwnd = 40;
        assertEquals(20, cc.ssthresh(c));
    }

    @Test
    void aLossMakesTheNextRttSampleTheMinimum() {
        Conn c = new Conn();
        c.priv = cc.init(c);
        cc.pktsAcked(c, 1, 10_000);
        cc.cwndEvent(c, TcpCongestion.CA_EVENT_LOSS);
        cc.pktsAcked(c, 1, 30_000);
        assertEquals(30_000, ((Westwood.State) c.priv).rttMinUs);
    }

    @Test
    void betweenLossesTheWindowGrowsAsReno() {
        Conn c = new Conn();
        c.priv = cc.init(c);
        c.ssthresh = 10;
        for (int i = 0; i < 10; i++) {
            cc.congAvoid(c, 0, 1);
        }
        assertEquals(11, c.cwnd, "one segment per window in congestion avoidance");
    }
}

package org.modnet.tcp_cubic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionState;

class CubicTest {
    /** A connection as CUBIC sees it, on a clock the test moves. */
    static final class Conn implements TcpCongestionState {
        int cwnd = 10;
        int ssthresh = Integer.MAX_VALUE;
        int cwndCnt;
        int una = 1000;
        int nxt = 1000;
        long nowUs = 5_000_000;
        long lastSendUs;
        long pacing = -1; // sk_pacing_rate, -1: none

        @Override
        public long pacingRate() {
            return pacing;
        }
        Object priv;
        final long[] mib = new long[4];

        @Override
        public int cwnd() {
            return cwnd;
        }

        @Override
        public void cwnd(int segments) {
            cwnd = Math.max(1, segments);
        }

        @Override
        public int ssthresh() {
            return ssthresh;
        }

        @Override
        public void ssthresh(int segments) {
            ssthresh = segments;
        }

        @Override
        public int cwndCnt() {
            return cwndCnt;
        }

        @Override
        public void cwndCnt(int count) {
            cwndCnt = count;
        }

        @Override
        public int cwndClamp() {
            return 0x7fffffff;
        }

        @Override
        public int mss() {
            return 1000;
        }

        @Override
        public int packetsInFlight() {
            return (nxt - una) / 1000;
        }

        @Override
        public int sndUna() {
            return una;
        }

        @Override
        public int sndNxt() {
            return nxt;
        }

        @Override
        public long srttUs() {
            return 0;
        }

        @Override
        public long nowUs() {
            return nowUs;
        }

        @Override
        public long lastSendUs() {
            return lastSendUs;
        }

        @Override
        public void mibAdd(int which, long delta) {
            mib[which] += delta;
        }

        @Override
        public int caState() {
            return TcpCongestion.CA_OPEN;
        }

        @Override
        public Object priv() {
            return priv;
        }
    }

    private static Cubic.Ca start(Cubic cubic, Conn c) {
        c.priv = cubic.init(c);
        return (Cubic.Ca) c.priv;
    }

    @Test
    void windowFollowsRfc9438CurveAfterALoss() {
        Cubic.Params p = Cubic.Params.DEFAULTS;
        Cubic.Ca ca = new Cubic.Ca();
        int wmax = 1000;
        int cwnd = wmax * 717 / 1024; // what ssthresh leaves
        ca.lastMaxCwnd = wmax;
        ca.epochStartMs = 0;
        Cubic.update(p, ca, cwnd, 1, 10_000_000); // starts the epoch: K and the origin
        double beta = 717 / 1024.0;
        double c = 0.4;
        double k = Math.cbrt(wmax * (1 - beta) / c); // RFC 9438 (2)
        assertEquals(k, ca.k / 1024.0, 0.02, "K in seconds");
        assertEquals(wmax, ca.originPoint);
        for (double t : new double[] { 0, 1, 3, k, 7, 9, 12 }) {
            double rfc = c * Math.pow(t - k, 3) + wmax; // RFC 9438 (1)
            long ours = Cubic.target(p, ca, Math.round(t * 1024));
            // Linux's C is 410/1024 = 0.4004, not 0.4: within half a percent of the window
            assertEquals(rfc, ours, Math.max(2, rfc * 0.005), "W(" + t + ")");
        }
    }

    @Test
    void cubeRootIsExactFloor() {
        assertEquals(0, Cubic.cubicRoot(0));
        assertEquals(1, Cubic.cubicRoot(7));
        assertEquals(2, Cubic.cubicRoot(8));
        assertEquals(999, Cubic.cubicRoot(999L * 999 * 999 + 2996));
        assertEquals(1000, Cubic.cubicRoot(1000L * 1000 * 1000));
        assertEquals(2097151, Cubic.cubicRoot(Long.MAX_VALUE));
    }

    @Test
    void lossKeepsSeventyPercentAndFastConvergenceLowersWmax() {
        Cubic cubic = new Cubic();
        Conn c = new Conn();
        Cubic.Ca ca = start(cubic, c);
        c.cwnd = 100;
        assertEquals(70, cubic.ssthresh(c)); // 100 * 717 / 1024
        assertEquals(100, ca.lastMaxCwnd, "first loss: W_max is the window");
        c.cwnd = 80; // a second loss below the last W_max: a newer flow needs room
        assertEquals(56, cubic.ssthresh(c));
        assertEquals(80 * 1741 / 2048, ca.lastMaxCwnd, "W_max = cwnd (1 + beta) / 2");

        Cubic slow = new Cubic(new Cubic.Params(false, 717, 0, 41, true, true, 3, 16, 2000));
        Conn d = new Conn();
        Cubic.Ca cb = start(slow, d);
        d.cwnd = 100;
        slow.ssthresh(d);
        d.cwnd = 80;
        slow.ssthresh(d);
        assertEquals(80, cb.lastMaxCwnd, "without fast convergence W_max is the window");
        d.cwnd = 2;
        assertEquals(2, slow.ssthresh(d), "never below two segments");
    }

    @Test
    void friendlyRegionGrowsAtLeastAsRenoWould() {
        Cubic.Params p = Cubic.Params.DEFAULTS;
        Cubic.Ca ca = new Cubic.Ca();
        ca.lastMaxCwnd = 100;
        ca.delayMinUs = 1000;
        Cubic.update(p, ca, 100, 1, 10_000_000); // at W_max: the curve is flat, cnt = 100 * cwnd
        assertEquals(100 * 100, ca.cnt);
        // Reno's estimate grows one segment per 100 * 15 / 8 = 187 acknowledged: after 3 windows' worth it is ahead
        long now = 10_000_000;
        for (int i = 0; i < 600; i++) {
            now += 1000;
            Cubic.update(p, ca, 100, 1, now);
        }
        assertTrue(ca.tcpCwnd > 100, "Reno's estimate grew: " + ca.tcpCwnd);
        assertEquals(100 / (ca.tcpCwnd - 100), ca.cnt, "cnt follows the Reno estimate, not the flat curve");

        Cubic.Params unfriendly = new Cubic.Params(true, 717, 0, 41, false, true, 3, 16, 2000);
        Cubic.Ca cb = new Cubic.Ca();
        cb.lastMaxCwnd = 100;
        cb.delayMinUs = 1000;
        now = 10_000_000;
        for (int i = 0; i < 600; i++) {
            now += 1000;
            Cubic.update(unfriendly, cb, 100, 1, now);
        }
        assertTrue(cb.cnt > ca.cnt, "without tcp_friendliness the flat curve rules: " + cb.cnt);
    }

    @Test
    void growsNoFasterThanOneSegmentPerTwoAcked() {
        Cubic.Ca ca = new Cubic.Ca();
        ca.lastMaxCwnd = 1000;
        ca.delayMinUs = 100_000;
        Cubic.update(Cubic.Params.DEFAULTS, ca, 10, 1, 10_000_000); // far below W_max, 100 ms ahead
        assertEquals(2, ca.cnt);
    }

    @Test
    void noWmaxYetGrowsAtLeastFivePercentPerRtt() {
        Cubic.Ca ca = new Cubic.Ca();
        Cubic.update(Cubic.Params.DEFAULTS, ca, 100, 1, 10_000_000);
        assertEquals(20, ca.cnt);
    }

    /** The window at the end of each of 100 rounds of one RTT, one ACK per segment, after a loss at {@code wmax}. */
    private static int[] afterLoss(int wmax, long rttUs) {
        Cubic cubic = new Cubic();
        Conn c = new Conn();
        start(cubic, c);
        c.cwnd = wmax;
        c.ssthresh = cubic.ssthresh(c);
        c.cwnd = c.ssthresh;
        ((Cubic.Ca) c.priv).delayMinUs = rttUs;
        int[] w = new int[100];
        for (int round = 0; round < w.length; round++) {
            int acks = c.cwnd;
            for (int i = 0; i < acks; i++) {
                c.nowUs += rttUs / acks;
                cubic.congAvoid(c, 0, 1);
            }
            w[round] = c.cwnd;
        }
        return w;
    }

    @Test
    void congestionAvoidanceFollowsTheCurveBackToWmaxAndProbesBeyond() {
        // 100 ms RTT: K = cbrt(100 * 0.3 / 0.4) = 4.2 s, 42 rounds; the window tracks W(t) one RTT ahead
        int[] w = afterLoss(100, 100_000);
        for (int round : new int[] { 5, 15, 25, 60, 70 }) {
            double t = (round + 2) * 0.1; // the end of this round, plus the RTT it aims ahead
            double rfc = 0.4 * Math.pow(t - 4.2, 3) + 100;
            assertEquals(rfc, w[round], 3, "round " + round);
        }
        assertTrue(w[42] >= 99 && w[42] <= 101, "the plateau at K: " + w[42]);
        assertTrue(w[99] > 150, "and beyond it, the convex part probing: " + w[99]);
    }

    @Test
    void onAShortRttRenosPaceWinsTheFriendlyRegion() {
        // 10 ms RTT: the curve would take K = 420 rounds; the Reno estimate, from 70 at 8/15 segment per RTT, leads
        int[] w = afterLoss(100, 10_000);
        assertTrue(w[99] >= 70 + 99 * 8 / 15 - 2, "at least Reno's window after 100 RTTs: " + w[99]);
        assertTrue(w[99] > 100, "past W_max long before K: " + w[99]);
    }

    @Test
    void hystartLeavesSlowStartOnADelayIncreaseAndCountsIt() {
        Cubic cubic = new Cubic(new Cubic.Params(true, 717, 0, 41, true, true, Cubic.HYSTART_DELAY, 16, 2000));
        Conn c = new Conn();
        start(cubic, c);
        c.cwnd = 32;
        c.nxt = c.una + 32_000;
        for (int i = 0; i < 9; i++) { // a round of samples at 10 ms: delay_min
            c.nowUs += 1000;
            cubic.pktsAcked(c, 1, 10_000);
        }
        assertEquals(Integer.MAX_VALUE, c.ssthresh, "no rise, still in slow start");
        c.nowUs += 1000;
        cubic.pktsAcked(c, 1, 13_900); // below 10 + clamp(10/8 -> 4) ms: the round's minimum is still 10 ms
        assertEquals(Integer.MAX_VALUE, c.ssthresh);

        Conn d = new Conn();
        start(cubic, d);
        d.cwnd = 32;
        d.nxt = d.una + 32_000;
        d.nowUs += 1000;
        cubic.pktsAcked(d, 1, 10_000); // delay_min 10 ms, from an earlier round
        d.una = d.nxt + 1; // the round ends; the next one's samples all come late
        d.nxt += 32_000;
        for (int i = 0; i < 9; i++) {
            d.nowUs += 1000;
            cubic.pktsAcked(d, 1, 14_500);
        }
        assertEquals(32, d.ssthresh, "a round 4.5 ms slower than delay_min: slow start ends at cwnd");
        assertEquals(1, d.mib[TcpCongestion.MIB_HYSTART_DELAY_DETECT]);
        assertEquals(32, d.mib[TcpCongestion.MIB_HYSTART_DELAY_CWND]);
        assertEquals(0, d.mib[TcpCongestion.MIB_HYSTART_TRAIN_DETECT]);
        assertTrue(((Cubic.Ca) d.priv).found);
    }

    @Test
    void hystartDelayThresholdIsClampedToFourAndSixteenMs() {
        assertEquals(4_000, Cubic.delayThresh(1_250));
        assertEquals(10_000, Cubic.delayThresh(10_000));
        assertEquals(16_000, Cubic.delayThresh(25_000));
    }

    @Test
    void hystartAckTrainEndsSlowStartAfterHalfTheMinimumRtt() {
        Cubic cubic = new Cubic(new Cubic.Params(true, 717, 0, 41, true, true, Cubic.HYSTART_ACK_TRAIN, 16, 2000));
        Conn c = new Conn();
        start(cubic, c);
        c.cwnd = 40;
        c.nxt = c.una + 40_000;
        // ACKs 1 ms apart (within hystart_ack_delta_us); the minimum RTT is 20 ms
        for (int i = 1; i <= 10; i++) {
            c.nowUs += 1000;
            cubic.pktsAcked(c, 1, 20_000);
        }
        assertEquals(Integer.MAX_VALUE, c.ssthresh, "10 ms of train is half the RTT, not more");
        c.nowUs += 1000;
        cubic.pktsAcked(c, 1, 20_000);
        assertEquals(40, c.ssthresh);
        assertEquals(1, c.mib[TcpCongestion.MIB_HYSTART_TRAIN_DETECT]);
        assertEquals(40, c.mib[TcpCongestion.MIB_HYSTART_TRAIN_CWND]);
    }

    @Test
    void hystartAckTrainWaitsHalfOfHystartAckDelayLongerOnAPacedRate() {
        Cubic cubic = new Cubic(new Cubic.Params(true, 717, 0, 41, true, true, Cubic.HYSTART_ACK_TRAIN, 16, 2000));
        Conn c = new Conn();
        start(cubic, c);
        c.pacing = 131_072_000; // two 64 KB bursts take 1 ms at this rate: hystart_ack_delay is 1 ms
        assertEquals(1000, Cubic.hystartAckDelayUs(c.pacing));
        assertEquals(1000, Cubic.hystartAckDelayUs(1_000), "at most 1 ms");
        assertEquals(0, Cubic.hystartAckDelayUs(-1), "no rate, no delay");
        c.cwnd = 40;
        c.nxt = c.una + 40_000;
        // ACKs 0.6 ms apart, the minimum RTT 20 ms: the threshold is (20 + 1) / 2 = 10.5 ms, not 10
        for (int i = 1; i <= 17; i++) {
            c.nowUs += 600;
            cubic.pktsAcked(c, 1, 20_000);
        }
        assertEquals(Integer.MAX_VALUE, c.ssthresh, "10.2 ms of train: past half the RTT, not past 10.5 ms");
        c.nowUs += 600;
        cubic.pktsAcked(c, 1, 20_000);
        assertEquals(40, c.ssthresh, "10.8 ms: the train ends slow start");
    }

    @Test
    void hystartWaitsForTheLowWindow() {
        Cubic cubic = new Cubic();
        Conn c = new Conn();
        start(cubic, c);
        c.cwnd = 15; // below hystart_low_window
        c.nxt = c.una + 15_000;
        cubic.pktsAcked(c, 1, 10_000);
        for (int i = 0; i < 20; i++) {
            c.nowUs += 500;
            cubic.pktsAcked(c, 1, 50_000);
        }
        assertEquals(Integer.MAX_VALUE, c.ssthresh);
        assertEquals(0, c.mib[TcpCongestion.MIB_HYSTART_DELAY_DETECT] + c.mib[TcpCongestion.MIB_HYSTART_TRAIN_DETECT]);
    }

    @Test
    void idleTimeDoesNotCountOnTheCurve() {
        Cubic cubic = new Cubic();
        Conn c = new Conn();
        Cubic.Ca ca = start(cubic, c);
        ca.epochStartMs = 4_000;
        c.lastSendUs = 4_500_000;
        c.nowUs = 7_500_000; // 3 s idle
        cubic.cwndEvent(c, TcpCongestion.CA_EVENT_TX_START);
        assertEquals(7_000, ca.epochStartMs);
        cubic.cwndEvent(c, TcpCongestion.CA_EVENT_CWND_RESTART);
        assertEquals(7_000, ca.epochStartMs, "only TX_START moves the epoch");
    }

    @Test
    void timeoutResetsCubicAndHystart() {
        Cubic cubic = new Cubic();
        Conn c = new Conn();
        Cubic.Ca ca = start(cubic, c);
        ca.lastMaxCwnd = 50;
        ca.found = true;
        cubic.setState(c, TcpCongestion.CA_RECOVERY);
        assertEquals(50, ca.lastMaxCwnd);
        cubic.setState(c, TcpCongestion.CA_LOSS);
        assertEquals(0, ca.lastMaxCwnd);
        assertFalse(ca.found);
    }

    @Test
    void initialSsthreshAppliesOnlyWithoutHystart() {
        Cubic with = new Cubic(new Cubic.Params(true, 717, 30, 41, true, true, 3, 16, 2000));
        Conn c = new Conn();
        start(with, c);
        assertEquals(Integer.MAX_VALUE, c.ssthresh);
        Cubic without = new Cubic(new Cubic.Params(true, 717, 30, 41, true, false, 3, 16, 2000));
        Conn d = new Conn();
        start(without, d);
        assertEquals(30, d.ssthresh);
    }

    @Test
    void configurationTakesLinuxParameterNamesAndRefusesBadValues() {
        Cubic cubic = new Cubic();
        Map<String, Object> cfg = new HashMap<>();
        cfg.put("beta", "512");
        cfg.put("hystart", 0);
        cfg.put("bic_scale", "oops");
        cfg.put("hystart_detect", 7);
        cubic.configure(cfg);
        assertEquals(512, cubic.params().beta());
        assertFalse(cubic.params().hystart());
        assertEquals(41, cubic.params().bicScale(), "a bad value keeps the default");
        assertEquals(3, cubic.params().hystartDetect());
        Conn c = new Conn();
        start(cubic, c);
        c.cwnd = 100;
        assertEquals(50, cubic.ssthresh(c));
        assertEquals(Map.of("fast_convergence", 1, "beta", 717, "initial_ssthresh", 0, "bic_scale", 41,
                "tcp_friendliness", 1, "hystart", 1, "hystart_detect", 3, "hystart_low_window", 16,
                "hystart_ack_delta_us", 2000), Cubic.Params.DEFAULTS.asMap());
    }

    @Test
    void countsItsConnections() {
        Cubic cubic = new Cubic();
        Conn c = new Conn();
        start(cubic, c);
        assertEquals(Map.of("sockets", 1), cubic.users());
        cubic.release(c);
        assertEquals(Map.of("sockets", 0), cubic.users());
    }
}

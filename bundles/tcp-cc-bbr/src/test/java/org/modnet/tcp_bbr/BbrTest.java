package org.modnet.tcp_bbr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.tcp.TcpCcInfo;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionState;
import org.modnet.api.tcp.TcpRateSample;

/** BBR's state machine driven by hand-made rate samples, one ACK per round trip of 100 ms, on a clock the test moves. */
class BbrTest {
    private static final int MSS = 1000;
    private static final long RTT_US = 100_000;

    /** The rate sample of the ACK in hand. */
    static final class Sample implements TcpRateSample {
        int priorDelivered;
        int delivered = -1;
        long intervalUs = -1;
        long rttUs = -1;
        int losses;
        int acked;
        int priorInFlight;
        boolean appLimited;

        @Override public long priorMstampUs() { return 1; }
        @Override public int priorDelivered() { return priorDelivered; }
        @Override public int delivered() { return delivered; }
        @Override public long intervalUs() { return intervalUs; }
        @Override public long rttUs() { return rttUs; }
        @Override public int losses() { return losses; }
        @Override public int ackedSacked() { return acked; }
        @Override public int priorInFlight() { return priorInFlight; }
        @Override public boolean isAppLimited() { return appLimited; }
        @Override public boolean isRetrans() { return false; }
        @Override public boolean isAckDelayed() { return false; }
    }

    /** A connection as BBR sees it. */
    static final class Conn implements TcpCongestionState {
        final Sample rs = new Sample();
        int cwnd = 10;
        int ssthresh = Integer.MAX_VALUE;
        int delivered;
        int lost;
        int inFlight;
        int appLimited;
        long nowUs = 10_000_000;
        long srttUs = RTT_US;
        long pacing = -1;
        boolean pacingNeeded;
        int caState = TcpCongestion.CA_OPEN;
        Object priv;

        @Override public int cwnd() { return cwnd; }
        @Override public void cwnd(int segments) { cwnd = Math.max(1, segments); }
        @Override public int ssthresh() { return ssthresh; }
        @Override public void ssthresh(int segments) { ssthresh = segments; }
        @Override public int cwndCnt() { return 0; }
        @Override public void cwndCnt(int count) { }
        @Override public int cwndClamp() { return 0x7fffffff; }
        @Override public int mss() { return MSS; }
        @Override public int packetsInFlight() { return inFlight; }
        @Override public int sndUna() { return 0; }
        @Override public int sndNxt() { return 0; }
        @Override public long srttUs() { return srttUs; }
        @Override public long nowUs() { return nowUs; }
        @Override public TcpRateSample rateSample() { return rs; }
        @Override public int delivered() { return delivered; }
        @Override public int lost() { return lost; }
        @Override public int appLimited() { return appLimited; }
        @Override public void markAppLimited() { appLimited = Math.max(delivered + inFlight, 1); }
        @Override public long deliveredMstampUs() { return nowUs; }
        @Override public long pacingRate() { return pacing; }
        @Override public void pacingRate(long bytesPerSecond) { pacing = bytesPerSecond; }
        @Override public void pacingNeeded() { pacingNeeded = true; }
        @Override public int caState() { return caState; }
        @Override public Object priv() { return priv; }
    }

    /** A BBR whose random PROBE_BW start phase is pinned. */
    private final Bbr bbr = new Bbr(below -> 0);
    private Conn sk;

    @BeforeEach
    void setUp() {
        sk = new Conn();
        sk.priv = bbr.init(sk);
    }

    private Bbr.Ca ca() {
        return (Bbr.Ca) sk.priv;
    }

    /**
     * One round trip: an ACK at its end delivers {@code segs} segments sent at its start, measured over
     * one RTT of {@code rttUs}; {@code inFlight} are out after it.
     */
    private void round(int segs, long rttUs, int inFlight) {
        sk.nowUs += rttUs;
        sk.rs.priorDelivered = sk.delivered;
        sk.delivered += segs;
        sk.rs.delivered = segs;
        sk.rs.intervalUs = rttUs;
        sk.rs.rttUs = rttUs;
        sk.rs.acked = segs;
        sk.rs.priorInFlight = inFlight;
        sk.inFlight = inFlight;
        assertTrue(bbr.congControl(sk, 0, segs, rttUs), "BBR sets the window itself");
    }

    @Test
    void initAsksForPacingAndPacesTheInitialWindowAtHighGain() {
        assertTrue(sk.pacingNeeded);
        assertEquals(Bbr.STARTUP, ca().mode);
        // 10 segments of 1000 bytes per 100 ms = 100 kB/s, times 2.89, less the 1% margin
        assertEquals(100_000L * Bbr.HIGH_GAIN / Bbr.BBR_UNIT * 99 / 100, sk.pacing, 1_000);
    }

    @Test
    void startupContinuesWhileTheBandwidthGrowsByAQuarterEachRound() {
        int segs = 10;
        for (int r = 0; r < 8; r++) {
            round(segs, RTT_US, segs);
            segs = segs * 2;
        }
        assertEquals(Bbr.STARTUP, ca().mode);
        assertEquals(0, ca().fullBwCnt);
        assertTrue(sk.cwnd > 1000, "the window doubles with the deliveries: " + sk.cwnd);
    }

    @Test
    void startupEndsAfterThreeRoundsWithoutAQuarterMoreBandwidthAndDrainsToProbeBw() {
        round(100, RTT_US, 100); // the first estimate: 100 segments per round
        round(110, RTT_US, 100); // +10%: not growth
        round(110, RTT_US, 100);
        assertEquals(Bbr.STARTUP, ca().mode, "two rounds without growth");
        assertEquals(2, ca().fullBwCnt);
        round(110, RTT_US, 300); // the third: the pipe is full; in flight (300) is above one BDP (110)
        assertTrue(ca().fullBwReached);
        assertEquals(Bbr.DRAIN, ca().mode);
        assertEquals(Bbr.DRAIN_GAIN, ca().pacingGain);
        assertNotEquals(Integer.MAX_VALUE, sk.ssthresh, "DRAIN sets ssthresh to one BDP's worth");
        round(110, RTT_US, 100); // the queue drained
        assertEquals(Bbr.PROBE_BW, ca().mode);
        assertEquals(Bbr.BBR_UNIT * 5 / 4, ca().pacingGain, "with the pinned phase the cycle starts probing");
    }

    @Test
    void anApplicationLimitedRoundDoesNotCountAgainstGrowth() {
        round(100, RTT_US, 100);
        sk.rs.appLimited = true;
        round(20, RTT_US, 20);
        round(20, RTT_US, 20);
        round(20, RTT_US, 20);
        assertEquals(Bbr.STARTUP, ca().mode);
        assertEquals(0, ca().fullBwCnt);
    }

    private void intoProbeBw() {
        for (int r = 0; r < 4; r++) {
            round(100, RTT_US, 100);
        }
        round(100, RTT_US, 50);
        assertEquals(Bbr.PROBE_BW, ca().mode);
    }

    @Test
    void probeBwCyclesThePacingGainEachMinRtt() {
        intoProbeBw();
        int seen = 0;
        for (int r = 0; r < 9; r++) {
            round(100, RTT_US + 1000, ca().pacingGain > Bbr.BBR_UNIT ? 300 : 50);
            if (ca().pacingGain == Bbr.BBR_UNIT * 3 / 4) {
                seen++;
            }
        }
        assertTrue(seen >= 1, "the 3/4 drain phase came");
    }

    @Test
    void tenSecondsWithoutANewMinimumRttEnterProbeRttAtFourSegmentsAndLeaveAfter200Ms() {
        intoProbeBw();
        long minRtt = ca().minRttUs;
        int before = sk.cwnd;
        long seenMs = ca().minRttStampMs;
        while (sk.nowUs / 1000 + RTT_US / 1000 <= seenMs + 10_000) {
            round(100, RTT_US + 20_000, 100); // a higher RTT each round: no new minimum
            assertEquals(Bbr.PROBE_BW, ca().mode, "the minimum is younger than 10 s");
        }
        round(100, RTT_US + 20_000, 100);
        assertEquals(Bbr.PROBE_RTT, ca().mode, "10 s without the minimum seen again");
        assertEquals(Bbr.CWND_MIN_TARGET, sk.cwnd);
        assertTrue(sk.appLimited != 0, "its samples are application-limited");
        round(4, RTT_US, 4); // in flight down to four: the 200 ms starts; RTT back at the base
        assertEquals(Bbr.PROBE_RTT, ca().mode);
        round(4, RTT_US, 4); // a round done, 100 ms of the 200
        round(4, RTT_US, 4); // 200 ms: not yet past them
        assertEquals(Bbr.PROBE_RTT, ca().mode);
        round(4, RTT_US, 4);
        assertEquals(Bbr.PROBE_BW, ca().mode, "back to probing bandwidth once the pipe was full");
        // the window saved before PROBE_RTT comes back, then the model's target caps it (2 BDPs of 100 segments and the TSO budget)
        assertTrue(sk.cwnd > 200 && sk.cwnd <= before, "the window restored: " + sk.cwnd + " of " + before);
        assertEquals(minRtt, ca().minRttUs);
    }

    @Test
    void recoveryConservesPacketsThenRestoresTheWindow() {
        intoProbeBw();
        bbr.ssthresh(sk); // entering recovery saves the window
        sk.caState = TcpCongestion.CA_RECOVERY;
        sk.rs.losses = 3;
        round(10, RTT_US, 60);
        assertEquals(70, sk.cwnd, "packet conservation: in flight plus what was delivered");
        sk.rs.losses = 0;
        sk.caState = TcpCongestion.CA_OPEN;
        round(10, RTT_US, 60);
        assertTrue(!ca().packetConservation && sk.cwnd > 70, "the window before, within the model's target: " + sk.cwnd);
    }

    @Test
    void aSteadyLossyRateIsTakenForAPolicer() {
        intoProbeBw();
        for (int r = 0; r < 20 && !ca().ltUseBw; r++) {
            sk.lost += 30; // 30 of 100 lost each round: over 20%
            sk.rs.losses = 30;
            round(100, RTT_US, 100);
        }
        assertTrue(ca().ltUseBw, "long-term bandwidth in use");
        assertEquals(Bbr.BBR_UNIT, ca().pacingGain, "no probing while policed");
    }

    @Test
    void infoShowsTheModelAsSsPrintsIt() {
        intoProbeBw();
        TcpCcInfo i = bbr.info(sk);
        assertEquals("bbr", i.name());
        assertEquals(1_000_000, i.bwBytesPerSec(), 10_000, "100 segments of 1000 bytes per 100 ms");
        assertEquals(RTT_US, i.minRttUs());
        assertEquals(Bbr.CWND_GAIN, i.cwndGain());
    }

    /** {@code bbr_min_tso_segs}: one segment per burst below 1.2 Mbit/s of pacing, else two. */
    @Test
    void minTsoSegsIsOneBelowTheMinTsoRate() {
        Bbr bbr = new Bbr();
        Conn c = new Conn();
        c.pacingRate(149_999);
        assertEquals(1, bbr.minTsoSegs(c));
        c.pacingRate(150_000);
        assertEquals(2, bbr.minTsoSegs(c));
        c.pacingRate(-1);
        assertEquals(2, bbr.minTsoSegs(c), "~0: no rate yet");
    }
}

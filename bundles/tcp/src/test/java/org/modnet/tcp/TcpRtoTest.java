package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The RTO's two known bugs, fixed as Linux has them: a passive open times its SYN-ACK
 * ({@code tcp_synack_rtt_meas}), and zero-window probes back off {@code icsk_backoff}, not the RTO.
 */
class TcpRtoTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    private long now() {
        return p.s.clock.get() / 1_000_000L;
    }

    /** The first retransmission of 100 bytes sent now and never acknowledged: how long after the send. */
    private long firstRetransmissionAfter(int fd) {
        assertEquals(100, p.sys.send(fd, ByteBuffer.allocate(100), 0));
        TcpPeer.Seg first = p.out();
        assertEquals(100, first.len());
        for (int i = 0; i < 400; i++) {
            p.s.advance(10);
            for (TcpPeer.Seg x : p.drain()) {
                if (x.len() == 100 && x.seq() == first.seq()) {
                    return x.ms() - first.ms();
                }
            }
        }
        throw new AssertionError("no retransmission within 4 s");
    }

    @Test
    void aPassiveOpenTakesAnRttSampleFromTheHandshakesAck() {
        int l = p.listen(PORT);
        p.in(PORT, TcpHeader.SYN, PEER_ISS, 0, 65535, Segments.mss(1000), 0); // no timestamps: the SYN-ACK is timed
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, p.out().flags());
        p.s.advance(50);
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 0);
        int fd = p.sys.accept(l, null, 0);
        assertTrue(fd >= 3);
        // srtt 50 ms, rttvar 25 ms: RTO = 50 + max(4 * 25, tcp_rto_min 200) = 250 ms, not the initial 1 s
        long rto = firstRetransmissionAfter(fd);
        assertTrue(rto >= 250 && rto <= 270, "RTO from the handshake's sample: " + rto);
    }

    /**
     * A sample of whole milliseconds is that many thousand microseconds, as tcp_rtt_tsopt_us converts
     * (1 us only for a delta of 0): min_rtt must not exceed a rate sample's interval of the same length,
     * or tcp_rate_gen drops the sample as a compressed ACK train (BBR then never ends a round).
     */
    @Test
    void aFiftyMillisecondSampleIsFiftyThousandMicroseconds() {
        int l = p.listen(PORT);
        p.in(PORT, TcpHeader.SYN, PEER_ISS, 0, 65535, Segments.mss(1000), 0);
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, p.out().flags());
        p.s.advance(50);
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 0);
        assertTrue(p.sys.accept(l, null, 0) >= 3);
        TcpSock sk = p.s.tcp.net(p.s.ns).hashed().stream().filter(k -> k.state() == TcpSock.TCP_ESTABLISHED)
                .findFirst().orElseThrow();
        assertEquals(50_000, sk.tcpInfo().minRtt(), "min_rtt");
        assertEquals(50_000, sk.tcpInfo().rtt(), "srtt");
    }

    @Test
    void aRetransmittedSynAckGivesNoSample() {
        int l = p.listen(PORT);
        p.in(PORT, TcpHeader.SYN, PEER_ISS, 0, 65535, Segments.mss(1000), 0);
        p.out();
        p.s.advance(1_050); // the SYN-ACK goes again: Karn, the ACK cannot say which it answers
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, p.out().flags());
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 0);
        int fd = p.sys.accept(l, null, 0);
        long rto = firstRetransmissionAfter(fd);
        assertTrue(rto >= 2_000, "no sample: the backed-off RTO stays: " + rto);
    }

    @Test
    void zeroWindowProbesBackOffWithoutDoublingTheRtoForLater() {
        int l = p.listen(PORT);
        int fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 0, new byte[0], 0); // the window closes
        assertEquals(100, p.sys.send(fd, ByteBuffer.allocate(100), 0));
        p.none();
        long start = now();
        long last = -1;
        long[] gaps = new long[4];
        int probes = 0;
        while (probes < 5) {
            p.s.advance(10);
            for (TcpPeer.Seg x : p.drain()) {
                if (x.len() == 0 && x.seq() == p.iss) {
                    if (last >= 0) {
                        gaps[probes - 1] = x.ms() - last;
                    }
                    last = x.ms();
                    probes++;
                    p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 0, new byte[0], 0); // answered, still closed
                }
            }
            assertTrue(now() - start < 60_000, "probes go on");
        }
        for (int i = 1; i < gaps.length; i++) {
            assertTrue(gaps[i] * 10 >= 18 * gaps[i - 1] && gaps[i] * 10 <= 22 * gaps[i - 1], // the wheel adds slack
                    "each probe waits twice as long: " + java.util.Arrays.toString(gaps));
        }
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 0); // the window opens: the 100 bytes go
        TcpPeer.Seg data = p.out();
        assertEquals(100, data.len());
        p.in(PORT, TcpHeader.ACK, P, p.iss + 101, 65535, new byte[0], 0);
        long rto = firstRetransmissionAfter(fd);
        assertTrue(rto <= 1_020, "the RTO was not doubled by the probes: " + rto);
    }

    /** An established socket with no RTT sample yet, for the estimator's own tests. */
    private TcpSock freshEstimator() {
        int l = p.listen(PORT);
        p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
        TcpSock sk = p.s.tcp.net(p.s.ns).hashed().stream().filter(k -> k.state() == TcpSock.TCP_ESTABLISHED)
                .findFirst().orElseThrow();
        sk.srttUs = sk.srtt8Us = sk.mdevUs = sk.mdevMaxUs = sk.rttvarUs = 0;
        return sk;
    }

    /** One sample with snd_una and snd_nxt (the highest sent) as the ACK leaves them; {srtt, mdev_us, rttvar_us, RTO ms}. */
    private static long[] sample(TcpSock sk, long us, int una, int nxt) {
        sk.sndUna = una;
        sk.sndMax = nxt;
        sk.timers.rttSampleUs(us, us);
        return new long[] {sk.srttUs, sk.mdevUs, sk.rttvarUs, sk.rtoMs};
    }

    /**
     * tcp_rtt_estimator and tcp_set_rto, sample by sample (the figures are Linux's arithmetic on the same
     * samples, HZ 250, the RTO in whole 4 ms jiffies): a 300 ms spike among 100 ms samples raises rttvar to
     * mdev's 312.5 ms and the RTO to 440 ms (437.5 rounded up); the falling samples after it lower mdev by a 32nd of their error, not a quarter, and
     * rttvar stays until snd_una passes the RTT's mark (rtt_seq), then falls a quarter of the way to the
     * RTT's largest mdev (tcp_rto_min) once an RTT. RFC 6298's estimator would give 100 + 4 x 68.75 =
     * 375 ms at the spike and be back under 300 ms within three samples.
     */
    @Test
    void theRtoFollowsLinuxsEstimatorThroughAnRttSpike() {
        TcpSock sk = freshEstimator();
        long[][] expected = {
            {100_000, 200_000, 200_000, 300}, // first: mdev 2 x sample, rttvar at least tcp_rto_min
            {100_000, 150_000, 200_000, 300},
            {125_000, 312_500, 312_500, 440}, // the spike
            {121_875, 259_375, 312_500, 436}, // falling: mdev -= a 32nd of its distance, rttvar held
            {119_140, 216_407, 312_500, 432}, // snd_una passed rtt_seq: this RTT's largest mdev was the spike's
            {116_748, 181_446, 312_500, 432},
            {114_654, 152_833, 284_375, 400}, // the next RTT: rttvar falls a quarter of the way to 200 ms
            {112_822, 129_279, 263_282, 380},
            {111_220, 109_782, 247_462, 360},
        };
        long[] us = {100_000, 100_000, 300_000, 100_000, 100_000, 100_000, 100_000, 100_000, 100_000};
        int[] una = {1001, 2001, 3001, 4001, 11002, 12001, 21002, 31002, 41002};
        int[] nxt = {11001, 12001, 13001, 14001, 21001, 22001, 31001, 41001, 51001};
        for (int k = 0; k < us.length; k++) {
            assertEquals(java.util.Arrays.toString(expected[k]), java.util.Arrays.toString(sample(sk, us[k], una[k], nxt[k])),
                    "sample " + k + " of " + us[k] + " us");
        }
    }

    /** A steady RTT gives srtt + tcp_rto_min, whatever the RTT: rttvar never falls below 200 ms. */
    @Test
    void aSteadyRttGivesSrttPlusTheMinimumRto() {
        TcpSock sk = freshEstimator();
        long[] last = null;
        for (int k = 0; k < 50; k++) {
            last = sample(sk, 40_000, 1000 * (k + 1) + 1, 1000 * (k + 2));
        }
        assertEquals(40_000, last[0], "srtt");
        assertEquals(200_000, last[2], "rttvar_us at tcp_rto_min");
        assertEquals(240, last[3], "RTO");
        assertEquals(last[1] >> 2, sk.tcpInfo().rttvar(), "tcpi_rttvar is mdev_us >> 2, as tcp_get_info");
    }

    /**
     * The RTO rounds up to the jiffy, as usecs_to_jiffies does: a first sample of 100.5 ms gives srtt
     * 100.5 and rttvar 201 ms (twice the sample), 301.5 ms: 304 at HZ=250 (76 jiffies), not 301 nor 302.
     */
    @Test
    void theRtoRoundsUpToTheJiffy() {
        TcpSock sk = freshEstimator();
        assertEquals(304, sample(sk, 100_500, 1001, 11001)[3]);
    }
}

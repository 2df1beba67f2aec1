package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The receiver's delayed ACK as Linux times it ({@code icsk_ack.ato}): {@code tcp_event_data_recv} learns
 * ato from the gaps between segments, {@code tcp_delack_timer_handler} doubles it when the timer fires,
 * {@code tcp_send_delayed_ack} holds it to the smoothed RTT, and a gap longer than the RTO re-enters
 * quick-ACK mode. modnet's timer was a fixed 40 ms before.
 */
class TcpDelayedAckTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;
    private TcpSock sk;
    private int next = P;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        int l = p.listen(PORT);
        p.in(PORT, TcpHeader.SYN, PEER_ISS, 0, 65535, Segments.mss(1000), 0); // no timestamps: the SYN-ACK is timed
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, p.out().flags());
        p.s.advance(100); // srtt 100 ms, RTO 300 ms
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 0);
        assertTrue(p.sys.accept(l, null, 0) >= 3);
        sk = p.s.tcp.net(p.s.ns).hashed().stream().filter(k -> k.state() == TcpSock.TCP_ESTABLISHED).findFirst().orElseThrow();
        assertEquals(300, sk.rtoMs);
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    /** One 100-byte segment in order; how many ms until its ACK left (0: at once). */
    private long ackDelayOfOneSegment() {
        p.in(PORT, TcpHeader.ACK, next, p.iss + 1, 65535, new byte[0], 100);
        next += 100;
        long sent = p.s.clock.get() / 1_000_000L;
        for (int i = 0; i < 1000; i++) {
            for (TcpPeer.Seg x : p.drain()) {
                if (x.ack() == next) {
                    return x.ms() - sent;
                }
            }
            p.s.advance(1);
        }
        throw new AssertionError("no ACK within a second");
    }

    /** A timer past 64 ms fires up to 8 ms late, as the timer wheel's second level (Linux's too) rounds it. */
    private static void assertWheel(long expected, long actual, String what) {
        assertTrue(actual >= expected && actual <= expected + 8, what + ": " + actual + " ms, expected " + expected);
    }

    @Test
    void aMissedDelayedAckDoublesAtoWhichTheSmoothedRttAndDelackMaxBound() {
        assertEquals(0, ackDelayOfOneSegment(), "the first data: quick-ACK mode");
        assertEquals(40, sk.atoMs, "TCP_ATO_MIN");
        sk.quickAcks = 0; // quick-ACK mode spent
        p.s.advance(100);
        // ato 40 ms is 10 jiffies at HZ=250; the wheel takes a timer in the tick after its expiry, as Linux's
        // calc_index does: the ACK leaves 44 ms after a segment that came at the start of a tick
        assertEquals(44, ackDelayOfOneSegment(), "ato 40 ms; the timer fires and doubles it");
        assertEquals(80, sk.atoMs);
        p.s.advance(100 - 40 - 1); // about 100 ms between the segments: no shorter than ato, ato stays
        assertWheel(80, ackDelayOfOneSegment(), "the doubled ato");
        assertEquals(160, sk.atoMs);
        p.s.advance(10); // about 100 ms again, now within ato: ato / 2 + the gap
        assertWheel(100, ackDelayOfOneSegment(), "ato of 160 ms and more held to the smoothed RTT, 100 ms");
        assertEquals(200, sk.atoMs, "doubled again, at most the RTO (300 ms here) and TCP_DELACK_MAX (200 ms)");
    }

    @Test
    void segmentsCloseTogetherBringAtoBackTowardsFortyMilliseconds() {
        ackDelayOfOneSegment();
        sk.quickAcks = 0;
        sk.atoMs = 200;
        p.in(PORT, TcpHeader.ACK, next, p.iss + 1, 65535, new byte[0], 100); // at once after the last: ato / 2 + 20
        next += 100;
        assertEquals(120, sk.atoMs);
    }

    @Test
    void aSegmentAfterMoreThanTheRtoIsAcknowledgedAtOnce() {
        ackDelayOfOneSegment();
        sk.quickAcks = 0;
        p.s.advance(100);
        assertEquals(44, ackDelayOfOneSegment(), "ato 40 ms: 10 jiffies and the tick after");
        p.s.advance(1_000); // the sender stalled longer than the RTO: quick-ACK mode again
        assertEquals(0, ackDelayOfOneSegment());
        assertTrue(sk.quickAcks > 0, "quick ACKs left: " + sk.quickAcks);
    }

    @Test
    void aDuplicateSegmentEntersQuickAckModeWithAtoAtItsMinimum() {
        ackDelayOfOneSegment();
        sk.quickAcks = 0;
        sk.atoMs = 200;
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 100); // the first segment again
        p.drain();
        assertEquals(40, sk.atoMs, "tcp_enter_quickack_mode");
        assertTrue(sk.quickAcks > 1, "quick ACKs for the segments after it: " + sk.quickAcks);
    }
}

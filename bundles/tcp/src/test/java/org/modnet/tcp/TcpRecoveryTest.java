package org.modnet.tcp;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.tcp.TcpPeer.LOCAL;
import static org.modnet.tcp.TcpPeer.PEER;
import static org.modnet.tcp.TcpPeer.PEER_ISS;
import static org.modnet.tcp.TcpPeer.PEER_PORT;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.socket.api.TcpInfo;

/**
 * The sender's SACK scoreboard and loss recovery against a scripted peer: what the marks and counts
 * become, which state the connection is in, what goes again and what the bad blocks a peer may send
 * are counted as. packetdrill scripts pin the timing (src/test/resources/scripts in the packetdrill
 * bundle); these pin the counters.
 */
class TcpRecoveryTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;
    private static final int MSS = 1460;

    private TcpPeer p;
    private int fd;
    /** The stack's first data byte. */
    private int q;

    @AfterEach
    void tearDown() {
        p.close();
    }

    /** A connection the peer opened with SACK-permitted (or without), and {@code segs} full segments sent to it. */
    private void open(boolean sack, int segs) throws Exception {
        p = new TcpPeer();
        int l = p.listen(PORT);
        byte[] syn = sack ? Segments.opts(Segments.mss(MSS), Segments.nop(), Segments.nop(), Segments.sackPerm(), Segments.nop(), Segments.ws(7))
                : Segments.opts(Segments.mss(MSS), Segments.nop(), Segments.ws(7));
        fd = p.accept(l, PORT, syn, new byte[0], null);
        q = p.iss + 1;
        assertEquals(segs * MSS, p.sys.send(fd, ByteBuffer.allocate(segs * MSS), 0));
        p.drain();
    }

    /** A SACK connection whose handshake took {@code ms} (its ACK that much after the SYN-ACK): srtt and min_rtt that. */
    private void openTimed(long ms) throws Exception {
        p = new TcpPeer();
        int l = p.listen(PORT);
        byte[] syn = Segments.opts(Segments.mss(MSS), Segments.nop(), Segments.nop(), Segments.sackPerm(), Segments.nop(), Segments.ws(7));
        p.in(PORT, TcpHeader.SYN, PEER_ISS, 0, 65535, syn, 0);
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, p.out().flags());
        p.s.clock.addAndGet(ms * 1_000_000L);
        q = p.iss + 1;
        ack(0);
        fd = p.sys.accept(l, null, org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK);
        assertTrue(fd >= 3);
        assertEquals(ms * 1000, info().rtt());
    }

    private TcpSock conn() {
        return p.s.tcp.net(p.s.ns).lookupEstablished(PEER, PEER_PORT, LOCAL, PORT);
    }

    private TcpInfo info() {
        return conn().tcpInfo();
    }

    /** An ACK of {@code ack} (relative to the stack's first byte) with SACK blocks (relative edges). */
    private void ack(int ack, int... sack) {
        int[] abs = new int[sack.length];
        for (int i = 0; i < sack.length; i++) {
            abs[i] = q + sack[i];
        }
        byte[] opts = sack.length == 0 ? new byte[0] : Segments.opts(Segments.nop(), Segments.nop(), Segments.sack(abs));
        p.in(PORT, TcpHeader.ACK, P, q + ack, 1000, opts, 0);
    }

    /**
     * {@code tcp_timeout_mark_lost}: the peer SACKed everything out, the head too, and then acknowledges
     * nothing more (a receiver that pruned its queue drops what it SACKed). The RTO finds the head SACKed:
     * reneging, so every SACK mark goes and the head is sent again. Kept, the RTO's resend skipped all of
     * it and the connection stalled with its timer backing off (TcpBulkIT, 200 connections).
     */
    @Test
    void anRtoThatFindsTheHeadSackedButUnacknowledgedTakesItAsRenegingAndResendsTheHead() throws Exception {
        open(true, 5);
        ack(0, MSS, 5 * MSS); // segments 2 to 5 SACKed
        ack(MSS, MSS, 5 * MSS); // the first acknowledged: the head is now a SACKed segment
        TcpSock sk = conn();
        // an undo in between cleared the reneging flag (tcp_try_undo_loss) while the marks stayed
        sk.rec.isSackReneg = false;
        p.drain();
        p.s.advance(3_000); // past the RTO
        List<Integer> seqs = p.drain().stream().map(o -> o.seq()).toList();
        assertTrue(seqs.contains(q + MSS), "the head went again: " + seqs);
        assertTrue(p.count(TcpMib.Ext.TCPSACKReneging) >= 1);
    }

    /**
     * Fifteen segments queued, ten sent (the initial window), no tail loss probe, then the RTO: its
     * resend of the head drained. {@code frto} is {@code net.ipv4.tcp_frto}.
     */
    private void rtoWithMoreToSend(int frto) throws Exception {
        p = new TcpPeer();
        p.s.ns.sysctl().set("net.ipv4.tcp_early_retrans", "0"); // no loss probe: the RTO is what fires
        p.s.ns.sysctl().set("net.ipv4.tcp_frto", Integer.toString(frto));
        int l = p.listen(PORT);
        byte[] syn = Segments.opts(Segments.mss(MSS), Segments.nop(), Segments.nop(), Segments.sackPerm(), Segments.nop(), Segments.ws(7));
        fd = p.accept(l, PORT, syn, new byte[0], null);
        q = p.iss + 1;
        assertEquals(15 * MSS, p.sys.send(fd, ByteBuffer.allocate(15 * MSS), 0));
        assertEquals(10, p.drain().size(), "the initial window");
        for (int ms = 0; ms < 5_000 && p.count(TcpMib.Ext.TCPTimeouts) == 0; ms += 10) {
            p.s.advance(10);
        }
        assertEquals(1, p.count(TcpMib.Ext.TCPTimeouts));
        List<TcpPeer.Seg> resent = p.drain();
        assertEquals(q, resent.get(0).seq(), "the RTO resends the head");
        assertEquals(TcpInfo.TCP_CA_LOSS, info().caState());
    }

    /** RFC 5682 3.1: after the head's ACK new data goes (2.b); an ACK of data never resent shows the RTO spurious (3.b). */
    @Test
    void frtoSendsNewDataAfterTheRtoAndUndoesASpuriousTimeout() throws Exception {
        rtoWithMoreToSend(2);
        ack(MSS); // the head's original was only late
        List<TcpPeer.Seg> next = p.drain();
        assertTrue(!next.isEmpty() && next.stream().allMatch(o -> o.seq() - q >= 10 * MSS),
                "new data, not 1:2 again: " + next.stream().map(o -> (o.seq() - q) / MSS).toList());
        assertEquals(TcpInfo.TCP_CA_LOSS, info().caState());
        ack(2 * MSS); // the second segment, never retransmitted: its original arrived
        assertEquals(TcpInfo.TCP_CA_OPEN, info().caState(), "undone at once");
        assertEquals(1, p.count(TcpMib.Ext.TCPSpuriousRTOs));
        assertEquals(1, p.count(TcpMib.Ext.TCPLossUndo));
        assertTrue(p.drain().stream().allMatch(o -> o.seq() - q >= 10 * MSS), "nothing below the RTO's snd_nxt goes again");
        assertEquals(0, info().lost(), "no segment stays marked lost");
    }

    /** RFC 5682 3.1 step 3.a: the ACK after the new data SACKs it but not the second segment: the loss was real. */
    @Test
    void frtoTakesASackOfTheNewDataAsARealLossAndResendsWhatWasLost() throws Exception {
        rtoWithMoreToSend(2);
        ack(MSS);
        List<TcpPeer.Seg> fresh = p.drain();
        assertTrue(!fresh.isEmpty() && fresh.get(0).seq() == q + 10 * MSS, "new data first");
        ack(MSS, 10 * MSS, 11 * MSS); // the new segment arrived, the second still has not
        List<TcpPeer.Seg> again = p.drain();
        assertTrue(!again.isEmpty() && again.get(0).seq() == q + MSS, "the resend goes on from the second: "
                + again.stream().map(o -> (o.seq() - q) / MSS).toList());
        assertEquals(TcpInfo.TCP_CA_LOSS, info().caState());
        assertEquals(0, p.count(TcpMib.Ext.TCPSpuriousRTOs));
    }

    /**
     * RFC 5682 3.1 step 3.a as Linux does it: once the loss shows real only what the timeout marked lost
     * goes again; the new data F-RTO sent was never marked lost and is not sent a second time.
     */
    @Test
    void frtoNeverResendsItsNewDataWhenTheLossShowsReal() throws Exception {
        rtoWithMoreToSend(2);
        ack(MSS);
        List<Integer> fresh = p.drain().stream().map(o -> (o.seq() - q) / MSS).toList();
        assertEquals(List.of(10, 11), fresh, "F-RTO's new data: two segments, the window after the head's ACK");
        ack(MSS, 10 * MSS, 11 * MSS); // the first new segment SACKed: the loss was real
        java.util.Set<Integer> resent = new java.util.TreeSet<>();
        for (int round = 0; round < 12; round++) {
            List<Integer> sent = p.drain().stream().map(o -> (o.seq() - q) / MSS).toList();
            assertTrue(sent.stream().noneMatch(n -> n == 10 || n == 11), "new data sent again: " + sent);
            if (sent.isEmpty()) {
                break;
            }
            resent.addAll(sent);
            int highest = sent.stream().filter(n -> n < 10).max(Integer::compare).orElse(9);
            ack((highest + 1) * MSS, 10 * MSS, 11 * MSS); // each resend arrives
        }
        assertTrue(resent.containsAll(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9)), "what the timeout marked lost went again: " + resent);
        assertEquals(0, p.count(TcpMib.Ext.TCPSpuriousRTOs));
    }

    /**
     * {@code tcp_xmit_retransmit_queue} honours the pacing timer ({@code tcp_pacing_check}): a paced
     * connection (an algorithm that asks for pacing, as BBR) does not burst its lost segments out at
     * once with a wide-open window; they leave one departure time apart, the pacing timer sending the rest.
     */
    @Test
    void lostSegmentsOfAPacedConnectionGoAgainAtThePacingRateNotInABurst() throws Exception {
        p = new TcpPeer();
        p.s.tcp.addCongestion(new TcpBbrTest.FixedRate(), java.util.Map.of(org.modnet.api.tcp.TcpCongestionOps.NAME, "fixed"));
        p.s.ns.sysctl().set("net.ipv4.tcp_congestion_control", "fixed");
        p.s.ns.sysctl().set("net.ipv4.tcp_recovery", "0"); // the duplicate threshold marks at once, no RACK timer
        int l = p.listen(PORT);
        byte[] syn = Segments.opts(Segments.mss(MSS), Segments.nop(), Segments.nop(), Segments.sackPerm(), Segments.nop(), Segments.ws(7));
        fd = p.accept(l, PORT, syn, new byte[0], null);
        q = p.iss + 1;
        assertEquals(20 * MSS, p.sys.send(fd, ByteBuffer.allocate(20 * MSS), 0));
        List<TcpPeer.Seg> first = new java.util.ArrayList<>(p.drain()); // the initial window at once
        for (int ms = 0; ms < 50 && first.size() < 11; ms++) {
            p.s.advance(1, 1);
            first.addAll(p.drain()); // the loss probe: one new segment, paced, as data past the first ten is
        }
        assertEquals(11, first.size(), "" + first);
        ack(0, 4 * MSS, 11 * MSS); // 5 to 11 SACKed: the first four are lost
        assertEquals(4, info().lost());
        List<TcpPeer.Seg> now = p.drain();
        assertEquals(1, now.size(), "one retransmission now, the next at its departure time: " + now);
        List<TcpPeer.Seg> later = new java.util.ArrayList<>();
        for (int ms = 0; ms < 50 && later.size() < 3; ms++) {
            p.s.advance(1, 1);
            later.addAll(p.drain());
        }
        assertEquals(List.of(q + MSS, q + 2 * MSS, q + 3 * MSS), later.stream().map(TcpPeer.Seg::seq).toList(),
                "the pacing timer sent the rest in order");
        assertTrue(later.get(2).ms() - now.get(0).ms() >= 4, "spaced, not a burst: " + now + later);
    }

    /**
     * {@code tcp_rack_reo_timeout}: when the reordering timer marks segments lost, recovery begins, and PRR
     * ({@code tcp_cwnd_reduction}) cuts the window only for an algorithm without its own {@code
     * cong_control}; one with it (BBR) keeps the window it set, as Linux skips the reduction for it.
     */
    @Test
    void aRackReorderingTimeoutLeavesTheWindowOfAnAlgorithmWithItsOwnCongControl() throws Exception {
        p = new TcpPeer();
        p.s.tcp.addCongestion(new TcpBbrTest.FixedRate(), java.util.Map.of(org.modnet.api.tcp.TcpCongestionOps.NAME, "fixed"));
        p.s.ns.sysctl().set("net.ipv4.tcp_congestion_control", "fixed");
        int l = p.listen(PORT);
        byte[] syn = Segments.opts(Segments.mss(MSS), Segments.nop(), Segments.nop(), Segments.sackPerm(), Segments.nop(), Segments.ws(7));
        p.in(PORT, TcpHeader.SYN, TcpPeer.PEER_ISS, 0, 65535, syn, 0);
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, p.out().flags());
        p.s.clock.addAndGet(100_000_000L);
        q = p.iss + 1;
        ack(0); // the handshake's ACK: min_rtt and srtt 100 ms
        fd = p.sys.accept(l, null, org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK);
        assertTrue(fd >= 3);
        assertEquals(4 * MSS, p.sys.send(fd, ByteBuffer.allocate(4 * MSS), 0));
        List<TcpPeer.Seg> sent = new java.util.ArrayList<>(p.drain());
        for (int ms = 0; ms < 50 && sent.size() < 4; ms++) {
            p.s.advance(1, 1);
            sent.addAll(p.drain()); // paced
        }
        assertEquals(4, sent.size(), "" + sent);
        p.s.advance(100 - (sent.get(3).ms() - sent.get(0).ms()), 1);
        ack(0, 3 * MSS, 4 * MSS); // the last SACKed: RACK waits a reordering window before marking the others
        assertEquals(0, info().lost());
        int cwnd = info().sndCwnd();
        p.s.advance(40, 1);
        TcpInfo i = info();
        assertEquals(TcpInfo.TCP_CA_RECOVERY, i.caState());
        assertEquals(3, i.lost(), "the reordering timer marked the three sent before the SACKed one");
        assertEquals(cwnd, i.sndCwnd(), "the algorithm's window, not PRR's (which would be the one retransmission)");
    }

    /**
     * {@code tcp_clean_rtx_queue}'s {@code seq_rtt_us}: an ACK times the segment it acknowledges from that
     * segment's send stamp, in microseconds ({@code tcp_stamp_us_delta}), not in whole milliseconds.
     */
    @Test
    void anAckTimesTheSegmentItAcknowledgesInMicroseconds() throws Exception {
        openTimed(10);
        assertEquals(MSS, p.sys.send(fd, ByteBuffer.allocate(MSS), 0));
        p.out();
        p.s.clock.addAndGet(1_500_000L); // 1.5 ms
        ack(MSS);
        assertEquals(1500, info().minRtt(), "the sample in us");
        assertEquals((7 * 10_000 + 1500) / 8, info().rtt());
    }

    /**
     * {@code tcp_ack_update_rtt}: an ACK that acknowledges nothing new but SACKs a segment sent once times
     * that segment ({@code sack_rtt_us}); the newest SACKed gives the minimum RTT ({@code ca_rtt_us}).
     */
    @Test
    void aSackAloneGivesAnRttSample() throws Exception {
        openTimed(10);
        assertEquals(3 * MSS, p.sys.send(fd, ByteBuffer.allocate(3 * MSS), 0));
        assertEquals(3, p.drain().size());
        p.s.clock.addAndGet(30_000_000L);
        ack(0, 2 * MSS, 3 * MSS); // the last SACKed 30 ms after it went
        assertEquals(10_000 + (30_000 - 10_000) / 8, info().rtt(), "srtt moved an eighth towards 30 ms");
        assertEquals(10_000, info().minRtt());
    }

    /**
     * Karn's rule as {@code tcp_clean_rtx_queue} keeps it: an ACK that covers a retransmitted segment gives
     * no sample from the send stamps, though it also covers segments sent once.
     */
    @Test
    void anAckOfARetransmissionGivesNoRttSample() throws Exception {
        openTimed(10);
        assertEquals(2 * MSS, p.sys.send(fd, ByteBuffer.allocate(2 * MSS), 0));
        assertEquals(2, p.drain().size());
        p.s.advance(1000, 5); // the loss probe and the RTO resend the segments
        assertTrue(p.count(TcpMib.Ext.TCPLossProbes) > 0);
        int srtt = info().rtt();
        ack(2 * MSS);
        assertEquals(srtt, info().rtt(), "no sample from an ACK of a retransmission");
    }

    @Test
    void withTcpFrtoOffTheRtoResendGoesOnAfterTheHeadsAck() throws Exception {
        rtoWithMoreToSend(0);
        ack(MSS);
        List<TcpPeer.Seg> next = p.drain();
        assertTrue(!next.isEmpty() && next.get(0).seq() == q + MSS, "the second segment again, no new data: "
                + next.stream().map(o -> (o.seq() - q) / MSS).toList());
        ack(2 * MSS);
        assertEquals(0, p.count(TcpMib.Ext.TCPSpuriousRTOs));
    }

    @Test
    void withRackAndNoRoundTripTheFirstSackMarksWhatWasSentBeforeItLost() throws Exception {
        open(true, 6);
        ack(0, 2 * MSS, 3 * MSS); // the third segment, delivered at once (min_RTT 0: no reordering window)
        TcpInfo i = info();
        assertEquals(TcpInfo.TCP_CA_RECOVERY, i.caState());
        assertEquals(2, i.lost(), "the two sent with it and before it; not the three after");
        assertEquals(1, i.sacked());
        assertEquals(q, p.out().seq(), "the first lost goes again");
        assertTrue(p.count(TcpMib.Ext.TCPFastRetrans) >= 1);
    }

    /**
     * RACK orders segments by their send stamps, and by sequence only when the stamps tie
     * ({@code tcp_skb_sent_after}). New data goes out (the application's write) and, in the same instant of
     * a clock that stands still while the stack runs (the benchmarks' virtual time), a SACK marks the
     * second segment lost and it goes again: the retransmission left after the new data. One RTT later
     * the new data is SACKed and the retransmission's ACK is still on its way. With one stamp for both
     * the tie went to the higher sequence, the retransmission was taken for the older one, marked lost
     * at once and sent a third time (a D-SACK later); its own stamp is later, so it is not marked until
     * something sent after it is delivered.
     */
    @Test
    void aRetransmissionSentAfterNewDataInTheSameInstantIsNotMarkedLostWhenThatDataIsSacked() throws Exception {
        open(true, 6);
        p.s.clock.addAndGet(100_000_000L);
        ack(MSS); // min_rtt and srtt 100 ms
        assertEquals(MSS, p.sys.send(fd, ByteBuffer.allocate(MSS), 0)); // the seventh segment, now
        assertEquals(q + 6 * MSS, p.out().seq());
        ack(MSS, 2 * MSS, 6 * MSS); // four SACKed: the second is lost (no reordering window in recovery)
        TcpPeer.Seg again = p.out();
        assertEquals(q + MSS, again.seq(), "the second segment again, after the seventh, at the same clock reading");
        assertEquals(1, info().retrans());
        p.s.clock.addAndGet(100_000_000L);
        ack(MSS, 2 * MSS, 7 * MSS); // the seventh SACKed, one RTT after it went; the retransmission is not yet acked
        assertEquals(0, p.count(TcpMib.Ext.TCPLostRetransmit), "sent after the seventh: not lost by its delivery");
        assertEquals(1, info().retrans(), "the retransmission still in flight");
        assertTrue(p.drain().stream().noneMatch(o -> o.seq() == q + MSS && o.len() > 0), "not sent a third time");
        assertEquals(MSS, p.sys.send(fd, ByteBuffer.allocate(MSS), 0)); // the eighth, after the retransmission
        assertEquals(q + 7 * MSS, p.out().seq());
        p.s.clock.addAndGet(100_000_000L);
        ack(MSS, 2 * MSS, 8 * MSS); // the eighth SACKed and still no ACK of the retransmission: that one is lost
        assertEquals(1, p.count(TcpMib.Ext.TCPLostRetransmit), "sent before the eighth, and its RTT is past");
        assertEquals(q + MSS, p.out().seq(), "and goes again");
    }

    @Test
    void sackedSegmentsLeaveTheFlightAndTheThirdMarksTheHeadLostAndResendsIt() throws Exception {
        open(true, 6);
        p.s.ns.sysctl().set("net.ipv4.tcp_recovery", "0"); // RFC 6675's duplicate threshold, without RACK
        ack(0, MSS, 2 * MSS);
        TcpInfo i = info();
        assertEquals(6, i.unacked());
        assertEquals(1, i.sacked());
        assertEquals(TcpInfo.TCP_CA_DISORDER, i.caState(), "something SACKed: Disorder");
        assertEquals(0, i.lost(), "one SACK is below the threshold");
        assertEquals(5, conn().rec.inFlight());
        ack(0, MSS, 4 * MSS);
        TcpPeer.Seg again = p.out();
        assertEquals(q, again.seq(), "the head goes again");
        assertEquals(MSS, again.len());
        i = info();
        assertEquals(TcpInfo.TCP_CA_RECOVERY, i.caState());
        assertEquals(3, i.sacked());
        assertEquals(1, i.lost());
        assertEquals(1, i.retrans());
        assertEquals(6 - (3 + 1) + 1, conn().rec.inFlight(), "packets_out - (sacked_out + lost_out) + retrans_out");
        assertEquals(1, p.count(TcpMib.Ext.TCPSackRecovery));
        assertEquals(1, p.count(TcpMib.Ext.TCPFastRetrans));
        ack(6 * MSS);
        i = info();
        assertEquals(TcpInfo.TCP_CA_OPEN, i.caState(), "past high_seq: recovery is over");
        assertEquals(0, i.unacked() + i.sacked() + i.lost() + i.retrans());
    }

    @Test
    void withoutSackTheThirdDuplicateAckIsRenoRecovery() throws Exception {
        open(false, 4);
        ack(0);
        ack(0);
        p.none();
        assertEquals(2, info().sacked(), "each duplicate ACK stands for a segment received");
        ack(0);
        assertEquals(q, p.out().seq());
        assertEquals(1, p.count(TcpMib.Ext.TCPRenoRecovery));
        assertEquals(0, p.count(TcpMib.Ext.TCPSackRecovery));
        assertEquals(TcpInfo.TCP_CA_RECOVERY, info().caState());
        assertEquals(5, info().sndSsthresh(), "Reno halves the initial window of 10");
    }

    @Test
    void badSackBlocksAreDiscardedAndCountedAndChangeNothing() throws Exception {
        open(true, 4);
        ack(0, 10 * MSS, 11 * MSS, 2 * MSS, MSS); // beyond what was sent; backwards
        assertEquals(2, p.count(TcpMib.Ext.TCPSACKDiscard));
        ack(MSS, 0, MSS); // a D-SACK of a segment sent once: dubious
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKRecv));
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKIgnoredDubious));
        assertEquals(0, p.count(TcpMib.Ext.TCPDSACKRecvSegs));
        ack(MSS, -5 * MSS, -4 * MSS, 3 * MSS, 4 * MSS); // a D-SACK of what was never sent, and a good block
        assertEquals(2, p.count(TcpMib.Ext.TCPDSACKIgnoredDubious));
        TcpInfo i = info();
        assertEquals(1, i.sacked(), "only the good block counted");
        assertEquals(MSS, p.sys.send(fd, ByteBuffer.allocate(MSS), 0), "the connection lives on");
    }

    @Test
    void aRenegedSackBringsTheTimeoutSoonAndTheSegmentGoesAgain() throws Exception {
        open(true, 3);
        ack(0, MSS, 2 * MSS);
        ack(MSS); // snd_una reaches the SACKed segment and the peer no longer reports it: reneging
        p.drain();
        p.s.advance(20); // max(SRTT/2, 10 ms), not the full RTO
        assertEquals(1, p.count(TcpMib.Ext.TCPSACKReneging));
        assertEquals(1, p.count(TcpMib.Ext.TCPTimeouts));
        TcpPeer.Seg again = p.out();
        assertEquals(q + MSS, again.seq(), "the segment it had SACKed goes again");
        assertEquals(TcpCongestion.CA_LOSS, conn().caState);
    }

    @Test
    void everyRetransmissionDsackedUndoesTheRecovery() throws Exception {
        open(true, 6);
        ack(0, MSS, 4 * MSS);
        p.drain();
        assertEquals(TcpCongestion.CA_RECOVERY, conn().caState);
        int reduced = conn().cw.ssthresh;
        ack(4 * MSS); // the original arrived after all
        ack(4 * MSS, 0, MSS); // and the retransmission is reported as a duplicate
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKUndo));
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKRecvSegs));
        assertEquals(TcpCongestion.CA_OPEN, conn().caState);
        assertTrue(conn().cw.ssthresh > reduced, "ssthresh back to before the recovery: " + conn().cw.ssthresh);
        assertEquals(1, info().dsackDups());
    }

    @Test
    void theScoreboardTravelsWithAHandOver() throws Exception {
        open(true, 6);
        ack(0, MSS, 4 * MSS);
        p.drain();
        TcpSock old = conn();
        var st = TcpHandOver.state(old);
        assertEquals(6, st.recovery().segmentEnds().length);
        TcpProtocol gone = p.s.swapTcp(TcpHandOver.STATE_VERSION);
        assertTrue(gone.exported().connections().size() == 1);
        TcpSock now = conn();
        assertEquals(old.rec.q.sackedOut, now.rec.q.sackedOut);
        assertEquals(old.rec.q.lostOut, now.rec.q.lostOut);
        assertEquals(old.rec.q.retransOut, now.rec.q.retransOut);
        assertEquals(old.rec.inFlight(), now.rec.inFlight());
        assertEquals(TcpCongestion.CA_RECOVERY, now.caState);
        ack(6 * MSS);
        assertEquals(TcpCongestion.CA_OPEN, now.caState, "the new version ends the recovery it took over");
        assertEquals(0, now.rec.q.packetsOut);
    }

    @Test
    void ssShowsTheScoreboardAsLinuxPrintsIt() throws Exception {
        open(true, 6);
        p.s.ns.sysctl().set("net.ipv4.tcp_recovery", "0"); // no RACK: the SACKs alone decide
        ack(0, 5 * MSS, 6 * MSS);
        ack(0, MSS, 2 * MSS, 5 * MSS, 6 * MSS); // a hole filled 4 segments below the highest SACK
        String out = org.modnet.socket.SsCommandAccess.run(p.s.sockets, "-t", "-a", "-i", "-n");
        assertTrue(out.contains(" sacked:2"), out);
        assertTrue(out.contains(" reordering:5"), out);
        assertTrue(out.contains(" reord_seen:1"), out);
        assertEquals(1, p.count(TcpMib.Ext.TCPSACKReorder));
        ack(0, MSS, 4 * MSS, 5 * MSS, 6 * MSS);
        p.none(); // four SACKed above the head: below the raised threshold, so no recovery yet
        ack(0, MSS, 6 * MSS); // RFC 6675: five SACKed above the head, the reordering degree now
        assertEquals(q, p.out().seq());
        out = org.modnet.socket.SsCommandAccess.run(p.s.sockets, "-t", "-a", "-i", "-n");
        assertTrue(out.contains(" retrans:1/1"), out);
        assertTrue(out.contains(" lost:1"), out);
        assertTrue(out.contains(" sacked:5"), out);
    }
}

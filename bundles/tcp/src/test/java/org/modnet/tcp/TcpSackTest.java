package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.socket.api.SocketCalls;

/**
 * SACK blocks for out-of-order data (RFC 2018) and D-SACK for duplicates (RFC 2883), segment by
 * segment against a scripted peer: the most recently changed block first, three blocks beside
 * timestamps and four without, blocks gone once the hole is filled, a D-SACK block sent once.
 */
class TcpSackTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1; // the peer's first data byte

    private TcpPeer p;
    private int tsval; // the peer's clock

    @AfterEach
    void tearDown() {
        p.close();
    }

    /** A connection the peer opened with SACK-permitted, and timestamps when {@code ts}. */
    private int open(boolean ts) throws Exception {
        p = new TcpPeer();
        int l = p.listen(PORT);
        byte[] syn = ts ? Segments.opts(Segments.mss(1460), Segments.sackPerm(), Segments.ts(100, 0), Segments.nop(), Segments.ws(7))
                : Segments.opts(Segments.mss(1460), Segments.nop(), Segments.nop(), Segments.sackPerm(), Segments.nop(), Segments.ws(7));
        tsval = 100;
        return p.accept(l, PORT, syn, new byte[0], null);
    }

    /** Data from the peer at {@code seq} (absolute), {@code len} bytes; with timestamps when the connection has them. */
    private void data(int seq, int len, boolean ts) {
        p.in(PORT, TcpHeader.ACK, seq, p.iss + 1, 1000, ts ? TcpPeer.ts(++tsval, 0) : new byte[0], len);
    }

    private static int[] blocks(int... edges) {
        return edges;
    }

    @Test
    void outOfOrderDataIsAnsweredAtOnceWithSackBlocksMostRecentFirst() throws Exception {
        open(false);
        data(P + 100, 100, false);
        TcpPeer.Seg a = p.out();
        assertEquals(P, a.ack(), "the hole is still at the first byte");
        assertArrayEquals(blocks(P + 100, P + 200), a.sack());
        data(P + 300, 100, false);
        assertArrayEquals(blocks(P + 300, P + 400, P + 100, P + 200), p.out().sack());
        data(P + 500, 100, false);
        data(P + 700, 100, false);
        p.drain();
        data(P + 900, 100, false);
        assertArrayEquals(blocks(P + 900, P + 1000, P + 700, P + 800, P + 500, P + 600, P + 300, P + 400), p.out().sack(),
                "four blocks fit without timestamps; the oldest is forgotten");
        assertEquals(5, p.count(TcpMib.Ext.TCPOFOQueue));
    }

    @Test
    void besideTimestampsThreeBlocksFit() throws Exception {
        open(true);
        data(P + 100, 100, true);
        data(P + 300, 100, true);
        data(P + 500, 100, true);
        p.drain();
        data(P + 700, 100, true);
        TcpPeer.Seg a = p.out();
        assertEquals(100, a.tsecr(), "out-of-order segments do not move ts_recent (RFC 7323 4.3)");
        assertArrayEquals(blocks(P + 700, P + 800, P + 500, P + 600, P + 300, P + 400), a.sack());
    }

    @Test
    void aBlockThatGrowsMovesToTheFrontAndAbsorbsItsNeighbour() throws Exception {
        open(false);
        data(P + 100, 100, false);
        data(P + 300, 100, false);
        data(P + 500, 100, false);
        p.drain();
        data(P + 200, 100, false); // joins 100..200 and 300..400
        assertArrayEquals(blocks(P + 100, P + 400, P + 500, P + 600), p.out().sack());
    }

    @Test
    void fillingTheHoleRemovesTheBlocksTheAckNowCovers() throws Exception {
        int fd = open(false);
        data(P + 100, 100, false);
        data(P + 300, 100, false);
        p.drain();
        data(P, 100, false);
        TcpPeer.Seg a = p.out();
        assertEquals(P + 200, a.ack(), "the hole filled and the queued segment followed");
        assertArrayEquals(blocks(P + 300, P + 400), a.sack(), "only what is still out of order");
        data(P + 200, 100, false);
        a = p.out();
        assertEquals(P + 400, a.ack());
        assertEquals(0, a.sack().length, "no SACK option once nothing is out of order");
        assertEquals(400, p.sys.recv(fd, ByteBuffer.allocate(1000), SocketCalls.MSG_DONTWAIT));
    }

    @Test
    void aDuplicateOfDataAlreadyReceivedIsReportedOnceWithDsack() throws Exception {
        open(false);
        data(P, 100, false);
        assertEquals(P + 100, p.out().ack());
        data(P, 100, false); // the whole segment again: end_seq == rcv_nxt
        TcpPeer.Seg a = p.out();
        assertEquals(P + 100, a.ack());
        assertArrayEquals(blocks(P, P + 100), a.sack(), "RFC 2883 4.1.1: the duplicate as the first block");
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKOldSent));
        assertEquals(1, p.count(TcpMib.Ext.DelayedACKLost));
        data(P + 100, 100, false);
        assertEquals(0, p.out().sack().length, "a D-SACK block goes once");
        data(P + 150, 100, false); // half old, half new
        a = p.out();
        assertEquals(P + 250, a.ack());
        assertArrayEquals(blocks(P + 150, P + 200), a.sack(), "the part already received");
        assertEquals(2, p.count(TcpMib.Ext.TCPDSACKOldSent));
    }

    @Test
    void anOldSegmentBelowTheWindowIsAnsweredWithDsackToo() throws Exception {
        open(false);
        data(P, 300, false);
        p.drain();
        data(P, 100, false); // entirely below rcv_nxt: tcp_sequence refuses it, tcp_send_dupack answers
        TcpPeer.Seg a = p.out();
        assertEquals(P + 300, a.ack());
        assertArrayEquals(blocks(P, P + 100), a.sack());
        data(P + 100, 100, false); // data is never rate limited as an ACK loop could be
        assertArrayEquals(blocks(P + 100, P + 200), p.out().sack());
        assertEquals(2, p.count(TcpMib.Ext.TCPDSACKOldSent));
    }

    @Test
    void anOutOfOrderDuplicateGetsDsackThenTheSackBlock() throws Exception {
        open(false);
        data(P + 100, 100, false);
        p.drain();
        data(P + 100, 100, false);
        TcpPeer.Seg a = p.out();
        assertArrayEquals(blocks(P + 100, P + 200, P + 100, P + 200), a.sack(), "RFC 2883 4.1.2: D-SACK, then the SACK block");
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKOfoSent));
        assertEquals(1, p.count(TcpMib.Ext.TCPOFOMerge));
    }

    @Test
    void noSackBlocksWhenTcpSackIsOff() throws Exception {
        p = new TcpPeer();
        p.s.ns.sysctl().set("net.ipv4.tcp_sack", "0");
        int l = p.listen(PORT);
        TcpPeer.Seg[] sa = new TcpPeer.Seg[1];
        p.accept(l, PORT, Segments.opts(Segments.mss(1460), Segments.nop(), Segments.nop(), Segments.sackPerm()), new byte[0], sa);
        assertFalse(sa[0].sackPerm(), "SACK not offered back");
        data(P + 100, 100, false);
        data(P, 50, false);
        data(P, 50, false);
        for (TcpPeer.Seg a : p.drain()) {
            assertEquals(0, a.sack().length, "no SACK option: " + a);
        }
        assertEquals(0, p.count(TcpMib.Ext.TCPDSACKOldSent));
    }

    @Test
    void noDsackWhenTcpDsackIsOff() throws Exception {
        open(false);
        p.s.ns.sysctl().set("net.ipv4.tcp_dsack", "0");
        data(P, 100, false);
        p.drain();
        data(P, 100, false);
        assertEquals(0, p.out().sack().length);
        assertEquals(0, p.count(TcpMib.Ext.TCPDSACKOldSent));
    }

    @Test
    void incomingDsackIsCountedAndBadBlocksAreDiscarded() throws Exception {
        int fd = open(false);
        assertEquals(200, p.sys.send(fd, ByteBuffer.allocate(200), 0));
        p.drain();
        int q = p.iss + 1;
        p.in(PORT, TcpHeader.ACK, P, q + 200, 1000, Segments.opts(Segments.nop(), Segments.nop(), Segments.sack(q, q + 100)), 0);
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKRecv), "a block below the ACK is a D-SACK");
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKIgnoredDubious), "of bytes never sent twice: dubious (tcp_dsack_seen)");
        p.in(PORT, TcpHeader.ACK, P, q + 200, 1000,
                Segments.opts(Segments.nop(), Segments.nop(), Segments.sack(q + 5000, q + 6000, 7, 3)), 0);
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKRecv), "nonsense blocks change nothing");
        assertEquals(3, p.count(TcpMib.Ext.TCPSACKDiscard), "the dubious D-SACK block (then taken as a SACK below snd_una), beyond what was sent, backwards");
        assertEquals(10, p.sys.send(fd, ByteBuffer.allocate(10), 0), "the connection lives on");
    }

    @Test
    void anOldAckStillHasItsDsackCountedAsLinuxsOldAckPathDoes() throws Exception {
        int fd = open(false);
        assertEquals(200, p.sys.send(fd, ByteBuffer.allocate(200), 0));
        p.drain();
        int q = p.iss + 1;
        p.in(PORT, TcpHeader.ACK, P, q + 200, 1000, new byte[0], 0);
        // an ACK the peer sent earlier, overtaken by the one above: below snd_una, with a D-SACK below its own ACK
        p.in(PORT, TcpHeader.ACK, P, q + 100, 1000, Segments.opts(Segments.nop(), Segments.nop(), Segments.sack(q, q + 100)), 0);
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKRecv), "tcp_ack's old_ack tags the SACK blocks: the D-SACK is seen");
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKIgnoredDubious), "of bytes never sent twice: dubious, as on a new ACK");
        p.in(PORT, TcpHeader.ACK, P, q + 100, 1000, new byte[0], 0);
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKRecv), "an old ACK without SACK blocks changes nothing");
        assertEquals(10, p.sys.send(fd, ByteBuffer.allocate(10), 0), "the connection lives on");
    }

    @Test
    void aRepeatedFinIsAcknowledgedWithDsackOfTheFin() throws Exception {
        int fd = open(false);
        p.in(PORT, TcpHeader.FIN | TcpHeader.ACK, P, p.iss + 1, 1000, new byte[0], 0);
        TcpPeer.Seg a = p.out();
        assertEquals(P + 1, a.ack());
        assertEquals(0, a.sack().length, "the first FIN is new: no D-SACK");
        p.in(PORT, TcpHeader.FIN | TcpHeader.ACK, P, p.iss + 1, 1000, new byte[0], 0); // CLOSE-WAIT: the FIN again
        a = p.out();
        assertEquals(P + 1, a.ack());
        assertArrayEquals(blocks(P, P + 1), a.sack(), "tcp_data_queue: the repeated FIN is D-SACKed");
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKOldSent));
        assertEquals(1, p.count(TcpMib.Ext.DelayedACKLost));
        assertEquals(0, p.sys.close(fd)); // LAST-ACK: a FIN again is D-SACKed again
        p.out();
        p.in(PORT, TcpHeader.FIN | TcpHeader.ACK, P, p.iss + 1, 1000, new byte[0], 0);
        assertArrayEquals(blocks(P, P + 1), p.out().sack());
        assertEquals(2, p.count(TcpMib.Ext.TCPDSACKOldSent));
    }
}

package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.socket.api.SocketCalls;

/**
 * The out-of-order queue as ranges whose bytes wait in the receive ring beyond {@code rcv_nxt}
 * ({@code tcp_data_queue_ofo}, {@code tcp_ofo_queue}): what the window offered is kept, overlaps are
 * D-SACKed and merged as Linux counts them, a FIN may come early, the ring grows and stays with them,
 * and the hole's filling delivers every byte in order. The peer's bytes depend on their sequence
 * number, so any byte in a wrong place shows.
 */
class TcpOfoTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1; // the peer's first data byte

    private TcpPeer p;
    private int fd;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        int l = p.listen(PORT);
        byte[] syn = Segments.opts(Segments.mss(1000), Segments.nop(), Segments.nop(), Segments.sackPerm(), Segments.nop(),
                Segments.ws(7));
        fd = p.accept(l, PORT, syn, new byte[0], null);
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    /** The peer's byte at offset {@code off} of its stream. */
    private static byte at(int off) {
        return (byte) (off * 7 + off / 251);
    }

    private static byte[] stream(int from, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = at(from + i);
        }
        return b;
    }

    /** The peer's bytes [off, off + len) of its stream, with FIN when {@code fin}. */
    private void data(int off, int len, boolean fin) {
        p.in(PORT, TcpHeader.ACK | (fin ? TcpHeader.FIN : 0), P + off, p.iss + 1, 1000, new byte[0], stream(off, len));
    }

    private void data(int off, int len) {
        data(off, len, false);
    }

    private byte[] readAll(int n) {
        ByteBuffer b = ByteBuffer.allocate(n + 1);
        while (b.position() < n) {
            int r = p.sys.recv(fd, b, SocketCalls.MSG_DONTWAIT);
            assertTrue(r > 0, "read " + b.position() + " of " + n + ": " + r);
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private TcpSock sock() {
        return p.s.sock(p.sys, fd);
    }

    @Test
    void aHoleThenOneHundredTwentySegmentsInAnyOrderWithinTheWindowAreAllKeptAndTheFillDeliversEveryByteInOrder() {
        List<Integer> order = new ArrayList<>();
        for (int k = 1; k <= 120; k++) { // 60,500 bytes within the SYN-ACK's 65,160 (the buffer's window at half, in MSS)
            order.add(k);
        }
        Collections.shuffle(order, new Random(14));
        for (int k : order) {
            data(500 * k, 500); // the hole is [0, 500)
        }
        assertEquals(120, p.count(TcpMib.Ext.TCPOFOQueue));
        assertEquals(0, p.count(TcpMib.Ext.TCPOFODrop));
        assertEquals(0, p.count(TcpMib.Ext.PruneCalled));
        assertEquals(0, p.count(TcpMib.Ext.OfoPruned));
        assertEquals(1, sock().ofoCount, "adjacent segments merged into one range");
        assertEquals(60_000, sock().ofoBytes);
        int limit = sock().rbufLimit;
        for (TcpPeer.Seg ack : p.drain()) {
            assertEquals(P, ack.ack(), "each answered at once with the hole's sequence number");
            assertTrue(ack.ack() + (ack.win() << 7) <= P + limit + 127,
                    () -> "the window offers no more than the ring holds: " + (ack.win() << 7) + " of " + limit);
        }
        data(0, 500);
        TcpPeer.Seg ack = p.drain().getLast();
        assertEquals(P + 60_500, ack.ack(), "the fill acknowledges everything");
        assertEquals(0, sock().ofoCount);
        assertArrayEquals(stream(0, 60_500), readAll(60_500));
    }

    @Test
    void aSegmentAllQueuedAlreadyIsMergedAndDsackedAndAnOverlapIsDsacked() {
        data(1000, 300);
        p.drain();
        data(1000, 300); // the same bytes again
        assertEquals(1, p.count(TcpMib.Ext.TCPOFOMerge));
        assertEquals(1, p.count(TcpMib.Ext.TCPDSACKOfoSent));
        assertArrayEquals(new int[] { P + 1000, P + 1300, P + 1000, P + 1300 }, p.out().sack(), "D-SACK first, then the SACK block");
        data(1200, 300); // overlaps [1200, 1300)
        assertEquals(1, p.count(TcpMib.Ext.TCPOFOMerge), "a partial overlap is no merge");
        assertArrayEquals(new int[] { P + 1200, P + 1300, P + 1000, P + 1500 }, p.out().sack());
        data(1600, 200);
        data(950, 950); // covers [1000, 1500) and [1600, 1800) whole
        assertEquals(3, p.count(TcpMib.Ext.TCPOFOMerge), "each covered range merged away");
        assertEquals(1, sock().ofoCount);
        assertEquals(950, sock().ofoBytes);
        assertEquals(4, p.count(TcpMib.Ext.TCPOFOQueue));
        data(0, 950);
        assertArrayEquals(stream(0, 1900), readAll(1900));
        assertEquals(0, p.count(TcpMib.Ext.TCPOFODrop));
    }

    @Test
    void aFinOutOfOrderWaitsForTheHoleThenEndsTheStream() {
        data(1000, 1000, true);
        assertEquals(TcpSock.TCP_ESTABLISHED, sock().state(), "the FIN is not in order yet");
        data(2000, 0, true); // the FIN again, alone: it joins the range that has it
        data(0, 1000);
        assertEquals(TcpSock.TCP_CLOSE_WAIT, sock().state());
        assertEquals(P + 2001, p.drain().getLast().ack(), "the FIN's sequence number acknowledged");
        assertArrayEquals(stream(0, 2000), readAll(2000));
        assertEquals(0, p.sys.recv(fd, ByteBuffer.allocate(10), SocketCalls.MSG_DONTWAIT), "the end of the stream");
    }

    @Test
    void aFinAloneOutOfOrderJoinsTheRangeItTouches() {
        data(1000, 1000);
        data(2000, 0, true);
        assertEquals(1, sock().ofoCount);
        data(0, 1000);
        assertEquals(TcpSock.TCP_CLOSE_WAIT, sock().state());
        assertArrayEquals(stream(0, 2000), readAll(2000));
    }

    @Test
    void theRingGrowingKeepsTheOutOfOrderBytesBeyondTheTailEvenWrapped() {
        data(0, 1000);
        data(1000, 1000);
        data(2000, 1000);
        assertArrayEquals(stream(0, 3000), readAll(3000)); // copied_seq at 3000 of a 4096-byte ring
        assertEquals(4096, sock().rcvRingBytes());
        data(4000, 1000); // wraps the ring's end
        assertEquals(4096, sock().rcvRingBytes());
        data(10_000, 1000); // 8000 bytes from copied_seq: the ring doubles
        assertTrue(sock().rcvRingBytes() >= 8192, "grown: " + sock().rcvRingBytes());
        data(30_000, 1000); // and again
        assertTrue(sock().rcvRingBytes() >= 32768, "grown: " + sock().rcvRingBytes());
        assertEquals(3, sock().ofoCount);
        for (int off = 3000; off < 31_000; off += 1000) {
            if (off != 4000 && off != 10_000 && off != 30_000) {
                data(off, 1000);
            }
        }
        assertEquals(0, sock().ofoCount);
        assertArrayEquals(stream(3000, 28_000), readAll(28_000));
    }

    @Test
    void aQuietConnectionKeepsTheRingThatHoldsOutOfOrderBytes() {
        data(1000, 1000);
        p.s.advance(3 * TcpRings.IDLE_MS);
        assertTrue(sock().rcvRingBytes() > 0, "the ring holds the out-of-order bytes");
        assertEquals(1, sock().ofoCount);
        data(0, 1000);
        assertArrayEquals(stream(0, 2000), readAll(2000));
    }

    @Test
    void oneHoleMoreThanTheRangeTableHoldsIsDroppedAndCounted() {
        for (int k = 1; k <= TcpSock.OFO_MAX + 1; k++) {
            data(2 * k, 1); // one byte, one hole before each
        }
        assertEquals(TcpSock.OFO_MAX, p.count(TcpMib.Ext.TCPOFOQueue));
        assertEquals(1, p.count(TcpMib.Ext.TCPOFODrop));
        data(2 * TcpSock.OFO_MAX + 1, 1); // touching the last range: no new range needed
        assertEquals(TcpSock.OFO_MAX + 1, p.count(TcpMib.Ext.TCPOFOQueue));
        assertEquals(TcpSock.OFO_MAX, sock().ofoCount);
    }
}

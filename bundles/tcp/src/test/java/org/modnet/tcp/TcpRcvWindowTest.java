package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.IPPROTO_TCP;
import static org.modnet.socket.api.SocketCalls.TCP_WINDOW_CLAMP;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.socket.api.TcpInfo;

/**
 * The receive window as Linux selects it: {@code tcp_select_initial_window} for the SYN-ACK (half the
 * buffer, the default scaling ratio, in whole segments; the window scale of the largest buffer),
 * {@code tcp_measure_rcv_mss}'s scaling ratio (payload over the arriving skb's truesize: 1000 bytes in
 * a 2304-byte skb is 111/256), {@code tcp_init_buffer_space}'s clamp less a segment, {@code
 * __tcp_select_window} bounded by {@code rcv_ssthresh}, {@code tcp_select_window} never moving the
 * edge back, {@code tcp_grow_window}, and TCP_WINDOW_CLAMP.
 */
class TcpRcvWindowTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;
    private int l;
    private int fd;
    private int seq = P;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        l = p.listen(PORT);
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    /** One segment of {@code len} bytes from the peer; the window of the last segment the stack sent back, or -1. */
    private int segment(int len) {
        p.in(PORT, TcpHeader.ACK, seq, p.iss + 1, 65535, new byte[0], len);
        seq += len;
        int win = -1;
        for (TcpPeer.Seg s : p.drain()) {
            win = s.win();
        }
        return win;
    }

    private TcpSock sock() {
        return p.s.sock(p.sys, fd);
    }

    private TcpInfo info() {
        return sock().tcpInfo();
    }

    private int clamp() {
        int[] v = new int[1];
        assertTrue(p.sys.getsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, v) >= 0);
        return v[0];
    }

    private int[] segments(int n) {
        int[] w = new int[n];
        for (int k = 0; k < n; k++) {
            w[k] = segment(1000);
        }
        return w;
    }

    @Test
    void theSynAckOffersHalfTheBufferInWholeSegmentsAndTheClampKeepsASegmentBack() {
        TcpPeer.Seg[] sa = new TcpPeer.Seg[1];
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], sa);
        assertEquals(64240, sa[0].win(), "131072 at the default ratio (half), in whole segments of 1460: Linux's 64240");
        assertEquals(64076, clamp(), "tcp_init_buffer_space: the buffer's window less a segment");
        assertEquals(64076, info().rcvSsthresh(), "rcv_ssthresh: the SYN-ACK's window, within the clamp");
    }

    @Test
    void theWindowScaleIsForTheLargestBufferTheConnectionMayReach() {
        TcpPeer.Seg[] sa = new TcpPeer.Seg[1];
        fd = p.accept(l, PORT, Segments.opts(Segments.mss(1000), Segments.nop(), Segments.ws(7)), new byte[0], sa);
        assertEquals(7, sa[0].ws(), "ilog2(tcp_rmem[2] 6291456) - 15");
        assertEquals(64240, sa[0].win(), "a SYN's window is never scaled");
    }

    @Test
    void theWindowScaleFollowsRmemMaxWrittenAboveTcpRmem() throws Exception {
        p.s.ns.sysctl().set("net.core.rmem_max", "16777216");
        TcpPeer.Seg[] sa = new TcpPeer.Seg[1];
        fd = p.accept(l, PORT, Segments.opts(Segments.mss(1000), Segments.nop(), Segments.ws(7)), new byte[0], sa);
        assertEquals(9, sa[0].ws(), "ilog2(rmem_max 16777216) - 15: tcp_select_initial_window takes the larger");
    }

    /**
     * Arrivals that nobody reads: the first segment measures the ratio (1000 in 2304: 111/256) and the
     * clamp falls to the buffer's window at it (56832); the free buffer's window, in whole segments,
     * is below the edge the SYN-ACK offered, which stays: each quick ACK (one a segment) offers a
     * segment less until the free window passes the edge at the 15th. Past quick-ACK mode no ACK goes
     * at once: two segments are in, but the window's right edge would not move, and
     * {@code __tcp_ack_snd_check} leaves the ACK to the reader's {@code tcp_cleanup_rbuf} or the
     * delayed-ACK timer, which then offers the free buffer's window.
     */
    @Test
    void windowsOfferedForArrivalsWithoutReadsKeepTheEdgeThenFollowTheFreeBuffer() {
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
        int[] quick = { 63240, 62240, 61240, 60240, 59240, 58240, 57240, 56240, 55240, 54240, 53240, 52240, 51240, 50240, 50240, 49240 };
        int[] expected = new int[40];
        java.util.Arrays.fill(expected, -1);
        System.arraycopy(quick, 0, expected, 0, quick.length);
        assertArrayEquals(expected, segments(40));
        p.s.advance(200, 10);
        TcpPeer.Seg delayed = p.drain().getLast();
        assertEquals(P + 40000, delayed.ack(), "the delayed ACK takes all of it");
        assertEquals(39000, delayed.win(), "the free buffer's window in whole segments");
        assertEquals(56832, clamp(), "the buffer's window at the measured ratio");
        assertEquals(0, p.count(TcpMib.Ext.TCPToZeroWindowAdv));
    }

    /**
     * Reading all of it: the read sends the ACK the input held back ({@code tcp_cleanup_rbuf}: more than
     * one segment since the last ACK), offering the free buffer's window, the clamp in whole segments.
     * Two more segments unread would not move that edge, so they wait for the delayed ACK.
     */
    @Test
    void afterAReadTheNextAckOffersTheFreeBuffersWindow() {
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
        segments(40);
        assertEquals(40000, p.sys.recv(fd, ByteBuffer.allocate(40000), 0));
        java.util.List<TcpPeer.Seg> read = p.drain();
        assertEquals(1, read.size(), "the read acknowledges: " + read);
        assertEquals(P + 40000, read.get(0).ack());
        assertEquals(56000, read.get(0).win());
        assertArrayEquals(new int[] { -1, -1 }, segments(2));
        p.s.advance(200, 10);
        assertEquals(55000, p.drain().getLast().win(), "the delayed ACK: the free buffer's window, in whole segments");
    }

    /**
     * The case that made modnet's BBR receiver stall: a hole, the rest of the window offered behind it,
     * then the hole filled before the application reads. With the whole buffer offered the ring was
     * exactly full and the ACK offered a zero window; offered at the scaling ratio, the buffer still has
     * room and the ACK a window.
     */
    @Test
    void fillingAHoleWithTheWholeWindowQueuedBehindItLeavesAWindowOpen() {
        TcpPeer.Seg[] sa = new TcpPeer.Seg[1];
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], sa);
        int window = sa[0].win();
        for (int at = 1000; at + 1000 <= window; at += 1000) {
            p.in(PORT, TcpHeader.ACK, P + at, p.iss + 1, 65535, new byte[0], 1000);
        }
        p.in(PORT, TcpHeader.ACK, P + window / 1000 * 1000, p.iss + 1, 65535, new byte[0], window % 1000);
        p.drain();
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 1000);
        TcpPeer.Seg ack = p.drain().getLast();
        assertEquals(P + window, ack.ack(), "the whole window is in");
        assertEquals(28000, ack.win(), "(131072 - 64240) at 111/256, in whole segments");
        assertEquals(0, p.count(TcpMib.Ext.TCPToZeroWindowAdv));
        assertEquals(0, p.count(TcpMib.Ext.PruneCalled));
    }

    /**
     * TCP_WINDOW_CLAMP ({@code tcp_set_window_clamp}): read back as set; lowering it lowers {@code
     * rcv_ssthresh}, and the window offered falls to it as the edge already offered is used up, never
     * moved back; at least SOCK_MIN_RCVBUF / 2; 0 only on a closed socket. Set after the first data
     * segment: Linux 6.12's {@code tcp_measure_rcv_mss} sets the clamp to the buffer's window whenever
     * the ratio moves, a clamp set before included, and modnet does the same.
     */
    @Test
    void windowClampLowersTheWindowsOfferedOnceTheEdgeOfferedIsUsedUp() {
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
        segment(1000);
        assertEquals(1000, p.sys.recv(fd, ByteBuffer.allocate(1000), 0));
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 20000));
        assertEquals(20000, clamp());
        assertEquals(20000, info().rcvSsthresh());
        int last = -1;
        for (int k = 0; k < 60; k++) {
            int w = segment(1000);
            assertEquals(1000, p.sys.recv(fd, ByteBuffer.allocate(1000), 0));
            if (w >= 0) {
                assertTrue(w >= 20000, "never below the clamp while the reader keeps up: " + w);
                assertTrue(last < 0 || w <= last, "the edge moves no further than the clamp lets it: " + w + " after " + last);
                last = w;
            }
        }
        assertEquals(20000, last, "the clamp once the SYN-ACK's edge is used up");
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 100));
        assertEquals(2304, clamp(), "SOCK_MIN_RCVBUF / 2 at least");
        assertEquals(-22, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 0), "EINVAL: 0 only before connecting");
    }

    /**
     * {@code tcp_prune_queue}'s {@code tcp_clamp_window}: out-of-order data over a buffer the user shrank
     * prunes the queue from the top (PruneCalled, OfoPruned), and as the memory passed the buffer, whose
     * size the user fixed, {@code rcv_ssthresh} falls to two segments: the windows that follow offer no
     * more than that once the edge offered is used up.
     */
    @Test
    void memoryOverTheBufferClampsRcvSsthreshToTwoSegments() {
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
        for (int k = 1; k <= 8; k++) {
            p.in(PORT, TcpHeader.ACK, P + 1500 * k, p.iss + 1, 65535, new byte[0], 1000); // eight ranges, apart
        }
        assertEquals(64076, info().rcvSsthresh());
        assertEquals(0, p.sys.setsockopt(fd, org.modnet.socket.api.SocketCalls.SOL_SOCKET, org.modnet.socket.api.SocketCalls.SO_RCVBUF,
                2304)); // 4608, SOCK_MIN_RCVBUF
        p.in(PORT, TcpHeader.ACK, P + 200, p.iss + 1, 65535, new byte[0], 300); // 8000 queued: over it
        assertEquals(1, p.count(TcpMib.Ext.PruneCalled));
        assertEquals(1, p.count(TcpMib.Ext.OfoPruned));
        assertEquals(2920, info().rcvSsthresh(), "two of our segments (advmss 1460)");
    }
}

package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.SIOCINQ;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;
import static org.modnet.socket.api.SocketCalls.SO_RCVBUF;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TCP's memory as Linux manages it: the out-of-order bytes charged as they lie in the receive ring
 * (so a window of them fits the buffer that offered it) and pruned from the top when the buffer or
 * {@code tcp_mem} says so ({@code tcp_prune_queue}, {@code tcp_prune_ofo_queue}), {@code tcp_mem} and
 * memory pressure, sockstat's pages, and orphans ({@code tcp_max_orphans}, {@code tcp_orphan_retries}).
 */
class TcpMemTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;
    private int l;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        l = p.listen(PORT);
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    private int accept() {
        return p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
    }

    private int inq(int fd) {
        int[] out = new int[1];
        assertEquals(0, p.sys.ioctl(fd, SIOCINQ, out));
        return out[0];
    }

    private void data(int seq, int len) {
        p.in(PORT, TcpHeader.ACK, seq, p.iss + 1, 65535, new byte[0], len);
    }

    /** A connection with SO_RCVBUF 8192 (16384 in the kernel's doubling): the ring is 16384 bytes. */
    private int smallBuffer() {
        assertEquals(0, p.sys.setsockopt(l, SOL_SOCKET, SO_RCVBUF, 8192));
        int fd = accept();
        int[] rb = new int[1];
        p.sys.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, rb);
        assertEquals(16384, rb[0]);
        return fd;
    }

    @Test
    void outOfOrderBytesAreChargedAsBytesSoTheWholeWindowOfThemFitsAndNoneIsPruned() {
        int fd = smallBuffer();
        // the SYN-ACK offered the buffer's window at the default ratio, half: 8192, 7300 in whole segments
        for (int k = 1; k <= 6; k++) {
            data(P + 1000 * k, 1000); // a hole at [P, P + 1000): all six wait out of order
        }
        // 6,000 bytes charged at what they hold, not at the 2,304 of each skb's truesize
        assertEquals(6, p.count(TcpMib.Ext.TCPOFOQueue));
        assertEquals(0, p.count(TcpMib.Ext.PruneCalled));
        assertEquals(0, p.count(TcpMib.Ext.RcvPruned));
        assertEquals(0, p.count(TcpMib.Ext.TCPOFODrop));
        assertEquals(0, p.count(TcpMib.Ext.OfoPruned));
        assertEquals(2, p.s.tcp.memoryPages(p.s.ns), "6,000 bytes: two pages");
        data(P, 1000);
        assertEquals(7000, inq(fd), "the hole filled: everything queued joins the stream");
    }

    @Test
    void outOfOrderDataBeyondTheWindowIsDroppedAndTheLastBytesItOffersAreKept() {
        int fd = smallBuffer();
        data(P + 8000, 1000); // starts past rcv_nxt + 7300, the window offered: tcp_sequence drops it, a dupack says where
        assertEquals(0, p.count(TcpMib.Ext.TCPOFOQueue));
        assertEquals(P, p.drain().getLast().ack());
        data(P + 6000, 1000);
        assertEquals(1, p.count(TcpMib.Ext.TCPOFOQueue), "the last bytes the window offers are taken");
        assertEquals(0, p.count(TcpMib.Ext.TCPOFODrop));
        assertEquals(0, inq(fd));
    }

    @Test
    void aSegmentBelowTheQueuedOnesPrunesTheQueueFromTheTopWhenTheUserShrankTheBuffer() {
        int fd = accept();
        for (int k = 1; k <= 8; k++) {
            data(P + 1500 * k, 1000); // eight ranges of 1000 bytes, apart
        }
        assertEquals(0, p.sys.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, 2304)); // 4608: SOCK_MIN_RCVBUF
        data(P + 200, 300); // 8000 queued, over SO_RCVBUF: ranges go from the top until 4000 <= 4608
        assertEquals(1, p.count(TcpMib.Ext.PruneCalled));
        assertEquals(1, p.count(TcpMib.Ext.OfoPruned));
        assertEquals(0, p.count(TcpMib.Ext.RcvPruned));
        assertEquals(0, p.count(TcpMib.Ext.TCPOFODrop));
        assertEquals(9, p.count(TcpMib.Ext.TCPOFOQueue));
        data(P, 200);
        assertEquals(500, inq(fd), "up to the next hole");
        data(P + 500, 1000);
        assertEquals(2500, inq(fd), "the first range joined");
        data(P + 2500, 500);
        data(P + 4000, 1000);
        data(P + 5000, 1000);
        assertEquals(7000, inq(fd), "up to the first pruned range: [P + 7000, P + 8000) must come again");
    }

    @Test
    void sockstatCountsTcpsQueuedBytesInPagesAndReadingFreesThem() {
        int fd = accept();
        assertEquals(0, p.s.tcp.memoryPages(p.s.ns));
        data(P, 1000);
        data(P + 1000, 1000);
        data(P + 3000, 1000); // out of order: its bytes count, not an skb's truesize
        data(P + 4000, 1000);
        data(P + 5000, 1000);
        data(P + 6000, 200);
        assertEquals(2, p.s.tcp.memoryPages(p.s.ns), "5,200 bytes");
        assertEquals(2000, p.sys.recv(fd, ByteBuffer.allocate(4000), 0));
        assertEquals(1, p.s.tcp.memoryPages(p.s.ns), "the out-of-order bytes stay");
        data(P + 2000, 1000);
        assertEquals(4000, p.sys.recv(fd, ByteBuffer.allocate(4000), 0));
        assertEquals(1, p.s.tcp.memoryPages(p.s.ns), "200 unread bytes");
        assertEquals(200, p.sys.recv(fd, ByteBuffer.allocate(4000), 0));
        assertEquals(0, p.s.tcp.memoryPages(p.s.ns));
        assertEquals(200, p.sys.send(fd, ByteBuffer.allocate(200), 0));
        assertEquals(1, p.s.tcp.memoryPages(p.s.ns), "unacknowledged bytes count");
        p.in(PORT, TcpHeader.ACK, P + 6200, p.iss + 201, 65535, new byte[0], 0);
        assertEquals(0, p.s.tcp.memoryPages(p.s.ns));
    }

    @Test
    void passingTcpMemPressureEntersMemoryPressureOnceUntilBelowMin() throws Exception {
        p.s.ns.sysctl().set("net.ipv4.tcp_mem", "1 2 100");
        int fd = accept();
        for (int k = 0; k < 9; k++) {
            data(P + 1000 * k, 1000); // 9000 bytes: 3 pages > 2
        }
        assertEquals(1, p.count(TcpMib.Ext.TCPMemoryPressures));
        data(P + 9000, 1000);
        assertEquals(1, p.count(TcpMib.Ext.TCPMemoryPressures), "still in it");
        assertEquals(10000, p.sys.recv(fd, ByteBuffer.allocate(20000), 0));
        for (int k = 10; k < 19; k++) {
            data(P + 1000 * k, 1000);
        }
        assertEquals(2, p.count(TcpMib.Ext.TCPMemoryPressures), "left below min, entered again");
    }

    @Test
    void overTcpMemMaxOutOfOrderSegmentsAreRefusedBeyondTcpRmemMin() throws Exception {
        p.s.ns.sysctl().set("net.ipv4.tcp_mem", "1 1 1");
        int fd = accept();
        for (int k = 1; k <= 4; k++) {
            data(P + 1000 * k, 1000); // up to 4000 bytes: within tcp_mem[2] (one page)
        }
        data(P + 6000, 1000); // 5000: over tcp_mem[2] and over tcp_rmem[0] (4096): refused, nothing above it to prune
        assertEquals(4, p.count(TcpMib.Ext.TCPOFOQueue));
        assertEquals(1, p.count(TcpMib.Ext.TCPOFODrop));
        assertEquals(1, p.count(TcpMib.Ext.PruneCalled));
        data(P, 1000);
        assertEquals(5000, inq(fd));
    }

    @Test
    void closingPastTcpMaxOrphansResetsTheConnection() throws Exception {
        p.s.ns.sysctl().set("net.ipv4.tcp_max_orphans", "0");
        int fd = accept();
        assertEquals(0, p.sys.close(fd));
        var segs = p.drain();
        assertTrue(segs.stream().anyMatch(x -> x.has(TcpHeader.RST)), "reset: " + segs);
        assertEquals(1, p.count(TcpMib.Ext.TCPAbortOnMemory));
        assertEquals(0, p.s.tcp.net(p.s.ns).orphans.size());
    }

    @Test
    void withinTcpMaxOrphansTheCloseGoesOnAsAnOrphan() {
        int fd = accept();
        assertEquals(0, p.sys.close(fd));
        assertTrue(p.out().has(TcpHeader.FIN));
        assertEquals(1, p.s.tcp.net(p.s.ns).orphans.size());
        assertEquals(0, p.count(TcpMib.Ext.TCPAbortOnMemory));
    }

    /** Retransmissions of an orphan's FIN that is never acknowledged, until it gives up. */
    private int orphanFinRetransmissions() {
        int fd = accept();
        assertEquals(0, p.sys.close(fd));
        int fins = 0;
        for (int i = 0; i < 2000 && p.s.tcp.net(p.s.ns).orphans.size() > 0; i++) {
            p.s.advance(1000, 100);
            fins += (int) p.drain().stream().filter(x -> x.has(TcpHeader.FIN)).count();
        }
        assertEquals(0, p.s.tcp.net(p.s.ns).orphans.size(), "the orphan gave up");
        return fins - 1;
    }

    @Test
    void tcpOrphanRetriesBoundsAnOrphansRetransmissions() throws Exception {
        p.s.ns.sysctl().set("net.ipv4.tcp_orphan_retries", "2");
        assertEquals(2, orphanFinRetransmissions());
        assertEquals(1, p.count(TcpMib.Ext.TCPAbortOnTimeout));
    }

    @Test
    void tcpOrphanRetriesZeroMeansEight() {
        assertEquals(8, orphanFinRetransmissions());
    }

    private int opt(int fd, int name) {
        int[] v = new int[1];
        p.sys.getsockopt(fd, SOL_SOCKET, name, v);
        return v[0];
    }

    /** The peer sends {@code segs} segments of 1000 bytes in one RTT of {@code rttMs}; the application reads them all. */
    private int oneRtt(int fd, int seq, int segs, int rttMs) {
        for (int k = 0; k < segs; k++) {
            data(seq + 1000 * k, 1000);
        }
        p.s.advance(rttMs);
        int n = p.sys.recv(fd, ByteBuffer.allocate(segs * 1000), 0);
        assertEquals(segs * 1000, n);
        return seq + n;
    }

    @Test
    void theReceiveBufferGrowsWithWhatTheApplicationReadsPerRtt() {
        p.in(PORT, TcpHeader.SYN, PEER_ISS, 0, 65535, Segments.mss(1000), 0);
        p.out();
        p.s.advance(20); // the SYN-ACK's RTT: 20 ms
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 0);
        int fd = p.sys.accept(l, null, 0);
        assertEquals(131072, opt(fd, SO_RCVBUF), "tcp_rmem[1]");
        int seq = oneRtt(fd, P, 10, 30); // 10000 read: no more than the first measure (10 * advmss = 14600)
        assertEquals(131072, opt(fd, SO_RCVBUF));
        seq = oneRtt(fd, seq, 40, 30); // 40000 read in an RTT: DRS grows the buffer
        // rcvwin = 2 * 40000 + 16 * 1460 = 103360, plus twice its share of the growth:
        // 2 * (103360 * (40000 - 14600) / 14600) = 359636; rcvbuf = tcp_space_from_win at the scaling
        // ratio of a 1000-byte segment in a 2304-byte skb (111/256): 462996 * 256 / 111
        assertEquals(1067810, opt(fd, SO_RCVBUF));
        assertTrue(p.drain().stream().anyMatch(x -> x.win() << 7 > 131072), "the window opens past the first ring");
        // 180 segments, within the window the last read offered (no ACK moves its edge while the burst is
        // unread: __tcp_ack_snd_check leaves it to the read), read in one RTT: the buffer grows to its cap
        seq = oneRtt(fd, seq, 180, 30);
        assertEquals(6291456, opt(fd, SO_RCVBUF), "tcp_rmem[2] at most");
    }

    @Test
    void anSoRcvbufTheUserSetIsNotAutotuned() throws Exception {
        assertEquals(0, p.sys.setsockopt(l, SOL_SOCKET, SO_RCVBUF, 65536));
        int fd = accept();
        int seq = oneRtt(fd, P, 10, 30);
        oneRtt(fd, seq, 60, 30);
        assertEquals(131072, opt(fd, SO_RCVBUF), "locked by the user (inherited from the listener)");
    }

    @Test
    void tcpModerateRcvbufZeroTurnsReceiveAutotuningOff() throws Exception {
        p.s.ns.sysctl().set("net.ipv4.tcp_moderate_rcvbuf", "0");
        int fd = accept();
        int seq = oneRtt(fd, P, 10, 30);
        oneRtt(fd, seq, 60, 30);
        assertEquals(131072, opt(fd, SO_RCVBUF));
    }

    @Test
    void aSegmentCoveringQueuedOnesReplacesThem() {
        int fd = accept();
        data(P + 1000, 300);
        data(P + 1500, 300);
        assertEquals(2, p.count(TcpMib.Ext.TCPOFOQueue));
        data(P + 1000, 1400); // covers both whole
        assertEquals(3, p.count(TcpMib.Ext.TCPOFOQueue));
        assertEquals(2, p.count(TcpMib.Ext.TCPOFOMerge), "each covered segment merged away");
        data(P, 1000);
        assertEquals(2400, inq(fd));
        assertEquals(1, p.s.tcp.memoryPages(p.s.ns), "one page: 2400 unread bytes, nothing left out of order");
    }
}

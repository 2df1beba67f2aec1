package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;
import static org.modnet.socket.api.SocketCalls.SO_SNDBUF;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.TcpInfo;

/** Buffers as Linux holds them: no ring for an idle connection, rings with data, SO_SNDBUF autotuned. */
class TcpRingsTest {
    private static final int LOCALHOST = 0x7f000001;

    private TcpStack s;
    private SocketCalls sys;
    private int client;
    private int server;

    /** A connection over lo; {@code clientSndbuf} > 0 sets the client's SO_SNDBUF first (the user's lock). */
    private void connect(int clientSndbuf) {
        if (s == null) {
            newStack();
        }
        int listener = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(listener, new SockAddr(LOCALHOST, 7000)));
        assertEquals(0, sys.listen(listener, 8));
        client = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (clientSndbuf > 0) {
            assertEquals(0, sys.setsockopt(client, SOL_SOCKET, SO_SNDBUF, clientSndbuf));
        }
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(client, new SockAddr(LOCALHOST, 7000)));
        s.run();
        server = sys.accept(listener, null, SOCK_NONBLOCK);
        assertTrue(server >= 3, "accept: " + SocketCalls.strerror(server));
    }

    private void newStack() {
        s = new TcpStack();
        sys = s.process();
    }

    @AfterEach
    void tearDown() {
        if (s != null) {
            sys.close();
            s.close();
        }
    }

    private TcpSock sock(int fd) {
        return s.sock(sys, fd);
    }

    private int sndbuf(int fd) {
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(fd, SOL_SOCKET, SO_SNDBUF, v));
        return v[0];
    }

    private int ioctl(int fd, int request) {
        int[] v = new int[1];
        assertEquals(0, sys.ioctl(fd, request, v));
        return v[0];
    }

    private TcpInfo info(int fd) {
        return sock(fd).tcpInfo();
    }

    private void send(int fd, int n) {
        assertEquals(n, sys.send(fd, ByteBuffer.allocate(n), MSG_DONTWAIT));
    }

    private int drain(int fd) {
        int total = 0;
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        int n;
        while ((n = sys.recv(fd, b.clear(), MSG_DONTWAIT)) > 0) {
            total += n;
        }
        return total;
    }

    /** Writes {@code total} bytes as fast as the connection takes them, the server reading all; the largest SO_SNDBUF seen. */
    private int bulk(long total) {
        ByteBuffer out = ByteBuffer.allocate(8 << 20); // more than SO_SNDBUF: the writer fills it and waits (SOCK_NOSPACE)
        long sent = 0;
        long read = 0;
        int most = 0;
        for (int round = 0; round < 100_000 && read < total; round++) {
            if (sent < total) {
                out.clear().limit((int) Math.min(out.capacity(), total - sent));
                int n = sys.send(client, out, MSG_DONTWAIT);
                sent += Math.max(n, 0);
            }
            s.run();
            read += drain(server);
            most = Math.max(most, sndbuf(client));
            if (round % 8 == 7) {
                s.advance(1);
            }
        }
        assertEquals(total, read, "the transfer ended");
        return most;
    }

    @Test
    void anIdleEstablishedPairHoldsNoRing() {
        connect(0);
        for (int fd : new int[] { client, server }) {
            assertEquals(0, sock(fd).sndRingBytes(), "no send ring before the first write");
            assertEquals(0, sock(fd).rcvRingBytes(), "no receive ring before the first byte");
        }
        s.advance(5000);
        assertEquals(0, sock(client).sndRingBytes() + sock(client).rcvRingBytes() + sock(server).sndRingBytes() + sock(server).rcvRingBytes());
        assertEquals(0, ioctl(server, SocketCalls.SIOCINQ));
        assertEquals(0, ioctl(client, SocketCalls.SIOCOUTQ));
        long[] m = sock(server).memInfo();
        assertEquals(0, m[0], "skmem r: nothing unread");
        assertEquals(sock(server).rcvbuf(), m[1], "skmem rb: the limit, not memory held");
        assertEquals(0, m[5], "skmem w: nothing queued");
    }

    @Test
    void theRetransmissionQueueAndTheOutOfOrderQueueAreHeldOnlyWhileTheyAreNeeded() {
        connect(0);
        assertTrue(sock(client).rec.q.capacity() <= 4, "a handshake's entries only: " + sock(client).rec.q.capacity());
        assertEquals(0, sock(server).ofoSeq.length, "no out-of-order queue for an in-order connection");
        bulk(400_000);
        assertTrue(sock(client).rec.q.capacity() > 0, "the sender's entries are there after sending");
        s.advance(2 * TcpRings.IDLE_MS);
        assertEquals(0, sock(client).rec.q.capacity(), "quiet with nothing in flight: the arrays went back with the rings");
        send(client, 3000);
        s.run();
        assertEquals(3000, drain(server), "and they come back for the next send");
    }

    @Test
    void aRingGivenBackIsMadeAgainForDataAndTheFin() {
        connect(0);
        send(client, 2000);
        s.run();
        assertEquals(2000, drain(server));
        s.advance(2 * TcpRings.IDLE_MS);
        assertEquals(0, sock(server).rcvRingBytes());
        send(client, 300);
        assertEquals(0, sys.shutdown(client, SocketCalls.SHUT_WR));
        s.run();
        assertEquals(TcpRings.MIN, sock(server).rcvRingBytes());
        assertEquals(300, ioctl(server, SocketCalls.SIOCINQ), "the FIN is no byte");
        assertEquals(300, drain(server));
        assertEquals(0, sys.recv(server, ByteBuffer.allocate(10), MSG_DONTWAIT), "then the end of the stream");
    }

    @Test
    void ringsComeWithDataStartSmallAndDoubleUpToTheBuffer() {
        connect(0);
        send(client, 100);
        assertEquals(TcpRings.MIN, sock(client).sndRingBytes(), "the first write makes a page-sized send ring");
        assertEquals(0, sock(client).rcvRingBytes(), "the client received nothing: no receive ring");
        s.run();
        assertEquals(TcpRings.MIN, sock(server).rcvRingBytes(), "the first byte received makes a page-sized receive ring");
        assertEquals(0, sock(server).sndRingBytes());
        assertEquals(100, drain(server));
        int rcvbuf = sock(server).rcvbuf();
        // the server does not read: its receive ring grows to what SO_RCVBUF allows, by doubling
        for (int i = 0; i < 20; i++) {
            sys.send(client, ByteBuffer.allocate(16384), MSG_DONTWAIT);
            s.run();
            int ring = sock(server).rcvRingBytes();
            assertEquals(1, Integer.bitCount(ring), "a power of two: " + ring);
            assertTrue(ring <= TcpSock.rcvRingSize(rcvbuf), ring + " within SO_RCVBUF " + rcvbuf);
        }
        int queued = ioctl(server, SocketCalls.SIOCINQ);
        assertTrue(info(server).rcvWnd() < sock(client).mss(), "the window left is less than one of lo's segments: the sender waits");
        // the window: the SYN-ACK's edge (half the buffer), never moved back, or the buffer's at the measured ratio
        assertTrue(queued > 0 && queued <= Math.max(rcvbuf / 2 + 128, sock(server).fullSpace()), "SIOCINQ: the window: " + queued);
        assertEquals(Integer.highestOneBit(queued - 1) << 1, sock(server).rcvRingBytes(), "the ring doubled as far as the window's bytes need");
        assertTrue(ioctl(client, SocketCalls.SIOCOUTQ) > 0, "SIOCOUTQ: the rest waits in the client's send ring");
        assertEquals(queued, drain(server));
    }

    @Test
    void theWindowOfferedComesFromTheBufferNotTheRing() {
        connect(0);
        send(client, 100);
        s.run();
        assertEquals(100, drain(server));
        s.advance(50);
        assertEquals(TcpRings.MIN, sock(server).rcvRingBytes(), "a page-sized ring");
        TcpInfo i = info(server);
        assertTrue(i.rcvWnd() > TcpRings.MIN, "yet the window offered is more than the ring holds: " + i.rcvWnd());
        assertTrue(i.rcvWnd() <= sock(server).fullSpace(), "the buffer's window, not the ring's: " + i.rcvWnd());
    }

    @Test
    void emptyRingsAreGivenBackOnceTheConnectionIsQuiet() {
        connect(0);
        send(client, 1000);
        s.run();
        assertEquals(1000, drain(server));
        send(server, 500);
        s.run();
        assertEquals(500, drain(client));
        s.advance(TcpRings.IDLE_MS / 2);
        assertEquals(TcpRings.MIN, sock(client).sndRingBytes(), "kept while the connection may still be talking");
        assertEquals(TcpRings.MIN, sock(server).rcvRingBytes());
        // a request/response every half idle time keeps the rings: no allocation per request
        for (int i = 0; i < 4; i++) {
            send(client, 10);
            s.run();
            assertEquals(10, drain(server));
            s.advance(TcpRings.IDLE_MS / 2);
            assertEquals(TcpRings.MIN, sock(client).sndRingBytes(), "request " + i);
            assertEquals(TcpRings.MIN, sock(server).rcvRingBytes(), "request " + i);
        }
        s.advance(TcpRings.IDLE_MS + 100);
        for (int fd : new int[] { client, server }) {
            assertEquals(0, sock(fd).sndRingBytes(), "quiet and empty: given back");
            assertEquals(0, sock(fd).rcvRingBytes(), "quiet and empty: given back");
        }
        send(client, 3);
        s.run();
        assertEquals(3, drain(server), "and made again for the next bytes");
    }

    @Test
    void aRingWithUnreadBytesIsKept() {
        connect(0);
        send(client, 700);
        s.run();
        s.advance(3 * TcpRings.IDLE_MS);
        assertEquals(TcpRings.MIN, sock(server).rcvRingBytes(), "700 bytes unread: the ring stays");
        assertEquals(700, ioctl(server, SocketCalls.SIOCINQ));
        assertEquals(0, sock(client).sndRingBytes(), "the client's bytes were acknowledged: its ring went");
        assertEquals(700, drain(server));
    }

    @Test
    void sndmemIsLinuxsForEthernetAndLo() {
        assertEquals(87040, TcpRings.sndmem(1448, 10, 3), "tcp_sndbuf_expand for MSS 1448, ten segments");
        assertEquals(2626560, TcpRings.sndmem(65483, 10, 3), "lo's well-known 2626560");
        assertEquals(2 * 20 * 4352, TcpRings.sndmem(1448, 20, 3), "twice the congestion window");
    }

    @Test
    void sndbufStartsAtTenSegmentsAndGrowsWithCwndToTcpWmemMax() throws Exception {
        // a receive window of 4 MB from the start, so the congestion window, not the peer's, limits the
        // transfer: only then does it grow (tcp_is_cwnd_limited), and SO_SNDBUF with it
        newStack();
        s.ns.sysctl().set("net.ipv4.tcp_rmem", "4096 4194304 6291456");
        connect(0);
        assertEquals(2626560, sndbuf(client), "tcp_init_buffer_space: twice ten MSS buffers over lo, as Linux shows");
        assertEquals(2626560, sndbuf(server));
        int most = bulk(16L << 20);
        assertEquals(4 << 20, most, "grown with the congestion window, capped at tcp_wmem[2]");
        assertTrue(info(client).sndCwnd() > 10, "the window grew: " + info(client).sndCwnd());
    }

    @Test
    void aTransferThePeersWindowLimitsGrowsNeitherCwndNorSndbuf() throws Exception {
        // tcp_rmem[1] 131072 without autotuning: the receiver's window, two segments of lo's MSS, is the limit
        // (with tcp_moderate_rcvbuf 1 the buffer grows to megabytes over lo, as Linux's does, and cwnd with it)
        newStack();
        s.ns.sysctl().set("net.ipv4.tcp_moderate_rcvbuf", "0");
        connect(0);
        bulk(16L << 20);
        assertEquals(10, info(client).sndCwnd(), "tcp_is_cwnd_limited: an ACK grows only a window that limits");
    }

    @Test
    void aSendBufferTheUserSetDoesNotGrow() {
        connect(8192);
        assertEquals(16384, sndbuf(client), "SO_SNDBUF 8192, doubled, locked");
        assertEquals(16384, bulk(2L << 20), "never grown");
    }

    @Test
    void sndbufDoesNotGrowAtOrAboveTcpMemMin() throws Exception {
        connect(0);
        s.ns.sysctl().set("net.ipv4.tcp_mem", "0 100000 200000");
        assertEquals(2626560, bulk(16L << 20), "tcp_mem[0] reached: tcp_should_expand_sndbuf says no");
    }

    @Test
    void tcpWmemMaxCapsTheFirstExpansion() throws Exception {
        newStack();
        s.ns.sysctl().set("net.ipv4.tcp_wmem", "4096 16384 1000000");
        connect(0);
        assertEquals(1000000, sndbuf(client), "min(2626560, tcp_wmem[2])");
    }

    @Test
    void overLoNoSegmentIsLargerThanHalfThePeersLargestWindow() {
        connect(0);
        // the SYN-ACK offered 65483 (half of 131072 in whole segments: one): tcp_bound_to_half_wnd halves lo's MSS
        assertEquals(65483 / 2, info(client).sndMss(), "tcp_sync_mss: half the largest window the peer offered");
        bulk(4L << 20);
        assertTrue(info(client).sndWnd() >= 2 * 65483, "the window grew: " + info(client).sndWnd());
        assertEquals(65483, info(client).sndMss(), "the window grew past two segments: the path's MSS again");
    }

    @Test
    void aFullSegmentOverLoLeavesAWindowOfAtLeastASegment() throws Exception {
        newStack();
        s.ns.sysctl().set("net.ipv4.tcp_moderate_rcvbuf", "0");
        connect(0);
        bulk(1L << 20);
        // the scaling ratio over what Linux's skb of that payload would cost (a head and its pages), not the
        // 64 KiB pool buffer it came in: about two segments offered, where 126/256 offered under one (32,384)
        assertTrue(info(server).rcvWnd() >= 65483, "window " + info(server).rcvWnd());
    }
}

package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.MSG_PEEK;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.PollFd;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.SsCommandAccess;

/** Bytes over an established connection on lo: send and receive queues, windows, ACKs, FIN, RST and TIME-WAIT. */
class TcpDataTest {
    private static final int LOCALHOST = 0x7f000001;

    private TcpStack s;
    private SocketCalls sys;
    private int client;
    private int server;
    private int listener;

    @BeforeEach
    void setUp() {
        s = new TcpStack();
        sys = s.process();
        listener = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(listener, new SockAddr(LOCALHOST, 7000)));
        assertEquals(0, sys.listen(listener, 8));
        client = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(client, new SockAddr(LOCALHOST, 7000)));
        s.run();
        server = sys.accept(listener, null, SOCK_NONBLOCK);
        assertTrue(server >= 3, "accept: " + SocketCalls.strerror(server));
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    /** The TIME-WAIT sock that holds {@code c}'s 4-tuple, or null. */
    private TcpTimewaitSock timewait(Sock c) {
        return s.tcp.net(s.ns).deathRow.lookup(c.remoteAddress().address(), c.remoteAddress().port(), c.localAddress().address(),
                c.localAddress().port());
    }

    private static ByteBuffer text(String t) {
        return ByteBuffer.wrap(t.getBytes(StandardCharsets.UTF_8));
    }

    private String read(int fd, int flags) {
        ByteBuffer b = ByteBuffer.allocate(4096);
        int n = sys.recv(fd, b, flags | MSG_DONTWAIT);
        assertTrue(n >= 0, "recv: " + SocketCalls.strerror(n));
        return new String(b.array(), 0, n, StandardCharsets.UTF_8);
    }

    private Sock sockOf(int fd) {
        SockAddr[] me = new SockAddr[1];
        SockAddr[] peer = new SockAddr[1];
        sys.getsockname(fd, me);
        sys.getpeername(fd, peer);
        return s.sockets.sockets("").stream()
                .filter(k -> k.localAddress().equals(me[0]) && k.remoteAddress().equals(peer[0])).findFirst().orElseThrow();
    }

    @Test
    void bytesArriveInOrderAndPeekLeavesThem() {
        assertEquals(5, sys.send(client, text("hello"), 0));
        assertEquals(-Errno.EAGAIN.number(), sys.recv(server, ByteBuffer.allocate(10), MSG_DONTWAIT), "not yet processed");
        s.run();
        assertEquals("hello", read(server, MSG_PEEK));
        assertEquals("hello", read(server, 0));
        assertEquals(-Errno.EAGAIN.number(), sys.recv(server, ByteBuffer.allocate(10), MSG_DONTWAIT));
        assertEquals(6, sys.send(server, text(" world"), 0));
        s.run();
        PollFd[] p = { new PollFd(client, SocketCalls.POLLIN) };
        assertEquals(1, sys.poll(p, 0));
        assertEquals(" world", read(client, 0));
    }

    @Test
    void aMegabyteEachWayArrivesIntact() {
        Random r = new Random(14);
        byte[] up = new byte[1 << 20];
        byte[] down = new byte[1 << 20];
        r.nextBytes(up);
        r.nextBytes(down);
        ByteBuffer upOut = ByteBuffer.wrap(up);
        ByteBuffer downOut = ByteBuffer.wrap(down);
        ByteArrayOutputStream upIn = new ByteArrayOutputStream();
        ByteArrayOutputStream downIn = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        int idle = 0;
        for (int round = 0; round < 100_000 && (upIn.size() < up.length || downIn.size() < down.length); round++) {
            boolean moved = false;
            if (upOut.hasRemaining()) {
                moved |= sys.send(client, upOut, MSG_DONTWAIT) > 0;
            }
            if (downOut.hasRemaining()) {
                moved |= sys.send(server, downOut, MSG_DONTWAIT) > 0;
            }
            assertTrue(sockOf(client).sendQueue() <= sockOf(client).sndbuf(), "the send queue stays within SO_SNDBUF");
            s.run();
            for (int[] pair : new int[][] { { server, 0 }, { client, 1 } }) {
                buf.clear();
                int n = sys.recv(pair[0], buf, MSG_DONTWAIT);
                if (n > 0) {
                    (pair[1] == 0 ? upIn : downIn).write(buf.array(), 0, n);
                    moved = true;
                }
            }
            if (!moved) {
                s.advance(50); // delayed ACKs
                assertTrue(++idle < 1000, "the transfer stalled");
            }
        }
        assertArrayEquals(up, upIn.toByteArray());
        assertArrayEquals(down, downIn.toByteArray());
        assertEquals(0, s.count(TcpMib.Tcp.RetransSegs), "nothing lost on lo");
        // tcp_skb_pcount: at least one per MSS moved (lo's MSS; no longer inflated by window-sized slivers)
        assertTrue(s.count(TcpMib.Ext.TCPOrigDataSent) >= 2 * (1 << 20) / ((TcpSock) sockOf(client)).mss,
                s.count(TcpMib.Ext.TCPOrigDataSent) + " data segments for 2 MiB at MSS " + ((TcpSock) sockOf(client)).mss);
    }

    @Test
    void halfCloseDeliversTheRestThenEndOfStream() {
        Sock c = sockOf(client);
        sys.send(client, text("last words"), 0);
        assertEquals(0, sys.shutdown(client, SocketCalls.SHUT_WR));
        assertEquals(-Errno.EPIPE.number(), sys.send(client, text("x"), 0), "nothing after SHUT_WR");
        s.run();
        assertEquals("FIN-WAIT-2", SsCommandAccess.stateName(sockOf(client)));
        assertEquals("CLOSE-WAIT", SsCommandAccess.stateName(sockOf(server)));
        assertEquals("last words", read(server, 0));
        assertEquals(0, sys.recv(server, ByteBuffer.allocate(10), MSG_DONTWAIT), "end of stream after the FIN");
        assertEquals(5, sys.send(server, text("reply"), 0), "the other direction still works");
        s.run();
        assertEquals("reply", read(client, 0));
        assertEquals(0, sys.close(server));
        s.run();
        assertEquals(0, sys.recv(client, ByteBuffer.allocate(10), MSG_DONTWAIT));
        assertEquals("CLOSE", SsCommandAccess.stateName(c), "the full socket gave way to a timewait sock (tcp_time_wait)");
        assertEquals(TcpSock.TCP_TIME_WAIT, timewait(c).substate);
        assertEquals(0, s.count(TcpMib.Tcp.CurrEstab));
        assertEquals(0, s.count(TcpMib.Tcp.EstabResets));
    }

    @Test
    void timeWaitEndsAfterTwoMsl() {
        Sock c = sockOf(client);
        sys.close(client);
        s.run();
        sys.close(server);
        s.run();
        assertEquals(Sock.TCP_CLOSE, c.state(), "the full socket is gone");
        TcpTimewaitSock tw = timewait(c);
        assertEquals(Sock.TCP_TIME_WAIT, tw.substate, () -> "the active closer waits: " + s.tcp.counters(s.ns));
        s.advance(59_000);
        assertSame(tw, timewait(c));
        s.advance(9_000); // 60 s, and the timer wheel's slack at that range (under 8/63 of it, as in Linux)
        assertNull(timewait(c), "gone after 60 s");
        assertEquals(0, s.tcp.net(s.ns).deathRow.count.get());
        assertEquals(1, s.count(TcpMib.Ext.TW));
    }

    @Test
    void closeWithUnreadDataResetsThePeer() {
        sys.send(client, text("unread"), 0);
        s.run();
        assertEquals(0, sys.close(server));
        s.run();
        assertEquals(1, s.count(TcpMib.Ext.TCPAbortOnClose));
        assertEquals(-Errno.ECONNRESET.number(), sys.recv(client, ByteBuffer.allocate(10), MSG_DONTWAIT));
        assertEquals(2, s.count(TcpMib.Tcp.EstabResets), "both ends left ESTABLISHED for CLOSE");
    }

    @Test
    void lingerZeroClosesWithAReset() {
        assertEquals(0, sys.setsockopt(client, SOL_SOCKET, SocketCalls.SO_LINGER, 1, 0));
        long rsts = s.count(TcpMib.Tcp.OutRsts);
        assertEquals(0, sys.close(client));
        s.run();
        assertEquals(rsts + 1, s.count(TcpMib.Tcp.OutRsts));
        assertEquals(-Errno.ECONNRESET.number(), sys.recv(server, ByteBuffer.allocate(10), MSG_DONTWAIT));
    }

    @Test
    void delayedAckGoesOutAfterFortyMilliseconds() throws Exception {
        // the sender's loss probe (2 SRTT + 2 ms over this fast path) would come before the 40 ms, and
        // its duplicate is acknowledged at once, as in Linux: this test is about the receiver's timer
        s.ns.sysctl().set("net.ipv4.tcp_early_retrans", "0");
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, 1)); // Nagle would hold each "x"
        for (int i = 0; i < 20; i++) { // past the quick ACKs of the start
            sys.send(client, text("x"), 0);
            s.run();
            read(server, 0);
        }
        long delayed = s.count(TcpMib.Ext.DelayedACKs);
        sys.send(client, text("y"), 0);
        s.run();
        assertEquals(delayed, s.count(TcpMib.Ext.DelayedACKs));
        s.advance(50);
        assertEquals(delayed + 1, s.count(TcpMib.Ext.DelayedACKs), "the delayed ACK timer sent it");
    }

    @Test
    void segmentsForASocketTheUserHoldsWaitInTheBacklogUntilRelease() {
        TcpSock srv = (TcpSock) sockOf(server);
        srv.lockSock(); // the user is inside a call on the socket (lock_sock)
        try {
            sys.send(client, text("queued"), 0);
            s.run();
            assertEquals(0, srv.recvQueue(), "not processed while the user owns the socket");
        } finally {
            srv.releaseSock(); // release_sock processes the backlog
        }
        assertEquals("queued", read(server, 0));
    }

    /**
     * {@code tcp_add_backlog} counts a queued segment at its skb's truesize: for Linux a head and the pages its payload fills.
     * modnet's large-pool buffer (lo's, GRO's, a GSO resend's) is 64 KiB whatever it carries: counted at that, ten 3,000-byte
     * segments found the backlog (twice rcvbuf, half sndbuf and 64 KiB) full after six while the user held the socket, and
     * the rest were dropped as TCPBacklogDrop, where Linux's takes them all (and coalesces them besides).
     */
    @Test
    void smallSegmentsInLargeBuffersCountInTheBacklogAsLinuxsSkbsWouldNotAsTheirBuffers() {
        TcpSock srv = (TcpSock) sockOf(server);
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, 1)); // one segment a send
        // Linux's defaults, not lo's autotuned buffers: the bound is 2 * 128 KiB + 8 KiB + 64 KiB = 328 KiB
        assertEquals(0, sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_RCVBUF, 65536));
        assertEquals(0, sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_SNDBUF, 8192));
        srv.lockSock(); // the user is inside a call on the socket
        try {
            for (int i = 0; i < 10; i++) { // the initial window's ten segments, each in a 64 KiB buffer over lo
                assertEquals(3000, sys.send(client, ByteBuffer.allocate(3000), MSG_DONTWAIT));
                s.run();
            }
            assertEquals(0, srv.recvQueue(), "queued to the backlog, not processed");
            assertEquals(0, s.count(TcpMib.Ext.TCPBacklogDrop), "ten segments of 4,352 bytes each, as Linux's skbs count");
        } finally {
            srv.releaseSock();
        }
        assertEquals(30000, srv.recvQueue(), "all ten processed at release");
    }

    @Test
    void aFullBacklogDropsAndCountsTcpBacklogDrop() {
        TcpSock srv = (TcpSock) sockOf(server);
        // buffers the user set stay small (over lo an autotuned send buffer is 2.5 MB, and the backlog
        // is bounded by twice rcvbuf, half sndbuf and 64 KiB, with the queued receive memory, as Linux's);
        // the receive buffer shrunk after the handshake leaves the window the client was offered open, so
        // the client's 16 KiB segments and their resends outgrow that bound while the user holds the socket
        assertEquals(0, sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_SNDBUF, 8192));
        assertEquals(0, sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_RCVBUF, 2048));
        ByteBuffer big = ByteBuffer.allocate(16384);
        srv.lockSock();
        try {
            for (int i = 0; i < 40 && s.count(TcpMib.Ext.TCPBacklogDrop) == 0; i++) {
                big.clear();
                sys.send(client, big, MSG_DONTWAIT);
                s.run();
                s.advance(300); // the sender retransmits what the backlog refused
            }
            assertTrue(s.count(TcpMib.Ext.TCPBacklogDrop) > 0, "the backlog is bounded");
        } finally {
            srv.releaseSock();
        }
        s.advance(2000);
        assertTrue(srv.recvQueue() > 0, "what was kept is processed at release");
    }
}

package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.PollFd;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/** The three-way handshake over lo through the BSD calls: listen, accept, connect, refusals and counters. */
class TcpConnectTest {
    static final int LOCALHOST = 0x7f000001;

    private TcpStack s;
    private SocketCalls sys;

    @BeforeEach
    void setUp() {
        s = new TcpStack();
        sys = s.process();
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    private int tcpSocket(int flags) {
        int fd = sys.socket(AF_INET, SOCK_STREAM | flags, 0);
        assertTrue(fd >= 3, "socket: " + fd);
        return fd;
    }

    private int listener(int port, int backlog) {
        int fd = tcpSocket(SOCK_NONBLOCK);
        assertEquals(0, sys.bind(fd, new SockAddr(LOCALHOST, port)));
        assertEquals(0, sys.listen(fd, backlog));
        return fd;
    }

    private Sock sock(int fd) {
        SockAddr[] me = new SockAddr[1];
        sys.getsockname(fd, me);
        return s.sockets.sockets("").stream().filter(k -> k.localAddress().equals(me[0]) && k.state() != Sock.TCP_LISTEN)
                .findFirst().orElseThrow();
    }

    @Test
    void socketStreamIsTcp() {
        int fd = tcpSocket(0);
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_PROTOCOL, v));
        assertEquals(6, v[0]);
        assertEquals(1, sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_TYPE, v));
        assertEquals(SOCK_STREAM, v[0]);
    }

    @Test
    void nonBlockingConnectCompletesTheHandshakeAndAcceptReturnsTheChild() {
        int l = listener(5000, 16);
        assertEquals(-Errno.EAGAIN.number(), sys.accept(l, null, 0), "nothing to accept yet");
        int c = tcpSocket(SOCK_NONBLOCK);
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(c, new SockAddr(LOCALHOST, 5000)));
        PollFd[] p = { new PollFd(c, SocketCalls.POLLOUT) };
        assertEquals(0, sys.poll(p, 0), "not writable before the SYN-ACK");
        s.run();
        assertEquals(1, sys.poll(p, 0));
        assertTrue((p[0].revents & SocketCalls.POLLOUT) != 0);
        int[] err = new int[1];
        assertEquals(1, sys.getsockopt(c, SOL_SOCKET, SocketCalls.SO_ERROR, err));
        assertEquals(0, err[0]);
        PollFd[] lp = { new PollFd(l, SocketCalls.POLLIN) };
        assertEquals(1, sys.poll(lp, 0), "the listener is readable with a connection to accept");
        SockAddr[] peer = new SockAddr[1];
        int a = sys.accept(l, peer, 0);
        assertTrue(a >= 3, "accept: " + SocketCalls.strerror(a));
        SockAddr[] me = new SockAddr[1];
        sys.getsockname(c, me);
        assertEquals(me[0], peer[0], "accept reports the connecting socket's address");
        SockAddr[] cpeer = new SockAddr[1];
        sys.getpeername(c, cpeer);
        assertEquals(new SockAddr(LOCALHOST, 5000), cpeer[0]);
        assertEquals(Sock.TCP_ESTABLISHED, sock(c).state());
        assertEquals(1, s.count(TcpMib.Tcp.ActiveOpens));
        assertEquals(1, s.count(TcpMib.Tcp.PassiveOpens));
        assertEquals(2, s.count(TcpMib.Tcp.CurrEstab));
        assertEquals(0, s.count(TcpMib.Tcp.OutRsts));
    }

    @Test
    void connectToAClosedPortIsRefused() {
        int c = tcpSocket(SOCK_NONBLOCK);
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(c, new SockAddr(LOCALHOST, 5001)));
        s.run();
        PollFd[] p = { new PollFd(c, SocketCalls.POLLOUT) };
        assertEquals(1, sys.poll(p, 0));
        assertTrue((p[0].revents & SocketCalls.POLLERR) != 0, "POLLERR after the reset");
        int[] err = new int[1];
        assertEquals(1, sys.getsockopt(c, SOL_SOCKET, SocketCalls.SO_ERROR, err));
        assertEquals(Errno.ECONNREFUSED.number(), err[0]);
        assertEquals(1, s.count(TcpMib.Tcp.AttemptFails));
        assertEquals(1, s.count(TcpMib.Tcp.OutRsts));
        assertEquals(0, s.count(TcpMib.Tcp.CurrEstab));
    }

    @Test
    void listenBacklogIsBoundedAndOverflowsAreCounted() {
        int l = listener(5002, 1);
        for (int i = 0; i < 3; i++) {
            int c = tcpSocket(SOCK_NONBLOCK);
            sys.connect(c, new SockAddr(LOCALHOST, 5002));
            s.run();
        }
        assertTrue(s.count(TcpMib.Ext.ListenOverflows) >= 1, "a full accept queue drops: " + s.count(TcpMib.Ext.ListenOverflows));
        assertTrue(sys.accept(l, null, 0) >= 3);
        assertEquals(-Errno.EAGAIN.number(), sys.accept(l, null, 0), "one connection fitted");
    }

    @Test
    void bindToATakenPortIsEaddrinuse() {
        listener(5003, 4);
        int fd = tcpSocket(0);
        assertEquals(-Errno.EADDRINUSE.number(), sys.bind(fd, new SockAddr(LOCALHOST, 5003)));
    }

    @Test
    void ssShowsListenEstabAndSynSentWithLinuxNames() {
        listener(5004, 4);
        int c = tcpSocket(SOCK_NONBLOCK);
        sys.connect(c, new SockAddr(LOCALHOST, 5005)); // nobody there: SYN-SENT until the reset is processed
        assertEquals("SYN-SENT", org.modnet.socket.SsCommandAccess.stateName(sock(c)));
        s.run();
        int c2 = tcpSocket(SOCK_NONBLOCK);
        sys.connect(c2, new SockAddr(LOCALHOST, 5004));
        s.run();
        assertEquals("ESTAB", org.modnet.socket.SsCommandAccess.stateName(sock(c2)));
        String out = org.modnet.socket.SsCommandAccess.run(s.sockets, "-t", "-a", "-n");
        assertTrue(out.contains("LISTEN"), out);
        assertTrue(out.contains("ESTAB"), out);
        assertTrue(out.contains("127.0.0.1:5004"), out);
    }

    @Test
    void blockingConnectAndAcceptMeetOnRunningSoftirqs() throws Exception {
        try (TcpStack t = new TcpStack(org.modnet.core.StandaloneCore.threaded(1, 4096))) {
            SocketCalls p = t.process();
            int l = p.socket(AF_INET, SOCK_STREAM, 0);
            assertEquals(0, p.bind(l, new SockAddr(LOCALHOST, 6000)));
            assertEquals(0, p.listen(l, 8));
            java.util.concurrent.CompletableFuture<Integer> accepted = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> p.accept(l, null, 0));
            int c = p.socket(AF_INET, SOCK_STREAM, 0);
            assertEquals(0, p.connect(c, new SockAddr(LOCALHOST, 6000)), "a blocking connect returns once established");
            int a = accepted.get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(a >= 3, "accept: " + SocketCalls.strerror(a));
            int r = p.socket(AF_INET, SOCK_STREAM, 0);
            assertEquals(-Errno.ECONNREFUSED.number(), p.connect(r, new SockAddr(LOCALHOST, 6001)));
            p.close();
        }
    }

    @Test
    void closingAListenerResetsTheConnectionsNobodyAccepted() {
        int l = listener(5006, 4);
        int c = tcpSocket(SOCK_NONBLOCK);
        sys.connect(c, new SockAddr(LOCALHOST, 5006));
        s.run();
        assertEquals(Sock.TCP_ESTABLISHED, sock(c).state(), "the handshake completed before accept");
        assertEquals(0, sys.close(l));
        s.run();
        assertEquals(-Errno.ECONNRESET.number(), sys.recv(c, java.nio.ByteBuffer.allocate(8), SocketCalls.MSG_DONTWAIT));
        int again = listener(5006, 4); // the port is free again: the child gave it back
        assertTrue(again >= 3);
    }

    @Test
    void ipMtuDiscoverIsWantByDefaultTakesLinuxsValuesAndRefusesOthers() {
        int fd = sys.socket(AF_INET, SOCK_STREAM, 0);
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, v));
        assertEquals(SocketCalls.IP_PMTUDISC_WANT, v[0], "inet_create: WANT while ip_no_pmtu_disc is 0");
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DONT));
        sys.getsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, v);
        assertEquals(SocketCalls.IP_PMTUDISC_DONT, v[0]);
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_OMIT));
        assertEquals(-Errno.EINVAL.number(), sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, 6));
        assertEquals(-Errno.EINVAL.number(), sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, -1));
        sys.getsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, v);
        assertEquals(SocketCalls.IP_PMTUDISC_OMIT, v[0], "a refused value changes nothing");
    }
}

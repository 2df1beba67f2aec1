package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/** {@code net.ipv4.ip_nonlocal_bind} and {@code ip_local_reserved_ports} for TCP's bind and connect. */
class TcpBindConfTest {
    private static final int LOCALHOST = 0x7f000001;
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

    private int tcpSocket() {
        int fd = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertTrue(fd >= 3, "socket: " + fd);
        return fd;
    }

    private int localPort(int fd) {
        SockAddr[] me = new SockAddr[1];
        sys.getsockname(fd, me);
        return me[0].port();
    }

    @Test
    void ipNonlocalBindLetsAListenerBindAnAddressNotOurs() throws Exception {
        int fd = tcpSocket();
        assertEquals(-Errno.EADDRNOTAVAIL.number(), sys.bind(fd, new SockAddr(0x0a0a0a0a, 80)));
        s.ns.sysctl().set("net.ipv4.ip_nonlocal_bind", "1");
        assertEquals(0, sys.bind(fd, new SockAddr(0x0a0a0a0a, 80)));
        assertEquals(0, sys.listen(fd, 8));
    }

    @Test
    void bindAndConnectChooseNoReservedPort() throws Exception {
        s.ns.sysctl().set("net.ipv4.ip_local_port_range", "41000 41002");
        s.ns.sysctl().set("net.ipv4.ip_local_reserved_ports", "41000-41001");
        int bound = tcpSocket();
        assertEquals(0, sys.bind(bound, new SockAddr(0, 0)));
        assertEquals(41002, localPort(bound));
        int l = tcpSocket();
        assertEquals(0, sys.bind(l, new SockAddr(LOCALHOST, 7000)));
        assertEquals(0, sys.listen(l, 8));
        int c = tcpSocket();
        assertEquals(-Errno.EADDRNOTAVAIL.number(), sys.connect(c, new SockAddr(LOCALHOST, 7000)),
                "41002 is bound, the others reserved");
        s.ns.sysctl().set("net.ipv4.ip_local_reserved_ports", "41000");
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(c, new SockAddr(LOCALHOST, 7000)));
        assertEquals(41001, localPort(c));
    }
}

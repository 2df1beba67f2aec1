package org.modnet.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_DGRAM;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * IP_MTU_DISCOVER and IP_MTU on UDP ({@code ip(7)}): a DO socket gets EMSGSIZE for a datagram above
 * the path MTU, a WANT one (the default) sends it in fragments; IP_MTU reads a connected socket's path MTU.
 */
class UdpPmtuTest {
    private static final int LOCALHOST = 0x7f000001;

    private UdpStack s;
    private SocketCalls sys;

    @BeforeEach
    void setUp() throws Exception {
        s = new UdpStack();
        sys = s.process();
        s.ns.device("lo").setMtu(1500);
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    private int socket() {
        int fd = sys.socket(AF_INET, SOCK_DGRAM, 0);
        assertTrue(fd >= 3, "socket: " + fd);
        return fd;
    }

    @Test
    void doGetsEmsgsizeAboveTheMtuAndWantFragments() {
        int server = socket();
        assertEquals(0, sys.bind(server, new SockAddr(LOCALHOST, 7000)));
        int client = socket();
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, v));
        assertEquals(SocketCalls.IP_PMTUDISC_WANT, v[0], "inet_create's default");
        SockAddr to = new SockAddr(LOCALHOST, 7000);
        assertEquals(1473, sys.sendto(client, ByteBuffer.allocate(1473), 0, to), "WANT: sent, in fragments");
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DO));
        assertEquals(-Errno.EMSGSIZE.number(), sys.sendto(client, ByteBuffer.allocate(1473), 0, to), "28 + 1473 > 1500");
        assertEquals(1472, sys.sendto(client, ByteBuffer.allocate(1472), 0, to), "exactly the MTU");
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_PROBE));
        assertEquals(-Errno.EMSGSIZE.number(), sys.sendto(client, ByteBuffer.allocate(1473), 0, to), "PROBE: the device's MTU");
        s.run();
        ByteBuffer b = ByteBuffer.allocate(2048);
        assertEquals(1473, sys.recv(server, b, SocketCalls.MSG_DONTWAIT), "the fragmented one reassembled");
        b.clear();
        assertEquals(1472, sys.recv(server, b, SocketCalls.MSG_DONTWAIT));
    }

    @Test
    void ipMtuReadsTheConnectedPathMtu() {
        int fd = socket();
        int[] v = new int[1];
        assertEquals(-Errno.ENOTCONN.number(), sys.getsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU, v));
        assertEquals(0, sys.connect(fd, new SockAddr(LOCALHOST, 7001)));
        assertEquals(1, sys.getsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU, v));
        assertEquals(1500, v[0]);
    }
}

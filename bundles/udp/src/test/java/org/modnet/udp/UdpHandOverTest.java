package org.modnet.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_DGRAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/** An update of UDP keeps its sockets: descriptors, bindings, options, queued datagrams and counters. */
@org.junit.jupiter.api.Timeout(20)
class UdpHandOverTest {
    private static final int LOCALHOST = 0x7f000001;

    private UdpStack s;
    private SocketCalls sys;

    @BeforeEach
    void setUp() {
        s = new UdpStack();
        sys = s.process();
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    private int bound(int port) {
        int fd = sys.socket(AF_INET, SOCK_DGRAM, 0);
        assertTrue(fd >= 3, "socket: " + fd);
        assertEquals(0, sys.bind(fd, new SockAddr(LOCALHOST, port)));
        return fd;
    }

    private void send(int fd, String text, int port) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        assertEquals(b.length, sys.sendto(fd, ByteBuffer.wrap(b), 0, new SockAddr(LOCALHOST, port)));
    }

    private String receive(int fd, SockAddr[] from) {
        ByteBuffer b = ByteBuffer.allocate(2048);
        int n = sys.recvfrom(fd, b, MSG_DONTWAIT, from);
        assertTrue(n >= 0, "recvfrom: " + SocketCalls.strerror(n));
        return new String(b.array(), 0, n, StandardCharsets.UTF_8);
    }

    @Test
    void queuedDatagramsAndTheBindingSurviveAnUpdate() {
        int server = bound(5000);
        int client = bound(5001);
        send(client, "before", 5000);
        s.run();
        s.update(UdpProtocol.STATE_VERSION, () -> {
        });
        SockAddr[] from = new SockAddr[1];
        assertEquals("before", receive(server, from), "the queued datagram, from the new version's socket");
        assertEquals(new SockAddr(LOCALHOST, 5001), from[0], "with its sender");
        send(client, "after", 5000);
        s.run();
        assertEquals("after", receive(server, from), "the port is still bound, in the new version's table");
        SockAddr[] name = new SockAddr[1];
        assertEquals(0, sys.getsockname(server, name));
        assertEquals(new SockAddr(LOCALHOST, 5000), name[0]);
    }

    @Test
    void datagramsArrivingDuringTheUpdateWaitInIpv4AndAreDelivered() {
        int server = bound(5000);
        int client = bound(5001);
        long unknownBefore = s.ipv4.counters(s.ns).get("IpInUnknownProtos");
        send(client, "meanwhile", 5000); // on lo's queue: the softirq runs it while no UDP is registered
        s.update(UdpProtocol.STATE_VERSION, s::run);
        s.run();
        assertEquals("meanwhile", receive(server, new SockAddr[1]));
        assertEquals(unknownBefore, s.ipv4.counters(s.ns).get("IpInUnknownProtos"), "no protocol unreachable");
    }

    @Test
    void optionsAndCountersAreKept() {
        int server = bound(5000);
        assertEquals(0, sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_RCVBUF, 65536));
        assertEquals(0, sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1));
        assertEquals(0, sys.setsockopt(server, SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, 7));
        int client = bound(5001);
        send(client, "one", 5000);
        s.run();
        receive(server, new SockAddr[1]);
        long in = s.count(UdpMib.Counter.InDatagrams);
        s.update(UdpProtocol.STATE_VERSION, () -> {
        });
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(server, SOL_SOCKET, SocketCalls.SO_RCVBUF, v));
        assertEquals(131072, v[0]);
        assertEquals(1, sys.getsockopt(server, SOL_SOCKET, SocketCalls.SO_REUSEADDR, v));
        assertEquals(1, v[0]);
        assertEquals(1, sys.getsockopt(server, SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, v));
        assertEquals(7, v[0]);
        assertEquals(in, s.count(UdpMib.Counter.InDatagrams), "the new version's Udp MIB continues the old one's");
        assertEquals(1L, s.sockets.counters(s.ns).get("HandOverSocketsAdopted") / 2, "both sockets adopted");
    }

    @Test
    void aNonBlockingCallOnAParkedDescriptorIsEagainAndABlockingOneWaitsForTheNewSocket() throws Exception {
        int server = bound(5000);
        int client = bound(5001);
        CompletableFuture<Integer> blocked = new CompletableFuture<>();
        s.update(UdpProtocol.STATE_VERSION, () -> {
            assertEquals(-Errno.EAGAIN.number(), sys.recvfrom(server, ByteBuffer.allocate(16), MSG_DONTWAIT, null));
            Thread.ofVirtual().start(() -> blocked.complete(sys.recvfrom(server, ByteBuffer.allocate(16), 0, null)));
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            assertTrue(!blocked.isDone(), "a blocking call waits while the socket is parked");
        });
        send(client, "wake", 5000);
        s.run();
        assertEquals(4, blocked.get(5, TimeUnit.SECONDS), "the waiting recvfrom reads from the new socket");
    }

    @Test
    void aStateVersionTheNewVersionCannotReadIsRefusedAndTheSocketsClose() {
        int server = bound(5000);
        s.update(UdpProtocol.STATE_VERSION + 1, () -> {
        });
        assertEquals(-Errno.EBADF.number(), sys.recvfrom(server, ByteBuffer.allocate(16), MSG_DONTWAIT, null));
        assertEquals(1L, s.sockets.counters(s.ns).get("HandOverRefused"));
        assertEquals(1L, s.sockets.counters(s.ns).get("HandOverSocketsClosed"));
        int fresh = bound(5000); // the port is free again; traffic goes on through a fresh socket
        int client = bound(5001);
        send(client, "fresh", 5000);
        s.run();
        assertEquals("fresh", receive(fresh, new SockAddr[1]));
    }

    @Test
    void withoutAnUpdateRemovingUdpClosesItsSocketsAndAnswersProtocolUnreachableAsBefore() {
        int server = bound(5000);
        UdpProtocol old = s.udp;
        s.ipv4.removeProtocol(old, java.util.Map.of(org.modnet.api.inet.InetProtocol.PROTOCOL, 17));
        s.sockets.removeProtocol(old);
        assertEquals(-Errno.EBADF.number(), sys.recvfrom(server, ByteBuffer.allocate(16), MSG_DONTWAIT, null));
        long unknown = s.ipv4.counters(s.ns).get("IpInUnknownProtos");
        int raw = sys.socket(AF_INET, SOCK_DGRAM, 0);
        assertTrue(raw < 0, "no UDP to make a socket with");
        assertEquals(unknown, s.ipv4.counters(s.ns).get("IpInUnknownProtos"));
    }
}

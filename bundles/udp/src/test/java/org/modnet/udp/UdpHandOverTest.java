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

    @Test
    void udpSegmentsGsoSizeIsKeptAndASendAfterTheUpdateIsStillCutIntoDatagramsOfIt() {
        int server = bound(5000);
        int client = bound(5001);
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_UDP, SocketCalls.UDP_SEGMENT, 1000));
        s.update(UdpProtocol.STATE_VERSION, () -> {
        });
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(client, SocketCalls.IPPROTO_UDP, SocketCalls.UDP_SEGMENT, v));
        assertEquals(1000, v[0], "UDP_SEGMENT read back from the new version's socket");
        byte[] b = new byte[2500];
        assertEquals(2500, sys.sendto(client, ByteBuffer.wrap(b), 0, new SockAddr(LOCALHOST, 5000)));
        s.run();
        int[] sizes = new int[4];
        int n = 0;
        for (int got; n < sizes.length && (got = sys.recvfrom(server, ByteBuffer.allocate(4096), MSG_DONTWAIT, null)) >= 0; n++) {
            sizes[n] = got;
        }
        assertEquals(3, n, "one send of 2500 bytes, cut into datagrams of 1000");
        assertEquals(java.util.List.of(1000, 1000, 500), java.util.List.of(sizes[0], sizes[1], sizes[2]));
    }

    @Test
    void aDepositWithoutGsoSizeReadsAsOff() {
        int client = bound(5001);
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_UDP, SocketCalls.UDP_SEGMENT, 1000));
        org.modnet.api.handover.SocketState st = s.udp.net(s.ns).sockets().get(0).handOver();
        java.util.Map<String, Long> older = new java.util.HashMap<>(st.extra());
        older.remove("gsoSize");
        org.modnet.api.handover.SocketState old = new org.modnet.api.handover.SocketState(st.id(), st.namespace(), st.family(),
                st.type(), st.protocol(), st.state(), st.localAddress(), 0, st.boundAddress(), st.remoteAddress(),
                st.remotePort(), st.shutdown(), st.error(), st.options(), st.receiveQueue(), st.drops(), older);
        UdpSock adopted = new UdpSock(s.udp.net(s.ns), old);
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(client, SocketCalls.IPPROTO_UDP, SocketCalls.UDP_SEGMENT, v));
        assertEquals(1000, v[0]);
        try {
            adopted.getOption(SocketCalls.IPPROTO_UDP, SocketCalls.UDP_SEGMENT, v);
        } catch (org.modnet.socket.api.SockException e) {
            throw new AssertionError(e);
        }
        assertEquals(0, v[0], "an older deposit's socket has UDP_SEGMENT off");
    }

    @Test
    void priorityMarkRecvttlBusyPollAndPacingAreKept() {
        int fd = bound(5000);
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_PRIORITY, 5));
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_MARK, 0x42));
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVTTL, 1));
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, 0x10));
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DO));
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1));
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_BROADCAST, 1));
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_REUSEPORT, 1));
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_SNDBUF, 8192));
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_BUSY_POLL, 50));
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_PREFER_BUSY_POLL, 1));
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, 16));
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_MAX_PACING_RATE, 125000));
        int[][] opts = { { SOL_SOCKET, SocketCalls.SO_PRIORITY, 5 }, { SOL_SOCKET, SocketCalls.SO_MARK, 0x42 },
                { SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVTTL, 1 }, { SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, 0x10 },
                { SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DO },
                { SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1 }, { SOL_SOCKET, SocketCalls.SO_BROADCAST, 1 },
                { SOL_SOCKET, SocketCalls.SO_REUSEPORT, 1 }, { SOL_SOCKET, SocketCalls.SO_SNDBUF, 16384 },
                { SOL_SOCKET, SocketCalls.SO_BUSY_POLL, 50 }, { SOL_SOCKET, SocketCalls.SO_PREFER_BUSY_POLL, 1 },
                { SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, 16 }, { SOL_SOCKET, SocketCalls.SO_MAX_PACING_RATE, 125000 } };
        s.update(UdpProtocol.STATE_VERSION, () -> {
        });
        int[] v = new int[1];
        for (int[] o : opts) {
            assertEquals(1, sys.getsockopt(fd, o[0], o[1], v), "option " + o[1]);
            assertEquals(o[2], v[0], "level " + o[0] + " option " + o[1] + " after the update");
        }
        int[] tv = new int[2];
        assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 3, 250000));
        s.update(UdpProtocol.STATE_VERSION, () -> {
        });
        assertEquals(2, sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_RCVTIMEO, tv));
        assertEquals(java.util.List.of(3, 250000), java.util.List.of(tv[0], tv[1]), "SO_RCVTIMEO");
    }

    @Test
    void aReuseportGroupKeepsItsOrderSoEachFlowStaysOnItsSocket() {
        int[] members = new int[4];
        for (int i = 0; i < members.length; i++) {
            members[i] = sys.socket(AF_INET, SOCK_DGRAM, 0);
            assertEquals(0, sys.setsockopt(members[i], SOL_SOCKET, SocketCalls.SO_REUSEPORT, 1));
            assertEquals(0, sys.bind(members[i], new SockAddr(LOCALHOST, 5000)));
        }
        int[] clients = new int[16];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = bound(6000 + i);
        }
        int[] before = owners(members, clients);
        s.update(UdpProtocol.STATE_VERSION, () -> {
        });
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(owners(members, clients)),
                "each client's flow reaches the member it reached before the update");
    }

    /** Which member each client's datagram reaches. */
    private int[] owners(int[] members, int[] clients) {
        int[] owner = new int[clients.length];
        for (int c = 0; c < clients.length; c++) {
            send(clients[c], "c" + c, 5000);
            s.run();
            owner[c] = -1;
            for (int m = 0; m < members.length; m++) {
                if (sys.recvfrom(members[m], ByteBuffer.allocate(16), MSG_DONTWAIT, null) >= 0) {
                    owner[c] = m;
                }
            }
        }
        return owner;
    }

    @Test
    void theSocketFilterAndItsLockMoveToTheAdoptedSocket() {
        int server = bound(5000);
        int client = bound(5001);
        int[] released = new int[1];
        org.modnet.socket.api.Sock.Filter dropX = new org.modnet.socket.api.Sock.Filter() {
            @Override
            public long run(org.modnet.socket.api.Sock sk, org.modnet.api.skb.SkBuff skb) {
                return skb.getU8(skb.data() + UdpSock.HEADER) == 'x' ? 0 : skb.len();
            }

            @Override
            public long[] classic() {
                return null;
            }

            @Override
            public void release() {
                released[0]++;
            }
        };
        UdpSock sk = s.udp.net(s.ns).sockets().stream().filter(u -> u.port() == 5000).findFirst().orElseThrow();
        try {
            sk.attachFilter(dropX);
        } catch (org.modnet.socket.api.SockException e) {
            throw new AssertionError(e);
        }
        assertEquals(0, sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_LOCK_FILTER, 1));
        s.update(UdpProtocol.STATE_VERSION, () -> {
        });
        send(client, "xdropped", 5000);
        send(client, "kept", 5000);
        s.run();
        assertEquals("kept", receive(server, new SockAddr[1]), "the filter still drops what it dropped");
        assertEquals(-Errno.EAGAIN.number(), sys.recvfrom(server, ByteBuffer.allocate(16), MSG_DONTWAIT, null));
        assertEquals(0, released[0], "the old socket's close did not release the filter the new one runs");
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(server, SOL_SOCKET, SocketCalls.SO_LOCK_FILTER, v));
        assertEquals(1, v[0], "SO_LOCK_FILTER");
        assertEquals(-Errno.EPERM.number(), sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_DETACH_FILTER, 0));
    }

    @Test
    void theErrorQueueIsKeptWithItsExtendedErrorsPayloadsTtlAndTheSocketsPendingError() {
        int client = bound(5001);
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1));
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVTTL, 1));
        send(client, "ping", 9);
        s.run();
        assertEquals(-Errno.ECONNREFUSED.number(), sys.sendto(client, ByteBuffer.wrap("second".getBytes(StandardCharsets.UTF_8)), 0,
                new SockAddr(LOCALHOST, 9)), "the pending error, reported by the next send");
        send(client, "second", 9);
        s.run();
        s.update(UdpProtocol.STATE_VERSION, () -> {
        });
        int[] err = new int[1];
        assertEquals(1, sys.getsockopt(client, SOL_SOCKET, SocketCalls.SO_ERROR, err));
        assertEquals(Errno.ECONNREFUSED.number(), err[0], "sk_err kept");
        org.modnet.socket.api.MsgHdr m = new org.modnet.socket.api.MsgHdr(null, ByteBuffer.allocate(16));
        assertEquals(4, sys.recvmsg(client, m, SocketCalls.MSG_ERRQUEUE), "the first queued error, from the new version's socket");
        assertEquals("ping", new String(m.iov[0].array(), 0, 4, StandardCharsets.UTF_8), "its quoted payload");
        assertEquals(SocketCalls.MSG_ERRQUEUE, m.flags);
        assertEquals(new SockAddr(LOCALHOST, 9), m.name, "where the datagram went");
        assertEquals(new org.modnet.socket.api.SockExtendedErr(Errno.ECONNREFUSED.number(),
                org.modnet.socket.api.SockExtendedErr.SO_EE_ORIGIN_ICMP, 3, 3, 0, 0, LOCALHOST), m.extendedErr);
        assertEquals(64, m.ttl, "the TTL the ICMP error came with");
        m = new org.modnet.socket.api.MsgHdr(null, ByteBuffer.allocate(16));
        assertEquals(6, sys.recvmsg(client, m, SocketCalls.MSG_ERRQUEUE), "the second, in order");
        assertEquals(-Errno.EAGAIN.number(), sys.recvmsg(client, new org.modnet.socket.api.MsgHdr(null, ByteBuffer.allocate(8)),
                SocketCalls.MSG_ERRQUEUE));
    }
}

package org.modnet.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_DGRAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.EpollEvent;
import org.modnet.socket.api.MsgHdr;
import org.modnet.socket.api.PollFd;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/** UDP over lo through the BSD calls: delivery, demux, errors, buffers and counters, on a stack the test drives. */
class UdpTest {
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

    private int udpSocket() {
        int fd = sys.socket(AF_INET, SOCK_DGRAM, 0);
        assertTrue(fd >= 3, "socket: " + fd);
        return fd;
    }

    private int bound(int port) {
        int fd = udpSocket();
        assertEquals(0, sys.bind(fd, new SockAddr(LOCALHOST, port)));
        return fd;
    }

    private static ByteBuffer text(String t) {
        return ByteBuffer.wrap(t.getBytes(StandardCharsets.UTF_8));
    }

    private String receive(int fd, SockAddr[] from) {
        ByteBuffer b = ByteBuffer.allocate(2048);
        int n = sys.recvfrom(fd, b, MSG_DONTWAIT, from);
        assertTrue(n >= 0, "recvfrom: " + SocketCalls.strerror(n));
        return new String(b.array(), 0, n, StandardCharsets.UTF_8);
    }

    @Test
    void datagramArrivesWithItsSender() {
        int server = bound(5000);
        int client = udpSocket();
        assertEquals(5, sys.sendto(client, text("hello"), 0, new SockAddr(LOCALHOST, 5000)));
        s.run();
        SockAddr[] from = new SockAddr[1];
        assertEquals("hello", receive(server, from));
        SockAddr[] me = new SockAddr[1];
        sys.getsockname(client, me);
        assertEquals(new SockAddr(LOCALHOST, me[0].port()), from[0], "the sender's address and autobound port");
        int[] range = s.ipv4.localPortRange(s.ns);
        assertTrue(me[0].port() >= range[0] && me[0].port() <= range[1], "an ephemeral port from ip_local_port_range");
        // and the reply goes back to that port
        assertEquals(3, sys.sendto(server, text("hey"), 0, from[0]));
        s.run();
        assertEquals("hey", receive(client, null));
        assertEquals(2, s.count(UdpMib.Counter.OutDatagrams));
        assertEquals(2, s.count(UdpMib.Counter.InDatagrams));
        assertEquals(-Errno.EAGAIN.number(), sys.recv(server, ByteBuffer.allocate(10), MSG_DONTWAIT));
    }

    @Test
    void soPriorityIsThePriorityTheSocketsDatagramsCarryToTheQdisc() {
        int server = bound(5100);
        int client = udpSocket();
        assertEquals(0, sys.setsockopt(client, SOL_SOCKET, SocketCalls.SO_PRIORITY, 0x10010));
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(client, SOL_SOCKET, SocketCalls.SO_PRIORITY, v));
        assertEquals(0x10010, v[0]);
        int[] seen = { -1 };
        org.modnet.api.net.NetDevice lo = s.ns.device("lo");
        s.stack.qdiscHook().graft(lo, new org.modnet.api.sched.Qdisc() { // a one-frame qdisc that notes the priority
            private final org.modnet.api.sched.QdiscStats stats = new org.modnet.api.sched.QdiscStats();
            private org.modnet.api.skb.SkBuff held;

            public String kind() {
                return "note";
            }

            public int enqueue(org.modnet.api.skb.SkBuff skb) {
                seen[0] = skb.priority();
                held = skb;
                return NET_XMIT_SUCCESS;
            }

            public org.modnet.api.skb.SkBuff dequeue() {
                org.modnet.api.skb.SkBuff skb = held;
                held = null;
                return skb;
            }

            public void requeue(org.modnet.api.skb.SkBuff skb) {
                held = skb;
            }

            public int qlen() {
                return held == null ? 0 : 1;
            }

            public int backlogBytes() {
                return held == null ? 0 : held.len();
            }

            public int reset() {
                return 0;
            }

            public org.modnet.api.sched.QdiscStats stats() {
                return stats;
            }
        });
        assertEquals(5, sys.sendto(client, text("hello"), 0, new SockAddr(LOCALHOST, 5100)));
        s.run();
        assertEquals(0x10010, seen[0], "skb->priority is sk_priority");
        assertEquals("hello", receive(server, new SockAddr[1]));
        s.stack.qdiscHook().graft(lo, null);
    }

    @Test
    void soMarkIsTheMarkTheRoutingRulesSeeForTheSocketsDatagrams() throws Exception {
        org.modnet.ipv4.RouteService routes = new org.modnet.ipv4.RouteService(s.ipv4);
        routes.add(s.ns, 100, new org.modnet.api.inet.RouteEntry("blackhole", 0, 0, 0, null, 0, 0, "boot", "global"), false);
        routes.addRule(s.ns, new org.modnet.api.inet.FibRule(100, false, 0, 0, 0, 0, null, null, 7, -1, 0, 0, 0, 0, 0, 0, "table", 100,
                -1, -1));
        int client = udpSocket();
        SockAddr far = new SockAddr(0x0a090909, 5000);
        assertEquals(-Errno.ENETUNREACH.number(), sys.sendto(client, text("x"), 0, far), "no mark: main, which has no route");
        assertEquals(0, sys.setsockopt(client, SOL_SOCKET, SocketCalls.SO_MARK, 7));
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(client, SOL_SOCKET, SocketCalls.SO_MARK, v));
        assertEquals(7, v[0]);
        assertEquals(-Errno.EINVAL.number(), sys.sendto(client, text("x"), 0, far), "fwmark 7: table 100's blackhole");
    }

    @Test
    void connectedSocketBeatsWildcardAndFiltersPeers() {
        int wildcard = udpSocket();
        sys.setsockopt(wildcard, SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1);
        assertEquals(0, sys.bind(wildcard, new SockAddr(0, 6000)));
        int connected = udpSocket();
        sys.setsockopt(connected, SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1);
        assertEquals(0, sys.bind(connected, new SockAddr(0, 6000)));
        int peer = bound(6001);
        int other = bound(6002);
        assertEquals(0, sys.connect(connected, new SockAddr(LOCALHOST, 6001)));
        sys.sendto(peer, text("from-peer"), 0, new SockAddr(LOCALHOST, 6000));
        sys.sendto(other, text("from-other"), 0, new SockAddr(LOCALHOST, 6000));
        s.run();
        assertEquals("from-peer", receive(connected, null), "the connected socket scores higher");
        assertEquals("from-other", receive(wildcard, null), "others go to the wildcard");
        assertEquals(-Errno.EAGAIN.number(), sys.recv(connected, ByteBuffer.allocate(10), MSG_DONTWAIT));
        SockAddr[] p = new SockAddr[1];
        assertEquals(0, sys.getpeername(connected, p));
        assertEquals(new SockAddr(LOCALHOST, 6001), p[0]);
        // AF_UNSPEC dissolves the association
        assertEquals(0, sys.connect(connected, null));
        assertEquals(-Errno.ENOTCONN.number(), sys.getpeername(connected, p));
    }

    @Test
    void closedPortAnswersIcmpAndConnectedSocketGetsEconnrefused() {
        int client = udpSocket();
        assertEquals(0, sys.connect(client, new SockAddr(LOCALHOST, 9)));
        assertEquals(4, sys.send(client, text("ping"), 0));
        s.run();
        assertEquals(1, s.count(UdpMib.Counter.NoPorts));
        assertEquals(1L, s.ipv4.counters(s.ns).get("IcmpOutDestUnreachs"));
        PollFd[] p = { new PollFd(client, SocketCalls.POLLIN) };
        assertEquals(1, sys.poll(p, 0));
        assertTrue((p[0].revents & SocketCalls.POLLERR) != 0, "the error is pollable");
        assertEquals(-Errno.ECONNREFUSED.number(), sys.recv(client, ByteBuffer.allocate(10), MSG_DONTWAIT));
        assertEquals(-Errno.EAGAIN.number(), sys.recv(client, ByteBuffer.allocate(10), MSG_DONTWAIT), "reported once");
        // an unconnected socket does not hear of it (no IP_RECVERR)
        int loose = udpSocket();
        sys.sendto(loose, text("x"), 0, new SockAddr(LOCALHOST, 9));
        s.run();
        assertEquals(2, s.count(UdpMib.Counter.NoPorts));
        assertEquals(-Errno.EAGAIN.number(), sys.recv(loose, ByteBuffer.allocate(10), MSG_DONTWAIT));
        assertEquals(0L, s.ipv4.counters(s.ns).get("IcmpInErrors"), "each error found its socket");
    }

    @Test
    void aConnectedSocketsNextSendAfterAPortUnreachableFailsWithEconnrefusedAndClearsIt() {
        int client = udpSocket();
        assertEquals(0, sys.connect(client, new SockAddr(LOCALHOST, 9)));
        assertEquals(4, sys.send(client, text("ping"), 0));
        s.run();
        // udp_sendmsg -> sock_alloc_send_pskb: sk_err is returned, and taken, before anything is sent
        assertEquals(-Errno.ECONNREFUSED.number(), sys.send(client, text("ping"), 0));
        assertEquals(1, s.count(UdpMib.Counter.OutDatagrams), "the failed send sent nothing");
        assertEquals(1, s.count(UdpMib.Counter.NoPorts));
        assertEquals(4, sys.send(client, text("ping"), 0), "reported once: the send after goes out");
        s.run();
        assertEquals(2, s.count(UdpMib.Counter.OutDatagrams));
        assertEquals(-Errno.ECONNREFUSED.number(), sys.sendto(client, text("ping"), 0, new SockAddr(LOCALHOST, 9)),
                "sendto with an address fails alike");
    }

    @Test
    void withIpRecverrAnUnconnectedSocketReadsTheIcmpErrorFromItsErrorQueue() {
        int client = udpSocket();
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1));
        assertEquals(4, sys.sendto(client, text("ping"), 0, new SockAddr(LOCALHOST, 9)));
        s.run();
        PollFd[] p = { new PollFd(client, SocketCalls.POLLIN) };
        assertEquals(1, sys.poll(p, 0));
        assertTrue((p[0].revents & SocketCalls.POLLERR) != 0, "a queued error is pollable");
        MsgHdr m = new MsgHdr(null, ByteBuffer.allocate(2));
        assertEquals(2, sys.recvmsg(client, m, SocketCalls.MSG_ERRQUEUE), "the quoted payload, cut to the buffer");
        assertEquals(SocketCalls.MSG_ERRQUEUE | SocketCalls.MSG_TRUNC, m.flags);
        assertEquals(new SockAddr(LOCALHOST, 9), m.name, "where the datagram went");
        assertEquals(new org.modnet.socket.api.SockExtendedErr(Errno.ECONNREFUSED.number(),
                org.modnet.socket.api.SockExtendedErr.SO_EE_ORIGIN_ICMP, 3, 3, 0, 0, LOCALHOST), m.extendedErr);
        assertEquals(-Errno.EAGAIN.number(), sys.recvmsg(client, new MsgHdr(null, ByteBuffer.allocate(8)), SocketCalls.MSG_ERRQUEUE));
        assertEquals(-Errno.EAGAIN.number(), sys.recv(client, ByteBuffer.allocate(10), MSG_DONTWAIT), "sk_err went with the last entry");
    }

    @Test
    void ipRecvttlTellsTheTtlTheIcmpErrorCameWith() {
        int client = udpSocket();
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1));
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVTTL, 1));
        assertEquals(4, sys.sendto(client, text("ping"), 0, new SockAddr(LOCALHOST, 9)));
        s.run();
        MsgHdr m = new MsgHdr(null, ByteBuffer.allocate(8));
        assertEquals(4, sys.recvmsg(client, m, SocketCalls.MSG_ERRQUEUE));
        assertEquals(64, m.ttl, "the port unreachable left with ip_default_ttl and crossed no router");
    }

    @Test
    void aDatagramAboveThePathMtuQueuesALocalEmsgsizeWithTheMtuForIpRecverr() throws Exception {
        var dev = s.ns.register(org.modnet.api.net.DeviceSetup.ether("d0", "test"), (skb, d) -> {
            skb.free();
            return org.modnet.api.net.TxResult.OK;
        });
        dev.addAddress(new org.modnet.api.net.IfAddress(java.net.InetAddress.getByName("10.0.0.1"), 24,
                java.net.InetAddress.getByName("10.0.0.255"), "global", "d0"));
        dev.open();
        int fd = udpSocket();
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DO));
        SockAddr far = new SockAddr(0x0a000002, 44444);
        assertEquals(-Errno.EMSGSIZE.number(), sys.sendto(fd, ByteBuffer.allocate(2000), 0, far));
        assertEquals(-Errno.EAGAIN.number(), sys.recvmsg(fd, new MsgHdr(null, ByteBuffer.allocate(8)), SocketCalls.MSG_ERRQUEUE),
                "nothing queued without IP_RECVERR");
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1));
        assertEquals(-Errno.EMSGSIZE.number(), sys.sendto(fd, ByteBuffer.allocate(2000), 0, far));
        // ip_local_error: origin LOCAL, ee_info the MTU, the destination without a port (unconnected), no payload
        MsgHdr m = new MsgHdr(null, ByteBuffer.allocate(8));
        assertEquals(0, sys.recvmsg(fd, m, SocketCalls.MSG_ERRQUEUE));
        assertEquals(new org.modnet.socket.api.SockExtendedErr(Errno.EMSGSIZE.number(),
                org.modnet.socket.api.SockExtendedErr.SO_EE_ORIGIN_LOCAL, 0, 0, 1500, 0, 0), m.extendedErr);
        assertEquals(new SockAddr(0x0a000002, 0), m.name);
        assertEquals(-1, m.ttl);
        assertEquals(1472, sys.sendto(fd, ByteBuffer.allocate(1472), 0, far), "sk_err was left alone: a send that fits goes");
    }

    @Test
    void theErrorQueueIsBoundedAndSkErrReportsItOnce() {
        int client = udpSocket();
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1));
        for (int i = 0; i < org.modnet.socket.api.Sock.ERRQUEUE_SLOTS + 4; i++) {
            sys.recv(client, ByteBuffer.allocate(10), MSG_DONTWAIT); // takes sk_err, which the next send would report
            assertEquals(1, sys.sendto(client, text("x"), 0, new SockAddr(LOCALHOST, 9)));
            s.run();
        }
        assertEquals(-Errno.ECONNREFUSED.number(), sys.recv(client, ByteBuffer.allocate(10), MSG_DONTWAIT), "the pending error first");
        int queued = 0;
        while (sys.recvmsg(client, new MsgHdr(null, ByteBuffer.allocate(8)), SocketCalls.MSG_ERRQUEUE) >= 0) {
            queued++;
        }
        assertEquals(org.modnet.socket.api.Sock.ERRQUEUE_SLOTS, queued, "the rest refused");
        assertEquals(0L, s.ipv4.counters(s.ns).get("IcmpInErrors"));
        // turned off, nothing more is queued
        assertEquals(0, sys.setsockopt(client, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 0));
        sys.sendto(client, text("x"), 0, new SockAddr(LOCALHOST, 9));
        s.run();
        assertEquals(-Errno.EAGAIN.number(), sys.recvmsg(client, new MsgHdr(null, ByteBuffer.allocate(8)), SocketCalls.MSG_ERRQUEUE));
    }

    @Test
    void anIcmpErrorForASocketThatIsGoneCountsIcmpInErrors() {
        int client = udpSocket();
        assertEquals(0, sys.connect(client, new SockAddr(LOCALHOST, 9)));
        assertEquals(4, sys.send(client, text("ping"), 0));
        assertEquals(0, sys.close(client)); // gone before the port unreachable comes back
        s.run();
        assertEquals(1L, s.ipv4.counters(s.ns).get("IcmpInDestUnreachs"));
        assertEquals(1L, s.ipv4.counters(s.ns).get("IcmpInErrors"), "__udp4_lib_err found no socket");
    }

    @Test
    void fullReceiveBufferCountsRcvbufErrors() {
        int server = bound(7000);
        assertEquals(0, sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_RCVBUF, 1));
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(server, SOL_SOCKET, SocketCalls.SO_RCVBUF, v));
        assertEquals(2304, v[0], "SOCK_MIN_RCVBUF");
        int client = udpSocket();
        for (int i = 0; i < 10; i++) {
            sys.sendto(client, ByteBuffer.allocate(100), 0, new SockAddr(LOCALHOST, 7000));
            s.run();
        }
        long errors = s.count(UdpMib.Counter.RcvbufErrors);
        assertTrue(errors > 0, "some were refused");
        assertEquals(errors, s.count(UdpMib.Counter.InErrors));
        var sock = s.sockets.sockets("").stream().filter(k -> k.localAddress().port() == 7000).findFirst().orElseThrow();
        assertTrue(sock.rmemAlloc() > 0, "Recv-Q holds what was queued");
        assertEquals(errors, sock.drops());
        int queued = 0;
        while (sys.recv(server, ByteBuffer.allocate(200), MSG_DONTWAIT) == 100) {
            queued++;
        }
        assertEquals(10, queued + errors, "every datagram is either queued or counted");
        assertEquals(0, sock.rmemAlloc(), "reading gives the memory back");
        assertEquals(0, s.udp.memoryPages(s.ns));
    }

    @Test
    void udpMemLimitCountsMemErrors() throws Exception {
        s.ns.sysctl().set("net.ipv4.udp_mem", "1 1 1");
        int server = bound(7100);
        int client = udpSocket();
        for (int i = 0; i < 5; i++) {
            sys.sendto(client, ByteBuffer.allocate(1000), 0, new SockAddr(LOCALHOST, 7100));
        }
        s.run();
        assertTrue(s.count(UdpMib.Counter.MemErrors) > 0, "above udp_mem's maximum");
        assertTrue(s.udp.memoryPages(s.ns) <= 1 + 1, "the charge stays at the limit");
        while (sys.recv(server, ByteBuffer.allocate(2000), MSG_DONTWAIT) > 0) {
            // drain
        }
        assertEquals(0, s.udp.memoryPages(s.ns));
    }

    @Test
    void reuseportSpreadsFlowsOverTheGroup() {
        int a = udpSocket();
        int b = udpSocket();
        for (int fd : new int[] { a, b }) {
            assertEquals(0, sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_REUSEPORT, 1));
            assertEquals(0, sys.bind(fd, new SockAddr(LOCALHOST, 8000)));
        }
        int plain = udpSocket();
        assertEquals(-Errno.EADDRINUSE.number(), sys.bind(plain, new SockAddr(LOCALHOST, 8000)), "not in the group");
        int[] got = new int[2];
        for (int i = 0; i < 64; i++) {
            int c = udpSocket();
            sys.sendto(c, text("x"), 0, new SockAddr(LOCALHOST, 8000));
            sys.sendto(c, text("y"), 0, new SockAddr(LOCALHOST, 8000));
            s.run();
            int ra = drain(a);
            int rb = drain(b);
            assertTrue(ra == 2 && rb == 0 || ra == 0 && rb == 2, "a flow stays on one socket");
            got[0] += ra;
            got[1] += rb;
            sys.close(c);
        }
        assertTrue(got[0] > 0 && got[1] > 0, "both sockets get flows: " + got[0] + "/" + got[1]);
    }

    /** reuseport_select_sock: the flow's hash scaled onto the group (reciprocal_scale), members in the order they bound. */
    @Test
    void reuseportPicksTheMemberTheHashScalesOntoAsLinuxDoes() {
        int[] group = reuseportGroup(3);
        int unlikeRemainder = 0;
        for (int sport = 40000; sport < 40032; sport++) {
            int want = sendPicks(sport, group);
            unlikeRemainder += want != Integer.remainderUnsigned(flowHash(sport), 3) ? 1 : 0;
        }
        assertTrue(unlikeRemainder > 0, "some flows the remainder would send elsewhere");
    }

    /** reuseport_detach_sock: the group's last member takes the place of the one that closed. */
    @Test
    void reuseportCloseMovesTheLastMemberIntoTheClosedOnesPlace() {
        int[] group = reuseportGroup(4);
        sys.close(group[1]);
        int movedPicked = 0;
        for (int sport = 40000; sport < 40032; sport++) {
            movedPicked += sendPicks(sport, group[0], group[3], group[2]) != 0 ? 1 : 0;
        }
        assertTrue(movedPicked > 0, "some flows hash onto the slots whose member bind order would change");
    }

    /** n UDP sockets with SO_REUSEPORT bound to 127.0.0.1:8000, in bind order. */
    private int[] reuseportGroup(int n) {
        int[] group = new int[n];
        for (int k = 0; k < n; k++) {
            group[k] = udpSocket();
            assertEquals(0, sys.setsockopt(group[k], SOL_SOCKET, SocketCalls.SO_REUSEPORT, 1));
            assertEquals(0, sys.bind(group[k], new SockAddr(LOCALHOST, 8000)));
        }
        return group;
    }

    private static int flowHash(int sport) {
        return org.modnet.api.skb.FlowDissector.jhash3words(LOCALHOST, LOCALHOST, 8000 << 16 | sport, UdpNet.UDP_EHASH_SECRET);
    }

    /**
     * Sends one datagram from 127.0.0.1:sport to port 8000 and checks that the group's member in the slot
     * the flow's hash scales onto (reciprocal_scale) got it and no other did; returns that slot.
     */
    private int sendPicks(int sport, int... slots) {
        int want = (int) (((flowHash(sport) & 0xffffffffL) * slots.length) >>> 32);
        int c = udpSocket();
        assertEquals(0, sys.bind(c, new SockAddr(LOCALHOST, sport)));
        sys.sendto(c, text("x"), 0, new SockAddr(LOCALHOST, 8000));
        s.run();
        for (int k = 0; k < slots.length; k++) {
            assertEquals(k == want ? 1 : 0, drain(slots[k]), "port " + sport + ": slot " + want);
        }
        sys.close(c);
        return want;
    }

    private int drain(int fd) {
        int n = 0;
        while (sys.recv(fd, ByteBuffer.allocate(10), MSG_DONTWAIT) >= 0) {
            n++;
        }
        return n;
    }

    @Test
    void ephemeralPortsComeFromTheRangeAndRunOut() throws Exception {
        s.ns.sysctl().set("net.ipv4.ip_local_port_range", "40000 40001");
        assertEquals("40000\t40001", s.ns.sysctl().get("net.ipv4.ip_local_port_range"));
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 2; i++) {
            int fd = udpSocket();
            assertEquals(0, sys.bind(fd, new SockAddr(0, 0)));
            SockAddr[] me = new SockAddr[1];
            sys.getsockname(fd, me);
            ports.add(me[0].port());
        }
        assertEquals(Set.of(40000, 40001), ports);
        int third = udpSocket();
        assertEquals(-Errno.EADDRINUSE.number(), sys.bind(third, new SockAddr(0, 0)));
        assertEquals(-Errno.EAGAIN.number(), sys.sendto(third, text("x"), 0, new SockAddr(LOCALHOST, 9)), "autobind fails");
        assertTrue(s.ns.sysctl().all().containsKey("net.ipv4.udp_mem"));
    }

    @Test
    void ephemeralPortsSkipReservedOnesWhichAnExplicitBindMayStillTake() throws Exception {
        s.ns.sysctl().set("net.ipv4.ip_local_port_range", "40000 40002");
        s.ns.sysctl().set("net.ipv4.ip_local_reserved_ports", "40000,40002");
        for (int i = 0; i < 5; i++) {
            int fd = udpSocket();
            assertEquals(0, sys.bind(fd, new SockAddr(0, 0)));
            SockAddr[] me = new SockAddr[1];
            sys.getsockname(fd, me);
            assertEquals(40001, me[0].port(), "the one port not reserved");
            sys.close(fd);
        }
        int fd = udpSocket();
        assertEquals(0, sys.bind(fd, new SockAddr(0, 40000)), "a reserved port bound by number");
    }

    @Test
    void ipNonlocalBindLetsASocketBindAnAddressNotOurs() throws Exception {
        int fd = udpSocket();
        assertEquals(-Errno.EADDRNOTAVAIL.number(), sys.bind(fd, new SockAddr(0x0a0a0a0a, 5000)));
        s.ns.sysctl().set("net.ipv4.ip_nonlocal_bind", "1");
        assertEquals(0, sys.bind(fd, new SockAddr(0x0a0a0a0a, 5000)));
        SockAddr[] me = new SockAddr[1];
        sys.getsockname(fd, me);
        assertEquals(0x0a0a0a0a, me[0].address());
    }

    @Test
    void badArgumentsGetLinuxErrnos() {
        assertEquals(-Errno.EAFNOSUPPORT.number(), sys.socket(SocketCalls.AF_INET6, SOCK_DGRAM, 0));
        assertEquals(-Errno.ESOCKTNOSUPPORT.number(), sys.socket(AF_INET, SocketCalls.SOCK_STREAM, 0), "no TCP yet");
        assertEquals(-Errno.EPROTONOSUPPORT.number(), sys.socket(AF_INET, SOCK_DGRAM, 6));
        assertEquals(-Errno.EINVAL.number(), sys.socket(AF_INET, 99, 0));
        assertEquals(-Errno.EBADF.number(), sys.bind(77, new SockAddr(0, 1)));
        assertEquals(-Errno.EBADF.number(), sys.close(-1));
        int fd = udpSocket();
        assertEquals(-Errno.EFAULT.number(), sys.bind(fd, null));
        assertEquals(-Errno.EFAULT.number(), sys.send(fd, null, 0));
        assertEquals(-Errno.EADDRNOTAVAIL.number(), sys.bind(fd, new SockAddr(0x0a0a0a0a, 1)), "not a local address");
        assertEquals(-Errno.EDESTADDRREQ.number(), sys.send(fd, text("x"), 0));
        assertEquals(-Errno.EINVAL.number(), sys.sendto(fd, text("x"), 0, new SockAddr(LOCALHOST, 0)));
        assertEquals(-Errno.EMSGSIZE.number(), sys.sendto(fd, ByteBuffer.allocate(65508), 0, new SockAddr(LOCALHOST, 9)));
        assertEquals(-Errno.ENETUNREACH.number(), sys.sendto(fd, text("x"), 0, new SockAddr(0x0a000001, 9)), "no route");
        assertEquals(-Errno.ENOPROTOOPT.number(), sys.setsockopt(fd, 999, 1, 1));
        assertEquals(-Errno.ENOPROTOOPT.number(), sys.setsockopt(fd, SOL_SOCKET, 999, 1));
        assertEquals(-Errno.EINVAL.number(), sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_RCVBUF));
        assertEquals(-Errno.EDOM.number(), sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 0, 1_000_000));
        assertEquals(-Errno.EINVAL.number(), sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, 256));
        assertEquals(-Errno.EOPNOTSUPP.number(), sys.listen(fd, 5));
        assertEquals(-Errno.EOPNOTSUPP.number(), sys.accept(fd, null, 0));
        assertEquals(-Errno.EINVAL.number(), sys.shutdown(fd, 7));
        assertEquals(-Errno.ENOTCONN.number(), sys.shutdown(fd, SocketCalls.SHUT_RD), "unconnected, as inet_shutdown says");
        assertEquals(0, sys.recv(fd, ByteBuffer.allocate(1), 0), "after SHUT_RD an empty queue reads 0");
        SockAddr[] me = new SockAddr[1];
        sys.getsockname(fd, me);
        assertNotEquals(0, me[0].port(), "a send binds the socket, even one that fails (inet_send_prepare)");
        assertEquals(-Errno.EINVAL.number(), sys.bind(fd, new SockAddr(0, 0)), "already bound");
        int ep = sys.epollCreate();
        assertEquals(-Errno.EINVAL.number(), sys.epollCtl(ep, 9, fd, SocketCalls.EPOLLIN, 0));
        assertEquals(-Errno.ENOENT.number(), sys.epollCtl(ep, SocketCalls.EPOLL_CTL_DEL, fd, 0, 0));
        assertEquals(-Errno.ENOTSOCK.number(), sys.recv(ep, ByteBuffer.allocate(1), 0));
        assertEquals(-Errno.EFAULT.number(), sys.recvmsg(fd, new MsgHdr(null, (ByteBuffer) null), 0));
    }

    @Test
    void optionsReadBackAsLinuxReportsThem() throws Exception {
        int fd = udpSocket();
        int[] v = new int[2];
        sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_RCVBUF, v);
        assertEquals(212992, v[0], "net.core.rmem_default");
        s.ns.sysctl().set("net.core.wmem_max", "10000");
        sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_SNDBUF, 1_000_000);
        sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_SNDBUF, v);
        assertEquals(20000, v[0], "capped at wmem_max, doubled");
        sys.getsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, v);
        assertEquals(64, v[0], "ip_default_ttl");
        sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, 7);
        sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, 0x10);
        sys.getsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, v);
        assertEquals(7, v[0]);
        assertEquals(2, sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_LINGER, v));
        sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_LINGER, 1, 5);
        sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_LINGER, v);
        assertArrayEquals(new int[] { 1, 5 }, v);
        sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 1, 500_000);
        sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_RCVTIMEO, v);
        assertArrayEquals(new int[] { 1, 500_000 }, v);
        sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_TYPE, v);
        assertEquals(SOCK_DGRAM, v[0]);
        assertEquals(0, sys.fcntl(fd, SocketCalls.F_SETFL, SocketCalls.O_NONBLOCK));
        assertEquals(SocketCalls.O_NONBLOCK, sys.fcntl(fd, SocketCalls.F_GETFL, 0) & SocketCalls.O_NONBLOCK);
        assertEquals(-Errno.EAGAIN.number(), sys.recv(fd, ByteBuffer.allocate(1), 0), "non-blocking");
        // TTL and TOS reach the wire: a datagram to ourselves carries them in its IP header
        int server = bound(7300);
        sys.sendto(fd, text("t"), 0, new SockAddr(LOCALHOST, 7300));
        s.run();
        MsgHdr m = new MsgHdr(null, ByteBuffer.allocate(10));
        assertEquals(1, sys.recvmsg(server, m, MSG_DONTWAIT));
    }

    @Test
    void truncatedDatagramsSayMsgTrunc() {
        int server = bound(7400);
        int client = udpSocket();
        sys.sendto(client, text("0123456789"), 0, new SockAddr(LOCALHOST, 7400));
        sys.sendto(client, text("abcdef"), 0, new SockAddr(LOCALHOST, 7400));
        s.run();
        MsgHdr m = new MsgHdr(null, ByteBuffer.allocate(4));
        assertEquals(4, sys.recvmsg(server, m, MSG_DONTWAIT | SocketCalls.MSG_PEEK));
        assertEquals(SocketCalls.MSG_TRUNC, m.flags & SocketCalls.MSG_TRUNC);
        assertEquals(10, sys.recv(server, ByteBuffer.allocate(4), MSG_DONTWAIT | SocketCalls.MSG_TRUNC), "the real length");
        ByteBuffer a = ByteBuffer.allocate(3);
        ByteBuffer b = ByteBuffer.allocate(10);
        assertEquals(6, sys.recvmsg(server, new MsgHdr(null, a, b), MSG_DONTWAIT), "scattered");
        assertEquals("abc", new String(a.array(), StandardCharsets.UTF_8));
        assertEquals("def", new String(b.array(), 0, 3, StandardCharsets.UTF_8));
    }

    @Test
    void pollAndEpollSeeArrivals() {
        int server = bound(7500);
        int client = udpSocket();
        int ep = sys.epollCreate();
        assertEquals(0, sys.epollCtl(ep, SocketCalls.EPOLL_CTL_ADD, server, SocketCalls.EPOLLIN, 42));
        EpollEvent[] events = { new EpollEvent(), new EpollEvent() };
        assertEquals(0, sys.epollWait(ep, events, 0));
        PollFd[] p = { new PollFd(server, SocketCalls.POLLIN), new PollFd(client, SocketCalls.POLLOUT) };
        assertEquals(1, sys.poll(p, 0), "only the client is writable");
        sys.sendto(client, text("x"), 0, new SockAddr(LOCALHOST, 7500));
        s.run();
        assertEquals(2, sys.poll(p, 0));
        assertEquals(SocketCalls.POLLIN, p[0].revents & SocketCalls.POLLIN);
        assertEquals(1, sys.epollWait(ep, events, 0));
        assertEquals(42, events[0].data);
        assertEquals(1, sys.epollWait(ep, events, 0), "level-triggered: still ready");
        sys.recv(server, ByteBuffer.allocate(10), MSG_DONTWAIT);
        assertEquals(0, sys.epollWait(ep, events, 0));
        assertEquals(0, sys.epollCtl(ep, SocketCalls.EPOLL_CTL_MOD, server, SocketCalls.EPOLLIN | SocketCalls.EPOLLET, 7));
        sys.sendto(client, text("y"), 0, new SockAddr(LOCALHOST, 7500));
        s.run();
        assertEquals(1, sys.epollWait(ep, events, 0));
        assertEquals(0, sys.epollWait(ep, events, 0), "edge-triggered: once per arrival");
        sys.close(server);
        assertEquals(0, sys.epollWait(ep, events, 0), "a closed socket leaves the interest list");
    }

    @Test
    void descriptorsAreTheLowestFreeAndLimited() {
        int a = udpSocket();
        int b = udpSocket();
        assertEquals(3, a);
        assertEquals(4, b);
        sys.close(a);
        assertEquals(3, udpSocket());
        int last = 0;
        for (int i = 0; i < SocketCalls.RLIMIT_NOFILE; i++) {
            last = sys.socket(AF_INET, SOCK_DGRAM, 0);
            if (last < 0) {
                break;
            }
        }
        assertEquals(-Errno.EMFILE.number(), last);
        sys.close();
        assertEquals(0, s.sockets.sockets("").size(), "the process's exit closed them all");
    }

    @Test
    void datagramsCarryDfUnlessIpMtuDiscoverIsDontAndFragmentsNever() throws Exception {
        java.util.List<org.modnet.api.skb.SkBuff> wire = new java.util.ArrayList<>();
        var dev = s.ns.register(org.modnet.api.net.DeviceSetup.ether("d0", "test"), (skb, d) -> {
            wire.add(skb);
            return org.modnet.api.net.TxResult.OK;
        });
        dev.addAddress(new org.modnet.api.net.IfAddress(java.net.InetAddress.getByName("10.0.0.1"), 24,
                java.net.InetAddress.getByName("10.0.0.255"), "global", "d0"));
        dev.open();
        int sender = udpSocket();
        assertEquals(0, sys.setsockopt(sender, SOL_SOCKET, SocketCalls.SO_BROADCAST, 1)); // broadcast: no ARP
        SockAddr bcast = new SockAddr(0x0a0000ff, 9999);
        java.util.function.IntSupplier fragField = () -> {
            org.modnet.api.skb.SkBuff f = wire.removeFirst();
            int v = f.getU16(f.data() + 14 + 6);
            f.free();
            return v;
        };
        assertEquals(5, sys.sendto(sender, text("hello"), 0, bcast));
        s.run();
        assertEquals(0x4000, fragField.getAsInt(), "IP_PMTUDISC_WANT (the default): DF");
        assertEquals(0, sys.setsockopt(sender, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DONT));
        assertEquals(5, sys.sendto(sender, text("hello"), 0, bcast));
        s.run();
        assertEquals(0, fragField.getAsInt(), "IP_PMTUDISC_DONT: no DF");
        assertEquals(0, sys.setsockopt(sender, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DO));
        assertEquals(5, sys.sendto(sender, text("hello"), 0, bcast));
        s.run();
        assertEquals(0x4000, fragField.getAsInt(), "IP_PMTUDISC_DO: DF");
        assertEquals(0, sys.setsockopt(sender, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_WANT));
        assertEquals(3000, sys.sendto(sender, ByteBuffer.allocate(3000), 0, bcast));
        s.run();
        assertEquals(3, wire.size(), "3008 bytes in fragments of the 1500-byte MTU");
        assertEquals(0x2000, fragField.getAsInt(), "first fragment: MF, no DF");
        assertEquals(0x2000 | 1480 / 8, fragField.getAsInt());
        assertEquals(2960 / 8, fragField.getAsInt(), "last fragment: neither");
    }

    @Test
    void broadcastNeedsSoBroadcastAndReachesWildcardSockets() throws Exception {
        java.util.List<org.modnet.api.skb.SkBuff> wire = new java.util.ArrayList<>();
        var dev = s.ns.register(org.modnet.api.net.DeviceSetup.ether("d0", "test"), (skb, d) -> {
            wire.add(skb);
            return org.modnet.api.net.TxResult.OK;
        });
        dev.addAddress(new org.modnet.api.net.IfAddress(java.net.InetAddress.getByName("10.0.0.1"), 24,
                java.net.InetAddress.getByName("10.0.0.255"), "global", "d0"));
        dev.open();
        int any = udpSocket();
        sys.setsockopt(any, SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1);
        assertEquals(0, sys.bind(any, new SockAddr(0, 9999)));
        int specific = udpSocket();
        sys.setsockopt(specific, SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1);
        assertEquals(0, sys.bind(specific, new SockAddr(0x0a000001, 9999)));
        int sender = udpSocket();
        SockAddr bcast = new SockAddr(0x0a0000ff, 9999);
        assertEquals(-Errno.EACCES.number(), sys.sendto(sender, text("x"), 0, bcast));
        assertEquals(-Errno.EACCES.number(), sys.connect(sender, bcast));
        assertEquals(0, sys.setsockopt(sender, SOL_SOCKET, SocketCalls.SO_BROADCAST, 1));
        assertEquals(5, sys.sendto(sender, text("hello"), 0, bcast));
        s.run();
        assertEquals(1, wire.size(), "sent on d0 without ARP");
        org.modnet.api.skb.SkBuff frame = wire.get(0);
        assertEquals(0xffff, frame.getU16(frame.data()), "to the Ethernet broadcast address");
        assertEquals(0xffffffff, frame.getU32(frame.data() + 2));
        // the frame comes back in, as another host's broadcast would; its source is our own address,
        // which the input route refuses as a martian unless accept_local (fib_validate_source)
        s.ns.sysctl().set("net.ipv4.conf.d0.accept_local", "1");
        dev.rxQueue(0).receive(frame);
        s.run();
        SockAddr[] from = new SockAddr[1];
        assertEquals("hello", receive(any, from));
        assertEquals(0x0a000001, from[0].address());
        assertEquals(-Errno.EAGAIN.number(), sys.recv(specific, ByteBuffer.allocate(10), MSG_DONTWAIT), "not bound");
    }

    /**
     * A frame into lo's receive ring: Ethernet, a valid IPv4 header 127.0.0.1 -> 127.0.0.1, and
     * {@code udp} as the IP payload (whatever it holds).
     */
    private void inject(byte[] udp) {
        org.modnet.api.skb.SkBuff skb = s.stack.core().allocSkb(14 + 20 + udp.length, 64);
        int o = skb.put(14 + 20 + udp.length);
        skb.setBytes(o, new byte[14 + 20], 0, 14 + 20); // pooled buffers hold what was there before
        skb.setU16(o + 12, org.modnet.api.net.Eth.ETH_P_IP);
        int h = o + 14;
        skb.setU8(h, 0x45);
        skb.setU16(h + 2, 20 + udp.length);
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, 17);
        skb.setU32(h + 12, LOCALHOST);
        skb.setU32(h + 16, LOCALHOST);
        skb.setU16(h + 10, org.modnet.api.inet.InetChecksum.checksum(skb, h, 20));
        skb.setBytes(h + 20, udp, 0, udp.length);
        assertTrue(s.ns.device("lo").rxQueue(0).receive(skb));
        s.run();
    }

    /** A UDP datagram to port 7600 with a correct checksum (or {@code check} when it is not -1) and length field {@code ulen}. */
    private static byte[] datagram(String payload, int ulen, int check) {
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + p.length);
        b.putShort((short) 1234).putShort((short) 7600).putShort((short) ulen).putShort((short) 0).put(p);
        byte[] d = b.array();
        if (check == -1) {
            int n = Math.min(ulen, d.length);
            long sum = (LOCALHOST >>> 16) * 2 + (LOCALHOST & 0xffff) * 2 + 17 + n;
            for (int i = 0; i < n; i += 2) {
                sum += ((d[i] & 0xff) << 8) | (i + 1 < n ? d[i + 1] & 0xff : 0);
            }
            while ((sum >>> 16) != 0) {
                sum = (sum & 0xffff) + (sum >>> 16);
            }
            check = (int) (~sum & 0xffff);
        }
        d[6] = (byte) (check >>> 8);
        d[7] = (byte) check;
        return d;
    }

    @Test
    void malformedDatagramsAreDroppedAndCounted() {
        int server = bound(7600);
        inject(new byte[] { 1, 2, 3, 4, 5 }); // shorter than the header
        assertEquals(1, s.count(UdpMib.Counter.InErrors));
        inject(datagram("hello", 200, -1)); // length field beyond what arrived
        assertEquals(2, s.count(UdpMib.Counter.InErrors));
        inject(datagram("hello", 4, -1)); // length field below the header
        assertEquals(3, s.count(UdpMib.Counter.InErrors));
        inject(datagram("hello", 13, 0x1234)); // a wrong checksum
        assertEquals(1, s.count(UdpMib.Counter.InCsumErrors));
        assertEquals(4, s.count(UdpMib.Counter.InErrors));
        assertEquals(-Errno.EAGAIN.number(), sys.recv(server, ByteBuffer.allocate(100), MSG_DONTWAIT), "none was delivered");
        inject(datagram("hello", 13, -1)); // correct
        inject(datagram("zero!", 13, 0)); // no checksum at all: accepted
        inject(datagram("trailing", 8 + 3, -1)); // the length field says 3 bytes: the rest is padding
        assertEquals("hello", receive(server, null));
        assertEquals("zero!", receive(server, null));
        assertEquals("tra", receive(server, null));
        assertEquals(4, s.count(UdpMib.Counter.InErrors), "nothing more was counted as an error");
        assertEquals(0, s.count(UdpMib.Counter.NoPorts));
    }

    @Test
    void randomGarbageNeverThrowsAndEndsOnACounter() {
        java.util.Random r = new java.util.Random(5);
        bound(7600);
        for (int i = 0; i < 2000; i++) {
            byte[] junk = new byte[r.nextInt(40)];
            r.nextBytes(junk);
            if (junk.length >= 4) {
                junk[2] = (byte) (7600 >>> 8); // mostly to our port
                junk[3] = (byte) 7600;
            }
            inject(junk);
        }
        long ended = s.count(UdpMib.Counter.InErrors) + s.count(UdpMib.Counter.NoPorts) + queued(7600);
        assertEquals(2000, ended, "every datagram is counted somewhere");
    }

    private long queued(int port) {
        var sock = s.sockets.sockets("").stream().filter(k -> k.localAddress().port() == port).findFirst().orElseThrow();
        int fd = 3;
        long n = 0;
        while (sys.recv(fd, ByteBuffer.allocate(100), MSG_DONTWAIT) >= 0) {
            n++;
        }
        return n + sock.drops();
    }

    /** Runs the softirqs on another thread, as the stack's own threads would, while the test blocks. */
    private java.util.concurrent.Future<?> softirqs(java.util.concurrent.atomic.AtomicBoolean stop) {
        return java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor().submit(() -> {
            while (!stop.get()) {
                s.run();
                Thread.onSpinWait();
            }
        });
    }

    @Test
    void blockingCallsWaitAndWake() throws Exception {
        int server = bound(7700);
        int client = udpSocket();
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        var running = softirqs(stop);
        try {
            var later = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                sys.sendto(client, text("late"), 0, new SockAddr(LOCALHOST, 7700));
            });
            ByteBuffer b = ByteBuffer.allocate(10);
            assertEquals(4, sys.recv(server, b, 0), "a blocking recv waits for the datagram");
            later.get();
            // poll with a timeout wakes on arrival
            PollFd[] p = { new PollFd(server, SocketCalls.POLLIN) };
            java.util.concurrent.CompletableFuture.runAsync(() -> sys.sendto(client, text("x"), 0, new SockAddr(LOCALHOST, 7700)));
            assertEquals(1, sys.poll(p, 10_000));
            // epoll_wait too
            int ep = sys.epollCreate();
            sys.recv(server, ByteBuffer.allocate(10), 0);
            sys.epollCtl(ep, SocketCalls.EPOLL_CTL_ADD, server, SocketCalls.EPOLLIN, 5);
            java.util.concurrent.CompletableFuture.runAsync(() -> sys.sendto(client, text("y"), 0, new SockAddr(LOCALHOST, 7700)));
            EpollEvent[] ev = { new EpollEvent() };
            assertEquals(1, sys.epollWait(ep, ev, 10_000));
            assertEquals(5, ev[0].data);
            sys.recv(server, ByteBuffer.allocate(10), 0);
            // SO_RCVTIMEO: EAGAIN when it runs out
            sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 0, 50_000);
            assertEquals(-Errno.EAGAIN.number(), sys.recv(server, ByteBuffer.allocate(10), 0));
            assertEquals(0, sys.poll(p, 20), "nothing arrived: poll times out");
            // close from another thread wakes a blocked reader with EBADF
            sys.setsockopt(server, SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 0, 0);
            var reader = java.util.concurrent.CompletableFuture.supplyAsync(() -> sys.recv(server, ByteBuffer.allocate(10), 0));
            Thread.sleep(50);
            sys.close(server);
            assertEquals(-Errno.EBADF.number(), (int) reader.get(5, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            stop.set(true);
            running.get();
        }
    }

    @Test
    void javaChannelsAndSelectorsOverTheSameSockets() throws Exception {
        var provider = s.sockets.provider("");
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        var running = softirqs(stop);
        try (var server = provider.openDatagramChannel(); var client = provider.openDatagramChannel();
                var selector = provider.openSelector()) {
            server.bind(new java.net.InetSocketAddress("127.0.0.1", 7800));
            server.configureBlocking(false);
            assertEquals(null, server.receive(ByteBuffer.allocate(10)), "non-blocking: nothing queued");
            var key = server.register(selector, java.nio.channels.SelectionKey.OP_READ, "att");
            assertEquals(0, selector.selectNow());
            java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(50);
                    client.send(ByteBuffer.wrap("sel".getBytes(StandardCharsets.UTF_8)), new java.net.InetSocketAddress("127.0.0.1", 7800));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertEquals(1, selector.select(10_000));
            assertTrue(selector.selectedKeys().contains(key));
            assertEquals(java.nio.channels.SelectionKey.OP_READ, key.readyOps());
            assertEquals("att", key.attachment());
            ByteBuffer b = ByteBuffer.allocate(10);
            var from = (java.net.InetSocketAddress) server.receive(b);
            assertEquals("sel", new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
            assertEquals(((java.net.InetSocketAddress) client.getLocalAddress()).getPort(), from.getPort());
            // wakeup() ends a select that has nothing to report
            java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                selector.wakeup();
            });
            selector.selectedKeys().clear();
            assertEquals(0, selector.select());
            key.cancel();
            selector.selectNow();
            assertTrue(selector.keys().isEmpty(), "a cancelled key leaves at the next select");
            assertThrows(java.nio.channels.IllegalBlockingModeException.class, () -> {
                server.configureBlocking(true);
                server.register(selector, java.nio.channels.SelectionKey.OP_READ);
            });
            // a connected channel: read and write, and the ICMP error as Java's exception
            client.connect(new java.net.InetSocketAddress("127.0.0.1", 9));
            client.write(ByteBuffer.wrap(new byte[] { 1 }));
            Thread.sleep(100);
            assertThrows(java.net.PortUnreachableException.class, () -> client.read(ByteBuffer.allocate(10)));
            assertThrows(java.net.BindException.class, () -> provider.openDatagramChannel().bind(new java.net.InetSocketAddress("127.0.0.1", 7800)));
        } finally {
            stop.set(true);
            running.get();
        }
    }

    @Test
    void datagramSocketSendsReceivesAndTimesOut() throws Exception {
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        var running = softirqs(stop);
        try (java.net.DatagramSocket a = s.sockets.datagramSocket(""); java.net.DatagramSocket b = s.sockets.datagramSocket("")) {
            b.bind(new java.net.InetSocketAddress("127.0.0.1", 7900));
            assertEquals(7900, b.getLocalPort());
            byte[] hi = "hi there".getBytes(StandardCharsets.UTF_8);
            a.send(new java.net.DatagramPacket(hi, hi.length, java.net.InetAddress.getByName("127.0.0.1"), 7900));
            java.net.DatagramPacket in = new java.net.DatagramPacket(new byte[100], 100);
            b.setSoTimeout(5000);
            b.receive(in);
            assertEquals("hi there", new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8));
            assertEquals(a.getLocalPort(), in.getPort());
            b.setSoTimeout(50);
            assertThrows(java.net.SocketTimeoutException.class, () -> b.receive(new java.net.DatagramPacket(new byte[10], 10)));
        } finally {
            stop.set(true);
            running.get();
        }
    }
}

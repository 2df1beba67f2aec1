package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.NetdevFeatures;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;
import org.modnet.drivers.veth.VethDriver;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * GSO and checksum offload end to end: one bulk connection between two namespaces over a veth pair
 * (TSO and tx-checksumming on, as Linux's veth has them), the GSO skbs a tap sees, and what a device
 * without TSO gets when the core cuts such an skb in software.
 */
class TcpGsoTest {
    private static final int A = 0x0a000001;
    private static final int B = 0x0a000002;

    private TcpStack s;
    private NetNamespace nb;
    private NetDevice va;
    private SocketCalls sa;
    private SocketCalls sb;
    /** Copies of what the tap saw leave va: GSO skbs whole. */
    private final List<SkBuff> outgoing = new ArrayList<>();
    private boolean keep = true;

    @BeforeEach
    void setUp() throws Exception {
        s = new TcpStack();
        nb = s.stack.core().addNamespace("B");
        va = new VethDriver().create(s.ns, "va", List.of("peer", "name", "vb"));
        NetDevice vb = s.ns.device("vb");
        vb.setNamespace(nb);
        address(va, "10.0.0.1");
        address(vb, "10.0.0.2");
        sa = s.process();
        sb = s.sockets.process("test", "B");
        s.stack.addHandler(Eth.ETH_P_ALL, (skb, dev) -> {
            if (keep && dev == va && skb.pktType() == PktType.OUTGOING && skb.len() > 100) {
                outgoing.add(skb.copy());
            }
            skb.free();
        });
    }

    @AfterEach
    void tearDown() {
        outgoing.forEach(SkBuff::free);
        sa.close();
        sb.close();
        s.close();
    }

    private static void address(NetDevice d, String ip) throws Exception {
        d.addAddress(new IfAddress(InetAddress.getByName(ip), 24, InetAddress.getByName("10.0.0.255"), "global", d.name()));
        d.open();
    }

    /** A connection from A to B with 1 MB buffers; returns {client, server}. */
    private int[] connect() {
        int l = sb.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sb.bind(l, new SockAddr(B, 5001)));
        assertEquals(0, sb.listen(l, 8));
        int c = sa.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sa.setsockopt(c, SOL_SOCKET, SocketCalls.SO_SNDBUF, 1 << 20));
        sa.connect(c, new SockAddr(B, 5001));
        s.run();
        int srv = sb.accept(l, null, SOCK_NONBLOCK);
        assertTrue(srv >= 3, "accept: " + SocketCalls.strerror(srv));
        return new int[] { c, srv };
    }

    /** Moves {@code data} from A to B, the clock moving 1 ms a round; what B read. */
    private byte[] move(int c, int srv, byte[] data) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.allocate(1 << 16);
        int sent = 0;
        for (int round = 0; round < 5000 && got.size() < data.length; round++) {
            if (sent < data.length) {
                int n = sa.send(c, ByteBuffer.wrap(data, sent, data.length - sent), MSG_DONTWAIT);
                if (n > 0) {
                    sent += n;
                }
            }
            s.run();
            int r;
            while ((r = sb.recv(srv, in.clear(), MSG_DONTWAIT)) > 0) {
                got.write(in.array(), 0, r);
            }
            s.advance(1);
        }
        return got.toByteArray();
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(14).nextBytes(b);
        return b;
    }

    @Test
    void bulkDataCrossesTheVethInGsoSkbsIntactAndCountedBySegment() {
        int[] fds = connect();
        byte[] data = random(2 << 20);
        assertArrayEquals(data, move(fds[0], fds[1], data));
        int mss = s.sockets.sockets("").stream().filter(k -> k.remoteAddress().port() == 5001).findFirst().orElseThrow().tcpInfo()
                .sndMss();
        SkBuff big = outgoing.stream().filter(SkBuff::isGso).findFirst().orElse(null);
        assertNotNull(big, "GSO skbs left va");
        assertEquals(mss, big.gsoSize());
        assertEquals(NetdevFeatures.SKB_GSO_TCPV4, big.gsoType());
        assertTrue(big.len() > va.mtu(), "one skb larger than the MTU: " + big.len());
        long skbs = va.stats().get(DeviceStats.Field.TX_PACKETS);
        long segs = s.tcp.net(s.ns).mib.get(TcpMib.Tcp.OutSegs);
        assertTrue(segs > skbs * 2, "OutSegs counts segments (" + segs + "), the device skbs (" + skbs + ")");
        var server = s.sockets.sockets("B").stream().filter(k -> k.localAddress().port() == 5001 && k.remoteAddress().port() != 0)
                .findFirst().orElseThrow().tcpInfo();
        assertEquals(mss, server.rcvMss(), "rcv_mss from gso_size (tcp_measure_rcv_mss)");
        assertTrue(server.dataSegsIn() >= data.length / mss, "segs_in counts gso_segs: " + server.dataSegsIn());
    }

    @Test
    void aDeviceWithoutTsoGetsTheGsoSkbAsMssFramesWithGoodChecksums() throws Exception {
        int[] fds = connect();
        byte[] data = random(256 << 10);
        assertArrayEquals(data, move(fds[0], fds[1], data));
        SkBuff big = outgoing.stream().filter(k -> k.isGso() && k.gsoSegs() > 3).findFirst().orElseThrow();
        assertSame(Checksum.PARTIAL, big.ipSummed());
        List<SkBuff> frames = new ArrayList<>();
        NetDevice d0 = s.ns.register(DeviceSetup.ether("d0", "test"), (skb, d) -> {
            frames.add(skb);
            return TxResult.OK;
        });
        d0.open();
        int nh = big.networkHeader();
        int ihl = (big.getU8(nh) & 0xf) * 4;
        int th = nh + ihl;
        int thlen = (big.getU8(th + 12) >>> 4) * 4;
        int seq0 = big.getU32(th + 4);
        int id0 = big.getU16(nh + 4);
        int payload = big.len() - (th + thlen - big.data());
        byte[] want = new byte[payload];
        big.getBytes(th + thlen, want, 0, payload);
        boolean psh = (big.getU8(th + 13) & TcpHeader.PSH) != 0;
        SkBuff copy = big.copy();
        copy.dev(d0);
        s.stack.core().devQueueXmit(copy);
        try {
            assertEquals(big.gsoSegs(), frames.size());
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            for (int i = 0; i < frames.size(); i++) {
                SkBuff f = frames.get(i);
                int h = f.data() + 14;
                int t = h + ihl;
                int tot = f.getU16(h + 2);
                assertTrue(tot <= d0.mtu(), "frame " + i + " fits the MTU: " + tot);
                assertEquals(f.len() - 14, tot);
                assertEquals((id0 + i) & 0xffff, f.getU16(h + 4), "consecutive IP ids");
                assertTrue(InetChecksum.verify(f, h, ihl), "IP header checksum of frame " + i);
                int segLen = tot - ihl;
                int pseudo = TcpAf.inetPseudoSum(f.getU32(h + 12), f.getU32(h + 16), segLen);
                assertEquals(0xffff, TcpHeader.sum(f, t, segLen, pseudo), "TCP checksum of frame " + i);
                assertEquals(Checksum.NONE, f.ipSummed());
                assertEquals(seq0 + got.size(), f.getU32(t + 4), "sequence of frame " + i);
                boolean last = i == frames.size() - 1;
                assertEquals(last && psh, (f.getU8(t + 13) & TcpHeader.PSH) != 0, "PSH only on the last");
                assertFalse(!last && segLen - thlen != big.gsoSize(), "all but the last carry gso_size");
                byte[] p = new byte[segLen - thlen];
                f.getBytes(t + thlen, p, 0, p.length);
                got.write(p);
            }
            assertArrayEquals(want, got.toByteArray());
        } finally {
            frames.forEach(SkBuff::free);
        }
    }

    @Test
    void segmentsCarryDfUnlessIpMtuDiscoverIsDont() {
        int[] fds = connect();
        byte[] data = random(64 << 10);
        assertArrayEquals(data, move(fds[0], fds[1], data));
        assertFalse(outgoing.isEmpty());
        assertTrue(outgoing.stream().allMatch(k -> (k.getU16(k.networkHeader() + 6) & 0x4000) != 0),
                "IP_PMTUDISC_WANT, the default: every segment with DF (ip_dont_fragment)");
        outgoing.forEach(SkBuff::free);
        outgoing.clear();
        assertEquals(0, sa.setsockopt(fds[0], SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DONT));
        assertArrayEquals(data, move(fds[0], fds[1], data));
        assertFalse(outgoing.isEmpty());
        assertTrue(outgoing.stream().allMatch(k -> (k.getU16(k.networkHeader() + 6) & 0x4000) == 0), "IP_PMTUDISC_DONT: no DF");
    }

    private static boolean psh(SkBuff k) {
        int nh = k.networkHeader();
        return (k.getU8(nh + (k.getU8(nh) & 0xf) * 4 + 13) & TcpHeader.PSH) != 0;
    }

    @Test
    void everyGsoSkbCarriesPshAndAWriteEndsWithIt() {
        int[] fds = connect();
        byte[] data = random(256 << 10);
        assertArrayEquals(data, move(fds[0], fds[1], data));
        List<SkBuff> gso = outgoing.stream().filter(k -> k.isGso() && k.gsoSegs() > 1).toList();
        assertFalse(gso.isEmpty());
        assertTrue(gso.stream().allMatch(TcpGsoTest::psh), "PSH on every GSO skb (__tcp_transmit_skb since Linux 5.4)");
        assertTrue(psh(outgoing.getLast()), "the end of the write");
    }

    @Test
    void withTheLargePoolEmptyTcpSendsMssSkbsAtOnceInsteadOfWaitingForAnRto() {
        int[] fds = connect();
        List<SkBuff> hoard = new ArrayList<>();
        for (SkBuff k; (k = s.stack.core().allocSkb(60000, 64)) != null;) {
            hoard.add(k);
        }
        try {
            byte[] data = random(64 << 10);
            assertEquals(data.length, sa.send(fds[0], ByteBuffer.wrap(data), MSG_DONTWAIT));
            s.run(); // no clock movement: nothing may wait for a timer
            ByteBuffer in = ByteBuffer.allocate(data.length);
            while (in.hasRemaining() && sb.recv(fds[1], in, MSG_DONTWAIT) > 0) {
                s.run();
            }
            assertArrayEquals(data, in.array(), "everything arrived without the clock moving");
            assertFalse(outgoing.isEmpty());
            // every skb fit the normal pool's 2 KiB buffers: one MSS, or a GSO skb of one MSS and a short tail
            assertTrue(outgoing.stream().allMatch(k -> k.len() < 2048), "no skb needed a large buffer");
            assertTrue(outgoing.stream().filter(k -> k.len() > 1000).count() >= data.length / 2048, "about one skb per MSS");
            assertEquals(0, s.tcp.net(s.ns).mib.get(TcpMib.Tcp.RetransSegs));
        } finally {
            hoard.forEach(SkBuff::free);
        }
    }

    @Test
    void tcpSegmentsLargerThanTheRouteMtuAreRefusedAndTheMssFollowsTheMtu() throws Exception {
        int[] fds = connect(); // MSS 1448 from va's MTU of 1500
        va.setMtu(1000); // Linux's tcp_current_mss would see the route's MTU; here IPv4 refuses the first segment
        byte[] data = random(256 << 10);
        assertArrayEquals(data, move(fds[0], fds[1], data));
        assertTrue(s.ipv4.counters(s.ns).get("IpFragFails") > 0, "ip_fragment refused TCP's DF segments (no ignore_df)");
        assertEquals(0, s.ipv4.counters(s.ns).get("IpFragCreates"), "TCP's segments are never fragmented");
        assertTrue(outgoing.stream().allMatch(k -> k.isGso() ? k.gsoSize() + 20 + 32 <= 1000 : k.len() <= 1000 + 14),
                "every segment within the MTU, a GSO skb's too");
        int[] mss = new int[1];
        sa.getsockopt(fds[0], SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG, mss);
        assertEquals(1000 - 40 - 12, mss[0], "the MSS synced to the MTU (tcp_sync_mss), timestamps taken off");
        assertEquals(0, s.count(TcpMib.Ext.TCPTimeouts), "resent at once, not at the RTO");
    }
}

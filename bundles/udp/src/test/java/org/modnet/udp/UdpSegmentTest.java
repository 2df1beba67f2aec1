package org.modnet.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.IPPROTO_UDP;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_DGRAM;
import static org.modnet.socket.api.SocketCalls.UDP_SEGMENT;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetdevFeatures;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * UDP segmentation offload: {@code setsockopt(SOL_UDP, UDP_SEGMENT)}, a send of many datagrams as one
 * {@code SKB_GSO_UDP_L4} skb, cut by the core before a device without {@code tx-udp-segmentation} or
 * carried whole across lo and cut by the receiving UDP ({@code udp_rcv_segment}), and udp_send_skb's
 * errors.
 */
class UdpSegmentTest {
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
        assertTrue(fd >= 3);
        if (port != 0) {
            assertEquals(0, sys.bind(fd, new SockAddr(LOCALHOST, port)));
        }
        return fd;
    }

    /** Bytes 0..len-1 as (i * 7 + 3) & 0xff, so a datagram's place in the send shows in its bytes. */
    private static ByteBuffer pattern(int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        for (int i = 0; i < len; i++) {
            b.put((byte) (i * 7 + 3));
        }
        return b.flip();
    }

    /** Every datagram waiting on the socket, as byte arrays. */
    private List<byte[]> drain(int fd) {
        List<byte[]> got = new ArrayList<>();
        while (true) {
            ByteBuffer b = ByteBuffer.allocate(70000);
            int n = sys.recv(fd, b, MSG_DONTWAIT);
            if (n < 0) {
                assertEquals(-Errno.EAGAIN.number(), n);
                return got;
            }
            byte[] d = new byte[n];
            b.flip().get(d);
            got.add(d);
        }
    }

    private long loTx() {
        return s.ns.device("lo").stats().get(DeviceStats.Field.TX_PACKETS);
    }

    /** The datagrams are the send's bytes in order, gso bytes each but the last. */
    private static void assertCut(List<byte[]> got, int len, int gso) {
        assertEquals((len + gso - 1) / gso, got.size(), "datagrams");
        ByteBuffer whole = pattern(len);
        for (int i = 0; i < got.size(); i++) {
            byte[] d = got.get(i);
            assertEquals(Math.min(gso, len - i * gso), d.length, "datagram " + i + "'s length");
            for (int j = 0; j < d.length; j++) {
                assertEquals(whole.get(i * gso + j), d[j], "datagram " + i + " byte " + j);
            }
        }
    }

    @Test
    void udpSegmentReadsBackAndTakesZeroTo65535() {
        int fd = bound(0);
        int[] v = new int[1];
        assertTrue(sys.getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, v) >= 0);
        assertEquals(0, v[0], "off by default");
        assertEquals(0, sys.setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, 1400));
        sys.getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, v);
        assertEquals(1400, v[0]);
        assertEquals(-Errno.EINVAL.number(), sys.setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, -1));
        assertEquals(-Errno.EINVAL.number(), sys.setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, 65536));
        assertEquals(0, sys.setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, 65535));
        sys.getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, v);
        assertEquals(65535, v[0]);
    }

    @Test
    void withoutTxUdpSegmentationTheCoreCutsTheSendIntoDatagramsOnTheWire() throws Exception {
        s.ns.device("lo").setFeature("tx-udp-segmentation", false);
        int server = bound(5000);
        int client = bound(0);
        assertEquals(0, sys.setsockopt(client, IPPROTO_UDP, UDP_SEGMENT, 1000));
        long tx = loTx();
        long out = s.count(UdpMib.Counter.OutDatagrams);
        long in = s.count(UdpMib.Counter.InDatagrams);
        assertEquals(3500, sys.sendto(client, pattern(3500), 0, new SockAddr(LOCALHOST, 5000)));
        s.run();
        assertEquals(4, loTx() - tx, "four frames crossed lo");
        assertCut(drain(server), 3500, 1000);
        assertEquals(1, s.count(UdpMib.Counter.OutDatagrams) - out, "udp_send_skb counts the send once");
        assertEquals(4, s.count(UdpMib.Counter.InDatagrams) - in);
        assertEquals(0, s.count(UdpMib.Counter.InCsumErrors));
    }

    @Test
    void withTxUdpSegmentationTheSkbCrossesLoWholeAndTheReceiverCutsIt() {
        int server = bound(5000);
        int client = bound(0);
        assertEquals(0, sys.setsockopt(client, IPPROTO_UDP, UDP_SEGMENT, 1000));
        long tx = loTx();
        long in = s.count(UdpMib.Counter.InDatagrams);
        assertEquals(3500, sys.sendto(client, pattern(3500), 0, new SockAddr(LOCALHOST, 5000)));
        s.run();
        assertEquals(1, loTx() - tx, "one GSO frame crossed lo");
        assertCut(drain(server), 3500, 1000);
        assertEquals(4, s.count(UdpMib.Counter.InDatagrams) - in);
    }

    @Test
    void withoutTxChecksummingTheCoreCutsItWithCompleteChecksumsTheReceiverVerifies() throws Exception {
        s.ns.device("lo").setFeature("tx-checksumming", false); // tx-udp-segmentation stays on, unusable
        int server = bound(5000);
        int client = bound(0);
        assertEquals(0, sys.setsockopt(client, IPPROTO_UDP, UDP_SEGMENT, 1000));
        long tx = loTx();
        assertEquals(3500, sys.sendto(client, pattern(3500), 0, new SockAddr(LOCALHOST, 5000)));
        s.run();
        assertEquals(4, loTx() - tx, "cut before lo");
        assertCut(drain(server), 3500, 1000);
        assertEquals(0, s.count(UdpMib.Counter.InCsumErrors), "each datagram's checksum verified");
    }

    @Test
    void aSendNoLongerThanGsoSizeIsOneOrdinaryDatagram() throws Exception {
        s.ns.device("lo").setFeature("tx-udp-segmentation", false);
        int server = bound(5000);
        int client = bound(0);
        assertEquals(0, sys.setsockopt(client, IPPROTO_UDP, UDP_SEGMENT, 1000));
        assertEquals(1000, sys.sendto(client, pattern(1000), 0, new SockAddr(LOCALHOST, 5000)));
        assertEquals(10, sys.sendto(client, pattern(10), 0, new SockAddr(LOCALHOST, 5000)));
        s.run();
        List<byte[]> got = drain(server);
        assertEquals(2, got.size());
        assertEquals(1000, got.get(0).length);
        assertEquals(10, got.get(1).length);
    }

    @Test
    void moreThanUdpMaxSegmentsIsEinval() {
        int server = bound(5000);
        int client = bound(0);
        assertEquals(0, sys.setsockopt(server, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, 212992)); // room for 128
        assertEquals(0, sys.setsockopt(client, IPPROTO_UDP, UDP_SEGMENT, 100));
        assertEquals(-Errno.EINVAL.number(), sys.sendto(client, pattern(12801), 0, new SockAddr(LOCALHOST, 5000)));
        assertEquals(12800, sys.sendto(client, pattern(12800), 0, new SockAddr(LOCALHOST, 5000)));
        s.run();
        assertCut(drain(server), 12800, 100);
    }

    @Test
    void aDatagramAboveTheMtuIsEmsgsize() throws Exception {
        NetDevice lo = s.ns.device("lo");
        lo.setMtu(1500);
        int server = bound(5000);
        int client = bound(0);
        assertEquals(0, sys.setsockopt(client, IPPROTO_UDP, UDP_SEGMENT, 1473));
        assertEquals(-Errno.EMSGSIZE.number(), sys.sendto(client, pattern(3000), 0, new SockAddr(LOCALHOST, 5000)));
        assertEquals(1000, sys.sendto(client, pattern(1000), 0, new SockAddr(LOCALHOST, 5000)),
                "a payload under gso_size is measured as it is");
        assertEquals(0, sys.setsockopt(client, IPPROTO_UDP, UDP_SEGMENT, 1472));
        assertEquals(3000, sys.sendto(client, pattern(3000), 0, new SockAddr(LOCALHOST, 5000)),
                "the send is longer than the MTU, its datagrams are not");
        s.run();
        List<byte[]> got = drain(server);
        assertEquals(4, got.size());
        assertCut(got.subList(1, 4), 3000, 1472);
    }

    // --- the segmentation itself (inet_gso_segment and __udp_gso_segment) ---

    private static final int SADDR = 0x0a000001;
    private static final int DADDR = 0x0a000002;

    /** A UDP GSO skb as udp_send_skb leaves it, data at its IPv4 header: id 0xfffe, payload {@code len}. */
    private SkBuff gsoSkb(int len, int gso) {
        SkBuff skb = s.stack.core().allocSkb(28 + len, 64);
        int o = skb.put(28 + len);
        skb.setNetworkHeader(o);
        skb.setTransportHeader(o + 20);
        skb.protocol(Eth.ETH_P_IP);
        skb.setU8(o, 0x45);
        skb.setU16(o + 2, 28 + len);
        skb.setU16(o + 4, 0xfffe);
        skb.setU16(o + 6, 0x4000);
        skb.setU8(o + 8, 64);
        skb.setU8(o + 9, 17);
        skb.setU32(o + 12, SADDR);
        skb.setU32(o + 16, DADDR);
        skb.setU16(o + 10, InetChecksum.checksum(skb, o, 20));
        skb.setU16(o + 20, 4000);
        skb.setU16(o + 22, 5000);
        skb.setU16(o + 24, 8 + len);
        ByteBuffer p = pattern(len);
        for (int i = 0; i < len; i++) {
            skb.setU8(o + 28 + i, p.get(i) & 0xff);
        }
        skb.setU16(o + 26, UdpOffload.partialCheck(SADDR, DADDR, 8 + len));
        skb.csumPartial(o + 20, 6);
        skb.gso(gso, (len + gso - 1) / gso, NetdevFeatures.SKB_GSO_UDP_L4);
        return skb;
    }

    @Test
    void eachDatagramHasItsOwnLengthsChecksumsAndId() {
        SkBuff skb = gsoSkb(2500, 1000);
        List<SkBuff> segs = new ArrayList<>();
        assertEquals(3, s.ipv4.gsoSegment(skb, 0, segs::add));
        skb.free();
        ByteBuffer whole = pattern(2500);
        for (int i = 0; i < 3; i++) {
            SkBuff seg = segs.get(i);
            int nh = seg.networkHeader();
            int th = seg.transportHeader();
            int n = i < 2 ? 1000 : 500;
            assertEquals(20 + 8 + n, seg.len(), "segment " + i);
            assertEquals(28 + n, seg.getU16(nh + 2), "IPv4 total length");
            assertEquals((0xfffe + i) & 0xffff, seg.getU16(nh + 4), "IPv4 ids follow on, wrapping");
            assertEquals(0, InetChecksum.checksum(seg, nh, 20), "the IPv4 header checksum verifies");
            assertEquals(8 + n, seg.getU16(th + 4), "UDP length");
            assertEquals(Checksum.NONE, seg.ipSummed(), "complete for a device without tx-checksumming");
            assertTrue(seg.getU16(th + 6) != 0, "a checksum is sent");
            assertEquals(0xffff, UdpSock.checksum(seg, th, 8 + n, SADDR, DADDR), "the UDP checksum verifies");
            for (int j = 0; j < n; j++) {
                assertEquals(whole.get(i * 1000 + j) & 0xff, seg.getU8(th + 8 + j));
            }
            seg.free();
        }
    }

    @Test
    void forADeviceThatSumsTheDatagramsAreLeftPartialOverTheirOwnPseudoHeader() {
        SkBuff skb = gsoSkb(1500, 1000);
        List<SkBuff> segs = new ArrayList<>();
        assertEquals(2, s.ipv4.gsoSegment(skb, NetdevFeatures.NETIF_F_HW_CSUM, segs::add));
        skb.free();
        for (SkBuff seg : segs) {
            int th = seg.transportHeader();
            int len = seg.getU16(th + 4);
            assertEquals(Checksum.PARTIAL, seg.ipSummed());
            assertEquals(th, seg.csumStart());
            assertEquals(6, seg.csumOffset());
            assertEquals(UdpOffload.partialCheck(SADDR, DADDR, len), seg.getU16(th + 6));
            assertTrue(InetChecksum.complete(seg), "the device's sum");
            assertEquals(0xffff, UdpSock.checksum(seg, th, len, SADDR, DADDR), "the completed checksum verifies");
            seg.free();
        }
    }

    @Test
    void aGsoSkbTheReceiverCutsGetsConsecutiveIdsAndValidHeaders() {
        SkBuff skb = gsoSkb(2100, 700);
        skb.pull(20); // at its UDP header, as IPv4 hands it up
        SkBuff seg = UdpOffload.rcvSegment(s.stack.core(), skb);
        for (int i = 0; i < 3; i++) {
            assertTrue(seg != null, "segment " + i);
            int nh = seg.networkHeader();
            assertEquals(seg.data(), seg.transportHeader(), "data at the UDP header");
            assertEquals(28 + 700, seg.getU16(nh + 2));
            assertEquals((0xfffe + i) & 0xffff, seg.getU16(nh + 4));
            assertEquals(0, InetChecksum.checksum(seg, nh, 20));
            assertEquals(708, seg.getU16(seg.data() + 4));
            assertEquals(0xffff, UdpSock.checksum(seg, seg.data(), 708, SADDR, DADDR));
            SkBuff next = seg.next();
            seg.next(null);
            seg.free();
            seg = next;
        }
        assertEquals(null, seg);
    }
}

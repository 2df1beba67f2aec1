package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;
import org.modnet.drivers.loopback.Loopback;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;

/**
 * A CLOSED port through the real receive path (device, IPv4, TCP): every segment but a reset is
 * answered with the reset RFC 9293 3.10.7.1 and {@code tcp_v4_send_reset} make, bad segments are
 * dropped on the counters {@code tcp_v4_rcv} moves, and nothing answers a broadcast.
 */
class TcpResetTest {
    private static final int PEER = 0x0a000001; // 10.0.0.1, on the wire
    private static final int LOCAL = 0x0a000002; // 10.0.0.2, ours
    private static final MacAddress PEER_MAC = MacAddress.parse("02:00:00:00:00:01");

    private StandaloneCore stack;
    private TcpProtocol tcp;
    private NetNamespace ns;
    private NetDevice d0;
    private final List<SkBuff> wire = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 4096, System::nanoTime);
        ArpProtocol arp = new ArpProtocol(stack.core());
        Ipv4Protocol ipv4 = new Ipv4Protocol(stack.core(), arp);
        tcp = new TcpProtocol(stack.core(), ipv4);
        stack.addPernet(new Loopback(), 0);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addPernet(tcp, 20);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        ipv4.addProtocol(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.addOffload(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        stack.addOffload(Eth.ETH_P_IP, ipv4);
        ns = stack.core().initNet();
        d0 = ns.register(DeviceSetup.ether("d0", "test"), (skb, d) -> {
            wire.add(skb);
            return TxResult.OK;
        });
        d0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, InetAddress.getByName("10.0.0.255"),
                "global", "d0"));
        d0.open();
        arp.add(d0, PEER, PEER_MAC, NudState.PERMANENT, false);
    }

    @AfterEach
    void tearDown() {
        for (SkBuff skb : wire) {
            skb.free();
        }
        stack.shutdown();
    }

    private long count(TcpMib.Tcp c) {
        return tcp.net(ns).mib.get(c);
    }

    /** A frame from the peer to {@code daddr}: Ethernet to d0's MAC, IPv4, and a TCP header with no options. */
    private void receive(int daddr, int flags, int seq, int ack, int payload, boolean breakChecksum, int doff) {
        int tcpLen = 20 + payload;
        SkBuff skb = stack.core().allocSkb(14 + 20 + tcpLen, 64);
        int o = skb.put(14 + 20 + tcpLen);
        skb.setBytes(o, new byte[14 + 20 + tcpLen], 0, 14 + 20 + tcpLen);
        long mac = daddr == -1 ? 0xffffffffffffL : d0.address().bits();
        skb.setU16(o, (int) (mac >>> 32));
        skb.setU32(o + 2, (int) mac);
        skb.setU16(o + 6, (int) (PEER_MAC.bits() >>> 32));
        skb.setU32(o + 8, (int) PEER_MAC.bits());
        skb.setU16(o + 12, Eth.ETH_P_IP);
        int h = o + 14;
        skb.setU8(h, 0x45);
        skb.setU8(h + 1, 0x10 | 0x02); // TOS low delay, ECT(0)
        skb.setU16(h + 2, 20 + tcpLen);
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, 6);
        skb.setU32(h + 12, PEER);
        skb.setU32(h + 16, daddr);
        skb.setU16(h + 10, InetChecksum.checksum(skb, h, 20));
        int th = h + 20;
        TcpHeader.write(skb, th, 40000, 5000, seq, ack, flags, 64240, 0);
        if (doff != 5) {
            skb.setU8(th + TcpHeader.DOFF, doff << 4);
        }
        TcpHeader.setChecksum(skb, th, tcpLen, TcpAf.inetPseudoSum(PEER, daddr, tcpLen));
        if (breakChecksum) {
            skb.setU16(th + TcpHeader.CHECK, skb.getU16(th + TcpHeader.CHECK) ^ 0x0101);
        }
        assertTrue(d0.rxQueue(0).receive(skb));
        stack.run();
    }

    /** The one frame sent since the last call, checked as an IPv4 TCP segment; its TCP header offset. */
    private SkBuff sentSegment() {
        assertEquals(1, wire.size(), "one frame on the wire");
        SkBuff f = wire.remove(0);
        int h = f.data() + 14;
        assertEquals(Eth.ETH_P_IP, f.getU16(f.data() + 12));
        assertEquals(6, f.getU8(h + 9), "TCP");
        assertEquals(LOCAL, f.getU32(h + 12), "from the address the segment was sent to");
        assertEquals(PEER, f.getU32(h + 16));
        assertEquals(0x10, f.getU8(h + 1), "the segment's TOS without its ECN bits");
        int th = h + 20;
        assertEquals(40, f.getU16(h + 2), "20 + 20 bytes: no options, no data");
        assertEquals(0xffff, TcpHeader.sum(f, th, 20, TcpAf.inetPseudoSum(LOCAL, PEER, 20)), "checksum verifies");
        f.pull(th - f.data());
        return f;
    }

    @Test
    void aSynToAClosedPortIsAnsweredWithRstAckAcknowledgingTheSyn() {
        receive(LOCAL, TcpHeader.SYN, 1_000_000, 0, 0, false, 5);
        SkBuff rst = sentSegment();
        int th = rst.data();
        assertEquals(5000, rst.getU16(th), "from the port it was sent to");
        assertEquals(40000, rst.getU16(th + 2));
        assertEquals(0, rst.getU32(th + TcpHeader.SEQ), "SEQ=0");
        assertEquals(1_000_001, rst.getU32(th + TcpHeader.ACK_SEQ), "ACK=SEG.SEQ+1 for the SYN");
        assertEquals(TcpHeader.RST | TcpHeader.ACK, rst.getU8(th + TcpHeader.FLAGS));
        assertEquals(0, rst.getU16(th + TcpHeader.WINDOW));
        assertEquals(5 << 4, rst.getU8(th + TcpHeader.DOFF));
        rst.free();
        assertEquals(1, count(TcpMib.Tcp.InSegs));
        assertEquals(1, count(TcpMib.Tcp.OutSegs));
        assertEquals(1, count(TcpMib.Tcp.OutRsts));
    }

    @Test
    void aSegmentWithAckIsAnsweredWithRstAtItsAckNumber() {
        receive(LOCAL, TcpHeader.ACK | TcpHeader.PSH, 7, 0x89abcdef, 100, false, 5);
        SkBuff rst = sentSegment();
        int th = rst.data();
        assertEquals(0x89abcdef, rst.getU32(th + TcpHeader.SEQ), "SEQ=SEG.ACK");
        assertEquals(0, rst.getU32(th + TcpHeader.ACK_SEQ));
        assertEquals(TcpHeader.RST, rst.getU8(th + TcpHeader.FLAGS), "RST alone");
        rst.free();
    }

    @Test
    void dataAndFinCountInTheAcknowledgedLength() {
        receive(LOCAL, TcpHeader.FIN | TcpHeader.PSH, -10, 0, 25, false, 5);
        SkBuff rst = sentSegment();
        assertEquals(-10 + 25 + 1, rst.getU32(rst.data() + TcpHeader.ACK_SEQ), "wraps: SEG.SEQ+LEN+FIN");
        rst.free();
    }

    @Test
    void aResetIsNeverAnswered() {
        receive(LOCAL, TcpHeader.RST, 5, 0, 0, false, 5);
        receive(LOCAL, TcpHeader.RST | TcpHeader.ACK, 5, 9, 0, false, 5);
        assertEquals(0, wire.size());
        assertEquals(2, count(TcpMib.Tcp.InSegs));
        assertEquals(0, count(TcpMib.Tcp.OutRsts));
    }

    @Test
    void aBroadcastSegmentGetsNoReset() {
        receive(0x0a0000ff, TcpHeader.SYN, 1, 0, 0, false, 5); // the subnet's broadcast address
        assertEquals(0, wire.size(), "RTN_LOCAL only");
        assertEquals(0, count(TcpMib.Tcp.OutRsts));
    }

    @Test
    void badSegmentsAreDroppedOnTcpV4RcvsCountersAndAnswerNothing() {
        receive(LOCAL, TcpHeader.SYN, 1, 0, 0, true, 5);
        assertEquals(1, count(TcpMib.Tcp.InCsumErrors));
        assertEquals(1, count(TcpMib.Tcp.InErrs));
        receive(LOCAL, TcpHeader.SYN, 1, 0, 0, false, 4); // data offset below 5 words
        assertEquals(2, count(TcpMib.Tcp.InErrs));
        receive(LOCAL, TcpHeader.SYN, 1, 0, 0, false, 15); // 60-byte header in a 20-byte segment
        assertEquals(2, count(TcpMib.Tcp.InErrs), "truncated: dropped, no error counted");
        assertEquals(3, count(TcpMib.Tcp.InSegs), "every one counted in InSegs first");
        assertEquals(0, wire.size());
        assertEquals(0, count(TcpMib.Tcp.OutRsts));
    }

    @Test
    void theCountersAreTheMibsNstatShows() {
        receive(LOCAL, TcpHeader.SYN, 1, 0, 0, false, 5);
        wire.remove(0).free();
        Map<String, Long> c = tcp.counters(ns);
        List<String> names = new ArrayList<>(c.keySet());
        assertEquals("TcpRtoAlgorithm", names.get(0));
        assertEquals(1L, c.get("TcpRtoAlgorithm"));
        assertEquals(200L, c.get("TcpRtoMin"));
        assertEquals(1L, c.get("TcpOutRsts"));
        assertTrue(names.indexOf("TcpInCsumErrors") < names.indexOf("TcpExtSyncookiesSent"), "Tcp, then TcpExt");
        assertEquals("Tcp", tcp.mib());
    }
}

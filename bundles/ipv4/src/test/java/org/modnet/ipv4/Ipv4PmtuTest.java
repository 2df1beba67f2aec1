package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Sysctl;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/**
 * Path MTU discovery on virtual time: an ICMP "fragmentation needed" with a next-hop MTU (RFC 1191)
 * received through the input path teaches the destination's MTU for {@code net.ipv4.route.mtu_expires},
 * clamped and locked at {@code net.ipv4.route.min_pmtu}; output sends nothing larger there.
 */
class Ipv4PmtuTest {
    private static final int LOCAL = 0x0a000001; // 10.0.0.1
    private static final int ROUTER = 0x0a0000fe; // 10.0.0.254
    private static final int FAR = 0xc0000209; // 192.0.2.9

    private final long[] now = { 5_000_000_000L };
    private StandaloneCore stack;
    private Ipv4Net net;
    private NetDevice eth0;
    private Sysctl sysctl;
    /** What left for the wire: total length and the frag_off field of each packet. */
    private final List<int[]> sent = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 4096, () -> now[0]);
        NetNamespace ns = stack.core().addNamespace("h");
        eth0 = ns.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 16, null, "global", "eth0"));
        eth0.open();
        net = new Ipv4Net(ns, stack.core(), new NoNeighbours((skb, dev, nextHop) -> {
            int h = skb.data();
            sent.add(new int[] { Ipv4Header.totalLen(skb, h), Ipv4Header.fragOff(skb, h), Ipv4Header.daddr(skb, h) });
        }), new NfHooks());
        net.fib.add(new RouteEntry("unicast", 0, 0, ROUTER, eth0, 0, 0, "boot", "universe"), false);
        sysctl = ns.sysctl();
    }

    @AfterEach
    void tearDown() {
        net.exit();
        stack.shutdown();
        assertEquals(0, stack.core().pool().inUse(), "every buffer freed");
    }

    /** The router's frag-needed about a UDP datagram we sent to {@code dest}, with {@code mtu} as its next-hop MTU. */
    private SkBuff fragNeeded(int dest, int mtu) {
        int len = 20 + Icmp.HEADER + 20 + 8;
        SkBuff skb = stack.core().pool().alloc(len);
        int h = skb.put(len);
        for (int i = 0; i < len; i++) {
            skb.setU8(h + i, 0);
        }
        skb.setU8(h, 0x45);
        skb.setU16(h + Ipv4Header.TOT_LEN, len);
        skb.setU8(h + Ipv4Header.TTL, 64);
        skb.setU8(h + Ipv4Header.PROTOCOL, 1);
        skb.setU32(h + Ipv4Header.SADDR, ROUTER);
        skb.setU32(h + Ipv4Header.DADDR, LOCAL);
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, 20));
        int i = h + 20;
        skb.setU8(i, Icmp.DEST_UNREACH);
        skb.setU8(i + 1, Icmp.FRAG_NEEDED);
        skb.setU16(i + 6, mtu);
        int q = i + Icmp.HEADER; // the quoted datagram: 1500 bytes, DF, UDP to dest
        skb.setU8(q, 0x45);
        skb.setU16(q + Ipv4Header.TOT_LEN, 1500);
        skb.setU16(q + Ipv4Header.FRAG_OFF, Ipv4Header.FLAG_DF);
        skb.setU8(q + Ipv4Header.TTL, 63);
        skb.setU8(q + Ipv4Header.PROTOCOL, 17);
        skb.setU32(q + Ipv4Header.SADDR, LOCAL);
        skb.setU32(q + Ipv4Header.DADDR, dest);
        skb.setU16(q + Ipv4Header.CHECK, InetChecksum.checksum(skb, q, 20));
        skb.setU16(q + 20, 44444);
        skb.setU16(q + 22, 33434);
        skb.setU16(i + 2, InetChecksum.checksum(skb, i, Icmp.HEADER + 28));
        return skb;
    }

    /** Sends {@code payload} bytes of protocol 99 to {@code dest}, DF as asked. */
    private void send(int dest, int payload, boolean df) {
        SkBuff skb = stack.core().allocSkb(payload, 128);
        skb.put(payload);
        assertEquals(null, net.output.send(skb, 0, dest, 99, 0, 0, df));
    }

    private long nowMs() {
        return now[0] / 1_000_000;
    }

    @Test
    void aFragNeededLowersThePathMtuAndOutputFragmentsToIt() {
        send(FAR, 1480, true);
        assertEquals(1, sent.size(), "1500 bytes fit eth0 before");
        assertEquals(Ipv4Header.FLAG_DF, sent.get(0)[1]);
        assertEquals(1500, net.output.pathMtu(FAR));

        net.input.rcv(fragNeeded(FAR, 1400), eth0);
        assertEquals(1400, net.output.pathMtu(FAR));
        assertEquals(1500, net.output.pathMtu(0xc0000208), "another destination keeps the device's MTU");
        assertEquals(600, net.pmtu.expiresIn(FAR, nowMs()));

        sent.clear();
        send(FAR, 1480, true);
        assertEquals(2, sent.size(), "IP_PMTUDISC_WANT: too big for the path, sent in fragments");
        assertTrue(sent.get(0)[0] <= 1400, "first fragment " + sent.get(0)[0]);
        assertEquals(1396, sent.get(0)[0], "1376 data bytes, a multiple of 8, and the header");
        assertEquals(Ipv4Header.FLAG_MF, sent.get(0)[1], "fragments carry no DF");
        sent.clear();
        send(FAR, 1380, true);
        assertEquals(1, sent.size());
        assertEquals(Ipv4Header.FLAG_DF, sent.get(0)[1], "a packet that fits the path keeps DF");
    }

    @Test
    void theExceptionExpiresAfterMtuExpires() throws Exception {
        net.input.rcv(fragNeeded(FAR, 1400), eth0);
        now[0] += 599_000_000_000L;
        assertEquals(1400, net.output.pathMtu(FAR));
        assertEquals(1, net.pmtu.expiresIn(FAR, nowMs()));
        now[0] += 1_000_000_000L;
        assertEquals(1500, net.output.pathMtu(FAR), "600 s later the device's MTU again");
        assertEquals(-1, net.pmtu.expiresIn(FAR, nowMs()));

        sysctl.set("net.ipv4.route.mtu_expires", "30");
        net.input.rcv(fragNeeded(FAR, 1300), eth0);
        assertEquals(30, net.pmtu.expiresIn(FAR, nowMs()));
    }

    @Test
    void belowMinPmtuTheMtuIsClampedAndLockedAndDfGoes() throws Exception {
        assertEquals("552", sysctl.get("net.ipv4.route.min_pmtu"));
        assertEquals("600", sysctl.get("net.ipv4.route.mtu_expires"));
        assertEquals("0", sysctl.get("net.ipv4.ip_no_pmtu_disc"));
        net.input.rcv(fragNeeded(FAR, 300), eth0);
        assertEquals(552, net.output.pathMtu(FAR), "Linux clamps a forged tiny MTU to min_pmtu");
        assertTrue(net.pmtu.locked(FAR, nowMs()));
        send(FAR, 500, true);
        assertEquals(1, sent.size());
        assertEquals(0, sent.get(0)[1], "a locked path MTU sends without DF");
    }

    @Test
    void aLargerMtuNoMtuAndNoPmtuDiscChangeNothing() throws Exception {
        net.input.rcv(fragNeeded(FAR, 1400), eth0);
        net.input.rcv(fragNeeded(FAR, 1450), eth0);
        assertEquals(1400, net.output.pathMtu(FAR), "only ever lowered");
        net.input.rcv(fragNeeded(FAR, 9000), eth0);
        assertEquals(1400, net.output.pathMtu(FAR));
        int other = 0xc0000301;
        net.input.rcv(fragNeeded(other, 0), eth0);
        assertEquals(1500, net.output.pathMtu(other), "an RFC 792 router names no MTU");
        sysctl.set("net.ipv4.ip_no_pmtu_disc", "1");
        net.input.rcv(fragNeeded(other, 1280), eth0);
        assertEquals(1500, net.output.pathMtu(other), "ip_no_pmtu_disc ignores frag-needed");
        assertTrue(net.pmtu.ignored.get() >= 3);
    }

    @Test
    void flushCacheClearsEveryException() {
        net.input.rcv(fragNeeded(FAR, 1400), eth0);
        net.input.rcv(fragNeeded(0xc0000301, 1280), eth0);
        assertEquals(2, net.pmtu.size(nowMs()));
        net.pmtu.flush();
        assertEquals(0, net.pmtu.size(nowMs()));
        assertEquals(1500, net.output.pathMtu(FAR));
    }

    @Test
    void theTableIsBoundedAndGivesUpItsOldestCounted() {
        for (int d = 0; d < 3 * Ipv4Pmtu.SLOTS; d++) {
            now[0] += 1_000_000;
            assertEquals(1400, net.pmtu.update(0xc6000000 + d, 1400, 1500, nowMs()));
        }
        assertTrue(net.pmtu.size(nowMs()) <= Ipv4Pmtu.SLOTS);
        assertTrue(net.pmtu.reclaimed.get() >= 2 * Ipv4Pmtu.SLOTS, "reclaimed " + net.pmtu.reclaimed.get());
        int last = 0xc6000000 + 3 * Ipv4Pmtu.SLOTS - 1;
        assertEquals(1400, net.pmtu.exception(last, nowMs()), "the newest is kept");
        assertFalse(net.pmtu.locked(last, nowMs()));
    }
}

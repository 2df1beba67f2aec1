package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Sysctl;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;
import org.modnet.ipv4.IcmpMib.Counter;

/**
 * ICMP's output limits through the receive path, on virtual time: errors share the global bucket
 * ({@code icmp_msgs_burst}, {@code IcmpOutRateLimitGlobal}) and a bucket per destination
 * ({@code IcmpOutRateLimitHost}); echo replies are outside {@code icmp_ratemask}.
 */
class IcmpTest {
    private static final int LOCAL = 0x0a000001;
    private static final int SOURCES = 0x0a000100; // 10.0.1.0, 10.0.1.1, ...

    private final long[] now = { 5_000_000_000L };
    private StandaloneCore stack;
    private Ipv4Net net;
    private NetDevice eth0;
    private Sysctl sysctl;

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
        net = new Ipv4Net(ns, stack.core(), new NoNeighbours(), new NfHooks());
        sysctl = ns.sysctl();
    }

    @AfterEach
    void tearDown() {
        net.exit();
        stack.shutdown();
        assertEquals(0, stack.core().pool().inUse(), "every buffer freed");
    }

    /** A datagram for IP protocol 99, which nothing here handles: answered with protocol unreachable. */
    private SkBuff unknownProtocol(int saddr) {
        SkBuff skb = stack.core().pool().alloc(28);
        int h = skb.put(28);
        zero(skb, h, 28); // pooled buffers come back dirty
        skb.setU8(h, 0x45);
        skb.setU16(h + Ipv4Header.TOT_LEN, 28);
        skb.setU8(h + Ipv4Header.TTL, 64);
        skb.setU8(h + Ipv4Header.PROTOCOL, 99);
        skb.setU32(h + Ipv4Header.SADDR, saddr);
        skb.setU32(h + Ipv4Header.DADDR, LOCAL);
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, 20));
        return skb;
    }

    private static void zero(SkBuff skb, int at, int len) {
        for (int i = 0; i < len; i++) {
            skb.setU8(at + i, 0);
        }
    }

    private SkBuff echoRequest(int saddr) {
        SkBuff skb = stack.core().pool().alloc(20 + Icmp.HEADER + 16);
        int h = skb.put(20 + Icmp.HEADER + 16);
        zero(skb, h, 20 + Icmp.HEADER + 16);
        skb.setU8(h, 0x45);
        skb.setU16(h + Ipv4Header.TOT_LEN, 20 + Icmp.HEADER + 16);
        skb.setU8(h + Ipv4Header.TTL, 64);
        skb.setU8(h + Ipv4Header.PROTOCOL, 1);
        skb.setU32(h + Ipv4Header.SADDR, saddr);
        skb.setU32(h + Ipv4Header.DADDR, LOCAL);
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, 20));
        skb.setU8(h + 20, Icmp.ECHO);
        skb.setU16(h + 24, 77);
        skb.setU16(h + 22, InetChecksum.checksum(skb, h + 20, Icmp.HEADER + 16));
        return skb;
    }

    private long mib(Counter c) {
        return net.icmp.mib.get(c);
    }

    @Test
    void aBurstOfErrorsToManyHostsIsCappedNearIcmpMsgsBurstAndTheRestCountedGlobal() {
        for (int i = 0; i < 1820; i++) {
            net.input.rcv(unknownProtocol(SOURCES + i), eth0);
        }
        long sent = mib(Counter.OutDestUnreachs);
        // 50 credits, each message taking 0, 1 or 2 at random: about 50, never near 1820
        assertTrue(sent >= 20 && sent <= 100, "sent " + sent);
        assertEquals(sent, mib(Counter.OutMsgs));
        assertEquals(1820 - sent, mib(Counter.OutRateLimitGlobal));
        assertEquals(0, mib(Counter.OutRateLimitHost));
    }

    @Test
    void creditReturnsWithTime() {
        for (int i = 0; i < 500; i++) {
            net.input.rcv(unknownProtocol(SOURCES + i), eth0);
        }
        long first = mib(Counter.OutDestUnreachs);
        now[0] += 1_000_000_000L;
        for (int i = 500; i < 1000; i++) {
            net.input.rcv(unknownProtocol(SOURCES + i), eth0);
        }
        long second = mib(Counter.OutDestUnreachs) - first;
        assertTrue(second >= 20 && second <= 100, "a second later another burst: " + second);
    }

    @Test
    void oneHostGetsSixErrorsAndTheRestCountHost() {
        for (int i = 0; i < 20; i++) {
            net.input.rcv(unknownProtocol(SOURCES), eth0);
        }
        assertEquals(6, mib(Counter.OutDestUnreachs));
        assertEquals(14, mib(Counter.OutRateLimitHost));
        assertEquals(0, mib(Counter.OutRateLimitGlobal));
    }

    @Test
    void echoRepliesAreNotLimitedUnlessTheRatemaskSaysSo() throws Exception {
        for (int i = 0; i < 500; i++) {
            net.input.rcv(echoRequest(SOURCES), eth0);
        }
        assertEquals(500, mib(Counter.OutEchoReps));
        assertEquals(0, mib(Counter.OutRateLimitGlobal) + mib(Counter.OutRateLimitHost));
        sysctl.set("net.ipv4.icmp_ratemask", "6169"); // and echo reply
        for (int i = 0; i < 500; i++) {
            net.input.rcv(echoRequest(SOURCES), eth0);
        }
        assertEquals(506, mib(Counter.OutEchoReps), "six more, the destination's burst");
        assertEquals(494, mib(Counter.OutRateLimitHost));
    }

    @Test
    void theSysctlsHaveLinuxDefaultsAndRanges() throws Exception {
        assertEquals("1000", sysctl.get("net.ipv4.icmp_msgs_per_sec"));
        assertEquals("50", sysctl.get("net.ipv4.icmp_msgs_burst"));
        assertEquals("6168", sysctl.get("net.ipv4.icmp_ratemask"));
        assertEquals("1000", sysctl.get("net.ipv4.icmp_ratelimit"));
        assertThrows(NetException.class, () -> sysctl.set("net.ipv4.icmp_msgs_per_sec", "-1"));
        assertThrows(NetException.class, () -> sysctl.set("net.ipv4.icmp_msgs_burst", "-1"));
        sysctl.set("net.ipv4.icmp_ratemask", "-1");
        sysctl.set("net.ipv4.icmp_msgs_burst", "0");
        assertEquals("0", sysctl.get("net.ipv4.icmp_msgs_burst"));
    }

    @Test
    void theRateLimitCountersSitAfterOutErrorsAsInProcNetSnmp() {
        List<String> names = List.copyOf(net.icmp.mib.snapshot().keySet());
        int errors = names.indexOf("IcmpOutErrors");
        assertEquals("IcmpOutRateLimitGlobal", names.get(errors + 1));
        assertEquals("IcmpOutRateLimitHost", names.get(errors + 2));
    }
}

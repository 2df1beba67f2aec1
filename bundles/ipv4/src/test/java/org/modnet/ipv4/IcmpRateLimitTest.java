package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/** icmp_send's per-host rate limit ({@code icmp_ratelimit}): what it holds back is counted, as Linux 6.0+ counts it. */
class IcmpRateLimitTest {
    private static final int LOCAL = 0x0a000001;
    private static final int PEER = 0x0a000002;

    private final long[] now = { 1_000_000_000L };
    private StandaloneCore stack;
    private Ipv4Net net;
    private NetDevice eth0;

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 256, () -> now[0]);
        NetNamespace ns = stack.core().addNamespace("h");
        eth0 = ns.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        eth0.open();
        net = new Ipv4Net(ns, stack.core(), new NoNeighbours(), new NfHooks());
    }

    @AfterEach
    void tearDown() {
        net.exit();
        stack.shutdown();
        assertEquals(0, stack.core().pool().inUse(), "every packet and every error freed");
    }

    /** A packet from the peer to us for protocol 253, which nobody handles: it earns a protocol unreachable. */
    private SkBuff unknownProtocol() {
        SkBuff skb = stack.core().pool().alloc(40);
        int h = skb.put(40);
        skb.setBytes(h, new byte[40], 0, 40); // a pooled buffer holds what it held before
        skb.setU8(h, 0x45);
        skb.setU16(h + Ipv4Header.TOT_LEN, 40);
        skb.setU8(h + Ipv4Header.TTL, 64);
        skb.setU8(h + Ipv4Header.PROTOCOL, 253);
        skb.setU32(h + Ipv4Header.SADDR, PEER);
        skb.setU32(h + Ipv4Header.DADDR, LOCAL);
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, 20));
        return skb;
    }

    private long icmp(String name) {
        return net.icmp.mib.snapshot().getOrDefault(name, 0L);
    }

    @Test
    void errorsPastTheBurstAreHeldBackAndCountedInOutRateLimitHost() {
        for (int i = 0; i < 8; i++) {
            net.input.rcv(unknownProtocol(), eth0);
        }
        assertEquals(8, net.mib.get(Ipv4Mib.Counter.InUnknownProtos));
        assertEquals(6, icmp("IcmpOutDestUnreachs"), "a burst of 6 (XRLIM_BURST_FACTOR)");
        assertEquals(2, icmp("IcmpOutRateLimitHost"), "the rest held back, counted");
        now[0] += 1_000_000_000L; // icmp_ratelimit 1000 ms: one more token
        net.input.rcv(unknownProtocol(), eth0);
        assertEquals(7, icmp("IcmpOutDestUnreachs"));
        assertEquals(2, icmp("IcmpOutRateLimitHost"));
    }
}

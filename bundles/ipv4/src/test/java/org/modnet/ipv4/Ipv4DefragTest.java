package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

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
import org.modnet.ipv4.Ipv4Mib.Counter;

/** Reassembly on virtual time: in any order, never with overlaps, not forever. */
class Ipv4DefragTest {
    private static final int LOCAL = 0x0a000001;
    private static final int PEER = 0x0a000002;

    private final long[] now = { 1_000_000_000L };
    private StandaloneCore stack;
    private Ipv4Net net;
    private NetDevice eth0;
    private final List<Integer> delivered = new ArrayList<>();

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
        net.input.addProtocol(17, skb -> {
            delivered.add(skb.len());
            skb.free();
        });
    }

    @AfterEach
    void tearDown() {
        net.exit();
        stack.shutdown();
        assertEquals(0, stack.core().pool().inUse(), "no fragment left behind");
    }

    /** A fragment of a 3000-byte UDP datagram (id 7): {@code len} bytes at {@code offset}. */
    private SkBuff fragment(int offset, int len, boolean more) {
        SkBuff skb = stack.core().pool().alloc(20 + len);
        int h = skb.put(20 + len);
        skb.setU8(h, 0x45);
        skb.setU16(h + Ipv4Header.TOT_LEN, 20 + len);
        skb.setU16(h + Ipv4Header.ID, 7);
        skb.setU16(h + Ipv4Header.FRAG_OFF, (offset / 8) | (more ? Ipv4Header.FLAG_MF : 0));
        skb.setU8(h + Ipv4Header.TTL, 64);
        skb.setU8(h + Ipv4Header.PROTOCOL, 17);
        skb.setU32(h + Ipv4Header.SADDR, PEER);
        skb.setU32(h + Ipv4Header.DADDR, LOCAL);
        for (int i = 0; i < len; i++) {
            skb.setU8(h + 20 + i, (offset + i) & 0xff);
        }
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, 20));
        return skb;
    }

    private void receive(SkBuff skb) {
        net.input.rcv(skb, eth0);
    }

    @Test
    void fragmentsInAnyOrderMakeTheWholeDatagramOnce() {
        receive(fragment(1480, 1480, true));
        receive(fragment(2960, 40, false));
        assertTrue(delivered.isEmpty());
        receive(fragment(0, 1480, true));
        assertEquals(List.of(3000), delivered);
        assertEquals(3, net.mib.get(Counter.ReasmReqds));
        assertEquals(1, net.mib.get(Counter.ReasmOKs));
    }

    @Test
    void anOverlapVoidsTheWholeDatagram() {
        receive(fragment(0, 1480, true));
        receive(fragment(1472, 1480, true)); // overlaps the first by 8 bytes
        receive(fragment(2960, 40, false));
        assertTrue(delivered.isEmpty());
        assertEquals(1, net.mib.get(Counter.ReasmFails), "the datagram counted once as failed");
        assertEquals(0, net.mib.get(Counter.ReasmOKs));
    }

    @Test
    void aDatagramThatDoesNotCompleteInIpfragTimeTimesOut() {
        receive(fragment(0, 1480, true));
        for (int i = 0; i < 35_000; i += 10) {
            now[0] += 10_000_000L;
            stack.run();
        }
        assertEquals(1, net.mib.get(Counter.ReasmTimeout));
        assertEquals(1, net.mib.get(Counter.ReasmFails));
        receive(fragment(1480, 1520, false)); // the rest, too late: a new, incomplete queue
        assertTrue(delivered.isEmpty());
    }

    /**
     * Found by the frames fuzzer: a fragment past where the last one ends, and a hole of the same size
     * before it, added up to the total, and reassembly wrote past the new buffer (an exception out of
     * the receive path). The last fragment ending before bytes already received voids the datagram.
     */
    @Test
    void aLastFragmentEndingBeforeAnEarlierFragmentVoidsTheDatagram() {
        receive(fragment(0, 8, true));
        receive(fragment(28800, 8, true)); // beyond where the datagram will end
        receive(fragment(16, 8, false)); // ends at 24: 8 + 8 + 8 received, with a hole at 8..16
        assertTrue(delivered.isEmpty());
        assertEquals(1, net.mib.get(Counter.ReasmFails), "the datagram counted once as failed");
        assertEquals(0, net.mib.get(Counter.ReasmOKs));
    }

    @Test
    void aMiddleFragmentNotAMultipleOfEightIsRefused() {
        receive(fragment(0, 1001, true));
        assertEquals(1, net.mib.get(Counter.ReasmFails));
        assertTrue(delivered.isEmpty());
    }

    /** {@link #fragment} with DF set too (a sender that set DF on its pieces). */
    private SkBuff fragmentDf(int offset, int len, boolean more) {
        SkBuff skb = fragment(offset, len, more);
        int h = skb.data();
        skb.setU16(h + Ipv4Header.FRAG_OFF, skb.getU16(h + Ipv4Header.FRAG_OFF) | Ipv4Header.FLAG_DF);
        skb.setU16(h + Ipv4Header.CHECK, 0);
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, 20));
        return skb;
    }

    @Test
    void queuesAreKeptApartByUserAsLinuxKeysThem() {
        int ctIn = org.modnet.api.inet.Ipv4.IP_DEFRAG_CONNTRACK_IN;
        assertEquals(null, net.defrag.add(fragment(0, 1480, true), ctIn));
        receive(fragment(1480, 1480, true)); // local delivery's queue: not conntrack's
        assertEquals(null, net.defrag.add(fragment(2960, 40, false), ctIn));
        assertTrue(delivered.isEmpty(), "local delivery's queue still lacks its first and last fragments");
        SkBuff whole = net.defrag.add(fragment(1480, 1480, true), ctIn);
        assertTrue(whole != null, "conntrack's queue completed by its own middle fragment");
        assertEquals(3020, whole.len());
        assertEquals(0, Ipv4Header.fragOff(whole, whole.data()), "the whole datagram is no fragment");
        assertEquals(1500, whole.fragMaxSize(), "frag_max_size: the largest fragment, header included");
        whole.free();
        assertEquals(1, net.mib.get(Counter.ReasmOKs));
        net.defrag.clear();
    }

    @Test
    void theWholeDatagramHasDfOnlyWhenItsLargestFragmentHadIt() {
        int ctIn = org.modnet.api.inet.Ipv4.IP_DEFRAG_CONNTRACK_IN;
        net.defrag.add(fragmentDf(0, 1480, true), ctIn);
        SkBuff whole = net.defrag.add(fragment(1480, 40, false), ctIn);
        assertEquals(Ipv4Header.FLAG_DF, Ipv4Header.fragOff(whole, whole.data()) & Ipv4Header.FLAG_DF);
        assertEquals(1500, whole.fragMaxSize());
        whole.free();
        net.defrag.add(fragmentDf(0, 8, true), ctIn);
        whole = net.defrag.add(fragment(8, 1480, false), ctIn);
        assertEquals(0, Ipv4Header.fragOff(whole, whole.data()), "a small DF piece does not make the datagram DF");
        whole.free();
    }

    @Test
    void conntracksQueueToAnotherHostTimesOutWithoutAnIcmpError() {
        net.defrag.add(fragment(0, 1480, true), org.modnet.api.inet.Ipv4.IP_DEFRAG_CONNTRACK_IN + 0);
        SkBuff other = fragment(0, 1480, true);
        other.setU32(other.data() + Ipv4Header.DADDR, 0x0a090005); // 10.9.0.5, not this host's
        other.setU16(other.data() + Ipv4Header.ID, 8);
        net.defrag.add(other, org.modnet.api.inet.Ipv4.IP_DEFRAG_CONNTRACK_IN + 0);
        for (int i = 0; i < 35_000; i += 10) {
            now[0] += 10_000_000L;
            stack.run();
        }
        assertEquals(2, net.mib.get(Counter.ReasmTimeout));
        assertEquals(2, net.mib.get(Counter.ReasmFails));
        assertEquals(1, net.icmp.mib.get(IcmpMib.Counter.OutTimeExcds),
                "time exceeded for the datagram to this host only (RFC 792: an end host's message)");
    }
}

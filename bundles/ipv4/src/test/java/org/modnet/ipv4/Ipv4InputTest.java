package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.ipv4.Ipv4Mib.Counter;

/** ip_rcv: every malformed packet is dropped under the right MIB counter, and nothing throws. */
class Ipv4InputTest {
    private static final int LOCAL = 0x0a000001; // 10.0.0.1
    private static final int PEER = 0x0a000002;
    private static final int UDP = 17;

    private final SkBuffPool pool = new SkBuffPool(256, 2048);
    private final Ipv4Mib mib = new Ipv4Mib();
    private final Ipv4Input input = new Ipv4Input(mib,
            (daddr, dev) -> daddr == LOCAL ? Ipv4Input.Destination.LOCAL : Ipv4Input.Destination.OTHER);
    private final List<Integer> delivered = new ArrayList<>();

    Ipv4InputTest() {
        input.addProtocol(UDP, skb -> {
            delivered.add(skb.len());
            skb.free();
        });
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(0, pool.inUse(), "every packet was freed or delivered and freed");
    }

    /** An IPv4 packet to {@code daddr} with {@code payload} bytes, a valid checksum, and {@code options}. */
    private SkBuff packet(int daddr, int protocol, int payload, byte... options) {
        int ihl = 20 + options.length;
        SkBuff skb = pool.alloc(ihl + payload);
        int h = skb.put(ihl + payload);
        skb.setU8(h + Ipv4Header.VERSION_IHL, 0x40 | (ihl / 4));
        skb.setU16(h + Ipv4Header.TOT_LEN, ihl + payload);
        skb.setU16(h + Ipv4Header.ID, 1);
        skb.setU8(h + Ipv4Header.TTL, 64);
        skb.setU8(h + Ipv4Header.PROTOCOL, protocol);
        skb.setU32(h + Ipv4Header.SADDR, PEER);
        skb.setU32(h + Ipv4Header.DADDR, daddr);
        skb.setBytes(h + 20, options, 0, options.length);
        fixChecksum(skb);
        return skb;
    }

    private static void fixChecksum(SkBuff skb) {
        int h = skb.data();
        skb.setU16(h + Ipv4Header.CHECK, 0);
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, Ipv4Header.headerLen(skb, h)));
    }

    private void assertCounted(Counter counter) {
        assertEquals(1, mib.get(counter), counter.name());
        assertEquals(1, mib.get(Counter.InReceives));
        assertTrue(delivered.isEmpty());
    }

    @Test
    void aValidPacketForUsIsDeliveredToItsProtocolWithoutTheIpHeader() {
        input.rcv(packet(LOCAL, UDP, 8), null);
        assertEquals(List.of(8), delivered);
        assertEquals(1, mib.get(Counter.InDelivers));
    }

    @Test
    void aPacketShorterThanAnIpHeaderIsAHeaderError() {
        SkBuff skb = pool.alloc(19);
        skb.put(19);
        input.rcv(skb, null);
        assertCounted(Counter.InHdrErrors);
    }

    @Test
    void aBadVersionIsAHeaderError() {
        SkBuff skb = packet(LOCAL, UDP, 8);
        skb.setU8(skb.data(), 0x65);
        fixChecksum(skb);
        input.rcv(skb, null);
        assertCounted(Counter.InHdrErrors);
    }

    @Test
    void anIhlBelowFiveOrBeyondThePacketIsAHeaderError() {
        SkBuff small = packet(LOCAL, UDP, 8);
        small.setU8(small.data(), 0x44);
        input.rcv(small, null);
        SkBuff big = packet(LOCAL, UDP, 8);
        big.setU8(big.data(), 0x4f); // 60 bytes of header in a 28-byte packet
        input.rcv(big, null);
        assertEquals(2, mib.get(Counter.InHdrErrors));
        assertTrue(delivered.isEmpty());
    }

    @Test
    void aBadChecksumCountsACsumErrorAndAHeaderError() {
        SkBuff skb = packet(LOCAL, UDP, 8);
        skb.setU8(skb.data() + Ipv4Header.TTL, 1); // changed after the checksum was made
        input.rcv(skb, null);
        assertEquals(1, mib.get(Counter.InCsumErrors));
        assertCounted(Counter.InHdrErrors);
    }

    @Test
    void aTotalLengthBeyondWhatArrivedIsATruncatedPacket() {
        SkBuff skb = packet(LOCAL, UDP, 8);
        skb.setU16(skb.data() + Ipv4Header.TOT_LEN, 1000);
        fixChecksum(skb);
        input.rcv(skb, null);
        assertCounted(Counter.InTruncatedPkts);
    }

    @Test
    void aTotalLengthShorterThanTheHeaderIsAHeaderError() {
        SkBuff skb = packet(LOCAL, UDP, 8);
        skb.setU16(skb.data() + Ipv4Header.TOT_LEN, 10);
        fixChecksum(skb);
        input.rcv(skb, null);
        assertCounted(Counter.InHdrErrors);
    }

    @Test
    void linkLayerPaddingIsTrimmedAway() {
        SkBuff skb = packet(LOCAL, UDP, 8);
        skb.put(18); // an Ethernet frame padded to its minimum
        input.rcv(skb, null);
        assertEquals(List.of(8), delivered);
    }

    @Test
    void anOptionRunningPastTheHeaderIsAHeaderError() {
        input.rcv(packet(LOCAL, UDP, 8, (byte) Ipv4Header.IPOPT_RR, (byte) 39, (byte) 4, (byte) 0), null);
        assertCounted(Counter.InHdrErrors);
    }

    @Test
    void aMalformedOptionIsAnsweredWithAParameterProblemPointingAtIt() {
        List<Integer> pointers = new ArrayList<>();
        input.parameterProblem((skb, pointer) -> pointers.add(pointer));
        input.rcv(packet(LOCAL, UDP, 8, (byte) Ipv4Header.IPOPT_NOOP, (byte) Ipv4Header.IPOPT_RR, (byte) 39, (byte) 0), null);
        assertEquals(List.of(22), pointers, "the length byte of the option at offset 21");
        assertCounted(Counter.InHdrErrors);
    }

    @Test
    void anOptionWithLengthBelowTwoIsAHeaderError() {
        input.rcv(packet(LOCAL, UDP, 8, (byte) 0x44, (byte) 1, (byte) 0, (byte) 0), null);
        assertCounted(Counter.InHdrErrors);
    }

    @Test
    void aSourceRoutedPacketIsDiscarded() {
        input.rcv(packet(LOCAL, UDP, 8, (byte) Ipv4Header.IPOPT_LSRR, (byte) 3, (byte) 4, (byte) 0), null);
        assertCounted(Counter.InDiscards);
    }

    @Test
    void wellFormedOptionsPass() {
        input.rcv(packet(LOCAL, UDP, 8, (byte) Ipv4Header.IPOPT_NOOP, (byte) Ipv4Header.IPOPT_RA, (byte) 4, (byte) 0, (byte) 0,
                (byte) Ipv4Header.IPOPT_END, (byte) 0, (byte) 0), null);
        assertEquals(List.of(8), delivered);
    }

    @Test
    void aPacketForSomeoneElseIsAnAddressErrorWhenNotForwarding() {
        input.rcv(packet(PEER, UDP, 8), null);
        assertCounted(Counter.InAddrErrors);
    }

    @Test
    void anUnknownProtocolIsCountedAndAnsweredWithProtocolUnreachable() {
        List<Integer> answered = new ArrayList<>();
        input.protocolUnreachable(skb -> answered.add(Ipv4Header.protocol(skb, skb.data())));
        input.rcv(packet(LOCAL, 99, 8), null);
        assertCounted(Counter.InUnknownProtos);
        assertEquals(List.of(99), answered);
    }

    @Test
    void anUnknownProtocolSentToABroadcastAddressGetsNoAnswer() {
        Ipv4Input broadcastOnly = new Ipv4Input(mib, (daddr, dev) -> Ipv4Input.Destination.BROADCAST);
        List<Integer> answered = new ArrayList<>();
        broadcastOnly.protocolUnreachable(skb -> answered.add(1));
        broadcastOnly.rcv(packet(-1, 99, 8), null);
        assertEquals(1, mib.get(Counter.InUnknownProtos));
        assertTrue(answered.isEmpty());
    }

    @Test
    void withoutADefragmenterAFragmentIsAFailedReassembly() {
        SkBuff skb = packet(LOCAL, UDP, 8);
        skb.setU16(skb.data() + Ipv4Header.FRAG_OFF, Ipv4Header.FLAG_MF);
        fixChecksum(skb);
        input.rcv(skb, null);
        assertEquals(1, mib.get(Counter.ReasmReqds));
        assertCounted(Counter.ReasmFails);
    }

    @Test
    void frameFromAnotherHostSeenInPromiscuousModeIsNotIps() {
        SkBuff skb = packet(LOCAL, UDP, 8);
        skb.pktType(PktType.OTHERHOST);
        input.rcv(skb, null);
        assertEquals(0, mib.get(Counter.InReceives));
    }

    /** Found by the frames fuzzer and the soak: the frame was on no counter at all. Linux counts it on the device. */
    @Test
    void frameForAnotherHostIsCountedInTheDevicesRxOtherhostDropped() {
        DeviceStats stats = new DeviceStats();
        NetDevice dev = deviceWith(stats);
        for (int i = 0; i < 3; i++) {
            SkBuff skb = packet(LOCAL, UDP, 8);
            skb.pktType(PktType.OTHERHOST);
            input.rcv(skb, dev);
        }
        input.rcv(packet(LOCAL, UDP, 8), dev);
        assertEquals(3, stats.get(DeviceStats.Field.RX_OTHERHOST_DROPPED), "ip_rcv_core's rx_otherhost_dropped");
        assertEquals(1, mib.get(Counter.InReceives), "only the frame for us reached IP's counters");
        assertEquals(List.of(8), delivered);
    }

    /** A device that has only its counters: what ip_rcv touches of it on this path. */
    private static NetDevice deviceWith(DeviceStats stats) {
        return (NetDevice) java.lang.reflect.Proxy.newProxyInstance(NetDevice.class.getClassLoader(),
                new Class<?>[] { NetDevice.class }, (proxy, method, args) -> switch (method.getName()) {
                    case "stats" -> stats;
                    case "toString" -> "dev0";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void randomGarbageNeverThrowsAndEveryPacketIsAccountedFor() {
        Random random = new Random(1);
        int n = 5000;
        for (int i = 0; i < n; i++) {
            SkBuff skb = random.nextBoolean() ? packet(LOCAL, UDP, random.nextInt(64)) : pool.alloc(128);
            if (skb.len() == 0) {
                skb.put(random.nextInt(128));
            }
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips && skb.len() > 0; f++) {
                int at = skb.data() + random.nextInt(skb.len());
                skb.setU8(at, random.nextInt(256));
            }
            input.rcv(skb, null);
        }
        Map<String, Long> counters = mib.snapshot();
        long ended = counters.get("IpInDelivers") + counters.get("IpInHdrErrors") + counters.get("IpExtInTruncatedPkts")
                + counters.get("IpInAddrErrors") + counters.get("IpInUnknownProtos") + counters.get("IpInDiscards")
                + counters.get("IpReasmFails");
        assertEquals(n, counters.get("IpInReceives"));
        assertEquals(n, ended, "each packet ends on exactly one counter: " + counters);
        assertEquals(counters.get("IpInDelivers"), (long) delivered.size());
    }

    @Test
    void packetsForAProtocolBeingHandedOverWaitAndGoToItsNewVersionInOrder() {
        Ipv4Input in = new Ipv4Input(mib, (daddr, dev) -> Ipv4Input.Destination.LOCAL);
        List<Integer> answered = new ArrayList<>();
        in.protocolUnreachable(skb -> answered.add(1));
        in.holdFor(UDP); // the old UDP leaves for an update
        in.rcv(packet(LOCAL, UDP, 8), null);
        in.rcv(packet(LOCAL, UDP, 9), null);
        assertTrue(answered.isEmpty(), "no protocol unreachable while the new version comes");
        assertEquals(0, mib.get(Counter.InUnknownProtos));
        List<Integer> got = new ArrayList<>();
        in.addProtocol(UDP, skb -> {
            got.add(skb.len());
            skb.free();
        });
        assertEquals(List.of(8, 9), got, "held packets first, in arrival order, without the IP header");
        assertEquals(2, mib.get(Counter.InDelivers));
        in.rcv(packet(LOCAL, UDP, 10), null);
        assertEquals(List.of(8, 9, 10), got);
    }

    @Test
    void theHoldQueueIsBoundedAndWhatItRefusesIsInDiscards() {
        SkBuffPool big = new SkBuffPool(Ipv4Input.HELD_MAX + 4, 256);
        Ipv4Input in = new Ipv4Input(mib, (daddr, dev) -> Ipv4Input.Destination.LOCAL);
        in.holdFor(UDP);
        for (int i = 0; i < Ipv4Input.HELD_MAX + 3; i++) {
            SkBuff skb = big.alloc(28);
            int h = skb.put(28);
            skb.setU8(h + Ipv4Header.VERSION_IHL, 0x45);
            skb.setU16(h + Ipv4Header.TOT_LEN, 28);
            skb.setU8(h + Ipv4Header.TTL, 64);
            skb.setU8(h + Ipv4Header.PROTOCOL, UDP);
            skb.setU32(h + Ipv4Header.SADDR, PEER);
            skb.setU32(h + Ipv4Header.DADDR, LOCAL);
            fixChecksum(skb);
            in.rcv(skb, null);
        }
        assertEquals(3, mib.get(Counter.InDiscards));
        assertEquals(3, in.heldDrops());
        int[] n = new int[1];
        in.addProtocol(UDP, skb -> {
            n[0]++;
            skb.free();
        });
        assertEquals(Ipv4Input.HELD_MAX, n[0]);
        assertEquals(0, big.inUse(), "every held packet delivered or freed");
    }

    /** The hold of TCP's segments accounts for itself (the hand-over benchmark's line): how many, and their release. */
    @Test
    void theHoldOfTcpCountsWhatItHeldAndWhatItsReleaseDelivered() {
        Ipv4Input in = new Ipv4Input(mib, (daddr, dev) -> Ipv4Input.Destination.LOCAL);
        in.holdFor(6);
        long[] none = in.holdMarks();
        assertTrue(none[6] != 0, "the hold's start");
        assertEquals(0, none[0]);
        in.rcv(packet(LOCAL, 6, 20), null);
        in.rcv(packet(LOCAL, 6, 21), null);
        long[] held = in.holdMarks();
        assertEquals(2, held[0], "held");
        assertTrue(held[1] != 0 && held[2] >= held[1], "the first's and the last's arrival");
        assertEquals(0, held[3], "not released yet");
        in.addProtocol(6, skb -> skb.free());
        long[] released = in.holdMarks();
        assertEquals(2, released[5], "delivered by the release");
        assertTrue(released[3] != 0 && released[4] >= released[3], "the release's start and end");
    }

    /** Two namespaces' inputs, each holding {@code n} segments for TCP: a's lengths 100.., b's 200... */
    private Ipv4Input[] twoNamespacesHoldingTcp(int n) {
        Ipv4Input a = new Ipv4Input(mib, (daddr, dev) -> Ipv4Input.Destination.LOCAL);
        Ipv4Input b = new Ipv4Input(mib, (daddr, dev) -> Ipv4Input.Destination.LOCAL);
        a.holdFor(6);
        b.holdFor(6);
        for (int i = 0; i < n; i++) {
            a.rcv(packet(LOCAL, 6, 100 + i), null);
            b.rcv(packet(LOCAL, 6, 200 + i), null);
        }
        return new Ipv4Input[] { a, b };
    }

    @Test
    void theReleaseOfHeldSegmentsTakesTheNamespacesInTurnKeepingEachOnesOrder() {
        int n = Ipv4Protocol.HOLD_TURN + 8;
        Ipv4Input[] both = twoNamespacesHoldingTcp(n);
        List<Integer> got = new ArrayList<>();
        Ipv4Protocol.release(both, 6, skb -> {
            got.add(skb.len());
            skb.free();
        }, Ipv4Protocol.HOLD_TURN);
        assertTrue(got.indexOf(200) < got.indexOf(100 + n - 1), "b's first before a's last: " + got);
        assertEquals(List.of(100, 101), got.subList(0, 2), "a's turn first, from its first");
        assertEquals(200, got.get(Ipv4Protocol.HOLD_TURN), "then b's turn, from its first");
        List<Integer> a = new ArrayList<>();
        List<Integer> b = new ArrayList<>();
        for (int len : got) {
            (len < 200 ? a : b).add(len);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(100 + i, a.get(i), "a's in arrival order");
            assertEquals(200 + i, b.get(i), "b's in arrival order");
        }
        assertEquals(2 * n, mib.get(Counter.InDelivers));
        for (Ipv4Input in : both) {
            assertEquals(n, in.holdMarks()[5], "each namespace's release counts its own");
            assertTrue(in.heldProtocols().isEmpty(), "the hold is off");
            assertTrue(in.protocol(6) != null, "and the handler installed");
        }
    }

    @Test
    void withoutTurnsTheReleaseTakesOneNamespaceAfterTheOther() {
        int n = Ipv4Protocol.HOLD_TURN + 8;
        List<Integer> got = new ArrayList<>();
        Ipv4Protocol.release(twoNamespacesHoldingTcp(n), 6, skb -> {
            got.add(skb.len());
            skb.free();
        }, Integer.MAX_VALUE);
        for (int i = 0; i < n; i++) {
            assertEquals(100 + i, got.get(i));
            assertEquals(200 + i, got.get(n + i));
        }
    }

    @Test
    void aNamespaceWhoseArrivalsKeepComingEndsItsReleaseOnceItsHeldOnesAreDelivered() {
        Ipv4Input in = new Ipv4Input(mib, (daddr, dev) -> Ipv4Input.Destination.LOCAL);
        in.holdFor(6);
        int n = Ipv4Protocol.HOLD_TURN + 8;
        for (int i = 0; i < n; i++) {
            in.rcv(packet(LOCAL, 6, 100 + i), null);
        }
        List<Integer> got = new ArrayList<>();
        InetProtocolStub tcp = new InetProtocolStub(in, got);
        int turns = 1;
        while (!in.releaseTurn(6, tcp, Ipv4Protocol.HOLD_TURN)) {
            turns++;
        }
        assertEquals(3, turns, "two turns for those held, then the rest at once");
        assertEquals(n + tcp.arrivals, got.size());
        for (int i = 1; i < got.size(); i++) {
            assertTrue(got.get(i - 1) < got.get(i), "arrival order kept: " + got);
        }
    }

    /** A new TCP each of whose deliveries brings another segment of the namespace (up to 200): arrivals that keep coming. */
    private final class InetProtocolStub implements org.modnet.api.inet.InetProtocol {
        private final Ipv4Input in;
        private final List<Integer> got;
        int arrivals;

        InetProtocolStub(Ipv4Input in, List<Integer> got) {
            this.in = in;
            this.got = got;
        }

        @Override
        public void receive(SkBuff skb) {
            got.add(skb.len());
            skb.free();
            if (arrivals < 200) {
                in.rcv(packet(LOCAL, 6, 1000 + arrivals++), null);
            }
        }
    }
}

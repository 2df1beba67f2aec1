package org.modnet.ethernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/**
 * ARP between two namespaces joined by a wire, on virtual time: resolution, the NUD states over time,
 * failure, and what bad input costs.
 */
class ArpTest {
    private static final int A = 0x0a000001; // 10.0.0.1
    private static final int B = 0x0a000002;
    private static final int NOBODY = 0x0a000009;

    private final long[] now = { 1_000_000_000L };
    private StandaloneCore stack;
    private ArpProtocol arp;
    private NetDevice a;
    private NetDevice b;
    private final List<Integer> ipAtB = new ArrayList<>();
    private final List<org.modnet.api.skb.PktType> typesAtB = new ArrayList<>();
    private final List<SkBuff> unreachable = new ArrayList<>();
    private boolean wireCut;

    /** A wire: what one end sends, the other receives, unless the wire is cut. */
    private final class Wire implements NetDeviceOps {
        NetDevice other;

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice dev) {
            if (wireCut) {
                skb.free();
            } else {
                other.rxQueue(0).receive(skb);
            }
            return TxResult.OK;
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 1024, () -> now[0]);
        arp = new ArpProtocol(stack.core());
        stack.addPernet(arp, 5);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, (skb, dev) -> {
            if (dev == b) {
                ipAtB.add(skb.len());
                typesAtB.add(skb.pktType());
            }
            skb.free();
        });
        arp.setUnreachable(unreachable::add);
        NetNamespace nsA = stack.core().addNamespace("a");
        NetNamespace nsB = stack.core().addNamespace("b");
        Wire wa = new Wire();
        Wire wb = new Wire();
        a = nsA.register(DeviceSetup.ether("eth0", "wire"), wa);
        b = nsB.register(DeviceSetup.ether("eth0", "wire"), wb);
        wa.other = b;
        wb.other = a;
        a.open();
        b.open();
        a.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        b.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, null, "global", "eth0"));
    }

    @AfterEach
    void tearDown() {
        unreachable.forEach(SkBuff::free);
        stack.shutdown();
        assertEquals(0, stack.core().pool().inUse(), "no buffer left behind");
    }

    private void sendIp(int to) {
        SkBuff skb = stack.core().pool().alloc(40);
        skb.put(40);
        skb.protocol(Eth.ETH_P_IP);
        arp.output(skb, a, to);
    }

    private void advance(long millis) {
        for (long t = 0; t < millis; t++) {
            now[0] += 1_000_000L;
            stack.run();
        }
    }

    private Neighbour entry(NetNamespace ns, int address) {
        return arp.entries(ns).stream().filter(n -> n.address() == address).findFirst().orElse(null);
    }

    @Test
    void aPacketToAnUnknownNeighbourWaitsForTheArpReplyAndThenGoes() {
        sendIp(B);
        assertEquals(NudState.INCOMPLETE, entry(a.namespace(), B).state());
        assertEquals(1, entry(a.namespace(), B).queued());

        stack.run(); // the request crosses, B replies, the reply crosses

        Neighbour n = entry(a.namespace(), B);
        assertEquals(NudState.REACHABLE, n.state());
        assertEquals(b.address(), n.lladdr());
        assertEquals(List.of(40), ipAtB, "the queued packet went out once resolved");
        assertEquals(NudState.STALE, entry(b.namespace(), A).state(), "B learned A from the request");
    }

    @Test
    void nobodyAnsweringMeansThreeRequestsThenFailedAndTheQueueIsReportedUnreachable() {
        sendIp(NOBODY);
        advance(999);
        assertEquals(NudState.INCOMPLETE, entry(a.namespace(), NOBODY).state());
        advance(3000);
        Neighbour n = entry(a.namespace(), NOBODY);
        assertEquals(NudState.FAILED, n.state());
        assertEquals(3, n.probes(), "mcast_solicit requests");
        assertEquals(1, unreachable.size(), "the waiting packet is handed back for ICMP host unreachable");
        assertEquals(1L, arp.stats(a.namespace()).get("res_failed"));
    }

    @Test
    void theStatesFollowTimeReachableStaleDelayProbeReachable() {
        sendIp(B);
        stack.run();
        assertEquals(NudState.REACHABLE, entry(a.namespace(), B).state());

        advance(52_000); // past the longest random reachable time (1.5 x 30 s) and the wheel's slack
        assertEquals(NudState.STALE, entry(a.namespace(), B).state());

        wireCut = true;
        sendIp(B); // used while stale: sent with the old address, and DELAY
        assertEquals(NudState.DELAY, entry(a.namespace(), B).state());
        advance(5_700); // delay_first_probe_time (5 s, plus the timer wheel's slack): nothing confirmed it
        assertEquals(NudState.PROBE, entry(a.namespace(), B).state());

        wireCut = false;
        advance(1_200); // the next unicast probe (retrans_time 1 s, plus slack) is answered
        assertEquals(NudState.REACHABLE, entry(a.namespace(), B).state());
    }

    @Test
    void theQueueOfAnUnresolvedEntryIsBoundedAndCountsWhatItDrops() throws Exception {
        a.namespace().sysctl().set("net.ipv4.neigh.default.unres_qlen", "2");
        wireCut = true;
        sendIp(B);
        sendIp(B);
        sendIp(B);
        assertEquals(2, entry(a.namespace(), B).queued());
        assertEquals(1L, arp.stats(a.namespace()).get("unresolved_discards"));
    }

    /** A gratuitous ARP from {@code sender} claiming {@code mac}, as it arrives on A's device. */
    private void gratuitous(int sender, MacAddress mac) {
        SkBuff skb = stack.core().pool().alloc(Eth.ETH_HLEN + ArpHeader.LEN);
        int o = skb.put(Eth.ETH_HLEN + ArpHeader.LEN);
        skb.setU16(o, 0xffff);
        skb.setU32(o + 2, -1);
        skb.setU16(o + 6, (int) (mac.bits() >>> 32));
        skb.setU32(o + 8, (int) mac.bits());
        skb.setU16(o + 12, Eth.ETH_P_ARP);
        int h = o + Eth.ETH_HLEN;
        skb.setU16(h + ArpHeader.HTYPE, ArpHeader.ARPHRD_ETHER);
        skb.setU16(h + ArpHeader.PTYPE, Eth.ETH_P_IP);
        skb.setU8(h + ArpHeader.HLEN, 6);
        skb.setU8(h + ArpHeader.PLEN, 4);
        skb.setU16(h + ArpHeader.OPER, ArpHeader.ARPOP_REQUEST);
        skb.setU16(h + ArpHeader.SHA, (int) (mac.bits() >>> 32));
        skb.setU32(h + ArpHeader.SHA + 2, (int) mac.bits());
        skb.setU32(h + ArpHeader.SPA, sender);
        skb.setU32(h + ArpHeader.TPA, sender);
        a.rxQueue(0).receive(skb);
        stack.run();
    }

    @Test
    void aGratuitousArpUpdatesAKnownNeighbourButCreatesNoNewOne() {
        sendIp(B);
        stack.run();
        MacAddress moved = MacAddress.parse("02:00:00:00:00:0b");
        gratuitous(B, moved);
        assertEquals(moved, entry(a.namespace(), B).lladdr(), "the address moved: A follows");
        assertEquals(NudState.STALE, entry(a.namespace(), B).state());
        gratuitous(NOBODY, MacAddress.parse("02:00:00:00:00:0c"));
        assertNull(entry(a.namespace(), NOBODY), "arp_accept=0: no entry from unsolicited ARP");
    }

    @Test
    void malformedArpIsCountedAndAnswersNothing() {
        SkBuff skb = stack.core().pool().alloc(28);
        int off = skb.put(28);
        skb.setU16(off + ArpHeader.HTYPE, 6); // not Ethernet
        skb.setU16(off + ArpHeader.PTYPE, Eth.ETH_P_IP);
        arp.receive(skb, b);
        SkBuff shortOne = stack.core().pool().alloc(10);
        shortOne.put(10);
        arp.receive(shortOne, b);
        assertEquals(2L, arp.stats(b.namespace()).get("rcv_malformed"));
        stack.run();
        assertNull(entry(a.namespace(), B));
    }

    @Test
    void permanentEntriesAreAddedByHandNeverChangeAndRefuseADuplicate() throws Exception {
        MacAddress mac = MacAddress.parse("02:00:00:00:00:42");
        arp.add(a, NOBODY, mac, NudState.PERMANENT, false);
        assertEquals(Errno.EEXIST, assertThrows(NetException.class, () -> arp.add(a, NOBODY, mac, NudState.PERMANENT, false)).errno());
        advance(100_000);
        Neighbour n = entry(a.namespace(), NOBODY);
        assertNotNull(n);
        assertEquals(NudState.PERMANENT, n.state());
        assertEquals(0, arp.flush(a.namespace(), null), "flush keeps permanent entries");
        arp.delete(a, NOBODY);
        assertEquals(Errno.ENOENT, assertThrows(NetException.class, () -> arp.delete(a, NOBODY)).errno());
    }

    @Test
    void aNeighbourDeletedAndAddedAgainIsTheOneTheNextPacketUses() throws Exception {
        sendIp(B);
        stack.run();
        sendIp(B); // found in the table now, and kept as the entry last used
        stack.run();
        assertEquals(List.of(40, 40), ipAtB);
        arp.delete(a, B); // the entry the last packet used leaves the table ...
        arp.add(a, B, MacAddress.parse("02:00:00:00:00:42"), NudState.PERMANENT, false); // ... and another takes its place
        sendIp(B);
        stack.run();
        assertEquals(List.of(org.modnet.api.skb.PktType.HOST, org.modnet.api.skb.PktType.HOST, org.modnet.api.skb.PktType.OTHERHOST), typesAtB,
                "the third packet went to the new address, not to B's");
    }

    /** What {@code ip monitor neigh} hears in A's namespace: state and link address of each notification. */
    private List<String> listenAtA() {
        List<String> heard = new ArrayList<>();
        a.namespace().rtnlListen(org.modnet.api.net.Rtnetlink.mask(org.modnet.api.net.Rtnetlink.RTNLGRP_NEIGH), m -> {
            Neighbour n = (Neighbour) m.body();
            heard.add((m.type() == org.modnet.api.net.Rtnetlink.RTM_DELNEIGH ? "Deleted " : "")
                    + org.modnet.api.inet.Ipv4Addresses.format(n.address()) + " " + n.state()
                    + (n.lladdr() == null ? "" : " " + n.lladdr()));
        });
        return heard;
    }

    @Test
    void resolutionAndFailureAreToldAsTheStatesChangeNotTheIncompleteStart() {
        List<String> heard = listenAtA();
        sendIp(B);
        stack.run();
        sendIp(NOBODY);
        advance(4000);
        assertEquals(List.of("10.0.0.2 REACHABLE " + b.address(), "10.0.0.9 FAILED"), heard);
    }

    @Test
    void theAskedHostTellsTheEntryARequestMadeAsStale() {
        List<String> heard = new ArrayList<>();
        b.namespace().rtnlListen(org.modnet.api.net.Rtnetlink.mask(org.modnet.api.net.Rtnetlink.RTNLGRP_NEIGH), m -> {
            Neighbour n = (Neighbour) m.body();
            heard.add(org.modnet.api.inet.Ipv4Addresses.format(n.address()) + " " + n.state() + " " + n.lladdr());
        });
        sendIp(B);
        stack.run();
        assertEquals(List.of("10.0.0.1 STALE " + a.address()), heard, "as Linux's ip monitor neigh in the asked namespace");
    }

    @Test
    void entriesByHandAreToldAndADeleteIsFailedThenDeleted() throws Exception {
        List<String> heard = listenAtA();
        MacAddress mac = MacAddress.parse("02:00:00:00:00:03");
        arp.add(a, 0x0a000003, mac, NudState.PERMANENT, false);
        arp.add(a, 0x0a000003, mac, NudState.REACHABLE, true);
        arp.delete(a, 0x0a000003);
        assertEquals(List.of("10.0.0.3 PERMANENT 02:00:00:00:00:03", "10.0.0.3 REACHABLE 02:00:00:00:00:03", "10.0.0.3 FAILED",
                "Deleted 10.0.0.3 FAILED"), heard, "as Linux's ip monitor printed ip neigh add, change and del");
    }
}

package org.modnet.ethernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.modnet.api.net.Sysctl;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/**
 * The neighbour table's garbage collection, bounds, locktime and per-device parameters, on virtual time,
 * as {@code net/core/neighbour.c} behaves: A (10.0.0.1) and B (10.0.0.2 and more) on one wire; forged
 * ARP requests arrive at A from addresses nobody else has.
 */
class NeighGcTest {
    private static final int A = 0x0a000001;
    private static final int B = 0x0a000002;
    private static final int FORGED = 0x0a630000; // 10.99.0.0/16: the flood's sources
    private static final int ROGUE = 0x0a63074d; // 10.99.7.77

    private final long[] now = { 1_000_000_000L };
    private StandaloneCore stack;
    private ArpProtocol arp;
    private NetDevice a;
    private NetDevice b;
    private int deliveredAtB;
    private final List<SkBuff> unreachable = new ArrayList<>();

    private static final class Wire implements NetDeviceOps {
        NetDevice other;

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice dev) {
            other.rxQueue(0).receive(skb);
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
                deliveredAtB++;
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
        a.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 8, null, "global", "eth0"));
        b.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 8, null, "global", "eth0"));
    }

    @AfterEach
    void tearDown() {
        unreachable.forEach(SkBuff::free);
        stack.shutdown();
        assertEquals(0, stack.core().pool().inUse(), "no buffer left behind");
    }

    private Sysctl sysctlA() {
        return a.namespace().sysctl();
    }

    private void sendIp(int to) {
        SkBuff skb = stack.core().pool().alloc(40);
        skb.put(40);
        skb.protocol(Eth.ETH_P_IP);
        arp.output(skb, a, to);
        stack.run();
    }

    private void advance(long millis) {
        long end = now[0] + millis * 1_000_000L;
        while (now[0] < end) {
            now[0] = Math.min(end, now[0] + 10_000_000L);
            stack.run();
        }
    }

    private Neighbour entry(int address) {
        return arp.lookup(a, address);
    }

    private long stat(String name) {
        return arp.stats(a.namespace()).get(name);
    }

    private static MacAddress forgedMac(int i) {
        return new MacAddress(0x020000000000L | (i & 0xffffffL));
    }

    /** An ARP packet as it arrives at A's device. */
    private void arpAtA(int op, MacAddress sha, int sip, MacAddress ethDst, long tha, int tip) {
        SkBuff skb = stack.core().pool().alloc(Eth.ETH_HLEN + ArpHeader.LEN);
        int o = skb.put(Eth.ETH_HLEN + ArpHeader.LEN);
        skb.setU16(o, (int) (ethDst.bits() >>> 32));
        skb.setU32(o + 2, (int) ethDst.bits());
        skb.setU16(o + 6, (int) (sha.bits() >>> 32));
        skb.setU32(o + 8, (int) sha.bits());
        skb.setU16(o + 12, Eth.ETH_P_ARP);
        int h = o + Eth.ETH_HLEN;
        skb.setU16(h + ArpHeader.HTYPE, ArpHeader.ARPHRD_ETHER);
        skb.setU16(h + ArpHeader.PTYPE, Eth.ETH_P_IP);
        skb.setU8(h + ArpHeader.HLEN, 6);
        skb.setU8(h + ArpHeader.PLEN, 4);
        skb.setU16(h + ArpHeader.OPER, op);
        skb.setU16(h + ArpHeader.SHA, (int) (sha.bits() >>> 32));
        skb.setU32(h + ArpHeader.SHA + 2, (int) sha.bits());
        skb.setU32(h + ArpHeader.SPA, sip);
        skb.setU16(h + ArpHeader.THA, (int) (tha >>> 32));
        skb.setU32(h + ArpHeader.THA + 2, (int) tha);
        skb.setU32(h + ArpHeader.TPA, tip);
        a.rxQueue(0).receive(skb);
        stack.run();
    }

    /** A broadcast "who has 10.0.0.1" from {@code sip}: A answers it and learns the asker, STALE. */
    private void requestFrom(int sip, MacAddress sha) {
        arpAtA(ArpHeader.ARPOP_REQUEST, sha, sip, MacAddress.BROADCAST, 0, A);
    }

    @Test
    void aNeighbourLearntFromOneRequestIsCollectedAfterGcStaleTimeOncePeriodicGcRuns() throws Exception {
        sysctlA().set("net.ipv4.neigh.default.gc_thresh1", "0"); // periodic GC runs whatever the table holds
        requestFrom(ROGUE, forgedMac(1));
        Neighbour n = entry(ROGUE);
        assertEquals(NudState.STALE, n.state());
        assertEquals(0, n.refcnt(), "a STALE entry keeps no timer: only GC reaches it");

        advance(55_000);
        assertNotNull(entry(ROGUE), "used less than gc_stale_time (60 s) ago");
        advance(60_000 + 15_000 + 1_000 - 55_000); // gc_stale_time, plus one periodic interval (base_reachable_time/2)
        assertNull(entry(ROGUE), "unused for gc_stale_time: periodic GC removed it");
        assertTrue(stat("periodic_gc_runs") >= 4, "every 15 s");
        assertEquals(1L, stat("destroys"));
    }

    @Test
    void withDefaultThresholdsALoneStaleEntryStaysAsInLinuxUntilTheTableHoldsGcThresh1() {
        requestFrom(ROGUE, forgedMac(1));
        advance(200_000);
        assertEquals(NudState.STALE, entry(ROGUE).state(), "fewer than gc_thresh1 (128) entries: Linux collects nothing");
        assertEquals(0L, stat("periodic_gc_runs"));

        for (int i = 1; i < 128; i++) {
            requestFrom(FORGED + i, forgedMac(i));
        }
        advance(15_000 + 100);
        assertNull(entry(ROGUE), "at gc_thresh1 the periodic work collects what is older than gc_stale_time");
        assertEquals(127, arp.entries(a.namespace()).size(), "the young ones stay");
        long runs = stat("periodic_gc_runs");
        assertTrue(runs > 0);
        advance(75_000);
        assertEquals(127, arp.entries(a.namespace()).size(), "below gc_thresh1 again: the periodic work skips the table");
        assertEquals(runs, stat("periodic_gc_runs"));
    }

    @Test
    void aFloodOfForgedRequestsOverFiftySecondsLeavesRoomForNewRealNextHops() throws Exception {
        int maxEntries = 0;
        int hops = 0;
        for (int i = 0; i < 5_000; i++) {
            requestFrom(FORGED + 1 + i, forgedMac(i));
            maxEntries = Math.max(maxEntries, (int) stat("entries"));
            if (i % 500 == 499) {
                int hop = B + 10 + hops++; // a next hop A has never resolved
                b.addAddress(new IfAddress(ipv4(hop), 8, null, "global", "eth0"));
                int before = deliveredAtB;
                sendIp(hop);
                assertEquals(before + 1, deliveredAtB, "request " + (i + 1) + ": the new next hop resolves during the flood");
                assertEquals(NudState.REACHABLE, entry(hop).state());
            }
            advance(10); // 100 forged requests a second
        }
        assertTrue(maxEntries <= 1024, "the table stays within gc_thresh3: " + maxEntries);
        assertTrue(stat("forced_gc_runs") > 0);
        assertEquals(0, unreachable.size(), "no packet was refused");
        int before = deliveredAtB;
        sendIp(B);
        assertEquals(before + 1, deliveredAtB, "and after it");
    }

    @Test
    void aBurstOfForgedRequestsStopsAtGcThresh3CountsTableFullsAndSparesAnEstablishedNeighbour() throws Exception {
        sendIp(B);
        assertEquals(NudState.REACHABLE, entry(B).state());
        assertEquals(1, entry(B).refcnt(), "its reachability timer holds it");
        int hop = B + 1;
        b.addAddress(new IfAddress(ipv4(hop), 8, null, "global", "eth0"));

        for (int i = 0; i < 5_000; i++) {
            requestFrom(FORGED + 1 + i, forgedMac(i)); // in one instant: none is 5 s old, none may go
        }
        assertEquals(1024, arp.entries(a.namespace()).size(), "gc_thresh3 bounds the table");
        assertEquals(5_000 - 1023, stat("table_fulls"), "every refused entry is counted");
        assertTrue(stat("forced_gc_runs") >= 5_000 - 1023);

        int before = deliveredAtB;
        sendIp(B);
        assertEquals(before + 1, deliveredAtB, "the established neighbour keeps working during the flood");
        sendIp(hop);
        assertEquals(1, unreachable.size(), "as in Linux, a new next hop is refused while every entry is fresh");

        advance(5_100);
        before = deliveredAtB;
        sendIp(hop);
        assertEquals(before + 1, deliveredAtB, "5 s on, forced GC makes room and the new next hop resolves");
        assertTrue(arp.entries(a.namespace()).size() <= 513, "forced GC cleans down to gc_thresh2");
        assertEquals(NudState.REACHABLE, entry(B).state(), "the referenced entry survived");
    }

    @Test
    void anUnsolicitedArpWithinLocktimeDoesNotOverrideTheAddressButAGratuitousOneDoes() throws Exception {
        sendIp(B);
        assertEquals(b.address(), entry(B).lladdr());
        MacAddress other = MacAddress.parse("02:00:00:00:00:bb");

        advance(500); // locktime is 100 (USER_HZ): one second
        arpAtA(ArpHeader.ARPOP_REPLY, other, B, a.address(), a.address().bits(), A);
        assertEquals(b.address(), entry(B).lladdr(), "within locktime the first answer stays");

        advance(600);
        arpAtA(ArpHeader.ARPOP_REPLY, other, B, a.address(), a.address().bits(), A);
        assertEquals(other, entry(B).lladdr(), "past locktime a reply overrides");
        assertEquals(NudState.REACHABLE, entry(B).state());

        advance(100);
        arpAtA(ArpHeader.ARPOP_REQUEST, b.address(), B, MacAddress.BROADCAST, 0, B); // gratuitous: sip == tip
        assertEquals(b.address(), entry(B).lladdr(), "a gratuitous ARP overrides locktime");

        sysctlA().set("net.ipv4.neigh.eth0.locktime", "0");
        advance(10);
        arpAtA(ArpHeader.ARPOP_REPLY, other, B, a.address(), a.address().bits(), A);
        assertEquals(other, entry(B).lladdr(), "the device's locktime 0 locks nothing");
    }

    @Test
    void eachDeviceHasNeighSysctlsThatFollowTheDefaultUntilWritten() throws Exception {
        Sysctl s = sysctlA();
        assertEquals("60", s.get("net.ipv4.neigh.default.gc_stale_time"));
        assertEquals("100", s.get("net.ipv4.neigh.default.locktime"));
        assertEquals("30", s.get("net.ipv4.neigh.default.gc_interval"));
        assertEquals("128", s.get("net.ipv4.neigh.default.gc_thresh1"));
        assertEquals("512", s.get("net.ipv4.neigh.default.gc_thresh2"));
        assertEquals("1024", s.get("net.ipv4.neigh.default.gc_thresh3"));
        assertEquals("60", s.get("net.ipv4.neigh.eth0.gc_stale_time"));
        assertEquals(Errno.ENOENT, assertThrows(NetException.class, () -> s.get("net.ipv4.neigh.eth0.gc_thresh1")).errno(),
                "the thresholds are the table's, in default only");

        s.set("net.ipv4.neigh.default.gc_stale_time", "90");
        assertEquals("90", s.get("net.ipv4.neigh.eth0.gc_stale_time"), "not written: follows default");
        s.set("net.ipv4.neigh.eth0.gc_stale_time", "10");
        s.set("net.ipv4.neigh.default.gc_stale_time", "120");
        assertEquals("10", s.get("net.ipv4.neigh.eth0.gc_stale_time"), "written: keeps its own");

        s.set("net.ipv4.neigh.default.gc_thresh1", "0");
        requestFrom(ROGUE, forgedMac(1));
        advance(10_000 + 15_000 + 1_000);
        assertNull(entry(ROGUE), "the entry on eth0 went after eth0's gc_stale_time, not default's 120 s");

        a.namespace().unregister(a);
        assertEquals(Errno.ENOENT, assertThrows(NetException.class, () -> s.get("net.ipv4.neigh.eth0.gc_stale_time")).errno(),
                "the directory goes with the device");
    }

    @Test
    void arpCacheReadsAsLinuxPrintsIt() {
        requestFrom(ROGUE, forgedMac(1));
        List<String> lines = arp.read(a.namespace());
        assertEquals("entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast "
                + "periodic_gc_runs forced_gc_runs unresolved_discards table_fulls", lines.get(0));
        String[] cols = lines.get(1).trim().split("\\s+");
        assertEquals(13, cols.length);
        assertEquals("00000001", cols[0], "entries");
        assertEquals("00000001", cols[1], "allocs");
        assertEquals("00000001", cols[7], "rcv_probes_mcast: the request was broadcast");
    }

    private static InetAddress ipv4(int bits) throws Exception {
        return InetAddress.getByAddress(new byte[] { (byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits });
    }
}

package org.modnet.ethernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/**
 * An update of the ethernet bundle keeps the neighbour table: the next version has every entry with
 * its state, link address and running timer, so traffic to a resolved neighbour needs no ARP after
 * the swap; ARP frames that arrive between the versions wait in the core.
 */
class NeighHandOverTest {
    private static final int B = 0x0a000002;
    private final long[] now = { 1_000_000_000L };
    private StandaloneCore stack;
    private NetDevice a;
    private NetDevice b;
    private boolean updating;
    private int arpFrames;
    private int deliveredAtB;

    private final class Wire implements NetDeviceOps {
        NetDevice other;

        @Override
        public org.modnet.api.net.TxResult startXmit(SkBuff skb, NetDevice dev) {
            if (skb.getU16(skb.data() + 12) == Eth.ETH_P_ARP) {
                arpFrames++;
            }
            other.rxQueue(0).receive(skb);
            return org.modnet.api.net.TxResult.OK;
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 1024, () -> now[0]);
        stack.addHandler(Eth.ETH_P_IP, (skb, dev) -> {
            if (dev == b) {
                deliveredAtB++;
            }
            skb.free();
        });
        Wire wa = new Wire();
        Wire wb = new Wire();
        a = stack.core().addNamespace("a").register(DeviceSetup.ether("eth0", "wire"), wa);
        b = stack.core().addNamespace("b").register(DeviceSetup.ether("eth0", "wire"), wb);
        wa.other = b;
        wb.other = a;
        a.open();
        b.open();
        a.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 8, null, "global", "eth0"));
        b.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 8, null, "global", "eth0"));
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    private ArpProtocol start(int stateVersion) {
        ArpProtocol arp = new ArpProtocol(stack.core(), stack.tables(), () -> updating, stateVersion);
        stack.addPernet(arp, 5);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        arp.setUnreachable(SkBuff::free);
        return arp;
    }

    private void stopForUpdate(ArpProtocol arp) {
        updating = true;
        stack.removeHandler(Eth.ETH_P_ARP, arp);
        stack.removePernet(arp);
        arp.deactivate();
        updating = false;
    }

    private void sendIp(ArpProtocol arp) {
        SkBuff skb = stack.core().pool().alloc(40);
        skb.put(40);
        skb.protocol(Eth.ETH_P_IP);
        arp.output(skb, a, B);
        stack.run();
    }

    private void advance(long millis) {
        long end = now[0] + millis * 1_000_000L;
        while (now[0] < end) {
            now[0] = Math.min(end, now[0] + 10_000_000L);
            stack.run();
        }
    }

    private ArpProtocol resolvedThenUpdated() throws Exception {
        ArpProtocol v1 = start(ArpProtocol.STATE_VERSION);
        a.namespace().sysctl().set("net.ipv4.neigh.eth0.gc_stale_time", "77");
        sendIp(v1);
        assertEquals(2, arpFrames, "a request and its reply");
        assertEquals(NudState.REACHABLE, v1.lookup(a, B).state());
        stopForUpdate(v1);
        return start(ArpProtocol.STATE_VERSION);
    }

    @Test
    void aResolvedNeighbourNeedsNoArpAfterTheSwap() throws Exception {
        ArpProtocol v2 = resolvedThenUpdated();
        Neighbour n = v2.lookup(a, B);
        assertNotNull(n, "the entry came over");
        assertEquals(NudState.REACHABLE, n.state());
        assertEquals(b.address(), n.lladdr());
        sendIp(v2);
        assertEquals(2, arpFrames, "no ARP request after the swap");
        assertEquals(2, deliveredAtB, "both packets reached B");
        assertEquals(1L, v2.stats(a.namespace()).get("allocs"), "the table's statistics continue; the move allocated nothing");
        assertEquals(0L, v2.stats(a.namespace()).get("destroys"));
        assertEquals("77", a.namespace().sysctl().get("net.ipv4.neigh.eth0.gc_stale_time"), "a device's ARP sysctl kept");
    }

    @Test
    void aPacketIpv4SendsWhileTheCoreTakesTheNamespaceFromTheLeavingVersionGoesOut() throws Exception {
        ArpProtocol[] v1 = new ArpProtocol[1];
        boolean[] sending = { false };
        int[] sent = { 0 };
        // IPv4 sends at every moment of the swap: here each time the leaving version asks whether it is updated
        v1[0] = new ArpProtocol(stack.core(), stack.tables(), () -> {
            if (sending[0]) {
                SkBuff skb = stack.core().pool().alloc(40);
                skb.put(40);
                skb.protocol(Eth.ETH_P_IP);
                assertTrue(v1[0].outputStatus(skb, a, B) != org.modnet.api.sched.Qdisc.NET_XMIT_DROP, "sent through the leaving table");
                sent[0]++;
            }
            return updating;
        }, ArpProtocol.STATE_VERSION);
        stack.addPernet(v1[0], 5);
        stack.addHandler(Eth.ETH_P_ARP, v1[0]);
        v1[0].setUnreachable(SkBuff::free);
        sendIp(v1[0]);
        assertEquals(NudState.REACHABLE, v1[0].lookup(a, B).state());
        sending[0] = true;
        updating = true;
        stack.removeHandler(Eth.ETH_P_ARP, v1[0]);
        stack.removePernet(v1[0]); // exit for a and b, as DS's unregistration of the old version makes the core do
        sending[0] = false;
        v1[0].deactivate();
        updating = false;
        stack.run();
        assertTrue(sent[0] > 0);
        assertEquals(0L, a.stats().get(DeviceStats.Field.TX_DROPPED), "none found neither a live nor a retiring table");
        assertEquals(1 + sent[0], deliveredAtB, "each reached B");
    }

    @Test
    void theEntrysTimerRunsOnInTheNewVersion() throws Exception {
        ArpProtocol v2 = resolvedThenUpdated();
        advance(60_000); // past any reachable_time (15 to 45 s): the carried timer moves it to STALE
        assertEquals(NudState.STALE, v2.lookup(a, B).state());
    }

    @Test
    void arpFramesArrivingDuringTheSwapWaitForTheNewVersion() throws Exception {
        ArpProtocol v1 = start(ArpProtocol.STATE_VERSION);
        stopForUpdate(v1);
        // B asks for A while A's ARP is being replaced: the request waits in the core
        ArpProtocol arpB = new ArpProtocol(stack.core());
        arpB.init(b.namespace());
        arpB.setUnreachable(SkBuff::free);
        SkBuff skb = stack.core().pool().alloc(40);
        skb.put(40);
        skb.protocol(Eth.ETH_P_IP);
        arpB.output(skb, b, 0x0a000001);
        stack.run();
        assertEquals(1, arpFrames, "B's request went out and nobody answered yet");
        assertEquals(1L, stack.tables().counters().get("HandOverHeld"));
        ArpProtocol v2 = start(ArpProtocol.STATE_VERSION);
        stack.run();
        assertEquals(2, arpFrames, "the new version answered the held request");
        assertEquals(0L, a.stats().get(DeviceStats.Field.RX_DROPPED));
        assertNotNull(v2.lookup(a, B), "and learnt B from it");
    }

    @Test
    void aNewVersionThatCannotReadTheTableRefusesItAndStartsEmpty() throws Exception {
        ArpProtocol v1 = start(ArpProtocol.STATE_VERSION);
        a.namespace().sysctl().set("net.ipv4.neigh.eth0.gc_stale_time", "77");
        sendIp(v1);
        stopForUpdate(v1);
        ArpProtocol v2 = start(ArpProtocol.STATE_VERSION + 1);
        assertNull(v2.lookup(a, B));
        assertEquals(1L, stack.tables().counters().get("HandOverRefused"));
        assertEquals("60", a.namespace().sysctl().get("net.ipv4.neigh.eth0.gc_stale_time"), "back to the default");
        sendIp(v2);
        assertEquals(4, arpFrames, "resolved again from scratch");
        assertTrue(deliveredAtB == 2);
    }

    @Test
    void packetsWaitingForResolutionAreDroppedAndCountedInTheHandOver() throws Exception {
        ArpProtocol v1 = start(ArpProtocol.STATE_VERSION);
        b.close(); // B does not answer
        SkBuff skb = stack.core().pool().alloc(40);
        skb.put(40);
        skb.protocol(Eth.ETH_P_IP);
        v1.output(skb, a, B);
        stack.run();
        assertEquals(NudState.INCOMPLETE, v1.lookup(a, B).state());
        stopForUpdate(v1);
        ArpProtocol v2 = start(ArpProtocol.STATE_VERSION);
        assertEquals(1L, v2.stats(a.namespace()).get("unresolved_discards"));
        assertEquals(NudState.INCOMPLETE, v2.lookup(a, B).state(), "the entry still resolving");
        assertEquals(0, stack.core().pool().inUse(), "the dropped packet was freed");
        MacAddress none = v2.lookup(a, B).lladdr();
        assertNull(none);
    }
}

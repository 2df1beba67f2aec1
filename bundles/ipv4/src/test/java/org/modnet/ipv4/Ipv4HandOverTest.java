package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/**
 * An update of IPv4 under forwarding: routes added by hand, its sysctls and its MIB reach the next
 * version through the core's holder; frames that arrive between the versions wait in the core and are
 * forwarded by the new version, in order; a version that cannot read the state refuses it and starts empty.
 */
class Ipv4HandOverTest {
    private static final int ETH_P_IP = 0x0800;
    private final long[] clock = { 0 };
    private StandaloneCore stack;
    private NetNamespace ns;
    private NetDevice eth0;
    private NetDevice eth1;
    private boolean updating;
    /** The packet ids (the IP ID field) the neighbour layer was asked to send, in order. */
    private final List<Integer> sent = new ArrayList<>();
    private final NeighbourTable neighbours = new Recording();

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 256, () -> clock[0]);
        ns = stack.core().addNamespace("r");
        eth0 = device("eth0", "10.0.1.1");
        eth1 = device("eth1", "10.0.2.1");
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    private NetDevice device(String name, String address) throws Exception {
        NetDevice dev = ns.register(DeviceSetup.ether(name, "test"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        dev.addAddress(new IfAddress(InetAddress.getByName(address), 24, null, "global", name));
        dev.open();
        return dev;
    }

    private Ipv4Protocol start(int stateVersion) {
        Ipv4Protocol v = new Ipv4Protocol(stack.core(), neighbours, stack.tables(), () -> updating, stateVersion);
        stack.addPernet(v, 10);
        stack.addHandler(ETH_P_IP, v);
        return v;
    }

    /** What SCR does when the bundle is updated: the services go (the core unbinds them), then deactivate. */
    private void stopForUpdate(Ipv4Protocol v) {
        updating = true;
        stack.removeHandler(ETH_P_IP, v);
        stack.removePernet(v);
        v.deactivate();
        updating = false;
    }

    private static int ip(String a) throws Exception {
        return org.modnet.api.inet.Ipv4Addresses.toInt((java.net.Inet4Address) InetAddress.getByName(a));
    }

    /** A frame to eth0 carrying an IPv4 packet from 10.0.1.2 to {@code daddr}, its IP ID {@code id}. */
    private void receive(String daddr, int id) throws Exception {
        SkBuff skb = stack.core().allocSkb(14 + 28, 64);
        int off = skb.put(14 + 28);
        long mac = eth0.address().bits();
        skb.setU16(off, (int) (mac >>> 32));
        skb.setU32(off + 2, (int) mac);
        skb.setU16(off + 6, 0x0200);
        skb.setU32(off + 8, 2);
        skb.setU16(off + 12, ETH_P_IP);
        int h = off + 14;
        for (int i = 0; i < 28; i += 4) {
            skb.setU32(h + i, 0); // a recycled buffer holds the last packet's bytes
        }
        skb.setU8(h + Ipv4Header.VERSION_IHL, 0x45);
        skb.setU16(h + Ipv4Header.TOT_LEN, 28);
        skb.setU16(h + Ipv4Header.ID, id);
        skb.setU8(h + Ipv4Header.TTL, 64);
        skb.setU8(h + Ipv4Header.PROTOCOL, 17);
        skb.setU32(h + Ipv4Header.SADDR, ip("10.0.1.2"));
        skb.setU32(h + Ipv4Header.DADDR, ip(daddr));
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, 20));
        eth0.rxQueue(0).receive(skb);
    }

    private Ipv4Protocol forwardingRouter() throws Exception {
        Ipv4Protocol v1 = start(Ipv4Protocol.STATE_VERSION);
        ns.sysctl().set("net.ipv4.ip_forward", "1");
        ns.sysctl().set("net.ipv4.ip_default_ttl", "33");
        new RouteService(v1).add(ns, new RouteEntry("unicast", ip("10.9.0.0"), 16, ip("10.0.2.2"), eth1, 0, 0, "boot", "global"), false);
        receive("10.9.0.5", 1);
        stack.run();
        assertEquals(List.of(1), sent, "forwarded by the first version");
        return v1;
    }

    @Test
    void framesArrivingDuringTheSwapWaitAndAreForwardedByTheNewVersionInOrder() throws Exception {
        stopForUpdate(forwardingRouter());
        for (int id = 2; id <= 4; id++) {
            receive("10.9.0.5", id);
        }
        stack.run();
        assertEquals(List.of(1), sent, "nothing forwarded while no IPv4 is there");
        assertEquals(3L, stack.tables().counters().get("HandOverHeld"));

        Ipv4Protocol v2 = start(Ipv4Protocol.STATE_VERSION);
        stack.run();
        assertEquals(List.of(1, 2, 3, 4), sent, "the held frames went first, in arrival order");
        receive("10.9.0.5", 5);
        stack.run();
        assertEquals(List.of(1, 2, 3, 4, 5), sent);
        assertEquals(0L, eth0.stats().get(DeviceStats.Field.RX_DROPPED), "no frame lost to the swap");
        assertEquals(3L, stack.tables().counters().get("HandOverHeldDelivered"));
        assertEquals(5L, v2.counters(ns).get("IpForwDatagrams"), "the MIB continues across the update");
    }

    @Test
    void routesBySysctlsAndCountersSurviveAndKernelRoutesAreRemade() throws Exception {
        stopForUpdate(forwardingRouter());
        Ipv4Protocol v2 = start(Ipv4Protocol.STATE_VERSION);
        List<RouteEntry> routes = new RouteService(v2).routes(ns);
        assertTrue(routes.stream().anyMatch(r -> r.prefix() == 0x0a090000 && r.len() == 16 && r.dev() == eth1
                && r.gateway() == 0x0a000202), "the route added by hand: " + routes);
        assertEquals(1, routes.stream().filter(r -> r.prefix() == 0x0a000100 && "kernel".equals(r.protocol())).count(),
                "the connected route once, remade from eth0's address");
        assertEquals("33", ns.sysctl().get("net.ipv4.ip_default_ttl"));
        assertEquals("1", ns.sysctl().get("net.ipv4.ip_forward"));
        assertEquals("1", ns.sysctl().get("net.ipv4.conf.all.forwarding"));
        assertEquals(1L, v2.counters(ns).get("IpForwDatagrams"));
        assertEquals(1L, stack.tables().counters().get("HandOverAdopted"));
        assertNull(stack.tables().take(Ipv4Protocol.LAYER), "the deposit was taken");
    }

    @Test
    void routingRulesAndTablesSurviveAnUpdateAndStillSteer() throws Exception {
        Ipv4Protocol v1 = forwardingRouter();
        RouteService routes = new RouteService(v1);
        routes.add(ns, 100, new RouteEntry("unicast", 0, 0, ip("10.0.1.254"), eth0, 0, 0, "boot", "global"), false);
        org.modnet.api.inet.FibRule rule = new org.modnet.api.inet.FibRule(100, false, 0, 0, ip("10.9.0.0"), 16, "eth0", null, 7,
                0xff, 0, 17, 0, 0, 0, 0, "table", 100, -1, -1);
        routes.addRule(ns, rule);
        stopForUpdate(v1);
        Ipv4Protocol v2 = start(Ipv4Protocol.STATE_VERSION);
        RouteService after = new RouteService(v2);
        assertEquals(List.of(org.modnet.api.inet.FibRule.lookup(0, 255), rule, org.modnet.api.inet.FibRule.lookup(32766, 254),
                org.modnet.api.inet.FibRule.lookup(32767, 253)), after.rules(ns));
        assertEquals(ip("10.0.1.254"), after.routes(ns, 100).get(0).gateway(), "table 100's route came back");
        receive("10.9.0.5", 2); // from 10.0.1.2 on eth0, UDP, no mark: the rule wants mark 7, so main
        stack.run();
        assertEquals(List.of(1, 2), sent);
        assertEquals(eth0, v2.net(ns).rules.lookup(ip("10.9.0.5"), ip("10.0.1.2"), eth0.ifindex(), 0, 7, 0, 17, 1, 2, null).dev(),
                "a marked packet from eth0 goes by table 100");
    }

    @Test
    void perDeviceConfSurvivesAndTheNewVersionHandlesForwardingWrites() throws Exception {
        Ipv4Protocol v1 = forwardingRouter();
        ns.sysctl().set("net.ipv4.conf.eth1.forwarding", "0");
        ns.sysctl().set("net.ipv4.conf.eth0.rp_filter", "2");
        stopForUpdate(v1);
        start(Ipv4Protocol.STATE_VERSION);
        assertEquals("0", ns.sysctl().get("net.ipv4.conf.eth1.forwarding"), "not overwritten by all.forwarding");
        assertEquals("1", ns.sysctl().get("net.ipv4.conf.eth0.forwarding"));
        assertEquals("2", ns.sysctl().get("net.ipv4.conf.eth0.rp_filter"));
        ns.sysctl().set("net.ipv4.ip_forward", "0");
        assertEquals("0", ns.sysctl().get("net.ipv4.conf.eth0.forwarding"), "the new version's handler copies the write");
    }

    @Test
    void aNewVersionThatCannotReadTheStateRefusesItAndStartsEmpty() throws Exception {
        stopForUpdate(forwardingRouter());
        Ipv4Protocol v2 = start(Ipv4Protocol.STATE_VERSION + 1);
        assertEquals(1L, stack.tables().counters().get("HandOverRefused"));
        assertTrue(new RouteService(v2).routes(ns).stream().allMatch(r -> "kernel".equals(r.protocol())), "only the kernel's routes");
        assertEquals("64", ns.sysctl().get("net.ipv4.ip_default_ttl"), "sysctls back to their defaults");
        assertEquals(0L, v2.counters(ns).get("IpForwDatagrams"));
    }

    @Test
    void anIpv4StoppedWithoutUpdateDropsItsStateAndItsFramesAreNotHeld() throws Exception {
        Ipv4Protocol v1 = forwardingRouter();
        stack.removeHandler(ETH_P_IP, v1);
        stack.removePernet(v1);
        v1.deactivate();
        receive("10.9.0.5", 2);
        stack.run();
        assertEquals(1L, eth0.stats().get(DeviceStats.Field.RX_DROPPED), "no handler: dropped and counted");
        assertNull(stack.tables().take(Ipv4Protocol.LAYER));
        assertTrue(ns.sysctl().all().keySet().stream().noneMatch(n -> n.equals("net.ipv4.ip_forward")), "its sysctls went");
    }

    @Test
    void heldFramesNobodyComesForAreDroppedAndCounted() throws Exception {
        stopForUpdate(forwardingRouter());
        receive("10.9.0.5", 2);
        stack.run();
        clock[0] += 6_000_000_000L; // past the hand-over timeout
        stack.run();
        assertEquals(1L, eth0.stats().get(DeviceStats.Field.RX_DROPPED));
        assertEquals(1L, stack.tables().counters().get("HandOverHeldExpired"));
        Ipv4Protocol v2 = start(Ipv4Protocol.STATE_VERSION);
        stack.run();
        assertEquals(List.of(1), sent, "the expired frame is not sent late");
        assertNotNull(v2.net(ns));
    }

    /** A transport protocol that hands over when IPv4 does (as UDP does: IPv4 takes it down with it). */
    private final class Transport implements org.modnet.api.inet.InetProtocol {
        final List<Integer> got = new ArrayList<>();
        boolean leaving;

        @Override
        public void receive(SkBuff skb) {
            got.add(skb.getU16(skb.networkHeader() + Ipv4Header.ID));
            skb.free();
        }

        @Override
        public boolean handingOver() {
            return leaving;
        }
    }

    @Test
    void packetsForATransportLeavingWithIpv4WaitForItsNextVersionInTheNextIpv4() throws Exception {
        Ipv4Protocol v1 = forwardingRouter();
        Transport udp1 = new Transport();
        v1.addProtocol(udp1, Map.of(org.modnet.api.inet.InetProtocol.PROTOCOL, 17));
        receive("10.0.1.1", 2); // for r itself
        stack.run();
        assertEquals(List.of(2), udp1.got);
        udp1.leaving = true; // IPv4 leaves for an update, and UDP with it, each with its state
        stopForUpdate(v1);
        v1.removeProtocol(udp1, Map.of(org.modnet.api.inet.InetProtocol.PROTOCOL, 17));
        receive("10.0.1.1", 3);
        Ipv4Protocol v2 = start(Ipv4Protocol.STATE_VERSION);
        stack.run();
        receive("10.0.1.1", 4);
        stack.run();
        assertEquals(0L, v2.counters(ns).get("IpInUnknownProtos"), "no port unreachable while UDP comes back");
        Transport udp2 = new Transport();
        v2.addProtocol(udp2, Map.of(org.modnet.api.inet.InetProtocol.PROTOCOL, 17));
        assertEquals(List.of(3, 4), udp2.got, "held in the new IPv4 until the new UDP registered, in order");
    }

    @Test
    void packetsTheLeavingIpv4HeldForATransportReachItsNextVersionAheadOfTheFramesTheCoreHeld() throws Exception {
        Ipv4Protocol v1 = forwardingRouter();
        Transport udp1 = new Transport();
        v1.addProtocol(udp1, Map.of(org.modnet.api.inet.InetProtocol.PROTOCOL, 17));
        udp1.leaving = true; // UDP leaves first (DS takes the users of Ipv4 down), IPv4 still handles 0x0800
        v1.removeProtocol(udp1, Map.of(org.modnet.api.inet.InetProtocol.PROTOCOL, 17));
        receive("10.0.1.1", 2);
        receive("10.0.1.1", 3);
        stack.run();
        stopForUpdate(v1); // then IPv4's own deposit: from here the core holds the frames
        receive("10.0.1.1", 4);
        Ipv4Protocol v2 = start(Ipv4Protocol.STATE_VERSION);
        stack.run();
        receive("10.0.1.1", 5);
        stack.run();
        Transport udp2 = new Transport();
        v2.addProtocol(udp2, Map.of(org.modnet.api.inet.InetProtocol.PROTOCOL, 17));
        assertEquals(List.of(2, 3, 4, 5), udp2.got, "the old IPv4's held packets first, then the core's, then the new IPv4's");
        assertEquals(0L, v2.counters(ns).get("IpInDiscards"));
        assertEquals(2L, stack.tables().counters().get("HandOverHeldPassed"));
    }

    @Test
    void anEarlierUpdatesTimeoutDoesNotReleaseALaterUpdatesFrames() throws Exception {
        stopForUpdate(forwardingRouter());
        Ipv4Protocol v2 = start(Ipv4Protocol.STATE_VERSION);
        clock[0] += 4_000_000_000L;
        stack.run();
        stopForUpdate(v2);
        receive("10.9.0.5", 2);
        clock[0] += 1_500_000_000L; // the first update's timeout is due, the second's is not
        stack.run();
        assertEquals(0L, stack.tables().counters().get("HandOverHeldExpired"), "still waiting for the next version");
        start(Ipv4Protocol.STATE_VERSION);
        stack.run();
        assertEquals(List.of(1, 2), sent);
    }

    @Test
    void packetsForANeighbourTableBeingUpdatedWaitForItsNextVersion() throws Exception {
        Ipv4Protocol v1 = new Ipv4Protocol(stack.core(), null, stack.tables(), () -> false, Ipv4Protocol.STATE_VERSION);
        stack.addPernet(v1, 10);
        stack.addHandler(ETH_P_IP, v1);
        Leaving old = new Leaving();
        v1.bindNeighbours(old);
        ns.sysctl().set("net.ipv4.ip_forward", "1");
        receive("10.0.2.7", 1);
        stack.run();
        old.leaving = true;
        v1.unbindNeighbours(old);
        receive("10.0.2.7", 2);
        receive("10.0.2.7", 3);
        stack.run();
        assertEquals(List.of(1), sent);
        v1.bindNeighbours(neighbours);
        assertEquals(List.of(1, 2, 3), sent, "held, then sent through the new table in order");
        assertEquals(0L, v1.counters(ns).get("IpOutDiscards"));
    }

    /** A neighbour table that records what it is asked to send. */
    private class Recording implements NeighbourTable {
        @Override
        public void output(SkBuff skb, NetDevice dev, int nextHop) {
            sent.add(skb.getU16(skb.data() + Ipv4Header.ID));
            skb.free();
        }

        @Override
        public void setUnreachable(Unreachable handler) {
        }

        @Override
        public List<Neighbour> entries(NetNamespace n) {
            return List.of();
        }

        @Override
        public void add(NetDevice dev, int address, MacAddress lladdr, NudState state, boolean replace) {
        }

        @Override
        public void delete(NetDevice dev, int address) {
        }

        @Override
        public int flush(NetNamespace n, NetDevice devOrNull) {
            return 0;
        }

        @Override
        public Map<String, Long> stats(NetNamespace n) {
            return Map.of();
        }
    }

    /** The old version of the table, leaving for an update. */
    private final class Leaving extends Recording implements org.modnet.api.handover.HandsOver {
        boolean leaving;

        @Override
        public boolean handingOver() {
            return leaving;
        }
    }

    @Test
    void theRunningVersionsFreezeSideWarmUpExportsEveryNamespaceAndDepositsNothing() throws Exception {
        Ipv4Protocol v1 = forwardingRouter();
        Map<String, Long> before = v1.counters(ns);
        assertEquals(v1.export().namespaces().size(), v1.warmFreeze(), "every namespace's share made");
        assertNull(stack.tables().take(Ipv4Protocol.LAYER), "nothing deposited");
        assertEquals(0L, stack.tables().counters().get("HandOverDeposits"));
        assertEquals(before, v1.counters(ns), "nothing counted");
        receive("10.9.0.5", 2);
        stack.run();
        assertEquals(List.of(1, 2), sent, "still forwarding");
        stopForUpdate(v1); // the real deposit afterwards carries the route as before
        Ipv4Protocol v2 = start(Ipv4Protocol.STATE_VERSION);
        assertTrue(new RouteService(v2).routes(ns).stream().anyMatch(r -> r.prefix() == 0x0a090000 && r.len() == 16));
        assertEquals(2L, v2.counters(ns).get("IpForwDatagrams"));
    }
}

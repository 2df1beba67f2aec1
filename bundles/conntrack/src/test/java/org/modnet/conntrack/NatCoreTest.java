package org.modnet.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/** A router's NAT, driven hook by hook as Ipv4 runs them for a forwarded packet. */
class NatCoreTest {
    private static final int ROUTER = Packets.ip("192.168.1.1");
    private long now = 5_000;
    private final ConntrackTable t = new ConntrackTable(new TestSysctl(), () -> now, 64);
    private final NatCore nat = new NatCore(t, d -> ROUTER);
    private final Packets p = new Packets();

    /** A forwarded packet's way: conntrack, DNAT, (filter), SNAT rules (masquerade outbound), confirm. */
    private SkBuff forward(SkBuff skb, boolean masquerade) {
        assertEquals(Verdict.ACCEPT, t.in(skb));
        if (NatCore.needsBinding(skb, NfHook.PRE_ROUTING)) {
            NatCore.nullBinding(skb, NfHook.PRE_ROUTING);
        }
        assertEquals(Verdict.ACCEPT, nat.packet(skb, NfHook.PRE_ROUTING));
        if (NatCore.needsBinding(skb, NfHook.POST_ROUTING)) {
            if (masquerade) {
                assertEquals(Verdict.ACCEPT, nat.setup(skb, NfHook.POST_ROUTING, ROUTER, ROUTER, 0, 0, 0));
            } else {
                NatCore.nullBinding(skb, NfHook.POST_ROUTING);
            }
        }
        assertEquals(Verdict.ACCEPT, nat.packet(skb, NfHook.POST_ROUTING));
        assertEquals(Verdict.ACCEPT, t.confirm(skb));
        return skb;
    }

    @Test
    void masqueradedUdpLeavesFromTheRouterAndTheReplyIsTranslatedBack() {
        SkBuff out = forward(p.udp("10.0.0.2", 5000, "192.168.1.2", 53), true);
        assertEquals("192.168.1.1", Packets.src(out));
        assertEquals(5000, Packets.sport(out)); // free, so kept
        assertTrue(Packets.checksumsValid(out));
        SkBuff back = forward(p.udp("192.168.1.2", 53, "192.168.1.1", 5000), true);
        assertEquals("10.0.0.2", Packets.dst(back));
        assertEquals(5000, Packets.dport(back));
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, back.nfctInfo());
        assertTrue(Packets.checksumsValid(back));
        out.free();
        back.free();
    }

    @Test
    void aSecondClientWithTheSamePortGetsAnotherPortInTheSameRange() {
        forward(p.udp("10.0.0.2", 5000, "192.168.1.2", 53), true).free();
        assertEquals(0, t.found.get(), "port 5000 was free");
        SkBuff second = forward(p.udp("10.0.0.3", 5000, "192.168.1.2", 53), true);
        // nf_conntrack_tuple_taken counts found: 5000 was the first flow's, the next candidate was free
        assertEquals(1, t.found.get());
        assertEquals("192.168.1.1", Packets.src(second));
        int port = Packets.sport(second);
        assertNotEquals(5000, port);
        assertTrue(port >= 1024 && port <= 65535);
        assertTrue(Packets.checksumsValid(second));
        SkBuff back = forward(p.udp("192.168.1.2", 53, "192.168.1.1", port), true);
        assertEquals("10.0.0.3", Packets.dst(back));
        assertEquals(5000, Packets.dport(back));
        second.free();
        back.free();
    }

    @Test
    void aLowPortIsRemappedBelow1024() {
        forward(p.udp("10.0.0.2", 700, "192.168.1.2", 53), true).free();
        SkBuff second = forward(p.udp("10.0.0.3", 700, "192.168.1.2", 53), true);
        int port = Packets.sport(second);
        assertTrue(port >= 600 && port <= 1023 && port != 700, "port " + port);
        second.free();
    }

    @Test
    void aFullPortRangeRefusesTheFlow() {
        SkBuff first = p.udp("10.0.0.2", 5000, "192.168.1.2", 53);
        t.in(first);
        assertEquals(Verdict.ACCEPT, nat.setup(first, NfHook.POST_ROUTING, ROUTER, ROUTER, 6000, 6000, 0));
        t.confirm(first);
        first.free();
        SkBuff second = p.udp("10.0.0.3", 5000, "192.168.1.2", 53);
        t.in(second);
        assertEquals(Verdict.DROP, nat.setup(second, NfHook.POST_ROUTING, ROUTER, ROUTER, 6000, 6000, 0));
        second.free();
    }

    @Test
    void dnatSendsToTheInsideHostAndTheReplyComesFromTheRouter() {
        SkBuff in = p.tcp("192.168.1.2", 40000, "192.168.1.1", 8080, Packets.SYN);
        t.in(in);
        assertEquals(Verdict.ACCEPT, nat.setup(in, NfHook.PRE_ROUTING, Packets.ip("10.0.0.2"), Packets.ip("10.0.0.2"), 80, 80, 0));
        nat.packet(in, NfHook.PRE_ROUTING);
        NatCore.nullBinding(in, NfHook.POST_ROUTING);
        t.confirm(in);
        assertEquals("10.0.0.2", Packets.dst(in));
        assertEquals(80, Packets.dport(in));
        assertTrue(Packets.checksumsValid(in));
        SkBuff reply = forward(p.tcp("10.0.0.2", 80, "192.168.1.2", 40000, Packets.SYN | Packets.ACK), false);
        assertEquals("192.168.1.1", Packets.src(reply));
        assertEquals(8080, Packets.sport(reply));
        assertTrue(Packets.checksumsValid(reply));
        in.free();
        reply.free();
    }

    @Test
    void icmpErrorForAMasqueradedFlowHasItsQuotedHeaderTranslated() {
        forward(p.udp("10.0.0.3", 5000, "192.168.1.2", 9), true).free();
        SkBuff out = forward(p.udp("10.0.0.2", 5000, "192.168.1.2", 9), true);
        int port = Packets.sport(out);
        SkBuff err = forward(p.icmpError("192.168.1.2", "192.168.1.1", 3, 3, out), true);
        assertEquals("10.0.0.2", Packets.dst(err));
        assertEquals(SkBuff.IP_CT_RELATED + SkBuff.IP_CT_IS_REPLY, err.nfctInfo());
        int inner = err.networkHeader() + 28;
        assertEquals(Packets.ip("10.0.0.2"), err.getU32(inner + 12));
        assertEquals(5000, err.getU16(inner + 20));
        assertNotEquals(5000, port);
        assertTrue(Packets.checksumsValid(err));
        out.free();
        err.free();
    }

    @Test
    void masqueradedPingKeepsItsIdWhenFreeAndTheReplyFindsTheClient() {
        SkBuff out = forward(p.icmpEcho("10.0.0.2", "192.168.1.2", 8, 99), true);
        assertEquals("192.168.1.1", Packets.src(out));
        assertTrue(Packets.checksumsValid(out));
        SkBuff back = forward(p.icmpEcho("192.168.1.2", "192.168.1.1", 0, 99), true);
        assertEquals("10.0.0.2", Packets.dst(back));
        assertTrue(Packets.checksumsValid(back));
        assertFalse(t.entries().isEmpty());
        out.free();
        back.free();
    }

    @Test
    void incrementalChecksumMatchesAFullOne() {
        assertEquals(0xb861, Csum.replace16(0xb861, 0x1234, 0x1234));
        // RFC 1624's example: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives 0x0000
        assertEquals(0x0000, Csum.replace16(0xdd2f, 0x5555, 0x3285));
    }

    /** A DNATed SYN to the router's 8080 with {@code flags}, from client port {@code cport}: the port it was sent to. */
    private int dnatPort(int cport, int minPort, int maxPort, int flags) {
        SkBuff in = p.tcp("192.168.1.2", cport, "192.168.1.1", 8080, Packets.SYN);
        t.in(in);
        assertEquals(Verdict.ACCEPT, nat.setup(in, NfHook.PRE_ROUTING, Packets.ip("10.0.0.2"), Packets.ip("10.0.0.2"),
                minPort, maxPort, flags));
        nat.packet(in, NfHook.PRE_ROUTING);
        NatCore.nullBinding(in, NfHook.POST_ROUTING);
        assertEquals(Verdict.ACCEPT, t.confirm(in));
        int port = Packets.dport(in);
        in.free();
        return port;
    }

    @Test
    void aDestinationRangeWithoutRandomIsTakenFromItsFirstPortAndWithRandomAnywhere() {
        // nf_nat_l4proto_unique_tuple: off 0 for a DST manip unless NF_NAT_RANGE_PROTO_RANDOM_ALL
        assertEquals(9000, dnatPort(40000, 9000, 9999, 0));
        assertEquals(9000, dnatPort(40001, 9000, 9999, 0), "another client: its reply tuple differs, the port is free");
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            int port = dnatPort(41000 + i, 9000, 9999, org.modnet.api.netfilter.NfNat.RANDOM_FULLY);
            assertTrue(port >= 9000 && port <= 9999, "port " + port);
            seen.add(port);
        }
        assertTrue(seen.size() > 1, "random starts: " + seen);
    }

    @Test
    void randomFullyRemapsAFreeSourcePortAtRandomWithinTheDefaultRange() {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            SkBuff out = p.udp("10.0.0." + (2 + i), 5000, "192.168.1.2", 53);
            t.in(out);
            assertEquals(Verdict.ACCEPT, nat.setup(out, NfHook.POST_ROUTING, ROUTER, ROUTER, 0, 0,
                    org.modnet.api.netfilter.NfNat.RANDOM_FULLY));
            nat.packet(out, NfHook.POST_ROUTING);
            assertEquals(Verdict.ACCEPT, t.confirm(out));
            int port = Packets.sport(out);
            assertTrue(port >= 1024 && port <= 65535, "port " + port);
            seen.add(port);
            out.free();
        }
        assertTrue(seen.size() > 1, "a random draw each time: " + seen);
    }
}

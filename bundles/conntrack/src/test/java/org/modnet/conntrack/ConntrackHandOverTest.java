package org.modnet.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/** A masquerading router's conntrack table handed from one version of the bundle to the next. */
class ConntrackHandOverTest {
    private static final int ROUTER = Packets.ip("192.168.1.1");
    private long now = 7_000;
    private final Holder holder = new Holder();
    /** The namespace's sysctl tree; a test swaps it to prove values travel in the deposit. */
    private TestSysctl sysctl = new TestSysctl();
    private final NetCore core = (NetCore) Proxy.newProxyInstance(NetCore.class.getClassLoader(), new Class<?>[] { NetCore.class },
            (p, m, a) -> m.getName().equals("nanoTime") ? now * 1_000_000 : null);
    private final NetNamespace ns = (NetNamespace) Proxy.newProxyInstance(NetNamespace.class.getClassLoader(),
            new Class<?>[] { NetNamespace.class }, (p, m, a) -> switch (m.getName()) {
                case "sysctl" -> sysctl;
                case "addressGeneration" -> 0L;
                case "hashCode" -> 7;
                case "equals" -> p == a[0];
                default -> null;
            });
    private final Packets p = new Packets();

    /** The core's holder, as TableHolder keeps deposits. */
    static final class Holder implements StateHolder {
        final Map<String, TableState> deposits = new HashMap<>();
        final Map<String, java.util.function.Supplier<TableState>> latest = new HashMap<>();
        final List<String> refusals = new ArrayList<>();

        @Override
        public void deposit(TableState state) {
            deposits.put(state.layer(), state);
        }

        @Override
        public void deposit(TableState now, java.util.function.Supplier<TableState> later) {
            deposit(now);
            latest.put(now.layer(), later);
        }

        @Override
        public TableState take(String layer) {
            java.util.function.Supplier<TableState> later = latest.remove(layer);
            TableState now = deposits.remove(layer);
            return later != null && now != null ? later.get() : now;
        }

        @Override
        public void refuse(TableState state, String why) {
            refusals.add(why);
        }

        @Override
        public Map<String, Long> counters() {
            return Map.of();
        }
    }

    private ConntrackComponent version(boolean updating, int stateVersion) {
        ConntrackComponent c = new ConntrackComponent(core, holder, null, () -> updating, stateVersion);
        // the nat table: MASQUERADE-like SNAT to the router's address for everything that leaves
        c.addLookup(NfHook.POST_ROUTING, (skb, h, n, in, out, nat) -> nat.setup(skb, h, ROUTER, ROUTER, 0, 0, 0));
        c.init(ns);
        return c;
    }

    /** A forwarded packet's hooks in IPv4's order. */
    private SkBuff forward(ConntrackComponent c, SkBuff skb) {
        assertEquals(Verdict.ACCEPT, c.conntrackIn(skb, NfHook.PRE_ROUTING, ns, null, null));
        assertEquals(Verdict.ACCEPT, c.nat(skb, NfHook.PRE_ROUTING, ns, null, null));
        assertEquals(Verdict.ACCEPT, c.nat(skb, NfHook.POST_ROUTING, ns, null, null));
        assertEquals(Verdict.ACCEPT, c.confirm(skb, NfHook.POST_ROUTING, ns, null, null));
        return skb;
    }

    private ConntrackComponent routerWithFlows() throws Exception {
        ConntrackComponent old = version(true, ConntrackComponent.STATE_VERSION);
        sysctl.set("net.netfilter.nf_conntrack_udp_timeout", "45");
        forward(old, p.tcp("10.0.0.2", 40000, "192.168.1.2", 80, Packets.SYN)).free();
        forward(old, p.tcp("192.168.1.2", 80, ROUTER_S, 40000, Packets.SYN | Packets.ACK)).free();
        forward(old, p.tcp("10.0.0.2", 40000, "192.168.1.2", 80, Packets.ACK)).free();
        forward(old, p.udp("10.0.0.3", 5000, "192.168.1.2", 53)).free();
        now += 3_000; // the timeouts go down before the update
        return old;
    }

    private static final String ROUTER_S = "192.168.1.1";

    @Test
    void flowsWithTheirNatBindingsTimeoutsSysctlsAndStatsGoToTheNextVersion() throws Exception {
        ConntrackComponent old = routerWithFlows();
        List<String> flows = old.run(ns, "-L");
        List<String> stats = old.run(ns, "-S");
        assertEquals(3, flows.size(), flows.toString()); // two flows and the summary line
        old.exit(ns); // the core takes the namespace operations away first: an update keeps the table
        old.deactivate();
        sysctl = new TestSysctl(); // nothing but the deposit carries the values
        ConntrackComponent next = version(false, ConntrackComponent.STATE_VERSION);
        assertEquals(List.of(), holder.refusals);
        // the same flows, with the same seconds left (listed in hash order, and each table has its own seed)
        assertEquals(new java.util.TreeSet<>(flows), new java.util.TreeSet<>(next.run(ns, "-L")));
        assertEquals(stats, next.run(ns, "-S"));
        assertEquals("45", sysctl.get("net.netfilter.nf_conntrack_udp_timeout"));
        assertEquals("2", sysctl.get("net.netfilter.nf_conntrack_count"));
        // the server's next segment is an established reply, translated back to the client behind the router
        SkBuff back = forward(next, p.tcp("192.168.1.2", 80, ROUTER_S, 40000, Packets.ACK));
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, back.nfctInfo());
        assertEquals("10.0.0.2", Packets.dst(back));
        assertTrue(Packets.checksumsValid(back));
        back.free();
        // and the client's next one leaves masqueraded, not as a new flow
        SkBuff out = forward(next, p.tcp("10.0.0.2", 40000, "192.168.1.2", 80, Packets.ACK));
        assertEquals(SkBuff.IP_CT_ESTABLISHED, out.nfctInfo());
        assertEquals(ROUTER_S, Packets.src(out));
        out.free();
    }

    @Test
    void theOldVersionStillTracksAfterItsDeposit() throws Exception {
        ConntrackComponent old = routerWithFlows();
        old.deactivate();
        // IPv4 keeps the old hooks until the next version's register: they must still know the flows
        SkBuff back = forward(old, p.tcp("192.168.1.2", 80, ROUTER_S, 40000, Packets.ACK));
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, back.nfctInfo());
        back.free();
    }

    @Test
    void aFlowThatBeginsWhileTheUpdateIsUnderWayIsHandedOverToo() throws Exception {
        ConntrackComponent old = routerWithFlows();
        old.exit(ns);
        old.deactivate();
        // between the deposit and the next version's hooks, the old ones see a new connection begin
        forward(old, p.tcp("10.0.0.4", 41000, "192.168.1.2", 80, Packets.SYN)).free();
        ConntrackComponent next = version(false, ConntrackComponent.STATE_VERSION);
        assertEquals(List.of(), holder.refusals);
        // its SYN-ACK meets the next version: known, and translated back to the client behind the router
        SkBuff synAck = forward(next, p.tcp("192.168.1.2", 80, ROUTER_S, 41000, Packets.SYN | Packets.ACK));
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, synAck.nfctInfo());
        assertEquals("10.0.0.4", Packets.dst(synAck));
        synAck.free();
    }

    @Test
    void aStateVersionItCannotReadIsRefusedAndTheNewVersionStartsEmpty() throws Exception {
        ConntrackComponent old = new ConntrackComponent(core, holder, null, () -> true, ConntrackComponent.STATE_VERSION + 1);
        old.init(ns);
        sysctl.set("net.netfilter.nf_conntrack_udp_timeout", "45");
        forward(old, p.udp("10.0.0.3", 5000, "192.168.1.2", 53)).free();
        old.deactivate();
        ConntrackComponent next = version(false, ConntrackComponent.STATE_VERSION);
        assertEquals(List.of("this conntrack reads state version 1, the deposit is version 2"), holder.refusals);
        assertEquals("0", next.run(ns, "-C").get(0));
        assertEquals("30", sysctl.get("net.netfilter.nf_conntrack_udp_timeout")); // back to the default
    }

    @Test
    void aBrokenEntryIsNotAdoptedAndTheRestAre() {
        ConntrackTable t = new ConntrackTable(new TestSysctl(), () -> now, 64);
        assertTrue(!t.adopt("17 8 0 1000 0"));
        assertTrue(!t.adopt("17 8 0 1000 0 0 0 0 0 0 1 2 3 4 2 1 4 x"));
        assertTrue(t.adopt("17 8 0 1000 0 0 0 0 0 0 1 2 3 4 2 1 4 3"));
        assertTrue(!t.adopt("17 8 0 1000 0 0 0 0 0 0 1 2 3 4 2 1 4 3"), "its tuple is there already");
        assertEquals(1, t.entries().size());
    }

    /** A nat table's lookup that leaves for an update while {@code updating} is set. */
    private static final class NatTable implements org.modnet.api.netfilter.NfNatLookup, org.modnet.api.handover.HandsOver {
        boolean updating;

        @Override
        public Verdict lookup(SkBuff skb, NfHook hook, NetNamespace n, org.modnet.api.net.NetDevice in,
                org.modnet.api.net.NetDevice out, org.modnet.api.netfilter.NfNat nat) {
            return Verdict.ACCEPT;
        }

        @Override
        public boolean handingOver() {
            return updating;
        }
    }

    private static Map<String, Object> props(NfHook hook, long bundle) {
        return Map.of(org.modnet.api.netfilter.NfHookFunction.HOOK, hook.name(), "service.bundleid", bundle);
    }

    @Test
    void twoNatTablesUpdatedAtOnceEachKeepTheirPlaceUntilTheirOwnSuccessorCame() {
        ConntrackComponent c = new ConntrackComponent(core, holder, null, () -> false, ConntrackComponent.STATE_VERSION);
        NatTable iptables = new NatTable(); // bundle 11
        NatTable nft = new NatTable(); // bundle 12
        c.addLookup(iptables, props(NfHook.POST_ROUTING, 11));
        c.addLookup(nft, props(NfHook.POST_ROUTING, 12));
        iptables.updating = true;
        nft.updating = true;
        c.removeLookup(iptables, props(NfHook.POST_ROUTING, 11));
        c.removeLookup(nft, props(NfHook.POST_ROUTING, 12));
        assertEquals(List.of(iptables, nft), c.lookups(NfHook.POST_ROUTING), "both old versions NAT on while they leave");
        NatTable iptablesNext = new NatTable();
        c.addLookup(iptablesNext, props(NfHook.POST_ROUTING, 11));
        assertEquals(List.of(nft, iptablesNext), c.lookups(NfHook.POST_ROUTING),
                "iptables' next version replaced its own old one only; nftables' old nat chains still answer");
        NatTable nftNext = new NatTable();
        c.addLookup(nftNext, props(NfHook.POST_ROUTING, 12));
        assertEquals(List.of(iptablesNext, nftNext), c.lookups(NfHook.POST_ROUTING));
        c.removeLookup(nftNext, props(NfHook.POST_ROUTING, 12));
        assertEquals(List.of(iptablesNext), c.lookups(NfHook.POST_ROUTING), "a table that goes for good leaves");
    }
}

package org.modnet.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** nftables' rulesets handed from one version of the bundle to the next: handles, counters, sets and maps kept. */
class NftHandOverTest {
    private final SkBuffPool pool = new SkBuffPool(16, 512);
    private final Holder holder = new Holder();
    private final NetNamespace one = ns(1), two = ns(2);
    private final NetDevice eth0 = dev("eth0");

    /** The core's holder: a deposit with a {@code latest} is taken as it is at take time, as TableHolder does. */
    static final class Holder implements StateHolder {
        final Map<String, Supplier<TableState>> deposits = new HashMap<>();
        final List<String> refusals = new ArrayList<>();

        @Override
        public void deposit(TableState state) {
            deposits.put(state.layer(), () -> state);
        }

        @Override
        public void deposit(TableState now, Supplier<TableState> latest) {
            deposits.put(now.layer(), latest);
        }

        @Override
        public TableState take(String layer) {
            Supplier<TableState> s = deposits.remove(layer);
            return s == null ? null : s.get();
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

    private static NetNamespace ns(int id) {
        return (NetNamespace) Proxy.newProxyInstance(NetNamespace.class.getClassLoader(), new Class<?>[] { NetNamespace.class },
                (p, m, a) -> m.getName().equals("hashCode") ? id : m.getName().equals("equals") ? p == a[0] : null);
    }

    private static NetDevice dev(String name) {
        return (NetDevice) Proxy.newProxyInstance(NetDevice.class.getClassLoader(), new Class<?>[] { NetDevice.class },
                (p, m, a) -> m.getName().equals("name") ? name : m.getName().equals("hashCode") ? 1 : null);
    }

    private SkBuff udp(String src, int dport) {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        skb.put(38);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 38);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 17);
        skb.setU32(nh + 12, (int) Values.parse(Stmt.Type.ADDR, src));
        skb.setU32(nh + 16, (int) Values.parse(Stmt.Type.ADDR, "10.0.0.2"));
        skb.setU16(nh + 20, 5000);
        skb.setU16(nh + 22, dport);
        return skb;
    }

    private static List<String> nft(NftCommand c, NetNamespace ns, String... args) {
        try {
            return c.run(ns, args);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private Verdict in(NftCommand c, NetNamespace ns, SkBuff skb) {
        return c.hook(skb, NfHook.LOCAL_IN, ns, eth0, null);
    }

    /**
     * The hook keeps the last namespace's ruleset to skip the map: packets alternating between two
     * namespaces are each judged by their own, and a namespace that went has none (its packets pass).
     */
    @Test
    void theHookJudgesEachNamespaceByItsOwnRulesetAsPacketsAlternate() {
        NftCommand c = new NftCommand(null, null);
        nft(c, one, "add table ip t");
        nft(c, one, "add chain ip t input { type filter hook input priority 0; policy drop; }");
        nft(c, two, "add table ip t");
        nft(c, two, "add chain ip t input { type filter hook input priority 0; policy accept; }");
        nft(c, two, "add rule ip t input ip saddr 10.0.0.9 drop");
        for (int i = 0; i < 3; i++) {
            assertEquals(Verdict.DROP, in(c, one, udp("10.0.0.1", 53)));
            assertEquals(Verdict.ACCEPT, in(c, two, udp("10.0.0.1", 53)));
            assertEquals(Verdict.DROP, in(c, two, udp("10.0.0.9", 53)));
        }
        assertEquals(Verdict.DROP, in(c, one, udp("10.0.0.1", 53)));
        c.exit(one);
        assertEquals(Verdict.ACCEPT, in(c, one, udp("10.0.0.1", 53)), "no ruleset: nothing to judge it by");
        assertEquals(Verdict.DROP, in(c, two, udp("10.0.0.9", 53)));
    }

    private static final String RULES = """
            add table ip t
            add chain ip t input { type filter hook input priority 0; policy drop; }
            add chain ip t web
            add set ip t bad { type ipv4_addr; flags interval; elements = { 192.0.2.0/24 } }
            add map ip t ports { type inet_service : verdict; elements = { 53 : accept, 80 : jump web } }
            add rule ip t input ip saddr @bad counter drop
            add rule ip t input udp dport vmap @ports
            add rule ip t input ip saddr . udp dport { 10.0.0.7 . 7 } counter accept
            add rule ip t input udp dport { 9, 19 } counter accept
            add rule ip t web ip saddr 10.0.0.1 counter accept
            add counter ip t total
            add rule ip t input counter name total
            add table inet other
            """;

    private NftCommand oldVersionWithTraffic() {
        NftCommand old = new NftCommand(null, holder, null, () -> true, NftCommand.STATE_VERSION);
        for (NetNamespace n : List.of(one, two)) {
            nft(old, n, "-f", write(RULES));
        }
        nft(old, one, "delete rule ip t input handle 10"); // handles are not reused: the next version must know where they stand
        assertEquals(Verdict.DROP, in(old, one, udp("192.0.2.9", 53)));
        assertEquals(Verdict.ACCEPT, in(old, one, udp("10.0.0.1", 80)));
        assertEquals(Verdict.ACCEPT, in(old, one, udp("10.0.0.9", 53)));
        assertEquals(Verdict.DROP, in(old, two, udp("10.0.0.9", 8)));
        assertEquals(Verdict.ACCEPT, in(old, two, udp("10.0.0.9", 19)));
        assertEquals(Verdict.ACCEPT, in(old, two, udp("10.0.0.7", 7)));
        return old;
    }

    private static String write(String text) {
        try {
            java.nio.file.Path f = java.nio.file.Files.createTempFile("nft-handover", ".nft");
            f.toFile().deleteOnExit();
            java.nio.file.Files.writeString(f, text);
            return f.toString();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void rulesetsWithTheirHandlesCountersSetsAndMapsGoToTheNextVersion() {
        NftCommand old = oldVersionWithTraffic();
        List<String> before1 = nft(old, one, "-a", "list", "ruleset");
        List<String> before2 = nft(old, two, "-a", "list", "ruleset");
        assertTrue(before1.contains("\t\tip saddr @bad counter packets 1 bytes 38 drop # handle 5"), before1.toString());
        old.deactivate();
        // the old version's functions still run until the new version's replace them; what they count goes over
        assertEquals(Verdict.ACCEPT, in(old, one, udp("10.0.0.1", 80)));

        NftCommand next = new NftCommand(null, holder, null, () -> false, NftCommand.STATE_VERSION);
        List<String> after1 = nft(next, one, "-a", "list", "ruleset");
        assertEquals(before1.stream().map(l -> l.replace("10.0.0.1 counter packets 1 bytes 38", "10.0.0.1 counter packets 2 bytes 76")).toList(),
                after1);
        assertEquals(before2, nft(next, two, "-a", "list", "ruleset"));
        // the same verdicts, the counters count on, and new objects get the handles the old version would have given
        assertEquals(Verdict.DROP, in(next, one, udp("192.0.2.9", 53)));
        assertEquals(Verdict.ACCEPT, in(next, two, udp("10.0.0.7", 7)));
        assertTrue(nft(next, one, "-a", "list", "ruleset").contains("\t\tip saddr @bad counter packets 2 bytes 76 drop # handle 5"));
        nft(old, one, "add rule ip t web counter");
        nft(next, one, "add rule ip t web counter");
        assertEquals(nft(old, one, "-a", "list", "chain", "ip", "t", "web").get(3),
                nft(next, one, "-a", "list", "chain", "ip", "t", "web").get(3));
        nft(next, one, "add table ip u");
        assertEquals("table ip u { # handle 3", nft(next, one, "-a", "list", "table", "ip", "u").get(0));
        assertTrue(holder.refusals.isEmpty());
    }

    @Test
    void aStopThatIsNoUpdateDepositsNothing() {
        NftCommand old = new NftCommand(null, holder, null, () -> false, NftCommand.STATE_VERSION);
        nft(old, one, "add table ip t");
        old.deactivate();
        assertNull(holder.take(NftCommand.LAYER));
    }

    @Test
    void aStateVersionItCannotReadIsRefusedAndTheNewVersionStartsEmpty() {
        NftCommand old = new NftCommand(null, holder, null, () -> true, NftCommand.STATE_VERSION + 1);
        nft(old, one, "-f", write(RULES));
        old.deactivate();
        NftCommand next = new NftCommand(null, holder, null, () -> false, NftCommand.STATE_VERSION);
        assertEquals(List.of("this nftables reads state version 1, the deposit is version 2"), holder.refusals);
        assertEquals(List.of(), nft(next, one, "list", "ruleset"));
    }

    @Test
    void elementTimesDynamicElementsAndQuotasUsedGoToTheNextVersion() {
        NftCommand old = new NftCommand(null, holder, null, () -> true, NftCommand.STATE_VERSION);
        nft(old, one, "-f", write("""
                add table ip q
                add set ip q seen { type ipv4_addr; flags timeout; timeout 1h; }
                add element ip q seen { 10.0.0.50 timeout 2h }
                add chain ip q input { type filter hook input priority 0; policy accept; }
                add rule ip q input ip saddr @seen drop
                add rule ip q input udp dport 77 update @seen { ip saddr }
                add rule ip q input quota 1 kbytes counter
                """));
        assertEquals(Verdict.ACCEPT, in(old, one, udp("10.0.0.60", 77)));
        assertEquals(Verdict.DROP, in(old, one, udp("10.0.0.60", 1)), "added from the packet path");
        List<String> before = nft(old, one, "-a", "list", "ruleset");
        old.deactivate();
        NftCommand next = new NftCommand(null, holder, null, () -> false, NftCommand.STATE_VERSION);
        List<String> after = nft(next, one, "-a", "list", "ruleset");
        assertEquals(before.stream().map(l -> l.replaceAll("expires [0-9dhms]+", "expires X")).toList(),
                after.stream().map(l -> l.replaceAll("expires [0-9dhms]+", "expires X")).toList());
        String elems = after.stream().filter(l -> l.contains("elements")).findFirst().orElseThrow();
        assertTrue(elems.matches("\\t\\telements = \\{ 10\\.0\\.0\\.50 timeout 2h expires 1h59m5[0-9]s[0-9]+ms, 10\\.0\\.0\\.60 expires 59m5[0-9]s[0-9]+ms \\}"),
                "the time left goes on, it does not start again: " + elems);
        assertTrue(after.contains("\t\tquota 1 kbytes used 38 bytes counter packets 1 bytes 38 # handle 5"), after.toString());
        assertEquals(Verdict.DROP, in(next, one, udp("10.0.0.60", 1)));
        assertEquals(Verdict.DROP, in(next, one, udp("10.0.0.50", 1)));
        assertEquals(Verdict.ACCEPT, in(next, one, udp("10.0.0.61", 77)));
        assertEquals(Verdict.DROP, in(next, one, udp("10.0.0.61", 1)), "the next version's rules add on");
    }
}

package org.modnet.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.netfilter.NfIngress;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** The netdev family's ingress chains: nft's syntax and listing (nft 1.0.6's, captured on Linux 6.18), the hook and its cost. */
class NftIngressTest {
    private final Ruleset rs = new Ruleset();
    private final SkBuffPool pool = new SkBuffPool(16, 512);
    private final NetDevice veth0 = dev("veth0", null);
    private final NetDevice veth1 = dev("veth1", null);

    private List<String> nft(String text) {
        return Nft.run(rs, text, false);
    }

    private static NetDevice dev(String name, NetNamespace ns) {
        return (NetDevice) Proxy.newProxyInstance(NetDevice.class.getClassLoader(), new Class<?>[] { NetDevice.class },
                (p, m, a) -> switch (m.getName()) {
                    case "name" -> name;
                    case "namespace" -> ns;
                    case "hashCode" -> name.hashCode();
                    case "equals" -> p == a[0];
                    default -> null;
                });
    }

    /** A frame as the core hands it to ingress: data at the network header, the ethertype set. */
    private SkBuff frame(int ethertype, String src) {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        skb.put(28);
        skb.resetNetworkHeader();
        skb.protocol(ethertype);
        int at = skb.data();
        skb.setU8(at, 0x45);
        skb.setU16(at + 2, 28);
        skb.setU8(at + 8, 64);
        skb.setU8(at + 9, 1);
        skb.setU32(at + 12, (int) Values.parse(Stmt.Type.ADDR, src));
        skb.setU32(at + 16, (int) Values.parse(Stmt.Type.ADDR, "10.0.0.2"));
        skb.setU8(at + 20, 8);
        return skb;
    }

    private static final String RULES = """
            add table netdev T
            add chain netdev T C { type filter hook ingress device veth0 priority 0; }
            add rule netdev T C ip saddr 10.0.0.1 counter drop
            add chain netdev T D { type filter hook ingress device veth0 priority 5; policy drop; }
            """;

    @Test
    void listsAnIngressChainAsNftDoes() {
        nft(RULES);
        assertEquals(List.of("table netdev T { # handle 1",
                "\tchain C { # handle 1",
                "\t\ttype filter hook ingress device \"veth0\" priority filter; policy accept;",
                "\t\tip saddr 10.0.0.1 counter packets 0 bytes 0 drop # handle 2",
                "\t}",
                "",
                "\tchain D { # handle 3",
                "\t\ttype filter hook ingress device \"veth0\" priority filter + 5; policy drop;",
                "\t}",
                "}"), Nft.run(rs, "list ruleset", true));
    }

    @Test
    void listingReadsBackToTheSameRuleset() {
        nft(RULES);
        List<String> before = Nft.list(rs, false);
        Ruleset other = new Ruleset();
        Nft.run(other, String.join("\n", before), false);
        assertEquals(before, Nft.list(other, false));
    }

    @Test
    void refusesAnotherHookOrNoDeviceInNftsWords() {
        nft("add table netdev T");
        CommandException e = assertThrows(CommandException.class,
                () -> nft("add chain netdev T F { type filter hook input device veth0 priority 0; }"));
        assertEquals("""
                Error: The netdev family does not support this hook
                add chain netdev T F { type filter hook input device veth0 priority 0; }
                                                        ^^^^^""", e.getMessage());
        e = assertThrows(CommandException.class, () -> nft("add chain netdev T G { type filter hook ingress priority 0; }"));
        assertEquals("""
                Error: Missing `device' in this chain definition
                add chain netdev T G { type filter hook ingress priority 0; }
                                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^""", e.getMessage());
        assertEquals(List.of("table netdev T {", "}"), nft("list ruleset"));
    }

    @Test
    void dropsAMatchingFrameAtItsDeviceAndCountsIt() {
        nft("""
                add table netdev T
                add chain netdev T C { type filter hook ingress device veth0 priority 0; }
                add rule netdev T C ip saddr 10.0.0.1 counter drop
                """);
        assertEquals(Verdict.DROP, rs.runIngress(frame(0x0800, "10.0.0.1"), veth0));
        assertEquals(Verdict.ACCEPT, rs.runIngress(frame(0x0800, "10.0.0.9"), veth0));
        assertEquals(Verdict.ACCEPT, rs.runIngress(frame(0x0800, "10.0.0.1"), veth1), "a chain sees only its device");
        assertTrue(nft("list chain netdev T C").contains("\t\tip saddr 10.0.0.1 counter packets 1 bytes 28 drop"));
    }

    @Test
    void aFrameThatIsNotIpv4MatchesNoIpExpression() {
        nft("""
                add table netdev T
                add chain netdev T C { type filter hook ingress device veth0 priority 0; }
                add rule netdev T C ip saddr 10.0.0.1 drop
                """);
        assertEquals(Verdict.ACCEPT, rs.runIngress(frame(0x0806, "10.0.0.1"), veth0), "an ARP frame is not ip saddr");
    }

    @Test
    void thePolicyOfAnIngressChainDecidesWhatFallsOffIt() {
        nft("""
                add table netdev T
                add chain netdev T C { type filter hook ingress device veth0 priority 0; policy drop; }
                add rule netdev T C ip saddr 10.0.0.9 accept
                """);
        assertEquals(Verdict.ACCEPT, rs.runIngress(frame(0x0800, "10.0.0.9"), veth0));
        assertEquals(Verdict.DROP, rs.runIngress(frame(0x0800, "10.0.0.1"), veth0));
    }

    @Test
    void ctZoneSetLeavesATemplateAndCtZoneMatchesIt() {
        nft("""
                add table ip t
                add chain ip t c { type filter hook prerouting priority raw; }
                add rule ip t c ct zone set 7
                add rule ip t c ct zone 7 counter
                """);
        // nft 1.0.6's listing on Linux 6.18
        assertEquals(List.of("table ip t {", "\tchain c {", "\t\ttype filter hook prerouting priority raw; policy accept;",
                "\t\tct zone set 7", "\t\tct zone 7 counter packets 0 bytes 0", "\t}", "}"), nft("list ruleset"));
        SkBuff skb = frame(0x0800, "10.0.0.1");
        skb.resetNetworkHeader();
        assertEquals(Verdict.ACCEPT, rs.run(org.modnet.api.netfilter.NfHook.PRE_ROUTING, skb, veth0, null, false, null));
        assertEquals(new org.modnet.api.netfilter.NfCtTemplate(7), skb.nfct());
        assertTrue(nft("list ruleset").contains("\t\tct zone 7 counter packets 1 bytes 28"));
    }

    @Test
    void queueListsAsNft106AndHandsThePacketToTheQueue() {
        nft("""
                add table ip t
                add chain ip t c { type filter hook input priority 0; }
                add rule ip t c ip saddr 10.0.0.1 queue num 3 bypass
                add rule ip t c queue num 4
                add rule ip t c queue
                """);
        assertEquals(List.of("\t\tip saddr 10.0.0.1 queue flags bypass to 3", "\t\tqueue to 4", "\t\tqueue to 0"),
                nft("list chain ip t c").subList(3, 6));
        org.modnet.api.netfilter.NfHookFunction from = (skb, hook, ns, in, out) -> Verdict.ACCEPT;
        List<Integer> queued = new java.util.ArrayList<>();
        rs.queuer = (skb, hook, in, out, num, bypass, f) -> {
            assertSame(from, f);
            queued.add(num);
            return num == 3 ? Verdict.ACCEPT : Verdict.STOLEN; // queue 3 has no consumer: bypassed
        };
        assertEquals(Verdict.ACCEPT, rs.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, frame(0x0800, "10.0.0.1"), veth0, null, 0, from),
                "bypass: accepted at this hook, as NF_ACCEPT");
        assertEquals(Verdict.STOLEN, rs.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, frame(0x0800, "10.0.0.9"), veth0, null, 0, from));
        assertEquals(List.of(3, 4), queued);
        rs.queuer = null;
        assertEquals(Verdict.DROP, rs.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, frame(0x0800, "10.0.0.9"), veth0, null, 0, from),
                "no nfnetlink_queue: dropped");
    }

    @Test
    void anErrorInAFileStartsWithItsNameLineAndColumnsAsNftDoes() {
        // nft 1.0.6 -f on Linux 6.18: /tmp/f.nft:2:15-20: Error: Could not process rule: No such file or directory
        CommandException e = assertThrows(CommandException.class,
                () -> Nft.runFile(rs, "add table ip t\nadd rule ip t nosuch accept\n", false, "/tmp/f.nft"));
        assertEquals("""
                /tmp/f.nft:2:15-20: Error: Could not process rule: No such file or directory
                add rule ip t nosuch accept
                              ^^^^^^""", e.getMessage());
        assertEquals(List.of(), nft("list ruleset"), "all of it or nothing");
    }

    @Test
    void aNamedQuotaMatchesUntilItsBytesAreUsedAndListsAsNftDoes() {
        nft("""
                add table ip t
                add quota ip t q1 { 25 mbytes }
                add quota ip t q2 { over 100 bytes used 10 bytes }
                add chain ip t c { type filter hook input priority 0; }
                add rule ip t c quota name q2 drop
                """);
        // nft 1.0.6 on Linux 6.18
        assertEquals(List.of("table ip t { # handle 1", "\tquota q1 { # handle 1", "\t\t25 mbytes", "\t}", "",
                "\tquota q2 { # handle 2", "\t\tover 100 bytes used 10 bytes", "\t}", "", "\tchain c { # handle 3",
                "\t\ttype filter hook input priority filter; policy accept;", "\t\tquota name \"q2\" drop # handle 4", "\t}", "}"),
                Nft.run(rs, "list ruleset", true));
        // 10 used + 28 + 28 + 28 = 94 < 100: under; the fourth packet takes it to 122: over, and drops
        for (int i = 0; i < 3; i++) {
            assertEquals(Verdict.ACCEPT, rs.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, frame(0x0800, "10.0.0.1"), veth0, null, 0, null));
        }
        assertEquals(Verdict.DROP, rs.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, frame(0x0800, "10.0.0.1"), veth0, null, 0, null));
        assertTrue(nft("list quota ip t q2").contains("\t\tover 100 bytes used 122 bytes"));
        CommandException e = assertThrows(CommandException.class, () -> nft("delete quota ip t q2"));
        assertTrue(e.getMessage().startsWith("Error: Could not process rule: Device or resource busy"), e.getMessage());
        assertThrows(CommandException.class, () -> nft("add rule ip t c quota name nosuch"));
        // nft list ruleset reads back to the same ruleset, used bytes and all
        Ruleset other = new Ruleset();
        Nft.run(other, String.join("\n", Nft.list(rs, false)), false);
        assertEquals(Nft.list(rs, false), Nft.list(other, false));
    }

    @Test
    void aNamedLimitIsOneBucketForEveryRuleNamingItAndListsAsNftDoes() {
        nft("""
                add table ip t
                add limit ip t l1 { rate 10/second }
                add limit ip t l2 { rate over 2/second burst 1 packets }
                add chain ip t c { type filter hook input priority 0; }
                add rule ip t c limit name l2 drop
                add rule ip t c iifname "veth1" limit name l2 drop
                """);
        // nft 1.0.6 on Linux 6.18 (its byte limits, l2's "mbytes/second", are not taken here)
        assertEquals(List.of("table ip t { # handle 1", "\tlimit l1 { # handle 1", "\t\trate 10/second", "\t}", "",
                "\tlimit l2 { # handle 2", "\t\trate over 2/second burst 1 packets", "\t}", "", "\tchain c { # handle 3",
                "\t\ttype filter hook input priority filter; policy accept;", "\t\tlimit name \"l2\" drop # handle 4",
                "\t\tiifname \"veth1\" limit name \"l2\" drop # handle 5", "\t}", "}"), Nft.run(rs, "list ruleset", true));
        long[] now = { 1_000_000_000_000L };
        rs.clock = () -> now[0]; // read by each packet's registers
        // the burst of 1 lets the first packet under the rate; the next, at the same instant, is over it
        assertEquals(Verdict.ACCEPT, rs.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, frame(0x0800, "10.0.0.1"), veth0, null, 0, null));
        assertEquals(Verdict.DROP, rs.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, frame(0x0800, "10.0.0.1"), veth0, null, 0, null));
        assertTrue(assertThrows(CommandException.class, () -> nft("delete limit ip t l2")).getMessage()
                .startsWith("Error: Could not process rule: Device or resource busy"));
        nft("delete limit ip t l1");
        Ruleset other = new Ruleset();
        Nft.run(other, String.join("\n", Nft.list(rs, false)), false);
        assertEquals(Nft.list(rs, false), Nft.list(other, false));
    }

    @Test
    void rangesInsideAConcatenationMatchPartByPartAndListAsNftDoes() {
        nft("""
                add table ip t
                add chain ip t c { type filter hook input priority 0; }
                add rule ip t c ip saddr . ip daddr { 10.0.0.0/8 . 10.0.0.2-10.0.0.3, 192.168.1.1 . 10.0.0.9 } drop
                add set ip t s { type ipv4_addr . ipv4_addr; flags interval; }
                add element ip t s { 10.0.0.0/8 . 10.0.0.2-10.0.0.3, 192.168.1.1 . 10.0.0.9 }
                add rule ip t c ip saddr . ip daddr @s counter
                """);
        List<String> l = nft("list ruleset");
        assertTrue(l.contains("\t\tip saddr . ip daddr { 10.0.0.0/8 . 10.0.0.2/31, 192.168.1.1 . 10.0.0.9 } drop"), String.join("\n", l));
        assertTrue(l.contains("\t\tflags interval"));
        assertEquals(Verdict.DROP, rs.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, frame(0x0800, "10.9.9.9"), veth0, null, 0, null),
                "10.9.9.9 . 10.0.0.2: in the first element's two ranges");
        SkBuff other = frame(0x0800, "10.9.9.9");
        other.setU32(other.networkHeader() + 16, (int) Values.parse(Stmt.Type.ADDR, "10.0.0.4"));
        assertEquals(Verdict.ACCEPT, rs.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, other, veth0, null, 0, null), "10.0.0.4 is past the range");
        assertTrue(nft("list set ip t s").stream().anyMatch(x -> x.contains("10.0.0.0/8 . 10.0.0.2/31,")));
        Ruleset back = new Ruleset();
        Nft.run(back, String.join("\n", Nft.list(rs, false)), false);
        assertEquals(Nft.list(rs, false), Nft.list(back, false));
    }

    /** The core's side, as a map of the hooks attached. */
    private static final class Core implements NfIngress {
        final Map<NetDevice, Hook> hooks = new HashMap<>();

        @Override
        public Hook attachIngress(NetDevice dev, Hook hook) {
            return hook == null ? hooks.remove(dev) : hooks.put(dev, hook);
        }

        @Override
        public Hook ingressHook(NetDevice dev) {
            return hooks.get(dev);
        }
    }

    @Test
    void aDeviceHasAHookOnlyWhileAChainNamesIt() throws Exception {
        NetDevice[] devs = new NetDevice[2];
        NetNamespace ns = (NetNamespace) Proxy.newProxyInstance(NetNamespace.class.getClassLoader(), new Class<?>[] { NetNamespace.class },
                (p, m, a) -> switch (m.getName()) {
                    case "devices" -> List.of(devs);
                    case "name" -> "r";
                    case "hashCode" -> 7;
                    case "equals" -> p == a[0];
                    default -> null;
                });
        devs[0] = dev("veth0", ns);
        devs[1] = dev("veth1", ns);
        NftCommand cmd = new NftCommand(null, null);
        Core core = new Core();
        cmd.setIngress(core);
        cmd.run(ns, "add table netdev T");
        assertTrue(core.hooks.isEmpty(), "no chain, no hook: the core's null check only");
        cmd.run(ns, "add chain netdev T C { type filter hook ingress device veth0 priority 0; }");
        cmd.run(ns, "add rule netdev T C ip saddr 10.0.0.1 drop");
        assertEquals(1, core.hooks.size());
        assertNull(core.hooks.get(devs[1]));
        assertEquals(Verdict.DROP, core.hooks.get(devs[0]).ingress(frame(0x0800, "10.0.0.1"), devs[0]));
        NfIngress.Hook h = core.hooks.get(devs[0]);
        cmd.run(ns, "add chain netdev T D { type filter hook ingress device veth0 priority 1; }");
        assertSame(h, core.hooks.get(devs[0]), "one function per device serves all its chains");
        cmd.run(ns, "delete table netdev T");
        assertTrue(core.hooks.isEmpty());
    }
}

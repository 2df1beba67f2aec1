package org.modnet.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** nft's parser and list output (against nft 1.0.6's own, captured in a Linux netns), the rule VM and its counters. */
class NftTest {
    private final Ruleset rs = new Ruleset();
    private final SkBuffPool pool = new SkBuffPool(16, 512);

    private List<String> nft(String text) {
        return Nft.run(rs, text, false);
    }

    static final String PROBE = """
            add table inet filter
            add chain inet filter input { type filter hook input priority 0; policy drop; }
            add chain inet filter forw { type filter hook forward priority 5; }
            add chain inet filter web
            add set inet filter s { type ipv4_addr; }
            add element inet filter s { 10.0.0.1, 10.0.0.2 }
            add rule inet filter input ct state established,related accept
            add rule inet filter input ct state { established, related } counter accept
            add rule inet filter input tcp dport 22 accept
            add rule inet filter input tcp dport { 22, 80 } accept
            add rule inet filter input udp sport 1000-2000 drop
            add rule inet filter input ip saddr 10.0.0.0/8 ip daddr != 1.2.3.4 drop
            add rule inet filter input ip saddr @s jump web
            add rule inet filter input icmp type echo-request reject
            add rule inet filter input meta l4proto tcp reject with tcp reset
            add rule inet filter input ip protocol udp reject with icmp type host-unreachable
            add rule inet filter input iifname "eth0" oifname "eth1" goto web
            add rule inet filter web log prefix "web: " return
            add rule inet filter web counter drop
            add table ip nat
            add chain ip nat post { type nat hook postrouting priority srcnat; }
            add chain ip nat pre { type nat hook prerouting priority dstnat; }
            add rule ip nat post oifname "eth0" masquerade
            add rule ip nat post ip saddr 10.0.0.0/24 snat to 1.2.3.4
            add rule ip nat pre tcp dport 8080 dnat to 10.0.0.2:80
            """;

    /** What nft 1.0.6 printed for {@link #PROBE} with {@code nft -a list ruleset} . */
    static final List<String> LINUX_A = List.of(
            "table inet filter { # handle 1",
            "\tset s { # handle 4",
            "\t\ttype ipv4_addr",
            "\t\telements = { 10.0.0.1, 10.0.0.2 }",
            "\t}",
            "",
            "\tchain input { # handle 1",
            "\t\ttype filter hook input priority filter; policy drop;",
            "\t\tct state established,related accept # handle 5",
            "\t\tct state { established, related } counter packets 0 bytes 0 accept # handle 7",
            "\t\ttcp dport 22 accept # handle 8",
            "\t\ttcp dport { 22, 80 } accept # handle 10",
            "\t\tudp sport 1000-2000 drop # handle 11",
            "\t\tip saddr 10.0.0.0/8 ip daddr != 1.2.3.4 drop # handle 12",
            "\t\tip saddr @s jump web # handle 13",
            "\t\ticmp type echo-request reject with icmp port-unreachable # handle 14",
            "\t\tmeta l4proto tcp reject with tcp reset # handle 15",
            "\t\tip protocol udp reject with icmp host-unreachable # handle 16",
            "\t\tiifname \"eth0\" oifname \"eth1\" goto web # handle 17",
            "\t}",
            "",
            "\tchain forw { # handle 2",
            "\t\ttype filter hook forward priority filter + 5; policy accept;",
            "\t}",
            "",
            "\tchain web { # handle 3",
            "\t\tlog prefix \"web: \" return # handle 18",
            "\t\tcounter packets 0 bytes 0 drop # handle 19",
            "\t}",
            "}",
            "table ip nat { # handle 2",
            "\tchain post { # handle 1",
            "\t\ttype nat hook postrouting priority srcnat; policy accept;",
            "\t\toifname \"eth0\" masquerade # handle 3",
            "\t\tip saddr 10.0.0.0/24 snat to 1.2.3.4 # handle 4",
            "\t}",
            "",
            "\tchain pre { # handle 2",
            "\t\ttype nat hook prerouting priority dstnat; policy accept;",
            "\t\ttcp dport 8080 dnat to 10.0.0.2:80 # handle 5",
            "\t}",
            "}");

    @Test
    void listRulesetWithHandlesAsNft() {
        nft(PROBE);
        assertEquals(LINUX_A, Nft.run(rs, "list ruleset", true));
    }

    @Test
    void listChainAndTableAsNft() {
        nft(PROBE);
        assertEquals(List.of("table inet filter {", "\tchain web {", "\t\tlog prefix \"web: \" return",
                "\t\tcounter packets 0 bytes 0 drop", "\t}", "}"), nft("list chain inet filter web"));
        assertEquals(LINUX_A.subList(30, 42).stream().map(l -> l.replaceAll(" # handle [0-9]+", "")).toList(),
                nft("list table ip nat"));
    }

    @Test
    void listRulesetReadsBackAsTheSameRuleset() {
        nft(PROBE);
        String listed = String.join("\n", nft("list ruleset"));
        Ruleset other = new Ruleset();
        Nft.run(other, listed, false);
        assertEquals(nft("list ruleset"), Nft.run(other, "list ruleset", false));
    }

    @Test
    void aFailingFileChangesNothing() {
        nft("add table ip t\nadd chain ip t c { type filter hook input priority 0; }");
        List<String> before = nft("list ruleset");
        CommandException e = assertThrows(CommandException.class,
                () -> nft("add rule ip t c tcp dport 22 accept\nadd rule ip t nosuch drop"));
        assertTrue(e.getMessage().startsWith("Error: Could not process rule: No such file or directory"), e.getMessage());
        assertEquals(before, nft("list ruleset"));
    }

    @Test
    void syntaxErrorSaysWhatWasUnexpected() {
        CommandException e = assertThrows(CommandException.class, () -> nft("add table ip t\nadd chain ip t c { type filter hook input prio 0; }"));
        assertTrue(e.getMessage().startsWith("Error: syntax error, unexpected prio"), e.getMessage());
        assertEquals(List.of(), nft("list ruleset"));
    }

    @Test
    void errorsShowTheLineWithACaretUnderTheWordAsNftDoes() {
        nft("add table ip t");
        CommandException e = assertThrows(CommandException.class, () -> nft("add rule ip t nosuch drop"));
        assertEquals("Error: Could not process rule: No such file or directory\n"
                + "add rule ip t nosuch drop\n"
                + "              ^^^^^^", e.getMessage());
        e = assertThrows(CommandException.class, () -> nft("add table ip u\n  add chain ip u c { type filter hook input prio 0; }"));
        assertEquals("Error: syntax error, unexpected prio\n"
                + "  add chain ip u c { type filter hook input prio 0; }\n"
                + "                                            ^^^^", e.getMessage());
    }

    @Test
    void natStatementsBindThroughTheNatCore() {
        List<String> calls = new ArrayList<>();
        org.modnet.api.netfilter.NfNat nat = (org.modnet.api.netfilter.NfNat) Proxy.newProxyInstance(
                NftTest.class.getClassLoader(), new Class<?>[] { org.modnet.api.netfilter.NfNat.class }, (p, m, a) -> {
                    if (m.getName().equals("masquerade")) {
                        calls.add("masquerade " + ((NetDevice) a[1]).name());
                    } else if (m.getName().equals("setup")) {
                        calls.add(a[1] + " " + LogLine.addr((Integer) a[2]) + "-" + LogLine.addr((Integer) a[3]) + " " + a[4] + "-" + a[5]);
                    }
                    return Verdict.ACCEPT;
                });
        nft("""
                add table ip nat
                add chain ip nat post { type nat hook postrouting priority srcnat; }
                add chain ip nat pre { type nat hook prerouting priority dstnat; }
                add rule ip nat post oifname "eth1" masquerade
                add rule ip nat post ip saddr 10.0.0.0/24 snat to 1.2.3.4
                add rule ip nat pre tcp dport 8080 dnat to 10.0.0.2:80
                """);
        SkBuff udp = packet(17, "10.0.0.9", "8.8.8.8", 1, 53);
        assertEquals(Verdict.ACCEPT, rs.run(NfHook.POST_ROUTING, udp, null, dev("eth1"), true, nat));
        assertEquals(Verdict.ACCEPT, rs.run(NfHook.POST_ROUTING, udp, null, dev("eth0"), true, nat));
        assertEquals(Verdict.ACCEPT, rs.run(NfHook.PRE_ROUTING, packet(6, "8.8.8.8", "1.2.3.4", 1, 8080), eth0, null, true, nat));
        // nat chains do not run from the filter hooks
        assertEquals(Verdict.ACCEPT, rs.run(NfHook.POST_ROUTING, udp, null, dev("eth1"), false, null));
        assertEquals(List.of("masquerade eth1", "POST_ROUTING 1.2.3.4-1.2.3.4 0-0", "PRE_ROUTING 10.0.0.2-10.0.0.2 80-80"), calls);
    }

    @Test
    void natStatementsOnlyInNatChains() {
        nft("add table ip t\nadd chain ip t c { type filter hook input priority 0; }");
        CommandException e = assertThrows(CommandException.class, () -> nft("add rule ip t c masquerade"));
        assertTrue(e.getMessage().startsWith("Error: Could not process rule: Operation not supported"), e.getMessage());
        assertEquals(5, nft("list ruleset").size()); // table, chain, its type line, two braces: no rule
    }

    @Test
    void rejectsAnswerRunsTheOutputHookWithItsOwnRegisters() {
        List<Verdict> inner = new ArrayList<>();
        rs.rejecter = new Expr.Rejecter() {
            @Override
            public void reject(SkBuff skb, int code) {
                // IPv4 sends the ICMP error through LOCAL_OUT, on this thread, inside the outer evaluation
                inner.add(rs.run(NfHook.LOCAL_OUT, packet(1, "10.0.0.2", "10.0.0.1", 3, 3), null, eth0, false, null));
                inner.add(rs.run(NfHook.LOCAL_OUT, packet(17, "10.0.0.2", "10.0.0.1", 5, 5), null, eth0, false, null));
            }

            @Override
            public void reset(SkBuff skb, int nh, int th) {
            }
        };
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; }
                add chain ip t sub
                add chain ip t output { type filter hook output priority 0; }
                add rule ip t input jump sub
                add rule ip t input udp dport 8 accept
                add rule ip t sub udp dport 7 reject
                add rule ip t output icmp type destination-unreachable counter drop
                """);
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.2", 1, 7)));
        assertEquals(List.of(Verdict.DROP, Verdict.ACCEPT), inner);
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.1", "10.0.0.2", 1, 8)));
    }

    @Test
    void insertReplaceAndDeleteByHandle() {
        nft("add table ip t\nadd chain ip t c\nadd rule ip t c tcp dport 1 accept\nadd rule ip t c tcp dport 2 accept");
        nft("insert rule ip t c handle 3 tcp dport 3 accept");
        nft("add rule ip t c handle 2 tcp dport 4 accept");
        nft("replace rule ip t c handle 3 tcp dport 5 drop");
        assertEquals(List.of("\t\ttcp dport 1 accept # handle 2", "\t\ttcp dport 4 accept # handle 5",
                "\t\ttcp dport 3 accept # handle 4", "\t\ttcp dport 5 drop # handle 3"),
                Nft.run(rs, "list chain ip t c", true).subList(2, 6));
        nft("delete rule ip t c handle 4");
        assertEquals(3, nft("list chain ip t c").size() - 4);
        assertThrows(CommandException.class, () -> nft("delete rule ip t c handle 99"));
    }

    @Test
    void jumpLoopsAreRefused() {
        nft("add table ip t\nadd chain ip t a\nadd chain ip t b\nadd rule ip t a jump b");
        CommandException e = assertThrows(CommandException.class, () -> nft("add rule ip t b jump a"));
        assertTrue(e.getMessage().contains("Too many levels of symbolic links"), e.getMessage());
    }

    @Test
    void deleteAndFlush() {
        nft(PROBE);
        nft("flush chain inet filter web");
        nft("delete rule inet filter input handle 13");
        nft("delete rule inet filter input handle 17");
        nft("delete chain inet filter web");
        nft("delete table ip nat");
        assertThrows(CommandException.class, () -> nft("delete table ip nat"));
        nft("flush ruleset");
        assertEquals(List.of(), nft("list ruleset"));
    }

    // ------------------------------------------------------------------ the rule VM

    private static NetDevice dev(String name) {
        return (NetDevice) Proxy.newProxyInstance(NetDevice.class.getClassLoader(), new Class<?>[] { NetDevice.class },
                (p, m, a) -> m.getName().equals("name") ? name : m.getName().equals("hashCode") ? 1 : null);
    }

    private static int addr(String a) {
        return (int) Values.parse(Stmt.Type.ADDR, a);
    }

    /** An IPv4 packet: proto, addresses, ports (or ICMP type/code). */
    private SkBuff packet(int proto, String src, String dst, int a, int b) {
        int l4 = proto == 6 ? 20 : 8;
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        skb.put(20 + l4 + 10);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 20 + l4 + 10);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, proto);
        skb.setU32(nh + 12, addr(src));
        skb.setU32(nh + 16, addr(dst));
        if (proto == 1) {
            skb.setU8(nh + 20, a);
            skb.setU8(nh + 21, b);
        } else {
            skb.setU16(nh + 20, a);
            skb.setU16(nh + 22, b);
            if (proto == 6) {
                skb.setU8(nh + 32, 0x50);
            }
        }
        return skb;
    }

    private final NetDevice eth0 = dev("eth0");

    /**
     * A ruleset replaced by whole files while packets run through it (issue 18): A sends udp to a chain
     * that accepts, B to one that drops, with a set and other chains made before it so every chain moves.
     * tcp is accepted by both through a chain of each, so a tcp packet dropped (or an exception) is one that
     * saw part of one ruleset and part of the other.
     */
    @Test
    void aRulesetReplacedUnderTrafficIsSeenWholeOrNotAtAll() throws Exception {
        String a = """
                flush ruleset
                add table inet f
                add chain inet f in { type filter hook input priority 0; policy drop; }
                add chain inet f a
                add chain inet f ta
                add rule inet f in udp dport 2 jump a
                add rule inet f in tcp dport 2 jump ta
                add rule inet f a accept
                add rule inet f ta accept
                """;
        String b = """
                flush ruleset
                add table inet f
                add set inet f s { type inet_service; }
                add element inet f s { 2, 3 }
                add chain inet f in { type filter hook input priority 0; policy drop; }
                add chain inet f x
                add chain inet f y
                add chain inet f b
                add chain inet f tb
                add rule inet f in udp dport 2 jump b
                add rule inet f in tcp dport @s goto tb
                add rule inet f x accept
                add rule inet f y drop
                add rule inet f b drop
                add rule inet f tb accept
                """;
        nft(a);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        int[] swaps = { 0 };
        Thread writer = new Thread(() -> {
            while (!stop.get()) {
                nft((swaps[0]++ & 1) == 0 ? b : a);
            }
        });
        SkBuff udp = packet(17, "1.1.1.1", "2.2.2.2", 1, 2);
        SkBuff tcp = packet(6, "1.1.1.1", "2.2.2.2", 1, 2);
        int accepted = 0, dropped = 0;
        writer.start();
        try {
            for (int i = 0; i < 200_000; i++) {
                assertEquals(Verdict.ACCEPT, in(tcp));
                if (in(udp) == Verdict.ACCEPT) {
                    accepted++;
                } else {
                    dropped++;
                }
            }
        } finally {
            stop.set(true);
            writer.join();
        }
        assertEquals(200_000, accepted + dropped);
        assertTrue(swaps[0] > 10, "replaced " + swaps[0] + " times");
    }

    private Verdict in(SkBuff skb) {
        return rs.run(NfHook.LOCAL_IN, skb, eth0, null, false, null);
    }

    @Test
    void statefulInputChainAcceptsEstablishedAndSshAndDropsTheRest() {
        nft("""
                add table inet filter
                add chain inet filter input { type filter hook input priority 0; policy drop; }
                add rule inet filter input ct state established,related accept
                add rule inet filter input tcp dport 22 counter accept
                """);
        SkBuff ping = packet(1, "10.0.0.1", "10.0.0.2", 8, 0);
        assertEquals(Verdict.DROP, in(ping));
        ping.nfct(new Object(), SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY);
        assertEquals(Verdict.ACCEPT, in(ping));
        assertEquals(Verdict.ACCEPT, in(packet(6, "10.0.0.1", "10.0.0.2", 40000, 22)));
        assertEquals(Verdict.DROP, in(packet(6, "10.0.0.1", "10.0.0.2", 40000, 23)));
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.2", 40000, 22)));
        assertEquals("\t\ttcp dport 22 counter packets 1 bytes 50 accept", nft("list ruleset").get(4));
    }

    @Test
    void setsPrefixesRangesAndNegations() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; }
                add set ip t bad { type ipv4_addr; }
                add element ip t bad { 192.0.2.7 }
                add set ip t nets { type ipv4_addr; flags interval; elements = { 198.51.100.0/24, 203.0.113.5-203.0.113.9 }; }
                add rule ip t input ip saddr @bad drop
                add rule ip t input ip saddr @nets drop
                add rule ip t input ip saddr 10.0.0.0/8 udp dport { 53, 123 } drop
                add rule ip t input ip daddr != 10.9.9.9 tcp sport 1000-2000 drop
                """);
        assertEquals(Verdict.DROP, in(packet(17, "192.0.2.7", "10.9.9.9", 1, 2)));
        assertEquals(Verdict.ACCEPT, in(packet(17, "192.0.2.8", "10.9.9.9", 1, 2)));
        assertEquals(Verdict.DROP, in(packet(17, "198.51.100.200", "10.9.9.9", 1, 2)));
        assertEquals(Verdict.DROP, in(packet(17, "203.0.113.9", "10.9.9.9", 1, 2)));
        assertEquals(Verdict.ACCEPT, in(packet(17, "203.0.113.10", "10.9.9.9", 1, 2)));
        assertEquals(Verdict.DROP, in(packet(17, "10.1.1.1", "10.9.9.9", 1, 123)));
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.1.1.1", "10.9.9.9", 1, 124)));
        assertEquals(Verdict.ACCEPT, in(packet(6, "1.1.1.1", "10.9.9.9", 1500, 2)));
        assertEquals(Verdict.DROP, in(packet(6, "1.1.1.1", "10.9.9.8", 1500, 2)));
        nft("add element ip t bad { 192.0.2.8 }");
        assertEquals(Verdict.DROP, in(packet(17, "192.0.2.8", "10.9.9.9", 1, 2)));
        assertEquals("\t\telements = { 198.51.100.0/24, 203.0.113.5-203.0.113.9 }", nft("list set ip t nets").get(4));
    }

    @Test
    void jumpReturnGotoAndInterfaceNames() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add chain ip t sub
                add chain ip t tail
                add rule ip t input iifname "eth1" accept
                add rule ip t input icmp type echo-request jump sub
                add rule ip t input icmp type echo-request accept
                add rule ip t input udp dport 9 goto tail
                add rule ip t input accept
                add rule ip t sub ip saddr 10.0.0.66 drop
                add rule ip t sub return
                add rule ip t tail udp sport 7 accept
                """);
        assertEquals(Verdict.ACCEPT, in(packet(1, "10.0.0.1", "10.0.0.2", 8, 0)));
        assertEquals(Verdict.DROP, in(packet(1, "10.0.0.66", "10.0.0.2", 8, 0)));
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.1", "10.0.0.2", 7, 9)));
        // goto's chain falls off its end: the base chain's policy, not the rule after the goto
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.2", 8, 9)));
        assertEquals(Verdict.ACCEPT, rs.run(NfHook.LOCAL_IN, packet(17, "10.0.0.1", "10.0.0.2", 8, 9), dev("eth1"), null, false, null));
    }

    @Test
    void rejectAnswersThenDropsAndLogWritesNfLogsLine() {
        List<Integer> codes = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        rs.rejecter = new Expr.Rejecter() {
            @Override
            public void reject(SkBuff skb, int code) {
                codes.add(code);
            }

            @Override
            public void reset(SkBuff skb, int nh, int th) {
                codes.add(-1);
            }
        };
        rs.log = lines::add;
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; }
                add rule ip t input udp dport 7 log prefix "seven: " reject with icmp type admin-prohibited
                add rule ip t input tcp dport 7 reject with tcp reset
                add rule ip t input icmp type echo-request reject
                """);
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.2", 1, 7)));
        assertEquals(Verdict.DROP, in(packet(6, "10.0.0.1", "10.0.0.2", 1, 7)));
        assertEquals(Verdict.DROP, in(packet(1, "10.0.0.1", "10.0.0.2", 8, 0)));
        assertEquals(List.of(13, -1, 3), codes);
        assertEquals(1, lines.size());
        // the same line iptables' LOG writes (api.netfilter's NfLogLine); the test packet's UDP length is 0
        assertEquals("seven: IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=38 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=UDP SPT=1 DPT=7 LEN=0",
                lines.get(0));
    }

    @Test
    void eachPriorityRunsOnlyItsOwnBaseChains() {
        nft("""
                add table ip t
                add chain ip t late { type filter hook input priority filter + 10; }
                add chain ip t early { type filter hook input priority raw; }
                add rule ip t early udp dport 1 drop
                add rule ip t late udp dport 2 drop
                """);
        assertEquals(java.util.Set.of(1L << 32 | (-300 & 0xffffffffL), 1L << 32 | 10), rs.filterHooks());
        assertEquals(Verdict.DROP, rs.run(NfHook.LOCAL_IN, packet(17, "10.0.0.1", "10.0.0.2", 9, 1), dev("eth0"), null, -300));
        assertEquals(Verdict.ACCEPT, rs.run(NfHook.LOCAL_IN, packet(17, "10.0.0.1", "10.0.0.2", 9, 2), dev("eth0"), null, -300));
        assertEquals(Verdict.DROP, rs.run(NfHook.LOCAL_IN, packet(17, "10.0.0.1", "10.0.0.2", 9, 2), dev("eth0"), null, 10));
        assertEquals(List.of("\t\ttype filter hook input priority filter + 10; policy accept;"), nft("list chain ip t late").subList(2, 3));
    }

    @Test
    void evaluationAllocatesNothingPerPacket() {
        StringBuilder elems = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            elems.append(i > 0 ? ", " : "").append("172.16.").append(i >> 8).append('.').append(i & 0xff);
        }
        nft("add table inet filter\nadd chain inet filter input { type filter hook input priority 0; policy drop; }\n"
                + "add set inet filter big { type ipv4_addr; elements = { " + elems + " }; }\n"
                + "add rule inet filter input ip saddr @big counter drop\n"
                + "add rule inet filter input ct state established,related accept\n"
                + "add rule inet filter input tcp dport { 22, 80, 443 } counter accept\n"
                + "add chain inet filter sub\nadd rule inet filter input ip protocol udp jump sub\n"
                + "add rule inet filter sub udp dport 1000-2000 return");
        SkBuff tcp = packet(6, "10.0.0.1", "10.0.0.2", 40000, 443);
        SkBuff udp = packet(17, "10.0.0.1", "10.0.0.2", 40000, 1500);
        SkBuff listed = packet(6, "172.16.39.15", "10.0.0.2", 40000, 443);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            accepted += in(tcp) == Verdict.ACCEPT ? 1 : 0;
            accepted += in(udp) == Verdict.ACCEPT ? 1 : 0;
            accepted += in(listed) == Verdict.ACCEPT ? 1 : 0;
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100_000; i++) {
            accepted += in(tcp) == Verdict.ACCEPT ? 1 : 0;
            accepted += in(udp) == Verdict.ACCEPT ? 1 : 0;
            accepted += in(listed) == Verdict.ACCEPT ? 1 : 0;
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 300000 packets: something allocates per packet");
        assertEquals(120_000, accepted); // the TCP packets only: the set drops one, udp returns to the policy
    }

    @Test
    void badValuesAreRefusedInNftsWords() {
        nft("add table ip t\nadd chain ip t c");
        assertTrue(assertThrows(CommandException.class, () -> nft("add rule ip t c ip saddr 300.1.1.1 drop")).getMessage()
                .startsWith("Error: Could not resolve hostname"));
        assertTrue(assertThrows(CommandException.class, () -> nft("add rule ip t c tcp dport nosuchservice drop"))
                .getMessage().startsWith("Error: Could not resolve service"));
        assertTrue(assertThrows(CommandException.class, () -> nft("add rule ip t c ip saddr @none drop")).getMessage()
                .startsWith("Error: Could not process rule: No such file or directory"));
    }

    // ------------------------------------------------------------------ maps, concatenations, limit, marks

    @Test
    void verdictMapsPickTheVerdictByKeyAndAMissGoesOnToTheNextRule() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add chain ip t web
                add map ip t ports { type inet_service : verdict; elements = { 22 : accept, 80 : jump web } }
                add rule ip t input tcp dport vmap @ports
                add rule ip t input udp dport vmap { 53 : accept, 1000-2000 : drop }
                add rule ip t input udp dport 1500 accept
                add rule ip t input udp dport 9 accept
                add rule ip t web ip saddr 10.0.0.1 accept
                """);
        assertEquals(Verdict.ACCEPT, in(packet(6, "10.0.0.9", "10.0.0.2", 1, 22)));
        assertEquals(Verdict.ACCEPT, in(packet(6, "10.0.0.1", "10.0.0.2", 1, 80)));
        assertEquals(Verdict.DROP, in(packet(6, "10.0.0.9", "10.0.0.2", 1, 80)), "web returns to input, then its policy");
        assertEquals(Verdict.DROP, in(packet(6, "10.0.0.9", "10.0.0.2", 1, 443)));
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.9", "10.0.0.2", 1, 53)));
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.9", "10.0.0.2", 1, 1500)), "the vmap decides before the next rule");
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.9", "10.0.0.2", 1, 9)), "no element: the next rule");
        nft("add element ip t ports { 443 : accept }");
        assertEquals(Verdict.ACCEPT, in(packet(6, "10.0.0.9", "10.0.0.2", 1, 443)));
        nft("delete element ip t ports { 22 }");
        assertEquals(Verdict.DROP, in(packet(6, "10.0.0.9", "10.0.0.2", 1, 22)));
        assertEquals("\t\telements = { 80 : jump web, 443 : accept }", nft("list map ip t ports").get(3));
    }

    @Test
    void concatenationsMatchAddressAndPortTogether() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add set ip t allowed { type ipv4_addr . inet_service; elements = { 10.0.0.1 . 22, 10.0.0.2 . 80 } }
                add rule ip t input ip saddr . tcp dport @allowed accept
                add rule ip t input ip saddr . udp dport { 10.0.0.3 . 53 } accept
                add rule ip t input ip daddr . tcp dport vmap { 10.0.0.9 . 25 : accept }
                """);
        assertEquals(Verdict.ACCEPT, in(packet(6, "10.0.0.1", "10.0.0.2", 1, 22)));
        assertEquals(Verdict.DROP, in(packet(6, "10.0.0.1", "10.0.0.2", 1, 80)), "the address of one element, the port of another");
        assertEquals(Verdict.ACCEPT, in(packet(6, "10.0.0.2", "10.0.0.2", 1, 80)));
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.2", 1, 22)), "tcp dport needs tcp");
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.3", "10.0.0.2", 1, 53)));
        assertEquals(Verdict.ACCEPT, in(packet(6, "10.0.0.5", "10.0.0.9", 1, 25)));
        assertEquals(Verdict.DROP, in(packet(6, "10.0.0.5", "10.0.0.8", 1, 25)));
    }

    @Test
    void dnatToAMapsAddressBindsThroughTheNatCore() {
        List<String> calls = new ArrayList<>();
        org.modnet.api.netfilter.NfNat nat = (org.modnet.api.netfilter.NfNat) Proxy.newProxyInstance(
                NftTest.class.getClassLoader(), new Class<?>[] { org.modnet.api.netfilter.NfNat.class }, (p, m, a) -> {
                    calls.add(a[1] + " " + LogLine.addr((Integer) a[2]));
                    return Verdict.ACCEPT;
                });
        nft("""
                add table ip nat
                add chain ip nat pre { type nat hook prerouting priority dstnat; }
                add map ip nat ports { type inet_service : ipv4_addr; elements = { 80 : 10.0.0.5, 443 : 10.0.0.6 } }
                add rule ip nat pre tcp dport map @ports dnat to 10.0.0.9
                """.replace("tcp dport map @ports dnat to 10.0.0.9", "dnat to tcp dport map @ports"));
        assertEquals(Verdict.ACCEPT, rs.run(NfHook.PRE_ROUTING, packet(6, "8.8.8.8", "1.2.3.4", 1, 443), eth0, null, true, nat));
        assertEquals(Verdict.ACCEPT, rs.run(NfHook.PRE_ROUTING, packet(6, "8.8.8.8", "1.2.3.4", 1, 22), eth0, null, true, nat));
        assertEquals(List.of("PRE_ROUTING 10.0.0.6"), calls, "no element, no binding");
    }

    @Test
    void limitLetsTheBurstThroughThenOnePacketPerInterval() {
        long[] now = { 5_000_000_000L };
        rs.clock = () -> now[0];
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add rule ip t input udp dport 1 limit rate 10/second burst 3 packets accept
                add rule ip t input udp dport 2 limit rate over 10/second drop
                add rule ip t input udp dport 2 accept
                """);
        SkBuff one = packet(17, "10.0.0.1", "10.0.0.2", 9, 1);
        int passed = 0;
        for (int i = 0; i < 10; i++) {
            passed += in(one) == Verdict.ACCEPT ? 1 : 0;
        }
        assertEquals(3, passed, "the burst");
        now[0] += 100_000_000L; // a tenth of a second: one more token
        assertEquals(Verdict.ACCEPT, in(one));
        assertEquals(Verdict.DROP, in(one));
        now[0] += 10_000_000_000L; // the bucket fills to its burst, no more
        passed = 0;
        for (int i = 0; i < 10; i++) {
            passed += in(one) == Verdict.ACCEPT ? 1 : 0;
        }
        assertEquals(3, passed);
        SkBuff two = packet(17, "10.0.0.1", "10.0.0.2", 9, 2);
        int dropped = 0;
        for (int i = 0; i < 10; i++) {
            dropped += in(two) == Verdict.DROP ? 1 : 0;
        }
        assertEquals(5, dropped, "over matches what exceeds the default burst of 5");
        nft("add rule ip t input udp dport 3 accept"); // a recompile keeps the buckets as they are
        assertEquals(Verdict.DROP, in(one));
    }

    /** A tracked connection's mark, as conntrack's entries offer it. */
    private static final class Conn implements org.modnet.api.netfilter.NfConnMark {
        int mark;
        int status;

        @Override
        public int status() {
            return status;
        }

        @Override
        public int mark() {
            return mark;
        }

        @Override
        public void mark(int m) {
            mark = m;
        }
    }

    @Test
    void metaAndCtMarksAreSetAndMatched() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add map ip t marks { type ipv4_addr : mark; elements = { 10.0.0.7 : 0x7 } }
                add rule ip t input ct mark 0x2a accept
                add rule ip t input udp dport 1 meta mark set 0x2a
                add rule ip t input udp dport 1 ct mark set meta mark
                add rule ip t input udp dport 2 meta mark set ip saddr map @marks
                add rule ip t input meta mark 0x7 accept
                add rule ip t input mark 0x2a accept
                """);
        SkBuff one = packet(17, "10.0.0.1", "10.0.0.2", 9, 1);
        Conn ct = new Conn();
        one.nfct(ct, SkBuff.IP_CT_NEW);
        assertEquals(Verdict.ACCEPT, in(one));
        assertEquals(42, one.mark());
        assertEquals(42, ct.mark, "ct mark set meta mark");
        SkBuff again = packet(17, "10.0.0.1", "10.0.0.2", 9, 5);
        again.nfct(ct, SkBuff.IP_CT_ESTABLISHED);
        assertEquals(Verdict.ACCEPT, in(again), "the connection's mark");
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.2", 9, 5)), "untracked: no ct mark to match");
        SkBuff seven = packet(17, "10.0.0.7", "10.0.0.2", 9, 2);
        assertEquals(Verdict.ACCEPT, in(seven));
        assertEquals(7, seven.mark());
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.8", "10.0.0.2", 9, 2)), "no element: no mark");
    }

    private String error(String cmd) {
        return assertThrows(CommandException.class, () -> nft(cmd)).getMessage();
    }

    @Test
    void mapErrorsAreNftsWordsWithItsMarks() {
        nft("""
                add table ip t
                add chain ip t c
                add chain ip t in { type filter hook input priority 0; }
                add map ip t m { type ipv4_addr : ipv4_addr; elements = { 10.0.0.1 : 192.168.0.1 } }
                add map ip t vm { type inet_service : verdict; elements = { 22 : accept } }
                add set ip t cc { type ipv4_addr . inet_service; }
                add rule ip t in tcp dport vmap @vm
                """);
        List<String> before = nft("list ruleset");
        assertEquals("Error: Could not process rule: No such file or directory\n"
                + "add element ip t vm { 9 : jump nope }\n"
                + "                      ^", error("add element ip t vm { 9 : jump nope }"));
        assertEquals("Error: datatype mismatch, map expects IPv4 address, mapping expression has type internet network service\n"
                + "add rule ip t in tcp dport vmap @m\n"
                + "                 ~~~~~~~~~      ^^", error("add rule ip t in tcp dport vmap @m"));
        assertEquals("Error: datatype mismatch, expected concatenation of (IPv4 address, internet network service), expression has type IPv4 address\n"
                + "add rule ip t in ip saddr @cc accept\n"
                + "                 ~~~~~~~~ ^^^", error("add rule ip t in ip saddr @cc accept"));
        assertEquals("Error: invalid data type, expected concatenation of (IPv4 address, internet network service)\n"
                + "add element ip t cc { 10.0.0.9 }\n"
                + "                      ^^^^^^^^", error("add element ip t cc { 10.0.0.9 }"));
        assertEquals("Error: Could not process rule: Invalid argument\n"
                + "add rule ip t in limit rate 0/second\n"
                + "                 ^^^^^^^^^^^^^^^^^^^", error("add rule ip t in limit rate 0/second"));
        assertEquals("Error: packet limit burst must be > 0\n"
                + "add rule ip t in limit rate 10/second burst 0 packets\n"
                + "                                      ^^^^^^^^^^^^^^^", error("add rule ip t in limit rate 10/second burst 0 packets"));
        assertEquals("Error: Could not parse packet mark\n"
                + "add rule ip t in meta mark set foo\n"
                + "                               ^^^", error("add rule ip t in meta mark set foo"));
        assertEquals("Error: Value 4294967296 exceeds valid range 0-4294967295\n"
                + "add rule ip t in meta mark 0x100000000\n"
                + "                           ^^^^^^^^^^^", error("add rule ip t in meta mark 0x100000000"));
        assertEquals("Error: Could not process rule: File exists\n"
                + "add element ip t m { 10.0.0.1 : 1.2.3.4 }\n"
                + "                     ^^^^^^^^", error("add element ip t m { 10.0.0.1 : 1.2.3.4 }"));
        assertEquals("Error: Could not process rule: File exists\n"
                + "add map ip t m { type ipv4_addr : inet_service; }\n"
                + "             ^", error("add map ip t m { type ipv4_addr : inet_service; }"));
        assertEquals("Error: Could not process rule: File exists\n"
                + "add rule ip t in ip saddr vmap { 10.0.0.1 : accept, 10.0.0.1 : drop }\n"
                + "                                                    ^^^^^^^^",
                error("add rule ip t in ip saddr vmap { 10.0.0.1 : accept, 10.0.0.1 : drop }"));
        assertEquals("Error: Could not process rule: No such file or directory\n"
                + "delete element ip t m { 10.0.0.77 }\n"
                + "                        ^^^^^^^^^", error("delete element ip t m { 10.0.0.77 }"));
        assertEquals("Error: Could not process rule: Device or resource busy\n"
                + "delete map ip t vm\n"
                + "                ^^", error("delete map ip t vm"));
        assertEquals(before, nft("list ruleset"), "nothing changed");
    }

    @Test
    void mapsConcatenationsLimitsAndMarksAllocateNothingPerPacket() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add chain ip t web
                add map ip t vm { type inet_service : verdict; elements = { 22 : drop, 443 : jump web } }
                add set ip t cc { type ipv4_addr . inet_service; elements = { 10.0.0.1 . 443, 10.0.0.2 . 80 } }
                add map ip t mk { type ipv4_addr : mark; elements = { 10.0.0.1 : 0x1 } }
                add rule ip t input meta mark set ip saddr map @mk
                add rule ip t input limit rate 1000000/second burst 1000000 packets counter
                add rule ip t input tcp dport vmap @vm
                add rule ip t web ip saddr . tcp dport @cc meta mark 0x1 ct mark set 0x5 accept
                """);
        SkBuff tcp = packet(6, "10.0.0.1", "10.0.0.2", 40000, 443);
        tcp.nfct(new Conn(), SkBuff.IP_CT_NEW);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            accepted += in(tcp) == Verdict.ACCEPT ? 1 : 0;
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 200_000; i++) {
            accepted += in(tcp) == Verdict.ACCEPT ? 1 : 0;
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 200000 packets: something allocates per packet");
        assertEquals(220_000, accepted);
    }

    @Test
    void aNamedCounterCountsForEveryRuleThatNamesIt() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; }
                add counter ip t web
                add rule ip t input tcp dport 80 counter name "web" accept
                add rule ip t input tcp dport 443 counter name web accept
                """);
        in(packet(6, "10.0.0.1", "10.0.0.2", 1, 80));
        in(packet(6, "10.0.0.1", "10.0.0.2", 1, 443));
        in(packet(6, "10.0.0.1", "10.0.0.2", 1, 22));
        assertEquals(List.of("table ip t {", "\tcounter web {", "\t\tpackets 2 bytes 100", "\t}", "}"), nft("list counter ip t web"));
        assertEquals("Error: Could not process rule: Device or resource busy\n"
                + "delete counter ip t web\n"
                + "                    ^^^", error("delete counter ip t web"));
        assertEquals("Error: Could not process rule: No such file or directory\n"
                + "add rule ip t input counter name \"nope\"\n"
                + "                                 ^^^^^^", error("add rule ip t input counter name \"nope\""));
    }

    @Test
    void aVerdictMapElementThatClosesAJumpLoopIsRefused() {
        nft("""
                add table ip t
                add chain ip t a
                add chain ip t b
                add map ip t m { type inet_service : verdict; }
                add rule ip t a tcp dport vmap @m
                add rule ip t b goto a
                """);
        assertTrue(error("add element ip t m { 80 : goto b }").startsWith("Error: Could not process rule: Too many levels of symbolic links"));
        assertEquals(List.of("table ip t {", "\tmap m {", "\t\ttype inet_service : verdict", "\t}", "}"), nft("list map ip t m"));
    }

    // ------------------------------------------------------------------ issue 18's later expressions

    @Test
    void thMatchesThePortsOfEveryTransportProtocolAndListsAsTheProtocolsOwnAfterOne() {
        nft("""
                add table inet t
                add chain inet t input { type filter hook input priority 0; policy accept; }
                add rule inet t input th dport 7 drop
                add rule inet t input meta l4proto udp th sport 9 drop
                add rule inet t input sctp dport 10 drop
                add rule inet t input th dport { 11, 12 } drop
                """);
        assertEquals(Verdict.DROP, in(packet(6, "10.0.0.1", "10.0.0.2", 1, 7)), "tcp");
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.2", 1, 7)), "udp");
        assertEquals(Verdict.DROP, in(packet(132, "10.0.0.1", "10.0.0.2", 1, 7)), "sctp");
        assertEquals(Verdict.DROP, in(packet(33, "10.0.0.1", "10.0.0.2", 1, 12)), "dccp, a set");
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.2", 9, 1)), "udp sport 9");
        assertEquals(Verdict.ACCEPT, in(packet(6, "10.0.0.1", "10.0.0.2", 9, 1)), "tcp sport 9 is not udp's");
        assertEquals(Verdict.DROP, in(packet(132, "10.0.0.1", "10.0.0.2", 1, 10)));
        assertEquals(Verdict.ACCEPT, in(packet(136, "10.0.0.1", "10.0.0.2", 1, 10)), "udplite dport 10 is not sctp's");
        assertEquals(List.of("\t\tth dport 7 drop", "\t\tudp sport 9 drop", "\t\tsctp dport 10 drop", "\t\tth dport { 11, 12 } drop"),
                nft("list chain inet t input").subList(3, 7));
    }

    @Test
    void ctStatusMatchesTheConnectionsBitsAndNothingWithoutOne() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy accept; }
                add rule ip t input ct status dnat drop
                add rule ip t input ct status != assured counter
                add rule ip t input ct status assured,seen-reply tcp dport 2 drop
                """);
        Conn ct = new Conn();
        SkBuff p = packet(6, "10.0.0.1", "10.0.0.2", 1, 2);
        p.nfct(ct, SkBuff.IP_CT_NEW);
        ct.status = 1 << 3; // confirmed
        assertEquals(Verdict.ACCEPT, in(p));
        ct.status = 1 << 3 | 1 << 5; // and dnat
        assertEquals(Verdict.DROP, in(p));
        ct.status = 1 << 1; // seen-reply: one of the two flags is enough, as a bitwise test
        assertEquals(Verdict.DROP, in(p));
        assertEquals(Verdict.ACCEPT, in(packet(6, "10.0.0.1", "10.0.0.2", 1, 2)), "no connection: no status to match");
        assertEquals("\t\tct status != assured counter packets 2 bytes 100", nft("list chain ip t input").get(4));
    }

    @Test
    void metaPkttypeIsTheSkbsAndALoopedBackPacketsIsToldFromItsAddress() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy accept; }
                add rule ip t input meta pkttype broadcast drop
                add rule ip t input pkttype { multicast, other } drop
                """);
        SkBuff p = packet(17, "10.0.0.1", "10.0.0.255", 1, 2);
        assertEquals(Verdict.ACCEPT, in(p));
        p.pktType(org.modnet.api.skb.PktType.BROADCAST);
        assertEquals(Verdict.DROP, in(p));
        p.pktType(org.modnet.api.skb.PktType.OTHERHOST);
        assertEquals(Verdict.DROP, in(p));
        SkBuff lo = packet(17, "10.0.0.1", "224.0.0.5", 1, 2);
        lo.pktType(org.modnet.api.skb.PktType.LOOPBACK);
        assertEquals(Verdict.DROP, in(lo), "multicast by its address");
        SkBuff lo2 = packet(17, "10.0.0.1", "10.0.0.1", 1, 2);
        lo2.pktType(org.modnet.api.skb.PktType.LOOPBACK);
        assertEquals(Verdict.ACCEPT, in(lo2), "host");
        assertEquals("\t\tmeta pkttype { multicast, other } drop", nft("list chain ip t input").get(4));
    }

    @Test
    void redirectAndPortRangesBindThroughTheNatCore() {
        List<String> calls = new ArrayList<>();
        org.modnet.api.netfilter.NfNat nat = (org.modnet.api.netfilter.NfNat) Proxy.newProxyInstance(
                NftTest.class.getClassLoader(), new Class<?>[] { org.modnet.api.netfilter.NfNat.class }, (p, m, a) -> {
                    switch (m.getName()) {
                        case "masquerade" -> calls.add("masquerade " + a[2] + "-" + a[3]);
                        case "redirect" -> calls.add("redirect " + a[1] + " " + ((NetDevice) a[2]).name() + " " + a[3] + "-" + a[4]);
                        case "setup" -> calls.add(a[1] + " " + LogLine.addr((Integer) a[2]) + "-" + LogLine.addr((Integer) a[3]) + " " + a[4] + "-" + a[5]);
                        default -> { }
                    }
                    return Verdict.ACCEPT;
                });
        nft("""
                add table ip nat
                add chain ip nat pre { type nat hook prerouting priority dstnat; }
                add chain ip nat post { type nat hook postrouting priority srcnat; }
                add rule ip nat pre tcp dport 80 redirect to :8080-8090
                add rule ip nat pre tcp dport 81 redirect
                add rule ip nat pre tcp dport 82 dnat to 10.0.0.2-10.0.0.4:8000-8010
                add rule ip nat post meta l4proto udp snat to 1.2.3.4-1.2.3.6:1000-2000
                add rule ip nat post meta l4proto tcp masquerade to :1024-2048
                """);
        rs.run(NfHook.PRE_ROUTING, packet(6, "8.8.8.8", "1.2.3.4", 1, 80), eth0, null, true, nat);
        rs.run(NfHook.PRE_ROUTING, packet(6, "8.8.8.8", "1.2.3.4", 1, 81), eth0, null, true, nat);
        rs.run(NfHook.PRE_ROUTING, packet(6, "8.8.8.8", "1.2.3.4", 1, 82), eth0, null, true, nat);
        rs.run(NfHook.POST_ROUTING, packet(17, "10.0.0.9", "8.8.8.8", 1, 53), null, eth0, true, nat);
        rs.run(NfHook.POST_ROUTING, packet(6, "10.0.0.9", "8.8.8.8", 1, 53), null, eth0, true, nat);
        assertEquals(List.of("redirect PRE_ROUTING eth0 8080-8090", "redirect PRE_ROUTING eth0 0-0", "PRE_ROUTING 10.0.0.2-10.0.0.4 8000-8010",
                "POST_ROUTING 1.2.3.4-1.2.3.6 1000-2000", "masquerade 1024-2048"), calls);
        assertEquals("Error: transport protocol mapping is only valid after transport protocol match\n"
                + "add rule ip nat pre dnat to 10.0.0.2:8000-8010\n"
                + "                    ~~~~             ^^^^^^^^^", error("add rule ip nat pre dnat to 10.0.0.2:8000-8010"));
        assertEquals("Error: transport protocol mapping is only valid after transport protocol match\n"
                + "add rule ip nat pre th dport 5 redirect to :2\n"
                + "                               ~~~~~~~~     ^", error("add rule ip nat pre th dport 5 redirect to :2"));
        assertTrue(error("add rule ip nat post redirect").startsWith("Error: Could not process rule: Operation not supported"),
                "redirect only at prerouting and output");
    }

    @Test
    void aByteLimitPassesRateBytesPerUnitAndItsBurst() {
        long[] now = { 5_000_000_000L };
        rs.clock = () -> now[0];
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add rule ip t input udp dport 1 limit rate 1 kbytes/second burst 100 bytes accept
                add rule ip t input udp dport 2 limit rate over 500 bytes/second drop
                add rule ip t input udp dport 2 accept
                """);
        SkBuff one = packet(17, "10.0.0.1", "10.0.0.2", 9, 1); // 38 bytes
        int passed = 0;
        for (int i = 0; i < 100; i++) {
            passed += in(one) == Verdict.ACCEPT ? 1 : 0;
        }
        assertEquals(29, passed, "(1024 + 100) / 38 packets: the rate's second and the burst, full at the start");
        now[0] += 38 * 1_000_000_000L / 1024 + 1; // one packet's worth of time
        assertEquals(Verdict.ACCEPT, in(one));
        assertEquals(Verdict.DROP, in(one));
        SkBuff two = packet(17, "10.0.0.1", "10.0.0.2", 9, 2);
        int dropped = 0;
        for (int i = 0; i < 100; i++) {
            dropped += in(two) == Verdict.DROP ? 1 : 0;
        }
        assertEquals(100 - 500 / 38, dropped, "over: what exceeds 500 bytes, no burst");
        assertEquals("\t\tudp dport 1 limit rate 1 kbytes/second burst 100 bytes accept", nft("list chain ip t input").get(3));
        assertTrue(error("add rule ip t input limit rate 4 mbytes/hour burst 1 mbytes").startsWith(
                "Error: Could not process rule: Value too large for defined data type"));
    }

    @Test
    void anAnonymousQuotaStopsMatchingOnceItsBytesAreUsedAndListsThem() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add rule ip t input udp dport 1 quota 100 bytes accept
                add rule ip t input udp dport 2 quota over 100 bytes drop
                add rule ip t input udp dport 2 accept
                """);
        SkBuff one = packet(17, "10.0.0.1", "10.0.0.2", 9, 1); // 38 bytes
        assertEquals(Verdict.ACCEPT, in(one));
        assertEquals(Verdict.ACCEPT, in(one));
        assertEquals(Verdict.DROP, in(one), "114 bytes: past the quota");
        SkBuff two = packet(17, "10.0.0.1", "10.0.0.2", 9, 2);
        assertEquals(Verdict.ACCEPT, in(two));
        assertEquals(Verdict.ACCEPT, in(two));
        assertEquals(Verdict.DROP, in(two), "over: matches once past");
        List<String> l = nft("list chain ip t input");
        assertEquals("\t\tudp dport 1 quota 100 bytes used 114 bytes accept", l.get(3));
        assertEquals("\t\tudp dport 2 quota over 100 bytes used 114 bytes drop", l.get(4));
        nft("add rule ip t input udp dport 3 accept"); // a recompile keeps what was used
        assertEquals(Verdict.DROP, in(one));
    }

    @Test
    void issue18sExpressionsAllocateNothingPerPacket() {
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add rule ip t input th dport 7 ct status != dying meta pkttype host counter
                add rule ip t input limit rate 1000 mbytes/second burst 1000 mbytes quota over 1 bytes
                add rule ip t input meta l4proto tcp th sport { 1, 40000 } accept
                """);
        SkBuff tcp = packet(6, "10.0.0.1", "10.0.0.2", 40000, 7);
        tcp.nfct(new Conn(), SkBuff.IP_CT_NEW);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            accepted += in(tcp) == Verdict.ACCEPT ? 1 : 0;
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 200_000; i++) {
            accepted += in(tcp) == Verdict.ACCEPT ? 1 : 0;
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 200000 packets: something allocates per packet");
        assertEquals(220_000, accepted);
    }

    @Test
    void elementsTimeOutStopMatchingAtOnceAndTheCollectorFreesThem() {
        long[] now = { 7_000_000_000L };
        rs.clock = () -> now[0];
        nft("""
                add table ip t
                add chain ip t input { type filter hook input priority 0; policy accept; }
                add set ip t s { type ipv4_addr; flags timeout; timeout 30s; gc-interval 1m; }
                add element ip t s { 10.0.0.1 timeout 10s, 10.0.0.2, 10.0.0.3 timeout 30s }
                add set ip t forever { type ipv4_addr; flags timeout; elements = { 10.0.0.9, 10.0.0.8 timeout 1s } }
                add rule ip t input ip saddr @s drop
                add rule ip t input ip saddr @forever drop
                """);
        assertEquals(List.of("table ip t {", "\tset s {", "\t\ttype ipv4_addr", "\t\ttimeout 30s", "\t\tgc-interval 1m",
                "\t\telements = { 10.0.0.1 timeout 10s expires 10s, 10.0.0.2 expires 30s,", "\t\t\t     10.0.0.3 expires 30s }", "\t}", "}"),
                nft("list set ip t s"));
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.99", 1, 2)));
        now[0] += 9_999_000_000L;
        assertEquals("\t\telements = { 10.0.0.1 timeout 10s expires 1ms, 10.0.0.2 expires 20s1ms,", nft("list set ip t s").get(5));
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.99", 1, 2)));
        now[0] += 1_000_000L;
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.1", "10.0.0.99", 1, 2)), "its time has passed: no match, before any collector");
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.2", "10.0.0.99", 1, 2)));
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.9", "10.0.0.99", 1, 2)), "no timeout: never expires");
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.8", "10.0.0.99", 1, 2)));
        assertEquals(2, rs.gcNow(), "10.0.0.1 and 10.0.0.8 freed");
        assertEquals("\t\telements = { 10.0.0.2 expires 20s, 10.0.0.3 expires 20s }", nft("list set ip t s").get(5));
        nft("add element ip t s { 10.0.0.1 }"); // a freed key comes back with the set's timeout
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.99", 1, 2)));
        nft("delete element ip t s { 10.0.0.2 }");
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.2", "10.0.0.99", 1, 2)));
        assertEquals("Error: Could not process rule: No such file or directory\n"
                + "delete element ip t s { 10.0.0.2 }\n"
                + "                        ^^^^^^^^", error("delete element ip t s { 10.0.0.2 }"));
        nft("add set ip t plain { type ipv4_addr; }");
        assertEquals("Error: Could not process rule: Invalid argument\n"
                + "add element ip t plain { 10.0.0.1 timeout 1s }\n"
                + "                         ^^^^^^^^", error("add element ip t plain { 10.0.0.1 timeout 1s }"));
        nft("flush set ip t s");
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.3", "10.0.0.99", 1, 2)));
    }

    @Test
    void addAndUpdateFromThePacketPathAFullSetRefusesAndCounts() {
        long[] now = { 1_000_000_000L };
        rs.clock = () -> now[0];
        nft("""
                add table ip t
                add set ip t seen { type ipv4_addr; size 2; flags timeout; timeout 1m; }
                add set ip t ports { type ipv4_addr . inet_service; flags timeout; }
                add chain ip t input { type filter hook input priority 0; policy accept; }
                add rule ip t input ip saddr @seen counter drop
                add rule ip t input udp dport 9 update @seen { ip saddr timeout 10s }
                add rule ip t input udp dport 8 add @seen { ip saddr }
                add rule ip t input udp dport 7 add @ports { ip saddr . udp dport timeout 5s } counter
                """);
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.1", "10.0.0.99", 1, 9)));
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.1", "10.0.0.99", 1, 9)), "added by the first");
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.2", "10.0.0.99", 1, 8)));
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.3", "10.0.0.99", 1, 8)), "full at size 2: refused");
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.3", "10.0.0.99", 1, 8)));
        DynSet seen = rs.model().tables.get(0).sets.get("seen").dyn;
        assertEquals(2, seen.refused.get());
        assertEquals(List.of("\t\tsize 2", "\t\tflags dynamic,timeout", "\t\ttimeout 1m",
                "\t\telements = { 10.0.0.1 timeout 10s expires 10s, 10.0.0.2 expires 1m }"), nft("list set ip t seen").subList(3, 7));
        now[0] += 10_000_000_000L;
        // 10.0.0.1 is no more: a new key may take the place, before the collector ran
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.1", "10.0.0.99", 1, 2)));
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.3", "10.0.0.99", 1, 8)), "refused: the expired one still holds its place until collected");
        assertEquals(1, rs.gcNow());
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.3", "10.0.0.99", 1, 8)));
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.3", "10.0.0.99", 1, 2)));
        // update starts the time again; add leaves it
        now[0] += 50_000_000_000L;
        in(packet(17, "10.0.0.2", "10.0.0.99", 1, 9)); // dropped by the first rule before it is updated: no refresh
        assertEquals(Verdict.DROP, in(packet(17, "10.0.0.2", "10.0.0.99", 1, 2)));
        now[0] += 10_000_000_000L;
        assertEquals(Verdict.ACCEPT, in(packet(17, "10.0.0.2", "10.0.0.99", 1, 2)), "a minute after it was added");
        in(packet(17, "10.0.0.5", "10.0.0.99", 1, 7));
        assertEquals(List.of("\t\tsize 65535", "\t\tflags dynamic,timeout", "\t\telements = { 10.0.0.5 . 7 timeout 5s expires 5s }"),
                nft("list set ip t ports").subList(3, 6));
        assertEquals("\t\tudp dport 9 update @seen { ip saddr timeout 10s }", nft("list chain ip t input").get(4));
        assertEquals("\t\tudp dport 7 add @ports { ip saddr . udp dport timeout 5s } counter packets 1 bytes 38", nft("list chain ip t input").get(6));
    }

    @Test
    void setTimeoutsAndUpdatesAllocateNothingPerPacket() {
        long[] now = { 1_000_000_000L };
        rs.clock = () -> now[0];
        nft("""
                add table ip t
                add set ip t seen { type ipv4_addr . inet_service; flags timeout; timeout 1m; }
                add chain ip t input { type filter hook input priority 0; policy drop; }
                add rule ip t input update @seen { ip saddr . tcp dport timeout 10s }
                add rule ip t input ip saddr . tcp dport @seen accept
                """);
        SkBuff tcp = packet(6, "10.0.0.1", "10.0.0.2", 40000, 443);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            accepted += in(tcp) == Verdict.ACCEPT ? 1 : 0;
            now[0] += 1000;
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 200_000; i++) {
            accepted += in(tcp) == Verdict.ACCEPT ? 1 : 0;
            now[0] += 1000;
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 200000 packets: something allocates per packet");
        assertEquals(220_000, accepted);
    }

    @Test
    void dnatToAMapsAddressAndPortBindsBoth() {
        List<String> calls = new ArrayList<>();
        org.modnet.api.netfilter.NfNat nat = (org.modnet.api.netfilter.NfNat) Proxy.newProxyInstance(
                NftTest.class.getClassLoader(), new Class<?>[] { org.modnet.api.netfilter.NfNat.class }, (p, m, a) -> {
                    calls.add(LogLine.addr((Integer) a[2]) + "-" + LogLine.addr((Integer) a[3]) + " " + a[4] + "-" + a[5]);
                    return Verdict.ACCEPT;
                });
        nft("""
                add table ip nat
                add chain ip nat pre { type nat hook prerouting priority dstnat; }
                add map ip nat m { type ipv4_addr . inet_service : ipv4_addr . inet_service; elements = { 1.1.1.1 . 443 : 10.0.0.3 . 8443 } }
                add rule ip nat pre dnat ip addr . port to ip daddr . tcp dport map { 1.1.1.1 . 80 : 10.0.0.2 . 8080 }
                add rule ip nat pre dnat ip to ip daddr . tcp dport map @m
                add rule ip nat pre meta l4proto udp dnat ip to udp dport map { 53 : 10.0.0.9 . 5353 }
                """);
        rs.run(NfHook.PRE_ROUTING, packet(6, "8.8.8.8", "1.1.1.1", 1, 80), eth0, null, true, nat);
        rs.run(NfHook.PRE_ROUTING, packet(6, "8.8.8.8", "1.1.1.1", 1, 443), eth0, null, true, nat);
        rs.run(NfHook.PRE_ROUTING, packet(17, "8.8.8.8", "1.1.1.1", 1, 53), eth0, null, true, nat);
        rs.run(NfHook.PRE_ROUTING, packet(6, "8.8.8.8", "1.1.1.1", 1, 81), eth0, null, true, nat);
        assertEquals(List.of("10.0.0.2-10.0.0.2 8080-8080", "10.0.0.3-10.0.0.3 8443-8443", "10.0.0.9-10.0.0.9 5353-5353"), calls);
        assertEquals(List.of("\t\tdnat ip to ip daddr . tcp dport map { 1.1.1.1 . 80 : 10.0.0.2 . 8080 }",
                "\t\tdnat ip to ip daddr . tcp dport map @m", "\t\tdnat ip to udp dport map { 53 : 10.0.0.9 . 5353 }"),
                nft("list chain ip nat pre").subList(3, 6));
    }
}

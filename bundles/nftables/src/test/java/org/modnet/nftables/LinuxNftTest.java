package org.modnet.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The same nft commands given to Linux's nft inside a network namespace this test makes (never the
 * host's own ruleset) and to modnet's: {@code nft list ruleset}, {@code nft -a list ruleset} and the
 * list of a chain, a table and a set print the same bytes. Skips when nft or root is missing.
 */
class LinuxNftTest {
    private final String ns = "modnet-nft-" + ProcessHandle.current().pid();
    private boolean made;

    private static boolean have(String cmd) {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, cmd))) {
                return true;
            }
        }
        return false;
    }

    private static String exec(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IOException(argv + ": " + rc + ": " + out);
        }
        return out;
    }

    private String linux(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, "nft"));
        argv.addAll(List.of(args));
        return exec(argv);
    }

    @BeforeEach
    void makeNamespace() throws Exception {
        assumeTrue(have("nft"), "nft is not installed (apt-get install nftables)");
        assumeTrue(have("ip"), "ip (iproute2) is not installed");
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for a network namespace");
        exec(List.of("ip", "netns", "add", ns));
        made = true;
    }

    @AfterEach
    void removeNamespace() throws Exception {
        if (made) {
            exec(List.of("ip", "netns", "del", ns));
        }
    }

    private static String ours(Ruleset rs, String cmd, boolean handles) {
        List<String> l = Nft.run(rs, cmd, handles);
        return l.isEmpty() ? "" : String.join("\n", l) + "\n";
    }

    @Test
    void listOutputIsLinuxs() throws Exception {
        Path file = Files.createTempFile("modnet-nft", ".nft");
        try {
            String more = """
                    add set ip nat ports { type inet_service; }
                    add element ip nat ports { 443, 80, 8080 }
                    add set ip nat nets { type ipv4_addr; flags interval; }
                    add element ip nat nets { 10.0.0.0/8, 192.168.1.10-192.168.1.20 }
                    add chain ip nat fwd2
                    add rule ip nat fwd2 tcp dport @ports ip daddr @nets counter accept
                    insert rule inet filter web udp dport != 53 drop
                    add rule inet filter forw ip protocol != icmp counter drop
                    add rule inet filter forw icmp type { echo-request, echo-reply } accept
                    add rule inet filter forw ct state new,invalid drop
                    add rule inet filter forw meta l4proto udp udp dport 1-1024 accept
                    add rule inet filter forw ip protocol tcp tcp sport 7 ip saddr { 10.0.0.0/8, 192.168.0.1 } accept
                    """;
            Files.writeString(file, NftTest.PROBE + more);
            linux("-f", file.toString());
            Ruleset rs = new Ruleset();
            Nft.run(rs, NftTest.PROBE + more, false);
            assertEquals(linux("list", "ruleset"), ours(rs, "list ruleset", false), "nft list ruleset");
            assertEquals(linux("-a", "list", "ruleset"), ours(rs, "list ruleset", true), "nft -a list ruleset");
            assertEquals(linux("list", "chain", "inet", "filter", "input"), ours(rs, "list chain inet filter input", false));
            assertEquals(linux("list", "table", "ip", "nat"), ours(rs, "list table ip nat", false));
            assertEquals(linux("list", "set", "ip", "nat", "nets"), ours(rs, "list set ip nat nets", false));
            // what nft lists, nft -f reads back to the same ruleset, in Linux and here
            Files.writeString(file, linux("list", "ruleset"));
            linux("flush", "ruleset");
            linux("-f", file.toString());
            Nft.run(rs, "flush ruleset", false);
            Nft.run(rs, Files.readString(file), false);
            assertEquals(linux("list", "ruleset"), ours(rs, "list ruleset", false), "after nft list ruleset | nft -f -");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Maps, verdict maps, concatenations, limits and marks, as {@code nft list} prints them. */
    static final String MAPS = """
            add table ip t
            add chain ip t c
            add map ip t m { type ipv4_addr : ipv4_addr; }
            add element ip t m { 10.0.0.2 : 192.168.0.2, 10.0.0.1 : 192.168.0.1 }
            add map ip t vm { type inet_service : verdict; }
            add element ip t vm { 22 : accept, 80 : drop, 8080 : jump c }
            add set ip t cc { type ipv4_addr . inet_service; }
            add element ip t cc { 10.0.0.2 . 80, 10.0.0.1 . 22, 10.0.0.1 . 21 }
            add map ip t cm { type ipv4_addr . inet_service : verdict; elements = { 1.1.1.1 . 1 : accept, 1.1.1.2 . 2 : drop } }
            add set ip t a5 { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5 } }
            add set ip t p12 { type inet_service; elements = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 } }
            add map ip t r { type ipv4_addr : verdict; flags interval; elements = { 10.0.0.0/8 : accept, 192.168.1.1-192.168.1.9 : jump c } }
            add map ip t p7 { type inet_service : verdict; elements = { 1 : accept, 2 : accept, 3 : accept, 4 : accept, 5 : accept, 6 : drop, 7 : drop } }
            add map ip t mk { type ipv4_addr : mark; elements = { 1.1.1.1 : 0x5 } }
            add set ip t mm { type mark; elements = { 1, 0x10 } }
            add chain ip t in { type filter hook input priority 0; }
            add chain ip t pre { type nat hook prerouting priority dstnat; }
            add rule ip t in tcp dport vmap { 80 : drop, 22 : accept }
            add rule ip t in tcp dport vmap @vm
            add rule ip t in ip saddr vmap { 10.0.0.1 : accept, 192.168.0.0/16 : drop }
            add rule ip t in ip saddr . tcp dport @cc accept
            add rule ip t in ip saddr . tcp dport { 10.0.0.3 . 443, 10.0.0.1 . 22 } accept
            add rule ip t in ip saddr . tcp dport vmap { 10.0.0.1 . 22 : accept }
            add rule ip t in ip saddr vmap @r
            add rule ip t in limit rate 10/second accept
            add rule ip t in limit rate 10/second burst 20 packets accept
            add rule ip t in limit rate over 100/minute drop
            add rule ip t in limit rate 5/hour burst 5 packets counter
            add rule ip t in limit rate 1/day
            add rule ip t in meta mark set 0x1
            add rule ip t in meta mark 0x1 accept
            add rule ip t in meta mark set 42
            add rule ip t in mark 5 accept
            add rule ip t in ct mark set 0x10
            add rule ip t in ct mark 0x10 accept
            add rule ip t in ct mark set meta mark
            add rule ip t in meta mark set ct mark
            add rule ip t in meta mark != 3 drop
            add rule ip t in meta mark { 1, 2 } accept
            add rule ip t in meta mark set ip saddr map @mk
            add rule ip t pre dnat to ip daddr map { 10.0.0.1 : 192.168.0.1 }
            add rule ip t pre dnat to ip daddr map @m
            add rule ip t pre dnat to tcp dport map { 443 : 10.0.0.6, 80 : 10.0.0.5 }
            add rule ip t pre ip saddr @m accept
            add counter ip t cnt
            add counter ip t c2 { packets 5 bytes 10 }
            add rule ip t in counter name "cnt" accept
            add rule ip t in ip saddr 10.0.0.1 counter name c2
            """;

    @Test
    void mapsConcatenationsLimitsAndMarksListAsLinuxs() throws Exception {
        Path file = Files.createTempFile("modnet-nft", ".nft");
        try {
            Files.writeString(file, MAPS);
            linux("-f", file.toString());
            Ruleset rs = new Ruleset();
            Nft.run(rs, MAPS, false);
            assertEquals(linux("list", "ruleset"), ours(rs, "list ruleset", false), "nft list ruleset");
            assertEquals(linux("-a", "list", "ruleset"), ours(rs, "list ruleset", true), "nft -a list ruleset");
            assertEquals(linux("list", "map", "ip", "t", "vm"), ours(rs, "list map ip t vm", false));
            assertEquals(linux("list", "set", "ip", "t", "cc"), ours(rs, "list set ip t cc", false));
            assertEquals(linux("list", "counter", "ip", "t", "c2"), ours(rs, "list counter ip t c2", false));
            Files.writeString(file, linux("list", "ruleset"));
            linux("flush", "ruleset");
            linux("-f", file.toString());
            Nft.run(rs, "flush ruleset", false);
            Nft.run(rs, Files.readString(file), false);
            assertEquals(linux("list", "ruleset"), ours(rs, "list ruleset", false), "after nft list ruleset | nft -f -");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Issue 18's later expressions and statements: th, ct status, meta pkttype, redirect, NAT ranges, byte limits, anonymous quotas. */
    static final String EXPRS = """
            add table inet t
            add chain inet t c { type filter hook input priority 0; }
            add rule inet t c th dport 22 accept
            add rule inet t c meta l4proto tcp th dport 22 accept
            add rule inet t c meta l4proto udp th sport != 53 accept
            add rule inet t c meta l4proto { tcp, udp } th dport 53 accept
            add rule inet t c th sport 1000-2000 drop
            add rule inet t c th dport { 80, 443 } accept
            add rule inet t c meta l4proto udplite th dport 5 accept
            add rule inet t c meta l4proto sctp th dport 5 accept
            add rule inet t c meta l4proto dccp th dport != 5 accept
            add rule inet t c sctp sport 9
            add rule inet t c udplite sport 10 drop
            add rule inet t c dccp dport 11 drop
            add rule inet t c meta l4proto 33 accept
            add rule inet t c ct status dnat accept
            add rule inet t c ct status assured,confirmed accept
            add rule inet t c ct status { expected, seen-reply } accept
            add rule inet t c ct status != snat drop
            add rule inet t c ct status dying drop
            add rule inet t c meta pkttype broadcast drop
            add rule inet t c meta pkttype { host, multicast, other } accept
            add rule inet t c pkttype multicast drop
            add rule inet t c meta pkttype != host drop
            add rule inet t c limit rate 10 mbytes/second accept
            add rule inet t c limit rate over 10 mbytes/second drop
            add rule inet t c limit rate 10 mbytes/second burst 1000 bytes accept
            add rule inet t c limit rate 1 kbytes/second burst 5 kbytes accept
            add rule inet t c limit rate 1025 bytes/second accept
            add rule inet t c limit rate 10 kbytes/minute accept
            add rule inet t c quota 10 mbytes accept
            add rule inet t c quota over 10 mbytes drop
            add rule inet t c quota until 500 kbytes accept
            add rule inet t c quota 1025 bytes
            add rule inet t c quota 2 mbytes used 1024 kbytes
            add limit inet t lb { rate 4 mbytes/second burst 1 mbytes }
            add rule inet t c limit name "lb" accept
            add table ip n
            add chain ip n pre { type nat hook prerouting priority dstnat; }
            add chain ip n post { type nat hook postrouting priority srcnat; }
            add chain ip n out { type nat hook output priority -100; }
            add rule ip n pre redirect
            add rule ip n pre tcp dport 81 redirect to :8080
            add rule ip n pre tcp dport 80 redirect to :8080-8090
            add rule ip n pre tcp dport 82 dnat to 10.0.0.2:8000-8010
            add rule ip n pre dnat to 10.0.0.2-10.0.0.5
            add rule ip n pre ip protocol tcp redirect to :1
            add rule ip n pre ip protocol tcp th dport 7 redirect to :2
            add rule ip n out udp dport 53 redirect to :5353
            add rule ip n post meta l4proto udp snat to 1.2.3.4-1.2.3.6:1000-2000
            add rule ip n post meta l4proto tcp masquerade to :1024-2048
            add rule ip n post udp dport 5 masquerade to :1024
            add rule ip n post tcp sport 3 snat to 1.2.3.4:1000
            add rule ip n post meta l4proto { tcp, udp } snat to 1.2.3.4:1000
            add map ip n ap { type ipv4_addr . inet_service : ipv4_addr . inet_service; elements = { 1.1.1.1 . 80 : 10.0.0.2 . 8080 } }
            add rule ip n pre dnat to ip daddr . tcp dport map { 1.1.1.1 . 80 : 10.0.0.2 . 8080, 1.1.1.1 . 443 : 10.0.0.3 . 8443 }
            add rule ip n pre meta l4proto tcp dnat ip addr . port to ip daddr . tcp dport map { 1.1.1.2 . 80 : 10.0.0.2 . 8080 }
            add rule ip n pre dnat ip to ip daddr . tcp dport map @ap
            add rule ip n pre dnat to tcp dport map { 80 : 10.0.0.2 . 8080 }
            add rule ip n pre meta l4proto tcp dnat ip addr . port to ip saddr map { 1.2.3.4 : 10.0.0.2 . 8080 }
            """;

    @Test
    void issue18sExpressionsAndStatementsListAsLinuxs() throws Exception {
        Path file = Files.createTempFile("modnet-nft", ".nft");
        try {
            Files.writeString(file, EXPRS);
            linux("-f", file.toString());
            Ruleset rs = new Ruleset();
            Nft.run(rs, EXPRS, false);
            assertEquals(linux("list", "ruleset"), ours(rs, "list ruleset", false), "nft list ruleset");
            assertEquals(linux("-a", "list", "ruleset"), ours(rs, "list ruleset", true), "nft -a list ruleset");
            Files.writeString(file, linux("list", "ruleset"));
            linux("flush", "ruleset");
            linux("-f", file.toString());
            Nft.run(rs, "flush ruleset", false);
            Nft.run(rs, Files.readString(file), false);
            assertEquals(linux("list", "ruleset"), ours(rs, "list ruleset", false), "after nft list ruleset | nft -f -");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Sets with timeouts and the rules that add to them from the packet path. */
    static final String TIMEOUTS = """
            add table ip t
            add set ip t s { type ipv4_addr; flags timeout; timeout 30s; gc-interval 1m; }
            add set ip t s2 { type ipv4_addr; flags timeout; }
            add set ip t s3 { type ipv4_addr; timeout 1h; elements = { 10.0.0.1, 10.0.0.2 timeout 10s } }
            add set ip t s4 { type ipv4_addr . inet_service; flags timeout; size 65535; }
            add set ip t s6 { type ipv4_addr; size 100; }
            add set ip t s7 { type ipv4_addr; flags dynamic; }
            add element ip t s { 10.0.0.1 timeout 10s, 10.0.0.2, 10.0.0.3 timeout 30s }
            add element ip t s2 { 10.0.0.3 timeout 2m30s, 10.0.0.4 timeout 1d, 10.0.0.5 timeout 1h1m, 10.0.0.6 }
            add element ip t s4 { 10.0.0.1 . 22 timeout 90s }
            add chain ip t c { type filter hook input priority 0; }
            add rule ip t c add @s { ip saddr }
            add rule ip t c update @s { ip saddr timeout 10s }
            add rule ip t c update @s2 { ip saddr timeout 1m } counter
            add rule ip t c ip saddr @s2 accept
            add rule ip t c tcp dport 22 add @s4 { ip saddr . tcp dport timeout 30s }
            add rule ip t c add @s6 { ip saddr }
            add rule ip t c ip saddr . tcp dport @s4 drop
            """;

    /** Linux's time left differs by the milliseconds the commands took: compared without it. */
    private static String expiresMasked(String listing) {
        return listing.replaceAll("expires [0-9dhms]+", "expires X");
    }

    @Test
    void setTimeoutsAndPacketPathUpdatesListAsLinuxs() throws Exception {
        Path file = Files.createTempFile("modnet-nft", ".nft");
        try {
            Files.writeString(file, TIMEOUTS);
            linux("-f", file.toString());
            Ruleset rs = new Ruleset();
            Nft.run(rs, TIMEOUTS, false);
            // a set made before, then a rule that adds to it: the kernel gives it its size, nft no dynamic flag
            linux("add", "set", "ip", "t", "late", "{ type ipv4_addr; }");
            Nft.run(rs, "add set ip t late { type ipv4_addr; }", false);
            linux("add", "rule", "ip", "t", "c", "update", "@late", "{ ip saddr }");
            Nft.run(rs, "add rule ip t c update @late { ip saddr }", false);
            assertEquals(expiresMasked(linux("list", "ruleset")), expiresMasked(ours(rs, "list ruleset", false)), "nft list ruleset");
            assertEquals(expiresMasked(linux("-a", "list", "ruleset")), expiresMasked(ours(rs, "list ruleset", true)), "nft -a list ruleset");
            assertEquals(expiresMasked(linux("list", "set", "ip", "t", "s2")), expiresMasked(ours(rs, "list set ip t s2", false)));
            Files.writeString(file, linux("list", "ruleset"));
            linux("flush", "ruleset");
            linux("-f", file.toString());
            Nft.run(rs, "flush ruleset", false);
            Nft.run(rs, Files.readString(file), false);
            assertEquals(expiresMasked(linux("list", "ruleset")), expiresMasked(ours(rs, "list ruleset", false)), "after nft list ruleset | nft -f -");
        } finally {
            Files.deleteIfExists(file);
        }
    }
    @Test
    void aKeywordOrAQuotedStringIsRefusedAsANameWithLinuxsError() throws Exception {
        linux("add", "table", "ip", "t");
        Ruleset rs = new Ruleset();
        Nft.run(rs, "add table ip t", false);
        for (String cmd : List.of("add chain ip t fwd", "add chain ip t tcp", "add table ip meta", "add set ip t counter { type ipv4_addr; }",
                "add chain ip t \"c\"", "add chain ip t input", "add chain ip t filter")) {
            Process p = new ProcessBuilder("ip", "netns", "exec", ns, "nft", cmd).redirectErrorStream(true).start();
            String theirs = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).stripTrailing();
            int second = theirs.indexOf("\nError: ");
            theirs = second < 0 ? theirs : theirs.substring(0, second); // nft goes on after the first error; modnet stops there
            boolean refused = p.waitFor() != 0;
            String mine;
            try {
                Nft.run(rs, cmd, false);
                mine = "";
            } catch (org.modnet.api.shell.CommandException e) {
                mine = e.getMessage().stripTrailing();
            }
            assertEquals(refused ? theirs : "", mine, cmd);
        }
    }
}

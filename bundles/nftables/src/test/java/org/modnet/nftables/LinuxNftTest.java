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
}

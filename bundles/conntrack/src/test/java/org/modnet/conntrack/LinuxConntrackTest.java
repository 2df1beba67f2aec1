package org.modnet.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.skb.SkBuff;

/**
 * The same flows seen by Linux's conntrack (in namespaces this test makes, never the host's table) and
 * by modnet's: {@code conntrack -L} and {@code /proc/net/nf_conntrack} print the same lines but for the
 * seconds left. Skips without root, iproute2, iptables-legacy or conntrack (apt-get install conntrack).
 */
class LinuxConntrackTest {
    private final String a = "modnet-cta-" + ProcessHandle.current().pid();
    private final String b = "modnet-ctb-" + ProcessHandle.current().pid();
    private boolean made;

    private static boolean have(String cmd) {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, cmd))) {
                return true;
            }
        }
        return false;
    }

    private static String exec(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    @BeforeEach
    void makeNamespaces() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for network namespaces");
        for (String tool : new String[] { "ip", "iptables-legacy", "conntrack", "ping", "bash" }) {
            assumeTrue(have(tool), tool + " is not installed");
        }
        exec("ip", "netns", "add", a);
        exec("ip", "netns", "add", b);
        made = true;
        exec("ip", "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb");
        exec("ip", "-n", a, "link", "set", "vb", "netns", b);
        exec("ip", "-n", a, "addr", "add", "10.9.0.1/24", "dev", "va");
        exec("ip", "-n", b, "addr", "add", "10.9.0.2/24", "dev", "vb");
        exec("ip", "-n", a, "link", "set", "va", "up");
        exec("ip", "-n", b, "link", "set", "vb", "up");
        // a rule that needs conntrack makes Linux track b's packets
        exec("ip", "netns", "exec", b, "iptables-legacy", "-A", "INPUT", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP");
    }

    @AfterEach
    void removeNamespaces() throws Exception {
        if (made) {
            exec("ip", "netns", "del", a);
            exec("ip", "netns", "del", b);
        }
    }

    private static String normal(String line) {
        return line.replaceFirst("^((ipv4 +2 )?[a-z]+ +\\d+) \\d+ ", "$1 T ");
    }

    private static int group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new AssertionError(regex + " not in " + text);
        }
        return Integer.parseInt(m.group(1));
    }

    @Test
    void linesAreLinuxs() throws Exception {
        exec("ip", "netns", "exec", a, "ping", "-c", "1", "-W", "1", "10.9.0.2");
        exec("ip", "netns", "exec", a, "bash", "-c", "echo x > /dev/udp/10.9.0.2/5000");
        exec("ip", "netns", "exec", a, "bash", "-c", "echo > /dev/tcp/10.9.0.2/5001");
        Thread.sleep(200);
        String linux = exec("ip", "netns", "exec", b, "conntrack", "-L");
        String linuxProc = exec("ip", "netns", "exec", b, "cat", "/proc/net/nf_conntrack");
        int id = group(linux, "type=8 code=0 id=(\\d+)");
        int sport = group(linux, "sport=(\\d+) dport=5000");

        // the same flows as b sees them: in at PRE_ROUTING, confirmed at LOCAL_IN; out at LOCAL_OUT, confirmed at POST_ROUTING
        long[] now = { 1_000 };
        ConntrackTable t = new ConntrackTable(new TestSysctl(), () -> now[0], 64);
        Packets p = new Packets();
        List<SkBuff> sent = new ArrayList<>();
        sent.add(p.icmpEcho("10.9.0.1", "10.9.0.2", 8, id));
        sent.add(p.icmpEcho("10.9.0.2", "10.9.0.1", 0, id));
        SkBuff udp = p.udp("10.9.0.1", sport, "10.9.0.2", 5000);
        sent.add(udp);
        sent.add(p.icmpError("10.9.0.2", "10.9.0.1", 3, 3, udp));
        sent.add(p.tcp("10.9.0.1", 40000, "10.9.0.2", 5001, Packets.SYN));
        sent.add(p.tcp("10.9.0.2", 5001, "10.9.0.1", 40000, Packets.RST | Packets.ACK));
        for (SkBuff skb : sent) {
            t.in(skb);
            t.confirm(skb);
        }
        List<String> ours = new ArrayList<>(), oursProc = new ArrayList<>();
        for (NfConn ct : t.entries()) {
            ours.add(normal(Conntrack.line(t, ct, false)));
            oursProc.add(normal(Conntrack.line(t, ct, true)));
        }
        for (SkBuff skb : sent) {
            skb.free();
        }
        assertEquals(linux.lines().map(LinuxConntrackTest::normal).sorted().toList(), ours.stream().sorted().toList());
        assertEquals(linuxProc.lines().map(LinuxConntrackTest::normal).sorted().toList(), oursProc.stream().sorted().toList());
    }
}

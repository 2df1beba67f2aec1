package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/** The stack driven only through its Linux commands, on a real Felix. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class ShellIT {

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void installHost() throws Exception {
        features.install("host");
        ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.RouteTable.class, null);
    }

    private String sh(String line) throws Exception {
        return ModnetRuntime.run(processor, line);
    }

    /** The packets column of the RX or TX block of {@code ip -s link}. */
    private static long packets(String ipStatsLink, String direction) {
        Matcher m = Pattern.compile(direction + ":\\s+bytes\\s+packets.*\\n\\s+(\\d+)\\s+(\\d+)").matcher(ipStatsLink);
        assertTrue("no " + direction + " block in:\n" + ipStatsLink, m.find());
        return Long.parseLong(m.group(2));
    }

    @Test
    public void pktgenFramesAcrossAVethPairAreCountedInIpSLinkOnBothEnds() throws Exception {
        sh("ip netns add ns1");
        sh("ip netns add ns2");
        sh("ip -n ns1 link add veth0 type veth peer name veth1");
        sh("ip -n ns1 link set veth1 netns ns2");
        sh("ip -n ns1 link set veth0 up");
        sh("ip -n ns2 link set veth1 up");
        sh("ip netns exec ns2 ethtool -G veth1 rx 4096");
        assertThat(sh("ip netns list"), containsString("ns2"));

        assertThat(sh("ip netns exec ns1 pktgen veth0 count 1000 pkt_size 100 path tx"), containsString("1000 (100byte"));

        assertEquals(1000, packets(sh("ip -n ns1 -s link show veth0"), "TX"));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (packets(sh("ip -n ns2 -s link show veth1"), "RX") < 1000 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        String veth1 = sh("ip -n ns2 -s link show veth1");
        assertEquals(1000, packets(veth1, "RX"));
        assertThat(veth1, containsString("veth1@if"));
        assertThat(sh("ip netns exec ns2 cat /proc/net/dev"), containsString("veth1"));
        assertThat(sh("ip netns exec ns2 ethtool -S veth1"), containsString("rx_queue_0_packets: 1000"));
    }

    /** {@link #sh} for a lambda that sets up a topology: a failure fails the test. */
    private void shUnchecked(String line) {
        try {
            sh(line);
        } catch (Exception e) {
            throw new AssertionError(line, e);
        }
    }

    /** The keys of a JSON text in the order they appear: what a script's {@code jq} paths rely on. */
    private static java.util.List<String> keys(String json) {
        java.util.List<String> k = new java.util.ArrayList<>();
        Matcher m = Pattern.compile("\"([A-Za-z0-9_]+)\":").matcher(json);
        while (m.find()) {
            k.add(m.group(1));
        }
        return k;
    }

    /** netstat -i's lines without the counters: the name, the MTU and the flags of each interface. */
    private static String interfaceColumns(String netstatI) {
        StringBuilder b = new StringBuilder();
        for (String line : netstatI.split("\n")) {
            String[] w = line.trim().split("\\s+");
            b.append(w.length == 11 ? w[0] + " " + w[1] + " " + w[10] : line).append('\n');
        }
        return b.toString();
    }

    /** Linux's {@code ip} with the arguments, its stdout; fails on a non-zero status. */
    private static String linuxIp(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Processes.Result r = Processes.run(cmd);
        assertEquals("ip " + String.join(" ", args) + ": " + r, 0, r.status());
        return r.out();
    }

    /** The same two-namespace set-up, made by {@code ip} in modnet ({@code ip}) or on Linux ({@code linux}). */
    private void jsonSetUp(String a, String b, java.util.function.Consumer<String> ip) {
        ip.accept("-n " + a + " link add eth0 type veth peer name eth1");
        ip.accept("-n " + a + " link set eth1 netns " + b);
        ip.accept("-n " + a + " addr add 10.9.0.1/24 dev eth0");
        ip.accept("-n " + a + " addr add 10.9.0.9/24 dev eth0");
        ip.accept("-n " + a + " link set eth0 up");
        ip.accept("-n " + a + " link set lo up");
        ip.accept("-n " + b + " link set eth1 up");
        ip.accept("-n " + a + " route add 10.20.0.0/16 via 10.9.0.2");
        ip.accept("-n " + a + " route add 10.7.0.0/16 dev eth0 metric 5 proto static");
        ip.accept("-n " + a + " route add blackhole 10.30.0.0/16");
        ip.accept("-n " + a + " neigh add 10.9.0.7 lladdr 02:00:00:00:00:07 dev eth0 nud permanent");
    }

    /**
     * {@code ip -j} and {@code -p} (issue 20): link, address, route and neighbour listings as iproute2's
     * JSON, checked beside Linux's own {@code ip -j} for the same set-up in two Linux namespaces (IPv6
     * off there, modnet having none): the same keys in the same order, and the routes and neighbours
     * the same text.
     */
    @Test
    public void ipJsonListsLinksAddressesRoutesAndNeighboursAsLinuxDoes() throws Exception {
        sh("ip netns add ja");
        sh("ip netns add jb");
        jsonSetUp("ja", "jb", w -> shUnchecked("ip " + w));
        String[][] views = { { "-j", "link", "show", "eth0" }, { "-j", "addr", "show", "eth0" }, { "-j", "route" },
                { "-j", "neigh" }, { "-s", "-j", "link", "show", "eth0" }, { "-s", "-s", "-j", "link", "show", "eth0" },
                { "-j", "-br", "link", "show", "eth0" }, { "-j", "-br", "addr", "show", "eth0" }, { "-s", "-j", "neigh" },
                { "route", "show", "table", "local" }, { "route", "show", "table", "all" }, { "-j", "route", "show", "table", "all" },
                { "route", "show", "dev", "eth0" }, { "route", "show", "proto", "kernel" }, { "route", "show", "type", "blackhole" },
                { "route", "show", "scope", "link" }, { "route", "show", "root", "10.0.0.0/8" }, { "route", "show", "match", "10.20.1.1" },
                { "route", "show", "10.20.0.0/16" }, { "rule" }, { "-j", "rule" }, { "addr", "show", "lo" },
                { "-j", "-d", "link", "show", "eth0" }, { "-j", "-d", "link", "show", "lo" }, { "-d", "link", "show", "lo" } };
        java.util.Map<String, String> modnet = new java.util.LinkedHashMap<>();
        for (String[] v : views) {
            modnet.put(String.join(" ", v), sh("ip -n ja " + String.join(" ", v)));
        }
        String route = modnet.get("-j route");
        assertEquals("[{\"dst\":\"10.7.0.0/16\",\"dev\":\"eth0\",\"protocol\":\"static\",\"scope\":\"link\",\"metric\":5,\"flags\":[]},"
                + "{\"dst\":\"10.9.0.0/24\",\"dev\":\"eth0\",\"protocol\":\"kernel\",\"scope\":\"link\",\"prefsrc\":\"10.9.0.1\",\"flags\":[]},"
                + "{\"dst\":\"10.20.0.0/16\",\"gateway\":\"10.9.0.2\",\"dev\":\"eth0\",\"flags\":[]},"
                + "{\"type\":\"blackhole\",\"dst\":\"10.30.0.0/16\",\"flags\":[]}]", route.trim());
        assertEquals("[{\"dst\":\"10.9.0.7\",\"dev\":\"eth0\",\"lladdr\":\"02:00:00:00:00:07\",\"state\":[\"PERMANENT\"]}]",
                modnet.get("-j neigh").trim());
        assertThat(modnet.get("-j addr show eth0"), containsString("\"secondary\":true"));
        // -p: iproute2's pretty layout
        assertThat(sh("ip -n ja -j -p neigh"), containsString("[ {\n        \"dst\": \"10.9.0.7\",\n        \"dev\": \"eth0\",\n"
                + "        \"lladdr\": \"02:00:00:00:00:07\",\n        \"state\": [ \"PERMANENT\" ]\n    } ]\n"));

        org.junit.Assume.assumeTrue("Linux's side needs root and iproute2's ip (.ci/run installs iproute2)",
                Processes.isRoot() && Processes.onPath("ip"));
        String la = "modnet-json-a-" + ProcessHandle.current().pid();
        String lb = "modnet-json-b-" + ProcessHandle.current().pid();
        linuxIp("netns", "add", la);
        try {
            linuxIp("netns", "add", lb);
            for (String n : new String[] { la, lb }) {
                Processes.Result r = Processes.run("ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1");
                org.junit.Assume.assumeTrue("IPv6 can't be turned off in a Linux namespace here: " + r, r.status() == 0);
            }
            jsonSetUp(la, lb, w -> {
                try {
                    linuxIp(w.split(" "));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            for (String[] v : views) {
                String[] args = new String[v.length + 2];
                args[0] = "-n";
                args[1] = la;
                System.arraycopy(v, 0, args, 2, v.length);
                String linux = linuxIp(args);
                String ours = modnet.get(String.join(" ", v));
                java.util.List<String> want = keys(linux);
                want.remove("inet6_addr_gen_mode"); // IPv6's, which modnet does not have
                assertEquals("ip " + String.join(" ", v) + "\nLinux:  " + linux + "modnet: " + ours, want, keys(ours));
                if (!v[0].equals("-j") && !v[0].equals("-s")) { // text: the same lines (iproute2 ends a route line with a space)
                    assertEquals("ip " + String.join(" ", v), linux.replaceAll(" +\n", "\n").replace("addrgenmode eui64 ", ""),
                            ours.replaceAll(" +\n", "\n"));
                } else if (v[1].equals("route") || v[1].equals("rule") || v[1].equals("neigh") && v[0].equals("-j")) {
                    assertEquals("ip " + String.join(" ", v), linux, ours);
                }
            }
            // net-tools' netstat reads the same tables: routes whole, interfaces by name, MTU and flags
            if (Processes.onPath("netstat")) {
                for (String v : new String[] { "-rn", "-r", "-tuan", "-i" }) {
                    Processes.Result l = Processes.run("ip", "netns", "exec", la, "netstat", v);
                    String mine = sh("ip netns exec ja netstat " + v);
                    if (v.equals("-i")) {
                        assertEquals("netstat -i", interfaceColumns(l.out()), interfaceColumns(mine));
                    } else {
                        assertEquals("netstat " + v, l.out(), mine);
                    }
                }
            }
        } finally {
            Processes.run("ip", "netns", "del", lb);
            Processes.run("ip", "netns", "del", la);
        }
    }

    /**
     * {@code cat} and {@code ls} of /sys/class/net (issue 20): modnet's views of a namespace's devices
     * beside Linux's sysfs for the same veth pair in two Linux namespaces ({@code ip netns exec} mounts
     * the namespace's sysfs there): the same files, the same one-line values but the ifindexes, and
     * {@code ls} outranking Felix's, which listed the host's interfaces.
     */
    @Test
    public void sysClassNetShowsTheNamespacesDevicesAsLinuxsSysfs() throws Exception {
        String[] setUp = { "-n %a link add eth0 type veth peer name eth1", "-n %a link set eth1 netns %b", "-n %a link set eth0 up",
                "-n %a link set lo up" };
        sh("ip netns add sa");
        sh("ip netns add sb");
        for (String w : setUp) {
            sh("ip " + w.replace("%a", "sa").replace("%b", "sb"));
        }
        String[] files = { "mtu", "operstate", "type", "flags", "tx_queue_len", "addr_len", "broadcast", "carrier", "carrier_changes" };
        assertEquals("eth0\nlo\n", sh("ip netns exec sa ls /sys/class/net"));
        assertEquals("the peer is down: no carrier", "lowerlayerdown\n", sh("ip netns exec sa cat /sys/class/net/eth0/operstate"));
        sh("ip -n sb link set eth1 up");
        java.util.Map<String, String> modnet = new java.util.LinkedHashMap<>();
        for (String f : files) {
            modnet.put("eth0/" + f, sh("ip netns exec sa cat /sys/class/net/eth0/" + f));
            modnet.put("lo/" + f, sh("ip netns exec sa cat /sys/class/net/lo/" + f));
        }
        String stats = sh("ip netns exec sa ls /sys/class/net/eth0/statistics");
        assertThat(stats, containsString("rx_packets\n"));
        // the seed's "cat /proc/interrupts | grep eth": the veth queues' NAPI interrupts, under CPU columns
        assertThat(sh("cat /proc/interrupts"), containsString("CPU0"));
        assertThat(sh("cat /proc/interrupts | grep eth"), containsString("modnet-napi  eth0-rx-0\n"));
        assertThat(sh("ls /proc"), containsString("interrupts\n"));

        org.junit.Assume.assumeTrue("Linux's side needs root and iproute2's ip (.ci/run installs iproute2)",
                Processes.isRoot() && Processes.onPath("ip"));
        String la = "modnet-sys-a-" + ProcessHandle.current().pid();
        String lb = "modnet-sys-b-" + ProcessHandle.current().pid();
        linuxIp("netns", "add", la);
        try {
            linuxIp("netns", "add", lb);
            for (String w : setUp) {
                linuxIp(w.replace("%a", la).replace("%b", lb).split(" "));
            }
            linuxIp("-n", lb, "link", "set", "eth1", "up");
            Thread.sleep(200); // veth's carrier comes with the peer's link watch
            Processes.Result ls = Processes.run("ip", "netns", "exec", la, "ls", "/sys/class/net");
            assertEquals("ls /sys/class/net", ls.out(), sh("ip netns exec sa ls /sys/class/net"));
            assertEquals("ls statistics", Processes.run("ip", "netns", "exec", la, "ls", "/sys/class/net/eth0/statistics").out(), stats);
            for (java.util.Map.Entry<String, String> e : modnet.entrySet()) {
                Processes.Result r = Processes.run("ip", "netns", "exec", la, "cat", "/sys/class/net/" + e.getKey());
                assertEquals("cat /sys/class/net/" + e.getKey() + ": " + r, r.out(), e.getValue());
            }
        } finally {
            Processes.run("ip", "netns", "del", lb);
            Processes.run("ip", "netns", "del", la);
        }
    }

    /** The changes {@code ip monitor} is shown, made by {@code ip} in modnet or on Linux in namespace {@code n}. */
    private static void monitoredChanges(String n, java.util.function.Consumer<String> ip) {
        ip.accept("-n " + n + " link set v0 mtu 1400");
        ip.accept("-n " + n + " addr add 10.0.0.1/24 dev v0");
        ip.accept("-n " + n + " route add 10.9.0.0/16 via 10.0.0.2");
        ip.accept("-n " + n + " neigh add 10.0.0.3 lladdr 02:00:00:00:00:03 dev v0");
        ip.accept("-n " + n + " neigh change 10.0.0.3 lladdr 02:00:00:00:00:03 dev v0 nud reachable");
        ip.accept("-n " + n + " neigh del 10.0.0.3 dev v0");
        ip.accept("-n " + n + " route del 10.9.0.0/16");
        ip.accept("-n " + n + " addr del 10.0.0.1/24 dev v0");
        ip.accept("-n " + n + " link set v0 down");
    }

    /**
     * What both sides print the same: link addresses (random on Linux) as X, ifindexes as N (Linux
     * registers a veth's peer first, modnet the device named first); the local table's routes
     * left out, which modnet keeps no notifications for (its local table is a view: {@code ip route show
     * table local}).
     */
    private static String comparable(String monitor) {
        StringBuilder b = new StringBuilder();
        for (String line : monitor.split("\n")) {
            if (!line.contains(" table local ")) {
                b.append(line.replaceAll("link/ether \\S+", "link/ether X").replaceAll("^(\\[\\w+\\](Deleted )?)\\d+: ", "$1N: "))
                        .append('\n');
            }
        }
        return b.toString();
    }

    /**
     * {@code ip monitor ... label} (issue 20): links, addresses, routes (the kernel's too) and neighbours
     * as they change, until Ctrl-C; beside Linux's {@code ip monitor} for the same changes in a Linux
     * namespace (IPv6 off there), line for line.
     */
    @Test
    public void ipMonitorPrintsChangesAsLinuxDoesUntilCtrlC() throws Exception {
        sh("ip netns add mon");
        sh("ip -n mon link add v0 type veth peer name v1");
        sh("ip -n mon link set v1 up");
        sh("ip -n mon link set v0 up");
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        org.apache.felix.service.command.CommandSession session = processor.createSession(java.io.InputStream.nullInputStream(), out, out);
        java.util.concurrent.atomic.AtomicReference<Object> ended = new java.util.concurrent.atomic.AtomicReference<>();
        Thread monitor = new Thread(() -> {
            try {
                ended.set(session.execute("ip -n mon monitor link address route neigh label"));
            } catch (Exception e) {
                ended.set(e);
            }
        });
        monitor.start();
        Thread.sleep(500); // the command joins the groups
        monitoredChanges("mon", w -> shUnchecked("ip " + w));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!bytes.toString(java.nio.charset.StandardCharsets.UTF_8).contains("state LOWERLAYERDOWN") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        session.foregroundJob().interrupt();
        monitor.join(10_000);
        assertFalse("Ctrl-C ended it", monitor.isAlive());
        session.close();
        String ours = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(ours, containsString(": v0    inet 10.0.0.1/24 scope global v0\n       valid_lft forever preferred_lft forever\n"));
        assertThat(ours, containsString("[ROUTE]10.0.0.0/24 dev v0 proto kernel scope link src 10.0.0.1 \n"));
        assertThat(ours, containsString("[NEIGH]10.0.0.3 dev v0 lladdr 02:00:00:00:00:03 REACHABLE \n"));
        assertThat(ours, containsString("[NEIGH]Deleted 10.0.0.3 dev v0 FAILED \n"));
        assertThat(ours, containsString("[ROUTE]Deleted 10.9.0.0/16 via 10.0.0.2 dev v0 \n"));
        assertTrue("no error but Ctrl-C's: " + ended.get(), ended.get() == null || ended.get() instanceof InterruptedException);

        org.junit.Assume.assumeTrue("Linux's side needs root and iproute2's ip (.ci/run installs iproute2)",
                Processes.isRoot() && Processes.onPath("ip"));
        String ln = "modnet-mon-" + ProcessHandle.current().pid();
        linuxIp("netns", "add", ln);
        try {
            Processes.Result r = Processes.run("ip", "netns", "exec", ln, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1");
            org.junit.Assume.assumeTrue("IPv6 can't be turned off in a Linux namespace here: " + r, r.status() == 0);
            linuxIp("-n", ln, "link", "add", "v0", "type", "veth", "peer", "name", "v1");
            linuxIp("-n", ln, "link", "set", "v1", "up");
            linuxIp("-n", ln, "link", "set", "v0", "up");
            Process p = Processes.builder("timeout", "3", "ip", "-n", ln, "monitor", "link", "address", "route", "neigh", "label")
                    .redirectErrorStream(true).start();
            Thread.sleep(500);
            monitoredChanges(ln, w -> {
                try {
                    linuxIp(w.split(" "));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            String linux = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            p.waitFor();
            assertEquals("Linux:\n" + linux + "modnet:\n" + ours, comparable(linux), comparable(ours));
        } finally {
            Processes.run("ip", "netns", "del", ln);
        }
    }

    /** {@code watch} (issue 20): the seed's pipe under watch's header, round after round, until Ctrl-C (the job's interrupt). */
    @Test
    public void watchRunsAPipeEachIntervalUntilCtrlC() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        org.apache.felix.service.command.CommandSession session = processor.createSession(java.io.InputStream.nullInputStream(), out, out);
        java.util.concurrent.atomic.AtomicReference<Object> ended = new java.util.concurrent.atomic.AtomicReference<>();
        Thread watcher = new Thread(() -> {
            try {
                ended.set(session.execute("watch -n 0.1 \"cat /proc/net/dev | grep lo\""));
            } catch (Exception e) {
                ended.set(e);
            }
        });
        watcher.start();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (bytes.toString(java.nio.charset.StandardCharsets.UTF_8).split("Every 0.1s: ", -1).length < 4 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        session.foregroundJob().interrupt();
        watcher.join(10_000);
        assertFalse("Ctrl-C ended it", watcher.isAlive());
        session.close();
        String screen = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        String[] rounds = screen.split("\u001b\\[H\u001b\\[2J");
        assertTrue(screen, rounds.length >= 4);
        assertThat(rounds[1], org.hamcrest.CoreMatchers.startsWith("Every 0.1s: cat /proc/net/dev | grep lo"));
        assertThat(rounds[1], containsString("\n\n    lo:"));
        // Gogo ends an interrupted job with InterruptedException, as every Ctrl-C'd command (the console's status 130)
        assertTrue("no error but Ctrl-C's: " + ended.get(), ended.get() == null || ended.get() instanceof InterruptedException);
    }

    /**
     * {@code ip netns exec NS watch CMD}: each round's line runs in NS (its veth shows) as Linux's
     * watch inherits the namespace, in a session of its own: the caller's session never names NS (a
     * closure the line calls reads it each round) and what the line sets stays there, as in watch's sh -c.
     */
    @Test
    public void watchUnderIpNetnsExecRunsEachRoundInTheNamespaceWithoutTouchingTheSession() throws Exception {
        sh("ip netns add tidy4w");
        sh("ip -n tidy4w link add tidy4d type veth peer name tidy4p");
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        org.apache.felix.service.command.CommandSession session = processor.createSession(java.io.InputStream.nullInputStream(), out, out);
        java.util.List<Object> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        session.put("probe", (org.apache.felix.service.command.Function) (s, a) -> {
            seen.add(String.valueOf(session.get(org.modnet.api.shell.Commands.NETNS)));
            return null;
        });
        session.put("mark", "before");
        java.util.concurrent.atomic.AtomicReference<Object> ended = new java.util.concurrent.atomic.AtomicReference<>();
        Thread watcher = new Thread(() -> {
            try {
                ended.set(session.execute("ip netns exec tidy4w watch -n 0.1 \"probe ; mark = round ; ip link show\""));
            } catch (Exception e) {
                ended.set(e);
            }
        });
        watcher.start();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (seen.size() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        session.foregroundJob().interrupt();
        watcher.join(10_000);
        assertFalse("Ctrl-C ended it", watcher.isAlive());
        String screen = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        String[] rounds = screen.split("\u001b\\[H\u001b\\[2J");
        assertTrue(screen, rounds.length >= 3);
        assertThat(rounds[1], org.hamcrest.CoreMatchers.startsWith("Every 0.1s: probe ; mark = round ; ip link show"));
        assertThat("the round ran in tidy4w", rounds[1], containsString(": tidy4d@tidy4p: "));
        assertTrue("no error but Ctrl-C's: " + ended.get(), ended.get() == null || ended.get() instanceof InterruptedException);
        assertTrue("the rounds ran: " + seen, seen.size() >= 3);
        for (Object ns : seen) {
            assertEquals("the caller's session during a round", "null", ns);
        }
        assertEquals("the line's assignment stayed in watch's session", "before", session.get("mark"));
        assertEquals(null, session.get(org.modnet.api.shell.Commands.NETNS));
        bytes.reset();
        session.execute("ip link show");
        assertThat("the caller is still in init_net", bytes.toString(java.nio.charset.StandardCharsets.UTF_8), not(containsString("tidy4d")));
        session.close();
    }

    /** h1 - r1 - r2 - r3 - h2 over veth pairs, the routers forwarding, made by {@code ip}; {@code sysctl} runs in a namespace. */
    private static void chain(String p, java.util.function.Consumer<String> ip, java.util.function.BiConsumer<String, String> sysctl) {
        String[] n = { p + "h1", p + "r1", p + "r2", p + "r3", p + "h2" };
        for (int i = 0; i < 4; i++) {
            ip.accept("-n " + n[i] + " link add e" + (2 * i) + " type veth peer name e" + (2 * i + 1));
            ip.accept("-n " + n[i] + " link set e" + (2 * i + 1) + " netns " + n[i + 1]);
            ip.accept("-n " + n[i] + " addr add 10.2." + (i + 1) + "." + (i == 0 ? 2 : 1) + "/24 dev e" + (2 * i));
            ip.accept("-n " + n[i + 1] + " addr add 10.2." + (i + 1) + "." + (i == 0 ? 1 : 2) + "/24 dev e" + (2 * i + 1));
            ip.accept("-n " + n[i] + " link set e" + (2 * i) + " up");
            ip.accept("-n " + n[i + 1] + " link set e" + (2 * i + 1) + " up");
        }
        ip.accept("-n " + n[0] + " route add default via 10.2.1.1");
        ip.accept("-n " + n[4] + " route add default via 10.2.4.1");
        ip.accept("-n " + n[1] + " route add default via 10.2.2.2");
        ip.accept("-n " + n[3] + " route add default via 10.2.3.1");
        ip.accept("-n " + n[2] + " route add 10.2.1.0/24 via 10.2.2.1");
        ip.accept("-n " + n[2] + " route add 10.2.4.0/24 via 10.2.3.2");
        for (int i = 1; i <= 3; i++) {
            sysctl.accept(n[i], "net.ipv4.ip_forward=1");
            sysctl.accept(n[i], "net.ipv4.icmp_ratelimit=0"); // every probe answered: no token bucket in the comparison
        }
    }

    /** traceroute's lines with each time replaced by T: what must be equal between two runs. */
    private static String untimed(String traceroute) {
        return traceroute.replaceAll("\\d+\\.\\d+ ms", "T ms");
    }

    /**
     * traceroute through three modnet routers (issue 20): each hop as Linux's traceroute prints it, UDP
     * and ICMP, an unreachable network's {@code !N}, a bad host in traceroute's words; beside Linux's
     * own traceroute through the same chain of Linux namespaces, line for line with the times left out.
     */
    @Test
    public void tracerouteThroughThreeRoutersPrintsEachHopAsLinuxDoes() throws Exception {
        for (String n : new String[] { "mh1", "mr1", "mr2", "mr3", "mh2" }) {
            sh("ip netns add " + n);
        }
        chain("m", w -> shUnchecked("ip " + w), (n, kv) -> shUnchecked("ip netns exec " + n + " sysctl -w " + kv));
        String[] runs = { "traceroute 10.2.4.2", "traceroute -n -I 10.2.4.2", "traceroute -n -q 1 -f 2 10.2.4.2",
                "traceroute -n -w 1 -m 5 10.2.9.9" };
        java.util.Map<String, String> ours = new java.util.LinkedHashMap<>();
        for (String r : runs) {
            ours.put(r, sh("ip netns exec mh1 " + r));
        }
        assertEquals("traceroute to 10.2.4.2 (10.2.4.2), 30 hops max, 60 byte packets\n"
                + " 1  10.2.1.1 (10.2.1.1)  T ms  T ms  T ms\n"
                + " 2  10.2.2.2 (10.2.2.2)  T ms  T ms  T ms\n"
                + " 3  10.2.3.2 (10.2.3.2)  T ms  T ms  T ms\n"
                + " 4  10.2.4.2 (10.2.4.2)  T ms  T ms  T ms\n", untimed(ours.get(runs[0])));
        // r2 has no route: !N, before any TTL is looked at (ip_rcv_finish routes before ip_forward)
        assertEquals("traceroute to 10.2.9.9 (10.2.9.9), 5 hops max, 60 byte packets\n 1  10.2.1.1  T ms  T ms  T ms\n"
                + " 2  10.2.2.2  T ms !N  T ms !N  T ms !N\n", untimed(ours.get(runs[3])));
        try {
            sh("ip netns exec mh1 traceroute foo");
            fail("an unknown host");
        } catch (Exception e) {
            assertThat(e.getMessage(), containsString("Cannot handle \"host\" cmdline arg `foo' on position 1 (argc 1)"));
        }

        org.junit.Assume.assumeTrue("Linux's side needs root, iproute2 and traceroute (.ci/run installs them)",
                Processes.isRoot() && Processes.onPath("ip") && Processes.onPath("traceroute"));
        String p = "mt" + ProcessHandle.current().pid() % 100000;
        String[] linux = { p + "h1", p + "r1", p + "r2", p + "r3", p + "h2" };
        try {
            for (String n : linux) {
                linuxIp("netns", "add", n);
            }
            chain(p, w -> {
                try {
                    linuxIp(w.split(" "));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, (n, kv) -> {
                try {
                    Processes.Result r = Processes.run("ip", "netns", "exec", n, "sysctl", "-qw", kv);
                    assertEquals(r.toString(), 0, r.status());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            // -n: Linux would ask a name service otherwise; not the unreachable run: Linux rate-limits ip_error's
            // ICMP per peer (net.ipv4.route.error_cost and error_burst), which modnet does not
            for (String r : java.util.List.of(runs).subList(1, runs.length - 1)) {
                java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("ip", "netns", "exec", linux[0]));
                cmd.addAll(java.util.List.of(r.split(" ")));
                cmd.add(1 + cmd.indexOf("traceroute"), "-N1"); // one probe at a time, as modnet sends them
                Processes.Result l = Processes.run(cmd.toArray(String[]::new));
                assertEquals(r + ": " + l, untimed(l.out()), untimed(ours.get(r)));
            }
        } finally {
            for (String n : linux) {
                Processes.run("ip", "netns", "del", n);
            }
        }
    }

    /**
     * tracepath's lines with each time replaced by T and the padding before it by one space (a time of
     * 10 ms or more takes one more column): what must be equal between two runs.
     */
    private static String untimedPath(String tracepath) {
        return tracepath.replaceAll(" +(\\d+\\.\\d{3}|T)ms", " Tms");
    }

    /** a - r - b over veth pairs, r forwarding, 1400 bytes on r's link to b (and b's), made by {@code ip}. */
    private static void pmtuChain(String p, java.util.function.Consumer<String> ip, java.util.function.BiConsumer<String, String> sysctl) {
        ip.accept("-n " + p + "a link add va type veth peer name vr1");
        ip.accept("-n " + p + "a link set vr1 netns " + p + "r");
        ip.accept("-n " + p + "r link add vr2 type veth peer name vb");
        ip.accept("-n " + p + "r link set vb netns " + p + "b");
        ip.accept("-n " + p + "a addr add 10.1.0.1/24 dev va");
        ip.accept("-n " + p + "r addr add 10.1.0.2/24 dev vr1");
        ip.accept("-n " + p + "r addr add 10.2.0.1/24 dev vr2");
        ip.accept("-n " + p + "b addr add 10.2.0.2/24 dev vb");
        ip.accept("-n " + p + "a link set va up");
        ip.accept("-n " + p + "r link set vr1 up");
        ip.accept("-n " + p + "r link set vr2 mtu 1400");
        ip.accept("-n " + p + "r link set vr2 up");
        ip.accept("-n " + p + "b link set vb mtu 1400");
        ip.accept("-n " + p + "b link set vb up");
        ip.accept("-n " + p + "a route add default via 10.1.0.2");
        ip.accept("-n " + p + "b route add default via 10.2.0.1");
        sysctl.accept(p + "r", "net.ipv4.ip_forward=1");
        sysctl.accept(p + "r", "net.ipv4.icmp_ratelimit=0");
    }

    /**
     * tracepath (issue 20) and path MTU discovery: a - r - b with 1400 bytes on the far link. The first
     * run learns the path MTU from r's "frag needed" (printed as pmtu 1400 on hop 2, then hop 2 again),
     * {@code ip route get} shows the learned MTU, the second run starts from it, {@code ip route flush
     * cache} forgets it; beside iputils' tracepath through the same chain of Linux namespaces, line for
     * line with the times left out.
     */
    @Test
    public void tracepathLearnsThePathMtuAsLinuxDoes() throws Exception {
        for (String n : new String[] { "pa", "pr", "pb" }) {
            sh("ip netns add " + n);
        }
        pmtuChain("p", w -> shUnchecked("ip " + w), (n, kv) -> shUnchecked("ip netns exec " + n + " sysctl -w " + kv));
        String first = sh("ip netns exec pa tracepath -n 10.2.0.2");
        String get = sh("ip -n pa route get 10.2.0.2");
        assertTrue(get, get.matches("(?s).*\\n    cache expires (599|600)sec mtu 1400\\n.*")); // iproute2 said 599 just after
        String second = sh("ip netns exec pa tracepath -n 10.2.0.2");
        String expected1 = " 1?: [LOCALHOST]                      pmtu 1500\n"
                + " 1:  10.1.0.2                                              Tms \n"
                + " 1:  10.1.0.2                                              Tms \n"
                + " 2:  10.1.0.2                                              Tms pmtu 1400\n"
                + " 2:  10.2.0.2                                              Tms reached\n"
                + "     Resume: pmtu 1400 hops 2 back 2 \n";
        assertEquals(untimedPath(expected1), untimedPath(first));
        assertEquals(untimedPath(" 1?: [LOCALHOST]                      pmtu 1400\n"
                + " 1:  10.1.0.2                                              Tms \n"
                + " 1:  10.1.0.2                                              Tms \n"
                + " 2:  10.2.0.2                                              Tms reached\n"
                + "     Resume: pmtu 1400 hops 2 back 2 \n"), untimedPath(second));
        String tooMany = sh("ip netns exec pa tracepath -n -m 1 10.2.0.2");
        assertThat(tooMany, containsString("     Too many hops: pmtu 1400\n     Resume: pmtu 1400 \n"));
        sh("ip -n pa route flush cache");
        assertThat(sh("ip -n pa route get 10.2.0.2"), containsString("uid 0\n    cache\n"));

        org.junit.Assume.assumeTrue("Linux's side needs root, iproute2 and tracepath (.ci/run installs iputils-tracepath)",
                Processes.isRoot() && Processes.onPath("ip") && Processes.onPath("tracepath"));
        String p = "pt" + ProcessHandle.current().pid() % 100000;
        String[] linux = { p + "a", p + "r", p + "b" };
        try {
            for (String n : linux) {
                linuxIp("netns", "add", n);
            }
            pmtuChain(p, w -> {
                try {
                    linuxIp(w.split(" "));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, (n, kv) -> {
                try {
                    Processes.Result r = Processes.run("ip", "netns", "exec", n, "sysctl", "-qw", kv);
                    assertEquals(r.toString(), 0, r.status());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            Processes.Result l1 = Processes.run("ip", "netns", "exec", linux[0], "tracepath", "-n", "10.2.0.2");
            Processes.Result l2 = Processes.run("ip", "netns", "exec", linux[0], "tracepath", "-n", "10.2.0.2");
            assertEquals(l1.toString(), untimedPath(l1.out()), untimedPath(first));
            assertEquals(l2.toString(), untimedPath(l2.out()), untimedPath(second));
        } finally {
            for (String n : linux) {
                Processes.run("ip", "netns", "del", n);
            }
        }
    }

    /** A command's output with its exit status, as a shell would see both ({@code status N} last). */
    private String withStatus(String netns, String line) throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        org.apache.felix.service.command.CommandSession session = processor.createSession(java.io.InputStream.nullInputStream(), out, out);
        session.put(org.modnet.api.shell.Commands.NETNS, netns);
        int status = 0;
        try {
            session.execute(line);
        } catch (org.modnet.api.shell.CommandException e) {
            if (!e.getMessage().isEmpty()) {
                out.println(e.getMessage());
            }
            status = e.status();
        } finally {
            session.close();
        }
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8) + "status " + status + "\n";
    }

    /** arping's lines with link addresses and times left out: what two runs on two stacks share. */
    private static String unaddressed(String arping) {
        return arping.replaceAll("\\[[0-9A-F:]{17}\\]", "[MAC]").replaceAll("\\d+\\.\\d{3}ms", "Tms");
    }

    /**
     * arping (issue 20) over a veth: replies, a silent address, duplicate address detection on a used and
     * a free address, a gratuitous ARP, the deadline's three requests, unicast after the first reply and
     * {@code -b}'s broadcasts, quiet mode, bad devices and counts; beside iputils' arping doing the same
     * in two Linux namespaces, line for line and status for status, link addresses and times left out.
     */
    @Test
    public void arpingAsksAndCountsAsIputilsArpingDoes() throws Exception {
        sh("ip netns add aa ; ip netns add ab");
        sh("ip -n aa link add v0 type veth peer name v1 ; ip -n aa link set v1 netns ab");
        sh("ip -n aa addr add 10.7.0.1/24 dev v0 ; ip -n ab addr add 10.7.0.2/24 dev v1");
        sh("ip -n aa link set v0 up ; ip -n ab link set v1 up");
        String[] runs = { "arping -c 2 -I v0 10.7.0.2", "arping -c 1 10.7.0.2", "arping -c 1 -I v0 10.7.0.9",
                "arping -c 2 -D -I v0 10.7.0.2", "arping -c 1 -D -I v0 10.7.0.77", "arping -c 1 -U -I v0 10.7.0.1",
                "arping -w 2 -I v0 10.7.0.2", "arping -c 1 -q -I v0 10.7.0.9", "arping -c 2 -b -I v0 10.7.0.2",
                "arping -c 1 -I lo 127.0.0.1", "arping -c 1 -I v9 10.7.0.2", "arping -c 0 -I v0 10.7.0.2",
                "arping -c 1 -s 10.7.0.55 -I v0 10.7.0.2" };
        // -w 2's third request is answered after it ends, on both stacks; the silent address asked next
        // makes that late reply nobody's, where a run asking 10.7.0.2 on a loaded machine could count it
        // (arping's packet socket takes any reply from its target, on Linux as here)
        java.util.Map<String, String> ours = new java.util.LinkedHashMap<>();
        for (String r : runs) {
            ours.put(r, unaddressed(withStatus("aa", r)));
        }
        assertEquals("ARPING 10.7.0.2 from 10.7.0.1 v0\nUnicast reply from 10.7.0.2 [MAC]  Tms\nUnicast reply from 10.7.0.2 [MAC]  Tms\n"
                + "Sent 2 probes (1 broadcast(s))\nReceived 2 response(s)\nstatus 0\n", ours.get(runs[0]));
        assertEquals("ARPING 10.7.0.9 from 10.7.0.1 v0\nSent 1 probes (1 broadcast(s))\nReceived 0 response(s)\nstatus 1\n", ours.get(runs[2]));
        assertEquals("ARPING 10.7.0.2 from 0.0.0.0 v0\nUnicast reply from 10.7.0.2 [MAC]  Tms\nSent 1 probes (1 broadcast(s))\n"
                + "Received 1 response(s)\nstatus 1\n", ours.get(runs[3]));
        assertThat(ours.get(runs[6]), containsString("Sent 3 probes (1 broadcast(s))\nReceived 2 response(s)\nstatus 0\n"));
        assertEquals("status 1\n", ours.get(runs[7]));
        assertEquals("arping: Device v9 not available.\nstatus 2\n", ours.get(runs[10]));
        // the asked host learned the asker, as Linux's does from a request for one of its addresses
        assertThat(sh("ip -n ab neigh show 10.7.0.1"), containsString("10.7.0.1 dev v1 lladdr "));

        org.junit.Assume.assumeTrue("Linux's side needs root, iproute2 and arping (.ci/run installs iputils-arping)",
                Processes.isRoot() && Processes.onPath("ip") && Processes.onPath("arping"));
        String p = "ma" + ProcessHandle.current().pid() % 100000;
        try {
            linuxIp("netns", "add", p + "a");
            linuxIp("netns", "add", p + "b");
            linuxIp("link", "add", "v0", "netns", p + "a", "type", "veth", "peer", "name", "v1", "netns", p + "b");
            linuxIp("-n", p + "a", "addr", "add", "10.7.0.1/24", "dev", "v0");
            linuxIp("-n", p + "b", "addr", "add", "10.7.0.2/24", "dev", "v1");
            for (String[] d : new String[][] { { p + "a", "v0" }, { p + "b", "v1" }, { p + "a", "lo" } }) {
                linuxIp("-n", d[0], "link", "set", d[1], "up");
            }
            for (String r : runs) {
                java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("ip", "netns", "exec", p + "a"));
                cmd.addAll(java.util.List.of(r.split(" ")));
                Processes.Result l = Processes.run(cmd.toArray(String[]::new));
                assertEquals(r + ": " + l, unaddressed(l.out() + l.err() + "status " + l.status() + "\n"), ours.get(r));
            }
        } finally {
            Processes.run("ip", "netns", "del", p + "a");
            Processes.run("ip", "netns", "del", p + "b");
        }
    }

    /** ping's lines with the times left out: what two runs on two stacks share. */
    private static String untimedPing(String ping) {
        return ping.replaceAll("time=\\d+(\\.\\d+)? ms", "time=T ms").replaceAll("= [0-9./]+ ms", "= R ms")
                .replaceAll("time \\d+ms", "time Nms");
    }

    /**
     * ping (issue 20) beside iputils' ping in two Linux namespaces: replies, quiet, sizes and TTL, a
     * silent neighbour, a deadline, {@code -I}, {@code -O} on a last request, no route: the same lines
     * and exit statuses, times left out.
     */
    @Test
    public void pingPrintsWhatIputilsPingPrints() throws Exception {
        sh("ip netns add pa ; ip netns add pb");
        sh("ip -n pa link add v0 type veth peer name v1 ; ip -n pa link set v1 netns pb");
        sh("ip -n pa addr add 10.7.0.1/24 dev v0 ; ip -n pb addr add 10.7.0.2/24 dev v1");
        sh("ip -n pa link set v0 up ; ip -n pb link set v1 up");
        String[] runs = { "ping -c 2 -i 0.2 10.7.0.2", "ping -c 2 -i 0.2 -q 10.7.0.2", "ping -c 2 -i 0.2 -s 100 -t 5 10.7.0.2",
                "ping -c 2 -i 0.2 -W 1 10.7.0.9", "ping -c 1 -n 10.7.0.2", "ping -c 2 -w 3 -i 0.2 10.7.0.2", "ping -c 2 -i 0.2 -I v0 10.7.0.2",
                "ping -c 1 -O -W 1 10.7.0.9", "ping -c 1 10.99.0.1" };
        java.util.Map<String, String> ours = new java.util.LinkedHashMap<>();
        for (String r : runs) {
            ours.put(r, untimedPing(withStatus("pa", r)));
        }
        assertEquals("PING 10.7.0.2 (10.7.0.2) 56(84) bytes of data.\n64 bytes from 10.7.0.2: icmp_seq=1 ttl=64 time=T ms\n"
                + "64 bytes from 10.7.0.2: icmp_seq=2 ttl=64 time=T ms\n\n--- 10.7.0.2 ping statistics ---\n"
                + "2 packets transmitted, 2 received, 0% packet loss, time Nms\nrtt min/avg/max/mdev = R ms\nstatus 0\n", ours.get(runs[0]));
        assertThat(ours.get(runs[7]), not(containsString("no answer yet"))); // no next request to say it before
        assertEquals("ping: connect: Network is unreachable\nstatus 2\n", ours.get(runs[8]));

        org.junit.Assume.assumeTrue("Linux's side needs root, iproute2 and ping (.ci/run installs iputils-ping)",
                Processes.isRoot() && Processes.onPath("ip") && Processes.onPath("ping"));
        String p = "mp" + ProcessHandle.current().pid() % 100000;
        try {
            linuxIp("netns", "add", p + "a");
            linuxIp("netns", "add", p + "b");
            linuxIp("link", "add", "v0", "netns", p + "a", "type", "veth", "peer", "name", "v1", "netns", p + "b");
            linuxIp("-n", p + "a", "addr", "add", "10.7.0.1/24", "dev", "v0");
            linuxIp("-n", p + "b", "addr", "add", "10.7.0.2/24", "dev", "v1");
            linuxIp("-n", p + "a", "link", "set", "v0", "up");
            linuxIp("-n", p + "b", "link", "set", "v1", "up");
            for (String r : runs) {
                java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("ip", "netns", "exec", p + "a"));
                cmd.addAll(java.util.List.of(r.split(" ")));
                Processes.Result l = Processes.run(cmd.toArray(String[]::new));
                assertEquals(r + ": " + l, untimedPing(l.out() + l.err() + "status " + l.status() + "\n"), ours.get(r));
            }
        } finally {
            Processes.run("ip", "netns", "del", p + "a");
            Processes.run("ip", "netns", "del", p + "b");
        }
    }

    /** ethtool's runs compared with Linux's, in a namespace with a veth pair v0/v1 (both up) and lo. */
    private static final String[] ETHTOOL_RUNS = { "ethtool -i v0", "ethtool -k v0", "ethtool -l v0", "ethtool -i lo", "ethtool -S lo",
            "ethtool -g lo", "ethtool -l lo", "ethtool -k lo", "ethtool -L lo combined 1", "ethtool -i nosuch",
            // -L and -G over netlink: no change, the extended ACK's refusals with their offsets, nl_parser's words
            "ethtool -L v0 rx 1", "ethtool -L v0 rx 1 tx 1", "ethtool -L v0", "ethtool -L v0 combined 1", "ethtool -L v0 tx 999",
            "ethtool -L v0 rx 0", "ethtool -L v0 rx 1 tx 0", "ethtool -L v0 other 1", "ethtool -L nosuch rx 1", "ethtool -L v0 foo 1",
            "ethtool -L v0 rx", "ethtool -L v0 rx x", "ethtool -g nosuch", "ethtool -l nosuch", "ethtool -G nosuch rx 100",
            "ethtool -G lo rx 100", "ethtool -G v0 foo 1",
            "ethtool -c v0", "ethtool -C v0 rx-usecs 10", "ethtool -a v0", "ethtool -A v0 rx on", "ethtool -K v0 gro on",
            "ethtool -K v0 foo on", "ethtool -K v0 gro", "ethtool -K nosuch gro on", "ethtool -k nosuch", "ethtool -c nosuch",
            "ethtool -S nosuch", "ethtool -a nosuch", "ethtool -C v0 foo 1", "ethtool -A v0 foo on", "ethtool nosuch",
            "ethtool -C v0 rx-usecs x", "ethtool -C v0 rx-usecs", "ethtool -C v0 adaptive-rx x", "ethtool -C nosuch rx-usecs 10",
            "ethtool -A v0 rx x", "ethtool -A v0 rx", "ethtool -A nosuch rx on", "ethtool -C v0", "ethtool -A v0",
            "ethtool -K v0 gro x", "ethtool -K v0 gro on gso", "ethtool -K v0", "ethtool -K v0 loopback on", "ethtool -K v0 lro on",
            "ethtool -K v0 large-receive-offload on", "ethtool -K v0 ntuple on", "ethtool -K v0 ufo on", "ethtool -K v0 loopback on gro off",
            "ethtool -K v0 gro on foo on", "ethtool -K v0 gro off foo on", "ethtool -K v0 tso on foo on", "ethtool -K v0 sg on foo on",
            "ethtool -K v0 tx on foo on", "ethtool -K v0 tx-tcp-segmentation off foo on", "ethtool -K v0 rx-gro on" };

    /**
     * ethtool's output where both stacks can agree: {@code -k}'s values only for the features modnet's
     * devices model (the rest: each line's name and indentation, in Linux's order), and the channel
     * maximums, which are the CPUs on Linux (a veth's queues here), as N.
     */
    private static String ethtoolComparable(String run, String out) {
        java.util.Set<String> modelled = java.util.Set.of("rx-checksumming", "tx-checksum-ip-generic", "tx-scatter-gather", "tx-tcp-segmentation",
                "generic-segmentation-offload", "generic-receive-offload", "rx-vlan-offload", "tx-vlan-offload", "loopback",
                "tx-udp-segmentation");
        StringBuilder b = new StringBuilder();
        boolean maximums = false;
        for (String line : out.split("\n")) {
            maximums = line.equals("Pre-set maximums:") || maximums && !line.startsWith("Current");
            if (maximums) {
                line = line.replaceAll("\\d+", "N");
            }
            if (run.contains("-k") && line.contains(": ") && !line.startsWith("Features")) {
                String name = line.substring(0, line.indexOf(": "));
                if (!modelled.contains(name.strip())) {
                    line = name; // modnet has not the feature: its name in Linux's place is what is compared
                } else if (run.endsWith("lo")) {
                    line = line.replace(" [fixed]", ""); // which of lo's are fixed differs: README
                }
            }
            b.append(line).append('\n');
        }
        return b.toString();
    }

    /**
     * ethtool (issue 20) beside Linux's ethtool for a veth pair and lo in a Linux namespace: veth's driver
     * information, every feature name in Linux 6.18's order with the modelled ones' values, veth's
     * channels, and lo's refusals in ethtool's words and exit statuses.
     */
    @Test
    public void ethtoolAnswersAsLinuxsDriversDo() throws Exception {
        sh("ip netns add ea");
        sh("ip -n ea link add v0 type veth peer name v1 ; ip -n ea link set v0 up ; ip -n ea link set v1 up ; ip -n ea link set lo up");
        java.util.List<String> ours = new java.util.ArrayList<>();
        for (String r : ETHTOOL_RUNS) {
            ours.add(ethtoolComparable(r, withStatus("ea", r)));
        }
        assertThat(ours.get(1), containsString("\ttx-checksum-ip-generic: on\n\ttx-checksum-ipv6\n"));
        org.junit.Assume.assumeTrue("Linux's side needs root, iproute2's ip and ethtool",
                Processes.isRoot() && Processes.onPath("ip") && Processes.onPath("ethtool"));
        String p = "me" + ProcessHandle.current().pid() % 100000;
        try {
            linuxIp("netns", "add", p);
            linuxIp("-n", p, "link", "add", "v0", "type", "veth", "peer", "name", "v1");
            for (String d : new String[] { "v0", "v1", "lo" }) {
                linuxIp("-n", p, "link", "set", d, "up");
            }
            java.util.List<String> differences = new java.util.ArrayList<>();
            for (int i = 0; i < ETHTOOL_RUNS.length; i++) {
                java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("ip", "netns", "exec", p));
                cmd.addAll(java.util.List.of(ETHTOOL_RUNS[i].split(" ")));
                Processes.Result l = Processes.run(cmd.toArray(String[]::new));
                String linux = ethtoolComparable(ETHTOOL_RUNS[i], l.out() + l.err() + "status " + l.status() + "\n");
                if (!linux.equals(ours.get(i))) {
                    differences.add(ETHTOOL_RUNS[i] + "\nLinux:\n" + linux + "modnet:\n" + ours.get(i));
                }
            }
            assertEquals(String.join("\n", differences), 0, differences.size());
        } finally {
            Processes.run("ip", "netns", "del", p);
        }
    }

    /** ethtool -S's lines with each value as N: the names and their order. */
    private static java.util.List<String> statNames(String out) {
        return java.util.Arrays.stream(out.split("\n")).map(l -> l.replaceAll(": \\d+$", ": N")).toList();
    }

    /**
     * {@code ethtool -S} of a veth (issue 20): Linux 6.x veth's names in its order ({@code peer_ifindex},
     * receive queue 0's XDP counters, transmit queue 0's), modnet's own after them; beside a Linux veth
     * pair's, name for name, the values left out.
     */
    @Test
    public void ethtoolStatisticsOfAVethAreLinuxsNamesInLinuxsOrder() throws Exception {
        sh("ip netns add est");
        sh("ip -n est link add v0 type veth peer name v1 ; ip -n est link set v0 up ; ip -n est link set v1 up");
        java.util.List<String> ours = statNames(sh("ip netns exec est ethtool -S v0"));
        java.util.List<String> linuxs = java.util.List.of("NIC statistics:", "     peer_ifindex: N", "     rx_queue_0_xdp_packets: N",
                "     rx_queue_0_xdp_bytes: N", "     rx_queue_0_drops: N", "     rx_queue_0_xdp_redirect: N", "     rx_queue_0_xdp_drops: N",
                "     rx_queue_0_xdp_tx: N", "     rx_queue_0_xdp_tx_errors: N", "     tx_queue_0_xdp_xmit: N", "     tx_queue_0_xdp_xmit_errors: N");
        assertEquals(String.join("\n", ours), linuxs, ours.subList(0, Math.min(ours.size(), linuxs.size())));
        assertTrue(String.join("\n", ours), ours.contains("     rx_queue_0_packets: N")); // modnet's own, after Linux's
        assertThat(sh("ip netns exec est ethtool -S v0"), containsString("     peer_ifindex: " + sh("ip -n est link show v1").split(":")[0].strip() + "\n"));

        org.junit.Assume.assumeTrue("Linux's side needs root, iproute2's ip and ethtool",
                Processes.isRoot() && Processes.onPath("ip") && Processes.onPath("ethtool"));
        String p = "ms" + ProcessHandle.current().pid() % 100000;
        try {
            linuxIp("netns", "add", p);
            linuxIp("-n", p, "link", "add", "v0", "type", "veth", "peer", "name", "v1");
            linuxIp("-n", p, "link", "set", "v0", "up");
            linuxIp("-n", p, "link", "set", "v1", "up");
            Processes.Result l = Processes.run("ip", "netns", "exec", p, "ethtool", "-S", "v0");
            assertEquals(l.toString(), 0, l.status());
            java.util.List<String> linux = statNames(l.out());
            assertEquals(String.join("\n", ours), linux, ours.subList(0, Math.min(ours.size(), linux.size())));
        } finally {
            Processes.run("ip", "netns", "del", p);
        }
    }

    /** ip maddr's lines that both stacks have: without IPv6's (modnet has none) and with ifindexes as N. */
    private static String maddrComparable(String out) {
        StringBuilder b = new StringBuilder();
        String device = null;
        for (String line : out.split("\n")) {
            if (line.startsWith("\tinet6 ") || line.startsWith("\tlink  33:33:") || line.isEmpty()) {
                continue;
            }
            if (!line.startsWith("\t")) {
                device = line.replaceAll("^\\d+:", "N:"); // printed only with a line of its own left
                continue;
            }
            if (device != null) {
                b.append(device).append('\n');
                device = null;
            }
            b.append(line).append('\n');
        }
        return b.toString();
    }

    /** The ip maddr set-up, by {@code ip} in modnet or on Linux, in namespaces {@code a} and {@code b}. */
    private static void maddrSetUp(String a, String b, java.util.function.Consumer<String> ip) {
        for (String w : new String[] { "-n %a link add v0 type veth peer name v1", "-n %a link set v1 netns %b", "-n %a link add x0 type veth peer name x1",
                "-n %a addr add 10.9.0.1/24 dev v0", "-n %a link set v0 up", "-n %b link set v1 up", "-n %a link set lo up",
                "-n %a maddr add 01:00:5e:01:02:03 dev v0", "-n %a maddr add 01:00:5e:7f:00:09 dev x0" }) {
            ip.accept(w.replace("%a", a).replace("%b", b));
        }
    }

    /**
     * ip maddr (issue 20) beside iproute2's for the same devices in two Linux namespaces: the all-hosts
     * group on each device that is up (none on one that is down), its Ethernet mapping, static entries;
     * IPv6's entries, which modnet does not have, left out.
     */
    @Test
    public void ipMaddrListsTheAllHostsGroupAsLinuxDoes() throws Exception {
        sh("ip netns add ma ; ip netns add mb");
        maddrSetUp("ma", "mb", w -> shUnchecked("ip " + w));
        String[] runs = { "-n %a maddr", "-n %b maddr", "-n %a maddr show dev v0", "-n %a maddr show x0" };
        java.util.List<String> ours = new java.util.ArrayList<>();
        for (String r : runs) {
            ours.add(maddrComparable(sh("ip " + r.replace("%a", "ma").replace("%b", "mb"))));
        }
        assertEquals("N:\tlo\n\tinet  224.0.0.1\nN:\tv0\n\tlink  01:00:5e:00:00:01\n\tlink  01:00:5e:01:02:03 static\n\tinet  224.0.0.1\n"
                + "N:\tx0\n\tlink  01:00:5e:7f:00:09 static\n", ours.get(0));
        org.junit.Assume.assumeTrue("Linux's side needs root and iproute2's ip", Processes.isRoot() && Processes.onPath("ip"));
        String p = "mm" + ProcessHandle.current().pid() % 100000;
        try {
            linuxIp("netns", "add", p + "a");
            linuxIp("netns", "add", p + "b");
            maddrSetUp(p + "a", p + "b", line -> {
                try {
                    linuxIp(line.split(" "));
                } catch (Exception e) {
                    throw new AssertionError(line, e);
                }
            });
            for (int i = 0; i < runs.length; i++) {
                String linux = maddrComparable(linuxIp(runs[i].replace("%a", p + "a").replace("%b", p + "b").split(" ")));
                assertEquals("ip " + runs[i], linux, ours.get(i));
            }
        } finally {
            Processes.run("ip", "netns", "del", p + "a");
            Processes.run("ip", "netns", "del", p + "b");
        }
    }

    /** The ss runs compared with Linux's: selections, timers, the summary, listeners, TCP_INFO. */
    private static final String[] SS_RUNS = { "-t -a -n", "-u -a -n", "-t -a -n -o", "-s", "-l -n", "-t -u -l -n", "-tin", "-t -n" };

    /**
     * The sockets of {@link #ssPrintsWhatIproute2sSsPrints} on Linux: a Python process enters namespace
     * {@code b} for a TCP listener and a UDP peer, then {@code a} for a bound and a connected UDP socket, a
     * listener, an established connection and one its client closed first (TIME-WAIT), and runs ss there.
     */
    private static final String SS_SOCKETS_PY = String.join("\n",
            "import socket, subprocess, sys, time, os, ctypes",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "def setns(n):",
            "    fd = os.open('/run/netns/' + n, os.O_RDONLY)",
            "    assert libc.setns(fd, 0x40000000) == 0",
            "    os.close(fd)",
            "setns(sys.argv[2])",
            "l = socket.socket(); l.bind(('0.0.0.0', 5003)); l.listen(4)",
            "ub = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); ub.bind(('10.9.0.2', 5002))",
            "setns(sys.argv[1])",
            "u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u1.bind(('0.0.0.0', 5000))",
            "u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u2.bind(('10.9.0.1', 5001)); u2.connect(('10.9.0.2', 5002))",
            "la = socket.socket(); la.bind(('10.9.0.1', 5004)); la.listen(8)",
            "def client(port):", // modnet's default congestion control, whatever the host's
            "    c = socket.socket(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b'cubic')",
            "    c.bind(('10.9.0.1', port)); c.connect(('10.9.0.2', 5003)); return c",
            "c1 = client(40001); s1, _ = l.accept()",
            "c2 = client(40002); s2, _ = l.accept()",
            "c2.close(); s2.recv(10); s2.close()",
            "time.sleep(0.3)",
            "for args in sys.argv[3:]:",
            "    r = subprocess.run(['ss'] + args.split(), capture_output=True, text=True)",
            "    print('=== ss ' + args); print(r.stdout, end='')", "");

    /**
     * What two stacks print differently by nature, made equal: the timers' and TCP_INFO's values, the
     * summary's counts (Linux's include ss's own netlink socket and the host's TCP allocations), and the
     * netlink sockets {@code ss -l} lists on Linux (modnet has none), which set its column widths there.
     */
    private static String ssComparable(String run, String out) {
        StringBuilder b = new StringBuilder();
        for (String line : out.split("\n", -1)) {
            if (line.startsWith("nl ")) {
                continue;
            }
            if (run.equals("-l -n")) {
                line = line.replaceAll(" +", " "); // the widths are the netlink sockets' on Linux: -t -u -l -n compares them
            }
            if (run.equals("-s") || line.startsWith("\t")) {
                // and what modnet's TCP does not report yet: a pacing rate before any data, app_limited (README)
                line = line.replaceAll("\\d+(\\.\\d+)?", "N").replace(" pacing_rate Nbps", "").replace(" app_limited", "");
            }
            b.append(line.replaceAll("timer:\\(([a-z]+),[^,]+,", "timer:($1,T,")).append('\n');
        }
        return b.toString();
    }

    /**
     * ss (issue 20) beside iproute2's ss for the same sockets in two Linux namespaces: UDP bound and
     * connected, TCP listening, established and in TIME-WAIT; {@code -t -a -n}, {@code -u -a -n}, timers,
     * the summary, {@code -l} and {@code -tin}, line for line and space for space, as ss prints into a pipe.
     */
    @Test
    public void ssPrintsWhatIproute2sSsPrints() throws Exception {
        sh("ip netns add sa ; ip netns add sb");
        sh("ip -n sa link add v0 type veth peer name v1 ; ip -n sa link set v1 netns sb");
        sh("ip -n sa addr add 10.9.0.1/24 dev v0 ; ip -n sb addr add 10.9.0.2/24 dev v1");
        sh("ip -n sa link set v0 up ; ip -n sb link set v1 up ; ip -n sa link set lo up");
        org.modnet.socket.api.Sockets sockets = ModnetRuntime.service(context, org.modnet.socket.api.Sockets.class, null);
        java.util.Map<String, String> ours = new java.util.LinkedHashMap<>();
        try (org.modnet.socket.api.SocketCalls b = sockets.process("python3", "sb");
                org.modnet.socket.api.SocketCalls a = sockets.process("python3", "sa")) {
            int stream = org.modnet.socket.api.SocketCalls.SOCK_STREAM;
            int dgram = org.modnet.socket.api.SocketCalls.SOCK_DGRAM;
            int inet = org.modnet.socket.api.SocketCalls.AF_INET;
            int l = b.socket(inet, stream, 0);
            assertEquals(0, b.bind(l, new org.modnet.socket.api.SockAddr(0, 5003)));
            assertEquals(0, b.listen(l, 4));
            int ub = b.socket(inet, dgram, 0);
            assertEquals(0, b.bind(ub, new org.modnet.socket.api.SockAddr(0x0a090002, 5002)));
            int u1 = a.socket(inet, dgram, 0);
            assertEquals(0, a.bind(u1, new org.modnet.socket.api.SockAddr(0, 5000)));
            int u2 = a.socket(inet, dgram, 0);
            assertEquals(0, a.bind(u2, new org.modnet.socket.api.SockAddr(0x0a090001, 5001)));
            assertEquals(0, a.connect(u2, new org.modnet.socket.api.SockAddr(0x0a090002, 5002)));
            int la = a.socket(inet, stream, 0);
            assertEquals(0, a.bind(la, new org.modnet.socket.api.SockAddr(0x0a090001, 5004)));
            assertEquals(0, a.listen(la, 8));
            int c1 = a.socket(inet, stream, 0);
            assertEquals(0, a.bind(c1, new org.modnet.socket.api.SockAddr(0x0a090001, 40001)));
            assertEquals(0, a.connect(c1, new org.modnet.socket.api.SockAddr(0x0a090002, 5003)));
            assertTrue(b.accept(l, null, 0) >= 0);
            int c2 = a.socket(inet, stream, 0);
            assertEquals(0, a.bind(c2, new org.modnet.socket.api.SockAddr(0x0a090001, 40002)));
            assertEquals(0, a.connect(c2, new org.modnet.socket.api.SockAddr(0x0a090002, 5003)));
            int s2 = b.accept(l, null, 0);
            assertEquals(0, a.close(c2));
            assertEquals(0, b.recv(s2, java.nio.ByteBuffer.allocate(10), 0));
            assertEquals(0, b.close(s2));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!sh("ip netns exec sa ss -t -a -n").contains("TIME-WAIT") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            for (String r : SS_RUNS) {
                ours.put(r, ssComparable(r, sh("ip netns exec sa ss " + r)));
            }
        }
        assertEquals("State     Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n"
                + "LISTEN    0      8           10.9.0.1:5004       0.0.0.0:*          \n"
                + "ESTAB     0      0           10.9.0.1:40001     10.9.0.2:5003       \n"
                + "TIME-WAIT 0      0           10.9.0.1:40002     10.9.0.2:5003       \n\n", ours.get("-t -a -n"));

        org.junit.Assume.assumeTrue("Linux's side needs root, iproute2's ip and ss, and python3",
                Processes.isRoot() && Processes.onPath("ip") && Processes.onPath("ss") && Processes.onPath("python3"));
        String p = "ms" + ProcessHandle.current().pid() % 100000;
        try {
            linuxIp("netns", "add", p + "a");
            linuxIp("netns", "add", p + "b");
            linuxIp("link", "add", "v0", "netns", p + "a", "type", "veth", "peer", "name", "v1", "netns", p + "b");
            linuxIp("-n", p + "a", "addr", "add", "10.9.0.1/24", "dev", "v0");
            linuxIp("-n", p + "b", "addr", "add", "10.9.0.2/24", "dev", "v1");
            for (String[] d : new String[][] { { p + "a", "v0" }, { p + "b", "v1" }, { p + "a", "lo" } }) {
                linuxIp("-n", d[0], "link", "set", d[1], "up");
            }
            java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("python3", "-c", SS_SOCKETS_PY, p + "a", p + "b"));
            cmd.addAll(java.util.List.of(SS_RUNS));
            Processes.Result r = Processes.run(cmd.toArray(String[]::new));
            assertEquals(r.toString(), 0, r.status());
            String[] parts = r.out().split("=== ss ");
            java.util.List<String> differences = new java.util.ArrayList<>();
            for (int i = 1; i < parts.length; i++) {
                String run = parts[i].substring(0, parts[i].indexOf('\n'));
                String linux = ssComparable(run, parts[i].substring(run.length() + 1));
                if (!linux.equals(ours.get(run))) {
                    differences.add("ss " + run + "\nLinux:\n" + linux.replace("\t", "\\t") + "modnet:\n" + ours.get(run).replace("\t", "\\t"));
                }
            }
            assertEquals(String.join("\n", differences), 0, differences.size());
        } finally {
            Processes.run("ip", "netns", "del", p + "a");
            Processes.run("ip", "netns", "del", p + "b");
        }
    }

    @Test
    public void routesAndNeighboursThroughTheIpCommand() throws Exception {
        sh("ip netns add a");
        sh("ip netns add b");
        sh("ip -n a link add eth0 type veth peer name eth1");
        sh("ip -n a link set eth1 netns b");
        sh("ip -n a addr add 10.9.0.1/24 dev eth0");
        sh("ip -n b addr add 10.9.0.2/24 dev eth1");
        sh("ip -n a link set eth0 up");
        sh("ip -n b link set eth1 up");
        sh("ip -n a route add 10.20.0.0/16 via 10.9.0.2");
        sh("ip -n a route add blackhole 10.30.0.0/16");

        assertThat(sh("ip netns exec a tcpdump -D"), containsString("1.any (Pseudo-device that captures on all interfaces) [Up, Running]\n"
                + "2.eth0 [Up, Running, Connected]\n3.lo [Loopback]")); // libpcap's order: up and running first

        String routes = sh("ip -n a route");
        assertThat(routes, containsString("10.9.0.0/24 dev eth0 proto kernel scope link src 10.9.0.1"));
        assertThat(routes, containsString("10.20.0.0/16 via 10.9.0.2 dev eth0"));
        assertThat(routes, containsString("blackhole 10.30.0.0/16"));
        assertThat(sh("ip -n a route get 10.20.1.1"), containsString("10.20.1.1 via 10.9.0.2 dev eth0 src 10.9.0.1 uid 0"));
        // ip route del takes one route (fib_table_delete), and a type selector
        sh("ip -n a route add 10.40.0.0/16 via 10.9.0.2 metric 10");
        sh("ip -n a route add 10.40.0.0/16 via 10.9.0.2 metric 20");
        sh("ip -n a route del 10.40.0.0/16");
        String left = sh("ip -n a route");
        assertThat(left, containsString("10.40.0.0/16 via 10.9.0.2 dev eth0 metric 20"));
        assertThat(left, not(containsString("metric 10")));
        sh("ip -n a route del 10.40.0.0/16");
        assertThat(sh("ip -n a route"), not(containsString("10.40.0.0/16")));
        sh("ip -n a route add blackhole 10.50.0.0/16");
        sh("ip -n a route del blackhole 10.50.0.0/16");
        assertThat(sh("ip -n a route"), not(containsString("10.50.0.0/16")));
        sh("ip -n a route add 10.60.1.0/24 via 10.9.0.2");
        sh("ip -n a route add 10.60.2.0/24 via 10.9.0.2");
        sh("ip -n a route flush 10.60.0.0/16");
        String flushed = sh("ip -n a route");
        assertThat(flushed, not(containsString("10.60.")));
        assertThat(flushed, containsString("10.20.0.0/16 via 10.9.0.2"));

        assertThat(sh("ip netns exec a ping -c 1 10.9.0.2"), containsString("1 received"));
        assertThat(sh("ip -n a neigh"), containsString("10.9.0.2 dev eth0 lladdr "));
        assertThat(sh("ip -n a neigh show dev eth0"), containsString("REACHABLE"));
        assertThat(sh("ip netns exec a arp -n"), containsString("Address                  HWtype  HWaddress           Flags Mask"));
        assertThat(sh("ip netns exec a arp -an"), containsString("? (10.9.0.2) at "));
        assertThat(sh("ip -s -n a neigh show dev eth0"), containsString("10.9.0.2 lladdr "));
        assertThat(sh("ip -s -n a neigh show dev eth0"), containsString(" ref 1 used ")); // its timer holds it
        assertThat(sh("ip netns exec a cat /proc/net/stat/arp_cache"), containsString("periodic_gc_runs forced_gc_runs"));
        assertThat(sh("ip netns exec b sysctl net.ipv4.neigh.eth1.locktime"), containsString("net.ipv4.neigh.eth1.locktime = 100"));
        sh("ip netns exec a sysctl -w net.ipv4.neigh.default.gc_stale_time=90");
        assertThat(sh("ip netns exec a sysctl net.ipv4.neigh.eth0.gc_stale_time"), containsString("= 90"));
        sh("ip -n a neigh add 10.9.0.77 lladdr 02:00:00:00:00:77 dev eth0");
        assertThat(sh("ip -n a neigh"), containsString("10.9.0.77 dev eth0 lladdr 02:00:00:00:00:77 PERMANENT"));
        // iproute2's filters: an address or prefix ([to] PREFIX), nud STATE (several add up, all), with dev
        String one = sh("ip -n a neigh show 10.9.0.77");
        assertThat(one, containsString("10.9.0.77 dev eth0 lladdr 02:00:00:00:00:77 PERMANENT"));
        assertThat(one, not(containsString("10.9.0.2 ")));
        String perm = sh("ip -n a neigh show nud permanent");
        assertThat(perm, containsString("10.9.0.77 "));
        assertThat(perm, not(containsString("10.9.0.2 ")));
        assertThat(sh("ip -n a neigh show to 10.9.0.0/24 dev eth0 nud reachable nud permanent"),
                containsString("10.9.0.77 lladdr 02:00:00:00:00:77 PERMANENT"));
        assertThat(sh("ip -n a neigh show nud all"), containsString("10.9.0.2 dev eth0"));
        assertThat(sh("ip -n a neigh show 10.99.0.1"), not(containsString("10.9.0")));
        sh("ip -n a neigh del 10.9.0.77 dev eth0");
        assertThat(sh("ip -n a neigh"), not(containsString("10.9.0.77")));
    }

    @Test
    public void tcpdumpOnAnyPrintsEachFrameWithItsDeviceAndDirection() throws Exception {
        String[] out = new String[1];
        Thread capture = new Thread(() -> {
            try {
                out[0] = sh("tcpdump -i any -n -c 2 'icmp[icmptype] == icmp-echo'");
            } catch (Exception e) {
                out[0] = "tcpdump failed: " + e;
            }
        });
        capture.start();
        // pings until the capture has its two frames: it listens once its filter is compiled
        for (int i = 0; i < 40 && capture.isAlive(); i++) {
            sh("ping -c 1 127.0.0.1");
            capture.join(250);
        }
        capture.join(5_000);
        // as Linux's tcpdump -i any: the echo request leaving lo, then arriving on it; the reply is filtered out
        assertThat(out[0], containsString(" lo    Out IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id "));
        assertThat(out[0], containsString(" lo    In  IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id "));
        assertThat(out[0], not(containsString("echo reply")));
    }

    @Test
    public void aCaptureReplayedIntoAnotherDeviceReproducesItsReceiveCounters() throws Exception {
        java.nio.file.Path pcap = java.nio.file.Files.createTempFile("modnet-replay", ".pcap");
        sh("ip netns add r ; ip -n r link add eth0 type veth peer name eth1 ; ip -n r link set eth0 up");
        Thread capture = new Thread(() -> {
            try {
                sh("tcpdump -i lo -c 4 -w " + pcap + " icmp");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        capture.start();
        Thread.sleep(300);
        sh("ping -c 1 127.0.0.1");
        capture.join(10_000);
        assertThat(sh("ip netns exec r tcpreplay -i eth0 -t " + pcap), containsString("Actual: 4 packets (392 bytes)"));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (packets(sh("ip -n r -s link show eth0"), "RX") < 4 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(4, packets(sh("ip -n r -s link show eth0"), "RX"));
        expectFailure("tcpreplay -i lo /nonexistent.pcap", "No such file or directory");
        java.nio.file.Files.deleteIfExists(pcap);

        // the same with pcapng, as tcpdump -w FILE.pcapng writes it
        java.nio.file.Path ng = java.nio.file.Files.createTempFile("modnet-replay", ".pcapng");
        Thread ngCapture = new Thread(() -> {
            try {
                sh("tcpdump -i lo -c 4 -w " + ng + " icmp");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        ngCapture.start();
        Thread.sleep(300);
        sh("ping -c 1 127.0.0.1");
        ngCapture.join(10_000);
        assertThat(sh("ip netns exec r tcpreplay -i eth0 -t " + ng), containsString("Actual: 4 packets (392 bytes)"));
        deadline = System.nanoTime() + 5_000_000_000L;
        while (packets(sh("ip -n r -s link show eth0"), "RX") < 8 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(8, packets(sh("ip -n r -s link show eth0"), "RX"));

        // the pcap driver: a device whose receive side is the file, and one whose transmit side is recorded
        sh("ip -n r link add p0 type pcap replay " + ng + " topspeed loop 2 ; ip -n r link set p0 up");
        deadline = System.nanoTime() + 5_000_000_000L;
        while (packets(sh("ip -n r -s link show p0"), "RX") < 8 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(8, packets(sh("ip -n r -s link show p0"), "RX"));
        java.nio.file.Path rec = java.nio.file.Files.createTempFile("modnet-record", ".pcap");
        sh("ip -n r link add rec0 type pcap record " + rec + " ; ip -n r addr add 10.77.0.1/24 dev rec0 ; ip -n r link set rec0 up");
        try {
            sh("ip netns exec r ping -c 1 -W 1 10.77.0.2"); // no one answers: what matters is the ARP request sent
        } catch (Exception expected) {
            // ping's exit status 1
        }
        sh("ip -n r link set rec0 down");
        assertTrue("the ARP request went into the file: " + java.nio.file.Files.size(rec) + " bytes\n" + sh("ip -n r -s link show rec0"),
                java.nio.file.Files.size(rec) >= 24 + 16 + 42); // the pcap header, one record header, an ARP request
        expectFailure("ip -n r link add bad0 type pcap replay /nonexistent.pcap", "No such file or directory");
        sh("ip -n r link del p0 ; ip -n r link del rec0");
        java.nio.file.Files.deleteIfExists(rec);
        java.nio.file.Files.deleteIfExists(ng);
    }

    @Test
    public void wrongCommandsPrintLinuxsWordsAndChangeNothing() throws Exception {
        sh("ip netns add x");
        sh("ip -n x link add v0 type veth peer name v1");
        String before = sh("ip -n x link show v0");
        expectFailure("ip -n x link set v0 mtu 70000", "Error: mtu greater than device maximum.");
        expectFailure("ip -n x link set nosuch up", "Cannot find device \"nosuch\"");
        expectFailure("ip -n x link add v0 type veth peer name v9", "RTNETLINK answers: File exists");
        expectFailure("ip -n x route del 10.99.0.0/16", "RTNETLINK answers: No such process");
        expectFailure("ip netns exec x sysctl -w net.core.dev_weight=0", "sysctl: setting key \"net.core.dev_weight\": Invalid argument");
        expectFailure("sysctl net.core.nosuch", "sysctl: cannot stat /proc/sys/net/core/nosuch: No such file or directory");
        expectFailure("ip netns exec x ethtool -G v0 rx 999999", "netlink error: requested ring size exceeds maximum (offset 32)");
        assertEquals(before, sh("ip -n x link show v0"));
        assertThat(sh("ip netns exec x sysctl net.core.dev_weight"), containsString("net.core.dev_weight = 64"));
    }

    private void expectFailure(String line, String words) {
        try {
            sh(line);
            fail("accepted: " + line);
        } catch (Exception e) {
            assertThat(line, e.getMessage(), containsString(words));
        }
    }
}

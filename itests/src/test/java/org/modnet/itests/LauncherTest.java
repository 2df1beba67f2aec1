package org.modnet.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.modnet.itests.Processes.Result;

/** bin/modnet as a user runs it: one-shot commands, exit statuses, a staying instance and attach. */
class LauncherTest {
    private static final String MODNET = Processes.modnet().toString();
    /** Python for nobody: root's PATH may lead to a python3 only root can read. */
    private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

    @Test
    void dashCRunsTheCommandsAndListsEveryBundleActive() throws Exception {
        Result r = Processes.run(MODNET, "-c", "lb");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("modnet console"), r.toString());
        assertTrue(r.out().contains("modnet shell commands"), "the default feature is installed at boot\n" + r);
        long bundles = r.out().lines().filter(l -> l.matches("\\s*\\d+\\|.*")).count();
        long active = r.out().lines().filter(l -> l.matches("\\s*\\d+\\|Active\\s*\\|.*")).count();
        assertTrue(bundles > 15, r.toString());
        assertEquals(bundles, active, "every bundle is Active\n" + r);
    }

    @Test
    void aBadCommandExitsNonZeroWithGogosError() throws Exception {
        Result r = Processes.run(MODNET, "-c", "lsmod; nosuchcommand");
        assertNotEquals(0, r.status(), r.toString());
        assertTrue(r.err().contains("gogo: CommandNotFoundException: Command not found: nosuchcommand"), r.toString());
        assertTrue(r.out().contains("org.modnet.shell"), "the commands before the bad one ran\n" + r);
    }

    @Test
    void aModnetCommandErrorPrintsItsOwnWordsAndItsStatus() throws Exception {
        Result r = Processes.run(MODNET, "-c", "feature frobnicate x y");
        assertEquals(2, r.status(), r.toString());
        assertEquals("Usage: feature list | feature install NAME | feature uninstall NAME\n", r.err(), r.toString());
    }

    /** Each command with an unset variable ($u: Gogo passes null) and the words its tool answers with. */
    private static final String[][] UNSET_VARIABLE = {
            { "ip link $u", "Command \"\" is unknown, try \"ip link help\"." },
            { "ip addr add $u dev lo", "Error: inet prefix is expected rather than \"\"." },
            { "ip $u", "Object \"\" is unknown, try \"ip help\"." },
            { "nc $y", "usage: nc " }, // one word and no -l: OpenBSD nc prints its usage
            { "ping $x", "ping: : Name or service not known" },
            { "sysctl $x", "sysctl: \"\" is an unknown key" },
            { "ss $x", "Netid" },
            { "tcpdump $x", "tcpdump: no interface given (-i)" },
            { "bpftool $x", "Error: unrecognized object ''" },
            { "ethtool $x", "netlink error: no device matches name (offset 24)" }, // ethtool 6.1 over netlink, as Linux
            { "nstat $x", "#kernel" },
            { "netstat $x", "Active Internet connections (w/o servers)" }, // net-tools lists the sockets, as for no argument
            { "cat $x", "cat: : No such file or directory" },
            { "modinfo $x", "modinfo: ERROR: Module  not found." },
            { "lsmod $x", "lsmod: invalid option ''" },
            { "feature $x", "Usage: feature list" },
            { "rm $x", "rm: cannot remove ''" },
            { "tcpreplay $x", "Usage: tcpreplay -i interface" },
            { "pktgen $x", "pktgen: Cannot find device \"\"" },
    };

    @Test
    void anUnsetVariableIsAnEmptyWordThatEachToolAnswersInItsOwnWords() throws Exception {
        StringBuilder script = new StringBuilder();
        for (String[] row : UNSET_VARIABLE) {
            script.append(row[0]).append('\n');
        }
        Result r = Processes.runWithInput(script.toString(), MODNET);
        String all = r.out() + r.err();
        assertFalse(all.contains("Exception"), "no Java exception reaches the user\n" + r);
        assertFalse(all.contains("gogo:"), r.toString());
        assertFalse(all.contains("internal error"), r.toString());
        for (String[] row : UNSET_VARIABLE) {
            assertTrue(all.contains(row[1]), row[0] + " answers with " + row[1] + "\n" + r);
        }
        assertNotEquals(0, r.status(), r.toString());
    }

    @Test
    void standardInputThatIsNotATerminalIsRunAsAScript() throws Exception {
        Result r = Processes.runWithInput("lsmod | grep console\necho done\n", MODNET);
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("org.modnet.console"), r.toString());
        assertTrue(r.out().endsWith("done\n"), r.toString());
    }

    @Test
    void theInteractiveShellRunsWhatIsTypedOnATerminalAndExitLeavesIt() throws Exception {
        assumeTrue(Processes.onPath("script"), "needs script(1) from util-linux for a pseudo-terminal");
        Result r = Processes.runWithInput("lsmod\nexit\n", "script", "-qec", MODNET, "/dev/null");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("type 'help' for the commands"), r.toString());
        assertTrue(r.out().contains("org.modnet.shell"), r.toString());
    }

    @Test
    void shutdownFromAnAttachedSessionEndsAnInteractiveInstanceWaitingForInput() throws Exception {
        assumeTrue(Processes.onPath("script"), "needs script(1) from util-linux for a pseudo-terminal");
        String name = "it-tty-" + ProcessHandle.current().pid();
        Path log = Files.createTempFile("modnet-tty", ".log");
        // stdin stays open (a pipe we never close): the shell waits in readLine
        Process p = Processes.builder("script", "-qec", MODNET + " -n " + name, "/dev/null").redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        p.getOutputStream(); // kept open
        try {
            Path socket = Instance.socketPath(name);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Processes.run(MODNET, "attach", "-n", name, "-c", "lsmod").status() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            Result down = Processes.run(MODNET, "attach", "-n", name, "-c", "shutdown");
            assertEquals(0, down.status(), down.toString());
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the interactive instance stops:\n" + Files.readString(log));
            assertEquals(0, p.exitValue(), "the interactive instance exits cleanly:\n" + Files.readString(log));
            assertFalse(Files.exists(socket));
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    /** Ctrl-C on the terminal ends the running command (ping prints its statistics, as on SIGINT), and the shell goes on. */
    @Test
    void ctrlCEndsTheRunningCommandAndTheShellTakesTheNextLine() throws Exception {
        assumeTrue(Processes.onPath("script"), "needs script(1) from util-linux for a pseudo-terminal");
        Path log = Files.createTempFile("modnet-tty", ".log");
        // exec: dash (script's shell where SHELL is /bin/sh) keeps waiting for the last command of a list,
        // in the terminal's process group, and Ctrl-C would kill it and give script a status of 130
        Process p = Processes.builder("script", "-qec", "stty cols 120 rows 40; exec " + MODNET + " -n it-intr-" + ProcessHandle.current().pid(),
                "/dev/null").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try (var in = p.getOutputStream()) {
            in.write("ip netns add a ; ip -n a link set lo up\nip netns exec a ping -i 0.2 127.0.0.1\n"
                    .getBytes());
            in.flush();
            assertTrue(waitFor(log, "icmp_seq=3 "), "ping runs:\n" + Files.readString(log));
            in.write(3); // Ctrl-C
            in.flush();
            assertTrue(waitFor(log, "ping statistics"), "Ctrl-C ends ping, which prints its statistics:\n" + Files.readString(log));
            in.write("echo after-ctrl-c\nexit\n".getBytes());
            in.flush();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "exit leaves the shell:\n" + Files.readString(log));
            String out = Files.readString(log);
            assertTrue(out.contains("after-ctrl-c\r\n"), "the shell took the next line:\n" + out);
            assertTrue(out.indexOf("ping statistics") < out.lastIndexOf("> echo after-ctrl-c"), "the prompt came after ping's last words:\n" + out);
            assertFalse(out.contains("failed"), "Ctrl-C is no failure:\n" + out);
            assertEquals(0, p.exitValue(), Files.readString(log));
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    private static boolean waitFor(Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains(text)) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    @Test
    void anUnknownLauncherOptionIsRefused() throws Exception {
        Result r = Processes.run(MODNET, "--frobnicate");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("modnet: unknown option '--frobnicate'"), r.toString());
    }

    @Test
    void aStayingInstanceRunsAttachedCommandsUntilShutdown() throws Exception {
        String name = "it-stay-" + ProcessHandle.current().pid();
        try (Instance instance = Instance.start(name)) {
            Result lb = Processes.run(MODNET, "attach", "-n", name, "-c", "lb");
            assertEquals(0, lb.status(), lb.toString());
            assertTrue(lb.out().contains("modnet console"), lb.toString());

            Result bad = Processes.run(MODNET, "attach", "-n", name, "-c", "nosuchcommand");
            assertEquals(1, bad.status(), bad.toString());
            assertTrue(bad.err().contains("Command not found: nosuchcommand"), bad.toString());

            Result twin = Processes.run(MODNET, "-n", name, "--stay");
            assertEquals(1, twin.status(), twin.toString());
            assertTrue(twin.err().contains("instance '" + name + "' is already running"), twin.toString());

            Result down = Processes.run(MODNET, "attach", "-n", name, "-c", "shutdown");
            assertEquals(0, down.status(), down.toString());
            assertTrue(instance.process.waitFor(20, TimeUnit.SECONDS), "the instance stops after shutdown");
            assertEquals(0, instance.process.exitValue());
            assertFalse(Files.exists(instance.socket), "the control socket is removed");
        }
    }

    /** Felix's bundle commands take ids and symbolic names, as in a stock Gogo shell: by -c and by attach. */
    @Test
    void felixBundleCommandsTakeIdsAndNames() throws Exception {
        // stop, update, headers ... take a symbolic name too; start takes ids and URLs (Felix's start installs a name)
        Result byName = Processes.run(MODNET, "-c", "lb; stop org.modnet.udp; lb");
        assertEquals(0, byName.status(), byName.toString());
        List<String> udp = byName.out().lines().filter(l -> l.contains("|modnet UDP ")).toList();
        assertEquals(2, udp.size(), byName.toString());
        assertTrue(udp.get(0).contains("|Active "), byName.toString());
        assertTrue(udp.get(1).contains("|Resolved "), "stopped by its symbolic name\n" + byName);

        Result unknown = Processes.run(MODNET, "-c", "stop 99999");
        assertNotEquals(0, unknown.status(), "no bundle 99999: the command fails as in a stock shell\n" + unknown);

        String name = "it-bundles-" + ProcessHandle.current().pid();
        try (Instance instance = Instance.start(name)) {
            String id = bundleId(Processes.run(MODNET, "attach", "-n", name, "-c", "lb").out(), "modnet UDP");
            Result stop = Processes.run(MODNET, "attach", "-n", name, "-c", "stop " + id + "; lb");
            assertEquals(0, stop.status(), stop.toString());
            assertTrue(line(stop.out(), "modnet UDP").contains("|Resolved "), stop.toString());
            // felix:update, as modnet's own update (the module command) would win without the scope
            Result again = Processes.run(MODNET, "attach", "-n", name, "-c",
                    "start " + id + "; felix:update " + id + "; refresh " + id + "; resolve " + id + "; headers " + id);
            assertEquals(0, again.status(), again.toString());
            assertTrue(again.out().contains("Bundle-SymbolicName = org.modnet.udp"), again.toString());
            // Felix refreshes on a thread of its own: lb may still show the bundle Stopping or Starting
            String lb = "";
            for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20); System.nanoTime() < end; Thread.sleep(200)) {
                lb = Processes.run(MODNET, "attach", "-n", name, "-c", "lb").out();
                if (line(lb, "modnet UDP").contains("|Active ")) {
                    break;
                }
            }
            assertTrue(line(lb, "modnet UDP").contains("|Active "), "updated from its location and active\n" + lb);
            // the updated UDP serves the socket layer again: a probe to a closed port is refused by ICMP,
            // where a stopped UDP gives "nc: socket: Socket type not supported"
            Result udpWorks = Processes.run(MODNET, "attach", "-n", name, "-c", "ip link set lo up; nc -u -z -v 127.0.0.1 9");
            assertTrue(udpWorks.err().contains("nc: connect to 127.0.0.1 port 9 (udp) failed: Connection refused"),
                    udpWorks.toString());
            Processes.run(MODNET, "attach", "-n", name, "-c", "shutdown");
        }
    }

    private static String line(String out, String bundleName) {
        return out.lines().filter(l -> l.contains("|" + bundleName + " ")).reduce((a, b) -> b).orElseThrow(
                () -> new AssertionError("no " + bundleName + " in\n" + out));
    }

    /** lsmod's row of a module: the line starting with its name. */
    private static String lsmodLine(String out, String module) {
        return out.lines().filter(l -> l.startsWith(module + " ")).reduce((a, b) -> b).orElseThrow(
                () -> new AssertionError("no " + module + " in\n" + out));
    }

    private static String bundleId(String lb, String bundleName) {
        return line(lb, bundleName).split("\\|")[0].trim();
    }

    /**
     * attach gives its command the client's standard input: {@code echo hi | bin/modnet attach -c "ip
     * netns exec a nc -u ..."} sends the line, as the README's tour and ssh HOST CMD do.
     */
    @Test
    void attachStreamsItsStandardInputToTheCommand() throws Exception {
        String name = "it-stdin-" + ProcessHandle.current().pid();
        try (Instance instance = Instance.start(name)) {
            Result setup = Processes.run(MODNET, "attach", "-n", name, "-c",
                    "ip netns add a ; ip netns add b ; ip -n a link add eth0 type veth peer name eth1 ; ip -n a link set eth1 netns b"
                            + " ; ip -n a addr add 10.0.0.1/24 dev eth0 ; ip -n b addr add 10.0.0.2/24 dev eth1"
                            + " ; ip -n a link set eth0 up ; ip -n b link set eth1 up");
            assertEquals(0, setup.status(), setup.toString());
            Path got = Files.createTempFile("modnet-attach-stdin", ".out");
            Process listener = Processes.builder(MODNET, "attach", "-n", name, "-c", "ip netns exec b nc -u -l -W 1 5000")
                    .redirectOutput(got.toFile()).redirectErrorStream(false).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                String ss = "";
                while (!ss.contains("0.0.0.0:5000") && System.nanoTime() < deadline) {
                    ss = Processes.run(MODNET, "attach", "-n", name, "-c", "ip netns exec b ss -u -a -n").out();
                    Thread.sleep(100);
                }
                assertTrue(ss.contains("0.0.0.0:5000"), "nc listens:\n" + ss);
                Result send = Processes.runWithInput("hi\nthere\n", MODNET, "attach", "-n", name, "-c",
                        "ip netns exec a nc -u -q 0 10.0.0.2 5000");
                assertEquals(0, send.status(), send.toString());
                assertTrue(listener.waitFor(30, TimeUnit.SECONDS), "the listener got the datagram and ended");
                assertEquals("hi\nthere\n", Files.readString(got), "what the piped attach sent");

                // the README's tour: in an attach shell, the lines after a command line are its input
                listener = Processes.builder(MODNET, "attach", "-n", name, "-c", "ip netns exec b nc -u -l -W 1 5000")
                        .redirectOutput(got.toFile()).redirectErrorStream(false).start();
                ss = "";
                while (!ss.contains("0.0.0.0:5000") && System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(30)) {
                    ss = Processes.run(MODNET, "attach", "-n", name, "-c", "ip netns exec b ss -u -a -n").out();
                    Thread.sleep(100);
                }
                Result typed = Processes.runWithInput("ip netns exec a nc -u -q 0 10.0.0.2 5000\nhello\n", MODNET, "attach", "-n", name);
                assertEquals(0, typed.status(), typed.toString());
                assertTrue(listener.waitFor(30, TimeUnit.SECONDS), "the listener got the typed line");
                assertEquals("hello\n", Files.readString(got), "a line typed while nc runs is sent");
            } finally {
                listener.destroy();
                listener.waitFor(20, TimeUnit.SECONDS);
                Files.deleteIfExists(got);
            }
        }
    }

    /**
     * kmod's commands on the UDP module in a running instance: rmmod refuses it while a socket is open
     * (a listener in another attach session), naming its users, and lsmod counts the socket; rmmod
     * refuses lo as builtin; rmmod -f removes it and says what it dropped; modprobe loads it back from
     * the module folder and UDP works again; update replaces it from a file without a refresh.
     */
    @Test
    void moduleCommandsRemoveUdpOnlyWhenUnusedOrForcedAndLoadItBack() throws Exception {
        String name = "it-modules-" + ProcessHandle.current().pid();
        try (Instance instance = Instance.start(name)) {
            Result setup = Processes.run(MODNET, "attach", "-n", name, "-c",
                    "ip netns add x ; ip -n x link set lo up");
            assertEquals(0, setup.status(), setup.toString());
            Process nc = Processes.builder(MODNET, "attach", "-n", name, "-c", "ip netns exec x nc -u -l 5000")
                    .redirectErrorStream(true).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                String ss = "";
                while (!ss.contains("0.0.0.0:5000") && System.nanoTime() < deadline) {
                    ss = Processes.run(MODNET, "attach", "-n", name, "-c", "ip netns exec x ss -u -a -n").out();
                    Thread.sleep(100);
                }
                assertTrue(ss.contains("0.0.0.0:5000"), "nc listens:\n" + ss);

                Result refused = Processes.run(MODNET, "attach", "-n", name, "-c", "rmmod org.modnet.udp");
                assertEquals(1, refused.status(), refused.toString());
                assertTrue(refused.err().contains("rmmod: ERROR: Module org.modnet.udp is in use by: 1 socket"), refused.toString());
                Result lsmod = Processes.run(MODNET, "attach", "-n", name, "-c", "lsmod");
                assertTrue(lsmod.out().startsWith("Module "), lsmod.toString());
                String[] udp = lsmodLine(lsmod.out(), "org.modnet.udp").trim().split("\\s+");
                assertEquals("org.modnet.udp", udp[0], lsmod.toString());
                assertTrue(Long.parseLong(udp[1]) > 1000, "Size is the jar's bytes\n" + lsmod);
                assertEquals("1", udp[2], "Used by counts the socket\n" + lsmod);

                Result builtin = Processes.run(MODNET, "attach", "-n", name, "-c", "rmmod loopback");
                assertEquals(1, builtin.status(), builtin.toString());
                assertTrue(builtin.err().contains("rmmod: ERROR: Module loopback is builtin."), builtin.toString());

                Result veth = Processes.run(MODNET, "attach", "-n", name, "-c", "ip link add v0 type veth peer name v1; rmmod veth");
                assertEquals(1, veth.status(), veth.toString());
                assertTrue(veth.err().contains("rmmod: ERROR: Module veth is in use by: 2 devices"), "a driver's devices use it\n" + veth);

                Result needed = Processes.run(MODNET, "attach", "-n", name, "-c", "rmmod ipv4");
                assertEquals(1, needed.status(), needed.toString());
                assertTrue(needed.err().contains("rmmod: ERROR: Module ipv4 is in use by: ")
                        && needed.err().contains("org.modnet.udp"), "UDP requires IPv4's service\n" + needed);

                Result forced = Processes.run(MODNET, "attach", "-n", name, "-c", "rmmod -f udp; lsmod");
                assertEquals(0, forced.status(), forced.toString());
                assertTrue(forced.out().contains("rmmod: forced removal of org.modnet.udp: dropped 1 socket"), forced.toString());
                assertFalse(forced.out().contains("org.modnet.udp "), "gone from lsmod\n" + forced);
            } finally {
                nc.destroy();
                nc.waitFor(20, TimeUnit.SECONDS);
            }

            Result missing = Processes.run(MODNET, "attach", "-n", name, "-c", "modprobe nosuch");
            assertEquals(1, missing.status(), missing.toString());
            assertTrue(missing.err().contains("modprobe: FATAL: Module nosuch not found in directory "), missing.toString());

            // IPv4 goes too (forced: UDP and TCP require it); modprobe udp brings it back as UDP needs it
            Result gone = Processes.run(MODNET, "attach", "-n", name, "-c", "rmmod -f ipv4; lsmod");
            assertEquals(0, gone.status(), gone.toString());
            assertFalse(gone.out().contains("\norg.modnet.ipv4 "), gone.toString());
            Result back = Processes.run(MODNET, "attach", "-n", name, "-c", "modprobe udp; modprobe udp; lsmod; modinfo udp");
            assertEquals(0, back.status(), back.toString());
            assertTrue(lsmodLine(back.out(), "org.modnet.udp").trim().endsWith(" 0"), "loaded again, unused\n" + back);
            assertTrue(back.out().contains("\norg.modnet.ipv4 "), "modprobe loaded what UDP needs\n" + back);
            assertTrue(back.out().contains("dropped:     1 socket (rmmod -f)"), back.toString());
            Result udpWorks = Processes.run(MODNET, "attach", "-n", name, "-c", "ip link set lo up; nc -u -z -v 127.0.0.1 9");
            assertTrue(udpWorks.err().contains("nc: connect to 127.0.0.1 port 9 (udp) failed: Connection refused"),
                    udpWorks.toString());

            Path jar;
            try (var jars = Files.list(Processes.modnet().getParent().getParent().resolve("run-configs/target/repo"))) {
                jar = jars.filter(p -> p.getFileName().toString().startsWith("org.modnet.udp-")).findFirst().orElseThrow();
            }
            Result updated = Processes.run(MODNET, "attach", "-n", name, "-c", "modnet:update udp " + jar + "; lsmod");
            assertEquals(0, updated.status(), updated.toString());
            assertTrue(updated.out().contains("update: org.modnet.udp 0.1.0.SNAPSHOT -> 0.1.0.SNAPSHOT from " + jar), updated.toString());
            assertTrue(updated.out().contains("not refreshed"), updated.toString());
            Result stillWorks = Processes.run(MODNET, "attach", "-n", name, "-c", "nc -u -z -v 127.0.0.1 9");
            assertTrue(stillWorks.err().contains("Connection refused"), stillWorks.toString());
            Processes.run(MODNET, "attach", "-n", name, "-c", "shutdown");
        }
    }

    /** An attach client killed mid-command (its Ctrl-C) takes the command with it: nc -l does not keep its port. */
    @Test
    void aCommandEndsWhenTheAttachClientThatRanItGoesAway() throws Exception {
        String name = "it-hup-" + ProcessHandle.current().pid();
        try (Instance instance = Instance.start(name)) {
            Result setup = Processes.run(MODNET, "attach", "-n", name, "-c",
                    "ip netns add x ; ip -n x link set lo up");
            assertEquals(0, setup.status(), setup.toString());
            Process nc = Processes.builder(MODNET, "attach", "-n", name, "-c", "ip netns exec x nc -u -l 5000")
                    .redirectErrorStream(true).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String ss = "";
            while (!ss.contains("0.0.0.0:5000") && System.nanoTime() < deadline) {
                ss = Processes.run(MODNET, "attach", "-n", name, "-c", "ip netns exec x ss -u -a -n").out();
                Thread.sleep(100);
            }
            assertTrue(ss.contains("0.0.0.0:5000"), "nc listens:\n" + ss);
            nc.destroy(); // SIGTERM: the client goes away as Ctrl-C takes it
            assertTrue(nc.waitFor(20, TimeUnit.SECONDS));
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (ss.contains("0.0.0.0:5000") && System.nanoTime() < deadline) {
                ss = Processes.run(MODNET, "attach", "-n", name, "-c", "ip netns exec x ss -u -a -n").out();
                Thread.sleep(100);
            }
            assertFalse(ss.contains("0.0.0.0:5000"), "nc ended with its client:\n" + ss);
            assertEquals(0, Processes.run(MODNET, "attach", "-n", name, "-c", "shutdown").status());
            assertTrue(instance.process.waitFor(20, TimeUnit.SECONDS));
        }
    }

    /**
     * Ctrl-C (SIGINT) in an attached session ends the command it runs in the instance (ping's
     * statistics come before the next command's output), and the session goes on, as with the local
     * shell; with {@code -c}, the rest of the list is skipped and the status is 130. The clients are
     * started as a terminal's foreground job starts them, with SIGINT at its default.
     */
    @Test
    void ctrlCInAnAttachedSessionEndsTheCommandAndTheSessionGoesOn() throws Exception {
        assumeTrue(Processes.onPath("env") && Processes.onPath("kill"), "needs env and kill from coreutils and procps");
        String name = "it-int-" + ProcessHandle.current().pid();
        Path log = Files.createTempFile("modnet-attach", ".log");
        try (Instance instance = Instance.start(name)) {
            Result setup = Processes.run(MODNET, "attach", "-n", name, "-c",
                    "ip netns add x ; ip -n x link set lo up");
            assertEquals(0, setup.status(), setup.toString());
            Process client = Processes.builder("env", "--default-signal=INT", MODNET, "attach", "-n", name).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            try (var in = client.getOutputStream()) {
                in.write("ip netns exec x ping -i 0.2 127.0.0.1\n".getBytes());
                in.flush();
                assertTrue(waitFor(log, "icmp_seq=3 "), "ping runs:\n" + Files.readString(log));
                assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(client.pid())).start().waitFor());
                assertTrue(waitFor(log, "ping statistics"), "Ctrl-C ended ping:\n" + Files.readString(log));
                assertTrue(client.isAlive(), "the session goes on:\n" + Files.readString(log));
                in.write("echo after-ctrl-c\nexit\n".getBytes());
            }
            assertTrue(client.waitFor(20, TimeUnit.SECONDS), Files.readString(log));
            String out = Files.readString(log);
            assertTrue(out.contains("after-ctrl-c"), "the next line ran:\n" + out);
            assertTrue(out.lastIndexOf("rtt min/avg/max/mdev") < out.indexOf("after-ctrl-c"), "ping's last words came first:\n" + out);
            assertFalse(out.contains("failed"), "Ctrl-C is no failure:\n" + out);
            assertEquals(0, client.exitValue(), "exit gives the last command's status:\n" + out);

            Process nc = Processes.builder("env", "--default-signal=INT", MODNET, "attach", "-n", name, "-c",
                    "ip netns exec x nc -u -l 5001; echo not-reached").redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertTrue(listening(name, "0.0.0.0:5001", true), "nc listens");
            assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(nc.pid())).start().waitFor());
            assertTrue(nc.waitFor(20, TimeUnit.SECONDS), Files.readString(log));
            assertEquals(130, nc.exitValue(), "ended by Ctrl-C:\n" + Files.readString(log));
            assertFalse(Files.readString(log).contains("not-reached"), "the rest of the list is skipped");
            assertTrue(listening(name, "0.0.0.0:5001", false), "nc's socket is closed");
            assertEquals(0, Processes.run(MODNET, "attach", "-n", name, "-c", "shutdown").status());
            assertTrue(instance.process.waitFor(20, TimeUnit.SECONDS));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Waits (up to 20 s) until {@code ss} in namespace x shows the address listening, or not. */
    private static boolean listening(String instance, String address, boolean wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            String ss = Processes.run(MODNET, "attach", "-n", instance, "-c", "ip netns exec x ss -u -a -n").out();
            if (ss.contains(address) == wanted) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    @Test
    void anotherUserCannotAttachEvenWhenTheSocketModeIsWidened() throws Exception {
        assumeTrue(Processes.isRoot() && Processes.onPath("runuser") && Processes.onPath("python3"),
                "needs root, runuser and python3 to run attach clients as another user (CI runs it as root)");
        String name = "it-perm-" + ProcessHandle.current().pid();
        // The client runs as nobody: give it a copy of the console jar that nobody can read.
        Path dir = Files.createTempDirectory("modnet-attach");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = dir.resolve("console.jar");
        Files.copy(ModnetRuntime.root().resolve("bundles/console/target/org.modnet.console-0.1.0-SNAPSHOT.jar"), jar);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        String java = ProcessHandle.current().info().command().orElse("java");
        Path runDir = Processes.runDir();
        try (Instance instance = Instance.start(name)) {
            String[] attachAsNobody = { "runuser", "-u", "nobody", "--", "env", "MODNET_RUNDIR=" + runDir, java, "-cp",
                    jar.toString(), "org.modnet.console.AttachClient", "-n", name, "-c", "lb" };

            Result denied = Processes.run(attachAsNobody);
            assertEquals(126, denied.status(), denied.toString());
            assertTrue(denied.err().contains("permission denied: " + runDir + " belongs to another user (uid 0)"), denied.toString());

            // Widen the modes: the client refuses a socket others may write to, and the instance,
            // which a raw client reaches through the widened modes, refuses by peer credentials.
            Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(instance.socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            try {
                Result refused = Processes.run(attachAsNobody);
                assertEquals(126, refused.status(), refused.toString());
                assertTrue(refused.err().contains(instance.socket + " is writable by group or others (mode 0666): refusing"),
                        refused.toString());
                assertFalse(refused.out().contains("modnet console"), refused.toString());

                Result raw = Processes.run("runuser", "-u", "nobody", "--", PYTHON, "-c", RAW_CLIENT, instance.socket.toString());
                assertEquals(0, raw.status(), raw.toString());
                assertEquals("E modnet attach: permission denied: the instance belongs to root\n\nX 126\n", raw.out(), raw.toString());
            } finally {
                Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwx------"));
                Files.setPosixFilePermissions(instance.socket, PosixFilePermissions.fromString("rw-------"));
            }
            Result owner = Processes.run(MODNET, "attach", "-n", name, "-c", "lsmod");
            assertEquals(0, owner.status(), "the owner still attaches\n" + owner);
        } finally {
            Files.deleteIfExists(jar);
            Files.deleteIfExists(dir);
        }
    }

    /** Speaks the attach protocol by hand: prints the frames the instance sends. */
    private static final String RAW_CLIENT = """
            import socket, struct, sys
            s = socket.socket(socket.AF_UNIX)
            s.connect(sys.argv[1])
            data = b''
            while True:
                try:
                    b = s.recv(4096)
                except ConnectionResetError:
                    break
                if not b:
                    break
                data += b
            while data:
                t, n = data[0:1].decode(), struct.unpack('>i', data[1:5])[0]
                body = data[5:5 + n]
                print(t, struct.unpack('>i', body)[0] if t == 'X' else body.decode())
                data = data[5 + n:]
            """;

    /**
     * A squatter: nobody makes the run directory (when missing) in a sticky world-writable
     * directory, as it could make /tmp/modnet-UID, listens on NAME.sock and answers as an instance
     * would with output of its choosing. It prints each connection and what it received.
     */
    private static final String SQUATTER = """
            import os, socket, struct, sys
            path = sys.argv[1]
            d = os.path.dirname(path)
            if not os.path.isdir(d):
                os.mkdir(d)
                os.chmod(d, 0o777)
            s = socket.socket(socket.AF_UNIX)
            s.bind(path)
            os.chmod(path, 0o777)
            s.listen(8)
            print('listening', flush=True)
            while True:
                c, _ = s.accept()
                print('connect', flush=True)
                out = b'squatter-output\\n'
                try:
                    c.sendall(b'R' + struct.pack('>i', 0) + b'O' + struct.pack('>i', len(out)) + out + b'X' + struct.pack('>ii', 4, 0))
                except OSError:
                    pass
                c.settimeout(5)
                data = b''
                try:
                    while True:
                        b = c.recv(4096)
                        if not b:
                            break
                        data += b
                except OSError:
                    pass
                print('received %d bytes %r' % (len(data), data), flush=True)
                c.close()
            """;

    /** A squatter listening as nobody on {@code socket}; stopped (with its runuser) on close. */
    private record Squatter(Process process, Path socket, Path log) implements AutoCloseable {
        static Squatter start(Path socket) throws Exception {
            Path log = Files.createTempFile("modnet-squatter", ".log");
            Process p = new ProcessBuilder("runuser", "-u", "nobody", "--", PYTHON, "-c", SQUATTER, socket.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Squatter squatter = new Squatter(p, socket, log);
            if (!waitFor(log, "listening")) {
                squatter.close();
                throw new AssertionError("the squatter does not listen:\n" + Files.readString(log));
            }
            return squatter;
        }

        /**
         * What the squatter saw, up to this test's own probe connection: it serves connections in
         * turn, so any connection a client made before is in the log when the probe is.
         */
        String seen() throws Exception {
            try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                probe.write(ByteBuffer.wrap("probe".getBytes()));
            }
            assertTrue(waitFor(log, "b'probe'"), "the squatter saw the probe:\n" + Files.readString(log));
            String all = Files.readString(log);
            return all.substring(0, all.lastIndexOf("connect\n"));
        }

        @Override
        public void close() throws IOException {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                process.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Files.deleteIfExists(log);
        }
    }

    /** A sticky world-writable directory, as /tmp is, for a squatter to make the run directory in. */
    private static Path stickyTmp() throws IOException, InterruptedException {
        Path tmp = Files.createTempDirectory("modnet-sticky");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertEquals(0, new ProcessBuilder("chmod", "1777", tmp.toString()).inheritIO().start().waitFor());
        return tmp;
    }

    private static void removeTree(Path top) throws IOException {
        try (var paths = Files.walk(top)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void attachRefusesARunDirectoryPlantedByAnotherUserAndSendsItNothing() throws Exception {
        assumeTrue(Processes.isRoot() && Processes.onPath("runuser") && Processes.onPath("python3"),
                "needs root, runuser and python3 to plant a run directory as nobody (CI runs it as root)");
        Path tmp = stickyTmp();
        Path squat = tmp.resolve("modnet-0");
        try (Squatter squatter = Squatter.start(squat.resolve("default.sock"))) {
            Result r = Processes.runWithEnv(Map.of("MODNET_RUNDIR", squat.toString()), null, MODNET, "attach", "-c",
                    "ip addr add 10.9.9.9/32 dev lo");
            assertEquals(126, r.status(), r.toString());
            assertEquals("modnet attach: " + squat + " is owned by uid 65534, not by you: refusing (remove it)\n", r.err());
            assertFalse(r.out().contains("squatter-output"), r.toString());
            assertEquals("listening\n", squatter.seen(), "the client did not even connect");
        } finally {
            removeTree(tmp);
        }
    }

    @Test
    void anInstanceRefusesToStartInARunDirectoryPlantedByAnotherUser() throws Exception {
        assumeTrue(Processes.isRoot() && Processes.onPath("runuser") && Processes.onPath("python3"),
                "needs root, runuser and python3 to plant a run directory as nobody (CI runs it as root)");
        Path tmp = stickyTmp();
        Path squat = tmp.resolve("modnet-0");
        String name = "it-squat-" + ProcessHandle.current().pid();
        try (Squatter squatter = Squatter.start(squat.resolve(name + ".sock"))) {
            Result r = Processes.runWithEnv(Map.of("MODNET_RUNDIR", squat.toString()), null, MODNET, "--stay", "-n", name);
            assertEquals(126, r.status(), r.toString());
            assertTrue(r.err().contains("modnet: " + squat + " is owned by uid 65534, not by you: refusing (remove it)\n"),
                    r.toString());
            assertEquals("listening\n", squatter.seen(), "the instance did not connect to the squatter");
        } finally {
            removeTree(tmp);
        }
    }

    /**
     * A socket that looks right (root's, 0600, in root's private directory) with another user's
     * process behind it: the server's peer credentials refuse it, before a byte is sent.
     */
    @Test
    void attachRefusesAServerOfAnotherUserBehindASocketThatLooksRight() throws Exception {
        assumeTrue(Processes.isRoot() && Processes.onPath("runuser") && Processes.onPath("python3"),
                "needs root, runuser and python3 to listen as nobody (CI runs it as root)");
        Path run = Files.createTempDirectory("modnet-run");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxrwxrwx")); // for nobody's bind only
        Path socket = run.resolve("default.sock");
        try (Squatter squatter = Squatter.start(socket)) {
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
            Files.setAttribute(socket, "unix:uid", 0);
            Files.setAttribute(socket, "unix:gid", 0);
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            Result r = Processes.runWithEnv(Map.of("MODNET_RUNDIR", run.toString()), null, MODNET, "attach", "-c", "lb");
            assertEquals(126, r.status(), r.toString());
            assertEquals("modnet attach: " + socket + " is served by user nobody, not by you: refusing\n", r.err());
            assertFalse(r.out().contains("squatter-output"), r.toString());
            assertEquals("listening\nconnect\nreceived 0 bytes b''\n", squatter.seen(), "connected, and sent nothing");
        } finally {
            removeTree(run);
        }
    }

    /** A {@code bin/modnet --stay} instance, stopped (SIGTERM) when the test is done with it. */
    private record Instance(Process process, Path socket, Path log) implements AutoCloseable {
        static Instance start(String name) throws IOException, InterruptedException {
            Path log = Files.createTempFile("modnet-instance", ".log");
            Process p = Processes.start(log, MODNET, "--stay", "-n", name, "-c", "feature list");
            Path socket = socketPath(name);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(socket) && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (!Files.exists(socket)) {
                p.destroyForcibly();
                throw new AssertionError("no control socket " + socket + ":\n" + Files.readString(log));
            }
            return new Instance(p, socket, log);
        }

        /** Where bin/modnet puts an instance's socket: in this test run's MODNET_RUNDIR. */
        static Path socketPath(String name) {
            return Processes.runDir().resolve(name + ".sock");
        }

        @Override
        public void close() throws IOException {
            if (process.isAlive()) {
                process.destroy();
                try {
                    process.waitFor(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Files.deleteIfExists(log);
        }
    }
}

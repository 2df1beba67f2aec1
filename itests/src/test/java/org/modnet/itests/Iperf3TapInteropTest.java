package org.modnet.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.itests.Processes.Result;

/**
 * modnet's iperf3 against Linux's over a real TAP, the Linux end in a namespace this test makes
 * (10.95.0.1 Linux, 10.95.0.2 modnet): Linux's {@code iperf3 -c} against modnet's {@code iperf3 -s},
 * both directions ({@code -R}), and modnet's client against Linux's {@code iperf3 -s}, each completing
 * with {@code -J} whose sender and receiver sums agree, and the TCP sender's Retr and Cwnd columns
 * (TCP_INFO) where Linux's iperf3 prints them. Needs root, /dev/net/tun, iproute2 and iperf3
 * (.ci/run installs them); skips otherwise.
 */
class Iperf3TapInteropTest {
    /** iperf3 3.12's header with TCP_INFO's columns (locale.c's report_bw_retrans_cwnd_header). */
    private static final String HEADER_RETR_CWND = "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd";

    private static final String MODNET = InteropRig.MODNET;
    /** A sender's summary line with its retransmit count: "...Gbits/sec    3             sender". */
    private static final Pattern SENDER_RETR = Pattern.compile("/sec +\\d+ +sender\n");
    /** An interval line with Retr and Cwnd: "...Gbits/sec    0   1.25 MBytes       ". */
    private static final Pattern CWND_LINE = Pattern.compile("/sec +\\d+ +[0-9.]+ [KMG]?Bytes {7}\n");
    private static final Pattern SUM = Pattern.compile("\"(sum_sent|sum_received)\":\\s*\\{[^}]*?\"bytes\":\\s*(\\d+)");
    private final long id = InteropRig.ID;
    private final String netns = "mnt-ipf-" + id;
    private final String tap = "itap" + id;
    private final String instance = "it-ipf-" + id;
    private final InteropRig rig = new InteropRig(instance);

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Processes.isRoot(), "needs root to create a TAP and a network namespace (CI runs it as root)");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "needs /dev/net/tun");
        assumeTrue(Processes.onPath("ip") && Processes.onPath("iperf3"), "needs iproute2 and iperf3 (.ci/run installs them)");
        rig.start("ip link add " + tap + " type tap", tap, 30);
        rig.netns(netns);
        rig.wireTap(tap, netns, "10.95.0");
        linux("ip", "-n", netns, "link", "set", "lo", "up");
    }

    @AfterEach
    void tearDown() throws Exception {
        rig.close();
    }

    private static void linux(String... command) throws Exception {
        InteropRig.linux(command);
    }

    /** -J's sum_sent and sum_received bytes: both there, both positive, the receiver's not above the sender's. */
    private static void sumsAgree(String what, String json) {
        long sent = -1;
        long received = -1;
        Matcher m = SUM.matcher(json);
        while (m.find()) {
            if (m.group(1).equals("sum_sent")) {
                sent = Long.parseLong(m.group(2));
            } else {
                received = Long.parseLong(m.group(2));
            }
        }
        assertTrue(sent > 0 && received > 0 && received <= sent && received > sent / 2, what + "\n" + json);
    }

    @Test
    void linuxClientCompletesAgainstModnetsServerBothWays() throws Exception {
        for (List<String> extra : List.<List<String>>of(List.of(), List.of("-R"))) {
            Path serverLog = Files.createTempFile("modnet-iperf3-s", ".log");
            Process server = Processes.start(serverLog, MODNET, "attach", "-n", instance, "-c", "iperf3 -s -1");
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!Processes.run(MODNET, "attach", "-n", instance, "-c", "ss -t -l -n").out().contains(":5201 ")) {
                    assertTrue(System.nanoTime() < deadline, "modnet's iperf3 -s did not listen:\n" + Files.readString(serverLog));
                    Thread.sleep(100);
                }
                List<String> cmd = new java.util.ArrayList<>(List.of("ip", "netns", "exec", netns, "iperf3", "-c", "10.95.0.2", "-t", "3"));
                cmd.addAll(extra);
                Result text = Processes.run(cmd.toArray(String[]::new));
                assertEquals(0, text.status(), extra + "\n" + text + "\n" + Files.readString(serverLog));
                assertTrue(text.out().contains("iperf Done."), text.toString());
                // modnet's sender reports its TCP_INFO retransmits: -R's summary has the Retr column, never -1
                assertTrue(!text.out().contains("4294967295"), text.toString());
                if (extra.contains("-R")) {
                    assertTrue(text.out().contains("Bitrate         Retr\n") && SENDER_RETR.matcher(text.out()).find(),
                            "the sender's retransmits from modnet's results:\n" + text);
                    assertTrue(server.waitFor(20, TimeUnit.SECONDS), Files.readString(serverLog));
                    String served = Files.readString(serverLog);
                    assertTrue(served.contains(HEADER_RETR_CWND) && CWND_LINE.matcher(served).find(),
                            "modnet's sending server prints Retr and Cwnd as Linux's does:\n" + served);
                }
                System.out.println("Linux iperf3 -c 10.95.0.2 -t 3 " + String.join(" ", extra) + " (modnet's server)\n" + text.out());
                assertTrue(server.waitFor(20, TimeUnit.SECONDS), Files.readString(serverLog));
                server = Processes.start(serverLog, MODNET, "attach", "-n", instance, "-c", "iperf3 -s -1");
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!Processes.run(MODNET, "attach", "-n", instance, "-c", "ss -t -l -n").out().contains(":5201 ")) {
                    assertTrue(System.nanoTime() < deadline, "modnet's iperf3 -s did not listen again");
                    Thread.sleep(100);
                }
                cmd.add("-J");
                Result json = Processes.run(cmd.toArray(String[]::new));
                assertEquals(0, json.status(), json.toString());
                sumsAgree("Linux client " + extra, json.out());
                assertTrue(server.waitFor(20, TimeUnit.SECONDS));
            } finally {
                server.destroyForcibly();
                Files.deleteIfExists(serverLog);
            }
        }
    }

    @Test
    void modnetsClientCompletesAgainstLinuxsServer() throws Exception {
        Path serverLog = Files.createTempFile("linux-iperf3-s", ".log");
        Process server = Processes.start(serverLog, "ip", "netns", "exec", netns, "iperf3", "-s", "-B", "10.95.0.1");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Processes.run("ip", "netns", "exec", netns, "ss", "-t", "-l", "-n").out().contains("10.95.0.1:5201")) {
                assertTrue(System.nanoTime() < deadline, "Linux's iperf3 -s did not listen:\n" + Files.readString(serverLog));
                Thread.sleep(100);
            }
            for (String args : List.of("-t 3", "-t 3 -R")) {
                Result text = retry("iperf3 -c 10.95.0.1 " + args);
                assertEquals(0, text.status(), args + "\n" + text);
                assertTrue(text.out().contains("iperf Done."), text.toString());
                // modnet's client: Retr and Cwnd from TCP_INFO when it sends, Linux's retransmits in -R's summary
                assertTrue(text.out().contains(HEADER_RETR_CWND), text.toString());
                assertTrue(SENDER_RETR.matcher(text.out()).find(), text.toString());
                if (!args.contains("-R")) {
                    assertTrue(CWND_LINE.matcher(text.out()).find(), text.toString());
                }
                System.out.println("modnet iperf3 -c 10.95.0.1 " + args + " (Linux's server)\n" + text.out());
                Result json = retry("iperf3 -c 10.95.0.1 -J " + args);
                assertEquals(0, json.status(), json.toString());
                sumsAgree("modnet client " + args, json.out());
            }
        } finally {
            server.destroy();
            server.waitFor(5, TimeUnit.SECONDS);
            Files.deleteIfExists(serverLog);
        }
    }

    /** Linux's server refuses (busy, or its listener re-opening) for a moment after each client. */
    private Result retry(String command) throws Exception {
        Result r = Processes.run(MODNET, "attach", "-n", instance, "-c", command);
        for (int i = 0; i < 20 && (r.out().contains("the server is busy") || r.out().contains("Connection refused")); i++) {
            Thread.sleep(250);
            r = Processes.run(MODNET, "attach", "-n", instance, "-c", command);
        }
        return r;
    }
}

package org.modnet.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.itests.Processes.Result;

/**
 * modnet's httpd and curl against Linux's over a real TAP, the Linux end in a namespace this test
 * makes (10.96.0.1 Linux, 10.96.0.2 modnet): Linux's curl fetches 10 MB from modnet's httpd intact,
 * modnet's curl fetches 10 MB from Linux's {@code python3 -m http.server} intact, and both curls give
 * the same {@code -w} output and exit status for a 200, a 404 with {@code -f} and a refused port; 50
 * Linux curls at once are all served intact; a 20 KB header line, a 10 MB one and 101 fields are a
 * counted 431, a body on a keep-alive connection is dropped so the next request on it is served, one
 * over 1 MiB is 413; both curls follow a directory's 301 alike ({@code -L}, {@code --max-redirs}), from
 * modnet's httpd and from Python's.
 * Needs root, /dev/net/tun, iproute2, curl and python3 (.ci/run installs them); skips otherwise.
 */
class HttpTapInteropTest {
    private static final String MODNET = InteropRig.MODNET;
    private static final String W = "%{http_code} %{size_download} %{exitcode}\\n";
    private final long id = InteropRig.ID;
    private final String netns = "mnt-http-" + id;
    private final String tap = "htap" + id;
    private final String instance = "it-http-" + id;
    private final InteropRig rig = new InteropRig(instance);
    private Path dir;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Processes.isRoot(), "needs root to create a TAP and a network namespace (CI runs it as root)");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "needs /dev/net/tun");
        assumeTrue(Processes.onPath("ip") && Processes.onPath("curl") && Processes.onPath("python3"),
                "needs iproute2, curl and python3 (.ci/run installs them)");
        rig.start("ip link add " + tap + " type tap", tap, 30);
        rig.netns(netns);
        rig.wireTap(tap, netns, "10.96.0");
        linux("ip", "-n", netns, "link", "set", "lo", "up");
        dir = rig.dir();
        byte[] data = new byte[10 << 20];
        new Random(96).nextBytes(data);
        Files.write(dir.resolve("big.bin"), data);
    }

    @AfterEach
    void tearDown() throws Exception {
        rig.close();
    }

    private static void linux(String... command) throws Exception {
        InteropRig.linux(command);
    }

    private String modnet(String commands) throws Exception {
        return rig.modnet(commands);
    }

    private Result linuxCurl(String... args) throws Exception {
        String[] command = new String[5 + args.length];
        System.arraycopy(new String[] { "ip", "netns", "exec", netns, "curl" }, 0, command, 0, 5);
        System.arraycopy(args, 0, command, 5, args.length);
        return Processes.run(command);
    }

    private Result modnetCurl(String args) throws Exception {
        return Processes.run(MODNET, "attach", "-n", instance, "-c", "curl " + args);
    }

    @Test
    void linuxCurlFetchesTenMegabytesFromModnetsHttpdIntactAndBothCurlsAgree() throws Exception {
        Path httpdLog = Files.createTempFile("modnet-httpd", ".log");
        Process httpd = Processes.start(httpdLog, MODNET, "attach", "-n", instance, "-c", "httpd -p 8080 -d " + dir);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!modnet("ss -t -l -n").contains(":8080 ")) {
                assertTrue(System.nanoTime() < deadline && httpd.isAlive(), "httpd did not listen:\n" + Files.readString(httpdLog));
                Thread.sleep(50);
            }
            Path got = dir.resolve("from-modnet.bin");
            long t0 = System.nanoTime();
            Result r = linuxCurl("-sS", "-o", got.toString(), "-w", W + "%{time_total} %{speed_download}", "http://10.96.0.2:8080/big.bin");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0, r.status(), r.toString());
            assertTrue(r.out().startsWith("200 10485760 0\n"), r.out());
            assertEquals(HttpIT.sha256(dir.resolve("big.bin")), HttpIT.sha256(got));
            System.out.println("Linux curl fetched 10 MiB from modnet's httpd over the TAP in " + ms
                    + " ms (curl's time_total and speed_download: " + r.out().substring(r.out().indexOf('\n') + 1) + ")");

            // HEAD and a range, answered to Linux's curl as to modnet's
            Result head = linuxCurl("-sS", "-I", "http://10.96.0.2:8080/big.bin");
            assertTrue(head.out().contains("Content-Length: 10485760"), head.toString());
            Result range = linuxCurl("-sS", "-r", "0-99", "-o", "/dev/null", "-w", W, "http://10.96.0.2:8080/big.bin");
            assertEquals("206 100 0\n", range.out());

            // 50 Linux curls at once, each file intact
            Files.write(dir.resolve("small.bin"), java.util.Arrays.copyOf(Files.readAllBytes(dir.resolve("big.bin")), 200_000));
            String want = HttpIT.sha256(dir.resolve("small.bin"));
            java.util.List<Process> curls = new java.util.ArrayList<>();
            for (int i = 0; i < 50; i++) {
                curls.add(Processes.builder("ip", "netns", "exec", netns, "curl", "-sS", "-m", "60", "-o", dir.resolve("c" + i).toString(),
                        "http://10.96.0.2:8080/small.bin").redirectErrorStream(true)
                        .redirectOutput(dir.resolve("c" + i + ".log").toFile()).start());
            }
            for (int i = 0; i < curls.size(); i++) {
                assertTrue(curls.get(i).waitFor(90, TimeUnit.SECONDS), "curl " + i + " ended");
                assertEquals(0, curls.get(i).exitValue(), "curl " + i + ": " + Files.readString(dir.resolve("c" + i + ".log")));
                assertEquals(want, HttpIT.sha256(dir.resolve("c" + i)), "curl " + i);
            }

            // an absurd header from Linux's curl: 431, and the server goes on serving
            Result big = linuxCurl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Big: " + "a".repeat(20_000),
                    "http://10.96.0.2:8080/small.bin");
            assertEquals("431", big.out(), big.toString());
            assertTrue(modnet("httpd status -p 8080").contains("BadRequests: 1\n"), "counted");
            assertEquals("200", linuxCurl("-s", "-o", "/dev/null", "-w", "%{http_code}", "http://10.96.0.2:8080/small.bin").out());

            // a 10 MB header line (python: curl's arguments cannot hold it) and 101 fields: 431 each, counted
            Result huge = Processes.run("ip", "netns", "exec", netns, "python3", "-c", "import socket\n"
                    + "s = socket.create_connection(('10.96.0.2', 8080))\n"
                    + "s.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\nX-Big: ')\n"
                    + "try:\n"
                    + "    s.sendall(b'a' * (10 << 20))\n" // httpd answers and drops the rest until our FIN (a lingering close)
                    + "    s.shutdown(socket.SHUT_WR)\n"
                    + "except OSError:\n"
                    + "    pass\n"
                    + "print(s.recv(4096).split(b'\\r\\n')[0].decode())\n");
            assertEquals("HTTP/1.1 431 Request Header Fields Too Large\n", huge.out(), huge.toString());
            java.util.List<String> many = new java.util.ArrayList<>(java.util.List.of("-s", "-o", "/dev/null", "-w", "%{http_code}"));
            for (int i = 0; i < 101; i++) {
                many.add("-H");
                many.add("X-" + i + ": v");
            }
            many.add("http://10.96.0.2:8080/small.bin");
            assertEquals("431", linuxCurl(many.toArray(String[]::new)).out());

            // a body on a keep-alive connection is read and dropped: curl --next reuses the connection (0 new)
            Files.write(dir.resolve("body.bin"), new byte[5000]);
            Result post = linuxCurl("-s", "--data-binary", "@" + dir.resolve("body.bin"), "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n",
                    "http://10.96.0.2:8080/small.bin", "--next", "-s", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n",
                    "http://10.96.0.2:8080/small.bin");
            assertEquals("405 1\n200 0\n", post.out(), post.toString());
            // over 1 MiB: curl sends Expect: 100-continue, httpd answers 413 at once and closes
            Files.write(dir.resolve("big-body.bin"), new byte[2_000_000]);
            Result tooBig = linuxCurl("-s", "--data-binary", "@" + dir.resolve("big-body.bin"), "-o", "/dev/null", "-w", "%{http_code}",
                    "http://10.96.0.2:8080/small.bin");
            assertEquals("413", tooBig.out(), tooBig.toString());
            assertTrue(modnet("httpd status -p 8080").contains("BadRequests: 4\n"), "431, 431, 431 and 413 counted");

            // a directory without its slash: 301 to it; -L follows, and --max-redirs 0 is curl's 47, from both curls
            Files.createDirectories(dir.resolve("sub"));
            Files.writeString(dir.resolve("sub/index.html"), "sub\n");
            String wl = "%{http_code} %{num_redirects} %{url_effective} %{exitcode}\\n";
            assertEquals("200 1 http://10.96.0.2:8080/sub/ 0\n", linuxCurl("-s", "-L", "-o", "/dev/null", "-w", wl, "http://10.96.0.2:8080/sub").out());
            for (String flags : new String[] { "-L", "-L --max-redirs 0", "" }) {
                java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("-s", "-o", "/dev/null", "-w", wl));
                if (!flags.isEmpty()) {
                    args.addAll(java.util.List.of(flags.split(" ")));
                }
                args.add("http://10.96.0.2:8080/sub");
                Result linux = linuxCurl(args.toArray(String[]::new));
                Result ours = modnetCurl("-s -o /dev/null -w '" + wl + "' " + flags + " http://10.96.0.2:8080/sub");
                assertEquals(linux.out(), ours.out(), flags + "\nLinux: " + linux + "\nmodnet: " + ours);
                assertEquals(linux.status(), ours.status(), flags + "\nLinux: " + linux + "\nmodnet: " + ours);
            }

            // the same requests from both curls: the same -w line and exit status
            String[][] cases = { { "-f", "http://10.96.0.2:8080/big.bin" }, { "-f", "http://10.96.0.2:8080/nope" },
                    { "-f", "http://10.96.0.2:8081/" } };
            for (String[] c : cases) {
                Result linux = linuxCurl("-s", "-o", "/dev/null", "-w", W, c[0], c[1]);
                Result ours = modnetCurl("-s -o /dev/null -w '" + W + "' " + c[0] + " " + c[1]);
                assertEquals(linux.out(), ours.out(), "-w for " + c[1] + "\nLinux: " + linux + "\nmodnet: " + ours);
                assertEquals(linux.status(), ours.status(), "exit status for " + c[1] + "\nLinux: " + linux + "\nmodnet: " + ours);
            }
        } finally {
            Processes.run(MODNET, "attach", "-n", instance, "-c", "httpd stop -p 8080");
            assertTrue(httpd.waitFor(20, TimeUnit.SECONDS), "httpd ended on httpd stop");
            Files.deleteIfExists(httpdLog);
        }
    }

    @Test
    void modnetsCurlFetchesTenMegabytesFromLinuxsPythonHttpServerIntact() throws Exception {
        Path serverLog = Files.createTempFile("python-http", ".log");
        Process server = Processes.start(serverLog, "ip", "netns", "exec", netns, "python3", "-m", "http.server", "8000",
                "--bind", "10.96.0.1", "--directory", dir.toString());
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Processes.run("ip", "netns", "exec", netns, "ss", "-t", "-l", "-n").out().contains("10.96.0.1:8000")) {
                assertTrue(System.nanoTime() < deadline && server.isAlive(), "python3 -m http.server did not listen:\n"
                        + Files.readString(serverLog));
                Thread.sleep(50);
            }
            Path got = dir.resolve("from-linux.bin");
            long t0 = System.nanoTime();
            Result r = modnetCurl("-sS -o " + got + " -w '" + W + "%{time_total} %{speed_download}' http://10.96.0.1:8000/big.bin");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0, r.status(), r.toString());
            assertTrue(r.out().startsWith("200 10485760 0\n"), r.out());
            assertEquals(HttpIT.sha256(dir.resolve("big.bin")), HttpIT.sha256(got));
            System.out.println("modnet's curl fetched 10 MiB from Linux's python3 http.server over the TAP in " + ms
                    + " ms with bin/modnet attach (curl's time_total and speed_download: " + r.out().substring(r.out().indexOf('\n') + 1) + ")");

            // Python's HTTP/1.0 server: the same answers to both curls; a directory without its slash is its 301, -L follows it
            Files.createDirectories(dir.resolve("pydir"));
            Files.writeString(dir.resolve("pydir/index.html"), "py\n");
            String wl = "%{http_code} %{num_redirects} %{url_effective} [%{redirect_url}] %{exitcode}\\n";
            for (String flags : new String[] { "-L", "" }) {
                Result linux = linuxCurl("-s", flags.isEmpty() ? "-s" : flags, "-o", "/dev/null", "-w", wl, "http://10.96.0.1:8000/pydir");
                Result ours = modnetCurl("-s " + flags + " -o /dev/null -w '" + wl + "' http://10.96.0.1:8000/pydir");
                assertEquals(linux.out(), ours.out(), flags + "\nLinux: " + linux + "\nmodnet: " + ours);
                assertEquals(linux.status(), ours.status());
            }
            assertTrue(modnetCurl("-s -L http://10.96.0.1:8000/pydir").out().equals("py\n"));
            for (String url : new String[] { "http://10.96.0.1:8000/big.bin", "http://10.96.0.1:8000/nope" }) {
                Result linux = linuxCurl("-s", "-f", "-o", "/dev/null", "-w", W, url);
                Result ours = modnetCurl("-s -f -o /dev/null -w '" + W + "' " + url);
                assertEquals(linux.out(), ours.out(), url + "\nLinux: " + linux + "\nmodnet: " + ours);
                assertEquals(linux.status(), ours.status(), url + "\nLinux: " + linux + "\nmodnet: " + ours);
            }
        } finally {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(serverLog);
        }
    }

    /**
     * The TAP queue's counters: interrupts ({@code rx_queue_0_irqs}, what /proc/interrupts shows), frames
     * ({@code rx_queue_0_packets}), the frames busy polls read ({@code TcpExtBusyPollRxPackets}) and those
     * the softirq polls read (/proc/net/softnet_stat's processed; nothing else in this instance receives).
     * Read until two readings agree: a segment of the connection's close may still be on its way.
     */
    private long[] tapCounts() throws Exception {
        long[] prev = null;
        for (int i = 0; i < 50; i++) {
            long[] now = new long[4];
            for (String line : modnet("ethtool -S " + tap + "; nstat -az TcpExtBusyPollRxPackets; cat /proc/net/softnet_stat").split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f[0].equals("rx_queue_0_irqs:")) {
                    now[0] = Long.parseLong(f[1]);
                } else if (f[0].equals("rx_queue_0_packets:")) {
                    now[1] = Long.parseLong(f[1]);
                } else if (f[0].equals("TcpExtBusyPollRxPackets")) {
                    now[2] = Long.parseLong(f[1]);
                } else if (f.length >= 11 && f[0].matches("[0-9a-f]{8}")) {
                    now[3] += Long.parseLong(f[0], 16);
                }
            }
            if (java.util.Arrays.equals(prev, now)) {
                return now;
            }
            prev = now;
            Thread.sleep(200);
        }
        throw new AssertionError("the TAP's counters did not settle: " + java.util.Arrays.toString(prev));
    }

    /** What the TAP's queue did for 40 requests: interrupts taken, frames received, read by busy polls, read by the softirq. */
    private record Run(long irqs, long frames, long busyPolled, long softirqFrames) {
    }

    /**
     * httpd on {@code port} with {@code httpdOptions}; once it listens, one request (the selector learns
     * the TAP's NAPI instance), then Linux's curl fetches a 1-byte file 40 times on one keep-alive
     * connection: 40 "200 1" lines, one connection. The TAP queue's counters around those 40.
     */
    private Run fortyRequests(int port, String httpdOptions) throws Exception {
        Files.write(dir.resolve("rr"), new byte[] { 'x' });
        Path httpdLog = Files.createTempFile("modnet-httpd", ".log");
        Process httpd = Processes.start(httpdLog, MODNET, "attach", "-n", instance, "-c", "httpd -p " + port + " -d " + dir + httpdOptions);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!modnet("ss -t -l -n").contains(":" + port + " ")) {
                assertTrue(System.nanoTime() < deadline && httpd.isAlive(), "httpd did not listen:\n" + Files.readString(httpdLog));
                Thread.sleep(50);
            }
            String url = "http://10.96.0.2:" + port + "/rr";
            assertEquals("200", linuxCurl("-s", "-o", "/dev/null", "-w", "%{http_code}", url).out());
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("-sS", "-w", "%{http_code} %{size_download} %{num_connects}\\n"));
            for (int i = 0; i < 40; i++) {
                args.addAll(java.util.List.of("-o", "/dev/null", url));
            }
            long[] before = tapCounts();
            Result r = linuxCurl(args.toArray(new String[0]));
            long[] after = tapCounts();
            assertEquals(0, r.status(), r.toString());
            String[] lines = r.out().split("\n");
            assertEquals(40, lines.length, r.out());
            int connects = 0;
            for (String l : lines) {
                assertTrue(l.startsWith("200 1 "), r.out());
                connects += Integer.parseInt(l.substring("200 1 ".length()).trim());
            }
            assertEquals(1, connects, "one connection for all: " + r.out());
            Run run = new Run(after[0] - before[0], after[1] - before[1], after[2] - before[2], after[3] - before[3]);
            System.out.println("40 requests, httpd" + httpdOptions + ": " + run);
            assertEquals(run.frames(), run.busyPolled() + run.softirqFrames(),
                    "every frame the TAP's queue received was read once, by a busy poll (BusyPollRxPackets) or by the softirq: " + run);
            return run;
        } finally {
            modnet("httpd stop -p " + port);
            httpd.waitFor(20, TimeUnit.SECONDS);
            Files.deleteIfExists(httpdLog);
        }
    }

    /**
     * With busy polling on (1 s a wait), httpd's selector reads Linux's requests off the TAP itself: the
     * frames it read are TcpExtBusyPollRxPackets, the rest the softirq's, each frame once. Those that come
     * while httpd still answers the one before take the interrupt (busy_poll_stop enables it again without
     * SO_PREFER_BUSY_POLL): how many depends on the scheduler (20-38 of 40 measured), so it is not asserted.
     */
    @Test
    void withBusyPollingOnHttpdReadsLinuxsRequestsOffTheTapItself() throws Exception {
        assertTrue(modnet("sysctl net.core.busy_poll").contains("net.core.busy_poll = 0"), "off by default, as Linux");
        assertTrue(modnet("sysctl -w net.core.busy_poll=1000000").contains("net.core.busy_poll = 1000000")); // 1 s: every wait a spin
        try {
            Run run = fortyRequests(8080, "");
            assertTrue(run.busyPolled() > 0, "the busy poller read frames itself: " + run);
            assertTrue(run.frames() >= 40, "the 40 requests at least: " + run);
        } finally {
            modnet("sysctl -w net.core.busy_poll=0");
        }
    }

    /**
     * Preferred busy polling with IRQ suspension (httpd --prefer-busy-poll: its selector's EPIOCSPARAMS
     * prefer_busy_poll; the TAP's napi_defer_hard_irqs and gro_flush_timeout; the queue's NAPI instance's
     * irq-suspend-timeout through ynl's napi-set): from httpd's first busy poll of the connection on, the
     * TAP's interrupt stays off, so every request after the first is read by httpd's own busy polls, those
     * that come while it answers the one before included (they wait for its next poll). Before that poll the
     * connection's first segments take the interrupt: httpd's last empty busy poll gave it back
     * (napi_resume_irqs), and its selector knows no NAPI instance until a socket of the connection received.
     * The suspension's effect on the interrupt itself is asserted by count in TcpBusyPollTest and
     * NapiPreferBusyPollTest; here, the setting through ynl and every frame read once.
     */
    @Test
    void withPreferredBusyPollingAndIrqSuspensionTheTapsInterruptStaysOffBetweenHttpdsPolls() throws Exception {
        assertTrue(modnet("sysctl -w net.core.busy_poll=1000000").contains("net.core.busy_poll = 1000000"));
        assertEquals("0", modnet("cat /sys/class/net/" + tap + "/napi_defer_hard_irqs").trim(), "off by default, as Linux");
        modnet("echo 1 | tee /sys/class/net/" + tap + "/napi_defer_hard_irqs; echo 2000000000 | tee /sys/class/net/" + tap + "/gro_flush_timeout");
        assertEquals("2000000000", modnet("cat /sys/class/net/" + tap + "/gro_flush_timeout").trim());
        String ifindex = modnet("cat /sys/class/net/" + tap + "/ifindex").trim();
        String napi = modnet("ynl --family netdev --dump napi-get --json '{\"ifindex\": " + ifindex + "}'");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("'id': ([0-9]+)").matcher(napi);
        assertTrue(m.find(), napi);
        String id = m.group(1);
        assertTrue(napi.contains("'irq-suspend-timeout': 0}"), "off by default, as Linux: " + napi);
        assertEquals("None", modnet("ynl --family netdev --do napi-set --json '{\"id\": " + id + ", \"irq-suspend-timeout\": 2000000000}'").trim());
        assertTrue(modnet("ynl --family netdev --do napi-get --json '{\"id\": " + id + "}'").contains("'irq-suspend-timeout': 2000000000}"));
        try {
            Run run = fortyRequests(8082, " --prefer-busy-poll");
            // the softirq reads what came before httpd's first busy poll of the connection (the SYN, its ACK, the
            // first request, and whatever else comes before httpd reaches a wait with nothing ready); from then on
            // every frame is httpd's own: 3-4 interrupts and 4-5 softirq frames of 45-46 measured at load 12-16,
            // a count the scheduler decides, so not asserted beyond the accounting
            assertTrue(run.busyPolled() > 0, "httpd's busy polls read frames: " + run);
        } finally {
            modnet("ynl --family netdev --do napi-set --json '{\"id\": " + id + ", \"irq-suspend-timeout\": 0}'");
            modnet("echo 0 | tee /sys/class/net/" + tap + "/napi_defer_hard_irqs; echo 0 | tee /sys/class/net/" + tap + "/gro_flush_timeout");
            modnet("sysctl -w net.core.busy_poll=0");
        }
    }
}

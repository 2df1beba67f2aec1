package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * modnet's iperf3 client and server against each other on the JDK's loopback sockets (they take any
 * SelectorProvider; modnet's is the ITs'), and against Linux's own iperf3 where it is installed: the
 * control protocol end to end, and the summaries' byte counts agreeing.
 */
@org.junit.jupiter.api.Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
class Iperf3LoopbackTest {
    private static final Pattern SUMMARY = Pattern.compile("\\s([0-9.]+) ([KMGT]?)Bytes\\s.*(sender|receiver)$");
    private int port;
    private Thread serving;
    private Iperf3 server;
    private ByteArrayOutputStream serverOut;

    @BeforeEach
    void pickPort() {
        port = 20000 + (int) (ProcessHandle.current().pid() % 20000);
    }

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.stop();
            serving.join(5000);
        }
    }

    private void startServer(String... extra) throws Exception {
        serverOut = new ByteArrayOutputStream();
        server = new Iperf3(SelectorProvider.provider(), new PrintStream(serverOut, true));
        List<String> args = new ArrayList<>(List.of("-s", "-p", Integer.toString(port)));
        args.addAll(Arrays.asList(extra));
        serving = Thread.ofPlatform().daemon().start(() -> server.run(args));
        Thread.sleep(300);
    }

    private record Run(int status, String out) {
    }

    private Run client(String... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        List<String> a = new ArrayList<>(List.of("-c", "127.0.0.1", "-p", Integer.toString(port)));
        a.addAll(Arrays.asList(args));
        int s = new Iperf3(SelectorProvider.provider(), new PrintStream(b, true)).run(a);
        return new Run(s, b.toString(StandardCharsets.UTF_8));
    }

    private static double bytes(String line) {
        Matcher m = SUMMARY.matcher(line);
        assertTrue(m.find(), line);
        double v = Double.parseDouble(m.group(1));
        return v * Math.pow(1024, "KMGT".indexOf(m.group(2).isEmpty() ? "x" : m.group(2)) + 1);
    }

    private static String line(String out, String prefix, String role) {
        return out.lines().filter(l -> l.startsWith(prefix) && l.endsWith(role)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + prefix + " " + role + " line in\n" + out));
    }

    /** Sends {@code first}, and after the server's PARAM_EXCHANGE {@code then}; true if the server then closed on it. */
    private boolean garbage(byte[] first, byte[] then) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(first);
            if (then != null) {
                assertEquals(Iperf3.PARAM_EXCHANGE, s.getInputStream().read());
                s.getOutputStream().write(then);
            } else {
                s.shutdownOutput();
            }
            return s.getInputStream().read() < 0;
        }
    }

    @Test
    void aClientSpeakingGarbageGetsIperf3sErrorAndTheServerServesTheNext() throws Exception {
        startServer();
        byte[] cookie = new byte[Iperf3.COOKIE_SIZE];
        Arrays.fill(cookie, (byte) 'x');
        assertTrue(garbage(cookie, new byte[] { 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff }), "closed on a 2 GB parameter block");
        assertTrue(garbage(cookie, new byte[] { 0, 0, 0, 3, 'n', 'o', '!' }), "closed on parameters that are not JSON");
        assertTrue(garbage("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII), null), "closed on a short cookie");
        Run r = client("-t", "1");
        assertEquals(0, r.status(), r.out());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!serverOut.toString(StandardCharsets.UTF_8).contains("(test #5)") && System.nanoTime() < deadline) {
            Thread.sleep(20); // the server prints its summary and listens again after the client is done
        }
        String served = serverOut.toString(StandardCharsets.UTF_8);
        assertTrue(served.contains("iperf3: error - unable to receive parameters from client: bad JSON length 2147483647\n"), served);
        assertTrue(served.contains("iperf3: error - unable to receive parameters from client: JSON: "), served);
        assertTrue(served.contains("iperf3: error - unable to receive cookie at server: the peer has closed the connection\n"), served);
        assertTrue(served.contains("Server listening on " + port + " (test #5)"), served);
    }

    @Test
    void tcpClientAndServerAgreeOnTheBytes() throws Exception {
        startServer();
        Run r = client("-t", "1");
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().startsWith("Connecting to host 127.0.0.1, port " + port), r.out());
        assertTrue(r.out().contains("[ ID] Interval           Transfer     Bitrate"), r.out());
        assertTrue(r.out().strip().endsWith("iperf Done."), r.out());
        double sent = bytes(line(r.out(), "[  5]", "sender"));
        double recv = bytes(line(r.out(), "[  5]", "receiver"));
        assertTrue(sent > 0 && recv <= sent * 1.01 && recv > sent * 0.5, r.out());
        assertTrue(serverOut.toString(StandardCharsets.UTF_8).contains("receiver"), serverOut.toString());
    }

    @Test
    void parallelStreamsPrintEachAndTheSum() throws Exception {
        startServer();
        Run r = client("-t", "1", "-P", "2");
        assertEquals(0, r.status(), r.out());
        line(r.out(), "[  5]", "sender");
        line(r.out(), "[  7]", "sender");
        line(r.out(), "[SUM]", "sender");
        line(r.out(), "[SUM]", "receiver");
    }

    @Test
    void reverseModeHasTheServerSend() throws Exception {
        startServer();
        Run r = client("-t", "1", "-R");
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("Reverse mode, remote host 127.0.0.1 is sending"), r.out());
        assertTrue(bytes(line(r.out(), "[  5]", "receiver")) > 0, r.out());
        assertTrue(serverOut.toString(StandardCharsets.UTF_8).contains("sender"), serverOut.toString());
    }

    @Test
    void byteCountEndsTheTestOnceSent() throws Exception {
        startServer();
        Run r = client("-n", "10M");
        assertEquals(0, r.status(), r.out());
        assertTrue(bytes(line(r.out(), "[  5]", "sender")) >= 10 * 1024 * 1024 * 0.999, r.out());
    }

    @Test
    void udpAtTheAskedRateCountsItsDatagrams() throws Exception {
        startServer();
        Run r = client("-u", "-b", "10M", "-t", "1", "-J");
        assertEquals(0, r.status(), r.out());
        Map<String, Object> doc = Iperf3Json.object(r.out());
        Map<?, ?> end = (Map<?, ?>) doc.get("end");
        Map<?, ?> sent = (Map<?, ?>) end.get("sum_sent");
        Map<?, ?> recv = (Map<?, ?>) end.get("sum_received");
        long s = (Long) sent.get("bytes");
        long rc = (Long) recv.get("bytes");
        assertTrue(s > 0 && rc <= s && rc > s / 2, r.out());
        assertTrue((Long) sent.get("packets") > 0, r.out());
        assertTrue(((Map<?, ?>) doc.get("start")).containsKey("test_start"));
        assertTrue(end.containsKey("sum"));
    }

    @Test
    void jsonHasIperf3sSections() throws Exception {
        startServer();
        Run r = client("-t", "1", "-J");
        assertEquals(0, r.status(), r.out());
        Map<String, Object> doc = Iperf3Json.object(r.out());
        assertTrue(doc.keySet().containsAll(List.of("start", "intervals", "end")), doc.keySet().toString());
        Map<?, ?> end = (Map<?, ?>) doc.get("end");
        assertTrue(end.keySet().containsAll(List.of("streams", "sum_sent", "sum_received", "cpu_utilization_percent")));
        assertTrue(!((List<?>) doc.get("intervals")).isEmpty());
    }

    // ---- against Linux's iperf3 on the loopback, where it is installed ----

    private static Path linuxIperf3() {
        for (String p : List.of("/usr/bin/iperf3", "/usr/local/bin/iperf3")) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        return null;
    }

    @Test
    void linuxClientCompletesAgainstOurServer() throws Exception {
        Path iperf3 = linuxIperf3();
        assumeTrue(iperf3 != null, "Linux's iperf3 is not installed (apt-get install iperf3)");
        startServer();
        for (List<String> extra : List.<List<String>>of(List.of(), List.of("-R"), List.of("-P", "2"), List.of("-u", "-b", "10M"))) {
            List<String> cmd = new ArrayList<>(List.of(iperf3.toString(), "-c", "127.0.0.1", "-p", Integer.toString(port), "-t", "1", "-J"));
            cmd.addAll(extra);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), extra + "\n" + out);
            Map<?, ?> end = (Map<?, ?>) Iperf3Json.object(out).get("end");
            assertTrue(end.containsKey("sum_sent") && end.containsKey("sum_received"), extra + "\n" + out + "\n" + serverOut);
            long s = (Long) ((Map<?, ?>) end.get("sum_sent")).get("bytes");
            long rc = (Long) ((Map<?, ?>) end.get("sum_received")).get("bytes");
            assertTrue(s > 0 && rc > 0 && rc <= s * 1.01, extra + "\n" + out);
        }
    }

    @Test
    void ourClientCompletesAgainstLinuxsServer() throws Exception {
        Path iperf3 = linuxIperf3();
        assumeTrue(iperf3 != null, "Linux's iperf3 is not installed (apt-get install iperf3)");
        Process srv = new ProcessBuilder(iperf3.toString(), "-s", "-p", Integer.toString(port)).redirectErrorStream(true)
                .redirectOutput(new java.io.File("target/linux-iperf3-server.log")).start();
        try {
            Thread.sleep(500);
            for (List<String> extra : List.<List<String>>of(List.of(), List.of("-R"), List.of("-P", "2"), List.of("-n", "5M"),
                    List.of("-u", "-b", "10M"))) {
                List<String> a = new ArrayList<>(List.of("-t", "1"));
                a.addAll(extra);
                Run r = client(a.toArray(String[]::new));
                // Linux's server answers ACCESS_DENIED, then re-opens its listener, after each client: a connect in
                // that gap is refused, or reset when it was queued on the listener the server then closed
                for (int tries = 0; tries < 20 && (r.out().contains("the server is busy") || r.out().contains("Connection refused")
                        || r.out().contains("control socket has closed unexpectedly: Connection reset")); tries++) {
                    Thread.sleep(200);
                    r = client(a.toArray(String[]::new));
                }
                assertEquals(0, r.status(), extra + "\n" + r.out());
                String prefix = extra.contains("-P") ? "[SUM]" : "[  5]";
                double s = bytes(line(r.out(), prefix, "sender"));
                double rc = bytes(line(r.out(), prefix, "receiver"));
                assertTrue(s > 0 && rc > 0 && rc <= s * 1.01, extra + "\n" + r.out());
            }
        } finally {
            srv.destroy();
            srv.waitFor(5, TimeUnit.SECONDS);
        }
    }
}

package org.modnet.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.itests.Processes.Result;

/**
 * Linux peers that misbehave, against modnet's httpd, curl and iperf3 over two real TAPs into one
 * namespace this test makes (tap A 10.94.0.0/24, tap B 10.94.1.0/24; Linux .1, modnet .2): a peer
 * that resets mid-transfer (SO_LINGER 0, and Linux's curl killed), a server that resets under
 * modnet's curl (curl's own 56, as Linux's curl gives), a client speaking garbage to {@code iperf3
 * -s}, and a TAP deleted under traffic. Each ends in the error Linux's tool gives or a clean close,
 * is counted (httpd's Resets, TCP's EstabResets, the TAP's carrier and errors), and a second client
 * is served afterwards. Needs root, /dev/net/tun, iproute2, curl, python3 and iperf3; skips otherwise.
 */
class BadPeerInteropTest {
    private static final String MODNET = InteropRig.MODNET;
    private final long id = InteropRig.ID;
    private final String netns = "mnt-bad-" + id;
    private final String tapA = "batap" + id;
    private final String tapB = "bbtap" + id;
    private final String instance = "it-bad-" + id;
    private final InteropRig rig = new InteropRig(instance);
    private Path dir;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Processes.isRoot(), "needs root to create TAPs and a network namespace (CI runs it as root)");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "needs /dev/net/tun");
        assumeTrue(Processes.onPath("ip") && Processes.onPath("curl") && Processes.onPath("python3") && Processes.onPath("iperf3"),
                "needs iproute2, curl, python3 and iperf3 (.ci/run installs them)");
        rig.start("ip link add " + tapA + " type tap ; ip link add " + tapB + " type tap", tapB, 30);
        rig.netns(netns);
        linux("ip", "-n", netns, "link", "set", "lo", "up");
        rig.wireTap(tapA, netns, "10.94.0");
        rig.wireTap(tapB, netns, "10.94.1");
        dir = rig.dir();
        byte[] data = new byte[10 << 20];
        new Random(94).nextBytes(data);
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

    private Result inNetns(String... command) throws Exception {
        return InteropRig.inNetns(netns, command);
    }

    /** A python3 script run in the Linux namespace; its standard output. */
    private String python(String script) throws Exception {
        Result r = inNetns("python3", "-c", script);
        assertEquals(0, r.status(), script + "\n" + r);
        return r.out();
    }

    private void awaitListening(int port, Process server, Path serverLog) throws Exception {
        rig.awaitListening(port, server, serverLog);
    }

    /** The value of counter {@code name} in {@code text} ("Name: 3" or "Name 3"). */
    private static long counter(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + ":?\\s+(\\d+)").matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private String fetchIntact(String address) throws Exception {
        Path got = dir.resolve("got-" + System.nanoTime());
        Result r = inNetns("curl", "-sS", "-m", "60", "-o", got.toString(), "-w", "%{http_code}", "http://" + address + ":8080/big.bin");
        assertEquals(0, r.status(), r.toString());
        assertEquals("200", r.out());
        assertEquals(HttpIT.sha256(dir.resolve("big.bin")), HttpIT.sha256(got), "intact");
        Files.delete(got);
        return r.out();
    }

    @Test
    void aPeerThatResetsMidTransferIsCountedAndTheNextClientIsServed() throws Exception {
        Path httpdLog = Files.createTempFile("modnet-httpd", ".log");
        Process httpd = Processes.start(httpdLog, MODNET, "attach", "-n", instance, "-c", "httpd -p 8080 -d " + dir);
        try {
            awaitListening(8080, httpd, httpdLog);
            long resetsBefore = counter(modnet("nstat -az TcpEstabResets"), "TcpEstabResets");
            // a client that reads 200 KB of the 10 MB and aborts: SO_LINGER 0, so its close is a RST (tcp_disconnect)
            String got = python("import socket, struct\n"
                    + "s = socket.create_connection(('10.94.0.2', 8080))\n"
                    + "s.sendall(b'GET /big.bin HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
                    + "n = 0\n"
                    + "while n < 200000:\n"
                    + "    n += len(s.recv(65536))\n"
                    + "s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n"
                    + "s.close()\n"
                    + "print(n >= 200000)\n");
            assertEquals("True\n", got);
            // Linux's curl killed mid-transfer: its kernel resets a socket closed with data unread
            Process curl = Processes.builder("ip", "netns", "exec", netns, "curl", "-s", "--limit-rate", "300k", "-o", "/dev/null",
                    "http://10.94.0.2:8080/big.bin").start();
            Thread.sleep(1500);
            assertTrue(curl.isAlive(), "curl was still fetching when killed");
            curl.destroyForcibly();
            curl.waitFor(10, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            String status = modnet("httpd status -p 8080");
            while (counter(status, "Resets") < 2 && System.nanoTime() < deadline) {
                Thread.sleep(200);
                status = modnet("httpd status -p 8080");
            }
            assertEquals(2, counter(status, "Resets"), "both aborts are counted in httpd's Resets:\n" + status);
            long resets = counter(modnet("nstat -az TcpEstabResets"), "TcpEstabResets");
            assertTrue(resets >= resetsBefore + 2, "and in TCP's EstabResets: " + resetsBefore + " -> " + resets);
            fetchIntact("10.94.0.2");
        } finally {
            Processes.run(MODNET, "attach", "-n", instance, "-c", "httpd stop -p 8080");
            assertTrue(httpd.waitFor(20, TimeUnit.SECONDS), "httpd ended on httpd stop");
            Files.deleteIfExists(httpdLog);
        }
    }

    @Test
    void aServerThatResetsMidBodyIsCurlsFiftySixFromBothCurls() throws Exception {
        // a server that announces 10 MB, sends 100 KB and aborts; it serves the two curls, one after the other
        String server = "import socket, struct, time\n"
                + "l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                + "l.bind(('10.94.0.1', 8000)); l.listen(4)\n"
                + "for i in range(2):\n"
                + "    c, _ = l.accept()\n"
                + "    c.recv(65536)\n"
                + "    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 10485760\\r\\n\\r\\n' + b'x' * 100000)\n"
                + "    time.sleep(0.3)\n"
                + "    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n"
                + "    c.close()\n";
        Path serverLog = Files.createTempFile("python-reset", ".log");
        Process p = Processes.start(serverLog, "ip", "netns", "exec", netns, "python3", "-c", server);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!inNetns("ss", "-t", "-l", "-n").out().contains("10.94.0.1:8000")) {
                assertTrue(System.nanoTime() < deadline && p.isAlive(), "the resetting server did not listen:\n" + Files.readString(serverLog));
                Thread.sleep(50);
            }
            String w = "%{http_code} %{exitcode}";
            Result linux = inNetns("curl", "-sS", "-o", "/dev/null", "-w", w, "http://10.94.0.1:8000/");
            Result ours = Processes.run(MODNET, "attach", "-n", instance, "-c", "curl -sS -o /dev/null -w '" + w + "' http://10.94.0.1:8000/");
            assertEquals(56, linux.status(), linux.toString());
            assertEquals(linux.status(), ours.status(), "Linux: " + linux + "\nmodnet: " + ours);
            assertEquals(linux.out(), ours.out());
            assertTrue(ours.err().contains("curl: (56) Recv failure: Connection reset by peer"), ours.toString());
            assertTrue(linux.err().contains("curl: (56) Recv failure: Connection reset by peer"), linux.toString());
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(serverLog);
        }
    }

    @Test
    void anIperf3ClientSpeakingGarbageIsRefusedAndTheServerGoesOnServing() throws Exception {
        Path serverLog = Files.createTempFile("modnet-iperf3-s", ".log");
        Process server = Processes.start(serverLog, MODNET, "attach", "-n", instance, "-c", "iperf3 -s");
        try {
            awaitListening(5201, server, serverLog);
            // each: what it sent, and whether modnet's server closed the control connection on it within 10 s
            String out = python("import socket, struct\n"
                    + "def run(first, after_state=None):\n"
                    + "    s = socket.create_connection(('10.94.0.2', 5201)); s.settimeout(10)\n"
                    + "    s.sendall(first)\n"
                    + "    if after_state is not None:\n"
                    + "        assert s.recv(1) == b'\\x09'\n" // PARAM_EXCHANGE
                    + "        s.sendall(after_state)\n"
                    + "    else:\n"
                    + "        s.shutdown(socket.SHUT_WR)\n"
                    + "    try:\n"
                    + "        while s.recv(4096): pass\n"
                    + "        r = 'closed'\n"
                    + "    except socket.timeout:\n"
                    + "        r = 'hung'\n"
                    + "    except ConnectionResetError:\n"
                    + "        r = 'closed'\n"
                    + "    s.close(); return r\n"
                    + "print(run(b'x' * 37, struct.pack('>I', 0x7fffffff)))\n" // a 2 GB parameter block
                    + "print(run(b'y' * 37, struct.pack('>I', 10) + b'{not json}'))\n"
                    + "print(run(b'GET / HTTP/1.1\\r\\n\\r\\n'))\n"); // not even a whole cookie, then FIN
            assertEquals("closed\nclosed\nclosed\n", out, Files.readString(serverLog));
            Result text = inNetns("iperf3", "-c", "10.94.0.2", "-t", "2");
            assertEquals(0, text.status(), text + "\n" + Files.readString(serverLog));
            assertTrue(text.out().contains("iperf Done."), text.toString());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.readString(serverLog).contains("(test #5)") && System.nanoTime() < deadline) {
                Thread.sleep(50); // the server prints its summary and listens again after the client is done
            }
            String served = Files.readString(serverLog);
            assertTrue(served.contains("iperf3: error - unable to receive parameters from client: bad JSON length 2147483647"), served);
            assertTrue(served.contains("iperf3: error - unable to receive parameters from client: JSON"), served);
            assertTrue(served.contains("iperf3: error - unable to receive cookie at server: the peer has closed the connection"), served);
            assertTrue(served.contains("Server listening on 5201 (test #5)"), "a fresh listen after the real client:\n" + served);
        } finally {
            server.destroy(); // the attached command is interrupted when its client goes
            server.waitFor(10, TimeUnit.SECONDS);
            server.destroyForcibly();
            Files.deleteIfExists(serverLog);
        }
    }

    @Test
    void aTapDeletedUnderTrafficLosesItsCarrierAndTheOtherTapIsStillServed() throws Exception {
        Path httpdLog = Files.createTempFile("modnet-httpd", ".log");
        Process httpd = Processes.start(httpdLog, MODNET, "attach", "-n", instance, "-c", "httpd -p 8080 -d " + dir);
        try {
            awaitListening(8080, httpd, httpdLog);
            Path slowLog = Files.createTempFile("curl-slow", ".log");
            Process slow = Processes.builder("ip", "netns", "exec", netns, "curl", "-sS", "--limit-rate", "500k", "-m", "8",
                    "-o", "/dev/null", "-w", "%{http_code} %{exitcode}", "http://10.94.0.2:8080/big.bin")
                    .redirectErrorStream(true).redirectOutput(slowLog.toFile()).start();
            Thread.sleep(1500);
            assertTrue(slow.isAlive(), "curl was fetching over tap A");
            linux("ip", "-n", netns, "link", "del", tapA); // the Linux end of tap A goes, under traffic
            assertTrue(slow.waitFor(30, TimeUnit.SECONDS), "Linux's curl ended");
            String slowOut = Files.readString(slowLog);
            assertTrue(slow.exitValue() != 0, "the transfer did not complete: " + slowOut);
            // modnet's tap A: no carrier, the failed reads counted; the stack goes on over tap B
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            String link = modnet("ip -s link show " + tapA);
            while (!link.contains("NO-CARRIER") && System.nanoTime() < deadline) {
                Thread.sleep(100);
                link = modnet("ip -s link show " + tapA);
            }
            assertTrue(link.contains("NO-CARRIER"), link);
            Matcher rx = Pattern.compile("RX:.*\\n\\s*\\d+\\s+\\d+\\s+(\\d+)").matcher(link);
            assertTrue(rx.find() && Long.parseLong(rx.group(1)) >= 1, "the failed read is an RX error:\n" + link);
            fetchIntact("10.94.1.2");
            assertFalse(modnet("ping -c 1 -W 2 10.94.1.1").contains(" 0 received"), "ping over tap B");
            Files.deleteIfExists(slowLog);
        } finally {
            Processes.run(MODNET, "attach", "-n", instance, "-c", "httpd stop -p 8080");
            assertTrue(httpd.waitFor(20, TimeUnit.SECONDS), "httpd ended on httpd stop");
            Files.deleteIfExists(httpdLog);
        }
    }
}

package org.modnet.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.itests.Processes.Result;

/**
 * UDP segmentation offload across a real TAP: modnet's {@code udpgso_bench_tx -S} (a socket with
 * {@code UDP_SEGMENT}) sends 14000-byte messages as datagrams of 1000 bytes; where Linux's tun took
 * {@code TUN_F_USO4|TUN_F_USO6} (Linux 6.2 and later) each send crosses the TAP as one
 * {@code VIRTIO_NET_HDR_GSO_UDP_L4} frame (modnet's {@code tx_gso_packets}) and Linux's UDP cuts it for
 * a python3 receiver, which gets every datagram intact and separately; with
 * {@code ethtool -K tap tx-udp-segmentation off} modnet's core cuts them before the TAP instead. The
 * Linux end (10.95.0.1) is in a namespace this test makes. Needs root, /dev/net/tun, iproute2, ethtool
 * and python3; skips otherwise, and where Linux refused USO.
 */
class UsoTapInteropTest {
    private static final int MESSAGES = 3;
    private static final int LEN = 14000;
    private static final int GSO = 1000;
    private final long id = InteropRig.ID;
    private final String netns = "mnt-uso-" + id;
    private final String tap = "utap" + id;
    private final InteropRig rig = new InteropRig("it-uso-" + id);
    private Path dir;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Processes.isRoot(), "needs root to create a TAP and a network namespace (CI runs it as root)");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "needs /dev/net/tun");
        assumeTrue(Processes.onPath("ip") && Processes.onPath("ethtool") && Processes.onPath("python3"),
                "needs iproute2, ethtool and python3 (.ci/run installs them)");
        dir = rig.dir();
        rig.start("ip link add " + tap + " type tap", tap, 30);
        rig.netns(netns);
        rig.wireTap(tap, netns, "10.95.0");
        // the neighbour first: a datagram queued for ARP goes out from the softirq when the reply comes,
        // beside the next send from the command's thread, and may pass it (so may Linux's)
        rig.modnet("ping -c 1 -W 5 10.95.0.1");
    }

    @AfterEach
    void tearDown() throws Exception {
        rig.close();
    }

    private String feature(String out, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + ": (\\S+)").matcher(out);
        assertTrue(m.find(), name + " in\n" + out);
        return m.group(1);
    }

    private long stat(String name) throws Exception {
        Matcher m = Pattern.compile("(?m)^\\s*" + name + ": (\\d+)$").matcher(rig.modnet("ethtool -S " + tap));
        assertTrue(m.find(), name);
        return Long.parseLong(m.group(1));
    }

    /** The bytes udpgso_bench_tx sends: {@link #MESSAGES} times 'a' to 'z' over LEN bytes. */
    private static String expectedSha() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] msg = new byte[LEN];
        for (int i = 0; i < LEN; i++) {
            msg[i] = (byte) ('a' + i % 26);
        }
        for (int k = 0; k < MESSAGES; k++) {
            md.update(msg);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * A python3 receiver in Linux's namespace reads the datagrams of one udpgso_bench_tx run; the
     * lengths it read, in order, and the sha256 of their bytes.
     */
    private String[] sendAndReceive(int port) throws Exception {
        int count = MESSAGES * ((LEN + GSO - 1) / GSO);
        Path script = dir.resolve("rx.py");
        Files.writeString(script, """
                import hashlib, socket, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
                s.bind(('10.95.0.1', int(sys.argv[1])))
                s.settimeout(20)
                sizes, h, heads = [], hashlib.sha256(), []
                while len(sizes) < int(sys.argv[2]):
                    d = s.recv(65535)
                    sizes.append(len(d))
                    h.update(d)
                    heads.append(d[:4].decode('ascii', 'replace'))
                print(' '.join(map(str, sizes)))
                print(h.hexdigest())
                print(' '.join(heads))
                """);
        Path out = dir.resolve("rx-" + port);
        Process rx = Processes.start(out, "ip", "netns", "exec", netns, "python3", script.toString(), String.valueOf(port),
                String.valueOf(count));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!InteropRig.inNetns(netns, "ss", "-u", "-l", "-n").out().contains(":" + port + " ")) {
            assertTrue(System.nanoTime() < deadline && rx.isAlive(), "the receiver did not bind:\n" + Files.readString(out));
            Thread.sleep(50);
        }
        rig.modnet("udpgso_bench_tx -4 -D 10.95.0.1 -p " + port + " -s " + LEN + " -S " + GSO + " -M " + MESSAGES);
        assertTrue(rx.waitFor(30, TimeUnit.SECONDS), "the receiver ended");
        assertEquals(0, rx.exitValue(), Files.readString(out));
        return Files.readString(out).strip().split("\n");
    }

    private static String expectedSizes() {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < MESSAGES; k++) {
            for (int off = 0; off < LEN; off += GSO) {
                b.append(b.isEmpty() ? "" : " ").append(Math.min(GSO, LEN - off));
            }
        }
        return b.toString();
    }

    /** Skips where Linux's tun refused USO: its side of the TAP then shows no tx-udp-segmentation. */
    private void assumeUso() throws Exception {
        Result k = InteropRig.inNetns(netns, "ethtool", "-k", tap);
        assumeTrue("on".equals(feature(k.out(), "tx-udp-segmentation")),
                "Linux's tun refused TUN_F_USO4|TUN_F_USO6 (before Linux 6.2): no USO to test on this kernel");
    }

    @Test
    void modnetsUdpSegmentSendCrossesTheTapWholeAndLinuxReadsEachDatagram() throws Exception {
        assumeUso();
        assertEquals("on", feature(rig.modnet("ethtool -k " + tap), "tx-udp-segmentation"), "modnet offers USO to Linux");
        long gso0 = stat("tx_gso_packets");
        long segs0 = stat("tx_gso_segments");
        // Linux's tcpdump on its side of the TAP, when there is one: it sees each USO frame as tun hands it up
        Path pcap = dir.resolve("linux.pcap");
        Process capture = null;
        if (Processes.onPath("tcpdump")) {
            Path capLog = dir.resolve("tcpdump.log");
            capture = Processes.start(capLog, "ip", "netns", "exec", netns, "tcpdump", "-i", tap, "-n", "-U", "--immediate-mode", "-w", pcap.toString(),
                    "udp port 8000");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.readString(capLog).contains("listening on")) {
                assertTrue(System.nanoTime() < deadline && capture.isAlive(), "tcpdump did not start:\n" + Files.readString(capLog));
                Thread.sleep(50);
            }
        }
        String[] got = sendAndReceive(8000);
        assertEquals(expectedSizes(), got[0], "every datagram, separately, the last of each send shorter");
        assertEquals(expectedSha(), got[1], "intact; each datagram's first bytes: " + got[2]);
        assertEquals(MESSAGES, stat("tx_gso_packets") - gso0, "one USO frame per send");
        assertEquals(MESSAGES * 14, stat("tx_gso_segments") - segs0);
        if (capture != null) {
            Thread.sleep(1500); // libpcap's buffer timeout, should it hold the last frames
            capture.destroy();
            capture.waitFor(10, TimeUnit.SECONDS);
            Result read = Processes.run("tcpdump", "-r", pcap.toString(), "-n");
            long whole = read.out().lines().filter(l -> l.contains("> 10.95.0.1.8000: UDP, length " + LEN)).count();
            assertEquals(MESSAGES, whole, "each send one " + LEN + "-byte UDP frame in Linux's capture:\n" + read);
        }
    }

    @Test
    void linuxsUsoFramesComeUpWholeAndModnetsUdpCutsThemForItsSocket() throws Exception {
        assumeUso();
        int port = 8002;
        int count = MESSAGES * ((LEN + GSO - 1) / GSO);
        Path out = dir.resolve("modnet-got");
        Path log = dir.resolve("modnet-nc.log");
        Process nc = Processes.start(log, InteropRig.MODNET, "attach", "-n", "it-uso-" + id, "-c",
                "nc -u -l -W " + count + " " + port + " > " + out);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!rig.modnet("ss -u -l -n").contains(":" + port + " ")) {
            assertTrue(System.nanoTime() < deadline && nc.isAlive(), "modnet's nc did not bind:\n" + Files.readString(log));
            Thread.sleep(50);
        }
        long gso0 = stat("rx_gso_packets");
        Path script = dir.resolve("tx.py");
        Files.writeString(script, """
                import socket, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(17, 103, int(sys.argv[2]))  # SOL_UDP, UDP_SEGMENT
                s.connect(('10.95.0.2', int(sys.argv[1])))
                msg = bytes(ord('a') + i % 26 for i in range(int(sys.argv[3])))
                for _ in range(int(sys.argv[4])):
                    s.send(msg)
                """);
        Result sent = InteropRig.inNetns(netns, "python3", script.toString(), String.valueOf(port), String.valueOf(GSO),
                String.valueOf(LEN), String.valueOf(MESSAGES));
        assertEquals(0, sent.status(), sent.toString());
        assertTrue(nc.waitFor(30, TimeUnit.SECONDS), "modnet's nc read " + count + " datagrams\n" + Files.readString(log));
        assertEquals((long) LEN * MESSAGES, Files.size(out));
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(Files.readAllBytes(out));
        assertEquals(expectedSha(), HexFormat.of().formatHex(md.digest()), "intact and in order");
        assertTrue(stat("rx_gso_packets") - gso0 >= 1, "Linux's sends came up as USO frames");
    }

    @Test
    void withTxUdpSegmentationOffModnetCutsTheDatagramsItself() throws Exception {
        assumeUso();
        rig.modnet("ethtool -K " + tap + " tx-udp-segmentation off");
        assertEquals("off", feature(rig.modnet("ethtool -k " + tap), "tx-udp-segmentation"));
        long gso0 = stat("tx_gso_packets");
        String[] got = sendAndReceive(8001);
        assertEquals(expectedSizes(), got[0]);
        assertEquals(expectedSha(), got[1], "each datagram's first bytes: " + got[2]);
        assertEquals(0, stat("tx_gso_packets") - gso0, "no GSO frame crossed");
    }
}

package org.modnet.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
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
 * Offloads across a real TAP (virtio-net's header, {@code TUNSETOFFLOAD}): Linux's OpenBSD {@code nc}
 * and modnet's move 100 MB each way intact while Linux hands modnet 64 KB TCP GSO frames and modnet
 * hands Linux its TSO skbs whole; with {@code ethtool -K tap tso off gro off} on modnet's side the
 * same transfers cross as MTU frames. The Linux end (10.94.0.1) is in a namespace this test makes,
 * modnet (10.94.0.2) runs as {@code bin/modnet}. Needs root, /dev/net/tun, iproute2, nc and ethtool
 * (.ci/run installs them); skips otherwise.
 */
class TapOffloadInteropTest {
    private static final String MODNET = InteropRig.MODNET;
    private static final long MB100 = 100L << 20;
    private final long id = InteropRig.ID;
    private final String netns = "mnt-gso-" + id;
    private final String tap = "gtap" + id;
    private final String instance = "it-gso-" + id;
    private final InteropRig rig = new InteropRig(instance);
    private Path dir;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Processes.isRoot(), "needs root to create a TAP and a network namespace (CI runs it as root)");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "needs /dev/net/tun");
        assumeTrue(Processes.onPath("ip") && Processes.onPath("nc") && Processes.onPath("ethtool"),
                "needs iproute2, OpenBSD nc and ethtool (.ci/run installs them)");
        dir = rig.dir();
        rig.start("ip link add " + tap + " type tap", tap, 30);
        rig.netns(netns);
        rig.wireTap(tap, netns, "10.94.0");
        linux("ip", "-n", netns, "link", "set", "lo", "up");
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

    /** One of modnet's {@code ethtool -S} counters for the TAP. */
    private long stat(String name) throws Exception {
        String out = modnet("ethtool -S " + tap);
        Matcher m = Pattern.compile("(?m)^\\s*" + name + ": (\\d+)$").matcher(out);
        assertTrue(m.find(), name + " in\n" + out);
        return Long.parseLong(m.group(1));
    }

    /** What {@code ethtool -k} on Linux's side of the TAP says of a feature. */
    private String linuxFeature(String feature) throws Exception {
        Result r = Processes.run("ip", "netns", "exec", netns, "ethtool", "-k", tap);
        Matcher m = Pattern.compile("(?m)^" + feature + ": (\\S+)").matcher(r.out());
        assertTrue(m.find(), feature + " in\n" + r);
        return m.group(1);
    }

    private Path randomFile(long size) throws Exception {
        Path f = dir.resolve("in-" + size);
        Random random = new Random(size);
        byte[] b = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(f)) {
            for (long done = 0; done < size; done += b.length) {
                random.nextBytes(b);
                out.write(b, 0, (int) Math.min(b.length, size - done));
            }
        }
        return f;
    }

    /** Linux's nc sends {@code in} to modnet's {@code nc -l}; the bytes modnet wrote to its file. */
    private Path linuxToModnet(Path in, int port) throws Exception {
        Path out = dir.resolve("modnet-got-" + port);
        Path listenerLog = dir.resolve("modnet-nc-" + port + ".log");
        Process listener = Processes.start(listenerLog, MODNET, "attach", "-n", instance, "-c", "nc -l " + port + " > " + out);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!modnet("ss -t -l -n").contains(":" + port + " ")) {
            assertTrue(System.nanoTime() < deadline && listener.isAlive(), "modnet's nc did not listen:\n" + Files.readString(listenerLog));
            Thread.sleep(50);
        }
        Result sent = Processes.run("ip", "netns", "exec", netns, "sh", "-c", "nc -N -w 30 10.94.0.2 " + port + " < " + in);
        assertEquals(0, sent.status(), sent.toString());
        assertTrue(listener.waitFor(60, TimeUnit.SECONDS), "modnet's nc ended with the connection\n" + Files.readString(listenerLog));
        return out;
    }

    /** modnet's nc sends {@code in} to Linux's {@code nc -l}; the bytes Linux wrote to its file. */
    private Path modnetToLinux(Path in, int port) throws Exception {
        Path out = dir.resolve("linux-got-" + port);
        // no -N: with its stdin at EOF at once, Linux's nc would send its FIN first, and modnet's nc stops
        // sending when the peer's FIN comes (OpenBSD nc sends on until its own input ends)
        Process listener = Processes.start(out, "ip", "netns", "exec", netns, "timeout", "120", "nc", "-l", String.valueOf(port));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Processes.run("ip", "netns", "exec", netns, "ss", "-t", "-l", "-n").out().contains(":" + port + " ")) {
            assertTrue(System.nanoTime() < deadline && listener.isAlive(), "Linux's nc did not listen");
            Thread.sleep(50);
        }
        modnet("nc -N 10.94.0.1 " + port + " < " + in);
        assertTrue(listener.waitFor(60, TimeUnit.SECONDS), "Linux's nc ended with the connection");
        return out;
    }

    @Test
    void linuxSendsOneHundredMegabytesAsGsoFramesAndModnetTakesThemWholeAndIntact() throws Exception {
        // TUNSETOFFLOAD gave Linux's side of the TAP TSO: it hands over GSO frames instead of cutting them
        assertEquals("on", linuxFeature("tcp-segmentation-offload"));
        assertEquals("on", linuxFeature("tx-checksumming"));
        Path in = randomFile(MB100);
        long gso0 = stat("rx_gso_packets");
        Path out = linuxToModnet(in, 5000);
        assertEquals(MB100, Files.size(out));
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(out));
        // segments larger than the MTU came in as GSO frames (virtio-net's rx_gso_packets), their
        // checksums left partial by Linux and taken so by modnet's TCP (rx_needs_csum)
        long gso = stat("rx_gso_packets") - gso0;
        long gsoBytes = stat("rx_gso_bytes");
        assertTrue(gso > 0 && gsoBytes / gso > 1514, "GSO frames larger than the MTU: " + gso + " frames, " + gsoBytes + " bytes");
        assertTrue(stat("rx_needs_csum") >= gso, "partial checksums taken");
        assertTrue(modnet("nstat -az TcpInErrs TcpInCsumErrors").matches("(?s).*TcpInCsumErrors\\s+0\\b.*"),
                "no segment refused for its checksum");
        System.out.println("Linux -> modnet: 100 MiB intact, " + gso + " GSO frames of " + gsoBytes / gso + " bytes on average");
    }

    @Test
    void modnetSendsOneHundredMegabytesWithTsoAndLinuxsCaptureShowsNoBadChecksum() throws Exception {
        assumeTrue(Processes.onPath("tcpdump") && Processes.onPath("tshark"), "needs tcpdump and tshark (.ci/run installs them)");
        assertTrue(modnet("ethtool -k " + tap).contains("tcp-segmentation-offload: on"));
        Path in = randomFile(MB100);
        Path pcap = dir.resolve("linux-side.pcap");
        Process capture = Processes.builder("ip", "netns", "exec", netns, "tcpdump", "-i", tap, "-c", "400", "-w",
                pcap.toString(), "tcp").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Thread.sleep(1000); // tcpdump is listening
        long gso0 = stat("tx_gso_packets");
        Path out = modnetToLinux(in, 5001);
        assertEquals(MB100, Files.size(out));
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(out));
        long gso = stat("tx_gso_packets") - gso0;
        long segs = stat("tx_gso_segments");
        assertTrue(gso > 0 && segs > gso, "modnet's TCP handed the TAP GSO skbs whole: " + gso + " of " + segs + " segments");
        assertTrue(capture.waitFor(30, TimeUnit.SECONDS), "tcpdump -c 400 finished");
        assertCaptureClean(pcap);
        System.out.println("modnet -> Linux: 100 MiB intact, " + gso + " TSO skbs carrying " + segs + " segments");
    }

    /**
     * tshark reads the capture with checksum validation on: no malformed packet, every IPv4 header sum
     * good, and every TCP sum good or, where tshark calls it bad, the pseudo-header sum a partial
     * checksum holds (CHECKSUM_PARTIAL, completed by no one because the bytes never leave the machine:
     * the same Linux's own capture of a veth transfer between two namespaces shows).
     */
    static void assertCaptureClean(Path pcap) throws Exception {
        Result malformed = Processes.run("tshark", "-r", pcap.toString(), "-o", "ip.check_checksum:TRUE", "-Y",
                "_ws.malformed || ip.checksum.status == 0");
        assertEquals(0, malformed.status(), malformed.toString());
        assertEquals("", malformed.out().strip(), "no malformed packet, no bad IPv4 header checksum");
        Result fields = Processes.run("tshark", "-r", pcap.toString(), "-o", "tcp.check_checksum:TRUE", "-T", "fields",
                "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.hdr_len", "-e", "tcp.len", "-e", "tcp.checksum", "-e",
                "tcp.checksum.status");
        assertEquals(0, fields.status(), fields.toString());
        int packets = 0;
        int partial = 0;
        for (String line : fields.out().split("\n")) {
            String[] f = line.strip().split("\t");
            if (f.length < 6) {
                continue;
            }
            packets++;
            if (f[5].equals("1")) {
                continue; // good
            }
            int pseudo = pseudoSum(f[0], f[1], Integer.parseInt(f[2]) + Integer.parseInt(f[3]));
            assertEquals(pseudo, Integer.decode(f[4]).intValue(), "a bad TCP checksum that is not a partial one: " + line);
            partial++;
        }
        assertTrue(packets > 100, "the capture holds the transfer: " + packets + " packets");
        System.out.println("capture: " + packets + " TCP packets, " + partial + " with a partial checksum, none bad");
    }

    /** The folded ones' complement sum of TCP's pseudo-header, as a partial checksum leaves it in the field. */
    private static int pseudoSum(String src, String dst, int tcpLen) {
        long s = 6 + tcpLen;
        for (String a : new String[] { src, dst }) {
            String[] o = a.split("\\.");
            s += (Integer.parseInt(o[0]) << 8 | Integer.parseInt(o[1])) + (Integer.parseInt(o[2]) << 8 | Integer.parseInt(o[3]));
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) s;
    }

    @Test
    void withTsoAndGroOffOnModnetsSideTheSameTransfersCrossAsMtuFrames() throws Exception {
        modnet("ethtool -K " + tap + " tso off gro off");
        String k = modnet("ethtool -k " + tap);
        assertTrue(k.contains("tcp-segmentation-offload: off") && k.contains("generic-receive-offload: off"), k);
        // modnet's interrupt thread renegotiates (TUNSETOFFLOAD without TSO4): Linux's side drops TSO
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!linuxFeature("tcp-segmentation-offload").equals("off")) {
            assertTrue(System.nanoTime() < deadline, "Linux's side of the TAP still has TSO");
            Thread.sleep(50);
        }
        long rx0 = stat("rx_gso_packets");
        long tx0 = stat("tx_gso_packets");
        Path in = randomFile(10L << 20);
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(linuxToModnet(in, 5002)));
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(modnetToLinux(in, 5003)));
        assertEquals(rx0, stat("rx_gso_packets"), "no GSO frame from Linux");
        assertEquals(tx0, stat("tx_gso_packets"), "no GSO skb to Linux");
        // and on again: Linux's side gets TSO back
        modnet("ethtool -K " + tap + " tso on gro on");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!linuxFeature("tcp-segmentation-offload").equals("on")) {
            assertTrue(System.nanoTime() < deadline, "Linux's side of the TAP did not get TSO back");
            Thread.sleep(50);
        }
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(linuxToModnet(in, 5004)));
        assertTrue(stat("rx_gso_packets") > rx0, "GSO frames again");
    }

    @Test
    void mtuFramesFromLinuxWithoutTsoAreMergedByModnetsGro() throws Exception {
        // Linux's side of the TAP cuts its own segments (no TSO, no GSO): MTU frames, which modnet's GRO
        // (generic-receive-offload, on) merges before TCP
        linux("ip", "netns", "exec", netns, "ethtool", "-K", tap, "tso", "off", "gso", "off");
        assertTrue(modnet("ethtool -k " + tap).contains("generic-receive-offload: on"));
        long gso0 = stat("rx_gso_packets");
        long merged0 = stat("rx_queue_0_gro_merged");
        long skbs0 = stat("rx_queue_0_gro_skbs");
        Path in = randomFile(10L << 20);
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(linuxToModnet(in, 5005)));
        assertEquals(gso0, stat("rx_gso_packets"), "no GSO frame from Linux");
        long merged = stat("rx_queue_0_gro_merged") - merged0;
        long skbs = stat("rx_queue_0_gro_skbs") - skbs0;
        // 10 MiB is some 7,240 frames of 1448 bytes: most of them appended to a held one
        assertTrue(merged > 3000 && skbs > 0, "frames merged by GRO: " + merged + " into " + skbs + " skbs");
        assertTrue(modnet("nstat -az TcpInCsumErrors").matches("(?s).*TcpInCsumErrors\\s+0\\b.*"), "no checksum refused");
        System.out.println("Linux (no TSO) -> modnet: 10 MiB intact, " + merged + " frames merged into " + skbs + " GRO skbs");
    }
}

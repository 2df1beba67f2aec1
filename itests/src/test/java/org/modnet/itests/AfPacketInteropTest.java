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
 * modnet on an existing Linux interface through the AF_PACKET driver: a veth pair the test makes,
 * {@code lxa} in Linux namespace A (10.95.0.1) and {@code lxb} in namespace B, where modnet's
 * {@code afpacket} device binds its packet socket ({@code dev lxb netns B}) with its own MAC and
 * address (10.95.0.2); Linux's stack in B has no address on lxb. Linux's ping, nc, curl and iperf3 in A
 * talk to modnet as to any host (Linux's TSO/GSO off on lxa: a packet socket on a TPACKET_V3 ring takes
 * no virtio-net header, so frames cross at most the MTU). Needs root, iproute2, ethtool, iputils-ping,
 * OpenBSD nc, curl, iperf3, tcpdump and tshark (.ci/run installs them); each test skips without its tools.
 */
class AfPacketInteropTest {
    private static final String MODNET = InteropRig.MODNET;
    private final long id = InteropRig.ID;
    private final String nsA = "mnafp-a-" + id;
    private final String nsB = "mnafp-b-" + id;
    private final String lxa = "afa" + id;
    private final String lxb = "afb" + id;
    private final String dev = "afp" + id;
    private final String instance = "it-afp-" + id;
    private final InteropRig rig = new InteropRig(instance);
    private Path dir;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Processes.isRoot(), "needs root for packet sockets and network namespaces (CI runs it as root)");
        assumeTrue(Processes.onPath("ip") && Processes.onPath("ping") && Processes.onPath("ethtool"),
                "needs iproute2, iputils-ping and ethtool (.ci/run installs them)");
        rig.netns(nsA);
        rig.netns(nsB);
        linux("ip", "-n", nsA, "link", "add", lxa, "type", "veth", "peer", "name", lxb, "netns", nsB);
        linux("ip", "-n", nsA, "addr", "add", "10.95.0.1/24", "dev", lxa);
        // Linux hands the veth frames of at most the MTU (no TSO/GSO super-frames) and gathers none (no GRO):
        // the packet socket sees the frames as on the wire; checksum offload stays on, so Linux's frames
        // come with the partial checksums the driver completes
        linux("ip", "netns", "exec", nsA, "ethtool", "-K", lxa, "tso", "off", "gso", "off");
        linux("ip", "netns", "exec", nsB, "ethtool", "-K", lxb, "gro", "off");
        linux("ip", "netns", "exec", nsB, "sysctl", "-q", "-w", "net.ipv6.conf." + lxb + ".disable_ipv6=1");
        linux("ip", "-n", nsA, "link", "set", "lo", "up");
        linux("ip", "-n", nsA, "link", "set", lxa, "up");
        linux("ip", "-n", nsB, "link", "set", lxb, "up");
        rig.start("ip link add " + dev + " type afpacket dev " + lxb + " netns " + nsB, dev, 60);
        modnet("ip addr add 10.95.0.2/24 dev " + dev + " ; ip link set " + dev + " up");
        dir = rig.dir();
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

    /** A column of the line under {@code RX:} or {@code TX:} of {@code ip -s link show}. */
    private static long ipStat(String text, String dir, int column) {
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length - 1; i++) {
            if (lines[i].trim().startsWith(dir + ":")) {
                return Long.parseLong(lines[i + 1].trim().split("\\s+")[column]);
            }
        }
        throw new AssertionError("no " + dir + " line in\n" + text);
    }

    private static long counter(String stats, String name) {
        return stats.lines().map(String::trim).filter(l -> l.startsWith(name + ":"))
                .mapToLong(l -> Long.parseLong(l.substring(name.length() + 1).trim())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in\n" + stats));
    }

    @Test
    void linuxPingIsAnsweredByModnetOnTheLinuxInterfaceAndTheCountersMove() throws Exception {
        String before = modnet("ip -s link show " + dev);
        Result ping = Processes.run("ip", "netns", "exec", nsA, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.95.0.2");
        assertEquals(0, ping.status(), ping.toString());
        assertTrue(ping.out().contains("3 packets transmitted, 3 received"), ping.toString());
        String back = modnet("ping -c 2 -i 0.2 10.95.0.1");
        assertTrue(back.contains("2 packets transmitted, 2 received"), back);

        String link = modnet("ip link show " + dev);
        assertTrue(link.contains("mtu 1500"), "the Linux interface's MTU\n" + link);
        Result neigh = Processes.run("ip", "-n", nsA, "neigh", "show", "10.95.0.2");
        String mac = link.lines().filter(l -> l.contains("link/ether")).findFirst().orElseThrow().trim().split("\\s+")[1];
        assertTrue(neigh.out().contains("lladdr " + mac), "Linux reached modnet's own MAC, not lxb's\n" + neigh + "\n" + link);

        String after = modnet("ip -s link show " + dev);
        assertTrue(ipStat(after, "RX", 1) - ipStat(before, "RX", 1) >= 4, "rx packets (3 echoes, ARP)\n" + before + after);
        assertTrue(ipStat(after, "TX", 1) - ipStat(before, "TX", 1) >= 5, "tx packets (3 replies, 2 echoes)\n" + before + after);
        assertTrue(ipStat(after, "RX", 0) > ipStat(before, "RX", 0), "rx bytes\n" + after);
        String stats = modnet("ethtool -S " + dev);
        assertTrue(counter(stats, "tp_packets") >= 4, "the kernel's PACKET_STATISTICS\n" + stats);
        assertEquals(0, counter(stats, "tp_drops"), stats);
        assertTrue(modnet("ethtool -i " + dev).contains("driver: af_packet"));
    }

    @Test
    void linuxNcMovesTenMegabytesToModnetsNcIntact() throws Exception {
        assumeTrue(Processes.onPath("nc"), "needs OpenBSD netcat (netcat-openbsd; .ci/run installs it)");
        Path in = dir.resolve("in");
        Path out = dir.resolve("out");
        byte[] data = new byte[10 << 20];
        new Random(95).nextBytes(data);
        Files.write(in, data);
        Path heard = dir.resolve("nc.log");
        Process listener = Processes.start(heard, MODNET, "attach", "-n", instance, "-c", "nc -l 5001 > " + out);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!modnet("ss -t -l -n").contains(":5001 ")) {
            assertTrue(System.nanoTime() < deadline && listener.isAlive(), "modnet's nc did not listen\n" + Files.readString(heard));
            Thread.sleep(50);
        }
        long t0 = System.nanoTime();
        Result sent = Processes.run("ip", "netns", "exec", nsA, "sh", "-c", "timeout 120 nc -N 10.95.0.2 5001 < " + in);
        assertEquals(0, sent.status(), sent.toString());
        assertTrue(listener.waitFor(60, TimeUnit.SECONDS), "modnet's nc ended at the end of the stream");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(data.length, Files.size(out));
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(out));
        String stats = modnet("ethtool -S " + dev);
        // Linux's TCP left its checksums for the (veth's) hardware: the driver finished them, modnet's TCP took them
        assertTrue(counter(stats, "rx_csum_completed") > 1000, stats);
        System.out.println("Linux nc moved 10 MiB to modnet's nc over AF_PACKET in " + ms + " ms; " + stats.replace('\n', ' '));
    }

    @Test
    void linuxCurlFetchesTenMegabytesFromModnetsHttpdIntact() throws Exception {
        assumeTrue(Processes.onPath("curl"), "needs curl (.ci/run installs it)");
        byte[] data = new byte[10 << 20];
        new Random(96).nextBytes(data);
        Files.write(dir.resolve("big.bin"), data);
        Path httpdLog = dir.resolve("httpd.log");
        Process httpd = Processes.start(httpdLog, MODNET, "attach", "-n", instance, "-c", "httpd -p 8080 -d " + dir);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!modnet("ss -t -l -n").contains(":8080 ")) {
                assertTrue(System.nanoTime() < deadline && httpd.isAlive(), "httpd did not listen:\n" + Files.readString(httpdLog));
                Thread.sleep(50);
            }
            String before = modnet("ip -s link show " + dev);
            Path got = dir.resolve("got.bin");
            Result r = Processes.run("ip", "netns", "exec", nsA, "curl", "-sS", "-m", "120", "-o", got.toString(), "-w",
                    "%{http_code} %{size_download} %{exitcode}\\n%{time_total} %{speed_download}", "http://10.95.0.2:8080/big.bin");
            assertEquals(0, r.status(), r.toString());
            assertTrue(r.out().startsWith("200 10485760 0\n"), r.out());
            assertEquals(HttpIT.sha256(dir.resolve("big.bin")), HttpIT.sha256(got));
            String after = modnet("ip -s link show " + dev);
            assertTrue(ipStat(after, "TX", 0) - ipStat(before, "TX", 0) > 10_485_760, "tx bytes\n" + before + after);
            System.out.println("Linux curl fetched 10 MiB from modnet's httpd over AF_PACKET (time_total, speed_download): "
                    + r.out().substring(r.out().indexOf('\n') + 1));
        } finally {
            Processes.run(MODNET, "attach", "-n", instance, "-c", "httpd stop -p 8080");
            httpd.waitFor(20, TimeUnit.SECONDS);
        }
    }

    private static final long MB100 = 100L << 20;

    private Path randomFile(String name, long size) throws Exception {
        Path f = dir.resolve(name);
        Random random = new Random(size ^ name.hashCode());
        byte[] b = new byte[1 << 20];
        try (java.io.OutputStream out = Files.newOutputStream(f)) {
            for (long done = 0; done < size; done += b.length) {
                random.nextBytes(b);
                out.write(b, 0, (int) Math.min(b.length, size - done));
            }
        }
        return f;
    }

    private void awaitModnetListener(int port, Process owner, Path ownerLog) throws Exception {
        rig.awaitListening(port, owner, ownerLog);
    }

    @Test
    void oneHundredMegabytesCrossEachWayBetweenLinuxNcAndModnetsNcIntactAndTheCaptureIsClean() throws Exception {
        assumeTrue(Processes.onPath("nc"), "needs OpenBSD netcat (netcat-openbsd; .ci/run installs it)");
        assumeTrue(Processes.onPath("tcpdump") && Processes.onPath("tshark"), "needs tcpdump and tshark (.ci/run installs them)");
        Path in = randomFile("in-100m", MB100);
        // Linux -> modnet, the first 400 TCP packets captured on Linux's end of the pair
        Path pcap = dir.resolve("lxa.pcap");
        Process capture = Processes.builder("ip", "netns", "exec", nsA, "tcpdump", "-i", lxa, "-c", "400", "-w",
                pcap.toString(), "tcp").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Thread.sleep(1000); // tcpdump is listening
        Path toModnet = dir.resolve("modnet-got");
        Path heard = dir.resolve("nc-l.log");
        Process listener = Processes.start(heard, MODNET, "attach", "-n", instance, "-c", "nc -l 5002 > " + toModnet);
        awaitModnetListener(5002, listener, heard);
        Result sent = Processes.run("ip", "netns", "exec", nsA, "sh", "-c", "timeout 300 nc -N 10.95.0.2 5002 < " + in);
        assertEquals(0, sent.status(), sent.toString());
        assertTrue(listener.waitFor(60, TimeUnit.SECONDS), "modnet's nc ended at the end of the stream");
        assertEquals(MB100, Files.size(toModnet));
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(toModnet));
        assertTrue(capture.waitFor(30, TimeUnit.SECONDS), "tcpdump -c 400 finished");
        TapOffloadInteropTest.assertCaptureClean(pcap);

        // modnet -> Linux: no -N on Linux's listener (its stdin at EOF would send its FIN first)
        Path toLinux = dir.resolve("linux-got");
        Process linuxListener = Processes.start(toLinux, "ip", "netns", "exec", nsA, "timeout", "300", "nc", "-l", "5003");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Processes.run("ip", "netns", "exec", nsA, "ss", "-t", "-l", "-n").out().contains(":5003 ")) {
            assertTrue(System.nanoTime() < deadline && linuxListener.isAlive(), "Linux's nc did not listen");
            Thread.sleep(50);
        }
        modnet("nc -N 10.95.0.1 5003 < " + in);
        assertTrue(linuxListener.waitFor(120, TimeUnit.SECONDS), "Linux's nc ended with the connection");
        assertEquals(MB100, Files.size(toLinux));
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(toLinux));
        String drops = modnet("ethtool -S " + dev);
        assertEquals(0, counter(drops, "tp_drops"), "the kernel dropped nothing on modnet's ring\n" + drops);
    }

    @Test
    void linuxIperf3CompletesAgainstModnetsServerBothWays() throws Exception {
        assumeTrue(Processes.onPath("iperf3"), "needs iperf3 (.ci/run installs it)");
        for (String extra : new String[] { "", "-R" }) {
            Path serverLog = dir.resolve("iperf3-s" + extra + ".log");
            Process server = Processes.start(serverLog, MODNET, "attach", "-n", instance, "-c", "iperf3 -s -1");
            try {
                awaitModnetListener(5201, server, serverLog);
                Result r = Processes.run("ip", "netns", "exec", nsA, "sh", "-c", "iperf3 -c 10.95.0.2 -t 3 " + extra);
                assertEquals(0, r.status(), extra + "\n" + r + "\n" + Files.readString(serverLog));
                assertTrue(r.out().contains("iperf Done."), r.toString());
                assertTrue(r.out().contains(" sender") && r.out().contains(" receiver"), "the summary's two lines\n" + r);
                System.out.println("Linux iperf3 -c 10.95.0.2 -t 3 " + extra + " (modnet's server over AF_PACKET)\n" + r.out());
                assertTrue(server.waitFor(20, TimeUnit.SECONDS), "iperf3 -s -1 ended after its one test\n" + Files.readString(serverLog));
            } finally {
                server.destroyForcibly();
            }
        }
    }

    @Test
    void fiftyParallelLinuxCurlsAllGetTheirFileIntactFromModnetsHttpd() throws Exception {
        assumeTrue(Processes.onPath("curl"), "needs curl (.ci/run installs it)");
        Path small = randomFile("small.bin", 200_000);
        String want = HttpIT.sha256(small);
        Path httpdLog = dir.resolve("httpd50.log");
        Process httpd = Processes.start(httpdLog, MODNET, "attach", "-n", instance, "-c", "httpd -p 8080 -d " + dir);
        try {
            awaitModnetListener(8080, httpd, httpdLog);
            java.util.List<Process> curls = new java.util.ArrayList<>();
            for (int i = 0; i < 50; i++) {
                curls.add(Processes.builder("ip", "netns", "exec", nsA, "curl", "-sS", "-m", "60", "-o", dir.resolve("c" + i).toString(),
                        "http://10.95.0.2:8080/small.bin").redirectErrorStream(true)
                        .redirectOutput(dir.resolve("c" + i + ".log").toFile()).start());
            }
            for (int i = 0; i < curls.size(); i++) {
                assertTrue(curls.get(i).waitFor(90, TimeUnit.SECONDS), "curl " + i + " ended");
                assertEquals(0, curls.get(i).exitValue(), "curl " + i + ": " + Files.readString(dir.resolve("c" + i + ".log")));
                assertEquals(want, HttpIT.sha256(dir.resolve("c" + i)), "curl " + i);
            }
        } finally {
            Processes.run(MODNET, "attach", "-n", instance, "-c", "httpd stop -p 8080");
            httpd.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void aLinuxInterfaceThatIsNotThereIsRefusedInIpsWords() throws Exception {
        Result r = Processes.run(MODNET, "attach", "-n", instance, "-c", "ip link add nope0 type afpacket dev nosuch0 netns " + nsB);
        assertTrue(r.status() != 0, r.toString());
        assertTrue(r.toString().contains("Cannot find device \"nosuch0\""), r.toString());
        Result ns = Processes.run(MODNET, "attach", "-n", instance, "-c", "ip link add nope0 type afpacket dev " + lxb + " netns nosuch-ns");
        assertTrue(ns.status() != 0 && ns.toString().contains("Cannot open network namespace \"nosuch-ns\""), ns.toString());
        assertTrue(Processes.run(MODNET, "attach", "-n", instance, "-c", "ip link show nope0").status() != 0, "nothing made");
    }

    /** Waits until {@code ip link show DEV} in modnet does (or does not) say NO-CARRIER. */
    private String awaitCarrier(boolean carrier) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String link;
        while ((link = modnet("ip link show " + dev)).contains("NO-CARRIER") == carrier) {
            assertTrue(System.nanoTime() < deadline, (carrier ? "the carrier came back\n" : "the carrier went\n") + link);
            Thread.sleep(100);
        }
        return link;
    }

    /**
     * The Linux side changes under modnet: modnet's device deleted and made again on the same
     * interface; the Linux interface set down (no carrier) and up (carrier, ping answered again);
     * the Linux interface deleted (no carrier, said once in the log) while the stack keeps serving.
     */
    @Test
    void theDeviceFollowsItsLinuxInterfaceDownUpAndAwayAndCanBeMadeAgain() throws Exception {
        modnet("ip link del " + dev);
        modnet("ip link add " + dev + " type afpacket dev " + lxb + " netns " + nsB + " ; ip addr add 10.95.0.2/24 dev " + dev
                + " ; ip link set " + dev + " up");
        Result ping = Processes.run("ip", "netns", "exec", nsA, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.95.0.2");
        assertEquals(0, ping.status(), "made again on the same interface\n" + ping);

        linux("ip", "-n", nsB, "link", "set", lxb, "down");
        awaitCarrier(false);
        linux("ip", "-n", nsB, "link", "set", lxb, "up");
        awaitCarrier(true);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        do {
            ping = Processes.run("ip", "netns", "exec", nsA, "ping", "-c", "1", "-W", "1", "10.95.0.2");
        } while (ping.status() != 0 && System.nanoTime() < deadline);
        assertEquals(0, ping.status(), "answered again once the Linux interface is up\n" + ping);

        linux("ip", "-n", nsB, "link", "del", lxb);
        awaitCarrier(false);
        assertTrue(modnet("ping -c 1 127.0.0.1").contains("1 received"), "the stack keeps serving");
        String log = Files.readString(rig.log());
        assertEquals(1, log.split("went away", -1).length - 1, "logged once:\n" + log);
    }

    /**
     * An 802.1Q-tagged frame from Linux: the kernel takes the tag off before a packet socket sees the
     * frame (TP_STATUS_VLAN_VALID, the tag beside it in the ring); the driver puts it back, so modnet's
     * tcpdump shows the tag (TCI 0x600a: priority 3, VLAN 10) between the addresses and the ARP type.
     */
    @Test
    void aVlanTagTheKernelTookOffIsBackInTheFrameModnetSees() throws Exception {
        assumeTrue(Processes.onPath("python3"), "needs python3 for a raw tagged frame (.ci/run installs it)");
        Path dump = dir.resolve("tcpdump.out");
        Process capture = Processes.start(dump, MODNET, "attach", "-n", instance, "-c", "tcpdump -i " + dev + " -e -n -X -c 1 vlan");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.readString(dump).contains("listening on")) {
            assertTrue(System.nanoTime() < deadline && capture.isAlive(), "tcpdump did not start\n" + Files.readString(dump));
            Thread.sleep(50);
        }
        String script = "import socket\n"
                + "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
                + "s.bind(('" + lxa + "',0))\n"
                + "arp=bytes.fromhex('0001080006040001')+b'\\x02'*6+bytes([10,94,0,1])+b'\\x00'*6+bytes([10,94,0,2])\n"
                + "s.send(b'\\xff'*6+b'\\x02'*6+bytes.fromhex('8100600a0806')+arp)\n";
        linux("ip", "netns", "exec", nsA, "python3", "-c", script);
        assertTrue(capture.waitFor(20, TimeUnit.SECONDS), "tcpdump -c 1 saw the frame\n" + Files.readString(dump));
        String seen = Files.readString(dump);
        assertTrue(seen.contains("ethertype 802.1Q (0x8100), length 46") && seen.contains("0x0000:  600a 0806 0001 0800"), seen);
        assertTrue(counter(modnet("ethtool -S " + dev), "rx_vlan_restored") >= 1);
    }

    /**
     * modnet's frames leave through the mmap'ed transmit ring: 10 MiB from modnet's nc reach Linux's
     * intact, every data frame through a ring slot, and the kernel is kicked fewer times than there are
     * frames (what a NAPI poll makes the stack send, ACK-clocked data among it, goes out with one kick).
     */
    @Test
    void modnetNcSendsTenMegabytesToLinuxThroughTheTransmitRingIntactInBatches() throws Exception {
        assumeTrue(Processes.onPath("nc"), "needs OpenBSD netcat (netcat-openbsd; .ci/run installs it)");
        Path in = randomFile("in-10m", 10L << 20);
        String before = modnet("ethtool -S " + dev);
        Path toLinux = dir.resolve("linux-got-10m");
        Process linuxListener = Processes.start(toLinux, "ip", "netns", "exec", nsA, "timeout", "120", "nc", "-l", "5004");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Processes.run("ip", "netns", "exec", nsA, "ss", "-t", "-l", "-n").out().contains(":5004 ")) {
            assertTrue(System.nanoTime() < deadline && linuxListener.isAlive(), "Linux's nc did not listen");
            Thread.sleep(50);
        }
        modnet("nc -N 10.95.0.1 5004 < " + in);
        assertTrue(linuxListener.waitFor(120, TimeUnit.SECONDS), "Linux's nc ended with the connection");
        assertEquals(10L << 20, Files.size(toLinux));
        assertEquals(HttpIT.sha256(in), HttpIT.sha256(toLinux));
        String after = modnet("ethtool -S " + dev);
        long frames = counter(after, "tx_ring_frames") - counter(before, "tx_ring_frames");
        long kicks = counter(after, "tx_ring_kicks") - counter(before, "tx_ring_kicks");
        assertTrue(frames >= (10 << 20) / 1448, "every data frame through a ring slot: " + frames + "\n" + after);
        assertTrue(kicks < frames, "kicked once per batch, not per frame: " + kicks + " kicks for " + frames + " frames\n" + after);
        System.out.println("modnet nc moved 10 MiB to Linux's nc over the AF_PACKET transmit ring: " + frames + " frames, " + kicks
                + " kicks, tx_ring_full " + (counter(after, "tx_ring_full") - counter(before, "tx_ring_full")));
    }

    /**
     * A transmit ring the kernel cannot empty (Linux's lxb holds modnet's frames in a 1 Mbit/s token
     * bucket, so their slots stay the kernel's): a UDP blast from modnet fills it, the frames it has no
     * slot for are dropped and counted (tx_ring_full, tx dropped) without the sender waiting, and once
     * Linux lets the frames go the ring is in use again.
     */
    @Test
    void aFullTransmitRingDropsAndCountsWithoutBlockingAndRecovers() throws Exception {
        assumeTrue(Processes.onPath("tc") && Processes.onPath("nc"), "needs tc (iproute2) and OpenBSD netcat (.ci/run installs them)");
        assertTrue(modnet("ping -c 1 -W 2 10.95.0.1").contains("1 received"), "the neighbour resolved first");
        Path blast = randomFile("blast", 4L << 20);
        String before = modnet("ethtool -S " + dev);
        String linkBefore = modnet("ip -s link show " + dev);
        // a listener, so Linux answers no port-unreachable that would end modnet's nc
        Process sink = Processes.start(dir.resolve("udp-sink"), "ip", "netns", "exec", nsA, "timeout", "60", "nc", "-u", "-l", "5005");
        linux("ip", "netns", "exec", nsB, "tc", "qdisc", "add", "dev", lxb, "root", "tbf", "rate", "1mbit", "burst", "10kb", "limit", "20mb");
        try {
            long t0 = System.nanoTime();
            modnet("nc -u -q 0 10.95.0.1 5005 < " + blast);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 30_000, "the sender never waits for the ring: " + ms + " ms");
        } finally {
            linux("ip", "netns", "exec", nsB, "tc", "qdisc", "del", "dev", lxb, "root");
            sink.destroyForcibly();
        }
        String after = modnet("ethtool -S " + dev);
        String linkAfter = modnet("ip -s link show " + dev);
        long full = counter(after, "tx_ring_full") - counter(before, "tx_ring_full");
        assertTrue(full > 0, "frames without a slot counted\n" + after);
        assertTrue(ipStat(linkAfter, "TX", 3) - ipStat(linkBefore, "TX", 3) >= full, "and in tx dropped\n" + linkAfter);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String ping;
        while (!(ping = modnet("ping -c 1 -W 1 10.95.0.1")).contains("1 received")) {
            assertTrue(System.nanoTime() < deadline, "the ring is given back once Linux sends its frames\n" + ping + modnet("ethtool -S " + dev));
        }
        System.out.println("a UDP blast into a held transmit ring: tx_ring_full " + full + ", tx_ring_kick_busy "
                + (counter(after, "tx_ring_kick_busy") - counter(before, "tx_ring_kick_busy")));
    }

    /**
     * {@code numrxqueues 2}: two packet sockets in one PACKET_FANOUT group (hash), each queue's ring read
     * by its own NAPI instance; Linux's flows (24 curls, each its own source port) spread over both
     * queues' counters, and every file arrives intact. {@code ethtool -l} shows the two channels.
     */
    @Test
    void withTwoQueuesLinuxFlowsSpreadOverBothAndAllArriveIntact() throws Exception {
        assumeTrue(Processes.onPath("curl"), "needs curl (.ci/run installs it)");
        modnet("ip link del " + dev);
        modnet("ip link add " + dev + " type afpacket dev " + lxb + " netns " + nsB + " numrxqueues 2 ; ip addr add 10.95.0.2/24 dev " + dev
                + " ; ip link set " + dev + " up");
        String channels = modnet("ethtool -l " + dev);
        assertTrue(channels.contains("Current hardware settings:") && channels.substring(channels.indexOf("Current hardware settings:"))
                .contains("Combined:\t2"), channels);
        assertTrue(modnet("ip -d link show " + dev).contains("numrxqueues 2"), modnet("ip -d link show " + dev));
        Path small = randomFile("small2q.bin", 300_000);
        String want = HttpIT.sha256(small);
        Path httpdLog = dir.resolve("httpd2q.log");
        Process httpd = Processes.start(httpdLog, MODNET, "attach", "-n", instance, "-c", "httpd -p 8080 -d " + dir);
        try {
            awaitModnetListener(8080, httpd, httpdLog);
            java.util.List<Process> curls = new java.util.ArrayList<>();
            for (int i = 0; i < 24; i++) {
                curls.add(Processes.builder("ip", "netns", "exec", nsA, "curl", "-sS", "-m", "60", "-o", dir.resolve("q" + i).toString(),
                        "http://10.95.0.2:8080/small2q.bin").redirectErrorStream(true)
                        .redirectOutput(dir.resolve("q" + i + ".log").toFile()).start());
            }
            for (int i = 0; i < curls.size(); i++) {
                assertTrue(curls.get(i).waitFor(90, TimeUnit.SECONDS), "curl " + i + " ended");
                assertEquals(0, curls.get(i).exitValue(), "curl " + i + ": " + Files.readString(dir.resolve("q" + i + ".log")));
                assertEquals(want, HttpIT.sha256(dir.resolve("q" + i)), "curl " + i);
            }
        } finally {
            Processes.run(MODNET, "attach", "-n", instance, "-c", "httpd stop -p 8080");
            httpd.waitFor(20, TimeUnit.SECONDS);
        }
        String stats = modnet("ethtool -S " + dev);
        for (int q = 0; q < 2; q++) {
            assertTrue(counter(stats, "rx_queue_" + q + "_packets") > 100, "queue " + q + " had its share of the flows\n" + stats);
            assertTrue(counter(stats, "rx_queue_" + q + "_tp_packets") > 100, "queue " + q + "'s socket in the fanout group\n" + stats);
            assertTrue(counter(stats, "rx_queue_" + q + "_polls") > 0, "polled by its own NAPI instance\n" + stats);
        }
        assertEquals(0, counter(stats, "tp_drops"), stats);
        System.out.println("24 Linux curls over 2 AF_PACKET queues (fanout hash): rx_queue_0_packets " + counter(stats, "rx_queue_0_packets")
                + ", rx_queue_1_packets " + counter(stats, "rx_queue_1_packets"));
    }

    /**
     * {@code numrxqueues 2} before {@code type} (where iproute2 takes it for every kind: rtnl_create_link's
     * IFLA_NUM_RX_QUEUES) makes the device with two sockets in the fanout group, as after the type. The
     * driver has no {@code set_channels}: {@code ethtool -L DEV combined 1} is refused in the words and
     * status Linux's ethtool gives for a device without it (its lo, asked in namespace A), and both queues
     * and both sockets stay, the device still answering.
     */
    @Test
    void numrxqueuesBeforeTheTypeMakesTheQueuesAndEthtoolLIsRefusedAsOnLinux() throws Exception {
        modnet("ip link del " + dev);
        modnet("ip link add " + dev + " numrxqueues 2 type afpacket dev " + lxb + " netns " + nsB + " ; ip addr add 10.95.0.2/24 dev " + dev
                + " ; ip link set " + dev + " up");
        String channels = modnet("ethtool -l " + dev);
        assertTrue(channels.substring(channels.indexOf("Current hardware settings:")).contains("Combined:\t2"), channels);
        assertTrue(modnet("ip -d link show " + dev).contains("numrxqueues 2"), modnet("ip -d link show " + dev));

        Result linux = Processes.run("ip", "netns", "exec", nsA, "ethtool", "-L", "lo", "combined", "1");
        Result ours = rig.attach("ethtool -L " + dev + " combined 1");
        assertEquals("netlink error: Operation not supported\n", linux.err(), linux.toString());
        assertEquals(1, linux.status(), linux.toString());
        assertTrue(ours.status() != 0 && (ours.out() + ours.err()).contains(linux.err()), ours.toString());
        channels = modnet("ethtool -l " + dev);
        assertTrue(channels.substring(channels.indexOf("Current hardware settings:")).contains("Combined:\t2"), "both channels stay\n" + channels);

        Result ping = Processes.run("ip", "netns", "exec", nsA, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.95.0.2");
        assertTrue(ping.out().contains("3 packets transmitted, 3 received"), ping.toString());
        String stats = modnet("ethtool -S " + dev);
        // both sockets still there (a queue's counters only with several), between them the pings' frames
        long perQueue = counter(stats, "rx_queue_0_tp_packets") + counter(stats, "rx_queue_1_tp_packets");
        assertTrue(perQueue >= 3, stats);
    }
}

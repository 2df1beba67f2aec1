package org.modnet.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.itests.Processes.Result;

/**
 * modnet on a real TAP whose Linux end sits in a network namespace this test makes: Linux's ping
 * answered by modnet, modnet's ping answered by Linux, ARP on both sides. Everything stays inside the
 * test's own namespace. Needs root, /dev/net/tun, iproute2 and iputils-ping (CI installs them).
 */
class TapInteropTest {
    private static final String MODNET = InteropRig.MODNET;
    private final long id = InteropRig.ID;
    private final String netns = "mnt-it-" + id;
    private final String tap = "mtap" + id;
    private final String instance = "it-tap-" + id;
    private final InteropRig rig = new InteropRig(instance);

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Processes.isRoot(), "needs root to create a TAP and a network namespace (CI runs it as root)");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "needs /dev/net/tun");
        assumeTrue(Processes.onPath("ip") && Processes.onPath("ping"), "needs iproute2 and iputils-ping (.ci/run installs them)");
        rig.start("ip link add " + tap + " type tap", tap, 30);
        rig.netns(netns);
        wire(tap, "10.99.0");
    }

    /** The Linux end of a TAP into the test's namespace as NET.1, modnet's end NET.2, both up. */
    private void wire(String dev, String net) throws Exception {
        rig.wireTap(dev, netns, net);
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

    @Test
    void linuxPingIsAnsweredByModnetAndModnetPingByLinuxWithArpOnBothSides() throws Exception {
        Result ping = Processes.run("ip", "netns", "exec", netns, "ping", "-c", "3", "-W", "2", "10.99.0.2");
        assertEquals(0, ping.status(), ping.toString());
        assertTrue(ping.out().contains("3 packets transmitted, 3 received"), ping.toString());

        String back = modnet("ping -c 2 -i 0.2 10.99.0.1");
        assertTrue(back.contains("2 packets transmitted, 2 received"), back);

        Result neigh = Processes.run("ip", "-n", netns, "neigh", "show", "10.99.0.2");
        assertTrue(neigh.out().contains("lladdr"), "Linux learned modnet's address\n" + neigh);
        assertTrue(modnet("ip neigh").contains("10.99.0.1 dev " + tap + " lladdr"), "modnet learned Linux's");
    }

    @Test
    void aCaptureOfLinuxPingingModnetOpensInTsharkWithNoMalformedPacketNorChecksumError() throws Exception {
        assumeTrue(Processes.onPath("tshark"), "needs tshark (.ci/run installs it)");
        Path pcap = Files.createTempFile("modnet-tap", ".pcap");
        Path said = Files.createTempFile("modnet-tap-tcpdump", ".out");
        Process capture = Processes.builder(MODNET, "attach", "-n", instance, "-c",
                "tcpdump -i " + tap + " -c 8 -w " + pcap + " icmp or arp").redirectErrorStream(true)
                .redirectOutput(said.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(said).contains("listening on")) { // the tap is registered (a loaded machine starts the client late)
            assertTrue(System.nanoTime() < deadline && capture.isAlive(), "tcpdump did not start:\n" + Files.readString(said));
            Thread.sleep(50);
        }
        Thread.sleep(200); // it says so just before it registers its handler
        Result ping = Processes.run("ip", "netns", "exec", netns, "ping", "-c", "3", "-s", "2000", "-W", "2", "10.99.0.2");
        assertEquals(0, ping.status(), ping.toString());
        assertTrue(capture.waitFor(20, TimeUnit.SECONDS), "tcpdump -c 8 finished");
        Result all = Processes.run("tshark", "-r", pcap.toString(), "-o", "ip.check_checksum:TRUE");
        assertEquals(0, all.status(), all.toString());
        assertTrue(all.out().contains("Echo (ping) request") && all.out().contains("Echo (ping) reply"), all.toString());
        Result bad = Processes.run("tshark", "-r", pcap.toString(), "-o", "ip.check_checksum:TRUE", "-Y",
                "_ws.malformed || _ws.expert.severity >= warning || ip.checksum.status == 0");
        assertEquals("", bad.out().strip(), "no malformed packet, no warning, no bad checksum\n" + all.out());
        Files.deleteIfExists(pcap);
        Files.deleteIfExists(said);
    }

    @Test
    void aLinuxPingOfFourThousandBytesIsReassembledAndAnsweredInFragments() throws Exception {
        Result ping = Processes.run("ip", "netns", "exec", netns, "ping", "-c", "2", "-s", "4000", "-W", "2", "10.99.0.2");
        assertEquals(0, ping.status(), ping.toString());
        assertTrue(ping.out().contains("4008 bytes from 10.99.0.2"), ping.toString());
        assertTrue(modnet("nstat -az IpReasmOKs").contains("IpReasmOKs                      2"));
    }

    @Test
    void linuxNcAndModnetNcExchangeDatagramsBothWays() throws Exception {
        assumeTrue(Processes.onPath("nc"), "needs OpenBSD netcat (netcat-openbsd; .ci/run installs it)");
        // Linux -> modnet: modnet's nc listens for one datagram
        Path heard = Files.createTempFile("modnet-nc", ".out");
        Process listener = Processes.start(heard, MODNET, "attach", "-n", instance, "-c", "nc -u -l -W 1 5000");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!modnet("ss -u -a -n").contains(":5000")) {
            assertTrue(System.nanoTime() < deadline, "modnet's nc did not bind");
            Thread.sleep(50);
        }
        Result sent = Processes.run("ip", "netns", "exec", netns, "sh", "-c", "echo hello-from-linux | nc -u -w 1 10.99.0.2 5000");
        assertEquals(0, sent.status(), sent.toString());
        assertTrue(listener.waitFor(20, TimeUnit.SECONDS), "modnet's nc ended after its datagram");
        assertEquals("hello-from-linux\n", Files.readString(heard));
        // Linux handed the datagram over with its checksum to finish (the virtio-net header's NEEDS_CSUM):
        // left partial (CHECKSUM_PARTIAL: it never left the machine), and taken so by modnet's UDP
        assertTrue(ethtool("rx_needs_csum") >= 1, modnet("ethtool -S " + tap));
        // modnet -> Linux: Linux's nc listens for one datagram
        Path linuxHeard = Files.createTempFile("linux-nc", ".out");
        Process linuxListener = Processes.start(linuxHeard, "ip", "netns", "exec", netns, "timeout", "20", "nc", "-u", "-l", "-W", "1", "6000");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Processes.run("ip", "netns", "exec", netns, "ss", "-u", "-a", "-n").out().contains(":6000")) {
            assertTrue(System.nanoTime() < deadline, "Linux's nc did not bind");
            Thread.sleep(50);
        }
        modnet("echo hello-from-modnet | nc -u -q 0.5 10.99.0.1 6000");
        assertTrue(linuxListener.waitFor(20, TimeUnit.SECONDS), "Linux's nc ended after its datagram");
        assertEquals("hello-from-modnet\n", Files.readString(linuxHeard));
        assertTrue(modnet("nstat -az UdpInDatagrams UdpOutDatagrams").contains("UdpOutDatagrams"), "counted");
        Files.deleteIfExists(heard);
        Files.deleteIfExists(linuxHeard);
    }

    @Test
    void garbageRuntAndOversizedFramesFromLinuxAreCountedAndTheStackKeepsServing() throws Exception {
        assumeTrue(Processes.onPath("python3"), "needs python3 for raw frames (.ci/run installs it)");
        String before = modnet("ip -s link show " + tap);
        // 100 random frames, a bare Ethernet header with IPv4 and nothing after it, and an IPv4 header
        // that lies about its length, sent raw from the Linux end of the TAP
        String script = "import socket,os\n"
                + "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
                + "s.bind(('" + tap + "',0))\n"
                + "for n in (60,61,100,1514)*25: s.send(os.urandom(n))\n"
                + "mac=open('/sys/class/net/" + tap + "/address').read()\n"
                + "s.send(b'\\xff'*6+b'\\x02'*6+b'\\x08\\x00')\n"
                + "s.send(b'\\xff'*6+b'\\x02'*6+b'\\x08\\x00'+b'\\x45\\x00\\xff\\xff'+b'\\x00'*40)\n";
        Result sent = Processes.run("ip", "netns", "exec", netns, "python3", "-c", script);
        assertEquals(0, sent.status(), sent.toString());
        String afterGarbage = modnet("ip -s link show " + tap + "; nstat -az IpInHdrErrors IpExtInTruncatedPkts");
        // a frame larger than modnet's MTU: Linux's side allows 9000 bytes, modnet's 1500
        linux("ip", "-n", netns, "link", "set", tap, "mtu", "9000");
        Result big = Processes.run("ip", "netns", "exec", netns, "ping", "-M", "do", "-s", "4000", "-c", "1", "-W", "1", "10.99.0.2");
        assertTrue(big.status() != 0, "no reply to a frame modnet cannot take\n" + big);
        linux("ip", "-n", netns, "link", "set", tap, "mtu", "1500");
        // every one of them is on a counter, and the stack still answers
        String after = modnet("ip -s link show " + tap + "; nstat -az IpInHdrErrors IpExtInTruncatedPkts");
        long dropped = counters(after) - counters(before);
        assertTrue(dropped >= 3, "the bad frames were counted:\n" + before + "\n" + after);
        assertTrue(counters(after) > counters(afterGarbage), "the oversized frame was counted:\n" + afterGarbage + "\n" + after);
        Result ping = Processes.run("ip", "netns", "exec", netns, "ping", "-c", "2", "-W", "2", "10.99.0.2");
        assertEquals(0, ping.status(), "the stack keeps serving\n" + ping);
    }

    /**
     * Native XDP on the TAP: {@code ip link set ... xdp obj} picks the driver's own hook (the TAP runs
     * the program on its read buffer before any skb, as tun does), shown as {@code xdp}; Linux's ping
     * is dropped there and counted; {@code xdpgeneric} moves it to the generic hook; off restores ping.
     */
    @Test
    void xdpDropIcmpRunsNativelyInTheTapDriver() throws Exception {
        assumeTrue(Processes.onPath("clang"), "needs clang and libbpf-dev (.ci/run installs them)");
        Path root = Processes.modnet().getParent().getParent();
        Path obj = Files.createTempFile("xdp_drop_icmp", ".o");
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        linux("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu", "-c",
                root.resolve("bundles/ebpf/src/test/resources/bpf/xdp_drop_icmp.c").toString(), "-o", obj.toString());
        modnet("ip link set dev " + tap + " xdp obj " + obj + " sec xdp");
        String link = modnet("ip link show " + tap);
        assertTrue(link.contains(" xdp ") && !link.contains("xdpgeneric") && link.contains("prog/xdp id"), link);
        assertTrue(modnet("bpftool net show").contains(tap + "(") , "bpftool sees it");
        assertTrue(modnet("bpftool net show").contains(") driver id"), "in driver mode");
        Result ping = Processes.run("ip", "netns", "exec", netns, "ping", "-c", "2", "-i", "0.2", "-W", "1", "10.99.0.2");
        assertTrue(ping.out().contains("2 packets transmitted, 0 received"), ping.toString());
        assertTrue(ethtool("xdp_drop") >= 2, modnet("ethtool -S " + tap));

        modnet("ip link set dev " + tap + " xdp off ; ip link set dev " + tap + " xdpgeneric obj " + obj + " sec xdp");
        assertTrue(modnet("ip link show " + tap).contains("xdpgeneric"), "the generic hook when asked for");
        modnet("ip link set dev " + tap + " xdp off");
        Result back = Processes.run("ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "2", "10.99.0.2");
        assertEquals(0, back.status(), "detached: ping answered again\n" + back);
        Files.deleteIfExists(obj);
    }

    /**
     * A multi-queue TAP: a file descriptor per queue, each its own receive queue and NAPI instance.
     * Linux spreads flows over the queues by their hash, so datagrams from 64 source ports land on
     * both; ping crosses it as over a single queue.
     */
    @Test
    void aMultiQueueTapSpreadsLinuxFlowsOverItsReceiveQueues() throws Exception {
        assumeTrue(Processes.onPath("python3"), "needs python3 to send from many ports (.ci/run installs it)");
        String mq = "mq" + id;
        modnet("ip link add " + mq + " type tap multi_queue numqueues 2");
        // a transmit queue per file too, and so mq with a default per queue, as Linux's multi-queue tun shows
        String prio = "bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1";
        assertEquals("qdisc mq 0: root \nqdisc pfifo_fast 0: parent :2 " + prio + "\nqdisc pfifo_fast 0: parent :1 " + prio + "\n",
                modnet("tc qdisc show dev " + mq));
        assertTrue(modnet("ip link show " + mq).contains(" qdisc mq "), "ip link shows the root");
        wire(mq, "10.98.0");
        Result ping = Processes.run("ip", "netns", "exec", netns, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.98.0.2");
        assertEquals(0, ping.status(), ping.toString());
        String script = "import socket\n"
                + "for p in range(40000, 40064):\n"
                + "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                + "    s.bind(('10.98.0.1', p))\n"
                + "    s.sendto(b'x' * 32, ('10.98.0.2', 9))\n"
                + "    s.close()\n";
        Result sent = Processes.run("ip", "netns", "exec", netns, "python3", "-c", script);
        assertEquals(0, sent.status(), sent.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String stats;
        while (true) {
            stats = modnet("ethtool -S " + mq);
            long q0 = counter(stats, "rx_queue_0_packets");
            long q1 = counter(stats, "rx_queue_1_packets");
            if (q0 + q1 >= 64 + 2 || System.nanoTime() > deadline) {
                assertTrue(q0 > 0 && q1 > 0, "both queues received:\n" + stats);
                break;
            }
            Thread.sleep(50);
        }
        assertEquals(2, counter(stats, "queues"));
        modnet("ip link del " + mq);
    }

    /** An existing persistent TAP ({@code ip tuntap add}) is attached, not made; it stays when modnet lets it go. */
    @Test
    void anExistingPersistentTapIsAttachedAndOutlivesModnetsDevice() throws Exception {
        String p = "pt" + id;
        linux("ip", "tuntap", "add", "dev", p, "mode", "tap");
        try {
            Result wrong = Processes.run(MODNET, "attach", "-n", instance, "-c", "ip link add " + p + " type tap multi_queue");
            assertTrue(wrong.status() != 0 && wrong.toString().contains("multi_queue must match"),
                    "a single-queue TAP cannot be attached as multi-queue\n" + wrong);
            modnet("ip link add " + p + " type tap");
            wire(p, "10.97.0");
            Result ping = Processes.run("ip", "netns", "exec", netns, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.97.0.2");
            assertEquals(0, ping.status(), ping.toString());
            modnet("ip link del " + p);
            Result still = Processes.run("ip", "-n", netns, "link", "show", p);
            assertEquals(0, still.status(), "the persistent TAP is still there\n" + still);
        } finally {
            Processes.run("ip", "-n", netns, "tuntap", "del", "dev", p, "mode", "tap");
            Processes.run("ip", "tuntap", "del", "dev", p, "mode", "tap");
        }
    }

    private static long counter(String stats, String name) {
        return stats.lines().map(String::trim).filter(l -> l.startsWith(name + ":"))
                .mapToLong(l -> Long.parseLong(l.substring(name.length() + 1).trim())).findFirst().orElse(0);
    }

    /**
     * A flood faster than modnet takes it fills the queues between the two stacks: whatever is lost is
     * on a counter — Linux's TAP queue (its TX drops), modnet's device, or modnet's UDP (no port) — the
     * sums match what was sent, and the stack keeps serving.
     */
    @Test
    void aFloodThatFillsTheQueuesLosesNothingUncounted() throws Exception {
        assumeTrue(Processes.onPath("python3"), "needs python3 for the flood (.ci/run installs it)");
        Processes.run("ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "2", "10.99.0.2"); // ARP resolved first
        String script = "import socket\n"
                + "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                + "n = 0\n"
                + "for i in range(200000):\n"
                + "    try:\n"
                + "        s.sendto(b'f' * 64, ('10.99.0.2', 9))\n"
                + "        n += 1\n"
                + "    except OSError:\n"
                + "        pass\n"
                + "print(n)\n";
        long linuxDrops0 = linuxTxDrops();
        String before = modnet("ip -s link show " + tap + " ; nstat -az UdpNoPorts UdpInErrors IpInDiscards");
        Result sent = Processes.run("ip", "netns", "exec", netns, "python3", "-c", script);
        assertEquals(0, sent.status(), sent.toString());
        long n = Long.parseLong(sent.out().strip());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long accounted;
        String after;
        do {
            Thread.sleep(200);
            after = modnet("ip -s link show " + tap + " ; nstat -az UdpNoPorts UdpInErrors IpInDiscards");
            accounted = (nstat(after, "UdpNoPorts") - nstat(before, "UdpNoPorts")) + (nstat(after, "UdpInErrors") - nstat(before, "UdpInErrors"))
                    + (nstat(after, "IpInDiscards") - nstat(before, "IpInDiscards")) + (counters(after) - counters(before))
                    + (linuxTxDrops() - linuxDrops0);
        } while (accounted < n && System.nanoTime() < deadline);
        // at least every datagram; a few more when Linux's own frames (IPv6 neighbour discovery, which
        // modnet does not speak) were dropped and counted meanwhile
        String why = "every datagram sent is on a counter\n" + before + "\n" + after + "\nLinux TAP TX drops " + (linuxTxDrops() - linuxDrops0);
        assertTrue(accounted >= n && accounted <= n + 8, n + " sent, " + accounted + " counted: " + why);
        Result ping = Processes.run("ip", "netns", "exec", netns, "ping", "-c", "2", "-W", "2", "10.99.0.2");
        assertEquals(0, ping.status(), "the stack keeps serving\n" + ping);
    }

    /** The TX drops of the Linux end of the TAP (frames Linux's queue toward modnet refused). */
    private long linuxTxDrops() throws Exception {
        String[] lines = Processes.run("ip", "-n", netns, "-s", "link", "show", tap).out().split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].trim().startsWith("TX:") && i + 1 < lines.length) {
                return Long.parseLong(lines[i + 1].trim().split("\\s+")[3]);
            }
        }
        throw new AssertionError("no TX line");
    }

    private static long nstat(String text, String name) {
        return text.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.trim().split("\\s+")[1])).sum();
    }

    /** A counter of {@code ethtool -S} on the TAP. */
    private long ethtool(String name) throws Exception {
        String stats = modnet("ethtool -S " + tap);
        assertTrue(stats.contains(name + ":"), "no " + name + " in\n" + stats);
        return counter(stats, name);
    }

    /** The sum of the RX errors and drops of {@code ip -s link} and the IP header-error counters in the text. */
    private static long counters(String text) {
        long sum = 0;
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].trim().startsWith("RX:") && i + 1 < lines.length) {
                String[] w = lines[i + 1].trim().split("\\s+");
                sum += Long.parseLong(w[2]) + Long.parseLong(w[3]); // errors, dropped
            }
            if (lines[i].startsWith("IpIn") || lines[i].startsWith("IpExtIn")) {
                sum += Long.parseLong(lines[i].trim().split("\\s+")[1]);
            }
        }
        return sum;
    }

    @Test
    void aTapWhoseLinuxInterfaceIsDeletedLosesItsCarrierAndTheStackKeepsServing() throws Exception {
        linux("ip", "-n", netns, "link", "del", tap);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String link;
        while (!(link = modnet("ip link show " + tap)).contains("NO-CARRIER")) {
            assertTrue(System.nanoTime() < deadline, "modnet saw its TAP go\n" + link);
            Thread.sleep(100);
        }
        assertTrue(modnet("ping -c 1 127.0.0.1").contains("1 received"), "the stack keeps serving");
        assertTrue(modnet("ip -s link show " + tap).contains(tap));
        String log = Files.readString(rig.log());
        assertEquals(1, log.split("read failed", -1).length - 1, "logged once:\n" + log);
    }
}

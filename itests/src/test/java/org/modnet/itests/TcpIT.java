package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.modnet.itests.TcpStreams.counter;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/** TCP on a real Felix with the host feature, driven through the shell. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class TcpIT {

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    /** The boot set plus the socket bundle, whose API this class's code names (as UdpIT does). */
    @Configuration
    public Option[] config() throws Exception {
        Option[] boot = ModnetRuntime.options();
        Option[] all = java.util.Arrays.copyOf(boot, boot.length + 1);
        all[boot.length] = org.ops4j.pax.exam.CoreOptions.bundle(ModnetRuntime.root()
                .resolve("run-configs/target/repo/org.modnet.sock-0.1.0-SNAPSHOT.jar").toUri().toString());
        return all;
    }

    @Before
    public void installHost() throws Exception {
        features.install("host");
        ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, "(modnet.ipproto=6)");
    }

    private String sh(String line) throws Exception {
        return ModnetRuntime.run(processor, line);
    }

    /** A SYN from 10.7.0.1:40000 to 10.7.0.2:5000 in a one-frame pcap, to the MAC {@code dst}. */
    private static Path synPcap(long dst) throws Exception {
        ByteBuffer f = ByteBuffer.allocate(54);
        f.putShort((short) (dst >>> 32)).putInt((int) dst);
        f.putShort((short) 0x0200).putInt(0x00000701).putShort((short) 0x0800);
        int ip = f.position();
        f.put((byte) 0x45).put((byte) 0).putShort((short) 40).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 6).putShort((short) 0).putInt(0x0a070001).putInt(0x0a070002);
        f.putShort(ip + 10, (short) fold(sum(f, ip, 20, 0)));
        int th = f.position();
        f.putShort((short) 40000).putShort((short) 5000).putInt(1_000_000).putInt(0).put((byte) 0x50).put((byte) 0x02)
                .putShort((short) 64240).putShort((short) 0).putShort((short) 0);
        long pseudo = 0x0a07 + 0x0001 + 0x0a07 + 0x0002 + 6 + 20;
        f.putShort(th + 16, (short) fold(sum(f, th, 20, pseudo)));
        ByteBuffer pcap = ByteBuffer.allocate(24 + 16 + 54).order(ByteOrder.LITTLE_ENDIAN);
        pcap.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        pcap.putInt(1).putInt(0).putInt(54).putInt(54).put(f.array());
        Path file = Files.createTempFile("modnet-syn", ".pcap");
        Files.write(file, pcap.array());
        return file;
    }

    private static long sum(ByteBuffer b, int off, int len, long initial) {
        long s = initial;
        for (int i = 0; i < len; i += 2) {
            s += b.getShort(off + i) & 0xffff;
        }
        return s;
    }

    private static int fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) ~s & 0xffff;
    }

    @Test
    public void aSynToAClosedPortIsAnsweredWithAResetOnTheWire() throws Exception {
        sh("ip netns add t ; ip netns add peer");
        sh("ip -n t link add eth0 type veth peer name eth1 ; ip -n t link set eth1 netns peer");
        sh("ip -n t addr add 10.7.0.2/24 dev eth0 ; ip -n peer addr add 10.7.0.1/24 dev eth1");
        sh("ip -n t link set eth0 up ; ip -n peer link set eth1 up");
        Matcher mac = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(sh("ip -n t link show eth0"));
        assertTrue(mac.find());
        long dst = Long.parseLong(mac.group(1).replace(":", ""), 16);
        Path pcap = synPcap(dst);
        String[] captured = new String[1];
        Thread capture = new Thread(() -> {
            try {
                captured[0] = sh("ip netns exec peer tcpdump -i eth1 -c 1 -n tcp");
            } catch (Exception e) {
                captured[0] = e.toString();
            }
        });
        capture.start();
        Thread.sleep(300);
        try {
            assertThat(sh("ip netns exec t tcpreplay -i eth0 -t " + pcap), containsString("Actual: 1 packets"));
            capture.join(10_000);
            assertThat(captured[0], containsString(
                    "IP 10.7.0.2.5000 > 10.7.0.1.40000: Flags [R.], seq 0, ack 1000001, win 0, length 0"));
            long deadline = System.nanoTime() + 5_000_000_000L;
            String nstat = sh("ip netns exec t nstat -az 'Tcp*'");
            while (counter(nstat, "TcpOutRsts") < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
                nstat = sh("ip netns exec t nstat -az 'Tcp*'");
            }
            assertEquals(1, counter(nstat, "TcpInSegs"));
            assertEquals(1, counter(nstat, "TcpOutSegs"));
            assertEquals(1, counter(nstat, "TcpOutRsts"));
            assertEquals(0, counter(nstat, "TcpInErrs"));
            String netstat = sh("ip netns exec t netstat -s");
            assertThat(netstat, containsString("Tcp:\n    0 active connection openings"));
            assertThat(netstat, containsString("    1 resets sent"));
            // the reset crossed the veth (ARP for 10.7.0.1 first): the peer received it
            deadline = System.nanoTime() + 5_000_000_000L;
            String peer = sh("ip netns exec peer nstat -az IpInReceives");
            while (counter(peer, "IpInReceives") < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
                peer = sh("ip netns exec peer nstat -az IpInReceives");
            }
            assertEquals(1, counter(sh("ip netns exec peer nstat -az TcpInSegs"), "TcpInSegs"));
            assertEquals("no reset to a reset", 0, counter(sh("ip netns exec peer nstat -az TcpOutRsts"), "TcpOutRsts"));
        } finally {
            Files.deleteIfExists(pcap);
        }
    }

    @Test
    public void fourMegabytesCrossAVethIntactAndSsShowsTheConnection() throws Exception {
        sh("ip netns add a ; ip netns add b");
        sh("ip -n a link add eth0 type veth peer name eth1 ; ip -n a link set eth1 netns b");
        sh("ip -n a addr add 10.8.0.1/24 dev eth0 ; ip -n b addr add 10.8.0.2/24 dev eth1");
        sh("ip -n a link set eth0 up ; ip -n b link set eth1 up");
        Sockets sockets = ModnetRuntime.service(context, Sockets.class, null);
        byte[] data = new byte[4 << 20];
        new java.util.Random(14).nextBytes(data);
        SocketCalls server = sockets.process("sink", "b");
        int l = server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
        assertEquals(0, server.bind(l, new SockAddr(0, 5000)));
        assertEquals(0, server.listen(l, 16));
        java.util.concurrent.CompletableFuture<byte[]> received = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int c = server.accept(l, null, 0);
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(65536);
            while (true) {
                buf.clear();
                int n = server.recv(c, buf, 0);
                if (n <= 0) {
                    return got.toByteArray();
                }
                got.write(buf.array(), 0, n);
            }
        });
        try (SocketCalls client = sockets.process("source", "a")) {
            int c = client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
            assertEquals(0, client.connect(c, new SockAddr(0x0a080002, 5000)));
            assertThat(sh("ip netns exec a ss -t -a -n"), containsString("ESTAB"));
            assertThat(sh("ip netns exec b ss -t -a -n"), containsString("LISTEN"));
            ByteBuffer out = ByteBuffer.wrap(data);
            while (out.hasRemaining()) {
                assertTrue(client.send(c, out, 0) > 0);
            }
            assertEquals(0, client.shutdown(c, SocketCalls.SHUT_WR));
            byte[] got = received.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(data.length, got.length);
            assertTrue("the bytes arrived intact", java.util.Arrays.equals(data, got));
            // seen as Linux shows it: ss -i's detail line, /proc/net/tcp, netstat -s's TcpExt section
            String info = sh("ip netns exec a ss -t -i -n");
            assertThat(info, containsString("\n\t cubic wscale:")); // the host feature carries tcp_cubic, Linux's default
            String available = sh("ip netns exec a sysctl net.ipv4.tcp_available_congestion_control");
            assertThat(available, containsString("= reno ")); // then cubic and bbr, in the order their bundles came
            assertThat(available, containsString(" cubic"));
            assertThat(available, containsString(" bbr"));
            assertThat(info, containsString(" bytes_sent:"));
            assertThat(info, containsString(" bytes_acked:419430")); // 4 MiB, the SYN and perhaps the FIN
            assertThat(sh("ip netns exec b cat /proc/net/tcp"), containsString(": 00000000:1388 00000000:0000 0A "));
            assertThat(sh("ip netns exec b netstat -s"), containsString("TcpExt:\n"));
            assertTrue("nstat shows the TcpExt counters", counter(sh("ip netns exec a nstat -az TcpExtTCPOrigDataSent"), "TcpExtTCPOrigDataSent") > 0);
            assertThat(sh("ip netns exec a cat /proc/net/sockstat"), containsString("TCP: inuse 1 orphan 0 tw 0 alloc 1 mem"));
        } finally {
            server.close();
        }
        assertEquals(1, counter(sh("ip netns exec a nstat -az TcpActiveOpens"), "TcpActiveOpens"));
        assertEquals(1, counter(sh("ip netns exec b nstat -az TcpPassiveOpens"), "TcpPassiveOpens"));
    }

    /**
     * A 4 MB transfer from a to b through netem's 10 ms and 10 mbit/s on a's side, with {@code cong} as
     * a's default; returns the smoothed RTTs ss -i showed during it (ms), after checking the bytes.
     */
    private double[] rttsDuring(String cong, int port) throws Exception {
        sh("ip netns exec a sysctl -w net.ipv4.tcp_congestion_control=" + cong);
        Sockets sockets = ModnetRuntime.service(context, Sockets.class, null);
        byte[] data = new byte[4 << 20];
        new java.util.Random(port).nextBytes(data);
        SocketCalls server = sockets.process("sink", "b");
        int l = server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
        assertEquals(0, server.bind(l, new SockAddr(0, port)));
        assertEquals(0, server.listen(l, 16));
        java.util.concurrent.CompletableFuture<byte[]> received = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int c = server.accept(l, null, 0);
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(65536);
            while (true) {
                buf.clear();
                int n = server.recv(c, buf, 0);
                if (n <= 0) {
                    return got.toByteArray();
                }
                got.write(buf.array(), 0, n);
            }
        });
        SocketCalls client = sockets.process("source", "a");
        try {
            int c = client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
            assertEquals(0, client.connect(c, new SockAddr(0x0a0a0002, port)));
            java.util.concurrent.CompletableFuture<Void> sending = java.util.concurrent.CompletableFuture.runAsync(() -> {
                ByteBuffer out = ByteBuffer.wrap(data);
                while (out.hasRemaining()) {
                    assertTrue(client.send(c, out, 0) > 0);
                }
                client.shutdown(c, SocketCalls.SHUT_WR);
            });
            double[] rtts = new double[4];
            Pattern rtt = Pattern.compile(" " + cong + " .* rtt:([0-9.]+)/");
            for (int k = 0; k < rtts.length; k++) {
                Thread.sleep(600);
                Matcher m = rtt.matcher(sh("ip netns exec a ss -t -i -n"));
                assertTrue(cong + " shown by ss -i", m.find());
                rtts[k] = Double.parseDouble(m.group(1));
            }
            sending.get(60, java.util.concurrent.TimeUnit.SECONDS);
            byte[] got = received.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(cong + ": the bytes arrived intact", java.util.Arrays.equals(data, got));
            return rtts;
        } finally {
            client.close();
            server.close();
        }
    }

    @Test
    public void bbrKeepsTheBottleneckQueueShortWhereCubicFillsIt() throws Exception {
        sh("ip netns add a ; ip netns add b");
        sh("ip -n a link add eth0 type veth peer name eth1 ; ip -n a link set eth1 netns b");
        sh("ip -n a addr add 10.10.0.1/24 dev eth0 ; ip -n b addr add 10.10.0.2/24 dev eth1");
        sh("ip -n a link set eth0 up ; ip -n b link set eth1 up");
        sh("ip netns exec a ping -c 1 10.10.0.2"); // ARP before the qdisc
        sh("ip netns exec a tc qdisc add dev eth0 root netem delay 10ms rate 10mbit limit 1000");
        double[] cubic = rttsDuring("cubic", 5001);
        double[] bbr = rttsDuring("bbr", 5002);
        double c = java.util.Arrays.stream(cubic).average().orElseThrow();
        double b = java.util.Arrays.stream(bbr).average().orElseThrow();
        System.out.println("TcpIT netem 10ms 10mbit: cubic srtt " + java.util.Arrays.toString(cubic) + " ms, bbr srtt "
                + java.util.Arrays.toString(bbr) + " ms");
        assertTrue("bbr's RTT " + b + " ms well below cubic's " + c + " ms", b < c * 0.7);
    }

    @Test
    public void cookiesCompleteAHandshakeAndTimeWaitShowsInSsThenExpires() throws Exception {
        sh("ip netns add a ; ip netns add b");
        sh("ip -n a link add eth0 type veth peer name eth1 ; ip -n a link set eth1 netns b");
        sh("ip -n a addr add 10.9.0.1/24 dev eth0 ; ip -n b addr add 10.9.0.2/24 dev eth1");
        sh("ip -n a link set eth0 up ; ip -n b link set eth1 up");
        sh("ip netns exec b sysctl -w net.ipv4.tcp_syncookies=2");
        Sockets sockets = ModnetRuntime.service(context, Sockets.class, null);
        SocketCalls server = sockets.process("server", "b");
        try (SocketCalls client = sockets.process("client", "a")) {
            int l = server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
            assertEquals(0, server.bind(l, new SockAddr(0, 5001)));
            assertEquals(0, server.listen(l, 4));
            int c = client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
            assertEquals(0, client.connect(c, new SockAddr(0x0a090002, 5001)));
            int s = server.accept(l, null, 0);
            assertTrue("accepted through a cookie", s >= 3);
            assertEquals(5, client.send(c, ByteBuffer.wrap("hello".getBytes()), 0));
            ByteBuffer in = ByteBuffer.allocate(16);
            assertEquals(5, server.recv(s, in, 0));
            String nstat = sh("ip netns exec b nstat -az 'TcpExtSyncookies*'");
            assertEquals(1, counter(nstat, "TcpExtSyncookiesSent"));
            assertEquals(1, counter(nstat, "TcpExtSyncookiesRecv"));
            assertEquals(0, counter(nstat, "TcpExtSyncookiesFailed"));
            // the client closes first: its end of the connection waits in TIME-WAIT
            assertEquals(0, client.close(c));
            assertEquals(0, server.recv(s, in, 0));
            assertEquals(0, server.close(s));
            long deadline = System.nanoTime() + 5_000_000_000L;
            String ss = sh("ip netns exec a ss -t -a -n");
            while (!ss.contains("TIME-WAIT") && System.nanoTime() < deadline) {
                Thread.sleep(20);
                ss = sh("ip netns exec a ss -t -a -n");
            }
            assertThat(ss, containsString("TIME-WAIT"));
            assertThat(ss, containsString("10.9.0.2:5001"));
            assertThat(sh("cat /proc/net/sockstat"), containsString(" tw "));
            assertThat(sh("ip netns exec a cat /proc/net/sockstat"), containsString(" tw 1 "));
            assertThat(sh("ip netns exec a ss -t -a -n -o state time-wait"), containsString("timer:(timewait,"));
            // and it expires after 2MSL: Linux's TCP_TIMEWAIT_LEN, 60 s, which no sysctl changes
            deadline = System.nanoTime() + 75_000_000_000L;
            while (ss.contains("TIME-WAIT") && System.nanoTime() < deadline) {
                Thread.sleep(500);
                ss = sh("ip netns exec a ss -t -a -n");
            }
            assertThat("the TIME-WAIT socket is gone after 60 s", ss, not(containsString("TIME-WAIT")));
            assertThat(sh("ip netns exec a cat /proc/net/sockstat"), containsString(" tw 0 "));
            assertEquals(1, counter(sh("ip netns exec a nstat -az TcpExtTW"), "TcpExtTW"));
        } finally {
            server.close();
        }
    }
}

package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
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

/**
 * ECN end to end through the shell, as a person would set it up on Linux: a bulk transfer from a to b
 * through a router namespace r whose egress to b is a 20 mbit/s htb class with fq_codel (target 1 ms)
 * below it. fq_codel marks the ECT segments CE instead of dropping them, b echoes ECE, a reduces its
 * window and sends CWR: the marks show in {@code tc -s qdisc}, in nstat on both ends, and nothing was
 * retransmitted for them.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class TcpEcnIT {

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    /** The boot set plus the socket bundle, whose API this class's code names (as TcpIT does). */
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

    private static long counter(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\s+(\\d+)").matcher(text);
        assertTrue("no " + name + " in:\n" + text, m.find());
        return Long.parseLong(m.group(1));
    }

    @Test
    public void fqCodelMarksInsteadOfDroppingAndTheSenderBacksOffWithoutRetransmitting() throws Exception {
        for (String c : new String[] { "ip netns add a ; ip netns add r ; ip netns add b",
                "ip -n r link add ra type veth peer name a0 ; ip -n r link set a0 netns a",
                "ip -n r link add rb type veth peer name b0 ; ip -n r link set b0 netns b",
                "ip -n a addr add 10.11.1.2/24 dev a0 ; ip -n r addr add 10.11.1.1/24 dev ra",
                "ip -n r addr add 10.11.2.1/24 dev rb ; ip -n b addr add 10.11.2.2/24 dev b0",
                "ip -n a link set a0 up ; ip -n r link set ra up ; ip -n r link set rb up ; ip -n b link set b0 up",
                "ip -n a route add default via 10.11.1.1 ; ip -n b route add default via 10.11.2.1",
                "ip netns exec r sysctl -w net.ipv4.ip_forward=1",
                "ip netns exec a sysctl -w net.ipv4.tcp_ecn=1" }) {
            sh(c);
        }
        sh("ip netns exec a ping -c 1 10.11.2.2"); // ARP on both links before the qdisc
        sh("ip netns exec r tc qdisc add dev rb root handle 1: htb default 10");
        sh("ip netns exec r tc class add dev rb parent 1: classid 1:10 htb rate 20mbit");
        sh("ip netns exec r tc qdisc add dev rb parent 1:10 handle 10: fq_codel target 1ms interval 10ms ecn");

        Sockets sockets = ModnetRuntime.service(context, Sockets.class, null);
        byte[] data = new byte[4 << 20];
        new java.util.Random(3168).nextBytes(data);
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
            assertEquals(0, client.connect(c, new SockAddr(0x0a0b0202, 5000)));
            ByteBuffer out = ByteBuffer.wrap(data);
            while (out.hasRemaining()) {
                assertTrue(client.send(c, out, 0) > 0);
            }
            assertEquals(0, client.shutdown(c, SocketCalls.SHUT_WR));
            byte[] got = received.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue("the bytes arrived intact", java.util.Arrays.equals(data, got));

            String qdisc = sh("ip netns exec r tc -s qdisc show dev rb");
            System.out.println("TcpEcnIT r's rb:\n" + qdisc);
            Matcher mark = Pattern.compile(" ecn_mark (\\d+)").matcher(qdisc);
            assertTrue("fq_codel's statistics line:\n" + qdisc, mark.find());
            long marks = Long.parseLong(mark.group(1));
            assertTrue("fq_codel marked CE: " + marks, marks > 0);
            String a = sh("ip netns exec a nstat -az");
            String b = sh("ip netns exec b nstat -az");
            System.out.println("TcpEcnIT: ecn_mark " + marks + ", b IpExtInCEPkts " + counter(b, "IpExtInCEPkts")
                    + ", a TcpExtTCPDeliveredCE " + counter(a, "TcpExtTCPDeliveredCE") + ", a TcpRetransSegs "
                    + counter(a, "TcpRetransSegs"));
            assertTrue("b received CE-marked packets", counter(b, "IpExtInCEPkts") > 0);
            assertTrue("b received ECT(0) packets", counter(b, "IpExtInECT0Pkts") > 0);
            assertTrue("a's ACKs came back with ECE", counter(a, "TcpExtTCPDeliveredCE") > 0);
            // a mark is no loss: r's qdiscs dropped nothing, and a entered no loss recovery; a retransmission
            // can only be a timer's (a tail-loss probe or a timeout when a loaded machine stalls the path)
            Matcher dropped = Pattern.compile("\\(dropped (\\d+),").matcher(qdisc);
            while (dropped.find()) {
                assertEquals("r's qdiscs marked instead of dropping:\n" + qdisc, "0", dropped.group(1));
            }
            assertEquals("a mark is no loss: no fast retransmit", 0, counter(a, "TcpExtTCPFastRetrans"));
            assertEquals("a mark is no loss: no SACK recovery", 0, counter(a, "TcpExtTCPSackRecovery"));
            assertTrue("a retransmitted only on a timer:\n" + a, counter(a, "TcpRetransSegs")
                    <= counter(a, "TcpExtTCPLossProbes") + counter(a, "TcpExtTCPTimeouts"));
            // ss prints the negotiated options with -o, as iproute2 does (show_options)
            assertThat("the connection negotiated ECN (ss -i -o)", sh("ip netns exec a ss -t -i -n -o"), containsString(" ecn"));
            assertThat("b saw ECT and CE (ss -i -o)", sh("ip netns exec b ss -t -i -n -o"), containsString(" ecn ecnseen"));
        } finally {
            server.close();
        }
    }

    /**
     * A route's {@code features ecn} as a person sets it on Linux: with {@code tcp_ecn} at its default 2 on
     * both ends, a's connection to b asks for ECN because a's route to b has the feature; {@code ip route}
     * shows it, and {@code ss -i -o} shows the connection negotiated ECN.
     */
    @Test
    public void aRouteWithFeaturesEcnNegotiatesEcnWithTcpEcnAtItsDefault() throws Exception {
        for (String c : new String[] { "ip netns add a ; ip netns add b",
                "ip -n a link add a0 type veth peer name b0 ; ip -n a link set b0 netns b",
                "ip -n a addr add 10.12.1.1/24 dev a0 ; ip -n b addr add 10.12.1.2/24 dev b0",
                "ip -n a link set a0 up ; ip -n b link set b0 up",
                "ip -n a route add 10.12.2.0/24 dev a0 features ecn",
                "ip -n b addr add 10.12.2.2/32 dev b0" }) {
            sh(c);
        }
        assertThat(sh("ip -n a route show"), containsString("10.12.2.0/24 dev a0 scope link features ecn"));
        Sockets sockets = ModnetRuntime.service(context, Sockets.class, null);
        SocketCalls server = sockets.process("sink", "b");
        int l = server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
        assertEquals(0, server.bind(l, new SockAddr(0, 5001)));
        assertEquals(0, server.listen(l, 16));
        try (SocketCalls client = sockets.process("source", "a")) {
            int c = client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
            assertEquals(0, client.connect(c, new SockAddr(0x0a0c0202, 5001)));
            int a = server.accept(l, null, 0);
            assertTrue(a >= 0);
            assertThat("the route's feature asked for ECN (ss -i -o)", sh("ip netns exec a ss -t -i -n -o"), containsString(" ecn"));
        } finally {
            server.close();
        }
    }
}

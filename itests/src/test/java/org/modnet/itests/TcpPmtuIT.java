package org.modnet.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
 * Path MTU discovery for TCP (RFC 1191): a bulk transfer from a to b through the router r, whose link
 * toward b has an MTU of 1200 while a's and b's have 1500. r answers a's first full-sized DF segments
 * with "fragmentation needed"; a's TCP lowers its MSS and sends them again at once, so the transfer
 * arrives intact without a retransmission timeout, and {@code ip route get} shows the MTU learned.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class TcpPmtuIT {
    private static final long BYTES = 8L << 20;
    private static final int B = 0x0a090202; // 10.9.2.2

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private Sockets sockets;

    @Configuration
    public Option[] config() throws Exception {
        Option[] boot = ModnetRuntime.options();
        Option[] all = Arrays.copyOf(boot, boot.length + 1);
        all[boot.length] = org.ops4j.pax.exam.CoreOptions.bundle(ModnetRuntime.root()
                .resolve("run-configs/target/repo/org.modnet.sock-0.1.0-SNAPSHOT.jar").toUri().toString());
        return all;
    }

    @Before
    public void aRouterWithANarrowFarLink() throws Exception {
        features.install("host");
        ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, "(modnet.ipproto=6)");
        sh("ip netns add a ; ip netns add r ; ip netns add b");
        sh("ip -n a link add va type veth peer name vr1 ; ip -n a link set vr1 netns r");
        sh("ip -n r link add vr2 type veth peer name vb ; ip -n r link set vb netns b");
        sh("ip -n a addr add 10.9.1.1/24 dev va ; ip -n r addr add 10.9.1.254/24 dev vr1");
        sh("ip -n r addr add 10.9.2.254/24 dev vr2 ; ip -n b addr add 10.9.2.2/24 dev vb");
        sh("ip -n r link set vr2 mtu 1200");
        sh("ip -n a link set va up ; ip -n r link set vr1 up ; ip -n r link set vr2 up ; ip -n b link set vb up");
        sh("ip -n a route add default via 10.9.1.254 ; ip -n b route add default via 10.9.2.254");
        sh("ip netns exec r sysctl -w net.ipv4.ip_forward=1");
        sockets = ModnetRuntime.service(context, Sockets.class, null);
    }

    private String sh(String line) throws Exception {
        return ModnetRuntime.run(processor, line);
    }

    private static int check(int r, String what) {
        if (r < 0) {
            throw new IllegalStateException(what + ": " + SocketCalls.strerror(r));
        }
        return r;
    }

    private static long counter(String nstat, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\s+(\\d+)").matcher(nstat);
        return m.find() ? Long.parseLong(m.group(1)) : 0; // nstat -a leaves out what is zero unless -z
    }

    private static MessageDigest sha256() throws Exception {
        return MessageDigest.getInstance("SHA-256");
    }

    @Test
    public void aBulkTransferThroughANarrowerLinkLearnsThePathMtuAndArrivesIntactWithoutATimeout() throws Exception {
        SocketCalls server = sockets.process("pmtu-server", "b");
        SocketCalls client = sockets.process("pmtu-client", "a");
        try {
            int l = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
            check(server.bind(l, new SockAddr(0, 5001)), "bind");
            check(server.listen(l, 4), "listen");
            int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
            check(client.connect(c, new SockAddr(B, 5001)), "connect");
            int s = check(server.accept(l, null, 0), "accept");
            int[] v = new int[1];
            check(client.getsockopt(c, SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG, v), "TCP_MAXSEG");
            assertTrue("the MSS from a's own 1500-byte link: " + v[0], v[0] > 1200);
            long timeoutsBefore = counter(sh("ip netns exec a nstat -az TcpExtTCPTimeouts"), "TcpExtTCPTimeouts");

            CompletableFuture<Object[]> got = CompletableFuture.supplyAsync(() -> {
                try {
                    MessageDigest d = sha256();
                    ByteBuffer b = ByteBuffer.allocate(64 << 10);
                    long total = 0;
                    while (true) {
                        b.clear();
                        int n = check(server.recv(s, b, 0), "recv");
                        if (n == 0) {
                            return new Object[] { total, d.digest() };
                        }
                        d.update(b.array(), 0, n);
                        total += n;
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            MessageDigest sent = sha256();
            SplittableRandom random = new SplittableRandom(7);
            ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
            for (long left = BYTES; left > 0;) {
                int n = (int) Math.min(chunk.capacity(), left);
                chunk.clear();
                for (int i = 0; i < n; i += 8) {
                    chunk.putLong(i, random.nextLong());
                }
                chunk.limit(n);
                sent.update(chunk.array(), 0, n);
                while (chunk.hasRemaining()) {
                    check(client.send(c, chunk, 0), "send");
                }
                left -= n;
            }
            check(client.shutdown(c, SocketCalls.SHUT_WR), "shutdown");
            Object[] r = got.get(300, TimeUnit.SECONDS);
            assertEquals("bytes that arrived", BYTES, (long) (Long) r[0]);
            assertArrayEquals("SHA-256 of what arrived", sent.digest(), (byte[]) r[1]);

            check(client.getsockopt(c, SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG, v), "TCP_MAXSEG");
            assertTrue("the MSS follows the path MTU: " + v[0], v[0] <= 1160);
            check(client.getsockopt(c, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU, v), "IP_MTU");
            assertEquals("IP_MTU", 1200, v[0]);
            String get = sh("ip -n a route get 10.9.2.2");
            assertTrue(get, get.contains("mtu 1200"));
            String nstat = sh("ip netns exec a nstat -az TcpExtTCPTimeouts");
            assertEquals("no RTO for the MTU drop:\n" + nstat, timeoutsBefore, counter(nstat, "TcpExtTCPTimeouts"));
            assertTrue("r said frag needed", counter(sh("ip netns exec r nstat -az IcmpOutDestUnreachs"), "IcmpOutDestUnreachs") > 0);
        } finally {
            client.close();
            server.close();
        }
    }
}

package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.modnet.socket.api.Sockets;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * Applications over TCP on a real Felix with the host feature, between two namespaces joined by a
 * veth pair (ns1 10.0.0.1, ns2 10.0.0.2): a java.nio echo server and its clients written against the
 * JDK API only, and {@code nc} through the shell moving a file with Gogo's redirections.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class TcpAppsIT {
    /** A thread per task: the tasks block, and must not wait for a pool's free thread. */
    static final java.util.concurrent.Executor THREADS = r -> Thread.ofPlatform().daemon().start(r);

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private Sockets sockets;

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
    public void twoNamespaces() throws Exception {
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        sockets = ModnetRuntime.service(context, Sockets.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, "(modnet.ipproto=6)"); // TCP is up
        ModnetRuntime.vethPair(context, core);
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
    }

    /** Waits until {@code ss -t -l -n} in {@code ns} shows a listener on {@code port}. */
    private void awaitListener(String ns, int port) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ModnetRuntime.run(processor, ns, "ss -t -l -n").contains(":" + port + " ")) {
            assertTrue("no listener on " + port + " in " + ns, System.nanoTime() < deadline);
            Thread.sleep(20);
        }
    }

    // --- java.nio, as any application writes it ---

    /** A Selector-driven echo server on {@code provider}: serves until {@code stop} is set. */
    private static long echoServer(SelectorProvider provider, ServerSocketChannel server, java.util.concurrent.atomic.AtomicBoolean stop)
            throws IOException {
        long echoed = 0;
        try (Selector selector = provider.openSelector()) {
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            while (!stop.get()) {
                selector.select(100);
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey k = it.next();
                    it.remove();
                    if (!k.isValid()) {
                        continue;
                    }
                    if (k.isAcceptable()) {
                        SocketChannel c = server.accept();
                        if (c != null) {
                            c.configureBlocking(false);
                            c.register(selector, SelectionKey.OP_READ, new ArrayDeque<ByteBuffer>());
                        }
                        continue;
                    }
                    SocketChannel c = (SocketChannel) k.channel();
                    @SuppressWarnings("unchecked")
                    ArrayDeque<ByteBuffer> owed = (ArrayDeque<ByteBuffer>) k.attachment();
                    if (k.isReadable()) {
                        ByteBuffer b = ByteBuffer.allocate(16384);
                        if (c.read(b) < 0) {
                            c.close();
                            continue;
                        }
                        b.flip();
                        owed.add(b);
                    }
                    while (!owed.isEmpty()) {
                        echoed += c.write(owed.peek());
                        if (owed.peek().hasRemaining()) {
                            break;
                        }
                        owed.poll();
                    }
                    k.interestOps(owed.isEmpty() ? SelectionKey.OP_READ : SelectionKey.OP_WRITE);
                }
            }
            for (SelectionKey k : selector.keys()) {
                k.channel().close();
            }
        }
        return echoed;
    }

    /** A blocking client: writes {@code data} from a second thread, half-closes, reads the echo to its end. */
    private static byte[] echoClient(SelectorProvider provider, InetSocketAddress to, byte[] data) throws Exception {
        try (SocketChannel c = provider.openSocketChannel()) {
            c.connect(to);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    ByteBuffer out = ByteBuffer.wrap(data);
                    while (out.hasRemaining()) {
                        c.write(out);
                    }
                    c.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, THREADS);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(16384);
            while (c.read(in) >= 0) {
                got.write(in.array(), 0, in.position());
                in.clear();
            }
            writer.get(30, TimeUnit.SECONDS);
            return got.toByteArray();
        }
    }

    @Test
    public void aNioEchoServerInOneNamespaceServesClientsInAnotherAcrossTheVeth() throws Exception {
        SelectorProvider p1 = sockets.provider("ns1");
        SelectorProvider p2 = sockets.provider("ns2");
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        ServerSocketChannel server = p2.openServerSocketChannel();
        server.bind(new InetSocketAddress("0.0.0.0", 7000));
        CompletableFuture<Long> serving = CompletableFuture.supplyAsync(() -> {
            try {
                return echoServer(p2, server, stop);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, THREADS);
        long echoed;
        try {
            assertThat(ModnetRuntime.run(processor, "ns2", "ss -t -l -n"), containsString("0.0.0.0:7000"));
            List<CompletableFuture<byte[]>> clients = new ArrayList<>();
            List<byte[]> sent = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                byte[] data = new byte[100_000 * (i + 1)];
                new Random(i).nextBytes(data);
                sent.add(data);
                clients.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return echoClient(p1, new InetSocketAddress("10.0.0.2", 7000), data);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, THREADS));
            }
            for (int i = 0; i < clients.size(); i++) {
                byte[] got;
                try {
                    got = clients.get(i).get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new AssertionError("client " + i + " got no echo in 60 s; ns1:\n"
                            + ModnetRuntime.run(processor, "ns1", "ss -t -a -n") + "ns2:\n" + ModnetRuntime.run(processor, "ns2", "ss -t -a -n")
                            + "server: " + serving);
                }
                assertArrayEquals("client " + i, sent.get(i), got);
            }
        } finally {
            stop.set(true);
            echoed = serving.get(10, TimeUnit.SECONDS);
            server.close();
        }
        assertEquals(1_000_000, echoed);
        try (SocketChannel refused = p1.openSocketChannel()) {
            java.net.ConnectException e = org.junit.Assert.assertThrows(java.net.ConnectException.class,
                    () -> refused.connect(new InetSocketAddress("10.0.0.2", 7001)));
            assertEquals("Connection refused", e.getMessage());
        }
    }

    // --- nc through the shell ---

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] b = new byte[65536];
            int n;
            while ((n = in.read(b)) > 0) {
                md.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Path MTU discovery under TCP: qa - qr - qb with 1400 bytes on the router's side of its far link
     * (both hosts on 1500, so the MSS each advertises does not hide it). qa's segments carry DF and are
     * sized for 1500 bytes; the router answers "frag needed, mtu 1400", qa
     * learns it (ip route get shows it) and the transfer completes intact (modnet fragments the segments
     * to the path MTU; Linux lowers the MSS instead, tcp_v4_mtu_reduced, not done here yet).
     */
    @Test
    public void ncMovesAMegabyteIntactAcrossASmallerMtuRouter() throws Exception {
        String[] lines = { "ip netns add qa", "ip netns add qr", "ip netns add qb",
                "ip -n qa link add va type veth peer name vr1", "ip -n qa link set vr1 netns qr",
                "ip -n qr link add vr2 type veth peer name vb", "ip -n qr link set vb netns qb",
                "ip -n qa addr add 10.1.0.1/24 dev va", "ip -n qr addr add 10.1.0.2/24 dev vr1",
                "ip -n qr addr add 10.2.0.1/24 dev vr2", "ip -n qb addr add 10.2.0.2/24 dev vb",
                "ip -n qa link set va up", "ip -n qr link set vr1 up", "ip -n qr link set vr2 mtu 1400",
                "ip -n qr link set vr2 up", "ip -n qb link set vb up",
                "ip -n qa route add default via 10.1.0.2", "ip -n qb route add default via 10.2.0.1",
                "ip netns exec qr sysctl -w net.ipv4.ip_forward=1" };
        for (String l : lines) {
            ModnetRuntime.run(processor, null, l);
        }
        Path dir = Files.createTempDirectory("modnet-pmtu");
        Path in = dir.resolve("in");
        Path out = dir.resolve("out");
        byte[] data = new byte[1 << 20];
        new Random(15).nextBytes(data);
        Files.write(in, data);
        try {
            CompletableFuture<String> listener = CompletableFuture.supplyAsync(() -> {
                try {
                    return ModnetRuntime.runCapturing(processor, "qb", "nc -l 5003 > " + out);
                } catch (Exception e) {
                    return e.toString();
                }
            }, THREADS);
            awaitListener("qb", 5003);
            String client = ModnetRuntime.runCapturing(processor, "qa", "nc -N 10.2.0.2 5003 < " + in);
            String served = listener.get(120, TimeUnit.SECONDS);
            assertEquals("the client printed nothing: " + client, "", client.trim());
            assertEquals("the listener printed nothing: " + served, "", served.trim());
            assertEquals(data.length, Files.size(out));
            assertEquals(sha256(in), sha256(out));
            assertThat(ModnetRuntime.run(processor, "qa", "ip route get 10.2.0.2"), containsString("mtu 1400"));
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
            Files.deleteIfExists(dir);
            for (String n : new String[] { "qa", "qr", "qb" }) {
                ModnetRuntime.runCapturing(processor, null, "ip netns del " + n);
            }
        }
    }

    @Test
    public void ncMovesTenMegabytesIntactThroughTheShellsRedirections() throws Exception {
        Path dir = Files.createTempDirectory("modnet-nc");
        Path in = dir.resolve("in");
        Path out = dir.resolve("out");
        byte[] data = new byte[10 << 20];
        new Random(14).nextBytes(data);
        Files.write(in, data);
        try {
            CompletableFuture<String> listener = CompletableFuture.supplyAsync(() -> {
                try {
                    return ModnetRuntime.runCapturing(processor, "ns2", "nc -l 5000 > " + out);
                } catch (Exception e) {
                    return e.toString();
                }
            }, THREADS);
            awaitListener("ns2", 5000);
            long t0 = System.nanoTime();
            String client = ModnetRuntime.runCapturing(processor, "ns1", "nc -N 10.0.0.2 5000 < " + in);
            String served = listener.get(120, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("the client printed nothing: " + client, "", client.trim());
            assertEquals("the listener printed nothing: " + served, "", served.trim());
            assertEquals(data.length, Files.size(out));
            assertEquals(sha256(in), sha256(out));
            System.out.println("nc moved 10 MiB across the veth in " + ms + " ms");
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * A listener that sends nothing and shuts its side at once ({@code -d -N}: Linux's {@code nc -l -N
     * < /dev/null} does the same) must still get the client's whole input: OpenBSD's client stops reading
     * the network at its end of stream but goes on sending until its own input ends.
     */
    @Test
    public void ncGoesOnSendingItsInputAfterThePeerShutsItsSide() throws Exception {
        Path dir = Files.createTempDirectory("modnet-nc-half");
        Path in = dir.resolve("in");
        Path out = dir.resolve("out");
        byte[] data = new byte[4 << 20];
        new Random(16).nextBytes(data);
        Files.write(in, data);
        try {
            CompletableFuture<String> listener = CompletableFuture.supplyAsync(() -> {
                try {
                    return ModnetRuntime.runCapturing(processor, "ns2", "nc -l -d -N 5007 > " + out);
                } catch (Exception e) {
                    return e.toString();
                }
            }, THREADS);
            awaitListener("ns2", 5007);
            String client = ModnetRuntime.runCapturing(processor, "ns1", "nc -N 10.0.0.2 5007 < " + in);
            String served = listener.get(120, TimeUnit.SECONDS);
            assertEquals("the client printed nothing: " + client, "", client.trim());
            assertEquals("the listener printed nothing: " + served, "", served.trim());
            assertEquals("every byte, though the listener shut its side first", data.length, Files.size(out));
            assertEquals(sha256(in), sha256(out));
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    public void ncZOnAClosedPortSaysConnectionRefusedAndOnAnOpenOneSucceeded() throws Exception {
        String closed = ModnetRuntime.runCapturing(processor, "ns1", "nc -z -v 10.0.0.2 5999");
        assertThat(closed, containsString("nc: connect to 10.0.0.2 port 5999 (tcp) failed: Connection refused"));
        CompletableFuture<String> listener = CompletableFuture.supplyAsync(() -> {
            try {
                return ModnetRuntime.runCapturing(processor, "ns2", "nc -l 5998");
            } catch (Exception e) {
                return e.toString();
            }
        }, THREADS);
        awaitListener("ns2", 5998);
        String open = ModnetRuntime.runCapturing(processor, "ns1", "nc -z -v 10.0.0.2 5998");
        assertThat(open, containsString("Connection to 10.0.0.2 5998 port [tcp/*] succeeded!"));
        listener.get(20, TimeUnit.SECONDS);
    }
}

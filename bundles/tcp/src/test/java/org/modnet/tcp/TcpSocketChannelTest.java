package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NoConnectionPendingException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.core.StandaloneCore;
import org.modnet.socket.api.TcpInfo;
import org.modnet.socket.api.TcpSocketOptions;

/** Java's SocketChannel and ServerSocketChannel from modnet's provider, over modnet's TCP on lo. */
class TcpSocketChannelTest {
    /** A thread per task: the tasks block, and must not wait for a pool's free thread. */
    static final java.util.concurrent.Executor THREADS = r -> Thread.ofPlatform().daemon().start(r);

    private final TcpStack s = new TcpStack(StandaloneCore.threaded(1, 8192));
    private final SelectorProvider provider = s.sockets.provider("");

    @AfterEach
    void tearDown() {
        s.close();
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aSelectorDrivenNioEchoServerServesSeveralClientsAtOnce() throws Exception {
        try (NioEcho.Server server = new NioEcho.Server(provider, new InetSocketAddress("127.0.0.1", 7007))) {
            Thread t = Thread.ofPlatform().name("echo").start(server);
            InetSocketAddress at = server.address();
            assertEquals(7007, at.getPort());
            List<CompletableFuture<Boolean>> clients = new ArrayList<>();
            List<byte[]> sent = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                byte[] data = random(50_000 + i * 40_000, i);
                sent.add(data);
                boolean selecting = i % 2 == 1;
                clients.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        byte[] echo = selecting ? NioEcho.selectorClient(provider, at, data) : NioEcho.blockingClient(provider, at, data);
                        return java.util.Arrays.equals(data, echo);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, THREADS));
            }
            for (int i = 0; i < clients.size(); i++) {
                assertTrue(clients.get(i).get(60, TimeUnit.SECONDS), "client " + i + " got its bytes back");
            }
            assertNull(server.failure);
            assertEquals(6, server.accepted);
            assertEquals(sent.stream().mapToLong(b -> b.length).sum(), server.echoed);
            server.close();
            t.join(5000);
        }
    }

    @Test
    void aConnectToAClosedPortIsConnectionRefusedAndClosesTheChannel() throws Exception {
        SocketChannel c = provider.openSocketChannel();
        ConnectException e = assertThrows(ConnectException.class, () -> c.connect(new InetSocketAddress("127.0.0.1", 9)));
        assertEquals("Connection refused", e.getMessage());
        assertFalse(c.isOpen());

        try (Selector sel = provider.openSelector(); SocketChannel n = provider.openSocketChannel()) {
            n.configureBlocking(false);
            assertFalse(n.connect(new InetSocketAddress("127.0.0.1", 9)));
            assertTrue(n.isConnectionPending());
            n.register(sel, SelectionKey.OP_CONNECT);
            assertEquals(1, sel.select(5000));
            assertTrue(sel.selectedKeys().iterator().next().isConnectable());
            ConnectException late = assertThrows(ConnectException.class, n::finishConnect);
            assertEquals("Connection refused", late.getMessage());
            assertFalse(n.isOpen());
        }
    }

    @Test
    void channelStatesThrowWhatTheJdkThrows() throws Exception {
        try (ServerSocketChannel server = provider.openServerSocketChannel(); SocketChannel c = provider.openSocketChannel()) {
            assertThrows(NotYetBoundException.class, server::accept);
            assertThrows(NotYetConnectedException.class, () -> c.read(ByteBuffer.allocate(1)));
            assertThrows(NotYetConnectedException.class, () -> c.write(ByteBuffer.allocate(1)));
            assertThrows(NoConnectionPendingException.class, c::finishConnect);
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            InetSocketAddress at = (InetSocketAddress) server.getLocalAddress();
            assertTrue(at.getPort() > 0, "an ephemeral port: " + at);
            server.configureBlocking(false);
            assertNull(server.accept(), "nothing to accept, non-blocking");
            assertTrue(c.connect(at));
            assertTrue(c.isConnected());
            assertTrue(c.finishConnect());
            assertThrows(AlreadyConnectedException.class, () -> c.connect(at));
            SocketChannel accepted = null;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (accepted == null && System.nanoTime() < deadline) {
                accepted = server.accept();
            }
            assertTrue(accepted != null && accepted.isBlocking() && accepted.isConnected());
            assertEquals(c.getLocalAddress(), accepted.getRemoteAddress());
            assertEquals(s.sockets.sockets("").size(), 3, "ss lists the listener and both ends");

            c.configureBlocking(false);
            assertEquals(0, c.read(ByteBuffer.allocate(10)), "nothing there yet: 0 in non-blocking mode");
            SocketChannel a = accepted;
            a.shutdownOutput();
            assertThrows(ClosedChannelException.class, () -> acceptedWrite(a), "no writing after shutdownOutput");
            c.configureBlocking(true);
            assertEquals(-1, c.read(ByteBuffer.allocate(10)), "the peer's FIN is the end of the stream");
            a.close();
            assertThrows(ClosedChannelException.class, () -> acceptedWrite(a));
        }
    }

    private static int acceptedWrite(SocketChannel ch) throws java.io.IOException {
        return ch.write(ByteBuffer.wrap(new byte[] { 1 }));
    }

    @Test
    void optionsReadBackAsLinuxKeepsThem() throws Exception {
        try (SocketChannel c = provider.openSocketChannel()) {
            assertFalse(c.getOption(StandardSocketOptions.TCP_NODELAY));
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            assertTrue(c.getOption(StandardSocketOptions.TCP_NODELAY));
            c.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            assertTrue(c.getOption(StandardSocketOptions.SO_KEEPALIVE));
            assertEquals(-1, c.getOption(StandardSocketOptions.SO_LINGER));
            c.setOption(StandardSocketOptions.SO_LINGER, 5);
            assertEquals(5, c.getOption(StandardSocketOptions.SO_LINGER));
            c.setOption(StandardSocketOptions.SO_RCVBUF, 65536);
            assertEquals(131072, c.getOption(StandardSocketOptions.SO_RCVBUF), "doubled, as Linux does");
            c.setOption(StandardSocketOptions.SO_SNDBUF, 32768);
            assertEquals(65536, c.getOption(StandardSocketOptions.SO_SNDBUF));
            c.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            assertTrue(c.getOption(StandardSocketOptions.SO_REUSEADDR));
            assertTrue(c.supportedOptions().contains(StandardSocketOptions.TCP_NODELAY));
            assertThrows(UnsupportedOperationException.class, () -> c.getOption(StandardSocketOptions.IP_MULTICAST_TTL));
        }
    }

    @Test
    void socketAdaptorsCarryStreamsAndVectorsCrossTheConnection() throws Exception {
        try (ServerSocketChannel server = provider.openServerSocketChannel()) {
            ServerSocket ss = server.socket();
            ss.bind(new InetSocketAddress("127.0.0.1", 7070));
            assertTrue(ss.isBound());
            assertEquals(7070, ss.getLocalPort());
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket a = ss.accept(); DataInputStream in = new DataInputStream(a.getInputStream());
                        DataOutputStream out = new DataOutputStream(a.getOutputStream())) {
                    String q = in.readUTF();
                    out.writeUTF("echo " + q);
                    ByteBuffer head = ByteBuffer.allocate(3);
                    ByteBuffer body = ByteBuffer.allocate(5);
                    SocketChannel ch = a.getChannel();
                    while (body.hasRemaining()) {
                        ch.read(new ByteBuffer[] { head, body });
                    }
                    return q + "/" + new String(head.array()) + "+" + new String(body.array());
                } catch (Exception e) {
                    return e.toString();
                }
            }, THREADS);
            try (SocketChannel c = provider.openSocketChannel()) {
                Socket sock = c.socket();
                sock.connect(new InetSocketAddress("127.0.0.1", 7070), 5000);
                assertTrue(sock.isConnected());
                assertEquals(7070, sock.getPort());
                DataOutputStream out = new DataOutputStream(sock.getOutputStream());
                out.writeUTF("hi");
                assertEquals("echo hi", new DataInputStream(sock.getInputStream()).readUTF());
                assertEquals(8, c.write(new ByteBuffer[] { ByteBuffer.wrap("abc".getBytes()), ByteBuffer.wrap("defgh".getBytes()) }));
                assertEquals("hi/abc+defgh", served.get(10, TimeUnit.SECONDS));
                sock.setSoTimeout(100);
                // the server closed its end after answering: the end of the stream, not a timeout
                assertEquals(-1, sock.getInputStream().read());
            }
        }
    }

    @Test
    void aSelectorWithoutTimeoutWakesForAcceptConnectAndRead() throws Exception {
        try (Selector sel = provider.openSelector(); ServerSocketChannel server = provider.openServerSocketChannel();
                SocketChannel c = provider.openSocketChannel()) {
            server.bind(new InetSocketAddress("127.0.0.1", 7100));
            server.configureBlocking(false);
            SelectionKey acceptKey = server.register(sel, SelectionKey.OP_ACCEPT);
            c.configureBlocking(false);
            CompletableFuture<Integer> selecting = CompletableFuture.supplyAsync(() -> {
                try {
                    return sel.select(); // no timeout: only a wake from the socket ends it
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, THREADS);
            Thread.sleep(50);
            assertFalse(selecting.isDone());
            assertFalse(c.connect(new InetSocketAddress("127.0.0.1", 7100)), "non-blocking: under way");
            assertEquals(1, selecting.get(2, TimeUnit.SECONDS));
            assertTrue(acceptKey.isAcceptable());
            sel.selectedKeys().clear();
            SocketChannel a = server.accept();
            assertTrue(a != null);
            SelectionKey connectKey = c.register(sel, SelectionKey.OP_CONNECT);
            assertEquals(1, sel.select(2000));
            assertTrue(connectKey.isConnectable());
            assertTrue(c.finishConnect());
            assertFalse(c.isConnectionPending());
            sel.selectedKeys().clear();
            connectKey.interestOps(SelectionKey.OP_READ);
            selecting = CompletableFuture.supplyAsync(() -> {
                try {
                    return sel.select();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, THREADS);
            Thread.sleep(50);
            assertFalse(selecting.isDone(), "nothing to read yet");
            a.write(ByteBuffer.wrap("data".getBytes()));
            assertEquals(1, selecting.get(2, TimeUnit.SECONDS));
            assertTrue(connectKey.isReadable());
            ByteBuffer got = ByteBuffer.allocate(16);
            assertEquals(4, c.read(got));
            a.close();
        }
    }

    @org.junit.jupiter.api.RepeatedTest(20) // the race with Thread.interrupt failed 5 of 40 before the fix
    void anInterruptClosesABlockedReadAndACloseEndsAnother() throws Exception {
        try (ServerSocketChannel server = provider.openServerSocketChannel()) {
            server.bind(new InetSocketAddress("127.0.0.1", 7200));
            SocketChannel c1 = provider.openSocketChannel();
            c1.connect(new InetSocketAddress("127.0.0.1", 7200));
            SocketChannel c2 = provider.openSocketChannel();
            c2.connect(new InetSocketAddress("127.0.0.1", 7200));
            CompletableFuture<Throwable> r1 = blockedRead(c1);
            CompletableFuture<Throwable> r2 = blockedRead(c2);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (readers.size() < 2 || readers.stream().anyMatch(t -> t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING)) {
                assertTrue(System.nanoTime() < deadline, "both readers asleep in read within 5 s (a loaded machine is slow to start them)");
                Thread.sleep(5);
            }
            assertFalse(r1.isDone() || r2.isDone(), "both reads wait for data");
            readers.get(0).interrupt();
            c2.close();
            assertTrue(r1.get(2, TimeUnit.SECONDS) instanceof java.nio.channels.ClosedByInterruptException, String.valueOf(r1.get()));
            assertFalse(c1.isOpen());
            assertTrue(r2.get(2, TimeUnit.SECONDS) instanceof java.nio.channels.AsynchronousCloseException, String.valueOf(r2.get()));
        }
    }

    /**
     * A blocking read in a ForkJoinPool of one worker (the common pool on two CPUs) lets the pool run
     * the writer that wakes it, as the JDK's own blocking calls do through managedBlock.
     */
    @Test
    void aReadBlockedInAOneWorkerForkJoinPoolLetsThePoolRunItsWriter() throws Exception {
        java.util.concurrent.ForkJoinPool pool = new java.util.concurrent.ForkJoinPool(1);
        try (ServerSocketChannel server = provider.openServerSocketChannel()) {
            server.bind(new InetSocketAddress("127.0.0.1", 7300));
            SocketChannel c = provider.openSocketChannel();
            c.connect(new InetSocketAddress("127.0.0.1", 7300));
            SocketChannel a = server.accept();
            CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.read(ByteBuffer.allocate(16));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, pool);
            Thread.sleep(50);
            CompletableFuture<Integer> write = CompletableFuture.supplyAsync(() -> {
                try {
                    return a.write(ByteBuffer.wrap("data".getBytes()));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, pool);
            assertEquals(4, write.get(5, TimeUnit.SECONDS));
            assertEquals(4, read.get(5, TimeUnit.SECONDS));
            a.close();
            c.close();
        } finally {
            pool.shutdownNow();
        }
    }

    private final List<Thread> readers = new java.util.concurrent.CopyOnWriteArrayList<>();

    private CompletableFuture<Throwable> blockedRead(SocketChannel c) {
        CompletableFuture<Throwable> f = new CompletableFuture<>();
        readers.add(Thread.ofPlatform().daemon().start(() -> {
            try {
                c.read(ByteBuffer.allocate(10));
                f.complete(null);
            } catch (Throwable t) {
                f.complete(t);
            }
        }));
        return f;
    }

    @Test
    void theAdaptorsTimeoutsAreJavasSocketTimeouts() throws Exception {
        try (ServerSocketChannel server = provider.openServerSocketChannel()) {
            ServerSocket ss = server.socket();
            ss.bind(new InetSocketAddress("127.0.0.1", 7300));
            ss.setSoTimeout(100);
            java.net.SocketTimeoutException accept = assertThrows(java.net.SocketTimeoutException.class, ss::accept);
            assertEquals("Accept timed out", accept.getMessage());
            try (SocketChannel c = provider.openSocketChannel()) {
                c.socket().connect(new InetSocketAddress("127.0.0.1", 7300), 2000);
                Socket a = ss.accept();
                a.setSoTimeout(100);
                java.net.SocketTimeoutException read = assertThrows(java.net.SocketTimeoutException.class, () -> a.getInputStream().read());
                assertEquals("Read timed out", read.getMessage());
                c.configureBlocking(false);
                assertThrows(java.nio.channels.IllegalBlockingModeException.class, () -> c.socket().getInputStream().read());
                a.close();
            }
        }
    }
    @Test
    void tcpInfoIsAChannelOptionWithTheSendersCwndAndRetransmits() throws Exception {
        try (ServerSocketChannel server = provider.openServerSocketChannel(); SocketChannel c = provider.openSocketChannel()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            c.connect(server.getLocalAddress());
            try (SocketChannel a = server.accept()) {
                assertTrue(c.supportedOptions().contains(TcpSocketOptions.TCP_INFO));
                byte[] data = random(1 << 20, 7);
                CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
                    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
                    int total = 0;
                    try {
                        while (total < data.length) {
                            b.clear();
                            total += a.read(b);
                        }
                    } catch (java.io.IOException e) {
                        throw new RuntimeException(e);
                    }
                    return total;
                }, THREADS);
                ByteBuffer out = ByteBuffer.wrap(data);
                while (out.hasRemaining()) {
                    c.write(out);
                }
                assertEquals(data.length, read.get(30, TimeUnit.SECONDS));
                TcpInfo info = c.getOption(TcpSocketOptions.TCP_INFO);
                assertEquals(1, info.state(), "TCP_ESTABLISHED");
                assertTrue(info.sndMss() > 0 && info.sndCwnd() >= 10, "what iperf3's Cwnd column multiplies: " + info);
                // nothing is lost on lo, but a loaded machine can hold a thread past the loss probe's 2·SRTT (or
                // the RTO), and the probe is a retransmission as Linux counts it: the counts must agree
                assertEquals(data.length + info.bytesRetrans(), info.bytesSent(), "tcpi_bytes_sent: the data and its retransmissions");
                assertEquals(info.bytesRetrans() == 0, info.totalRetrans() == 0, "tcpi_total_retrans with tcpi_bytes_retrans " + info);
                assertEquals(data.length, a.getOption(TcpSocketOptions.TCP_INFO).bytesReceived());
                assertThrows(UnsupportedOperationException.class, () -> c.setOption(TcpSocketOptions.TCP_INFO, info));
            }
        }
    }
}

package org.modnet.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.modnet.itests.TcpStreams.check;
import static org.modnet.itests.TcpStreams.receiveAll;
import static org.modnet.itests.TcpStreams.sendAll;
import static org.modnet.itests.TcpStreams.sha256;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.modnet.itests.TcpStreams.Stream;
import org.modnet.socket.api.EpollEvent;
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
 * Big TCP transfers between two namespaces over a veth, through the {@link SocketCalls} API, each
 * compared by SHA-256: a stream each way, both ways at once on one connection, and many connections
 * at once driven by epoll. The sizes of issue 14 (100 MB, 1,000 connections of 1 MB) run with
 * {@code -Dmodnet.bigtcp=true}; CI runs 20 MB and 200 connections.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class TcpBulkIT {
    private static final boolean BIG = Boolean.getBoolean("modnet.bigtcp");
    private static final long STREAM_BYTES = (BIG ? 100L : 20L) << 20;
    private static final int CONNECTIONS = BIG ? 1000 : 200;
    private static final int PER_CONNECTION = 1 << 20;
    private static final int A = 0x0a090001;
    private static final int B = 0x0a090002;
    private static final int EAGAIN = -11;
    private static final int EINPROGRESS = -115;

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
    public void twoNamespacesOnAVeth() throws Exception {
        features.install("host");
        ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, "(modnet.ipproto=6)");
        sh("ip netns add a ; ip netns add b");
        sh("ip -n a link add eth0 type veth peer name eth1 ; ip -n a link set eth1 netns b");
        sh("ip -n a addr add 10.9.0.1/24 dev eth0 ; ip -n b addr add 10.9.0.2/24 dev eth1");
        sh("ip -n a link set eth0 up ; ip -n b link set eth1 up");
        sockets = ModnetRuntime.service(context, Sockets.class, null);
    }

    private String sh(String line) throws Exception {
        return ModnetRuntime.run(processor, line);
    }

    /** One way: {@code bytes} from {@code from} to {@code to}, then the sender's FIN; the time it took is printed. */
    private static void oneWay(String what, SocketCalls from, int ffd, SocketCalls to, int tfd, long seed, long bytes) throws Exception {
        long t0 = System.nanoTime();
        CompletableFuture<Object[]> got = CompletableFuture.supplyAsync(() -> receiveAll(to, tfd));
        byte[] sent = sendAll(from, ffd, seed, bytes);
        check(from.shutdown(ffd, SocketCalls.SHUT_WR), "shutdown");
        Object[] r = got.get(600, TimeUnit.SECONDS);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("TcpBulkIT: %s: %d MB in %.1f s (%.0f Mbit/s)%n", what, bytes >> 20, s, bytes * 8 / s / 1e6);
        assertEquals("bytes that arrived", bytes, (long) (Long) r[0]);
        assertArrayEquals("SHA-256 of what arrived", sent, (byte[]) r[1]);
    }

    @Test
    public void aStreamFromAToBArrivesIntact() throws Exception {
        Object[] c = TcpStreams.connect(sockets, "a", "b", B, 5001);
        try {
            oneWay("a -> b", (SocketCalls) c[0], (int) c[1], (SocketCalls) c[2], (int) c[3], 1, STREAM_BYTES);
        } finally {
            ((SocketCalls) c[0]).close();
            ((SocketCalls) c[2]).close();
        }
    }

    @Test
    public void aStreamFromBToAArrivesIntact() throws Exception {
        Object[] c = TcpStreams.connect(sockets, "a", "b", B, 5002);
        try {
            oneWay("b -> a", (SocketCalls) c[2], (int) c[3], (SocketCalls) c[0], (int) c[1], 2, STREAM_BYTES);
        } finally {
            ((SocketCalls) c[0]).close();
            ((SocketCalls) c[2]).close();
        }
    }

    @Test
    public void streamsBothWaysAtOnceOnOneConnectionArriveIntact() throws Exception {
        Object[] c = TcpStreams.connect(sockets, "a", "b", B, 5003);
        SocketCalls client = (SocketCalls) c[0];
        SocketCalls server = (SocketCalls) c[2];
        int cfd = (int) c[1];
        int sfd = (int) c[3];
        try {
            long t0 = System.nanoTime();
            CompletableFuture<Object[]> atB = CompletableFuture.supplyAsync(() -> receiveAll(server, sfd));
            CompletableFuture<Object[]> atA = CompletableFuture.supplyAsync(() -> receiveAll(client, cfd));
            CompletableFuture<byte[]> fromB = CompletableFuture.supplyAsync(() -> {
                byte[] d = sendAll(server, sfd, 4, STREAM_BYTES);
                check(server.shutdown(sfd, SocketCalls.SHUT_WR), "shutdown");
                return d;
            });
            byte[] fromA = sendAll(client, cfd, 3, STREAM_BYTES);
            check(client.shutdown(cfd, SocketCalls.SHUT_WR), "shutdown");
            Object[] b = atB.get(600, TimeUnit.SECONDS);
            Object[] a = atA.get(600, TimeUnit.SECONDS);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("TcpBulkIT: a <-> b at once: %d MB each way in %.1f s%n", STREAM_BYTES >> 20, s);
            assertEquals(STREAM_BYTES, (long) (Long) b[0]);
            assertArrayEquals("SHA-256 of what b received", fromA, (byte[]) b[1]);
            assertEquals(STREAM_BYTES, (long) (Long) a[0]);
            assertArrayEquals("SHA-256 of what a received", fromB.get(600, TimeUnit.SECONDS), (byte[]) a[1]);
        } finally {
            client.close();
            server.close();
        }
    }

    /**
     * {@link #CONNECTIONS} connections open at once, each moving 1 MB from a to b: one thread in a
     * drives every client socket through epoll (connect in progress, then send as room comes), one
     * thread in b accepts and reads them all through epoll. Each stream begins with its index.
     */
    @Test
    public void manyConnectionsAtOnceEachMoveAMegabyteIntact() throws Exception {
        SocketCalls server = sockets.process("many-server", "b");
        SocketCalls client = sockets.process("many-client", "a");
        int l = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK, 0), "socket");
        check(server.bind(l, new SockAddr(0, 5004)), "bind");
        check(server.listen(l, CONNECTIONS), "listen");
        long t0 = System.nanoTime();
        try {
            CompletableFuture<Map<Integer, byte[]>> received = CompletableFuture.supplyAsync(() -> serveMany(server, l));
            byte[][] sent = sendMany(client, this::stalled);
            Map<Integer, byte[]> got = received.get(600, TimeUnit.SECONDS);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("TcpBulkIT: %d connections of 1 MB at once in %.1f s%n", CONNECTIONS, s);
            assertEquals("connections that delivered a whole megabyte", CONNECTIONS, got.size());
            for (int i = 0; i < CONNECTIONS; i++) {
                assertArrayEquals("SHA-256 of connection " + i, sent[i], got.get(i));
            }
        } finally {
            client.close();
            server.close();
        }
        String nstat = sh("ip netns exec b nstat -az TcpPassiveOpens");
        assertTrue(nstat, nstat.matches("(?s).*TcpPassiveOpens\\s+" + CONNECTIONS + "\\b.*"));
    }

    /** What the sockets of a stalled transfer hold, from both ends (ModnetRuntime.printStalled). */
    private void stalled() {
        ModnetRuntime.printStalled(processor, "TcpBulkIT", "a", "b");
    }

    private static byte[][] sendMany(SocketCalls p, Runnable stalled) {
        int ep = check(p.epollCreate(), "epoll_create");
        int[] fds = new int[CONNECTIONS];
        Stream[] streams = new Stream[CONNECTIONS];
        byte[][] digests = new byte[CONNECTIONS][];
        for (int i = 0; i < CONNECTIONS; i++) {
            fds[i] = check(p.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK, 0), "socket");
            int r = p.connect(fds[i], new SockAddr(B, 5004));
            if (r != EINPROGRESS) {
                check(r, "connect");
            }
            streams[i] = new Stream(1000 + i, PER_CONNECTION - 4);
            streams[i].digest.update(ByteBuffer.allocate(4).putInt(0, i).array());
            check(p.epollCtl(ep, SocketCalls.EPOLL_CTL_ADD, fds[i], SocketCalls.EPOLLOUT, i), "epoll_ctl");
        }
        ByteBuffer[] headers = new ByteBuffer[CONNECTIONS];
        for (int i = 0; i < CONNECTIONS; i++) {
            headers[i] = ByteBuffer.allocate(4).putInt(0, i);
        }
        EpollEvent[] events = new EpollEvent[64];
        for (int i = 0; i < events.length; i++) {
            events[i] = new EpollEvent();
        }
        int left = CONNECTIONS;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120); // they take 2-6 s
        while (left > 0) {
            if (System.nanoTime() > deadline) {
                stalled.run();
            }
            assertTrue("epoll: the senders finished in time, " + left + " left", System.nanoTime() < deadline);
            int n = check(p.epollWait(ep, events, 1000), "epoll_wait");
            for (int e = 0; e < n; e++) {
                int i = (int) events[e].data;
                if ((events[e].events & (SocketCalls.EPOLLERR | SocketCalls.EPOLLHUP)) != 0) {
                    int[] err = new int[1];
                    p.getsockopt(fds[i], SocketCalls.SOL_SOCKET, SocketCalls.SO_ERROR, err);
                    throw new AssertionError("connection " + i + " failed: errno " + err[0]);
                }
                ByteBuffer h = headers[i];
                while (h.hasRemaining()) {
                    int r = p.send(fds[i], h, 0);
                    if (r == EAGAIN) {
                        break;
                    }
                    check(r, "send");
                }
                if (h.hasRemaining()) {
                    continue;
                }
                Stream s = streams[i];
                while (!s.done()) {
                    int r = p.send(fds[i], s.next(), 0);
                    if (r == EAGAIN) {
                        break;
                    }
                    check(r, "send");
                }
                if (s.done() && digests[i] == null) {
                    digests[i] = s.digest.digest();
                    check(p.shutdown(fds[i], SocketCalls.SHUT_WR), "shutdown");
                    check(p.epollCtl(ep, SocketCalls.EPOLL_CTL_DEL, fds[i], 0, 0), "epoll_ctl del");
                    left--;
                }
            }
        }
        return digests;
    }

    private static Map<Integer, byte[]> serveMany(SocketCalls p, int l) {
        int ep = check(p.epollCreate(), "epoll_create");
        check(p.epollCtl(ep, SocketCalls.EPOLL_CTL_ADD, l, SocketCalls.EPOLLIN, -1), "epoll_ctl");
        Map<Integer, MessageDigest> open = new HashMap<>();
        Map<Integer, Long> counts = new HashMap<>();
        Map<Integer, Integer> index = new HashMap<>();
        Map<Integer, byte[]> done = new HashMap<>();
        EpollEvent[] events = new EpollEvent[64];
        for (int i = 0; i < events.length; i++) {
            events[i] = new EpollEvent();
        }
        ByteBuffer b = ByteBuffer.allocate(64 << 10);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        while (done.size() < CONNECTIONS) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the receivers did not finish: " + done.size() + " done, " + open.size() + " open");
            }
            int n = check(p.epollWait(ep, events, 1000), "epoll_wait");
            for (int e = 0; e < n; e++) {
                long data = events[e].data;
                if (data == -1) {
                    while (true) {
                        int fd = p.accept(l, null, SocketCalls.SOCK_NONBLOCK);
                        if (fd == EAGAIN) {
                            break;
                        }
                        check(fd, "accept");
                        open.put(fd, sha256());
                        counts.put(fd, 0L);
                        check(p.epollCtl(ep, SocketCalls.EPOLL_CTL_ADD, fd, SocketCalls.EPOLLIN, fd), "epoll_ctl");
                    }
                    continue;
                }
                int fd = (int) data;
                MessageDigest d = open.get(fd);
                while (d != null) {
                    b.clear();
                    int r = p.recv(fd, b, 0);
                    if (r == EAGAIN) {
                        break;
                    }
                    check(r, "recv");
                    if (r == 0) {
                        long c = counts.get(fd);
                        if (c != PER_CONNECTION) {
                            throw new AssertionError("a connection ended after " + c + " bytes");
                        }
                        done.put(index.remove(fd), d.digest());
                        counts.remove(fd);
                        p.epollCtl(ep, SocketCalls.EPOLL_CTL_DEL, fd, 0, 0);
                        p.close(fd);
                        open.remove(fd);
                        break;
                    }
                    long before = counts.get(fd);
                    for (int k = 0; k < r && before + k < 4; k++) {
                        index.merge(fd, (b.get(k) & 0xff) << (8 * (3 - (int) (before + k))), (x, y) -> x | y);
                    }
                    d.update(b.array(), 0, r);
                    counts.put(fd, before + r);
                }
            }
        }
        return done;
    }
}

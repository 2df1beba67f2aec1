package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * Issue 15's hand-over for UDP on a real Felix: a datagram flood from ns1 to a receiver in ns2 while the
 * UDP bundle is updated to a rebuilt jar. The receiver's descriptor keeps working, and every datagram
 * sent is received or on a counter; an update to a jar whose state version differs is refused, the
 * sockets close, and a fresh socket carries the traffic.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class UdpHandOverIT {
    private static final int PORT = 5000;
    private static final SockAddr RECEIVER = new SockAddr(0x0a000002, PORT);

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
        ModnetRuntime.service(context, org.modnet.socket.api.SocketProtocol.class, null);
        ModnetRuntime.vethPair(context, core);
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
    }

    private long counter(String ns, String name) throws Exception {
        for (String line : ModnetRuntime.run(processor, ns, "nstat -az " + name).split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 2 && w[0].equals(name)) {
                return Long.parseLong(w[1]);
            }
        }
        throw new AssertionError("nstat has no " + name);
    }

    private static int check(int ret) {
        assertTrue("system call failed: " + SocketCalls.strerror(ret), ret >= 0);
        return ret;
    }

    /** The UDP bundle's jar, rebuilt: the same classes, a manifest with {@code header: value} added or replaced. */
    private static Path rebuiltUdp(String header, String value) throws Exception {
        return rebuilt("org.modnet.udp", header, value);
    }

    /** Bundle {@code bsn}'s jar, rebuilt: the same classes, a manifest with {@code header: value} added or replaced. */
    private static Path rebuilt(String bsn, String header, String value) throws Exception {
        Path jar = ModnetRuntime.root().resolve("run-configs/target/repo/" + bsn + "-0.1.0-SNAPSHOT.jar");
        Path out = Files.createTempFile(bsn + "-rebuilt", ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(jar))) {
            Manifest mf = new Manifest(in.getManifest());
            mf.getMainAttributes().putValue(header, value);
            try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(out), mf)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    o.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(o);
                    o.closeEntry();
                }
            }
        }
        return out;
    }

    private void update(Path jar) throws Exception {
        Bundle udp = ModnetRuntime.bundleNamed(context, "org.modnet.udp");
        try (InputStream in = Files.newInputStream(jar)) {
            udp.update(in);
        }
        assertEquals(Bundle.ACTIVE, udp.getState());
        ModnetRuntime.service(context, org.modnet.socket.api.SocketProtocol.class, null);
    }

    @Test
    public void aFloodSurvivesAnUpdateOfUdpWithEveryDatagramReceivedOrCounted() throws Exception {
        Path rebuilt = rebuiltUdp("Modnet-Rebuilt", "hand-over test");
        long inErrors = counter("ns2", "UdpInErrors");
        long discards = counter("ns2", "IpInDiscards");
        long unknown = counter("ns2", "IpInUnknownProtos");
        long rcvbufErrors = counter("ns2", "UdpRcvbufErrors");
        SocketCalls rx = sockets.process("receiver", "ns2");
        int rfd = check(rx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        check(rx.setsockopt(rfd, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, 1 << 20));
        check(rx.bind(rfd, new SockAddr(0, PORT)));
        check(rx.setsockopt(rfd, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 3, 0));
        AtomicLong received = new AtomicLong();
        AtomicLong receivedAfter = new AtomicLong();
        AtomicLong lastNanos = new AtomicLong(System.nanoTime());
        AtomicLong maxGap = new AtomicLong();
        AtomicLong firstAfterUpdate = new AtomicLong();
        AtomicLong updateStart = new AtomicLong(Long.MAX_VALUE);
        // own threads: the common pool may have one worker on two cores, and the reader blocks
        java.util.concurrent.Executor own = r -> Thread.ofPlatform().daemon().start(r);
        CompletableFuture<Integer> reader = CompletableFuture.supplyAsync(() -> {
            ByteBuffer buf = ByteBuffer.allocate(2048);
            while (true) {
                buf.clear();
                int n = rx.recvfrom(rfd, buf, 0, null);
                if (n < 0) {
                    return n; // EAGAIN when the flood is over and SO_RCVTIMEO ran out
                }
                long now = System.nanoTime();
                maxGap.accumulateAndGet(now - lastNanos.getAndSet(now), Math::max);
                received.incrementAndGet();
                if (now > updateStart.get()) {
                    receivedAfter.incrementAndGet();
                    firstAfterUpdate.compareAndSet(0, now);
                }
            }
        }, own);
        SocketCalls tx = sockets.process("flood", "ns1");
        int tfd = check(tx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        check(tx.connect(tfd, RECEIVER));
        AtomicLong sent = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        CompletableFuture<Void> flood = CompletableFuture.runAsync(() -> {
            ByteBuffer payload = ByteBuffer.allocate(200);
            while (!stop.get()) {
                payload.clear();
                if (tx.send(tfd, payload, 0) == 200) {
                    sent.incrementAndGet();
                }
                if (sent.get() % 64 == 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // ~64 datagrams a millisecond at most
                }
            }
        }, own);
        Thread.sleep(1000);
        long sentBefore = sent.get();
        long start = System.nanoTime();
        updateStart.set(start);
        update(rebuilt);
        long updated = System.nanoTime();
        Thread.sleep(1000);
        stop.set(true);
        flood.get(10, TimeUnit.SECONDS);
        assertEquals("the receiver stops only when the flood has dried up", Integer.valueOf(-Errno.EAGAIN.number()),
                reader.get(20, TimeUnit.SECONDS));
        long udpErrors = counter("ns2", "UdpInErrors") - inErrors; // RcvbufErrors are InErrors too
        long rcvbuf = counter("ns2", "UdpRcvbufErrors") - rcvbufErrors;
        long held = counter("ns2", "IpInDiscards") - discards;
        long counted = udpErrors + held + (counter("ns2", "IpInUnknownProtos") - unknown);
        long lost = sent.get() - received.get();
        System.out.printf("udp hand-over: sent %d (%d before the update), received %d, %d after; counted drops %d"
                + " (UdpInErrors %d of which UdpRcvbufErrors %d, IpInDiscards %d); uncounted %d; update() took %.1f ms; first datagram after it started %.1f ms;"
                + " longest receive gap %.1f ms%n", sent.get(), sentBefore, received.get(), receivedAfter.get(), counted,
                udpErrors, rcvbuf, held, lost - counted, (updated - start) / 1e6, firstAfterUpdate.get() == 0 ? -1.0 : (firstAfterUpdate.get() - start) / 1e6,
                maxGap.get() / 1e6);
        assertTrue("the receiver's descriptor works after the update", receivedAfter.get() > 0);
        assertEquals("every datagram sent is received or on a counter", sent.get(), received.get() + counted);
        assertEquals(1, counter("ns2", "HandOverSocketsAdopted"));
        check(tx.close(tfd));
        check(rx.close(rfd));
    }

    /**
     * The socket layer's update does not bounce UDP: UDP's reference to the socket layer's hand-over
     * holder is dynamic, so its component (and its services) stay through it, no socket is handed over,
     * and a descriptor opened before the update receives after it.
     */
    @Test
    public void anUpdateOfTheSocketLayerLeavesUdpRunningAndItsSocketsWhereTheyAre() throws Exception {
        SocketCalls rx = sockets.process("receiver", "ns2");
        int rfd = check(rx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        check(rx.bind(rfd, new SockAddr(0, PORT)));
        check(rx.setsockopt(rfd, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 3, 0));
        SocketCalls tx = sockets.process("sender", "ns1");
        int tfd = check(tx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        Object udpBefore = udpProtocol();
        long adoptedBefore = counter("ns2", "HandOverSocketsAdopted");
        java.util.concurrent.atomic.AtomicInteger udpLeft = new java.util.concurrent.atomic.AtomicInteger();
        org.osgi.framework.ServiceListener watch = ev -> {
            if (ev.getType() == org.osgi.framework.ServiceEvent.UNREGISTERING) {
                udpLeft.incrementAndGet();
            }
        };
        context.addServiceListener(watch, "(modnet.ipproto=17)");
        Bundle socket = ModnetRuntime.bundleNamed(context, "org.modnet.socket");
        try (InputStream in = Files.newInputStream(rebuilt("org.modnet.socket", "Modnet-Rebuilt", "udp hand-over test"))) {
            socket.update(in);
        }
        ModnetRuntime.service(context, Sockets.class, null);
        context.removeServiceListener(watch);
        assertEquals("UDP's services never left", 0, udpLeft.get());
        assertSame("the same UDP component runs", udpBefore, udpProtocol());
        assertEquals("no socket handed over: UDP's stayed in the socket layer's tables", adoptedBefore,
                counter("ns2", "HandOverSocketsAdopted"));
        assertEquals(5, tx.sendto(tfd, ByteBuffer.wrap("after".getBytes()), 0, RECEIVER));
        assertEquals("the descriptor opened before the update receives after it", 5,
                rx.recvfrom(rfd, ByteBuffer.allocate(16), 0, null));
        check(tx.close(tfd));
        check(rx.close(rfd));
    }

    /**
     * What a UDP socket keeps across an update of the UDP bundle to a rebuilt jar: UDP_SEGMENT's
     * gso_size (a send after the update still goes as datagrams of it), the SOL_SOCKET and IP options
     * (SO_PRIORITY, SO_MARK, IP_TOS, IP_TTL, IP_RECVTTL among them), the connected peer and the
     * datagram queued on the receiver with its sender.
     */
    @Test
    public void aSocketsOptionsAndUdpSegmentSurviveAnUpdateOfUdp() throws Exception {
        Path rebuilt = rebuiltUdp("Modnet-Rebuilt", "udp options test");
        SocketCalls rx = sockets.process("receiver", "ns2");
        int rfd = check(rx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        check(rx.bind(rfd, new SockAddr(0, PORT)));
        check(rx.setsockopt(rfd, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 3, 0));
        SocketCalls tx = sockets.process("sender", "ns1");
        int tfd = check(tx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        check(tx.connect(tfd, RECEIVER));
        int[][] opts = { { SocketCalls.SOL_UDP, SocketCalls.UDP_SEGMENT, 1000 }, { SocketCalls.SOL_SOCKET, SocketCalls.SO_PRIORITY, 4 },
                { SocketCalls.SOL_SOCKET, SocketCalls.SO_MARK, 0x15 }, { SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, 0x20 },
                { SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, 9 }, { SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVTTL, 1 } };
        for (int[] o : opts) {
            check(tx.setsockopt(tfd, o[0], o[1], o[2]));
        }
        assertEquals(4, tx.send(tfd, ByteBuffer.wrap("held".getBytes()), 0));
        Thread.sleep(200); // queued on the receiver before the update
        update(rebuilt);
        int[] v = new int[1];
        for (int[] o : opts) {
            check(tx.getsockopt(tfd, o[0], o[1], v));
            assertEquals("level " + o[0] + " option " + o[1] + " after the update", o[2], v[0]);
        }
        SockAddr[] from = new SockAddr[1];
        assertEquals("the datagram queued before the update", 4, rx.recvfrom(rfd, ByteBuffer.allocate(16), 0, from));
        SockAddr[] name = new SockAddr[1];
        check(tx.getsockname(tfd, name));
        assertEquals("with its sender", name[0], from[0]);
        assertEquals("still connected", 2500, tx.send(tfd, ByteBuffer.allocate(2500), 0));
        int[] sizes = new int[3];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = rx.recvfrom(rfd, ByteBuffer.allocate(4096), 0, null);
        }
        assertEquals("the send after the update cut into gso_size datagrams", java.util.List.of(1000, 1000, 500),
                java.util.List.of(sizes[0], sizes[1], sizes[2]));
        assertEquals(-Errno.EAGAIN.number(), rx.recvfrom(rfd, ByteBuffer.allocate(4096), SocketCalls.MSG_DONTWAIT, null));
        // IP_RECVERR's error queue: a port unreachable queued before the next update is read after it
        // (an unconnected socket: udp_err finds the sender by the quoted 4-tuple, which a connected one's peer must match)
        int efd = check(tx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        check(tx.setsockopt(efd, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1));
        assertEquals(4, tx.sendto(efd, ByteBuffer.wrap("nope".getBytes()), 0, new SockAddr(0x0a000002, 9)));
        Thread.sleep(200);
        update(rebuiltUdp("Modnet-Rebuilt", "udp error queue test"));
        org.modnet.socket.api.MsgHdr m = new org.modnet.socket.api.MsgHdr(null, ByteBuffer.allocate(16));
        assertEquals("the queued ICMP error's payload, after the update", 4, tx.recvmsg(efd, m, SocketCalls.MSG_ERRQUEUE));
        assertEquals(Errno.ECONNREFUSED.number(), m.extendedErr.errno());
        assertEquals(new SockAddr(0x0a000002, 9), m.name);
        check(tx.close(efd));
        check(tx.close(tfd));
        check(rx.close(rfd));
    }

    /** The running UDP's component instance (its class is private to its bundle). */
    private Object udpProtocol() throws Exception {
        org.osgi.framework.ServiceReference<?>[] refs = context.getServiceReferences(org.modnet.api.inet.InetProtocol.class.getName(),
                "(modnet.ipproto=17)");
        return refs == null ? null : context.getService(refs[0]);
    }

    @Test
    public void anUnknownStateVersionIsRefusedAndAFreshSocketCarriesTheTraffic() throws Exception {
        Path other = rebuiltUdp("Modnet-State-Version", "2");
        SocketCalls rx = sockets.process("receiver", "ns2");
        int rfd = check(rx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        check(rx.bind(rfd, new SockAddr(0, PORT)));
        update(other);
        assertEquals(-Errno.EBADF.number(), rx.recvfrom(rfd, ByteBuffer.allocate(16), SocketCalls.MSG_DONTWAIT, null));
        assertEquals(1, counter("ns2", "HandOverRefused"));
        int fresh = check(rx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        check(rx.bind(fresh, new SockAddr(0, PORT)));
        check(rx.setsockopt(fresh, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 3, 0));
        SocketCalls tx = sockets.process("sender", "ns1");
        int tfd = check(tx.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        assertEquals(5, tx.sendto(tfd, ByteBuffer.wrap("fresh".getBytes()), 0, RECEIVER));
        assertEquals(5, rx.recvfrom(fresh, ByteBuffer.allocate(16), 0, null));
    }
}

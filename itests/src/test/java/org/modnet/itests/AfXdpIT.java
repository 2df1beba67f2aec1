package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.xsk.AfXdp;
import org.modnet.api.xsk.XdpSocket;
import org.modnet.api.xsk.XdpStatistics;
import org.modnet.api.xsk.XdpUmemReg;
import org.modnet.api.xsk.XskRing;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * AF_XDP on a real Felix (issue 21): xdp_sock, built by Debian's clang, on veth1 in ns2 redirects every
 * frame to the AF_XDP socket a Java program here opened through the {@link AfXdp} service and bound to
 * veth1's queue 0 (its fd put into the xskmap with {@code bpftool map update}); the program answers each ICMP echo request it receives by turning it into the reply
 * and sending it back through its TX ring — so ns1's ping is answered by Java code over AF_XDP, not by
 * ns2's stack. {@code bpftool map show} lists the xskmap.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class AfXdpIT {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 64;

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    private static Path object(String name) throws Exception {
        boolean clang = java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "clang")));
        assumeTrue("needs clang and libbpf-dev (.ci/run installs them)", clang);
        Path src = ModnetRuntime.root().resolve("bundles/xdp/src/test/resources/bpf/" + name + ".c");
        Path out = ModnetRuntime.root().resolve("itests/target/" + name + ".o");
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu", "-c",
                src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals("clang: " + log, 0, p.waitFor());
        return out;
    }

    @Test
    public void aJavaProgramOnAfXdpAnswersThePingsAnXdpProgramRedirectsToIt() throws Exception {
        Path obj = object("xdp_sock");
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.net.XdpLoader.class, null);
        AfXdp af = ModnetRuntime.service(context, AfXdp.class, null);
        NetDevice veth1 = ModnetRuntime.vethPair(context, core)[1];
        assertThat("ARP resolved first", ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));

        ModnetRuntime.run(processor, "ns2", "ip link set dev veth1 xdp obj " + obj + " sec xdp");
        String line = ModnetRuntime.run(processor, "bpftool map show").lines().filter(l -> l.contains("name xsks_map")).findFirst()
                .orElseThrow(() -> new AssertionError("bpftool map show lists no xsks_map"));
        assertThat(line, containsString("xskmap"));
        int mapId = Integer.parseInt(line.substring(0, line.indexOf(':')).trim());

        try (Arena arena = Arena.ofShared(); XdpSocket s = af.socket(veth1.namespace())) {
            MemorySegment umem = arena.allocate((long) CHUNK * CHUNKS, CHUNK);
            s.umemReg(new XdpUmemReg(umem, CHUNK, 0, 0));
            for (int ring : new int[] { XdpSocket.XDP_UMEM_FILL_RING, XdpSocket.XDP_UMEM_COMPLETION_RING, XdpSocket.XDP_RX_RING,
                    XdpSocket.XDP_TX_RING }) {
                s.ringSize(ring, 32);
            }
            XskRing fq = s.ring(XdpSocket.XDP_UMEM_FILL_RING);
            int f = fq.reserve(32);
            for (int i = 0; i < 32; i++) {
                fq.addr(f + i, (long) i * CHUNK);
            }
            fq.submit(32);
            s.bind(veth1.ifindex(), 0, XdpSocket.XDP_COPY);
            int fd = s.fd();
            ModnetRuntime.run(processor, "bpftool map update id " + mapId + " key 0 0 0 0 value " + (fd & 0xff) + " " + (fd >>> 8 & 0xff) + " "
                    + (fd >>> 16 & 0xff) + " " + (fd >>> 24));
            assertThat(ModnetRuntime.run(processor, "bpftool map lookup id " + mapId + " key 0 0 0 0"),
                    containsString(String.format("value: %02x 00 00 00", fd)));

            AtomicInteger answered = new AtomicInteger();
            Thread responder = Thread.ofPlatform().name("af-xdp-echo").start(() -> echo(s, umem, fq, answered));
            try {
                String ping = ModnetRuntime.runCapturing(processor, "ns1", "ping -c 3 -i 0.2 -W 2 10.0.0.2");
                assertThat(ping, containsString("3 packets transmitted, 3 received"));
            } finally {
                responder.interrupt();
                responder.join(5000);
            }
            assertEquals("the Java program answered each echo request", 3, answered.get());
            XdpStatistics st = s.statistics();
            assertEquals(0, st.rxDropped());
            assertEquals(0, st.rxRingFull());
            assertEquals(0, st.txInvalidDescs());
            assertTrue(veth1.ethtoolStats().get("xdp_redirect") >= 3);
        }
        assertThat("a closed socket leaves the map", ModnetRuntime.run(processor, "bpftool map lookup id " + mapId + " key 0 0 0 0"),
                containsString("value: 00 00 00 00"));
        assertThat("so ns2's stack answers again",
                ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
        ModnetRuntime.run(processor, "ns2", "ip link set dev veth1 xdp off");
    }

    /**
     * The Java program: each ICMP echo request on the RX ring becomes the reply in its own chunk and goes
     * out on the TX ring; completed and other chunks go back on the fill ring.
     */
    private static void echo(XdpSocket s, MemorySegment umem, XskRing fq, AtomicInteger answered) {
        try {
            XskRing rx = s.ring(XdpSocket.XDP_RX_RING);
            XskRing tx = s.ring(XdpSocket.XDP_TX_RING);
            XskRing cq = s.ring(XdpSocket.XDP_UMEM_COMPLETION_RING);
            ValueLayout.OfShort be16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
            while (!Thread.currentThread().isInterrupted()) {
                if (!s.poll(50_000_000L)) {
                    continue;
                }
                for (int n = rx.peek(32), i = 0; i < n; i++) {
                    long a = rx.descAddr(rx.index());
                    int len = rx.descLen(rx.index());
                    rx.release(1);
                    boolean echoRequest = len >= 14 + 20 + 8 && umem.get(be16, a + 12) == 0x0800 && umem.get(ValueLayout.JAVA_BYTE, a + 23) == 1
                            && umem.get(ValueLayout.JAVA_BYTE, a + 34) == 8;
                    if (!echoRequest) {
                        recycle(fq, a);
                        continue;
                    }
                    swap(umem, a, a + 6, 6);
                    swap(umem, a + 26, a + 30, 4);
                    umem.set(ValueLayout.JAVA_BYTE, a + 34, (byte) 0); // echo reply
                    umem.set(be16, a + 36, (short) 0);
                    umem.set(be16, a + 36, checksum(umem, a + 34, len - 34));
                    int t = tx.reserve(1);
                    tx.desc(t, a, len, 0);
                    tx.submit(1);
                    s.sendto();
                    answered.incrementAndGet();
                }
                for (int n = cq.peek(32), i = 0; i < n; i++) {
                    recycle(fq, cq.addr(cq.index()));
                    cq.release(1);
                }
            }
        } catch (InterruptedException e) {
            // done
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void recycle(XskRing fq, long addr) {
        int f = fq.reserve(1);
        if (f >= 0) {
            fq.addr(f, addr & ~(long) (CHUNK - 1));
            fq.submit(1);
        }
    }

    private static void swap(MemorySegment m, long a, long b, int n) {
        for (int i = 0; i < n; i++) {
            byte x = m.get(ValueLayout.JAVA_BYTE, a + i);
            m.set(ValueLayout.JAVA_BYTE, a + i, m.get(ValueLayout.JAVA_BYTE, b + i));
            m.set(ValueLayout.JAVA_BYTE, b + i, x);
        }
    }

    /** The Internet checksum of {@code len} bytes at {@code off}. */
    private static short checksum(MemorySegment m, long off, int len) {
        long sum = 0;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += (m.get(ValueLayout.JAVA_BYTE, off + i) & 0xff) << 8 | (m.get(ValueLayout.JAVA_BYTE, off + i + 1) & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (m.get(ValueLayout.JAVA_BYTE, off + len - 1) & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (short) ~sum;
    }
}

package org.modnet.xdp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.xsk.XdpSocket;
import org.modnet.api.xsk.XdpStatistics;
import org.modnet.api.xsk.XdpUmemReg;
import org.modnet.api.xsk.XskRing;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;

/**
 * AF_XDP (issue 21): xdp_sock — clang-built, {@code bpf_redirect_map(&xsks_map, ctx->rx_queue_index,
 * XDP_PASS)} — on vb hands the frames A sends to an AF_XDP socket a Java program opened on B's queue 0:
 * each copied into a UMEM chunk the program put on the fill ring and described on the RX ring; a frame
 * the program puts on the TX ring leaves through vb and its chunk comes back on the completion ring.
 * What cannot be received is counted as {@code XDP_STATISTICS} counts it.
 */
class AfXdpTest {
    private static final BpfSyscall BPF = EbpfXdpHookTest.BPF;
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 16;
    /** What A sends: Ethernet, IPv4, 20 bytes of payload. */
    private static final int FRAME = 14 + 20 + 20;

    private ThreeNamespaces net;
    private AfXdpFamily family;
    private BpfMap xsks;
    private final Arena arena = Arena.ofShared();
    private MemorySegment umem;

    @BeforeEach
    void setUp() throws Exception {
        net = new ThreeNamespaces();
        family = new AfXdpFamily(BPF);
        umem = arena.allocate((long) CHUNK * CHUNKS, CHUNK);
    }

    @AfterEach
    void tearDown() {
        net.stack.shutdown();
    }

    private static byte[] build(String name) throws Exception {
        boolean clang = java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "clang")));
        Assumptions.assumeTrue(clang, "needs clang and libbpf-dev (.ci/run installs them)");
        Path src = Path.of("src/test/resources/bpf/" + name + ".c").toAbsolutePath();
        Path out = Path.of("target", name + ".o").toAbsolutePath();
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu", "-c",
                src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "clang failed:\n" + log);
        return Files.readAllBytes(out);
    }

    /** xdp_sock on vb, natively (the veth hands over its frame in place) or at the generic hook. */
    private void attach(String variant) throws Exception {
        String[] v = variant.split("/");
        BpfObject o = BPF.objOpen(build("xdp_sock"));
        List<BpfMap> maps = o.createMaps(1);
        xsks = maps.get(0);
        assertEquals(BpfMap.MAP_XSKMAP, xsks.type());
        BpfObject.ProgramDef d = o.program("xdp");
        net.vb.setXdp(new EbpfXdpHook(BPF, BPF.progLoad(d.name(), d.insns(), ProgType.XDP, AttachType.DEFAULT, maps, null, null, v[0], false)),
                v.length > 1 && v[1].equals("native"));
    }

    /** A socket on B with the UMEM registered and rings of {@code rxEntries} (RX) and 8 (the others), not bound. */
    private XdpSocket socket(int rxEntries) throws NetException {
        XdpSocket s = family.socket(net.b);
        s.umemReg(new XdpUmemReg(umem, CHUNK, 0, 0));
        s.ringSize(XdpSocket.XDP_UMEM_FILL_RING, 8);
        s.ringSize(XdpSocket.XDP_UMEM_COMPLETION_RING, 8);
        s.ringSize(XdpSocket.XDP_RX_RING, rxEntries);
        s.ringSize(XdpSocket.XDP_TX_RING, 8);
        return s;
    }

    /** Chunks {@code first..first+n-1} onto the fill ring. */
    private static void fill(XskRing fq, int first, int n) {
        int idx = fq.reserve(n);
        assertTrue(idx >= 0, "room on the fill ring");
        for (int i = 0; i < n; i++) {
            fq.addr(idx + i, (long) (first + i) * CHUNK);
        }
        fq.submit(n);
    }

    /** Names the socket in xsks_map's slot for queue 0. */
    private void toSlot0(XdpSocket s) {
        byte[] fd = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(s.fd()).array();
        assertEquals(0, xsks.update(new byte[4], fd, BpfMap.BPF_ANY));
    }

    private long ip(org.modnet.api.net.NetNamespace ns, String counter) {
        return net.ipv4.counters(ns).get(counter);
    }

    private void sendUdp(int n) {
        for (int i = 0; i < n; i++) {
            net.send(0x0a000002, 17, 20);
        }
        net.stack.run();
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit", "jit/native" })
    void aJavaProgramReceivesTheFramesAnXdpProgramRedirectsToItsSocketAndSendsOneBack(String variant) throws Exception {
        attach(variant);
        XdpSocket s = socket(8);
        XskRing fq = s.ring(XdpSocket.XDP_UMEM_FILL_RING);
        XskRing rx = s.ring(XdpSocket.XDP_RX_RING);
        XskRing tx = s.ring(XdpSocket.XDP_TX_RING);
        XskRing cq = s.ring(XdpSocket.XDP_UMEM_COMPLETION_RING);
        fill(fq, 0, 4);
        s.bind(net.vb.ifindex(), 0, XdpSocket.XDP_COPY);
        toSlot0(s);
        long bIn = ip(net.b, "IpInReceives");

        sendUdp(3);

        assertTrue(s.poll(0), "frames on the RX ring");
        assertEquals(3, rx.peek(8));
        assertEquals(3L, net.vb.ethtoolStats().get("xdp_redirect"));
        assertEquals(bIn, ip(net.b, "IpInReceives"), "nothing reached B's stack");
        int first = rx.index();
        for (int i = 0; i < 3; i++) {
            long addr = rx.descAddr(first + i);
            assertEquals((long) i * CHUNK + XdpUmemReg.XDP_PACKET_HEADROOM, addr, "the fill ring's chunks in order, after the headroom");
            assertEquals(FRAME, rx.descLen(first + i));
            assertEquals(0, rx.descOptions(first + i));
            assertEquals(0x0800, Short.toUnsignedInt(umem.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), addr + 12)));
            assertEquals(17, umem.get(ValueLayout.JAVA_BYTE, addr + 14 + 9), "the UDP frame, as sent");
            assertEquals(0x0a000002, umem.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), addr + 14 + 16));
        }
        assertEquals(fq.consumer(), fq.producer() - 1, "three of the four chunks taken off the fill ring");

        // the first frame back to A, addresses swapped, from its own chunk
        long addr = rx.descAddr(first);
        swap(addr, 0, 6, 6);
        swap(addr, 14 + 12, 14 + 16, 4);
        rx.release(3);
        long aRx = net.va.stats().get(DeviceStats.Field.RX_PACKETS);
        long aIn = ip(net.a, "IpInReceives");
        int t = tx.reserve(1);
        tx.desc(t, addr, FRAME, 0);
        tx.submit(1);
        s.sendto();
        net.stack.run();
        assertEquals(aRx + 1, net.va.stats().get(DeviceStats.Field.RX_PACKETS), "the frame crossed the veth back to A");
        assertEquals(aIn + 1, ip(net.a, "IpInReceives"), "A's IPv4 took it: a valid frame, to its address");
        assertEquals(1, cq.peek(8), "its chunk back on the completion ring");
        assertEquals(addr, cq.addr(cq.index()));
        cq.release(1);
        assertEquals(new XdpStatistics(0, 0, 0, 0, 0, 1), s.statistics(), "the send found the TX ring empty after its frame");
        s.close();
        assertEquals(0, net.stack.core().pool().inUse(), "nothing leaked on any path");
    }

    private void swap(long base, int a, int b, int n) {
        for (int i = 0; i < n; i++) {
            byte x = umem.get(ValueLayout.JAVA_BYTE, base + a + i);
            umem.set(ValueLayout.JAVA_BYTE, base + a + i, umem.get(ValueLayout.JAVA_BYTE, base + b + i));
            umem.set(ValueLayout.JAVA_BYTE, base + b + i, x);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "jit", "jit/native" })
    void anEmptyFillRingDropsAndCountsWhileTheStackGetsNothing(String variant) throws Exception {
        attach(variant);
        XdpSocket s = socket(8);
        fill(s.ring(XdpSocket.XDP_UMEM_FILL_RING), 0, 1);
        s.bind(net.vb.ifindex(), 0, 0);
        toSlot0(s);
        long bIn = ip(net.b, "IpInReceives");
        sendUdp(3);
        assertEquals(1, s.ring(XdpSocket.XDP_RX_RING).peek(8), "one chunk, one frame");
        XdpStatistics st = s.statistics();
        assertEquals(2, st.rxFillRingEmptyDescs(), "two frames found the fill ring empty");
        assertEquals(2, st.rxDropped());
        assertEquals(0, st.rxRingFull());
        assertEquals(2L, net.vb.ethtoolStats().get("xdp_aborted"), "the redirects that failed");
        assertEquals(bIn, ip(net.b, "IpInReceives"));
        assertEquals(0, net.stack.core().pool().inUse(), "nothing leaked on any path");
    }

    @ParameterizedTest
    @ValueSource(strings = { "jit", "jit/native" })
    void aFullRxRingLeavesTheChunkOnTheFillRingAndCountsRxRingFull(String variant) throws Exception {
        attach(variant);
        XdpSocket s = socket(2);
        XskRing fq = s.ring(XdpSocket.XDP_UMEM_FILL_RING);
        fill(fq, 0, 4);
        s.bind(net.vb.ifindex(), 0, 0);
        toSlot0(s);
        sendUdp(3);
        assertEquals(2, s.ring(XdpSocket.XDP_RX_RING).peek(8));
        assertEquals(new XdpStatistics(0, 0, 0, 1, 0, 0), s.statistics());
        assertEquals(2, fq.producer() - fq.consumer(), "the third frame's chunk is still the program's to give");
        assertEquals(0, net.stack.core().pool().inUse(), "nothing leaked on any path");
    }

    @Test
    void aClosedSocketLeavesTheXskmapAndItsQueuesFramesPassToTheStack() throws Exception {
        attach("jit");
        XdpSocket s = socket(8);
        fill(s.ring(XdpSocket.XDP_UMEM_FILL_RING), 0, 4);
        s.bind(net.vb.ifindex(), 0, 0);
        toSlot0(s);
        s.close();
        assertArrayEquals(new byte[4], xsks.lookup(new byte[4]), "xsk_delete_from_maps: the slot names no socket");
        long bIn = ip(net.b, "IpInReceives");
        sendUdp(2);
        assertEquals(bIn + 2, ip(net.b, "IpInReceives"), "no socket in the slot: bpf_redirect_map's XDP_PASS");
        XdpSocket again = socket(8);
        again.bind(net.vb.ifindex(), 0, 0); // the queue is free again
        assertTrue(again.fd() != s.fd(), "fds are not reused");
        again.close();
    }

    @Test
    void aSocketBoundToAnotherDeviceGetsNothingFromThisDevicesProgram() throws Exception {
        attach("jit");
        XdpSocket s = socket(8);
        fill(s.ring(XdpSocket.XDP_UMEM_FILL_RING), 0, 4);
        s.bind(net.vc.ifindex(), 0, 0);
        toSlot0(s); // vb's program's slot names vc's socket: xsk_rcv_check refuses
        sendUdp(1);
        assertEquals(0, s.ring(XdpSocket.XDP_RX_RING).peek(8));
        assertEquals(1L, net.vb.ethtoolStats().get("xdp_aborted"), "the redirect failed");
        s.close();
    }

    @Test
    void badDescriptorsOnTheTxRingAreSkippedAndCounted() throws Exception {
        attach("jit");
        XdpSocket s = socket(8);
        s.bind(net.vb.ifindex(), 0, 0);
        XskRing tx = s.ring(XdpSocket.XDP_TX_RING);
        int t = tx.reserve(3);
        tx.desc(t, (long) CHUNK * CHUNKS, 60, 0); // past the UMEM
        tx.desc(t + 1, CHUNK - 10, 60, 0); // across two chunks
        tx.desc(t + 2, 0, 60, XdpSocket.XDP_PKT_CONTD); // multi-buffer, not offered
        tx.submit(3);
        long vbTx = net.vb.stats().get(DeviceStats.Field.TX_PACKETS);
        s.sendto();
        net.stack.run();
        assertEquals(new XdpStatistics(0, 0, 3, 0, 0, 1), s.statistics());
        assertEquals(vbTx, net.vb.stats().get(DeviceStats.Field.TX_PACKETS), "nothing sent");
        assertEquals(0, s.ring(XdpSocket.XDP_UMEM_COMPLETION_RING).peek(8), "nothing completed");
        s.close();
    }

    @Test
    void theSocketRefusesWhatTheKernelRefusesWithItsErrno() throws Exception {
        XdpSocket s = family.socket(net.b);
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.bind(net.vb.ifindex(), 0, 0)).errno(), "no rings");
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.umemReg(new XdpUmemReg(umem, 1000, 0, 0))).errno(),
                "chunk size not a power of two");
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.umemReg(new XdpUmemReg(umem, CHUNK, CHUNK - 256, 0))).errno(),
                "headroom leaves no room");
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.umemReg(new XdpUmemReg(umem.asSlice(0, 6000), CHUNK, 0, 0))).errno(),
                "not whole chunks");
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.ringSize(XdpSocket.XDP_RX_RING, 6)).errno());
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.ring(XdpSocket.XDP_TX_RING)).errno(), "not made");
        s.ringSize(XdpSocket.XDP_RX_RING, 8);
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.bind(net.vb.ifindex(), 0, 0)).errno(), "no UMEM");
        s.umemReg(new XdpUmemReg(umem, CHUNK, 0, 0));
        assertEquals(Errno.EBUSY, assertThrows(NetException.class, () -> s.umemReg(new XdpUmemReg(umem, CHUNK, 0, 0))).errno());
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.bind(net.vb.ifindex(), 0, 0)).errno(), "no fill ring");
        s.ringSize(XdpSocket.XDP_UMEM_FILL_RING, 8);
        s.ringSize(XdpSocket.XDP_UMEM_COMPLETION_RING, 8);
        assertEquals(Errno.ENXIO, assertThrows(NetException.class, s::sendto).errno(), "not bound");
        assertEquals(Errno.ENODEV, assertThrows(NetException.class, () -> s.bind(999, 0, 0)).errno());
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.bind(net.vb.ifindex(), 7, 0)).errno(), "no queue 7");
        assertEquals(Errno.EOPNOTSUPP, assertThrows(NetException.class, () -> s.bind(net.vb.ifindex(), 0, XdpSocket.XDP_ZEROCOPY)).errno());
        s.bind(net.vb.ifindex(), 0, XdpSocket.XDP_COPY);
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.bind(net.vb.ifindex(), 0, 0)).errno(), "bound already");
        assertEquals(Errno.EBUSY, assertThrows(NetException.class, () -> s.ringSize(XdpSocket.XDP_TX_RING, 8)).errno(), "bound");
        assertEquals(Errno.ENOBUFS, assertThrows(NetException.class, s::sendto).errno(), "no TX ring");
        XdpSocket other = socket(8);
        assertEquals(Errno.EBUSY, assertThrows(NetException.class, () -> other.bind(net.vb.ifindex(), 0, 0)).errno(), "the queue is taken");
        other.close();
        s.close();
    }

    @Test
    void anXskmapHasFourByteKeysAndValues() {
        assertThrows(org.modnet.ebpf.api.BpfException.class, () -> BPF.mapCreate("x", BpfMap.MAP_XSKMAP, 4, 8, 4, 0, 1));
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    @Test
    void anXskmapTakesOnlyAnOpenAfXdpSocketsFd() throws Exception {
        BpfMap m = BPF.mapCreate("x", BpfMap.MAP_XSKMAP, 4, 4, 4, 0, 1);
        XdpSocket s = socket(8);
        XdpSocket t = socket(8);
        assertEquals(-88, m.update(new byte[4], le(1), BpfMap.BPF_ANY), "a standard stream is no socket: ENOTSOCK");
        assertEquals(-9, m.update(new byte[4], le(t.fd() + 1000), BpfMap.BPF_ANY), "no such fd: EBADF (sockfd_lookup)");
        assertEquals(-2, m.update(new byte[4], le(s.fd()), BpfMap.BPF_EXIST), "an empty slot has nothing to replace: ENOENT");
        assertEquals(0, m.update(new byte[4], le(s.fd()), BpfMap.BPF_NOEXIST));
        assertEquals(0, m.update(new byte[4], le(s.fd()), BpfMap.BPF_NOEXIST), "the same socket again: nothing changes");
        assertEquals(-17, m.update(new byte[4], le(t.fd()), BpfMap.BPF_NOEXIST), "the slot holds another socket: EEXIST");
        assertEquals(0, m.update(new byte[4], le(t.fd()), BpfMap.BPF_EXIST));
        assertArrayEquals(le(t.fd()), m.lookup(new byte[4]));
        assertEquals(-7, m.update(le(4), le(s.fd()), BpfMap.BPF_ANY), "past max_entries: E2BIG");
        assertEquals(-22, m.update(le(1), le(s.fd()), 3), "unknown flags: EINVAL");
        t.close();
        assertEquals(-9, m.update(le(1), le(t.fd()), BpfMap.BPF_ANY), "a closed socket's fd names nothing");
        s.close();
    }
}

package org.modnet.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfHandOver;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgHandOver;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/**
 * An update of the ebpf bundle under traffic, both versions played by two implementation objects: the
 * program stays on the device under its id (the old one running until the adopted one replaces it),
 * its map keeps every count, the pins name the adopted objects. A plain stop still detaches.
 */
class XdpHandOverTest {
    /** Counts every frame in slot 0 of its array map and passes it. */
    private static final String COUNT = """
            stw [%r10-4], 0
            mov %r2, %r10
            add %r2, -4
            ldmap %r1, 0
            call 1
            jeq %r0, 0, out
            mov %r1, 1
            lock add [%r0+0], %r1
            out:
            mov %r0, 2
            exit
            """;

    private ThreeNamespaces net;
    private final BpfFs fs = new BpfFs();
    private XdpDetach detach;

    @BeforeEach
    void setUp() throws Exception {
        net = new ThreeNamespaces();
        detach = new XdpDetach(net.stack.core(), fs);
    }

    @AfterEach
    void tearDown() {
        net.stack.shutdown();
    }

    private void send(int n) {
        for (int i = 0; i < n; i++) {
            net.send(0x0a000002, 17, 20);
        }
        net.stack.run();
    }

    private static long count(BpfMap m) {
        return java.nio.ByteBuffer.wrap(m.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private EbpfXdpHook attachCounter(BpfSyscall bpf, BpfMap hits) throws Exception {
        BpfProg p = bpf.progLoad("count", bpf.assemble(COUNT), ProgType.XDP, AttachType.DEFAULT, List.of(hits), null, null);
        EbpfXdpHook hook = new EbpfXdpHook(bpf, p);
        net.vb.setXdp(hook, true);
        return hook;
    }

    @Test
    void anUpdateKeepsTheProgramAttachedUnderItsIdAndTheMapLosesNoCount() throws Exception {
        BpfSyscall old = new BpfSyscallImpl(() -> true);
        BpfMap hits = old.mapCreate("hits", BpfMap.MAP_ARRAY, 4, 8, 1, 0, 1);
        EbpfXdpHook hook = attachCounter(old, hits);
        int id = hook.id();
        fs.pin("/sys/fs/bpf/count", hook.program());
        fs.pin("/sys/fs/bpf/hits", hits);
        detach.bindBpf(old);
        send(3);

        detach.unbindBpf(old); // the old version leaves for an update: its program stays and runs
        assertSame(hook, net.vb.xdp(), "no window without XDP while the new version comes");
        send(2);

        BpfSyscall next = new BpfSyscallImpl();
        detach.bindBpf(next);
        EbpfXdpHook now = (EbpfXdpHook) net.vb.xdp();
        assertNotSame(hook, now);
        assertEquals(id, now.id(), "the same id");
        assertSame(next, now.bpf(), "the new implementation's program");
        assertTrue(net.vb.xdpNative(), "in the same mode");
        assertTrue(!hook.program().loaded(), "the old program is unloaded");
        send(4);

        BpfMap adopted = now.program().maps().get(0);
        assertEquals(hits.id(), adopted.id());
        assertEquals(9, count(adopted), "every frame counted, before, during and after the swap");
        assertEquals(9L, net.vb.ethtoolStats().get("xdp_pass"));
        assertSame(now.program(), fs.get("/sys/fs/bpf/count"), "the pin names the adopted program");
        assertSame(adopted, fs.get("/sys/fs/bpf/hits"), "the pin names the adopted map");
        assertSame(now.program(), next.prog(id));
        assertEquals(1L, detach.counters().get("XdpHandOvers"));
        assertEquals(0L, detach.counters().get("XdpHandOverMapsCopied"));
        fs.rm("/sys/fs/bpf/count");
        net.vb.setXdp(null);
        now.close();
        assertTrue(!now.program().loaded(), "the hook and the pin held the only references");
    }

    @Test
    void aPlainStopStillDetachesAndEmptiesTheBpfFileSystem() throws Exception {
        BpfSyscall bpf = new BpfSyscallImpl();
        BpfMap hits = bpf.mapCreate("hits", BpfMap.MAP_ARRAY, 4, 8, 1, 0, 1);
        EbpfXdpHook hook = attachCounter(bpf, hits);
        fs.pin("/sys/fs/bpf/hits", hits);
        detach.bindBpf(bpf);
        send(1);
        detach.unbindBpf(bpf);
        assertNull(net.vb.xdp(), "detached");
        assertTrue(!hook.program().loaded());
        assertThrows(CommandException.class, () -> fs.get("/sys/fs/bpf/hits"));
        assertEquals(1L, detach.counters().get("XdpDetached"));
        BpfSyscall next = new BpfSyscallImpl();
        detach.bindBpf(next);
        assertNull(net.vb.xdp(), "nothing adopted after a stop");
    }

    @Test
    void aProgramTheNewVersionRefusesComesOffItsDeviceAndIsCounted() throws Exception {
        BpfSyscall old = new BpfSyscallImpl(() -> true);
        BpfMap hits = old.mapCreate("hits", BpfMap.MAP_ARRAY, 4, 8, 1, 0, 1);
        EbpfXdpHook hook = attachCounter(old, hits);
        detach.bindBpf(old);
        detach.unbindBpf(old);
        BpfSyscall impl = new BpfSyscallImpl();
        BpfSyscall strict = (BpfSyscall) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] { BpfSyscall.class },
                (proxy, m, args) -> {
                    if (m.getName().equals("adopt")) { // a verifier that refuses every program handed over
                        BpfHandOver state = (BpfHandOver) args[0];
                        List<ProgHandOver> bad = state.progs().stream().map(p -> new ProgHandOver(p.id(), p.name(), p.type(), p.attach(),
                                new long[] { 0x95 }, p.engine(), p.mapIds(), p.extra(), p.tracePipe())).toList();
                        return impl.adopt(new BpfHandOver(state.version(), state.maps(), bad));
                    }
                    try {
                        return m.invoke(impl, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        detach.bindBpf(strict);
        assertNull(net.vb.xdp(), "refused: detached, the device receives without XDP");
        assertTrue(!hook.program().loaded());
        assertTrue(detach.counters().get("XdpHandOverRefused") >= 1);
        assertEquals(1L, detach.counters().get("XdpDetached"));
        send(1);
    }

    @Test
    void everyOtherUserOfProgramsMovesBeforeTheAdopterLetsGo() throws Exception {
        BpfSyscall old = new BpfSyscallImpl(() -> true);
        BpfMap hits = old.mapCreate("hits", BpfMap.MAP_ARRAY, 4, 8, 1, 0, 1);
        BpfProg tc = old.progLoad("count", old.assemble(COUNT), ProgType.XDP, AttachType.DEFAULT, List.of(hits), null, null);
        BpfProg[] held = new BpfProg[1];
        detach.addUser((from, to, a) -> { // a user holding a program on no device and no pin, as tc's bpf filter does
            assertSame(old, from);
            BpfProg p = a.prog(tc.id());
            assertTrue(p.loaded(), "the adopter still holds it");
            held[0] = p.hold();
            tc.close();
            return 1;
        });
        detach.bindBpf(old);
        detach.unbindBpf(old);
        BpfSyscall next = new BpfSyscallImpl();
        detach.bindBpf(next);
        assertTrue(held[0].loaded(), "the user's reference keeps the adopted program");
        assertTrue(!tc.loaded());
        assertEquals(1L, detach.counters().get("BpfHandOverRebound"));
        held[0].close();
        assertTrue(!held[0].loaded(), "its user held the only reference");
    }

    /**
     * An AF_XDP socket outlives an update of the ebpf bundle: the xskmap is taken over with the socket in
     * its slot, the adopted program redirects to it, and no frame misses the socket; closing it then
     * empties the adopted map's slot.
     */
    @Test
    void anAfXdpSocketKeepsItsFramesComingAcrossAnUpdate() throws Exception {
        BpfSyscall old = new BpfSyscallImpl(() -> true);
        BpfMap xsks = old.mapCreate("xsks", BpfMap.MAP_XSKMAP, 4, 4, 4, 0, 1);
        BpfProg p = old.progLoad("xsk", old.assemble("""
                ldxw %r2, [%r1+16]
                ldmap %r1, 0
                mov %r3, 2
                call 51
                exit
                """), ProgType.XDP, AttachType.DEFAULT, List.of(xsks), null, null);
        net.vb.setXdp(new EbpfXdpHook(old, p), true);
        detach.bindBpf(old);
        AfXdpFamily family = new AfXdpFamily(old);
        java.lang.foreign.MemorySegment umem = java.lang.foreign.Arena.ofAuto().allocate(16 * 4096, 4096);
        org.modnet.api.xsk.XdpSocket s = family.socket(net.b);
        s.umemReg(new org.modnet.api.xsk.XdpUmemReg(umem, 4096, 0, 0));
        for (int ring : new int[] { 5, 6, 2 }) {
            s.ringSize(ring, 16);
        }
        org.modnet.api.xsk.XskRing fq = s.ring(org.modnet.api.xsk.XdpSocket.XDP_UMEM_FILL_RING);
        int f = fq.reserve(16);
        for (int i = 0; i < 16; i++) {
            fq.addr(f + i, i * 4096L);
        }
        fq.submit(16);
        s.bind(net.vb.ifindex(), 0, 0);
        assertEquals(0, xsks.update(new byte[4], new byte[] { (byte) s.fd(), 0, 0, 0 }, BpfMap.BPF_ANY));
        send(2);

        detach.unbindBpf(old);
        send(1);
        BpfSyscall next = new BpfSyscallImpl();
        family.setBpf(next);
        detach.bindBpf(next);
        send(2);
        assertEquals(5, s.ring(org.modnet.api.xsk.XdpSocket.XDP_RX_RING).peek(16), "every frame reached the socket");
        assertEquals(5L, net.vb.ethtoolStats().get("xdp_redirect"));
        BpfMap adopted = next.maps().stream().filter(m -> m.id() == xsks.id()).findFirst().orElseThrow();
        assertEquals(BpfMap.MAP_XSKMAP, adopted.type());
        s.close();
        assertEquals(0, adopted.lookup(new byte[4])[0], "closing the socket emptied the adopted map's slot");
        send(1);
        assertEquals(1L, net.vb.ethtoolStats().get("xdp_pass"), "an empty slot: the flags' XDP_PASS");
        net.vb.setXdp(null);
    }
}

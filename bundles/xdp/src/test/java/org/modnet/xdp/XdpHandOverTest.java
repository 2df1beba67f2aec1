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
}

package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Proxy;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.MapState;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/** The implementation as its users see it: through the API service alone. */
class BpfSyscallTest {
    private final BpfSyscall bpf = new BpfSyscallImpl();

    @Test
    void aProgramLoadedThroughTheServiceRunsOnAnXdpContextAndIsListedUntilClosed() throws Exception {
        BpfMap hits = bpf.mapCreate("hits", BpfMap.MAP_ARRAY, 4, 8, 1, 0, 1);
        BpfProg p = bpf.progLoad("count", bpf.assemble("""
                stw [%r10-4], 0
                mov %r2, %r10
                add %r2, -4
                ldmap %r1, 0
                call 1
                jeq %r0, 0, out
                mov %r1, 1
                lock add [%r0+0], %r1
                out:
                mov %r0, 1
                exit
                """), ProgType.XDP, AttachType.DEFAULT, List.of(hits), null, null);
        assertTrue(p.jited());
        assertSame(p, bpf.prog(p.id()));
        assertEquals(List.of(hits), p.maps());
        assertTrue(bpf.maps().contains(hits));
        XdpContext x = p.xdpContext(0);
        MemorySegment frame = Arena.ofAuto().allocate(256 + 64);
        assertEquals(XdpContext.XDP_DROP, x.run(frame, 256, 64, 1, 0));
        assertEquals(XdpContext.XDP_DROP, x.run(frame, 256, 64, 1, 0));
        assertArrayEquals(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0 }, hits.lookup(new byte[4]));
        assertTrue(bpf.disassemble(p.xlated()).contains("call 1"));
        p.close();
        assertFalse(p.loaded());
        assertNull(bpf.prog(p.id()), "unloaded with its last holder");
    }

    @Test
    void aMapOfAnotherImplementationIsRefused() {
        BpfMap foreign = (BpfMap) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] { BpfMap.class },
                (proxy, m, a) -> m.getName().equals("name") ? "foreign" : null);
        BpfException e = assertThrows(BpfException.class, () -> bpf.progLoad("p", bpf.assemble("mov %r0, 2\nexit"), ProgType.XDP,
                AttachType.DEFAULT, List.of(foreign), null, null));
        assertTrue(e.getMessage().contains("not created by this bpf implementation"), e.getMessage());
    }

    @Test
    void aMapExportsItsContentsAsApiValuesEveryCpusValue() throws Exception {
        BpfMap m = bpf.mapCreate("per_cpu", BpfMap.MAP_PERCPU_HASH, 4, 4, 8, 0, 2);
        assertEquals(0, m.update(new byte[] { 7, 0, 0, 0 }, new byte[] { 1, 2, 3, 4 }, BpfMap.BPF_ANY));
        MapState s = m.export();
        assertEquals("per_cpu", s.name());
        assertEquals(BpfMap.MAP_PERCPU_HASH, s.type());
        assertEquals(2, s.cpus());
        assertEquals(1, s.entries().size());
        MapState.Entry e = s.entries().get(0);
        assertArrayEquals(new byte[] { 7, 0, 0, 0 }, e.key());
        assertEquals(2, e.values().size(), "one value per CPU");
        assertArrayEquals(new byte[] { 1, 2, 3, 4 }, e.values().get(1));
    }
}

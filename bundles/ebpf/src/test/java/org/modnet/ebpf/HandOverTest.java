package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfAdoption;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfHandOver;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.Helpers;
import org.modnet.ebpf.api.MapHandOver;
import org.modnet.ebpf.api.ProgHandOver;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/**
 * The hand-over on an update of the ebpf bundle, both versions played by two implementation objects:
 * the new one adopts the old one's maps (taking their storage over) and programs under the same ids.
 */
class HandOverTest {
    private final BpfSyscall old = new BpfSyscallImpl(() -> true);
    private final BpfSyscall next = new BpfSyscallImpl();
    private final MemorySegment frame = Arena.ofAuto().allocate(256 + 64);

    /** Counts frames in slot 0 of its array map and drops them. */
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
            mov %r0, 1
            exit
            """;

    private static byte[] key(int k) {
        return new byte[] { (byte) k, (byte) (k >>> 8), (byte) (k >>> 16), (byte) (k >>> 24) };
    }

    private static long u64(byte[] v) {
        return java.nio.ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /**
     * The old version's hand-over of these maps and the programs using them: in one JVM both versions'
     * classes are the same, so the registries hold what other tests made too.
     */
    private BpfHandOver handOver(BpfMap... maps) {
        BpfHandOver h = old.handOver();
        List<Integer> ids = java.util.Arrays.stream(maps).map(BpfMap::id).toList();
        return new BpfHandOver(h.version(), h.maps().stream().filter(m -> ids.contains(m.id())).toList(),
                h.progs().stream().filter(p -> !p.mapIds().isEmpty() && ids.containsAll(p.mapIds())).toList());
    }

    @Test
    void onlyAnImplementationLeavingForAnUpdateHandsOver() {
        assertTrue(old.handingOver());
        assertFalse(next.handingOver());
    }

    @Test
    void anArrayMapWrittenByEitherVersionIsSeenByTheOtherUnderTheSameId() throws Exception {
        BpfMap a = old.mapCreate("hits", BpfMap.MAP_ARRAY, 4, 8, 4, 0, 1);
        BpfProg p = old.progLoad("count", old.assemble(COUNT), ProgType.XDP, AttachType.DEFAULT, List.of(a), null, null);
        XdpContext oldRun = p.xdpContext(0);
        oldRun.run(frame, 256, 64, 1, 0);

        BpfAdoption adopted = next.adopt(handOver(a));
        assertEquals(1, adopted.mapsTakenOver());
        assertEquals(0, adopted.mapsCopied());
        assertEquals(1, adopted.progs().size());
        BpfMap b = adopted.map(a.id());
        BpfProg q = adopted.prog(p.id());
        assertNotNull(b, "the map keeps its id");
        assertNotNull(q, "the program keeps its id");
        assertNotSame(p, q);
        assertSame(b, q.maps().get(0), "the adopted program uses the adopted map");
        assertEquals("count", q.name());
        assertTrue(q.jited(), "compiled again by the new JIT");

        XdpContext newRun = q.xdpContext(0);
        newRun.run(frame, 256, 64, 1, 0);
        oldRun.run(frame, 256, 64, 1, 0); // the old version's program still running during the swap
        newRun.run(frame, 256, 64, 1, 0);
        assertEquals(4, u64(b.lookup(key(0))), "no run lost between the versions");
        assertEquals(4, u64(a.lookup(key(0))));

        assertEquals(0, a.update(key(2), new byte[] { 9, 0, 0, 0, 0, 0, 0, 0 }, BpfMap.BPF_ANY));
        assertEquals(9, u64(b.lookup(key(2))), "written by the old map, seen by the new");
        assertEquals(0, b.update(key(3), new byte[] { 7, 0, 0, 0, 0, 0, 0, 0 }, BpfMap.BPF_ANY));
        assertEquals(7, u64(a.lookup(key(3))), "written by the new map, seen by the old");
    }

    @Test
    void aHashMapSharesItsEntriesItsFreeSlotsAndItsLockWithTheNewVersion() throws Exception {
        BpfMap a = old.mapCreate("flows", BpfMap.MAP_HASH, 4, 8, 3, 0, 1);
        assertEquals(0, a.update(key(1), new byte[8], BpfMap.BPF_ANY));
        BpfProg p = old.progLoad("count", old.assemble(COUNT), ProgType.XDP, AttachType.DEFAULT, List.of(a), null, null);

        BpfAdoption adopted = next.adopt(handOver(a));
        BpfMap b = adopted.map(a.id());
        assertEquals(1, adopted.mapsTakenOver());
        assertArrayEquals(new byte[8], b.lookup(key(1)), "the old entry is in the new map");
        assertEquals(0, b.update(key(2), new byte[] { 2, 0, 0, 0, 0, 0, 0, 0 }, BpfMap.BPF_NOEXIST));
        assertEquals(2, u64(a.lookup(key(2))), "an entry the new version added is in the old map");
        assertEquals(0, a.update(key(3), new byte[8], BpfMap.BPF_NOEXIST));
        assertEquals(-7, b.update(key(4), new byte[8], BpfMap.BPF_NOEXIST), "full for both: one count of free slots (E2BIG)");
        assertEquals(0, a.delete(key(3)));
        assertNull(b.lookup(key(3)), "deleted by the old, gone from the new");
        assertEquals(0, b.update(key(4), new byte[8], BpfMap.BPF_NOEXIST), "the slot the old version freed is the new one's");
        assertEquals(3, a.keys().size());
        assertEquals(3, b.keys().size());
        p.close();
    }

    @Test
    void anLpmTrieIsTakenOver() throws Exception {
        BpfMap a = old.mapCreate("routes", BpfMap.MAP_LPM_TRIE, 8, 4, 4, BpfMap.BPF_F_NO_PREALLOC, 1);
        byte[] net = { 24, 0, 0, 0, 10, 0, 0, 0 };
        assertEquals(0, a.update(net, new byte[] { 1, 0, 0, 0 }, BpfMap.BPF_ANY));
        BpfAdoption adopted = next.adopt(handOver(a));
        BpfMap b = adopted.map(a.id());
        assertArrayEquals(new byte[] { 1, 0, 0, 0 }, b.lookup(new byte[] { 32, 0, 0, 0, 10, 0, 0, 5 }));
        assertEquals(0, b.update(new byte[] { 16, 0, 0, 0, 10, 1, 0, 0 }, new byte[] { 2, 0, 0, 0 }, BpfMap.BPF_ANY));
        assertEquals(2, a.keys().size(), "the entry the new version added is the old one's");
    }

    @Test
    void aMapOfAnotherLayoutIsCopiedAndCounted() throws Exception {
        BpfMap a = old.mapCreate("hits", BpfMap.MAP_ARRAY, 4, 8, 2, 0, 1);
        assertEquals(0, a.update(key(1), new byte[] { 5, 0, 0, 0, 0, 0, 0, 0 }, BpfMap.BPF_ANY));
        BpfHandOver h = handOver(a);
        List<MapHandOver> other = new ArrayList<>();
        for (MapHandOver m : h.maps()) {
            other.add(m.id() != a.id() ? m
                    : new MapHandOver(m.id(), m.name(), m.type(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags(), m.cpus(), 99, List.of(),
                            m.contents()));
        }
        BpfAdoption adopted = next.adopt(new BpfHandOver(h.version(), other, h.progs()));
        assertEquals(1, adopted.mapsCopied());
        BpfMap b = adopted.map(a.id());
        assertEquals(5, u64(b.lookup(key(1))), "the contents copied");
        assertEquals(0, a.update(key(1), new byte[] { 6, 0, 0, 0, 0, 0, 0, 0 }, BpfMap.BPF_ANY));
        assertEquals(5, u64(b.lookup(key(1))), "a copy: no longer shared");
    }

    @Test
    void theRuntimesHelpersAndTracePipeTravelWithTheProgram() throws Exception {
        List<String> trace = new ArrayList<>();
        Consumer<String> pipe = trace::add;
        Helpers extra = new Helpers();
        BpfProg p = old.progLoad("pass", old.assemble("mov %r0, 2\nexit"), ProgType.XDP, AttachType.DEFAULT, List.of(), extra, pipe);
        ProgHandOver h = old.handOver().progs().stream().filter(x -> x.id() == p.id()).findFirst().orElseThrow();
        assertSame(extra, h.extra());
        assertSame(pipe, h.tracePipe());
        assertEquals("jit", h.engine());
        assertEquals(2, h.insns().length, "the instructions as loaded");
        p.close();
    }

    @Test
    void aProgramTheNewVerifierRefusesIsLeftOutWithItsReason() throws Exception {
        BpfHandOver h = new BpfHandOver(BpfHandOver.VERSION, List.of(), List.of(new ProgHandOver(4242, "bad", ProgType.XDP,
                AttachType.DEFAULT, next.assemble("exit"), "jit", List.of(), null, null)));
        BpfAdoption adopted = next.adopt(h);
        assertTrue(adopted.progs().isEmpty());
        assertTrue(adopted.refused().containsKey(4242), adopted.refused().toString());
        assertNull(next.prog(4242));
    }

    @Test
    void freshIdsComeAfterTheAdoptedOnes() throws Exception {
        BpfHandOver h = new BpfHandOver(BpfHandOver.VERSION, List.of(), List.of(new ProgHandOver(50_000, "pass", ProgType.XDP,
                AttachType.DEFAULT, next.assemble("mov %r0, 2\nexit"), "jit", List.of(), null, null)));
        BpfProg adopted = next.adopt(h).prog(50_000);
        assertSame(adopted, next.prog(50_000));
        BpfProg fresh = next.progLoad("p", next.assemble("mov %r0, 2\nexit"), ProgType.XDP, AttachType.DEFAULT, List.of(), null, null);
        assertTrue(fresh.id() > 50_000, "id " + fresh.id());
        adopted.close();
        fresh.close();
    }

    @Test
    void aStateVersionThisImplementationCannotReadIsRefused() {
        BpfException e = assertThrows(BpfException.class, () -> next.adopt(new BpfHandOver(BpfHandOver.VERSION + 1, List.of(), List.of())));
        assertTrue(e.getMessage().contains("cannot adopt state version"), e.getMessage());
    }
}

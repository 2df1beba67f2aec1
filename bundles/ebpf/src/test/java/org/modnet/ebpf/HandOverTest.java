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

    /**
     * Issue 21's map types survive the update: a queue and a stack keep their values in order, a bloom
     * filter its bits and hash count, an LRU per-CPU hash, a devmap_hash and an xskmap their entries, a
     * perf event array its unread records — each taken over (shared with the old version), none copied.
     */
    @Test
    void theNewerMapTypesAreTakenOverWithTheirContents() throws Exception {
        BpfMap queue = old.mapCreate("q", 22, 0, 4, 4, 0, 1);
        BpfMap stack = old.mapCreate("s", 23, 0, 4, 4, 0, 1);
        BpfMap bloom = ((BpfSyscallImpl) old).objOpen(bloomObject()).createMaps(1).get(0);
        BpfMap lru = old.mapCreate("lru", 10, 4, 8, 4, 0, 2);
        BpfMap devs = old.mapCreate("devs", BpfMap.MAP_DEVMAP_HASH, 4, 4, 4, 0, 1);
        BpfMap xsks = old.mapCreate("xsks", BpfMap.MAP_XSKMAP, 4, 4, 4, 0, 1);
        old.xskSockets(fd -> fd == 12); // the AF_XDP family's one socket
        BpfMap events = old.mapCreate("events", 4, 4, 4, 1, 0, 1);
        for (int v : new int[] { 1, 2, 3 }) {
            assertEquals(0, queue.update(new byte[0], key(v), BpfMap.BPF_ANY));
            assertEquals(0, stack.update(new byte[0], key(v), BpfMap.BPF_ANY));
        }
        assertEquals(0, bloom.update(new byte[0], key(42), BpfMap.BPF_ANY));
        assertEquals(0, lru.update(key(7), new byte[] { 9, 0, 0, 0, 0, 0, 0, 0 }, BpfMap.BPF_ANY));
        assertEquals(0, devs.update(key(5), key(3), BpfMap.BPF_ANY));
        assertEquals(0, xsks.update(key(0), key(12), BpfMap.BPF_ANY));
        BpfProg out = old.progLoad("out", old.assemble("""
                stw [%r10-4], 77
                mov %r4, %r10
                add %r4, -4
                mov %r5, 4
                ldmap %r2, 0
                mov %r3, 0
                call 25
                mov %r0, 2
                exit
                """), ProgType.XDP, AttachType.DEFAULT, List.of(events), null, null);
        out.xdpContext(0).run(frame, 256, 64, 1, 0);

        BpfAdoption adopted = next.adopt(handOver(queue, stack, bloom, lru, devs, xsks, events));
        assertEquals(0, adopted.mapsCopied(), "every one taken over");
        assertEquals(7, adopted.mapsTakenOver());
        BpfMap q = adopted.map(queue.id());
        assertEquals(22, q.type(), "BPF_MAP_TYPE_QUEUE");
        assertArrayEquals(key(1), q.lookup(new byte[0]), "the queue's oldest first");
        assertArrayEquals(key(3), adopted.map(stack.id()).lookup(new byte[0]), "the stack's newest first");
        assertEquals(0, queue.update(new byte[0], key(4), BpfMap.BPF_ANY));
        assertEquals(-7, q.update(new byte[0], key(5), BpfMap.BPF_ANY), "one ring: the old version's push filled the new one's");
        BpfMap b = adopted.map(bloom.id());
        assertEquals(0, b.update(new byte[0], key(43), BpfMap.BPF_ANY));
        assertEquals(9, u64(adopted.map(lru.id()).lookup(key(7), 1)), "each CPU's value");
        assertArrayEquals(key(3), adopted.map(devs.id()).lookup(key(5)));
        assertArrayEquals(key(12), adopted.map(xsks.id()).lookup(key(0)), "the socket the slot names");
        assertEquals(1, adopted.progs().size());
        BpfMap ev = adopted.map(events.id());
        List<byte[]> records = new ArrayList<>();
        ((org.modnet.ebpf.api.RingBuffer) ev).consume(records::add);
        assertEquals(1, records.size(), "the record the old version wrote, read once through the new map");
        assertEquals(77, records.get(0)[0]);
        out.close();
        assertTrue(bloomMayHold(b, 42) && bloomMayHold(b, 43), "the bits the old version set, and the new one's");
        assertFalse(bloomMayHold(b, 7) && bloomMayHold(b, 8) && bloomMayHold(b, 9), "not every value: the filter answers");
    }

    private boolean bloomMayHold(BpfMap bloom, int v) throws Exception {
        BpfProg p = next.progLoad("peek", next.assemble("""
                stw [%r10-4], %VALUE%
                mov %r2, %r10
                add %r2, -4
                ldmap %r1, 0
                call 89
                mov %r1, %r0
                mov %r0, 2
                jeq %r1, 0, out
                mov %r0, 1
                out:
                exit
                """.replace("%VALUE%", String.valueOf(v))), ProgType.XDP, AttachType.DEFAULT, List.of(bloom), null, null);
        try {
            return p.xdpContext(0).run(frame, 256, 64, 1, 0) == 2;
        } finally {
            p.close();
        }
    }

    /** A bloom filter of 3 hashes (map_extra) needs an object: mapCreate has no map_extra. */
    private static byte[] bloomObject() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        java.nio.file.Path src = java.nio.file.Files.createTempFile("bloom", ".c");
        java.nio.file.Files.writeString(src, """
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                struct {
                	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
                	__uint(max_entries, 64);
                	__type(value, __u32);
                	__uint(map_extra, 3);
                } seen SEC(".maps");
                SEC("xdp")
                int pass(struct xdp_md *ctx)
                {
                	__u32 v = 1;
                	return bpf_map_peek_elem(&seen, &v) == 0 ? XDP_PASS : XDP_DROP;
                }
                char _license[] SEC("license") = "GPL";
                """);
        java.nio.file.Path obj = java.nio.file.Path.of(src + ".o");
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu", "-c", src.toString(), "-o",
                obj.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), log);
        return java.nio.file.Files.readAllBytes(obj);
    }

    /**
     * A program's BTF return types travel with it: the new verifier holds the adopted program to them
     * ({@code tail_call is only allowed in functions that return 'int'}) and hands them on again.
     */
    @Test
    void aProgramsBtfReturnTypesSurviveTheUpdate() throws Exception {
        long[] insns = old.assemble("""
                call local f
                mov %r0, 2
                exit
                f:
                mov %r0, 0
                exit
                """);
        BpfProg p = old.progLoad(new org.modnet.ebpf.api.BpfObject.ProgramDef("xdp", "withf", insns, new int[] { 3 }), ProgType.XDP,
                AttachType.DEFAULT, List.of(), null, null, BpfSyscall.JIT, false);
        ProgHandOver h = old.handOver().progs().stream().filter(x -> x.id() == p.id()).findFirst().orElseThrow();
        assertArrayEquals(new int[] { 3 }, h.nonScalarReturns(), "f returns no int, as its BTF said");
        BpfAdoption adopted = next.adopt(new BpfHandOver(BpfHandOver.VERSION, List.of(), List.of(h)));
        BpfProg q = adopted.prog(p.id());
        assertNotNull(q, adopted.refused().toString());
        ProgHandOver again = next.handOver().progs().stream().filter(x -> x.id() == p.id()).findFirst().orElseThrow();
        assertArrayEquals(new int[] { 3 }, again.nonScalarReturns(), "and on to the update after");

        // a global function's information too: f verified apart, so its caller cannot count on the 0 it returns
        long[] caller = old.assemble("""
                call local f
                jeq %r0, 0, zero
                mov %r0, %r9
                exit
                zero:
                mov %r0, 2
                exit
                f:
                mov %r0, 0
                exit
                """);
        BpfProg g = old.progLoad(new org.modnet.ebpf.api.BpfObject.ProgramDef("xdp", "withg", caller, new int[0], new int[0]), ProgType.XDP,
                AttachType.DEFAULT, List.of(), null, null, BpfSyscall.JIT, false);
        ProgHandOver gh = old.handOver().progs().stream().filter(x -> x.id() == g.id()).findFirst().orElseThrow();
        assertArrayEquals(new int[0], gh.globalFuncs());
        BpfProg withGlobal = old.progLoad(new org.modnet.ebpf.api.BpfObject.ProgramDef("xdp", "withglobal", insns, new int[0],
                new int[] { 3, 0, 0 }), ProgType.XDP, AttachType.DEFAULT, List.of(), null, null, BpfSyscall.JIT, false);
        ProgHandOver wh = old.handOver().progs().stream().filter(x -> x.id() == withGlobal.id()).findFirst().orElseThrow();
        assertArrayEquals(new int[] { 3, 0, 0 }, wh.globalFuncs(), "its global function travels with it");
        ProgHandOver global = new ProgHandOver(gh.id(), gh.name(), gh.type(), gh.attach(), gh.insns(), gh.engine(), gh.mapIds(), gh.extra(),
                gh.tracePipe(), gh.nonScalarReturns(), new int[] { 6, 0, 0 });
        BpfAdoption strict = next.adopt(new BpfHandOver(BpfHandOver.VERSION, List.of(), List.of(global)));
        assertTrue(strict.refused().getOrDefault(g.id(), "").contains("R9 !read_ok"), "the adopted program's f is global: " + strict.refused());

        BpfMap pa = old.mapCreate("pa", BpfMap.MAP_PROG_ARRAY, 4, 4, 1, 0, 1);
        BpfProg t = old.progLoad("tail", old.assemble("""
                call local f
                mov %r0, 2
                exit
                f:
                ldmap %r2, 0
                mov %r3, 0
                call 12
                mov %r0, 0
                exit
                """), ProgType.XDP, AttachType.DEFAULT, List.of(pa), null, null);
        BpfHandOver th = handOver(pa);
        ProgHandOver plain = th.progs().stream().filter(x -> x.id() == t.id()).findFirst().orElseThrow();
        ProgHandOver typed = new ProgHandOver(plain.id(), plain.name(), plain.type(), plain.attach(), plain.insns(), plain.engine(),
                plain.mapIds(), plain.extra(), plain.tracePipe(), new int[] { 3 });
        BpfAdoption refused = next.adopt(new BpfHandOver(th.version(), th.maps(), List.of(typed)));
        assertTrue(refused.refused().getOrDefault(t.id(), "").contains("tail_call is only allowed in functions that return 'int'"),
                "the new verifier read f's BTF return type: " + refused.refused());
        t.close();
        q.close();
        p.close();
    }

    /** An array of maps keeps its template and its slots' maps: the adopted program counts into the same inner map. */
    @Test
    void anArrayOfMapsKeepsItsInnerMapsAcrossTheUpdate() throws Exception {
        BpfMap inner = old.mapCreate("inner", BpfMap.MAP_ARRAY, 4, 8, 1, 0, 1);
        BpfMap outer = old.mapCreate("outer", BpfMap.MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, inner);
        assertEquals(0, outer.update(key(1), key(inner.id()), BpfMap.BPF_ANY));
        BpfProg p = old.progLoad("count", old.assemble("""
                stw [%r10-4], 1
                mov %r2, %r10
                add %r2, -4
                ldmap %r1, 0
                call 1
                jeq %r0, 0, out
                stw [%r10-8], 0
                mov %r1, %r0
                mov %r2, %r10
                add %r2, -8
                call 1
                jeq %r0, 0, out
                mov %r1, 1
                lock add [%r0+0], %r1
                out:
                mov %r0, 1
                exit
                """), ProgType.XDP, AttachType.DEFAULT, List.of(outer), null, null);
        p.xdpContext(0).run(frame, 256, 64, 1, 0);

        BpfAdoption adopted = next.adopt(handOver(outer, inner));
        assertEquals(0, adopted.mapsCopied());
        BpfMap o = adopted.map(outer.id());
        assertEquals(BpfMap.MAP_ARRAY_OF_MAPS, o.type());
        assertArrayEquals(key(inner.id()), o.lookup(key(1)), "the slot names the same map");
        assertNull(o.lookup(key(0)));
        BpfProg q = adopted.prog(p.id());
        assertNotNull(q, adopted.refused().toString());
        q.xdpContext(0).run(frame, 256, 64, 1, 0);
        assertEquals(2, u64(inner.lookup(key(0))), "the adopted program counted into the inner map through the adopted outer one");
        BpfMap wrongShape = next.mapCreate("wide", BpfMap.MAP_ARRAY, 4, 16, 1, 0, 1);
        assertEquals(-22, o.update(key(0), key(wrongShape.id()), BpfMap.BPF_ANY), "the template came along");
        p.close();
        q.close();
    }
}

package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/**
 * Arrays and hashes of maps (types 12 and 13, issue 21): map_in_map.c, clang-built, declares them with
 * BTF inner map templates ({@code __array(values, struct inner_map)}); user space puts inner maps in by
 * id, a program's lookup of the outer map gives the inner map, which it may only pass as a map; the
 * inner map's values are then counted in. The verifier refuses what the kernel's refuses.
 */
class MapsOfMapsTest {
    private static final BpfSyscall BPF = new BpfSyscallImpl();
    private final MemorySegment frame = Arena.ofAuto().allocate(256 + 64);

    private static byte[] key(int k) {
        return new byte[] { (byte) k, (byte) (k >>> 8), (byte) (k >>> 16), (byte) (k >>> 24) };
    }

    private static long u64(byte[] v) {
        return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static BpfMap named(List<BpfMap> maps, String name) {
        return maps.stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
    }

    private static BpfProg load(BpfObject o, String name, List<BpfMap> maps, String engine) throws BpfException {
        BpfObject.ProgramDef d = o.programs().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
        return BPF.progLoad(d, ProgType.XDP, AttachType.DEFAULT, maps, null, null, engine, false);
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aProgramCountsIntoTheInnerMapTheOuterMapGivesForItsQueueOrDevice(String engine) throws Exception {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        BpfObject o = BPF.objOpen(ElfObjectTest.build("map_in_map.c", "v3"));
        List<BpfMap> maps = o.createMaps(1);
        BpfMap a = named(maps, "inner_a");
        BpfMap b = named(maps, "inner_b");
        BpfMap byQueue = named(maps, "by_queue");
        BpfMap byIfindex = named(maps, "by_ifindex");
        assertEquals(BpfMap.MAP_ARRAY_OF_MAPS, byQueue.type());
        assertEquals(BpfMap.MAP_HASH_OF_MAPS, byIfindex.type());
        assertEquals(4, byQueue.valueSize(), "a map's id");
        XdpContext q = load(o, "count_by_queue", maps, engine).xdpContext(0);
        XdpContext i = load(o, "count_by_ifindex", maps, engine).xdpContext(0);

        assertEquals(XdpContext.XDP_PASS, q.run(frame, 256, 64, 7, 0), "no inner map for queue 0 yet");
        assertEquals(0, byQueue.update(key(0), key(a.id()), BpfMap.BPF_ANY));
        assertArrayEquals(key(a.id()), byQueue.lookup(key(0)), "user space reads the inner map's id");
        assertEquals(XdpContext.XDP_DROP, q.run(frame, 256, 64, 7, 0));
        assertEquals(XdpContext.XDP_DROP, q.run(frame, 256, 64, 7, 0));
        assertEquals(XdpContext.XDP_PASS, q.run(frame, 256, 64, 7, 1), "queue 1 has none");
        assertEquals(2, u64(a.lookup(key(0))));

        assertEquals(0, byQueue.update(key(0), key(b.id()), BpfMap.BPF_ANY));
        assertEquals(XdpContext.XDP_DROP, q.run(frame, 256, 64, 7, 0));
        assertEquals(1, u64(b.lookup(key(0))), "the slot now names inner_b");
        assertEquals(2, u64(a.lookup(key(0))));

        assertArrayEquals(key(b.id()), byIfindex.lookup(key(3)), "the object's own initial value: .values = { [3] = &inner_b }");
        assertEquals(XdpContext.XDP_DROP, i.run(frame, 256, 64, 3, 0));
        assertEquals(1, u64(b.lookup(key(1))), "counted in inner_b, which the object put at key 3");
        assertEquals(0, byIfindex.update(key(7), key(a.id()), BpfMap.BPF_ANY));
        assertEquals(XdpContext.XDP_DROP, i.run(frame, 256, 64, 7, 0));
        assertEquals(XdpContext.XDP_PASS, i.run(frame, 256, 64, 8, 0), "no map for ifindex 8");
        assertEquals(1, u64(a.lookup(key(1))));
        assertEquals(0, byIfindex.delete(key(7)));
        assertEquals(XdpContext.XDP_PASS, i.run(frame, 256, 64, 7, 0), "deleted");
        assertEquals(0, byQueue.delete(key(0)));
        assertNull(byQueue.lookup(key(0)), "an emptied slot: ENOENT");
        assertEquals(XdpContext.XDP_PASS, q.run(frame, 256, 64, 7, 0));
    }

    @Test
    void anInnerMapMustMatchTheTemplate() throws Exception {
        BpfMap template = BPF.mapCreate("t", BpfMap.MAP_ARRAY, 4, 8, 4, 0, 1);
        BpfMap outer = BPF.mapCreate("outer", BpfMap.MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, template);
        BpfMap fits = BPF.mapCreate("fits", BpfMap.MAP_ARRAY, 4, 8, 4, 0, 1);
        BpfMap bigger = BPF.mapCreate("bigger", BpfMap.MAP_ARRAY, 4, 8, 8, 0, 1);
        BpfMap hash = BPF.mapCreate("hash", BpfMap.MAP_HASH, 4, 8, 4, 0, 1);
        assertEquals(0, outer.update(key(1), key(fits.id()), BpfMap.BPF_ANY));
        assertEquals(-22, outer.update(key(0), key(bigger.id()), BpfMap.BPF_ANY), "bpf_map_meta_equal: max_entries differs");
        assertEquals(-22, outer.update(key(0), key(hash.id()), BpfMap.BPF_ANY), "another type");
        assertEquals(-9, outer.update(key(0), key(999_999), BpfMap.BPF_ANY), "no such map: EBADF");
        assertThrows(BpfException.class, () -> BPF.mapCreate("o", BpfMap.MAP_ARRAY_OF_MAPS, 4, 8, 2, 0, template), "values are 4 bytes");
        assertThrows(BpfException.class, () -> BPF.mapCreate("o", BpfMap.MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, outer), "no maps of maps of maps");
        assertThrows(BpfException.class, () -> BPF.mapCreate("o", BpfMap.MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, 1), "no template");
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void innerArraysMadeWithBpfFInnerMapMayDifferInSizeAndEachBoundsItsOwnLookups(String engine) throws Exception {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        BpfObject o = BPF.objOpen(ElfObjectTest.build("inner_map_sizes.c", "v3"));
        List<BpfMap> maps = o.createMaps(1);
        BpfMap small = named(maps, "inner_small");
        BpfMap big = named(maps, "inner_big");
        BpfMap outer = named(maps, "outer");
        assertArrayEquals(key(small.id()), outer.lookup(key(0)));
        assertArrayEquals(key(big.id()), outer.lookup(key(1)), "64 entries beside the template's 4: BPF_F_INNER_MAP");
        XdpContext x = load(o, "count_at_ifindex", maps, engine).xdpContext(0);
        assertEquals(XdpContext.XDP_DROP, x.run(frame, 256, 64, 40, 1), "index 40 of the 64-entry map");
        assertEquals(1, u64(big.lookup(key(40))));
        assertEquals(XdpContext.XDP_PASS, x.run(frame, 256, 64, 40, 0), "index 40 is past the 4-entry map's end");
        assertEquals(XdpContext.XDP_DROP, x.run(frame, 256, 64, 3, 0));
        assertEquals(1, u64(small.lookup(key(3))));
    }

    @Test
    void bpfFInnerMapIsAnArraysFlagAndOnlyArraysCompareMaxEntries() throws Exception {
        BpfMap template = BPF.mapCreate("t", BpfMap.MAP_ARRAY, 4, 8, 4, BpfMap.BPF_F_INNER_MAP, 1);
        BpfMap outer = BPF.mapCreate("outer", BpfMap.MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, template);
        BpfMap bigger = BPF.mapCreate("bigger", BpfMap.MAP_ARRAY, 4, 8, 100, BpfMap.BPF_F_INNER_MAP, 1);
        BpfMap unflagged = BPF.mapCreate("unflagged", BpfMap.MAP_ARRAY, 4, 8, 4, 0, 1);
        assertEquals(0, outer.update(key(0), key(bigger.id()), BpfMap.BPF_ANY));
        assertEquals(-22, outer.update(key(1), key(unflagged.id()), BpfMap.BPF_ANY), "bpf_map_meta_equal: the flags differ");
        // a hash's lookups are bounded by its own table: bpf_map_meta_equal leaves max_entries out
        BpfMap hashTemplate = BPF.mapCreate("ht", BpfMap.MAP_HASH, 4, 8, 4, 0, 1);
        BpfMap hashOuter = BPF.mapCreate("houter", BpfMap.MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, hashTemplate);
        BpfMap bigHash = BPF.mapCreate("bh", BpfMap.MAP_HASH, 4, 8, 1000, 0, 1);
        assertEquals(0, hashOuter.update(key(0), key(bigHash.id()), BpfMap.BPF_ANY));
        BpfException onHash = assertThrows(BpfException.class, () -> BPF.mapCreate("h", BpfMap.MAP_HASH, 4, 8, 4, BpfMap.BPF_F_INNER_MAP, 1));
        assertTrue(onHash.getMessage().contains("EINVAL"), onHash.getMessage());
        assertThrows(BpfException.class, () -> BPF.mapCreate("p", BpfMap.MAP_PERCPU_ARRAY, 4, 8, 4, BpfMap.BPF_F_INNER_MAP, 1),
                "array_map_alloc_check: a plain array only");
        assertThrows(BpfException.class, () -> BPF.mapCreate("o", BpfMap.MAP_ARRAY_OF_MAPS, 4, 4, 2, BpfMap.BPF_F_INNER_MAP, template),
                "not on the outer map");
    }

    private String refusal(String asm, List<BpfMap> maps) {
        BpfException e = assertThrows(BpfException.class,
                () -> BPF.progLoad("p", BPF.assemble(asm), ProgType.XDP, AttachType.DEFAULT, maps, null, null));
        return e.getMessage();
    }

    private static final String LOOKUP_OUTER = """
            stw [%r10-4], 0
            mov %r2, %r10
            add %r2, -4
            ldmap %r1, 0
            call 1
            """;

    @Test
    void theVerifierLetsTheInnerMapBeOnlyAMapArgumentAfterItsNullCheck() throws Exception {
        BpfMap template = BPF.mapCreate("t", BpfMap.MAP_ARRAY, 4, 8, 4, 0, 1);
        List<BpfMap> maps = List.of(BPF.mapCreate("outer", BpfMap.MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, template));
        String read = refusal(LOOKUP_OUTER + """
                ldxdw %r0, [%r0+0]
                exit
                """, maps);
        assertTrue(read.contains("invalid mem access 'map_ptr_or_null'"), read);
        String checked = refusal(LOOKUP_OUTER + """
                jeq %r0, 0, out
                ldxdw %r0, [%r0+0]
                out:
                mov %r0, 2
                exit
                """, maps);
        assertTrue(checked.contains("invalid mem access 'map_ptr'"), checked);
        String unchecked = refusal(LOOKUP_OUTER + """
                mov %r1, %r0
                mov %r2, %r10
                add %r2, -4
                call 1
                mov %r0, 2
                exit
                """, maps);
        assertTrue(unchecked.contains("type=map_ptr_or_null expected=map_ptr"), unchecked);
        String update = refusal("""
                stw [%r10-4], 0
                mov %r2, %r10
                add %r2, -4
                mov %r3, %r10
                add %r3, -4
                mov %r4, 0
                ldmap %r1, 0
                call 2
                mov %r0, 2
                exit
                """, maps);
        assertTrue(update.contains("cannot pass map_type 12 into func bpf_map_update_elem#2"), update);
        String valueTooFar = refusal(LOOKUP_OUTER + """
                jeq %r0, 0, out
                mov %r1, %r0
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                ldxdw %r1, [%r0+8]
                out:
                mov %r0, 2
                exit
                """, maps);
        assertTrue(valueTooFar.contains("invalid access to map value, value_size=8 off=8 size=8"), "the template's value size: " + valueTooFar);
    }

    /** Values of two inner maps looked up in one run are both there: a write through the first lands in the first. */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void valuesOfTwoInnerMapsAreReachableAtOnce(String engine) throws Exception {
        BpfMap a = BPF.mapCreate("a", BpfMap.MAP_ARRAY, 4, 8, 1, 0, 1);
        BpfMap b = BPF.mapCreate("b", BpfMap.MAP_ARRAY, 4, 8, 1, 0, 1);
        BpfMap outer = BPF.mapCreate("outer", BpfMap.MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, a);
        assertEquals(0, outer.update(key(0), key(a.id()), BpfMap.BPF_ANY));
        assertEquals(0, outer.update(key(1), key(b.id()), BpfMap.BPF_ANY));
        BpfProg p = BPF.progLoad("two", BPF.assemble("""
                stw [%r10-4], 0
                mov %r2, %r10
                add %r2, -4
                ldmap %r1, 0
                call 1
                jeq %r0, 0, out
                mov %r1, %r0
                stw [%r10-8], 0
                mov %r2, %r10
                add %r2, -8
                call 1
                jeq %r0, 0, out
                mov %r6, %r0
                stw [%r10-4], 1
                mov %r2, %r10
                add %r2, -4
                ldmap %r1, 0
                call 1
                jeq %r0, 0, out
                mov %r1, %r0
                mov %r2, %r10
                add %r2, -8
                call 1
                jeq %r0, 0, out
                stdw [%r0+0], 22
                stdw [%r6+0], 11
                out:
                mov %r0, 2
                exit
                """), ProgType.XDP, AttachType.DEFAULT, List.of(outer), null, null, engine, false);
        assertEquals(XdpContext.XDP_PASS, p.xdpContext(0).run(frame, 256, 64, 1, 0));
        assertEquals(11, u64(a.lookup(key(0))));
        assertEquals(22, u64(b.lookup(key(0))));
        p.close();
    }
}

package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.ElfObject;
import org.modnet.ebpf.impl.LoadedProgram;
import org.modnet.ebpf.impl.XdpBuffer;

/**
 * A devmap_hash (25) an XDP program looks up (its values read-only to programs, as dev_map_init_map makes
 * them), and an LRU per-CPU hash (10) that evicts its least recently used key and keeps one value per
 * CPU, from clang-built C.
 */
class DevmapHashLookupAndLruPercpuTest {
    private static final String PROGRAMS = """
            struct { __uint(type, BPF_MAP_TYPE_DEVMAP_HASH); __uint(max_entries, 4); __type(key, __u32); __type(value, struct bpf_devmap_val); } ports SEC(".maps");
            struct { __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH); __uint(max_entries, 2); __type(key, __u32); __type(value, __u64); } recent SEC(".maps");
            struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 8); __type(key, __u32); __type(value, __s64); } out SEC(".maps");
            static __always_inline void put(__u32 k, __s64 v)
            {
                __s64 *p = bpf_map_lookup_elem(&out, &k);
                if (p) *p = v;
            }
            SEC("xdp") int known_port(struct xdp_md *ctx)
            {
                __u32 k = 5;
                struct bpf_devmap_val *v = bpf_map_lookup_elem(&ports, &k);
                put(0, v ? v->ifindex : -1);
                k = 6;
                put(1, bpf_map_lookup_elem(&ports, &k) ? 1 : 0);
                return XDP_PASS;
            }
            SEC("xdp") int write_port(struct xdp_md *ctx)
            {
                __u32 k = 5;
                struct bpf_devmap_val *v = bpf_map_lookup_elem(&ports, &k);
                if (v) v->ifindex = 1;
                return XDP_PASS;
            }
            SEC("xdp") int remember(struct xdp_md *ctx)
            {
                __u64 seen = 7;
                __u32 k = 1;
                put(0, bpf_map_update_elem(&recent, &k, &seen, BPF_ANY));
                k = 2;
                put(1, bpf_map_update_elem(&recent, &k, &seen, BPF_ANY));
                k = 3;
                put(2, bpf_map_update_elem(&recent, &k, &seen, BPF_ANY));
                put(3, bpf_map_lookup_elem(&recent, &k) ? 1 : 0);
                k = 1;
                put(4, bpf_map_lookup_elem(&recent, &k) ? 1 : 0);
                return XDP_PASS;
            }
            """;

    @BeforeEach
    void needsClang() {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
    }

    private static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** Loads {@code function} over {@code maps} (2 CPUs), runs it once on CPU 0, and gives {@code out}'s 8 results. */
    private static long[] run(ElfObject o, List<BpfMapBase> maps, String function, String engine) throws Exception {
        ElfObject.ProgramDef d = o.programs().stream().filter(p -> p.name().equals(function)).findFirst().orElseThrow();
        LoadedProgram p = LoadedProgram.load(d.name(), d.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps), engine,
                false, null);
        assertEquals(XdpBuffer.XDP_PASS, new XdpBuffer(p.memory(0)).run(p, KernelParityTest.udp(5, 7), XdpRunTest.HEADROOM, 64, 1, 0));
        long[] r = new long[8];
        for (int k = 0; k < 8; k++) {
            r[k] = ByteBuffer.wrap(maps.get(2).lookup(u32(k))).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        return r;
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void anXdpProgramLooksUpADevmapHashEntryBpftoolPutThere(String engine) throws Exception {
        ElfObject o = KernelParityTest.compile("devmap_hash_lru_percpu", PROGRAMS);
        List<BpfMapBase> maps = o.createMapsBase(2);
        byte[] val = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(3).putInt(0).array();
        assertEquals(0, maps.get(0).update(u32(5), val, BpfMap.BPF_ANY));
        long[] r = run(o, maps, "known_port", engine);
        assertEquals(3, r[0], "the entry's ifindex");
        assertEquals(0, r[1], "no entry: NULL");
    }

    @Test
    void aProgramMayNotWriteADevmapHashValue() throws Exception {
        ElfObject o = KernelParityTest.compile("devmap_hash_lru_percpu", PROGRAMS);
        assertTrue(KernelParityTest.refusal(o, "write_port").contains("write into map forbidden"));
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void anLruPercpuHashEvictsTheLeastRecentlyUsedKeyAndKeepsAValuePerCpu(String engine) throws Exception {
        ElfObject o = KernelParityTest.compile("devmap_hash_lru_percpu", PROGRAMS);
        List<BpfMapBase> maps = o.createMapsBase(2);
        long[] r = run(o, maps, "remember", engine);
        assertArrayEquals(new long[] { 0, 0, 0 }, new long[] { r[0], r[1], r[2] }, "full: an LRU map makes room instead of E2BIG");
        assertEquals(1, r[3], "the newest key is in");
        assertEquals(0, r[4], "the least recently used key went");
        BpfMapBase recent = maps.get(1);
        assertEquals(2, recent.cpus());
        assertEquals(7, ByteBuffer.wrap(recent.lookup(u32(3), 0)).order(ByteOrder.LITTLE_ENDIAN).getLong(), "CPU 0's value");
        assertEquals(0, ByteBuffer.wrap(recent.lookup(u32(3), 1)).order(ByteOrder.LITTLE_ENDIAN).getLong(), "CPU 1 never wrote");
        assertNull(recent.lookup(u32(1), 0));
    }
}

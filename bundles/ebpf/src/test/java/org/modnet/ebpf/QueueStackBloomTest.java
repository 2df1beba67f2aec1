package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.ElfObject;
import org.modnet.ebpf.impl.LoadedProgram;
import org.modnet.ebpf.impl.Verifier;
import org.modnet.ebpf.impl.XdpBuffer;

/**
 * Queues, stacks (BPF_MAP_TYPE_QUEUE 22, STACK 23) and bloom filters (30) from clang-built C: the
 * push / pop / peek helpers with the kernel's order, bounds and errnos, and the verifier's refusal of
 * the helpers a type does not take ({@code check_map_func_compatibility}).
 */
class QueueStackBloomTest {
    private static final String MAPS = """
            struct { __uint(type, BPF_MAP_TYPE_QUEUE); __uint(max_entries, 3); __type(value, __u32); } q SEC(".maps");
            struct { __uint(type, BPF_MAP_TYPE_STACK); __uint(max_entries, 3); __type(value, __u32); } st SEC(".maps");
            struct { __uint(type, BPF_MAP_TYPE_BLOOM_FILTER); __uint(max_entries, 64); __type(value, __u32); } seen SEC(".maps");
            struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 16); __type(key, __u32); __type(value, __s64); } out SEC(".maps");
            static __always_inline void put(__u32 k, __s64 v)
            {
                __s64 *p = bpf_map_lookup_elem(&out, &k);
                if (p) *p = v;
            }
            """;

    private static final String PROGRAMS = MAPS + """
            SEC("xdp") int fifo_lifo(struct xdp_md *ctx)
            {
                __u32 v = 1, x = 0;
                bpf_map_push_elem(&q, &v, 0); bpf_map_push_elem(&st, &v, 0);
                v = 2;
                bpf_map_push_elem(&q, &v, 0); bpf_map_push_elem(&st, &v, 0);
                v = 3;
                bpf_map_push_elem(&q, &v, 0); bpf_map_push_elem(&st, &v, 0);
                v = 4;
                put(0, bpf_map_push_elem(&q, &v, 0));
                put(1, bpf_map_push_elem(&q, &v, BPF_EXIST));
                put(2, bpf_map_peek_elem(&q, &x) ? -1 : x);
                bpf_map_pop_elem(&q, &x); put(3, x);
                bpf_map_pop_elem(&q, &x); put(4, x);
                bpf_map_pop_elem(&q, &x); put(5, x);
                put(6, bpf_map_pop_elem(&q, &x));
                bpf_map_pop_elem(&st, &x); put(7, x);
                bpf_map_pop_elem(&st, &x); put(8, x);
                put(9, bpf_map_push_elem(&q, &v, 4));
                return XDP_PASS;
            }
            SEC("xdp") int bloom(struct xdp_md *ctx)
            {
                __u32 a = 7, b = 8;
                put(0, bpf_map_push_elem(&seen, &a, 0));
                put(1, bpf_map_peek_elem(&seen, &a));
                put(2, bpf_map_peek_elem(&seen, &b));
                put(3, bpf_map_push_elem(&seen, &b, BPF_EXIST));
                return XDP_PASS;
            }
            SEC("xdp") int lookup_queue(struct xdp_md *ctx)
            {
                __u32 k = 0;
                return bpf_map_lookup_elem(&q, &k) ? XDP_DROP : XDP_PASS;
            }
            SEC("xdp") int pop_bloom(struct xdp_md *ctx)
            {
                __u32 v;
                return bpf_map_pop_elem(&seen, &v) ? XDP_DROP : XDP_PASS;
            }
            SEC("xdp") int push_array(struct xdp_md *ctx)
            {
                __s64 v = 0;
                return bpf_map_push_elem(&out, &v, 0) ? XDP_DROP : XDP_PASS;
            }
            """;

    @BeforeEach
    void needsClang() {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
    }

    private static List<BpfMapBase> maps;

    /** Runs {@code function} once on a UDP frame and gives the {@code out} array's 16 results. */
    private static long[] run(String function, String engine) throws Exception {
        ElfObject o = KernelParityTest.compile("queue_stack_bloom", PROGRAMS);
        maps = o.createMapsBase(1);
        ElfObject.ProgramDef d = o.programs().stream().filter(p -> p.name().equals(function)).findFirst().orElseThrow();
        LoadedProgram p = LoadedProgram.load(d.name(), d.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps), engine,
                false, null);
        assertEquals(XdpBuffer.XDP_PASS, new XdpBuffer(p.memory(0)).run(p, KernelParityTest.udp(5, 7), XdpRunTest.HEADROOM, 64, 1, 0));
        BpfMapBase out = maps.get(3);
        long[] r = new long[16];
        for (int k = 0; k < 16; k++) {
            byte[] v = out.lookup(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array());
            r[k] = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        return r;
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aQueuePopsOldestFirstAStackNewestAndAFullQueueRefusesOrOverwritesItsOldest(String engine) throws Exception {
        long[] r = run("fifo_lifo", engine);
        assertEquals(-7, r[0], "full, BPF_ANY: E2BIG");
        assertEquals(0, r[1], "full, BPF_EXIST: the oldest (1) makes room");
        assertEquals(2, r[2], "peek: the oldest left, not taken");
        assertArrayEquals(new long[] { 2, 3, 4 }, new long[] { r[3], r[4], r[5] }, "a queue pops in push order");
        assertEquals(-2, r[6], "empty: ENOENT");
        assertArrayEquals(new long[] { 3, 2 }, new long[] { r[7], r[8] }, "a stack pops newest first");
        assertEquals(-22, r[9], "a flag other than BPF_EXIST: EINVAL");
        byte[] left = maps.get(1).lookup(new byte[0]);
        assertArrayEquals(new byte[] { 1, 0, 0, 0 }, left, "user space peeks the stack's top, no key");
        assertNull(maps.get(0).lookup(new byte[0]), "an empty queue has nothing to peek");
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aBloomFilterAnswersMaybeForWhatWasAddedAndNoForWhatWasNot(String engine) throws Exception {
        long[] r = run("bloom", engine);
        assertEquals(0, r[0]);
        assertEquals(0, r[1], "added: maybe in (0)");
        assertEquals(-2, r[2], "never added: ENOENT");
        assertEquals(-22, r[3], "a bloom filter takes only BPF_ANY: EINVAL");
    }

    @Test
    void theVerifierRefusesHelpersAMapTypeDoesNotTake() throws Exception {
        ElfObject o = KernelParityTest.compile("queue_stack_bloom", PROGRAMS);
        assertTrue(KernelParityTest.refusal(o, "lookup_queue").contains("cannot pass map_type 22 into func bpf_map_lookup_elem#1"));
        assertTrue(KernelParityTest.refusal(o, "pop_bloom").contains("cannot pass map_type 30 into func bpf_map_pop_elem#88"));
        assertTrue(KernelParityTest.refusal(o, "push_array").contains("cannot pass map_type 2 into func bpf_map_push_elem#87"));
    }

    @Test
    void keysOnAQueueStackOrBloomFilterAreRefusedAtCreation() throws Exception {
        for (int type : new int[] { Verifier.MAP_QUEUE, Verifier.MAP_STACK, Verifier.MAP_BLOOM_FILTER }) {
            BpfException e = assertThrows(BpfException.class, () -> BpfMapBase.create("m", type, 4, 4, 8, 0, 1));
            assertTrue(e.getMessage().contains("no keys (key size 0)"), e.getMessage());
        }
        BpfMapBase q = BpfMapBase.create("q", Verifier.MAP_QUEUE, 0, 4, 2, 0, 1);
        assertEquals(0, q.update(new byte[0], new byte[] { 5, 0, 0, 0 }, BpfMap.BPF_ANY), "user space pushes with no key");
        assertArrayEquals(new byte[] { 5, 0, 0, 0 }, q.lookup(new byte[0]));
        assertEquals(List.of(), q.keys(), "no keys to dump");
    }

    /**
     * A bloom filter's hash count is its BTF-defined {@code map_extra} (libbpf's {@code __uint(map_extra, N)}):
     * read from the object, given to the map, refused over 15 as bloom_map_alloc refuses it, and refused on
     * any other map type as map_create does.
     */
    @Test
    void mapExtraIsReadFromBtf() throws Exception {
        String bloom = """
                struct { __uint(type, BPF_MAP_TYPE_BLOOM_FILTER); __uint(max_entries, 64); __type(value, __u32); __uint(map_extra, N); } b SEC(".maps");
                SEC("xdp") int f(struct xdp_md *ctx)
                {
                    __u32 v = 1;
                    return bpf_map_peek_elem(&b, &v) == 0 ? XDP_PASS : XDP_DROP;
                }
                """;
        ElfObject three = KernelParityTest.compile("bloom_extra3", bloom.replace("N)", "3)"));
        assertEquals(3, three.maps().get(0).mapExtra());
        List<BpfMapBase> maps = three.createMapsBase(1);
        assertEquals(Verifier.MAP_BLOOM_FILTER, maps.get(0).type());

        ElfObject sixteen = KernelParityTest.compile("bloom_extra16", bloom.replace("N)", "16)"));
        BpfException e = assertThrows(BpfException.class, () -> sixteen.createMapsBase(1));
        assertTrue(e.getMessage().contains("at most 15 hashes"), e.getMessage());

        ElfObject array = KernelParityTest.compile("array_extra", """
                struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u32); __uint(map_extra, 1); } a SEC(".maps");
                SEC("xdp") int f(struct xdp_md *ctx) { return XDP_PASS; }
                """);
        e = assertThrows(BpfException.class, () -> array.createMapsBase(1));
        assertTrue(e.getMessage().contains("map_extra 1 is only for a bloom filter (EINVAL)"), e.getMessage());
    }
}

package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.ElfObject;
import org.modnet.ebpf.impl.LoadedProgram;
import org.modnet.ebpf.impl.XdpBuffer;

/**
 * XDP's receive-metadata kfuncs from clang-built C ({@code __ksym} externs, as xdp-hints programs
 * declare them): what the runtime gave for the frame reaches the program, -ENODATA without it, on both
 * engines; any other kfunc refused by name in libbpf's words, and these refused outside XDP in the
 * kernel's.
 */
class KfuncTest {
    private static final String PROGRAMS = """
            extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
            extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash, int *rss_type) __ksym;
            extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto, __u16 *vlan_tci) __ksym;
            struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 8); __type(key, __u32); __type(value, __s64); } out SEC(".maps");
            static __always_inline void put(__u32 k, __s64 v)
            {
                __s64 *p = bpf_map_lookup_elem(&out, &k);
                if (p) *p = v;
            }
            SEC("xdp") int hints(struct xdp_md *ctx)
            {
                __u64 ts = 0;
                __u32 hash = 0;
                int type = 0;
                __be16 proto = 0;
                __u16 tci = 0;
                put(0, bpf_xdp_metadata_rx_timestamp(ctx, &ts));
                put(1, ts);
                put(2, bpf_xdp_metadata_rx_hash(ctx, &hash, &type));
                put(3, hash);
                put(4, type);
                put(5, bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci));
                put(6, bpf_ntohs(proto));
                put(7, tci);
                return XDP_PASS;
            }
            """;

    @BeforeEach
    void needsClang() {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
    }

    private static long[] run(String engine, boolean given) throws Exception {
        ElfObject o = KernelParityTest.compile("kfunc_hints", PROGRAMS);
        ElfObject.ProgramDef d = o.program("xdp");
        List<BpfMapBase> maps = o.createMapsBase(1);
        LoadedProgram p = LoadedProgram.load(d.name(), d.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps), engine,
                false, null);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        if (given) {
            x.rxTimestamp(1_700_000_000_123_456_789L);
            x.rxHash(0xcafe1234, 0x29); // XDP_RSS_TYPE_L4_IPV4_UDP
            x.rxVlanTag(0x8100, 42);
        }
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, KernelParityTest.udp(5, 53), XdpRunTest.HEADROOM, 64, 1, 0));
        long[] r = new long[8];
        for (int k = 0; k < 8; k++) {
            byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array();
            r[k] = ByteBuffer.wrap(maps.get(0).lookup(key)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        return r;
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void theFramesTimestampHashAndVlanTagReachTheProgram(String engine) throws Exception {
        long[] r = run(engine, true);
        assertEquals(0, r[0], "rx_timestamp returns 0");
        assertEquals(1_700_000_000_123_456_789L, r[1]);
        assertEquals(0, r[2], "rx_hash returns 0");
        assertEquals(0xcafe1234L, r[3] & 0xffffffffL);
        assertEquals(0x29, r[4], "the RSS hash type");
        assertEquals(0, r[5], "rx_vlan_tag returns 0");
        assertEquals(0x8100, r[6], "the protocol, in network order as the kernel writes it");
        assertEquals(42, r[7]);
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aFrameWithoutMetadataGivesEnodata(String engine) throws Exception {
        long[] r = run(engine, false);
        assertEquals(-61, r[0], "-ENODATA");
        assertEquals(-61, r[2]);
        assertEquals(-61, r[5]);
        assertEquals(0, r[1], "nothing written");
    }

    @Test
    void metadataDescribesOneFrameOnly() throws Exception {
        ElfObject o = KernelParityTest.compile("kfunc_hints", PROGRAMS);
        ElfObject.ProgramDef d = o.program("xdp");
        List<BpfMapBase> maps = o.createMapsBase(1);
        LoadedProgram p = LoadedProgram.load(d.name(), d.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps), "jit",
                false, null);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        x.rxHash(7, 0);
        x.run(p, KernelParityTest.udp(5, 53), XdpRunTest.HEADROOM, 64, 1, 0);
        x.run(p, KernelParityTest.udp(5, 53), XdpRunTest.HEADROOM, 64, 1, 0);
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(2).array();
        assertEquals(-61, ByteBuffer.wrap(maps.get(0).lookup(key)).order(ByteOrder.LITTLE_ENDIAN).getLong(), "the second frame had none");
    }

    /**
     * Metadata given for one frame and not the next is gone by the next run, all of it, also where the driver
     * gives the next frame part of it (the run clears what the last frame had before the program, not after).
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void theNextFramesMetadataReplacesAllOfTheLasts(String engine) throws Exception {
        ElfObject o = KernelParityTest.compile("kfunc_hints", PROGRAMS);
        ElfObject.ProgramDef d = o.program("xdp");
        List<BpfMapBase> maps = o.createMapsBase(1);
        LoadedProgram p = LoadedProgram.load(d.name(), d.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps), engine,
                false, null);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        for (int round = 0; round < 3; round++) {
            x.rxHash(7, 0);
            x.rxTimestamp(1000 + round);
            x.run(p, KernelParityTest.udp(5, 53), XdpRunTest.HEADROOM, 64, 1, 0);
            assertEquals(0, slot(maps, 0), "the timestamp given");
            assertEquals(1000 + round, slot(maps, 1));
            assertEquals(0, slot(maps, 2), "the hash given");
            x.rxTimestamp(2000 + round); // the next frame: a timestamp, no hash
            x.run(p, KernelParityTest.udp(5, 53), XdpRunTest.HEADROOM, 64, 1, 0);
            assertEquals(2000 + round, slot(maps, 1), "this frame's timestamp");
            assertEquals(-61, slot(maps, 2), "no hash for this frame: the last frame's is gone");
            x.run(p, KernelParityTest.udp(5, 53), XdpRunTest.HEADROOM, 64, 1, 0);
            assertEquals(-61, slot(maps, 0), "the third frame had none");
            assertEquals(-61, slot(maps, 2));
        }
    }

    private static long slot(List<BpfMapBase> maps, int k) {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array();
        return ByteBuffer.wrap(maps.get(0).lookup(key)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void anyOtherKfuncIsRefusedByNameInLibbpfsWords() {
        BpfException e = assertThrows(BpfException.class, () -> KernelParityTest.compile("kfunc_unknown", """
                extern int bpf_xdp_metadata_rx_nothing(const struct xdp_md *ctx, __u64 *x) __ksym;
                SEC("xdp") int other(struct xdp_md *ctx)
                {
                    __u64 x = 0;
                    return bpf_xdp_metadata_rx_nothing(ctx, &x) == 0 ? XDP_PASS : XDP_DROP;
                }
                """).program("xdp"));
        assertEquals("extern (func ksym) 'bpf_xdp_metadata_rx_nothing': not found in kernel or module BTFs", e.getMessage());
    }

    @Test
    void anXdpKfuncIsRefusedToATcProgramInTheKernelsWords() throws Exception {
        ElfObject o = KernelParityTest.compile("kfunc_hints", PROGRAMS);
        ElfObject.ProgramDef d = o.program("xdp");
        List<BpfMapBase> maps = o.createMapsBase(1);
        BpfException e = assertThrows(BpfException.class, () -> LoadedProgram.load(d.name(), d.insns(), ProgType.SCHED_CLS, maps,
                HelperProtos.SCHED_CLS, null, "interpreter", false, null));
        assertTrue(e.getMessage().contains("calling kernel function bpf_xdp_metadata_rx_timestamp is not allowed"), e.getMessage());
    }

    @Test
    void aKfuncsMemoryMustBeWritableMemory() throws Exception {
        ElfObject o = KernelParityTest.compile("kfunc_bad_arg", """
                extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash, int *rss_type) __ksym;
                SEC("xdp") int bad(struct xdp_md *ctx)
                {
                    int type;
                    return bpf_xdp_metadata_rx_hash(ctx, (__u32 *)(long)ctx->ingress_ifindex, &type) == 0 ? XDP_PASS : XDP_DROP;
                }
                """);
        assertTrue(KernelParityTest.refusal(o, "bad").contains("R2 type=scalar expected=fp, pkt, map_value"),
                KernelParityTest.refusal(o, "bad"));
    }
}

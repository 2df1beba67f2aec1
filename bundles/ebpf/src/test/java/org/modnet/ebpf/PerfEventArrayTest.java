package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.RingBuffer;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.ElfObject;
import org.modnet.ebpf.impl.LoadedProgram;
import org.modnet.ebpf.impl.XdpBuffer;

/**
 * A perf event array (4) from clang-built C: {@code bpf_perf_event_output} writes records into the
 * running CPU's bounded ring, which {@code bpftool map event_pipe} reads; what does not fit is lost
 * and counted.
 */
class PerfEventArrayTest {
    private static final String PROGRAMS = """
            struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } events SEC(".maps");
            struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __s64); } out SEC(".maps");
            struct rec { __u32 len; __u32 port; };
            static __always_inline void put(__u32 k, __s64 v)
            {
                __s64 *p = bpf_map_lookup_elem(&out, &k);
                if (p) *p = v;
            }
            SEC("xdp") int log_frames(struct xdp_md *ctx)
            {
                struct rec r = { .len = ctx->data_end - ctx->data, .port = 7 };
                put(0, bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &r, sizeof(r)));
                put(1, bpf_perf_event_output(ctx, &events, 9, &r, sizeof(r)));
                put(2, bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU | (8ULL << 32), &r, sizeof(r)));
                return XDP_PASS;
            }
            SEC("xdp") int lookup_events(struct xdp_md *ctx)
            {
                __u32 k = 0;
                return bpf_map_lookup_elem(&events, &k) ? XDP_DROP : XDP_PASS;
            }
            """;

    @BeforeEach
    void needsClang() {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
    }

    private static long out(BpfMapBase out, int k) {
        byte[] v = out.lookup(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array());
        return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void recordsGoToTheRunningCpusRingAndALostOneIsCounted(String engine) throws Exception {
        ElfObject o = KernelParityTest.compile("perf_event_array", PROGRAMS);
        List<BpfMapBase> maps = o.createMapsBase(2);
        assertEquals(2, maps.get(0).maxEntries(), "max_entries left out: one ring per CPU, as libbpf sizes it");
        ElfObject.ProgramDef d = o.programs().stream().filter(p -> p.name().equals("log_frames")).findFirst().orElseThrow();
        LoadedProgram p = LoadedProgram.load(d.name(), d.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps), engine,
                false, null);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        MemorySegment frame = KernelParityTest.udp(5, 7);
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame, XdpRunTest.HEADROOM, 64, 1, 0));
        assertEquals(0, out(maps.get(1), 0));
        assertEquals(-7, out(maps.get(1), 1), "an index past the entries: E2BIG");
        assertEquals(-22, out(maps.get(1), 2), "packet bytes appended (BPF_F_CTXLEN_MASK) are not offered: EINVAL");
        RingBuffer events = (RingBuffer) maps.get(0);
        List<byte[]> got = new ArrayList<>();
        assertEquals(1, events.consume(got::add));
        ByteBuffer r = ByteBuffer.wrap(got.get(0)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(8, got.get(0).length);
        assertEquals(64, r.getInt(), "the frame's length");
        assertEquals(7, r.getInt());

        int runs = 6000; // 16 bytes a record in a 64 KiB ring: 4,096 fit
        for (int i = 0; i < runs; i++) {
            x.run(p, frame, XdpRunTest.HEADROOM, 64, 1, 0);
        }
        assertEquals(-28, out(maps.get(1), 0), "full: ENOSPC");
        int read = events.consume(b -> { });
        assertEquals(4096, read);
        assertEquals(runs - read, events.dropped(), "every record is read or counted lost");
    }

    @Test
    void aPerfEventArrayIsOnlyForPerfEventOutput() throws Exception {
        ElfObject o = KernelParityTest.compile("perf_event_array", PROGRAMS);
        assertTrue(KernelParityTest.refusal(o, "lookup_events").contains("cannot pass map_type 4 into func bpf_map_lookup_elem#1"));
    }
}

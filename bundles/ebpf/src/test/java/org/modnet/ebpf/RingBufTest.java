package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.ElfObject;
import org.modnet.ebpf.impl.LoadedProgram;
import org.modnet.ebpf.impl.RingBufMap;
import org.modnet.ebpf.impl.Verifier;
import org.modnet.ebpf.impl.XdpBuffer;

/** BPF_MAP_TYPE_RINGBUF: programs write records with bpf_ringbuf_output, user space reads them in order. */
class RingBufTest {
    /** Writes r1's 8 bytes (the frame's length, then 0xabcd) as a record; returns the helper's result as the action when it fails. */
    static final String OUTPUT = """
            ldxw %r2, [%r1+0]
            ldxw %r3, [%r1+4]
            sub %r3, %r2
            stxw [%r10-8], %r3
            stw [%r10-4], 0xabcd
            ldmap %r1, 0
            mov %r2, %r10
            add %r2, -8
            mov %r3, 8
            mov %r4, 0
            call 130
            jeq %r0, 0, ok
            mov %r0, 1
            exit
            ok:
            ldmap %r1, 0
            mov %r2, 0
            call 134
            jeq %r0, 0, wrong
            mov %r0, 2
            exit
            wrong:
            mov %r0, 0
            exit
            """;

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void recordsArriveInOrderAndAFullBufferRefusesMore(String engine) throws Exception {
        RingBufMap events = (RingBufMap) BpfMapBase.create("events", Verifier.MAP_RINGBUF, 0, 0, 4096, 0, 1);
        List<BpfMapBase> maps = List.of(events);
        LoadedProgram p = XdpRunTest.load(OUTPUT, maps, engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        int passed = 0;
        for (int len = 60; len < 60 + 300; len++) {
            if (x.run(p, XdpRunTest.frame(len, 17), XdpRunTest.HEADROOM, len, 1, 0) == XdpBuffer.XDP_PASS) {
                passed++;
            }
        }
        assertEquals(4096 / 16, passed, "16 bytes a record (8 header, 8 data): 256 fit in 4096, the rest are refused");
        assertEquals(4096, events.query(RingBufMap.BPF_RB_AVAIL_DATA));
        assertEquals(4096, events.query(RingBufMap.BPF_RB_RING_SIZE));
        assertEquals(300 - 256, events.dropped());
        List<byte[]> got = new ArrayList<>();
        assertEquals(256, events.consume(got::add));
        for (int i = 0; i < got.size(); i++) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(got.get(i)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertEquals(60 + i, b.getInt(), "record " + i);
            assertEquals(0xabcd, b.getInt());
        }
        assertEquals(0, events.query(RingBufMap.BPF_RB_AVAIL_DATA));
        assertEquals(4096, events.query(RingBufMap.BPF_RB_CONS_POS));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, XdpRunTest.frame(99, 17), XdpRunTest.HEADROOM, 99, 1, 0), "room again once read");
    }

    @Test
    void recordsWrapAroundTheEndOfTheBuffer() throws Exception {
        RingBufMap r = (RingBufMap) BpfMapBase.create("r", Verifier.MAP_RINGBUF, 0, 0, 4096, 0, 1);
        byte[] big = new byte[1500];
        for (int round = 0; round < 10; round++) {
            java.util.Arrays.fill(big, (byte) round);
            assertEquals(0, r.output(big));
            List<byte[]> got = new ArrayList<>();
            assertEquals(1, r.consume(got::add));
            assertArrayEquals(big, got.get(0), "round " + round);
        }
        assertEquals(-11, r.output(new byte[4096 - 8 + 1]), "larger than the buffer can ever hold: EAGAIN");
    }

    @Test
    void badRingBuffersAndMisuseAreRefused() throws Exception {
        assertTrue(assertThrows(BpfException.class, () -> BpfMapBase.create("r", Verifier.MAP_RINGBUF, 0, 0, 5000, 0, 1)).getMessage()
                .contains("power of 2"));
        assertTrue(assertThrows(BpfException.class, () -> BpfMapBase.create("r", Verifier.MAP_RINGBUF, 4, 8, 4096, 0, 1)).getMessage()
                .contains("no keys or values"));
        List<BpfMapBase> maps = List.of(BpfMapBase.create("r", Verifier.MAP_RINGBUF, 0, 0, 4096, 0, 1));
        String lookup = """
                stw [%r10-4], 0
                ldmap %r1, 0
                mov %r2, %r10
                add %r2, -4
                call 1
                mov %r0, 2
                exit
                """;
        assertTrue(assertThrows(BpfException.class, () -> XdpRunTest.load(lookup, maps, "interpreter", new ArrayList<>()))
                .getMessage().contains("cannot pass map_type 27 into func bpf_map_lookup_elem"));
        String badFlags = OUTPUT.replace("mov %r4, 0", "mov %r4, 4");
        LoadedProgram p = XdpRunTest.load(badFlags, maps, "jit", new ArrayList<>());
        assertEquals(XdpBuffer.XDP_DROP, new XdpBuffer(p.memory(0)).run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 0),
                "flags other than the wake-up hints: -EINVAL");
    }

    @ParameterizedTest
    @ValueSource(strings = { "v1/interpreter", "v3/jit" })
    void clangBuiltProgramLogsEveryIpv4Frame(String variant) throws Exception {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        String[] v = variant.split("/");
        ElfObject o = ElfObject.parse(ElfObjectTest.build("ringbuf_events.c", v[0]));
        assertEquals(new ElfObject.MapDef("events", Verifier.MAP_RINGBUF, 0, 0, 4096, 0), o.maps().get(0));
        List<BpfMapBase> maps = o.createMapsBase(1);
        RingBufMap events = assertInstanceOf(RingBufMap.class, maps.get(0));
        ElfObject.ProgramDef prog = o.program("xdp");
        LoadedProgram p = LoadedProgram.load(prog.name(), prog.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps),
                v[1], false, null);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        for (int proto : new int[] { 1, 6, 17 }) {
            MemorySegment f = XdpRunTest.frame(64 + proto, proto);
            f.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), XdpRunTest.HEADROOM + 26, 0x0a000000 | proto);
            assertEquals(XdpBuffer.XDP_PASS, x.run(p, f, XdpRunTest.HEADROOM, 64 + proto, 1, 0));
        }
        List<byte[]> got = new ArrayList<>();
        assertEquals(3, events.consume(got::add));
        int i = 0;
        for (int proto : new int[] { 1, 6, 17 }) {
            byte[] e = got.get(i++);
            assertEquals(8, e.length);
            assertArrayEquals(new byte[] { 10, 0, 0, (byte) proto }, java.util.Arrays.copyOf(e, 4), "saddr as on the wire");
            assertEquals(64 + proto, (e[4] & 0xff) | (e[5] & 0xff) << 8);
            assertEquals(proto, e[6]);
        }
    }

    /** Reserves 16 bytes, writes the frame's length and protocol in place, submits — or discards when the protocol is 6. */
    static final String RESERVE = """
            ldxw %r7, [%r1+0]
            ldxw %r8, [%r1+4]
            mov %r4, %r7
            add %r4, 24
            jgt %r4, %r8, pass
            ldmap %r1, 0
            mov %r2, 16
            mov %r3, 0
            call 131
            jeq %r0, 0, full
            mov %r6, %r0
            mov %r2, %r8
            sub %r2, %r7
            stxdw [%r6+0], %r2
            ldxb %r3, [%r7+23]
            stxdw [%r6+8], %r3
            mov %r1, %r6
            mov %r2, 0
            jeq %r3, 6, drop
            call 132
            ja pass
            drop:
            call 133
            pass:
            mov %r0, 2
            exit
            full:
            mov %r0, 1
            exit
            """;

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void reservedRecordsAreWrittenInPlaceSubmittedOrDiscardedAndWrapWhole(String engine) throws Exception {
        RingBufMap ring = (RingBufMap) BpfMapBase.create("ring", Verifier.MAP_RINGBUF, 0, 0, 4096, 0, 1);
        LoadedProgram p = XdpRunTest.load(RESERVE, List.of(ring), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        List<byte[]> got = new ArrayList<>();
        long seen = 0;
        for (int round = 0; round < 50; round++) { // 50 x 7 records of 24 bytes: round the 4096 bytes several times
            for (int k = 0; k < 7; k++) {
                int proto = k == 3 ? 6 : 17;
                int len = 60 + k;
                assertEquals(XdpBuffer.XDP_PASS, x.run(p, XdpRunTest.frame(len, proto), XdpRunTest.HEADROOM, len, 1, 0));
            }
            seen += ring.consume(got::add);
        }
        assertEquals(50 * 6, seen, "the discarded record (TCP) of each round is skipped");
        for (int i = 0; i < got.size(); i++) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(got.get(i)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertEquals(16, got.get(i).length);
            int k = i % 6 < 3 ? i % 6 : i % 6 + 1;
            assertEquals(60 + k, b.getLong(), "record " + i);
            assertEquals(17, b.getLong());
        }
        // a reader that falls behind: reservations fail (NULL), the program sees it, nothing is overwritten
        int dropped = 0;
        for (int i = 0; i < 300; i++) {
            if (x.run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 0) == XdpBuffer.XDP_DROP) {
                dropped++;
            }
        }
        assertTrue(dropped > 0);
        assertEquals(300 - dropped, ring.consume(r -> { }), "every record reserved was delivered");
    }

    @ParameterizedTest
    @ValueSource(strings = { "v1/interpreter", "v3/jit" })
    void clangBuiltReserveAndSubmitProgramSamplesFrames(String variant) throws Exception {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        String[] v = variant.split("/");
        ElfObject o = ElfObject.parse(ElfObjectTest.build("ringbuf_reserve.c", v[0]));
        List<BpfMapBase> maps = o.createMapsBase(1);
        RingBufMap samples = assertInstanceOf(RingBufMap.class, maps.get(0));
        ElfObject.ProgramDef prog = o.program("xdp");
        LoadedProgram p = LoadedProgram.load(prog.name(), prog.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps),
                v[1], false, null);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, XdpRunTest.frame(64, 17), XdpRunTest.HEADROOM, 64, 1, 0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, XdpRunTest.frame(1400, 17), XdpRunTest.HEADROOM, 1400, 1, 0), "discarded: too long");
        List<byte[]> got = new ArrayList<>();
        assertEquals(1, samples.consume(got::add));
        byte[] s = got.get(0);
        assertEquals(36, s.length);
        assertEquals(64, s[0] & 0xff);
        assertEquals(0x08, s[4 + 12], "the Ethernet type, copied in place");
    }
}

package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.Assembler;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.LoadedProgram;
import org.modnet.ebpf.impl.Memory;
import org.modnet.ebpf.impl.Verifier;
import org.modnet.ebpf.impl.XdpBuffer;

/** Loaded XDP programs with maps and helpers, on frames, with the same results on the interpreter and the JIT. */
class XdpRunTest {
    static final int HEADROOM = 256;

    static LoadedProgram load(String asm, List<BpfMapBase> maps, String engine, List<String> trace) throws BpfException {
        return LoadedProgram.load("t", Assembler.assemble(asm), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps), engine,
                false, trace::add);
    }

    /** A frame of {@code len} bytes after the headroom: Ethernet to 02:..:01 from 02:..:02, IPv4, protocol {@code proto}. */
    static MemorySegment frame(int len, int proto) {
        MemorySegment b = Arena.ofAuto().allocate(HEADROOM + len + 64, 8);
        byte[] f = new byte[Math.max(len, 24)];
        f[5] = 1;
        f[11] = 2;
        f[0] = 2;
        f[6] = 2;
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = (byte) proto;
        MemorySegment.copy(f, 0, b, ValueLayout.JAVA_BYTE, HEADROOM, f.length);
        return b;
    }

    static final String DROP_ICMP = """
            ldxw %r2, [%r1+0]
            ldxw %r3, [%r1+4]
            mov %r4, %r2
            add %r4, 34
            jgt %r4, %r3, pass
            ldxh %r5, [%r2+12]
            jne %r5, 0x8, pass
            ldxb %r5, [%r2+23]
            jne %r5, 1, pass
            stw [%r10-4], 0
            ldmap %r1, 0
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, drop
            mov %r1, 1
            lock add [%r0+0], %r1
            drop:
            mov %r0, 1
            exit
            pass:
            mov %r0, 2
            exit
            """;

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void dropIcmpCountsInAnArrayMapAndPassesTheRest(String engine) throws Exception {
        BpfMapBase drops = BpfMapBase.create("drops", Verifier.MAP_ARRAY, 4, 8, 1, 0, 1);
        LoadedProgram p = load(DROP_ICMP, List.of(drops), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_DROP, x.run(p, frame(98, 1), HEADROOM, 98, 3, 0));
        assertEquals(XdpBuffer.XDP_DROP, x.run(p, frame(98, 1), HEADROOM, 98, 3, 0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, 17), HEADROOM, 60, 3, 0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(20, 1), HEADROOM, 20, 3, 0), "too short to be IPv4: passed");
        assertArrayEquals(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0 }, drops.lookup(new byte[4]));
        assertEquals(engine, p.engine());
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void macSwapReturnsXdpTxAndAdjustHeadMovesTheFrame(String engine) throws Exception {
        LoadedProgram p = load("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 14
                jgt %r4, %r3, pass
                ldxw %r5, [%r2+0]
                ldxh %r6, [%r2+4]
                ldxw %r7, [%r2+6]
                ldxh %r8, [%r2+10]
                stxw [%r2+0], %r7
                stxh [%r2+4], %r8
                stxw [%r2+6], %r5
                stxh [%r2+10], %r6
                mov %r2, -4
                call 44
                mov %r0, 3
                exit
                pass:
                mov %r0, 2
                exit
                """, List.of(), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        MemorySegment f = frame(60, 17);
        assertEquals(XdpBuffer.XDP_TX, x.run(p, f, HEADROOM, 60, 1, 0));
        assertEquals(2, f.get(ValueLayout.JAVA_BYTE, HEADROOM + 5), "destination is the old source");
        assertEquals(1, f.get(ValueLayout.JAVA_BYTE, HEADROOM + 11), "source is the old destination");
        assertEquals(HEADROOM - 4, x.data(), "adjust_head grew the frame by 4 bytes into the headroom");
        assertEquals(64, x.length());
    }

    /** {@code bpf_redirect_map(&map0, ctx->rx_queue_index, XDP_PASS)}. */
    private static final String REDIRECT_BY_RX_QUEUE = """
            ldxw %r2, [%r1+16]
            ldmap %r1, 0
            mov %r3, 2
            call 51
            exit
            """;

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void redirectMapLooksUpTheDevmap(String engine) throws Exception {
        BpfMapBase ports = BpfMapBase.create("ports", Verifier.MAP_DEVMAP, 4, 4, 4, 0, 1);
        assertEquals(0, ports.update(new byte[] { 1, 0, 0, 0 }, new byte[] { 7, 0, 0, 0 }, BpfMapBase.BPF_ANY));
        LoadedProgram p = load(REDIRECT_BY_RX_QUEUE, List.of(ports), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_REDIRECT, x.run(p, frame(60, 17), HEADROOM, 60, 3, 1), "queue 1 -> slot 1 -> ifindex 7");
        assertEquals(7, x.redirectIfindex());
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, 17), HEADROOM, 60, 3, 2), "an empty slot: the flags' action");
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aRunAfterARedirectSeesNoTargetAndTheQueueItWasGiven(String engine) throws Exception {
        BpfMapBase ports = BpfMapBase.create("ports", Verifier.MAP_DEVMAP, 4, 4, 4, 0, 1);
        assertEquals(0, ports.update(new byte[] { 1, 0, 0, 0 }, new byte[] { 7, 0, 0, 0 }, BpfMapBase.BPF_ANY));
        LoadedProgram p = load(REDIRECT_BY_RX_QUEUE, List.of(ports), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_REDIRECT, x.run(p, frame(60, 17), HEADROOM, 60, 3, 1));
        assertEquals(7, x.redirectIfindex());
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, 17), HEADROOM, 60, 3, 0), "queue 0's slot is empty: the queue word was rewritten");
        assertEquals(-1, x.redirectIfindex(), "the last run redirected nowhere");
        assertEquals(-1, x.redirectCpu());
        assertEquals(-1, x.redirectXsk());
        assertEquals(XdpBuffer.XDP_REDIRECT, x.run(p, frame(60, 17), HEADROOM, 60, 3, 1), "and queue 1 again");
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aTestRunPreparesTheContextOnceAndKeepsWhatARunMoved(String engine) throws Exception {
        // adjust_head by -4 each run while the headroom lasts, as the kernel's BPF_PROG_TEST_RUN with repeat keeps the moved frame
        LoadedProgram p = load("""
                mov %r2, -4
                call 44
                jne %r0, 0, full
                mov %r0, 3
                exit
                full:
                mov %r0, 1
                exit
                """, List.of(), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        MemorySegment f = frame(60, 17);
        assertEquals(XdpBuffer.XDP_TX, x.testRun(p, f, HEADROOM, 60, 1, 0, 10));
        assertEquals(HEADROOM - 40, x.data(), "ten runs, each 4 bytes further into the headroom");
        assertEquals(100, x.length());
        assertEquals(XdpBuffer.XDP_DROP, x.testRun(p, f, 2, 60, 1, 0, 2), "the second run finds no headroom left");
        assertEquals(XdpBuffer.XDP_TX, x.run(p, f, HEADROOM, 60, 1, 0), "a per-frame run starts from the frame it is given");
        assertEquals(HEADROOM - 4, x.data());
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void devmapAndCpumapValuesAreTheirStructsAndNameTheirEntrysProgram(String engine) throws Exception {
        BpfException size = assertThrows(BpfException.class, () -> BpfMapBase.create("ports", Verifier.MAP_DEVMAP, 4, 12, 4, 0, 1));
        assertEquals("map ports: a devmap has 4-byte keys and values of 4 or 8 bytes (struct bpf_devmap_val), not 4 and 12",
                size.getMessage());
        assertThrows(BpfException.class, () -> BpfMapBase.create("ports", Verifier.MAP_DEVMAP_HASH, 8, 4, 4, 0, 1));
        assertThrows(BpfException.class, () -> BpfMapBase.create("cpus", Verifier.MAP_CPUMAP, 4, 16, 4, 0, 1));

        BpfMapBase ports = BpfMapBase.create("ports", Verifier.MAP_DEVMAP, 4, 8, 4, 0, 1);
        assertEquals(0, ports.update(new byte[] { 1, 0, 0, 0 }, new byte[] { 7, 0, 0, 0, 0, 0, 0, 0 }, BpfMapBase.BPF_ANY),
                "struct bpf_devmap_val { ifindex 7, no bpf_prog }");
        LoadedProgram plain = load("mov %r0, 2\nexit", List.of(), engine, new ArrayList<>());
        LoadedProgram egress = LoadedProgram.load("egress", Assembler.assemble(EGRESS_IS_7), ProgType.XDP, AttachType.XDP_DEVMAP, List.of(),
                HelperProtos.XDP, XdpBuffer.helpers(List.of()), engine, false, null);
        assertEquals(-22, ports.update(new byte[] { 2, 0, 0, 0 }, idValue(7, 1 << 30), BpfMapBase.BPF_ANY), "no such program: EINVAL");
        assertEquals(-22, ports.update(new byte[] { 2, 0, 0, 0 }, idValue(7, plain.id()), BpfMapBase.BPF_ANY),
                "not a BPF_XDP_DEVMAP program: EINVAL, as dev_map_update_elem refuses it");
        assertArrayEquals(new byte[8], ports.lookup(new byte[] { 2, 0, 0, 0 }), "the refused entries were not written");
        assertEquals(0, ports.update(new byte[] { 3, 0, 0, 0 }, idValue(7, egress.id()), BpfMapBase.BPF_ANY));
        BpfMapBase cpus = BpfMapBase.create("cpus", Verifier.MAP_CPUMAP, 4, 8, 4, 0, 1);
        assertEquals(-22, cpus.update(new byte[] { 0, 0, 0, 0 }, idValue(2048, egress.id()), BpfMapBase.BPF_ANY),
                "a BPF_XDP_DEVMAP program in a cpumap: EINVAL, as cpu_map_update_elem refuses it");
        LoadedProgram onCpu = LoadedProgram.load("on_cpu", Assembler.assemble("mov %r0, 2\nexit"), ProgType.XDP, AttachType.XDP_CPUMAP,
                List.of(), HelperProtos.XDP, XdpBuffer.helpers(List.of()), engine, false, null);
        assertEquals(-75, cpus.update(new byte[] { 1, 0, 0, 0 }, idValue(16385, onCpu.id()), BpfMapBase.BPF_ANY),
                "a queue over 16384 frames: EOVERFLOW");
        assertEquals(0, cpus.update(new byte[] { 1, 0, 0, 0 }, idValue(16384, onCpu.id()), BpfMapBase.BPF_ANY));
        assertEquals(0, cpus.update(new byte[] { 0, 0, 0, 0 }, idValue(2048, 0), BpfMapBase.BPF_ANY));
        BpfException egressOnCpu = assertThrows(BpfException.class, () -> LoadedProgram.load("on_cpu", Assembler.assemble(EGRESS_IS_7),
                ProgType.XDP, AttachType.XDP_CPUMAP, List.of(), HelperProtos.XDP, XdpBuffer.helpers(List.of()), engine, false, null));
        assertTrue(egressOnCpu.getMessage().contains("invalid bpf_context access off=20 size=4"), egressOnCpu.getMessage());
        LoadedProgram toCpu = load(REDIRECT_BY_RX_QUEUE, List.of(cpus), engine, new ArrayList<>());
        XdpBuffer y = new XdpBuffer(toCpu.memory(0));
        assertEquals(XdpBuffer.XDP_REDIRECT, y.run(toCpu, frame(60, 17), HEADROOM, 60, 3, 1));
        assertEquals(1, y.redirectCpu());
        assertEquals(onCpu.id(), y.redirectProgram(), "CPU 1's entry names its program");
        assertEquals(XdpBuffer.XDP_REDIRECT, y.run(toCpu, frame(60, 17), HEADROOM, 60, 3, 0));
        assertEquals(0, y.redirectCpu());
        assertEquals(0, y.redirectProgram(), "CPU 0's names none");

        LoadedProgram p = load(REDIRECT_BY_RX_QUEUE, List.of(ports), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_REDIRECT, x.run(p, frame(60, 17), HEADROOM, 60, 3, 1), "the ifindex is the value's first word");
        assertEquals(7, x.redirectIfindex());
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, 17), HEADROOM, 60, 3, 2), "the refused slot stayed empty");
        assertEquals(0, x.redirectProgram(), "slot 1 names no program");
        assertEquals(XdpBuffer.XDP_REDIRECT, x.run(p, frame(60, 17), HEADROOM, 60, 3, 3));
        assertEquals(egress.id(), x.redirectProgram(), "slot 3's program runs before the frame leaves ifindex 7");

        XdpBuffer e = new XdpBuffer(egress.memory(0));
        assertEquals(XdpBuffer.XDP_PASS, e.run(egress, frame(60, 17), HEADROOM, 60, 3, 1, 7), "egress_ifindex 7");
        assertEquals(XdpBuffer.XDP_DROP, e.run(egress, frame(60, 17), HEADROOM, 60, 3, 1, 8), "egress_ifindex 8");
    }

    /** A devmap entry's program: XDP_PASS for frames leaving through ifindex 7, XDP_DROP for others. */
    private static final String EGRESS_IS_7 = """
            ldxw %r2, [%r1+20]
            mov %r0, 1
            jne %r2, 7, out
            mov %r0, 2
            out:
            exit
            """;

    /** A struct bpf_devmap_val (or bpf_cpumap_val): the ifindex (queue size), then the program's id. */
    private static byte[] idValue(int first, int program) {
        return java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(first).putInt(program).array();
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void hashMapCountsPerProtocolAndTracePrintkWrites(String engine) throws Exception {
        BpfMapBase counts = BpfMapBase.create("counts", Verifier.MAP_HASH, 4, 8, 8, 0, 1);
        List<String> trace = new ArrayList<>();
        LoadedProgram p = load("""
                mov %r6, 0
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 34
                jgt %r4, %r3, out
                ldxb %r6, [%r2+23]
                stxw [%r10-4], %r6
                ldmap %r1, 0
                mov %r2, %r10
                add %r2, -4
                call 1
                jne %r0, 0, found
                stdw [%r10-16], 1
                ldmap %r1, 0
                mov %r2, %r10
                add %r2, -4
                mov %r3, %r10
                add %r3, -16
                mov %r4, 0
                call 2
                ja out
                found:
                mov %r1, 1
                lock add [%r0+0], %r1
                out:
                lddw %r1, 0x6425206f746f7270
                stxdw [%r10-24], %r1
                stdw [%r10-16], 0
                mov %r1, %r10
                add %r1, -24
                mov %r2, 16
                mov %r3, %r6
                call 6
                mov %r0, 2
                exit
                """, List.of(counts), engine, trace);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        for (int proto : new int[] { 6, 17, 17, 17, 1 }) {
            assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, proto), HEADROOM, 60, 1, 0));
        }
        assertArrayEquals(new byte[] { 3, 0, 0, 0, 0, 0, 0, 0 }, counts.lookup(new byte[] { 17, 0, 0, 0 }));
        assertArrayEquals(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0 }, counts.lookup(new byte[] { 6, 0, 0, 0 }));
        assertEquals(3, counts.keys().size());
        assertEquals("proto 6", trace.get(0));
        assertEquals(5, trace.size());
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void tailCallsRunTheProgramInTheSlotAndEndAfterThirtyThree(String engine) throws Exception {
        BpfMapBase progs = BpfMapBase.create("progs", Verifier.MAP_PROG_ARRAY, 4, 4, 4, 0, 1);
        BpfMapBase hits = BpfMapBase.create("hits", Verifier.MAP_ARRAY, 4, 8, 1, 0, 1);
        String caller = """
                ldmap %r2, 0
                mov %r3, 0
                call 12
                mov %r0, 2
                exit
                """;
        LoadedProgram main = load(caller, List.of(progs), engine, new ArrayList<>());
        LoadedProgram dropper = load("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 14
                jgt %r4, %r3, pass
                mov %r0, 1
                exit
                pass:
                mov %r0, 2
                exit
                """, List.of(), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(main.memory(0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(main, frame(60, 17), HEADROOM, 60, 1, 0), "an empty slot: the caller goes on");
        progs.update(new byte[4], new byte[] { (byte) dropper.id(), (byte) (dropper.id() >>> 8), 0, 0 }, BpfMapBase.BPF_ANY);
        assertEquals(XdpBuffer.XDP_DROP, x.run(main, frame(60, 17), HEADROOM, 60, 1, 0), "the slot's program decides");
        // a program that tail-calls itself counts each entry; the 34th call fails and it returns PASS
        LoadedProgram self = load("""
                stw [%r10-4], 0
                mov %r6, %r1
                ldmap %r1, 1
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                mov %r1, 1
                lock add [%r0+0], %r1
                out:
                mov %r1, %r6
                ldmap %r2, 0
                mov %r3, 1
                call 12
                mov %r0, 2
                exit
                """, List.of(progs, hits), engine, new ArrayList<>());
        progs.update(new byte[] { 1, 0, 0, 0 }, new byte[] { (byte) self.id(), (byte) (self.id() >>> 8), 0, 0 }, BpfMapBase.BPF_ANY);
        XdpBuffer y = new XdpBuffer(self.memory(0));
        assertEquals(XdpBuffer.XDP_PASS, y.run(self, frame(60, 17), HEADROOM, 60, 1, 0));
        assertArrayEquals(new byte[] { 34, 0, 0, 0, 0, 0, 0, 0 }, hits.lookup(new byte[4]), "the first run and 33 tail calls");
        dropper.close();
        assertEquals(XdpBuffer.XDP_PASS, x.run(main, frame(60, 17), HEADROOM, 60, 1, 0), "an unloaded program is not reached");
    }

    @Test
    void aFaultingProgramIsAbortedNotAThrow() throws Exception {
        // a raw-memory program cannot be verified for XDP; run the engine on a frame region it overreads
        LoadedProgram p = load("mov %r0, 2\nexit", List.of(), "jit", new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, 6), HEADROOM, 60, 1, 0));
        Memory m = new Memory();
        assertThrows(BpfFault.class, () -> m.load64(Memory.base(5)));
    }

    @Test
    void mapsBehaveAsBpf2Says() throws Exception {
        BpfMapBase h = BpfMapBase.create("h", Verifier.MAP_HASH, 4, 4, 2, 0, 1);
        byte[] k1 = { 1, 0, 0, 0 };
        byte[] k2 = { 2, 0, 0, 0 };
        byte[] k3 = { 3, 0, 0, 0 };
        byte[] v = { 9, 9, 9, 9 };
        assertEquals(0, h.update(k1, v, BpfMapBase.BPF_NOEXIST));
        assertEquals(-17, h.update(k1, v, BpfMapBase.BPF_NOEXIST), "EEXIST");
        assertEquals(-2, h.update(k2, v, BpfMapBase.BPF_EXIST), "ENOENT");
        assertEquals(0, h.update(k2, v, BpfMapBase.BPF_ANY));
        assertEquals(-7, h.update(k3, v, BpfMapBase.BPF_ANY), "E2BIG when full");
        assertEquals(0, h.delete(k1));
        assertEquals(-2, h.delete(k1));
        assertEquals(0, h.update(k3, v, BpfMapBase.BPF_ANY), "a deleted slot is reused");
        assertNull(h.lookup(k1));

        BpfMapBase lru = BpfMapBase.create("lru", Verifier.MAP_LRU_HASH, 4, 4, 2, 0, 1);
        lru.update(k1, v, 0);
        lru.update(k2, v, 0);
        lru.lookup(k1);
        assertEquals(0, lru.update(k3, v, 0), "full: the least recently used goes");
        assertNull(lru.lookup(k2));
        assertArrayEquals(v, lru.lookup(k1));

        BpfMapBase a = BpfMapBase.create("a", Verifier.MAP_ARRAY, 4, 4, 2, 0, 1);
        assertArrayEquals(new byte[4], a.lookup(k1), "arrays start zeroed");
        assertEquals(-7, a.update(new byte[] { 5, 0, 0, 0 }, v, 0), "index past the end");
        assertEquals(-22, a.delete(k1), "array elements cannot be deleted");

        BpfMapBase lpm = BpfMapBase.create("routes", Verifier.MAP_LPM_TRIE, 8, 4, 8, BpfMapBase.BPF_F_NO_PREALLOC, 1);
        lpm.update(new byte[] { 8, 0, 0, 0, 10, 0, 0, 0 }, new byte[] { 8, 0, 0, 0 }, 0);
        lpm.update(new byte[] { 24, 0, 0, 0, 10, 1, 2, 0 }, new byte[] { 24, 0, 0, 0 }, 0);
        assertArrayEquals(new byte[] { 24, 0, 0, 0 }, lpm.lookup(new byte[] { 32, 0, 0, 0, 10, 1, 2, 3 }));
        assertArrayEquals(new byte[] { 8, 0, 0, 0 }, lpm.lookup(new byte[] { 32, 0, 0, 0, 10, 9, 9, 9 }));
        assertNull(lpm.lookup(new byte[] { 32, 0, 0, 0, 11, 0, 0, 0 }));

        BpfMapBase percpu = BpfMapBase.create("pc", Verifier.MAP_PERCPU_ARRAY, 4, 8, 1, 0, 2);
        assertEquals(2, percpu.cpus());
        assertThrows(BpfException.class, () -> BpfMapBase.create("bad", Verifier.MAP_ARRAY, 8, 4, 1, 0, 1));
        assertThrows(BpfException.class, () -> BpfMapBase.create("bad", 99, 4, 4, 1, 0, 1));
        assertThrows(BpfException.class, () -> BpfMapBase.create("bad", Verifier.MAP_HASH, 4, 4, 0, 0, 1));
        assertTrue(BpfMapBase.create("ok", Verifier.MAP_LRU_HASH, 16, 8, 1024, 0, 1).keys().isEmpty());
    }

    /**
     * The JIT calls a map's lookup directly where r1's map is known; where two paths bring different
     * maps to one call it must not: the map chosen by the frame's protocol is the one read.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void theMapALookupUsesIsTheOneOnTheWayThatReachedIt(String engine) throws Exception {
        BpfMapBase first = BpfMapBase.create("first", Verifier.MAP_HASH, 4, 8, 4, 0, 1);
        BpfMapBase second = BpfMapBase.create("second", Verifier.MAP_HASH, 4, 8, 4, 0, 1);
        first.update(new byte[4], new byte[] { 2, 0, 0, 0, 0, 0, 0, 0 }, BpfMapBase.BPF_ANY);
        second.update(new byte[4], new byte[] { 3, 0, 0, 0, 0, 0, 0, 0 }, BpfMapBase.BPF_ANY);
        LoadedProgram p = load("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 34
                jgt %r4, %r3, out
                ldxb %r6, [%r2+23]
                stw [%r10-4], 0
                ldmap %r1, 0
                jne %r6, 17, lookup
                ldmap %r1, 1
                lookup:
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                ldxdw %r0, [%r0+0]
                exit
                out:
                mov %r0, 0
                exit
                """, List.of(first, second), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, 6), HEADROOM, 60, 1, 0), "TCP: the first map");
        assertEquals(XdpBuffer.XDP_TX, x.run(p, frame(60, 17), HEADROOM, 60, 1, 0), "UDP: the second");
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, 6), HEADROOM, 60, 1, 0));
    }

    /**
     * One map, two programs that know it as different map numbers (each program's memory numbers its
     * maps itself): each one's lookup gives an address it can use, and both count into the same value.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aMapSharedByTwoProgramsAtDifferentPlacesWorksForBoth(String engine) throws Exception {
        BpfMapBase shared = BpfMapBase.create("shared", Verifier.MAP_ARRAY, 4, 8, 1, 0, 1);
        BpfMapBase other = BpfMapBase.create("other", Verifier.MAP_ARRAY, 4, 8, 1, 0, 1);
        String count = """
                stw [%r10-4], 0
                ldmap %r1, N
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                mov %r1, 1
                lock add [%r0+0], %r1
                out:
                mov %r0, 2
                exit
                """;
        LoadedProgram first = load(count.replace("N", "0"), List.of(shared, other), engine, new ArrayList<>());
        LoadedProgram second = load(count.replace("N", "1"), List.of(other, shared), engine, new ArrayList<>());
        XdpBuffer a = new XdpBuffer(first.memory(0));
        XdpBuffer b = new XdpBuffer(second.memory(0)); // attached last: "shared" is region 5 here, 4 in the first
        for (int i = 0; i < 3; i++) {
            assertEquals(XdpBuffer.XDP_PASS, a.run(first, frame(60, 17), HEADROOM, 60, 1, 0));
            assertEquals(XdpBuffer.XDP_PASS, b.run(second, frame(60, 17), HEADROOM, 60, 1, 0));
        }
        assertEquals(6L, java.nio.ByteBuffer.wrap(shared.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
        assertEquals(0L, java.nio.ByteBuffer.wrap(other.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
    }

    /**
     * Hash keys of up to 16 bytes, which the JIT looks up as words read off the stack: the bytes after
     * a key (here 0xff) are not part of it, its last byte is, a key near the top of the stack or in a
     * map value takes the general way, and LRU recency still moves. Found values are summed.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void smallHashKeysAreFoundWhereverTheyLie(String engine) throws Exception {
        BpfMapBase m13 = BpfMapBase.create("m13", Verifier.MAP_HASH, 13, 8, 8, 0, 1);
        BpfMapBase m12 = BpfMapBase.create("m12", Verifier.MAP_HASH, 12, 8, 8, 0, 1);
        BpfMapBase m4 = BpfMapBase.create("m4", Verifier.MAP_LRU_HASH, 4, 8, 2, 0, 1);
        BpfMapBase keys = BpfMapBase.create("keys", Verifier.MAP_ARRAY, 4, 16, 1, 0, 1);
        byte[] k1 = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
        byte[] k3 = { 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43 };
        m13.update(k1, le(1), 0);
        m13.update(k3, le(8), 0);
        m12.update(new byte[] { 21, 0, 0, 0, 22, 0, 0, 0, 23, 0, 0, 0 }, le(2), 0);
        m4.update(new byte[] { 4, 0, 0, 0 }, le(4), 0);
        m4.update(new byte[] { 5, 0, 0, 0 }, le(0), 0);
        keys.update(new byte[4], java.util.Arrays.copyOf(k3, 16), 0);
        String lookup = """
                mov %r2, %r10
                add %r2, OFF
                ldmap %r1, MAP
                call 1
                jeq %r0, 0, LABEL
                ldxdw %r3, [%r0+0]
                add %r6, %r3
                LABEL:
                """;
        String program = "mov %r6, 0\n"
                // k1 at r10-32, 0xff after it
                + "lddw %r1, 0x0807060504030201\nstxdw [%r10-32], %r1\n"
                + "stw [%r10-24], 0x0c0b0a09\nstb [%r10-20], 13\n"
                + "stb [%r10-19], 0xff\nsth [%r10-18], 0xffff\nstw [%r10-16], -1\nstdw [%r10-8], -1\n"
                + lookup.replace("OFF", "-32").replace("MAP", "0").replace("LABEL", "a")
                // the same key but its last byte: not there
                + "stb [%r10-20], 14\n"
                + lookup.replace("OFF", "-32").replace("MAP", "0").replace("LABEL", "b").replace("add %r6, %r3", "add %r6, 16")
                // a 12-byte key in the stack's last 12 bytes
                + "stw [%r10-12], 21\nstw [%r10-8], 22\nstw [%r10-4], 23\n"
                + lookup.replace("OFF", "-12").replace("MAP", "1").replace("LABEL", "c")
                // a 4-byte key, 0xff after it
                + "stw [%r10-40], 4\nstw [%r10-36], -1\n"
                + lookup.replace("OFF", "-40").replace("MAP", "2").replace("LABEL", "d")
                // k3 read from an array map's value
                + "stw [%r10-44], 0\n"
                + lookup.replace("OFF", "-44").replace("MAP", "3").replace("LABEL", "e").replace("""
                        ldxdw %r3, [%r0+0]
                        add %r6, %r3
                        """, """
                        mov %r2, %r0
                        ldmap %r1, 0
                        call 1
                        jeq %r0, 0, e
                        ldxdw %r3, [%r0+0]
                        add %r6, %r3
                        """)
                // the sum into out[0]
                + "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nldmap %r1, 4\ncall 1\njeq %r0, 0, f\n"
                + "stxdw [%r0+0], %r6\nf:\nmov %r0, 2\nexit\n";
        BpfMapBase out = BpfMapBase.create("out", Verifier.MAP_ARRAY, 4, 8, 1, 0, 1);
        List<BpfMapBase> maps = List.of(m13, m12, m4, keys, out);
        LoadedProgram p = load(program, maps, engine, new ArrayList<>());
        assertEquals(XdpBuffer.XDP_PASS, new XdpBuffer(p.memory(0)).run(p, frame(60, 17), HEADROOM, 60, 1, 0));
        assertArrayEquals(le(1 + 2 + 4 + 8), out.lookup(new byte[4]));
        m4.update(new byte[] { 6, 0, 0, 0 }, le(0), 0);
        assertArrayEquals(le(4), m4.lookup(new byte[] { 4, 0, 0, 0 }), "the program's lookup made 4 the most recent: 5 went");
        assertNull(m4.lookup(new byte[] { 5, 0, 0, 0 }));
    }

    static byte[] le(long v) {
        return java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    /**
     * One load reading the packet on one path and a map value on another: the JIT reads proven packet
     * loads from the packet's segment directly, so this one must take the general way and read
     * whichever its pointer holds (the kernel allows the mix; only the context may not be mixed).
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aLoadOfThePacketOrAMapValueReadsWhicheverItsPointerHolds(String engine) throws Exception {
        BpfMapBase values = BpfMapBase.create("values", Verifier.MAP_ARRAY, 4, 8, 1, 0, 1);
        values.update(new byte[4], le(0x77), 0);
        LoadedProgram p = load("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 34
                jgt %r4, %r3, pass
                mov %r6, %r2
                add %r6, 23
                ldxb %r7, [%r6+0]
                jne %r7, 1, read
                stw [%r10-4], 0
                ldmap %r1, 0
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, pass
                mov %r6, %r0
                read:
                ldxb %r0, [%r6+0]
                jeq %r0, 0x77, tx
                jeq %r0, 17, drop
                pass:
                mov %r0, 2
                exit
                tx:
                mov %r0, 3
                exit
                drop:
                mov %r0, 1
                exit
                """, List.of(values), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_DROP, x.run(p, frame(60, 17), HEADROOM, 60, 1, 0), "UDP: the packet's protocol byte, 17");
        assertEquals(XdpBuffer.XDP_TX, x.run(p, frame(60, 1), HEADROOM, 60, 1, 0), "ICMP: the map value's 0x77");
    }

    /**
     * Stores, loads and atomic adds of every size on a map's value, which the JIT reaches through the
     * map's segment directly: the value holds what the interpreter would leave, and the fetch variants
     * give back the old value.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void mapValueAccessesOfEverySizeAndFetchingAdds(String engine) throws Exception {
        BpfMapBase v = BpfMapBase.create("v", Verifier.MAP_ARRAY, 4, 24, 1, 0, 1);
        LoadedProgram p = load("""
                stw [%r10-4], 0
                ldmap %r1, 0
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                stb [%r0+0], 0x11
                sth [%r0+2], 0x2233
                stw [%r0+4], 0x44556677
                mov %r1, 5
                lock add32 [%r0+4], %r1
                mov %r8, 1
                lock fetch add32 [%r0+4], %r8
                mov %r1, 7
                lock fetch add [%r0+8], %r1
                ldxb %r3, [%r0+0]
                ldxh %r4, [%r0+2]
                ldxw %r5, [%r0+4]
                ldxdw %r6, [%r0+8]
                add %r3, %r4
                add %r3, %r5
                add %r3, %r6
                add %r3, %r1
                add %r3, %r8
                stxdw [%r0+16], %r3
                out:
                mov %r0, 2
                exit
                """, List.of(v), engine, new ArrayList<>());
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, 17), HEADROOM, 60, 1, 0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, frame(60, 17), HEADROOM, 60, 1, 0));
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(v.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x11, b.get(0));
        assertEquals(0x2233, b.getShort(2));
        assertEquals(0x44556677 + 5 + 1, b.getInt(4));
        assertEquals(14, b.getLong(8), "7 added twice");
        long old64 = 7; // the second run's fetch
        long old32 = 0x44556677 + 5;
        assertEquals(0x11 + 0x2233 + (0x44556677 + 5 + 1) + 14 + old64 + old32, b.getLong(16));
    }

    static final String CALLS_FIB_LOOKUP = """
            stdw [%r10-8], 0
            mov %r2, %r10
            add %r2, -8
            mov %r3, 8
            mov %r4, 0
            call 69
            mov %r0, 2
            exit
            """;

    /**
     * A helper the XDP prototypes know but the load has no implementation of (bpf_fib_lookup with no
     * FIB given) is refused at load as the kernel refuses a NULL func_proto, not left to abort every run.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aHelperWithNoImplementationIsRefusedAtLoad(String engine) throws BpfException {
        BpfException e = assertThrows(BpfException.class, () -> load(CALLS_FIB_LOOKUP, List.of(), engine, new ArrayList<>()));
        assertTrue(e.getMessage().contains("unknown func bpf_fib_lookup#69"), e.getMessage());

        org.modnet.ebpf.api.Helpers withFib = XdpBuffer.helpers(List.of());
        withFib.register(HelperProtos.FIB_LOOKUP, "bpf_fib_lookup", (r1, r2, r3, r4, r5, m) -> 0);
        LoadedProgram p = LoadedProgram.load("t", Assembler.assemble(CALLS_FIB_LOOKUP), ProgType.XDP, List.of(), HelperProtos.XDP, withFib,
                engine, false, null);
        assertEquals(XdpBuffer.XDP_PASS, new XdpBuffer(p.memory(0)).run(p, frame(60, 17), HEADROOM, 60, 3, 0),
                "with an implementation the same program loads and runs");
    }
}

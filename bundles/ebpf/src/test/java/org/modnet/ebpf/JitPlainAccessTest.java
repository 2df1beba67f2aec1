package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.ebpf.impl.LoadedProgram;
import org.modnet.ebpf.impl.XdpBuffer;

/**
 * The JIT's proven accesses are plain loads and stores (no bounds check left): they must read and
 * write exactly what the interpreter's checked ones do — packet bytes up to data_end in native and
 * heap buffers, the stack, a map value with an atomic add — and a frame that claims more bytes than
 * its buffer holds is never run.
 */
class JitPlainAccessTest {
    private static final BpfSyscall BPF = new BpfSyscallImpl();

    /** Sums the frame's last 4 bytes (after a data_end check), spills and fills the sum, counts runs in a map value. */
    private static final String PROGRAM = """
            ldxw %r2, [%r1+0]
            ldxw %r3, [%r1+4]
            mov %r4, %r2
            add %r4, 64
            jgt %r4, %r3, pass
            ldxb %r5, [%r2+60]
            ldxb %r6, [%r2+63]
            add %r5, %r6
            ldxh %r6, [%r2+61]
            add %r5, %r6
            stxdw [%r10-8], %r5
            stb [%r2+0], 0x5a
            ldmap %r1, 0
            mov %r2, %r10
            add %r2, -16
            stw [%r10-16], 0
            call 1
            jeq %r0, 0, pass
            mov %r1, 1
            lock add [%r0+0], %r1
            ldxdw %r5, [%r10-8]
            stxdw [%r0+8], %r5
            mov %r0, 3
            exit
            pass:
            mov %r0, 2
            exit
            """;

    private static MemorySegment frame(boolean heap) {
        MemorySegment f = heap ? MemorySegment.ofArray(new byte[256 + 64]) : Arena.ofAuto().allocate(256 + 64, 64);
        for (int i = 0; i < 64; i++) {
            f.set(ValueLayout.JAVA_BYTE, 256 + i, (byte) (i * 3 + 1));
        }
        return f;
    }

    private static long[] run(String engine, boolean heap) throws Exception {
        BpfMap counts = BPF.mapCreate("counts", BpfMap.MAP_ARRAY, 4, 16, 1, 0, 1);
        BpfProg prog = BPF.progLoad("plain", BPF.assemble(PROGRAM), ProgType.XDP, AttachType.DEFAULT, List.of(counts), null, null, engine,
                false);
        XdpContext x = prog.xdpContext(0);
        MemorySegment f = frame(heap);
        int action = x.run(f, 256, 64, 1, 0);
        x.run(f, 256, 64, 1, 0);
        byte[] v = counts.lookup(new byte[4]);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return new long[] { action, b.getLong(0), b.getLong(8), f.get(ValueLayout.JAVA_BYTE, 256) };
    }

    @ParameterizedTest
    @ValueSource(booleans = { false, true })
    void provenAccessesReadAndWriteWhatTheInterpretersCheckedOnesDo(boolean heap) throws Exception {
        long[] jit = run("jit", heap);
        long[] interpreter = run("interpreter", heap);
        long expected = (60 * 3 + 1 & 0xff) + (63 * 3 + 1 & 0xff) + ((61 * 3 + 1 & 0xff) | (62 * 3 + 1 & 0xff) << 8);
        assertEquals(3, jit[0], "XDP_TX: the whole frame was there");
        assertEquals(2, jit[1], "the atomic count of two runs");
        assertEquals(expected, jit[2], "the packet's bytes through the stack into the map value");
        assertEquals(0x5a, jit[3], "the packet store");
        org.junit.jupiter.api.Assertions.assertArrayEquals(interpreter, jit);
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aFrameLongerThanItsBufferIsNeverRun(String engine) throws Exception {
        BpfMap counts = BPF.mapCreate("counts", BpfMap.MAP_ARRAY, 4, 16, 1, 0, 1);
        BpfProg prog = BPF.progLoad("plain", BPF.assemble(PROGRAM), ProgType.XDP, AttachType.DEFAULT, List.of(counts), null, null, engine,
                false);
        XdpContext x = prog.xdpContext(0);
        MemorySegment small = Arena.ofAuto().allocate(256 + 32, 64);
        assertEquals(XdpContext.XDP_ABORTED, x.run(small, 256, 64, 1, 0), "data_end past the buffer: XDP_ABORTED");
        assertEquals(XdpContext.XDP_ABORTED, x.run(small, -4, 16, 1, 0));
        assertEquals(0, java.nio.ByteBuffer.wrap(counts.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0),
                "the program never ran");
    }

    /** The map value after {@code runs} runs on {@code f}: the count and the last sum, as {@link #run}. */
    private static long[] counted(BpfMap counts) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(counts.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return new long[] { b.getLong(0), b.getLong(8) };
    }

    /**
     * BPF_PROG_TEST_RUN's shape: the JIT's direct entry (the context's array, the packet's displacement and
     * the stack kept for the whole test run, a native frame) and its fallback (a heap frame) do every run as
     * the interpreter does: 1000 atomic counts, the packet's bytes through the stack into the map value.
     */
    @ParameterizedTest
    @ValueSource(booleans = { false, true })
    void aTestRunCountsEveryRunAsTheInterpreter(boolean heap) throws Exception {
        long[][] got = new long[2][];
        for (String engine : new String[] { "jit", "interpreter" }) {
            BpfMap counts = BPF.mapCreate("counts", BpfMap.MAP_ARRAY, 4, 16, 1, 0, 1);
            BpfProg prog = BPF.progLoad("plain", BPF.assemble(PROGRAM), ProgType.XDP, AttachType.DEFAULT, List.of(counts), null, null,
                    engine, false);
            XdpContext x = prog.xdpContext(0);
            assertEquals(XdpContext.XDP_TX, x.testRun(frame(heap), 256, 64, 1, 0, 1000));
            got[engine.equals("jit") ? 0 : 1] = counted(counts);
        }
        long expected = (60 * 3 + 1 & 0xff) + (63 * 3 + 1 & 0xff) + ((61 * 3 + 1 & 0xff) | (62 * 3 + 1 & 0xff) << 8);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] { 1000, expected }, got[0]);
        org.junit.jupiter.api.Assertions.assertArrayEquals(got[1], got[0]);
    }

    /**
     * Per-frame runs on frames in different buffers, native and heap, one after another: each run reads
     * the buffer it was given (the direct entry's packet displacement is the memory's of that run, not
     * one kept from an earlier buffer), and a frame too long for its buffer is still never run.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void eachRunReadsTheBufferItIsGiven(String engine) throws Exception {
        BpfMap counts = BPF.mapCreate("counts", BpfMap.MAP_ARRAY, 4, 16, 1, 0, 1);
        BpfProg prog = BPF.progLoad("plain", BPF.assemble(PROGRAM), ProgType.XDP, AttachType.DEFAULT, List.of(counts), null, null,
                engine, false);
        XdpContext x = prog.xdpContext(0);
        MemorySegment a = frame(false);
        MemorySegment b = Arena.ofAuto().allocate(512 + 64, 64);
        MemorySegment h = frame(true);
        for (int i = 0; i < 64; i++) {
            b.set(ValueLayout.JAVA_BYTE, 300 + i, (byte) (i * 5 + 2));
            h.set(ValueLayout.JAVA_BYTE, 256 + i, (byte) (i * 11 + 3));
        }
        long sumA = (60 * 3 + 1 & 0xff) + (63 * 3 + 1 & 0xff) + ((61 * 3 + 1 & 0xff) | (62 * 3 + 1 & 0xff) << 8);
        long sumB = (60 * 5 + 2 & 0xff) + (63 * 5 + 2 & 0xff) + ((61 * 5 + 2 & 0xff) | (62 * 5 + 2 & 0xff) << 8);
        long sumH = (60 * 11 + 3 & 0xff) + (63 * 11 + 3 & 0xff) + ((61 * 11 + 3 & 0xff) | (62 * 11 + 3 & 0xff) << 8);
        for (int round = 0; round < 200; round++) { // past C2's compilation of the run, where the JIT's entry is inlined
            assertEquals(XdpContext.XDP_TX, x.run(a, 256, 64, 1, 0));
            assertEquals(sumA, counted(counts)[1], "frame a, round " + round);
            assertEquals(XdpContext.XDP_TX, x.run(b, 300, 64, 1, 0));
            assertEquals(sumB, counted(counts)[1], "frame b at another offset, round " + round);
            assertEquals(XdpContext.XDP_TX, x.run(h, 256, 64, 1, 0));
            assertEquals(sumH, counted(counts)[1], "a heap frame, round " + round);
            assertEquals(XdpContext.XDP_ABORTED, x.run(a, 300, 64, 1, 0), "data_end past the buffer");
            assertEquals(XdpContext.XDP_PASS, x.run(b, 300, 40, 1, 0), "data_end before the bytes the program reads");
        }
        assertEquals(3 * 200, counted(counts)[0], "three runs a round reached the count");
    }

    /** r0 = data_end - data - {@code less}: an action from the frame's length, read through the context. */
    private static LoadedProgram lengthLess(int less, String engine) throws Exception {
        var insns = BPF.assemble("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r0, %r3
                sub %r0, %r2
                sub %r0, LESS
                exit
                """.replace("LESS", Integer.toString(less)));
        return LoadedProgram.load("len" + less, insns, ProgType.XDP, List.of(), HelperProtos.XDP,
                XdpBuffer.helpers(List.of()), engine, false, null);
    }

    /**
     * One buffer running two programs in turn (what the per-frame run binds with the buffer is the program's
     * of that run, not the last one's), on native and heap frames, and the action's range as the kernel's: 0
     * to XDP_REDIRECT kept, above it or negative XDP_ABORTED; the interpreter and the JIT alike.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void eachRunRunsTheProgramItNamesAndAnUnknownActionAborts(String engine) throws Exception {
        LoadedProgram a = lengthLess(60, engine);
        LoadedProgram b = lengthLess(59, engine);
        XdpBuffer x = new XdpBuffer(a.memory(0));
        MemorySegment n = frame(false);
        MemorySegment h = frame(true);
        for (int round = 0; round < 200; round++) { // past C2's compilation of the run
            for (MemorySegment f : new MemorySegment[] { n, h }) {
                assertEquals(XdpContext.XDP_PASS, x.run(a, f, 256, 62, 1, 0), "a, 62 bytes, round " + round);
                assertEquals(XdpContext.XDP_TX, x.run(b, f, 256, 62, 1, 0), "b, 62 bytes, round " + round);
                assertEquals(XdpContext.XDP_TX, x.run(a, f, 256, 63, 1, 0));
                assertEquals(XdpContext.XDP_REDIRECT, x.run(b, f, 256, 63, 1, 0), "4: the last action there is");
                assertEquals(XdpContext.XDP_REDIRECT, x.run(a, f, 256, 64, 1, 0));
                assertEquals(XdpContext.XDP_ABORTED, x.run(b, f, 256, 64, 1, 0), "5: no action, XDP_ABORTED");
                assertEquals(XdpContext.XDP_ABORTED, x.run(a, f, 256, 59, 1, 0), "-1: no action, XDP_ABORTED");
                assertEquals(XdpContext.XDP_ABORTED, x.run(b, f, 256, 59, 1, 0));
                assertEquals(XdpContext.XDP_DROP, x.run(a, f, 256, 61, 1, 0));
            }
        }
    }

    /**
     * A program that reads the context's data_meta, ingress_ifindex and rx_queue_index run in turn with one that
     * reads only data and data_end (whose runs set only those two words) on one buffer, the first through the
     * buffer's own per-frame run: each run sees its own frame's words, and the own run runs its own program again
     * after the other's; for 200 rounds (past C2's compilation), the interpreter and the JIT alike.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aProgramReadingTheWholeContextAfterOneThatDoesNotSeesItsOwnFrame(String engine) throws Exception {
        LoadedProgram a = lengthLess(60, engine);
        LoadedProgram q = LoadedProgram.load("queue", BPF.assemble("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                ldxw %r4, [%r1+8]
                ldxw %r5, [%r1+12]
                ldxw %r6, [%r1+16]
                mov %r9, 0
                mov %r8, %r4
                add %r8, 1
                jgt %r8, %r2, nometa
                mov %r9, 1
                nometa:
                mov %r7, %r2
                add %r7, 8
                jgt %r7, %r3, pass
                lsh %r9, 32
                lsh %r6, 16
                add %r9, %r6
                add %r9, %r5
                stxdw [%r2+0], %r9
                pass:
                mov %r0, 2
                exit
                """), ProgType.XDP, List.of(), HelperProtos.XDP, XdpBuffer.helpers(List.of()), engine, false, null);
        XdpBuffer x = (XdpBuffer) a.xdpContext(0);
        MemorySegment f = frame(false);
        for (int round = 0; round < 200; round++) {
            int ifindex = round + 1;
            int queue = round % 7;
            assertEquals(XdpContext.XDP_PASS, x.run(f, 256, 62, 1000 + round, 9), "a through its own run, round " + round);
            assertEquals(XdpContext.XDP_PASS, x.run(q, f, 250 - round % 5, 64, ifindex, queue));
            assertEquals((long) queue << 16 | ifindex, f.get(ValueLayout.JAVA_LONG_UNALIGNED, 250 - round % 5),
                    "q's frame: its ingress_ifindex and queue, data_meta at data (no metadata), round " + round);
            assertEquals(XdpContext.XDP_DROP, x.run(f, 256, 61, 1, 0), "a again, not q, round " + round);
        }
    }

    /**
     * A bpf-to-bpf call from the direct entry: the callee (its own method, which reads the packet's
     * displacement and the context from the memory) and the entry see the same frame.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aSubprogramCalledFromTheEntryReadsTheSameFrame(String engine) throws Exception {
        BpfProg prog = BPF.progLoad("sub", BPF.assemble("""
                mov %r6, %r1
                ldxw %r2, [%r6+0]
                ldxw %r3, [%r6+4]
                mov %r4, %r2
                add %r4, 64
                jgt %r4, %r3, pass
                ldxb %r7, [%r2+10]
                mov %r1, %r6
                call local second
                add %r0, %r7
                stxdw [%r10-8], %r0
                ldxdw %r0, [%r10-8]
                and %r0, 3
                exit
                pass:
                mov %r0, 2
                exit
                second:
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 64
                jgt %r4, %r3, none
                ldxb %r0, [%r2+20]
                exit
                none:
                mov %r0, 0
                exit
                """), ProgType.XDP, AttachType.DEFAULT, List.of(), null, null, engine, false);
        XdpContext x = prog.xdpContext(0);
        MemorySegment f = frame(false);
        int expected = (int) (((10 * 3 + 1) + (20 * 3 + 1)) & 3);
        for (int round = 0; round < 200; round++) {
            assertEquals(expected, x.run(f, 256, 64, 1, 0));
        }
        assertEquals(expected, x.testRun(f, 256, 64, 1, 0, 1000));
    }

    /** RFC 1071 over 1 KiB of the frame, unrolled: 256 loads and adds in one straight run (the JIT's sequence points in it). */
    private static String checksum() {
        StringBuilder b = new StringBuilder(CHECKED + "mov %r0, 0\n");
        for (int off = 0; off < 1024; off += 4) {
            b.append("ldxw %r5, [%r2+").append(off).append("]\nadd %r0, %r5\n");
        }
        b.append("mov %r5, %r0\nrsh %r5, 32\nmov32 %r0, %r0\nadd %r0, %r5\n".repeat(2));
        b.append("mov %r5, %r0\nrsh %r5, 16\nand %r0, 0xffff\nadd %r0, %r5\n".repeat(2));
        return b.append(RESULT).toString();
    }

    /** The 1 KiB bounds check the long programs start with, r2 the frame. */
    private static final String CHECKED = """
            ldxw %r2, [%r1+0]
            ldxw %r3, [%r1+4]
            mov %r4, %r2
            add %r4, 1024
            jgt %r4, %r3, pass
            """;

    /** Their end: the whole of r0 into the frame's first 8 bytes, XDP_PASS. */
    private static final String RESULT = "stxdw [%r2+0], %r0\npass:\nmov %r0, 2\nexit\n";

    /** A chain of 400 dependent operations on r0 and r6 (longer than a C2 expression tree may be). */
    private static String chain() {
        StringBuilder b = new StringBuilder(CHECKED + "ldxw %r6, [%r2+4]\nmov %r0, 7\n");
        for (int k = 0; k < 100; k++) {
            b.append("mul %r0, 31\nadd %r0, %r6\nxor %r6, %r0\nrsh %r6, 3\n");
        }
        return b.append("add %r0, %r6\n").append(RESULT).toString();
    }

    private static long runOnce(String source, String engine) throws Exception {
        BpfProg prog = BPF.progLoad("long", BPF.assemble(source), ProgType.XDP, AttachType.DEFAULT, List.of(), null, null, engine, false);
        MemorySegment f = Arena.ofAuto().allocate(256 + 1024, 64);
        for (int i = 0; i < 1024; i++) {
            f.set(ValueLayout.JAVA_BYTE, 256 + i, (byte) (i * 7 + 1));
        }
        assertEquals(XdpContext.XDP_PASS, prog.xdpContext(0).run(f, 256, 1024, 1, 0));
        return f.get(ValueLayout.JAVA_LONG_UNALIGNED, 256);
    }

    @ParameterizedTest
    @ValueSource(strings = { "checksum", "chain" })
    void longStraightRunsGiveTheInterpretersResult(String which) throws Exception {
        String source = which.equals("checksum") ? checksum() : chain();
        long interpreter = runOnce(source, "interpreter");
        long jit = runOnce(source, "jit");
        if (which.equals("checksum")) {
            long sum = 0;
            for (int i = 0; i < 1024; i += 4) {
                for (int k = 0; k < 4; k++) {
                    sum += (long) ((i + k) * 7 + 1 & 0xff) << 8 * k;
                }
            }
            for (int r = 0; r < 2; r++) {
                sum = (sum & 0xffffffffL) + (sum >>> 32);
            }
            for (int r = 0; r < 2; r++) {
                sum = (sum & 0xffff) + (sum >>> 16);
            }
            assertEquals(sum, interpreter, "RFC 1071 over the 1 KiB");
        }
        assertEquals(interpreter, jit);
    }
}

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
import org.modnet.ebpf.impl.BpfSyscallImpl;

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

package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/**
 * The JIT sums runs of "load t; acc += t" (a checksum's words) as a tree before adding them to acc: the
 * result, and what t holds after the run, must be the interpreter's for every length of run, with runs
 * broken by a jump target, by a load through acc, and across a store of t between.
 */
class JitSumTest {
    private static final BpfSyscall BPF = new BpfSyscallImpl();

    /** The frame's first {@code words} 32-bit words into r0 (from 0xffff_ffff_0000_0000, so the carry out shows); r0 and r5 written over words 60-63. */
    private static String program(int words, String between) {
        StringBuilder b = new StringBuilder("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 256
                jgt %r4, %r3, pass
                lddw %r0, 0xffffffff00000000
                """);
        for (int w = 0; w < words; w++) {
            if (w == Math.max(1, words / 2)) {
                b.append(between);
            }
            b.append("ldxw %r5, [%r2+").append(4 * w).append("]\nadd %r0, %r5\n");
        }
        b.append("stxdw [%r2+240], %r0\nstxdw [%r2+248], %r5\nmov %r0, 1\nexit\npass:\nmov %r0, 2\nexit\n");
        return b.toString();
    }

    /** r0 and r5 as the program left them, and its action. */
    private static List<Long> run(String engine, String asm) throws Exception {
        BpfProg prog = BPF.progLoad("sum", BPF.assemble(asm), ProgType.XDP, AttachType.DEFAULT, List.of(), null, null, engine, false);
        XdpContext x = prog.xdpContext(0);
        MemorySegment f = Arena.ofAuto().allocate(256 + 256, 64);
        for (int i = 0; i < 256; i++) {
            f.set(ValueLayout.JAVA_BYTE, 256 + i, (byte) (i * 37 + 11));
        }
        int action = x.run(f, 256, 256, 1, 0);
        ValueLayout.OfLong le = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        return List.of((long) action, f.get(le, 256 + 240), f.get(le, 256 + 248));
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 2, 3, 4, 5, 7, 8, 9, 63, 64 })
    void groupedSumsAreTheInterpretersSums(int words) throws Exception {
        for (String between : new String[] { "", "stxw [%r10-4], %r5\n", "ja next" + words + "\nnext" + words + ":\n",
                "mov %r6, %r2\nldxw %r5, [%r6+0]\nadd %r0, %r5\n" }) {
            String asm = program(words, between);
            List<Long> expected = run("interpreter", asm);
            assertEquals(1L, expected.get(0));
            assertEquals(expected, run("jit", asm), words + " words, between: " + between);
        }
    }
}

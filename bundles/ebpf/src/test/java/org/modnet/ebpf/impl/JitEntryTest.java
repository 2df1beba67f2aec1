package org.modnet.ebpf.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.classfile.ClassFile;
import java.lang.classfile.Attributes;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;

/**
 * What the JIT's direct entry ({@code entry0}, which XDP's per-frame run calls) is made of: where the verifier
 * found that no call moves the packet, ctx->data and ctx->data_end are its arguments, not loads of the context
 * the run has just written; where a helper may move them, they are loaded from the context; and no method of the
 * largest program of the tests grows past HotSpot's {@code HugeMethodLimit}, past which C2 would never compile it.
 */
class JitEntryTest {

    /** Ethernet, IPv4, the 5-tuple to the stack: the benchmark's parse (XdpProgramBenchmark.PARSE). */
    private static final String PARSE = """
            ldxw %r2, [%r1+0]
            ldxw %r3, [%r1+4]
            mov %r4, %r2
            add %r4, 42
            jgt %r4, %r3, pass
            ldxh %r5, [%r2+12]
            jne %r5, 0x8, pass
            ldxw %r5, [%r2+26]
            stxw [%r10-16], %r5
            ldxb %r5, [%r2+23]
            stxw [%r10-4], %r5
            mov %r0, 1
            exit
            pass:
            mov %r0, 2
            exit
            """;

    /** bpf_xdp_adjust_head(ctx, -4), then the moved frame's first byte: data must be loaded after the call. */
    private static final String ADJUST = """
            mov %r6, %r1
            mov %r2, -4
            call 44
            ldxw %r2, [%r6+0]
            ldxw %r3, [%r6+4]
            mov %r4, %r2
            add %r4, 1
            jgt %r4, %r3, pass
            ldxb %r0, [%r2+0]
            exit
            pass:
            mov %r0, 2
            exit
            """;

    private static Verifier.Checked check(String asm) throws BpfException {
        return Verifier.check(Program.of("t", Assembler.assemble(asm)), ProgType.XDP, AttachType.DEFAULT, List.of(), HelperProtos.XDP,
                false);
    }

    /** The JIT's class for a verified XDP program, built as {@link LoadedProgram} builds it. */
    private static byte[] build(Verifier.Checked c) throws BpfException {
        return Jit.build(c.result().program(), XdpBuffer.helpers(List.of()), List.of(), c.bases(), !c.movesPacket());
    }

    /** How many 64-bit plain loads (Unsafe.getLong: the context's pointer words) method {@code name} makes. */
    private static long longLoads(byte[] bytes, String name) {
        for (MethodModel m : ClassFile.of().parse(bytes).methods()) {
            if (m.methodName().equalsString(name)) {
                return m.findAttribute(Attributes.code()).orElseThrow().elementStream()
                        .filter(e -> e instanceof InvokeInstruction i && i.name().equalsString("getLong")).count();
            }
        }
        throw new AssertionError("no method " + name);
    }

    @Test
    void theEntryTakesDataAndDataEndFromItsCallerWhereNothingMovesThePacket() throws Exception {
        Verifier.Checked c = check(PARSE);
        assertFalse(c.movesPacket());
        byte[] bytes = build(c);
        assertEquals(2, longLoads(bytes, "sub0"), "the subprogram a run through the memory calls loads data and data_end");
        assertEquals(0, longLoads(bytes, "entry0"), "the direct entry has them as arguments");
    }

    @Test
    void aProgramThatMovesThePacketLoadsThemFromTheContext() throws Exception {
        Verifier.Checked c = check(ADJUST);
        assertTrue(c.movesPacket(), "bpf_xdp_adjust_head moves the packet");
        byte[] bytes = build(c);
        assertEquals(2, longLoads(bytes, "entry0"), "after adjust_head, data and data_end are what the helper left in the context");
    }

    @Test
    void aRunSetsTheWholeContextOnlyWhereSomethingMayReadIt() throws Exception {
        assertFalse(whole(PARSE), "data and data_end only");
        assertTrue(whole(ADJUST), "a helper that moves the packet reads data_meta");
        assertTrue(whole("ldxw %r0, [%r1+12]\nexit\n"), "ingress_ifindex");
        assertTrue(whole("ldxw %r0, [%r1+16]\nexit\n"), "rx_queue_index");
        assertTrue(whole("""
                ldxw %r2, [%r1+8]
                ldxw %r3, [%r1+0]
                mov %r0, 2
                exit
                """), "data_meta");
        assertTrue(whole("""
                call 7
                mov %r0, 2
                exit
                """), "a helper call (one that is not a map's lookup, update or delete)");
    }

    private static boolean whole(String asm) throws BpfException {
        Verifier.Checked c = check(asm);
        return LoadedProgram.wholeXdpContext(c.result().program(), c.bases(), c.movesPacket());
    }

    /** The largest program of the tests: RFC 1071 over 1 KiB unrolled (JitPlainAccessTest's and the benchmark's csum). */
    private static String checksum() {
        StringBuilder b = new StringBuilder("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 1024
                jgt %r4, %r3, pass
                mov %r0, 0
                """);
        for (int off = 0; off < 1024; off += 4) {
            b.append("ldxw %r5, [%r2+").append(off).append("]\nadd %r0, %r5\n");
        }
        b.append("mov %r5, %r0\nrsh %r5, 32\nmov32 %r0, %r0\nadd %r0, %r5\n".repeat(2));
        b.append("mov %r5, %r0\nrsh %r5, 16\nand %r0, 0xffff\nadd %r0, %r5\n".repeat(2));
        return b.append("stxdw [%r2+0], %r0\npass:\nmov %r0, 2\nexit\n").toString();
    }

    @Test
    void everyMethodOfTheLargestProgramStaysCompilable() throws Exception {
        Map<String, Integer> sizes = Jit.methodSizes(build(check(checksum())));
        assertTrue(sizes.keySet().containsAll(List.of("entry0", "sub0", "checked0")), sizes.toString());
        sizes.forEach((name, size) -> assertTrue(size <= Jit.HUGE_METHOD_LIMIT,
                name + " is " + size + " bytes of bytecode, past HugeMethodLimit (" + Jit.HUGE_METHOD_LIMIT + "): C2 would not compile it"));
        System.out.println("JitEntryTest: the 1 KiB checksum's methods, bytes of bytecode: " + sizes);
    }
}

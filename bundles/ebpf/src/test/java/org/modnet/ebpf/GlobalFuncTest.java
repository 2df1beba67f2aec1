package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;
import org.modnet.ebpf.impl.Assembler;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.ebpf.impl.Program;
import org.modnet.ebpf.impl.Verifier;

/**
 * Global functions ({@code BTF_FUNC_GLOBAL}) are verified as the kernel verifies them: apart from their
 * callers, once, from their BTF argument types (a number is any number, a context pointer the context),
 * and a call to one gives back any number. A static function is verified with each caller's values.
 */
class GlobalFuncTest {
    private static final BpfSyscall BPF = new BpfSyscallImpl();

    private static BpfObject object() throws Exception {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        return BPF.objOpen(ElfObjectTest.build("global_func.c", "v3"));
    }

    private static BpfProg load(BpfObject o, String name) throws BpfException {
        BpfObject.ProgramDef d = o.programs().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
        return BPF.progLoad(d, ProgType.XDP, AttachType.DEFAULT, List.of(), null, null, BpfSyscall.JIT, false);
    }

    @Test
    void aGlobalFunctionIndexingThePacketByAnUncheckedIntIsRefusedWhateverItsCallerPasses() throws Exception {
        BpfObject o = object();
        BpfObject.ProgramDef d = o.programs().stream().filter(p -> p.name().equals("global_unchecked")).findFirst().orElseThrow();
        assertEquals(3, d.globalFuncs()[2] == 2 ? 3 : -1, "byte_at is global, with two arguments: " + java.util.Arrays.toString(d.globalFuncs()));
        assertEquals(1, d.globalFuncs()[3], "the first is the context");
        assertEquals(0, d.globalFuncs()[4], "the second a number");
        // the caller passes 3, but byte_at is verified for any int i: data + i may lie anywhere (the kernel:
        // "value -2147483648 makes pkt pointer be out of bounds")
        BpfException e = assertThrows(BpfException.class, () -> load(o, "global_unchecked"));
        assertTrue(e.getMessage().contains("pkt"), e.getMessage());
    }

    @Test
    void theSameCodeStaticLoadsAndAGlobalThatChecksItsIndexLoadsAndRuns() throws Exception {
        BpfObject o = object();
        load(o, "static_unchecked");
        XdpContext x = load(o, "global_checked").xdpContext(0);
        MemorySegment frame = Arena.ofAuto().allocate(256 + 64);
        assertEquals(XdpContext.XDP_PASS, x.run(frame, 256, 64, 1, 0));
        frame.set(ValueLayout.JAVA_BYTE, 256 + 14, (byte) 0x45);
        assertEquals(XdpContext.XDP_DROP, x.run(frame, 256, 64, 1, 0), "the global function read byte 14");
    }

    /** Instruction-level, with the global functions as ProgramDef#globalFuncs lists them (start, returns-no-int, count, kinds). */
    private static Verifier.Result verify(String asm, int... globals) throws BpfException {
        return Verifier.verify(Program.of("t", Assembler.assemble(asm)).withGlobalFuncs(globals), ProgType.XDP, List.of(),
                HelperProtos.XDP, false);
    }

    @Test
    void whatAGlobalFunctionReturnsIsAnyNumberToItsCaller() throws Exception {
        String asm = """
                mov %r1, 7
                call local fn
                jeq %r0, 0, zero
                mov %r0, %r9
                exit
                zero:
                mov %r0, 0
                exit
                fn:
                mov %r0, 0
                exit
                """;
        // static: the call returns 0, so the read of r9 (never set) is dead
        verify(asm);
        BpfException e = assertThrows(BpfException.class, () -> verify(asm, 7, 0, 1, 0));
        assertTrue(e.getMessage().contains("R9 !read_ok"), e.getMessage());
    }

    @Test
    void aGlobalFunctionsArgumentsAreCheckedAgainstItsBtfTypes() {
        BpfException notScalar = assertThrows(BpfException.class, () -> verify("""
                mov %r1, %r10
                call local fn
                exit
                fn:
                mov %r0, 0
                exit
                """, 3, 0, 1, 0));
        assertTrue(notScalar.getMessage().contains("R1 is not a scalar"), notScalar.getMessage());
        BpfException notCtx = assertThrows(BpfException.class, () -> verify("""
                mov %r1, 0
                call local fn
                exit
                fn:
                mov %r0, 0
                exit
                """, 3, 0, 1, 1));
        assertTrue(notCtx.getMessage().contains("arg#0 expects pointer to ctx"), notCtx.getMessage());
        BpfException pointer = assertThrows(BpfException.class, () -> verify("""
                call local fn
                exit
                fn:
                mov %r0, %r10
                exit
                """, 2, 0, 0));
        assertTrue(pointer.getMessage().contains("At subprogram exit the register R0 is not a scalar value"), pointer.getMessage());
        BpfException voidReturn = assertThrows(BpfException.class, () -> verify("""
                call local fn
                exit
                fn:
                mov %r0, 0
                exit
                """, 2, 1, 0));
        assertTrue(voidReturn.getMessage().contains("doesn't return scalar"), voidReturn.getMessage());
    }

    @Test
    void aGlobalFunctionThatMovesThePacketInvalidatesItsCallersPacketPointers() {
        // r6 = data, one byte proved; the global function calls bpf_xdp_adjust_head; r6 is no pointer after the call
        BpfException e = assertThrows(BpfException.class, () -> verify("""
                ldxw %r6, [%r1+0]
                ldxw %r7, [%r1+4]
                mov %r2, %r6
                add %r2, 1
                jgt %r2, %r7, out
                call local fn
                ldxb %r0, [%r6+0]
                exit
                out:
                mov %r0, 0
                exit
                fn:
                mov %r2, 0
                call 44
                mov %r0, 0
                exit
                """, 10, 0, 1, 1));
        assertTrue(e.getMessage().contains("R6 invalid mem access 'scalar'"), e.getMessage());
    }
}

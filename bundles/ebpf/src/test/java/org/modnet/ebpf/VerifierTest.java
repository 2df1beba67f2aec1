package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.Assembler;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.MapSpec;
import org.modnet.ebpf.impl.Program;
import org.modnet.ebpf.impl.Verifier;

/**
 * The verifier: programs a kernel would load are accepted (and their context loads rewritten), and a
 * corpus of unsafe programs is refused, each with the instruction and the reason.
 */
class VerifierTest {
    record Map(String name, int type, int keySize, int valueSize, int maxEntries, int flags) implements MapSpec {
        Map(String name, int type, int keySize, int valueSize, int maxEntries) {
            this(name, type, keySize, valueSize, maxEntries, 0);
        }
    }

    /** Map 0 a hash (u32 -> u64), 1 an array (u32 -> 8 bytes), 2 a prog array, 3 a devmap, 4 a ring buffer, 5 a hash with 8-byte keys, 6 .rodata (read-only to programs). */
    static final List<MapSpec> MAPS = List.of(new Map("hash", Verifier.MAP_HASH, 4, 8, 16), new Map("array", Verifier.MAP_ARRAY, 4, 8, 4),
            new Map("progs", Verifier.MAP_PROG_ARRAY, 4, 4, 4), new Map("ports", Verifier.MAP_DEVMAP, 4, 4, 4),
            new Map("events", Verifier.MAP_RINGBUF, 0, 0, 4096), new Map("wide", Verifier.MAP_HASH, 8, 8, 16),
            new Map(".rodata", Verifier.MAP_ARRAY, 4, 16, 1, BpfMapBase.BPF_F_RDONLY_PROG));

    static Verifier.Result verify(String asm) throws BpfException {
        return Verifier.verify(Program.of("test", Assembler.assemble(asm)), ProgType.XDP, MAPS, HelperProtos.XDP, true);
    }

    /** The usual start: r2 = data, r3 = data_end, and 14 bytes proved: the Ethernet header. */
    static final String ETH = """
            ldxw %r2, [%r1+0]
            ldxw %r3, [%r1+4]
            mov %r4, %r2
            add %r4, 14
            jgt %r4, %r3, drop
            """;

    /** r6 = a 16-byte record reserved in the ring buffer (map 4), or NULL. */
    static final String RESERVE = """
            ldmap %r1, 4
            mov %r2, 16
            mov %r3, 0
            call 131
            mov %r6, %r0
            """;

    static final String LOOKUP = """
            stw [%r10-4], 0
            ldmap %r1, 0
            mov %r2, %r10
            add %r2, -4
            call 1
            """;

    @Test
    void aRingBufferRecordReservedCheckedWrittenAndSubmittedOnEveryPathIsAccepted() throws Exception {
        verify("""
                stw [%r10-4], 0
                ldmap %r1, 4
                mov %r2, 16
                mov %r3, 0
                call 131
                mov %r6, %r0
                jeq %r6, 0, out
                stdw [%r6+0], 7
                stw [%r6+8], 3
                ldxw %r7, [%r10-4]
                mov %r1, %r6
                mov %r2, 0
                jeq %r7, 0, keep
                call 133
                ja out
                keep:
                call 132
                out:
                mov %r0, 2
                exit
                """);
    }

    /** {@code be16} (clang's {@code bpf_ntohs} of a value it cannot fold) reads its destination only: r0 unset is fine. */
    @Test
    void stackNeverWrittenReadsAsAnUnknownNumberAsThePrivilegedKernelAllows() throws Exception {
        // allow_uninit_stack: a load by root (CAP_PERFMON) may read stack bytes it never wrote, and pass them to helpers
        verify("ldxdw %r0, [%r10-8]\njgt %r0, 4, out\nmov %r0, 1\nout:\nexit");
        verify("stw [%r10-8], 1\nldxdw %r0, [%r10-8]\nmov %r0, 1\nexit");
        verify("ldmap %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 1\nexit");
        // a pointer's half is still no number to read
        assertThrows(BpfException.class, () -> verify("stxdw [%r10-8], %r1\nldxw %r0, [%r10-8]\nexit"));
    }

    @Test
    void aByteSwapReadsOnlyItsDestination() throws Exception {
        verify(ETH + """
                ldxh %r5, [%r2+12]
                be16 %r5
                be32 %r5
                le64 %r5
                jne %r5, 0x800, drop
                mov %r0, 2
                exit
                drop:
                mov %r0, 1
                exit
                """);
    }

    @Test
    void aParserWithBoundsChecksIsAcceptedAndItsContextLoadsRewritten() throws Exception {
        Verifier.Result r = verify(ETH + """
                ldxh %r5, [%r2+12]
                jne %r5, 0x08, pass
                mov %r4, %r2
                add %r4, 34
                jgt %r4, %r3, drop
                ldxb %r5, [%r2+23]
                jne %r5, 1, pass
                drop:
                mov %r0, 1
                exit
                pass:
                mov %r0, 2
                exit
                """);
        long[] insns = r.program().instructions();
        assertEquals(0x79, insns[0] & 0xff, "data is a 64-bit load in the runtime context");
        assertEquals(8, (short) (insns[1] >>> 16), "data_end at offset 8 there");
        assertTrue(r.log().contains("pkt(id=0,off=0,r=14)"), r.log());
        assertTrue(r.processed() > 10);
    }

    @Test
    void aDevmapEntrysProgramReadsEgressIfindexWhereTheRuntimeKeepsIt() throws Exception {
        Verifier.Result r = Verifier.verify(Program.of("test", Assembler.assemble("ldxw %r2, [%r1+20]\nmov %r0, 2\nexit")), ProgType.XDP,
                org.modnet.ebpf.api.AttachType.XDP_DEVMAP, MAPS, HelperProtos.XDP, false);
        assertEquals(32, (short) (r.program().instructions()[0] >>> 16), "egress_ifindex is the u32 at 32 in the runtime context");
    }

    /**
     * A pointer that may be NULL, found equal to one already checked, is not NULL either (the kernel's
     * {@code mark_ptr_or_null_regs} on a JEQ/JNE of two pointers): selftest verifier_jeq_infer_not_null.
     */
    @Test
    void aMaybeNullPointerEqualToACheckedOneIsNotNull() throws Exception {
        String two = LOOKUP + "mov %r6, %r0\nldmap %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r7, %r0\njeq %r6, 0, out\n";
        verify(two + "jne %r6, %r7, out\nldxw %r0, [%r7+0]\nout:\nmov %r0, 0\nexit");
        verify(two + "jeq %r7, %r6, read\nja out\nread:\nldxw %r0, [%r7+0]\nout:\nmov %r0, 0\nexit");
        // the branch where they differ learns nothing: r7 may still be NULL
        assertThrows(BpfException.class, () -> verify(two + "jeq %r6, %r7, out\nldxw %r0, [%r7+0]\nout:\nmov %r0, 0\nexit"));
        // two unchecked pointers equal to each other may both be NULL
        assertThrows(BpfException.class, () -> verify(LOOKUP + "mov %r6, %r0\nldmap %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n"
                + "jne %r6, %r0, out\nldxw %r0, [%r0+0]\nout:\nmov %r0, 0\nexit"));
    }

    /** A checked map value is never NULL: the second test's NULL branch is dead (selftest lookup_and_null_branch_prediction). */
    @Test
    void aCheckedMapValueIsNeverNullSoItsNullBranchIsDead() throws Exception {
        String asm = LOOKUP + "mov %r6, %r0\njeq %r6, 0, out\njne %r6, 0, out\nadd %r10, 10\nout:\nmov %r0, 0\nexit";
        long[] in = Assembler.assemble(asm);
        long[] out = verify(asm).program().instructions();
        // the dead write is sanitized away (sanitize_dead_code: ja -1), no engine ever sees it; live code stays
        assertEquals(org.modnet.ebpf.api.Bpf.encode(org.modnet.ebpf.api.Bpf.JMP | org.modnet.ebpf.api.Bpf.JA, 0, 0, -1, 0), out[9]);
        assertEquals(in[8], out[8]);
        assertEquals(in[10], out[10]);
    }

    /**
     * A subprogram that leaves r0 unset returns it unset (prepare_func_exit): only a caller that reads it,
     * or the program's own exit, is refused (selftest verifier_scalar_ids precision_stack).
     */
    @Test
    void aSubprogramMayReturnWithR0UnsetWhenTheCallerDoesNotReadIt() throws Exception {
        String sub = "sub:\nmov %r2, 1\nexit\n";
        verify("call local sub\nmov %r0, 2\nexit\n" + sub);
        BpfException e = assertThrows(BpfException.class, () -> verify("call local sub\nadd %r0, 2\nexit\n" + sub));
        assertTrue(e.getMessage().contains("R0 !read_ok"), e.getMessage());
        e = assertThrows(BpfException.class, () -> verify("call local sub\nexit\n" + sub));
        assertTrue(e.getMessage().contains("R0 !read_ok"), e.getMessage());
    }

    /**
     * A privileged program may write and read the stack at a variable offset (fp + [-16, -8]: a small number
     * minus a larger one keeps its signed bounds); every byte of the range is a number after the write, so
     * a pointer spilled there is lost (selftests verifier_var_off stack_write_priv_vs_unpriv and _followed_by_read).
     */
    @Test
    void aStackAccessAtAVariableOffsetInsideTheFrameIsAccepted() throws Exception {
        String fpVar = "ldxw %r2, [%r1+16]\nand %r2, 8\nsub %r2, 16\nadd %r2, %r10\n";
        verify(fpVar + "mov %r0, 0\nstxdw [%r2+0], %r0\nexit");
        verify(fpVar + "mov %r0, 0\nstxdw [%r2+0], %r0\nldxdw %r3, [%r2+0]\nmov %r0, 0\nexit");
        // beyond the frame at its least offset
        assertThrows(BpfException.class, () -> verify(fpVar + "mov %r0, 0\nstxdw [%r2-504], %r0\nexit"));
        // beyond the frame pointer at its greatest
        assertThrows(BpfException.class, () -> verify(fpVar + "mov %r0, 0\nstxdw [%r2+4], %r0\nexit"));
        // a map value spilled at fp-8 may have been overwritten: its fill is a number, no pointer to read through
        BpfException e = assertThrows(BpfException.class, () -> verify(LOOKUP + "jeq %r0, 0, out\nstxdw [%r10-8], %r0\n"
                + "ldxw %r2, [%r0+0]\nand %r2, 8\nsub %r2, 16\nadd %r2, %r10\nmov %r3, 0\nstxdw [%r2+0], %r3\n"
                + "ldxdw %r4, [%r10-8]\nldxdw %r0, [%r4+0]\nout:\nmov %r0, 0\nexit"));
        assertTrue(e.getMessage().contains("invalid mem access 'scalar'"), e.getMessage());
    }

    @Test
    void mapValuesAfterANullCheckBoundedLoopsCallsAndSpillsAreAccepted() throws Exception {
        verify(LOOKUP + """
                jeq %r0, 0, out
                ldxdw %r1, [%r0+0]
                add %r1, 1
                stxdw [%r0+0], %r1
                lock add [%r0+0], %r1
                out:
                mov %r0, 2
                exit
                """);
        verify("""
                mov %r0, 0
                mov %r1, 0
                loop:
                add %r0, %r1
                add %r1, 1
                jlt %r1, 100, loop
                and %r0, 3
                exit
                """);
        verify("""
                mov %r1, 3
                call local double
                and %r0, 3
                exit
                double:
                mov %r0, %r1
                add %r0, %r1
                exit
                """);
        verify(ETH + """
                stxdw [%r10-8], %r2
                ldxdw %r6, [%r10-8]
                ldxb %r0, [%r6+13]
                drop:
                mov %r0, 1
                exit
                """);
        verify("""
                ldxw %r2, [%r1+12]
                and %r2, 7
                lsh %r2, 0
                stdw [%r10-8], 0
                mov %r3, %r10
                add %r3, -8
                mov %r1, %r3
                mov %r2, 8
                call 6
                mov %r0, 2
                exit
                """);
    }

    /** As a privileged kernel loads them (allow_ptr_leaks): XDP has no return range, and a pointer is a number to the caller. */
    @Test
    void pointersReturnedAsTheActionAreAccepted() throws Exception {
        verify("mov %r0, %r10\nexit");
        verify("mov %r0, %r1\nexit");
        verify(LOOKUP + "jeq %r0, 0, out\nexit\nout:\nmov %r0, 1\nexit");
    }

    @Test
    void variableIndexesWithinAMapValueAreAccepted() throws Exception {
        verify(LOOKUP + """
                jeq %r0, 0, out
                ldxw %r1, [%r0+0]
                and %r1, 7
                add %r0, %r1
                ldxb %r2, [%r0+0]
                out:
                mov %r0, 2
                exit
                """);
    }

    static Stream<Arguments> unsafe() {
        return Stream.of(
                Arguments.of("uninitialised register", "mov %r0, %r2\nexit", "0: R2 !read_ok"),
                Arguments.of("reserved record not checked for NULL", RESERVE + "stw [%r6+0], 1\nmov %r1, %r6\nmov %r2, 0\ncall 132\nmov %r0, 2\nexit",
                        "R6 invalid mem access 'alloc_mem_or_null'"),
                Arguments.of("reserved record written past its size", RESERVE + "jeq %r6, 0, out\nstdw [%r6+16], 1\nmov %r1, %r6\nmov %r2, 0\ncall 132\nout:\nmov %r0, 2\nexit",
                        "invalid access to memory, mem_size=16 off=16 size=8"),
                Arguments.of("reserved record never submitted", RESERVE + "jeq %r6, 0, out\nstw [%r6+0], 1\nout:\nmov %r0, 2\nexit",
                        "Unreleased reference id="),
                Arguments.of("reserved record submitted twice", RESERVE + "jeq %r6, 0, out\nmov %r1, %r6\nmov %r2, 0\ncall 132\nmov %r1, %r6\nmov %r2, 0\ncall 133\nout:\nmov %r0, 2\nexit",
                        "R1 type=scalar expected=alloc_mem"),
                Arguments.of("reserved record written after submit", RESERVE + "jeq %r6, 0, out\nmov %r1, %r6\nmov %r2, 0\ncall 132\nstw [%r6+0], 1\nout:\nmov %r0, 2\nexit",
                        "R6 invalid mem access 'scalar'"),
                Arguments.of("reserved record submitted from its middle", RESERVE + "jeq %r6, 0, out\nmov %r1, %r6\nadd %r1, 8\nmov %r2, 0\ncall 132\nout:\nmov %r0, 2\nexit",
                        "R1 must have zero offset when passed to release func"),
                Arguments.of("reservation of a size not known", "ldxw %r2, [%r1+0]\nldmap %r1, 4\nmov %r3, 0\ncall 131\nmov %r0, 2\nexit",
                        "R2 is not a known constant"),
                Arguments.of("exit without r0", "exit", "0: R0 !read_ok"),
                Arguments.of("packet read without a check", "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit", "offset is outside of the packet"),
                Arguments.of("packet read past the checked range", ETH + "ldxb %r0, [%r2+14]\ndrop:\nmov %r0, 1\nexit", "off=14 size=1"),
                Arguments.of("packet word past the range", ETH + "ldxw %r0, [%r2+12]\ndrop:\nmov %r0, 1\nexit", "invalid access to packet"),
                Arguments.of("packet read before its start", ETH + "ldxb %r0, [%r2-1]\ndrop:\nmov %r0, 1\nexit", "invalid access to packet, off=-1"),
                Arguments.of("packet write past the range", ETH + "stb [%r2+20], 1\ndrop:\nmov %r0, 1\nexit", "invalid access to packet"),
                Arguments.of("checked against the wrong pointer", "ldxw %r2, [%r1+0]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r2, out\nldxb %r0, [%r2+0]\nout:\nmov %r0, 1\nexit", "invalid"),
                Arguments.of("data_end dereferenced", "ldxw %r3, [%r1+4]\nldxb %r0, [%r3+0]\nexit", "invalid mem access 'pkt_end'"),
                Arguments.of("context written", "stw [%r1+0], 1\nmov %r0, 2\nexit", "the context is read-only"),
                Arguments.of("one load of the context on one path and of the packet on another",
                        ETH + "mov %r5, %r1\nldxb %r4, [%r2+0]\njeq %r4, 0, go\nmov %r5, %r2\ngo:\nldxw %r0, [%r5+0]\nmov %r0, 2\nexit\n"
                                + "drop:\nmov %r0, 1\nexit",
                        "same insn cannot be used with different pointers"),
                Arguments.of("context read at a bad offset", "ldxw %r0, [%r1+2]\nexit", "invalid bpf_context access off=2 size=4"),
                Arguments.of("context read past its end", "ldxw %r0, [%r1+24]\nexit", "invalid bpf_context access off=24"),
                Arguments.of("context read as 8 bytes", "ldxdw %r0, [%r1+0]\nexit", "invalid bpf_context access off=0 size=8"),
                Arguments.of("egress_ifindex read outside a devmap entry's program", "ldxw %r0, [%r1+20]\nexit",
                        "invalid bpf_context access off=20 size=4"),
                Arguments.of("modified context", "add %r1, 4\nldxw %r0, [%r1+0]\nexit", "dereference of modified ctx ptr"),
                Arguments.of("below the stack", "stdw [%r10-520], 1\nmov %r0, 1\nexit", "invalid stack off=-520"),
                Arguments.of("above the frame pointer", "stdw [%r10+0], 1\nmov %r0, 1\nexit", "invalid stack off=0 size=8"),
                Arguments.of("variable stack offset past the frame pointer", "ldxw %r2, [%r1+12]\nand %r2, 7\nmov %r3, %r10\nadd %r3, %r2\nstb [%r3-4], 1\nmov %r0, 1\nexit", "invalid variable-offset stack access"),
                Arguments.of("NULL dereference", "mov %r2, 0\nldxb %r0, [%r2+0]\nexit", "R2 invalid mem access 'scalar'"),
                Arguments.of("store into read-only global data", "ldmapval %r1, 6, 8\nstw [%r1+0], 7\nmov %r0, 2\nexit",
                        "2: write into map forbidden, value_regno=-1"),
                Arguments.of("atomic add into read-only global data", "ldmapval %r1, 6, 0\nmov %r2, 1\nlock add [%r1+0], %r2\nmov %r0, 2\nexit",
                        "write into map forbidden, value_regno=2"),
                Arguments.of("map value not checked for NULL", LOOKUP + "ldxdw %r0, [%r0+0]\nexit", "R0 invalid mem access 'map_value_or_null'"),
                Arguments.of("map value read past its size", LOOKUP + "jeq %r0, 0, out\nldxdw %r1, [%r0+8]\nout:\nmov %r0, 1\nexit", "invalid access to map value, value_size=8 off=8 size=8"),
                Arguments.of("map value read before it", LOOKUP + "jeq %r0, 0, out\nldxb %r1, [%r0-1]\nout:\nmov %r0, 1\nexit", "invalid access to map value, value_size=8 off=-1"),
                Arguments.of("map value with an unbounded index", LOOKUP + "jeq %r0, 0, out\nldxdw %r1, [%r0+0]\nadd %r0, %r1\nldxb %r2, [%r0+0]\nout:\nmov %r0, 1\nexit", "unbounded variable offset"),
                Arguments.of("map value with too large an index", LOOKUP + "jeq %r0, 0, out\nldxdw %r1, [%r0+0]\nand %r1, 15\nadd %r0, %r1\nldxb %r2, [%r0+0]\nout:\nmov %r0, 1\nexit", "invalid access to map value"),
                Arguments.of("map key a number", "ldmap %r1, 0\nmov %r2, 0\ncall 1\nmov %r0, 1\nexit", "R2 type=scalar expected=fp, pkt, map_value"),
                Arguments.of("lookup without a map", "mov %r1, 0\nmov %r2, %r10\ncall 1\nmov %r0, 1\nexit", "R1 type=scalar expected=map_ptr"),
                Arguments.of("unknown helper", "call 9999\nmov %r0, 1\nexit", "invalid func unknown#9999"),
                Arguments.of("redirect_map with a hash map", "ldmap %r1, 0\nmov %r2, 0\nmov %r3, 0\ncall 51\nexit", "cannot pass map_type 1 into func bpf_redirect_map#51"),
                // a devmap's entries may be looked up (check_map_func_compatibility), not updated by a program
                Arguments.of("update of a devmap from a program", "stw [%r10-4], 0\nstdw [%r10-16], 0\nldmap %r1, 3\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nmov %r0, 1\nexit", "cannot pass map_type 14 into func bpf_map_update_elem#2"),
                Arguments.of("tail call into a hash map", "ldmap %r2, 0\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit", "cannot pass map_type 1 into func bpf_tail_call#12"),
                Arguments.of("ring buffer output to an array", "stdw [%r10-8], 0\nldmap %r1, 1\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130\nmov %r0, 1\nexit", "cannot pass map_type 2 into func bpf_ringbuf_output#130"),
                Arguments.of("r1 used after a call", "call 5\nldxw %r0, [%r1+0]\nexit", "1: R1 !read_ok"),
                Arguments.of("r3 used after a call", "mov %r3, 1\ncall 7\nmov %r0, %r3\nexit", "R3 !read_ok"),
                Arguments.of("a loop without an end", "mov %r0, 0\nloop:\nadd %r0, 1\nja loop", "BPF program is too large"),
                Arguments.of("a loop that never changes", "mov %r0, 0\nloop:\nja loop", "infinite loop detected at insn 1"),
                Arguments.of("a loop bounded by the packet's ifindex only", "ldxw %r2, [%r1+12]\nmov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, %r2, loop\nmov %r0, 1\nexit", "BPF program is too large"),
                Arguments.of("unreachable code", "mov %r0, 1\nexit\nmov %r0, 2\nexit", "2: unreachable insn 2"),
                Arguments.of("falling off the end", "mov %r0, 1", "execution would fall off the end"),
                Arguments.of("frame pointer written", "mov %r10, 0\nexit", "frame pointer is read only"),
                Arguments.of("32-bit pointer arithmetic", "mov %r2, %r10\nadd32 %r2, 8\nmov %r0, 1\nexit", "R2 32-bit pointer arithmetic prohibited"),
                Arguments.of("pointer multiplied", "mov %r2, %r10\nmul %r2, 2\nmov %r0, 1\nexit", "pointer arithmetic with *= operator prohibited"),
                Arguments.of("pointer plus pointer", "mov %r2, %r10\nadd %r2, %r1\nmov %r0, 1\nexit", "pointer op pointer prohibited"),
                Arguments.of("map pointer arithmetic", "ldmap %r1, 0\nadd %r1, 8\nmov %r0, 1\nexit", "pointer arithmetic on map_ptr prohibited"),
                Arguments.of("arithmetic before the NULL check", LOOKUP + "add %r0, 4\nmov %r0, 1\nexit", "pointer arithmetic on map_value_or_null prohibited"),
                Arguments.of("data_end arithmetic", "ldxw %r3, [%r1+4]\nadd %r3, 8\nmov %r0, 1\nexit", "pointer arithmetic on pkt_end prohibited"),
                Arguments.of("an indirect call", "mov %r2, 5\ncall %r2\nmov %r0, 1\nexit", "indirect calls (callx) are not allowed"),
                Arguments.of("recursion without end", "call local f\nmov %r0, 1\nexit\nf:\ncall local f\nexit", "the call stack of 8 frames is too deep"),
                Arguments.of("printk of no bytes", "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 6\nmov %r0, 1\nexit", "R2 invalid zero-sized read"),
                Arguments.of("printk of an unbounded size", "stdw [%r10-8], 0\nldxw %r2, [%r1+12]\nmov %r1, %r10\nadd %r1, -8\ncall 6\nmov %r0, 1\nexit", "R2 unbounded memory access"),
                Arguments.of("printk of more than was written", "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 16\ncall 6\nmov %r0, 1\nexit", "invalid"),
                Arguments.of("packet pointer kept across adjust_head", ETH + "mov %r6, %r2\nmov %r2, 0\ncall 44\nldxb %r0, [%r6+0]\ndrop:\nmov %r0, 1\nexit", "R6 invalid mem access 'scalar'"),
                Arguments.of("atomic add on the packet", ETH + "mov %r5, 1\nlock add [%r2+0], %r5\ndrop:\nmov %r0, 1\nexit", "BPF_ATOMIC stores into R2 pkt is not allowed"),
                Arguments.of("atomic add on the context", "mov %r5, 1\nlock add [%r1+0], %r5\nmov %r0, 1\nexit", "the context is read-only"),
                Arguments.of("modulo by a constant zero", "mov %r0, 2\nmod32 %r0, 0\nexit", "1: div by zero"),
                Arguments.of("a pointer spilled in 4 bytes", "stxw [%r10-8], %r1\nmov %r0, 2\nexit", "0: invalid size of register spill"),
                Arguments.of("part of a spilled pointer used as one", "stxdw [%r10-8], %r1\nldxw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit", "1: invalid size of register fill"),
                Arguments.of("a map that does not exist", "ldmap %r1, 9\nmov %r0, 1\nexit", "fd 9 is not pointing to valid bpf_map"),
                Arguments.of("callee's stack returned", "call local f\nldxb %r0, [%r0+0]\nexit\nf:\nmov %r0, %r10\nexit", "cannot return a pointer to the callee's stack"),
                Arguments.of("callee without r0, read by the caller", "call local f\nadd %r0, 1\nexit\nf:\nexit", "R0 !read_ok"),
                Arguments.of("map value written without the check", LOOKUP + "stdw [%r0+0], 1\nmov %r0, 1\nexit", "R0 invalid mem access 'map_value_or_null'"),
                Arguments.of("packet index added after the check", ETH + "ldxb %r5, [%r2+0]\nand %r5, 7\nadd %r2, %r5\nldxb %r0, [%r2+0]\ndrop:\nmov %r0, 1\nexit", "outside of the packet"),
                Arguments.of("a jump out of the program", "ja +5\nexit", "jump out of range"),
                Arguments.of("a stack pointer plus an unbounded number", "ldxw %r2, [%r1+12]\nmov %r3, %r10\nadd %r3, %r2\nmov %r0, 1\nexit", "unbounded variable offset"),
                Arguments.of("signed division of a pointer", "mov %r2, %r10\nsdiv %r2, 3\nmov %r0, 1\nexit", "pointer arithmetic with /= operator prohibited"),
                Arguments.of("subtracting a variable from a pointer", "ldxw %r2, [%r1+12]\nand %r2, 3\nmov %r3, %r10\nsub %r3, %r2\nmov %r0, 1\nexit", "R3 subtraction from stack pointer prohibited"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unsafe")
    void unsafeProgramsAreRefusedWithAClearReason(String what, String asm, String reason) {
        BpfException e = assertThrows(BpfException.class, () -> verify(asm), what);
        assertTrue(e.getMessage().contains(reason), what + ": got \"" + e.getMessage() + "\", wanted \"" + reason + "\"");
        assertTrue(e.getMessage().matches("(?s)^\\d+: .*|.*"), e.getMessage());
    }

    @Test
    void theCorpusIsLargeEnough() {
        assertTrue(unsafe().count() >= 60, "at least 60 unsafe programs: " + unsafe().count());
    }

    /** Two paths meet at {@code L}: on the first r8 is a copy of r6, on the second of r7 ({@code BODY} follows). */
    private static String twoCopies(String second) {
        return """
                call 7
                mov %r6, %r0
                call 7
                mov %r7, %r0
                call 7
                jgt %r0, 5, other
                mov %r8, %r6
                ja L
                other:
                mov %r8, """ + second + """

                L:
                jgt %r6, 10, out
                jgt %r8, 10, bad
                out:
                mov %r0, 0
                exit
                bad:
                mov %r0, %r9
                exit
                """;
    }

    @Test
    void aCopyOfAScalarLearnsTheBoundItsOriginalIsCheckedAgainst() throws Exception {
        // sync_linked_regs: r8 = r6, then r6 <= 10 makes r8 <= 10 too, so "bad" (a read of r9, never set) is dead
        verify(twoCopies("%r6"));
        // a 32-bit copy of a value that fits in 32 bits is linked too (the kernel's selftest subreg_equality_1)
        verify("""
                call 5
                stxdw [%r10-8], %r0
                ldxw %r2, [%r10-8]
                mov32 %r3, %r2
                jlt32 %r2, 9, small
                exit
                small:
                jlt %r3, 9, fine
                mov %r0, %r1
                fine:
                exit
                """);
        // ... and not one whose upper half may be set (subreg_equality_2): the copy learns nothing
        BpfException wide = assertThrows(BpfException.class, () -> verify("""
                call 5
                mov %r2, %r0
                mov32 %r3, %r2
                jlt32 %r2, 9, small
                exit
                small:
                jlt %r3, 9, fine
                mov %r0, %r1
                fine:
                exit
                """));
        assertTrue(wide.getMessage().contains("R1 !read_ok"), wide.getMessage());
    }

    @Test
    void aStateWhoseCopiesAreNotLinkedIsNotCoveredByOneWhoseAre() {
        // the first path's checkpoint at L had r8 linked to r6 (so "bad" was dead there); the second path's r8
        // is r7's copy, which r6's check says nothing of: check_scalar_ids keeps it from being pruned
        BpfException e = assertThrows(BpfException.class, () -> verify(twoCopies("%r7")));
        assertTrue(e.getMessage().contains("R9 !read_ok"), e.getMessage());
    }

    @Test
    void aScalarSpilledAndFilledStaysLinkedToItsRegister() throws Exception {
        verify("""
                call 7
                stxdw [%r10-8], %r0
                jgt %r0, 10, out
                ldxdw %r2, [%r10-8]
                jgt %r2, 10, bad
                out:
                mov %r0, 0
                exit
                bad:
                mov %r0, %r9
                exit
                """);
    }
}

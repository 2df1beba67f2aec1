package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.TcContext;
import org.modnet.ebpf.impl.Assembler;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.ebpf.impl.Program;
import org.modnet.ebpf.impl.Verifier;

/** tc programs ({@code SCHED_CLS}): the {@code __sk_buff} context, the skb helpers' prototypes and their work on a frame. */
class TcProgramTest {
    private final BpfSyscall bpf = new BpfSyscallImpl();

    static Verifier.Result verify(String asm) throws BpfException {
        return Verifier.verify(Program.of("t", Assembler.assemble(asm)), ProgType.SCHED_CLS, List.of(), HelperProtos.SCHED_CLS, true);
    }

    private BpfProg load(String asm, String engine) throws BpfException {
        return bpf.progLoad("t", Assembler.assemble(asm), ProgType.SCHED_CLS, AttachType.DEFAULT, List.of(), null, null, engine, false);
    }

    @Test
    void dataAndDataEndOfSkBuffBecomePointerLoads() throws Exception {
        Program p = verify("""
                ldxw %r2, [%r1+76]
                ldxw %r3, [%r1+80]
                ldxw %r4, [%r1+16]
                mov %r0, 0
                exit
                """).program();
        assertEquals(Bpf.LDX | Bpf.MEM | Bpf.DW, Bpf.opcode(p.instructions()[0]));
        assertEquals(0, Bpf.off(p.instructions()[0]));
        assertEquals(8, Bpf.off(p.instructions()[1]));
        assertEquals(Bpf.LDX | Bpf.MEM | Bpf.W, Bpf.opcode(p.instructions()[2]));
        assertEquals(16 + 16, Bpf.off(p.instructions()[2]), "protocol, at 16 + its offset in the runtime's context");
    }

    @Test
    void readsOutsideTheSkBuffFieldsAreRefused() {
        BpfException e = assertThrows(BpfException.class, () -> verify("""
                ldxw %r2, [%r1+84]
                mov %r0, 0
                exit
                """));
        assertTrue(e.getMessage().contains("invalid bpf_context access off=84 size=4"), e.getMessage());
        assertThrows(BpfException.class, () -> verify("""
                ldxh %r2, [%r1+76]
                mov %r0, 0
                exit
                """), "data is read whole");
    }

    @Test
    void skbLoadBytesMayFillUninitialisedStackWhichIsReadableAfter() throws Exception {
        verify("""
                mov %r2, 14
                mov %r3, %r10
                add %r3, -8
                mov %r4, 8
                call 26
                ldxdw %r0, [%r10-8]
                exit
                """);
        BpfException e = assertThrows(BpfException.class, () -> verify("""
                mov %r6, %r1
                mov %r1, %r10
                add %r1, -8
                mov %r2, 14
                mov %r3, %r10
                add %r3, -8
                mov %r4, 8
                call 26
                mov %r0, 0
                exit
                """));
        assertTrue(e.getMessage().contains("expected=ctx"), e.getMessage());
    }

    /** A 20-byte IPv4 header (after 14 bytes of Ethernet) whose checksum is right. */
    private static MemorySegment frame() {
        byte[] b = new byte[64];
        int[] ip = { 0x45, 0x00, 0x00, 0x32, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
        for (int i = 0; i < 20; i++) {
            b[14 + i] = (byte) ip[i];
        }
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += ((b[14 + i] & 0xff) << 8) | (b[15 + i] & 0xff);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        int check = ~sum & 0xffff;
        b[24] = (byte) (check >>> 8);
        b[25] = (byte) check;
        return MemorySegment.ofArray(b);
    }

    private static boolean checksumHolds(MemorySegment f) {
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += ((f.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 14 + i) & 0xff) << 8) | (f.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 15 + i) & 0xff);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return sum == 0xffff;
    }

    @Test
    void storeBytesAndL3CsumReplaceRewriteTheTtlWithAValidChecksum() throws Exception {
        // the TTL/protocol word at 22: 64/1 (0x4001) becomes 32/1 (0x2001), as the program's little-endian registers hold them
        String asm = """
                mov %r6, %r1
                stb [%r10-1], 32
                mov %r1, %r6
                mov %r2, 24
                mov %r3, 0x0140
                mov %r4, 0x0120
                mov %r5, 2
                call 10
                mov %r1, %r6
                mov %r2, 22
                mov %r3, %r10
                add %r3, -1
                mov %r4, 1
                mov %r5, 0
                call 9
                mov %r0, 2
                exit
                """;
        for (String engine : List.of(BpfSyscall.INTERPRETER, BpfSyscall.JIT)) {
            BpfProg p = load(asm, engine);
            TcContext c = p.tcContext(0);
            MemorySegment f = frame();
            c.fields(64, 0, 0, 0, 0x0008, 0, 1, 1, 0);
            c.packet(f, 0, 64, true);
            assertEquals(TcContext.TC_ACT_SHOT, c.run(), engine);
            assertEquals(32, f.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 22), engine);
            assertTrue(checksumHolds(f), engine + ": the header checksum holds after the rewrite");
        }
    }

    @Test
    void bpfRedirectRecordsItsTargetAndAnswersRedirect() throws Exception {
        BpfProg p = load("""
                mov %r1, 7
                mov %r2, 1
                call 23
                exit
                """, BpfSyscall.JIT);
        TcContext c = p.tcContext(0);
        c.packet(frame(), 0, 64, true);
        assertEquals(TcContext.TC_ACT_REDIRECT, c.run());
        assertEquals(7, c.redirectIfindex());
        assertEquals(TcContext.BPF_F_INGRESS, c.redirectFlags());
    }

    @Test
    void skbLoadBytesPastTheEndFailsAndClearsTheBuffer() throws Exception {
        BpfProg p = load("""
                stdw [%r10-8], -1
                mov %r2, 60
                mov %r3, %r10
                add %r3, -8
                mov %r4, 8
                call 26
                ldxdw %r1, [%r10-8]
                jne %r1, 0, bad
                exit
                bad:
                mov %r0, 99
                exit
                """, BpfSyscall.INTERPRETER);
        TcContext c = p.tcContext(0);
        c.packet(frame(), 0, 64, true);
        assertEquals(-14, c.run(), "EFAULT, and the buffer zeroed");
    }

    @Test
    void aProgramMayWriteTheMarkEvenWithAPointerButNotTheLength() throws Exception {
        Program p = verify("""
                stw [%r1+8], 42
                mov %r0, 0
                exit
                """).program();
        assertEquals(16 + 8, Bpf.off(p.instructions()[0]), "mark, where the runtime keeps it");
        BpfException len = assertThrows(BpfException.class, () -> verify("""
                stw [%r1+0], 1
                mov %r0, 0
                exit
                """));
        assertTrue(len.getMessage().contains("invalid bpf_context access off=0 size=4"), len.getMessage());
        // a pointer is a number to store for a privileged load (allow_ptr_leaks), as the kernel lets it
        Program leak = verify("""
                stxw [%r1+8], %r10
                mov %r0, 0
                exit
                """).program();
        assertEquals(16 + 8, Bpf.off(leak.instructions()[0]), "the pointer's low half goes where the runtime keeps the mark");
        BpfProg prog = load("""
                stw [%r1+8], 42
                mov %r0, 0
                exit
                """, BpfSyscall.JIT);
        TcContext c = prog.tcContext(0);
        c.fields(64, 0, 7, 0, 8, 0, 1, 1, 0);
        c.packet(frame(), 0, 64, true);
        assertEquals(0, c.run());
        assertEquals(42, c.mark());
    }

    /** A TCP/IPv4 frame from 10.0.0.1 to 10.0.0.2, source port {@code sport}, destination port 80. */
    private static MemorySegment tcpFrame(int sport) {
        MemorySegment f = frame();
        f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 12, (byte) 0x08); // ethertype IPv4
        f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 23, (byte) 6);
        f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 34, (byte) (sport >> 8));
        f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 35, (byte) sport);
        f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 37, (byte) 80);
        return f;
    }

    @Test
    void getHashRecalcGivesTheFlowHashAndKeepsItInTheSkb() throws Exception {
        // r0 = bpf_get_hash_recalc(skb); and skb->hash read after it must be the same value
        String asm = """
                mov %r6, %r1
                call 34
                ldxw %r2, [%r6+68]
                jeq %r0, %r2, same
                mov %r0, 0
                exit
                same:
                exit
                """;
        for (String engine : List.of(BpfSyscall.INTERPRETER, BpfSyscall.JIT)) {
            BpfProg p = load(asm, engine);
            TcContext c = p.tcContext(0);
            c.fields(64, 0, 0, 0, 0x0008, 0, 1, 1, 0);
            c.packet(tcpFrame(1000), 0, 64, true);
            int a = c.run();
            assertTrue(a != 0, engine + ": a frame without a hash gets one, and __sk_buff.hash holds it");
            c.fields(64, 0, 0, 0, 0x0008, 0, 1, 1, 0);
            c.packet(tcpFrame(1000), 0, 64, true);
            assertEquals(a, c.run(), engine + ": the same flow, the same hash");
            c.fields(64, 0, 0, 0, 0x0008, 0, 1, 1, 0);
            c.packet(tcpFrame(1001), 0, 64, true);
            assertTrue(c.run() != a, engine + ": another source port, another flow");
            c.fields(64, 0, 0, 0, 0x0008, 0, 1, 1, 0x1234);
            c.packet(tcpFrame(1000), 0, 64, true);
            assertEquals(0x1234, c.run(), engine + ": a frame that has a hash keeps it (skb_get_hash computes only a missing one)");
        }
    }

    @Test
    void getHashRecalcIsATcHelperNotASocketFiltersOrXdps() {
        String asm = """
                call 34
                mov %r0, 0
                exit
                """;
        BpfException sock = assertThrows(BpfException.class, () -> Verifier.verify(Program.of("t", Assembler.assemble(asm)),
                ProgType.SOCKET_FILTER, List.of(), HelperProtos.SOCKET_FILTER, false));
        assertTrue(sock.getMessage().contains("invalid func unknown#34"), sock.getMessage());
        BpfException xdp = assertThrows(BpfException.class, () -> Verifier.verify(Program.of("t", Assembler.assemble(asm)),
                ProgType.XDP, List.of(), HelperProtos.XDP, false));
        assertTrue(xdp.getMessage().contains("invalid func unknown#34"), xdp.getMessage());
        BpfException noCtx = assertThrows(BpfException.class, () -> verify("""
                mov %r1, 0
                call 34
                exit
                """));
        assertTrue(noCtx.getMessage().contains("expected=ctx"), noCtx.getMessage());
    }
}

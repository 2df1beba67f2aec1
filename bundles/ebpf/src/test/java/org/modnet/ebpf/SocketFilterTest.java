package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.SkFilterContext;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/**
 * Socket filters ({@code BPF_PROG_TYPE_SOCKET_FILTER}): {@code SEC("socket")} programs built by clang
 * from the C each test carries, the legacy {@code LD_ABS}/{@code LD_IND} loads, the {@code __sk_buff}
 * fields the kernel lets them read, the return value as the bytes to keep, and classic BPF checked and
 * translated as {@code SO_ATTACH_FILTER} does.
 */
class SocketFilterTest {
    private final BpfSyscall bpf = new BpfSyscallImpl();

    private static final String PRELUDE = """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            #include <bpf/bpf_endian.h>
            unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
            unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
            unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");
            char _license[] SEC("license") = "GPL";
            """;

    /** Builds {@code c} (after the prelude) with clang for {@code cpu} and opens it. */
    private BpfObject build(String name, String c, String cpu) throws Exception {
        Path dir = Path.of("target", "sockfilter").toAbsolutePath();
        Files.createDirectories(dir);
        Path src = dir.resolve(name + ".c");
        Path out = dir.resolve(name + "-" + cpu + ".o");
        Files.writeString(src, PRELUDE + c);
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-mcpu=" + cpu, "-I/usr/include/" + arch + "-linux-gnu", "-c",
                src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "clang failed:\n" + log);
        return bpf.objOpen(Files.readAllBytes(out));
    }

    private BpfProg loadSection(BpfObject o, String engine) throws BpfException {
        BpfObject.ProgramDef d = o.programs().get(0);
        assertEquals(ProgType.SOCKET_FILTER, ProgType.ofSection(d.section()), "SEC(\"socket\") is a socket filter");
        return bpf.progLoad(d.name(), d.insns(), ProgType.SOCKET_FILTER, AttachType.DEFAULT, o.createMaps(1), null, null, engine, false);
    }

    private BpfProg asm(String text, ProgType type) throws BpfException {
        return bpf.progLoad("t", bpf.assemble(text), type, AttachType.DEFAULT, List.of(), null, null, BpfSyscall.INTERPRETER, false);
    }

    /** An Ethernet + IPv4 + UDP frame whose payload is {@code payload}; the filter sees it from the UDP header. */
    static byte[] udpFrame(byte... payload) {
        byte[] f = new byte[14 + 20 + 8 + payload.length];
        f[12] = 0x08; // IPv4
        f[14] = 0x45;
        f[14 + 9] = 17;
        f[14 + 12] = 10;
        f[14 + 15] = 1; // 10.0.0.1
        f[34] = 0x30;
        f[35] = 0x39; // source port 12345
        f[36] = 0x00;
        f[37] = 0x35; // destination port 53
        int len = 8 + payload.length;
        f[38] = (byte) (len >> 8);
        f[39] = (byte) len;
        System.arraycopy(payload, 0, f, 42, payload.length);
        return f;
    }

    /** Runs {@code p} on a UDP frame as a UDP socket's sk_filter does: the packet from the UDP header, link layer and IP before it. */
    static long run(SkFilterContext ctx, byte[] frame, int mark) {
        ctx.fields(frame.length - 34, 0, mark, 2, Short.reverseBytes((short) 0x0800) & 0xffff, 1, 100, 0, 5, 3, 3, 0x1234);
        ctx.packet(MemorySegment.ofArray(frame), 0, 14, 34, frame.length);
        return ctx.filter();
    }

    @ParameterizedTest
    @ValueSource(strings = { "v1/interpreter", "v3/jit" })
    void clangBuiltFilterKeepsEvenDatagramsAndTruncatesByItsReturnValue(String variant) throws Exception {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        String[] v = variant.split("/");
        BpfObject o = build("even", """
                SEC("socket")
                int even(struct __sk_buff *skb)
                {
                	__u32 first = load_byte(skb, 8);     /* the first payload byte, past the UDP header */
                	if (first & 1)
                		return 0;
                	if (first == 0x7e)
                		return 8 + 4;                    /* the header and 4 bytes of payload */
                	return skb->len;
                }
                """, v[0]);
        try (BpfProg p = loadSection(o, v[1])) {
            SkFilterContext ctx = p.skFilterContext(0);
            assertEquals(0, run(ctx, udpFrame((byte) 3, (byte) 0), 0), "odd: dropped");
            assertEquals(8 + 6, run(ctx, udpFrame((byte) 4, (byte) 1, (byte) 2, (byte) 3, (byte) 4, (byte) 5), 0), "even: kept whole");
            assertEquals(12, run(ctx, udpFrame((byte) 0x7e, (byte) 1, (byte) 2, (byte) 3, (byte) 4, (byte) 5), 0), "truncated to 4 bytes of payload");
            assertEquals(0, run(ctx, udpFrame(), 0), "a load past the end ends the program with 0");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "v1/interpreter", "v3/jit" })
    void clangBuiltFilterReadsSkBuffFieldsAndLegacyLoadsInNetworkOrder(String variant) throws Exception {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        String[] v = variant.split("/");
        BpfObject o = build("fields", """
                SEC("socket")
                int fields(struct __sk_buff *skb)
                {
                	if (skb->protocol != bpf_htons(0x0800) || skb->mark != 7 || skb->pkt_type != 0 || skb->ifindex != 3
                	    || skb->hash != 0x1234 || skb->queue_mapping != 2 || skb->priority != 5 || skb->vlan_present != 1
                	    || skb->vlan_tci != 100)
                		return 0;
                	if (load_half(skb, 2) != 53)          /* UDP destination port, network order in, host order out */
                		return 0;
                	if (load_word(skb, -0x100000 + 12) != 0x0a000001)   /* SKF_NET_OFF: the IPv4 source address */
                		return 0;
                	if (load_half(skb, -0x200000 + 12) != 0x0800)       /* SKF_LL_OFF: the ethertype */
                		return 0;
                	skb->cb[0] = skb->len;
                	return skb->cb[0];
                }
                """, v[0]);
        try (BpfProg p = loadSection(o, v[1])) {
            SkFilterContext ctx = p.skFilterContext(0);
            assertEquals(8 + 2, run(ctx, udpFrame((byte) 1, (byte) 2), 7));
            assertEquals(0, run(ctx, udpFrame((byte) 1, (byte) 2), 8), "another mark");
        }
    }

    @Test
    void dataAndDataEndAreRefusedToSocketFiltersWithTheKernelsMessage() throws Exception {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        BpfObject o = build("direct", """
                SEC("socket")
                int direct(struct __sk_buff *skb)
                {
                	__u8 *data = (void *)(long)skb->data;   /* direct packet access: tc's, not a socket filter's */
                	return data[0];
                }
                """, "v3");
        BpfException e = assertThrows(BpfException.class, () -> loadSection(o, BpfSyscall.JIT));
        assertTrue(e.getMessage().contains("invalid bpf_context access off=76 size=4"), e.getMessage());
    }

    @Test
    void writesOtherThanCbAreRefused() {
        BpfException e = assertThrows(BpfException.class, () -> asm("""
                mov %r2, 1
                stxw [%r1+8], %r2
                mov %r0, 0
                exit
                """, ProgType.SOCKET_FILTER));
        assertTrue(e.getMessage().contains("invalid bpf_context access off=8 size=4"), "mark is read-only here: " + e.getMessage());
    }

    @Test
    void legacyLoadsAreRefusedToXdpAndWithoutTheSkbInR6() {
        BpfException xdp = assertThrows(BpfException.class, () -> asm("""
                mov %r6, %r1
                ldabsb 0
                exit
                """, ProgType.XDP));
        assertTrue(xdp.getMessage().contains("BPF_LD_[ABS|IND] instructions not allowed for this program type"), xdp.getMessage());
        BpfException r6 = assertThrows(BpfException.class, () -> asm("""
                mov %r6, 0
                ldabsb 0
                exit
                """, ProgType.SOCKET_FILTER));
        assertTrue(r6.getMessage().contains("at the time of BPF_LD_ABS|IND R6 != pointer to skb"), r6.getMessage());
    }

    @Test
    void legacyLoadsClobberR1ToR5() {
        BpfException e = assertThrows(BpfException.class, () -> asm("""
                mov %r6, %r1
                mov %r2, 5
                ldabsb 0
                mov %r0, %r2
                exit
                """, ProgType.SOCKET_FILTER));
        assertTrue(e.getMessage().contains("R2 !read_ok"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = { BpfSyscall.INTERPRETER, BpfSyscall.JIT })
    void indirectLoadPastTheEndReturnsZero(String engine) throws Exception {
        BpfProg p = bpf.progLoad("t", bpf.assemble("""
                mov %r6, %r1
                mov %r7, 4
                ldindh %r7, 2
                jne %r0, 0x0a0b, out
                ldindw %r7, 100
                mov %r0, 99
                out:
                exit
                """), ProgType.SOCKET_FILTER, AttachType.DEFAULT, List.of(), null, null, engine, false);
        SkFilterContext ctx = p.skFilterContext(0);
        byte[] f = udpFrame((byte) 0x0a, (byte) 0x0b);
        f[34 + 6] = 0x0a;
        f[34 + 7] = 0x0b;
        assertEquals(0, run(ctx, f, 0), "ldindw past the end: the program ends with 0, not 99");
        p.close();
    }

    @Test
    void socketCookieHelperAnswersWhatTheSocketSet() throws Exception {
        BpfProg p = asm("""
                call 46
                exit
                """, ProgType.SOCKET_FILTER);
        SkFilterContext ctx = p.skFilterContext(0);
        ctx.socketCookie(4242);
        assertEquals(4242, run(ctx, udpFrame(), 0));
        p.close();
    }

    // --- classic BPF ---

    private static long c(int code, int jt, int jf, int k) {
        return (code & 0xffffL) | (jt & 0xffL) << 16 | (jf & 0xffL) << 24 | (k & 0xffffffffL) << 32;
    }

    @ParameterizedTest
    @ValueSource(strings = { BpfSyscall.INTERPRETER, BpfSyscall.JIT })
    void classicProgramIsTranslatedAndRunsAsTheKernelWould(String engine) throws Exception {
        long[] f = {
                c(0x28, 0, 0, 2), // ldh [2]           UDP destination port
                c(0x15, 0, 5, 53), // jeq #53, jt 0, jf -> drop
                c(0x30, 0, 0, 8), // ldb [8]           first payload byte
                c(0x02, 0, 0, 3), // st M[3]
                c(0x61, 0, 0, 3), // ldx M[3]
                c(0x45, 1, 0, 1), // jset #1 -> drop
                c(0x16, 0, 0, 0), // ret a   (the byte, even)
                c(0x06, 0, 0, 0), // ret #0
        };
        BpfProg p = bpf.progLoadClassic("classic", f, engine);
        assertEquals(ProgType.SOCKET_FILTER, p.type());
        SkFilterContext ctx = p.skFilterContext(0);
        assertEquals(4, run(ctx, udpFrame((byte) 4), 0));
        assertEquals(0, run(ctx, udpFrame((byte) 5), 0));
        assertEquals(0, run(ctx, udpFrame(), 0), "ldb [8] past the end: 0");
        p.close();
    }

    @Test
    void classicAncillaryLoadsAndDivisionByZeroX() throws Exception {
        long[] f = {
                c(0x20, 0, 0, -0x1000 + 0), // ld #proto      (SKF_AD_PROTOCOL)
                c(0x15, 0, 4, 0x0800), // jeq #0x800
                c(0x20, 0, 0, -0x1000 + 20), // ld #mark
                c(0x01, 0, 0, 0), // ldx #0
                c(0x3c, 0, 0, 0), // div x: X is 0 -> the program returns 0
                c(0x06, 0, 0, 0xffff), // ret #0xffff (never reached)
                c(0x06, 0, 0, 1), // ret #1
        };
        BpfProg p = bpf.progLoadClassic("anc", f, BpfSyscall.INTERPRETER);
        assertEquals(0, run(p.skFilterContext(0), udpFrame(), 7), "division by X = 0 returns 0");
        long[] mark = { c(0x20, 0, 0, -0x1000 + 20), c(0x16, 0, 0, 0) };
        assertEquals(7, run(bpf.progLoadClassic("mark", mark, BpfSyscall.JIT).skFilterContext(0), udpFrame(), 7));
    }

    @Test
    void classicProgramsTheKernelRefusesAreRefused() {
        long[][] bad = {
                {}, // empty
                { c(0x28, 0, 0, 2) }, // does not end in a return
                { c(0x15, 5, 0, 1), c(0x06, 0, 0, 0) }, // jumps past the end
                { c(0x34, 0, 0, 0), c(0x06, 0, 0, 0) }, // div #0
                { c(0x64, 0, 0, 32), c(0x06, 0, 0, 0) }, // lsh #32
                { c(0x60, 0, 0, 3), c(0x16, 0, 0, 0) }, // ld M[3] before any st
                { c(0x60, 0, 0, 16), c(0x16, 0, 0, 0) }, // M[16]
                { c(0xff, 0, 0, 0), c(0x06, 0, 0, 0) }, // no such code
                { c(0x20, 0, 0, -0x1000 + 200), c(0x06, 0, 0, 0) }, // unknown ancillary load
        };
        for (long[] f : bad) {
            assertThrows(BpfException.class, () -> bpf.progLoadClassic("bad", f, BpfSyscall.INTERPRETER), java.util.Arrays.toString(f));
        }
    }
}

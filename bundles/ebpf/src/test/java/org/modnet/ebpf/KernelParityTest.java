package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.ElfObject;
import org.modnet.ebpf.impl.LoadedProgram;
import org.modnet.ebpf.impl.XdpBuffer;

/**
 * Programs built by Debian's clang from the C each test carries, each reproducing one cause of issue 21:
 * what the kernel's verifier loads loads, what it refuses is refused with its words.
 */
class KernelParityTest {
    private static final String HEADERS = """
            #include <linux/bpf.h>
            #include <linux/if_ether.h>
            #include <linux/ip.h>
            #include <linux/in.h>
            #include <linux/udp.h>
            #include <bpf/bpf_helpers.h>
            #include <bpf/bpf_endian.h>
            char _license[] SEC("license") = "GPL";
            """;

    @BeforeEach
    void needsClang() {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
    }

    /** Compiles {@code source} (after the usual headers) with clang for BPF into target/. */
    static ElfObject compile(String name, String source) throws Exception {
        Path dir = Path.of("target", "kernel-parity").toAbsolutePath();
        Files.createDirectories(dir);
        Path src = dir.resolve(name + ".c");
        Path out = dir.resolve(name + ".o");
        Files.writeString(src, HEADERS + source);
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I/usr/include/" + arch + "-linux-gnu", "-c",
                src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "clang failed:\n" + log);
        return ElfObject.parse(Files.readAllBytes(out));
    }

    static LoadedProgram load(ElfObject o, String function, String engine) throws BpfException {
        ElfObject.ProgramDef prog = o.programs().stream().filter(d -> d.name().equals(function)).findFirst().orElseThrow();
        List<BpfMapBase> maps = o.createMapsBase(1);
        return LoadedProgram.load(prog.name(), prog.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps), engine, false,
                null);
    }

    static String refusal(ElfObject o, String function) {
        return assertThrows(BpfException.class, () -> load(o, function, "interpreter"), function + " must be refused").getMessage();
    }

    /** An IPv4/UDP frame to {@code port} with an IP header of {@code ihl} words. */
    static MemorySegment udp(int ihl, int port) {
        MemorySegment b = XdpRunTest.frame(64, 17);
        int ip = XdpRunTest.HEADROOM + 14;
        b.set(ValueLayout.JAVA_BYTE, ip, (byte) (0x40 | ihl));
        b.set(ValueLayout.JAVA_BYTE, ip + ihl * 4 + 2, (byte) (port >> 8));
        b.set(ValueLayout.JAVA_BYTE, ip + ihl * 4 + 3, (byte) port);
        return b;
    }

    private static final String UDP_PORT = """
            static __always_inline struct udphdr *udp_of(struct xdp_md *ctx, void **end)
            {
                void *data = (void *)(long)ctx->data;
                *end = (void *)(long)ctx->data_end;
                struct ethhdr *eth = data;
                if ((void *)(eth + 1) > *end || eth->h_proto != bpf_htons(ETH_P_IP)) return 0;
                struct iphdr *ip = (void *)(eth + 1);
                if ((void *)(ip + 1) > *end || ip->protocol != IPPROTO_UDP) return 0;
                __u32 hl = ip->ihl * 4;
                if (hl < sizeof(*ip)) return 0;
                return (void *)ip + hl;
            }
            SEC("xdp") int drop_echo(struct xdp_md *ctx)
            {
                void *end;
                struct udphdr *udp = udp_of(ctx, &end);
                if (!udp || (void *)(udp + 1) > end) return XDP_PASS;
                return udp->dest == bpf_htons(7) ? XDP_DROP : XDP_PASS;
            }
            SEC("xdp") int drop_echo_unproved(struct xdp_md *ctx)
            {
                void *end;
                struct udphdr *udp = udp_of(ctx, &end);
                if (!udp || (void *)udp + 2 > end) return XDP_PASS;
                return udp->dest == bpf_htons(7) ? XDP_DROP : XDP_PASS;
            }
            """;

    /** Cause 1: {@code ip + ihl * 4}, a pointer with a variable part, proved against data_end once. */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void variableOffsetPacketPointerReadsWhatItsOwnCheckProved(String engine) throws Exception {
        ElfObject o = compile("var_pkt", UDP_PORT);
        LoadedProgram p = load(o, "drop_echo", engine);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_DROP, x.run(p, udp(5, 7), XdpRunTest.HEADROOM, 64, 1, 0));
        assertEquals(XdpBuffer.XDP_DROP, x.run(p, udp(6, 7), XdpRunTest.HEADROOM, 64, 1, 0), "the port after 4 bytes of options");
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, udp(5, 53), XdpRunTest.HEADROOM, 64, 1, 0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, udp(15, 7), XdpRunTest.HEADROOM, 64, 1, 0), "a header past the end");
        String why = refusal(o, "drop_echo_unproved");
        assertTrue(why.contains("invalid access to packet"), why);
    }

    private static final String COMPARE = """
            #define PROBE(name, insn, skip) SEC("xdp") __attribute__((naked)) int name(struct xdp_md *ctx) { asm volatile( \\
                "r2 = *(u32 *)(r1 + 0);" "r3 = *(u32 *)(r1 + 4);" "r4 = r2;" "r4 += 7;" "r0 = 2;" \\
                insn skip "r0 = *(u8 *)(r2 + 7);" "r0 = 2;" "exit;" ::: "memory"); }
            #define TAKEN(name, cond) PROBE(name, "if " cond " goto +1;", "exit;")
            #define FALLS(name, cond) PROBE(name, "if " cond " goto +2;", "")
            TAKEN(end_gt_ptr, "r3 > r4")
            TAKEN(ptr_lt_end, "r4 < r3")
            FALLS(not_ptr_ge_end, "r4 >= r3")
            FALLS(not_end_le_ptr, "r3 <= r4")
            TAKEN(end_ge_ptr, "r3 >= r4")
            TAKEN(ptr_le_end, "r4 <= r3")
            FALLS(not_ptr_gt_end, "r4 > r3")
            FALLS(not_end_lt_ptr, "r3 < r4")
            """;

    /** Cause 2: {@code pkt + 7 < pkt_end} (strict, either side, either branch) proves 8 bytes; {@code <=} proves 7. */
    @Test
    void strictComparisonsWithTheEndProveOneByteMore() throws Exception {
        ElfObject o = compile("compare", COMPARE);
        for (String strict : List.of("end_gt_ptr", "ptr_lt_end", "not_ptr_ge_end", "not_end_le_ptr")) {
            load(o, strict, "interpreter");
        }
        for (String loose : List.of("end_ge_ptr", "ptr_le_end", "not_ptr_gt_end", "not_end_lt_ptr")) {
            String why = refusal(o, loose);
            assertTrue(why.contains("invalid access to packet, off=7 size=1") && why.contains("r=7)"), loose + ": " + why);
        }
    }

    private static final String META = """
            SEC("xdp") int meta_mark(struct xdp_md *ctx)
            {
                if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(__u32))) return XDP_PASS;
                void *data = (void *)(long)ctx->data;
                __u32 *meta = (void *)(long)ctx->data_meta;
                if ((void *)(meta + 1) > data) return XDP_PASS;
                *meta = 42;
                return *(volatile __u32 *)meta == 42 ? XDP_DROP : XDP_PASS;
            }
            SEC("xdp") int meta_unchecked(struct xdp_md *ctx)
            {
                if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(__u32))) return XDP_PASS;
                __u32 *meta = (void *)(long)ctx->data_meta;
                *meta = 42;
                return XDP_PASS;
            }
            """;

    /** Cause 3: metadata {@code bpf_xdp_adjust_meta} made is written and read after a check against data. */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void metadataCheckedAgainstDataIsReadable(String engine) throws Exception {
        ElfObject o = compile("meta", META);
        LoadedProgram p = load(o, "meta_mark", engine);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_DROP, x.run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 0));
        String why = refusal(o, "meta_unchecked");
        assertTrue(why.contains("invalid access to packet"), why);
    }

    private static final String SPILL = """
            #define NAKED(name, body) SEC("xdp") __attribute__((naked)) int name(struct xdp_md *ctx) { asm volatile(body ::: "memory"); }
            NAKED(spill32_dead_branch, "r1 = 5;" "*(u32 *)(r10 - 8) = r1;" "r2 = *(u32 *)(r10 - 8);" "r0 = 2;"
                  "if r2 == 5 goto +1;" "r0 = r9;" "exit;")
            NAKED(spill64_dead_branch, "r1 = 5;" "*(u64 *)(r10 - 8) = r1;" "r2 = *(u64 *)(r10 - 8);" "r0 = 2;"
                  "if r2 == 5 goto +1;" "r0 = r9;" "exit;")
            NAKED(spill32_live_branch, "r1 = 5;" "*(u32 *)(r10 - 8) = r1;" "r2 = *(u32 *)(r10 - 8);" "r0 = 2;"
                  "if r2 == 6 goto +1;" "r0 = r9;" "exit;")
            NAKED(loop_through_stack, "r1 = 0;" "*(u32 *)(r10 - 8) = r1;"
                  "r1 = *(u32 *)(r10 - 8);" "if r1 >= 10 goto +3;" "r1 += 1;" "*(u32 *)(r10 - 8) = r1;" "goto -5;"
                  "r0 = 2;" "exit;")
            NAKED(loop_without_end, "r1 = 0;" "*(u32 *)(r10 - 8) = r1;"
                  "r1 = *(u32 *)(r10 - 8);" "if r1 >= 10 goto +3;" "r1 += 0;" "*(u32 *)(r10 - 8) = r1;" "goto -5;"
                  "r0 = 2;" "exit;")
            NAKED(loop_from_a_random_start, "call 7;" "r0 &= 0xff;" "*(u64 *)(r10 - 8) = r0;" "r0 = 0;"
                  "r0 = *(u64 *)(r10 - 8);" "if r0 > 10 goto +4;" "r0 += 1;" "*(u64 *)(r10 - 8) = r0;" "r0 = 0;" "goto -6;"
                  "r0 = 2;" "exit;")
            NAKED(pointer_half_fill, "*(u64 *)(r10 - 8) = r1;" "r0 = *(u32 *)(r10 - 8);" "r0 = 2;" "exit;")
            """;

    /** Cause 4: a scalar spilled (64 or 32 bits) and filled keeps its value, so the kernel's dead branch is dead. */
    @Test
    void spilledScalarsKeepTheirBoundsAndDeadBranchesStayDead() throws Exception {
        ElfObject o = compile("spill", SPILL);
        load(o, "spill32_dead_branch", "interpreter");
        load(o, "spill64_dead_branch", "interpreter");
        String why = refusal(o, "spill32_live_branch");
        assertTrue(why.contains("R9 !read_ok"), why);
    }

    @Test
    void loopBoundedThroughAStackSlotEnds() throws Exception {
        ElfObject o = compile("spill", SPILL);
        LoadedProgram p = load(o, "loop_through_stack", "interpreter");
        assertEquals(XdpBuffer.XDP_PASS, new XdpBuffer(p.memory(0)).run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 0));
        load(o, "loop_from_a_random_start", "interpreter"); // a 64-bit spill of [0, 255] fills back as [0, 255], not any number
        String why = refusal(o, "loop_without_end");
        assertTrue(why.contains("infinite loop detected"), why);
    }

    @Test
    void halfOfASpilledPointerIsNotFilled() throws Exception {
        String why = refusal(compile("spill", SPILL), "pointer_half_fill");
        assertTrue(why.contains("invalid size of register fill"), why);
    }

    /** Cause 6 (return codes): any number loads; at run time an action XDP does not know is aborted (and dropped). */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void unknownXdpActionLoadsAndAbortsAtRunTime(String engine) throws Exception {
        ElfObject o = compile("action", "SEC(\"xdp\") int odd_action(struct xdp_md *ctx) { return 7; }\n");
        LoadedProgram p = load(o, "odd_action", engine);
        assertEquals(XdpBuffer.XDP_ABORTED, new XdpBuffer(p.memory(0)).run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 0));
    }

    private static final String SUBPROGRAMS = """
            static __noinline int twice(int x) { return x * 2 + 1; }
            static __noinline int thrice(int x) { return twice(x) * 3; }
            static __noinline int four(int x) { return x * 4 + 1; }
            SEC("xdp") int uses_twice(struct xdp_md *ctx) { return twice(ctx->rx_queue_index) == 5 ? XDP_DROP : XDP_PASS; }
            SEC("xdp") int uses_thrice(struct xdp_md *ctx) { return thrice(ctx->rx_queue_index) == 15 ? XDP_DROP : XDP_PASS; }
            SEC("xdp") int uses_four(struct xdp_md *ctx) { return four(ctx->rx_queue_index) == 9 ? XDP_DROP : XDP_PASS; }
            """;

    /** Cause 8: each program gets the .text functions it reaches (libbpf), not the ones it does not call. */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void programsBringOnlyTheFunctionsTheyCall(String engine) throws Exception {
        ElfObject o = compile("subprograms", SUBPROGRAMS);
        int[] expect = { XdpBuffer.XDP_DROP, XdpBuffer.XDP_DROP, XdpBuffer.XDP_DROP };
        String[] names = { "uses_twice", "uses_thrice", "uses_four" };
        for (int k = 0; k < names.length; k++) {
            LoadedProgram p = load(o, names[k], engine);
            XdpBuffer x = new XdpBuffer(p.memory(0));
            assertEquals(expect[k], x.run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 2), names[k] + " on queue 2");
            assertEquals(XdpBuffer.XDP_PASS, x.run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 0), names[k] + " on queue 0");
        }
        int twice = o.programs().stream().filter(d -> d.name().equals("uses_twice")).findFirst().orElseThrow().insns().length;
        int thrice = o.programs().stream().filter(d -> d.name().equals("uses_thrice")).findFirst().orElseThrow().insns().length;
        assertTrue(thrice > twice, "thrice brings twice along: " + thrice + " against " + twice);
    }

    private static final String REFUSED = """
            #define NAKED(name, body) SEC("xdp") __attribute__((naked)) int name(struct xdp_md *ctx) { asm volatile(body ::: "memory"); }
            NAKED(div_zero, "r0 = 2;" "r0 /= 0;" "exit;")
            NAKED(atomic_misaligned_stack, "r1 = 1;" "*(u64 *)(r10 - 8) = r1;" "lock *(u32 *)(r10 - 6) += r1;" "r0 = 2;" "exit;")
            NAKED(atomic_aligned_stack, "r1 = 1;" "*(u64 *)(r10 - 8) = r1;" "lock *(u32 *)(r10 - 8) += r1;" "r0 = 2;" "exit;")
            struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 1); } counts SEC(".maps");
            struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 1);
                     __uint(map_flags, BPF_F_WRONLY_PROG); } sink SEC(".maps");
            SEC("xdp") int atomic_misaligned_value(struct xdp_md *ctx)
            {
                __u32 key = 0;
                char *v = bpf_map_lookup_elem(&counts, &key);
                if (v) __sync_fetch_and_add((__u32 *)(v + 2), 1);
                return XDP_PASS;
            }
            SEC("xdp") int write_only_read(struct xdp_md *ctx)
            {
                __u32 key = 0;
                __u64 *v = bpf_map_lookup_elem(&sink, &key);
                return v && *v ? XDP_DROP : XDP_PASS;
            }
            SEC("xdp") int write_only_written(struct xdp_md *ctx)
            {
                __u32 key = 0;
                __u64 *v = bpf_map_lookup_elem(&sink, &key);
                if (v) *v = 1;
                return XDP_PASS;
            }
            """;

    /** Cause 9: what the kernel refuses at load, refused in its words. */
    @Test
    void whatTheKernelRefusesAtLoadIsRefused() throws Exception {
        ElfObject o = compile("refused", REFUSED);
        assertTrue(refusal(o, "div_zero").contains("div by zero"));
        String why = refusal(o, "atomic_misaligned_stack");
        assertTrue(why.contains("misaligned stack access off (0x0; 0x0)+0+-6 size 4"), why);
        load(o, "atomic_aligned_stack", "interpreter");
        why = refusal(o, "atomic_misaligned_value");
        assertTrue(why.contains("misaligned value access"), why);
        why = refusal(o, "write_only_read");
        assertTrue(why.contains("read from map forbidden"), why);
        load(o, "write_only_written", "interpreter");
    }

    private static final String PRUNING = """
            struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 1); } seen SEC(".maps");
            #define BIT(k) if (b[k] == k) flags |= 1ULL << k;
            #define BITS8(k) BIT(k) BIT(k + 1) BIT(k + 2) BIT(k + 3) BIT(k + 4) BIT(k + 5) BIT(k + 6) BIT(k + 7)
            SEC("xdp") int many_flags(struct xdp_md *ctx)
            {
                volatile __u8 *b = (void *)(long)ctx->data;
                if ((void *)(b + 40) > (void *)(long)ctx->data_end) return XDP_PASS;
                __u64 flags = 0;
                BITS8(0) BITS8(8) BITS8(16) BITS8(24) BITS8(32)
                __u32 key = 0;
                __u64 *v = bpf_map_lookup_elem(&seen, &key);
                if (v) *v = flags;
                return XDP_PASS;
            }
            #define NAKED(name, body) SEC("xdp") __attribute__((naked)) int name(struct xdp_md *ctx) { asm volatile(body ::: "memory"); }
            NAKED(offset_decided_before_join,
                  "r2 = *(u32 *)(r1 + 0);" "r3 = *(u32 *)(r1 + 4);" "r4 = r2;" "r4 += 1;" "r0 = 2;" "if r4 > r3 goto +7;"
                  "r6 = 100;" "r5 = *(u8 *)(r2 + 0);" "if r5 != 0 goto +1;" "r6 = 0;"
                  "r2 += r6;" "r0 = *(u8 *)(r2 + 0);" "r0 = 2;" "exit;")
            """;

    /**
     * Cause 5: 40 independent branches are 2^40 paths; the kernel prunes a state a verified one covers,
     * ignoring a scalar whose value decides nothing (precision), and so must modnet, well inside 1M insns.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void equivalentStatesArePrunedSoManyBranchesVerify(String engine) throws Exception {
        ElfObject o = compile("pruning", PRUNING);
        LoadedProgram p = load(o, "many_flags", engine);
        assertTrue(p.processed() < 20_000, "processed " + p.processed() + " insns");
        System.out.println("many_flags: processed " + p.processed() + " insns");
        MemorySegment f = XdpRunTest.frame(60, 17);
        for (int k = 0; k < 40; k += 3) {
            f.set(ValueLayout.JAVA_BYTE, XdpRunTest.HEADROOM + k, (byte) k);
        }
        assertEquals(XdpBuffer.XDP_PASS, new XdpBuffer(p.memory(0)).run(p, f, XdpRunTest.HEADROOM, 60, 1, 0));
        long flags = java.nio.ByteBuffer.wrap(p.maps().get(0).lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        long want = 0;
        for (int k = 0; k < 40; k++) {
            byte b = f.get(ValueLayout.JAVA_BYTE, XdpRunTest.HEADROOM + k);
            want |= b == k ? 1L << k : 0;
        }
        assertEquals(want, flags);
    }

    /** A scalar that moves a pointer after the join keeps its value: the unsafe path is not pruned by the safe one. */
    @Test
    void pruningKeepsScalarsThatDecideAnAccess() throws Exception {
        String why = refusal(compile("pruning", PRUNING), "offset_decided_before_join");
        assertTrue(why.contains("invalid access to packet, off=100 size=1"), why);
    }

    /** Cause 9: an lddw map reference no relocation names is an fd to the kernel, and no map. */
    @Test
    void aRawMapReferenceNamingNoMapIsRefused() throws Exception {
        String source = """
                struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 1); } m SEC(".maps");
                SEC("xdp") __attribute__((naked)) int raw_map(struct xdp_md *ctx)
                {
                    asm volatile(".quad 0x0000000000001118;" ".quad 0;" "r0 = 2;" "exit;" ::: "memory"); /* ld_pseudo r1, 1, 0 */
                }
                """;
        String why = assertThrows(BpfException.class, () -> compile("raw_map", source)).getMessage();
        assertTrue(why.contains("fd 0 is not pointing to valid bpf_map"), why);
    }

    static final String TAIL_CALL_FROM = """
            struct {
                __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
                __uint(max_entries, 1);
                __type(key, __u32);
                __type(value, __u32);
            } jumps SEC(".maps");
            static __attribute__((noinline)) RET jump(struct xdp_md *ctx)
            {
                bpf_tail_call(ctx, &jumps, 0);
                return RETURN;
            }
            SEC("xdp") int tail_from_sub(struct xdp_md *ctx)
            {
                jump(ctx);
                return XDP_PASS;
            }
            """;

    /**
     * The BTF return type of an object's functions reaches the verifier through the service's load of an
     * object's program ({@code progLoad(ProgramDef, ...)}, what bpftool prog load, ip link ... xdp obj and
     * tc ... bpf obj call): a tail call from a void subprogram is refused with the kernel's words, from an
     * int one it loads.
     */
    @Test
    void aTailCallFromAVoidSubprogramIsRefusedThroughTheService() throws Exception {
        org.modnet.ebpf.api.BpfSyscall bpf = new org.modnet.ebpf.impl.BpfSyscallImpl();
        ElfObject voidSub = compile("tail_void", TAIL_CALL_FROM.replace("return RETURN;", "").replace("RET", "void"));
        ElfObject.ProgramDef d = voidSub.program("xdp");
        assertTrue(d.nonScalarReturns().length == 1, "one subprogram returns no int");
        BpfException e = assertThrows(BpfException.class, () -> bpf.progLoad(d, ProgType.XDP, org.modnet.ebpf.api.AttachType.DEFAULT,
                voidSub.createMaps(1), null, null, org.modnet.ebpf.api.BpfSyscall.INTERPRETER, false));
        assertTrue(e.getMessage().contains("tail_call is only allowed in functions that return 'int'."), e.getMessage());

        ElfObject intSub = compile("tail_int", TAIL_CALL_FROM.replace("RETURN", "0").replace("RET", "int"));
        ElfObject.ProgramDef ok = intSub.program("xdp");
        assertEquals(0, ok.nonScalarReturns().length);
        bpf.progLoad(ok, ProgType.XDP, org.modnet.ebpf.api.AttachType.DEFAULT, intSub.createMaps(1), null, null,
                org.modnet.ebpf.api.BpfSyscall.INTERPRETER, false).close();
    }

    static final String STRTOX = """
            struct {
                __uint(type, BPF_MAP_TYPE_ARRAY);
                __uint(max_entries, 1);
                __type(key, __u32);
                __type(value, long[4]);
            } results SEC(".maps");
            SEC("xdp") int parse(struct xdp_md *ctx)
            {
                void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
                char buf[24];
                if (data + sizeof(buf) > end) return XDP_ABORTED;
                __builtin_memcpy(buf, data, sizeof(buf));
                __u32 k = 0;
                long *out = bpf_map_lookup_elem(&results, &k);
                if (!out) return XDP_ABORTED;
                long v;
                unsigned long u;
                out[0] = bpf_strtol(buf, sizeof(buf), 0, &v);
                out[1] = v;
                out[2] = bpf_strtoul(buf, sizeof(buf), 0, &u);
                out[3] = u;
                return XDP_PASS;
            }
            """;

    /** {@code bpf_strtol}/{@code bpf_strtoul} on a string the program copied from the packet: bytes read, -EINVAL, -ERANGE, as the kernel's. */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void strtolAndStrtoulParseAsTheKernels(String engine) throws Exception {
        ElfObject o = compile("strtox", STRTOX);
        List<BpfMapBase> maps = o.createMapsBase(1);
        ElfObject.ProgramDef d = o.program("xdp");
        LoadedProgram p = LoadedProgram.load(d.name(), d.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps), engine,
                false, null);
        BpfMapBase results = maps.stream().filter(m -> m.name().equals("results")).findFirst().orElseThrow();
        // the string, then what strtol returns and stores, then strtoul's
        Object[][] cases = {
                { "  -0x1f", 7L, -31L, -22L, 0L },
                { "0755 rest", 4L, 493L, 4L, 493L },
                { "\t+12", -22L, 0L, -22L, 0L },
                { "abc", -22L, 0L, -22L, 0L },
                { "9223372036854775808", -34L, 0L, 19L, Long.MIN_VALUE },
                { "18446744073709551616", -34L, 0L, -34L, 0L },
                { "-9223372036854775808", 20L, Long.MIN_VALUE, -22L, 0L },
                { "0x", 1L, 0L, 1L, 0L }, // base 0: no hex digit after the x, so octal 0
        };
        for (Object[] c : cases) {
            MemorySegment frame = XdpRunTest.frame(64, 17);
            MemorySegment.copy(java.util.Arrays.copyOf(((String) c[0]).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 64), 0, frame,
                    ValueLayout.JAVA_BYTE, XdpRunTest.HEADROOM, 64);
            assertEquals(XdpBuffer.XDP_PASS, new XdpBuffer(p.memory(0)).run(p, frame, XdpRunTest.HEADROOM, 64, 3, 0), (String) c[0]);
            java.nio.ByteBuffer v = java.nio.ByteBuffer.wrap(results.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertEquals(List.of(c[1], c[2], c[3], c[4]), List.of(v.getLong(0), v.getLong(8), v.getLong(16), v.getLong(24)), (String) c[0]);
        }
    }

    /** The result pointer must be 8-aligned, as check_func_arg checks ARG_PTR_TO_LONG strictly. */
    @Test
    void aMisalignedResultIsRefused() throws Exception {
        ElfObject o = compile("strtox_misaligned", """
                SEC("xdp") int parse(struct xdp_md *ctx)
                {
                    char buf[16] = "42";
                    long v[2];
                    bpf_strtol(buf, sizeof(buf), 0, (long *)((char *)v + 4));
                    return XDP_PASS;
                }
                """);
        assertTrue(refusal(o, "parse").contains("misaligned stack access"), refusal(o, "parse"));
    }
}

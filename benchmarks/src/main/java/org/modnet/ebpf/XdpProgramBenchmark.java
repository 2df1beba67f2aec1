package org.modnet.ebpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * XDP programs on a 64-byte UDP frame, one core, interpreter against JIT: {@code drop} is XDP_DROP
 * (the run's own cost: context, program, action); {@code flow} parses Ethernet and IPv4, builds the
 * 5-tuple on the stack and looks it up in a hash map of 1024 flows, counting hits with an atomic add;
 * {@code parse} is flow without the lookup and the add; {@code csum} sums a 1 KiB frame as 256
 * 32-bit words (RFC 1071, unrolled: one bounds check, then 256 proven loads), as
 * {@code benchmarks/native/rte_bpf_bench.c} runs the same programs under DPDK's JIT
 * ({@code bin/modnet-ebpf-bench}). {@code access=checked} compiles every memory access with its
 * bounds check, as the JIT did before proven accesses became plain loads: before and after in one run.
 * One op is one frame. The hook in the driver path (pktgen frames) adds NAPI's cost to this.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class XdpProgramBenchmark {
    /** The eBPF implementation, outside OSGi. */
    static final BpfSyscall BPF = new BpfSyscallImpl();

    static final String DROP = "mov %r0, 1\nexit";

    static final String FLOW = """
            ldxw %r2, [%r1+0]
            ldxw %r3, [%r1+4]
            mov %r4, %r2
            add %r4, 42
            jgt %r4, %r3, pass
            ldxh %r5, [%r2+12]
            jne %r5, 0x8, pass
            ldxw %r5, [%r2+26]
            stxw [%r10-16], %r5
            ldxw %r5, [%r2+30]
            stxw [%r10-12], %r5
            ldxw %r5, [%r2+34]
            stxw [%r10-8], %r5
            ldxb %r5, [%r2+23]
            stxw [%r10-4], %r5
            ldmap %r1, 0
            mov %r2, %r10
            add %r2, -16
            call 1
            jeq %r0, 0, pass
            mov %r1, 1
            lock add [%r0+0], %r1
            mov %r0, 1
            exit
            pass:
            mov %r0, 2
            exit
            """;

    /** The flow program's parsing and key building without the lookup: what the map costs is flow minus parse. */
    static final String PARSE = FLOW.replace("""
            ldmap %r1, 0
            mov %r2, %r10
            add %r2, -16
            call 1
            jeq %r0, 0, pass
            mov %r1, 1
            lock add [%r0+0], %r1
            """, "");

    /** RFC 1071 over {@link #CSUM_LEN} bytes of the frame: 32-bit words into 64 bits, folded to 16; r0 its low 2 bits. */
    static final String CSUM = csum();

    static final int CSUM_LEN = 1024;

    private static String csum() {
        StringBuilder b = new StringBuilder("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 1024
                jgt %r4, %r3, pass
                mov %r0, 0
                """);
        for (int off = 0; off < CSUM_LEN; off += 4) {
            b.append("ldxw %r5, [%r2+").append(off).append("]\nadd %r0, %r5\n");
        }
        b.append("mov %r5, %r0\nrsh %r5, 32\nmov32 %r0, %r0\nadd %r0, %r5\n".repeat(2));
        b.append("mov %r5, %r0\nrsh %r5, 16\nand %r0, 0xffff\nadd %r0, %r5\n".repeat(2));
        b.append("and %r0, 3\nexit\npass:\nmov %r0, 2\nexit\n");
        return b.toString();
    }

    @Param({ "interpreter", "jit" })
    public String engine;

    /** {@code plain}: accesses the verifier proved compile to plain loads and stores; {@code checked}: each keeps its bounds check. */
    @Param({ "plain", "checked" })
    public String access;

    static final String LOOKUP = FLOW.replace("lock add [%r0+0], %r1\n", "");

    @Param({ "drop", "parse", "lookup", "flow", "csum" })
    public String program;

    private BpfProg prog;
    private XdpContext xdp;
    private MemorySegment frame;
    private int len = 64;

    @Setup
    public void setUp() throws Exception {
        System.setProperty("modnet.ebpf.jit.checked", String.valueOf(access.equals("checked")));
        BpfMap flows = BPF.mapCreate("flows", BpfMap.MAP_HASH, 16, 8, 1024, 0, 1);
        List<BpfMap> maps = List.of(flows);
        prog = BPF.progLoad(program, BPF.assemble(switch (program) {
            case "drop" -> DROP;
            case "parse" -> PARSE;
            case "lookup" -> LOOKUP;
            case "csum" -> CSUM;
            default -> FLOW;
        }), ProgType.XDP, AttachType.DEFAULT, maps, null, null, engine, false);
        xdp = prog.xdpContext(0);
        frame = Arena.ofAuto().allocate(256 + CSUM_LEN, 64); // as a driver's buffers are: cache-line aligned
        byte[] f = new byte[64];
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = 17;
        f[26] = 10; f[29] = 1;           // 10.0.0.1
        f[30] = 10; f[33] = 2;           // 10.0.0.2
        f[34] = 0x30; f[35] = 0x39;      // sport 12345
        f[36] = 0x00; f[37] = 0x35;      // dport 53
        MemorySegment.copy(f, 0, frame, ValueLayout.JAVA_BYTE, 256, 64);
        byte[] key = new byte[16];
        System.arraycopy(f, 26, key, 0, 12);
        key[12] = 17;
        flows.update(key, new byte[8], BpfMap.BPF_ANY);
        for (int i = 1; i < 1024; i++) {
            byte[] other = key.clone();
            other[0] = (byte) i;
            other[1] = (byte) (i >>> 8);
            flows.update(other, new byte[8], BpfMap.BPF_ANY);
        }
        if (program.equals("csum")) {
            long sum = 0;
            for (int i = 0; i < CSUM_LEN; i++) {
                frame.set(ValueLayout.JAVA_BYTE, 256 + i, (byte) (i * 7 + 1)); // as rte_bpf_bench.c fills it
            }
            for (int i = 0; i < CSUM_LEN; i += 4) {
                sum += frame.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 256 + i) & 0xffffffffL;
            }
            for (int r = 0; r < 2; r++) {
                sum = (sum & 0xffffffffL) + (sum >>> 32);
            }
            for (int r = 0; r < 2; r++) {
                sum = (sum & 0xffff) + (sum >>> 16);
            }
            if (xdp.run(frame, 256, CSUM_LEN, 1, 0) != (int) (sum & 3)) {
                throw new IllegalStateException("the checksum program summed the frame wrong");
            }
            len = CSUM_LEN;
            return;
        }
        if (run() != XdpContext.XDP_DROP) {
            throw new IllegalStateException("the program did not match the frame");
        }
    }

    @Benchmark
    public int run() {
        return xdp.run(frame, 256, len, 1, 0);
    }

    /**
     * {@code n} per-frame runs as a driver's receive loop makes them, by {@link XdpCpuTime}: the buffer, the
     * frame and the context's object held in locals (registers), as DPDK's driver holds its function and frame,
     * not reloaded from this object every run; an acquire fence per run, so each run reads the frame anew.
     */
    public long runs(long n) {
        XdpContext x = xdp;
        MemorySegment f = frame;
        int l = len;
        long sink = 0;
        for (long r = 0; r < n; r++) {
            java.lang.invoke.VarHandle.acquireFence();
            sink += x.run(f, 256, l, 1, 0);
        }
        return sink;
    }

    /** {@code BPF_PROG_TEST_RUN}'s shape: the context set once, the program run {@code repeat} times ({@link XdpContext#testRun}). */
    public int testRun(long repeat) {
        return xdp.testRun(frame, 256, len, 1, 0, repeat);
    }
}

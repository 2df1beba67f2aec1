package org.modnet.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.modnet.api.net.DeviceStats;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.ipv4.RouteService;
import org.modnet.xdp.EbpfXdpHook;
import org.modnet.xdp.FibLookup;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Forwarding through {@link RouterRig}'s router namespace on one softirq: 60-byte IPv4/UDP frames from
 * 10.0.1.2 to 10.0.2.2 into R's ingress ring, then NAPI, {@code ip_rcv}, {@code ip_forward} (TTL, checksum), the
 * neighbour (a permanent entry), the egress qdisc and a sink driver that frees each frame. With
 * {@code path=xdp-generic} or {@code xdp-native} an XDP program on the ingress forwards instead — it
 * asks {@code bpf_fib_lookup} where to, rewrites TTL, checksum and MACs, and redirects (JIT) — at the
 * generic hook, or natively on the driver's buffer. One op is one forwarded frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class ForwardingBenchmark {
    /** The eBPF implementation, outside OSGi. */
    static final BpfSyscall BPF = new BpfSyscallImpl();

    /** xdp_fwd in the assembler's syntax: parse, fib_lookup, TTL and checksum, MACs, redirect. */
    static final String FWD = """
            mov %r6, %r1
            ldxw %r2, [%r6+0]
            ldxw %r3, [%r6+4]
            mov %r4, %r2
            add %r4, 34
            jgt %r4, %r3, pass
            ldxh %r5, [%r2+12]
            jne %r5, 0x8, pass
            ldxb %r5, [%r2+22]
            jle %r5, 1, pass
            stdw [%r10-64], 0
            stdw [%r10-56], 0
            stdw [%r10-48], 0
            stdw [%r10-40], 0
            stdw [%r10-32], 0
            stdw [%r10-24], 0
            stdw [%r10-16], 0
            stdw [%r10-8], 0
            stb [%r10-64], 2
            ldxh %r5, [%r2+16]
            be16 %r5
            stxh [%r10-58], %r5
            ldxw %r5, [%r6+12]
            stxw [%r10-56], %r5
            ldxw %r5, [%r2+26]
            stxw [%r10-48], %r5
            ldxw %r5, [%r2+30]
            stxw [%r10-32], %r5
            mov %r1, %r6
            mov %r2, %r10
            add %r2, -64
            mov %r3, 64
            mov %r4, 0
            call 69
            jne %r0, 0, pass
            ldxw %r2, [%r6+0]
            ldxw %r3, [%r6+4]
            mov %r4, %r2
            add %r4, 34
            jgt %r4, %r3, pass
            ldxb %r5, [%r2+22]
            sub %r5, 1
            stxb [%r2+22], %r5
            ldxh %r5, [%r2+24]
            add %r5, 1
            jlt %r5, 0xffff, csum
            add %r5, 1
            csum:
            stxh [%r2+24], %r5
            ldxw %r5, [%r10-6]
            stxw [%r2+0], %r5
            ldxh %r5, [%r10-2]
            stxh [%r2+4], %r5
            ldxw %r5, [%r10-12]
            stxw [%r2+6], %r5
            ldxh %r5, [%r10-8]
            stxh [%r2+10], %r5
            ldxw %r1, [%r10-56]
            mov %r2, 0
            call 23
            exit
            pass:
            mov %r0, 2
            exit
            """;

    /** {@code stack}: {@code ip_forward}; {@code xdp-generic}, {@code xdp-native}: the XDP program at that hook. */
    @Param({ "stack", "xdp-generic", "xdp-native" })
    public String path;

    private RouterRig rig;
    private final MemorySegment page = Arena.ofAuto().allocate(256 + RouterRig.SIZE, 64);

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new RouterRig();
        if (!path.equals("stack")) {
            FibLookup fib = new FibLookup(new RouteService(rig.ipv4), rig.arp, rig.ipv4);
            BpfProg p = BPF.progLoad("xdp_fwd", BPF.assemble(FWD), ProgType.XDP, AttachType.DEFAULT, List.of(), fib.helpers(), null, "jit", false);
            rig.in.setXdp(new EbpfXdpHook(BPF, p), path.equals("xdp-native"));
        }
        // the path under test must forward, not drop: and the XDP paths by redirecting, not by passing to the stack
        if (forwardBurst() != RouterRig.BURST || (!path.equals("stack") && rig.in.ethtoolStats().get("xdp_redirect") != RouterRig.BURST)) {
            throw new IllegalStateException("frames were not forwarded on the " + path + " path: "
                    + rig.out.stats().get(DeviceStats.Field.TX_PACKETS) + " " + rig.in.ethtoolStats());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        rig.close();
    }

    @Benchmark
    @OperationsPerInvocation(RouterRig.BURST)
    public long forwardBurst() {
        return path.equals("xdp-native") ? rig.forwardNativeBurst(page) : rig.forwardBurst();
    }
}

package org.modnet.sched;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.modnet.bench.RouterRig;
import org.modnet.ebpf.impl.BpfSyscallImpl;
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
 * {@link RouterRig}'s router (60-byte IPv4/UDP frames forwarded through namespace R, noqueue on out0)
 * with tc's ingress hook on in0: {@code none} (no clsact: the core's null check),
 * {@code clsact} with no filter, {@code matchall} with {@code action pass}, a {@code u32} and a
 * {@code flower} filter the frames miss (so each is tried and the frame goes on), and {@code bpf}:
 * tc_drop_icmp.c built by clang (needs clang and libbpf-dev), which passes UDP. One op is one frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class TcFilterForwardingBenchmark {
    @Param({ "none", "clsact", "matchall", "u32", "flower", "bpf" })
    public String filter;

    private RouterRig rig;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new RouterRig("noqueue");
        TcCommand tc = new TcCommand(rig.stack.core(), rig.stack.qdiscHook());
        tc.setBpf(new ClsBpfObjects(rig.stack.core(), new BpfSyscallImpl()));
        if (!filter.equals("none")) {
            tc.run("R", "qdisc", "add", "dev", "in0", "clsact");
        }
        String add = "filter add dev in0 ingress ";
        switch (filter) {
            case "matchall" -> tc.run("R", (add + "matchall action pass").split(" "));
            case "u32" -> tc.run("R", (add + "protocol ip u32 match ip dst 10.0.9.9/32 action drop").split(" "));
            case "flower" -> tc.run("R", (add + "protocol ip flower ip_proto tcp dst_port 80 action drop").split(" "));
            case "bpf" -> tc.run("R", (add + "bpf da obj " + object() + " sec tc").split(" "));
            default -> {
            }
        }
        if (forwardBurst() != RouterRig.BURST) {
            throw new IllegalStateException("frames were not forwarded with " + filter);
        }
    }

    /** tc_drop_icmp.c built by clang into target/. */
    private static String object() throws Exception {
        Path src = Path.of("bundles/sched/src/test/resources/bpf/tc_drop_icmp.c");
        if (!Files.exists(src)) {
            src = Path.of("../bundles/sched/src/test/resources/bpf/tc_drop_icmp.c");
        }
        Path out = Files.createTempFile("tc_drop_icmp", ".o");
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu", "-c",
                src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("clang (and libbpf-dev) needed for the bpf case: " + log);
        }
        return out.toString();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        rig.close();
    }

    @Benchmark
    @OperationsPerInvocation(RouterRig.BURST)
    public long forwardBurst() {
        return rig.forwardBurst();
    }
}

package org.modnet.sched;

import java.util.concurrent.TimeUnit;

import org.modnet.api.sched.QdiscOps;
import org.modnet.bench.RouterRig;
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
 * {@link RouterRig}'s router (60-byte IPv4/UDP frames from 10.0.1.2 to 10.0.2.2 through
 * namespace R: NAPI, {@code ip_rcv}, {@code ip_forward}, a permanent neighbour) with a given egress
 * qdisc on out0, put there by {@code tc qdisc replace}: {@code noqueue} (straight to the driver),
 * the core's built-in {@code pfifo_fast}, the sched bundle's {@code pfifo_fast}, {@code fq_codel},
 * and {@code netem} with no impairment. One op is one forwarded frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class QdiscForwardingBenchmark {
    /** The egress qdisc: {@code builtin} is the core's pfifo_fast with no sched bundle at work. */
    @Param({ "noqueue", "builtin", "pfifo_fast", "fq_codel", "netem" })
    public String qdisc;

    private RouterRig rig;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new RouterRig();
        TcCommand tc = new TcCommand(rig.stack.core(), rig.stack.qdiscHook());
        tc.addFamily(new NoqueueOps(), java.util.Map.of(QdiscOps.KIND, "noqueue"));
        tc.addFamily(new PfifoFastOps(), java.util.Map.of(QdiscOps.KIND, "pfifo_fast"));
        tc.addFamily(new FqCodelOps(), java.util.Map.of(QdiscOps.KIND, "fq_codel"));
        tc.addFamily(new NetemOps(), java.util.Map.of(QdiscOps.KIND, "netem"));
        if (!qdisc.equals("builtin")) {
            tc.run("R", "qdisc", "replace", "dev", "out0", "root", qdisc);
        }
        if (!rig.out.qdisc().equals(qdisc.equals("builtin") ? "pfifo_fast" : qdisc)) {
            throw new IllegalStateException("out0 has " + rig.out.qdisc());
        }
        if (forwardBurst() != RouterRig.BURST) {
            throw new IllegalStateException("frames were not forwarded through " + qdisc);
        }
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

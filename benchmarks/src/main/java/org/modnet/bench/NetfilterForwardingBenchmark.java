package org.modnet.bench;

import java.util.concurrent.TimeUnit;

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
 * {@link ForwardingBenchmark}'s stack path (60-byte IPv4/UDP frames forwarded through namespace R on
 * one softirq) with iptables' filter table on FORWARD: no netfilter, the table with no rule, and 100
 * rules that do not match (each frame walks them all, as Linux's linear ip_tables does, and the
 * ACCEPT policy passes it). One op is one forwarded frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class NetfilterForwardingBenchmark {
    /**
     * {@code none}: no netfilter; {@code 0}: the filter table loaded and touched, no rule; {@code N}: N
     * FORWARD rules none of which matches (tcp ports), so every frame walks them all and the ACCEPT policy takes it.
     */
    @Param({ "none", "0", "100" })
    public String rules;

    private RouterRig rig;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new RouterRig();
        if (!rules.equals("none")) {
            org.modnet.netfilter.IptablesCommand nf = new org.modnet.netfilter.IptablesCommand(rig.stack.core(), null);
            rig.hook(nf::hook, "FORWARD", 0);
            nf.run(rig.r, "-P", "FORWARD", "ACCEPT");
            for (int i = 0; i < Integer.parseInt(rules); i++) {
                nf.run(rig.r, "-A", "FORWARD", "-p", "tcp", "--dport", Integer.toString(1000 + i), "-j", "DROP");
            }
        }
        rig.checkForwards();
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

package org.modnet.bench;

import java.util.List;
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
 * {@link NetfilterForwardingBenchmark}'s router (60-byte IPv4/UDP frames of one flow forwarded through
 * namespace R on one softirq) with connection tracking: {@code none} (no netfilter), {@code conntrack}
 * (nf_conntrack_in at PRE_ROUTING, the NAT hooks and confirm at POST_ROUTING, no rule: every frame is
 * looked up in the table and refreshes its entry) and {@code masquerade} (also the nat table's
 * {@code -o out0 -j MASQUERADE}: the first frame binds the flow, every frame is rewritten). One op is
 * one forwarded frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class ConntrackForwardingBenchmark {
    @Param({ "none", "conntrack", "masquerade" })
    public String mode;

    private RouterRig rig;
    private org.modnet.conntrack.ConntrackComponent conntrack;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new RouterRig();
        if (!mode.equals("none")) {
            conntrack = new org.modnet.conntrack.ConntrackComponent(rig.stack.core(), null);
            conntrack.init(rig.r);
            rig.hook(conntrack::conntrackIn, "PRE_ROUTING", -200);
            rig.hook(conntrack::nat, "PRE_ROUTING", -100);
            rig.hook(conntrack::nat, "POST_ROUTING", 100);
            rig.hook(conntrack::confirm, "POST_ROUTING", Integer.MAX_VALUE);
            if (mode.equals("masquerade")) {
                org.modnet.netfilter.IptablesCommand nf = new org.modnet.netfilter.IptablesCommand(rig.stack.core(), null);
                nf.run(rig.r, "-t", "nat", "-A", "POSTROUTING", "-o", "out0", "-j", "MASQUERADE");
                conntrack.addLookup(org.modnet.api.netfilter.NfHook.POST_ROUTING, nf::natLookup);
            }
        }
        rig.checkForwards();
        // and through conntrack: one tracked flow, leaving from the router's address when masqueraded
        if (conntrack != null) {
            String listed = String.join("\n", conntrack.run(rig.r, "-L"));
            if (!listed.contains("src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=53")
                    || mode.equals("masquerade") != listed.contains("dst=10.0.2.1 sport=53 dport=40000")
                    || !conntrack.run(rig.r, "-C").equals(List.of("1"))) {
                throw new IllegalStateException("the flow is not tracked as " + mode + " says: " + listed);
            }
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

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
 * Issue 18's two remaining iptables figures on {@link RouterRig}'s router (60-byte frames, 64 on the
 * wire with the FCS, one softirq): {@code raw-drop}, every frame dropped by
 * {@code iptables -t raw -A PREROUTING -j DROP} as the first rule it meets (the XDP paper's Linux
 * figure for this is 4.8 Mpps a core), and {@code 10000}, ten thousand FORWARD rules none of which
 * matches, walked linearly by every frame before the ACCEPT policy forwards it. One op is one frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class NetfilterDropBenchmark {
    @Param({ "raw-drop", "10000" })
    public String rules;

    private RouterRig rig;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new RouterRig();
        org.modnet.netfilter.IptablesCommand nf = new org.modnet.netfilter.IptablesCommand(rig.stack.core(), null);
        if (rules.equals("raw-drop")) {
            rig.hook(nf::rawHook, "PRE_ROUTING", -300);
            nf.run(rig.r, "-t", "raw", "-A", "PREROUTING", "-j", "DROP");
            if (rig.forwardBurst() != 0) {
                throw new IllegalStateException("the raw table's DROP let frames through");
            }
            String listed = String.join("\n", nf.run(rig.r, "-t", "raw", "-L", "PREROUTING", "-n", "-v", "-x"));
            if (!listed.matches("(?s).*\\s" + RouterRig.BURST + "\\s+" + RouterRig.BURST * (RouterRig.SIZE - 14) + " DROP.*")) {
                throw new IllegalStateException("the DROP rule did not count the burst:\n" + listed);
            }
        } else {
            rig.hook(nf::hook, "FORWARD", 0);
            java.util.List<String> restore = new java.util.ArrayList<>();
            restore.add("*filter");
            restore.add(":FORWARD ACCEPT [0:0]");
            for (int i = 0; i < Integer.parseInt(rules); i++) {
                restore.add("-A FORWARD -p tcp -m tcp --dport " + (1 + i % 65000) + " -j DROP");
            }
            restore.add("COMMIT");
            nf.restoreLines(rig.r, restore);
            if (nf.run(rig.r, "-S", "FORWARD").size() != Integer.parseInt(rules) + 1) {
                throw new IllegalStateException("the rules were not all loaded");
            }
            rig.checkForwards();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        rig.close();
    }

    @Benchmark
    @OperationsPerInvocation(RouterRig.BURST)
    public long burst() {
        return rig.forwardBurst();
    }
}

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
 * {@link NetfilterForwardingBenchmark}'s router with nftables instead of iptables: an {@code ip filter}
 * chain on the forward hook with {@code none} (no nftables), {@code 0} (the chain, no rule),
 * {@code 100} (a hundred {@code tcp dport N drop} rules none of which matches the UDP frames) and
 * {@code set10000} (one {@code ip saddr @blocked drop} rule over a 10,000-element set the frames'
 * source is not in). One op is one forwarded frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class NftForwardingBenchmark {
    /**
     * {@code none}: no netfilter; {@code 0}: the filter table loaded and touched, no rule; {@code N}: N
     * FORWARD rules none of which matches (tcp ports), so every frame walks them all and the ACCEPT policy takes it.
     */
    @Param({ "none", "0", "100", "set10000" })
    public String rules;

    private RouterRig rig;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new RouterRig();
        if (!rules.equals("none")) {
            org.modnet.nftables.NftCommand nft = new org.modnet.nftables.NftCommand(rig.stack.core(), null);
            rig.hook(nft::hook, "FORWARD", 0);
            StringBuilder cmds = new StringBuilder("add table ip filter\n"
                    + "add chain ip filter forward { type filter hook forward priority 0; policy accept; }\n");
            if (rules.equals("set10000")) {
                cmds.append("add set ip filter blocked { type ipv4_addr; elements = { ");
                for (int i = 0; i < 10_000; i++) {
                    cmds.append(i > 0 ? ", " : "").append("172.16.").append(i >> 8).append('.').append(i & 0xff);
                }
                cmds.append(" }; }\nadd rule ip filter forward ip saddr @blocked drop\n");
            } else {
                for (int i = 0; i < Integer.parseInt(rules); i++) {
                    cmds.append("add rule ip filter forward tcp dport ").append(1000 + i).append(" drop\n");
                }
            }
            nft.run(rig.r, "-f", writeTemp(cmds.toString()));
        }
        rig.checkForwards();
    }

    private static String writeTemp(String text) throws java.io.IOException {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("nft-bench", ".nft");
        java.nio.file.Files.writeString(f, text);
        f.toFile().deleteOnExit();
        return f.toString();
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

package org.modnet.ipv4;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.modnet.api.inet.FibRule;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.core.StandaloneCore;
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
 * Route lookups of a packet sent by the host in a main table of 10k random routes: the table alone
 * ({@code table}, what the output path did before rules), through the rules with only the three
 * default rules ({@code rules}, the {@code fib_has_custom_rules} shortcut), and through ten rules that do
 * not match (source, mark, port selectors) before main ({@code rules10}). One op is one lookup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FibRulesBenchmark {
    static final int PROBES = 4096;

    @Param({ "table", "rules", "rules10" })
    public String path;

    private StandaloneCore stack;
    private FibRules rules;
    private Ipv4Fib main;
    private final int[] addresses = new int[PROBES];

    @Setup(Level.Trial)
    public void build() throws Exception {
        stack = StandaloneCore.manual(1, 64, System::nanoTime);
        NetNamespace ns = stack.core().addNamespace("bench");
        NetDevice eth0 = ns.register(DeviceSetup.ether("eth0", "bench"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        eth0.open();
        rules = new FibRules(ns);
        main = rules.main;
        Random random = new Random(7);
        main.add(new RouteEntry("unicast", 0, 0, 0x0a000001, eth0, 0, 0, "boot", "global"), false);
        for (int i = 0; i < 10_000; i++) {
            int len = 8 + random.nextInt(25);
            try {
                main.add(new RouteEntry("unicast", random.nextInt() & FibTrie.mask(len), len, 0, eth0, 0, 0, "boot", "link"), false);
            } catch (org.modnet.api.net.NetException e) {
                // the same prefix twice
            }
        }
        if (path.equals("rules10")) {
            for (int i = 0; i < 10; i++) {
                rules.add(new FibRule(100 + i, false, 0x0b000000 + (i << 8), 24, 0, 0, null, null, i + 1, 0xff, 0, 0, 0, 0, 0, 0,
                        "table", 100, -1, -1));
            }
        }
        for (int i = 0; i < PROBES; i++) {
            addresses[i] = random.nextInt();
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        stack.shutdown();
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public int lookup() {
        int sum = 0;
        if (path.equals("table")) {
            for (int a : addresses) {
                sum += main.lookup(a).len();
            }
        } else {
            for (int a : addresses) {
                sum += rules.output(a, 0x0a000102, 0, 0, 0, 17, 40000, 53).len();
            }
        }
        return sum;
    }
}

package org.modnet.ipv4;

import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Longest-prefix lookups in a table of 100k random routes (/8 to /32); one op is one lookup. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
public class FibLookupBenchmark {
    static final int PROBES = 4096;

    @Param({ "100000" })
    public int routes;

    private FibTrie<Integer> fib;
    private final int[] addresses = new int[PROBES];

    @Setup
    public void build() {
        Random random = new Random(7);
        fib = new FibTrie<>();
        fib.routesOf(0, 0).add(0); // a default route: every lookup finds something
        while (fib.prefixes() < routes + 1) {
            int len = 8 + random.nextInt(25);
            int prefix = random.nextInt() & FibTrie.mask(len);
            List<Integer> r = fib.routesOf(prefix, len);
            if (r.isEmpty()) {
                r.add(len);
            }
        }
        for (int i = 0; i < PROBES; i++) {
            addresses[i] = random.nextInt();
        }
    }

    @Benchmark
    @OperationsPerInvocation(PROBES)
    public int lookup() {
        int sum = 0;
        for (int a : addresses) {
            sum += fib.lookup(a).get(0);
        }
        return sum;
    }
}

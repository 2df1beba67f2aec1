package org.modnet.ebpf;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * One of {@link XdpProgramBenchmark}'s programs (JIT, plain accesses) timed as
 * {@code benchmarks/native/rte_bpf_bench.c} times DPDK's: 15 samples of about a second each, the median
 * of each sample's ns per run by the wall clock and by the thread's CPU time. On a loaded machine the
 * wall clock counts the time the thread waited for a CPU, which the two sides do not get alike; the
 * CPU time does not ({@code bin/modnet-ebpf-bench} prints both sides' CPU times beside each other).
 * One program per JVM, so no other program's profile shapes the code C2 compiles for this one.
 *
 * <pre>java -cp benchmarks.jar org.modnet.ebpf.XdpCpuTime PROGRAM [SECONDS_PER_SAMPLE [frame|testrun]]</pre>
 * prints {@code PROGRAM wall W ns cpu C ns}. {@code frame} (the default) is XDP's per-frame run, the
 * context written for every frame as a driver's receive does; {@code testrun} is {@code BPF_PROG_TEST_RUN}'s
 * shape ({@code XdpContext#testRun}, what {@code bpftool prog run ... repeat N} runs): the context set once and
 * the program run a sample's runs on it, as DPDK's driver calls its function on one frame. Both loops keep the
 * context's object and the frame in locals ({@link XdpProgramBenchmark#runs}), as DPDK's keeps its function
 * and frame in registers.
 */
public final class XdpCpuTime {
    private static final int SAMPLES = 15;

    private XdpCpuTime() {
    }

    public static void main(String[] args) throws Exception {
        XdpProgramBenchmark b = new XdpProgramBenchmark();
        b.engine = "jit";
        b.access = "plain";
        b.program = args[0];
        b.setUp();
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
        boolean testRun = args.length > 2 && args[2].equals("testrun");
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        // warm-up as JMH's five iterations of a second: C2 has compiled the run by then
        long sink = 0;
        long end = System.nanoTime() + (long) (5e9 * seconds);
        while (System.nanoTime() < end) {
            if (testRun) {
                sink += b.testRun(10_000);
            } else {
                sink += b.runs(10_000);
            }
        }
        // runs per sample: about `seconds` of the thread's CPU time
        long runs = 100_000;
        long c0 = threads.getCurrentThreadCpuTime();
        if (testRun) {
            sink += b.testRun(runs);
        } else {
            sink += b.runs(runs);
        }
        runs = Math.max(1, (long) (runs * seconds * 1e9 / Math.max(1, threads.getCurrentThreadCpuTime() - c0)));
        double[] wall = new double[SAMPLES];
        double[] cpu = new double[SAMPLES];
        for (int k = 0; k < SAMPLES; k++) {
            long w = System.nanoTime();
            long c = threads.getCurrentThreadCpuTime();
            if (testRun) {
                sink += b.testRun(runs);
            } else {
                sink += b.runs(runs); // an acquire fence a run: each run reads the frame anew (XdpContext#testRun's reason)
            }
            cpu[k] = (threads.getCurrentThreadCpuTime() - c) / (double) runs;
            wall[k] = (System.nanoTime() - w) / (double) runs;
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        System.out.printf("%s wall %.2f ns cpu %.2f ns (%d runs a sample, sink %d)%n", args[0], wall[SAMPLES / 2], cpu[SAMPLES / 2],
                runs, sink & 1);
    }
}

package org.modnet.sched;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * {@link QdiscForwardingBenchmark}'s routers, one per qdisc, in one JVM, measured by the thread's CPU
 * time per forwarded frame in rounds that alternate between them: a comparison that holds on a
 * shared, loaded machine, where JMH's wall-clock throughput moves with what else runs.
 * {@code java -cp benchmarks/target/benchmarks.jar org.modnet.sched.QdiscCpuCost [QDISC...]}
 */
public final class QdiscCpuCost {
    private static final int ROUNDS = 8;
    private static final int BURSTS = 20_000; // of 64 frames

    private QdiscCpuCost() {
    }

    public static void main(String[] args) throws Exception {
        String[] kinds = args.length > 0 ? args : new String[] { "noqueue", "pfifo_fast", "fq_codel", "netem" };
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        QdiscForwardingBenchmark[] b = new QdiscForwardingBenchmark[kinds.length];
        for (int i = 0; i < kinds.length; i++) {
            b[i] = new QdiscForwardingBenchmark();
            b[i].qdisc = kinds[i];
            b[i].setUp();
            for (int w = 0; w < 3 * BURSTS; w++) {
                b[i].forwardBurst(); // warm-up
            }
        }
        double[][] ns = new double[kinds.length][ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            for (int k = 0; k < kinds.length; k++) {
                int i = r % 2 == 0 ? k : kinds.length - 1 - k;
                long c0 = mx.getCurrentThreadCpuTime();
                for (int n = 0; n < BURSTS; n++) {
                    b[i].forwardBurst();
                }
                ns[i][r] = (mx.getCurrentThreadCpuTime() - c0) / (double) (BURSTS * org.modnet.bench.RouterRig.BURST);
            }
        }
        for (int i = 0; i < kinds.length; i++) {
            double[] v = ns[i].clone();
            Arrays.sort(v);
            System.out.printf("%-11s CPU ns/frame: median %.1f  min %.1f  max %.1f%n", kinds[i], v[ROUNDS / 2], v[0], v[ROUNDS - 1]);
        }
        for (QdiscForwardingBenchmark x : b) {
            x.tearDown();
        }
    }
}

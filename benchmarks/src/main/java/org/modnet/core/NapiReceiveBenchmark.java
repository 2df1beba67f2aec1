package org.modnet.core;

import java.util.concurrent.TimeUnit;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
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
 * The receive path on one softirq: pktgen-built frames into a device's receive ring, the NAPI poll,
 * {@code eth_type_trans}, {@code netif_receive_skb}, and the drop of a frame no handler takes (the
 * skb goes back to its pool). One operation is one frame; the benchmark thread is the softirq.
 * Run with {@code -prof gc} for bytes allocated per frame (gc.alloc.rate.norm).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class NapiReceiveBenchmark {
    static final int BURST = 64;

    @Param({ "60" })
    public int size;

    private CoreEngine core;
    private SkBuffPool pool;
    private NetDevice dev;
    private RxQueue queue;
    private Softirq softirq;
    private long dst;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        pool = new SkBuffPool(4096, 2048);
        core = new CoreEngine(1, false, pool, System::nanoTime);
        dev = core.initNet().register(DeviceSetup.ether("bench0", "bench").withRings(1024, 4096, 0, 0),
                (skb, d) -> TxResult.OK);
        dev.open();
        queue = dev.rxQueue(0);
        softirq = core.softirq(0);
        dst = dev.address().bits();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        core.shutdown();
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long receiveAndDropBurst() {
        for (int i = 0; i < BURST; i++) {
            SkBuff skb = pool.alloc(size);
            int off = skb.put(size);
            skb.setU16(off, (int) (dst >>> 32));
            skb.setU32(off + 2, (int) dst);
            skb.setU16(off + 6, 0x0200);
            skb.setU32(off + 8, i);
            skb.setU16(off + 12, Eth.ETH_P_LOCAL_EXP1);
            queue.receive(skb);
        }
        while (softirq.netRxAction()) {
            // one burst fits one round; a second round only if the budget ran out
        }
        return dev.stats().get(org.modnet.api.net.DeviceStats.Field.RX_DROPPED);
    }
}

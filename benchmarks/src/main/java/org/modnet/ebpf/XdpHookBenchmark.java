package org.modnet.ebpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.core.StandaloneCore;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.xdp.EbpfXdpHook;
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
 * XDP at a device's receive hook on one core: pktgen-style 64-byte UDP frames, either (generic) as skbs
 * into the receive ring, NAPI, the hook, the frame freed — or (native) into the driver's own buffer
 * and {@code receiveFrame}, where the program runs before any skb exists. The program is XDP_DROP or
 * the 5-tuple hash-map program of {@link XdpProgramBenchmark}. One op is one frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class XdpHookBenchmark {
    /** The eBPF implementation, outside OSGi. */
    static final BpfSyscall BPF = new BpfSyscallImpl();

    static final int BURST = 64;

    @Param({ "interpreter", "jit" })
    public String engine;

    @Param({ "drop", "flow" })
    public String program;

    /** {@code generic}: skbs into the ring, XDP in the NAPI poll; {@code native}: the driver's buffer, XDP before any skb. */
    @Param({ "generic", "native" })
    public String mode;

    private final MemorySegment page = Arena.ofAuto().allocate(256 + 64, 64);

    private StandaloneCore stack;
    private SkBuffPool pool;
    private RxQueue ring;
    private NetDevice dev;
    private final byte[] frame = new byte[64];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 4096, System::nanoTime);
        pool = stack.core().pool();
        dev = stack.core().initNet().register(DeviceSetup.ether("eth0", "bench").withRings(1024, 4096, 0, 0), new NetDeviceOps() {
            @Override
            public TxResult startXmit(SkBuff skb, NetDevice d) {
                skb.free();
                return TxResult.OK;
            }

            @Override
            public boolean nativeXdp(NetDevice d) {
                return true;
            }
        });
        dev.open();
        ring = dev.rxQueue(0);
        BpfMap flows = BPF.mapCreate("flows", BpfMap.MAP_HASH, 16, 8, 1024, 0, 1);
        List<BpfMap> maps = List.of(flows);
        BpfProg p = BPF.progLoad(program, BPF.assemble(program.equals("drop") ? XdpProgramBenchmark.DROP
                : XdpProgramBenchmark.FLOW), ProgType.XDP, AttachType.DEFAULT, maps, null, null, engine, false);
        dev.setXdp(new EbpfXdpHook(BPF, p), mode.equals("native"));
        long mac = dev.address().bits();
        for (int i = 0; i < 6; i++) {
            frame[i] = (byte) (mac >>> (40 - 8 * i));
        }
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[23] = 17;
        frame[26] = 10;
        frame[29] = 1;
        frame[30] = 10;
        frame[33] = 2;
        byte[] key = new byte[16];
        System.arraycopy(frame, 26, key, 0, 12);
        key[12] = 17;
        flows.update(key, new byte[8], BpfMap.BPF_ANY);
        burst();
        if (dev.ethtoolStats().get("xdp_drop") != BURST) {
            throw new IllegalStateException("the program did not drop the frames: " + dev.ethtoolStats());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        stack.shutdown();
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long burst() {
        if (mode.equals("native")) {
            for (int i = 0; i < BURST; i++) {
                MemorySegment.copy(frame, 0, page, ValueLayout.JAVA_BYTE, 256, 64); // the NIC's DMA into its page
                ring.receiveFrame(page, 256, 64);
            }
            stack.run();
            return pool.inUse();
        }
        for (int i = 0; i < BURST; i++) {
            SkBuff skb = pool.alloc(64);
            skb.setBytes(skb.put(64), frame, 0, 64);
            ring.receive(skb);
        }
        stack.run();
        return pool.inUse();
    }
}

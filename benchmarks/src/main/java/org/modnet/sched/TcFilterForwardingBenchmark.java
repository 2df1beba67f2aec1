package org.modnet.sched;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.core.StandaloneCore;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;
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
 * {@code QdiscForwardingBenchmark}'s router (60-byte IPv4/UDP frames forwarded through namespace R,
 * noqueue on out0) with tc's ingress hook on in0: {@code none} (no clsact: the core's null check),
 * {@code clsact} with no filter, {@code matchall} with {@code action pass}, a {@code u32} and a
 * {@code flower} filter the frames miss (so each is tried and the frame goes on), and {@code bpf}:
 * tc_drop_icmp.c built by clang (needs clang and libbpf-dev), which passes UDP. One op is one frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class TcFilterForwardingBenchmark {
    static final int BURST = 64;
    static final int SIZE = 60;

    @Param({ "none", "clsact", "matchall", "u32", "flower", "bpf" })
    public String filter;

    private StandaloneCore stack;
    private SkBuffPool pool;
    private RxQueue ingress;
    private NetDevice out;
    private final byte[] frame = new byte[SIZE];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 4096, System::nanoTime);
        pool = stack.core().pool();
        ArpProtocol arp = new ArpProtocol(stack.core());
        Ipv4Protocol ipv4 = new Ipv4Protocol(stack.core(), arp);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        NetNamespace r = stack.core().addNamespace("R");
        NetDevice in = r.register(DeviceSetup.ether("in0", "bench").withRings(1024, 4096, 0, 0), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        out = r.register(DeviceSetup.ether("out0", "bench").withQdisc("noqueue"), (skb, d) -> {
            d.stats().inc(DeviceStats.Field.TX_PACKETS);
            skb.free(); // the wire
            return TxResult.OK;
        });
        in.addAddress(new IfAddress(InetAddress.getByName("10.0.1.1"), 24, null, "global", "in0"));
        out.addAddress(new IfAddress(InetAddress.getByName("10.0.2.1"), 24, null, "global", "out0"));
        in.open();
        out.open();
        r.sysctl().set("net.ipv4.ip_forward", "1");
        arp.add(out, 0x0a000202, MacAddress.parse("02:00:00:00:02:02"), NudState.PERMANENT, false);
        TcCommand tc = new TcCommand(stack.core(), stack.qdiscHook());
        tc.setBpf(new ClsBpfObjects(stack.core(), new BpfSyscallImpl()));
        if (!filter.equals("none")) {
            tc.run("R", "qdisc", "add", "dev", "in0", "clsact");
        }
        String add = "filter add dev in0 ingress ";
        switch (filter) {
            case "matchall" -> tc.run("R", (add + "matchall action pass").split(" "));
            case "u32" -> tc.run("R", (add + "protocol ip u32 match ip dst 10.0.9.9/32 action drop").split(" "));
            case "flower" -> tc.run("R", (add + "protocol ip flower ip_proto tcp dst_port 80 action drop").split(" "));
            case "bpf" -> tc.run("R", (add + "bpf da obj " + object() + " sec tc").split(" "));
            default -> {
            }
        }
        ingress = in.rxQueue(0);
        template(in.address());
        if (forwardBurst() != BURST) {
            throw new IllegalStateException("frames were not forwarded with " + filter);
        }
    }

    /** tc_drop_icmp.c built by clang into target/. */
    private static String object() throws Exception {
        Path src = Path.of("bundles/sched/src/test/resources/bpf/tc_drop_icmp.c");
        if (!Files.exists(src)) {
            src = Path.of("../bundles/sched/src/test/resources/bpf/tc_drop_icmp.c");
        }
        Path out = Files.createTempFile("tc_drop_icmp", ".o");
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu", "-c",
                src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("clang (and libbpf-dev) needed for the bpf case: " + log);
        }
        return out.toString();
    }

    private void template(MacAddress dst) {
        SkBuff skb = pool.alloc(SIZE);
        int o = skb.put(SIZE);
        skb.setU16(o, (int) (dst.bits() >>> 32));
        skb.setU32(o + 2, (int) dst.bits());
        skb.setU16(o + 6, 0x0200);
        skb.setU32(o + 8, 0x00000102);
        skb.setU16(o + 12, Eth.ETH_P_IP);
        int h = o + Eth.ETH_HLEN;
        skb.setU8(h, 0x45);
        skb.setU16(h + 2, SIZE - Eth.ETH_HLEN);
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, 17);
        skb.setU32(h + 12, 0x0a000102);
        skb.setU32(h + 16, 0x0a000202);
        skb.setU16(h + 10, InetChecksum.checksum(skb, h, 20));
        skb.getBytes(o, frame, 0, SIZE);
        skb.free();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        stack.shutdown();
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long forwardBurst() {
        for (int i = 0; i < BURST; i++) {
            SkBuff skb = pool.alloc(SIZE);
            skb.setBytes(skb.put(SIZE), frame, 0, SIZE);
            ingress.receive(skb);
        }
        stack.run();
        return out.stats().get(DeviceStats.Field.TX_PACKETS);
    }
}

package org.modnet.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.core.StandaloneCore;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;
import org.modnet.ipv4.RouteService;
import org.modnet.xdp.EbpfXdpHook;
import org.modnet.xdp.FibLookup;
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
    /** The eBPF implementation, outside OSGi. */
    static final BpfSyscall BPF = new BpfSyscallImpl();

    static final int BURST = 64;
    static final int SIZE = 60;

    /** xdp_fwd in the assembler's syntax: parse, fib_lookup, TTL and checksum, MACs, redirect. */
    static final String FWD = """
            mov %r6, %r1
            ldxw %r2, [%r6+0]
            ldxw %r3, [%r6+4]
            mov %r4, %r2
            add %r4, 34
            jgt %r4, %r3, pass
            ldxh %r5, [%r2+12]
            jne %r5, 0x8, pass
            ldxb %r5, [%r2+22]
            jle %r5, 1, pass
            stdw [%r10-64], 0
            stdw [%r10-56], 0
            stdw [%r10-48], 0
            stdw [%r10-40], 0
            stdw [%r10-32], 0
            stdw [%r10-24], 0
            stdw [%r10-16], 0
            stdw [%r10-8], 0
            stb [%r10-64], 2
            ldxh %r5, [%r2+16]
            be16 %r5
            stxh [%r10-58], %r5
            ldxw %r5, [%r6+12]
            stxw [%r10-56], %r5
            ldxw %r5, [%r2+26]
            stxw [%r10-48], %r5
            ldxw %r5, [%r2+30]
            stxw [%r10-32], %r5
            mov %r1, %r6
            mov %r2, %r10
            add %r2, -64
            mov %r3, 64
            mov %r4, 0
            call 69
            jne %r0, 0, pass
            ldxw %r2, [%r6+0]
            ldxw %r3, [%r6+4]
            mov %r4, %r2
            add %r4, 34
            jgt %r4, %r3, pass
            ldxb %r5, [%r2+22]
            sub %r5, 1
            stxb [%r2+22], %r5
            ldxh %r5, [%r2+24]
            add %r5, 1
            jlt %r5, 0xffff, csum
            add %r5, 1
            csum:
            stxh [%r2+24], %r5
            ldxw %r5, [%r10-6]
            stxw [%r2+0], %r5
            ldxh %r5, [%r10-2]
            stxh [%r2+4], %r5
            ldxw %r5, [%r10-12]
            stxw [%r2+6], %r5
            ldxh %r5, [%r10-8]
            stxh [%r2+10], %r5
            ldxw %r1, [%r10-56]
            mov %r2, 0
            call 23
            exit
            pass:
            mov %r0, 2
            exit
            """;

    /** The stack path only: netfilter's hooks are on it. */
    public String path = "stack";

    /**
     * {@code none}: no netfilter; {@code 0}: the filter table loaded and touched, no rule; {@code N}: N
     * FORWARD rules none of which matches (tcp ports), so every frame walks them all and the ACCEPT policy takes it.
     */
    @Param({ "none", "0", "100", "set10000" })
    public String rules;

    private StandaloneCore stack;
    private SkBuffPool pool;
    private RxQueue ingress;
    private NetDevice out;
    private final byte[] frame = new byte[SIZE];
    private final MemorySegment page = Arena.ofAuto().allocate(256 + SIZE, 64);

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
        NetDevice in = r.register(DeviceSetup.ether("in0", "bench").withRings(1024, 4096, 0, 0), new NetDeviceOps() {
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
        out = r.register(DeviceSetup.ether("out0", "bench"), (skb, d) -> {
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
        if (!rules.equals("none")) {
            org.modnet.nftables.NftCommand nft = new org.modnet.nftables.NftCommand(stack.core(), null);
            java.lang.reflect.Method add = Ipv4Protocol.class.getDeclaredMethod("addHook",
                    org.modnet.api.netfilter.NfHookFunction.class, java.util.Map.class);
            add.setAccessible(true);
            add.invoke(ipv4, (org.modnet.api.netfilter.NfHookFunction) nft::hook,
                    java.util.Map.of(org.modnet.api.netfilter.NfHookFunction.HOOK, "FORWARD",
                            org.modnet.api.netfilter.NfHookFunction.PRIORITY, 0));
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
            nft.run(r, "-f", writeTemp(cmds.toString()));
        }
        if (!path.equals("stack")) {
            FibLookup fib = new FibLookup(new RouteService(ipv4), arp, ipv4);
            BpfProg p = BPF.progLoad("xdp_fwd", BPF.assemble(FWD), ProgType.XDP, AttachType.DEFAULT, List.of(), null, null, "jit", false);
            in.setXdp(new EbpfXdpHook(BPF, p), path.equals("xdp-native"));
        }
        ingress = in.rxQueue(0);
        template(in.address());
        // the path under test must forward, not drop: and the XDP paths by redirecting, not by passing to the stack
        if (forwardBurst() != BURST || (!path.equals("stack") && in.ethtoolStats().get("xdp_redirect") != BURST)) {
            throw new IllegalStateException("frames were not forwarded on the " + path + " path: "
                    + out.stats().get(DeviceStats.Field.TX_PACKETS) + " " + in.ethtoolStats());
        }
    }

    private static String writeTemp(String text) throws java.io.IOException {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("nft-bench", ".nft");
        java.nio.file.Files.writeString(f, text);
        f.toFile().deleteOnExit();
        return f.toString();
    }

    /** One frame, built once in an skb (for the checksum) and kept as bytes. */
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
        if (path.equals("xdp-native")) {
            for (int i = 0; i < BURST; i++) {
                MemorySegment.copy(frame, 0, page, ValueLayout.JAVA_BYTE, 256, SIZE); // the NIC's DMA into its page
                ingress.receiveFrame(page, 256, SIZE);
            }
            stack.run();
            return out.stats().get(DeviceStats.Field.TX_PACKETS);
        }
        for (int i = 0; i < BURST; i++) {
            SkBuff skb = pool.alloc(SIZE);
            skb.setBytes(skb.put(SIZE), frame, 0, SIZE);
            ingress.receive(skb);
        }
        stack.run();
        return out.stats().get(DeviceStats.Field.TX_PACKETS);
    }
}

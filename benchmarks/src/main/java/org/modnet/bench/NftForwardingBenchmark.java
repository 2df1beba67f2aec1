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
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;
import org.modnet.ipv4.RouteService;
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
    static final int BURST = 64;
    static final int SIZE = 60;

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
        ingress = in.rxQueue(0);
        template(in.address());
        // the router must forward, not drop
        if (forwardBurst() != BURST) {
            throw new IllegalStateException("frames were not forwarded: "
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
        for (int i = 0; i < BURST; i++) {
            SkBuff skb = pool.alloc(SIZE);
            skb.setBytes(skb.put(SIZE), frame, 0, SIZE);
            ingress.receive(skb);
        }
        stack.run();
        return out.stats().get(DeviceStats.Field.TX_PACKETS);
    }
}

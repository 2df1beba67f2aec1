package org.modnet.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.util.Map;

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
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.core.StandaloneCore;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;

/**
 * The router of the forwarding benchmarks (plain, XDP, qdiscs, tc filters, netfilter, nftables,
 * conntrack), which differ only in what they load into it: namespace R on one manual softirq, {@code in0}
 * (10.0.1.1/24, frames arrive on its RX queue; native XDP capable) and {@code out0} (10.0.2.1/24, a
 * wire that counts and frees), forwarding on, the next hop's neighbour permanent, and one UDP flow of
 * 60-byte frames 10.0.1.2:40000 → 10.0.2.2:53.
 */
public final class RouterRig implements AutoCloseable {
    public static final int BURST = 64;
    public static final int SIZE = 60;

    public final StandaloneCore stack;
    public final NetNamespace r;
    public final ArpProtocol arp;
    public final Ipv4Protocol ipv4;
    public final NetDevice in;
    public final NetDevice out;
    private final SkBuffPool pool;
    private final RxQueue ingress;
    private final byte[] frame = new byte[SIZE];

    /** The router with out0's default qdisc. */
    public RouterRig() throws Exception {
        this(null);
    }

    /** The router with {@code outQdisc} (the core's: {@code noqueue}, {@code pfifo_fast}) on out0, or its default if null. */
    public RouterRig(String outQdisc) throws Exception {
        stack = StandaloneCore.manual(1, 4096, System::nanoTime);
        pool = stack.core().pool();
        arp = new ArpProtocol(stack.core());
        ipv4 = new Ipv4Protocol(stack.core(), arp);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        r = stack.core().addNamespace("R");
        in = r.register(DeviceSetup.ether("in0", "bench").withRings(1024, 4096, 0, 0), new NetDeviceOps() {
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
        DeviceSetup outSetup = DeviceSetup.ether("out0", "bench");
        out = r.register(outQdisc == null ? outSetup : outSetup.withQdisc(outQdisc), (skb, d) -> {
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
        ingress = in.rxQueue(0);
        template(in.address());
    }

    /** A netfilter hook function at {@code hook} and {@code priority}, as DS would give it to IPv4. */
    public void hook(NfHookFunction fn, String hook, int priority) throws Exception {
        java.lang.reflect.Method add = Ipv4Protocol.class.getDeclaredMethod("addHook", NfHookFunction.class, Map.class);
        add.setAccessible(true);
        add.invoke(ipv4, fn, Map.of(NfHookFunction.HOOK, hook, NfHookFunction.PRIORITY, priority));
    }

    /** The rules are loaded: the router must forward a burst, not drop it. */
    public void checkForwards() {
        if (forwardBurst() != BURST) {
            throw new IllegalStateException("frames were not forwarded: "
                    + out.stats().get(DeviceStats.Field.TX_PACKETS) + " " + in.ethtoolStats());
        }
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
        skb.setU16(h + 20, 40000);
        skb.setU16(h + 22, 53);
        skb.setU16(h + 24, SIZE - Eth.ETH_HLEN - 20);
        skb.setU16(h + 10, InetChecksum.checksum(skb, h, 20));
        skb.getBytes(o, frame, 0, SIZE);
        skb.free();
    }

    /** A burst of frames into {@code in0}'s queue and one softirq run; the frames {@code out0} sent so far. */
    public long forwardBurst() {
        for (int i = 0; i < BURST; i++) {
            SkBuff skb = pool.alloc(SIZE);
            skb.setBytes(skb.put(SIZE), frame, 0, SIZE);
            ingress.receive(skb);
        }
        stack.run();
        return out.stats().get(DeviceStats.Field.TX_PACKETS);
    }

    /**
     * A burst as a native-XDP driver sees it: each frame copied into {@code page} at offset 256 (the NIC's
     * DMA into its page) and handed over as a raw frame; the frames {@code out0} sent so far.
     */
    public long forwardNativeBurst(MemorySegment page) {
        for (int i = 0; i < BURST; i++) {
            MemorySegment.copy(frame, 0, page, ValueLayout.JAVA_BYTE, 256, SIZE);
            ingress.receiveFrame(page, 256, SIZE);
        }
        stack.run();
        return out.stats().get(DeviceStats.Field.TX_PACKETS);
    }

    @Override
    public void close() {
        stack.shutdown();
    }
}

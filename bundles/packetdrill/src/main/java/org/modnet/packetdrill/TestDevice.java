package org.modnet.packetdrill;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Set;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/**
 * The device a script talks through, standing for packetdrill's {@code tun0}: a point-to-point link
 * without ARP. What the stack sends on it is kept (IP datagram and the core's clock when sent) for the
 * runner to match against {@code >} lines; {@link #inject} puts a script's {@code <} packet on its
 * receive queue as if it came off the wire. The queue of sent packets is bounded; what overflows it is
 * counted as {@code tx_dropped}.
 */
public final class TestDevice implements NetDeviceOps {
    /** The packets the runner has not looked at yet, at most this many. */
    static final int CAPTURE_LIMIT = 4096;

    private final ArrayDeque<LivePacket> sent = new ArrayDeque<>();
    private NetDevice dev;

    /** Registers {@code name} in {@code ns} and brings it up. */
    public NetDevice register(NetNamespace ns, String name, int mtu) throws NetException {
        DeviceSetup setup = DeviceSetup.ether(name, "tun")
                .withFlags(IfFlags.POINTOPOINT | IfFlags.NOARP | IfFlags.MULTICAST)
                // as Linux's tun without TUNSETOFFLOAD: scatter-gather and GSO on, so TCP builds GSO skbs
                // that the core cuts before the device, with no TSO or checksum offload
                .withQdisc("pfifo_fast")
                .withFeatures(Map.of("scatter-gather", true, "generic-segmentation-offload", true), Set.of());
        dev = ns.register(setup, this);
        if (mtu != 0 && mtu != dev.mtu()) {
            dev.setMtu(mtu);
        }
        dev.open();
        return dev;
    }

    public NetDevice device() {
        return dev;
    }

    @Override
    public TxResult startXmit(SkBuff skb, NetDevice d) {
        try {
            if (skb.len() < Eth.ETH_HLEN || skb.getU16(skb.data() + 12) != Eth.ETH_P_IP) {
                d.stats().addShared(DeviceStats.Field.TX_DROPPED, 1);
                return TxResult.OK;
            }
            byte[] ip = new byte[skb.len() - Eth.ETH_HLEN];
            int head = Math.min(skb.headLen(), skb.len()) - Eth.ETH_HLEN;
            skb.getBytes(skb.data() + Eth.ETH_HLEN, ip, 0, head);
            int at = head;
            for (int i = 0; i < skb.nrFrags() && at < ip.length; i++) {
                int n = Math.min(skb.fragSize(i), ip.length - at);
                MemorySegment.copy(skb.fragMemory(i), java.lang.foreign.ValueLayout.JAVA_BYTE, skb.fragOffset(i), ip, at, n);
                at += n;
            }
            LivePacket p = LivePacket.parse(ip, d.namespace().core().nanoTime());
            synchronized (sent) {
                if (p == null || sent.size() >= CAPTURE_LIMIT) {
                    d.stats().addShared(DeviceStats.Field.TX_DROPPED, 1);
                } else {
                    sent.addLast(p);
                    d.stats().addShared(DeviceStats.Field.TX_PACKETS, 1);
                    d.stats().addShared(DeviceStats.Field.TX_BYTES, skb.len());
                }
            }
        } finally {
            skb.free();
        }
        return TxResult.OK;
    }

    /** The oldest packet sent and not yet taken, or null. */
    LivePacket poll() {
        synchronized (sent) {
            return sent.pollFirst();
        }
    }

    /** Puts a packet back at the head (one that matched nothing the runner looked for yet). */
    void pushBack(LivePacket p) {
        synchronized (sent) {
            sent.addFirst(p);
        }
    }

    /** Receives an IPv4 datagram on the device, an Ethernet header put before it (modnet's stack takes frames). */
    boolean inject(byte[] ip) {
        byte[] frame = new byte[Eth.ETH_HLEN + ip.length];
        long mac = dev.address().bits();
        for (int i = 0; i < 6; i++) {
            frame[i] = (byte) (mac >>> (40 - 8 * i));
        }
        frame[6] = 0x02; // a locally administered source: the script's end
        frame[12] = (byte) (Eth.ETH_P_IP >>> 8);
        frame[13] = (byte) Eth.ETH_P_IP;
        System.arraycopy(ip, 0, frame, Eth.ETH_HLEN, ip.length);
        // tun_get_user hands the frame to netif_rx: the backlog, with no NIC's length check, so a
        // segment larger than the MTU (packetdrill's oversized inbound packets) comes in whole
        SkBuff skb = dev.namespace().core().allocSkb(frame.length, SkBuffPool.NET_SKB_PAD);
        if (skb == null) {
            dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
            return false;
        }
        skb.setBytes(skb.put(frame.length), frame, 0, frame.length);
        skb.dev(dev);
        skb.resetMacHeader();
        return dev.namespace().core().enqueueToBacklog(skb, 0);
    }
}

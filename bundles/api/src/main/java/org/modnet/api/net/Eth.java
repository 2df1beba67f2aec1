package org.modnet.api.net;

import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;

/** Ethernet constants and {@code eth_type_trans}, which every Ethernet driver calls on receive. */
public final class Eth {
    public static final int ETH_ALEN = 6;
    public static final int ETH_HLEN = 14;
    public static final int ETH_ZLEN = 60;
    public static final int ETH_DATA_LEN = 1500;
    public static final int ETH_FRAME_LEN = 1514;

    /** Every protocol: what packet taps (tcpdump) register for. */
    public static final int ETH_P_ALL = 0x0003;
    public static final int ETH_P_IP = 0x0800;
    public static final int ETH_P_ARP = 0x0806;
    public static final int ETH_P_8021Q = 0x8100;
    public static final int ETH_P_IPV6 = 0x86dd;
    /** pktgen's own ethertype when no other is given (an IEEE "local experimental" type). */
    public static final int ETH_P_LOCAL_EXP1 = 0x88b5;

    /** {@code ARPHRD_*}: the link types {@code ip link} shows as {@code link/ether}, {@code link/loopback}. */
    public static final int ARPHRD_ETHER = 1;
    public static final int ARPHRD_LOOPBACK = 772;

    private Eth() {
    }

    /**
     * {@code eth_type_trans}: marks the MAC header, pulls it, classifies the frame for this device
     * (HOST, BROADCAST, MULTICAST, OTHERHOST) and returns the ethertype, which the caller stores in
     * {@code skb.protocol}. A frame shorter than an Ethernet header returns -1 and is left as it was.
     */
    public static int typeTrans(SkBuff skb, NetDevice dev) {
        if (skb.headLen() < ETH_HLEN) {
            return -1;
        }
        skb.resetMacHeader();
        int mac = skb.macHeader();
        long dst = ((long) skb.getU16(mac) << 32) | (skb.getU32(mac + 2) & 0xffff_ffffL);
        if ((dst & (1L << 40)) != 0) {
            skb.pktType(dst == MacAddress.BROADCAST.bits() ? PktType.BROADCAST : PktType.MULTICAST);
        } else if (dev != null && dst != dev.address().bits()) {
            skb.pktType(PktType.OTHERHOST);
        } else {
            skb.pktType(PktType.HOST);
        }
        int type = skb.getU16(mac + 12);
        skb.pull(ETH_HLEN);
        skb.protocol(type);
        return type;
    }
}

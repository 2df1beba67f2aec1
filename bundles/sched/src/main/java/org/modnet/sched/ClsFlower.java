package org.modnet.sched;

import java.util.List;

import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.skb.SkBuff;

/**
 * {@code flower} ({@code net/sched/cls_flower.c}): a frame's flow keys — MAC addresses, IPv4
 * protocol, addresses under a prefix, TCP/UDP ports — against the ones the filter names; keys it does
 * not name match anything. Ports are read only from a first (or only) fragment.
 */
final class ClsFlower implements Cls {
    /** The keys; -1 (or a zero mask) where the filter does not name one. */
    record Keys(long dstMac, long srcMac, int ethType, int ipProto, int srcIp, int srcMask, int dstIp, int dstMask,
            int srcPort, int dstPort, boolean skipHw) {
    }

    private final Keys k;

    ClsFlower(Keys keys) {
        this.k = keys;
    }

    @Override
    public int classify(SkBuff skb, boolean ingress) {
        if (k.dstMac() >= 0 || k.srcMac() >= 0) {
            int mac = ClsPacket.mac(skb, ingress);
            if (!ClsPacket.in(skb, mac, Eth.ETH_HLEN)) {
                return NO_MATCH;
            }
            if (k.dstMac() >= 0 && macAt(skb, mac) != k.dstMac()) {
                return NO_MATCH;
            }
            if (k.srcMac() >= 0 && macAt(skb, mac + 6) != k.srcMac()) {
                return NO_MATCH;
            }
        }
        if (k.ethType() != Eth.ETH_P_IP || (k.ipProto() < 0 && k.srcMask() == 0 && k.dstMask() == 0)) {
            return MATCH; // fl_classify: the protocol itself was checked by the filter's protocol
        }
        int nh = ClsPacket.network(skb, ingress);
        int hl = ClsPacket.ipHeaderLength(skb, nh);
        if (hl < 0 || !ClsPacket.in(skb, nh, 20)) {
            return NO_MATCH;
        }
        if (k.ipProto() >= 0 && skb.getU8(nh + 9) != k.ipProto()) {
            return NO_MATCH;
        }
        if (((skb.getU32(nh + 12) ^ k.srcIp()) & k.srcMask()) != 0 || ((skb.getU32(nh + 16) ^ k.dstIp()) & k.dstMask()) != 0) {
            return NO_MATCH;
        }
        if (k.srcPort() >= 0 || k.dstPort() >= 0) {
            int th = nh + hl;
            if (ClsPacket.laterFragment(skb, nh) || !ClsPacket.in(skb, th, 4)) {
                return NO_MATCH;
            }
            if ((k.srcPort() >= 0 && skb.getU16(th) != k.srcPort()) || (k.dstPort() >= 0 && skb.getU16(th + 2) != k.dstPort())) {
                return NO_MATCH;
            }
        }
        return MATCH;
    }

    private static long macAt(SkBuff skb, int off) {
        return ((long) skb.getU16(off) << 32) | (skb.getU32(off + 2) & 0xffff_ffffL);
    }

    @Override
    public void print(List<String> out, StringBuilder line, boolean stats) {
        out.add(line.toString());
        if (k.dstMac() >= 0) {
            out.add("  dst_mac " + new MacAddress(k.dstMac()));
        }
        if (k.srcMac() >= 0) {
            out.add("  src_mac " + new MacAddress(k.srcMac()));
        }
        if (k.ethType() == Eth.ETH_P_IP) {
            out.add("  eth_type ipv4");
        } else if (k.ethType() == Eth.ETH_P_ARP) {
            out.add("  eth_type arp");
        }
        if (k.ipProto() >= 0) {
            out.add("  ip_proto " + protoName(k.ipProto()));
        }
        if (k.dstMask() != 0) {
            out.add("  dst_ip " + prefix(k.dstIp(), k.dstMask()));
        }
        if (k.srcMask() != 0) {
            out.add("  src_ip " + prefix(k.srcIp(), k.srcMask()));
        }
        if (k.dstPort() >= 0) {
            out.add("  dst_port " + k.dstPort());
        }
        if (k.srcPort() >= 0) {
            out.add("  src_port " + k.srcPort());
        }
        if (k.skipHw()) {
            out.add("  skip_hw");
        }
        out.add("  not_in_hw");
    }

    static String protoName(int p) {
        return switch (p) {
            case 6 -> "tcp";
            case 17 -> "udp";
            case 132 -> "sctp";
            case 1 -> "icmp";
            case 58 -> "icmpv6";
            default -> String.format("%02x", p);
        };
    }

    static String prefix(int addr, int mask) {
        String a = ((addr >>> 24) & 0xff) + "." + ((addr >>> 16) & 0xff) + "." + ((addr >>> 8) & 0xff) + "." + (addr & 0xff);
        int len = Integer.bitCount(mask);
        return len == 32 ? a : a + "/" + len;
    }
}

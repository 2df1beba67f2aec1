package org.modnet.conntrack;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** Builds IPv4 packets with valid checksums for the tracker and NAT tests, and checks them. */
final class Packets {
    static final int SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04;

    private final SkBuffPool pool = new SkBuffPool(64, 2048);

    static int ip(String a) {
        return (int) Ipv4Addresses.parse(a);
    }

    private SkBuff ipv4(int proto, int src, int dst, int l4len) {
        SkBuff skb = pool.alloc(20 + l4len, 64);
        int h = skb.put(20 + l4len);
        for (int i = 0; i < 20 + l4len; i++) {
            skb.setU8(h + i, 0);
        }
        skb.setU8(h, 0x45);
        skb.setU16(h + 2, 20 + l4len);
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, proto);
        skb.setU32(h + 12, src);
        skb.setU32(h + 16, dst);
        skb.setU16(h + 10, InetChecksum.checksum(skb, h, 20));
        skb.resetNetworkHeader();
        skb.setTransportHeader(h + 20);
        return skb;
    }

    private static int pseudo(int src, int dst, int proto, int len) {
        return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
    }

    SkBuff tcp(String src, int sport, String dst, int dport, int flags) {
        int s = ip(src), d = ip(dst);
        SkBuff skb = ipv4(6, s, d, 20);
        int th = skb.networkHeader() + 20;
        skb.setU16(th, sport);
        skb.setU16(th + 2, dport);
        skb.setU32(th + 4, 1000);
        skb.setU8(th + 12, 5 << 4);
        skb.setU8(th + 13, flags);
        skb.setU16(th + 14, 65535);
        skb.setU16(th + 16, ~InetChecksum.sum(skb, th, 20, pseudo(s, d, 6, 20)) & 0xffff);
        return skb;
    }

    /** A TCP segment with its sequence, acknowledgement, window, payload length and options (whole words). */
    SkBuff tcp(String src, int sport, String dst, int dport, int flags, int seq, int ack, int win, int payload, int... options) {
        int s = ip(src), d = ip(dst);
        int optLen = options.length;
        SkBuff skb = ipv4(6, s, d, 20 + optLen + payload);
        int th = skb.networkHeader() + 20;
        skb.setU16(th, sport);
        skb.setU16(th + 2, dport);
        skb.setU32(th + 4, seq);
        skb.setU32(th + 8, ack);
        skb.setU8(th + 12, ((20 + optLen) / 4) << 4);
        skb.setU8(th + 13, flags);
        skb.setU16(th + 14, win);
        for (int i = 0; i < optLen; i++) {
            skb.setU8(th + 20 + i, options[i]);
        }
        int len = 20 + optLen + payload;
        skb.setU16(th + 16, ~InetChecksum.sum(skb, th, len, pseudo(s, d, 6, len)) & 0xffff);
        return skb;
    }

    SkBuff udp(String src, int sport, String dst, int dport) {
        int s = ip(src), d = ip(dst);
        SkBuff skb = ipv4(17, s, d, 12);
        int th = skb.networkHeader() + 20;
        skb.setU16(th, sport);
        skb.setU16(th + 2, dport);
        skb.setU16(th + 4, 12);
        skb.setU32(th + 8, 0x68656c6f);
        int c = ~InetChecksum.sum(skb, th, 12, pseudo(s, d, 17, 12)) & 0xffff;
        skb.setU16(th + 6, c == 0 ? 0xffff : c);
        return skb;
    }

    SkBuff icmpEcho(String src, String dst, int type, int id) {
        SkBuff skb = ipv4(1, ip(src), ip(dst), 16);
        int th = skb.networkHeader() + 20;
        skb.setU8(th, type);
        skb.setU16(th + 4, id);
        skb.setU16(th + 6, 1);
        skb.setU16(th + 2, ~InetChecksum.sum(skb, th, 16, 0) & 0xffff);
        return skb;
    }

    /** An ICMP error of {@code type}/{@code code} from {@code src} to {@code dst} quoting the first 28 bytes of {@code quoted}. */
    SkBuff icmpError(String src, String dst, int type, int code, SkBuff quoted) {
        SkBuff skb = ipv4(1, ip(src), ip(dst), 8 + 28);
        int th = skb.networkHeader() + 20;
        skb.setU8(th, type);
        skb.setU8(th + 1, code);
        for (int i = 0; i < 28; i++) {
            skb.setU8(th + 8 + i, quoted.getU8(quoted.networkHeader() + i));
        }
        skb.setU16(th + 2, ~InetChecksum.sum(skb, th, 36, 0) & 0xffff);
        return skb;
    }

    /** Every checksum in the packet (IP, and TCP/UDP/ICMP over what the packet holds) is right. */
    static boolean checksumsValid(SkBuff skb) {
        int nh = skb.networkHeader();
        if (InetChecksum.sum(skb, nh, 20, 0) != 0xffff) {
            return false;
        }
        int len = skb.getU16(nh + 2) - 20;
        int th = nh + 20;
        int s = skb.getU32(nh + 12), d = skb.getU32(nh + 16);
        return switch (skb.getU8(nh + 9)) {
            case 6, 17 -> InetChecksum.sum(skb, th, len, pseudo(s, d, skb.getU8(nh + 9), len)) == 0xffff;
            case 1 -> InetChecksum.sum(skb, th, len, 0) == 0xffff;
            default -> true;
        };
    }

    static String src(SkBuff skb) {
        return Ipv4Addresses.format(skb.getU32(skb.networkHeader() + 12));
    }

    static String dst(SkBuff skb) {
        return Ipv4Addresses.format(skb.getU32(skb.networkHeader() + 16));
    }

    static int sport(SkBuff skb) {
        return skb.getU16(skb.networkHeader() + 20);
    }

    static int dport(SkBuff skb) {
        return skb.getU16(skb.networkHeader() + 22);
    }
}

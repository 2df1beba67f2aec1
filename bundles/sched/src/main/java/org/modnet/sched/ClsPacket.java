package org.modnet.sched;

import org.modnet.api.net.Eth;
import org.modnet.api.skb.SkBuff;

/**
 * Where a classifier finds the headers of a frame at the tc hooks: at ingress the skb's data is at the
 * network header and the Ethernet header lies before it ({@code eth_type_trans} pulled it); at egress
 * the data is at the Ethernet header. Reads stay inside the linear data: a header that is not there
 * does not match (-1), as {@code skb_header_pointer} fails.
 */
final class ClsPacket {
    private ClsPacket() {
    }

    /** Absolute offset of the Ethernet header. */
    static int mac(SkBuff skb, boolean ingress) {
        return ingress ? skb.data() - Eth.ETH_HLEN : skb.data();
    }

    /** Absolute offset of the network header. */
    static int network(SkBuff skb, boolean ingress) {
        return ingress ? skb.data() : skb.data() + Eth.ETH_HLEN;
    }

    /** The frame's ethertype: {@code skb->protocol}, or the Ethernet header's when the sender left it unset. */
    static int protocol(SkBuff skb, boolean ingress) {
        int p = skb.protocol() & 0xffff;
        if (p == 0 && !ingress) {
            return u16(skb, skb.data() + 12);
        }
        return p;
    }

    static boolean in(SkBuff skb, int off, int n) {
        return off >= 0 && off + n <= skb.tail();
    }

    static int u8(SkBuff skb, int off) {
        return in(skb, off, 1) ? skb.getU8(off) : -1;
    }

    static int u16(SkBuff skb, int off) {
        return in(skb, off, 2) ? skb.getU16(off) : -1;
    }

    /** The IPv4 header's length in bytes at {@code nh}, or -1 when there is no IPv4 header there. */
    static int ipHeaderLength(SkBuff skb, int nh) {
        int b = u8(skb, nh);
        if (b < 0 || (b >> 4) != 4 || (b & 0xf) < 5) {
            return -1;
        }
        return (b & 0xf) * 4;
    }

    /** True for a non-first fragment, which carries no transport header. */
    static boolean laterFragment(SkBuff skb, int nh) {
        int frag = u16(skb, nh + 6);
        return frag < 0 || (frag & 0x1fff) != 0;
    }
}

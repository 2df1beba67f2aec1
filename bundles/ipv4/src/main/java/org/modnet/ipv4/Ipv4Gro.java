package org.modnet.ipv4;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.InetOffload;
import org.modnet.api.net.PacketOffload;
import org.modnet.api.skb.SkBuff;

/**
 * {@code inet_gro_receive} and {@code inet_gro_complete} ({@code net/ipv4/af_inet.c}): IPv4's part of
 * the core's GRO. A packet whose header does not fit, whose protocol has no GRO half, whose header is
 * not 20 bytes (IHL 5, no options), a fragment, or one with a bad header checksum takes no part: it
 * goes up alone and the held flows stay, as {@code inet_gro_receive} leaves it flushed without looking
 * for its flow. One whose total length is not the frame's (cut short, or padded), or with the reserved
 * flag, is flushed after its flow is looked for ({@code NAPI_GRO_CB(skb)->flush}): its flow goes up
 * before it, and it goes up alone. A packet continues a held flow with the same addresses and
 * protocol, TOS, TTL and DF, and the next ID (or, with DF, the same ID throughout), and the protocol's
 * {@link InetOffload} says the rest. At completion the held packet's total length and header checksum
 * become those of the merged packet. Nothing is read past the frame: every header is checked to fit
 * first ({@link #fits}, as {@code skb_gro_header}), and one that does not takes no part.
 */
final class Ipv4Gro {
    private final Ipv4Gso gso;

    Ipv4Gro(Ipv4Gso gso) {
        this.gso = gso;
    }

    /**
     * {@code skb_gro_header}: whether {@code n} bytes at {@code off} lie in the skb's linear data, from
     * data to tail. Every header is checked with it before a byte of it is read: nothing past the frame.
     */
    static boolean fits(SkBuff skb, int off, int n) {
        return n >= 0 && off >= skb.data() && off <= skb.tail() - n;
    }

    /** The reserved flag, the one bit of {@code frag_off} that is neither DF nor a fragment's. */
    private static final int FLAG_RESERVED = 0x8000;

    /**
     * {@code inet_gro_receive}'s {@code flush} of a packet it takes: the total length is not the frame's,
     * or the reserved flag is set. Such a packet is never merged nor held; its flow goes up before it.
     */
    static boolean flushed(SkBuff skb, int nh) {
        return Ipv4Header.totalLen(skb, nh) != skb.len() - (nh - skb.data())
                || (Ipv4Header.fragOff(skb, nh) & FLAG_RESERVED) != 0;
    }

    int headerLen(SkBuff skb) {
        int nh = skb.data();
        int len = skb.len();
        // inet_gro_receive's order: the 20-byte header in the frame, a protocol with a GRO half, IHL 5 (no
        // options: an IHL below 5 or options take no part, its 0x45), no fragment, a good header checksum;
        // a packet failing these goes up alone and no flow is looked for
        if (len != skb.headLen() || !fits(skb, nh, Ipv4Header.MIN_LEN)) {
            return -1;
        }
        InetOffload o = gso.offload(skb.getU8(nh + Ipv4Header.PROTOCOL));
        if (o == null || skb.getU8(nh) != 0x45 || Ipv4Header.isFragment(skb, nh)
                || !InetChecksum.verify(skb, nh, Ipv4Header.MIN_LEN)) {
            return -1;
        }
        int t = o.groHeaderLen(skb, nh + Ipv4Header.MIN_LEN, len - Ipv4Header.MIN_LEN);
        if (t < 0) {
            return -1;
        }
        // a total length that is not the frame's (beyond it: truncated; short of it: padding) or the
        // reserved flag: its flow is looked for and goes up, and it goes up alone after it
        return (t + Ipv4Header.MIN_LEN) | (flushed(skb, nh) ? PacketOffload.GRO_FINAL : 0);
    }

    int match(SkBuff held, SkBuff skb, int hlen) {
        int hn = held.data();
        int nh = skb.data();
        if (!fits(skb, nh, Ipv4Header.MIN_LEN) || !fits(held, hn, Ipv4Header.MIN_LEN) || held.getU32(hn + Ipv4Header.SADDR) != skb.getU32(nh + Ipv4Header.SADDR)
                || held.getU32(hn + Ipv4Header.DADDR) != skb.getU32(nh + Ipv4Header.DADDR)
                || held.getU8(hn + Ipv4Header.PROTOCOL) != skb.getU8(nh + Ipv4Header.PROTOCOL)) {
            return 0;
        }
        if (hlen < Ipv4Header.MIN_LEN || !fits(skb, nh, hlen)) {
            return 0; // not a packet headerLen took: it looks for no flow
        }
        InetOffload o = gso.offload(skb.getU8(nh + Ipv4Header.PROTOCOL));
        int r = o == null ? 0 : o.groMatch(held, hn + Ipv4Header.MIN_LEN, skb, nh + Ipv4Header.MIN_LEN, hlen - Ipv4Header.MIN_LEN);
        if ((r & PacketOffload.GRO_SAME_FLOW) == 0) {
            return 0;
        }
        if (flushed(skb, nh)) {
            return PacketOffload.GRO_SAME_FLOW; // its flow goes up before it (skb_gro_receive refuses a flushed skb)
        }
        int frag = skb.getU16(nh + Ipv4Header.FRAG_OFF);
        int id = skb.getU16(nh + Ipv4Header.ID);
        int heldId = held.getU16(hn + Ipv4Header.ID);
        boolean df = (frag & Ipv4Header.FLAG_DF) != 0;
        boolean nextId = id == ((heldId + held.gsoSegs()) & 0xffff) || df && id == heldId;
        if (held.getU8(hn + Ipv4Header.TOS) != skb.getU8(nh + Ipv4Header.TOS)
                || held.getU8(hn + Ipv4Header.TTL) != skb.getU8(nh + Ipv4Header.TTL)
                || ((held.getU16(hn + Ipv4Header.FRAG_OFF) ^ frag) & Ipv4Header.FLAG_DF) != 0 || !nextId
                || held.len() + skb.len() - hlen > 65535) {
            return PacketOffload.GRO_SAME_FLOW; // the flow goes up; this packet may start the next
        }
        return r;
    }

    void merged(SkBuff held, SkBuff skb) {
        int hn = held.data();
        InetOffload o = gso.offload(held.getU8(hn + Ipv4Header.PROTOCOL));
        if (o != null) {
            o.groMerged(held, hn + Ipv4Header.MIN_LEN, skb, skb.data() + Ipv4Header.MIN_LEN);
        }
    }

    void complete(SkBuff skb) {
        int nh = skb.data();
        int len = skb.len();
        skb.setU16(nh + Ipv4Header.TOT_LEN, len);
        skb.setU16(nh + Ipv4Header.CHECK, 0);
        skb.setU16(nh + Ipv4Header.CHECK, InetChecksum.checksum(skb, nh, Ipv4Header.MIN_LEN));
        InetOffload o = gso.offload(skb.getU8(nh + Ipv4Header.PROTOCOL));
        if (o != null) {
            o.groComplete(skb, nh + Ipv4Header.MIN_LEN, len - Ipv4Header.MIN_LEN);
        }
    }
}

package org.modnet.tcp;

import org.modnet.api.net.NetdevFeatures;
import org.modnet.api.net.PacketOffload;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.SkBuff;

/**
 * {@code tcp4_gro_receive}, {@code tcp_gro_receive} and {@code tcp4_gro_complete}
 * ({@code net/ipv4/tcp_offload.c}): TCP's part of the core's GRO. A segment with a bad checksum
 * (verified here once, then {@code CHECKSUM_UNNECESSARY}; not when IPv4 flushed the packet already), or
 * whose header does not fit ({@code tcp_gro_pull_header}), takes no part: it goes up alone and the held
 * flows stay. SYN, RST, URG, PSH, FIN, no payload or IPv4's flush end its flow (sent up before it,
 * or, PSH and FIN, after it is merged) and keep it from being held. It continues a held one with the same ports, the next sequence
 * number, the same acknowledgment, flags (but CWR, FIN, PSH) and option bytes (timestamps included), no
 * CWR of its own, and at most the held segment's payload ({@code gso_size}); a shorter one is the
 * last. The merged skb goes up {@code CHECKSUM_PARTIAL} over its own pseudo-header, as
 * {@code tcp_gro_complete} leaves it, {@code SKB_GSO_TCPV4}. Nothing is read past the frame: the
 * segment, its fixed header and its options are checked to fit before they are read ({@code skb_gro_header}).
 */
final class TcpGro {
    private TcpGro() {
    }

    /** The IPv4 pseudo-header's sum for {@code len} TCP bytes (the network header is IPv4's, at {@code skb.networkHeader()}). */
    private static int pseudo(SkBuff skb, int len) {
        int nh = skb.networkHeader();
        return TcpAf.inetPseudoSum(skb.getU32(nh + 12), skb.getU32(nh + 16), len);
    }

    /** {@code skb_gro_header}: whether {@code n} bytes at {@code off} lie in the skb's data, from data to tail. */
    private static boolean fits(SkBuff skb, int off, int n) {
        return n >= 0 && off >= skb.data() && off <= skb.tail() - n;
    }

    /**
     * {@code NAPI_GRO_CB(skb)->flush} as {@code inet_gro_receive} left it for {@code tcp4_gro_receive}: the
     * IPv4 total length (the network header is IPv4's) is not the frame's, or the reserved flag is set.
     */
    private static boolean networkFlushed(SkBuff skb) {
        int nh = skb.networkHeader();
        return skb.getU16(nh + 2) != skb.len() - (nh - skb.data()) || (skb.getU16(nh + 6) & 0x8000) != 0;
    }

    static int headerLen(SkBuff skb, int th, int len) {
        if (len < 0 || !fits(skb, th, len)) {
            return -1;
        }
        // tcp4_gro_receive: the checksum first, unless IPv4 flushed the packet already (it goes up alone
        // anyway); a bad one takes no part, up alone with the held flows left as they are, for TCP to drop
        boolean flushed = networkFlushed(skb);
        Checksum c = skb.ipSummed();
        if (!flushed && c != Checksum.UNNECESSARY && c != Checksum.PARTIAL) {
            if (TcpHeader.sum(skb, th, len, pseudo(skb, len)) != 0xffff) {
                return -1; // skb_gro_checksum_validate
            }
            skb.ipSummed(Checksum.UNNECESSARY);
        }
        // tcp_gro_pull_header: the fixed header, then the options the data offset claims: a data offset
        // below 5 or options past the end take no part either
        if (len < TcpHeader.MIN_LEN) {
            return -1;
        }
        int doff = (skb.getU8(th + TcpHeader.DOFF) >>> 4) * 4;
        if (doff < TcpHeader.MIN_LEN || doff > len) {
            return -1;
        }
        // tcp_gro_receive looks for its flow; these end it (sent up before this segment, or after it
        // for PSH and FIN when it merges) and are never held: SYN, RST and URG never merge (their flags
        // are not the held segment's), nor does a segment without payload or one IPv4 flushed
        int flags = skb.getU8(th + TcpHeader.FLAGS);
        boolean last = flushed || (flags & (TcpHeader.PSH | TcpHeader.FIN | TcpHeader.SYN | TcpHeader.RST | TcpHeader.URG)) != 0
                || len == doff;
        return doff | (last ? PacketOffload.GRO_FINAL : 0);
    }

    static int match(SkBuff held, int hth, SkBuff skb, int th, int thlen) {
        if (thlen < TcpHeader.MIN_LEN || !fits(skb, th, thlen) || !fits(held, hth, TcpHeader.MIN_LEN)) {
            return 0; // not a header headerLen took: nothing to compare
        }
        if (held.getU32(hth + TcpHeader.SOURCE) != skb.getU32(th + TcpHeader.SOURCE)) {
            return 0; // other ports: another flow
        }
        int hdoff = (held.getU8(hth + TcpHeader.DOFF) >>> 4) * 4;
        if (!fits(held, hth, hdoff)) {
            return PacketOffload.GRO_SAME_FLOW; // the held header is not whole: it goes up, unmerged
        }
        int flags = skb.getU8(th + TcpHeader.FLAGS);
        int hflags = held.getU8(hth + TcpHeader.FLAGS);
        int mask = ~(TcpHeader.CWR | TcpHeader.FIN | TcpHeader.PSH) & 0xff;
        boolean ok = hdoff == thlen && (flags & TcpHeader.CWR) == 0 && ((flags ^ hflags) & mask) == 0
                && held.getU32(hth + TcpHeader.ACK_SEQ) == skb.getU32(th + TcpHeader.ACK_SEQ)
                && (held.getU8(hth + TcpHeader.DOFF) & 0x0f) == (skb.getU8(th + TcpHeader.DOFF) & 0x0f);
        for (int i = TcpHeader.MIN_LEN; ok && i < thlen; i += 4) {
            ok = held.getU32(hth + i) == skb.getU32(th + i); // options byte for byte, as Linux compares them
        }
        int payload = skb.len() - (th - skb.data()) - thlen;
        int heldPayload = held.len() - (hth - held.data()) - hdoff;
        int mss = held.gsoSize();
        ok &= payload > 0 && payload <= mss
                && skb.getU32(th + TcpHeader.SEQ) == held.getU32(hth + TcpHeader.SEQ) + heldPayload;
        if (!ok) {
            return PacketOffload.GRO_SAME_FLOW;
        }
        return PacketOffload.GRO_SAME_FLOW | PacketOffload.GRO_MERGE | (payload < mss ? PacketOffload.GRO_FLUSH : 0);
    }

    static void merged(SkBuff held, int hth, SkBuff skb, int th) {
        int f = skb.getU8(th + TcpHeader.FLAGS) & (TcpHeader.FIN | TcpHeader.PSH);
        if (f != 0) {
            held.setU8(hth + TcpHeader.FLAGS, held.getU8(hth + TcpHeader.FLAGS) | f);
        }
    }

    static void complete(SkBuff skb, int th, int len) {
        TcpHeader.setChecksumPartial(skb, th, pseudo(skb, len));
        skb.gso(skb.gsoSize(), skb.gsoSegs(), NetdevFeatures.SKB_GSO_TCPV4);
    }
}

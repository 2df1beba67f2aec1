package org.modnet.tcp;

import org.modnet.api.skb.SkBuff;

/**
 * {@code tcp4_gso_segment}'s part of software segmentation ({@code net/ipv4/tcp_offload.c}): each
 * segment cut from a GSO skb gets its own sequence number, CWR only on the first, FIN and PSH only on
 * the last, and a checksum over its own pseudo-header: left partial for a device that completes it,
 * complete otherwise.
 */
final class TcpOffload {
    private TcpOffload() {
    }

    /** {@code tcp_hdrlen}, or -1 if the data offset is below 5. */
    static int headerLen(SkBuff skb, int th) {
        int doff = (skb.getU8(th + TcpHeader.DOFF) >>> 4) * 4;
        return doff < TcpHeader.MIN_LEN ? -1 : doff;
    }

    static void fixSegment(SkBuff seg, int index, int count, int offset, int payloadLen, boolean csumOffload) {
        int th = seg.transportHeader();
        int nh = seg.networkHeader();
        seg.setU32(th + TcpHeader.SEQ, seg.getU32(th + TcpHeader.SEQ) + offset);
        int flags = seg.getU8(th + TcpHeader.FLAGS);
        if (index > 0) {
            flags &= ~TcpHeader.CWR;
        }
        if (index < count - 1) {
            flags &= ~(TcpHeader.FIN | TcpHeader.PSH);
        }
        seg.setU8(th + TcpHeader.FLAGS, flags);
        int len = headerLen(seg, th) + payloadLen;
        int pseudo = TcpAf.inetPseudoSum(seg.getU32(nh + 12), seg.getU32(nh + 16), len);
        if (csumOffload) {
            TcpHeader.setChecksumPartial(seg, th, pseudo);
        } else {
            TcpHeader.setChecksum(seg, th, len, pseudo);
            seg.ipSummed(org.modnet.api.skb.Checksum.NONE);
        }
    }
}

package org.modnet.udp;

import java.lang.foreign.MemorySegment;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetdevFeatures;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.socket.api.SocketCalls;

/**
 * UDP segmentation offload ({@code net/ipv4/udp_offload.c}): {@code __udp_gso_segment}'s part of
 * cutting an {@code SKB_GSO_UDP_L4} skb (a {@code UDP_SEGMENT} send) into datagrams, each with its own
 * UDP length and checksum, the last one shorter; and {@code udp_rcv_segment}, which cuts such an skb
 * that arrived whole (from a TAP that negotiated USO) into the datagrams a socket reads.
 */
final class UdpOffload {
    /** {@code UDP_MAX_SEGMENTS} ({@code include/linux/udp.h}, Linux 6.12): the most datagrams one send may become. */
    static final int UDP_MAX_SEGMENTS = 1 << 7;
    private static final int IPV4_TOT_LEN = 2;
    private static final int IPV4_ID = 4;
    private static final int IPV4_CHECK = 10;

    private UdpOffload() {
    }

    /** Whether the skb is a UDP GSO skb ({@code skb_is_gso} with {@code SKB_GSO_UDP_L4}). */
    static boolean isUdpGso(SkBuff skb) {
        return skb.isGso() && (skb.gsoType() & NetdevFeatures.SKB_GSO_UDP_L4) != 0;
    }

    /** The pseudo-header's sum (RFC 768) for a datagram of {@code len} bytes between the addresses, unfolded. */
    static int pseudo(int saddr, int daddr, int len) {
        return (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + SocketCalls.IPPROTO_UDP + len;
    }

    /** The folded pseudo-header sum a {@code CHECKSUM_PARTIAL} datagram carries in its check field ({@code udp4_hwcsum}). */
    static int partialCheck(int saddr, int daddr, int len) {
        int s = pseudo(saddr, daddr, len);
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return s;
    }

    /**
     * Fixes one datagram cut from a UDP GSO skb (headers copied, IPv4 header final): its UDP length, and
     * its checksum over its own pseudo-header and payload, left partial for a device that completes it.
     */
    static void fixSegment(SkBuff seg, int payloadLen, boolean csumOffload) {
        int th = seg.transportHeader();
        int nh = seg.networkHeader();
        int len = UdpSock.HEADER + payloadLen;
        int saddr = seg.getU32(nh + 12);
        int daddr = seg.getU32(nh + 16);
        seg.setU16(th + 4, len);
        if (csumOffload) {
            seg.setU16(th + 6, partialCheck(saddr, daddr, len));
            seg.csumPartial(th, 6);
        } else {
            seg.setU16(th + 6, 0);
            seg.setU16(th + 6, UdpSock.checksum(seg, th, len, saddr, daddr));
            seg.ipSummed(Checksum.NONE);
        }
    }

    /**
     * {@code udp_rcv_segment}: a UDP GSO skb that arrived whole (data at its UDP header, network header
     * set) cut into datagrams of {@code gso_size}, linked through {@link SkBuff#next} as Linux's segment
     * list, each with data at its UDP header, its own IPv4 total length, id (consecutive) and header
     * checksum, and its UDP length and checksum; their payload was verified as the whole skb was
     * ({@code udp_post_segment_fix_csum}: unnecessary). The skb is freed. Returns the first, or null if
     * it cannot be cut (malformed, or no buffer for the first); no buffer for a later datagram ends the
     * list early.
     */
    static SkBuff rcvSegment(NetCore core, SkBuff skb) {
        int mss = skb.gsoSize();
        int nh = skb.networkHeader();
        if (mss <= 0 || (skb.isNonlinear() && !skb.linearize())) {
            skb.free();
            return null;
        }
        int th = skb.data();
        int ihl = (skb.getU8(nh) & 0xf) * 4;
        int hdrLen = ihl + UdpSock.HEADER;
        int total = skb.len() - UdpSock.HEADER;
        if (th != nh + ihl || total <= 0) {
            skb.free();
            return null;
        }
        int count = (total + mss - 1) / mss;
        int id = skb.getU16(nh + IPV4_ID);
        MemorySegment from = skb.memory();
        SkBuff first = null;
        SkBuff last = null;
        for (int i = 0; i < count; i++) {
            int off = i * mss;
            int n = Math.min(mss, total - off);
            SkBuff seg = core.allocSkb(hdrLen + n, SkBuffPool.NET_SKB_PAD);
            if (seg == null) {
                break; // no buffer: the rest is lost, the caller counts it
            }
            int at = seg.put(hdrLen + n);
            MemorySegment to = seg.memory();
            MemorySegment.copy(from, nh, to, at, hdrLen);
            MemorySegment.copy(from, th + UdpSock.HEADER + off, to, at + hdrLen, n);
            seg.setNetworkHeader(at);
            seg.setTransportHeader(at + ihl);
            seg.protocol(skb.protocol());
            seg.mark(skb.mark());
            seg.hash(skb.hash());
            seg.tstamp(skb.tstamp());
            seg.dev(skb.dev());
            seg.setU16(at + IPV4_TOT_LEN, hdrLen + n);
            seg.setU16(at + IPV4_ID, (id + i) & 0xffff);
            seg.setU16(at + IPV4_CHECK, 0);
            seg.setU16(at + IPV4_CHECK, InetChecksum.checksum(seg, at, ihl));
            fixSegment(seg, n, false);
            seg.ipSummed(Checksum.UNNECESSARY);
            seg.pull(ihl);
            seg.next(null);
            if (last == null) {
                first = seg;
            } else {
                last.next(seg);
            }
            last = seg;
        }
        skb.free();
        return first;
    }
}

package org.modnet.ipv4;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.InetOffload;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetdevFeatures;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/**
 * {@code inet_gso_segment} ({@code net/ipv4/af_inet.c}) with {@code skb_segment}'s copying: a GSO skb
 * cut into packets of {@code gso_size} payload, each with a copy of the headers in front of its
 * payload (the MAC header too when the skb is cut at the device), its own IPv4 total length, id
 * (consecutive, as {@code ip_select_ident_segs} reserved them) and header checksum, and its transport
 * header fixed by the protocol's {@link InetOffload}. The protocols register by number; the table is
 * read without a lock.
 */
final class Ipv4Gso {
    private final NetCore core;
    private final InetOffload[] offloads = new InetOffload[256];

    Ipv4Gso(NetCore core) {
        this.core = core;
    }

    synchronized void add(int protocol, InetOffload o) {
        offloads[protocol & 0xff] = o;
    }

    /** The offload of {@code protocol}, or null (read without a lock, for GRO). */
    InetOffload offload(int protocol) {
        return offloads[protocol & 0xff];
    }

    synchronized void remove(int protocol, InetOffload o) {
        if (offloads[protocol & 0xff] == o) {
            offloads[protocol & 0xff] = null;
        }
    }

    /**
     * {@code skb_gso_network_seglen}: the IPv4 length of each segment the GSO skb (data at its IPv4
     * header, or its MAC header) will be cut into, or -1 if its protocol has no offload here.
     */
    int networkSegLen(SkBuff skb) {
        int nh = skb.networkHeader();
        int ihl = Ipv4Header.headerLen(skb, nh);
        InetOffload o = offloads[skb.getU8(nh + Ipv4Header.PROTOCOL)];
        int thlen = o == null ? -1 : o.headerLen(skb, nh + ihl);
        return thlen < 0 ? -1 : ihl + thlen + skb.gsoSize();
    }

    /** {@code skb_gso_segment}: see {@link org.modnet.api.net.PacketOffload#gsoSegment}. */
    int segment(SkBuff skb, long features, Consumer<SkBuff> out) {
        int mss = skb.gsoSize();
        int nh = skb.networkHeader();
        if (mss <= 0 || nh < skb.data() || (skb.isNonlinear() && !skb.linearize())) {
            return -1;
        }
        int ihl = Ipv4Header.headerLen(skb, nh);
        InetOffload o = offloads[skb.getU8(nh + Ipv4Header.PROTOCOL)];
        int th = nh + ihl;
        int thlen = o == null ? -1 : o.headerLen(skb, th);
        if (thlen < 0 || th + thlen > skb.tail()) {
            return -1;
        }
        int hdrLen = th + thlen - skb.data();
        int total = skb.len() - hdrLen;
        int count = (total + mss - 1) / mss;
        int id = skb.getU16(nh + Ipv4Header.ID);
        boolean csum = (features & NetdevFeatures.NETIF_F_HW_CSUM) != 0;
        MemorySegment from = skb.memory();
        int mac = skb.macHeaderWasSet() ? skb.macHeader() - skb.data() : -1;
        for (int i = 0; i < count; i++) {
            int off = i * mss;
            int n = Math.min(mss, total - off);
            SkBuff seg = core.allocSkb(hdrLen + n, SkBuffPool.NET_SKB_PAD);
            if (seg == null) {
                return -1; // no buffer: the rest of the skb is lost, the caller counts the drop
            }
            int at = seg.put(hdrLen + n);
            MemorySegment to = seg.memory();
            MemorySegment.copy(from, skb.data(), to, at, hdrLen);
            MemorySegment.copy(from, skb.data() + hdrLen + off, to, at + hdrLen, n);
            if (mac >= 0) {
                seg.setMacHeader(at + mac);
            }
            int snh = at + (nh - skb.data());
            seg.setNetworkHeader(snh);
            seg.setTransportHeader(snh + ihl);
            seg.protocol(skb.protocol());
            seg.priority(skb.priority());
            seg.mark(skb.mark());
            seg.hash(skb.hash());
            seg.queueMapping(skb.queueMapping());
            seg.tstamp(skb.tstamp());
            seg.dev(skb.dev());
            seg.setU16(snh + Ipv4Header.TOT_LEN, ihl + thlen + n);
            seg.setU16(snh + Ipv4Header.ID, (id + i) & 0xffff);
            seg.setU16(snh + Ipv4Header.CHECK, 0);
            seg.setU16(snh + Ipv4Header.CHECK, InetChecksum.checksum(seg, snh, ihl));
            o.gsoFixSegment(seg, i, count, off, n, csum);
            out.accept(seg);
        }
        return count;
    }
}

package org.modnet.ipv4;

import java.util.concurrent.atomic.AtomicInteger;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;

/**
 * {@code ip_queue_xmit} and {@code ip_output} ({@code net/ipv4/ip_output.c}): routes a packet, adds
 * its IPv4 header and hands it to the neighbour layer. Local destinations go out through lo, as
 * Linux's local routes send them.
 */
final class Ipv4Output {
    private final Ipv4Net net;
    private final NeighbourTable neighbours;
    private final AtomicInteger ids = new AtomicInteger((int) System.nanoTime());

    Ipv4Output(Ipv4Net net, NeighbourTable neighbours) {
        this.net = net;
        this.neighbours = neighbours;
    }

    /** A routing decision: where a packet to {@code daddr} leaves, with which source and next hop. */
    record Decision(NetDevice dev, int src, int nextHop, Errno error) {
    }

    /** {@code ip_route_output}: the device, source and next hop for {@code daddr}, or the error. */
    Decision route(int daddr) {
        return route(daddr, 0, 0, 0);
    }

    /**
     * {@code ip_route_output_key} for a flow with a source (0: any), an out device (0: any) and a mark:
     * the device, source and next hop, or the error.
     */
    Decision route(int daddr, int saddr, int oif, int mark) {
        if (isLocal(daddr)) {
            NetDevice lo = net.ns.device("lo");
            if (lo == null || !lo.isUp()) {
                return new Decision(null, 0, 0, Errno.ENETUNREACH);
            }
            return new Decision(lo, daddr, daddr, null); // to ourselves: from the address itself
        }
        RouteEntry r = net.rules.output(daddr, saddr, oif, mark, 0, 0, 0, 0);
        Errno e = error(r);
        if (e != null) {
            return new Decision(null, 0, 0, e);
        }
        int nextHop = r.gateway() != 0 ? net.redirects.gateway(daddr, r.gateway(), net.core.nanoTime() / 1_000_000) : daddr;
        return new Decision(r.dev(), source(r, nextHop), nextHop, null);
    }

    boolean isLocal(int daddr) {
        return (daddr >>> 24) == 127 || net.classify(daddr, null) == Ipv4Input.Destination.LOCAL;
    }

    /** Why a route cannot carry a packet (none, a reject type or rule, its device down), or null. */
    static Errno error(RouteEntry r) {
        if (r == null || r == FibRules.UNREACHABLE) {
            return Errno.ENETUNREACH; // fib4_rule_action: a rule's unreachable is -ENETUNREACH
        }
        switch (r.type()) {
            case "blackhole" -> {
                return Errno.EINVAL;
            }
            case "unreachable" -> {
                return Errno.EHOSTUNREACH;
            }
            case "prohibit" -> {
                return Errno.EACCES;
            }
            default -> {
            }
        }
        return r.dev().isUp() ? null : Errno.ENETDOWN;
    }

    private static int source(RouteEntry r, int nextHop) {
        return r.src() != 0 ? r.src() : org.modnet.api.inet.Ipv4Addresses.select(r.dev(), nextHop, true);
    }

    /** {@link #outputRoute}'s answer for a destination that is one of this host's addresses: out through lo. */
    private static final RouteEntry TO_LO = new RouteEntry("local", 0, 32, 0, null, 0, 0, "kernel", "host");

    /**
     * The route of a packet this host sends ({@code ip_route_output_ports}), before LOCAL_OUT and again after a table or a
     * queue's verdict changed its destination or mark ({@code ip_route_me_harder}): {@link #TO_LO} for one of this host's own
     * addresses, else the rules' answer for the flow's keys (source, mark, TOS, the ports at {@code l4}). Check it with
     * {@link #outputError}.
     */
    private RouteEntry outputRoute(SkBuff skb, int l4, int daddr, int saddr, int tos, int protocol) {
        if (isLocal(daddr)) {
            return TO_LO;
        }
        boolean ports = (protocol == 6 || protocol == 17 || protocol == 132) && skb.len() - (l4 - skb.data()) >= 4;
        return net.rules.output(daddr, saddr, 0, skb.mark(), tos, protocol, ports ? skb.getU16(l4) : 0, ports ? skb.getU16(l4 + 2) : 0);
    }

    /** Why {@link #outputRoute}'s answer cannot carry the packet (lo missing or down for a local one), or null. */
    private Errno outputError(RouteEntry r) {
        if (r != TO_LO) {
            return error(r);
        }
        NetDevice lo = net.ns.device("lo");
        return lo == null || !lo.isUp() ? Errno.ENETUNREACH : null;
    }

    private NetDevice outputDevice(RouteEntry r) {
        return r == TO_LO ? net.ns.device("lo") : r.dev();
    }

    /** The next hop toward {@code daddr} on {@code r}: its gateway (or a redirect's), else the destination itself. */
    private int nextHop(RouteEntry r, int daddr) {
        return r == TO_LO || r.gateway() == 0 ? daddr : net.redirects.gateway(daddr, r.gateway(), net.core.nanoTime() / 1_000_000);
    }

    /**
     * {@code nf_reinject}'s {@code nf_reroute} at LOCAL_OUT: a packet this host sends (data at its IPv4 header), accepted
     * again after a queue, is routed from its header as it now is (the queue's consumer or a later table may have changed
     * its destination or mark), then goes through POST_ROUTING and out.
     */
    void reinjectLocalOut(SkBuff skb) {
        int h = skb.data();
        int daddr = Ipv4Header.daddr(skb, h);
        RouteEntry r = outputRoute(skb, h + Ipv4Header.headerLen(skb, h), daddr, Ipv4Header.saddr(skb, h), skb.getU8(h + Ipv4Header.TOS),
                Ipv4Header.protocol(skb, h));
        Errno e = outputError(r);
        if (e != null) {
            net.mib.inc(Ipv4Mib.Counter.OutNoRoutes);
            skb.free();
            return;
        }
        NetDevice dev = outputDevice(r);
        if (net.hooks.run(org.modnet.api.netfilter.NfHook.POST_ROUTING, skb, net.ns, null, dev)) {
            finish(skb, dev, nextHop(r, daddr), r == TO_LO ? dev.mtu() : net.pmtu.mtu(daddr, dev.mtu(), net.core.nanoTime() / 1_000_000));
        }
    }

    /**
     * Sends a transport payload (the skb's data) to {@code daddr}: header (DF when {@code df}, as
     * {@code ip_queue_xmit} sets it for {@code ip_dont_fragment}), checksum, neighbour output.
     * Returns null, or the errno the sender sees (the skb is freed then; ENOBUFS when the device's
     * qdisc refused the packet, {@code ip_send_skb}'s).
     */
    Errno send(SkBuff skb, int saddr, int daddr, int protocol, int ttl, int tos, boolean df) {
        // the route's three answers without a Decision object: this is the per-datagram path
        RouteEntry r = outputRoute(skb, skb.data(), daddr, saddr, tos, protocol);
        Errno e = outputError(r);
        if (e != null) {
            net.mib.inc(Ipv4Mib.Counter.OutNoRoutes);
            skb.free();
            return e;
        }
        boolean local = r == TO_LO;
        NetDevice dev = outputDevice(r);
        int nextHop = nextHop(r, daddr);
        int src = local ? daddr : saddr != 0 ? saddr : source(r, nextHop);
        int mtu = dev.mtu();
        if (!local) {
            long now = net.core.nanoTime() / 1_000_000;
            mtu = net.pmtu.mtu(daddr, mtu, now);
            if (df && mtu < dev.mtu() && net.pmtu.locked(daddr, now)) {
                df = false; // ip_dont_fragment: a locked path MTU (clamped to min_pmtu) sends without DF
            }
        }
        int totLen = skb.len() + Ipv4Header.MIN_LEN;
        if (totLen > 0xffff) {
            net.mib.inc(Ipv4Mib.Counter.OutDiscards);
            skb.free();
            return Errno.EMSGSIZE;
        }
        if (skb.headroom() < Ipv4Header.MIN_LEN + 16) {
            net.mib.inc(Ipv4Mib.Counter.OutDiscards); // the sender left no room for the headers
            skb.free();
            return Errno.ENOBUFS;
        }
        int h = skb.push(Ipv4Header.MIN_LEN);
        skb.setU8(h + Ipv4Header.VERSION_IHL, 0x45);
        skb.setU8(h + Ipv4Header.TOS, tos);
        skb.setU16(h + Ipv4Header.TOT_LEN, totLen);
        skb.setU16(h + Ipv4Header.ID, skb.isGso() ? ids.getAndAdd(skb.gsoSegs()) : ids.getAndIncrement()); // ip_select_ident_segs
        skb.setU16(h + Ipv4Header.FRAG_OFF, df ? Ipv4Header.FLAG_DF : 0);
        skb.setU8(h + Ipv4Header.TTL, ttl > 0 ? ttl : net.defaultTtl.get());
        skb.setU8(h + Ipv4Header.PROTOCOL, protocol);
        skb.setU16(h + Ipv4Header.CHECK, 0);
        skb.setU32(h + Ipv4Header.SADDR, saddr != 0 ? saddr : src);
        skb.setU32(h + Ipv4Header.DADDR, daddr);
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, Ipv4Header.MIN_LEN));
        skb.resetNetworkHeader();
        skb.protocol(Eth.ETH_P_IP);
        net.mib.inc(Ipv4Mib.Counter.OutRequests);
        int mark = skb.mark();
        if (!net.hooks.run(org.modnet.api.netfilter.NfHook.LOCAL_OUT, skb, net.ns, null, dev)) {
            return null; // a filter took it: its rule counters show it, and the sender sees success (EPERM comes with iptables)
        }
        int routed = Ipv4Header.daddr(skb, h);
        if (routed != daddr || skb.mark() != mark) {
            // ip_route_me_harder: a LOCAL_OUT table changed where the packet goes (nat's DNAT or REDIRECT,
            // mangle's MARK), so it is routed again from its header as it now is
            daddr = routed;
            r = outputRoute(skb, h + Ipv4Header.MIN_LEN, daddr, Ipv4Header.saddr(skb, h), tos, protocol);
            e = outputError(r);
            if (e != null) {
                net.mib.inc(Ipv4Mib.Counter.OutNoRoutes);
                skb.free();
                return e;
            }
            local = r == TO_LO;
            dev = outputDevice(r);
            nextHop = nextHop(r, daddr);
            mtu = local ? dev.mtu() : net.pmtu.mtu(daddr, dev.mtu(), net.core.nanoTime() / 1_000_000);
        }
        if (!net.hooks.run(org.modnet.api.netfilter.NfHook.POST_ROUTING, skb, net.ns, null, dev)) {
            return null;
        }
        if (df && protocol == IPPROTO_TCP && !local && tooBig(skb, mtu)) {
            // ip_fragment: a DF packet is cut only when its sender allowed it (ignore_df: UDP and raw
            // sockets below IP_PMTUDISC_DO); TCP never does, so its segment is refused and the socket
            // hears of the smaller MTU from an ICMP "fragmentation needed" sent to itself
            net.mib.inc(Ipv4Mib.Counter.FragFails);
            net.icmp.sendError(skb, Icmp.DEST_UNREACH, Icmp.FRAG_NEEDED, mtu);
            skb.free();
            return Errno.EMSGSIZE;
        }
        if (finish(skb, dev, nextHop, mtu) != 0) {
            // ip_send_skb: net_xmit_errno turns NET_XMIT_DROP into ENOBUFS, counted as a discard
            net.mib.inc(Ipv4Mib.Counter.OutDiscards);
            return Errno.ENOBUFS;
        }
        return null;
    }

    /** IP protocol 6: the one transport whose DF segments are never fragmented here. */
    private static final int IPPROTO_TCP = 6;

    /** The packet (data at its IPv4 header), or each segment of a GSO one, exceeds {@code mtu}. */
    private boolean tooBig(SkBuff skb, int mtu) {
        if (!skb.isGso()) {
            return skb.len() > mtu;
        }
        Ipv4Gso gso = net.gso;
        int segLen = gso == null ? -1 : gso.networkSegLen(skb);
        return segLen > mtu;
    }

    /**
     * {@code ip_finish_output2}: the packet (a fragment, a segment or a GSO skb) leaves IP for the
     * neighbour layer: OutTransmits and OutOctets ({@code IPSTATS_MIB_OUT}), and the broadcast counters
     * for a broadcast destination. Returns {@code dev_queue_xmit}'s answer.
     */
    private int output2(SkBuff skb, NetDevice dev, int nextHop) {
        Ipv4Mib mib = net.mib;
        int len = skb.len();
        mib.inc(Ipv4Mib.Counter.OutTransmits);
        mib.add(Ipv4Mib.Counter.OutOctets, len);
        if (net.classify(Ipv4Header.daddr(skb, skb.data()), null) == Ipv4Input.Destination.BROADCAST) {
            mib.inc(Ipv4Mib.Counter.OutBcastPkts);
            mib.add(Ipv4Mib.Counter.OutBcastOctets, len);
        }
        return neighbours.outputStatus(skb, dev, nextHop);
    }

    /**
     * {@code ip_finish_output}: to the neighbour layer, in fragments if the packet exceeds the MTU.
     * Returns {@code dev_queue_xmit}'s answer for a packet sent whole ({@code NET_XMIT_DROP}: a full
     * qdisc refused it), 0 for one sent in fragments or segments.
     */
    int finish(SkBuff skb, NetDevice dev, int nextHop) {
        return finish(skb, dev, nextHop, dev.mtu());
    }

    /** {@link #finish(SkBuff, NetDevice, int)} with the path MTU ({@code ip_skb_dst_mtu}) in place of the device's. */
    int finish(SkBuff skb, NetDevice dev, int nextHop, int mtu) {
        if (skb.isGso()) {
            finishGso(skb, dev, nextHop, mtu);
            return 0;
        }
        if (skb.len() <= mtu && skb.fragMaxSize() == 0) {
            return output2(skb, dev, nextHop);
        }
        fragment(skb, dev, nextHop, mtu);
        return 0;
    }

    /**
     * {@code ip_finish_output_gso}: a GSO skb whose segments fit the MTU goes on whole (the device, or
     * the core before a device without TSO, cuts it); otherwise it is cut here and each segment is
     * sent, or fragmented if even it is too big.
     */
    private void finishGso(SkBuff skb, NetDevice dev, int nextHop, int mtu) {
        Ipv4Gso gso = net.gso;
        int segLen = gso == null ? -1 : gso.networkSegLen(skb);
        if (segLen <= mtu) { // -1: no offload here knows the protocol; the sender sized it for this device
            output2(skb, dev, nextHop);
            return;
        }
        // rare (a route MTU below the segments'): the one place here a lambda is made per packet
        long features = dev.netdevFeatures() & ~org.modnet.api.net.NetdevFeatures.NETIF_F_TSO;
        int n = gso == null ? -1 : gso.segment(skb, features, seg -> {
            if (seg.len() <= mtu) {
                output2(seg, dev, nextHop);
            } else {
                fragment(seg, dev, nextHop, mtu);
            }
        });
        if (n < 0) {
            net.mib.inc(Ipv4Mib.Counter.OutDiscards);
        }
        skb.free();
    }

    /**
     * {@code ip_fragment}: cuts the datagram (data at its header) into pieces that fit the MTU, each
     * carrying a multiple of 8 bytes but the last, with the header's offset and MF set; the datagram's
     * own MF (when it is itself a fragment being forwarded) stays on its last piece.
     */
    private void fragment(SkBuff skb, NetDevice dev, int nextHop, int mtu) {
        int h = skb.data();
        int ihl = Ipv4Header.headerLen(skb, h);
        int total = Ipv4Header.totalLen(skb, h) - ihl;
        int fragField = Ipv4Header.fragOff(skb, h);
        int keepDf = 0;
        int fragMax = skb.fragMaxSize();
        if (fragMax != 0) {
            // a datagram netfilter reassembled: cut again no larger than it came (ip_do_fragment's
            // frag_max_size); with DF (each piece had it) it may not exceed the path, and the pieces keep DF
            if ((fragField & Ipv4Header.FLAG_DF) != 0) {
                if (fragMax > mtu) {
                    net.mib.inc(Ipv4Mib.Counter.FragFails);
                    net.icmp.sendError(skb, Icmp.DEST_UNREACH, Icmp.FRAG_NEEDED, mtu);
                    skb.free();
                    return;
                }
                keepDf = Ipv4Header.FLAG_DF;
            }
            mtu = Math.min(mtu, fragMax);
        }
        int baseOffset = (fragField & Ipv4Header.OFFSET_MASK) * 8;
        boolean moreAfter = (fragField & Ipv4Header.FLAG_MF) != 0;
        int chunk = ((mtu - ihl) / 8) * 8;
        if (chunk <= 0 || !InetChecksum.complete(skb)) { // a partial sum cannot be finished once the data is cut
            net.mib.inc(Ipv4Mib.Counter.FragFails);
            skb.free();
            return;
        }
        byte[] header = new byte[ihl];
        skb.getBytes(h, header, 0, ihl);
        byte[] data = new byte[chunk];
        int created = 0;
        for (int off = 0; off < total; off += chunk) {
            int n = Math.min(chunk, total - off);
            SkBuff frag = net.core.allocSkb(ihl + n, 128);
            if (frag == null) {
                net.mib.inc(Ipv4Mib.Counter.FragFails);
                break;
            }
            int o = frag.put(ihl + n);
            frag.setBytes(o, header, 0, ihl);
            skb.getBytes(h + ihl + off, data, 0, n);
            frag.setBytes(o + ihl, data, 0, n);
            boolean last = off + n >= total;
            frag.setU16(o + Ipv4Header.TOT_LEN, ihl + n);
            frag.setU16(o + Ipv4Header.FRAG_OFF,
                    ((baseOffset + off) / 8) | (!last || moreAfter ? Ipv4Header.FLAG_MF : 0) | keepDf);
            frag.setU16(o + Ipv4Header.CHECK, 0);
            frag.setU16(o + Ipv4Header.CHECK, InetChecksum.checksum(frag, o, ihl));
            frag.resetNetworkHeader();
            frag.protocol(Eth.ETH_P_IP);
            frag.priority(skb.priority());
            frag.mark(skb.mark());
            output2(frag, dev, nextHop);
            created++;
        }
        if (created > 0) {
            net.mib.inc(Ipv4Mib.Counter.FragOKs);
        }
        for (int i = 0; i < created; i++) {
            net.mib.inc(Ipv4Mib.Counter.FragCreates);
        }
        skb.free();
    }

    /**
     * The path MTU toward {@code daddr} ({@code dst_mtu} of the output route, exceptions included): what
     * IP_MTU reads and what a DO socket may not exceed; 0 without a route.
     */
    int pathMtu(int daddr) {
        Decision d = route(daddr);
        if (d.error() != null) {
            return 0;
        }
        return isLocal(daddr) ? d.dev().mtu() : net.pmtu.mtu(daddr, d.dev().mtu(), net.core.nanoTime() / 1_000_000);
    }

    /** The source address a packet to {@code daddr} would get: what ping prints and replies answer to. */
    int sourceFor(int daddr) {
        Decision d = route(daddr);
        return d.error() == null ? d.src() : 0;
    }
}

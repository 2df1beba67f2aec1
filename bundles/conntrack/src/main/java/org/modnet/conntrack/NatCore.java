package org.modnet.conntrack;

import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfNat;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/**
 * One namespace's NAT (nf_nat_core.c, nf_nat_proto.c, nf_nat_masquerade.c): binds a new connection to a
 * translated tuple ({@code nf_nat_setup_info}, choosing a free one as {@code get_unique_tuple} and
 * {@code nf_nat_l4proto_unique_tuple} do) and rewrites each packet of a bound connection, both ways
 * ({@code nf_nat_packet}), checksums fixed incrementally (RFC 1624), ICMP errors' quoted headers
 * translated with them ({@code nf_nat_icmp_reply_translation}).
 */
final class NatCore implements NfNat {
    private final ConntrackTable table;
    /** The primary IPv4 address of a device, 0 when it has none (MASQUERADE's source). */
    private final java.util.function.ToIntFunction<NetDevice> primaryAddress;

    NatCore(ConntrackTable table, java.util.function.ToIntFunction<NetDevice> primaryAddress) {
        this.table = table;
        this.primaryAddress = primaryAddress;
    }

    /** SRC manip happens at POST_ROUTING and LOCAL_IN, DST manip at PRE_ROUTING and LOCAL_OUT. */
    static boolean isSrcManip(NfHook hook) {
        return hook == NfHook.POST_ROUTING || hook == NfHook.LOCAL_IN;
    }

    /** True while the packet's new connection has no binding for the hook's manip type yet. */
    static boolean needsBinding(SkBuff skb, NfHook hook) {
        if (!(skb.nfct() instanceof NfConn ct) || skb.nfctInfo() != SkBuff.IP_CT_NEW) {
            return false;
        }
        return !ct.has(isSrcManip(hook) ? NfConn.IPS_SRC_NAT_DONE : NfConn.IPS_DST_NAT_DONE);
    }

    /** The null binding: the connection keeps its addresses for this manip type. */
    static void nullBinding(SkBuff skb, NfHook hook) {
        if (skb.nfct() instanceof NfConn ct) {
            ct.set(isSrcManip(hook) ? NfConn.IPS_SRC_NAT_DONE : NfConn.IPS_DST_NAT_DONE);
        }
    }

    @Override
    public Verdict setup(SkBuff skb, NfHook hook, int minAddr, int maxAddr, int minPort, int maxPort, int flags) {
        if (!(skb.nfct() instanceof NfConn ct) || ct.has(NfConn.IPS_CONFIRMED)) {
            return Verdict.ACCEPT;
        }
        return setup(ct, isSrcManip(hook), minAddr, maxAddr, minPort, maxPort, flags) ? Verdict.ACCEPT : Verdict.DROP;
    }

    @Override
    public Verdict masquerade(SkBuff skb, NetDevice out, int minPort, int maxPort, int flags) {
        if (!(skb.nfct() instanceof NfConn ct) || ct.has(NfConn.IPS_CONFIRMED)) {
            return Verdict.ACCEPT;
        }
        int addr = out == null ? 0 : primaryAddress.applyAsInt(out);
        if (addr == 0) {
            return Verdict.DROP; // nf_nat_masquerade_ipv4: no address on the way out
        }
        ct.masqIfindex = out.ifindex();
        ct.masqAddr = addr;
        return setup(ct, true, addr, addr, minPort, maxPort, flags) ? Verdict.ACCEPT : Verdict.DROP;
    }

    @Override
    public Verdict redirect(SkBuff skb, NfHook hook, NetDevice in, int minPort, int maxPort, int flags) {
        if (!(skb.nfct() instanceof NfConn ct) || ct.has(NfConn.IPS_CONFIRMED)) {
            return Verdict.ACCEPT;
        }
        int addr = hook == NfHook.LOCAL_OUT || in == null ? 0x7f000001 : primaryAddress.applyAsInt(in);
        if (addr == 0) {
            return Verdict.DROP;
        }
        return setup(ct, false, addr, addr, minPort, maxPort, flags) ? Verdict.ACCEPT : Verdict.DROP;
    }

    /**
     * nf_nat_setup_info: the connection's original tuple, translated within the range for its manip
     * type, must be unique as the reply tuple it makes; the reply tuple is set so the reply finds the
     * entry and is translated back. False when the range has no free tuple.
     */
    boolean setup(NfConn ct, boolean src, int minAddr, int maxAddr, int minPort, int maxPort, int flags) {
        NfConn.TupleHash o = ct.orig;
        int addr = src ? o.src : o.dst;
        int port = src ? o.sport : o.dport;
        int proto = ct.proto;
        if (minAddr != 0 || maxAddr != 0) {
            int lo = minAddr, hi = maxAddr;
            if (Integer.compareUnsigned(addr, lo) < 0 || Integer.compareUnsigned(addr, hi) > 0) {
                // find_best_ips_proto: one address of the range, the same for a source/destination pair
                long span = (hi & 0xffffffffL) - (lo & 0xffffffffL) + 1;
                int h = (o.src * 0x9e3779b1) ^ (src ? 0 : o.dst * 0x85ebca6b);
                addr = lo + (int) Long.remainderUnsigned(h & 0xffffffffL, span);
            }
        }
        boolean portful = proto == 6 || proto == 17 || proto == 1;
        int newPort = port;
        if (portful && !free(ct, src, addr, port) || portful && (minPort != 0 || maxPort != 0)
                && (port < minPort || port > maxPort) || portful && (flags & (RANDOM | RANDOM_FULLY)) != 0) {
            newPort = uniquePort(ct, src, addr, port, minPort, maxPort, flags);
            if (newPort < 0) {
                return false;
            }
        } else if (!portful && !free(ct, src, addr, port)) {
            return false;
        }
        NfConn.TupleHash r = ct.reply;
        boolean changed;
        if (src) {
            changed = addr != o.src || newPort != o.sport;
            r.dst = addr;
            if (proto == 1) {
                r.sport = newPort; // the echo id is the same both ways
            } else {
                r.dport = newPort;
            }
        } else {
            changed = addr != o.dst || newPort != o.dport;
            r.src = addr;
            if (proto != 1) {
                r.sport = newPort;
            }
        }
        ct.set(src ? NfConn.IPS_SRC_NAT_DONE : NfConn.IPS_DST_NAT_DONE);
        if (changed) {
            ct.set(src ? NfConn.IPS_SRC_NAT : NfConn.IPS_DST_NAT);
        }
        return true;
    }

    /** nf_nat_used_tuple: would the reply tuple this choice makes belong to another entry? */
    private boolean free(NfConn ct, boolean src, int addr, int port) {
        NfConn.TupleHash r = ct.reply;
        int rs = r.src, rd = r.dst, rsp = r.sport, rdp = r.dport;
        if (src) {
            rd = addr;
            if (ct.proto == 1) {
                rsp = port;
            } else {
                rdp = port;
            }
        } else {
            rs = addr;
            if (ct.proto != 1) {
                rsp = port;
            }
        }
        return !table.taken(rs, rd, rsp, rdp, ct.proto, ct.zone);
    }

    /**
     * nf_nat_l4proto_unique_tuple: a free port in the range (by default: 1-511, 600-1023 or 1024-65535 by
     * where the port was; every id for ICMP), searched from a random start (a destination range without
     * --random or --random-fully from its first port), at most 128 tries in a shrinking window as Linux does.
     */
    int uniquePort(NfConn ct, boolean src, int addr, int port, int minPort, int maxPort, int flags) {
        int lo, hi;
        if (minPort != 0 || maxPort != 0) {
            lo = minPort;
            hi = maxPort;
        } else if (ct.proto == 1) {
            lo = 0;
            hi = 0xffff;
        } else if (!src) {
            return free(ct, false, addr, port) ? port : -1; // DNAT without ports keeps the port
        } else if (port < 512) {
            lo = 1;
            hi = 511;
        } else if (port < 1024) {
            lo = 600;
            hi = 1023;
        } else {
            lo = 1024;
            hi = 0xffff;
        }
        int range = hi - lo + 1;
        // Linux 6.x: a random start (get_random_u16) for every source manip and for any manip with --random or
        // --random-fully (NF_NAT_RANGE_PROTO_RANDOM_ALL: in Linux 6.12 the two flags choose ports alike);
        // a destination range without them is searched from its first port. ThreadLocalRandom: no lock, no allocation.
        int off = (flags & (RANDOM | RANDOM_FULLY)) != 0 || src
                ? java.util.concurrent.ThreadLocalRandom.current().nextInt(range)
                : 0;
        int attempts = Math.min(range, 128);
        while (true) {
            for (int i = 0; i < attempts; i++, off++) {
                int p = lo + Integer.remainderUnsigned(off, range);
                if (free(ct, src, addr, p)) {
                    return p;
                }
            }
            if (attempts >= range || attempts < 16) {
                return -1;
            }
            attempts /= 2;
            off = java.util.concurrent.ThreadLocalRandom.current().nextInt(range); // another round from a new random start
        }
    }

    // ------------------------------------------------------------------ nf_nat_packet

    /**
     * nf_nat_packet: rewrites the packet as its connection's binding says for this hook's manip type:
     * the original direction's packets to look like the reply tuple's inverse, the reply's back.
     */
    Verdict packet(SkBuff skb, NfHook hook) {
        if (!(skb.nfct() instanceof NfConn ct)) {
            return Verdict.ACCEPT;
        }
        int info = skb.nfctInfo();
        boolean reply = info >= SkBuff.IP_CT_IS_REPLY;
        boolean src = isSrcManip(hook);
        // the reply direction undoes the other manip type: SNAT's replies are DNATed back
        int bit = (src != reply) ? NfConn.IPS_SRC_NAT : NfConn.IPS_DST_NAT;
        if (!ct.has(bit)) {
            return Verdict.ACCEPT;
        }
        // the packet should look like the inverse of the other direction's tuple
        NfConn.TupleHash other = reply ? ct.orig : ct.reply;
        int addr = src ? other.dst : other.src;
        int port;
        if (ct.proto == 1) {
            port = ct.orig.sport == ct.reply.sport ? -1 : (reply ? ct.orig.sport : ct.reply.sport);
        } else {
            port = src ? other.dport : other.sport;
        }
        if (!skb.isWritable() && !skb.unshare()) {
            return Verdict.DROP;
        }
        int nh = skb.networkHeader();
        if (info % SkBuff.IP_CT_IS_REPLY == SkBuff.IP_CT_RELATED && skb.getU8(nh + 9) == 1) {
            return icmpReplyTranslation(skb, nh, src, addr, port, other);
        }
        manip(skb, nh, src, addr, port);
        return Verdict.ACCEPT;
    }

    /** nf_nat_ipv4_manip_pkt: the address (and port or ICMP id) of one end, checksums fixed in place. */
    static void manip(SkBuff skb, int nh, boolean src, int addr, int port) {
        int ihl = (skb.getU8(nh) & 0xf) << 2;
        int proto = skb.getU8(nh + 9);
        int th = nh + ihl;
        boolean first = (skb.getU16(nh + 6) & 0x1fff) == 0;
        int at = nh + (src ? 12 : 16);
        int old = skb.getU32(at);
        if (first && port >= 0) {
            switch (proto) {
                case 6, 17 -> {
                    int pat = th + (src ? 0 : 2);
                    int csumAt = proto == 6 ? th + 16 : th + 6;
                    if (csumAt + 2 <= skb.tail()) {
                        int oldPort = skb.getU16(pat);
                        int c = skb.getU16(csumAt);
                        if (proto == 6 || c != 0) {
                            c = Csum.replace32(c, old, addr);
                            c = Csum.replace16(c, oldPort, port);
                            skb.setU16(csumAt, proto == 17 && c == 0 ? 0xffff : c);
                        }
                        skb.setU16(pat, port);
                    }
                }
                case 1 -> {
                    if (th + 8 <= skb.tail() && Icmp.isQuery(skb.getU8(th))) {
                        int oldId = skb.getU16(th + 4);
                        skb.setU16(th + 2, Csum.replace16(skb.getU16(th + 2), oldId, port));
                        skb.setU16(th + 4, port);
                    }
                }
                default -> { }
            }
        } else if (first && (proto == 6 || proto == 17)) {
            int csumAt = proto == 6 ? th + 16 : th + 6;
            if (csumAt + 2 <= skb.tail()) {
                int c = skb.getU16(csumAt);
                if (proto == 6 || c != 0) {
                    c = Csum.replace32(c, old, addr);
                    skb.setU16(csumAt, proto == 17 && c == 0 ? 0xffff : c);
                }
            }
        }
        skb.setU16(nh + 10, Csum.replace32(skb.getU16(nh + 10), old, addr));
        skb.setU32(at, addr);
    }

    /**
     * nf_nat_icmp_reply_translation: an error about a translated flow: the quoted packet (which went the
     * other way) gets the reverse manip, the outer header this one, and the ICMP checksum is summed anew.
     */
    private Verdict icmpReplyTranslation(SkBuff skb, int nh, boolean src, int addr, int port, NfConn.TupleHash other) {
        int ihl = (skb.getU8(nh) & 0xf) << 2;
        int th = nh + ihl;
        int inner = th + 8;
        if (inner + 28 > skb.tail()) {
            return Verdict.ACCEPT; // too short to hold a header and 8 bytes: left as it is
        }
        // the quoted packet went the other way: the end this packet changes at is its other end
        manip(skb, inner, !src, addr, port);
        int end = Math.min(nh + skb.getU16(nh + 2), skb.tail());
        skb.setU16(th + 2, 0);
        skb.setU16(th + 2, ~org.modnet.api.inet.InetChecksum.sum(skb, th, end - th, 0) & 0xffff);
        manip(skb, nh, src, addr, -1);
        return Verdict.ACCEPT;
    }
}

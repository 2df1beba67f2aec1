package org.modnet.conntrack;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.NetException;
import org.modnet.api.net.Sysctl;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/**
 * One namespace's connection tracking (nf_conntrack_core.c): the bounded hash of both tuples of every
 * confirmed entry, {@code nf_conntrack_in} and {@code nf_conntrack_confirm}, the per-protocol trackers
 * (TCP in {@link TcpConntrack}; UDP, ICMP and generic here) and the statistics {@code conntrack -S} shows.
 *
 * <p>Lookups walk a chain through volatile links and take no lock; a packet of a known flow allocates
 * nothing, it updates its entry's state and timeout. A new flow allocates its {@link NfConn} (as the
 * kernel takes one from its slab) and is inserted, when it is confirmed, under the table's lock (the
 * kernel's bucket locks); removal unlinks a node without changing its own link, so a reader on it goes on.
 * Entries expire lazily on lookup ({@code nf_ct_is_expired}) and through {@link #gc} (gc_worker), which
 * the component runs from one timer on the core's timer wheel.
 */
final class ConntrackTable {
    /** Linux's size for a small machine; nf_conntrack_max follows it (the factor is 1 since Linux 6.x). */
    static final int DEFAULT_BUCKETS = 16384;

    static final int IP_CT_ESTABLISHED = SkBuff.IP_CT_ESTABLISHED, IP_CT_RELATED = SkBuff.IP_CT_RELATED,
            IP_CT_NEW = SkBuff.IP_CT_NEW, IP_CT_IS_REPLY = SkBuff.IP_CT_IS_REPLY;

    final AtomicReferenceArray<NfConn.TupleHash> hash;
    private final int mask;
    final AtomicInteger count = new AtomicInteger();
    private final LongSupplier clock;
    private final int seed;

    // conntrack -S's counters (ip_conntrack_stat), summed over CPUs here
    final AtomicLong found = new AtomicLong(), invalid = new AtomicLong(), insert = new AtomicLong(),
            insertFailed = new AtomicLong(), drop = new AtomicLong(), earlyDrop = new AtomicLong(),
            error = new AtomicLong(), searchRestart = new AtomicLong(), clashResolve = new AtomicLong(),
            chainTooLong = new AtomicLong();

    final IntSysctl max, buckets, countSysctl, udpTimeout, udpTimeoutStream, icmpTimeout, genericTimeout;
    /** {@code nf_conntrack_tcp_loose}: pick up a flow mid-stream; {@code _be_liberal}: only RSTs out of window are INVALID. */
    final IntSysctl tcpLoose, tcpBeLiberal;
    /** {@code nf_conntrack_tcp_max_retrans} (3) and the timeouts of a flow retransmitting that often or with data unacknowledged. */
    final IntSysctl tcpMaxRetrans, tcpTimeoutMaxRetrans, tcpTimeoutUnacknowledged;
    final IntSysctl[] tcpTimeouts = new IntSysctl[TcpConntrack.NAMES.length];
    private final List<IntSysctl> settable = new ArrayList<>();

    /** The NAT core's second half, for entries that go (their ports are free again); may be null. */
    volatile java.util.function.Consumer<NfConn> onDestroy;
    /** What {@code conntrack -E} listens to. */
    final ConntrackEvents events = new ConntrackEvents(this);

    ConntrackTable(Sysctl sysctl, LongSupplier millis, int nbuckets) {
        hash = new AtomicReferenceArray<>(nbuckets);
        mask = nbuckets - 1;
        clock = millis;
        seed = (int) System.nanoTime() | 1;
        String p = "net.netfilter.nf_conntrack_";
        buckets = sysctl.registerInt(p + "buckets", nbuckets, nbuckets, nbuckets);
        max = reg(sysctl, p + "max", nbuckets, 0, Integer.MAX_VALUE);
        countSysctl = sysctl.registerInt(p + "count", 0, 0, Integer.MAX_VALUE);
        for (int s = 1; s < TcpConntrack.NAMES.length; s++) {
            if (s != TcpConntrack.SYN_SENT2) {
                tcpTimeouts[s] = reg(sysctl, p + "tcp_timeout_" + TcpConntrack.TIMEOUT_NAMES[s],
                        TcpConntrack.TIMEOUT_DEFAULTS[s], 0, Integer.MAX_VALUE);
            }
        }
        tcpTimeouts[TcpConntrack.SYN_SENT2] = tcpTimeouts[TcpConntrack.SYN_SENT];
        tcpTimeoutMaxRetrans = reg(sysctl, p + "tcp_timeout_max_retrans", 300, 0, Integer.MAX_VALUE);
        tcpTimeoutUnacknowledged = reg(sysctl, p + "tcp_timeout_unacknowledged", 300, 0, Integer.MAX_VALUE);
        tcpMaxRetrans = reg(sysctl, p + "tcp_max_retrans", 3, 0, 255);
        tcpLoose = reg(sysctl, p + "tcp_loose", 1, 0, 1);
        tcpBeLiberal = reg(sysctl, p + "tcp_be_liberal", 0, 0, 1);
        udpTimeout = reg(sysctl, p + "udp_timeout", 30, 0, Integer.MAX_VALUE);
        udpTimeoutStream = reg(sysctl, p + "udp_timeout_stream", 120, 0, Integer.MAX_VALUE);
        icmpTimeout = reg(sysctl, p + "icmp_timeout", 30, 0, Integer.MAX_VALUE);
        genericTimeout = reg(sysctl, p + "generic_timeout", 600, 0, Integer.MAX_VALUE);
    }

    /** A sysctl a user may set: its value goes to the next version on update. */
    private IntSysctl reg(Sysctl sysctl, String name, int def, int min, int max) {
        IntSysctl e = sysctl.registerInt(name, def, min, max);
        settable.add(e);
        return e;
    }

    /** The settable sysctls' values by name, as {@code sysctl -n} prints them. */
    java.util.Map<String, String> sysctls() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        for (IntSysctl e : settable) {
            m.put(e.name(), Integer.toString(e.get()));
        }
        return m;
    }

    /** The previous version's values; a value this version's range refuses keeps the default. */
    void adoptSysctls(java.util.Map<String, String> values) {
        for (IntSysctl e : settable) {
            String v = values.get(e.name());
            try {
                if (v != null) {
                    e.set(Integer.parseInt(v));
                }
            } catch (NetException | NumberFormatException refused) {
                // the default stays
            }
        }
    }

    long now() {
        return clock.getAsLong();
    }

    private int bucket(int src, int dst, int sport, int dport, int proto, int zone) {
        int h = seed ^ zone * 0x61c88647;
        h = (h ^ src) * 0x9e3779b1;
        h = (h ^ dst) * 0x85ebca6b;
        h = (h ^ (sport << 16 | dport)) * 0xc2b2ae35;
        h = (h ^ proto) * 0x27d4eb2f;
        return (h ^ h >>> 15) & mask;
    }

    /** {@code __nf_conntrack_find}: the live entry's tuple node for this tuple in zone 0, or null. */
    NfConn.TupleHash find(int src, int dst, int sport, int dport, int proto) {
        return find(src, dst, sport, dport, proto, 0);
    }

    /** {@code __nf_conntrack_find} in {@code zone}: equal tuples of different zones are different flows. */
    NfConn.TupleHash find(int src, int dst, int sport, int dport, int proto, int zone) {
        return find(src, dst, sport, dport, proto, zone, now());
    }

    /**
     * {@code nf_conntrack_tuple_taken}: does a live entry hold this tuple (NAT asks before it binds)? A
     * taken tuple counts in conntrack -S's {@code found}, the one place Linux 6.12 counts it: a packet's
     * own lookup ({@code resolve_normal_ct}) does not.
     */
    boolean taken(int src, int dst, int sport, int dport, int proto, int zone) {
        if (find(src, dst, sport, dport, proto, zone) == null) {
            return false;
        }
        found.incrementAndGet();
        return true;
    }

    /** As above at {@code now}: the packet path reads the clock once for the lookup and the refresh. */
    private NfConn.TupleHash find(int src, int dst, int sport, int dport, int proto, int zone, long now) {
        for (NfConn.TupleHash h = hash.get(bucket(src, dst, sport, dport, proto, zone)); h != null; h = h.next) {
            if (h.equals(src, dst, sport, dport, proto, zone)) {
                if (h.ct.timeout - now < 0) {
                    delete(h.ct); // nf_ct_is_expired: gone at the first look after its time
                    return null;
                }
                return h;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ nf_conntrack_in

    /**
     * nf_conntrack_in: finds or makes the packet's entry, runs its protocol's tracker and attaches the
     * entry and its {@code ctinfo} to the skb. An untrackable packet goes on with no entry (INVALID);
     * a new flow the full table cannot take is dropped.
     */
    Verdict in(SkBuff skb) {
        int zone = 0;
        if (skb.nfct() != null) {
            if (!(skb.nfct() instanceof org.modnet.api.netfilter.NfCtTemplate tmpl)) {
                return Verdict.ACCEPT; // seen already on this host (loopback), or untracked
            }
            zone = tmpl.zone(); // CT --zone in raw: the flow lives in that zone (nf_ct_zone_tmpl)
            skb.nfct(null, SkBuff.NFCT_NONE);
        }
        int nh = skb.networkHeader();
        int ihl = (skb.getU8(nh) & 0xf) << 2;
        int totLen = skb.getU16(nh + 2);
        int proto = skb.getU8(nh + 9);
        int frag = skb.getU16(nh + 6);
        int src = skb.getU32(nh + 12), dst = skb.getU32(nh + 16);
        int th = nh + ihl;
        if ((frag & 0x1fff) != 0) {
            // nf_defrag_ipv4 at -400 reassembled every fragment of a tracked namespace; a later one seen here
            // (IPv4 gone) has no ports: get_l4proto's "return -1", counted invalid and let go untracked
            invalid.incrementAndGet();
            return Verdict.ACCEPT;
        }
        int sport, dport;
        int need = switch (proto) {
            case 6 -> 20;
            case 17 -> 8;
            case 1 -> 8;
            default -> 0;
        };
        if (th + need > skb.tail() || ihl + need > totLen) {
            invalid.incrementAndGet();
            return Verdict.ACCEPT;
        }
        switch (proto) {
            case 6, 17 -> {
                sport = skb.getU16(th);
                dport = skb.getU16(th + 2);
            }
            case 1 -> {
                int type = skb.getU8(th);
                if (Icmp.isError(type)) {
                    return icmpError(skb, th, totLen - ihl, zone);
                }
                sport = skb.getU16(th + 4);
                dport = type << 8 | skb.getU8(th + 1);
            }
            default -> {
                sport = 0;
                dport = 0;
            }
        }
        long now = now();
        NfConn.TupleHash h = find(src, dst, sport, dport, proto, zone, now);
        NfConn ct;
        boolean reply;
        if (h == null) {
            ct = newConn(skb, th, src, dst, sport, dport, proto, zone);
            if (ct == null) {
                return Verdict.ACCEPT; // INVALID, counted
            }
            if (ct == FULL) {
                return Verdict.DROP;
            }
            ct.zone = zone;
            reply = false;
        } else {
            ct = h.ct; // resolve_normal_ct counts nothing for a known flow
            reply = h.reply;
        }
        int info = reply ? IP_CT_ESTABLISHED + IP_CT_IS_REPLY
                : ct.has(NfConn.IPS_SEEN_REPLY) ? IP_CT_ESTABLISHED : IP_CT_NEW;
        int oldState = ct.state, oldStatus = ct.status;
        if (!packet(ct, skb, th, proto, reply, now)) {
            invalid.incrementAndGet();
            return Verdict.ACCEPT; // the tracker refused it: it goes on as INVALID, the entry unchanged
        }
        // as nf_conntrack_in, the reply is marked seen after the tracker looked at the packet
        if (reply && !ct.has(NfConn.IPS_SEEN_REPLY)) {
            ct.set(NfConn.IPS_SEEN_REPLY);
        }
        if (ct.state != oldState || ct.status != oldStatus) {
            // one event for what the packet changed (IPCT_PROTOINFO, IPCT_REPLY, IPCT_ASSURED), as the
            // kernel's ecache gathers the bits and delivers them once
            if (ct.has(NfConn.IPS_CONFIRMED) && !ct.has(NfConn.IPS_DYING)) {
                events.event(ConntrackEvents.UPDATE, ct);
            }
        }
        skb.nfct(ct, info);
        return Verdict.ACCEPT;
    }

    /** Marks what {@link #newConn} returns when the table is full. */
    private static final NfConn FULL = new NfConn(0);

    /** init_conntrack: an unconfirmed entry for the packet's flow, null when its tracker refuses it. */
    private NfConn newConn(SkBuff skb, int th, int src, int dst, int sport, int dport, int proto, int zone) {
        int state = 0;
        int rsport = dport, rdport = sport;
        switch (proto) {
            case 6 -> {
                state = TcpConntrack.newState(skb.getU8(th + 13));
                if (state == TcpConntrack.INVALID || state != TcpConntrack.SYN_SENT && tcpLoose.get() == 0) {
                    invalid.incrementAndGet(); // tcp_new: without nf_conntrack_tcp_loose only a SYN opens a flow
                    return null;
                }
            }
            case 1 -> {
                int type = dport >>> 8;
                int rtype = Icmp.replyType(type);
                if (rtype < 0) {
                    invalid.incrementAndGet(); // icmp_new: only a query opens a flow
                    return null;
                }
                rsport = sport; // the echo id is the same both ways
                rdport = rtype << 8 | (dport & 0xff);
            }
            default -> { }
        }
        int limit = max.get();
        if (limit != 0 && count.get() >= limit && !earlyDrop(bucket(src, dst, sport, dport, proto, zone))) {
            gcEarlyDrop = true; // the collector's next round evicts what it may (conntrack_gc_work.early_drop)
            drop.incrementAndGet(); // "nf_conntrack: table full, dropping packet"
            return FULL;
        }
        NfConn ct = new NfConn(proto);
        ct.orig.set(src, dst, sport, dport);
        ct.reply.set(dst, src, rsport, rdport);
        ct.state = proto == 6 ? TcpConntrack.NONE : 0;
        if (proto == 6) {
            TcpConntrack.start(ct.window, skb, skb.networkHeader(), th, state == TcpConntrack.SYN_SENT);
        }
        ct.start = now();
        ct.timeout = ct.start;
        return ct;
    }

    /** The protocol's {@code packet} callback: state and timeout. False: the packet is INVALID. */
    private boolean packet(NfConn ct, SkBuff skb, int th, int proto, boolean reply, long now) {
        switch (proto) {
            case 6 -> {
                int flags = skb.getU8(th + 13);
                int index = TcpConntrack.index(flags);
                int old = ct.state;
                int next = TcpConntrack.next(old, reply, index);
                if (next == TcpConntrack.INVALID) {
                    return false;
                }
                if (next == TcpConntrack.IGNORE) {
                    return true; // tcp_packet's ignore: let it through, change nothing
                }
                // plain stores: a flow's packets come through one softirq thread, as RSS steers them
                if (!TcpConntrack.inWindow(ct.window, old, reply, index, skb, skb.networkHeader(), th, tcpBeLiberal.get() != 0)) {
                    return false; // out of window: INVALID, the state unchanged
                }
                if (index == TcpConntrack.RST && !ct.has(NfConn.IPS_SEEN_REPLY) && ct.has(NfConn.IPS_CONFIRMED)) {
                    // tcp_packet: a RST the only answer (a closed port): no connection, the entry goes now
                    delete(ct);
                    return true;
                }
                ct.state = next;
                ct.lastDir = reply ? 1 : 0;
                ct.lastIndex = index;
                if (next == TcpConntrack.ESTABLISHED && ct.has(NfConn.IPS_SEEN_REPLY)
                        && (old == TcpConntrack.SYN_RECV || old == TcpConntrack.ESTABLISHED) && !ct.has(NfConn.IPS_ASSURED)) {
                    ct.set(NfConn.IPS_ASSURED);
                }
                int timeout = tcpTimeouts[next].get();
                // tcp_packet: a segment sent again and again, or data the peer has not acknowledged, gets the shorter timeout
                TcpConntrack.Window w = ct.window;
                if (w.retrans >= tcpMaxRetrans.get() && tcpTimeoutMaxRetrans.get() < timeout) {
                    timeout = tcpTimeoutMaxRetrans.get();
                } else if (((w.flags[0] | w.flags[1]) & TcpConntrack.FLAG_DATA_UNACKNOWLEDGED) != 0
                        && tcpTimeoutUnacknowledged.get() < timeout) {
                    timeout = tcpTimeoutUnacknowledged.get();
                }
                refresh(ct, now, timeout);

            }
            case 17 -> {
                if (ct.has(NfConn.IPS_SEEN_REPLY)) {
                    // udp_packet: replied, and alive for more than 2 s: a stream, assured
                    if (now - ct.start > 2000) {
                        refresh(ct, now, udpTimeoutStream.get());
                        if (!ct.has(NfConn.IPS_ASSURED)) {
                            ct.set(NfConn.IPS_ASSURED);
                        }
                    } else {
                        refresh(ct, now, udpTimeout.get());
                    }
                } else {
                    refresh(ct, now, udpTimeout.get());
                }
            }
            case 1 -> refresh(ct, now, icmpTimeout.get());
            default -> refresh(ct, now, genericTimeout.get());
        }
        return true;
    }

    /** Linux's NF_CT_EVICTION_RANGE: how many buckets, from the new tuple's, early drop looks at. */
    static final int EVICTION_RANGE = 8;

    /** Set when a new flow found the table full and nothing to evict: the next {@link #gc} evicts (gc_worker's early_drop). */
    volatile boolean gcEarlyDrop;

    /**
     * early_drop: makes room for a new flow by deleting the entries not ASSURED (nor dying, nor unconfirmed)
     * of the first of {@link #EVICTION_RANGE} buckets, from the new tuple's on, that holds any; counted in
     * {@code early_drop}. Expired entries met on the way go too. The walk takes no lock (bounded by the
     * range's chains); only a deletion takes the table's lock, as the kernel's takes its bucket lock.
     * False when no entry could go: the new flow is dropped.
     */
    private boolean earlyDrop(int first) {
        long now = now();
        for (int i = 0; i < EVICTION_RANGE; i++) {
            int drops = 0;
            for (NfConn.TupleHash h = hash.get((first + i) & mask); h != null; h = h.next) {
                NfConn c = h.ct;
                if (c.timeout - now < 0) {
                    delete(c); // nf_ct_gc_expired
                    continue;
                }
                int st = c.status;
                if ((st & (NfConn.IPS_ASSURED | NfConn.IPS_DYING)) != 0 || (st & NfConn.IPS_CONFIRMED) == 0) {
                    continue;
                }
                if (delete(c)) {
                    drops++;
                }
            }
            if (drops != 0) {
                earlyDrop.addAndGet(drops);
                return true;
            }
        }
        return false;
    }

    /** tcp_can_early_drop: a TCP flow on its way out may go though it was assured. */
    private static boolean canEarlyDrop(NfConn ct) {
        if (!ct.has(NfConn.IPS_ASSURED)) {
            return true;
        }
        if (ct.proto != 6) {
            return false;
        }
        int s = ct.state;
        return s == TcpConntrack.FIN_WAIT || s == TcpConntrack.LAST_ACK || s == TcpConntrack.TIME_WAIT
                || s == TcpConntrack.CLOSE || s == TcpConntrack.CLOSE_WAIT;
    }

    /**
     * {@code __nf_ct_refresh_acct}: the timeout is written only when it moves, as Linux compares before
     * its {@code WRITE_ONCE}. The clock counts milliseconds (Linux's jiffies at HZ=1000), so a flow's
     * packets within one millisecond share one write: the rest only read the entry's line.
     */
    private static void refresh(NfConn ct, long now, int seconds) {
        long t = now + seconds * 1000L;
        if (ct.timeout != t) {
            ct.timeout = t;
        }
    }

    /**
     * icmp_error_message: an ICMP error belongs to the flow its quoted header came from (RELATED, in
     * that flow's direction reversed); one quoting no tracked flow is INVALID.
     */
    private Verdict icmpError(SkBuff skb, int th, int icmpLen, int zone) {
        int inner = th + 8;
        if (icmpLen < 8 + 20 || inner + 20 > skb.tail()) {
            invalid.incrementAndGet();
            return Verdict.ACCEPT;
        }
        int iihl = (skb.getU8(inner) & 0xf) << 2;
        int proto = skb.getU8(inner + 9);
        int isrc = skb.getU32(inner + 12), idst = skb.getU32(inner + 16);
        int ith = inner + iihl;
        int sport = 0, dport = 0;
        if (proto == 6 || proto == 17 || proto == 1) {
            if (ith + 8 > skb.tail()) {
                invalid.incrementAndGet();
                return Verdict.ACCEPT;
            }
            if (proto == 1) {
                int type = skb.getU8(ith);
                if (Icmp.isError(type)) {
                    invalid.incrementAndGet(); // no error about an error
                    return Verdict.ACCEPT;
                }
                int rtype = Icmp.replyType(type);
                if (rtype < 0) {
                    invalid.incrementAndGet();
                    return Verdict.ACCEPT;
                }
                sport = skb.getU16(ith + 4); // inverted: the same id, the reply's type
                dport = rtype << 8 | skb.getU8(ith + 1);
            } else {
                sport = skb.getU16(ith + 2); // inverted: the quoted packet's ports swapped
                dport = skb.getU16(ith);
            }
        }
        // icmp_error_message looks up the quoted packet's tuple inverted: the way an answer to it would go,
        // which after NAT is the tuple the entry holds
        NfConn.TupleHash h = find(idst, isrc, sport, dport, proto, zone);
        if (h == null) {
            invalid.incrementAndGet(); // a forged error, or one for a flow long gone: not RELATED to anything
            return Verdict.ACCEPT;
        }
        skb.nfct(h.ct, IP_CT_RELATED + (h.reply ? IP_CT_IS_REPLY : 0)); // icmp_error_message counts nothing either
        return Verdict.ACCEPT;
    }

    // ------------------------------------------------------------------ nf_conntrack_confirm

    /** nf_conntrack_confirm: a new entry goes into the hash; a clash or a full table drops the packet. */
    Verdict confirm(SkBuff skb) {
        if (!(skb.nfct() instanceof NfConn ct) || ct.has(NfConn.IPS_CONFIRMED) || (skb.nfctInfo() % 3) == IP_CT_RELATED) {
            return Verdict.ACCEPT;
        }
        synchronized (this) {
            if (ct.has(NfConn.IPS_CONFIRMED)) {
                return Verdict.ACCEPT;
            }
            NfConn.TupleHash o = ct.orig, r = ct.reply;
            if (findLocked(o) || findLocked(r)) {
                insertFailed.incrementAndGet(); // a clash: another packet of the flow won the race
                return Verdict.DROP;
            }
            int limit = max.get();
            if (limit != 0 && count.get() >= limit) {
                drop.incrementAndGet(); // filled by others between this flow's first look and its confirm
                return Verdict.DROP;
            }
            ct.set(NfConn.IPS_CONFIRMED);
            link(o);
            link(r);
            setCount(count.incrementAndGet());
            insert.incrementAndGet();
        }
        events.event(ConntrackEvents.NEW, ct); // IPCT_NEW, delivered at confirm as the kernel does
        return Verdict.ACCEPT;
    }

    private boolean findLocked(NfConn.TupleHash t) {
        for (NfConn.TupleHash h = hash.get(bucket(t.src, t.dst, t.sport, t.dport, t.proto, t.ct.zone)); h != null; h = h.next) {
            if (h.equals(t.src, t.dst, t.sport, t.dport, t.proto, t.ct.zone) && h.ct.timeout - now() >= 0) {
                return true;
            }
        }
        return false;
    }

    private void link(NfConn.TupleHash t) {
        int b = bucket(t.src, t.dst, t.sport, t.dport, t.proto, t.ct.zone);
        t.next = hash.get(b);
        hash.set(b, t);
    }

    private void unlink(NfConn.TupleHash t) {
        int b = bucket(t.src, t.dst, t.sport, t.dport, t.proto, t.ct.zone);
        NfConn.TupleHash h = hash.get(b);
        if (h == t) {
            hash.set(b, t.next);
            return;
        }
        for (; h != null; h = h.next) {
            if (h.next == t) {
                h.next = t.next;
                return;
            }
        }
    }

    private void setCount(int n) {
        try {
            countSysctl.set(n);
        } catch (NetException cannot) {
            // in range by construction
        }
    }

    /** nf_ct_delete: unlinks a confirmed entry; false if it was gone already. */
    synchronized boolean delete(NfConn ct) {
        if (!ct.has(NfConn.IPS_CONFIRMED) || ct.has(NfConn.IPS_DYING)) {
            return false;
        }
        ct.set(NfConn.IPS_DYING);
        unlink(ct.orig);
        unlink(ct.reply);
        setCount(count.decrementAndGet());
        java.util.function.Consumer<NfConn> d = onDestroy;
        if (d != null) {
            d.accept(ct);
        }
        events.event(ConntrackEvents.DESTROY, ct);
        return true;
    }

    /** Every live entry, in bucket order, each once (by its original tuple). */
    List<NfConn> entries() {
        List<NfConn> l = new ArrayList<>();
        long now = now();
        for (int i = 0; i < hash.length(); i++) {
            for (NfConn.TupleHash h = hash.get(i); h != null; h = h.next) {
                if (!h.reply && h.ct.timeout - now >= 0) {
                    l.add(h.ct);
                }
            }
        }
        return l;
    }

    /** Deletes the entries the predicate picks; returns them. */
    List<NfConn> delete(Predicate<NfConn> which) {
        List<NfConn> gone = new ArrayList<>();
        for (NfConn ct : entries()) {
            if (which.test(ct) && delete(ct)) {
                gone.add(ct);
            }
        }
        return gone;
    }

    /**
     * gc_worker: removes every expired entry; returns how many. After a new flow found the table full with
     * nothing to evict, this round also kills, while the table is at 95% of {@code nf_conntrack_max} or
     * more, the entries early drop may take (not assured, or TCP closing: {@code gc_worker_can_early_drop}).
     */
    int gc() {
        long now = now();
        int max95 = 0;
        if (gcEarlyDrop) {
            gcEarlyDrop = false;
            max95 = max.get() / 100 * 95;
        }
        List<NfConn> dead = new ArrayList<>();
        for (int i = 0; i < hash.length(); i++) {
            for (NfConn.TupleHash h = hash.get(i); h != null; h = h.next) {
                if (!h.reply && (h.ct.timeout - now < 0
                        || max95 != 0 && count.get() - dead.size() >= max95 && canEarlyDrop(h.ct))) {
                    dead.add(h.ct);
                }
            }
        }
        int n = 0;
        for (NfConn ct : dead) {
            n += delete(ct) ? 1 : 0;
        }
        return n;
    }

    /** Seconds left, as conntrack -L prints them. */
    long secondsLeft(NfConn ct) {
        long ms = ct.timeout - now();
        return ms <= 0 ? 0 : ms / 1000;
    }

    // ------------------------------------------------------------------ hand-over on update

    /** conntrack -S's counters by name, as the hand-over carries them. */
    java.util.Map<String, Long> stats() {
        java.util.Map<String, Long> m = new java.util.LinkedHashMap<>();
        m.put("found", found.get());
        m.put("invalid", invalid.get());
        m.put("insert", insert.get());
        m.put("insert_failed", insertFailed.get());
        m.put("drop", drop.get());
        m.put("early_drop", earlyDrop.get());
        m.put("error", error.get());
        m.put("search_restart", searchRestart.get());
        m.put("clash_resolve", clashResolve.get());
        m.put("chaintoolong", chainTooLong.get());
        return m;
    }

    /** The counters continue where the previous version left them. */
    void adoptStats(java.util.Map<String, Long> m) {
        AtomicLong[] all = { found, invalid, insert, insertFailed, drop, earlyDrop, error, searchRestart, clashResolve,
                chainTooLong };
        String[] names = { "found", "invalid", "insert", "insert_failed", "drop", "early_drop", "error", "search_restart",
                "clash_resolve", "chaintoolong" };
        for (int i = 0; i < all.length; i++) {
            Long v = m.get(names[i]);
            if (v != null) {
                all[i].set(v);
            }
        }
    }

    /**
     * One entry as the hand-over carries it (state version 1), 18 decimal numbers: protocol, status,
     * TCP state, milliseconds left, mark, last direction, last index, age in milliseconds, MASQUERADE's
     * ifindex and address, then the original tuple and the reply tuple (source, destination, source
     * port, destination port each; the reply tuple is where the NAT binding is), and a 19th, the zone,
     * only when it is not 0 (so a version that reads 18 still takes every zone-0 entry).
     */
    String export(NfConn ct) {
        long now = now();
        NfConn.TupleHash o = ct.orig, r = ct.reply;
        return ct.proto + " " + ct.status + " " + ct.state + " " + Math.max(0, ct.timeout - now) + " " + ct.mark + " "
                + ct.lastDir + " " + ct.lastIndex + " " + Math.max(0, now - ct.start) + " " + ct.masqIfindex + " "
                + ct.masqAddr + " " + o.src + " " + o.dst + " " + o.sport + " " + o.dport + " " + r.src + " " + r.dst + " "
                + r.sport + " " + r.dport + (ct.zone != 0 ? " " + ct.zone : "");
    }

    /**
     * An entry of the previous version, confirmed into this table with the time it had left; false when
     * the line is not an entry, the table is full, or one of its tuples is here already (each counted
     * by the caller as a loss of the hand-over).
     */
    boolean adopt(String line) {
        String[] w = line.trim().split(" ");
        if (w.length != 18 && w.length != 19) {
            return false;
        }
        long[] v = new long[w.length];
        try {
            for (int i = 0; i < w.length; i++) {
                v[i] = Long.parseLong(w[i]);
            }
        } catch (NumberFormatException e) {
            return false;
        }
        long now = now();
        NfConn ct = new NfConn((int) v[0]);
        ct.status = ((int) v[1] | NfConn.IPS_CONFIRMED) & ~NfConn.IPS_DYING;
        ct.state = (int) v[2];
        if (ct.window != null) {
            // the windows are not handed over: the flow is tracked from here on as one picked up mid-stream
            ct.window.flags[0] = ct.window.flags[1] = TcpConntrack.FLAG_SACK_PERM | TcpConntrack.FLAG_BE_LIBERAL;
        }
        ct.timeout = now + v[3];
        ct.mark = (int) v[4];
        ct.lastDir = (int) v[5];
        ct.lastIndex = (int) v[6];
        ct.start = now - v[7];
        ct.masqIfindex = (int) v[8];
        ct.masqAddr = (int) v[9];
        ct.orig.set((int) v[10], (int) v[11], (int) v[12], (int) v[13]);
        ct.reply.set((int) v[14], (int) v[15], (int) v[16], (int) v[17]);
        ct.zone = w.length == 19 ? (int) v[18] & 0xffff : 0;
        synchronized (this) {
            int limit = max.get();
            if (limit != 0 && count.get() >= limit || findLocked(ct.orig) || findLocked(ct.reply)) {
                return false;
            }
            link(ct.orig);
            link(ct.reply);
            setCount(count.incrementAndGet());
        }
        return true;
    }
}

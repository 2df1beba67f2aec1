package org.modnet.tcp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.Errno;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.IntVectorSysctl;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.FlowDissector;
import org.modnet.socket.api.SockException;

/**
 * One namespace's TCP ({@code struct netns_ipv4}'s TCP part and {@code tcp_hashinfo}): the MIBs, the
 * sysctls, the established hash (by 4-tuple; it also holds connections in SYN-RECV and TIME-WAIT), the
 * listening hash (by port) and the bind table ({@code inet_bind_bucket}s: who owns a local port).
 *
 * <p>The hashes are arrays of copy-on-write slots: the softirq looks a segment's socket up without a
 * lock and without allocating; changes (connect, accept, close) take the table's monitor.
 */
final class TcpNet {
    static final int EHASH_SLOTS = 4096;
    /** {@code inet_ehash_secret}: random once per boot in Linux, fixed here so a run is reproducible. */
    static final int INET_EHASH_SECRET = 0x5bd1e995;
    static final int LHASH_SLOTS = 256;
    private static final TcpSock[] NONE = new TcpSock[0];

    final NetNamespace ns;
    final NetCore core;
    final Ipv4 ipv4;
    final TcpMib mib;
    /** Every received segment's fate: a drop reason or consumed ({@code kfree_skb_reason}, {@code consume_skb}). */
    final TcpDrops drops;
    /** SYNs whose window scale was above 14, taken as 14: Linux's rate-limited "Illegal window scaling value" message. */
    private final java.util.concurrent.atomic.AtomicLong illegalWscale = new java.util.concurrent.atomic.AtomicLong();
    final TcpIsn isn;
    /** {@code tcp_memory_allocated} and {@code tcp_mem}, {@code tcp_max_orphans}, {@code tcp_orphan_retries}. */
    final TcpMem tmem;

    final IntSysctl windowScaling;
    final IntSysctl sack;
    final IntSysctl timestamps;
    final IntSysctl synRetries;
    final IntSysctl synackRetries;
    final IntSysctl retries2;
    final IntSysctl finTimeout;
    final IntSysctl maxSynBacklog;
    final IntSysctl somaxconn;
    /** {@code net.core.rmem_max}: the window scale is for it when it passes {@code tcp_rmem[2]}. */
    final IntSysctl rmemMax;
    final IntSysctl abortOnOverflow;
    final IntSysctl invalidRatelimit;
    final IntVectorSysctl wmem;
    final IntSysctl dsack;
    /** {@code tcp_recovery} (RACK-TLP: 1 by default; 0x2 static reordering window, 0x4 no duplicate-ACK threshold). */
    final IntSysctl recovery;
    /** {@code tcp_reordering} and {@code tcp_max_reordering}: the duplicate-ACK threshold and its ceiling. */
    final IntSysctl reordering;
    final IntSysctl maxReordering;
    /** {@code tcp_pacing_ss_ratio} and {@code tcp_pacing_ca_ratio}: the pacing rate in percent of cwnd/srtt (slow start, after). */
    final IntSysctl pacingSsRatio;
    final IntSysctl pacingCaRatio;
    /** {@code tcp_early_retrans}: 3 (Linux's default) enables the tail loss probe. */
    final IntSysctl earlyRetrans;
    /** {@code net.ipv4.tcp_min_tso_segs}: the fewest segments a GSO skb is sized for. */
    final IntSysctl minTsoSegs;
    /** {@code net.ipv4.tcp_tso_win_divisor}: TSO deferral waits while less than 1/N of the window may go. */
    final IntSysctl tsoWinDivisor;
    /**
     * {@code net.ipv4.tcp_pingpong_thresh}: data replies sent within ato of the last data received before a
     * connection counts as request/response (pingpong): its reads and quick-ACK moments no longer
     * acknowledge a request on their own; the answer carries the ACK.
     */
    final IntSysctl pingpongThresh;
    /** {@code net.ipv4.tcp_slow_start_after_idle}: restart from the initial window after an idle RTO (RFC 2861). */
    final IntSysctl slowStartAfterIdle;
    /** {@code net.ipv4.tcp_frto}: F-RTO (RFC 5682, its SACK-enhanced variant) after a timeout; 0 turns it off. */
    final IntSysctl frto;
    /** {@code net.ipv4.tcp_ecn}: 0 off, 1 ask on outgoing SYNs and accept, 2 (Linux's default) accept only. */
    final IntSysctl ecn;
    /** {@code net.ipv4.tcp_ecn_fallback}: a retransmitted SYN stops asking for ECN (RFC 3168 6.1.1.1). */
    final IntSysctl ecnFallback;
    /** {@code net.ipv4.ip_no_pmtu_disc}, IPv4's entry (the one registered first is shared): read as each socket is made. */
    final IntSysctl noPmtuDisc;
    final IntSysctl keepaliveTime;
    final IntSysctl keepaliveIntvl;
    final IntSysctl keepaliveProbes;
    final IntVectorSysctl rmem;

    private final AtomicReferenceArray<TcpSock[]> ehash = new AtomicReferenceArray<>(EHASH_SLOTS);
    private final AtomicReferenceArray<TcpSock[]> lhash = new AtomicReferenceArray<>(LHASH_SLOTS);
    private final Map<Integer, List<TcpSock>> bhash = new HashMap<>(); // guarded by this
    /** Connections in the established hash ({@code tcp_hashinfo.ehash} size): bounded by the sockets' own limits. */
    final AtomicInteger established = new AtomicInteger();
    /** The TIME-WAIT socks ({@code tcp_death_row}) and {@code tcp_max_tw_buckets}, {@code tcp_tw_reuse}, {@code tcp_rfc1337}. */
    final TcpTimewaitSock.DeathRow deathRow;
    /** {@code net.ipv4.tcp_syncookies}: 0 never, 1 when the SYN queue overflows, 2 always. */
    final IntSysctl syncookies;
    /** The syncookie key; replaced by the previous version's when one hands its state over. */
    TcpSyncookies cookies;
    /** Connections closed by their user still finishing their close ({@code tcp_orphan_count}): ss lists them. */
    final java.util.Set<TcpSock> orphans = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * Sockets a user made ({@code socket(2)}) and has not closed: the ones no hash holds (unbound, bound,
     * reset) are found here when the bundle hands its state to its next version.
     */
    final java.util.Set<TcpSock> created = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The stamp of the hand-over's last walk over this namespace's tables ({@link TcpSock#walked}). */
    int walkStamp;
    /**
     * Connections a new version adopted but has not remade yet ({@link TcpLazyAdopt}); null once all
     * are (always, but in the moments after an update).
     */
    volatile TcpLazyAdopt lazy;
    /**
     * When a hand-over stopped every connection's clocks here ({@code core.nanoTime}), 0 if it did not:
     * timers then do nothing and the freeze carries what was left of them at this instant.
     */
    volatile long clocksStoppedNanos;
    /**
     * The first segment this namespace's TCP (this version) built, for the hand-over benchmark: when (nanoTime), on which
     * thread, its flags and length. Written once, by whichever thread sends first; read after the update.
     */
    long firstSentNanos;
    String firstSentBy;
    int firstSentFlags;
    int firstSentLen;
    /** Connections of this namespace a segment remade since this version's adoption (0: IPv4 held nothing for them). A hint. */
    int remadeOnSegment;

    /** The namespace's congestion control: its default, the allowed ones, their sysctls. */
    final CongestionControl.PerNet cong;

    TcpNet(NetNamespace ns, NetCore core, Ipv4 ipv4, TcpIsn isn, CongestionControl cc) {
        this.ns = ns;
        this.core = core;
        this.ipv4 = ipv4;
        this.isn = isn;
        this.mib = new TcpMib(core.cpus());
        this.drops = new TcpDrops(core.cpus());
        TcpProtocol.CoreClock clock = new TcpProtocol.CoreClock(core); // a class, not a lambda: see TcpProtocol.CoreClock
        this.tmem = new TcpMem(ns, mib, clock);
        var s = ns.sysctl();
        windowScaling = s.registerInt("net.ipv4.tcp_window_scaling", 1, 0, 1);
        sack = s.registerInt("net.ipv4.tcp_sack", 1, 0, 1);
        timestamps = s.registerInt("net.ipv4.tcp_timestamps", 1, 0, 2);
        synRetries = s.registerInt("net.ipv4.tcp_syn_retries", 6, 1, 127);
        synackRetries = s.registerInt("net.ipv4.tcp_synack_retries", 5, 0, 255);
        retries2 = s.registerInt("net.ipv4.tcp_retries2", 15, 0, 255);
        finTimeout = s.registerInt("net.ipv4.tcp_fin_timeout", 60, 0, Integer.MAX_VALUE);
        maxSynBacklog = s.registerInt("net.ipv4.tcp_max_syn_backlog", 4096, 0, Integer.MAX_VALUE);
        somaxconn = s.registerInt("net.core.somaxconn", 4096, 0, Integer.MAX_VALUE);
        rmemMax = s.registerInt("net.core.rmem_max", 212992, 256, Integer.MAX_VALUE); // as the core registers it
        abortOnOverflow = s.registerInt("net.ipv4.tcp_abort_on_overflow", 0, 0, 1);
        invalidRatelimit = s.registerInt("net.ipv4.tcp_invalid_ratelimit", 500, 0, Integer.MAX_VALUE);
        s.stored("net.ipv4.tcp_invalid_ratelimit", org.modnet.api.net.Sysctl.Stored.MS_JIFFIES);
        wmem = s.registerInts("net.ipv4.tcp_wmem", new int[] { 4096, 16384, 4194304 }, 1, Integer.MAX_VALUE, true);
        rmem = s.registerInts("net.ipv4.tcp_rmem", new int[] { 4096, 131072, 6291456 }, 1, Integer.MAX_VALUE, true);
        dsack = s.registerInt("net.ipv4.tcp_dsack", 1, 0, 1);
        recovery = s.registerInt("net.ipv4.tcp_recovery", 1, 0, 7);
        reordering = s.registerInt("net.ipv4.tcp_reordering", 3, 1, Integer.MAX_VALUE);
        maxReordering = s.registerInt("net.ipv4.tcp_max_reordering", 300, 1, Integer.MAX_VALUE);
        pacingSsRatio = s.registerInt("net.ipv4.tcp_pacing_ss_ratio", 200, 0, 1000);
        pacingCaRatio = s.registerInt("net.ipv4.tcp_pacing_ca_ratio", 120, 0, 1000);
        earlyRetrans = s.registerInt("net.ipv4.tcp_early_retrans", 3, 0, 4);
        minTsoSegs = s.registerInt("net.ipv4.tcp_min_tso_segs", 2, 1, TcpTso.GSO_MAX_SEGS);
        tsoWinDivisor = s.registerInt("net.ipv4.tcp_tso_win_divisor", 3, 0, Integer.MAX_VALUE);
        pingpongThresh = s.registerInt("net.ipv4.tcp_pingpong_thresh", 1, 1, 255);
        slowStartAfterIdle = s.registerInt("net.ipv4.tcp_slow_start_after_idle", 1, 0, 1);
        frto = s.registerInt("net.ipv4.tcp_frto", 2, 0, 2);
        ecn = s.registerInt("net.ipv4.tcp_ecn", 2, 0, 2); // Linux 6.x allows 3..5 for AccECN, not modelled
        ecnFallback = s.registerInt("net.ipv4.tcp_ecn_fallback", 1, 0, 1);
        noPmtuDisc = s.registerInt("net.ipv4.ip_no_pmtu_disc", 0, 0, 3); // as Ipv4Net registers it
        keepaliveTime = s.registerInt("net.ipv4.tcp_keepalive_time", 7200, 1, Integer.MAX_VALUE);
        keepaliveIntvl = s.registerInt("net.ipv4.tcp_keepalive_intvl", 75, 1, Integer.MAX_VALUE);
        keepaliveProbes = s.registerInt("net.ipv4.tcp_keepalive_probes", 9, 0, 255);
        deathRow = new TcpTimewaitSock.DeathRow(s, core.cpus());
        syncookies = s.registerInt("net.ipv4.tcp_syncookies", 1, 0, 2);
        cookies = new TcpSyncookies(clock);
        cong = cc.new PerNet(s);
        for (int i = 0; i < EHASH_SLOTS; i++) {
            ehash.set(i, NONE);
        }
        for (int i = 0; i < LHASH_SLOTS; i++) {
            lhash.set(i, NONE);
        }
    }

    /**
     * Counts a window scale above 14 on a SYN or SYN-ACK: where Linux prints {@code "%s: Illegal window
     * scaling value %d > 14 received"} (net_info_ratelimited), this counts, as the packet path does not log.
     */
    void countIllegalWscale() {
        illegalWscale.incrementAndGet();
    }

    /** Window scales above 14 received in this namespace. */
    long illegalWscale() {
        return illegalWscale.get();
    }

    /** The {@code SYSCTL_} bits {@link TcpOptions#parse} reads. */
    int optionSysctls() {
        return (windowScaling.get() != 0 ? TcpOptions.SYSCTL_WINDOW_SCALING : 0)
                | (timestamps.get() != 0 ? TcpOptions.SYSCTL_TIMESTAMPS : 0) | (sack.get() != 0 ? TcpOptions.SYSCTL_SACK : 0);
    }

    // --- the established hash ---

    static int ehashfn(int laddr, int lport, int raddr, int rport) {
        int h = laddr * 31 + raddr;
        h = h * 31 + (lport << 16 | rport);
        h ^= h >>> 16;
        return h & (EHASH_SLOTS - 1);
    }

    /** {@code __inet_lookup_established}: the connection a segment from raddr:rport to laddr:lport belongs to. */
    TcpSock lookupEstablished(int raddr, int rport, int laddr, int lport) {
        for (TcpSock sk : ehash.get(ehashfn(laddr, lport, raddr, rport))) {
            if (sk.lport() == lport && sk.rport() == rport && sk.laddr() == laddr && sk.raddr() == raddr) {
                return sk;
            }
        }
        return null;
    }

    /** {@code inet_ehash_insert}: false when the 4-tuple is taken. */
    synchronized boolean ehashInsert(TcpSock sk) {
        int i = ehashfn(sk.laddr(), sk.lport(), sk.raddr(), sk.rport());
        TcpSock[] old = ehash.get(i);
        for (TcpSock o : old) {
            if (o.lport() == sk.lport() && o.rport() == sk.rport() && o.laddr() == sk.laddr() && o.raddr() == sk.raddr()) {
                return false;
            }
        }
        TcpSock[] now = Arrays.copyOf(old, old.length + 1);
        now[old.length] = sk;
        ehash.set(i, now);
        established.incrementAndGet();
        return true;
    }

    synchronized void ehashRemove(TcpSock sk) {
        int i = ehashfn(sk.laddr(), sk.lport(), sk.raddr(), sk.rport());
        TcpSock[] now = without(ehash.get(i), sk);
        if (now != null) {
            ehash.set(i, now);
            established.decrementAndGet();
        }
    }

    // --- the listening hash ---

    /**
     * {@code __inet_lookup_listener}: the listener a SYN from saddr:sport to laddr:lport goes to. One
     * bound to laddr beats one bound to 0.0.0.0 (Linux looks the exact address up first); among the
     * SO_REUSEPORT group bound alike, the member the SYN's 4-tuple hash ({@code inet_ehashfn}) scales
     * onto ({@code reuseport_select_sock}), so a flow always lands on the same one. Without a lock and
     * without allocating: the slot's array is the group's order.
     */
    TcpSock lookupListener(int saddr, int sport, int laddr, int lport) {
        TcpSock[] slot = lhash.get(lport & (LHASH_SLOTS - 1));
        TcpSock sk = lookupBound(slot, saddr, sport, laddr, lport, laddr);
        return sk != null || laddr == 0 ? sk : lookupBound(slot, saddr, sport, laddr, lport, 0);
    }

    /** The listener on lport, the group's first when it is an SO_REUSEPORT group (no flow to hash). */
    TcpSock lookupListener(int laddr, int lport) {
        TcpSock[] slot = lhash.get(lport & (LHASH_SLOTS - 1));
        TcpSock sk = lookupBound(slot, 0, 0, laddr, lport, laddr);
        return sk != null || laddr == 0 ? sk : lookupBound(slot, 0, 0, laddr, lport, 0);
    }

    /**
     * {@code inet_lhash2_lookup} for the listeners on lport bound to {@code bound}: the first, or when it
     * set SO_REUSEPORT, the group member {@code reciprocal_scale(inet_ehashfn(...), members)} picks.
     * (The group's members are the listeners on the address and port with SO_REUSEPORT: one user, no
     * bound device in modnet; {@code bind} and {@code listen} let no other listener share them.)
     */
    private static TcpSock lookupBound(TcpSock[] slot, int saddr, int sport, int laddr, int lport, int bound) {
        TcpSock first = null;
        int members = 0;
        for (TcpSock sk : slot) {
            if (sk.lport() == lport && sk.laddr() == bound) {
                if (first == null) {
                    first = sk;
                }
                if (sk.reusePort()) {
                    members++;
                }
            }
        }
        if (first == null || !first.reusePort() || members < 2 || (saddr == 0 && sport == 0)) {
            return first;
        }
        int pick = FlowDissector.reciprocalScale(
                FlowDissector.jhash3words(laddr, saddr, lport << 16 | sport, INET_EHASH_SECRET), members);
        for (TcpSock sk : slot) {
            if (sk.lport() == lport && sk.laddr() == bound && sk.reusePort() && pick-- == 0) {
                return sk;
            }
        }
        return first;
    }

    synchronized void listenHash(TcpSock sk) {
        int i = sk.lport() & (LHASH_SLOTS - 1);
        TcpSock[] old = lhash.get(i);
        TcpSock[] now = Arrays.copyOf(old, old.length + 1);
        now[old.length] = sk;
        lhash.set(i, now);
    }

    /**
     * {@code inet_unhash}. An SO_REUSEPORT member leaves its group as {@code reuseport_detach_sock} has
     * it: the group's last member takes its place, so a SYN's hash picks the listener Linux's would.
     */
    synchronized void listenUnhash(TcpSock sk) {
        int i = sk.lport() & (LHASH_SLOTS - 1);
        TcpSock[] old = lhash.get(i);
        int at = -1;
        int last = -1; // the group's last member
        for (int k = 0; k < old.length; k++) {
            TcpSock o = old[k];
            if (o == sk) {
                at = k;
            } else if (sk.reusePort() && o.reusePort() && o.lport() == sk.lport() && o.laddr() == sk.laddr()) {
                last = k;
            }
        }
        if (at < 0) {
            return;
        }
        if (last > at) {
            TcpSock[] moved = old.clone();
            moved[at] = moved[last];
            old = moved;
            at = last;
        }
        TcpSock[] now = old.length == 1 ? NONE : new TcpSock[old.length - 1];
        System.arraycopy(old, 0, now, 0, at);
        System.arraycopy(old, at + 1, now, at, old.length - at - 1);
        lhash.set(i, now);
    }

    private static TcpSock[] without(TcpSock[] old, TcpSock sk) {
        int at = -1;
        for (int k = 0; k < old.length; k++) {
            if (old[k] == sk) {
                at = k;
            }
        }
        if (at < 0) {
            return null;
        }
        if (old.length == 1) {
            return NONE;
        }
        TcpSock[] now = new TcpSock[old.length - 1];
        System.arraycopy(old, 0, now, 0, at);
        System.arraycopy(old, at + 1, now, at, old.length - at - 1);
        return now;
    }

    /**
     * Every socket in the hashes, listeners first, then the established hash (SYN-RECV, connections,
     * orphans, TIME-WAIT), as {@code /proc/net/tcp} and {@code inet_diag_dump_icsk} walk them.
     */
    /** Slot {@code i} of the listening hash, as it is (never changed in place): the hand-over's walk. */
    TcpSock[] listenSlot(int i) {
        return lhash.get(i);
    }

    /** Slot {@code i} of the established hash, as it is (never changed in place): the hand-over's walk. */
    TcpSock[] establishedSlot(int i) {
        return ehash.get(i);
    }

    List<TcpSock> hashed() {
        TcpLazyAdopt l = lazy;
        if (l != null) { // just after an update: the connections not remade yet are live ones all the same
            l.remakeAll();
        }
        List<TcpSock> all = new ArrayList<>();
        for (int i = 0; i < LHASH_SLOTS; i++) {
            TcpSock[] slot = lhash.get(i);
            if (slot.length > 0) { // most slots are empty: a hand-over walks all of them inside the swap
                java.util.Collections.addAll(all, slot);
            }
        }
        for (int i = 0; i < EHASH_SLOTS; i++) {
            TcpSock[] slot = ehash.get(i);
            if (slot.length > 0) {
                java.util.Collections.addAll(all, slot);
            }
        }
        return all;
    }

    // --- the bind table ---

    /**
     * {@code inet_csk_get_port}: takes {@code port} for the socket bound to {@code addr}, or with port 0
     * a free one from {@code ip_local_port_range} from a random start. Two sockets share a port when
     * their addresses differ (neither the wildcard), or both set SO_REUSEADDR and neither listens, or
     * both set SO_REUSEPORT. EADDRINUSE otherwise, or when no ephemeral port is free.
     */
    int getPort(TcpSock sk, int port, int addr) throws SockException {
        TcpLazyAdopt l = lazy;
        if (l != null && port != 0) { // just after an update: a connection not remade yet holds its port as a live one does
            l.remakePort(port);
        }
        return bindPort(sk, port, addr, l);
    }

    private synchronized int bindPort(TcpSock sk, int port, int addr, TcpLazyAdopt l) throws SockException {
        if (port != 0) {
            if (conflicts(sk, port, addr, false)) {
                throw SockException.of(Errno.EADDRINUSE);
            }
            bhash.computeIfAbsent(port, p -> new ArrayList<>(2)).add(sk);
            return port;
        }
        int[] range = ipv4.localPortRange(ns);
        int n = range[1] - range[0] + 1;
        int start = ThreadLocalRandom.current().nextInt(n);
        for (int i = 0; i < n; i++) {
            int p = range[0] + (start + i) % n;
            // ip_local_reserved_ports skipped (asked last: a candidate in use costs no namespace lookup)
            if (!bhash.containsKey(p) && !deathRow.holdsPort(p) && (l == null || !l.holdsPort(p)) && !ipv4.reservedPort(ns, p)) {
                bhash.computeIfAbsent(p, q -> new ArrayList<>(2)).add(sk);
                return p;
            }
        }
        throw SockException.of(Errno.EADDRINUSE);
    }

    /**
     * {@code __inet_hash_connect}'s port search for a connect() from no bound port: from a random start
     * in {@code ip_local_port_range}, the first port no socket has bound, whose TIME-WAIT owners (if
     * any) leave this 4-tuple free or may be taken over ({@code tcp_tw_reuse}); EADDRNOTAVAIL when there
     * is none. (Linux also shares a port other connect()s chose, 4-tuples apart; modnet does not yet.)
     */
    synchronized int connectPort(TcpSock sk, int laddr, int raddr, int rport) throws SockException {
        TcpLazyAdopt l = lazy; // just after an update: a port a connection not remade yet holds is taken
        int[] range = ipv4.localPortRange(ns);
        int n = range[1] - range[0] + 1;
        int start = ThreadLocalRandom.current().nextInt(n);
        for (int i = 0; i < n; i++) {
            int p = range[0] + (start + i) % n;
            if (!bhash.containsKey(p) && (l == null || !l.holdsPort(p)) && !ipv4.reservedPort(ns, p)
                    && deathRow.connectMayUse(p, laddr, raddr, rport)) {
                bhash.computeIfAbsent(p, q -> new ArrayList<>(2)).add(sk);
                return p;
            }
        }
        throw SockException.of(Errno.EADDRNOTAVAIL);
    }

    /** {@code inet_csk_listen_start}'s second check: another socket on the port may not listen or be bound alike. */
    boolean listenConflicts(TcpSock sk) {
        TcpLazyAdopt l = lazy;
        if (l != null) {
            l.remakePort(sk.lport());
        }
        synchronized (this) {
            return conflicts(sk, sk.lport(), sk.laddr(), true);
        }
    }

    private boolean conflicts(TcpSock sk, int port, int addr, boolean listening) {
        if (deathRow.conflicts(port, addr, sk.reuseAddr())) {
            return true;
        }
        List<TcpSock> owners = bhash.get(port);
        if (owners == null) {
            return false;
        }
        for (TcpSock o : owners) {
            if (o == sk) {
                continue;
            }
            int a = o.boundAddress();
            if (a != 0 && addr != 0 && a != addr) {
                continue;
            }
            if (o.reusePort() && sk.reusePort()) {
                continue;
            }
            if (o.reuseAddr() && sk.reuseAddr() && !listening && o.state() != TcpSock.TCP_LISTEN) {
                continue;
            }
            if (listening && o.state() != TcpSock.TCP_LISTEN && o.reuseAddr() && sk.reuseAddr()) {
                continue;
            }
            return true;
        }
        return false;
    }

    /**
     * A child of a listener shares its port ({@code __inet_inherit_port}). No lambda: an update's adoption remakes each bound
     * listener through here inside the swap, and a lambda's call site is linked at its first run, a class spun for it (task
     * adopt15h).
     */
    synchronized void inheritPort(TcpSock child, int port) {
        List<TcpSock> owners = bhash.get(port);
        if (owners == null) {
            owners = new ArrayList<>(2);
            bhash.put(port, owners);
        }
        owners.add(child);
    }

    /** {@code inet_put_port}. */
    synchronized void putPort(TcpSock sk, int port) {
        List<TcpSock> owners = bhash.get(port);
        if (owners != null && owners.remove(sk) && owners.isEmpty()) {
            bhash.remove(port);
        }
    }
}

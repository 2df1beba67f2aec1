package org.modnet.tcp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.Timer;
import org.modnet.api.skb.SkBuff;

/**
 * The light TIME-WAIT socket ({@code struct inet_timewait_sock} and {@code tcp_timewait_sock}; Linux's
 * {@code tcp_minisocks.c} and {@code inet_timewait_sock.c}): when a connection enters TIME-WAIT, or an
 * orphan reaches FIN-WAIT-2, its full {@link TcpSock} with its rings is released and this small object
 * takes the 4-tuple for 2MSL, holding only what {@code tcp_timewait_state_process} reads: the sequence
 * numbers, the window, the peer's last timestamp and one timer on the wheel.
 *
 * <p>It answers a retransmitted FIN (or any out-of-window segment) with an ACK, lets a SYN whose
 * sequence number or timestamp is newer open a new connection (RFC 6191, {@link #TW_SYN}), dies on a
 * RST unless {@code tcp_rfc1337}, and ends after 60 s (TW). The socks of a namespace are in its
 * {@link DeathRow} ({@code inet_timewait_death_row}), bounded by {@code net.ipv4.tcp_max_tw_buckets}.
 */
final class TcpTimewaitSock {
    /** What {@link #process} asks of its caller ({@code enum tcp_tw_status}). */
    static final int TW_SUCCESS = 0;
    static final int TW_RST = 1;
    static final int TW_ACK = 2;
    static final int TW_SYN = 3;

    final TcpNet net;
    final int laddr;
    final int lport;
    final int raddr;
    final int rport;
    final boolean reuseAddr;
    private final int ttl;
    private final int tos;
    private final TcpTimer timer;
    /** TIME-WAIT, or FIN-WAIT-2 for an orphan whose peer has not sent its FIN ({@code tw_substate}). */
    volatile int substate;
    private int rcvNxt;
    final int sndNxt;
    private final int rcvWnd;
    private final int rcvWscale;
    private final boolean tstampOk;
    private final int tsOff;
    int tsRecent;
    /** When {@link #tsRecent} was last updated, in seconds; 0 when the connection had no timestamps. */
    long tsRecentStamp;
    private long lastOowAckMs;
    private boolean dead; // guarded by this

    TcpTimewaitSock(TcpNet net, int laddr, int lport, int raddr, int rport, boolean reuseAddr, int ttl, int tos, int cpu,
            int substate, int rcvNxt, int sndNxt, int rcvWnd, int rcvWscale, boolean tstampOk, int tsOff, int tsRecent) {
        this.net = net;
        this.laddr = laddr;
        this.lport = lport;
        this.raddr = raddr;
        this.rport = rport;
        this.reuseAddr = reuseAddr;
        this.ttl = ttl;
        this.tos = tos;
        this.substate = substate;
        this.rcvNxt = rcvNxt;
        this.sndNxt = sndNxt;
        this.rcvWnd = rcvWnd;
        this.rcvWscale = rcvWscale;
        this.tstampOk = tstampOk;
        this.tsOff = tsOff;
        this.tsRecent = tsRecent;
        this.tsRecentStamp = tstampOk ? Math.max(1, nowMs() / 1000) : 0;
        this.timer = new TcpTimer(net.core, cpu, false, new Expire(this)); // no lambda: see TcpTimer's constructor
    }

    int rcvNxt() {
        return rcvNxt;
    }

    private long nowMs() {
        return net.core.nanoTime() / 1_000_000L;
    }

    /** {@code inet_twsk_schedule}: the timer, 2MSL in TIME-WAIT, the rest of {@code tcp_fin_timeout} in FIN-WAIT-2. */
    void schedule(long ms) {
        timer.mod(ms);
    }

    /** What is left of the timer, for {@code ss -o} and {@code /proc/net/tcp}. */
    long remainingMs() {
        return timer.remainingMs();
    }

    // --- hand-over on update ---

    /** Stops the timer and gives the sock's state to the next version (the old tables are dropped whole). */
    org.modnet.api.handover.TcpTimewaitState handOver() {
        long left = timer.pending() ? Math.max(0, timer.remainingMs()) : 0;
        timer.del();
        synchronized (this) {
            dead = true;
        }
        return new org.modnet.api.handover.TcpTimewaitState(net.ns, laddr, lport, raddr, rport, substate, sndNxt, rcvNxt,
                rcvWnd, rcvWscale, tstampOk, tsOff, tsRecent, tsRecentStamp, reuseAddr, ttl, tos, left);
    }

    /** The new version's side: the sock again, in its namespace's death row, its timer armed with what was left. */
    static boolean adopt(TcpNet net, org.modnet.api.handover.TcpTimewaitState st, int cpu) {
        TcpTimewaitSock tw = new TcpTimewaitSock(net, st.localAddress(), st.localPort(), st.remoteAddress(), st.remotePort(),
                st.reuseAddr(), st.ttl(), st.tos(), cpu, st.substate(), st.rcvNxt(), st.sndNxt(), st.rcvWnd(),
                st.rcvWscale(), st.tstampOk(), st.tsOffset(), st.tsRecent());
        tw.tsRecentStamp = st.tsRecentStamp();
        if (!net.deathRow.insert(tw)) {
            return false;
        }
        tw.schedule(st.remainingMs());
        return true;
    }

    /** The timer ran out: the sock leaves the tables (TW). */
    /** The timer's handler: {@link #expire}. */
    private static final class Expire implements Runnable {
        private final TcpTimewaitSock tw;

        Expire(TcpTimewaitSock tw) {
            this.tw = tw;
        }

        @Override
        public void run() {
            tw.expire();
        }
    }

    private void expire() {
        synchronized (this) {
            if (dead) {
                return;
            }
            dead = true;
        }
        net.mib.inc(net.core.currentCpu(), TcpMib.Ext.TW); // tw_timer_handler: TIME-WAIT and FIN-WAIT-2 alike
        net.deathRow.remove(this);
    }

    /** {@code inet_twsk_deschedule_put}: ends it now (a RST, a new connection on the 4-tuple). */
    void kill() {
        synchronized (this) {
            if (dead) {
                return;
            }
            dead = true;
        }
        timer.del();
        net.deathRow.remove(this);
    }

    /**
     * {@code tcp_timewait_state_process}: what a segment for this 4-tuple does. The options are parsed
     * into {@code opt} (the caller's, reused); {@code isn} gets the ISN a new connection should take
     * when the answer is {@link #TW_SYN}.
     */
    int process(SkBuff skb, TcpOptions opt, int cpu, int[] isn) {
        int th = skb.data();
        int hlen = (skb.getU8(th + TcpHeader.DOFF) >>> 4) * 4;
        int flags = skb.getU8(th + TcpHeader.FLAGS);
        int seq = skb.getU32(th + TcpHeader.SEQ);
        boolean syn = (flags & TcpHeader.SYN) != 0;
        boolean rst = (flags & TcpHeader.RST) != 0;
        boolean ack = (flags & TcpHeader.ACK) != 0;
        boolean fin = (flags & TcpHeader.FIN) != 0;
        int endSeq = seq + skb.len() - hlen + (syn ? 1 : 0) + (fin ? 1 : 0);
        boolean pawsReject = false;
        opt.sawTstamp = false;
        if (hlen > TcpHeader.MIN_LEN && tsRecentStamp != 0) {
            opt.parse(skb, th, false, net.optionSysctls());
            if (opt.sawTstamp && tsRecentStamp != 0) {
                // tcp_paws_reject: an older timestamp than the last one seen, unless a RST or 24 days old
                pawsReject = TcpSeq.before(opt.rcvTsval, tsRecent) && !rst && nowMs() / 1000 < tsRecentStamp + 24L * 24 * 3600;
            }
        }
        synchronized (this) {
            if (dead) {
                return TW_SUCCESS;
            }
            if (substate == TcpSock.TCP_FIN_WAIT2) {
                // repeat tcp_rcv_state_process's checks for FIN-WAIT-2
                if (pawsReject || !inWindow(seq, endSeq, rcvNxt, rcvNxt + rcvWnd)) {
                    return oowRateLimited(cpu, TcpMib.Ext.TCPACKSkippedFinWait2) ? TW_SUCCESS : TW_ACK;
                }
                if (rst) {
                    return killed(cpu);
                }
                if (syn && !TcpSeq.before(seq, rcvNxt)) {
                    return TW_RST;
                }
                if (!ack || !TcpSeq.after(endSeq, rcvNxt) || endSeq == seq) {
                    return TW_SUCCESS; // a duplicate ACK
                }
                if (!fin || endSeq != rcvNxt + 1) {
                    return TW_RST; // new data after the half-duplex close
                }
                substate = TcpSock.TCP_TIME_WAIT; // the FIN: true TIME-WAIT
                rcvNxt = endSeq;
                if (opt.sawTstamp) {
                    tsRecent = opt.rcvTsval;
                    tsRecentStamp = nowMs() / 1000;
                }
                timer.mod(TcpSock.TIMEWAIT_MS);
                return TW_ACK;
            }
            // TIME-WAIT (RFC 1337): an in-window segment can only be a RST or a bare ACK
            if (!pawsReject && seq == rcvNxt && (seq == endSeq || rst)) {
                if (rst) {
                    if (net.deathRow.rfc1337.get() == 0) {
                        return killed(cpu);
                    }
                } else {
                    timer.mod(TcpSock.TIMEWAIT_MS);
                }
                if (opt.sawTstamp) {
                    tsRecent = opt.rcvTsval;
                    tsRecentStamp = nowMs() / 1000;
                }
                return TW_SUCCESS;
            }
            // RFC 6191: a SYN newer than the old connection by sequence number or timestamp opens a new one
            if (syn && !rst && !ack && !pawsReject
                    && (TcpSeq.after(seq, rcvNxt) || opt.sawTstamp && tsRecentStamp != 0 && TcpSeq.before(tsRecent, opt.rcvTsval))) {
                int n = sndNxt + 65535 + 2;
                isn[0] = n == 0 ? 1 : n;
                return TW_SYN;
            }
            if (pawsReject) {
                net.mib.inc(cpu, TcpMib.Ext.PAWSEstab);
            }
            if (rst) {
                return TW_SUCCESS;
            }
            // an old duplicate (a retransmitted FIN): acknowledged, and 2MSL starts again
            if (pawsReject || ack) {
                timer.mod(TcpSock.TIMEWAIT_MS);
            }
            return oowRateLimited(cpu, TcpMib.Ext.TCPACKSkippedTimeWait) ? TW_SUCCESS : TW_ACK;
        }
    }

    private int killed(int cpu) {
        net.mib.inc(cpu, TcpMib.Ext.TWKilled);
        dead = true;
        timer.del();
        net.deathRow.remove(this);
        return TW_SUCCESS;
    }

    /** {@code tcp_in_window}. */
    private static boolean inWindow(int seq, int endSeq, int sWin, int eWin) {
        if (seq == sWin) {
            return true;
        }
        if (TcpSeq.after(endSeq, sWin) && TcpSeq.before(seq, eWin)) {
            return true;
        }
        return seq == eWin && seq == endSeq;
    }

    /** {@code tcp_timewait_check_oow_rate_limit}: one ACK per {@code tcp_invalid_ratelimit}. */
    private boolean oowRateLimited(int cpu, TcpMib.Ext counter) {
        long now = nowMs();
        if (lastOowAckMs != 0 && now - lastOowAckMs < net.invalidRatelimit.get()) {
            net.mib.inc(cpu, counter);
            return true;
        }
        lastOowAckMs = now;
        return false;
    }

    /**
     * {@code tcp_v4_timewait_ack}: {@code <SEQ=snd_nxt><ACK=rcv_nxt><CTL=ACK>} with the window as it was
     * and, with timestamps, our clock and the peer's last TSval. {@code out} is the caller's, reused.
     */
    void sendAck(TcpOutOptions out, int cpu) {
        int optLen = out.established(tstampOk, (int) nowMs() + tsOff, tsRecent, null, null, 0);
        int hlen = TcpHeader.MIN_LEN + optLen;
        SkBuff skb = net.core.allocSkb(hlen, 64);
        if (skb == null) {
            return;
        }
        int o = skb.put(hlen);
        TcpHeader.write(skb, o, lport, rport, sndNxt, rcvNxt, TcpHeader.ACK, Math.min(rcvWnd >> rcvWscale, 0xffff), optLen);
        out.write(skb, o + TcpHeader.MIN_LEN);
        TcpHeader.setChecksum(skb, o, hlen, TcpAf.inetPseudoSum(laddr, raddr, hlen));
        net.mib.inc(cpu, TcpMib.Tcp.OutSegs);
        net.ipv4.send(net.ns, skb, laddr, raddr, TcpAf.IPPROTO_TCP, ttl, tos, true); // TCP's control socket: IP_PMTUDISC_DO
    }

    /**
     * {@code tcp_twsk_unique}: may a connect from this 4-tuple take it over? With
     * {@code tcp_tw_reuse} (2: only between loopback addresses) when timestamps were on and the last
     * one came more than a second ago, so PAWS tells the old connection's segments apart.
     */
    boolean reusable() {
        return reusable(false);
    }

    /**
     * {@link #reusable()} for a connect from a port the user bound ({@code boundPort}): Linux passes no
     * timewait pointer then ({@code __inet_hash_connect}), and timestamps on the old connection are all
     * it asks, whatever {@code tcp_tw_reuse} says. A FIN-WAIT-2 sock is never reused for a chosen port.
     */
    boolean reusable(boolean boundPort) {
        if (boundPort) {
            return tsRecentStamp != 0;
        }
        int reuse = substate == TcpSock.TCP_FIN_WAIT2 ? 0 : net.deathRow.twReuse.get();
        if (reuse == 2) {
            reuse = (laddr >>> 24) == 127 && (raddr >>> 24) == 127 ? 1 : 0;
        }
        return reuse != 0 && tsRecentStamp != 0 && nowMs() / 1000 > tsRecentStamp;
    }

    /** What {@code ss} shows of this sock: a socket in TIME-WAIT (or FIN-WAIT-2) with empty queues, made on demand. */
    org.modnet.socket.api.Sock view() {
        return new View(this);
    }

    /** A read-only socket for {@code ss}: every call on it is EBADF, as on a descriptor that is gone. */
    private static final class View extends org.modnet.socket.api.Sock {
        private final TcpTimewaitSock tw;

        View(TcpTimewaitSock tw) {
            super(tw.net.ns, org.modnet.socket.api.SocketCalls.SOCK_STREAM, org.modnet.socket.api.SocketCalls.IPPROTO_TCP, null);
            state = tw.substate;
            localAddress = tw.laddr;
            localPort = tw.lport;
            remoteAddress = tw.raddr;
            remotePort = tw.rport;
            this.tw = tw;
        }

        @Override
        public void bind(org.modnet.socket.api.SockAddr addr) throws org.modnet.socket.api.SockException {
            throw org.modnet.socket.api.SockException.of(org.modnet.api.net.Errno.EBADF);
        }

        @Override
        public void connect(org.modnet.socket.api.SockAddr addr) throws org.modnet.socket.api.SockException {
            throw org.modnet.socket.api.SockException.of(org.modnet.api.net.Errno.EBADF);
        }

        @Override
        public int sendmsg(java.nio.ByteBuffer[] iov, org.modnet.socket.api.SockAddr to, int flags)
                throws org.modnet.socket.api.SockException {
            throw org.modnet.socket.api.SockException.of(org.modnet.api.net.Errno.EBADF);
        }

        @Override
        protected org.modnet.socket.api.SockAddr source(SkBuff skb) {
            return null;
        }

        @Override
        protected void release() {
        }

        @Override
        public String netid() {
            return "tcp";
        }

        @Override
        public boolean isTimewait() {
            return true;
        }

        /** {@code ss -o}'s {@code timer:(timewait,...)}: the sock's own timer. */
        @Override
        public org.modnet.socket.api.SockTimer timer() {
            return new org.modnet.socket.api.SockTimer(org.modnet.socket.api.SockTimer.TIMEWAIT, tw.remainingMs(), 0);
        }
    }

    /**
     * A namespace's TIME-WAIT socks ({@code inet_timewait_death_row}): looked up by 4-tuple after the
     * established hash, counted against {@code net.ipv4.tcp_max_tw_buckets}, and by local port so a
     * bind sees the ports they hold ({@code tw_tb}). Lookups take no lock and allocate nothing.
     */
    static final class DeathRow {
        /** Linux scales the default with memory (256 per MB of the hash); a fixed default here, as a 1 GiB host has. */
        static final int MAX_TW_BUCKETS_DEFAULT = 262144;
        private static final int SLOTS = 4096;
        private static final TcpTimewaitSock[] NONE = new TcpTimewaitSock[0];

        final IntSysctl maxBuckets;
        final IntSysctl twReuse;
        final IntSysctl rfc1337;
        final AtomicInteger count = new AtomicInteger();
        private final AtomicReferenceArray<TcpTimewaitSock[]> hash = new AtomicReferenceArray<>(SLOTS);
        private final Map<Integer, Set<TcpTimewaitSock>> byPort = new HashMap<>(); // guarded by this
        /** Per softirq CPU, the ISN a SYN that recycled a TIME-WAIT 4-tuple hands the listener ({@code tcp_tw_isn}). */
        private final int[] twIsn;
        /** Options parsed and written for TIME-WAIT socks, one per softirq CPU; threads outside use {@link #threadOpts}. */
        private final TcpOptions[] opts;
        private final TcpOutOptions[] outOpts;
        private final ThreadLocal<TcpOptions> threadOpts = ThreadLocal.withInitial(TcpOptions::new);
        private final ThreadLocal<TcpOutOptions> threadOutOpts = ThreadLocal.withInitial(TcpOutOptions::new);
        private final int[][] isnOut;
        private final ThreadLocal<int[]> threadIsnOut = ThreadLocal.withInitial(() -> new int[1]);

        DeathRow(org.modnet.api.net.Sysctl s, int cpus) {
            maxBuckets = s.registerInt("net.ipv4.tcp_max_tw_buckets", MAX_TW_BUCKETS_DEFAULT, 0, Integer.MAX_VALUE);
            twReuse = s.registerInt("net.ipv4.tcp_tw_reuse", 2, 0, 2);
            rfc1337 = s.registerInt("net.ipv4.tcp_rfc1337", 0, 0, 1);
            for (int i = 0; i < SLOTS; i++) {
                hash.set(i, NONE);
            }
            twIsn = new int[cpus];
            isnOut = new int[cpus][1];
            opts = new TcpOptions[cpus];
            outOpts = new TcpOutOptions[cpus];
            for (int i = 0; i < cpus; i++) {
                opts[i] = new TcpOptions();
                outOpts[i] = new TcpOutOptions();
            }
        }

        private static int slot(int laddr, int lport, int raddr, int rport) {
            int h = laddr * 31 + raddr;
            h = h * 31 + (lport << 16 | rport);
            h ^= h >>> 16;
            return h & (SLOTS - 1);
        }

        TcpTimewaitSock lookup(int raddr, int rport, int laddr, int lport) {
            for (TcpTimewaitSock tw : hash.get(slot(laddr, lport, raddr, rport))) {
                if (tw.lport == lport && tw.rport == rport && tw.laddr == laddr && tw.raddr == raddr) {
                    return tw;
                }
            }
            return null;
        }

        /** {@code inet_twsk_hashdance}: false when {@code tcp_max_tw_buckets} are taken (the caller counts TCPTimeWaitOverflow). */
        synchronized boolean insert(TcpTimewaitSock tw) {
            if (count.get() >= maxBuckets.get()) {
                return false;
            }
            int i = slot(tw.laddr, tw.lport, tw.raddr, tw.rport);
            TcpTimewaitSock[] old = hash.get(i);
            TcpTimewaitSock[] now = Arrays.copyOf(old, old.length + 1);
            now[old.length] = tw;
            hash.set(i, now);
            byPort.computeIfAbsent(tw.lport, p -> new HashSet<>()).add(tw);
            count.incrementAndGet();
            return true;
        }

        synchronized void remove(TcpTimewaitSock tw) {
            int i = slot(tw.laddr, tw.lport, tw.raddr, tw.rport);
            TcpTimewaitSock[] old = hash.get(i);
            int at = -1;
            for (int k = 0; k < old.length; k++) {
                if (old[k] == tw) {
                    at = k;
                }
            }
            if (at < 0) {
                return;
            }
            TcpTimewaitSock[] now = old.length == 1 ? NONE : new TcpTimewaitSock[old.length - 1];
            System.arraycopy(old, 0, now, 0, at);
            System.arraycopy(old, at + 1, now, at, old.length - at - 1);
            hash.set(i, now);
            Set<TcpTimewaitSock> owners = byPort.get(tw.lport);
            if (owners != null && owners.remove(tw) && owners.isEmpty()) {
                byPort.remove(tw.lport);
            }
            count.decrementAndGet();
        }

        /** Whether a TIME-WAIT sock holds {@code port} at all: an ephemeral port is not chosen then. */
        synchronized boolean holdsPort(int port) {
            return byPort.containsKey(port);
        }

        /**
         * Whether a connect may choose {@code port} for the 4-tuple to {@code raddr:rport}
         * ({@code __inet_hash_connect}'s check of the port's TIME-WAIT owners): none has this 4-tuple, or
         * the one that has it may be taken over.
         */
        synchronized boolean connectMayUse(int port, int laddr, int raddr, int rport) {
            TcpTimewaitSock tw = lookup(raddr, rport, laddr, port);
            return tw == null || tw.reusable(false);
        }

        /**
         * {@code inet_csk_bind_conflict} against the TIME-WAIT owners of a port: one bound to the same
         * address (or either the wildcard) conflicts unless both set SO_REUSEADDR.
         */
        synchronized boolean conflicts(int port, int addr, boolean reuseAddr) {
            Set<TcpTimewaitSock> owners = byPort.get(port);
            if (owners == null) {
                return false;
            }
            for (TcpTimewaitSock tw : owners) {
                if (tw.laddr != 0 && addr != 0 && tw.laddr != addr) {
                    continue;
                }
                if (!(reuseAddr && tw.reuseAddr)) {
                    return true;
                }
            }
            return false;
        }

        /** Every sock, for {@code ss} and {@code /proc/net/tcp}. */
        List<TcpTimewaitSock> all() {
            List<TcpTimewaitSock> out = new ArrayList<>();
            for (int i = 0; i < SLOTS; i++) {
                TcpTimewaitSock[] slot = hash.get(i);
                if (slot.length > 0) {
                    java.util.Collections.addAll(out, slot);
                }
            }
            return out;
        }

        /**
         * {@code tcp_v4_rcv}'s TIME-WAIT branch: the segment's TIME-WAIT sock answers it — an ACK, a
         * RST, nothing — or, for a newer SYN, gives way: it dies and true is returned with the new
         * connection's ISN left for this CPU's listener ({@link #takeIsn}). The caller frees the skb
         * unless true is returned (then the caller delivers it to the listener).
         */
        boolean receive(TcpTimewaitSock tw, SkBuff skb, int cpu) {
            boolean own = cpu >= 0 && cpu < opts.length;
            TcpOptions opt = own ? opts[cpu] : threadOpts.get();
            int[] isn = own ? isnOut[cpu] : threadIsnOut.get();
            int r = tw.process(skb, opt, cpu, isn);
            if (r == TW_SYN) {
                TcpSock listener = tw.net.lookupListener(tw.raddr, tw.rport, tw.laddr, tw.lport);
                if (listener != null) {
                    tw.kill();
                    if (own) {
                        twIsn[cpu] = isn[0];
                    }
                    return true;
                }
                r = TW_ACK;
            }
            if (r == TW_ACK) {
                tw.sendAck(own ? outOpts[cpu] : threadOutOpts.get(), cpu);
            } else if (r == TW_RST) {
                TcpProtocol.sendReset(tw.net, skb, cpu);
            }
            return false;
        }

        /** The ISN a recycled TIME-WAIT left this CPU's next SYN ({@code tcp_tw_isn}), 0 when none; taken once. */
        int takeIsn(int cpu) {
            if (cpu < 0 || cpu >= twIsn.length) {
                return 0;
            }
            int n = twIsn[cpu];
            twIsn[cpu] = 0;
            return n;
        }

        /** Clears what a SYN left unused (the listener may have dropped it). */
        void clearIsn(int cpu) {
            takeIsn(cpu);
        }
    }
}

package org.modnet.tcp;

import static org.modnet.tcp.TcpSock.*;

import org.modnet.api.net.Errno;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * TCP's ICMP error handler, as Linux's {@code tcp_v4_err}, {@code tcp_req_err}, {@code
 * tcp_v4_mtu_reduced} and {@code tcp_ld_RTO_revert}: the socket is found by the quoted 4-tuple (a
 * TIME-WAIT one ignores it, a request sock may be dropped), a quoted sequence number outside what is in
 * flight is counted (TcpExtOutOfWindowIcmps) and ignored (RFC 5927 4.1), "fragmentation needed" lowers
 * the MSS to the path MTU IPv4 learned and sends what no longer fits again at once (RFC 1191), and the
 * other errors end a connection still opening or are kept as its soft error (RFC 1122 4.2.3.9).
 */
final class TcpErr {
    static final int DEST_UNREACH = 3;
    static final int SOURCE_QUENCH = 4;
    static final int REDIRECT = 5;
    static final int TIME_EXCEEDED = 11;
    static final int PARAMETERPROB = 12;
    static final int NET_UNREACH = 0;
    static final int HOST_UNREACH = 1;
    static final int FRAG_NEEDED = 4;
    /** {@code NR_ICMP_UNREACH}: the highest "destination unreachable" code. */
    static final int NR_ICMP_UNREACH = 15;
    /** {@code tcp_min_snd_mss}'s default: the MSS never falls below it, whatever the ICMP says. */
    static final int MIN_SND_MSS = 48;
    /** {@code IP_MAX_MTU}: a route's MTU as TCP sees it is at most this (lo's 65536 is 65535). */
    static final int IP_MAX_MTU = 65535;

    private TcpErr() {
    }

    /** {@code icmp_err_convert}: the errno of each "destination unreachable" code. */
    private static final Errno[] UNREACH_ERRNO = { Errno.ENETUNREACH, Errno.EHOSTUNREACH, Errno.ENOPROTOOPT,
            Errno.ECONNREFUSED, Errno.EMSGSIZE, Errno.EOPNOTSUPP, Errno.ENETUNREACH, Errno.EHOSTDOWN, Errno.EHOSTUNREACH /* Linux: ENONET, which Errno lacks */,
            Errno.ENETUNREACH, Errno.EHOSTUNREACH, Errno.ENETUNREACH, Errno.EHOSTUNREACH, Errno.EHOSTUNREACH,
            Errno.EHOSTUNREACH, Errno.EHOSTUNREACH };

    /**
     * {@code tcp_v4_err}: an ICMP error quoting a segment we sent ({@code inner}: the quoted IPv4 header;
     * its header and 8 bytes of ours are there, IPv4's {@code icmp_unreach} checked). IPv4 has already
     * learned the path MTU from a "fragmentation needed" (its route exception), for every protocol.
     * False when no socket has the quoted 4-tuple (IPv4 then counts Icmp InErrors); a TIME-WAIT one is
     * a socket that ignores it.
     */
    static boolean err(TcpNet net, SkBuff skb, int inner, int type, int code, int info, int cpu) {
        int ihl = (skb.getU8(inner) & 0xf) * 4;
        int ourAddr = skb.getU32(inner + 12);
        int theirAddr = skb.getU32(inner + 16);
        int th = inner + ihl;
        int ourPort = skb.getU16(th + TcpHeader.SOURCE);
        int theirPort = skb.getU16(th + TcpHeader.DEST);
        int seq = skb.getU32(th + TcpHeader.SEQ);
        TcpSock sk = net.lookupEstablished(theirAddr, theirPort, ourAddr, ourPort);
        TcpLazyAdopt lazy = net.lazy;
        if (sk == null && lazy != null && lazy.remake(theirAddr, theirPort, ourAddr, ourPort)) {
            sk = net.lookupEstablished(theirAddr, theirPort, ourAddr, ourPort); // just after an update: remade for its error
        }
        if (sk == null) {
            return net.deathRow.lookup(theirAddr, theirPort, ourAddr, ourPort) != null;
        }
        if (sk.state() == TCP_SYN_RECV && sk.parent != null) {
            reqErr(net, sk, seq, type == PARAMETERPROB || type == TIME_EXCEEDED
                    || type == DEST_UNREACH && (code == NET_UNREACH || code == HOST_UNREACH), cpu);
            return true;
        }
        java.util.concurrent.locks.ReentrantLock lock = sk.sockLock();
        boolean owned = lock.isHeldByCurrentThread() || !lock.tryLock();
        try {
            boolean fragNeeded = type == DEST_UNREACH && code == FRAG_NEEDED;
            if (owned && !fragNeeded) {
                net.mib.inc(cpu, TcpMib.Ext.LockDroppedIcmps); // counted, and what needs no lock still happens
            }
            if (sk.state() == TCP_CLOSE || sk.frozen) {
                return true;
            }
            // RFC 5927 4.1: only a quote of what is in flight is believed (snd_nxt here is the highest sent)
            if (sk.state() != TCP_LISTEN && !between(seq, sk.sndUna, sk.sndMax)) {
                net.mib.inc(cpu, TcpMib.Ext.OutOfWindowIcmps);
                return true;
            }
            Errno err;
            switch (type) {
                case REDIRECT, SOURCE_QUENCH -> {
                    return true; // IPv4 keeps no redirected routes; a source quench is ignored (RFC 6633)
                }
                case PARAMETERPROB -> err = Errno.EPROTO;
                case TIME_EXCEEDED -> err = Errno.EHOSTUNREACH;
                case DEST_UNREACH -> {
                    if (code > NR_ICMP_UNREACH) {
                        return true;
                    }
                    if (fragNeeded) {
                        if (sk.state() == TCP_LISTEN) {
                            return true;
                        }
                        sk.mtuInfo = info & 0xffff;
                        if (!owned) {
                            mtuReduced(sk, cpu);
                        } else {
                            sk.mtuReducedDeferred = true; // done as the holder lets go (tcp_release_cb)
                        }
                        return true;
                    }
                    err = UNREACH_ERRNO[code];
                    if (!owned && (code == NET_UNREACH || code == HOST_UNREACH)) {
                        ldRtoRevert(sk, seq); // RFC 6069
                    }
                }
                default -> {
                    return true;
                }
            }
            if (sk.state() == TCP_SYN_SENT || sk.state() == TCP_SYN_RECV) {
                if (!owned) { // tcp_done_with_error: the connect fails with the error at once
                    // ip_icmp_error first: with IP_RECVERR the error is queued, quoting our segment from its TCP header on
                    // (Linux queues it while the user holds the socket too, under the queue's own lock; modnet's queue is
                    // under the socket's, which the packet path does not wait for)
                    sk.queueError(skb, th, err, type, code, info, skb.getU32(skb.networkHeader() + 12), theirAddr, theirPort);
                    sk.reportError(err);
                    sk.done(cpu);
                } else {
                    sk.errSoft = err;
                }
                return true;
            }
            // RFC 1122 4.2.3.9: an established connection keeps trying; the error is told only if it then
            // times out, or at once to a socket that asked with IP_RECVERR
            if (!owned && sk.recvErr()) {
                sk.reportError(err);
            } else {
                sk.errSoft = err;
            }
        } finally {
            if (!owned) {
                sk.unlockSock(cpu);
            } else if (sk.mtuReducedDeferred && !lock.isHeldByCurrentThread() && lock.tryLock()) {
                sk.unlockSock(cpu); // the holder let go before it could see the flag: release runs it now
            }
        }
        return true;
    }

    /** {@code between(seq, s1, s2)}: s1 <= seq <= s2, modulo 2^32. */
    private static boolean between(int seq, int s1, int s2) {
        return Integer.compareUnsigned(seq - s1, s2 - s1) <= 0;
    }

    /**
     * {@code tcp_req_err}: an error about our SYN-ACK. A quote of another sequence number is counted
     * (OutOfWindowIcmps); a net or host unreachable, time exceeded or parameter problem drops the
     * request silently (ListenDrops): POSIX wants no network error from {@code accept}.
     */
    private static void reqErr(TcpNet net, TcpSock req, int seq, boolean abort, int cpu) {
        if (seq != req.iss) {
            net.mib.inc(cpu, TcpMib.Ext.OutOfWindowIcmps);
            return;
        }
        if (!abort) {
            return;
        }
        java.util.concurrent.locks.ReentrantLock lock = req.sockLock();
        if (lock.isHeldByCurrentThread() || !lock.tryLock()) {
            return; // being made a connection this moment: it lives
        }
        try {
            if (req.state() == TCP_SYN_RECV && req.parent != null) {
                req.done(cpu);
                net.mib.inc(cpu, TcpMib.Ext.ListenDrops);
            }
        } finally {
            req.unlockSock(cpu);
        }
    }

    /**
     * {@code tcp_v4_mtu_reduced}, under the socket lock: the path MTU IPv4 now has toward the peer
     * ({@code inet_csk_update_pmtu}); smaller than the one the MSS was synced to, and the socket does path
     * MTU discovery, the MSS follows ({@link #syncMss}) and what no longer fits goes again at once
     * ({@link #simpleRetransmit}); else the retransmission timer handles it. An MTU below what IPv4
     * accepted (under {@code min_pmtu}) with DF still set is remembered as the soft error EMSGSIZE.
     */
    static void mtuReduced(TcpSock sk, int cpu) {
        if (sk.state() == TCP_LISTEN || sk.state() == TCP_CLOSE || sk.frozen) {
            return;
        }
        int mtu = Math.min(sk.net.ipv4.pathMtu(sk.namespace(), sk.raddr()), IP_MAX_MTU);
        if (mtu == 0) {
            return;
        }
        if (sk.mtuInfo < mtu && sk.dontFragment()) {
            sk.errSoft = Errno.EMSGSIZE;
        }
        int disc = sk.pmtuDiscover();
        boolean accept = disc != SocketCalls.IP_PMTUDISC_INTERFACE && disc != SocketCalls.IP_PMTUDISC_OMIT; // ip_sk_accept_pmtu
        if (disc != SocketCalls.IP_PMTUDISC_DONT && accept && pmtuCookie(sk) > mtu) {
            syncMss(sk, mtu);
            simpleRetransmit(sk, cpu);
        }
    }

    /** The path MTU the MSS stands for: the cookie, or for a connection adopted from a version without it, its MSS's. */
    static int pmtuCookie(TcpSock sk) {
        return sk.pmtuCookie != 0 ? sk.pmtuCookie : sk.mss + 40 + (sk.rx.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0);
    }

    /**
     * {@code tcp_sync_mss} with {@code tcp_mtu_to_mss}: the MSS for a path MTU is the MTU less the IPv4
     * and TCP headers, at most what the peer (and TCP_MAXSEG) allow, at least {@code tcp_min_snd_mss},
     * less the timestamp option each segment carries. Remembered as the pmtu cookie.
     */
    static void syncMss(TcpSock sk, int pmtu) {
        int m = Math.min(pmtu - 40, sk.rx.mssClamp);
        m = Math.max(m, MIN_SND_MSS) - (sk.rx.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0);
        sk.pmtuCookie = pmtu;
        sk.mss = boundToHalfWnd(sk, m);
    }

    /**
     * {@code tcp_bound_to_half_wnd}: no segment larger than half the largest window the peer has offered
     * (the whole window while that is at most 536 bytes), so that two segments fit in it and one's ACK
     * can come while the other is out; never below 68 bytes less the TCP header. Linux applies it to
     * the MSS in {@code tcp_sync_mss}; it matters on a large-MTU path such as lo, where a receiver's
     * first window (64240 for a 131072-byte buffer) is smaller than one 65483-byte segment.
     */
    static int boundToHalfWnd(TcpSock sk, int mss) {
        int cutoff = sk.maxWindow > TcpOptions.MSS_DEFAULT ? sk.maxWindow >>> 1 : sk.maxWindow;
        if (cutoff > 0 && mss > cutoff) {
            return Math.max(cutoff, 68 - 20 - (sk.rx.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0));
        }
        return mss;
    }

    /**
     * The peer's window grew past the largest it had offered ({@code tcp_ack_update_window} calls
     * {@code tcp_sync_mss} then): the MSS is worked out again from the path, so a bound that half the
     * old window set is lifted as far as the new one allows.
     */
    static void maxWindowGrew(TcpSock sk) {
        if (sk.pmtuCookie > 0) {
            syncMss(sk, sk.pmtuCookie);
        } else {
            sk.mss = boundToHalfWnd(sk, optionMss(sk));
        }
    }

    /**
     * The MSS the handshake's options allow, before the path has a say: the peer's clamp (its option, or
     * TCP_MAXSEG) within our own advertised MSS, less the timestamp option each segment carries.
     */
    static int optionMss(TcpSock sk) {
        return Math.min(sk.rx.mssClamp, sk.advmss) - (sk.rx.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0);
    }

    /**
     * A connection's MSS at its start ({@code tcp_connect_init}'s and {@code tcp_v4_syn_recv_sock}'s
     * {@code tcp_sync_mss} with {@code dst_mtu}): no larger than the path MTU IPv4 already knows.
     */
    static void initMss(TcpSock sk) {
        int mtu = Math.min(sk.net.ipv4.pathMtu(sk.namespace(), sk.raddr()), IP_MAX_MTU);
        if (mtu > 0) {
            // the MSS already holds the peer's clamp (its option, or a cookie's table entry): only the path is added
            int m = Math.max(mtu - 40, MIN_SND_MSS) - (sk.rx.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0);
            sk.pmtuCookie = mtu;
            sk.mss = Math.min(sk.mss, m);
        }
        sk.mss = boundToHalfWnd(sk, sk.mss);
    }

    /**
     * {@code tcp_simple_retransmit}: the segments longer than the new MSS are lost and split; the
     * connection enters Loss with its window as it was ({@link TcpRecovery#simpleRetransmit}), and they
     * go again now at the new size. modnet's Loss resends by going back to the first lost byte (as its
     * RTO does), so segments after it that still fit go again with them.
     */
    static void simpleRetransmit(TcpSock sk, int cpu) {
        int first = sk.rec.simpleRetransmit(cpu);
        if (first == sk.sndUna - 1) {
            return;
        }
        if (TcpSeq.before(first, sk.sndNxt)) {
            sk.retransHigh = sk.sndMax;
            sk.sndNxt = first;
            sk.finSent = false; // the FIN, when sent, goes again after the data
        }
        if (first == sk.sndUna && sk.rec.pending != TcpRecovery.ICSK_TIME_REO_TIMEOUT) {
            sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_RETRANS, sk.rtoMs);
        }
        sk.output.writeXmit(cpu);
    }

    /**
     * {@code tcp_ld_RTO_revert} (RFC 6069): a net or host unreachable about the oldest unacknowledged
     * segment, during the timer's backoff, says the path is down, not congested: one backoff step is
     * undone and the timer runs to the RTO so reverted from when that segment went, or fires now.
     */
    private static void ldRtoRevert(TcpSock sk, int seq) {
        if (sk.rec.q.packetsOut == 0 || seq != sk.sndUna || sk.retransmits == 0 || sk.state() == TCP_SYN_SENT
                || sk.state() == TCP_SYN_RECV) {
            return;
        }
        long base = sk.timers.rtoFromEstimate(); // __tcp_set_rto, or TCP_TIMEOUT_INIT without a sample
        long rto = Math.max(base, sk.rtoMs >> 1);
        if (rto >= sk.rtoMs) {
            return; // no backoff left to undo
        }
        sk.rtoMs = rto;
        long sentUs = sk.rec.q.xmitNs[sk.rec.q.at(0)] / 1000;
        long remaining = rto - (sk.rec.nowUs() - sentUs) / 1000;
        if (remaining > 0) {
            sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_RETRANS, remaining);
        } else {
            sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_RETRANS, 1); // the reverted RTO is past: retransmit now
        }
    }

    /** {@code IP_MTU} ({@code do_ip_getsockopt}): the path MTU toward the peer of a connected socket; ENOTCONN otherwise. */
    static int ipMtu(TcpSock sk, int[] out) throws SockException {
        int s = sk.state();
        int mtu = s == TCP_CLOSE || s == TCP_LISTEN ? 0 : sk.net.ipv4.pathMtu(sk.namespace(), sk.raddr());
        if (mtu == 0) {
            throw SockException.of(Errno.ENOTCONN);
        }
        if (out == null || out.length < 1) {
            throw SockException.of(Errno.EINVAL);
        }
        out[0] = mtu;
        return 1;
    }
}

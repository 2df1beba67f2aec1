package org.modnet.tcp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.modnet.api.handover.SocketState;
import org.modnet.api.handover.TcpCongestion;
import org.modnet.api.handover.TcpConnectionState;
import org.modnet.api.handover.TcpEstimator;
import org.modnet.api.handover.TcpListenerState;
import org.modnet.api.handover.TcpNamespaceState;
import org.modnet.api.handover.TcpNegotiated;
import org.modnet.api.handover.TcpPathState;
import org.modnet.api.handover.TcpSegment;
import org.modnet.api.handover.TcpSenderState;
import org.modnet.api.handover.TcpSequence;
import org.modnet.api.handover.TcpSockOptions;
import org.modnet.api.handover.TcpTimersState;
import org.modnet.api.handover.TcpTimewaitState;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.SocketCalls;

/**
 * TCP's state hand-over on an update of its bundle (issue 15): the old version freezes every socket of
 * a namespace — takes its lock, processes what waits in its backlog, stops its timers, copies its
 * state into API records ({@link TcpConnectionState}: sequence space, options, estimator, the bytes in
 * flight and unsent, the unread bytes, the out-of-order segments, push marks, timers as time left,
 * counters) — and the new version remakes each socket from them, hashes it where it was (established
 * hash, listening hash, bind table, death row) and arms its timers with what was left. No segment is
 * sent for the swap: the peer sees a connection that paused for as long as the swap took.
 */
final class TcpHandOver {
    /** The layout of the records this code writes and reads ({@code Modnet-State-Version}). */
    static final int STATE_VERSION = 1;

    private TcpHandOver() {
    }

    // --- the old version's side ---

    /**
     * Freezes every socket of {@code net} and returns its state: the listeners with their queues, the
     * connections (orphans among them), the TIME-WAIT socks. {@code sockets} gets the common part of
     * each socket a descriptor may name, for the socket layer's parked descriptors.
     */
    static void freeze(TcpNet net, List<TcpConnectionState> connections, List<TcpListenerState> listeners,
            List<TcpTimewaitState> timewait, List<SocketState> sockets) {
        freeze(net, connections, listeners, timewait, sockets, null, null);
    }

    /**
     * As above; with {@code later} given, the namespace's clocks stop ({@link #stopClocks}) and a
     * connection in the established hash is not frozen yet: it goes to {@code later}, its socket's id and 4-tuple to {@code
     * laterStates} (and {@code sockets} if a descriptor names it), and is frozen when the next version asks. With {@code
     * laterStates} null it is only marked ({@link TcpSock#inPlace}) and listed in {@code later}: the next version looks it up
     * in this version's tables ({@link org.modnet.api.handover.TcpConnectionsInPlace}).
     */
    static void freeze(TcpNet net, List<TcpConnectionState> connections, List<TcpListenerState> listeners,
            List<TcpTimewaitState> timewait, List<SocketState> sockets, List<TcpSock> later, List<SocketState> laterStates) {
        if (later != null) {
            stopClocks(net);
        }
        // in the hashes' order first: listeners go over in their SO_REUSEPORT group's order, which the next
        // version's listen hash rebuilds as deposited (a flow's hash then picks the same member after the swap);
        // then what no hash holds (unbound, bound, reset; orphans). Each socket is met once: a stamp on it, not a
        // set of them (the walk runs with the segments held, over every connection, its code often still interpreted)
        Map<TcpSock, List<TcpSock>> children = new IdentityHashMap<>();
        List<TcpSock> listening = new ArrayList<>();
        List<TcpSock> plain = new ArrayList<>();
        walk(net, children, listening, plain, later, laterStates, sockets, true);
        for (TcpSock sk : plain) {
            TcpConnectionState st = freeze(sk);
            connections.add(st);
            if (!sk.isClosed()) {
                sockets.add(st.socket());
            }
        }
        for (TcpSock l : listening) {
            // the children first, each under its own lock only: a child's softirq takes the child's lock,
            // then the listener's, so this never holds the listener's while it takes a child's
            Map<TcpSock, TcpConnectionState> frozen = new IdentityHashMap<>();
            for (TcpSock child : children.getOrDefault(l, List.of())) {
                frozen.put(child, freeze(child));
            }
            l.lockSock();
            try {
                List<TcpConnectionState> accept = new ArrayList<>();
                for (TcpSock child : l.acceptQueue) {
                    TcpConnectionState st = frozen.remove(child);
                    accept.add(st != null ? st : freeze(child));
                }
                List<TcpConnectionState> syn = new ArrayList<>();
                int dropped = 0;
                for (TcpConnectionState st : frozen.values()) {
                    if (st.socket().state() == TcpSock.TCP_SYN_RECV) {
                        syn.add(st);
                    } else {
                        dropped++; // a child that died as the listener froze: nothing to carry
                    }
                }
                TcpListenerState ls = new TcpListenerState(socketState(l), l.maxAckBacklog, accept, syn, dropped);
                stop(l);
                listeners.add(ls);
                sockets.add(ls.socket());
            } finally {
                l.sockLock().unlock();
            }
        }
        for (TcpTimewaitSock tw : net.deathRow.all()) {
            timewait.add(tw.handOver());
        }
    }

    /**
     * {@link #freeze}'s walk over {@code net}'s tables: each socket met once ({@link #meet}). {@code mark} false (the freeze's
     * warm-up, {@link #warmWalk}): a connection that would be left in place is listed and not marked, the same code run.
     */
    private static void walk(TcpNet net, Map<TcpSock, List<TcpSock>> children, List<TcpSock> listening, List<TcpSock> plain,
            List<TcpSock> later, List<SocketState> laterStates, List<SocketState> sockets, boolean mark) {
        int stamp = ++net.walkStamp;
        for (int i = 0; i < TcpNet.LHASH_SLOTS; i++) {
            TcpSock[] slot = net.listenSlot(i);
            for (int j = 0; j < slot.length; j++) { // most slots are empty
                meet(net, slot[j], stamp, children, listening, plain, later, laterStates, sockets, mark);
            }
        }
        for (int i = 0; i < TcpNet.EHASH_SLOTS; i++) {
            TcpSock[] slot = net.establishedSlot(i);
            for (int j = 0; j < slot.length; j++) {
                meet(net, slot[j], stamp, children, listening, plain, later, laterStates, sockets, mark);
            }
        }
        for (TcpSock sk : net.created) {
            meet(net, sk, stamp, children, listening, plain, later, laterStates, sockets, mark);
        }
        for (TcpSock sk : net.orphans) {
            meet(net, sk, stamp, children, listening, plain, later, laterStates, sockets, mark);
        }
    }

    /**
     * The walk of a live hand-over to the table ({@link org.modnet.api.handover.TcpConnectionsInPlace}) over {@code net} as it
     * is, nothing frozen or marked, for the JIT: run by the running version's freeze warm-up, so that the walk an update runs
     * with the segments held (over every connection and 4,352 hash slots a namespace) is compiled code. Only while no
     * hand-over walks {@code net} (the stamps are the namespace's). Returns the connections it would have left in place.
     */
    static int warmWalk(TcpNet net) {
        List<TcpSock> later = new ArrayList<>();
        walk(net, new IdentityHashMap<>(), new ArrayList<>(), new ArrayList<>(), later, null, null, false);
        return later.size();
    }

    /**
     * One socket met by {@link #freeze}'s walk, the first time in walk {@code stamp}: a listener, a listener's child, or a
     * connection; a connection that may wait for the next version to ask ({@code later} given, {@link #deferrable}) is
     * left in place: with {@code laterStates} ({@link org.modnet.api.handover.TcpDeferredConnections}) its socket's id and
     * 4-tuple go there and to {@code sockets}; without ({@link org.modnet.api.handover.TcpConnectionsInPlace}) it is only
     * marked and listed: the next version finds it by its 4-tuple in this version's tables.
     */
    private static void meet(TcpNet net, TcpSock sk, int stamp, Map<TcpSock, List<TcpSock>> children, List<TcpSock> listening,
            List<TcpSock> plain, List<TcpSock> later, List<SocketState> laterStates, List<SocketState> sockets, boolean mark) {
        if (sk.walked == stamp) {
            return;
        }
        sk.walked = stamp;
        if (sk.state() == TcpSock.TCP_LISTEN) {
            listening.add(sk);
        } else if (sk.parent != null) {
            List<TcpSock> of = children.get(sk.parent);
            if (of == null) {
                of = new ArrayList<>();
                children.put(sk.parent, of);
            }
            of.add(sk);
        } else if (!sk.isClosed() || net.orphans.contains(sk)) {
            if (later == null || !deferrable(sk)) {
                plain.add(sk);
            } else if (laterStates == null) {
                sk.inPlace = mark; // a write either way: the warm-up's compiled code has no branch the swap's walk would leave it by
                later.add(sk);
            } else {
                SocketState s = inPlace(sk);
                later.add(sk);
                laterStates.add(s);
                if (!sk.isClosed()) {
                    sockets.add(s);
                }
            }
        }
    }

    /** The namespace's secrets and MIB. */
    static TcpNamespaceState namespace(TcpNet net) {
        long[] isn = net.isn.keys();
        long[] cookie = net.cookies.keys();
        return new TcpNamespaceState(net.ns, isn[0], isn[1], isn[2], isn[3], cookie[0], cookie[1], net.mib.snapshot());
    }

    /** One socket: its lock is taken, what waits in its backlog processed, then it stops and its state is copied. */
    static TcpConnectionState freeze(TcpSock sk) {
        sk.lockSock();
        try {
            sk.drainForHandOver();
            TcpConnectionState st = state(sk);
            stop(sk);
            return st;
        } finally {
            sk.sockLock().unlock(); // not releaseSock: nothing is processed on the shell any more
        }
    }

    private static void stop(TcpSock sk) {
        sk.frozen = true;
        sk.rtxTimer.del();
        sk.delackTimer.del();
        sk.twTimer.del();
        sk.keepaliveTimer.del();
        sk.pacingTimer.del();
        sk.reclaimTimer.del();
        // sleepers see the freeze and return EAGAIN: the socket layer retries them on the new socket; a
        // parked socket's poll and epoll waiters were woken by the park and have nothing to see until then
        if (sk.isParked()) {
            sk.wakeSleepers();
        } else {
            sk.wake();
        }
    }

    private static long left(TcpTimer t) {
        return t.pending() ? Math.max(0, t.remainingMs()) : TcpTimersState.NONE;
    }

    /** What was left of a timer when the clocks stopped: pending then (still, or it fired since and did nothing), or none. */
    private static long leftAt(TcpTimer t, long stopped, int fired) {
        return t.pending() || fired != 0 ? Math.max(0, t.remainingAtMs(stopped)) : TcpTimersState.NONE;
    }

    /**
     * The first step of a deposit in place ({@link org.modnet.api.handover.TcpDeferredConnections}): every
     * connection's clocks in {@code net} stop at once — a timer that comes due does nothing, and the freeze
     * carries what was left of each at this instant — so nothing fires while the segments that would
     * answer it wait in IPv4's hold queue, and the freeze itself can wait for the next version to ask.
     */
    static void stopClocks(TcpNet net) {
        net.clocksStoppedNanos = Math.max(1, net.core.nanoTime());
    }

    /** A connection deposited in place: its socket's id and 4-tuple, no more, for the holder and the next version. */
    static SocketState inPlace(TcpSock sk) {
        return new SocketState(sk.inode(), sk.namespace(), SocketCalls.AF_INET, sk.type(), sk.protocol(), sk.state(),
                sk.laddr(), sk.lport(), sk.boundAddress(), sk.raddr(), sk.rport(), sk.shutdownBits(), 0, sk.options(),
                List.of(), sk.drops(), HASHED);
    }

    private static final Map<String, Long> HASHED = Map.of("hashed", 1L);

    /**
     * Whether the freeze of {@code sk} may wait for the next version to ask (see {@link #stopClocks}):
     * a connection in the established hash, found by its 4-tuple, not a listener's child.
     */
    static boolean deferrable(TcpSock sk) {
        return sk.hashed && sk.parent == null && sk.state() != TcpSock.TCP_LISTEN && sk.raddr() != 0 && sk.rport() != 0;
    }

    static TcpConnectionState state(TcpSock sk) {
        TcpSequence seq = new TcpSequence(sk.iss, sk.sndUna, sk.sndNxt, sk.sndMax, sk.writeSeq, sk.sndWnd, sk.sndWl1,
                sk.maxWindow, sk.irs, sk.rcvNxt, sk.copiedSeq, sk.rcvWndRight, sk.lastAckSent, sk.rx.sndWscale,
                sk.rcvWscale, sk.sndSml, sk.push.pushedSeq, sk.finQueued, sk.finSent, sk.finReceived);
        TcpNegotiated opt = new TcpNegotiated(sk.mss, sk.advmss, sk.rx.mssClamp, sk.rx.userMss, sk.rx.wscaleOk,
                sk.rx.tstampOk, sk.rx.sackOk, sk.tsRecent, sk.tsRecentStampMs, sk.tsOff);
        TcpEstimator rtt = new TcpEstimator(sk.srttUs, sk.rttvarUs, sk.rtoMs, sk.minRttUs, sk.retransmits, sk.backoff,
                sk.rttTiming, sk.rttSeq, sk.rttStampMs, sk.retransHigh, sk.probesOut, sk.probesTstampMs, sk.headSentMs,
                sk.mdevUs, sk.mdevMaxUs, sk.rttvarSeq, sk.atoMs, sk.ackPushed, sk.lastSegSize, sk.pingpong);
        // the algorithm the connection chose: the one that left, if it runs on the default until that one comes back
        TcpCongestion cong = new TcpCongestion(sk.caLeft != null ? sk.caLeft : sk.congestionControl(), sk.cw.cwnd, sk.cw.ssthresh,
                sk.cw.cwndCnt, sk.cw.cwndClamp);
        // the rings themselves, not copies: the frozen shell never touches them again
        byte[] send = sk.sbuf == null ? TcpRings.NONE : sk.sbuf;
        int sendStart = send.length == 0 ? 0 : (sk.sndUna - sk.sbase) & (send.length - 1);
        byte[] recv = sk.rbuf == null ? TcpRings.NONE : sk.rbuf;
        int recvStart = recv.length == 0 ? 0 : (sk.copiedSeq - sk.rbase) & (recv.length - 1);
        // each out-of-order range with its bytes, read from the ring where they wait beyond rcv_nxt
        List<TcpSegment> ofo = new ArrayList<>(sk.ofoCount);
        for (int i = 0; i < sk.ofoCount; i++) {
            int len = sk.ofoEnd[i] - sk.ofoSeq[i];
            byte[] payload = new byte[len];
            if (len > 0) {
                int at = (sk.ofoSeq[i] - sk.rbase) & (recv.length - 1);
                int first = Math.min(len, recv.length - at);
                System.arraycopy(recv, at, payload, 0, first);
                System.arraycopy(recv, 0, payload, first, len - first);
            }
            ofo.add(new TcpSegment(sk.ofoSeq[i], payload, sk.ofoFin[i]));
        }
        long stopped = sk.net.clocksStoppedNanos; // the clocks stopped before the freeze: what was left then
        int fired = sk.firedWhileStopped;
        TcpTimersState timers = stopped == 0
                ? new TcpTimersState(left(sk.rtxTimer), left(sk.delackTimer), left(sk.keepaliveTimer), left(sk.twTimer))
                : new TcpTimersState(leftAt(sk.rtxTimer, stopped, fired & TcpSock.FIRED_RTX),
                        leftAt(sk.delackTimer, stopped, fired & TcpSock.FIRED_DELACK),
                        leftAt(sk.keepaliveTimer, stopped, fired & TcpSock.FIRED_KEEPALIVE),
                        leftAt(sk.twTimer, stopped, fired & TcpSock.FIRED_TW));
        TcpSockOptions tcpOpts = new TcpSockOptions((sk.nonagle & TcpSock.NAGLE_OFF) != 0,
                (sk.nonagle & TcpSock.NAGLE_CORK) != 0, sk.keepaliveTime, sk.keepaliveIntvl, sk.keepaliveProbes,
                sk.userTimeoutMs, sk.rx.userMss);
        Map<String, Long> counters = new HashMap<>();
        counters.put("segs_out", (long) sk.segsOut);
        counters.put("segs_in", (long) sk.segsIn);
        counters.put("data_segs_out", (long) sk.dataSegsOut);
        counters.put("data_segs_in", (long) sk.dataSegsIn);
        counters.put("bytes_sent", sk.bytesSent);
        counters.put("bytes_retrans", sk.bytesRetrans);
        counters.put("bytes_acked", sk.bytesAcked);
        counters.put("bytes_received", sk.bytesReceived);
        counters.put("total_retrans", (long) sk.totalRetrans);
        counters.put("total_rto", (long) sk.totalRto);
        counters.put("delivered", (long) sk.delivered);
        counters.put("rcv_ooopack", (long) sk.rcvOoopack);
        counters.put("last_data_sent", sk.lastDataSentMs);
        counters.put("last_data_recv", sk.lastDataRecvMs);
        counters.put("last_ack_recv", sk.lastAckRecvMs);
        return new TcpConnectionState(socketState(sk), seq, opt, rtt, cong, send, sendStart, recv, recvStart, ofo, sk.push.marks(), timers,
                tcpOpts, counters, sk.rec.handOver(), path(sk), sender(sk));
    }

    /** ECN, the path MTU and the soft error (1.5). */
    static TcpPathState path(TcpSock sk) {
        Errno soft = sk.errSoft;
        return new TcpPathState(sk.ecnFlags, sk.deliveredCe, sk.pmtuCookie, sk.mtuInfo, sk.mtuReducedDeferred,
                soft == null ? 0 : soft.number());
    }

    /** F-RTO, pacing, the chronograph and the rate sampler (1.5). */
    static TcpSenderState sender(TcpSock sk) {
        return new TcpSenderState(sk.rec.frto, sk.pacingRate, sk.pacingNeeded, sk.wstampNs, sk.chronoType, sk.chronoStartUs,
                sk.chronoStat.clone(), sk.rec.rateHandOver());
    }

    /**
     * The estimator's deviation and the delayed-ACK state (1.9). A deposit from before 1.9 has neither:
     * the deviation starts as {@code tcp_rtt_estimator}'s first measurement starts it, with the
     * deposit's rttvar standing for that measurement's ({@code mdev_us} and {@code mdev_max_us} at
     * rttvar, the RTT ending once {@code snd_una} passes what is sent now), so rttvar decays from the
     * next RTT on instead of holding until {@code snd_una} passes a {@code rtt_seq} of 0; {@code ato},
     * the PUSHED bits and {@code last_seg_size} start at 0, as a connection's before its first data
     * ({@code tcp_event_data_recv} sets ato to {@code TCP_ATO_MIN} on the next segment).
     */
    static void adoptVariance(TcpSock sk, TcpEstimator r) {
        if (r.carriesVariance()) {
            sk.mdevUs = r.mdevUs();
            sk.mdevMaxUs = r.mdevMaxUs();
            sk.rttvarSeq = r.rttvarSeq();
            sk.atoMs = r.atoMs();
            sk.ackPushed = r.ackPushed() & (TcpSock.ACK_PUSHED | TcpSock.ACK_PUSHED2);
            sk.lastSegSize = r.lastSegSize();
            sk.pingpong = Math.min(Math.max(r.pingpong(), 0), 255); // a u8 in Linux
        } else {
            sk.mdevUs = r.srttUs() == 0 ? 0 : r.rttvarUs();
            sk.mdevMaxUs = sk.mdevUs;
            sk.rttvarSeq = sk.sndMax;
            sk.atoMs = 0;
            sk.ackPushed = 0;
            sk.lastSegSize = 0;
            sk.pingpong = 0; // not interactive until its next quick answer
        }
    }

    /** The path part back; null (a version before 1.5): what a new connection starts with. */
    private static void adoptPath(TcpSock sk, TcpPathState p) {
        if (p == null) {
            return;
        }
        sk.ecnFlags = p.ecnFlags();
        sk.deliveredCe = p.deliveredCe();
        sk.pmtuCookie = p.pmtuCookie();
        sk.mtuInfo = p.mtuInfo();
        sk.mtuReducedDeferred = p.mtuReducedDeferred();
        sk.errSoft = p.softErrno() == 0 ? null : Errno.of(p.softErrno());
    }

    /**
     * The sender part back, after the algorithm was initialised again (its pacing rate is the
     * connection's, as its window is); null (a version before 1.5): as a new connection starts.
     */
    private static void adoptSender(TcpSock sk, TcpSenderState s) {
        if (s == null) {
            return;
        }
        sk.rec.frto = s.frto();
        sk.pacingRate = s.pacingRate();
        sk.pacingNeeded = s.pacingNeeded();
        sk.wstampNs = s.wstampNs();
        sk.chronoType = s.chronoType();
        sk.chronoStartUs = s.chronoStartUs();
        System.arraycopy(s.chronoStatUs(), 0, sk.chronoStat, 0, Math.min(s.chronoStatUs().length, sk.chronoStat.length));
        sk.rec.adoptRate(s.rate());
    }

    /** A listener's state with nothing in its queues, as the freeze deposits one (the scratch listener of {@link TcpHandOverWarmUp#adoption}). */
    static TcpListenerState listenerState(TcpSock l) {
        return new TcpListenerState(socketState(l), l.maxAckBacklog, List.of(), List.of(), 0);
    }

    /**
     * The socket's common part; {@code extra} holds the scalars only this implementation reads. Its
     * {@code sk_err} and {@code IP_RECVERR} error queue go with it and leave the frozen shell, which
     * answers no call again (an ICMP error reported to it, a reset, a timeout: the next call on the new
     * socket returns it; {@code MSG_ERRQUEUE} reads the entries there).
     */
    private static SocketState socketState(TcpSock sk) {
        Map<String, Long> x = new HashMap<>();
        x.put("nonagle", (long) sk.nonagle);
        x.put("caInit", sk.caInit ? 1L : 0L);
        x.put("caState", (long) sk.caState);
        x.put("quickAcks", (long) sk.quickAcks);
        x.put("ackPending", sk.ackPending ? 1L : 0L);
        x.put("rcvdSinceAck", (long) sk.rcvdSinceAck);
        x.put("rcvqSpace", (long) sk.rcvqSpace);
        x.put("rcvqSeq", (long) sk.rcvqSeq);
        x.put("rcvqTimeMs", sk.rcvqTimeMs);
        x.put("noSpace", sk.noSpace ? 1L : 0L);
        x.put("lastOowAckMs", sk.lastOowAckMs);
        x.put("pushStarted", sk.pushStarted ? 1L : 0L);
        x.put("pushDropped", sk.push.dropped);
        x.put("lsndtimeMs", sk.lsndtimeMs);
        x.put("isCwndLimited", sk.isCwndLimited ? 1L : 0L); // tcp_cwnd_validate's state: whether an ACK may grow the window
        x.put("maxPacketsOut", (long) sk.maxPacketsOut);
        x.put("cwndUsageSeq", (long) sk.cwndUsageSeq);
        x.put("cwndUsed", (long) sk.cwndUsed);
        x.put("cwndStampMs", sk.cwndStampMs);
        x.put("rcvTstampMs", sk.rcvTstampMs);
        x.put("lrcvTimeMs", sk.lrcvTimeMs);
        x.put("synqOverflowMs", sk.synqOverflowMs);
        x.put("hashed", sk.hashed ? 1L : 0L);
        x.put("portHeld", sk.portHeld ? 1L : 0L);
        x.put("orphan", sk.net.orphans.contains(sk) ? 1L : 0L);
        x.put("rings", sk.sbuf != null ? 1L : 0L);
        x.put("rbufLimit", (long) sk.rbufLimit);
        x.put("rcvMss", (long) sk.rcvMss);
        x.put("rcvWindow", (long) sk.rcvWnd | (long) sk.scalingRatio << 32); // rcv_wnd, scaling_ratio
        x.put("rcvClamp", (long) sk.windowClamp | (long) sk.rcvSsthresh << 32); // window_clamp, rcv_ssthresh
        x.put("sackNum", (long) sk.sacks.num);
        for (int i = 0; i < sk.sacks.num; i++) {
            x.put("sackStart" + i, (long) sk.sacks.start[i]);
            x.put("sackEnd" + i, (long) sk.sacks.end[i]);
        }
        x.put("dsack", sk.sacks.dsack ? 1L : 0L);
        x.put("dsackStart", (long) sk.sacks.dsackStart);
        x.put("dsackEnd", (long) sk.sacks.dsackEnd);
        if (sk.state() == TcpSock.TCP_LISTEN) {
            listenerOptions(sk, x);
        }
        // IP_RECVERR off leaves the queue empty (turning it off purges it): nothing to take
        return new SocketState(sk.inode(), sk.namespace(), SocketCalls.AF_INET, sk.type(), sk.protocol(), sk.state(),
                sk.laddr(), sk.lport(), sk.boundAddress(), sk.raddr(), sk.rport(), sk.shutdownBits(), sk.takeError(), sk.options(),
                List.of(), sk.drops(), x, sk.recvErr() ? sk.takeErrorQueue() : List.of());
    }

    /**
     * A listener's own TCP options, which a connection does not carry here but in its {@link TcpSockOptions}: the children it
     * makes inherit them ({@code sk_clone_lock} copies the listener): the keepalive times, TCP_USER_TIMEOUT, TCP_MAXSEG and
     * the algorithm TCP_CONGESTION chose (its name as {@code TcpCongestion.nameWords}; the one that left, if it left).
     */
    private static void listenerOptions(TcpSock l, Map<String, Long> x) {
        x.put("keepIdle", (long) l.keepaliveTime);
        x.put("keepIntvl", (long) l.keepaliveIntvl);
        x.put("keepCnt", (long) l.keepaliveProbes);
        x.put("userTimeoutMs", (long) l.userTimeoutMs);
        x.put("userMss", (long) l.rx.userMss);
        int[] ca = org.modnet.api.tcp.TcpCongestion.nameWords(l.caLeft != null ? l.caLeft : l.ca.name);
        for (int i = 0; i < ca.length; i++) {
            x.put("ca" + i, ca[i] & 0xffffffffL);
        }
    }

    /** The options {@link #listenerOptions} deposited back; a deposit without them (before they were kept): as a new socket's. */
    private static void adoptListenerOptions(TcpSock l, Map<String, Long> x) {
        if (!x.containsKey("keepIdle")) {
            return;
        }
        l.nonagle = x.getOrDefault("nonagle", 0L).intValue();
        l.keepaliveTime = x.get("keepIdle").intValue();
        l.keepaliveIntvl = x.getOrDefault("keepIntvl", 0L).intValue();
        l.keepaliveProbes = x.getOrDefault("keepCnt", 0L).intValue();
        l.userTimeoutMs = x.getOrDefault("userTimeoutMs", 0L).intValue();
        l.rx.userMss = x.getOrDefault("userMss", 0L).intValue();
        int[] ca = new int[org.modnet.api.tcp.TcpCongestion.CA_NAME_MAX / 4];
        for (int i = 0; i < ca.length; i++) {
            ca[i] = x.getOrDefault("ca" + i, 0L).intValue();
        }
        String name = org.modnet.api.tcp.TcpCongestion.name(ca, ca.length);
        if (!name.isEmpty()) {
            congestion(l, name, x); // a listener's algorithm is never initialised: its children's are
        }
    }

    // --- the new version's side ---

    /** The namespace's counters continue and its cookies stay valid (the ISN key is the protocol's, see {@link TcpProtocol}). */
    static void adopt(TcpNet net, TcpNamespaceState st) {
        net.mib.restore(st.mib());
        net.cookies = new TcpSyncookies(new TcpProtocol.CoreClock(net.core), st.cookieKey0(), st.cookieKey1()); // a class: no call site linked in the swap
    }

    /**
     * Remakes a listener with its queues; its children are hashed and queued as they were, their
     * timers started by what {@code clocks} collects (see {@link #adopt(TcpNet, TcpConnectionState,
     * TcpSock, List)}).
     */
    static TcpSock adopt(TcpNet net, TcpListenerState st, List<Runnable> clocks) {
        TcpSock l = new TcpSock(net);
        l.adoptSocket(st.socket());
        l.maxAckBacklog = st.backlog();
        extra(l, st.socket().extra());
        adoptListenerOptions(l, st.socket().extra());
        if (l.portHeld) {
            net.inheritPort(l, l.lport());
        }
        net.listenHash(l);
        for (TcpConnectionState c : st.acceptQueue()) {
            TcpSock child = adopt(net, c, l, clocks);
            l.acceptQueue.add(child);
        }
        for (TcpConnectionState c : st.synQueue()) {
            TcpSock child = adopt(net, c, l, clocks);
            child.inSynQueue = true;
            l.synQlen.incrementAndGet();
        }
        net.created.add(l);
        return l;
    }

    /**
     * Remakes a connection (a child of {@code parent}, or null): every field, the rings holding the
     * unacknowledged, unsent and unread bytes at their sequence numbers, the out-of-order queue as
     * skbs, then hashed. Its timers get what was left of them when it froze: armed now when {@code
     * clocks} is null, else the start is added there for the protocol to run once IPv4 has delivered
     * the segments it held ({@code InetProtocol.attached}) — armed at adoption, a timer would count
     * the rest of the adoption and the wait for registration against an ACK still in the hold queue,
     * and a FIN or segment sent just before the swap would be resent spuriously.
     */
    static TcpSock adopt(TcpNet net, TcpConnectionState st, TcpSock parent, List<Runnable> clocks) {
        TcpSock sk = new TcpSock(net);
        sk.adoptSocket(st.socket());
        sk.parent = parent;
        TcpSequence q = st.sequence();
        sk.iss = q.iss();
        sk.sndUna = q.sndUna();
        sk.sndNxt = q.sndNxt();
        sk.sndMax = q.sndMax();
        sk.writeSeq = q.writeSeq();
        sk.sndWnd = q.sndWnd();
        sk.sndWl1 = q.sndWl1();
        sk.maxWindow = q.maxWindow();
        sk.irs = q.irs();
        sk.rcvNxt = q.rcvNxt();
        sk.copiedSeq = q.copiedSeq();
        sk.rcvWndRight = q.rcvWndRight();
        sk.lastAckSent = q.lastAckSent();
        sk.rx.sndWscale = q.sndWscale();
        sk.rcvWscale = q.rcvWscale();
        sk.sndSml = q.sndSml();
        sk.finQueued = q.finQueued();
        sk.finSent = q.finSent();
        sk.finReceived = q.finReceived();
        TcpNegotiated o = st.options();
        sk.mss = o.mss();
        sk.advmss = o.advmss();
        sk.rx.mssClamp = o.mssClamp();
        sk.rx.userMss = o.userMss();
        sk.rx.wscaleOk = o.wscaleOk();
        sk.rx.tstampOk = o.tstampOk();
        sk.rx.sackOk = o.sackOk();
        sk.tsRecent = o.tsRecent();
        sk.tsRecentStampMs = o.tsRecentStampMs();
        sk.tsOff = o.tsOffset();
        TcpEstimator r = st.rtt();
        sk.srttUs = r.srttUs();
        sk.rttvarUs = r.rttvarUs();
        sk.rtoMs = r.rtoMs();
        sk.minRttUs = r.minRttUs();
        sk.retransmits = r.retransmits();
        sk.backoff = r.backoff();
        sk.rttTiming = r.rttTiming();
        sk.rttSeq = r.rttSeq();
        sk.rttStampMs = r.rttStampMs();
        sk.retransHigh = r.retransHigh();
        sk.probesOut = r.probesOut();
        sk.probesTstampMs = r.probesTstampMs();
        sk.headSentMs = r.headSentMs();
        adoptVariance(sk, r);
        TcpCongestion c = st.congestion();
        sk.cw.cwnd = c.cwnd();
        sk.cw.ssthresh = c.ssthresh();
        sk.cw.cwndCnt = c.cwndCnt();
        sk.cw.cwndClamp = c.cwndClamp();
        TcpSockOptions t = st.tcpOptions();
        sk.keepaliveTime = t.keepIdle();
        sk.keepaliveIntvl = t.keepIntvl();
        sk.keepaliveProbes = t.keepCnt();
        sk.userTimeoutMs = t.userTimeoutMs();
        sk.rx.userMss = t.maxseg();
        Map<String, Long> n = st.counters();
        sk.segsOut = n.getOrDefault("segs_out", 0L).intValue();
        sk.segsIn = n.getOrDefault("segs_in", 0L).intValue();
        sk.dataSegsOut = n.getOrDefault("data_segs_out", 0L).intValue();
        sk.dataSegsIn = n.getOrDefault("data_segs_in", 0L).intValue();
        sk.bytesSent = n.getOrDefault("bytes_sent", 0L);
        sk.bytesRetrans = n.getOrDefault("bytes_retrans", 0L);
        sk.bytesAcked = n.getOrDefault("bytes_acked", 0L);
        sk.bytesReceived = n.getOrDefault("bytes_received", 0L);
        sk.totalRetrans = n.getOrDefault("total_retrans", 0L).intValue();
        sk.totalRto = n.getOrDefault("total_rto", 0L).intValue();
        sk.delivered = n.getOrDefault("delivered", 0L).intValue();
        sk.rcvOoopack = n.getOrDefault("rcv_ooopack", 0L).intValue();
        sk.lastDataSentMs = n.getOrDefault("last_data_sent", 0L);
        sk.lastDataRecvMs = n.getOrDefault("last_data_recv", 0L);
        sk.lastAckRecvMs = n.getOrDefault("last_ack_recv", 0L);
        extra(sk, st.socket().extra());
        congestion(sk, c.algorithm(), st.socket().extra());
        sk.nonagle = (int) (long) st.socket().extra().getOrDefault("nonagle",
                (long) ((t.nodelay() ? TcpSock.NAGLE_OFF : 0) | (t.cork() ? TcpSock.NAGLE_CORK : 0)));
        sk.push.restore(st.pushMarks(), q.pushedSeq());
        if (st.socket().extra().getOrDefault("rings", 0L) != 0) {
            restoreRings(sk, st);
        }
        int cpu = net.core.currentCpu();
        adoptOutOfOrder(sk, st.outOfOrder(), cpu);
        if (sk.raddr() != 0) { // sk_setup_caps: the route's device says whether GSO skbs may be built
            sk.routeDev = net.ipv4.route(net.ns, sk.raddr()).device();
        }
        if (sk.hashed && !net.ehashInsert(sk)) {
            sk.hashed = false; // cannot happen: the new tables start empty
        }
        if (sk.portHeld) {
            net.inheritPort(sk, sk.lport());
        }
        if (st.socket().extra().getOrDefault("orphan", 0L) != 0) {
            sk.frozen = true; // its user closed it: a dead socket, closed without tcp_close again
            sk.close();
            sk.frozen = false;
            net.orphans.add(sk);
        } else if (parent == null) {
            net.created.add(sk);
        }
        sk.memSync(cpu);
        sk.rec.adopt(st.recovery()); // the scoreboard, or one made afresh from what is in flight
        adoptPath(sk, st.path());
        adoptSender(sk, st.sender()); // after the scoreboard: the rate sampler's entries are per segment
        TcpTimersState tm = st.timers();
        if (clocks == null) {
            startClocks(sk, tm);
            sk.ringEmptied();
        } else {
            // the idle-ring timer too: arming a timer wakes the timer thread, and 400 wake-ups inside the
            // swap cost it more than a reclaim that starts once the held segments are delivered
            clocks.add(new Clocks(net, sk, tm));
        }
        return sk;
    }

    /**
     * A remade connection's clocks, started later. A class, not a lambda: the first connection remade on its first segment
     * would link the lambda's call site, a class spun for it, on that segment's way (task adopt15h).
     */
    private static final class Clocks implements Runnable {
        private final TcpNet net;
        private final TcpSock sk;
        private final TcpTimersState tm;

        Clocks(TcpNet net, TcpSock sk, TcpTimersState tm) {
            this.net = net;
            this.sk = sk;
            this.tm = tm;
        }

        @Override
        public void run() {
            sk.lockSock();
            try {
                startClocks(sk, tm);
                sk.ringEmptied();
            } finally {
                sk.unlockSock(net.core.currentCpu());
            }
        }
    }

    /**
     * The timers as they were left; one the connection armed itself since (an ACK that came, a send)
     * is newer and stays. Then what its state needs and no deposit had.
     */
    private static void startClocks(TcpSock sk, TcpTimersState tm) {
        if (sk.state() == TcpSock.TCP_CLOSE) {
            return; // reset or ended since it was adopted
        }
        arm(sk.rtxTimer, tm.retransmitMs());
        arm(sk.delackTimer, tm.delackMs());
        arm(sk.keepaliveTimer, tm.keepaliveMs());
        arm(sk.twTimer, tm.finWait2Ms());
        rearmMissing(sk);
    }

    /**
     * A timer whose callback was running as the old version froze the socket (it found the lock taken
     * and armed itself again on the shell) is not in the deposit: what the connection's state needs is
     * armed again here, as {@code tcp_rearm_rto} and {@code tcp_check_probe_timer} would — the
     * retransmission timer while anything is in flight, a prompt probe for data waiting with nothing in
     * flight, the delayed ACK owed, keepalive.
     */
    private static void rearmMissing(TcpSock sk) {
        int st = sk.state();
        if (st == TcpSock.TCP_LISTEN || st == TcpSock.TCP_CLOSE || st == TcpSock.TCP_TIME_WAIT) {
            return;
        }
        if (!sk.rtxTimer.pending()) {
            if (st == TcpSock.TCP_SYN_SENT || st == TcpSock.TCP_SYN_RECV || sk.sndMax != sk.sndUna) {
                sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_RETRANS, sk.rtoMs); // the kind too: not a stale probe's
            } else if (sk.output.unsentWithNothingInFlight()) {
                sk.rec.pending = 0;
                sk.rtxTimer.mod(1); // tcp_write_wakeup sends what the window allows
            }
        }
        if (sk.ackPending && !sk.delackTimer.pending()) {
            sk.delackTimer.mod(TcpSock.DELACK_MS);
        }
        long wait = sk.wstampNs - sk.net.core.nanoTime();
        if (wait > 0 && sk.writeSeq != sk.sndNxt && !sk.pacingTimer.pending()) { // unsent bytes wait for their departure time
            sk.pacingTimer.mod(Math.max(1, (wait + 999_999) / 1_000_000)); // tcp_pace_kick at the departure time handed over
        }
        if (sk.keepalive() && !sk.keepaliveTimer.pending() && !sk.isClosed()) {
            sk.keepaliveTimer.mod(sk.timers.keepaliveTimeMs());
        }
    }

    /**
     * The algorithm by name: this version's of that name, else (its module not bound to this version
     * yet, or gone) the namespace's default until one of that name comes, which takes the connection
     * back ({@code congReturn}). An algorithm that was initialised is initialised again (its private
     * state starts afresh; the window and threshold are the connection's) in the state it was in.
     */
    private static void congestion(TcpSock sk, String name, Map<String, Long> x) {
        CongestionControl.Ca ca = sk.net.cong.find(name);
        if (ca == null) {
            sk.ca = sk.net.cong.dflt();
            sk.caLeft = name;
        } else {
            sk.ca = ca;
        }
        if (x.getOrDefault("caInit", 0L) != 0) {
            int ssthresh = sk.cw.ssthresh;
            int cwnd = sk.cw.cwnd;
            sk.congInit(Math.max(sk.net.core.currentCpu(), 0));
            sk.cw.cwnd = cwnd;
            sk.cw.ssthresh = ssthresh;
            sk.caState = x.getOrDefault("caState", 0L).intValue();
        }
    }

    private static void arm(TcpTimer t, long ms) {
        if (ms >= 0 && !t.pending()) {
            t.mod(ms);
        }
    }

    /**
     * The out-of-order ranges again: each one's bytes go into the receive ring at their place beyond
     * {@code rcv_nxt} and the range joins the queue, merged with the one before when they overlap or
     * touch (a version that queued segments hands over one per segment). What cannot be kept (no ring,
     * bytes not after {@code rcv_nxt}, the range table full) is TCPOFODrop: the peer sends it again.
     */
    private static void adoptOutOfOrder(TcpSock sk, List<TcpSegment> segments, int cpu) {
        for (TcpSegment s : segments) {
            int len = s.payload().length;
            int end = s.seq() + len;
            boolean joins = sk.ofoCount > 0 && !TcpSeq.after(s.seq(), sk.ofoEnd[sk.ofoCount - 1]);
            if (sk.rbuf == null || !TcpSeq.after(s.seq(), sk.rcvNxt) || !joins && sk.ofoCount == TcpSock.OFO_MAX
                    || joins && TcpSeq.before(s.seq(), sk.ofoSeq[sk.ofoCount - 1])) {
                sk.net.mib.inc(cpu, TcpMib.Ext.TCPOFODrop);
                continue;
            }
            sk.rcvRingReserve(end - sk.copiedSeq);
            if (len > 0) {
                int at = (s.seq() - sk.rbase) & (sk.rbuf.length - 1);
                int first = Math.min(len, sk.rbuf.length - at);
                System.arraycopy(s.payload(), 0, sk.rbuf, at, first);
                System.arraycopy(s.payload(), first, sk.rbuf, 0, len - first);
            }
            sk.ofoReserve();
            if (joins) {
                int k = sk.ofoCount - 1;
                sk.ofoBytes -= sk.ofoEnd[k] - sk.ofoSeq[k];
                if (!TcpSeq.before(end, sk.ofoEnd[k])) {
                    sk.ofoFin[k] = s.fin() || end == sk.ofoEnd[k] && sk.ofoFin[k];
                    sk.ofoEnd[k] = end;
                }
                sk.ofoBytes += sk.ofoEnd[k] - sk.ofoSeq[k];
            } else {
                int k = sk.ofoCount++;
                sk.ofoSeq[k] = s.seq();
                sk.ofoEnd[k] = end;
                sk.ofoFin[k] = s.fin();
                sk.ofoBytes += len;
            }
        }
    }

    private static void extra(TcpSock sk, Map<String, Long> x) {
        sk.quickAcks = x.getOrDefault("quickAcks", 0L).intValue();
        sk.ackPending = x.getOrDefault("ackPending", 0L) != 0;
        sk.rcvdSinceAck = x.getOrDefault("rcvdSinceAck", 0L).intValue();
        sk.rcvqSpace = x.getOrDefault("rcvqSpace", 0L).intValue();
        sk.rcvqSeq = x.getOrDefault("rcvqSeq", 0L).intValue();
        sk.rcvqTimeMs = x.getOrDefault("rcvqTimeMs", 0L);
        sk.noSpace = x.getOrDefault("noSpace", 0L) != 0;
        sk.lastOowAckMs = x.getOrDefault("lastOowAckMs", 0L);
        sk.pushStarted = x.getOrDefault("pushStarted", 0L) != 0;
        sk.push.dropped = x.getOrDefault("pushDropped", 0L);
        sk.lsndtimeMs = x.getOrDefault("lsndtimeMs", 0L);
        sk.isCwndLimited = x.getOrDefault("isCwndLimited", 0L) != 0;
        sk.maxPacketsOut = x.getOrDefault("maxPacketsOut", 0L).intValue();
        sk.cwndUsageSeq = x.getOrDefault("cwndUsageSeq", (long) sk.sndNxt).intValue();
        sk.cwndUsed = x.getOrDefault("cwndUsed", 0L).intValue();
        sk.cwndStampMs = x.getOrDefault("cwndStampMs", sk.lsndtimeMs);
        sk.rcvTstampMs = x.getOrDefault("rcvTstampMs", 0L);
        sk.lrcvTimeMs = x.getOrDefault("lrcvTimeMs", 0L);
        sk.synqOverflowMs = x.getOrDefault("synqOverflowMs", Long.MIN_VALUE);
        sk.hashed = x.getOrDefault("hashed", 0L) != 0;
        sk.portHeld = x.getOrDefault("portHeld", 0L) != 0;
        sk.rbufLimit = x.getOrDefault("rbufLimit", 0L).intValue();
        sk.rcvMss = x.getOrDefault("rcvMss", 0L).intValue();
        long w = x.getOrDefault("rcvWindow", (long) TcpSock.TCP_DEFAULT_SCALING_RATIO << 32); // from before they were kept: offer the buffer's window
        long c = x.getOrDefault("rcvClamp", 0xffffffffL << 32);
        sk.rcvWnd = (int) w;
        sk.scalingRatio = (int) (w >>> 32);
        // 0 is TCP_WINDOW_CLAMP never set (a listener, a socket not connected): kept, or the children a listener makes after
        // the swap would take its buffer's window as their clamp and scale their windows by it
        sk.windowClamp = x.containsKey("rcvClamp") ? (int) c : sk.fullSpace();
        sk.rcvSsthresh = (int) (c >>> 32) == -1 ? sk.windowClamp : (int) (c >>> 32);
        int num = x.getOrDefault("sackNum", 0L).intValue();
        sk.sacks.num = Math.min(num, sk.sacks.start.length);
        for (int i = 0; i < sk.sacks.num; i++) {
            sk.sacks.start[i] = x.getOrDefault("sackStart" + i, 0L).intValue();
            sk.sacks.end[i] = x.getOrDefault("sackEnd" + i, 0L).intValue();
        }
        sk.sacks.dsack = x.getOrDefault("dsack", 0L) != 0;
        sk.sacks.dsackStart = x.getOrDefault("dsackStart", 0L).intValue();
        sk.sacks.dsackEnd = x.getOrDefault("dsackEnd", 0L).intValue();
    }

    /**
     * The rings again: a ring whose length is a power of two is taken as it is (no copy), based so that
     * {@code snd_una} and {@code copied_seq} fall at their start index; any other array is copied into
     * a ring of its own.
     */
    private static void restoreRings(TcpSock sk, TcpConnectionState st) {
        // the SYN's sequence number holds no byte: a connection whose SYN is not yet acknowledged has
        // written nothing into its ring (which is not even made before the handshake)
        boolean synUnacked = sk.state() == TcpSock.TCP_SYN_SENT || sk.state() == TcpSock.TCP_SYN_RECV;
        int sendLen = Math.max(sk.writeSeq - sk.sndUna - (synUnacked ? 1 : 0), 0);
        int recvLen = Math.max(sk.rcvNxt - sk.copiedSeq - (sk.finReceived ? 1 : 0), 0);
        byte[] send = st.sendQueue();
        if (Integer.bitCount(send.length) == 1 && send.length >= sendLen) {
            sk.sbuf = send;
            sk.sbase = sk.sndUna - st.sendStart();
        } else {
            sk.sbuf = sendLen == 0 ? TcpRings.NONE : TcpRings.grow(TcpRings.NONE, 0, 0, sendLen, sk.sndRingLimit());
            System.arraycopy(st.sendBytes(sendLen), 0, sk.sbuf, 0, sendLen);
            sk.sbase = sk.sndUna;
        }
        byte[] recv = st.receiveQueue();
        if (Integer.bitCount(recv.length) == 1 && recv.length >= recvLen) {
            sk.rbuf = recv;
            sk.rbase = sk.copiedSeq - st.receiveStart();
        } else {
            sk.rbuf = recvLen == 0 ? TcpRings.NONE : TcpRings.grow(TcpRings.NONE, 0, 0, recvLen, sk.rbufLimit);
            System.arraycopy(st.receiveBytes(recvLen), 0, sk.rbuf, 0, recvLen);
            sk.rbase = sk.copiedSeq;
        }
    }
}

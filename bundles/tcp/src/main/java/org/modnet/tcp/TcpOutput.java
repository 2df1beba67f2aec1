package org.modnet.tcp;

import static org.modnet.tcp.TcpSock.*;

import org.modnet.api.skb.SkBuff;
import org.modnet.api.tcp.TcpCongestion;

/**
 * What one connection sends, as Linux's {@code net/ipv4/tcp_output.c}: {@code tcp_write_xmit} (the
 * congestion window's quota, Nagle, TCP_CORK and MSG_MORE, TSO sizing and deferral, the push marks), one
 * segment built and handed to IP ({@code tcp_transmit_skb}), the window offered ({@code
 * tcp_select_window}), ACKs, resets and SYNs, the SYN-ACK again ({@code tcp_rtx_synack}) and what goes
 * again after a timeout. The state it reads and moves is {@link TcpSock}'s.
 */
final class TcpOutput {
    private final TcpSock sk;

    TcpOutput(TcpSock sk) {
        this.sk = sk;
    }

    /** {@code inet_rtx_syn_ack}: the SYN-ACK again (RetransSegs, TCPSynRetrans). */
    void synackRetransmit(int cpu) {
        sk.net.mib.inc(cpu, TcpMib.Tcp.RetransSegs);
        sk.net.mib.inc(cpu, TcpMib.Ext.TCPSynRetrans);
        sk.totalRetrans++;
        sendSyn(cpu, true);
    }

    /**
     * The slack pacing allows behind the clock: modnet's timers tick in milliseconds where Linux's
     * hrtimer has nanoseconds, so a departure time up to this far in the past keeps its credit instead
     * of being reset to now, and a late timer does not lower the rate.
     */
    static final long PACING_SLACK_NS = 1_000_000;

    /** Whether sending is paced: the algorithm asked for it ({@code SK_PACING_NEEDED}) and a rate is set. */
    private boolean paced() {
        return sk.pacingNeeded && sk.pacingRate > 0;
    }

    /**
     * {@code tcp_pacing_check}: the next segment's departure time is still ahead, so the pacing timer
     * is armed for it (TCPPacingDeferred... Linux counts none) and nothing goes now. With fq below, the
     * same departure times travel in each skb's tstamp and fq holds them too, as Linux's EDT model.
     */
    boolean pacingCheck() {
        if (!paced()) {
            return false;
        }
        long now = sk.net.core.nanoTime();
        if (sk.wstampNs <= now) {
            return false;
        }
        if (!sk.pacingTimer.pending()) {
            sk.pacingTimer.mod(Math.max(1, (sk.wstampNs - now + 999_999) / 1_000_000));
        }
        return true;
    }

    /**
     * {@code tcp_update_skb_after_send}: the next departure is {@code len} bytes later at the pacing
     * rate, from now or from the previous departure time if that is within {@link #PACING_SLACK_NS}.
     * Linux paces only after the first 10 data segments (the initial window goes at once), as here.
     */
    void paceSent(int len) {
        if (!paced()) {
            return;
        }
        long now = sk.net.core.nanoTime();
        sk.wstampNs = Math.max(sk.wstampNs, now - PACING_SLACK_NS);
        if (sk.dataSegsOut >= 10) {
            long max = sk.maxPacingRate(); // SO_MAX_PACING_RATE takes effect at once, as Linux lowers sk_pacing_rate
            long rate = max > 0 ? Math.min(sk.pacingRate, max) : sk.pacingRate;
            sk.wstampNs += len * 1_000_000_000L / rate;
        }
    }

    /**
     * {@code tcp_write_xmit}: new data goes out in segments of at most the MSS, within the peer's window
     * and the congestion window; then the FIN when it is queued and every byte before it has gone.
     */
    void writeXmit(int cpu) {
        if (sk.sbuf == null || sk.state() == TCP_SYN_SENT || sk.state() == TCP_SYN_RECV || sk.state() == TCP_CLOSE || sk.state() == TCP_LISTEN) {
            return;
        }
        sk.push.acked(sk.sndUna);
        slowStartAfterIdleCheck();
        int maxSegs = TcpTso.canGso(sk.routeDev)
                ? TcpTso.maxSegs(sk.mss, sk.maxWindow, sk.pacingRate, sk.minTsoSegs()) : 1;
        boolean cwndLimited = false;
        boolean rwndLimited = false; // is_rwnd_limited: the window, not the data, stopped the loop
        int sentBefore = sk.sndNxt;
        while (TcpSeq.before(sk.sndNxt, sk.writeSeq)) {
            if (pacingCheck()) {
                break; // tcp_pacing_check: the next departure time is ahead; the pacing timer resumes
            }
            int inFlight = sk.rec.inFlight();
            if (inFlight >= sk.cw.cwnd) {
                cwndLimited = true;
                break;
            }
            int wndRight = sk.sndUna + sk.sndWnd;
            int len = Math.min(Math.min(sk.mss, sk.writeSeq - sk.sndNxt), wndRight - sk.sndNxt);
            boolean retransmitting = TcpSeq.before(sk.sndNxt, sk.retransHigh) && TcpSeq.before(sk.sndNxt, sk.sndMax);
            if (TcpSeq.before(sk.sndNxt, sk.sndMax)) { // the RTO's go-back resend: what is marked lost goes again, by skb
                int past = sk.rec.resendFrom(sk.sndNxt);
                if (past != sk.sndNxt) {
                    sk.sndNxt = TcpSeq.min(past, sk.sndMax);
                    continue;
                }
                int segs = Math.max(Math.min(maxSegs, sk.cw.cwnd - inFlight), 1);
                int end = sk.rec.resendEnd(sk.sndNxt, segs, TcpSeq.min(sk.sndMax, TcpSeq.min(sk.writeSeq, wndRight)));
                len = Math.min(end - sk.sndNxt, sk.push.limit(sk.sndNxt, end - sk.sndNxt));
                if (len <= 0) {
                    break;
                }
                if (!transmit(sk.sndNxt, len, TcpHeader.ACK | pshFlag(sk.sndNxt, len), cpu)) {
                    if (len <= sk.mss) {
                        break;
                    }
                    len = sk.rec.resendEnd(sk.sndNxt, 1, sk.sndNxt + len) - sk.sndNxt; // no large buffer free: one segment
                    if (!transmit(sk.sndNxt, len, TcpHeader.ACK | pshFlag(sk.sndNxt, len), cpu)) {
                        break;
                    }
                }
                segmentSent(len, true, cpu);
                paceSent(len);
                continue;
            }
            // tcp_snd_wnd_test: the next segment (a full MSS, or the rest of its skb) goes only when all of
            // it fits the peer's window; never a sliver cut to what the window leaves (sender silly window
            // avoidance, RFC 9293 3.8.6.2.1). The ACKs for what is in flight open it; with nothing in
            // flight the probe timer sends into a window that stays smaller (tcp_write_wakeup)
            if (sk.push.limit(sk.sndNxt, Math.min(sk.mss, sk.writeSeq - sk.sndNxt)) > wndRight - sk.sndNxt) {
                rwndLimited = true;
                break;
            }
            if (!sk.rec.hasRoomFor(len)) {
                sk.net.mib.inc(cpu, TcpMib.Ext.TCPWqueueTooBig);
                break; // the scoreboard is full: the next ACK makes room
            }
            if (maxSegs > 1 && len == sk.mss && !retransmitting && tsoShouldDefer(inFlight, wndRight, maxSegs)) {
                cwndLimited = (sk.cw.cwnd - inFlight) * sk.mss < wndRight - sk.sndNxt; // the window, not the peer, holds it
                break; // the next ACK lets a bigger GSO skb go
            }
            if (maxSegs > 1 && len == sk.mss && !retransmitting) {
                len = gsoLen(Math.min(maxSegs, cwndQuota(inFlight)), wndRight);
            }
            if (len > 0) {
                len = sk.push.limit(sk.sndNxt, len); // one segment never spans two of Linux's skbs
            }
            if (len <= 0) {
                break; // the peer's window is shut: the probe timer (below) asks again
            }
            // below the highest sequence sent is a retransmission (retransHigh alone goes stale after 2 GB)
            boolean retrans = TcpSeq.before(sk.sndNxt, sk.retransHigh) && TcpSeq.before(sk.sndNxt, sk.sndMax);
            if (!retrans && len < sk.mss && len == sk.writeSeq - sk.sndNxt && nagleHolds()) {
                break;
            }
            if (!transmit(sk.sndNxt, len, TcpHeader.ACK | pshFlag(sk.sndNxt, len), cpu)) {
                if (len <= sk.mss) {
                    break;
                }
                len = sk.mss; // no large buffer free: one segment from the normal pool, never a stall until the RTO
                if (!transmit(sk.sndNxt, len, TcpHeader.ACK | pshFlag(sk.sndNxt, len), cpu)) {
                    break;
                }
            }
            segmentSent(len, retrans, cpu);
            paceSent(len);
        }
        finResentOrSkipped();
        cwndLimited |= sk.rec.inFlight() >= sk.cw.cwnd;
        if (sk.sndNxt != sentBefore) {
            sk.chronoStart(TcpSock.CHRONO_BUSY);
        }
        // tcp_write_xmit: data waits that the peer's window does not take
        if (TcpSeq.before(sk.sndNxt, sk.writeSeq) && (rwndLimited || !TcpSeq.before(sk.sndNxt, sk.sndUna + sk.sndWnd))) {
            sk.chronoStart(TcpSock.CHRONO_RWND_LIMITED);
        } else {
            sk.chronoStop(TcpSock.CHRONO_RWND_LIMITED);
        }
        if (sk.sndNxt != sentBefore || cwndLimited) {
            cwndValidate(cwndLimited);
        }
        sendFin(cpu);
        if (sk.sndNxt != sentBefore || cwndLimited) {
            sk.rec.scheduleLossProbe(false); // tcp_write_xmit: one loss probe per tail-loss episode
        }
        checkProbeTimer();
    }

    /**
     * The go-back resend reached the FIN it sent before: when the resend passes it by (in Loss a FIN not
     * marked lost, as F-RTO's new data), it is still out and is not sent again.
     */
    private void finResentOrSkipped() {
        if (!sk.finQueued || sk.finSent || !TcpSeq.before(sk.writeSeq, sk.sndMax)) {
            return;
        }
        if (sk.sndNxt == sk.sndMax || sk.sndNxt == sk.writeSeq && sk.rec.resendFrom(sk.writeSeq) != sk.writeSeq) {
            sk.sndNxt = sk.sndMax;
            sk.finSent = true;
        }
    }

    /**
     * {@code tcp_retransmit_skb} for the entries [s, e) of the scoreboard (or the FIN): sent again from the
     * ring with the push mark the original had, and PSH on one of more than one segment as on every GSO
     * skb ({@code __tcp_transmit_skb}). RetransSegs.
     */
    boolean retransmit(int s, int e, boolean fin, int cpu) {
        int len = fin ? 0 : e - s;
        int flags = TcpHeader.ACK | (fin ? TcpHeader.FIN : pshFlag(s, len));
        if (!transmit(s, len, flags, cpu)) {
            return false;
        }
        sk.net.mib.add(cpu, TcpMib.Tcp.RetransSegs, len > sk.mss ? (len + sk.mss - 1) / sk.mss : 1);
        sk.totalRetrans += len > sk.mss ? (len + sk.mss - 1) / sk.mss : 1;
        sk.bytesRetrans += len;
        return true;
    }

    /** The loss probe's new segment ({@code tcp_write_xmit} with push_one 2): one MSS whatever the window, Nagle off. */
    void sendNewSegment(int cpu) {
        int len = Math.min(Math.min(sk.mss, sk.writeSeq - sk.sndNxt), sk.sndUna + sk.sndWnd - sk.sndNxt);
        len = sk.push.limit(sk.sndNxt, len);
        if (len > 0 && sk.rec.hasRoomFor(len) && transmit(sk.sndNxt, len, TcpHeader.ACK | pshFlag(sk.sndNxt, len), cpu)) {
            segmentSent(len, false, cpu);
        }
    }

    /** {@code packets_out}: segments sent and not yet acknowledged. */
    int packetsOut() {
        return (sk.sndNxt - sk.sndUna + sk.mss - 1) / Math.max(sk.mss, 1);
    }

    /**
     * {@code tcp_cwnd_validate} (RFC 7661's spirit, as Linux does it): remembers, per window of data,
     * whether the congestion window limited sending and how many segments were in flight at most. When
     * the application or the peer limits instead, the window used is noted and, after an RTO of it with
     * {@code tcp_slow_start_after_idle}, the window decays halfway toward it
     * ({@code tcp_cwnd_application_limited}).
     */
    private void cwndValidate(boolean cwndLimited) {
        int out = packetsOut();
        if (!TcpSeq.before(sk.sndUna, sk.cwndUsageSeq) || cwndLimited || !sk.isCwndLimited && out > sk.maxPacketsOut) {
            sk.isCwndLimited = cwndLimited;
            sk.maxPacketsOut = out;
            sk.cwndUsageSeq = sk.sndNxt;
        }
        long now = sk.nowMs();
        if (isCwndLimited()) {
            sk.cwndUsed = 0;
            sk.cwndStampMs = now;
            return;
        }
        sk.cwndUsed = Math.max(sk.cwndUsed, out);
        if (sk.net.slowStartAfterIdle.get() != 0 && now - sk.cwndStampMs >= sk.rtoMs) {
            if (!sk.noSpace) { // tcp_cwnd_application_limited: the application, not a full buffer, held back
                int used = Math.max(sk.cwndUsed, INIT_CWND);
                if (used < sk.cw.cwnd) {
                    sk.cw.ssthresh = Math.max(sk.cw.ssthresh, (sk.cw.cwnd >> 1) + (sk.cw.cwnd >> 2)); // tcp_current_ssthresh
                    sk.cw.cwnd = (sk.cw.cwnd + used) >> 1;
                }
                sk.cwndUsed = 0;
            }
            sk.cwndStampMs = now;
        }
    }

    /**
     * {@code tcp_is_cwnd_limited}: whether an ACK may grow the window. Only while the window limits what
     * goes; in slow start also while it is below twice the most that was in flight, so a burst the
     * application paced still doubles it.
     */
    boolean isCwndLimited() {
        if (sk.isCwndLimited) {
            return true;
        }
        return sk.cw.cwnd < sk.cw.ssthresh && sk.cw.cwnd < 2 * sk.maxPacketsOut;
    }

    /** The FIN, once it is queued and every byte before it has gone. */
    private void sendFin(int cpu) {
        if (sk.finQueued && !sk.finSent && sk.sndNxt == sk.writeSeq) {
            if (transmit(sk.writeSeq, 0, TcpHeader.ACK | TcpHeader.FIN, cpu)) {
                boolean wasIdle = sk.sndMax == sk.sndUna;
                boolean again = TcpSeq.before(sk.writeSeq, sk.sndMax);
                sk.finSent = true;
                sk.sndNxt = sk.writeSeq + 1;
                dataSent(1);
                if (again) {
                    sk.rec.resent(sk.writeSeq, sk.writeSeq + 1, cpu);
                } else {
                    sk.rec.newDataSent(sk.writeSeq, 1, true, cpu);
                }
                sk.sndMax = TcpSeq.max(sk.sndMax, sk.sndNxt);
                if (wasIdle || !sk.rtxTimer.pending() || sk.rec.pending == TcpRecovery.ICSK_TIME_LOSS_PROBE) {
                    sk.rec.rearmRto();
                }
            }
        }
    }

    /** {@code tcp_event_new_data_sent} and the retransmission's counters: {@code len} bytes went at {@code snd_nxt}. */
    private void segmentSent(int len, boolean retrans, int cpu) {
        boolean wasIdle = sk.sndMax == sk.sndUna; // a pending timer is the probe's: the RTO starts now (tcp_rearm_rto)
        int segs = (len + sk.mss - 1) / Math.max(sk.mss, 1);
        if (wasIdle && sk.caInit) {
            sk.ca.ops.cwndEvent(sk.cw, TcpCongestion.CA_EVENT_TX_START); // tcp_event_data_sent, before lsndtime moves
        }
        sk.idleFromMs = 0;
        if (sk.atoMs > 0 && sk.nowMs() - sk.lrcvTimeMs < sk.atoMs && sk.pingpong < 255) {
            sk.pingpong++; // tcp_event_data_sent: a reply within ato of the last data received (inet_csk_inc_pingpong_cnt)
        }
        if (retrans) {
            sk.net.mib.add(cpu, TcpMib.Tcp.RetransSegs, segs);
            sk.totalRetrans += segs;
            sk.bytesRetrans += len;
            sk.rec.resent(sk.sndNxt, sk.sndNxt + len, cpu);
            if (sk.caState == org.modnet.api.tcp.TcpCongestion.CA_LOSS && sk.retransmits > 0 && sk.sndNxt != sk.sndUna) {
                sk.net.mib.add(cpu, TcpMib.Ext.TCPSlowStartRetrans, segs); // tcp_xmit_retransmit_queue in Loss; the RTO's own resend is not
            }
        } else {
            sk.rec.newDataSent(sk.sndNxt, len, false, cpu);
            sk.rec.newDataSentInReduction(segs);
            sk.net.mib.add(cpu, TcpMib.Ext.TCPOrigDataSent, (len + sk.mss - 1) / sk.mss); // tcp_skb_pcount
            if (!sk.rttTiming) {
                sk.rttTiming = true;
                sk.rttSeq = sk.sndNxt + len;
                sk.rttStampMs = sk.nowMs();
            }
            sk.lsndtimeMs = sk.nowMs();
        }
        sk.sndNxt += len;
        dataSent(len);
        sk.sndMax = TcpSeq.max(sk.sndMax, sk.sndNxt);
        if (wasIdle || !sk.rtxTimer.pending() || !retrans && sk.rec.pending == TcpRecovery.ICSK_TIME_LOSS_PROBE) {
            sk.rec.rearmRto(); // tcp_event_new_data_sent
        }
    }

    /** Data (or the FIN) waits to go while nothing is outstanding. */
    boolean unsentWithNothingInFlight() {
        return sk.sndMax == sk.sndUna && (TcpSeq.before(sk.sndNxt, sk.writeSeq) || sk.finQueued && !sk.finSent);
    }

    /**
     * {@code tcp_check_probe_timer}: when data waits but nothing is in flight, no ACK will come to send
     * it; the probe timer (the retransmission timer's slot, {@code tcp_probe0_base}: the RTO) asks
     * again. It covers the zero window, a send that found no buffer free, and TCP_CORK or MSG_MORE with
     * nothing in flight (the ceiling tcp(7) gives the cork).
     */
    private void checkProbeTimer() {
        if (unsentWithNothingInFlight() && !sk.rtxTimer.pending()) {
            sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_PROBE0, sk.rtoMs);
        }
    }

    /**
     * {@code tcp_write_wakeup}, from the probe timer while the peer's window is open: one segment from
     * {@code snd_nxt} (at most the MSS and the window) goes now with PSH whatever Nagle, TCP_CORK or TSO
     * deferral would say, or the FIN waiting alone. True if it went.
     */
    boolean writeWakeup(int cpu) {
        int before = sk.sndNxt;
        if (TcpSeq.before(sk.sndNxt, sk.writeSeq)) {
            int len = Math.min(Math.min(sk.mss, sk.writeSeq - sk.sndNxt), sk.sndUna + sk.sndWnd - sk.sndNxt);
            if (len > 0 && transmit(sk.sndNxt, len, TcpHeader.ACK | TcpHeader.PSH, cpu)) {
                boolean retrans = TcpSeq.before(sk.sndNxt, sk.retransHigh) && TcpSeq.before(sk.sndNxt, sk.sndMax);
                segmentSent(len, retrans, cpu);
            }
        } else {
            sendFin(cpu);
        }
        return sk.sndNxt != before;
    }

    /**
     * PSH as Linux sets it: on a segment that ends one of its skbs with a push mark
     * ({@code tcp_mark_push}; {@code tso_fragment} leaves it on the second half only), and on every GSO
     * skb of more than one segment ({@code __tcp_transmit_skb} since Linux 5.4, "tcp: force a PSH flag on
     * TSO packets", so the receiver's GRO flushes at once), which software segmentation keeps on its
     * last segment.
     */
    int pshFlag(int seq, int len) {
        return len > sk.mss || sk.push.marked(seq + len) ? TcpHeader.PSH : 0;
    }

    /** {@link TcpTso#shouldDefer} for the data at {@code snd_nxt}: the skb runs to the next push mark. */
    boolean tsoShouldDefer(int inFlight, int wndRight, int maxSegs) {
        int avail = sk.writeSeq - sk.sndNxt;
        int skbLen = sk.push.limit(sk.sndNxt, avail);
        if (skbLen <= sk.mss) {
            return false; // tso_segs 1: Nagle's test instead
        }
        long now = sk.nowMs();
        long sinceHead = sk.sndUna == sk.sndNxt ? -1 : (now - sk.headSentMs) * 1000;
        return TcpTso.shouldDefer(skbLen, skbLen == avail, wndRight - sk.sndNxt, (sk.cw.cwnd - inFlight) * sk.mss, sk.sndWnd,
                sk.cw.cwnd * sk.mss, sk.mss, maxSegs, sk.net.tsoWinDivisor.get(), now - sk.lsndtimeMs, sinceHead, sk.srttUs);
    }

    /**
     * {@code tcp_cwnd_test}: the segments the congestion window lets go now, at most half the window so
     * that two GSO skbs are in flight ("for better scheduling").
     */
    int cwndQuota(int inFlight) {
        return Math.min(Math.max(sk.cw.cwnd >> 1, 1), sk.cw.cwnd - inFlight);
    }

    /**
     * A write copies at {@code write_seq}: at its start ({@code newWrite}) Linux's unsent tail skb would
     * grow and lose its PSH; later in the same call (after waiting for room) it keeps it.
     */
    void pushAppend(boolean newWrite) {
        if (!sk.pushStarted) {
            sk.pushStarted = true;
            sk.push.clear(sk.writeSeq);
        }
        if (newWrite) {
            sk.push.append(sk.writeSeq, sk.sndNxt);
        }
    }

    /**
     * {@code n} bytes went into the ring: {@code tcp_push} marks the tail at the end of a write without
     * MSG_MORE, and {@code forced_push} when more than half the peer's largest window went in since the
     * last mark.
     */
    void pushWrote(int n, boolean endOfWrite) {
        if (endOfWrite || n > 0 && sk.push.forced(sk.writeSeq, sk.maxWindow)) {
            sk.push.mark(sk.writeSeq);
        }
    }

    /**
     * {@code tcp_slow_start_after_idle_check} and {@code tcp_cwnd_restart} (RFC 2861): new data after
     * nothing was in flight for longer than the RTO starts from a window halved per RTO of idleness, not
     * below the initial window.
     */
    void slowStartAfterIdleCheck() {
        if (sk.net.slowStartAfterIdle.get() == 0 || sk.sndMax != sk.sndUna || sk.lsndtimeMs == 0 || !TcpSeq.before(sk.sndNxt, sk.writeSeq)) {
            return;
        }
        long delta = sk.nowMs() - sk.lsndtimeMs;
        if (delta <= sk.rtoMs) {
            return;
        }
        if (sk.caInit) {
            sk.ca.ops.cwndEvent(sk.cw, TcpCongestion.CA_EVENT_CWND_RESTART); // tcp_cwnd_restart tells the algorithm first
        }
        int restart = Math.min(INIT_CWND, sk.cw.cwnd);
        sk.cw.ssthresh = Math.max(sk.cw.ssthresh, (sk.cw.cwnd >> 1) + (sk.cw.cwnd >> 2)); // tcp_current_ssthresh
        int cwnd = sk.cw.cwnd;
        while ((delta -= sk.rtoMs) > 0 && cwnd > restart) {
            cwnd >>= 1;
        }
        sk.cw.cwnd = Math.max(cwnd, restart);
        sk.idleFromMs = sk.lsndtimeMs; // for CA_EVENT_TX_START: when sending stopped
        sk.lsndtimeMs = sk.nowMs();
        sk.cwndStampMs = sk.lsndtimeMs;
    }

    /**
     * {@code tcp_mss_split_point}: the bytes of a GSO skb of at most {@code segs} segments from
     * {@code snd_nxt}: whole segments, but at the end of the data (or the peer's window) the short last
     * one too unless Nagle would hold it.
     */
    int gsoLen(int segs, int wndRight) {
        int avail = sk.writeSeq - sk.sndNxt;
        int window = wndRight - sk.sndNxt;
        int maxLen = segs * sk.mss;
        int needed = Math.min(avail, window);
        if (maxLen <= needed) {
            return maxLen;
        }
        int partial = needed % sk.mss;
        return partial != 0 && nagleHolds() ? needed - partial : needed;
    }

    /** An ACK now ({@code tcp_send_ack}): a delayed one is no longer owed. */
    void sendAck(int cpu) {
        if (sk.state() == TCP_CLOSE) {
            return;
        }
        transmit(sk.sndMax, 0, TcpHeader.ACK, cpu); // tcp_acceptable_seq: not the rewound snd_nxt
    }

    /** {@code tcp_send_active_reset}. */
    void sendActiveReset(int cpu) {
        sk.net.mib.inc(cpu, TcpMib.Tcp.OutRsts);
        transmit(sk.sndMax, 0, TcpHeader.RST | TcpHeader.ACK, cpu);
    }

    /** The SYN or (in SYN-RECV) the SYN-ACK, with Linux's options as the sysctls and the peer allow. */
    void sendSyn(int cpu, boolean again) {
        int optLen;
        int flags;
        if (sk.state() == TCP_SYN_RECV && sk.parent != null) {
            flags = TcpHeader.SYN | TcpHeader.ACK | TcpEcn.synackFlags(sk);
            optLen = sk.txOpts.synAck(sk.advmss, sk.rx.wscaleOk, sk.rcvWscale, sk.rx.tstampOk, sk.tsNow(), sk.tsRecent, sk.rx.sackOk);
        } else {
            flags = TcpHeader.SYN;
            optLen = sk.txOpts.syn(sk.advmss, sk.net.timestamps.get() != 0, sk.tsNow(), sk.net.windowScaling.get() != 0, sk.rcvWscale,
                    sk.net.sack.get() != 0);
            if (sk.state() == TCP_SYN_RECV) { // a simultaneous open: our SYN again, acknowledging theirs (tcp_send_synack)
                flags |= TcpHeader.ACK | TcpEcn.synackFlags(sk);
                sk.txOpts.tsecr = sk.tsRecent;
            } else {
                flags |= TcpEcn.synFlags(sk, again);
            }
        }
        if (!again) {
            sk.rttStampMs = sk.nowMs();
        }
        // OutSegs: a listener's SYN-ACK each time (tcp_make_synack), our own SYN the first time only (its
        // end_seq is snd_nxt when it goes again, and __tcp_transmit_skb counts only what passes snd_nxt)
        build(sk.iss, 0, flags, optLen, !again || sk.state() == TCP_SYN_RECV && sk.parent != null, cpu);
    }

    /** Builds and sends one segment of {@code len} bytes from the send ring at {@code seq}. */
    boolean transmit(int seq, int len, int flags, int cpu) {
        int blocks = sk.rx.sackOk ? sk.sacks.prepare() : 0;
        int optLen = sk.txOpts.established(sk.rx.tstampOk, sk.tsNow(), sk.tsRecent, sk.sacks.outStart, sk.sacks.outEnd, blocks);
        if (len > 0 && seq == sk.writeSeq) {
            len = 0;
        }
        int endSeq = seq + len + ((flags & TcpHeader.FIN) != 0 ? 1 : 0);
        boolean sent = build(seq, len, flags, optLen, endSeq == seq || TcpSeq.after(endSeq, sk.sndMax), cpu);
        if (sent && sk.txOpts.numSackBlocks > 0) {
            sk.sacks.dsack = false; // tcp_options_write: a D-SACK block goes once
        }
        return sent;
    }

    /**
     * Builds and sends one segment. {@code countOut}: Tcp OutSegs counts it, as {@code __tcp_transmit_skb}
     * does only for a segment that carries something past {@code snd_nxt} (Linux's highest sent, modnet's
     * {@code sndMax}) or no sequence space at all (an ACK, a reset, a window probe): a retransmission is
     * RetransSegs alone, so {@code nstat}'s OutSegs and RetransSegs add up to what went, as on Linux.
     */
    boolean build(int seq, int len, int flags, int optLen, boolean countOut, int cpu) {
        int hlen = TcpHeader.MIN_LEN + optLen;
        SkBuff skb = sk.net.core.allocSkb(hlen + len, HEADROOM);
        if (skb == null) {
            return false; // counted by the pool; the retransmission timer tries again
        }
        int o = skb.put(hlen + len);
        int tos = TcpEcn.tos(sk, seq, len, flags); // tcp_ecn_send: before CWR is taken off the queue
        flags = TcpEcn.sendFlags(sk, seq, len, flags);
        boolean syn = (flags & TcpHeader.SYN) != 0;
        int win = selectWindow(syn, cpu);
        TcpHeader.write(skb, o, sk.lport(), sk.rport(), seq, (flags & TcpHeader.ACK) != 0 ? sk.rcvNxt : 0, flags, win, optLen);
        sk.txOpts.write(skb, o + TcpHeader.MIN_LEN);
        if (len > 0) {
            int at = (seq - sk.sbase) & (sk.sbuf.length - 1);
            int first = Math.min(len, sk.sbuf.length - at);
            skb.setBytes(o + hlen, sk.sbuf, at, first);
            if (first < len) {
                skb.setBytes(o + hlen + first, sk.sbuf, 0, len - first);
            }
        }
        TcpHeader.setChecksumPartial(skb, o, TcpAf.inetPseudoSum(sk.laddr(), sk.raddr(), hlen + len));
        if ((flags & TcpHeader.ACK) != 0) {
            sk.lastAckSent = sk.rcvNxt;
            sk.ackPending = false;
            sk.ackNow = false;
            sk.ackPushed = 0; // inet_csk_clear_xmit_timer(ICSK_TIME_DACK): icsk_ack.pending cleared
            sk.rcvdSinceAck = 0;
            sk.delackTimer.clear(); // left in the wheel, as Linux leaves it: the next request's arming only moves it
        }
        int segs = 1;
        // tcp_current_mss: SACK blocks beyond the timestamp the MSS allows for take their room from the
        // payload, so every segment on the wire stays within the path MTU (IPv4 never fragments TCP's)
        int goal = sk.mss - Math.max(optLen - (sk.rx.tstampOk ? TcpOutOptions.ALIGNED_TSTAMP : 0), 0);
        if (len > goal && goal > 0) { // a GSO skb: many MSS under this one header, cut by the device or the core
            segs = (len + goal - 1) / goal;
            skb.gso(goal, segs, org.modnet.api.net.NetdevFeatures.SKB_GSO_TCPV4);
        }
        if (countOut) {
            sk.net.mib.add(cpu, TcpMib.Tcp.OutSegs, segs); // tcp_skb_pcount
        }
        sk.countOut(len);
        if (len > 0 && paced()) {
            skb.tstamp(sk.wstampNs); // EDT: fq holds the skb until then (internal pacing already waited for it)
        }
        if (segs > 1) {
            sk.segsOut += segs - 1;
            sk.dataSegsOut += segs - 1;
        }
        skb.mark(sk.mark()); // sk_mark (SO_MARK): the routing rules' fwmark sees it
        if (sk.net.firstSentNanos == 0) { // the benchmark's account of the first segment a version sends: once per namespace
            firstSent(flags, len);
        }
        sk.net.ipv4.send(sk.namespace(), skb, sk.laddr(), sk.raddr(), TcpAf.IPPROTO_TCP, sk.ttl(), tos, sk.dontFragment());
        return true;
    }

    private void firstSent(int flags, int len) {
        TcpNet net = sk.net;
        net.firstSentBy = Thread.currentThread().getName();
        net.firstSentFlags = flags;
        net.firstSentLen = len;
        net.firstSentNanos = System.nanoTime();
    }

    /** The window the last segment offered, scaled as sent ({@code tp->rcv_wnd}, for the zero-window counters); -1 before any. */
    private int advertisedWnd = -1;

    /**
     * {@code tcp_select_window}: the window {@link #freeWindow} offers, unless that would move the right
     * edge offered before back (RFC 9293 3.8.6.2.2; Linux's {@code tcp_shrink_window} 0): then the
     * edge stays, rounded up to the scale (TCPWantZeroWindowAdv when no room was wanted at all). At
     * most 65535 scaled; on a SYN, {@code rcv_wnd} from {@link TcpSock#selectInitialWindow}, unscaled.
     * TCPToZeroWindowAdv and TCPFromZeroWindowAdv count the window closing and opening.
     */
    int selectWindow(boolean syn, int cpu) {
        if (syn) {
            int win = Math.min(sk.rcvWnd, 0xffff);
            sk.rcvWndRight = sk.rcvNxt + win;
            return win;
        }
        int unit = 1 << sk.rcvWscale;
        int cur = Math.max(sk.rcvWndRight - sk.rcvNxt, 0); // tcp_receive_window
        int win = freeWindow();
        if (win < cur) {
            if (win == 0) {
                sk.net.mib.inc(cpu, TcpMib.Ext.TCPWantZeroWindowAdv);
            }
            win = (int) Math.min((cur + (long) unit - 1) & -unit, Integer.MAX_VALUE);
        }
        sk.rcvWnd = win;
        int scaled = (int) Math.min((long) win >> sk.rcvWscale, 0xffff);
        if (scaled == 0 && advertisedWnd != 0) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPToZeroWindowAdv);
        } else if (scaled != 0 && advertisedWnd == 0) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPFromZeroWindowAdv);
        }
        advertisedWnd = scaled;
        sk.rcvWndRight = sk.rcvNxt + (scaled << sk.rcvWscale);
        return scaled;
    }

    /**
     * {@code __tcp_select_window}: the window the free buffer holds ({@code tcp_space}, at the scaling
     * ratio), at most {@code rcv_ssthresh}. Below half the largest window ({@code window_clamp} or the
     * whole buffer's), the receiver's silly window avoidance (RFC 1122 4.2.3.3): the free space rounded
     * down to the scale, and none when that is less than one of the peer's segments ({@code rcv_mss})
     * or a sixteenth of the buffer's window, so a slow reader opens the window a segment at a time.
     * Window-scaled, the window is rounded up to the scale; unscaled, it stays a multiple of the
     * segment, the one offered kept while it is within a segment of the free space. Under TCP memory
     * pressure with less than half free, {@code rcv_ssthresh} falls to four segments, as in Linux.
     */
    int freeWindow() {
        int mss = sk.ackRcvMss();
        int free = sk.tcpSpace();
        int allowed = sk.fullSpace();
        int full = Math.min(sk.windowClamp == 0 ? allowed : sk.windowClamp, allowed);
        if (mss > full) {
            mss = full;
            if (mss <= 0) {
                return 0;
            }
        }
        if (free < full >> 1) {
            if (sk.net.tmem.underPressure()) {
                sk.rcvSsthresh = Math.min(sk.rcvSsthresh, 4 * sk.advmss); // tcp_adjust_rcv_ssthresh
            }
            free &= -(1 << sk.rcvWscale);
            if (free < allowed >> 4 || free < mss) {
                return 0;
            }
        }
        if (free > sk.rcvSsthresh) {
            free = sk.rcvSsthresh;
        }
        if (sk.rcvWscale != 0) {
            int unit = 1 << sk.rcvWscale;
            return (int) Math.min((free + (long) unit - 1) & -unit, Integer.MAX_VALUE);
        }
        int window = sk.rcvWnd;
        if (window <= free - mss || window > free) {
            window = free - free % mss;
        } else if (mss == full && free > window + (full >> 1)) {
            window = free;
        }
        return window;
    }

    void writeXmitRetrans(int cpu) {
        if (TcpSeq.before(sk.sndNxt, sk.writeSeq)) {
            writeXmit(cpu);
        } else if (sk.finQueued) {
            sk.net.mib.inc(cpu, TcpMib.Tcp.RetransSegs);
            writeXmit(cpu);
        }
    }

    /**
     * A sub-MSS tail waits: always under TCP_CORK; with Nagle on (no TCP_NODELAY) while an earlier small
     * segment is unacknowledged (Minshall's rule, as Linux does). A queued FIN pushes it (Linux sends the
     * FIN on that last segment).
     */
    boolean nagleHolds() {
        if (sk.finQueued || (sk.nonagle & NAGLE_PUSH) != 0) {
            return false;
        }
        if ((sk.nonagle & NAGLE_CORK) != 0 || sk.corkOnce) {
            return true;
        }
        return (sk.nonagle & NAGLE_OFF) == 0 && sk.sndMax != sk.sndUna && TcpSeq.after(sk.sndSml, sk.sndUna) && !TcpSeq.after(sk.sndSml, sk.sndNxt);
    }

    /** After new bytes (or the FIN) went out at the old {@code snd_nxt}: Minshall's mark and the user timeout's clock. */
    void dataSent(int len) {
        if (!TcpSeq.after(sk.sndNxt, sk.sndMax)) {
            return; // a retransmission
        }
        if (len % Math.max(sk.mss, 1) != 0) {
            sk.sndSml = sk.sndNxt; // tcp_minshall_update: a GSO skb ending in a short segment counts too
        }
        if (sk.sndNxt - len == sk.sndUna) {
            sk.headSentMs = sk.nowMs();
        }
    }
}

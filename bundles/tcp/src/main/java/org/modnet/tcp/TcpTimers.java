package org.modnet.tcp;

import static org.modnet.tcp.TcpSock.*;

import org.modnet.api.net.Errno;
import org.modnet.api.net.Jiffies;

/**
 * TCP's timers for one connection, as Linux's {@code net/ipv4/tcp_timer.c}: the retransmission timer
 * ({@code tcp_retransmit_timer}, with the zero-window probe of {@code tcp_probe_timer}), the delayed ACK
 * ({@code tcp_delack_timer}), keepalive ({@code tcp_keepalive_timer}), the end of an orphan's FIN-WAIT-2,
 * the user timeout ({@code retransmits_timed_out}, {@code tcp_clamp_rto_to_user_timeout}), an orphan's
 * limits ({@code tcp_orphan_retries}, {@code tcp_out_of_resources}) and the RTO itself ({@code
 * tcp_rtt_estimator}, {@code tcp_set_rto}). The callbacks run on the socket's CPU's timer wheel; the state
 * they change is {@link TcpSock}'s.
 */
final class TcpTimers {
    private final TcpSock sk;

    TcpTimers(TcpSock sk) {
        this.sk = sk;
    }

    /** An RTT sample of {@code ms} milliseconds (the handshake's), for the estimator and the minimum RTT. */
    long rttSample(long ms) {
        // microseconds, never zero: N ms is N * 1000 us. A delta of 0 is under a millisecond: 1 us here.
        // Never ms * 1000 + 1: the minimum RTT would then exceed a rate sample's interval of the same ms
        // count, tcp_rate_gen would drop every sample (interval < min_rtt), and BBR would see no round
        // end, staying in STARTUP's gain or, past ten seconds, in PROBE_RTT for good.
        long r = ms > 0 ? ms * 1000 : 1;
        return rttSampleUs(r, r);
    }

    /**
     * {@code tcp_ack_update_rtt}'s update: the minimum RTT from {@code caRttUs} (the newest (S)ACKed
     * segment's), the smoothed RTT and the RTO from {@code seqRttUs} (the oldest's). A sample of 0 us (a
     * clock that stood still) counts as 1 us, for the reason {@link #rttSample} gives. Returns the
     * estimator's sample.
     */
    long rttSampleUs(long seqRttUs, long caRttUs) {
        long r = Math.max(seqRttUs, 1);
        long ca = Math.max(caRttUs, 1);
        sk.minRttUs = sk.minRttUs == 0 ? ca : Math.min(sk.minRttUs, ca);
        rttEstimator(r);
        sk.rtoMs = rtoFromEstimate(); // tcp_set_rto
        return r;
    }

    /**
     * {@code tcp_rtt_estimator}: Linux's, not RFC 6298's. srtt moves an eighth of the way to the sample;
     * mdev (kept four times over) a quarter of the way to the sample's distance from srtt, but only a
     * thirty-second when the sample is below srtt (a falling RTT must not raise the RTO, nor drop it fast).
     * The RTO adds rttvar, the largest mdev seen this RTT and never below tcp_rto_min, which falls at most
     * once an RTT (when snd_una passes {@code rtt_seq}), by a quarter of its distance to that largest
     * mdev. So under a steady RTT the RTO is srtt + 200 ms, and a burst of variance holds it up for an RTT
     * at least, where RFC 6298's srtt + max(4 rttvar, 200 ms) would drop with the next sample.
     */
    void rttEstimator(long mUs) {
        long rtoMinUs = RTO_MIN_MS * 1000;
        // srtt8Us is the truth; srttUs alone was set (a hand-over's restore): start from it
        long srtt8 = Math.max(sk.srtt8Us >> 3, 1) == sk.srttUs ? sk.srtt8Us : sk.srttUs << 3;
        long m = mUs;
        if (srtt8 != 0) {
            m -= srtt8 >> 3; // the error in the estimate
            srtt8 += m; // srtt = 7/8 srtt + 1/8 sample
            if (m < 0) {
                m = -m - (sk.mdevUs >> 2);
                if (m > 0) {
                    m >>= 3; // a falling sample weighs an eighth as much: Linux's variant of Eifel's rule
                }
            } else {
                m -= sk.mdevUs >> 2;
            }
            sk.mdevUs += m; // mdev = 3/4 mdev + 1/4 |error|
            if (sk.mdevUs > sk.mdevMaxUs) {
                sk.mdevMaxUs = sk.mdevUs;
                if (sk.mdevMaxUs > sk.rttvarUs) {
                    sk.rttvarUs = sk.mdevMaxUs;
                }
            }
            if (TcpSeq.after(sk.sndUna, sk.rttvarSeq)) { // an RTT ended: rttvar decays towards this RTT's largest mdev
                if (sk.mdevMaxUs < sk.rttvarUs) {
                    sk.rttvarUs -= (sk.rttvarUs - sk.mdevMaxUs) >> 2;
                }
                sk.rttvarSeq = sk.sndMax;
                sk.mdevMaxUs = rtoMinUs;
            }
        } else { // the first sample: the RTO is 3 samples, or the sample and tcp_rto_min
            srtt8 = m << 3;
            sk.mdevUs = m << 1;
            sk.rttvarUs = Math.max(sk.mdevUs, rtoMinUs);
            sk.mdevMaxUs = sk.rttvarUs;
            sk.rttvarSeq = sk.sndMax;
        }
        sk.srtt8Us = Math.max(srtt8, 1);
        sk.srttUs = Math.max(sk.srtt8Us >> 3, 1);
    }

    /**
     * {@code __tcp_set_rto} and {@code tcp_bound_rto}: srtt + rttvar, rounded up to the jiffy (as
     * {@code usecs_to_jiffies} does: 4 ms at HZ=250), at most TCP_RTO_MAX; TCP_TIMEOUT_INIT
     * before any sample.
     */
    long rtoFromEstimate() {
        if (sk.srttUs == 0) {
            return RTO_INIT_MS;
        }
        return Math.min(RTO_MAX_MS, TcpSock.usecsToJiffiesMs(sk.srttUs + sk.rttvarUs));
    }

    /**
     * {@code tcp_retransmit_timer} (RFC 6298 5.4-5.7): the SYN or SYN-ACK again until
     * {@code tcp_syn_retries}/{@code tcp_synack_retries}, else the oldest unacknowledged segment with the
     * congestion window back to one and the timer backed off, ETIMEDOUT after {@code tcp_retries2}; with
     * nothing in flight and a zero window, a window probe. A socket the user holds tries again shortly.
     */
    void retransmitTimer() {
        if (sk.stoppedClock(TcpSock.FIRED_RTX)) {
            return; // the clocks stopped for a hand-over: what was left at the stop goes over
        }
        if (sk.frozen) {
            return; // handed over: the next version armed its own
        }
        if (!sk.sockLock().tryLock()) {
            sk.rtxTimer.mod(5);
            return;
        }
        try {
            int c = sk.net.core.currentCpu();
            int what = sk.rec.pending;
            if (what == TcpRecovery.ICSK_TIME_REO_TIMEOUT || what == TcpRecovery.ICSK_TIME_LOSS_PROBE) {
                if (sk.state() != TCP_CLOSE && sk.state() != TCP_LISTEN && sk.rec.q.packetsOut > 0) {
                    if (what == TcpRecovery.ICSK_TIME_REO_TIMEOUT) {
                        sk.rec.rackReoTimeout(c); // tcp_write_timer_handler
                    } else {
                        sk.rec.sendLossProbe(c);
                    }
                    return;
                }
            }
            sk.rec.pending = 0;
            switch (sk.state()) {
                case TCP_SYN_SENT, TCP_SYN_RECV -> {
                    int limit = sk.state() == TCP_SYN_SENT || sk.parent == null ? sk.net.synRetries.get() : sk.net.synackRetries.get();
                    if (sk.retransmits >= limit) {
                        if (sk.state() == TCP_SYN_SENT || sk.parent == null) {
                            sk.reportError(sk.errSoft != null ? sk.errSoft : Errno.ETIMEDOUT); // tcp_write_err: the soft error, if any
                        }
                        sk.done(c);
                        return;
                    }
                    sk.retransmits++;
                    sk.net.mib.inc(c, TcpMib.Ext.TCPTimeouts);
                    sk.totalRto++;
                    sk.rtoMs = Math.min(sk.rtoMs << 1, RTO_MAX_MS);
                    sk.output.synackRetransmit(c);
                    sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_RETRANS, sk.rtoMs);
                }
                case TCP_CLOSE, TCP_LISTEN -> {
                }
                default -> {
                    if (sk.sndMax == sk.sndUna) {
                        probeTimer(c);
                        return;
                    }
                    if (sk.isClosed() && orphanOutOfResources(c)) { // tcp_write_timeout for an orphan
                        return;
                    }
                    int retryUntil = sk.isClosed() ? orphanRetries(sk.rtoMs < RTO_MAX_MS) : sk.net.retries2.get();
                    if (sk.userTimeoutMs != 0 ? userTimedOut() : sk.retransmits >= retryUntil) {
                        writeErr(c); // tcp_write_timeout: no reset, the peer is unreachable anyway
                        return;
                    }
                    sk.rec.enterLoss(c); // tcp_enter_loss, before icsk_retransmits counts this timeout
                    sk.retransmits++;
                    sk.net.mib.inc(c, TcpMib.Ext.TCPTimeouts);
                    sk.totalRto++;
                    sk.rttTiming = false; // Karn
                    sk.retransHigh = sk.sndNxt;
                    sk.sndNxt = sk.sndUna; // go back to the first unacknowledged byte; SACKed segments are skipped
                    sk.finSent = false; // the FIN, when sent, goes again after the data
                    sk.rtoMs = Math.min(sk.rtoMs << 1, RTO_MAX_MS);
                    sk.output.writeXmitRetrans(c);
                    sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_RETRANS, clampRtoToUserTimeout());
                }
            }
        } finally {
            sk.unlockSock(sk.net.core.currentCpu());
        }
    }

    /**
     * {@code tcp_probe_timer} and {@code tcp_send_probe0}: nothing is in flight but data (or the FIN)
     * waits. With the peer's window open, {@code tcp_write_wakeup} sends a segment now (a cork held past
     * the RTO, a send that found no buffer free); with it shut, a window probe (an ACK at snd_una - 1,
     * TCPWinProbe) every backed-off RTO. A segment that could not be built for want of a buffer is tried
     * again after TCP_RESOURCE_PROBE_INTERVAL; {@code tcp_retries2} unanswered probes, or the user
     * timeout, end the connection.
     */
    private void probeTimer(int c) {
        if (!sk.output.unsentWithNothingInFlight()) {
            sk.probesOut = 0;
            sk.probesTstampMs = 0;
            return;
        }
        if (probe0TimedOut(c)) {
            return;
        }
        if (sk.sndWnd > 0) {
            if (sk.output.writeWakeup(c)) {
                sk.probesOut = 0; // data in flight: the retransmission timer takes over
                sk.backoff = 0;
                sk.probesTstampMs = 0;
            } else {
                sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_PROBE0, RESOURCE_PROBE_MS);
            }
            return;
        }
        sk.net.mib.inc(c, TcpMib.Ext.TCPWinProbe); // probe0TimedOut counted it in probesOut
        if (sk.output.transmit(sk.sndUna - 1, 0, TcpHeader.ACK, c)) { // tcp_xmit_probe_skb
            sk.backoff++; // the RTO itself stays: tcp_probe0_when backs off from it
            sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_PROBE0, clampProbe0ToUserTimeout());
        } else {
            sk.rec.resetXmitTimer(TcpRecovery.ICSK_TIME_PROBE0, RESOURCE_PROBE_MS);
        }
    }

    /**
     * {@code tcp_pace_kick} and {@code tcp_tsq_write}: the paced departure time came; lost segments
     * waiting to go again go first, then what the windows allow of new data. A socket busy in a user
     * call is tried again a millisecond later (Linux defers it to {@code release_sock}).
     */
    void pacingTimer() {
        if (sk.stoppedClock(0)) {
            return; // the clocks stopped for a hand-over: what was left at the stop goes over
        }
        if (sk.frozen) {
            return;
        }
        if (!sk.sockLock().tryLock()) {
            sk.pacingTimer.mod(1);
            return;
        }
        try {
            if (sk.state() != TCP_CLOSE) {
                int c = sk.net.core.currentCpu();
                if (sk.rec.retransmitsWaiting()) {
                    sk.rec.xmitRetransmitQueue(c);
                }
                sk.output.writeXmit(c);
            }
        } finally {
            sk.unlockSock(sk.net.core.currentCpu());
        }
    }

    /** {@code tcp_delack_timer}: the ACK owed goes out (DelayedACKs); a socket the user holds is DelayedACKLocked. */
    void delackTimer() {
        if (sk.stoppedClock(TcpSock.FIRED_DELACK)) {
            return; // the clocks stopped for a hand-over: what was left at the stop goes over
        }
        if (sk.frozen) {
            return; // handed over: the next version armed its own
        }
        if (!sk.sockLock().tryLock()) {
            sk.net.mib.inc(sk.net.core.currentCpu(), TcpMib.Ext.DelayedACKLocked);
            sk.delackTimer.mod(DELACK_MS);
            return;
        }
        try {
            if (sk.ackPending && sk.state() != TCP_CLOSE) {
                if (!sk.inPingpong()) {
                    // tcp_delack_timer_handler: the delayed ACK missed, inflate ato, at most the RTO and TCP_DELACK_MAX
                    sk.atoMs = Math.min(Math.min(sk.atoMs << 1, sk.rtoMs), DELACK_MAX_MS);
                } else {
                    sk.pingpong = 0; // no answer carried it: the connection is not request/response after all, deflate ato
                    sk.atoMs = DELACK_MS;
                }
                sk.net.mib.inc(sk.net.core.currentCpu(), TcpMib.Ext.DelayedACKs);
                sk.output.sendAck(sk.net.core.currentCpu());
            }
        } finally {
            sk.unlockSock(sk.net.core.currentCpu());
        }
    }

    /**
     * The end of an orphan's FIN-WAIT-2 ({@code tcp_fin_timeout} longer than 2MSL, so no timewait sock
     * took its place). TIME-WAIT itself is always a {@link TcpTimewaitSock} now.
     */
    void timewaitTimer() {
        if (sk.stoppedClock(TcpSock.FIRED_TW)) {
            return; // the clocks stopped for a hand-over: what was left at the stop goes over
        }
        if (sk.frozen) {
            return; // handed over: the next version armed its own
        }
        if (!sk.sockLock().tryLock()) {
            sk.twTimer.mod(5);
            return;
        }
        try {
            if (sk.state() == TCP_FIN_WAIT2 && sk.isClosed()) {
                sk.done(sk.net.core.currentCpu());
            }
        } finally {
            sk.unlockSock(sk.net.core.currentCpu());
        }
    }

    long keepaliveTimeMs() {
        return (sk.keepaliveTime != 0 ? sk.keepaliveTime : sk.net.keepaliveTime.get()) * 1000L;
    }

    long keepaliveIntvlMs() {
        return (sk.keepaliveIntvl != 0 ? sk.keepaliveIntvl : sk.net.keepaliveIntvl.get()) * 1000L;
    }

    int keepaliveProbesMax() {
        return sk.keepaliveProbes != 0 ? sk.keepaliveProbes : sk.net.keepaliveProbes.get();
    }

    /** {@code keepalive_time_elapsed}: since the last ACK or data from the peer. */
    long keepaliveIdleMs() {
        return sk.nowMs() - Math.max(sk.rcvTstampMs, sk.lrcvTimeMs);
    }

    /**
     * {@code tcp_keepalive_timer}: after the idle time with nothing in flight, a probe (an ACK at
     * snd_una - 1 without data, which the peer must answer; TCPKeepAlive) every interval; after the count
     * of unanswered probes (or, with TCP_USER_TIMEOUT, once that long has passed) the connection is reset
     * and ends with ETIMEDOUT. Data in flight is the retransmission timer's business.
     */
    void keepaliveTimer() {
        if (sk.stoppedClock(TcpSock.FIRED_KEEPALIVE)) {
            return; // the clocks stopped for a hand-over: what was left at the stop goes over
        }
        if (sk.frozen) {
            return; // handed over: the next version armed its own
        }
        if (!sk.sockLock().tryLock()) {
            sk.keepaliveTimer.mod(Jiffies.delayMsecs(Jiffies.HZ / 20)); // HZ / 20: 48 ms at HZ=250
            return;
        }
        try {
            int c = sk.net.core.currentCpu();
            if (!sk.keepalive() || sk.state() == TCP_CLOSE || sk.state() == TCP_SYN_SENT || sk.state() == TCP_LISTEN) {
                return;
            }
            long when = keepaliveTimeMs();
            if (sk.sndMax != sk.sndUna || TcpSeq.before(sk.sndNxt, sk.writeSeq)) {
                sk.keepaliveTimer.mod(when);
                return;
            }
            long idle = keepaliveIdleMs();
            if (idle < when) {
                sk.keepaliveTimer.mod(when - idle);
                return;
            }
            if (sk.userTimeoutMs != 0 && idle >= sk.userTimeoutMs && sk.probesOut > 0
                    || sk.userTimeoutMs == 0 && sk.probesOut >= keepaliveProbesMax()) {
                sk.output.sendActiveReset(c);
                writeErr(c);
                return;
            }
            sk.net.mib.inc(c, TcpMib.Ext.TCPKeepAlive);
            if (sk.output.transmit(sk.sndUna - 1, 0, TcpHeader.ACK, c)) { // tcp_xmit_probe_skb
                sk.probesOut++;
                sk.keepaliveTimer.mod(keepaliveIntvlMs());
            } else {
                sk.keepaliveTimer.mod(RESOURCE_PROBE_MS);
            }
        } finally {
            sk.unlockSock(sk.net.core.currentCpu());
        }
    }

    /** {@code tcp_write_err}: the connection timed out (ETIMEDOUT, TCPAbortOnTimeout) and ends. */
    void writeErr(int cpu) {
        sk.reportError(sk.errSoft != null ? sk.errSoft : Errno.ETIMEDOUT); // an ICMP error seen meanwhile says why
        sk.net.mib.inc(cpu, TcpMib.Ext.TCPAbortOnTimeout);
        sk.done(cpu);
    }

    /** {@code retransmits_timed_out} with TCP_USER_TIMEOUT: the oldest byte has waited that long. */
    boolean userTimedOut() {
        return sk.retransmits > 0 && sk.nowMs() - sk.headSentMs >= sk.userTimeoutMs;
    }

    /** {@code tcp_probe0_when}: the RTO backed off by the probes sent, at most TCP_RTO_MAX. */
    long probe0When() {
        return Math.min(sk.rtoMs << Math.min(sk.backoff, 20), RTO_MAX_MS);
    }

    /** {@code tcp_clamp_probe0_to_user_timeout}: the next window probe never waits past the user timeout. */
    long clampProbe0ToUserTimeout() {
        long when = probe0When();
        if (sk.userTimeoutMs == 0 || sk.probesTstampMs == 0) {
            return when;
        }
        long remaining = sk.userTimeoutMs - (sk.nowMs() - sk.probesTstampMs);
        return remaining <= 0 ? 1 : Math.min(when, remaining);
    }

    /** {@code tcp_clamp_rto_to_user_timeout}: the next retransmission never waits past the user timeout. */
    long clampRtoToUserTimeout() {
        if (sk.userTimeoutMs == 0) {
            return sk.rtoMs;
        }
        long remaining = sk.userTimeoutMs - (sk.nowMs() - sk.headSentMs);
        return remaining <= 0 ? 1 : Math.min(sk.rtoMs, remaining);
    }

    /**
     * {@code tcp_probe_timer}: zero-window probing gives up (ETIMEDOUT) after TCP_USER_TIMEOUT from the
     * first probe even while the peer answers, as Linux 6.x does, or after {@code tcp_retries2}
     * unanswered probes. False when a probe is to be sent.
     */
    boolean probe0TimedOut(int cpu) {
        long now = sk.nowMs();
        if (sk.probesTstampMs == 0) {
            sk.probesTstampMs = now;
        } else if (sk.userTimeoutMs != 0 && now - sk.probesTstampMs >= sk.userTimeoutMs) {
            writeErr(cpu);
            return true;
        }
        int maxProbes = sk.net.retries2.get();
        if (sk.isClosed()) { // an orphan: tcp_orphan_retries, and no probing on without memory
            boolean alive = probe0When() < RTO_MAX_MS;
            maxProbes = orphanRetries(alive);
            if (!alive && sk.backoff >= maxProbes) {
                writeErr(cpu);
                return true;
            }
            if (orphanOutOfResources(cpu)) {
                return true;
            }
        }
        if (sk.probesOut >= maxProbes) {
            writeErr(cpu);
            return true;
        }
        sk.probesOut++;
        return false;
    }

    /** {@code tcp_orphan_retries}: the sysctl, where 0 means 8 while the RTO is below TCP_RTO_MAX. */
    int orphanRetries(boolean alive) {
        int retries = sk.net.tmem.orphanRetries.get();
        return retries == 0 && alive ? 8 : retries;
    }

    /** {@code tcp_out_of_resources}: an orphan that cannot be kept is reset and ends (TCPAbortOnMemory). */
    boolean orphanOutOfResources(int cpu) {
        if (!sk.checkOom()) {
            return false;
        }
        sk.output.sendActiveReset(cpu);
        sk.done(cpu);
        sk.net.mib.inc(cpu, TcpMib.Ext.TCPAbortOnMemory);
        return true;
    }
}

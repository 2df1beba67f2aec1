package org.modnet.tcp;

import static org.modnet.tcp.TcpSock.*;

import org.modnet.api.net.Errno;
import org.modnet.api.net.Jiffies;
import org.modnet.api.skb.SkBuff;

/**
 * What one connection does with a segment, as Linux's {@code net/ipv4/tcp_input.c}: {@code
 * tcp_rcv_synsent_state_process}, {@code tcp_rcv_state_process} with the established path, the checks
 * before anything is taken (PAWS, RFC 5961's challenge ACKs, out-of-window rate limits), {@code
 * tcp_ack} (window updates, D-SACK), {@code tcp_data_queue} with the out-of-order queue and what it may
 * charge to the receive buffer, the FIN, receive-buffer autotuning ({@code tcp_rcv_space_adjust}) and
 * send-buffer expansion ({@code tcp_new_space}), and simultaneous open. The state it reads and moves is
 * {@link TcpSock}'s.
 */
final class TcpInput {
    private final TcpSock sk;

    TcpInput(TcpSock sk) {
        this.sk = sk;
    }

    /** {@code tcp_rcv_synsent_state_process}. */
    void synSentRcv(SkBuff skb, int cpu) {
        int th = skb.data();
        int flags = skb.getU8(th + TcpHeader.FLAGS);
        int ack = skb.getU32(th + TcpHeader.ACK_SEQ);
        int seq = skb.getU32(th + TcpHeader.SEQ);
        if ((flags & TcpHeader.ACK) != 0) {
            if (ack != sk.sndNxt) {
                if ((flags & TcpHeader.RST) == 0) {
                    TcpProtocol.sendReset(sk.net, skb, cpu);
                }
                sk.drop = TcpDrops.Reason.TCP_OLD_ACK;
                return;
            }
            if ((flags & TcpHeader.RST) != 0) {
                sk.reportError(Errno.ECONNREFUSED); // tcp_reset in SYN-SENT
                sk.done(cpu);
                sk.drop = TcpDrops.Reason.TCP_RESET;
                return;
            }
            if ((flags & TcpHeader.SYN) == 0) {
                sk.drop = TcpDrops.Reason.TCP_FLAGS;
                return;
            }
            TcpEcn.rcvSynack(sk, flags);
            long illegal = sk.rx.illegalWscale;
            sk.rx.parse(skb, th, false, sk.net.optionSysctls());
            if (sk.rx.illegalWscale != illegal) {
                sk.net.countIllegalWscale();
            }
            sk.rx.tstampOk = sk.rx.sawTstamp && sk.net.timestamps.get() != 0;
            if (!sk.rx.wscaleOk) {
                sk.rx.sndWscale = 0;
                sk.rcvWscale = 0;
                sk.windowClamp = Math.min(sk.windowClamp, 0xffff); // no scale: no window past 16 bits
            }
            sk.tsRecent = sk.rx.rcvTsval;
            sk.tsRecentStampMs = sk.nowMs();
            sk.irs = seq;
            int synWindow = sk.rcvWndRight - sk.rcvNxt; // what our SYN offered, before rcv_nxt was known
            sk.rcvNxt = seq + 1;
            sk.rcvWndRight = sk.rcvNxt + synWindow; // rcv_wnd from rcv_wup: else the edge is the ISN's distance off
            sk.copiedSeq = sk.rcvNxt;
            sk.rbase = sk.rcvNxt;
            sk.sbase = sk.iss + 1;
            sk.sndUna = ack;
            sk.bytesAcked++; // our SYN
            sk.delivered++;
            sk.lastAckRecvMs = sk.lastDataRecvMs = sk.lastDataSentMs = sk.nowMs(); // tcp_finish_connect starts the clocks
            sk.sndWnd = skb.getU16(th + TcpHeader.WINDOW);
            sk.sndWl1 = seq;
            sk.maxWindow = sk.sndWnd;
            sk.mss = TcpErr.optionMss(sk);
            TcpErr.initMss(sk);
            if (sk.retransmits == 0) {
                sk.timers.rttSample(sk.nowMs() - sk.rttStampMs);
            }
            sk.retransmits = 0;
            sk.rtxTimer.del();
            sk.setState(TCP_ESTABLISHED, cpu);
            sk.establishedHook();
            sk.output.sendAck(cpu);
            sk.wake();
            return;
        }
        // no ACK: a RST is ignored; a bare SYN is a simultaneous open
        if ((flags & TcpHeader.SYN) != 0 && (flags & TcpHeader.RST) == 0) {
            simultaneousOpen(skb, th, seq, cpu);
            return;
        }
        sk.drop = (flags & TcpHeader.RST) != 0 ? TcpDrops.Reason.TCP_RESET : TcpDrops.Reason.TCP_FLAGS;
    }

    /** {@code tcp_rcv_state_process} for every synchronized state, SYN-RECV and TIME-WAIT. */
    void rcvStateProcess(SkBuff skb, int cpu) {
        int th = skb.data();
        int hlen = (skb.getU8(th + TcpHeader.DOFF) >>> 4) * 4;
        int flags = skb.getU8(th + TcpHeader.FLAGS);
        int seq = skb.getU32(th + TcpHeader.SEQ);
        int ack = skb.getU32(th + TcpHeader.ACK_SEQ);
        int len = skb.len() - hlen;
        boolean syn = (flags & TcpHeader.SYN) != 0;
        boolean fin = (flags & TcpHeader.FIN) != 0;
        int endSeq = seq + len + (syn ? 1 : 0) + (fin ? 1 : 0);
        sk.rx.parse(skb, th, true, sk.net.optionSysctls());

        if ((flags & (TcpHeader.ACK | TcpHeader.RST | TcpHeader.SYN)) == 0) {
            sk.drop = TcpDrops.Reason.TCP_FLAGS; // Linux drops it before the sequence check: no dupack
            return;
        }
        if (pawsReject(flags, seq, ack, len, endSeq, skb.getU16(th + TcpHeader.WINDOW), cpu)) {
            sk.drop = (flags & TcpHeader.SYN) != 0 ? TcpDrops.Reason.TCP_INVALID_SYN : TcpDrops.Reason.TCP_RFC7323_PAWS;
            return;
        }
        // tcp_sequence: the segment must overlap the window (a zero-length one may sit at its edge)
        int window = Math.max(sk.rcvWndRight - sk.rcvNxt, 0);
        if (TcpSeq.before(endSeq, sk.rcvNxt) || TcpSeq.after(seq, sk.rcvNxt + window)
                || (len > 0 && window == 0 && seq == sk.rcvNxt && endSeq != sk.rcvNxt && !fin)) {
            sk.drop = TcpSeq.before(endSeq, sk.rcvNxt) ? TcpDrops.Reason.TCP_OLD_SEQUENCE : TcpDrops.Reason.TCP_INVALID_SEQUENCE;
            if ((flags & TcpHeader.RST) == 0) {
                if (syn) {
                    synChallenge(cpu); // RFC 5961 4.2: any SYN, in the window or not
                    return;
                }
                if (len > 0 && window == 0) {
                    sk.net.mib.inc(cpu, TcpMib.Ext.TCPZeroWindowDrop);
                    sk.drop = TcpDrops.Reason.TCP_ZEROWINDOW;
                }
                if (endSeq != seq && !syn || !oowRateLimited(cpu, TcpMib.Ext.TCPACKSkippedSeq)) { // data is no ACK loop
                    sendDupack(seq, endSeq, cpu);
                }
            }
            return;
        }
        if ((flags & TcpHeader.RST) != 0) {
            sk.drop = TcpDrops.Reason.TCP_RESET;
            if (seq == sk.rcvNxt) {
                resetRcv(cpu);
            } else {
                challengeAck(cpu);
            }
            return;
        }
        if (syn && !simultaneousSynAck(flags, seq, ack)) {
            if (sk.state() == TCP_SYN_RECV && seq == sk.irs) {
                sk.output.synackRetransmit(cpu); // the peer sent its SYN again: our SYN-ACK was lost (tcp_check_req)
                return;
            }
            synChallenge(cpu);
            return;
        }
        replaceTsRecent(flags, seq, ack); // after the SYN check, as tcp_ack does it: a challenged SYN's TSval is no ts_recent
        if ((flags & TcpHeader.ACK) == 0) {
            sk.drop = TcpDrops.Reason.TCP_FLAGS;
            return;
        }
        boolean establishing = sk.state() == TCP_SYN_RECV;
        if (sk.state() == TCP_SYN_RECV) {
            if (!TcpSeq.between(ack, sk.sndUna + 1, sk.sndNxt)) {
                TcpProtocol.sendReset(sk.net, skb, cpu);
                sk.drop = TcpDrops.Reason.TCP_OLD_ACK;
                return;
            }
            boolean passive = sk.parent != null;
            boolean synackTimed = passive && sk.inSynQueue && sk.retransmits == 0; // a cookie's SYN-ACK was not timed
            if (!sk.joinAcceptQueue(cpu)) {
                sk.drop = TcpDrops.Reason.TCP_LISTEN_OVERFLOW;
                if (sk.parent != null && (sk.parent.isClosed() || sk.parent.state() != TCP_LISTEN)) {
                    sk.output.sendActiveReset(cpu);
                    sk.done(cpu);
                }
                return;
            }
            if (passive) {
                sk.net.mib.inc(cpu, TcpMib.Tcp.PassiveOpens);
                synackRttMeas(synackTimed);
                sk.bytesAcked = -1; // tcpAck below counts our SYN-ACK, which Linux's child starts with acknowledged
                sk.segsIn = 2; // the SYN and this ACK: the child Linux makes starts counting at the SYN
                sk.segsOut = 0; // the SYN-ACKs were the request sock's
                sk.lastAckRecvMs = sk.lastDataRecvMs = sk.lastDataSentMs = sk.nowMs(); // as tcp_create_openreq_child starts them
            }
            sk.allocRings();
            sk.rtxTimer.del();
            sk.retransmits = 0;
            sk.sndWnd = skb.getU16(th + TcpHeader.WINDOW) << sk.rx.sndWscale;
            boolean grew = sk.sndWnd > sk.maxWindow;
            sk.maxWindow = sk.sndWnd;
            if (grew) {
                TcpErr.maxWindowGrew(sk); // the SYN's unscaled window bounded the MSS; the scaled one may lift it
            }
            sk.sndWl1 = seq;
            sk.setState(TCP_ESTABLISHED, cpu);
            sk.establishedHook();
            if (!passive) {
                simultaneousEstablished(seq, cpu);
            }
        }
        if (!tcpAck(skb, th, seq, ack, cpu)) {
            if (sk.state() != TCP_ESTABLISHED || sk.drop == TcpDrops.Reason.TCP_TOO_OLD_ACK) {
                challengeAck(cpu); // tcp_rcv_state_process answers any unacceptable ACK; ESTABLISHED only a too old one
            }
            return;
        }
        if (establishing) {
            sk.cw.cwnd = INIT_CWND; // tcp_init_transfer: the window starts after the handshake's ACK, not grown by it
            sk.cwndStampMs = sk.nowMs();
        }
        // the FIN we sent may now be acknowledged
        boolean finAcked = sk.finSent && sk.sndUna == sk.writeSeq + 1;
        switch (sk.state()) {
            case TCP_FIN_WAIT1 -> {
                if (finAcked) {
                    sk.setState(TCP_FIN_WAIT2, cpu);
                    sk.setShutdownBits(sk.shutdownBits() | SEND_SHUTDOWN);
                    sk.wake();
                    if (sk.isClosed()) {
                        if (!fin && len == 0 && sk.orphanFinWait2(cpu)) {
                            return;
                        }
                        sk.twTimer.mod(sk.net.finTimeout.get() * 1000L); // tcp_fin_timeout for an orphan
                    }
                }
            }
            case TCP_CLOSING -> {
                if (finAcked) {
                    sk.enterTimewait(cpu);
                    return;
                }
            }
            case TCP_LAST_ACK -> {
                if (finAcked) {
                    sk.done(cpu);
                    return;
                }
            }
            default -> {
            }
        }
        if (len > 0 || fin) {
            TcpEcn.acceptCwr(sk, flags, len);
            dataQueue(skb, th + hlen, seq, len, fin, cpu);
        }
        sk.output.writeXmit(cpu);
        newSpace(cpu); // tcp_data_snd_check: tcp_check_space after the push
        ackSndCheck(cpu);
    }

    /**
     * {@code tcp_validate_incoming}'s syn_challenge: a SYN on a synchronized connection (RFC 5961 4.2) is
     * TCPSYNChallenge and a challenge ACK; in ESTABLISHED ({@code tcp_rcv_established}) also InErrs.
     */
    void synChallenge(int cpu) {
        if (sk.state() == TCP_ESTABLISHED) {
            sk.net.mib.inc(cpu, TcpMib.Tcp.InErrs);
        }
        sk.net.mib.inc(cpu, TcpMib.Ext.TCPSYNChallenge);
        challengeAck(cpu);
        sk.drop = TcpDrops.Reason.TCP_INVALID_SYN;
    }

    /** {@code tcp_reset}: the peer reset the connection. */
    void resetRcv(int cpu) {
        if (sk.state() == TCP_SYN_RECV && sk.parent != null) {
            sk.net.mib.inc(cpu, TcpMib.Ext.EmbryonicRsts); // a request the peer gave up: nobody to tell
            sk.stateStore(TCP_CLOSE);
            sk.done(cpu);
            return;
        }
        sk.reportError(sk.state() == TCP_CLOSE_WAIT ? Errno.EPIPE : Errno.ECONNRESET);
        sk.done(cpu);
    }

    /** {@code tcp_send_challenge_ack} (RFC 5961), at most one per {@code tcp_invalid_ratelimit}. */
    void challengeAck(int cpu) {
        if (oowRateLimited(cpu, TcpMib.Ext.TCPACKSkippedChallenge)) {
            return;
        }
        sk.net.mib.inc(cpu, TcpMib.Ext.TCPChallengeACK);
        sk.output.sendAck(cpu);
    }

    /**
     * {@code tcp_oow_rate_limited}: answers to out-of-window segments go at most once per
     * {@code net.ipv4.tcp_invalid_ratelimit} (500 ms), so two ends that disagree cannot start an ACK storm.
     */
    boolean oowRateLimited(int cpu, TcpMib.Ext counter) {
        long now = sk.nowMs();
        if (sk.lastOowAckMs != 0 && now - sk.lastOowAckMs < sk.net.invalidRatelimit.get()) {
            sk.net.mib.inc(cpu, counter);
            return true;
        }
        sk.lastOowAckMs = now;
        return false;
    }

    /**
     * {@code tcp_ack}: an ACK for data not sent is answered and dropped; an old one is ignored; a new one
     * frees the acknowledged bytes, updates the send window (RFC 9293 3.10.7.4's SND.WL1/WL2 rule), takes
     * an RTT sample and opens the congestion window. Returns false when the segment is to be dropped.
     */
    boolean tcpAck(SkBuff skb, int th, int seq, int ack, int cpu) {
        if (TcpSeq.after(ack, sk.sndMax)) {
            sk.drop = TcpDrops.Reason.TCP_ACK_UNSENT_DATA;
            return false; // RFC 9293 3.10.7.4: an ACK of data not yet sent is dropped
        }
        if (TcpSeq.before(ack, sk.sndUna - sk.maxWindow)) {
            sk.drop = TcpDrops.Reason.TCP_TOO_OLD_ACK;
            return false; // RFC 5961 5.2: older than any ACK the peer could still send, a blind injection
        }
        if (TcpSeq.after(ack, sk.sndNxt)) {
            sk.sndNxt = ack; // what went back for retransmission was received after all
            if (sk.finQueued && ack == sk.writeSeq + 1) {
                sk.finSent = true;
            }
        }
        if (TcpSeq.before(ack, sk.sndUna)) {
            sk.rec.oldAck(ack, cpu); // tcp_ack's old_ack: its SACK blocks still count
            return true; // an old duplicate: its data may still be new
        }
        sk.lastAckRecvMs = sk.nowMs(); // icsk_ack.rcv_tstamp
        sk.probesOut = 0;
        int wnd = skb.getU16(th + TcpHeader.WINDOW) << sk.rx.sndWscale;
        int hlen = (skb.getU8(th + TcpHeader.DOFF) >>> 4) * 4;
        int flag = skb.len() > hlen ? TcpRecovery.FLAG_DATA : 0;
        if (TcpEcn.ecnEcho(sk, skb.getU8(th + TcpHeader.FLAGS))) {
            flag |= TcpRecovery.FLAG_ECE;
        }
        if (mayUpdateWindow(ack, seq, wnd)) {
            flag |= TcpRecovery.FLAG_WIN_UPDATE;
        }
        if (TcpSeq.after(ack, sk.sndUna) || TcpSeq.after(seq, sk.sndWl1) || (seq == sk.sndWl1 && TcpSeq.afterOrEqual(ack, sk.sndUna))) {
            sk.sndWnd = wnd;
            sk.sndWl1 = seq;
            if (wnd > sk.maxWindow) {
                sk.maxWindow = wnd;
                TcpErr.maxWindowGrew(sk);
            }
        }
        ackReceived(ack, cpu);
        int acked = ack - sk.sndUna;
        // tcp_ack: the scoreboard first (snd_una is the ACK's already, as Linux's tcp_snd_una_update runs before the SACK tags)
        TcpRecovery rec = sk.rec;
        int priorUna = sk.sndUna;
        int priorFack = rec.highestSackSeq();
        int deliveredBefore = sk.delivered;
        int lostBefore = rec.lost;
        if (acked > 0) {
            flag |= TcpRecovery.FLAG_SND_UNA_ADVANCED;
            sk.sndUna = ack;
        }
        flag |= rec.sacktag(ack, priorUna, cpu);
        sk.sndUna = priorUna;
        if (acked <= 0) {
            long rttUs = rec.ackUpdateRtt(flag); // a SACK times what it delivered too
            rec.ackDone(ack, priorUna, rec.rttFlag, deliveredBefore, lostBefore, rttUs, cpu);
            return true;
        }
        if (sk.rttTiming && TcpSeq.afterOrEqual(ack, sk.rttSeq)) {
            sk.rttTiming = false;
        }
        sk.sndUna = ack;
        sk.memSync(cpu);
        flag |= rec.cleanRtxQueue(ack, priorUna, priorFack, cpu);
        long rttUs = rec.ackUpdateRtt(flag);
        flag = rec.rttFlag;
        sk.chronoStop(TcpSock.CHRONO_BUSY); // tcp_clean_rtx_queue: all acknowledged and nothing waiting ends the busy time
        sk.bytesAcked += acked;
        sk.retransmits = 0;
        if (sk.sndUna == sk.sndNxt && rec.q.packetsOut == 0) {
            rec.pending = 0;
            sk.rtxTimer.clear(); // inet_csk_clear_xmit_timer: the wheel's timer stays, the next send only moves it
            flag &= ~TcpRecovery.FLAG_SET_XMIT_TIMER;
        }
        rec.ackDone(ack, priorUna, flag, deliveredBefore, lostBefore, rttUs, cpu);
        return true; // a writer waiting for room is woken by newSpace, once a third of the buffer is free
    }

    /**
     * {@code tcp_synack_rtt_meas}: the handshake's last ACK times the SYN-ACK, by its timestamp echo when
     * there is one (tcpAck takes that sample), else from the SYN-ACK's send when it was not retransmitted.
     */
    void synackRttMeas(boolean timed) {
        if (!(sk.rx.tstampOk && sk.rx.sawTstamp && sk.rx.rcvTsecr != 0) && timed) {
            sk.timers.rttSample(sk.nowMs() - sk.rttStampMs);
        }
    }

    /**
     * {@code tcp_data_queue}: in-order bytes go into the receive ring (and the out-of-order queue is
     * spliced after them), bytes ahead of {@code rcv_nxt} wait in the out-of-order queue (bounded:
     * TCPOFODrop), a FIN in order shuts the receive side and moves the state on. Data reaching a socket
     * the user closed resets it (TCPAbortOnData).
     */
    void dataQueue(SkBuff skb, int payload, int seq, int len, boolean fin, int cpu) {
        if (len > 0 && (sk.isClosed() || (sk.shutdownBits() & RCV_SHUTDOWN) != 0 && !sk.finReceived)
                && (sk.state() == TCP_FIN_WAIT1 || sk.state() == TCP_FIN_WAIT2 || sk.isClosed())) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPAbortOnData);
            TcpProtocol.sendReset(sk.net, skb, cpu); // tcp_reset, then tcp_v4_do_rcv's reset answers the segment (RST at its ACK)
            sk.done(cpu);
            sk.drop = TcpDrops.Reason.TCP_ABORT_ON_DATA;
            return;
        }
        if (sk.finReceived) {
            if (TcpSeq.before(seq, sk.rcvNxt)) { // the peer sent it again: our ACK was lost, send it again now
                finAgain(seq, len, fin, cpu);
                sk.ackPending = true;
                sk.quickAcks = Math.max(sk.quickAcks, 1);
                sk.drop = TcpDrops.Reason.TCP_OLD_DATA;
            } else {
                sk.drop = TcpDrops.Reason.TCP_CLOSE; // nothing comes after the FIN
            }
            return;
        }
        if (TcpSeq.after(seq, sk.rcvNxt)) {
            if (len > 0) {
                TcpEcn.checkCe(sk, skb); // tcp_data_queue_ofo
            }
            ofoQueue(skb, payload, seq, len, fin, cpu);
            sk.memSync(cpu);
            sk.ackPending = true;
            sk.ackNow = true; // a hole: acknowledge at once (a duplicate ACK), ato untouched
            return;
        }
        oldData(seq, len, fin, cpu);
        int skip = sk.rcvNxt - seq;
        int n = len - skip;
        if (n > 0) {
            TcpEcn.checkCe(sk, skb); // tcp_event_data_recv
            int room = sk.rcvRoom();
            int take = Math.min(n, room);
            if (take == 0) {
                sk.net.mib.inc(cpu, TcpMib.Ext.TCPZeroWindowDrop); // no room at all: the window was zero
                fin = false;
            } else if (take < n) {
                sk.net.mib.inc(cpu, TcpMib.Ext.TCPRcvQDrop);
                fin = false; // the FIN comes after bytes we could not keep
                if (take == 0) {
                    sk.drop = TcpDrops.Reason.PROTO_MEM;
                }
            }
            if (take >= 128) {
                growWindow(skb.truesize(), take); // tcp_event_data_recv
            }
            int eaten = sk.ucopy(skb, payload + skip, take); // a sleeping reader's buffer first (tp->ucopy)
            sk.rcvNxt += eaten;
            copyToRing(skb, payload + skip + eaten, take - eaten);
            sk.rcvNxt += take - eaten;
            sk.rcvdSinceAck += take;
            sk.bytesReceived += take;
            if (take > 0) {
                eventDataRecv();
            }
        }
        sk.ackPending = true;
        if (n <= 0 && !(fin && n == 0)) {
            enterQuickackMode(); // a retransmission: acknowledge at once (a dupack), and the next few too
            sk.drop = TcpDrops.Reason.TCP_OLD_DATA;
        }
        if (fin && n >= 0) {
            finRcv(cpu);
        }
        boolean hole = sk.ofoCount > 0;
        ofoSplice(cpu);
        if (hole && sk.ofoCount == 0) {
            sk.ackNow = true; // RFC 5681 4.2, as tcp_data_queue: the gap filled is acknowledged at once (ICSK_ACK_NOW)
        }
        if (sk.sacks.num > 0) {
            sk.sacks.remove(sk.rcvNxt, sk.ofoCount == 0);
        }
        sk.memSync(cpu);
        sk.wake();
    }

    /**
     * {@code tcp_init_buffer_space}: the window clamp is the buffer's window, less one segment kept back
     * for the application ({@code tcp_app_win} 31, Linux's default, reserves nothing more); {@code
     * rcv_ssthresh} within it; the first RTT's measure starts at ten segments or the window, if smaller.
     */
    void initBufferSpace() {
        int advmss = Math.max(sk.advmss, 1);
        int maxwin = sk.fullSpace();
        if (Integer.compareUnsigned(sk.windowClamp, maxwin) >= 0) {
            sk.windowClamp = maxwin;
            if (maxwin > 4 * advmss) {
                sk.windowClamp = Math.max(maxwin - (maxwin >> TCP_APP_WIN), 4 * advmss);
            }
        }
        if (sk.windowClamp > 2 * advmss && sk.windowClamp + advmss > maxwin) { // force the reservation of one segment
            sk.windowClamp = Math.max(2 * advmss, maxwin - advmss);
        }
        sk.rcvSsthresh = Math.min(sk.rcvSsthresh, sk.windowClamp);
        sk.rcvqSpace = Math.min(Math.min(sk.rcvSsthresh, sk.rcvWnd), INIT_CWND * advmss);
        sk.rcvqSeq = sk.copiedSeq;
        sk.rcvqTimeMs = sk.nowMs();
    }

    /** {@code tcp_app_win}: a 1/2^31 of the window is the application's, i.e. none (Linux's default). */
    static final int TCP_APP_WIN = 31;

    /**
     * {@code tcp_grow_window}: a data segment of {@code len} bytes that arrived in {@code truesize}
     * raises {@code rcv_ssthresh} towards the clamp and the free buffer's window, by two segments (or
     * twice the segment) when its overhead is no worse than the ratio plans for, by {@code
     * __tcp_grow_window}'s smaller steps when it is, and asks for a quick ACK to announce it. Under
     * TCP memory pressure {@code rcv_ssthresh} falls to four segments instead.
     */
    void growWindow(int truesize, int len) {
        int room = Math.min(sk.windowClamp, sk.tcpSpace()) - sk.rcvSsthresh;
        if (room <= 0) {
            return;
        }
        if (sk.net.tmem.underPressure()) {
            sk.rcvSsthresh = Math.min(sk.rcvSsthresh, 4 * sk.advmss); // tcp_adjust_rcv_ssthresh
            return;
        }
        int incr = sk.winFromSpace(truesize) <= len ? 2 * sk.advmss : growWindowSlow(truesize, len);
        if (incr > 0) {
            incr = Math.max(incr, 2 * len);
            sk.rcvSsthresh += Math.min(room, incr);
            sk.quickAcks = Math.max(sk.quickAcks, 1); // icsk_ack.quick |= 1: the next ACK carries the wider window
        }
    }

    /** {@code __tcp_grow_window}: a wasteful segment still grows the window while it is small against {@code tcp_rmem[2]}. */
    private int growWindowSlow(int truesize, int len) {
        int t = sk.winFromSpace(truesize) >> 1;
        int window = sk.winFromSpace(sk.net.rmem.get()[2]) >> 1;
        while (sk.rcvSsthresh <= window) {
            if (t <= len) {
                return 2 * sk.ackRcvMss();
            }
            t >>= 1;
            window >>= 1;
        }
        return 0;
    }

    /**
     * {@code tcp_clamp_window}: the receive memory passed the buffer. An autotuned buffer grows to what
     * is queued ({@code tcp_rmem[2]} at most, not under memory pressure); if that is still short, {@code
     * rcv_ssthresh} falls to two segments, so the windows offered shrink as the reads and arrivals move.
     */
    void clampWindow() {
        int rmem2 = sk.net.rmem.get()[2];
        if (sk.rcvbuf() < rmem2 && (sk.userLocks() & SOCK_RCVBUF_LOCK) == 0 && !sk.net.tmem.underPressure()) {
            sk.setSockBuffers(sk.sndbuf(), Math.min(sk.rmemQueued(), rmem2), sk.userLocks());
            growRbuf();
        }
        if (sk.rmemQueued() > sk.rcvbuf()) {
            sk.rcvSsthresh = Math.min(sk.windowClamp, 2 * sk.advmss);
        }
    }

    /**
     * {@code tcp_rcv_space_adjust} (dynamic right-sizing): once per RTT, when the application read more
     * than in the RTT before, SO_RCVBUF grows to twice a window of twice that read plus sixteen segments
     * and the growth's share again ({@code tcp_rmem[2]} at most), unless the user set SO_RCVBUF or
     * {@code tcp_moderate_rcvbuf} is 0. The RTT is the connection's smoothed one.
     */
    void rcvSpaceAdjust() {
        if (sk.rbuf == null || sk.srttUs == 0 || sk.rcvqSpace == 0) {
            return;
        }
        long now = sk.nowMs();
        if (now - sk.rcvqTimeMs < Math.max(sk.srttUs / 1000, 1)) {
            return;
        }
        int copied = sk.copiedSeq - sk.rcvqSeq;
        if (copied > sk.rcvqSpace) {
            if (sk.net.tmem.moderateRcvbuf.get() != 0 && (sk.userLocks() & SOCK_RCVBUF_LOCK) == 0) {
                long rcvwin = ((long) copied << 1) + 16L * sk.advmss;
                rcvwin += (rcvwin * (copied - sk.rcvqSpace) / sk.rcvqSpace) << 1;
                int want = (int) Math.min((rcvwin << TCP_RMEM_TO_WIN_SCALE) / sk.scalingRatio, sk.net.rmem.get()[2]); // tcp_space_from_win
                if (want > sk.rcvbuf()) {
                    sk.setSockBuffers(sk.sndbuf(), want, sk.userLocks());
                    sk.windowClamp = sk.winFromSpace(want); // the clamp follows along
                    growRbuf();
                }
            }
            sk.rcvqSpace = copied;
        }
        sk.rcvqSeq = sk.copiedSeq;
        sk.rcvqTimeMs = now;
    }

    /**
     * The receive ring's limit follows SO_RCVBUF up, doubling at most once per call (once per RTT); the
     * ring itself grows to it only as data needs ({@link #rcvRingReserve}).
     */
    void growRbuf() {
        sk.rbufLimit = Math.max(sk.rbufLimit, Math.min(rcvRingSize(sk.rcvbuf()), sk.rbufLimit << 1));
    }

    /**
     * {@code tcp_try_rmem_schedule}: room for {@code size} more bytes while the receive memory is within
     * SO_RCVBUF and {@code tcp_mem[2]} (a connection may always hold {@code tcp_rmem[0]}); otherwise
     * {@code tcp_prune_queue} (PruneCalled) prunes the out-of-order queue, and RcvPruned counts when even
     * that leaves the socket over its buffer. What is charged is bytes in the ring, so a window of
     * out-of-order data fits the buffer that offered it: only TCP's memory limits, or a buffer the user
     * shrank, prune.
     */
    boolean rmemSchedule(int size, int seq, int cpu) {
        if (sk.rmemQueued() <= sk.rcvbuf() && sk.memAllowed(size)) {
            return true;
        }
        sk.net.mib.inc(cpu, TcpMib.Ext.PruneCalled);
        if (sk.rmemQueued() >= sk.rcvbuf()) {
            clampWindow(); // tcp_prune_queue
        }
        if (sk.rmemQueued() > sk.rcvbuf() || sk.net.tmem.underPressure()) {
            pruneOfo(seq, cpu);
        }
        if (sk.rmemQueued() > sk.rcvbuf()) {
            sk.net.mib.inc(cpu, TcpMib.Ext.RcvPruned);
            return false;
        }
        while (!sk.memAllowed(size)) {
            if (!pruneOfo(seq, cpu)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code tcp_prune_ofo_queue}: drops out-of-order ranges from the highest sequence down, never one
     * at or below the arriving {@code seq}, until the socket is within SO_RCVBUF and TCP is not under
     * memory pressure (freeing at least an eighth of the buffer at a time); OfoPruned, and the SACK
     * blocks describe nothing any more. Their bytes stay in the ring unreferenced, to be written over.
     * False when nothing could be dropped.
     */
    boolean pruneOfo(int seq, int cpu) {
        if (sk.ofoCount == 0 || !TcpSeq.after(sk.ofoSeq[sk.ofoCount - 1], seq)) {
            return false;
        }
        int goal = sk.rcvbuf() >> 3;
        while (sk.ofoCount > 0 && TcpSeq.after(sk.ofoSeq[sk.ofoCount - 1], seq)) {
            sk.ofoCount--;
            int n = sk.ofoEnd[sk.ofoCount] - sk.ofoSeq[sk.ofoCount];
            sk.ofoBytes -= n;
            goal -= n;
            if (goal <= 0 || sk.ofoCount == 0) {
                if (sk.rmemQueued() <= sk.rcvbuf() && !sk.net.tmem.underPressure()) {
                    break;
                }
                goal = sk.rcvbuf() >> 3;
            }
        }
        sk.net.mib.inc(cpu, TcpMib.Ext.OfoPruned);
        sk.sacks.clear();
        sk.memSync(cpu);
        return true;
    }

    /** In-order bytes go into the ring at {@code rcv_nxt}. */
    void copyToRing(SkBuff skb, int offset, int n) {
        ringWrite(skb, offset, sk.rcvNxt, n);
    }

    /**
     * {@code n} bytes of {@code skb} from {@code offset} go into the receive ring at sequence {@code seq}
     * (at or beyond {@code rcv_nxt}), the ring growing first if it must, with what it holds kept.
     */
    void ringWrite(SkBuff skb, int offset, int seq, int n) {
        if (n <= 0) {
            return;
        }
        sk.rcvRingReserve(seq + n - sk.copiedSeq);
        int at = (seq - sk.rbase) & (sk.rbuf.length - 1);
        int first = Math.min(n, sk.rbuf.length - at);
        skb.getBytes(offset, sk.rbuf, at, first);
        if (first < n) {
            skb.getBytes(offset + first, sk.rbuf, 0, n - first);
        }
    }

    /**
     * {@code tcp_data_queue_ofo}: bytes ahead of {@code rcv_nxt} are copied into the receive ring at
     * their place (beyond the in-order tail, in the room the window offered; the skb is freed by the
     * caller at once) and only the range they fill is queued, merged with the ranges it overlaps or
     * touches. Bytes all queued already are TCPOFOMerge and D-SACKed; an overlap is D-SACKed, and each
     * queued range the segment covers whole is merged away (TCPOFOMerge); bytes the ring has are
     * written again with the same data. Refused as TCPOFODrop: beyond the window, over the memory
     * limits, or a new range past {@link TcpSock#OFO_MAX}. The SACK blocks learn the range
     * ({@code tcp_sack_new_ofo_skb}).
     */
    void ofoQueue(SkBuff skb, int payload, int seq, int len, boolean fin, int cpu) {
        int end = seq + len;
        if (len == 0 && !fin || TcpSeq.after(end, sk.rcvNxt + sk.rcvRoom())) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPOFODrop);
            sk.drop = TcpDrops.Reason.TCP_OFO_DROP;
            return;
        }
        if (!rmemSchedule(len, seq, cpu)) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPOFODrop);
            sk.drop = TcpDrops.Reason.PROTO_MEM;
            return;
        }
        int i = 0; // the ranges [i, j) overlap or touch [seq, end)
        while (i < sk.ofoCount && TcpSeq.before(sk.ofoEnd[i], seq)) {
            i++;
        }
        int j = i;
        while (j < sk.ofoCount && !TcpSeq.after(sk.ofoSeq[j], end)) {
            j++;
        }
        for (int k = i; k < j; k++) {
            if (len > 0 && !TcpSeq.after(sk.ofoSeq[k], seq) && !TcpSeq.after(end, sk.ofoEnd[k]) && sk.ofoSeq[k] != sk.ofoEnd[k]
                    && (!fin || sk.ofoFin[k] && sk.ofoEnd[k] == end)) {
                sk.net.mib.inc(cpu, TcpMib.Ext.TCPOFOMerge); // all the bytes are here already
                sk.drop = TcpDrops.Reason.TCP_OFOMERGE;
                dsackSet(seq, end, cpu);
                if (sk.rx.sackOk) {
                    sk.sacks.newOfo(seq, end);
                }
                return;
            }
        }
        if (i == j && sk.ofoCount == OFO_MAX) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPOFODrop); // one more hole than the range table holds
            sk.drop = TcpDrops.Reason.TCP_OFO_DROP;
            return;
        }
        int mergedSeq = seq;
        int mergedEnd = end;
        int had = 0;
        for (int k = i; k < j; k++) {
            int s = sk.ofoSeq[k];
            int e = sk.ofoEnd[k];
            if (TcpSeq.before(s, seq) && TcpSeq.after(e, seq)) {
                dsackSet(seq, TcpSeq.after(e, end) ? end : e, cpu); // a partial overlap on the left
            } else if (!TcpSeq.before(s, seq) && TcpSeq.before(s, end) && s != e) {
                dsackExtend(s, TcpSeq.after(e, end) ? end : e, cpu);
                if (!TcpSeq.after(e, end) && (fin || !sk.ofoFin[k])) {
                    sk.net.mib.inc(cpu, TcpMib.Ext.TCPOFOMerge); // covered whole: merged away
                }
            }
            mergedSeq = TcpSeq.before(s, mergedSeq) ? s : mergedSeq;
            mergedEnd = TcpSeq.after(e, mergedEnd) ? e : mergedEnd;
            had += e - s;
        }
        boolean mergedFin = fin && end == mergedEnd || i < j && sk.ofoFin[j - 1] && sk.ofoEnd[j - 1] == mergedEnd;
        // before the ranges change, so that a ring that grows keeps the queued ones; a FIN alone reserves
        // its place too, as the ring must reach every range's end
        sk.rcvRingReserve(end - sk.copiedSeq);
        ringWrite(skb, payload, seq, len);
        sk.ofoReserve();
        if (i == j) {
            System.arraycopy(sk.ofoSeq, i, sk.ofoSeq, i + 1, sk.ofoCount - i);
            System.arraycopy(sk.ofoEnd, i, sk.ofoEnd, i + 1, sk.ofoCount - i);
            System.arraycopy(sk.ofoFin, i, sk.ofoFin, i + 1, sk.ofoCount - i);
            sk.ofoCount++;
        } else if (j - i > 1) {
            System.arraycopy(sk.ofoSeq, j, sk.ofoSeq, i + 1, sk.ofoCount - j);
            System.arraycopy(sk.ofoEnd, j, sk.ofoEnd, i + 1, sk.ofoCount - j);
            System.arraycopy(sk.ofoFin, j, sk.ofoFin, i + 1, sk.ofoCount - j);
            sk.ofoCount -= j - i - 1;
        }
        sk.ofoSeq[i] = mergedSeq;
        sk.ofoEnd[i] = mergedEnd;
        sk.ofoFin[i] = mergedFin;
        sk.ofoBytes += mergedEnd - mergedSeq - had;
        sk.net.mib.inc(cpu, TcpMib.Ext.TCPOFOQueue);
        sk.rcvOoopack++;
        if (len > 0) {
            growWindow(skb.truesize(), len); // tcp_data_queue_ofo
        }
        if (sk.rx.sackOk) {
            sk.sacks.newOfo(seq, end);
        }
    }

    /**
     * {@code tcp_ofo_queue}: ranges the hole's filling made in order join the stream. Their bytes are in
     * the ring already: {@code rcv_nxt} moves over them, nothing is copied.
     */
    void ofoSplice(int cpu) {
        while (sk.ofoCount > 0 && !sk.finReceived && TcpSeq.beforeOrEqual(sk.ofoSeq[0], sk.rcvNxt)) {
            int end = sk.ofoEnd[0];
            boolean fin = sk.ofoFin[0];
            sk.ofoBytes -= end - sk.ofoSeq[0];
            sk.ofoCount--;
            System.arraycopy(sk.ofoSeq, 1, sk.ofoSeq, 0, sk.ofoCount);
            System.arraycopy(sk.ofoEnd, 1, sk.ofoEnd, 0, sk.ofoCount);
            System.arraycopy(sk.ofoFin, 1, sk.ofoFin, 0, sk.ofoCount);
            if (TcpSeq.after(end, sk.rcvNxt)) {
                int n = end - sk.rcvNxt;
                sk.rcvNxt = end;
                sk.rcvdSinceAck += n;
                sk.bytesReceived += n;
            }
            if (fin && end == sk.rcvNxt) {
                finRcv(cpu);
            }
        }
    }

    /** {@code tcp_fin}: the peer has no more to send. */
    void finRcv(int cpu) {
        sk.finReceived = true;
        sk.ofoCount = 0; // tcp_fin purges the out-of-order queue: nothing comes after the FIN
        sk.ofoBytes = 0;
        sk.rcvNxt++;
        sk.bytesReceived++; // tcp_rcv_nxt_update counts the FIN's sequence number too
        sk.setShutdownBits(sk.shutdownBits() | RCV_SHUTDOWN);
        sk.quickAcks = Math.max(sk.quickAcks, 1);
        switch (sk.state()) {
            case TCP_SYN_RECV, TCP_ESTABLISHED -> {
                sk.setState(TCP_CLOSE_WAIT, cpu);
                sk.enterPingpongMode(); // a peer that has said all it will gets no more quick ACKs
            }
            case TCP_FIN_WAIT1 -> sk.setState(TCP_CLOSING, cpu);
            case TCP_FIN_WAIT2 -> sk.enterTimewait(cpu); // the ACK of the FIN goes from ackSndCheck
            default -> {
            }
        }
        sk.wake();
    }

    /** {@code __tcp_ack_snd_check}: more than a segment with the window's edge moving, a quick-ACK moment or a hole is an ACK now; otherwise the delayed ACK. */
    void ackSndCheck(int cpu) {
        if (!sk.ackPending) {
            return;
        }
        // more than one full segment since the last ACK, and the window's right edge would move (the reader
        // has taken what came, else its read acknowledges: tcp_cleanup_rbuf); a quick-ACK moment; a hole
        boolean frames = sk.rcvdSinceAck > sk.ackRcvMss() && (sk.rcvNxt == sk.copiedSeq || sk.output.freeWindow() >= sk.rcvWnd);
        boolean quick = sk.quickAcks > 0 && !sk.inPingpong(); // tcp_in_quickack_mode: not on an interactive connection
        if (sk.ackNow || quick || frames || sk.state() != TCP_ESTABLISHED && sk.state() != TCP_CLOSE) {
            if (quick && --sk.quickAcks == 0) {
                sk.atoMs = DELACK_MS; // tcp_dec_quickack_mode: leaving quick-ACK mode deflates ato
            }
            sk.output.sendAck(cpu);
        } else {
            sendDelayedAck(cpu);
        }
    }

    /**
     * {@code tcp_send_delayed_ack}: the ACK waits ato, which past 40 ms is held to the smoothed RTT (at
     * least 40 ms) and half a second, and always to TCP_DELACK_MAX. A timer already running keeps its
     * earlier deadline, and one due within a quarter of ato sends the ACK now.
     */
    void sendDelayedAck(int cpu) {
        long ato = sk.atoMs;
        if (ato > DELACK_MS) {
            // HZ / 2, TCP_DELACK_MAX when interactive or pushed
            long maxAto = sk.inPingpong() || (sk.ackPushed & TcpSock.ACK_PUSHED) != 0 ? DELACK_MAX_MS : Jiffies.delayMsecs(Jiffies.HZ / 2);
            if (sk.srttUs > 0) {
                maxAto = Math.min(maxAto, Math.max(TcpSock.usecsToJiffiesMs(sk.srttUs), DELACK_MS));
            }
            ato = Math.min(ato, maxAto);
        }
        ato = Math.min(ato, DELACK_MAX_MS);
        if (sk.delackTimer.pending()) {
            long left = sk.delackTimer.remainingMs();
            if (left <= ato >> 2) {
                sk.output.sendAck(cpu);
                return;
            }
            if (left <= ato) {
                return;
            }
        }
        sk.delackTimer.mod(ato);
    }

    /**
     * {@code tcp_event_data_recv}'s delayed-ACK estimator, for data taken in order: the first arms
     * quick-ACK mode and sets ato to 40 ms; then a segment within 20 ms of the last halves ato towards
     * 20 ms + ato / 2, one within ato takes it to ato / 2 + the gap (at most the RTO), and one after more
     * than the RTO (the sender stalled) re-enters quick-ACK mode, so the restart is acknowledged at once.
     */
    void eventDataRecv() {
        long now = sk.nowMs();
        if (sk.atoMs == 0) {
            incrQuickack();
            sk.atoMs = DELACK_MS;
        } else {
            long m = now - sk.lrcvTimeMs;
            if (m <= DELACK_MS / 2) {
                sk.atoMs = (sk.atoMs >> 1) + DELACK_MS / 2;
            } else if (m < sk.atoMs) {
                sk.atoMs = Math.min((sk.atoMs >> 1) + m, sk.rtoMs);
            } else if (m > sk.rtoMs) {
                incrQuickack();
            }
        }
        sk.lrcvTimeMs = now;
    }

    /** {@code tcp_incr_quickack}: quick ACKs for half the window in segments (2 at least), at most TCP_MAX_QUICKACKS. */
    void incrQuickack() {
        int quickacks = Math.max(sk.rcvWndRight - sk.rcvNxt, 0) / (2 * Math.max(sk.ackRcvMss(), 1));
        if (quickacks == 0) {
            quickacks = 2;
        }
        sk.quickAcks = Math.max(sk.quickAcks, Math.min(quickacks, TcpSock.QUICKACKS));
    }

    /** {@code tcp_enter_quickack_mode}: quick ACKs, out of pingpong mode, and ato back to 40 ms. */
    void enterQuickackMode() {
        incrQuickack();
        sk.pingpong = 0;
        sk.atoMs = DELACK_MS;
    }

    /**
     * {@code tcp_check_space} and {@code tcp_new_space}: once an ACK freed room that a writer waited
     * for ({@code SOCK_NOSPACE}), SO_SNDBUF grows with the congestion window when it should; the writer
     * (a blocked sendmsg, poll and epoll's POLLOUT) is woken only when a third of the buffer is free
     * ({@code sk_stream_write_space} tests {@code sk_stream_is_writeable}), not by every ACK. An
     * emptied ring is offered to {@link #memReclaim}.
     */
    void newSpace(int cpu) {
        if (sk.noSpace && sk.state() != TCP_CLOSE) {
            if (shouldExpandSndbuf()) {
                sndbufExpand();
            }
            int queued = Math.max(sk.writeSeq - sk.sndUna, 0);
            if (sk.sndRingLimit() - queued >= queued >> 1) {
                sk.noSpace = false;
                sk.chronoStop(TcpSock.CHRONO_SNDBUF_LIMITED);
                sk.wake();
            }
        }
        sk.ringEmptied();
    }

    /**
     * {@code tcp_should_expand_sndbuf}: not when the user set SO_SNDBUF, not under TCP memory pressure
     * nor with TCP's memory at {@code tcp_mem[0]} or above, not while the congestion window is full.
     */
    boolean shouldExpandSndbuf() {
        if ((sk.userLocks() & SOCK_SNDBUF_LOCK) != 0 || sk.net.tmem.underPressure() || sk.net.tmem.atOrAboveMin()) {
            return false;
        }
        int m = Math.max(sk.mss, 1);
        int inFlight = TcpSeq.after(sk.sndNxt, sk.sndUna) ? (sk.sndNxt - sk.sndUna + m - 1) / m : 0;
        return inFlight < sk.cw.cwnd;
    }

    /**
     * {@code tcp_sndbuf_expand}: SO_SNDBUF to room for twice the congestion window (ten segments at
     * least, and the reordering degree plus one) of MSS-sized buffers at their truesize, at most
     * {@code tcp_wmem[2]}; never lowered.
     */
    void sndbufExpand() {
        int want = TcpRings.sndmem(Math.max(sk.rx.mssClamp, sk.mss), Math.max(sk.cw.cwnd, INIT_CWND), REORDERING);
        int grown = Math.min(want, sk.net.wmem.get()[2]);
        if (sk.sndbuf() < grown) {
            sk.setSockBuffers(grown, sk.rcvbuf(), sk.userLocks());
        }
    }

    /** {@code tcp_paws_check}: TSval is not older than ts_recent by more than {@code win}, or ts_recent is stale or unset. */
    boolean pawsCheck(int win) {
        return sk.tsRecent - sk.rx.rcvTsval <= win || sk.nowMs() - sk.tsRecentStampMs >= PAWS_24DAYS_MS || sk.tsRecent == 0;
    }

    /** {@code tcp_may_update_window}. */
    boolean mayUpdateWindow(int ack, int seq, int nwin) {
        return TcpSeq.after(ack, sk.sndUna) || TcpSeq.after(seq, sk.sndWl1) || seq == sk.sndWl1 && (nwin > sk.sndWnd || nwin == 0);
    }

    /**
     * {@code tcp_disordered_ack}: a pure duplicate ACK that changes nothing, with a TSval within an RTO
     * of ts_recent, is only reordered, not old: PAWS lets it through.
     */
    boolean disorderedAck(int flags, int seq, int ack, int endSeq, int win) {
        return (flags & TcpHeader.ACK) != 0 && seq == endSeq && seq == sk.rcvNxt && ack == sk.sndUna
                && !mayUpdateWindow(ack, seq, win << sk.rx.sndWscale) && sk.tsRecent - sk.rx.rcvTsval <= sk.rtoMs;
    }

    /**
     * {@code tcp_validate_incoming}'s PAWS step: a segment whose TSval is older than ts_recent is dropped
     * (PAWSEstab) and answered with a duplicate ACK at most once per {@code tcp_invalid_ratelimit}
     * (TCPACKSkippedPAWS); a SYN gets the challenge ACK; a RST passes (RFC 7323 5.3 R1).
     */
    boolean pawsReject(int flags, int seq, int ack, int len, int endSeq, int win, int cpu) {
        if (!sk.rx.tstampOk || !sk.rx.sawTstamp || pawsCheck(PAWS_WINDOW) || disorderedAck(flags, seq, ack, endSeq, win)) {
            return false;
        }
        if ((flags & TcpHeader.RST) != 0) {
            return false;
        }
        if ((flags & TcpHeader.SYN) != 0) {
            synChallenge(cpu); // tcp_validate_incoming's syn_challenge, InErrs in ESTABLISHED included
            return true;
        }
        sk.net.mib.inc(cpu, TcpMib.Ext.PAWSEstab);
        if (endSeq != seq || !oowRateLimited(cpu, TcpMib.Ext.TCPACKSkippedPAWS)) { // tcp_oow_rate_limited spares data
            sendDupack(seq, endSeq, cpu);
        }
        return true;
    }

    /**
     * {@code tcp_replace_ts_recent} (RFC 7323 4.3): an acceptable ACK whose segment starts at or before
     * the last ACK we sent, with a TSval not older, becomes ts_recent. An ACK of data not sent, or an
     * old ACK, changes nothing.
     */
    void replaceTsRecent(int flags, int seq, int ack) {
        if (!sk.rx.sawTstamp || (flags & TcpHeader.ACK) == 0 || TcpSeq.after(ack, sk.sndMax) || TcpSeq.before(ack, sk.sndUna)
                || TcpSeq.after(seq, sk.lastAckSent) || !pawsCheck(0)) {
            return;
        }
        sk.tsRecent = sk.rx.rcvTsval;
        sk.tsRecentStampMs = sk.nowMs();
    }

    /** {@code tcp_dsack_set}: TCPDSACKOldSent for bytes below rcv_nxt, TCPDSACKOfoSent above it. */
    void dsackSet(int seq, int end, int cpu) {
        if (!sk.rx.sackOk || sk.net.dsack.get() == 0) {
            return;
        }
        sk.net.mib.inc(cpu, TcpSeq.before(seq, sk.rcvNxt) ? TcpMib.Ext.TCPDSACKOldSent : TcpMib.Ext.TCPDSACKOfoSent);
        sk.sacks.dsackSet(seq, end);
    }

    void dsackExtend(int seq, int end, int cpu) {
        if (!sk.sacks.dsack) {
            dsackSet(seq, end, cpu);
        } else if (sk.rx.sackOk && sk.net.dsack.get() != 0) {
            sk.sacks.dsackExtend(seq, end);
        }
    }

    /**
     * {@code tcp_send_dupack}: the answer to a segment outside the window; one that repeats bytes
     * already received is DelayedACKLost and, with SACK, reports them in a D-SACK block.
     */
    void sendDupack(int seq, int endSeq, int cpu) {
        if (endSeq != seq && TcpSeq.before(seq, sk.rcvNxt)) {
            sk.net.mib.inc(cpu, TcpMib.Ext.DelayedACKLost);
            dsackSet(seq, TcpSeq.after(endSeq, sk.rcvNxt) ? sk.rcvNxt : endSeq, cpu);
        }
        sk.output.sendAck(cpu);
    }

    /**
     * {@code tcp_data_queue} for bytes below rcv_nxt: all of them old is a retransmission we did not need
     * (DelayedACKLost, a D-SACK of the segment, an ACK at once); some of them old is a D-SACK of those.
     */
    void oldData(int seq, int len, boolean fin, int cpu) {
        if (len == 0 || !TcpSeq.before(seq, sk.rcvNxt)) {
            return;
        }
        int end = seq + len + (fin ? 1 : 0);
        if (!TcpSeq.after(end, sk.rcvNxt)) {
            sk.net.mib.inc(cpu, TcpMib.Ext.DelayedACKLost);
            dsackSet(seq, end, cpu);
            enterQuickackMode(); // tcp_data_queue's "a retransmit, 2nd most common case"
        } else {
            dsackSet(seq, sk.rcvNxt, cpu);
        }
    }

    /**
     * A segment repeating what came up to and with the peer's FIN (CLOSE-WAIT, CLOSING, LAST-ACK, FIN-WAIT
     * after a FIN): {@code tcp_data_queue} takes it as any old segment, DelayedACKLost and a D-SACK of
     * what it repeats (the FIN's sequence number included), so the peer learns its retransmission was
     * needless.
     */
    void finAgain(int seq, int len, boolean fin, int cpu) {
        int end = seq + len + (fin ? 1 : 0);
        if (!TcpSeq.after(end, sk.rcvNxt)) {
            sk.net.mib.inc(cpu, TcpMib.Ext.DelayedACKLost);
            dsackSet(seq, end, cpu);
        } else {
            dsackSet(seq, sk.rcvNxt, cpu);
        }
    }

    /** An acceptable ACK (not an old one): probes were answered; keepalive's clock restarts. */
    void ackReceived(int ack, int cpu) {
        sk.probesOut = 0;
        sk.rcvTstampMs = sk.nowMs();
        if (sk.sndWnd != 0) {
            sk.probesTstampMs = 0;
            sk.backoff = 0; // tcp_ack_probe: the window opened
        }
        if (TcpSeq.after(ack, sk.sndUna)) {
            sk.headSentMs = sk.rcvTstampMs; // the new oldest byte has waited since at most now
        }
    }

    /**
     * {@code tcp_rcv_synsent_state_process} for a SYN without ACK: both ends opened at once. SYN-RECV,
     * and our SYN again with an ACK of theirs and our SYN's options ({@code tcp_send_synack}).
     */
    void simultaneousOpen(SkBuff skb, int th, int seq, int cpu) {
        TcpEcn.rcvSyn(sk, skb.getU8(th + TcpHeader.FLAGS));
        sk.rx.parse(skb, th, false, sk.net.optionSysctls());
        sk.rx.tstampOk = sk.rx.sawTstamp && sk.net.timestamps.get() != 0;
        if (sk.rx.tstampOk) {
            sk.tsRecent = sk.rx.rcvTsval;
            sk.tsRecentStampMs = sk.nowMs();
        }
        if (!sk.rx.wscaleOk) {
            sk.rx.sndWscale = 0;
            sk.rcvWscale = 0;
            sk.windowClamp = Math.min(sk.windowClamp, 0xffff);
        }
        sk.irs = seq;
        sk.rcvNxt = seq + 1;
        sk.copiedSeq = sk.rcvNxt;
        sk.rbase = sk.rcvNxt;
        sk.sndWnd = skb.getU16(th + TcpHeader.WINDOW);
        sk.sndWl1 = seq;
        sk.maxWindow = sk.sndWnd;
        sk.mss = TcpErr.optionMss(sk);
        TcpErr.initMss(sk);
        sk.setState(TCP_SYN_RECV, cpu);
        sk.output.sendSyn(cpu, true);
    }

    /** {@code tcp_validate_incoming}: in a simultaneous open the peer's SYN-ACK is expected, not a SYN to challenge. */
    boolean simultaneousSynAck(int flags, int seq, int ack) {
        return sk.state() == TCP_SYN_RECV && sk.parent == null && (flags & TcpHeader.ACK) != 0 && seq + 1 == sk.rcvNxt && ack == sk.sndNxt;
    }

    /**
     * The SYN-ACK that completed a simultaneous open repeats a SYN we have: {@code tcp_data_queue} takes it
     * as an old segment (DelayedACKLost, a D-SACK of the SYN with SACK) and acknowledges at once.
     */
    void simultaneousEstablished(int seq, int cpu) {
        sk.net.mib.inc(cpu, TcpMib.Ext.DelayedACKLost);
        dsackSet(seq, seq + 1, cpu);
        sk.ackPending = true;
        sk.quickAcks = Math.max(sk.quickAcks, 1);
        sk.wake();
    }
}

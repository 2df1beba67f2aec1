package org.modnet.tcp;

import static org.modnet.tcp.TcpSock.*;

import org.modnet.api.handover.TcpRecoveryState;
import org.modnet.api.tcp.TcpCongestion;

/**
 * Loss recovery for one connection, as Linux does it: the SACK scoreboard's tagging ({@code
 * tcp_sacktag_write_queue}, {@code tcp_check_dsack}, {@code tcp_clean_rtx_queue}), the recovery state
 * machine ({@code tcp_fastretrans_alert}: Open, Disorder, CWR, Recovery, Loss as {@code ca_state}),
 * RACK-TLP ({@code tcp_recovery.c}, RFC 8985: loss by time, the reordering window and its timer; {@code
 * tcp_schedule_loss_probe} and {@code tcp_send_loss_probe}), the duplicate-ACK threshold without RACK
 * and for peers without SACK (RFC 6675, NewReno's {@code tcp_add_reno_sack}), Proportional Rate
 * Reduction ({@code tcp_cwnd_reduction}, RFC 6937), undo on D-SACK and timestamps ({@code
 * tcp_try_undo_*}, Eifel), and what goes again ({@code tcp_xmit_retransmit_queue}). Limited Transmit
 * (RFC 3042) is what the in-flight count gives, as in Linux: a SACKed or duplicate-ACKed segment leaves
 * the flight, so a new one may go. The segments and their marks are {@link TcpRtxQueue}'s; nothing here
 * allocates.
 */
final class TcpRecovery {
    /** {@code tcp_ack}'s flags, Linux's values. */
    static final int FLAG_DATA = 0x01;
    static final int FLAG_WIN_UPDATE = 0x02;
    static final int FLAG_DATA_ACKED = 0x04;
    static final int FLAG_RETRANS_DATA_ACKED = 0x08;
    static final int FLAG_SYN_ACKED = 0x10;
    static final int FLAG_DATA_SACKED = 0x20;
    static final int FLAG_ECE = 0x40;
    static final int FLAG_LOST_RETRANS = 0x80;
    static final int FLAG_ORIG_SACK_ACKED = 0x200;
    static final int FLAG_SND_UNA_ADVANCED = 0x400;
    static final int FLAG_DSACKING_ACK = 0x800;
    static final int FLAG_SET_XMIT_TIMER = 0x1000;
    static final int FLAG_SACK_RENEGING = 0x2000;
    static final int FLAG_DSACK_TLP = 0x20000;
    static final int FLAG_ACKED = FLAG_DATA_ACKED | FLAG_SYN_ACKED;
    static final int FLAG_NOT_DUP = FLAG_DATA | FLAG_WIN_UPDATE | FLAG_ACKED;
    static final int FLAG_CA_ALERT = FLAG_DATA_SACKED | FLAG_ECE | FLAG_DSACKING_ACK;
    static final int FLAG_FORWARD_PROGRESS = FLAG_ACKED | FLAG_DATA_SACKED;

    /** {@code tcp_recovery}'s bits. */
    static final int TCP_RACK_LOSS_DETECTION = 0x1;
    static final int TCP_RACK_STATIC_REO_WND = 0x2;
    static final int TCP_RACK_NO_DUPTHRESH = 0x4;
    /** {@code TCP_RACK_RECOVERY_THRESH}: recoveries a widened reordering window persists for. */
    static final int TCP_RACK_RECOVERY_THRESH = 16;

    /** {@code icsk_pending}: what the retransmission timer's slot is armed for. */
    static final int ICSK_TIME_RETRANS = 1;
    static final int ICSK_TIME_PROBE0 = 3;
    static final int ICSK_TIME_LOSS_PROBE = 5;
    static final int ICSK_TIME_REO_TIMEOUT = 6;

    private final TcpSock sk;
    final TcpRtxQueue q = new TcpRtxQueue();
    /** The delivery-rate sampler and this ACK's sample ({@code tcp_rate.c}). */
    final TcpRate rate = new TcpRate();

    /** {@code tp->reordering}: the duplicate-ACK threshold as reordering seen raised it. */
    int reordering = REORDERING;
    /** {@code reord_seen}, {@code dsack_dups}, {@code tp->lost} (every segment ever marked lost). */
    int reordSeen;
    int dsackDups;
    int lost;
    /** {@code high_seq}: snd_nxt when recovery or loss began. */
    int highSeq;
    /** {@code undo_marker} (0: no undo possible) and {@code undo_retrans} (-1: none to count down). */
    int undoMarker;
    int undoRetrans;
    /** {@code retrans_stamp} as a TSval: when the episode's first retransmission went (Eifel's reference). */
    int retransStamp;
    int priorSsthresh;
    int priorCwnd;
    /** PRR's counts (RFC 6937): delivered and sent since the reduction began. */
    int prrDelivered;
    int prrOut;
    /** {@code tlp_high_seq}: snd_nxt when the probe went, 0 with none outstanding; whether it was a resend. */
    int tlpHighSeq;
    boolean tlpRetrans;
    /** {@code is_sack_reneg}: the peer dropped data it had SACKed. */
    boolean isSackReneg;
    /** {@code tp->frto}: this timeout is checked for being spurious (RFC 5682) before the go-back resend goes on. */
    boolean frto;
    /** RACK ({@code tp->rack}): the newest delivered segment's send time and end, the RTT it gave. */
    long rackMstampNs;
    int rackEndSeq;
    long rackRttUs;
    boolean rackAdvanced;
    int reoWndSteps = 1;
    int reoWndPersist;
    boolean rackDsackSeen;
    int rackLastDelivered;
    /** {@code icsk_pending}. */
    int pending;

    /** One ACK's scratch (tcp_sacktag_state), kept here so nothing is allocated per ACK. */
    private int reord;
    private int flag;
    /**
     * The send stamps this ACK times (ns, {@link #NO_STAMP} for none): the first and last never
     * retransmitted segment it SACKed ({@code first_sackt}, {@code last_sackt}) and it acknowledged
     * ({@code first_ackt}, {@code last_ackt} of {@code tcp_clean_rtx_queue}).
     */
    private long firstSacktNs = NO_STAMP;
    private long lastSacktNs = NO_STAMP;
    private long firstAcktNs = NO_STAMP;
    private long lastAcktNs = NO_STAMP;
    static final long NO_STAMP = Long.MIN_VALUE;
    private final int[] sackStart = new int[TcpOptions.NUM_SACKS + 1];
    private final int[] sackEnd = new int[TcpOptions.NUM_SACKS + 1];

    /** The stamp of this connection's last transmit ({@link #xmitStampNs}). */
    private long lastXmitNs = Long.MIN_VALUE;

    TcpRecovery(TcpSock sk) {
        this.sk = sk;
    }

    long nowUs() {
        return sk.net.core.nanoTime() / 1000;
    }

    /**
     * The send stamp of a transmit ({@code tcp_wstamp_ns}, which becomes each skb's {@code skb_mstamp_ns}):
     * the stack's clock in ns, and strictly later than this connection's previous transmit. Linux's clock
     * moves between two transmits, so a retransmission sent after new data carries a later stamp; a clock
     * that stands still while the stack runs (virtual time) would give both the same stamp, and RACK would
     * break the tie by sequence and take the retransmission for the older one. The segments of one
     * transmit share its stamp and are told apart by sequence, as in Linux.
     */
    long xmitStampNs() {
        long t = sk.net.core.nanoTime();
        if (t <= lastXmitNs) {
            t = lastXmitNs + 1;
        }
        lastXmitNs = t;
        return t;
    }

    boolean isSack() {
        return sk.rx.sackOk;
    }

    boolean isRack() {
        return (sk.net.recovery.get() & TCP_RACK_LOSS_DETECTION) != 0;
    }

    /** {@code tcp_packets_in_flight}: packets_out - (sacked_out + lost_out) + retrans_out. */
    int inFlight() {
        return q.packetsOut - (q.sackedOut + q.lostOut) + q.retransOut;
    }

    int leftOut() {
        return q.sackedOut + q.lostOut;
    }

    boolean inCwndReduction() {
        return sk.caState == TcpCongestion.CA_CWR || sk.caState == TcpCongestion.CA_RECOVERY;
    }

    /** {@code tcp_highest_sack_seq}. */
    int highestSackSeq() {
        return q.sackedOut == 0 || !isSack() ? sk.sndUna : q.highestSackEnd;
    }

    /** The timer's slot armed for {@code what} ({@code inet_csk_reset_xmit_timer}). */
    void resetXmitTimer(int what, long ms) {
        pending = what;
        sk.rtxTimer.mod(Math.max(ms, 1));
    }

    // --- sending side: the scoreboard learns what went ---

    /** New bytes [s, s+len) went: one entry per MSS ({@code tcp_event_new_data_sent}). False if the queue is full. */
    boolean newDataSent(int s, int len, boolean fin, int cpu) {
        int m = Math.max(sk.mss, 1);
        int n = fin ? 1 : (len + m - 1) / m;
        if (!q.hasRoom(n)) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPWqueueTooBig);
            return false;
        }
        long ns = xmitStampNs();
        long now = ns / 1000;
        boolean first = q.packetsOut == 0;
        if (fin) {
            q.add(s, s + 1, true, ns);
            rate.skbSent(q, q.at(q.size() - 1), sk.delivered, first, now);
            q.sacked[q.at(q.size() - 1)] |= TcpRtxQueue.SKB_END;
            return true;
        }
        for (int off = 0; off < len; off += m) {
            q.add(s + off, s + Math.min(off + m, len), false, ns);
            rate.skbSent(q, q.at(q.size() - 1), sk.delivered, first && off == 0, now);
        }
        q.sacked[q.at(q.size() - 1)] |= TcpRtxQueue.SKB_END; // one transmit is one skb of Linux's queue
        return true;
    }

    /** Whether the queue takes {@code len} more bytes as entries. */
    boolean hasRoomFor(int len) {
        int m = Math.max(sk.mss, 1);
        return q.hasRoom((len + m - 1) / m + 1);
    }

    /** [s, e) went again (the RTO's go-back resend, or the FIN again): those entries carry the retransmission. */
    void resent(int s, int e, int cpu) {
        int k = q.find(s);
        if (k < 0) {
            return;
        }
        long ns = xmitStampNs();
        long now = ns / 1000;
        if (retransStamp == 0) {
            retransStamp = sk.tsNow();
        }
        for (; k < q.size(); k++) {
            int i = q.at(k);
            if (!TcpSeq.before(q.seq[i], e)) {
                break;
            }
            if ((q.sacked[i] & TcpRtxQueue.SACKED_ACKED) == 0) {
                q.markRetrans(i, ns);
                rate.skbSent(q, i, sk.delivered, false, now);
                countUndoRetrans(1);
            }
        }
    }

    /** {@code tcp_retransmit_skb}: each retransmission is one more that a D-SACK must report before an undo. */
    private void countUndoRetrans(int n) {
        if (undoRetrans < 0) {
            undoRetrans = 0;
        }
        undoRetrans += n;
    }

    /**
     * Whether the go-back resend passes the entry by: the peer SACKed it, or (in Loss) it is not marked
     * lost or its retransmission is already out. Linux retransmits in Loss only what {@code
     * tcp_enter_loss} marked lost ({@code tcp_xmit_retransmit_queue}), so new data that F-RTO sent after
     * the timeout, which nothing marked lost, is not sent twice when the loss shows real (RFC 5682 3.1
     * step 3.a rewinds the resend to snd_una).
     */
    private boolean resendSkips(int i) {
        byte m = q.sacked[i];
        if ((m & TcpRtxQueue.SACKED_ACKED) != 0) {
            return true;
        }
        return sk.caState == TcpCongestion.CA_LOSS && (m & (TcpRtxQueue.LOST | TcpRtxQueue.SACKED_RETRANS)) != TcpRtxQueue.LOST;
    }

    /** Where the go-back resend from {@code s} continues: past the entries {@link #resendSkips} passes by. */
    int resendFrom(int s) {
        int k = q.find(s);
        while (k >= 0 && k < q.size() && resendSkips(q.at(k))) {
            s = q.end[q.at(k)];
            k++;
        }
        return s;
    }

    /** How far the go-back resend from {@code s} may go in one block: up to {@code segs} entries of one skb. */
    int resendEnd(int s, int segs, int limit) {
        int k = q.find(s);
        if (k < 0) {
            return limit;
        }
        int e = q.unsackedRunEnd(k, segs, limit, sk.caState == TcpCongestion.CA_LOSS);
        return TcpSeq.after(e, limit) ? limit : e;
    }

    // --- tcp_ack's side ---

    /**
     * {@code tcp_sacktag_write_queue}: the ACK's SACK blocks mark the entries they cover whole; a first
     * block below the ACK or inside the second is a D-SACK ({@code tcp_check_dsack}); blocks outside what
     * was sent, or backwards, are TCPSACKDiscard (a D-SACK one TCPDSACKIgnoredOld or NoUndo). Returns the
     * flags. {@code ack} is the ACK's number (snd_una is already it, as in Linux), {@code priorUna} the
     * one before.
     */
    int sacktag(int ack, int priorUna, int cpu) {
        int n = sk.rx.numRcvSacks;
        flag = 0;
        firstSacktNs = lastSacktNs = NO_STAMP;
        if (n == 0 || !isSack()) {
            return 0;
        }
        int priorFack = highestSackSeq();
        reord = sk.sndMax;
        boolean dup = checkDsack(ack, priorUna, cpu);
        int used = 0;
        for (int b = 0; b < n; b++) {
            int s = sk.rx.rcvSackStart[b];
            int e = sk.rx.rcvSackEnd[b];
            boolean dupSack = dup && b == 0;
            if (!sackBlockValid(dupSack, s, e)) {
                if (dupSack) {
                    sk.net.mib.inc(cpu, undoMarker == 0 ? TcpMib.Ext.TCPDSACKIgnoredNoUndo : TcpMib.Ext.TCPDSACKIgnoredOld);
                } else {
                    sk.net.mib.inc(cpu, TcpMib.Ext.TCPSACKDiscard);
                }
                continue;
            }
            if (!TcpSeq.after(e, priorUna)) {
                if (dupSack) {
                    dsackUndoCount(s, e, cpu);
                }
                continue; // very old: the ACK covers it
            }
            // sorted by start, as tcp_sacktag_write_queue walks them (four at most: an insertion)
            int at = used++;
            while (at > 0 && TcpSeq.before(s, sackStart[at - 1])) {
                sackStart[at] = sackStart[at - 1];
                sackEnd[at] = sackEnd[at - 1];
                at--;
            }
            sackStart[at] = s;
            sackEnd[at] = e;
            if (dupSack) {
                dsackUndoCount(s, e, cpu);
            }
        }
        for (int b = 0; b < used; b++) {
            tagRange(sackStart[b], sackEnd[b]);
        }
        if (TcpSeq.before(reord, priorFack)) {
            checkSackReordering(reord, false, cpu);
        }
        return flag;
    }

    /** The D-SACKed entries still queued that were retransmitted count down {@code undo_retrans}. */
    private void dsackUndoCount(int s, int e, int cpu) {
        int k = q.find(s);
        if (k < 0) {
            return;
        }
        for (; k < q.size(); k++) {
            int i = q.at(k);
            if (TcpSeq.after(q.end[i], e)) {
                break;
            }
            if ((q.sacked[i] & TcpRtxQueue.RETRANS) != 0 && undoMarker != 0 && undoRetrans > 0 && TcpSeq.after(q.end[i], undoMarker)) {
                undoRetrans--;
            }
        }
    }

    /** Tags the entries [s, e) covers whole ({@code tcp_sacktag_walk}); one only partly covered stays as it is. */
    private void tagRange(int s, int e) {
        int k = q.find(s);
        if (k < 0) {
            if (q.size() == 0 || !TcpSeq.before(s, q.seq[q.at(0)])) {
                return;
            }
            k = 0;
        }
        if (q.seq[q.at(k)] != s && TcpSeq.after(s, q.seq[q.at(k)])) {
            k++; // a block starting inside a segment does not SACK it
        }
        for (; k < q.size(); k++) {
            int i = q.at(k);
            if (TcpSeq.after(q.end[i], e)) {
                break;
            }
            if (TcpSeq.before(q.end[i], sk.sndUna) || q.end[i] == sk.sndUna) {
                continue;
            }
            sacktagOne(i);
        }
    }

    /** {@code tcp_sacktag_one}. */
    private void sacktagOne(int i) {
        byte m = q.sacked[i];
        if ((m & TcpRtxQueue.SACKED_ACKED) != 0) {
            return;
        }
        if ((m & TcpRtxQueue.RETRANS) == 0) {
            if (TcpSeq.before(q.seq[i], highestSackSeq()) && TcpSeq.before(q.seq[i], reord)) {
                reord = q.seq[i];
            }
            if (!TcpSeq.after(q.end[i], highSeq)) {
                flag |= FLAG_ORIG_SACK_ACKED;
            }
            if (firstSacktNs == NO_STAMP) {
                firstSacktNs = q.xmitNs[i];
            }
            lastSacktNs = q.xmitNs[i];
        }
        rackAdvance(m, q.end[i], q.xmitNs[i]);
        rate.skbDelivered(q, i, true);
        q.markSacked(i);
        sk.delivered++;
        flag |= FLAG_DATA_SACKED;
    }

    /** {@code tcp_is_sackblock_valid}: within what was sent, forwards; a D-SACK may reach below snd_una. */
    boolean sackBlockValid(boolean dsack, int s, int e) {
        if (TcpSeq.after(e, sk.sndMax) || !TcpSeq.before(s, e)) {
            return false;
        }
        if (!TcpSeq.before(s, sk.sndMax)) {
            return false;
        }
        if (TcpSeq.after(s, sk.sndUna)) {
            return true;
        }
        if (!dsack || undoMarker == 0) {
            return false;
        }
        if (TcpSeq.after(e, sk.sndUna)) {
            return false;
        }
        if (!TcpSeq.before(s, undoMarker)) {
            return true;
        }
        if (!TcpSeq.after(e, undoMarker)) {
            return false;
        }
        return !TcpSeq.before(s, e - sk.maxWindow);
    }

    /**
     * {@code tcp_check_dsack} and {@code tcp_dsack_seen}: TCPDSACKRecv (first block below the ACK) or
     * TCPDSACKOfoRecv (inside the second); one wider than any window, or reporting more duplicates than
     * were ever retransmitted, is TCPDSACKIgnoredDubious and ignored.
     */
    boolean checkDsack(int ack, int priorUna, int cpu) {
        int s0 = sk.rx.rcvSackStart[0];
        int e0 = sk.rx.rcvSackEnd[0];
        if (TcpSeq.before(s0, ack)) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPDSACKRecv);
        } else if (sk.rx.numRcvSacks > 1) {
            if (TcpSeq.after(e0, sk.rx.rcvSackEnd[1]) || TcpSeq.before(s0, sk.rx.rcvSackStart[1])) {
                return false;
            }
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPDSACKOfoRecv);
        } else {
            return false;
        }
        int segs = dsackSeen(s0, e0);
        if (segs == 0) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPDSACKIgnoredDubious);
            return false;
        }
        sk.net.mib.add(cpu, TcpMib.Ext.TCPDSACKRecvSegs, segs);
        if (undoMarker != 0 && undoRetrans > 0 && !TcpSeq.after(e0, priorUna) && TcpSeq.after(e0, undoMarker)) {
            undoRetrans = Math.max(0, undoRetrans - segs);
        }
        return true;
    }

    private int dsackSeen(int s, int e) {
        if (!TcpSeq.before(s, e)) {
            return 0;
        }
        int len = e - s;
        if (len > sk.maxWindow) {
            return 0;
        }
        int m = Math.max(sk.mss, 1);
        int segs = 1;
        if (len > m) {
            segs = (len + m - 1) / m;
        } else if (tlpHighSeq != 0 && tlpHighSeq == e) {
            flag |= FLAG_DSACK_TLP;
        }
        dsackDups += segs;
        if (dsackDups > sk.totalRetrans) {
            return 0; // never retransmitted that much: a D-SACK of data sent once
        }
        if (reordSeen > 0 && (flag & FLAG_DSACK_TLP) == 0) {
            rackDsackSeen = true;
        }
        flag |= FLAG_DSACKING_ACK;
        sk.delivered += segs; // a spurious retransmission is delivered
        return segs;
    }

    /** {@code tcp_check_sack_reordering}: a hole filled below the highest SACK; the threshold may rise. */
    void checkSackReordering(int lowSeq, boolean ts, int cpu) {
        int fack = highestSackSeq();
        if (!TcpSeq.before(lowSeq, fack)) {
            return;
        }
        int m = Math.max(sk.mss, 1);
        int metric = fack - lowSeq;
        if (metric > reordering * m) {
            reordering = Math.min((metric + m - 1) / m, sk.net.maxReordering.get());
        }
        reordSeen++;
        sk.net.mib.inc(cpu, ts ? TcpMib.Ext.TCPTSReorder : TcpMib.Ext.TCPSACKReorder);
    }

    /**
     * {@code tcp_clean_rtx_queue}: the entries the ACK covers leave the queue (the head may be trimmed);
     * delivered, RACK and reordering learn from them; a new head the peer had SACKed is reneging.
     */
    int cleanRtxQueue(int ack, int priorUna, int priorFack, int cpu) {
        int f = 0;
        int pkts = 0;
        int reordC = sk.sndMax;
        firstAcktNs = lastAcktNs = NO_STAMP;
        while (q.size() > 0) {
            int i = q.at(0);
            if (TcpSeq.after(q.end[i], ack)) {
                if (TcpSeq.after(ack, q.seq[i])) {
                    q.trimHead(ack);
                    f |= FLAG_DATA_ACKED;
                }
                break;
            }
            byte m = q.sacked[i];
            if ((m & TcpRtxQueue.RETRANS) != 0) {
                f |= FLAG_RETRANS_DATA_ACKED;
            } else if ((m & TcpRtxQueue.SACKED_ACKED) == 0) {
                lastAcktNs = q.xmitNs[i];
                if (firstAcktNs == NO_STAMP) {
                    firstAcktNs = lastAcktNs;
                }
                if (TcpSeq.before(q.seq[i], reordC)) {
                    reordC = q.seq[i];
                }
                if (!TcpSeq.after(q.end[i], highSeq)) {
                    f |= FLAG_ORIG_SACK_ACKED;
                }
            }
            rate.skbDelivered(q, i, false);
            if ((m & TcpRtxQueue.SACKED_ACKED) == 0 && isSack()) {
                sk.delivered++;
                rackAdvance(m, q.end[i], q.xmitNs[i]);
            }
            q.removeHead();
            pkts++;
            f |= FLAG_DATA_ACKED;
        }
        if (pkts == 0 && (f & FLAG_DATA_ACKED) == 0 && TcpSeq.after(ack, priorUna)) {
            f |= FLAG_SYN_ACKED; // what no entry held: our SYN
            sk.delivered++;
        }
        if ((f & FLAG_ACKED) != 0) {
            f |= FLAG_SET_XMIT_TIMER;
            if (!isSack()) {
                removeRenoSacks(pkts, cpu);
                if ((f & FLAG_RETRANS_DATA_ACKED) != 0) {
                    f &= ~FLAG_ORIG_SACK_ACKED;
                }
            } else if (TcpSeq.before(reordC, priorFack)) {
                checkSackReordering(reordC, false, cpu);
            }
        }
        if (q.size() > 0 && isSack() && (q.sacked[q.at(0)] & TcpRtxQueue.SACKED_ACKED) != 0) {
            f |= FLAG_SACK_RENEGING;
        }
        if (q.packetsOut == 0) {
            q.sackedOut = 0; // a Reno count with nothing left
        }
        return f;
    }

    /**
     * {@code tcp_clean_rtx_queue}'s RTT and {@code tcp_ack_update_rtt}: in us from the send stamps of what
     * this ACK delivered ({@code tcp_stamp_us_delta}). The oldest segment it acknowledged gives {@code
     * seq_rtt_us}, unless a retransmission was acknowledged too (Karn); else the oldest it SACKed. The
     * newest gives {@code ca_rtt_us} (a SACKed one first), which the minimum RTT and the rate sample take.
     * Only without either does a timestamp echo time an ACK of new data ({@code tcp_rtt_tsopt_us}: a tick
     * is a millisecond, and an echo of this tick counts one): Linux prefers the ACK's timing, as middle
     * boxes may rewrite TSecr. Returns {@code ca_rtt_us} ({@code rs->rtt_us}), -1 without a sample; with
     * only a SACK's sample it may set {@link #FLAG_SET_XMIT_TIMER} in {@code f}, which is returned in
     * {@link #rttFlag}.
     */
    long ackUpdateRtt(int f) {
        long now = nowUs();
        long seqRtt = -1;
        long caRtt = -1;
        long sackRtt = -1;
        if (firstAcktNs != NO_STAMP && (f & FLAG_RETRANS_DATA_ACKED) == 0) {
            seqRtt = now - firstAcktNs / 1000;
            caRtt = now - lastAcktNs / 1000;
        }
        if (firstSacktNs != NO_STAMP) {
            sackRtt = now - firstSacktNs / 1000;
            caRtt = now - lastSacktNs / 1000;
        }
        firstSacktNs = lastSacktNs = firstAcktNs = lastAcktNs = NO_STAMP;
        rttFlag = f;
        if (seqRtt < 0) {
            seqRtt = sackRtt;
        }
        if (seqRtt < 0 && sk.rx.tstampOk && sk.rx.sawTstamp && sk.rx.rcvTsecr != 0 && (f & FLAG_ACKED) != 0) {
            int ticks = sk.tsNow() - sk.rx.rcvTsecr;
            if (ticks >= 0) {
                seqRtt = caRtt = Math.max(ticks, 1) * 1000L;
            }
        }
        if (seqRtt < 0) {
            return caRtt;
        }
        sk.timers.rttSampleUs(seqRtt, caRtt);
        if ((f & FLAG_ACKED) == 0 && sackRtt >= 0 && q.size() > 0 && sackRtt > now - q.xmitNs[q.at(0)] / 1000) {
            rttFlag |= FLAG_SET_XMIT_TIMER; // timed by data sent before the head's last (re)transmission
        }
        return caRtt;
    }

    /** The flags {@link #ackUpdateRtt} returns. */
    int rttFlag;

    /**
     * The rest of {@code tcp_ack} once the queue is cleaned: the loss probe's answer, the recovery state
     * machine for a dubious ACK, the timer, the congestion window (PRR in a reduction) and what goes again.
     */
    void ackDone(int ack, int priorUna, int f, int deliveredBefore, int lostBefore, long rttUs, int cpu) {
        flag = f;
        rackUpdateReoWnd(deliveredBefore);
        if (tlpHighSeq != 0) {
            processTlpAck(ack, cpu);
        }
        boolean rexmit = false;
        if (ackIsDubious()) {
            int numDupack = (flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP | FLAG_DSACKING_ACK)) == 0 ? 1 : 0;
            rexmit = fastretransAlert(priorUna, numDupack, cpu);
        }
        if ((flag & FLAG_SET_XMIT_TIMER) != 0) {
            setXmitTimer();
        }
        int delivered = newlyDelivered(deliveredBefore, cpu);
        rate.gen(sk.delivered, delivered, lost - lostBefore, (flag & FLAG_SACK_RENEGING) != 0, sk.minRttUs, rttUs, nowUs());
        congControl(ack, delivered, lost - lostBefore, rttUs);
        if (rexmit) {
            xmitRetransmitQueue(cpu);
        }
        if (q.packetsOut > 0 && !sk.rtxTimer.pending()) {
            rearmRto(); // while segments are out one of RTO, loss probe or reordering timer is armed, whatever the path
        }
    }

    /**
     * {@code tcp_ack}'s {@code old_ack}: an ACK below snd_una (within the reach {@code tcpAck} checked) acknowledges
     * nothing and moves neither the window nor the clocks, but when it carries SACK blocks they are tagged all the same: a
     * D-SACK of a resend the peer sent on an ACK that reached us behind a later one is counted (TCPDSACKRecv,
     * TCPDSACKRecvSegs) and may undo a reduction, the recovery state machine sees it ({@code tcp_fastretrans_alert}, no
     * duplicate counted), and what it shows lost goes again ({@code tcp_xmit_recovery}).
     */
    void oldAck(int ack, int cpu) {
        if (sk.rx.numRcvSacks == 0) {
            return;
        }
        int priorUna = sk.sndUna;
        int deliveredBefore = sk.delivered;
        flag = sacktag(ack, priorUna, cpu);
        boolean rexmit = fastretransAlert(priorUna, 0, cpu);
        newlyDelivered(deliveredBefore, cpu);
        if (rexmit) {
            xmitRetransmitQueue(cpu);
        }
    }

    /** {@code tcp_newly_delivered}: TCPDelivered, and TCPDeliveredCE when the ACK echoed a CE mark. */
    private int newlyDelivered(int deliveredBefore, int cpu) {
        int delivered = sk.delivered - deliveredBefore;
        if (delivered > 0) {
            sk.net.mib.add(cpu, TcpMib.Ext.TCPDelivered, delivered);
            if ((flag & FLAG_ECE) != 0) {
                sk.deliveredCe += delivered;
                sk.net.mib.add(cpu, TcpMib.Ext.TCPDeliveredCE, delivered);
            }
        }
        return delivered;
    }

    private boolean ackIsDubious() {
        return (flag & FLAG_NOT_DUP) == 0 || (flag & FLAG_CA_ALERT) != 0 || sk.caState != TcpCongestion.CA_OPEN;
    }

    /** {@code tcp_cong_control}: PRR while the window is being reduced, else growth when the ACK may raise it. */
    private void congControl(int ack, int ackedSacked, int newlyLost, long rttUs) {
        if (!sk.caInit) {
            sk.congAck(ack, Math.max(ackedSacked, 1), rttUs);
            return;
        }
        if (sk.congControl(ack, ackedSacked, rttUs)) {
            return; // tcp_cong_control: an algorithm with its own cong_control (BBR) sets the window in every state
        }
        if (inCwndReduction()) {
            cwndReduction(ackedSacked, newlyLost);
        } else if (mayRaiseCwnd() && ackedSacked > 0) {
            sk.congAck(ack, ackedSacked, rttUs); // which updates the pacing rate
            return;
        }
        sk.updatePacingRate(); // tcp_cong_control: on every ACK, in a reduction too (TSO autosizing reads it)
    }

    /** {@code tcp_may_raise_cwnd}: in order data acknowledged (any progress once reordering is high). */
    private boolean mayRaiseCwnd() {
        if (reordering > sk.net.reordering.get()) {
            return (flag & FLAG_FORWARD_PROGRESS) != 0;
        }
        return (flag & FLAG_DATA_ACKED) != 0;
    }

    /**
     * {@code tcp_cwnd_reduction} (RFC 6937): below ssthresh, send as much as was delivered (slow start
     * reduction bound, plus one when snd_una advanced without new loss); above, the share
     * ssthresh/prior_cwnd of what was delivered. At least the fast retransmit goes.
     */
    void cwndReduction(int newlyAckedSacked, int newlyLost) {
        if (newlyAckedSacked <= 0 || priorCwnd == 0) {
            return;
        }
        int inFlight = inFlight();
        int delta = sk.cw.ssthresh - inFlight;
        int sndcnt;
        prrDelivered += newlyAckedSacked;
        if (delta < 0) {
            long dividend = (long) sk.cw.ssthresh * prrDelivered + priorCwnd - 1;
            sndcnt = (int) (dividend / priorCwnd) - prrOut;
        } else {
            sndcnt = Math.max(prrDelivered - prrOut, newlyAckedSacked);
            if ((flag & FLAG_SND_UNA_ADVANCED) != 0 && newlyLost == 0) {
                sndcnt++;
            }
            sndcnt = Math.min(delta, sndcnt);
        }
        sndcnt = Math.max(sndcnt, prrOut == 0 ? 1 : 0); // the fast retransmit goes
        sk.cw.cwnd = Math.max(inFlight + sndcnt, 1);
    }

    /** {@code tcp_init_cwnd_reduction}. */
    private void initCwndReduction() {
        highSeq = sk.sndMax;
        tlpHighSeq = 0;
        sk.cw.cwndCnt = 0;
        priorCwnd = sk.cw.cwnd;
        prrDelivered = 0;
        prrOut = 0;
        sk.cw.ssthresh = sk.ca.ops.ssthresh(sk.cw);
        TcpEcn.queueCwr(sk);
    }

    /**
     * {@code tcp_enter_cwr}: an ECN echo reduces the window as a loss would (ssthresh from the
     * algorithm, PRR down to it) but retransmits nothing; at most once a window, as CWR lasts until
     * everything sent before it is acknowledged (RFC 3168 6.1.2).
     */
    void enterCwr() {
        priorSsthresh = 0;
        if (sk.caState < TcpCongestion.CA_CWR) {
            undoMarker = 0;
            initCwndReduction();
            setCaState(TcpCongestion.CA_CWR);
        }
    }

    /** {@code tcp_end_cwnd_reduction}: the window settles at ssthresh. */
    private void endCwndReduction() {
        if (sk.cw.ssthresh != Integer.MAX_VALUE && (sk.caState == TcpCongestion.CA_CWR || undoMarker != 0)) {
            sk.cw.cwnd = sk.cw.ssthresh;
            sk.cwndStampMs = sk.nowMs();
        }
        sk.ca.ops.cwndEvent(sk.cw, TcpCongestion.CA_EVENT_COMPLETE_CWR);
    }

    /** {@code tcp_current_ssthresh}. */
    private int currentSsthresh() {
        if (inCwndReduction()) {
            return sk.cw.ssthresh;
        }
        return Math.max(sk.cw.ssthresh, (sk.cw.cwnd >> 1) + (sk.cw.cwnd >> 2));
    }

    /** {@code tcp_set_ca_state}: the algorithm hears of it first. */
    void setCaState(int state) {
        if (sk.caInit) {
            sk.ca.ops.setState(sk.cw, state);
        }
        sk.caState = state;
    }

    private void initUndo() {
        undoMarker = sk.sndUna;
        undoRetrans = q.retransOut;
        if (tlpHighSeq != 0 && tlpRetrans) {
            undoRetrans++;
        }
        if (undoRetrans == 0) {
            undoRetrans = -1;
        }
    }

    /** {@code tcp_enter_recovery}: TCPSackRecovery or TCPRenoRecovery, PRR starts. */
    void enterRecovery(int cpu) {
        sk.net.mib.inc(cpu, isSack() ? TcpMib.Ext.TCPSackRecovery : TcpMib.Ext.TCPRenoRecovery);
        priorSsthresh = 0;
        initUndo();
        if (!inCwndReduction()) {
            priorSsthresh = currentSsthresh();
            initCwndReduction();
        }
        setCaState(TcpCongestion.CA_RECOVERY);
    }

    /**
     * {@code tcp_enter_loss} at an RTO, with {@code tcp_timeout_mark_lost}: what the peer has not SACKed is
     * lost (everything after reneging, TCPSACKReneging), ssthresh falls once per episode, the window is
     * what is in flight plus one. The first timeout of an episode counts the failure of what ran before.
     */
    void enterLoss(int cpu) {
        boolean newRecovery = sk.caState < TcpCongestion.CA_RECOVERY;
        if (sk.retransmits == 0) {
            TcpMib.Ext failed = null;
            if (sk.caState == TcpCongestion.CA_RECOVERY) {
                failed = isSack() ? TcpMib.Ext.TCPSackRecoveryFail : TcpMib.Ext.TCPRenoRecoveryFail;
            } else if (sk.caState == TcpCongestion.CA_LOSS) {
                failed = TcpMib.Ext.TCPLossFailures;
            } else if (sk.caState == TcpCongestion.CA_DISORDER || q.sackedOut > 0) {
                failed = isSack() ? TcpMib.Ext.TCPSackFailures : TcpMib.Ext.TCPRenoFailures;
            }
            if (failed != null) {
                sk.net.mib.inc(cpu, failed);
            }
        }
        timeoutMarkLost(cpu);
        if (sk.caState <= TcpCongestion.CA_DISORDER || !TcpSeq.after(highSeq, sk.sndUna)
                || sk.caState == TcpCongestion.CA_LOSS && sk.retransmits == 0) {
            priorSsthresh = currentSsthresh();
            priorCwnd = sk.cw.cwnd;
            sk.cw.ssthresh = sk.ca.ops.ssthresh(sk.cw);
            sk.ca.ops.cwndEvent(sk.cw, TcpCongestion.CA_EVENT_LOSS);
            initUndo();
        }
        sk.cw.cwnd = inFlight() + 1;
        sk.cw.cwndCnt = 0;
        sk.cwndStampMs = sk.nowMs();
        int sysctl = sk.net.reordering.get();
        if (sk.caState <= TcpCongestion.CA_DISORDER && q.sackedOut >= sysctl) {
            reordering = Math.min(reordering, sysctl);
        }
        setCaState(TcpCongestion.CA_LOSS);
        highSeq = sk.sndMax;
        tlpHighSeq = 0;
        TcpEcn.queueCwr(sk);
        // RFC 5682 3.1 step 1: F-RTO unless a recovery was already under way, but again on a timeout of
        // the same snd_una (3.2); Linux's condition in tcp_enter_loss (no path MTU probing here)
        frto = sk.net.frto.get() != 0 && (newRecovery || sk.retransmits > 0);
    }

    /**
     * {@code tcp_timeout_mark_lost}: the head is lost, and with RACK each entry after it whose RACK
     * timeout has run out ({@code tcp_rack_skb_timeout} with no reordering window: sent longer than RACK's
     * RTT ago); an entry sent within the last RACK RTT is not marked yet (Linux: "Don't mark recently sent
     * ones lost yet"), stays in flight and is not resent unless RACK or the next timeout finds it lost.
     * Marking is {@code tcp_mark_skb_lost}'s: a lost retransmission loses its retransmitted mark
     * (TCPLostRetransmit), a SACKed entry is left alone. A head found SACKed but never acknowledged means
     * the peer dropped what it SACKed (a receiver pruning its queue): every SACK mark goes and everything
     * is lost (TCPSACKReneging); kept, the go-back resend would skip the SACKed head and stall.
     */
    private void timeoutMarkLost(int cpu) {
        boolean reneg = q.headSacked();
        if (reneg) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPSACKReneging);
            isSackReneg = true;
            q.clearSacks();
        } else if (!isSack()) {
            q.sackedOut = 0; // tcp_reset_reno_sack
        }
        boolean rack = isRack();
        long now = nowUs();
        for (int k = 0; k < q.size(); k++) {
            int i = q.at(k);
            if (!reneg && rack && k > 0 && rackRttUs - (now - q.xmitNs[i] / 1000) > 0) {
                continue;
            }
            markLost(i, cpu);
        }
        if (q.size() > 0) {
            // tcp_retransmit_timer sends the head again whatever its marks: a copy still counted in flight
            // (an undone recovery's retransmission) is taken out here and counted again when it goes
            q.unmarkRetrans(q.at(0));
        }
    }

    /**
     * {@code tcp_simple_retransmit} after the path MTU fell ({@code tcp_v4_mtu_reduced}): every queued
     * segment longer than the new MSS was dropped on the way, so it is marked lost and split to the MSS
     * ({@link TcpRtxQueue#split}, Linux's {@code tcp_fragment} as it retransmits); the connection enters
     * Loss without touching the congestion window, since no more data is in the network than before, only
     * its units changed: ssthresh is kept, and there is nothing to undo. Returns the sequence number of
     * the first segment now lost, or {@code sndUna - 1} when none was (the timer then does the rest).
     */
    int simpleRetransmit(int cpu) {
        int mss = Math.max(sk.mss, 1);
        int first = sk.sndUna - 1;
        boolean any = false;
        for (int k = 0; k < q.size(); k++) {
            int i = q.at(k);
            if (q.end[i] - q.seq[i] <= mss || (q.sacked[i] & (TcpRtxQueue.SACKED_ACKED | TcpRtxQueue.FIN)) != 0) {
                continue;
            }
            int n = q.split(k, mss);
            for (int d = 0; d < n; d++) {
                if (q.markLost(q.at(k + d), sk.net, cpu)) {
                    lost++;
                }
            }
            if (!any) {
                first = q.seq[q.at(k)];
                any = true;
            }
            k += n - 1;
        }
        if (q.lostOut == 0 || !any) {
            return sk.sndUna - 1;
        }
        if (sk.caState != TcpCongestion.CA_LOSS) {
            highSeq = sk.sndMax;
            sk.cw.ssthresh = currentSsthresh();
            priorSsthresh = 0;
            undoMarker = 0;
            setCaState(TcpCongestion.CA_LOSS);
        }
        frto = false; // not a timeout: nothing for F-RTO to check
        tlpHighSeq = 0;
        return first;
    }

    // --- the state machine ---

    /**
     * {@code tcp_fastretrans_alert}: leaves a finished recovery (or undoes it), then by state: in
     * Recovery counts duplicate ACKs and tries the partial and D-SACK undos; in Loss {@code
     * tcp_process_loss}; otherwise marks losses (RACK, or the threshold) and enters Recovery when one
     * is seen. Returns whether lost segments are to go again.
     */
    boolean fastretransAlert(int priorUna, int numDupack, int cpu) {
        boolean doLost = numDupack > 0 || (flag & FLAG_DATA_SACKED) != 0 && forceFastRetransmit();
        if (q.packetsOut == 0 && q.sackedOut > 0) {
            q.sackedOut = 0;
        }
        if (checkSackReneging()) {
            return false;
        }
        boolean fastRexmit = false;
        int state = sk.caState;
        if (state == TcpCongestion.CA_OPEN) {
            retransStamp = 0;
        } else if (!TcpSeq.before(sk.sndUna, highSeq)) {
            if (state == TcpCongestion.CA_CWR) {
                if (sk.sndUna != highSeq) {
                    endCwndReduction();
                    setCaState(TcpCongestion.CA_OPEN);
                }
            } else if (state == TcpCongestion.CA_RECOVERY) {
                if (!isSack()) {
                    q.sackedOut = 0;
                }
                if (tryUndoRecovery(cpu)) {
                    return false;
                }
                endCwndReduction();
            }
        }
        switch (sk.caState) {
            case TcpCongestion.CA_RECOVERY -> {
                if ((flag & FLAG_SND_UNA_ADVANCED) == 0) {
                    if (!isSack()) {
                        addRenoSack(numDupack, cpu);
                    }
                } else {
                    if (undoMarker != 0 && packetDelayed()) { // tcp_try_undo_partial
                        checkSackReordering(priorUna, true, cpu);
                        if (q.retransOut > 0) {
                            return false;
                        }
                        undoCwndReduction(true);
                        sk.net.mib.inc(cpu, TcpMib.Ext.TCPPartialUndo);
                        tryKeepOpen();
                        return false;
                    }
                    doLost = forceFastRetransmit();
                }
                if (tryUndoDsack(cpu)) {
                    tryToOpen();
                }
                identifyPacketLoss(cpu);
                if (sk.caState != TcpCongestion.CA_RECOVERY) {
                    if (!timeToRecover()) {
                        return false;
                    }
                    enterRecovery(cpu);
                }
            }
            case TcpCongestion.CA_LOSS -> {
                processLoss(numDupack, cpu);
                identifyPacketLoss(cpu);
                if (!(sk.caState == TcpCongestion.CA_OPEN || (flag & FLAG_LOST_RETRANS) != 0)) {
                    return false; // the RTO's go-back resend sends what is lost
                }
                if (!openOrRecover(numDupack, cpu)) {
                    return false;
                }
                fastRexmit = true;
            }
            default -> {
                if (!openOrRecover(numDupack, cpu)) {
                    return false;
                }
                fastRexmit = true;
            }
        }
        if (!isRack() && doLost) {
            updateScoreboard(fastRexmit);
        }
        return true;
    }

    /** The default branch of {@code tcp_fastretrans_alert}: stay open (or Disorder), or enter Recovery. */
    private boolean openOrRecover(int numDupack, int cpu) {
        if (!isSack()) {
            if ((flag & FLAG_SND_UNA_ADVANCED) != 0) {
                q.sackedOut = 0;
            }
            addRenoSack(numDupack, cpu);
        }
        if (sk.caState <= TcpCongestion.CA_DISORDER) {
            tryUndoDsack(cpu);
        }
        identifyPacketLoss(cpu);
        if (!timeToRecover()) {
            tryToOpen();
            return false;
        }
        enterRecovery(cpu);
        return true;
    }

    /**
     * {@code tcp_process_loss}: an undo when the ACK shows the timeout was needless, F-RTO (RFC 5682
     * 3.1, the SACK-enhanced version, as Linux runs it), or Open once past high_seq.
     */
    private void processLoss(int numDupack, int cpu) {
        boolean recovered = !TcpSeq.before(sk.sndUna, highSeq);
        if ((flag & FLAG_SND_UNA_ADVANCED) != 0 && tryUndoLoss(false, cpu)) {
            return;
        }
        if (frto) {
            // step 3.b: data never retransmitted was (s)acknowledged: not everything was lost, the RTO was spurious
            if ((flag & FLAG_ORIG_SACK_ACKED) != 0 && tryUndoLoss(true, cpu)) {
                return;
            }
            if (TcpSeq.after(sk.sndMax, highSeq)) {
                if ((flag & FLAG_DATA_SACKED) != 0 || numDupack > 0) {
                    frtoLossWasReal(); // step 3.a
                }
            } else if ((flag & FLAG_SND_UNA_ADVANCED) != 0 && !recovered) {
                highSeq = sk.sndMax;
                // step 2.b: new data instead of the next retransmission, if there is any and the window takes it
                if (TcpSeq.before(sk.sndMax, sk.writeSeq) && TcpSeq.after(sk.sndUna + sk.sndWnd, sk.sndMax)) {
                    sk.sndNxt = sk.sndMax; // the go-back resend waits; TcpOutput.writeXmit sends new data on this ACK
                    return;
                }
                frto = false;
            }
        }
        if (recovered) {
            tryUndoRecovery(cpu); // step 2.a and the first part of 3.a: a conventional recovery ends
            return;
        }
        if (!isSack()) {
            if (TcpSeq.after(sk.sndMax, highSeq) && numDupack > 0) {
                addRenoSack(numDupack, cpu);
            } else if ((flag & FLAG_SND_UNA_ADVANCED) != 0) {
                q.sackedOut = 0;
            }
        }
    }

    /**
     * RFC 5682 3.1 step 3.a: the loss was real. Linux then retransmits what is marked lost; here the
     * RTO's go-back resend takes up again from snd_una and sends only that ({@link #resendSkips}): not
     * what the peer SACKed, not the head already resent, not the new data F-RTO sent.
     */
    private void frtoLossWasReal() {
        frto = false;
        if (TcpSeq.after(sk.sndNxt, sk.sndUna)) {
            sk.sndNxt = sk.sndUna;
            sk.finSent = false; // the FIN, when sent, goes again after the data
        }
    }

    /** {@code tcp_time_to_recover}: a segment is lost; without RACK also more duplicates than the threshold. */
    private boolean timeToRecover() {
        if (q.lostOut > 0) {
            return true;
        }
        return !isRack() && q.sackedOut + 1 > reordering;
    }

    /** {@code tcp_force_fast_retransmit}: SACKs reach further than the threshold above snd_una. */
    private boolean forceFastRetransmit() {
        return TcpSeq.after(highestSackSeq(), sk.sndUna + reordering * Math.max(sk.mss, 1));
    }

    /** {@code tcp_check_sack_reneging}: the head the peer SACKed is still not acknowledged; the RTO comes soon. */
    private boolean checkSackReneging() {
        if ((flag & FLAG_SACK_RENEGING) != 0 && (flag & FLAG_SND_UNA_ADVANCED) != 0) {
            long delay = Math.max(sk.srttUs / 2000, 10);
            isSackReneg = true;
            resetXmitTimer(ICSK_TIME_RETRANS, delay);
            flag &= ~FLAG_SET_XMIT_TIMER;
            return true;
        }
        return false;
    }

    /** {@code tcp_identify_packet_loss}: NewReno marks the head; RACK marks by time. */
    private void identifyPacketLoss(int cpu) {
        if (q.size() == 0) {
            return;
        }
        if (!isSack()) {
            newrenoMarkLost((flag & FLAG_SND_UNA_ADVANCED) != 0, cpu);
        } else if (isRack()) {
            int priorRetrans = q.retransOut;
            if (rackMarkLost(cpu)) {
                flag &= ~FLAG_SET_XMIT_TIMER;
            }
            if (priorRetrans > q.retransOut) {
                flag |= FLAG_LOST_RETRANS;
            }
        }
    }

    /** {@code tcp_newreno_mark_lost}: the head is lost once the duplicates reach the threshold, or at a partial ACK in Recovery. */
    private void newrenoMarkLost(boolean sndUnaAdvanced, int cpu) {
        int state = sk.caState;
        if (state < TcpCongestion.CA_RECOVERY && q.sackedOut >= reordering || state == TcpCongestion.CA_RECOVERY && sndUnaAdvanced) {
            markLost(q.at(0), cpu);
        }
    }

    private void markLost(int i, int cpu) {
        boolean wasLost = (q.sacked[i] & TcpRtxQueue.LOST) != 0;
        if (q.markLost(i, sk.net, cpu) && !wasLost) {
            lost++;
        }
    }

    /**
     * {@code tcp_update_scoreboard} without RACK (RFC 6675's IsLost): an entry with {@code reordering}
     * SACKed entries above it is lost; at a fast retransmit the head is.
     */
    private void updateScoreboard(boolean fastRexmit) {
        if (!isSack()) {
            return;
        }
        int cpu = sk.net.core.currentCpu();
        int above = 0;
        for (int k = q.size() - 1; k >= 0; k--) {
            int i = q.at(k);
            if ((q.sacked[i] & TcpRtxQueue.SACKED_ACKED) != 0) {
                above++;
            } else if (above >= reordering && (q.sacked[i] & TcpRtxQueue.LOST) == 0) {
                markLost(i, cpu);
            }
        }
        if (fastRexmit && q.size() > 0 && (q.sacked[q.at(0)] & TcpRtxQueue.LOST) == 0) {
            markLost(q.at(0), cpu);
        }
    }

    /** {@code tcp_add_reno_sack}: each duplicate ACK stands for one segment received (at most all but one hole). */
    private void addRenoSack(int numDupack, int cpu) {
        if (numDupack == 0) {
            return;
        }
        int prior = q.sackedOut;
        q.sackedOut += numDupack;
        checkRenoReordering(0, cpu);
        if (q.sackedOut > prior) {
            sk.delivered += q.sackedOut - prior;
        }
    }

    /** {@code tcp_remove_reno_sacks}: one ACKed segment filled the hole, the rest ate duplicate ACKs. */
    private void removeRenoSacks(int acked, int cpu) {
        if (acked > 0) {
            sk.delivered += Math.max(acked - q.sackedOut, 1);
            q.sackedOut = acked - 1 >= q.sackedOut ? 0 : q.sackedOut - (acked - 1);
        }
        checkRenoReordering(acked, cpu);
    }

    /** {@code tcp_check_reno_reordering}: more duplicates than segments out is reordering (TCPRenoReorder). */
    private void checkRenoReordering(int addend, int cpu) {
        int holes = Math.min(Math.max(q.lostOut, 1), q.packetsOut);
        if (q.sackedOut + holes <= q.packetsOut) {
            return;
        }
        q.sackedOut = Math.max(q.packetsOut - holes, 0);
        reordering = Math.min(q.packetsOut + addend, sk.net.maxReordering.get());
        reordSeen++;
        sk.net.mib.inc(cpu, TcpMib.Ext.TCPRenoReorder);
    }

    // --- undo ---

    /** {@code tcp_any_retrans_done}. */
    private boolean anyRetransDone() {
        return q.retransOut > 0 || q.size() > 0 && (q.sacked[q.at(0)] & TcpRtxQueue.EVER_RETRANS) != 0;
    }

    /** {@code tcp_packet_delayed} (Eifel, RFC 3522): the ACK echoes a TSval older than our first retransmission. */
    private boolean packetDelayed() {
        return retransStamp != 0 && sk.rx.sawTstamp && sk.rx.rcvTsecr != 0 && TcpSeq.before(sk.rx.rcvTsecr, retransStamp);
    }

    /** {@code tcp_may_undo}: every retransmission was D-SACKed, or the timestamps show the original arrived. */
    private boolean mayUndo() {
        return undoMarker != 0 && (undoRetrans == 0 || packetDelayed());
    }

    /**
     * {@code tcp_undo_cwnd_reduction}: the window and ssthresh return to what they were; with {@code
     * unmarkLoss} nothing stays lost (and the RTO's go-back resend stops: what it would send arrived).
     */
    private void undoCwndReduction(boolean unmarkLoss) {
        if (unmarkLoss) {
            q.unmarkLost();
            if (TcpSeq.before(sk.sndNxt, sk.sndMax)) {
                sk.sndNxt = sk.sndMax;
                if (sk.finQueued && sk.sndMax == sk.writeSeq + 1) {
                    sk.finSent = true;
                }
            }
        }
        if (priorSsthresh != 0) {
            sk.cw.cwnd = Math.max(sk.ca.ops.undoCwnd(sk.cw), 1);
            if (priorSsthresh > sk.cw.ssthresh) {
                sk.cw.ssthresh = priorSsthresh;
            }
        }
        sk.cwndStampMs = sk.nowMs();
        undoMarker = 0;
        rackAdvanced = true;
    }

    /** {@code tcp_try_undo_recovery}: at the end of recovery, TCPFullUndo (TCPLossUndo in Loss) if it was needless. */
    private boolean tryUndoRecovery(int cpu) {
        if (mayUndo()) {
            undoCwndReduction(false);
            sk.net.mib.inc(cpu, sk.caState == TcpCongestion.CA_LOSS ? TcpMib.Ext.TCPLossUndo : TcpMib.Ext.TCPFullUndo);
        } else if (reoWndPersist > 0) {
            reoWndPersist--;
        }
        if (sk.sndUna == highSeq && !isSack()) {
            if (!anyRetransDone()) {
                retransStamp = 0;
            }
            return true; // NewReno holds the state until something above high_seq is acknowledged
        }
        setCaState(TcpCongestion.CA_OPEN);
        isSackReneg = false;
        return false;
    }

    /** {@code tcp_try_undo_dsack}: every retransmission was D-SACKed; TCPDSACKUndo. */
    private boolean tryUndoDsack(int cpu) {
        if (undoMarker != 0 && undoRetrans == 0) {
            reoWndPersist = Math.min(TCP_RACK_RECOVERY_THRESH, reoWndPersist + 1);
            undoCwndReduction(false);
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPDSACKUndo);
            return true;
        }
        return false;
    }

    /**
     * {@code tcp_try_undo_loss}: the timeout was needless (TCPLossUndo); found by F-RTO ({@code frtoUndo})
     * it is also TCPSpuriousRTOs and the connection is Open at once.
     */
    private boolean tryUndoLoss(boolean frtoUndo, int cpu) {
        if (!frtoUndo && !mayUndo()) {
            return false;
        }
        undoCwndReduction(true);
        sk.net.mib.inc(cpu, TcpMib.Ext.TCPLossUndo);
        if (frtoUndo) {
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPSpuriousRTOs);
        }
        sk.retransmits = 0;
        if (frtoUndo || isSack()) {
            setCaState(TcpCongestion.CA_OPEN);
            isSackReneg = false;
        }
        return true;
    }

    /** {@code tcp_try_keep_open}: Disorder while anything is SACKed, lost or retransmitted, else Open. */
    private void tryKeepOpen() {
        int state = leftOut() > 0 || anyRetransDone() ? TcpCongestion.CA_DISORDER : TcpCongestion.CA_OPEN;
        if (sk.caState != state) {
            setCaState(state);
            highSeq = sk.sndMax;
        }
    }

    private void tryToOpen() {
        if (!anyRetransDone()) {
            retransStamp = 0;
        }
        if ((flag & FLAG_ECE) != 0) {
            enterCwr();
        }
        if (sk.caState != TcpCongestion.CA_CWR) {
            tryKeepOpen();
        }
    }

    // --- RACK (tcp_recovery.c) ---

    /**
     * {@code tcp_skb_sent_after} on the send stamps. Linux compares µs stamps; modnet compares the ns
     * stamps ({@link #xmitStampNs}), which order the transmits of one µs as they went.
     */
    private static boolean sentAfter(long t1, long t2, int seq1, int seq2) {
        return t1 > t2 || t1 == t2 && TcpSeq.after(seq1, seq2);
    }

    /** {@code tcp_rack_advance}: a segment sent at {@code xmitNs} was delivered; the newest such is RACK's reference. */
    private void rackAdvance(byte marks, int end, long xmitNs) {
        long rtt = nowUs() - xmitNs / 1000; // in us from the us stamps, as tcp_stamp_us_delta (the +1 ns never shortens it)
        if (rtt < sk.minRttUs && (marks & TcpRtxQueue.RETRANS) != 0) {
            return; // the original or the retransmission: ambiguous
        }
        rackAdvanced = true;
        rackRttUs = rtt;
        if (sentAfter(xmitNs, rackMstampNs, end, rackEndSeq)) {
            rackMstampNs = xmitNs;
            rackEndSeq = end;
        }
    }

    /**
     * {@code tcp_rack_reo_wnd}: without reordering seen, none in recovery or once the duplicate threshold
     * is reached; else min_rtt/4 per step, at most SRTT.
     */
    long reoWnd() {
        if (reordSeen == 0) {
            if (sk.caState >= TcpCongestion.CA_RECOVERY) {
                return 0;
            }
            if (q.sackedOut >= reordering && (sk.net.recovery.get() & TCP_RACK_NO_DUPTHRESH) == 0) {
                return 0;
            }
        }
        return Math.min((sk.minRttUs >> 2) * reoWndSteps, sk.srttUs);
    }

    /**
     * {@code tcp_rack_detect_loss}: an entry sent before the newest delivered one and not delivered within
     * RACK's RTT plus the reordering window is lost; returns the longest wait still to go (µs).
     */
    private long rackDetectLoss(int cpu) {
        long reoWnd = reoWnd();
        long now = nowUs();
        long timeout = 0;
        for (int k = 0; k < q.size(); k++) {
            int i = q.at(k);
            byte m = q.sacked[i];
            if ((m & TcpRtxQueue.SACKED_ACKED) != 0 || (m & TcpRtxQueue.LOST) != 0 && (m & TcpRtxQueue.SACKED_RETRANS) == 0) {
                continue;
            }
            if (!sentAfter(rackMstampNs, q.xmitNs[i], rackEndSeq, q.end[i])) {
                continue;
            }
            long remaining = rackRttUs + reoWnd - (now - q.xmitNs[i] / 1000);
            if (remaining <= 0) {
                markLost(i, cpu);
            } else {
                timeout = Math.max(timeout, remaining);
            }
        }
        return timeout;
    }

    /** {@code tcp_rack_mark_lost}: after RACK advanced, marks and arms the reordering timer for what may still come. */
    private boolean rackMarkLost(int cpu) {
        if (!rackAdvanced) {
            return false;
        }
        rackAdvanced = false;
        long timeout = rackDetectLoss(cpu);
        if (timeout > 0) {
            // usecs_to_jiffies(timeout + TCP_TIMEOUT_MIN_US): 25 ms left is 7 jiffies (28 ms) at HZ=250
            resetXmitTimer(ICSK_TIME_REO_TIMEOUT, Math.min(TcpSock.usecsToJiffiesMs(timeout + TcpSock.TIMEOUT_MIN_US), sk.rtoMs));
        }
        return timeout > 0;
    }

    /** {@code tcp_rack_reo_timeout}: the reordering window passed; what is now lost goes, in Recovery. */
    void rackReoTimeout(int cpu) {
        flag = 0; // a timer, no ACK: the last ACK's flags must not count (tcp_cwnd_reduction's flag is 0 here)
        int prior = inFlight();
        int lostBefore = lost;
        rackDetectLoss(cpu);
        if (prior != inFlight()) {
            if (sk.caState != TcpCongestion.CA_RECOVERY) {
                enterRecovery(cpu);
                if (!sk.ca.hasCongControl) {
                    cwndReduction(1, lost - lostBefore); // Linux leaves an algorithm with its own cong_control (BBR) its window
                }
            }
            xmitRetransmitQueue(cpu);
        }
        if (pending != ICSK_TIME_RETRANS) {
            rearmRto();
        }
    }

    /** {@code tcp_rack_update_reo_wnd}: a D-SACK after reordering widens the window a step, for sixteen recoveries. */
    private void rackUpdateReoWnd(int priorDelivered) {
        if ((sk.net.recovery.get() & TCP_RACK_STATIC_REO_WND) != 0 || priorDelivered == 0) {
            return;
        }
        if (priorDelivered - rackLastDelivered < 0) {
            rackDsackSeen = false;
        }
        if (rackDsackSeen) {
            reoWndSteps = Math.min(0xff, reoWndSteps + 1);
            rackDsackSeen = false;
            rackLastDelivered = sk.delivered;
            reoWndPersist = TCP_RACK_RECOVERY_THRESH;
        } else if (reoWndPersist == 0) {
            reoWndSteps = 1;
        }
    }

    // --- timers: RTO re-arming and the tail loss probe (tcp_output.c, tcp_timer.c) ---

    /** How far in the future the head's RTO is ({@code tcp_rto_delta_us}), in µs. */
    private long rtoDeltaUs() {
        if (q.size() == 0) {
            return sk.rtoMs * 1000;
        }
        return q.xmitNs[q.at(0)] / 1000 + sk.rtoMs * 1000 - nowUs();
    }

    /** {@code tcp_rearm_rto}: the RTO from now, or what is left of the head's after a probe or reordering timer. */
    void rearmRto() {
        if (q.packetsOut == 0 && sk.sndUna == sk.sndNxt) {
            pending = 0;
            sk.rtxTimer.clear(); // inet_csk_clear_xmit_timer: the wheel's timer stays, the next send only moves it
            return;
        }
        long rto = sk.rtoMs;
        if (pending == ICSK_TIME_REO_TIMEOUT || pending == ICSK_TIME_LOSS_PROBE) {
            rto = TcpSock.usecsToJiffiesMs(Math.max(rtoDeltaUs(), 1));
        }
        resetXmitTimer(ICSK_TIME_RETRANS, rto);
    }

    /** {@code tcp_set_xmit_timer}: the loss probe if one may go, else the RTO. */
    void setXmitTimer() {
        if (!scheduleLossProbe(true)) {
            rearmRto();
        }
    }

    /**
     * {@code tcp_schedule_loss_probe} (RFC 8985 7.2): with SACK, Open or CWR and data out, a probe in
     * PTO = 2·SRTT, plus the delayed-ACK allowance (tcp_rto_min) when one segment is out, else 2 ms; never
     * after the RTO would fire.
     */
    boolean scheduleLossProbe(boolean advancingRto) {
        int early = sk.net.earlyRetrans.get();
        if (early != 3 && early != 4 || q.packetsOut == 0 || !isSack()
                || sk.caState != TcpCongestion.CA_OPEN && sk.caState != TcpCongestion.CA_CWR) {
            return false;
        }
        long timeout; // ms, whole jiffies
        if (sk.srttUs > 0) {
            timeout = TcpSock.usecsToJiffiesMs(2 * sk.srttUs + (q.packetsOut == 1 ? RTO_MIN_MS * 1000 : TcpSock.TIMEOUT_MIN_US));
        } else {
            timeout = RTO_INIT_MS;
        }
        long rtoDelta = advancingRto ? sk.rtoMs * 1000 : rtoDeltaUs();
        if (rtoDelta > 0) {
            timeout = Math.min(timeout, TcpSock.usecsToJiffiesMs(rtoDelta));
        }
        resetXmitTimer(ICSK_TIME_LOSS_PROBE, timeout);
        return true;
    }

    /**
     * {@code tcp_send_loss_probe}: one probe per tail-loss episode: a new segment if all of it fits the
     * peer's window ({@link #nextSegmentFitsWindow}), else the last segment again (TCPLossProbes); then
     * the RTO from now.
     */
    void sendLossProbe(int cpu) {
        if (tlpHighSeq != 0) {
            rearmRto();
            return;
        }
        tlpRetrans = false;
        boolean sent;
        if (TcpSeq.before(sk.sndNxt, sk.writeSeq) && sk.sndNxt == sk.sndMax && nextSegmentFitsWindow()) {
            int before = q.packetsOut;
            sk.output.sendNewSegment(cpu);
            sent = q.packetsOut > before;
        } else {
            sent = q.size() > 0 && probeLast(cpu);
            tlpRetrans = sent;
        }
        if (sent) {
            tlpHighSeq = sk.sndMax;
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPLossProbes);
            pending = 0;
        }
        rearmRto();
    }

    /**
     * {@code tcp_snd_wnd_test} for the probe's new data: all of the next segment (a full MSS, or the rest
     * of its skb) fits the peer's window. Otherwise the probe is the last segment again, never a sliver
     * of new data cut to what the window leaves.
     */
    private boolean nextSegmentFitsWindow() {
        int len = sk.push.limit(sk.sndNxt, Math.min(sk.mss, sk.writeSeq - sk.sndNxt));
        return len > 0 && !TcpSeq.after(sk.sndNxt + len, sk.sndUna + sk.sndWnd);
    }

    private boolean probeLast(int cpu) {
        int i = q.at(q.size() - 1);
        boolean fin = (q.sacked[i] & TcpRtxQueue.FIN) != 0;
        if (!sk.output.retransmit(q.seq[i], q.end[i], fin, cpu)) {
            return false;
        }
        sk.output.paceSent(fin ? 0 : q.end[i] - q.seq[i]);
        long ns = xmitStampNs();
        long now = ns / 1000;
        q.markProbe(i, ns);
        rate.skbSent(q, i, sk.delivered, false, now);
        return true;
    }

    /** Lost entries wait to go again and the window has room ({@code tcp_tsq_write}'s test). */
    boolean retransmitsWaiting() {
        return q.lostOut > q.retransOut && sk.cw.cwnd > inFlight();
    }

    /** {@code tcp_process_tlp_ack}: the probe's answer; an ACK beyond it means a loss was repaired (TCPLossProbeRecovery). */
    private void processTlpAck(int ack, int cpu) {
        if (TcpSeq.before(ack, tlpHighSeq)) {
            return;
        }
        if (!tlpRetrans || (flag & FLAG_DSACK_TLP) != 0) {
            tlpHighSeq = 0;
        } else if (TcpSeq.after(ack, tlpHighSeq)) {
            initCwndReduction();
            setCaState(TcpCongestion.CA_CWR);
            endCwndReduction();
            tryKeepOpen();
            sk.net.mib.inc(cpu, TcpMib.Ext.TCPLossProbeRecovery);
        } else if ((flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP | FLAG_DATA_SACKED)) == 0) {
            tlpHighSeq = 0; // a pure duplicate: the original and the probe both arrived
        }
    }

    // --- what goes again ---

    /**
     * {@code tcp_xmit_retransmit_queue}: lost entries not yet resent go, in order, while the window
     * (PRR's in a reduction) has room and the pacing timer lets them ({@code tcp_pacing_check}: a paced
     * connection spaces its retransmissions at the pacing rate as it does new data, and the pacing timer
     * sends the rest); contiguous ones of one skb go together. TCPFastRetrans.
     */
    void xmitRetransmitQueue(int cpu) {
        if (q.packetsOut == 0 || sk.caState == TcpCongestion.CA_LOSS) {
            return; // in Loss the RTO's go-back resend (TcpOutput.writeXmit) sends them
        }
        boolean rearm = false;
        int maxSegs = TcpTso.canGso(sk.routeDev) ? TcpTso.GSO_MAX_SEGS : 1;
        for (int k = 0; k < q.size(); k++) {
            int segs = sk.cw.cwnd - inFlight();
            if (segs <= 0 || q.retransOut >= q.lostOut || sk.output.pacingCheck()) {
                break;
            }
            int i = q.at(k);
            byte m = q.sacked[i];
            if ((m & TcpRtxQueue.LOST) == 0 || (m & (TcpRtxQueue.SACKED_ACKED | TcpRtxQueue.SACKED_RETRANS)) != 0) {
                continue;
            }
            boolean fin = (m & TcpRtxQueue.FIN) != 0;
            int n = 1;
            int e = q.end[i];
            if (!fin) {
                int limit = q.seq[i] + sk.push.limit(q.seq[i], Integer.MAX_VALUE >> 1);
                while (n < Math.min(segs, maxSegs) && k + n < q.size()) {
                    int j = q.at(k + n);
                    if ((q.sacked[q.at(k + n - 1)] & TcpRtxQueue.SKB_END) != 0 // tcp_retransmit_skb sends one skb
                            || (q.sacked[j] & (TcpRtxQueue.LOST | TcpRtxQueue.SACKED_ACKED | TcpRtxQueue.SACKED_RETRANS | TcpRtxQueue.FIN)) != TcpRtxQueue.LOST
                            || TcpSeq.after(q.end[j], limit) || q.end[j] - q.seq[j] != sk.mss || q.end[i] - q.seq[i] != sk.mss) {
                        break;
                    }
                    e = q.end[j];
                    n++;
                }
            }
            if (!sk.output.retransmit(q.seq[i], e, fin, cpu)) {
                if (n == 1) {
                    break;
                }
                n = 1; // no large buffer free: one segment from the normal pool
                e = q.end[i];
                if (!sk.output.retransmit(q.seq[i], e, fin, cpu)) {
                    break;
                }
            }
            sk.output.paceSent(fin ? 0 : e - q.seq[i]); // tcp_update_skb_after_send: the next departure is later
            long ns = xmitStampNs();
            long now = ns / 1000;
            if (retransStamp == 0) {
                retransStamp = sk.tsNow();
            }
            for (int d = 0; d < n; d++) {
                q.markRetrans(q.at(k + d), ns);
                rate.skbSent(q, q.at(k + d), sk.delivered, false, now);
            }
            countUndoRetrans(n);
            sk.net.mib.add(cpu, TcpMib.Ext.TCPFastRetrans, n);
            if (inCwndReduction()) {
                prrOut += n;
            }
            if (k == 0 && pending != ICSK_TIME_REO_TIMEOUT) {
                rearm = true;
            }
            k += n - 1;
        }
        if (rearm) {
            resetXmitTimer(ICSK_TIME_RETRANS, sk.rtoMs);
        }
    }

    /** New data went while the window is being reduced: PRR counts it ({@code tcp_write_xmit}'s prr_out). */
    void newDataSentInReduction(int segs) {
        if (inCwndReduction()) {
            prrOut += segs;
        }
    }

    // --- hand-over ---

    /** The scoreboard and recovery state as API values, for the next version ({@link TcpHandOver}). */
    TcpRecoveryState handOver() {
        int n = q.size();
        int[] ends = new int[n];
        byte[] marks = new byte[n];
        long[] sent = new long[n];
        for (int k = 0; k < n; k++) {
            int i = q.at(k);
            ends[k] = q.end[i];
            marks[k] = q.sacked[i];
            sent[k] = q.xmitNs[i] / 1000;
        }
        return new TcpRecoveryState(ends, marks, sent, reordering, reordSeen, dsackDups, lost, highSeq, undoMarker,
                undoRetrans, retransStamp, priorSsthresh, priorCwnd, prrDelivered, prrOut, tlpHighSeq, tlpRetrans,
                isSackReneg, rackMstampNs / 1000, rackEndSeq, rackRttUs, reoWndSteps, reoWndPersist, pending);
    }

    /**
     * Takes a previous version's state; without one (a version before the scoreboard) the segments from
     * snd_una to the highest sent are entries of an MSS each, unmarked, as if sent now.
     */
    void adopt(TcpRecoveryState r) {
        q.clear();
        if (r == null) {
            int m = Math.max(sk.mss, 1);
            long ns = xmitStampNs();
            int end = sk.finSent ? sk.sndMax - 1 : sk.sndMax;
            for (int s = sk.sndUna; TcpSeq.before(s, end); s += m) {
                q.add(s, TcpSeq.min(s + m, end), false, ns);
            }
            if (sk.finSent && TcpSeq.before(sk.sndUna, sk.sndMax)) {
                q.add(sk.sndMax - 1, sk.sndMax, true, ns);
            }
            if (sk.caState == TcpCongestion.CA_LOSS) {
                q.markAllLost(true);
            }
            return;
        }
        int s = sk.sndUna;
        for (int k = 0; k < r.segmentEnds().length; k++) {
            byte m = r.segmentMarks()[k];
            q.add(s, r.segmentEnds()[k], (m & TcpRtxQueue.FIN) != 0, r.segmentSentUs()[k] * 1000);
            int i = q.at(q.size() - 1);
            if ((m & TcpRtxQueue.SACKED_ACKED) != 0) {
                q.markSacked(i);
            }
            q.sacked[i] = m;
            q.lostOut += (m & TcpRtxQueue.LOST) != 0 ? 1 : 0;
            q.retransOut += (m & TcpRtxQueue.SACKED_RETRANS) != 0 ? 1 : 0;
            s = r.segmentEnds()[k];
        }
        reordering = r.reordering();
        reordSeen = r.reordSeen();
        dsackDups = r.dsackDups();
        lost = r.lost();
        highSeq = r.highSeq();
        undoMarker = r.undoMarker();
        undoRetrans = r.undoRetrans();
        retransStamp = r.retransStamp();
        priorSsthresh = r.priorSsthresh();
        priorCwnd = r.priorCwnd();
        prrDelivered = r.prrDelivered();
        prrOut = r.prrOut();
        tlpHighSeq = r.tlpHighSeq();
        tlpRetrans = r.tlpRetrans();
        isSackReneg = r.sackReneg();
        rackMstampNs = r.rackMstampUs() * 1000;
        rackEndSeq = r.rackEndSeq();
        rackRttUs = r.rackRttUs();
        reoWndSteps = r.reoWndSteps();
        reoWndPersist = r.reoWndPersist();
        pending = r.timerPending();
    }

    /**
     * The delivery-rate sampler and what each segment in flight remembered when it went out (handover
     * 1.5), in the scoreboard's order ({@link #handOver}).
     */
    org.modnet.api.handover.TcpRateState rateHandOver() {
        int n = q.size();
        int[] delivered = new int[n];
        long[] deliveredUs = new long[n];
        long[] firstTxUs = new long[n];
        boolean[] appLimited = new boolean[n];
        for (int k = 0; k < n; k++) {
            int i = q.at(k);
            delivered[k] = q.txDelivered[i];
            deliveredUs[k] = q.txDeliveredUs[i];
            firstTxUs[k] = q.txFirstUs[i];
            appLimited[k] = q.txAppLimited[i];
        }
        return new org.modnet.api.handover.TcpRateState(rate.deliveredMstampUs, rate.firstTxMstampUs, rate.appLimited,
                rate.rateDelivered, rate.rateIntervalUs, rate.rateAppLimited, delivered, deliveredUs, firstTxUs, appLimited);
    }

    /**
     * Takes the sampler back, after {@link #adopt} made the scoreboard; the segments' entries only when
     * the scoreboard has one per entry (else they start unsampled, as after a restart). Null (a version
     * before 1.5): the sampler starts afresh.
     */
    void adoptRate(org.modnet.api.handover.TcpRateState r) {
        if (r == null) {
            return;
        }
        rate.deliveredMstampUs = r.deliveredMstampUs();
        rate.firstTxMstampUs = r.firstTxMstampUs();
        rate.appLimited = r.appLimited();
        rate.rateDelivered = r.rateDelivered();
        rate.rateIntervalUs = r.rateIntervalUs();
        rate.rateAppLimited = r.rateAppLimited();
        if (r.segmentDelivered().length != q.size()) {
            return;
        }
        for (int k = 0; k < q.size(); k++) {
            int i = q.at(k);
            q.txDelivered[i] = r.segmentDelivered()[k];
            q.txDeliveredUs[i] = r.segmentDeliveredUs()[k];
            q.txFirstUs[i] = r.segmentFirstTxUs()[k];
            q.txAppLimited[i] = r.segmentAppLimited()[k];
        }
    }
}

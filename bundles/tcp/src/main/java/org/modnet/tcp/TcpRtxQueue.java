package org.modnet.tcp;

/**
 * The retransmission queue's scoreboard ({@code sk->tcp_rtx_queue} and {@code TCP_SKB_CB(skb)->sacked}):
 * one entry per segment sent and not yet cumulatively acknowledged, in sequence order, each with its
 * marks ({@link #SACKED_ACKED}, {@link #SACKED_RETRANS}, {@link #LOST}, {@link #EVER_RETRANS}) and the
 * time it last went out in ns ({@code skb_mstamp_ns}, {@link TcpRecovery#xmitStampNs}), and the counts Linux keeps of them: {@code packets_out},
 * {@code sacked_out}, {@code lost_out}, {@code retrans_out}. modnet keeps the bytes in the send ring, so
 * an entry is only the segment's bounds: a GSO send makes one entry per MSS, as Linux's SACK processing
 * would fragment its skb, and nothing here allocates on the packet path (the arrays double, rarely,
 * up to {@link #MAX}; a send beyond that is refused and counted as TCPWqueueTooBig).
 */
final class TcpRtxQueue {
    /** {@code TCPCB_SACKED_ACKED}: the peer holds this segment (a SACK block covered it). */
    static final byte SACKED_ACKED = 0x01;
    /** {@code TCPCB_SACKED_RETRANS}: retransmitted and that copy is believed in flight. */
    static final byte SACKED_RETRANS = 0x02;
    /** {@code TCPCB_LOST}: believed lost (RACK, the duplicate-ACK threshold or an RTO said so). */
    static final byte LOST = 0x04;
    /** {@code TCPCB_EVER_RETRANS}: sent more than once at some point. */
    static final byte EVER_RETRANS = (byte) 0x80;
    /** {@code TCPCB_RETRANS}. */
    static final byte RETRANS = SACKED_RETRANS | EVER_RETRANS;
    /** {@code TCPCB_FIN} of modnet's entry: the segment is the FIN's sequence number. */
    static final byte FIN = 0x10;
    /**
     * modnet's: the entry ends one skb as Linux's queue would hold it (what one transmit put on the wire,
     * a GSO skb of several entries or one segment). A retransmission never spans two, as {@code
     * tcp_retransmit_skb} sends one skb at a time, so the segment boundaries and PSH flags of a resend are
     * Linux's.
     */
    static final byte SKB_END = 0x20;

    /** The most segments one connection keeps in flight: far more than any window modnet offers. */
    static final int MAX = 1 << 16;
    /**
     * The entries a queue starts with, on its first segment: enough for a handshake and a request, so an
     * idle connection holds a few hundred bytes here, not kilobytes; a bulk sender doubles it a few times.
     */
    private static final int INITIAL = 4;
    private static final int[] NO_INTS = {};
    private static final long[] NO_LONGS = {};
    private static final byte[] NO_BYTES = {};
    private static final boolean[] NO_BOOLEANS = {};

    int[] seq = NO_INTS;
    int[] end = NO_INTS;
    byte[] sacked = NO_BYTES;
    /** {@code skb->skb_mstamp_ns}: when the entry last went out, ns of the stack's clock. */
    long[] xmitNs = NO_LONGS;
    /** {@code TCP_SKB_CB(skb)->tx} ({@link TcpRate}): the delivery state when the entry last went out. */
    int[] txDelivered = NO_INTS;
    long[] txDeliveredUs = NO_LONGS;
    long[] txFirstUs = NO_LONGS;
    boolean[] txAppLimited = NO_BOOLEANS;
    private int head;
    private int count;

    /** {@code packets_out}, {@code sacked_out}, {@code lost_out}, {@code retrans_out}. */
    int packetsOut;
    int sackedOut;
    int lostOut;
    int retransOut;
    /** {@code tcp_highest_sack_seq}: the end of the highest SACKed segment; valid while {@link #sackedOut} > 0. */
    int highestSackEnd;

    int size() {
        return count;
    }

    /** The slot of the {@code k}-th entry from the head. */
    int at(int k) {
        return (head + k) & (seq.length - 1);
    }

    /** {@code tcp_rtx_queue_purge}: the connection restarts or ends. */
    void clear() {
        head = 0;
        count = 0;
        packetsOut = sackedOut = lostOut = retransOut = 0;
    }

    /**
     * {@code tcp_event_new_data_sent}: [s, e) went out for the first time at {@code nowNs}. False when
     * the queue is at its bound (the caller does not send).
     */
    boolean add(int s, int e, boolean fin, long nowNs) {
        if (count == seq.length && !grow()) {
            return false;
        }
        int i = at(count);
        seq[i] = s;
        end[i] = e;
        sacked[i] = fin ? FIN : 0;
        xmitNs[i] = nowNs;
        count++;
        packetsOut++;
        return true;
    }

    /**
     * The connection went quiet with nothing in flight: the arrays go back (a bulk sender's reach 65,536
     * entries, megabytes), as Linux frees its skbs when acknowledged; the next send makes them again.
     */
    void release() {
        if (count == 0) {
            seq = end = txDelivered = NO_INTS;
            sacked = NO_BYTES;
            xmitNs = txDeliveredUs = txFirstUs = NO_LONGS;
            txAppLimited = NO_BOOLEANS;
            head = 0;
        }
    }

    /** The entries' arrays' length (0 when released), for tests. */
    int capacity() {
        return seq.length;
    }

    /** Whether {@code n} more entries fit. */
    boolean hasRoom(int n) {
        return count + n <= MAX;
    }

    private boolean grow() {
        if (seq.length >= MAX) {
            return false;
        }
        int n = seq.length == 0 ? INITIAL : seq.length * 2;
        int[] s = new int[n];
        int[] e = new int[n];
        byte[] m = new byte[n];
        long[] t = new long[n];
        int[] td = new int[n];
        long[] tdu = new long[n];
        long[] tfu = new long[n];
        boolean[] tal = new boolean[n];
        for (int k = 0; k < count; k++) {
            int i = at(k);
            s[k] = seq[i];
            e[k] = end[i];
            m[k] = sacked[i];
            t[k] = xmitNs[i];
            td[k] = txDelivered[i];
            tdu[k] = txDeliveredUs[i];
            tfu[k] = txFirstUs[i];
            tal[k] = txAppLimited[i];
        }
        txDelivered = td;
        txDeliveredUs = tdu;
        txFirstUs = tfu;
        txAppLimited = tal;
        seq = s;
        end = e;
        sacked = m;
        xmitNs = t;
        head = 0;
        return true;
    }

    /** The index from the head of the entry holding {@code s}, or -1 (binary search: entries are in order). */
    int find(int s) {
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int i = at(mid);
            if (TcpSeq.before(s, seq[i])) {
                hi = mid - 1;
            } else if (!TcpSeq.before(s, end[i])) {
                lo = mid + 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** Drops the head entry and its marks from the counts; returns its marks. */
    byte removeHead() {
        int i = at(0);
        byte m = sacked[i];
        forget(m);
        head = (head + 1) & (seq.length - 1);
        count--;
        packetsOut--;
        return m;
    }

    private void forget(byte m) {
        if ((m & SACKED_ACKED) != 0) {
            sackedOut--;
        }
        if ((m & SACKED_RETRANS) != 0) {
            retransOut--;
        }
        if ((m & LOST) != 0) {
            lostOut--;
        }
    }

    /** {@code tcp_mark_skb_lost}: an entry not SACKed becomes lost; a lost retransmission is lost again (TCPLostRetransmit). */
    boolean markLost(int i, TcpNet net, int cpu) {
        byte m = sacked[i];
        if ((m & SACKED_ACKED) != 0) {
            return false;
        }
        if ((m & LOST) != 0) {
            if ((m & SACKED_RETRANS) != 0) {
                sacked[i] = (byte) (m & ~SACKED_RETRANS);
                retransOut--;
                net.mib.inc(cpu, TcpMib.Ext.TCPLostRetransmit);
                return true;
            }
            return false;
        }
        sacked[i] = (byte) (m | LOST);
        lostOut++;
        return true;
    }

    /** {@code tcp_retransmit_skb}'s marks: the entry went again at {@code nowNs} and that copy is in flight. */
    void markRetrans(int i, long nowNs) {
        byte m = sacked[i];
        if ((m & SACKED_RETRANS) == 0) {
            retransOut++;
        }
        sacked[i] = (byte) (m | RETRANS);
        xmitNs[i] = nowNs;
    }

    /** {@code __tcp_retransmit_skb} alone (the loss probe's resend): sent again, but no copy counted in flight. */
    void markProbe(int i, long nowNs) {
        sacked[i] = (byte) (sacked[i] | EVER_RETRANS);
        xmitNs[i] = nowNs;
    }

    /** {@code tcp_sacktag_one}: the entry is SACKed; a lost or retransmitted mark leaves the counts. */
    void markSacked(int i) {
        byte m = sacked[i];
        if ((m & SACKED_RETRANS) != 0) {
            retransOut--;
        }
        if ((m & LOST) != 0) {
            lostOut--;
        }
        sacked[i] = (byte) ((m & ~(SACKED_RETRANS | LOST)) | SACKED_ACKED);
        sackedOut++;
        if (sackedOut == 1 || TcpSeq.after(end[i], highestSackEnd)) {
            highestSackEnd = end[i];
        }
    }

    /** The oldest segment out is marked SACKed: the peer has reneged on it if the RTO finds it so. */
    boolean headSacked() {
        return count > 0 && (sacked[at(0)] & SACKED_ACKED) != 0;
    }

    /** Reneging ({@code tcp_timeout_mark_lost}): no entry is SACKed any more. */
    void clearSacks() {
        for (int k = 0; k < count; k++) {
            int i = at(k);
            sacked[i] = (byte) (sacked[i] & ~SACKED_ACKED);
        }
        sackedOut = 0;
    }

    /** The entry's retransmitted copy no longer counts in flight (it goes again now). */
    void unmarkRetrans(int i) {
        if ((sacked[i] & SACKED_RETRANS) != 0) {
            sacked[i] = (byte) (sacked[i] & ~SACKED_RETRANS);
            retransOut--;
        }
    }

    /**
     * Every entry not SACKed is lost and no retransmission is in flight; with {@code clearSacks} the SACK
     * marks go too (a connection adopted in Loss, whose marks were not handed over).
     */
    void markAllLost(boolean clearSacks) {
        for (int k = 0; k < count; k++) {
            int i = at(k);
            byte m = sacked[i];
            if (clearSacks) {
                m &= ~SACKED_ACKED;
            }
            if ((m & SACKED_ACKED) == 0) {
                m |= LOST;
            }
            m &= ~SACKED_RETRANS;
            sacked[i] = m;
        }
        retransOut = 0;
        if (clearSacks) {
            sackedOut = 0;
        }
        lostOut = count - sackedOut;
    }

    /** {@code tcp_undo_cwnd_reduction} with {@code unmark_loss}: nothing is lost after all. */
    void unmarkLost() {
        for (int k = 0; k < count; k++) {
            int i = at(k);
            sacked[i] = (byte) (sacked[i] & ~LOST);
        }
        lostOut = 0;
    }

    /**
     * {@code tcp_fragment} of a queued segment for its retransmission at a smaller MSS (the path MTU
     * fell, {@code tcp_simple_retransmit}): the {@code k}-th entry becomes pieces of at most {@code mss}
     * bytes, each with the entry's marks and send state, and the counts follow. Returns how many pieces
     * it is now: 1 when it fits already, is the FIN, or the queue is at {@link #MAX} (it then goes
     * whole, and the output still cuts it to the MSS on the wire).
     */
    int split(int k, int mss) {
        int i = at(k);
        int s = seq[i];
        int e = end[i];
        if ((sacked[i] & FIN) != 0 || mss <= 0 || e - s <= mss) {
            return 1;
        }
        int n = (e - s + mss - 1) / mss;
        int extra = n - 1;
        if (count + extra > MAX) {
            return 1;
        }
        while (count + extra > seq.length) {
            if (!grow()) {
                return 1;
            }
        }
        for (int m = count - 1; m > k; m--) {
            copy(at(m), at(m + extra));
        }
        i = at(k);
        byte marks = sacked[i];
        for (int d = 1; d < n; d++) {
            copy(i, at(k + d));
        }
        for (int d = 0; d < n; d++) {
            int j = at(k + d);
            seq[j] = s + d * mss;
            end[j] = d == n - 1 ? e : s + (d + 1) * mss;
            sacked[j] = (byte) (marks | SKB_END); // tcp_fragment: each piece its own skb
        }
        count += extra;
        packetsOut += extra;
        sackedOut += (marks & SACKED_ACKED) != 0 ? extra : 0;
        lostOut += (marks & LOST) != 0 ? extra : 0;
        retransOut += (marks & SACKED_RETRANS) != 0 ? extra : 0;
        return n;
    }

    private void copy(int from, int to) {
        seq[to] = seq[from];
        end[to] = end[from];
        sacked[to] = sacked[from];
        xmitNs[to] = xmitNs[from];
        txDelivered[to] = txDelivered[from];
        txDeliveredUs[to] = txDeliveredUs[from];
        txFirstUs[to] = txFirstUs[from];
        txAppLimited[to] = txAppLimited[from];
    }

    /** The head's partial acknowledgement ({@code tcp_trim_head}): it now starts at {@code ack}. */
    void trimHead(int ack) {
        seq[at(0)] = ack;
    }

    /**
     * The entries sent from {@code s} on that go again as one block: up to {@code maxSegs}, contiguous,
     * neither SACKed nor a FIN, within one skb ({@link #SKB_END}), ending where {@code limit} (the push
     * mark) says; with {@code lostOnly} (in Loss) only entries marked lost and not yet resent. Returns
     * the end.
     */
    int unsackedRunEnd(int k, int maxSegs, int limit, boolean lostOnly) {
        int e = end[at(k)];
        for (int n = 1; n < maxSegs && k + n < count; n++) {
            int i = at(k + n);
            if ((sacked[at(k + n - 1)] & SKB_END) != 0 || (sacked[i] & (SACKED_ACKED | FIN)) != 0 || TcpSeq.after(end[i], limit)
                    || lostOnly && (sacked[i] & (LOST | SACKED_RETRANS)) != LOST) {
                break;
            }
            e = end[i];
        }
        return e;
    }
}

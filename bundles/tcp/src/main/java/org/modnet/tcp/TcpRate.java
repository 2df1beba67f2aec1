package org.modnet.tcp;

import org.modnet.api.tcp.TcpRateSample;

/**
 * Delivery-rate sampling ({@code net/ipv4/tcp_rate.c}, the IETF draft "Delivery Rate Estimation"):
 * each segment remembers, when it goes out, how much had been delivered and when ({@link #skbSent});
 * an ACK that delivers it turns the difference into a rate sample ({@link #skbDelivered}, {@link
 * #gen}). The interval is the longer of the send and the ACK phases, so neither a burst of sends nor a
 * compressed train of ACKs makes the rate look higher than the path delivered. Segments sent while the
 * application had nothing more to send are marked application-limited ({@link #checkAppLimited}), so
 * a low rate they give is not taken for the path's. Nothing here allocates: this object is also the
 * connection's one {@link TcpRateSample}, refilled per ACK.
 */
final class TcpRate implements TcpRateSample {
    /** {@code tp->delivered_mstamp}: when {@code delivered} last grew. */
    long deliveredMstampUs;
    /** {@code tp->first_tx_mstamp}: when the send phase of the current sample began. */
    long firstTxMstampUs;
    /** {@code tp->app_limited}: the delivered count at which the application-limited phase ends, 0: not limited. */
    int appLimited;
    /** {@code rate_delivered}, {@code rate_interval_us}, {@code rate_app_limited}: the last sample TCP_INFO reports. */
    int rateDelivered;
    long rateIntervalUs;
    boolean rateAppLimited;

    // --- struct rate_sample of the ACK in hand ---
    private long priorMstampUs;
    private int priorDelivered;
    private int delivered;
    private long intervalUs;
    private long sndIntervalUs;
    private long rcvIntervalUs;
    private long rttUs;
    private int losses;
    private int ackedSacked;
    private int priorInFlight;
    private boolean isAppLimited;
    private boolean isRetrans;
    private boolean isAckDelayed;
    private int lastEndSeq;

    /** A new ACK: the sample starts empty ({@code struct rate_sample rs = { .prior_delivered = 0 }}). */
    void reset(int inFlight) {
        priorMstampUs = 0;
        priorDelivered = 0;
        delivered = -1;
        intervalUs = -1;
        sndIntervalUs = rcvIntervalUs = 0;
        rttUs = -1;
        losses = ackedSacked = 0;
        priorInFlight = inFlight;
        isAppLimited = isRetrans = isAckDelayed = false;
        lastEndSeq = 0;
    }

    /**
     * {@code tcp_rate_skb_sent}: entry {@code i} goes out at {@code nowUs} with {@code delivered} segments
     * delivered so far. With nothing else in flight the send and delivery phases restart here, so an
     * idle period is not counted as time the path was delivering.
     */
    void skbSent(TcpRtxQueue q, int i, int totalDelivered, boolean firstInFlight, long nowUs) {
        if (firstInFlight) {
            firstTxMstampUs = nowUs;
            deliveredMstampUs = nowUs;
        }
        q.txFirstUs[i] = firstTxMstampUs;
        q.txDeliveredUs[i] = deliveredMstampUs;
        q.txDelivered[i] = totalDelivered;
        q.txAppLimited[i] = appLimited != 0;
    }

    /**
     * {@code tcp_rate_skb_delivered}: entry {@code i}, sent at {@code xmitNs}, was acknowledged or SACKed.
     * The most recently sent of the ACK's segments is the sample's reference; a SACKed entry is counted
     * once (its stamp is cleared, so the cumulative ACK that later covers it adds nothing).
     */
    void skbDelivered(TcpRtxQueue q, int i, boolean sacked) {
        if (q.txDeliveredUs[i] == 0) {
            return; // sampled already when SACKed, or sent before sampling began (a handed-over entry)
        }
        long tx = q.xmitNs[i] / 1000; // Linux samples rates in µs (tcp_skb_timestamp_us)
        if (priorDelivered == 0 || sentAfter(tx, firstTxMstampUs, q.end[i], lastEndSeq)) {
            priorDelivered = q.txDelivered[i];
            priorMstampUs = q.txDeliveredUs[i];
            isAppLimited = q.txAppLimited[i];
            isRetrans = (q.sacked[i] & TcpRtxQueue.EVER_RETRANS) != 0;
            lastEndSeq = q.end[i];
            intervalUs = tx - q.txFirstUs[i]; // the send phase
            firstTxMstampUs = tx; // the next sample's send phase starts at this segment
        }
        if (sacked) {
            q.txDeliveredUs[i] = 0;
        }
    }

    /** {@code tcp_skb_sent_after}: sent later, or at the same time but further in sequence. */
    private static boolean sentAfter(long t1, long t2, int seq1, int seq2) {
        return t1 > t2 || (t1 == t2 && TcpSeq.after(seq1, seq2));
    }

    /**
     * {@code tcp_rate_gen}: the ACK at {@code nowUs} delivered {@code newlyDelivered} and marked {@code
     * newlyLost} segments; {@code totalDelivered} is {@code tp->delivered} after it. A sample whose
     * interval is shorter than the minimum RTT is discarded (the ACKs were compressed); the sample
     * TCP_INFO reports is kept unless this one is application-limited and lower.
     */
    void gen(int totalDelivered, int newlyDelivered, int newlyLost, boolean sackReneg, long minRttUs, long rtt,
            long nowUs) {
        if (appLimited != 0 && TcpSeq.after(totalDelivered, appLimited)) {
            appLimited = 0; // the segments sent while application-limited are all delivered
        }
        if (newlyDelivered > 0) {
            deliveredMstampUs = nowUs;
        }
        ackedSacked = newlyDelivered;
        losses = newlyLost;
        rttUs = rtt;
        if (priorMstampUs == 0 || sackReneg) {
            delivered = -1;
            intervalUs = -1;
            return;
        }
        delivered = totalDelivered - priorDelivered;
        long sndUs = intervalUs;
        long ackUs = nowUs - priorMstampUs;
        intervalUs = Math.max(sndUs, ackUs);
        sndIntervalUs = sndUs;
        rcvIntervalUs = ackUs;
        if (intervalUs < minRttUs) {
            intervalUs = -1; // shorter than the path's RTT: a compressed ACK train, not a rate
            return;
        }
        if (!isAppLimited || (long) delivered * rateIntervalUs >= (long) rateDelivered * intervalUs) {
            rateDelivered = delivered;
            rateIntervalUs = intervalUs;
            rateAppLimited = isAppLimited;
        }
    }

    /**
     * {@code tcp_rate_check_app_limited}: less than a segment waits to be sent, the window has room and
     * no lost segment waits for its retransmission, so the application, not the network, limits what
     * goes: segments sent until {@code delivered + in flight} is delivered are application-limited.
     */
    void checkAppLimited(int unsentBytes, int mss, int inFlight, int cwnd, int lostOut, int retransOut,
            int totalDelivered) {
        if (unsentBytes < mss && inFlight < cwnd && lostOut <= retransOut) {
            int end = totalDelivered + inFlight;
            appLimited = end != 0 ? end : 1;
        }
    }

    /** TCP_INFO's {@code delivery_rate}: bytes per second of the last kept sample, 0 without one. */
    long deliveryRate(int mss) {
        if (rateIntervalUs <= 0) {
            return 0;
        }
        return (long) rateDelivered * mss * 1_000_000L / rateIntervalUs;
    }

    @Override
    public long priorMstampUs() {
        return priorMstampUs;
    }

    @Override
    public int priorDelivered() {
        return priorDelivered;
    }

    @Override
    public int delivered() {
        return delivered;
    }

    @Override
    public long intervalUs() {
        return intervalUs;
    }

    @Override
    public long rttUs() {
        return rttUs;
    }

    @Override
    public int losses() {
        return losses;
    }

    @Override
    public int ackedSacked() {
        return ackedSacked;
    }

    @Override
    public int priorInFlight() {
        return priorInFlight;
    }

    @Override
    public boolean isAppLimited() {
        return isAppLimited;
    }

    @Override
    public boolean isRetrans() {
        return isRetrans;
    }

    @Override
    public boolean isAckDelayed() {
        return isAckDelayed;
    }

    void ackDelayed(boolean delayed) {
        isAckDelayed = delayed;
    }

    long sndIntervalUs() {
        return sndIntervalUs;
    }

    long rcvIntervalUs() {
        return rcvIntervalUs;
    }
}

package org.modnet.api.handover;

/**
 * The RTT estimator and retransmission state (RFC 6298): smoothed RTT and variance in microseconds, the
 * RTO, the smallest RTT seen; the sample in progress ({@code rttSeq} sent at {@code rttStampMs}); the
 * retransmissions and backoff of the segment at {@code snd_una}, {@code retrans_high}, and the probes
 * sent without answer. Times are the core clock's milliseconds, which outlives both versions.
 *
 * <p>Since 1.9 the rest of Linux's estimator and of the delayed-ACK state: {@code mdev_us} and {@code
 * mdev_max_us} ({@code mdevUs}, {@code mdevMaxUs}: the mean deviation, four times over, and its largest
 * this RTT, from which {@code rttvarUs} decays once an RTT), {@code rtt_seq} ({@code rttvarSeq}: the RTT
 * ends when {@code snd_una} passes it), {@code icsk_ack.ato} ({@code atoMs}, 0 before any data), the
 * {@code ICSK_ACK_PUSHED} and {@code ICSK_ACK_PUSHED2} bits of {@code icsk_ack.pending} ({@code
 * ackPushed}: {@link #ACK_PUSHED}, {@link #ACK_PUSHED2}) and {@code icsk_ack.last_seg_size} ({@code
 * lastSegSize}), and {@code icsk_ack.pingpong} ({@code pingpong}: the answers counted toward
 * interactive mode, 0 when not). A deposit from before 1.9 has none of them: {@code mdevUs} is {@link #NOT_CARRIED} and
 * the new version starts them as Linux's estimator and receiver start them (see its adoption).
 */
public record TcpEstimator(long srttUs, long rttvarUs, long rtoMs, long minRttUs, int retransmits, int backoff,
        boolean rttTiming, int rttSeq, long rttStampMs, int retransHigh, int probesOut, long probesTstampMs,
        long headSentMs, long mdevUs, long mdevMaxUs, int rttvarSeq, long atoMs, int ackPushed, int lastSegSize,
        int pingpong) {

    /** {@code mdevUs} of a deposit made before 1.9, which carried none of the fields after {@code headSentMs}. */
    public static final long NOT_CARRIED = -1;
    /** {@code ICSK_ACK_PUSHED} in {@code ackPushed}: a segment that looked like the end of a write is unacknowledged. */
    public static final int ACK_PUSHED = 1;
    /** {@code ICSK_ACK_PUSHED2} in {@code ackPushed}: two such segments. */
    public static final int ACK_PUSHED2 = 2;

    /** The estimator as versions before 1.9 deposit it: {@code mdevUs} {@link #NOT_CARRIED}, the rest of 1.9's fields 0. */
    public TcpEstimator(long srttUs, long rttvarUs, long rtoMs, long minRttUs, int retransmits, int backoff, boolean rttTiming,
            int rttSeq, long rttStampMs, int retransHigh, int probesOut, long probesTstampMs, long headSentMs) {
        this(srttUs, rttvarUs, rtoMs, minRttUs, retransmits, backoff, rttTiming, rttSeq, rttStampMs, retransHigh, probesOut,
                probesTstampMs, headSentMs, NOT_CARRIED, 0, 0, 0, 0, 0, 0);
    }

    /** Whether the deposit carried 1.9's fields (see {@link #NOT_CARRIED}). */
    public boolean carriesVariance() {
        return mdevUs != NOT_CARRIED;
    }
}

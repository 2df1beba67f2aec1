package org.modnet.api.handover;

/**
 * The RTT estimator and retransmission state (RFC 6298): smoothed RTT and variance in microseconds, the
 * RTO, the smallest RTT seen; the sample in progress ({@code rttSeq} sent at {@code rttStampMs}); the
 * retransmissions and backoff of the segment at {@code snd_una}, {@code retrans_high}, and the probes
 * sent without answer. Times are the core clock's milliseconds, which outlives both versions.
 */
public record TcpEstimator(long srttUs, long rttvarUs, long rtoMs, long minRttUs, int retransmits, int backoff,
        boolean rttTiming, int rttSeq, long rttStampMs, int retransHigh, int probesOut, long probesTstampMs,
        long headSentMs) {
}

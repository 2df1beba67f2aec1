package org.modnet.api.tcp;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One ACK's delivery-rate sample ({@code struct rate_sample}, {@code net/ipv4/tcp_rate.c}, the draft
 * "Delivery Rate Estimation"): how many segments were delivered over which interval, measured from the
 * newest segment the ACK delivered back to the delivery that was current when it was sent. TCP fills
 * it before calling {@link TcpCongestionOps#congControl}; it is valid during that call only. Counts are
 * in segments, times in microseconds.
 */
@ProviderType
public interface TcpRateSample {
    /** {@code prior_mstamp}: when the delivery the interval starts at happened; 0 if the ACK delivered nothing sampled. */
    long priorMstampUs();

    /** {@code prior_delivered}: {@code tp->delivered} when the sampled segment was sent. */
    int priorDelivered();

    /** {@code delivered}: segments delivered over the interval, -1 when there is no sample. */
    int delivered();

    /** {@code interval_us}: the longer of the send and the ACK interval, -1 when there is no sample. */
    long intervalUs();

    /** {@code rtt_us}: this ACK's RTT sample from the newest delivered segment, -1 if none. */
    long rttUs();

    /** {@code losses}: segments newly marked lost by this ACK. */
    int losses();

    /** {@code acked_sacked}: segments newly acknowledged or SACKed by this ACK. */
    int ackedSacked();

    /** {@code prior_in_flight}: {@code tcp_packets_in_flight} before this ACK. */
    int priorInFlight();

    /** {@code is_app_limited}: the sampled segment went while the application, not the network, limited sending. */
    boolean isAppLimited();

    /** {@code is_retrans}: the sampled segment was a retransmission. */
    boolean isRetrans();

    /** {@code is_ack_delayed}: the ACK was likely delayed (Linux: it acknowledged at most one segment and was not a SACK). */
    boolean isAckDelayed();
}

package org.modnet.api.tcp;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What an algorithm sees of a connection ({@code struct tcp_sock}'s congestion fields): windows in
 * segments, times in microseconds. Only TCP implements it; an algorithm reads and writes it under the
 * connection's lock, from its {@link TcpCongestionOps} calls.
 */
@ProviderType
public interface TcpCongestionState {
    /** {@code snd_cwnd}, in segments. */
    int cwnd();

    void cwnd(int segments);

    /** {@code snd_ssthresh}, in segments ({@link Integer#MAX_VALUE} until the first loss). */
    int ssthresh();

    void ssthresh(int segments);

    /** {@code snd_cwnd_cnt}: the linear increase's counter. */
    int cwndCnt();

    void cwndCnt(int count);

    /** {@code snd_cwnd_clamp}. */
    int cwndClamp();

    /** {@code mss_cache}: the segment size in bytes. */
    int mss();

    /** {@code tcp_packets_in_flight}: segments sent and not yet acknowledged. */
    int packetsInFlight();

    /** {@code snd_una}, {@code snd_nxt}. */
    int sndUna();

    int sndNxt();

    /** The smoothed RTT in microseconds, 0 before the first sample. */
    long srttUs();

    /** The clock TCP runs on, in microseconds ({@code tcp_mstamp}). */
    long nowUs();

    /**
     * {@code tcp_is_cwnd_limited}: whether the window limited what was sent in the last window of data
     * (in slow start also: below twice the most in flight). Linux's {@code cong_avoid} functions grow
     * the window only when it is; {@link TcpCongestion#renoCongAvoid} asks it first. A state that does
     * not track it (a test's) says yes.
     */
    default boolean isCwndLimited() {
        return true;
    }

    /** {@code icsk_ca_state}: {@link TcpCongestion#CA_OPEN} ... {@link TcpCongestion#CA_LOSS}. */
    int caState();

    /** The object {@link TcpCongestionOps#init} returned for this connection. */
    Object priv();
}

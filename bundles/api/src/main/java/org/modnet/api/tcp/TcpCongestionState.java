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

    /**
     * {@code tcp_min_rtt}: the smallest RTT seen in microseconds (Linux's windowed minimum), 0 before
     * the first sample. A state that does not track it says 0.
     */
    default long minRttUs() {
        return 0;
    }

    /**
     * {@code lsndtime}: when new data last went out, in microseconds on {@link #nowUs()}'s clock (Linux
     * keeps it in jiffies), 0 if never. During {@link TcpCongestion#CA_EVENT_TX_START} it is still the
     * send before the idle period, as {@code tcp_event_data_sent} raises the event before updating it.
     */
    default long lastSendUs() {
        return 0;
    }

    /**
     * {@code NET_ADD_STATS} for an algorithm's own TcpExt counters: adds {@code delta} to the
     * namespace's counter {@code mib} (one of {@link TcpCongestion}'s {@code MIB_*}). Packet path: no
     * allocation. A state without counters ignores it.
     */
    default void mibAdd(int mib, long delta) {
    }

    /** {@code icsk_ca_state}: {@link TcpCongestion#CA_OPEN} ... {@link TcpCongestion#CA_LOSS}. */
    int caState();

    /** The object {@link TcpCongestionOps#init} returned for this connection. */
    Object priv();
}

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

    /**
     * {@code prior_cwnd}: the window when the last reduction (recovery, CWR or a timeout) began, what
     * {@link TcpCongestion#renoUndoCwnd} restores. A state that does not track it says twice ssthresh,
     * which was Linux's undo before 4.13 (Reno's halving makes it the same).
     */
    default int priorCwnd() {
        return ssthresh() == Integer.MAX_VALUE ? cwnd() : ssthresh() << 1;
    }

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

    /**
     * The delivery-rate sample of the ACK being processed ({@code struct rate_sample}), valid during
     * {@link TcpCongestionOps#congControl}; null from a state that does not sample.
     */
    default TcpRateSample rateSample() {
        return null;
    }

    /** {@code tp->delivered}: segments delivered (acknowledged or SACKed) since the connection began. */
    default int delivered() {
        return 0;
    }

    /** {@code tp->lost}: segments ever marked lost. */
    default int lost() {
        return 0;
    }

    /** {@code tp->app_limited}: nonzero while the application limits sending (the delivered count it ends at). */
    default int appLimited() {
        return 0;
    }

    /**
     * Marks what is in flight now as application-limited ({@code tp->app_limited = (delivered +
     * in flight) ?: 1}), so its rate samples do not lower a bandwidth estimate (BBR's PROBE_RTT does).
     */
    default void markAppLimited() {
    }

    /** {@code tp->delivered_mstamp}: when {@link #delivered()} last grew, in microseconds on {@link #nowUs()}'s clock. */
    default long deliveredMstampUs() {
        return nowUs();
    }

    /** {@code sk_pacing_rate} in bytes per second ({@code -1}: unlimited, as Linux's ~0). */
    default long pacingRate() {
        return -1L;
    }

    /**
     * Sets {@code sk_pacing_rate} in bytes per second; TCP clamps it to {@link #maxPacingRate()}. An
     * algorithm that calls it from {@link TcpCongestionOps#congControl} owns the pacing rate, as BBR does.
     */
    default void pacingRate(long bytesPerSecond) {
    }

    /** {@code sk_max_pacing_rate} ({@code SO_MAX_PACING_RATE}), bytes per second, -1: unlimited. */
    default long maxPacingRate() {
        return -1L;
    }

    /**
     * {@code sk_pacing_status = SK_PACING_NEEDED}: the algorithm needs pacing, so TCP paces internally
     * when the device's qdisc is not fq (which would pace by the segments' departure time itself).
     */
    default void pacingNeeded() {
    }

    /** {@code tcp_tso_autosize}'s goal: the segments per GSO burst TCP aims at the current pacing rate. */
    default int tsoSegsGoal() {
        return 1;
    }

    /** {@code icsk_ca_state}: {@link TcpCongestion#CA_OPEN} ... {@link TcpCongestion#CA_LOSS}. */
    int caState();

    /** The object {@link TcpCongestionOps#init} returned for this connection. */
    Object priv();
}

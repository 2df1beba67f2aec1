package org.modnet.api.tcp;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A congestion-control algorithm, shaped like Linux's {@code struct tcp_congestion_ops}. Register it as
 * a DS service with the {@link #NAME} property equal to {@link #name()}; TCP lists it in {@code
 * net.ipv4.tcp_available_congestion_control} while the service is there. When the service goes away its
 * connections move to the namespace's default (Reno if that is the one leaving): Linux refuses to
 * unload a module in use, modnet moves the connections and counts them ({@code TCPCongestionFallback}).
 *
 * <p>Every method but {@link #init} and {@link #release} runs on the packet path under the connection's
 * lock: it must not allocate, block or log. Per-connection state lives in the object {@link #init}
 * returns ({@code icsk_ca_priv}), which TCP keeps for the algorithm and hands back as {@link
 * TcpCongestionState#priv()}.
 */
@ConsumerType
public interface TcpCongestionOps {
    /** The service property TCP finds an algorithm by: its name, as {@code sysctl} and {@code ss -i} show it. */
    String NAME = "modnet.tcp.congestion";

    /** {@code name}: at most {@link TcpCongestion#CA_NAME_MAX} - 1 characters. */
    String name();

    /**
     * {@code init}: the connection starts using this algorithm (at establishment, or at once when an
     * established connection switches). Returns the algorithm's per-connection state, or null.
     */
    default Object init(TcpCongestionState sk) {
        return null;
    }

    /** {@code release}: the connection stops using this algorithm (closed, switched, or the algorithm left). */
    default void release(TcpCongestionState sk) {
    }

    /** {@code ssthresh}: the slow-start threshold after a loss, in segments (required). */
    int ssthresh(TcpCongestionState sk);

    /** {@code cong_avoid}: an ACK for {@code ack} newly acknowledged {@code acked} segments (required). */
    void congAvoid(TcpCongestionState sk, int ack, int acked);

    /**
     * {@code cong_control}: an algorithm that sets the window itself from every ACK (as BBR does)
     * returns true, and TCP then does not call {@link #congAvoid}. The default declines.
     */
    default boolean congControl(TcpCongestionState sk, int ack, int acked, long rttUs) {
        return false;
    }

    /** {@code set_state}: the congestion state moves to {@code newState} ({@link TcpCongestion#CA_OPEN}...). */
    default void setState(TcpCongestionState sk, int newState) {
    }

    /** {@code cwnd_event}: one of the {@link TcpCongestion} {@code CA_EVENT_*} events. */
    default void cwndEvent(TcpCongestionState sk, int event) {
    }

    /** {@code pkts_acked}: {@code pkts} segments were acknowledged; {@code rttUs} is the sample, or -1 if none. */
    default void pktsAcked(TcpCongestionState sk, int pkts, long rttUs) {
    }

    /**
     * {@code get_info}: what {@code ss -i} prints after the algorithm's name ({@code INET_DIAG_BBRINFO}
     * and the like), as ss's own words, e.g. BBR's {@code bbr:(bw:...bps,mrtt:...,pacing_gain:...,
     * cwnd_gain:...)}; null when the algorithm has nothing to show. Not on the packet path.
     */
    default TcpCcInfo info(TcpCongestionState sk) {
        return null;
    }

    /** {@code undo_cwnd}: the window to go back to when a loss proves spurious. */
    default int undoCwnd(TcpCongestionState sk) {
        return TcpCongestion.renoUndoCwnd(sk);
    }

    /**
     * {@code min_tso_segs}: the fewest segments a GSO burst carries for this connection now (TSO
     * autosizing's floor, {@code tcp_tso_autosize}); 0, the default, leaves it to
     * {@code net.ipv4.tcp_min_tso_segs}. BBR asks for one at low pacing rates. Since 1.3.
     */
    default int minTsoSegs(TcpCongestionState sk) {
        return 0;
    }
}

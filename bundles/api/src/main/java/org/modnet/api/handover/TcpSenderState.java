package org.modnet.api.handover;

/**
 * The sender's state beside its estimator and recovery (1.5): F-RTO's flag ({@code tp->frto}: the last
 * timeout is being checked for being spurious, RFC 5682); pacing — {@code sk_pacing_rate} in bytes per
 * second (-1: unlimited), whether the algorithm asked for pacing ({@code SK_PACING_NEEDED}) and the next
 * segment's earliest departure ({@code tcp_wstamp_ns}, on the core's clock, which outlives both
 * versions) —; the send-limit chronograph ({@code chrono_type}, {@code chrono_start} and {@code
 * chrono_stat} per type in µs: busy, receive-window limited, send-buffer limited, as {@code TCP_INFO}'s
 * {@code busy_time}, {@code rwnd_limited}, {@code sndbuf_limited} show them); and the delivery-rate
 * sampler ({@link TcpRateState}).
 * @since 1.5
 */
public record TcpSenderState(boolean frto, long pacingRate, boolean pacingNeeded, long wstampNs, int chronoType,
        long chronoStartUs, long[] chronoStatUs, TcpRateState rate) {
}

package org.modnet.api.tcp;

/**
 * An algorithm's state for {@code ss -i} ({@code struct tcp_bbr_info}, the {@code INET_DIAG_BBRINFO}
 * attribute): BBR fills all of it; an algorithm without such state returns no info at all.
 *
 * @param bwBytesPerSec the bandwidth estimate, bytes per second ({@code bbr_bw_lo}/{@code bbr_bw_hi})
 * @param minRttUs the minimum RTT estimate in microseconds ({@code bbr_min_rtt})
 * @param pacingGain the pacing gain in 1/256 ({@code bbr_pacing_gain})
 * @param cwndGain the window gain in 1/256 ({@code bbr_cwnd_gain})
 * @param name the algorithm's name, which ss prints before the parentheses ("bbr")
 */
public record TcpCcInfo(String name, long bwBytesPerSec, long minRttUs, int pacingGain, int cwndGain) {
}

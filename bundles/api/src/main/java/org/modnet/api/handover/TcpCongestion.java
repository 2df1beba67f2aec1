package org.modnet.api.handover;

/**
 * The congestion state: the algorithm by name (as {@code TCP_CONGESTION} names it; the new version
 * finds it among the algorithms it knows) and {@code snd_cwnd}, {@code snd_ssthresh}, {@code
 * snd_cwnd_cnt}, {@code snd_cwnd_clamp}.
 */
public record TcpCongestion(String algorithm, int cwnd, int ssthresh, int cwndCnt, int cwndClamp) {
}

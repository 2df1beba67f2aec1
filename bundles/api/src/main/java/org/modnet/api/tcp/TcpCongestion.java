package org.modnet.api.tcp;

/**
 * The constants and helpers of {@code include/net/tcp.h} an algorithm builds on: the congestion states
 * and window events, Reno's functions ({@code tcp_reno_cong_avoid}, {@code tcp_reno_ssthresh}, {@code
 * tcp_reno_undo_cwnd}), slow start and additive increase ({@code tcp_slow_start}, {@code
 * tcp_cong_avoid_ai}), and the {@code TCP_CONGESTION} socket option's name as 32-bit words.
 */
public final class TcpCongestion {
    /** {@code TCP_CONGESTION}: the socket option at {@code IPPROTO_TCP}; its value is a name. */
    public static final int TCP_CONGESTION = 13;
    /** {@code TCP_CA_NAME_MAX}: a name and its NUL. */
    public static final int CA_NAME_MAX = 16;
    /** Reno's name: TCP's built-in algorithm and the fallback. */
    public static final String RENO = "reno";

    /** {@code enum tcp_ca_state}. */
    public static final int CA_OPEN = 0;
    public static final int CA_DISORDER = 1;
    public static final int CA_CWR = 2;
    public static final int CA_RECOVERY = 3;
    public static final int CA_LOSS = 4;

    /** {@code enum tcp_ca_event}. */
    public static final int CA_EVENT_TX_START = 0;
    public static final int CA_EVENT_CWND_RESTART = 1;
    public static final int CA_EVENT_COMPLETE_CWR = 2;
    public static final int CA_EVENT_LOSS = 3;

    /**
     * The TcpExt counters an algorithm counts in through {@link TcpCongestionState#mibAdd} ({@code
     * LINUX_MIB_TCPHYSTART*}): HyStart's exits from slow start by the ACK train and by delay, and the
     * windows at which it left.
     */
    public static final int MIB_HYSTART_TRAIN_DETECT = 0;
    public static final int MIB_HYSTART_TRAIN_CWND = 1;
    public static final int MIB_HYSTART_DELAY_DETECT = 2;
    public static final int MIB_HYSTART_DELAY_CWND = 3;

    /** Cubic's name: Linux's default algorithm ({@code CONFIG_DEFAULT_TCP_CONG}). */
    public static final String CUBIC = "cubic";

    private TcpCongestion() {
    }

    /** {@code tcp_in_slow_start}. */
    public static boolean inSlowStart(TcpCongestionState sk) {
        return sk.cwnd() < sk.ssthresh();
    }

    /**
     * {@code tcp_slow_start}: one segment per segment acknowledged, up to ssthresh; returns the
     * acknowledged segments left over for congestion avoidance.
     */
    public static int slowStart(TcpCongestionState sk, int acked) {
        int cwnd = Math.min(sk.cwnd() + acked, sk.ssthresh());
        acked -= cwnd - sk.cwnd();
        sk.cwnd(Math.min(cwnd, sk.cwndClamp()));
        return acked;
    }

    /** {@code tcp_cong_avoid_ai}: one segment more per {@code w} segments acknowledged. */
    public static void congAvoidAi(TcpCongestionState sk, int w, int acked) {
        int cnt = sk.cwndCnt();
        int cwnd = sk.cwnd();
        if (cnt >= w) { // w shrank since the last call
            cnt = 0;
            cwnd++;
        }
        cnt += acked;
        if (cnt >= w) {
            int delta = cnt / w;
            cnt -= delta * w;
            cwnd += delta;
        }
        sk.cwndCnt(cnt);
        sk.cwnd(Math.min(cwnd, sk.cwndClamp()));
    }

    /** {@code tcp_reno_cong_avoid}: slow start below ssthresh, then one segment per window (RFC 5681 3.1). */
    public static void renoCongAvoid(TcpCongestionState sk, int acked) {
        if (!sk.isCwndLimited()) {
            return;
        }
        if (inSlowStart(sk)) {
            acked = slowStart(sk, acked);
            if (acked <= 0) {
                return;
            }
        }
        congAvoidAi(sk, sk.cwnd(), acked);
    }

    /** {@code tcp_reno_ssthresh}: half the window, at least two segments. */
    public static int renoSsthresh(TcpCongestionState sk) {
        return Math.max(sk.cwnd() >>> 1, 2);
    }

    /**
     * {@code tcp_reno_undo_cwnd}: the window before the reduction, {@code max(cwnd, prior_cwnd)} as
     * Linux has it since 4.13. Twice ssthresh (the older rule) is that window for Reno's halving but
     * 1.4 times it for CUBIC's beta of 0.7, which Linux's CUBIC also undoes with this function.
     */
    public static int renoUndoCwnd(TcpCongestionState sk) {
        return Math.max(sk.cwnd(), sk.priorCwnd());
    }

    /** A name as {@code setsockopt(TCP_CONGESTION)} passes it: its bytes, NUL-padded, as little-endian words. */
    public static int[] nameWords(String name) {
        int[] w = new int[CA_NAME_MAX / 4];
        for (int i = 0; i < name.length() && i < CA_NAME_MAX; i++) {
            w[i >> 2] |= (name.charAt(i) & 0xff) << ((i & 3) * 8);
        }
        return w;
    }

    /** The name in words filled by {@code getsockopt(TCP_CONGESTION)}, up to the first NUL. */
    public static String name(int[] words, int count) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < count * 4; i++) {
            int c = (words[i >> 2] >>> ((i & 3) * 8)) & 0xff;
            if (c == 0) {
                break;
            }
            b.append((char) c);
        }
        return b.toString();
    }
}

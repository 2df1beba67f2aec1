package org.modnet.tcp;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetdevFeatures;

/**
 * How big a GSO skb TCP builds ({@code tcp_output.c}: {@code sk_can_gso}, {@code tcp_xmit_size_goal},
 * {@code tcp_tso_autosize}): many MSS under one header when the route's device takes them (or the
 * core cuts them in software, later and once), bounded by {@code sk_gso_max_size}, half the peer's
 * largest window, and about a millisecond of data at the pacing rate Linux computes.
 */
final class TcpTso {
    /** {@code GSO_LEGACY_MAX_SIZE}: {@code sk_gso_max_size} of a device that says nothing else. */
    static final int GSO_MAX_SIZE = 65536;
    /** {@code GSO_MAX_SEGS}. */
    static final int GSO_MAX_SEGS = 65535;
    /** {@code MAX_TCP_HEADER} as {@code tcp_xmit_size_goal} subtracts it. */
    static final int MAX_TCP_HEADER = 320;
    /** {@code sk_pacing_shift}'s default: a GSO skb carries about 1 ms (2^-10 s) of data at the pacing rate. */
    static final int PACING_SHIFT = 10;

    private TcpTso() {
    }

    /**
     * {@code sk_can_gso}: the route's device takes TCPv4 GSO skbs (TSO, with scatter-gather and
     * checksumming), or has {@code generic-segmentation-offload} on, where the core cuts them in software
     * just before the driver ({@code sk_setup_caps} adds {@code NETIF_F_GSO_SOFTWARE} for TCP).
     */
    static boolean canGso(NetDevice dev) {
        return dev != null && (dev.netdevFeatures() & (NetdevFeatures.NETIF_F_TSO | NetdevFeatures.NETIF_F_GSO)) != 0;
    }

    /**
     * {@code tcp_xmit_size_goal} and {@code tcp_tso_segs}: at most how many MSS-sized segments one skb
     * carries now; 1 means no GSO.
     */
    static int maxSegs(int mss, int maxWindow, long pacingRate, int minTsoSegs) {
        if (mss <= 0) {
            return 1;
        }
        int goal = GSO_MAX_SIZE - 1 - MAX_TCP_HEADER;
        if (maxWindow > TcpOptions.MSS_DEFAULT) { // tcp_bound_to_half_wnd
            goal = Math.min(goal, maxWindow >> 1);
        }
        int segs = Math.max(goal / mss, 1);
        return Math.max(Math.min(segs, autosize(mss, pacingRate, minTsoSegs)), 1);
    }

    /**
     * {@code tcp_tso_should_defer}: whether to hold back a GSO skb of {@code skbLen} bytes (more than one
     * MSS) that the windows let only {@code limit} bytes of go now, waiting for the ACK that opens more
     * room, so that a bigger skb goes later. Only within the jiffy of the last send ({@code lsndtime}),
     * never when a full skb of {@code maxSegs} could go, when the middle of the queue could go whole,
     * when the room is at least 1/{@code tcp_tso_win_divisor} of the window, nor when the oldest
     * segment in flight went out less than half an RTT ago (its ACK is then far off).
     *
     * @param sinceLastSendMs now minus {@code lsndtime}
     * @param sinceHeadSentUs how long ago the oldest unacknowledged segment went out, or -1 if none
     */
    static boolean shouldDefer(int skbLen, boolean tail, int sendWin, int congWin, int sndWnd, int cwndBytes, int mss,
            int maxSegs, int winDivisor, long sinceLastSendMs, long sinceHeadSentUs, long srttUs) {
        if (sinceLastSendMs > 0) {
            return false; // avoid bursts: defer only right after a send
        }
        int limit = Math.min(sendWin, congWin);
        if ((long) limit >= (long) maxSegs * mss) {
            return false;
        }
        if (!tail && limit >= skbLen) {
            return false;
        }
        if (winDivisor > 0) {
            if (limit >= Math.min(sndWnd, cwndBytes) / winDivisor) {
                return false;
            }
        } else if (limit > MAX_TSO_DEFERRED_MSS * mss) {
            return false;
        }
        if (sinceHeadSentUs < 0 || sinceHeadSentUs < srttUs / 2) {
            return false; // nothing in flight, or the next ACK comes too late (half an RTT away)
        }
        return true; // cwnd- or rwnd-limited for this skb, or it may still grow: wait for the ACK
    }

    /** {@code tcp_max_tso_deferred_mss}: with {@code tcp_tso_win_divisor} 0, defer while at most this many MSS fit. */
    static final int MAX_TSO_DEFERRED_MSS = 2;

    /**
     * {@code tcp_tso_autosize}: about a millisecond ({@code sk_pacing_shift}) of data at the pacing rate,
     * whoever set it ({@code tcp_update_pacing_rate} from cwnd/SRTT, or the algorithm, as BBR does), but
     * never fewer than {@code minTsoSegs} segments; no rate yet (~0): as many as the size bound lets.
     */
    static int autosize(int mss, long pacingRate, int minTsoSegs) {
        if (pacingRate < 0) {
            return GSO_MAX_SEGS;
        }
        long bytes = Math.min(pacingRate >> PACING_SHIFT, GSO_MAX_SIZE);
        long segs = Math.max(bytes / Math.max(mss, 1), minTsoSegs);
        return (int) Math.min(segs, GSO_MAX_SEGS);
    }
}

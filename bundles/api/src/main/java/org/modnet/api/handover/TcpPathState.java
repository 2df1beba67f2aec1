package org.modnet.api.handover;

/**
 * What a connection learnt about its path (1.5): ECN — {@code tp->ecn_flags} (Linux's {@code
 * TCP_ECN_OK} 1, {@code TCP_ECN_QUEUE_CWR} 2, {@code TCP_ECN_DEMAND_CWR} 4, {@code TCP_ECN_SEEN} 8) and
 * {@code tp->delivered_ce} —; the path MTU the MSS was last synced to ({@code icsk_pmtu_cookie}), the
 * next-hop MTU of the last "fragmentation needed" ({@code tp->mtu_info}) and whether its MSS reduction
 * still waits for the socket's owner ({@code TCP_MTU_REDUCED_DEFERRED}); and the soft error an ICMP
 * message left ({@code sk_err_soft}, an errno number, 0 for none), reported only if the connection then
 * times out.
 * @since 1.5
 */
public record TcpPathState(int ecnFlags, int deliveredCe, int pmtuCookie, int mtuInfo, boolean mtuReducedDeferred,
        int softErrno) {
}

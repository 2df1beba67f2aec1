package org.modnet.tcp;

/**
 * The congestion control seam, shaped like {@code struct tcp_congestion_ops}: a connection asks it for
 * the slow-start threshold after a loss and lets it grow the window on ACKs. Full loss recovery
 * (fast retransmit, SACK, RACK) is issue 17; this seam is what it and other algorithms plug into.
 */
interface TcpCong {
    /** {@code name}: what {@code net.ipv4.tcp_congestion_control} and {@code ss -i} show. */
    String name();

    /** {@code ssthresh}: the threshold after a loss. */
    int ssthresh(TcpSock.Cwnd c);

    /** {@code cong_avoid}: {@code acked} segments were newly acknowledged. */
    void congAvoid(TcpSock.Cwnd c, int acked);

    /**
     * Reno ({@code tcp_reno_cong_avoid}, {@code tcp_reno_ssthresh}): in slow start the window grows by
     * one segment per segment acknowledged, then by one segment per window (RFC 5681 3.1).
     */
    TcpCong RENO = new TcpCong() {
        @Override
        public String name() {
            return "reno";
        }

        @Override
        public int ssthresh(TcpSock.Cwnd c) {
            return Math.max(c.cwnd >>> 1, 2);
        }

        @Override
        public void congAvoid(TcpSock.Cwnd c, int acked) {
            if (c.cwnd < c.ssthresh) {
                int grown = Math.min(c.cwnd + acked, c.ssthresh);
                acked -= grown - c.cwnd;
                c.cwnd = grown;
                if (acked <= 0) {
                    return;
                }
            }
            c.cwndCnt += acked; // tcp_cong_avoid_ai
            if (c.cwndCnt >= c.cwnd) {
                c.cwndCnt -= c.cwnd;
                c.cwnd++;
            }
            c.cwnd = Math.min(c.cwnd, c.cwndClamp);
        }
    };
}

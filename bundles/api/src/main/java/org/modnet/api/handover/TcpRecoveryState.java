package org.modnet.api.handover;

/**
 * A connection's loss-recovery state (1.3), so an update keeps a recovery in progress correct: the
 * SACK scoreboard as one entry per segment sent and not cumulatively acknowledged, from {@code snd_una}
 * on — where each ends, its marks (Linux's {@code TCPCB_SACKED_ACKED} 0x01, {@code TCPCB_SACKED_RETRANS}
 * 0x02, {@code TCPCB_LOST} 0x04, modnet's FIN 0x10, {@code TCPCB_EVER_RETRANS} 0x80) and when it last went
 * out (µs of the core clock, which outlives both versions) —; the reordering degree and the
 * counts {@code tcp_info} shows ({@code reord_seen}, {@code dsack_dups}, segments ever marked lost);
 * {@code high_seq}, the undo state ({@code undo_marker}, {@code undo_retrans}, {@code retrans_stamp} as
 * a TSval), the window before the reduction and PRR's counts, the loss probe outstanding, whether the
 * peer reneged; RACK's reference segment (send time, end, RTT) and reordering window steps; and what
 * the retransmission timer is armed for ({@code icsk_pending}: 1 RTO, 3 window probe, 5 loss probe,
 * 6 RACK's reordering timer). The congestion state ({@code ca_state}) travels with the socket.
 */
public record TcpRecoveryState(int[] segmentEnds, byte[] segmentMarks, long[] segmentSentUs, int reordering,
        int reordSeen, int dsackDups, int lost, int highSeq, int undoMarker, int undoRetrans, int retransStamp,
        int priorSsthresh, int priorCwnd, int prrDelivered, int prrOut, int tlpHighSeq, boolean tlpRetrans,
        boolean sackReneg, long rackMstampUs, int rackEndSeq, long rackRttUs, int reoWndSteps, int reoWndPersist,
        int timerPending) {
    public TcpRecoveryState {
        if (segmentEnds.length != segmentMarks.length || segmentEnds.length != segmentSentUs.length) {
            throw new IllegalArgumentException("scoreboard arrays differ in length: " + segmentEnds.length + ", "
                    + segmentMarks.length + ", " + segmentSentUs.length);
        }
    }
}

package org.modnet.tcp;

/**
 * The receiver's SACK state ({@code tp->selective_acks}, {@code tp->duplicate_sack},
 * {@code rx_opt.num_sacks}, {@code rx_opt.dsack}): the blocks of out-of-order data this end holds,
 * most recently changed first (RFC 2018 4), and at most one D-SACK block reporting a duplicate
 * (RFC 2883), which goes out once, first, in the next segment. Linux's {@code tcp_sack_new_ofo_skb},
 * {@code tcp_sack_maybe_coalesce}, {@code tcp_sack_remove}, {@code tcp_dsack_set} and
 * {@code tcp_dsack_extend}. Fixed arrays: nothing allocates.
 */
final class TcpSackBlocks {
    final int[] start = new int[TcpOptions.NUM_SACKS];
    final int[] end = new int[TcpOptions.NUM_SACKS];
    int num;
    boolean dsack;
    int dsackStart;
    int dsackEnd;
    /** What the next segment carries: the D-SACK block first when there is one, then the SACK blocks. */
    final int[] outStart = new int[TcpOptions.NUM_SACKS + 1];
    final int[] outEnd = new int[TcpOptions.NUM_SACKS + 1];

    void clear() {
        num = 0;
        dsack = false;
    }

    /** {@code tcp_sack_extend}: widens the block at {@code i} when [seq, endSeq) touches or overlaps it. */
    private boolean extend(int i, int seq, int endSeq) {
        if (!TcpSeq.after(seq, end[i]) && !TcpSeq.after(start[i], endSeq)) {
            if (TcpSeq.before(seq, start[i])) {
                start[i] = seq;
            }
            if (TcpSeq.after(endSeq, end[i])) {
                end[i] = endSeq;
            }
            return true;
        }
        return false;
    }

    /**
     * {@code tcp_sack_new_ofo_skb}: out-of-order data [seq, endSeq) arrived. A block it touches grows and
     * moves to the front (then absorbs the blocks it now reaches); otherwise a new block goes first and,
     * with four already, the oldest is forgotten.
     */
    void newOfo(int seq, int endSeq) {
        for (int i = 0; i < num; i++) {
            if (extend(i, seq, endSeq)) {
                int s = start[i];
                int e = end[i];
                for (int k = i; k > 0; k--) {
                    start[k] = start[k - 1];
                    end[k] = end[k - 1];
                }
                start[0] = s;
                end[0] = e;
                coalesce();
                return;
            }
        }
        int n = Math.min(num, TcpOptions.NUM_SACKS - 1);
        for (int k = n; k > 0; k--) {
            start[k] = start[k - 1];
            end[k] = end[k - 1];
        }
        start[0] = seq;
        end[0] = endSeq;
        num = n + 1;
    }

    /** {@code tcp_sack_maybe_coalesce}: the first block swallows any later one it now overlaps. */
    private void coalesce() {
        for (int i = 1; i < num;) {
            if (extend(0, start[i], end[i])) {
                for (int k = i; k < num - 1; k++) {
                    start[k] = start[k + 1];
                    end[k] = end[k + 1];
                }
                num--;
            } else {
                i++;
            }
        }
    }

    /**
     * {@code tcp_sack_remove}: blocks that {@code rcvNxt} reached are no longer out of order; with the
     * out-of-order queue empty, none are.
     */
    void remove(int rcvNxt, boolean ofoEmpty) {
        if (ofoEmpty) {
            num = 0;
            return;
        }
        for (int i = 0; i < num;) {
            if (!TcpSeq.before(rcvNxt, start[i])) {
                for (int k = i; k < num - 1; k++) {
                    start[k] = start[k + 1];
                    end[k] = end[k + 1];
                }
                num--;
            } else {
                i++;
            }
        }
    }

    /** {@code tcp_dsack_set}: [seq, endSeq) arrived twice; the next segment reports it. */
    void dsackSet(int seq, int endSeq) {
        dsack = true;
        dsackStart = seq;
        dsackEnd = endSeq;
    }

    /** {@code tcp_dsack_extend}: a further duplicate joins the D-SACK block, or starts one. */
    boolean dsackExtend(int seq, int endSeq) {
        if (!dsack) {
            dsackSet(seq, endSeq);
            return true;
        }
        if (!TcpSeq.after(seq, dsackEnd) && !TcpSeq.after(dsackStart, endSeq)) {
            dsackStart = TcpSeq.before(seq, dsackStart) ? seq : dsackStart;
            dsackEnd = TcpSeq.after(endSeq, dsackEnd) ? endSeq : dsackEnd;
        }
        return false;
    }

    /** Fills {@link #outStart}/{@link #outEnd} for the next segment; returns how many blocks. */
    int prepare() {
        int n = 0;
        if (dsack) {
            outStart[0] = dsackStart;
            outEnd[0] = dsackEnd;
            n = 1;
        }
        for (int i = 0; i < num; i++) {
            outStart[n] = start[i];
            outEnd[n] = end[i];
            n++;
        }
        return n;
    }
}

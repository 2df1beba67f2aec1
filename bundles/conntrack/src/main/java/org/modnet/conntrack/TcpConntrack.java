package org.modnet.conntrack;

/**
 * nf_conntrack_proto_tcp.c's state machine: the state a segment's flags move a connection to, by
 * direction. Window tracking ({@code tcp_in_window}) is left out: sequence numbers are not checked,
 * so an out-of-window segment is not INVALID here as it can be on Linux (nf_conntrack_tcp_be_liberal=1).
 */
final class TcpConntrack {
    static final int NONE = 0, SYN_SENT = 1, SYN_RECV = 2, ESTABLISHED = 3, FIN_WAIT = 4, CLOSE_WAIT = 5,
            LAST_ACK = 6, TIME_WAIT = 7, CLOSE = 8, SYN_SENT2 = 9;
    /** What the table answers besides a state: drop the segment's state change, or call it INVALID. */
    static final int IGNORE = 10, INVALID = 11;

    static final String[] NAMES = { "NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT",
            "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2" };
    /** The sysctl of each state's timeout ({@code nf_conntrack_tcp_timeout_*}) and its Linux default in seconds. */
    static final String[] TIMEOUT_NAMES = { null, "syn_sent", "syn_recv", "established", "fin_wait", "close_wait",
            "last_ack", "time_wait", "close", "syn_sent" };
    static final int[] TIMEOUT_DEFAULTS = { 0, 120, 60, 432000, 120, 60, 30, 120, 10, 120 };

    /** The segment kinds of {@code get_conntrack_index}. */
    static final int SYN = 0, SYNACK = 1, FIN = 2, ACK = 3, RST = 4, OTHER = 5;

    private TcpConntrack() {
    }

    static int index(int flags) {
        if ((flags & 0x04) != 0) {
            return RST;
        }
        if ((flags & 0x02) != 0) {
            return (flags & 0x10) != 0 ? SYNACK : SYN;
        }
        if ((flags & 0x01) != 0) {
            return FIN;
        }
        return (flags & 0x10) != 0 ? ACK : OTHER;
    }

    private static final int sNO = NONE, sSS = SYN_SENT, sSR = SYN_RECV, sES = ESTABLISHED, sFW = FIN_WAIT,
            sCW = CLOSE_WAIT, sLA = LAST_ACK, sTW = TIME_WAIT, sCL = CLOSE, sS2 = SYN_SENT2, sIG = IGNORE,
            sIV = INVALID;

    // [reply][index][state]: states in the order NONE SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT
    // LAST_ACK TIME_WAIT CLOSE SYN_SENT2, as tcp_conntracks orders them
    private static final int[][][] NEXT = {
        { // original direction
            /* syn    */ { sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 },
            /* synack */ { sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR },
            /* fin    */ { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
            /* ack    */ { sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV },
            /* rst    */ { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
            /* none   */ { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
        },
        { // reply direction
            /* syn    */ { sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 },
            /* synack */ { sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR },
            /* fin    */ { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
            /* ack    */ { sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG },
            /* rst    */ { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
            /* none   */ { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
        }
    };

    /** The state after a segment of {@code index} in direction {@code reply} from {@code state}, or IGNORE/INVALID. */
    static int next(int state, boolean reply, int index) {
        return NEXT[reply ? 1 : 0][index][state];
    }

    /** {@code tcp_new}: a flow is picked up by a SYN, or mid-stream by an ACK (nf_conntrack_tcp_loose=1). */
    static int newState(int flags) {
        int s = next(NONE, false, index(flags));
        return s == INVALID || s == IGNORE ? INVALID : s;
    }
}

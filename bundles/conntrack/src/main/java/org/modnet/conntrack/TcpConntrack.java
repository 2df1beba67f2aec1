package org.modnet.conntrack;

import org.modnet.api.skb.SkBuff;

/**
 * nf_conntrack_proto_tcp.c: the state machine (the state a segment's flags move a connection to, by
 * direction) and window tracking ({@code tcp_in_window}): per direction the highest sequence sent
 * ({@code td_end}), the highest the receiver's window allows ({@code td_maxend}), the largest window
 * seen ({@code td_maxwin}) and the window scale; a segment outside them is INVALID unless
 * {@code nf_conntrack_tcp_be_liberal} is 1 or the flow was picked up mid-stream.
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

    // ------------------------------------------------------------------ window tracking

    /** {@code IP_CT_TCP_FLAG_*}. */
    static final int FLAG_WINDOW_SCALE = 0x01, FLAG_SACK_PERM = 0x02, FLAG_BE_LIBERAL = 0x08,
            FLAG_DATA_UNACKNOWLEDGED = 0x10, FLAG_MAXACK_SET = 0x20;
    /** MAXACKWINCONST: how far below the receiver's end an ACK may lag while the window is still small. */
    static final int MAXACKWINCONST = 66000;
    /** TCP_MAX_WSCALE. */
    static final int MAX_WSCALE = 14;

    /** {@code struct ip_ct_tcp_state} for both directions: [0] original, [1] reply. */
    static final class Window {
        final int[] end = new int[2], maxend = new int[2], maxwin = new int[2], maxack = new int[2], scale = new int[2],
                flags = new int[2];
        /** The last in-window segment ({@code last_dir}, {@code last_seq}, ...) and how often it came again ({@code retrans}). */
        int lastWinDir = -1, lastSeq, lastAck, lastEnd, lastWin, retrans;
    }

    /**
     * tcp_sack: the highest right edge of the segment's SACK blocks, if above {@code sack} (the ACK): data
     * the receiver holds is data it has seen, so the sender's window check may count up to it.
     */
    static int sack(SkBuff skb, int th, int sack) {
        int doff = (skb.getU8(th + 12) >>> 4) << 2;
        int o = th + 20, stop = Math.min(th + doff, skb.tail());
        while (o < stop) {
            int kind = skb.getU8(o);
            if (kind == 0) {
                break;
            }
            if (kind == 1) {
                o++;
                continue;
            }
            if (o + 1 >= stop) {
                break;
            }
            int len = skb.getU8(o + 1);
            if (len < 2 || o + len > stop) {
                break; // a malformed option ends the walk
            }
            if (kind == 5 && len >= 10 && (len - 2) % 8 == 0) {
                for (int b = o + 2; b < o + len; b += 8) {
                    int right = skb.getU32(b + 4);
                    if (after(right, sack)) {
                        sack = right;
                    }
                }
            }
            o += len;
        }
        return sack;
    }

    private static boolean before(int a, int b) {
        return a - b < 0;
    }

    private static boolean after(int a, int b) {
        return b - a < 0;
    }

    /** segment_seq_plus_len: the sequence number after the segment (SYN and FIN count one each). */
    static int end(SkBuff skb, int nh, int th) {
        int flags = skb.getU8(th + 13);
        int len = skb.getU16(nh + 2) - ((skb.getU8(nh) & 0xf) << 2) - ((skb.getU8(th + 12) >>> 4) << 2);
        return skb.getU32(th + 4) + Math.max(len, 0) + ((flags & 0x02) != 0 ? 1 : 0) + (flags & 0x01);
    }

    /** tcp_options: a SYN's window scale and SACK-permitted options into the sender's state. */
    static void options(SkBuff skb, int th, Window w, int dir) {
        int doff = (skb.getU8(th + 12) >>> 4) << 2;
        int o = th + 20, stop = Math.min(th + doff, skb.tail());
        while (o < stop) {
            int kind = skb.getU8(o);
            if (kind == 0) {
                return;
            }
            if (kind == 1) {
                o++;
                continue;
            }
            if (o + 1 >= stop) {
                return;
            }
            int len = skb.getU8(o + 1);
            if (len < 2 || o + len > stop) {
                return; // a malformed option ends the walk, as tcp_options does
            }
            if (kind == 4 && len == 2) {
                w.flags[dir] |= FLAG_SACK_PERM;
            } else if (kind == 3 && len == 3) {
                w.flags[dir] |= FLAG_WINDOW_SCALE;
                w.scale[dir] = Math.min(skb.getU8(o + 2), MAX_WSCALE);
            }
            o += len;
        }
    }

    /**
     * tcp_new's window part for the first packet of a flow: a SYN starts the original direction's
     * state; anything else is a flow picked up mid-stream (only with {@code nf_conntrack_tcp_loose}),
     * tracked liberally from then on since its window scale is unknown.
     */
    static void start(Window w, SkBuff skb, int nh, int th, boolean syn) {
        int e = end(skb, nh, th);
        int win = skb.getU16(th + 14);
        w.end[0] = e;
        w.maxwin[0] = win == 0 ? 1 : win;
        if (syn) {
            w.maxend[0] = e;
            options(skb, th, w, 0);
        } else {
            w.maxend[0] = e + w.maxwin[0];
            w.flags[0] = FLAG_SACK_PERM | FLAG_BE_LIBERAL;
            w.flags[1] = FLAG_SACK_PERM | FLAG_BE_LIBERAL;
        }
    }

    /**
     * tcp_in_window: whether the segment lies in the window the other side advertised and acknowledges
     * nothing it has not seen; the state is updated as it goes. {@code state} is the connection's state
     * before this segment.
     */
    static boolean inWindow(Window w, int state, boolean reply, int index, SkBuff skb, int nh, int th, boolean beLiberal) {
        int dir = reply ? 1 : 0, rdir = 1 - dir;
        int flags = skb.getU8(th + 13);
        boolean syn = (flags & 0x02) != 0, ackSet = (flags & 0x10) != 0, rst = (flags & 0x04) != 0;
        int seq = skb.getU32(th + 4);
        int ack = skb.getU32(th + 8);
        int sack = ack;
        if ((w.flags[rdir] & FLAG_SACK_PERM) != 0 && ackSet) {
            sack = sack(skb, th, sack); // the receiver allowed SACK: its blocks count as acknowledged
        }
        int win = skb.getU16(th + 14);
        int winRaw = win;
        int end = end(skb, nh, th);
        if (w.maxwin[dir] == 0) {
            if (syn) {
                // the SYN-ACK answering a SYN (or a SYN from the reply side in a simultaneous open)
                w.end[dir] = end;
                w.maxend[dir] = end;
                w.maxwin[dir] = win == 0 ? 1 : win;
                options(skb, th, w, dir);
                // RFC 7323 2.2: scaling only when both sides offered it
                if ((w.flags[dir] & FLAG_WINDOW_SCALE) == 0 || (w.flags[rdir] & FLAG_WINDOW_SCALE) == 0) {
                    w.scale[dir] = 0;
                    w.scale[rdir] = 0;
                }
                if (!ackSet) {
                    return true; // a simultaneous open
                }
            } else {
                // mid-stream: the history is lost, take what this segment says
                w.end[dir] = end;
                int swin = win << w.scale[dir];
                w.maxwin[dir] = swin == 0 ? 1 : swin;
                w.maxend[dir] = end + w.maxwin[dir];
                if (w.maxwin[rdir] == 0) {
                    w.end[rdir] = sack;
                    w.maxend[rdir] = sack;
                } else if (sack == w.end[rdir] + 1) {
                    w.end[rdir]++; // likely the answer to a keepalive
                }
            }
        } else if ((state == SYN_SENT && !reply || state == SYN_RECV && reply) && after(end, w.end[dir])) {
            // RFC 793: a reinitialised connection need only use sequence numbers above the old ones
            w.end[dir] = end;
            w.maxend[dir] = end;
            w.maxwin[dir] = win == 0 ? 1 : win;
            options(skb, th, w, dir);
        }
        if (!ackSet || rst && ackSet && ack == 0) {
            ack = w.end[rdir]; // no ACK (or a broken stack's RST with ACK 0): as if it acknowledged everything
            sack = ack;
        }
        if (rst && seq == 0 && state == SYN_SENT) {
            seq = w.end[dir]; // the RST answering a SYN
            end = seq;
        }
        int maxAckWin = Math.max(w.maxwin[dir], MAXACKWINCONST);
        boolean inRecvWin = w.maxwin[rdir] == 0 || after(end, w.end[dir] - w.maxwin[rdir] - 1);
        if (before(seq, w.maxend[dir] + 1) && inRecvWin && before(sack, w.end[rdir] + 1)
                && after(sack, w.end[rdir] - maxAckWin - 1)) {
            if (!syn) {
                win <<= w.scale[dir];
            }
            int swin = win + (sack - ack);
            if (Integer.compareUnsigned(w.maxwin[dir], swin) < 0) {
                w.maxwin[dir] = swin;
            }
            if (after(end, w.end[dir])) {
                w.end[dir] = end;
                w.flags[dir] |= FLAG_DATA_UNACKNOWLEDGED;
            }
            if (ackSet) {
                if ((w.flags[dir] & FLAG_MAXACK_SET) == 0) {
                    w.maxack[dir] = ack;
                    w.flags[dir] |= FLAG_MAXACK_SET;
                } else if (after(ack, w.maxack[dir])) {
                    w.maxack[dir] = ack;
                }
            }
            if (w.maxwin[rdir] != 0 && after(end, w.maxend[dir])) {
                w.maxwin[rdir] += end - w.maxend[dir];
            }
            if (after(sack + win, w.maxend[rdir] - 1)) {
                w.maxend[rdir] = sack + win + (win == 0 ? 1 : 0);
            }
            if (ack == w.end[rdir]) {
                w.flags[rdir] &= ~FLAG_DATA_UNACKNOWLEDGED;
            }
            // the same segment again (retransmitted): counted, so a stalled flow gets the shorter timeout
            if (w.lastWinDir == dir && w.lastSeq == seq && w.lastAck == ack && w.lastEnd == end && w.lastWin == winRaw) {
                w.retrans++;
            } else {
                w.lastWinDir = dir;
                w.lastSeq = seq;
                w.lastAck = ack;
                w.lastEnd = end;
                w.lastWin = winRaw;
                w.retrans = 0;
            }
            return true;
        }
        return beLiberal || (w.flags[dir] & FLAG_BE_LIBERAL) != 0;
    }
}

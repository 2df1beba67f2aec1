package org.modnet.api.handover;

/**
 * A connection's sequence space ({@code struct tcp_sock}'s numbers, RFC 9293 3.3.1): the send side
 * ({@code iss}, {@code snd_una}, {@code snd_nxt}, the highest sent, {@code write_seq}, the peer's window
 * and the segment that last updated it, the largest window it offered), the receive side ({@code irs},
 * {@code rcv_nxt}, {@code copied_seq}, the right edge of the window we offered, {@code rcv_wup}), the
 * window scales both ways, Minshall's {@code snd_sml}, {@code pushed_seq}, and where each side's FIN is.
 */
public record TcpSequence(int iss, int sndUna, int sndNxt, int sndMax, int writeSeq, int sndWnd, int sndWl1,
        int maxWindow, int irs, int rcvNxt, int copiedSeq, int rcvWndRight, int lastAckSent, int sndWscale,
        int rcvWscale, int sndSml, int pushedSeq, boolean finQueued, boolean finSent, boolean finReceived) {
}

package org.modnet.api.handover;

/**
 * A connection's timers as what is left of each, in milliseconds, or -1 when it is not armed: the
 * retransmission (or zero-window probe) timer, the delayed ACK, keepalive and an orphan's FIN-WAIT-2.
 * The new version arms each again with what is left, so the swap moves no timer.
 */
public record TcpTimersState(long retransmitMs, long delackMs, long keepaliveMs, long finWait2Ms) {
    /** No timer armed. */
    public static final long NONE = -1;
}

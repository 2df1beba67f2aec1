package org.modnet.socket.api;

/**
 * The timer a socket is waiting on, as {@code inet_diag} reports it ({@code idiag_timer},
 * {@code idiag_expires}, {@code idiag_retrans}) and {@code ss -o} prints it:
 * {@code timer:(on,200ms,0)}.
 *
 * @param kind {@link #OFF}, {@link #ON} (retransmission), {@link #KEEPALIVE}, {@link #TIMEWAIT} or
 *        {@link #PERSIST} (zero-window probe)
 * @param expiresMs milliseconds until it fires (negative when overdue)
 * @param retrans retransmissions or probes so far ({@code icsk_retransmits} or {@code icsk_probes_out})
 */
public record SockTimer(int kind, long expiresMs, int retrans) {
    public static final int OFF = 0;
    public static final int ON = 1;
    public static final int KEEPALIVE = 2;
    public static final int TIMEWAIT = 3;
    public static final int PERSIST = 4;

    /** No timer pending. */
    public static final SockTimer NONE = new SockTimer(OFF, 0, 0);

    /** The name {@code ss} prints ({@code tmr_name}). */
    public String name() {
        return switch (kind) {
            case OFF -> "off";
            case ON -> "on";
            case KEEPALIVE -> "keepalive";
            case TIMEWAIT -> "timewait";
            case PERSIST -> "persist";
            default -> "unknown";
        };
    }
}

package org.modnet.tcp;

import java.util.function.LongSupplier;

import org.modnet.api.net.Timer;

/**
 * A socket timer that remembers when it fires ({@code icsk_timeout} next to {@code
 * icsk_retransmit_timer}), so {@code ss -o} and {@code /proc/net/tcp} can tell how long is left.
 * Arming it stores one long; it allocates nothing.
 */
final class TcpTimer implements Timer {
    private final Timer timer;
    private final LongSupplier nanoTime;
    private volatile long expiresNanos;

    TcpTimer(Timer timer, LongSupplier nanoTime) {
        this.timer = timer;
        this.nanoTime = nanoTime;
    }

    @Override
    public void mod(long delayMillis) {
        expiresNanos = nanoTime.getAsLong() + delayMillis * 1_000_000L;
        timer.mod(delayMillis);
    }

    @Override
    public boolean del() {
        return timer.del();
    }

    @Override
    public boolean pending() {
        return timer.pending();
    }

    /** Milliseconds from {@code nanos} until it fires, or fired (negative when it was overdue then). */
    long remainingAtMs(long nanos) {
        return Math.floorDiv(expiresNanos - nanos, 1_000_000L);
    }

    /** Milliseconds until it fires (negative when overdue); meaningful while {@link #pending}. */
    long remainingMs() {
        return Math.floorDiv(expiresNanos - nanoTime.getAsLong(), 1_000_000L);
    }
}

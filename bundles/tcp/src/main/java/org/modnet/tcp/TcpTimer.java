package org.modnet.tcp;

import java.util.function.LongSupplier;

import org.modnet.api.net.Timer;

/**
 * A socket timer that remembers when it fires ({@code icsk_timeout} next to {@code
 * icsk_retransmit_timer}), so {@code ss -o} and {@code /proc/net/tcp} can tell how long is left.
 * Arming it stores one long; it allocates nothing.
 *
 * <p>{@link #clear} is {@code inet_csk_clear_xmit_timer} as Linux builds it (without
 * {@code INET_CSK_CLEAR_TIMERS}): the timer is no longer pending for the socket ({@code icsk_pending},
 * {@code icsk_ack.pending} cleared) but stays in its CPU's wheel and fires to nothing, so that arming it
 * again, usually later, only moves it. Deleting it instead, as each ACK sent and each ACK of all data
 * would, left the CPU's softirq thread with no timer to sleep until, and the next arming (the next
 * request's delayed ACK, the next answer's RTO) woke it from another thread: under request/response,
 * 0.4 wake-ups of that thread a round trip, on the cores the application and its peer ran on.
 */
final class TcpTimer implements Timer {
    private final Timer timer;
    private final Runnable function;
    private final LongSupplier nanoTime;
    private volatile long expiresNanos;
    /** Pending for the socket: armed by {@link #mod}, not cleared, deleted or fired since. */
    private volatile boolean armed;

    /** A timer of the wheel {@code make} makes, calling {@code function} when it fires while pending. */
    TcpTimer(java.util.function.Function<Runnable, Timer> make, Runnable function, LongSupplier nanoTime) {
        this.function = function;
        this.nanoTime = nanoTime;
        this.timer = make.apply(new Fire(this));
    }

    /**
     * A timer of {@code core}'s wheel on {@code cpu} ({@code hr}: its high-resolution one), calling {@code function} when it
     * fires while pending. No lambda: a socket's timers are made with the socket, and a new version of TCP makes its first
     * sockets inside an update's swap (the listeners it adopts), where each lambda's call site would spin a class at its
     * first run; these classes are loaded beside the swap with the rest of the jar.
     */
    TcpTimer(org.modnet.api.net.NetCore core, int cpu, boolean hr, Runnable function) {
        this.function = function;
        this.nanoTime = new CoreClock(core);
        Fire fire = new Fire(this);
        this.timer = hr ? core.hrtimer(cpu, fire) : core.timer(cpu, fire);
    }

    /** The wheel's callback: {@link #fire}. */
    private static final class Fire implements Runnable {
        private final TcpTimer t;

        Fire(TcpTimer t) {
            this.t = t;
        }

        @Override
        public void run() {
            t.fire();
        }
    }

    /** The core's clock. */
    private static final class CoreClock implements LongSupplier {
        private final org.modnet.api.net.NetCore core;

        CoreClock(org.modnet.api.net.NetCore core) {
            this.core = core;
        }

        @Override
        public long getAsLong() {
            return core.nanoTime();
        }
    }

    private void fire() {
        if (!armed) {
            return; // cleared (inet_csk_clear_xmit_timer) after it was armed: the handler would find nothing pending
        }
        armed = false;
        function.run();
    }

    @Override
    public void mod(long delayMillis) {
        expiresNanos = nanoTime.getAsLong() + delayMillis * 1_000_000L;
        armed = true;
        timer.mod(delayMillis);
    }

    /** {@code sk_stop_timer}: out of the wheel. */
    @Override
    public boolean del() {
        boolean was = armed;
        armed = false;
        return timer.del() && was;
    }

    /** {@code inet_csk_clear_xmit_timer}: no longer pending; the wheel's timer stays and fires to nothing. True if it was pending. */
    boolean clear() {
        boolean was = armed;
        armed = false;
        return was;
    }

    @Override
    public boolean pending() {
        return armed;
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

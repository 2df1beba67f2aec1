package org.modnet.packetdrill;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

import org.modnet.socket.api.SleepListener;
import org.modnet.socket.api.Sock;

/**
 * What the system-call thread is doing, told by the socket layer ({@link SleepListener}): running, asleep
 * on some sockets, or woken by one of them and about to run. The runner waits on it until a call has
 * returned or sleeps with nothing to wake it, so it knows exactly when time may move on (packetdrill
 * itself learns that from the kernel: its thread sleeps in the system call). Nothing is timed on the
 * wall clock, so a loaded machine does not change the verdict.
 *
 * <p>A thread says it sleeps just before it parks, while it still holds the socket; the runner takes it
 * as asleep once it is parked too, so a timer or a segment never finds the socket held by a sleeper.
 * The hooks take no lock: they run on every socket's wake-up while a script runs.
 */
final class SyscallSleep implements SleepListener {
    /** How long to wait for a thread that neither returns nor sleeps before giving up on it. */
    static final long LIMIT_NANOS = 10_000_000_000L;
    /** How long the runner parks between looks while it waits. */
    private static final long LOOK_NANOS = 50_000;

    private volatile Thread worker;
    private volatile Thread runner;
    private final Set<Sock> asleepOn = ConcurrentHashMap.newKeySet();
    private volatile boolean kicked; // a socket it sleeps on woke it
    private volatile boolean returned = true;

    /** The system-call thread: only its sleeps count. */
    void worker(Thread t) {
        worker = t;
    }

    /** A call starts on the system-call thread (called by the runner). */
    void calling() {
        runner = Thread.currentThread();
        asleepOn.clear();
        kicked = false;
        returned = false;
    }

    /** The call has returned (from the system-call thread, before its result is published). */
    void returned() {
        asleepOn.clear();
        returned = true;
        LockSupport.unpark(runner);
    }

    @Override
    public void sleeping(Sock sock) {
        if (Thread.currentThread() == worker) {
            kicked = false;
            asleepOn.add(sock);
            LockSupport.unpark(runner);
        }
    }

    @Override
    public void awake(Sock sock) {
        if (Thread.currentThread() == worker) {
            asleepOn.remove(sock);
            LockSupport.unpark(runner);
        }
    }

    @Override
    public void woken(Sock sock, Thread sleeper) {
        if ((sleeper == null || sleeper == worker) && asleepOn.contains(sock)) {
            kicked = true;
        }
    }

    /**
     * Waits until the call in flight has returned (true) or sleeps, parked, with nothing pending to wake
     * it (false); false too after {@link #LIMIT_NANOS} of neither.
     */
    boolean settle() {
        long deadline = System.nanoTime() + LIMIT_NANOS;
        while (true) {
            if (returned) {
                return true;
            }
            if (!asleepOn.isEmpty() && !kicked && parked()) {
                return false;
            }
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(this, LOOK_NANOS);
        }
    }

    /** The worker has let its socket go and parked (it said it sleeps before it does). */
    private boolean parked() {
        Thread w = worker;
        Thread.State s = w == null ? Thread.State.TERMINATED : w.getState();
        return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
    }
}

package org.modnet.packetdrill;

import java.util.ArrayList;
import java.util.List;

import org.modnet.socket.api.SleepListener;
import org.modnet.socket.api.Sock;

/**
 * What the system-call thread is doing, told by the socket layer ({@link SleepListener}): running, asleep
 * on some sockets, or woken by one of them and about to run. The runner waits on it until a call has
 * returned or sleeps with nothing to wake it, so it knows exactly when time may move on (packetdrill
 * itself learns that from the kernel: its thread sleeps in the system call). Nothing is timed on the
 * wall clock, so a loaded machine does not change the verdict.
 */
final class SyscallSleep implements SleepListener {
    /** How long to wait for a thread that neither returns nor sleeps before giving up on it. */
    static final long LIMIT_NANOS = 10_000_000_000L;

    private volatile Thread worker;
    private final List<Sock> asleepOn = new ArrayList<>(2); // guarded by this
    private boolean kicked; // guarded by this: a socket it sleeps on woke it
    private boolean returned = true; // guarded by this

    /** The system-call thread: only its sleeps count. */
    void worker(Thread t) {
        worker = t;
    }

    /** A call starts on the system-call thread. */
    synchronized void calling() {
        returned = false;
        kicked = false;
        asleepOn.clear();
    }

    /** The call has returned (from the system-call thread, before its result is published). */
    synchronized void returned() {
        returned = true;
        asleepOn.clear();
        notifyAll();
    }

    @Override
    public synchronized void sleeping(Sock sock) {
        if (Thread.currentThread() == worker) {
            asleepOn.add(sock);
            kicked = false;
            notifyAll();
        }
    }

    @Override
    public synchronized void awake(Sock sock) {
        if (Thread.currentThread() == worker) {
            asleepOn.remove(sock);
            notifyAll();
        }
    }

    @Override
    public synchronized void woken(Sock sock, Thread sleeper) {
        if ((sleeper == null || sleeper == worker) && asleepOn.contains(sock)) {
            kicked = true;
        }
    }

    /**
     * Waits until the call in flight has returned (true) or sleeps with nothing pending to wake it
     * (false); false too after {@link #LIMIT_NANOS} of neither.
     */
    synchronized boolean settle() {
        long deadline = System.nanoTime() + LIMIT_NANOS;
        while (!returned && (asleepOn.isEmpty() || kicked)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                wait(left / 1_000_000, (int) (left % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return returned;
            }
        }
        return returned;
    }
}

package org.modnet.socket.api;

/**
 * Told when a thread goes to sleep in a blocking socket call, when it runs again, and when a socket
 * wakes its sleepers: the two ends of {@code sk_wait_event} and the {@code wake_up} between them. A
 * harness that drives the stack on virtual time (the packetdrill runner) learns from it, exactly,
 * whether a call it runs has blocked and whether a step of time woke it, instead of guessing from
 * thread states on the wall clock. Installed with {@link #add}; while none is installed the hooks cost
 * one volatile read.
 *
 * <p>Where calls sleep: {@link Sock}'s own wait (receive, send buffer space), a protocol's wait that
 * calls {@link #sleeping}/{@link #awake} itself (TCP's connect, accept, send and receive), and
 * {@code poll} (once for each socket it watches).
 *
 * @since 1.4
 */
public interface SleepListener {
    /** On the calling thread, just before it sleeps on {@code sock}; its condition was checked and is false. */
    void sleeping(Sock sock);

    /** On the same thread, when it runs again after sleeping on {@code sock} (woken, timed out or interrupted). */
    void awake(Sock sock);

    /**
     * On the waking thread: the threads sleeping on {@code sock} are woken ({@code sleeper} null), or only
     * {@code sleeper} (a {@code poll} watching it). Told before the sleepers can run.
     */
    void woken(Sock sock, Thread sleeper);

    /** Installs {@code l}: it hears every socket of this framework from now on. */
    static void add(SleepListener l) {
        SleepListeners.add(l);
    }

    /** Removes {@code l}. */
    static void remove(SleepListener l) {
        SleepListeners.remove(l);
    }

    /** For protocols and the socket layer: the current thread sleeps on {@code sock} now. */
    static void notifySleeping(Sock sock) {
        for (SleepListener l : SleepListeners.listeners) {
            l.sleeping(sock);
        }
    }

    /** For protocols and the socket layer: the current thread runs again after sleeping on {@code sock}. */
    static void notifyAwake(Sock sock) {
        for (SleepListener l : SleepListeners.listeners) {
            l.awake(sock);
        }
    }

    /** For protocols and the socket layer: {@code sock} wakes its sleepers, or {@code sleeper} alone when not null. */
    static void notifyWoken(Sock sock, Thread sleeper) {
        for (SleepListener l : SleepListeners.listeners) {
            l.woken(sock, sleeper);
        }
    }
}

package org.modnet.tcp;

import java.util.concurrent.atomic.AtomicReference;

import org.modnet.api.skb.SkBuff;

/**
 * A socket's backlog ({@code sk_backlog}): segments that arrived while a user held the socket, kept
 * in arrival order until the lock's holder processes them. Linked through the buffers themselves
 * ({@code skb->next}), so queueing allocates nothing: softirqs push onto a lock-free stack (newest
 * first, one CAS); the lock's holder takes the whole stack at once and reverses it into arrival order.
 * The bound (the socket's buffers, in bytes) is the caller's.
 */
final class TcpBacklog {
    /** Pushed by any CPU, newest first. */
    private final AtomicReference<SkBuff> incoming = new AtomicReference<>();
    /** Taken by the socket lock's holder, oldest first; read without the lock by {@link #isEmpty}. */
    private volatile SkBuff taken;

    /** {@code __sk_add_backlog}: from any thread. */
    void add(SkBuff skb) {
        SkBuff head;
        do {
            head = incoming.get();
            skb.next(head);
        } while (!incoming.compareAndSet(head, skb));
    }

    /** The oldest segment, or null; only under the socket lock. */
    SkBuff poll() {
        SkBuff first = taken;
        if (first == null) {
            SkBuff s = incoming.getAndSet(null);
            if (s == null) {
                return null;
            }
            SkBuff prev = null;
            while (s != null) { // newest first -> oldest first
                SkBuff n = s.next();
                s.next(prev);
                prev = s;
                s = n;
            }
            first = prev;
        }
        taken = first.next();
        first.next(null);
        return first;
    }

    boolean isEmpty() {
        return taken == null && incoming.get() == null;
    }
}

package org.modnet.ipv4;

import java.util.concurrent.atomic.AtomicLong;

/**
 * ICMP redirects, both sides ({@code net/ipv4/route.c}).
 *
 * <p>The router's: {@code ip_rt_send_redirect}'s per-sender back-off. A sender is told at most
 * {@link #REDIRECT_NUMBER} times, each after twice the wait of the one before (starting at
 * {@link #REDIRECT_LOAD_MS}), and is forgiven after {@link #REDIRECT_SILENCE_MS} without redirected
 * packets ({@code ip_rt_redirect_number}, {@code _load}, {@code _silence}: init_net sysctls in Linux,
 * constants here as in a namespace).
 *
 * <p>The host's: the next-hop exceptions a redirect makes ({@code update_or_create_fnhe} with a
 * gateway): packets to one destination that went through {@code oldGw} go through {@code newGw} for
 * {@link #EXPIRES_MS} ({@code ip_rt_gc_timeout}, 300 s).
 *
 * <p>Both tables are bounded and hashed like {@link Ipv4Pmtu}'s: {@link #SLOTS} slots, {@link #DEPTH}
 * probed; a full run gives up its oldest entry. Nothing is allocated and no lock taken; a racing reader
 * sees the old gateway for a packet.
 */
final class Ipv4Redirects {
    static final int SLOTS = 1024;
    static final int DEPTH = 6;
    static final int REDIRECT_NUMBER = 9;
    static final long REDIRECT_LOAD_MS = 20;
    static final long REDIRECT_SILENCE_MS = REDIRECT_LOAD_MS << (REDIRECT_NUMBER + 1);
    static final long EXPIRES_MS = 300_000;

    // the router's peers: sender address, redirects sent, when the last was sent (or refused)
    private final int[] peer = new int[SLOTS];
    private final int[] sent = new int[SLOTS];
    private final long[] rateLast = new long[SLOTS];
    private final boolean[] peerUsed = new boolean[SLOTS];

    // the host's exceptions: destination, the gateway the route had, the one to use, until when
    private final int[] daddr = new int[SLOTS];
    private final int[] oldGw = new int[SLOTS];
    private final int[] newGw = new int[SLOTS]; // 0: empty
    private final long[] expiresMs = new long[SLOTS];

    /** Redirects refused by the back-off, and exceptions given up to make room. */
    final AtomicLong suppressed = new AtomicLong();
    final AtomicLong reclaimed = new AtomicLong();

    private static int bucket(int a) {
        int h = a * 0x9e3779b1;
        return (h ^ (h >>> 16)) & (SLOTS - 1);
    }

    /** {@code ip_rt_send_redirect}: whether {@code sender} is told now, and its count and time if so. */
    boolean mayRedirect(int sender, long nowMs) {
        int b = bucket(sender);
        int s = -1;
        int oldest = b;
        for (int i = 0; i < DEPTH; i++) {
            int t = (b + i) & (SLOTS - 1);
            if (peerUsed[t] && peer[t] == sender) {
                s = t;
                break;
            }
            if (!peerUsed[t] || rateLast[t] < rateLast[oldest]) {
                oldest = t;
            }
        }
        if (s < 0) {
            s = oldest;
            peerUsed[s] = true;
            peer[s] = sender;
            sent[s] = 0;
            rateLast[s] = nowMs;
        }
        if (nowMs - rateLast[s] > REDIRECT_SILENCE_MS) {
            sent[s] = 0; // quiet long enough: the algorithm starts over
        }
        if (sent[s] >= REDIRECT_NUMBER) {
            rateLast[s] = nowMs; // it ignores us: keep silent while it keeps sending this way
            suppressed.incrementAndGet();
            return false;
        }
        if (sent[s] == 0 || nowMs - rateLast[s] > (REDIRECT_LOAD_MS << sent[s])) {
            rateLast[s] = nowMs;
            sent[s]++;
            return true;
        }
        suppressed.incrementAndGet();
        return false;
    }

    /** {@code update_or_create_fnhe}: packets to {@code d} that would go to {@code from} go to {@code to}. */
    void learn(int d, int from, int to, long nowMs) {
        int b = bucket(d);
        int free = -1;
        int oldest = b;
        for (int i = 0; i < DEPTH; i++) {
            int s = (b + i) & (SLOTS - 1);
            if (newGw[s] != 0 && daddr[s] == d) {
                free = s;
                break;
            }
            if (free < 0 && (newGw[s] == 0 || expiresMs[s] - nowMs <= 0)) {
                free = s;
            }
            if (expiresMs[s] < expiresMs[oldest]) {
                oldest = s;
            }
        }
        if (free < 0) {
            free = oldest;
            reclaimed.incrementAndGet();
        }
        daddr[free] = d;
        oldGw[free] = from;
        expiresMs[free] = nowMs + EXPIRES_MS;
        newGw[free] = to;
    }

    /**
     * The next hop for {@code d} whose route's gateway is {@code gw}: the redirected one if an exception
     * for that gateway holds, else {@code gw} itself.
     */
    int gateway(int d, int gw, long nowMs) {
        int b = bucket(d);
        for (int i = 0; i < DEPTH; i++) {
            int s = (b + i) & (SLOTS - 1);
            int to = newGw[s];
            if (to != 0 && daddr[s] == d) {
                if (expiresMs[s] - nowMs <= 0) {
                    newGw[s] = 0;
                    return gw;
                }
                return oldGw[s] == gw ? to : gw;
            }
        }
        return gw;
    }

    /** {@code ip route flush cache}: every exception goes. */
    void flush() {
        java.util.Arrays.fill(newGw, 0);
    }
}

package org.modnet.ipv4;

import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.net.IntSysctl;

/**
 * Path MTU per destination: Linux's next-hop exceptions ({@code struct fib_nh_exception},
 * {@code update_or_create_fnhe} and {@code __ip_rt_update_pmtu} in {@code net/ipv4/route.c}). An ICMP
 * "fragmentation needed" (type 3 code 4) with its next-hop MTU (RFC 1191) lowers the MTU toward its
 * destination for {@code net.ipv4.route.mtu_expires} seconds (600); output then sends no larger
 * packet there.
 *
 * <p>A bounded table: {@link #SLOTS} buckets, a destination probing at most {@link #DEPTH} of them,
 * as Linux's exception chains hold at most {@code FNHE_RECLAIM_DEPTH}; a full run gives up its oldest
 * entry, counted in {@link #reclaimed}. Lookups and updates allocate nothing and take no lock: each
 * slot is three ints and a long written by the one packet path that learns (ICMP input), read racily
 * by output, which at worst sees the device MTU for one packet.
 */
final class Ipv4Pmtu {
    static final int SLOTS = 2048;
    static final int DEPTH = 6;

    private final int[] daddr = new int[SLOTS];
    private final int[] mtu = new int[SLOTS]; // 0: empty
    private final boolean[] locked = new boolean[SLOTS];
    private final long[] expiresMs = new long[SLOTS];
    private final long[] stampMs = new long[SLOTS];

    private final IntSysctl mtuExpires;
    private final IntSysctl minPmtu;

    /** Exceptions learned, one given up to make room (a full run), and messages ignored (MTU 0 or not lower). */
    final AtomicLong learned = new AtomicLong();
    final AtomicLong reclaimed = new AtomicLong();
    final AtomicLong ignored = new AtomicLong();

    Ipv4Pmtu(IntSysctl mtuExpires, IntSysctl minPmtu) {
        this.mtuExpires = mtuExpires;
        this.minPmtu = minPmtu;
    }

    private static int bucket(int daddr) {
        int h = daddr * 0x9e3779b1;
        return (h ^ (h >>> 16)) & (SLOTS - 1);
    }

    private int find(int d, long now) {
        int b = bucket(d);
        for (int i = 0; i < DEPTH; i++) {
            int s = (b + i) & (SLOTS - 1);
            if (mtu[s] != 0 && daddr[s] == d) {
                if (expiresMs[s] - now <= 0) {
                    mtu[s] = 0; // ip_del_fnhe on the expired one, as rt_bind_exception finds it
                    return -1;
                }
                return s;
            }
        }
        return -1;
    }

    /**
     * {@code __ip_rt_update_pmtu}: a frag-needed toward {@code d} said {@code newMtu}; {@code devMtu}
     * is the route's own. Lowers the path MTU only (a larger value is ignored, as {@code old_mtu < mtu}
     * returns); below {@code min_pmtu} Linux clamps to it and locks the MTU, so packets stop carrying DF
     * (RFC 1191 would take the value as given; this follows Linux, which refuses to go lower to blunt
     * forged messages). Returns the MTU now in force, or 0 when the message changed nothing.
     */
    int update(int d, int newMtu, int devMtu, long nowMs) {
        if (newMtu <= 0) {
            ignored.incrementAndGet(); // no next-hop MTU (an RFC 792 router): Linux leaves the route alone
            return 0;
        }
        int s = find(d, nowMs);
        int old = s >= 0 ? mtu[s] : devMtu;
        boolean lock = false;
        int min = minPmtu.get();
        if (newMtu < min) {
            lock = true;
            newMtu = Math.min(old, min);
        }
        if (s >= 0 && locked[s] || old < newMtu || (old == newMtu && s >= 0)) {
            if (s >= 0 && old == newMtu) {
                expiresMs[s] = nowMs + mtuExpires.get() * 1000L; // refreshed, as update_or_create_fnhe does
                return newMtu;
            }
            ignored.incrementAndGet();
            return 0;
        }
        if (s < 0) {
            s = slotFor(d);
        }
        daddr[s] = d;
        locked[s] = lock;
        expiresMs[s] = nowMs + Math.max(1, mtuExpires.get()) * 1000L;
        stampMs[s] = nowMs;
        mtu[s] = newMtu;
        learned.incrementAndGet();
        return newMtu;
    }

    /** An empty slot in {@code d}'s run, or its oldest (fnhe_oldest), counted as reclaimed. */
    private int slotFor(int d) {
        int b = bucket(d);
        int oldest = b;
        for (int i = 0; i < DEPTH; i++) {
            int s = (b + i) & (SLOTS - 1);
            if (mtu[s] == 0) {
                return s;
            }
            if (stampMs[s] < stampMs[oldest]) {
                oldest = s;
            }
        }
        reclaimed.incrementAndGet();
        return oldest;
    }

    /** The path MTU toward {@code d}, or {@code devMtu} without a live exception. */
    int mtu(int d, int devMtu, long nowMs) {
        int s = find(d, nowMs);
        return s >= 0 ? Math.min(mtu[s], devMtu) : devMtu;
    }

    /** Whether the MTU toward {@code d} is locked (clamped to min_pmtu): no DF then. */
    boolean locked(int d, long nowMs) {
        int s = find(d, nowMs);
        return s >= 0 && locked[s];
    }

    /** Seconds until the exception toward {@code d} expires, or -1 when there is none. */
    long expiresIn(int d, long nowMs) {
        int s = find(d, nowMs);
        return s < 0 ? -1 : (expiresMs[s] - nowMs) / 1000;
    }

    /** The exception's MTU toward {@code d}, or 0 when there is none. */
    int exception(int d, long nowMs) {
        int s = find(d, nowMs);
        return s < 0 ? 0 : mtu[s];
    }

    /** {@code ip route flush cache} ({@code rt_cache_flush}): every exception goes. */
    void flush() {
        java.util.Arrays.fill(mtu, 0);
    }

    /** Live exceptions. */
    int size(long nowMs) {
        int n = 0;
        for (int s = 0; s < SLOTS; s++) {
            if (mtu[s] != 0 && expiresMs[s] - nowMs > 0) {
                n++;
            }
        }
        return n;
    }
}

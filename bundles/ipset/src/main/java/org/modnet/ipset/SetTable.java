package org.modnet.ipset;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The elements of one set (ip_set_hash_gen.h's table, and bitmap:port's too): keys packed into a long,
 * in open addressing over slots made whole when the set is created (twice {@code maxelem}, so at most
 * half are live), each with its expiry and, if the set has counters, its packets and bytes. A packet
 * reads and adds by compare-and-set, never locking or allocating; the command side, which also deletes,
 * works under the set's lock. A deleted key leaves a tombstone that a later key may reuse.
 */
final class SetTable {
    static final long EMPTY = -1, TOMB = -2;
    /** How far a key looks for its slot (a table at most half full finds it within a few). */
    static final int PROBES = 64;

    enum Added { ADDED, EXISTS, FULL }

    final int maxelem;
    private final int mask;
    private final AtomicLongArray keys;
    /** When each key expires (core nanoseconds); 0: never. */
    private final AtomicLongArray expires;
    private final AtomicLongArray packets, bytes;
    /** hash:net's per-element flags ({@link #NOMATCH}), null for the other types. */
    private final java.util.concurrent.atomic.AtomicIntegerArray flags;
    /** {@code IPSET_FLAG_NOMATCH}: a network that is excluded from the larger ones that hold it. */
    static final int NOMATCH = 1;
    private final AtomicInteger count = new AtomicInteger();

    SetTable(int maxelem, boolean counters) {
        this(maxelem, counters, false);
    }

    SetTable(int maxelem, boolean counters, boolean flagged) {
        this.maxelem = maxelem;
        int slots = Integer.highestOneBit(Math.max(16, 2 * maxelem - 1)) << 1;
        mask = slots - 1;
        keys = new AtomicLongArray(slots);
        for (int i = 0; i < slots; i++) {
            keys.set(i, EMPTY);
        }
        expires = new AtomicLongArray(slots);
        packets = counters ? new AtomicLongArray(slots) : null;
        bytes = counters ? new AtomicLongArray(slots) : null;
        flags = flagged ? new java.util.concurrent.atomic.AtomicIntegerArray(slots) : null;
    }

    /** The element's flags (0 for a set without them). */
    int flags(int slot) {
        return flags == null ? 0 : flags.get(slot);
    }

    /** What the slots take, for {@code Size in memory}. */
    long memory() {
        return (long) (mask + 1) * 8 * (packets != null ? 4 : 2) + (flags != null ? (mask + 1) * 4L : 0);
    }

    int count() {
        return count.get();
    }

    private static int hash(long k) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private static boolean live(long exp, long now) {
        return exp == 0 || exp - now > 0;
    }

    /** The slot holding the key, unexpired, or -1. */
    int find(long key, long now) {
        int i = hash(key) & mask;
        for (int p = 0; p < PROBES; p++, i = (i + 1) & mask) {
            long k = keys.get(i);
            if (k == EMPTY) {
                return -1;
            }
            if (k == key && live(expires.get(i), now)) {
                return i;
            }
        }
        return -1;
    }

    /** Counts a packet of {@code len} bytes on the key's slot (a set with counters only). */
    void count(int slot, int len) {
        if (packets != null) {
            packets.incrementAndGet(slot);
            bytes.addAndGet(slot, len);
        }
    }

    /**
     * Adds the key with its expiry ({@code 0}: never); a key there already is left as it is unless
     * {@code exist}, which renews its expiry (ipset's {@code -exist}). An expired key counts as gone.
     */
    Added add(long key, long expiry, boolean exist, long now) {
        return add(key, expiry, exist, now, 0);
    }

    /** As above with the element's flags, set before the key is published (and on a re-add with {@code exist}). */
    Added add(long key, long expiry, boolean exist, long now, int f) {
        for (int attempt = 0; attempt < 8; attempt++) {
            int i = hash(key) & mask;
            int free = -1;
            long freeWas = 0;
            for (int p = 0; p < PROBES; p++, i = (i + 1) & mask) {
                long k = keys.get(i);
                if (k == key) {
                    long exp = expires.get(i);
                    if (live(exp, now) && !exist) {
                        return Added.EXISTS;
                    }
                    boolean was = live(exp, now);
                    if (flags != null) {
                        flags.set(i, f);
                    }
                    expires.set(i, expiry);
                    if (!was) {
                        clearCounters(i); // an expired element comes back new
                    }
                    return was ? Added.EXISTS : Added.ADDED;
                }
                if (k == TOMB && free < 0) {
                    free = i;
                    freeWas = TOMB;
                }
                if (k == EMPTY) {
                    if (free < 0) {
                        free = i;
                        freeWas = EMPTY;
                    }
                    break;
                }
            }
            if (free < 0) {
                return Added.FULL;
            }
            if (count.incrementAndGet() > maxelem) {
                count.decrementAndGet();
                if (expire(now) > 0) {
                    continue;
                }
                return Added.FULL;
            }
            expires.set(free, expiry);
            if (flags != null) {
                flags.set(free, f);
            }
            clearCounters(free);
            if (keys.compareAndSet(free, freeWas, key)) {
                return Added.ADDED;
            }
            count.decrementAndGet(); // another key took the slot first: look again
        }
        return Added.FULL;
    }

    private void clearCounters(int i) {
        if (packets != null) {
            packets.set(i, 0);
            bytes.set(i, 0);
        }
    }

    /** Removes the key; false when it was not there (or had expired). */
    boolean del(long key, long now) {
        int i = hash(key) & mask;
        boolean found = false;
        for (int p = 0; p < PROBES; p++, i = (i + 1) & mask) {
            long k = keys.get(i);
            if (k == EMPTY) {
                break;
            }
            if (k == key && keys.compareAndSet(i, key, TOMB)) {
                found |= live(expires.get(i), now);
                count.decrementAndGet();
            }
        }
        return found;
    }

    /** The garbage collector's pass (ip_set_hash_gen.h's mtype_gc): expired keys become tombstones. */
    int expire(long now) {
        int n = 0;
        for (int i = 0; i <= mask; i++) {
            long k = keys.get(i);
            if (k >= 0 && !live(expires.get(i), now) && keys.compareAndSet(i, k, TOMB)) {
                count.decrementAndGet();
                n++;
            }
        }
        return n;
    }

    void flush() {
        for (int i = 0; i <= mask; i++) {
            if (keys.get(i) >= 0 && keys.getAndSet(i, EMPTY) >= 0) {
                count.decrementAndGet();
            } else {
                keys.set(i, EMPTY);
            }
        }
    }

    /** Each live element, for list and save. */
    interface Visitor {
        void element(long key, long expiry, long packets, long bytes);
    }

    /** Each live element with its flags. */
    interface FlagVisitor {
        void element(long key, long expiry, long packets, long bytes, int flags);
    }

    void forEach(long now, Visitor v) {
        forEach(now, (FlagVisitor) (k, exp, p, b, f) -> v.element(k, exp, p, b));
    }

    void forEach(long now, FlagVisitor v) {
        for (int i = 0; i <= mask; i++) {
            long k = keys.get(i);
            long exp = expires.get(i);
            if (k >= 0 && live(exp, now)) {
                v.element(k, exp, packets != null ? packets.get(i) : 0, bytes != null ? bytes.get(i) : 0, flags(i));
            }
        }
    }
}

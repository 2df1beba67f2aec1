package org.modnet.nftables;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The elements of a set with timeouts or one the packet path adds to ({@code add|update @set { ... }},
 * nft_dynset): a fixed open-addressing hash (nft_set_hash's job) that packets read and write without a
 * lock or an allocation. Each slot holds a key and the time (the ruleset's clock, nanoseconds) it expires
 * at, 0 for never: an element stops matching the moment its time passes, read on lookup, and the
 * garbage collector ({@link #collect}, on a timer of the core's wheel) then frees its slot. A key keeps its
 * slot while it lives, so it is in the table once; a freed slot is taken again by the next new key. The
 * set's {@code size} bounds the live elements: what a full set refuses is counted in {@link #refused}.
 * It belongs to the set and is shared by every version of the model, as a counter is.
 */
final class DynSet {
    /** A freed slot ({@code expiry}), and one a writer has claimed for a new key and is filling. */
    private static final long DEAD = Long.MIN_VALUE, CLAIMED = Long.MIN_VALUE + 1;

    final int width;
    /** The set's size: the most live elements (nft_dynset_init gives a set without one 65535 when a rule adds to it). */
    volatile int limit;
    private final int mask;
    private final int[] keys;
    /** Each element's own timeout in milliseconds (0: the set's), for the listing. */
    private final long[] timeouts;
    /**
     * Per slot a sequence (a seqlock, lock-free for readers): 0 never used, odd while a writer puts a key
     * in, even and non-zero while it holds one. A reader that sees it change under it reads the slot again.
     */
    private final AtomicIntegerArray seq;
    private final AtomicLongArray expiry;
    /** Slots holding an element not yet freed (expired ones too, until the collector runs), as nelems. */
    final AtomicInteger count = new AtomicInteger();
    /** Elements a full set refused from the packet path. */
    final AtomicLong refused = new AtomicLong();

    DynSet(int width, int limit) {
        this.width = width;
        this.limit = limit;
        int cap = Integer.highestOneBit(Math.max(8, limit * 2) - 1) << 1;
        mask = cap - 1;
        keys = new int[cap * width];
        timeouts = new long[cap];
        seq = new AtomicIntegerArray(cap);
        expiry = new AtomicLongArray(cap);
    }

    private boolean keyAt(int slot, int[] k, int off) {
        for (int i = 0; i < width; i++) {
            if (keys[slot * width + i] != k[off + i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean live(long e, long now) {
        return e == 0 || e != DEAD && e != CLAIMED && e - now > 0;
    }

    /** Waits out a writer of slot {@code i}: its sequence once even. */
    private int stable(int i) {
        int s = seq.get(i);
        while ((s & 1) != 0) {
            Thread.onSpinWait();
            s = seq.get(i);
        }
        return s;
    }

    /** The slot of the element whose key is in {@code k[off..]} (live or not), or -1; its expiry into {@code e[0]}. */
    private int slot(int[] k, int off, long[] e) {
        int i = SetData.hash(k, off, width) & mask;
        for (int n = 0; n <= mask; ) {
            int s = stable(i);
            if (s == 0) {
                return -1;
            }
            boolean same = keyAt(i, k, off);
            long x = expiry.get(i);
            if (seq.get(i) != s) {
                continue; // rewritten under us: read it again
            }
            if (same && x != CLAIMED) {
                if (e != null) {
                    e[0] = x;
                }
                return i;
            }
            i = (i + 1) & mask;
            n++;
        }
        return -1;
    }

    /** Whether the key in {@code k[off..]} is a live element: the packet path's lookup, no lock, no allocation. */
    boolean contains(int[] k, int off, long now) {
        int i = SetData.hash(k, off, width) & mask;
        for (int n = 0; n <= mask; ) {
            int s = stable(i);
            if (s == 0) {
                return false;
            }
            boolean same = keyAt(i, k, off);
            long x = expiry.get(i);
            if (seq.get(i) != s) {
                continue;
            }
            if (same && x != CLAIMED) {
                return live(x, now);
            }
            i = (i + 1) & mask;
            n++;
        }
        return false;
    }

    /**
     * nft_dynset's add ({@code refresh} false: an element that lives is left as it is) or update
     * ({@code refresh}: its time starts again): the key in {@code k[off..]}, expiring at {@code exp}
     * (the ruleset's clock; 0 never); {@code timeoutMs} is what the listing shows as its own timeout (0:
     * none). False, and counted, when the set is full.
     */
    boolean insert(int[] k, int off, long now, long exp, long timeoutMs, boolean refresh) {
        while (true) {
            int free = -1, freeSeq = 0;
            int i = SetData.hash(k, off, width) & mask;
            int result = -1;
            for (int n = 0; n <= mask; ) {
                int s = stable(i);
                if (s == 0) {
                    result = free >= 0 ? claimFreed(free, freeSeq, k, off, exp, timeoutMs) : claimEmpty(i, k, off, exp, timeoutMs);
                    break;
                }
                boolean same = keyAt(i, k, off);
                long e = expiry.get(i);
                if (seq.get(i) != s) {
                    continue;
                }
                if (!same || e == CLAIMED) {
                    if (free < 0 && e == DEAD) {
                        free = i;
                        freeSeq = s;
                    }
                    i = (i + 1) & mask;
                    n++;
                    continue;
                }
                result = renew(i, e, now, exp, timeoutMs, refresh);
                break;
            }
            if (result < 0 && free >= 0 && result != -2) {
                result = claimFreed(free, freeSeq, k, off, exp, timeoutMs);
            } else if (result == -1 && free < 0) {
                result = 0; // every slot holds another key
            }
            if (result == 0) {
                refused.incrementAndGet();
                return false;
            }
            if (result == 1) {
                return true;
            }
            // -2: a race lost to another writer: look again
        }
    }

    private boolean reserve() {
        if (count.incrementAndGet() > limit) {
            count.decrementAndGet();
            return false;
        }
        return true;
    }

    /** The key's own slot: 1 done, 0 full, -2 lost a race. */
    private int renew(int i, long e, long now, long exp, long timeoutMs, boolean refresh) {
        if (e != DEAD && live(e, now) && !refresh) {
            return 1;
        }
        if (e == DEAD && !reserve()) {
            return 0;
        }
        timeouts[i] = timeoutMs;
        if (expiry.compareAndSet(i, e, exp)) {
            return 1;
        }
        if (e == DEAD) {
            count.decrementAndGet();
        }
        return -2;
    }

    private int claimEmpty(int i, int[] k, int off, long exp, long timeoutMs) {
        if (!reserve()) {
            return 0;
        }
        if (!seq.compareAndSet(i, 0, 1)) {
            count.decrementAndGet();
            return -2;
        }
        fill(i, 1, k, off, exp, timeoutMs);
        return 1;
    }

    private int claimFreed(int i, int s, int[] k, int off, long exp, long timeoutMs) {
        if (!reserve()) {
            return 0;
        }
        if (!seq.compareAndSet(i, s, s + 1)) {
            count.decrementAndGet();
            return -2;
        }
        if (!expiry.compareAndSet(i, DEAD, CLAIMED)) {
            seq.set(i, s + 2); // its old key came back first: the slot is as it was
            count.decrementAndGet();
            return -2;
        }
        fill(i, s + 1, k, off, exp, timeoutMs);
        return 1;
    }

    private void fill(int i, int odd, int[] k, int off, long exp, long timeoutMs) {
        System.arraycopy(k, off, keys, i * width, width);
        timeouts[i] = timeoutMs;
        expiry.set(i, exp);
        seq.set(i, odd + 1);
    }

    /** Removes the element with key {@code k} (the control path's {@code delete element}); false when it is not there. */
    boolean remove(int[] k, long now) {
        long[] e = new long[1];
        int i = slot(k, 0, e);
        if (i < 0 || !live(e[0], now)) {
            return false;
        }
        if (expiry.compareAndSet(i, e[0], DEAD)) {
            count.decrementAndGet();
        }
        return true;
    }

    /** {@code flush set}: every element freed. */
    void clear() {
        for (int i = 0; i <= mask; i++) {
            long e = expiry.get(i);
            if (seq.get(i) != 0 && e != DEAD && e != CLAIMED && expiry.compareAndSet(i, e, DEAD)) {
                count.decrementAndGet();
            }
        }
    }

    /** The garbage collector (nft_rhash_gc): frees the slots of elements whose time has passed; returns how many. */
    int collect(long now) {
        int n = 0;
        for (int i = 0; i <= mask; i++) {
            long e = expiry.get(i);
            if (seq.get(i) != 0 && e != 0 && e != DEAD && e != CLAIMED && e - now <= 0 && expiry.compareAndSet(i, e, DEAD)) {
                count.decrementAndGet();
                n++;
            }
        }
        return n;
    }

    /** The live elements as the listing shows them: key, own timeout (ms, 0 none), expiry (0 never). */
    List<Elem> elements(long now) {
        List<Elem> out = new ArrayList<>();
        for (int i = 0; i <= mask; i++) {
            long e = expiry.get(i);
            if (seq.get(i) == 0 || (seq.get(i) & 1) != 0 || !live(e, now)) {
                continue;
            }
            long[] key = new long[width];
            for (int w = 0; w < width; w++) {
                key[w] = keys[i * width + w] & 0xffffffffL;
            }
            out.add(new Elem(key, key.clone(), null, null, timeouts[i], e));
        }
        out.sort(Elem.ORDER);
        return out;
    }
}

package org.modnet.nftables;

import java.util.Arrays;

/**
 * A set's compiled, immutable form for nft_lookup: exact 32-bit keys in an open-addressing hash
 * (nft_set_hash), or sorted disjoint inclusive ranges searched by bisection for {@code flags interval}
 * (nft_set_rbtree's job). A change builds a new one; lookups never lock or allocate.
 */
final class SetData {
    private final int[] slots;
    private final boolean[] used;
    private final int[] lo, hi;
    final int size;

    private SetData(int[] slots, boolean[] used, int[] lo, int[] hi, int size) {
        this.slots = slots;
        this.used = used;
        this.lo = lo;
        this.hi = hi;
        this.size = size;
    }

    static SetData exact(int[] keys) {
        int cap = Integer.highestOneBit(Math.max(4, keys.length * 2) - 1) << 1;
        int[] slots = new int[cap];
        boolean[] used = new boolean[cap];
        for (int k : keys) {
            int i = hash(k) & (cap - 1);
            while (used[i] && slots[i] != k) {
                i = (i + 1) & (cap - 1);
            }
            slots[i] = k;
            used[i] = true;
        }
        return new SetData(slots, used, null, null, keys.length);
    }

    /** Ranges {@code [lo[i], hi[i]]}, unsigned; overlapping ones are merged. */
    static SetData intervals(long[][] ranges) {
        long[][] r = ranges.clone();
        Arrays.sort(r, (a, b) -> Long.compare(a[0], b[0]));
        int n = 0;
        long[][] merged = new long[r.length][];
        for (long[] x : r) {
            if (n > 0 && x[0] <= merged[n - 1][1] + 1) {
                merged[n - 1] = new long[] { merged[n - 1][0], Math.max(merged[n - 1][1], x[1]) };
            } else {
                merged[n++] = x;
            }
        }
        int[] lo = new int[n], hi = new int[n];
        for (int i = 0; i < n; i++) {
            lo[i] = (int) merged[i][0];
            hi[i] = (int) merged[i][1];
        }
        return new SetData(null, null, lo, hi, ranges.length);
    }

    private static int hash(int k) {
        int h = k * 0x9e3779b9;
        return h ^ (h >>> 16);
    }

    boolean contains(int k) {
        if (slots != null) {
            int m = slots.length - 1;
            for (int i = hash(k) & m; used[i]; i = (i + 1) & m) {
                if (slots[i] == k) {
                    return true;
                }
            }
            return false;
        }
        int a = 0, b = lo.length - 1;
        while (a <= b) {
            int mid = (a + b) >>> 1;
            if (Integer.compareUnsigned(k, lo[mid]) < 0) {
                b = mid - 1;
            } else if (Integer.compareUnsigned(k, hi[mid]) > 0) {
                a = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }
}

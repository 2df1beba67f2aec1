package org.modnet.nftables;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A set's or map's compiled, immutable form for nft_lookup: exact keys of one or more 32-bit words (a
 * concatenation takes one register per part, as nf_tables lays it out) in an open-addressing hash
 * (nft_set_hash), or sorted disjoint inclusive one-word ranges searched by bisection for {@code flags
 * interval} (nft_set_rbtree's job). A map keeps each element's data words or verdict by the element's
 * index. A change builds a new one; lookups never lock or allocate.
 */
final class SetData {
    private final int width;
    private final int[] slots;
    private final boolean[] used;
    private final int[] slotIndex;
    private final int[] lo, hi, rangeIndex;
    /** A concatenation with ranges: each element's {@code width} lows and highs, searched in turn (nft_set_pipapo's job, linearly). */
    private int[] cLo, cHi, cIndex;
    /** A data map's values, {@link #dataWidth} words per element. */
    final int[] data;
    final int dataWidth;
    /** A verdict map's verdict codes and jump/goto chain indexes, per element. */
    final int[] verdicts, chains;
    final int size;

    private SetData(int width, int[] slots, boolean[] used, int[] slotIndex, int[] lo, int[] hi, int[] rangeIndex,
            int[] data, int dataWidth, int[] verdicts, int[] chains, int size) {
        this.width = width;
        this.slots = slots;
        this.used = used;
        this.slotIndex = slotIndex;
        this.lo = lo;
        this.hi = hi;
        this.rangeIndex = rangeIndex;
        this.data = data;
        this.dataWidth = dataWidth;
        this.verdicts = verdicts;
        this.chains = chains;
        this.size = size;
    }

    /**
     * The set or map of {@code elems}, keys {@code width} words, data {@code dataWidth} words;
     * {@code chains} resolves a verdict's chain name to its index (null: not a verdict map). In a set,
     * overlapping ranges merge; in a map each range keeps its element (nft refuses overlaps there).
     */
    static SetData build(List<Elem> elems, boolean interval, int width, int dataWidth, Map<String, Integer> chains) {
        int n = elems.size();
        boolean map = dataWidth > 0 || chains != null;
        int[] data = dataWidth > 0 ? new int[n * dataWidth] : null;
        int[] verdicts = chains != null ? new int[n] : null;
        int[] targets = chains != null ? new int[n] : null;
        for (int i = 0; i < n; i++) {
            Elem e = elems.get(i);
            for (int d = 0; d < dataWidth; d++) {
                data[i * dataWidth + d] = (int) e.data()[d];
            }
            if (chains != null) {
                verdicts[i] = e.verdict().code();
                targets[i] = e.verdict().chain() == null ? -1 : chains.getOrDefault(e.verdict().chain(), -1);
            }
        }
        if (interval && width > 1) {
            int[] clo = new int[n * width], chi = new int[n * width], cidx = new int[n];
            for (int i = 0; i < n; i++) {
                for (int w = 0; w < width; w++) {
                    clo[i * width + w] = (int) elems.get(i).lo()[w];
                    chi[i * width + w] = (int) elems.get(i).hi()[w];
                }
                cidx[i] = i;
            }
            SetData d = new SetData(width, null, null, null, null, null, null, data, dataWidth, verdicts, targets, n);
            d.cLo = clo;
            d.cHi = chi;
            d.cIndex = cidx;
            return d;
        }
        if (interval && width == 1) {
            List<long[]> r = new ArrayList<>(); // lo, hi, element index
            for (int i = 0; i < n; i++) {
                r.add(new long[] { elems.get(i).lo()[0], elems.get(i).hi()[0], i });
            }
            r.sort((a, b) -> Long.compare(a[0], b[0]));
            List<long[]> merged = new ArrayList<>();
            for (long[] x : r) {
                long[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
                if (!map && last != null && x[0] <= last[1] + 1) {
                    last[1] = Math.max(last[1], x[1]);
                } else {
                    merged.add(x.clone());
                }
            }
            int m = merged.size();
            int[] lo = new int[m], hi = new int[m], idx = new int[m];
            for (int i = 0; i < m; i++) {
                lo[i] = (int) merged.get(i)[0];
                hi[i] = (int) merged.get(i)[1];
                idx[i] = (int) merged.get(i)[2];
            }
            return new SetData(1, null, null, null, lo, hi, idx, data, dataWidth, verdicts, targets, n);
        }
        int cap = Integer.highestOneBit(Math.max(4, n * 2) - 1) << 1;
        int[] slots = new int[cap * width];
        boolean[] used = new boolean[cap];
        int[] slotIndex = new int[cap];
        int[] key = new int[width];
        for (int i = 0; i < n; i++) {
            Elem e = elems.get(i);
            for (int w = 0; w < width; w++) {
                key[w] = (int) e.lo()[w];
            }
            int s = hash(key, 0, width) & (cap - 1);
            while (used[s] && !equal(slots, s * width, key, 0, width)) {
                s = (s + 1) & (cap - 1);
            }
            System.arraycopy(key, 0, slots, s * width, width);
            used[s] = true;
            slotIndex[s] = i;
        }
        return new SetData(width, slots, used, slotIndex, null, null, null, data, dataWidth, verdicts, targets, n);
    }

    /** The slot hash of a key of {@code width} words at {@code off}: the sets' and the packet path's dynamic sets' ({@link DynSet}). */
    static int hash(int[] k, int off, int width) {
        int h = 0;
        for (int i = 0; i < width; i++) {
            h = (h ^ k[off + i]) * 0x9e3779b9;
            h ^= h >>> 16;
        }
        return h;
    }

    private static boolean equal(int[] a, int ao, int[] b, int bo, int width) {
        for (int i = 0; i < width; i++) {
            if (a[ao + i] != b[bo + i]) {
                return false;
            }
        }
        return true;
    }

    /** The index of the element whose key is in {@code regs[sreg..]}, or -1. */
    int find(int[] regs, int sreg) {
        if (slots != null) {
            int m = used.length - 1;
            if (width == 1) { // one word (an address, a port): no loop over the key's words
                int k = regs[sreg];
                int h = k * 0x9e3779b9;
                for (int i = (h ^ h >>> 16) & m; used[i]; i = (i + 1) & m) {
                    if (slots[i] == k) {
                        return slotIndex[i];
                    }
                }
                return -1;
            }
            for (int i = hash(regs, sreg, width) & m; used[i]; i = (i + 1) & m) {
                if (equal(slots, i * width, regs, sreg, width)) {
                    return slotIndex[i];
                }
            }
            return -1;
        }
        if (cLo != null) {
            for (int e = 0; e < cIndex.length; e++) {
                boolean in = true;
                for (int w = 0; w < width && in; w++) {
                    int k = regs[sreg + w];
                    in = Integer.compareUnsigned(k, cLo[e * width + w]) >= 0 && Integer.compareUnsigned(k, cHi[e * width + w]) <= 0;
                }
                if (in) {
                    return cIndex[e];
                }
            }
            return -1;
        }
        int k = regs[sreg];
        int a = 0, b = lo.length - 1;
        while (a <= b) {
            int mid = (a + b) >>> 1;
            if (Integer.compareUnsigned(k, lo[mid]) < 0) {
                b = mid - 1;
            } else if (Integer.compareUnsigned(k, hi[mid]) > 0) {
                a = mid + 1;
            } else {
                return rangeIndex[mid];
            }
        }
        return -1;
    }
}

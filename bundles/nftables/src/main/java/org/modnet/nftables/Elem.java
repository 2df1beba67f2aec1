package org.modnet.nftables;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A set or map element as nft reads and lists it: its key (one value per part of a concatenation, an
 * inclusive {@code lo..hi} range for the one part of an interval set) and, in a map, its data (one value
 * per part) or, in a verdict map, its verdict.
 */
record Elem(long[] lo, long[] hi, long[] data, Stmt.Verdict verdict, long timeout, long expires) {
    /** An element without a timeout of its own ({@code timeout}: milliseconds, 0 none) that never expires ({@code expires}: the ruleset's clock in nanoseconds, 0 never). */
    Elem(long[] lo, long[] hi, long[] data, Stmt.Verdict verdict) {
        this(lo, hi, data, verdict, 0, 0);
    }

    static Elem of(long lo, long hi) {
        return new Elem(new long[] { lo }, new long[] { hi }, null, null);
    }

    boolean range() {
        return !Arrays.equals(lo, hi);
    }

    boolean sameKey(Elem o) {
        return Arrays.equals(lo, o.lo) && Arrays.equals(hi, o.hi);
    }

    boolean sameData(Elem o) {
        return Arrays.equals(data, o.data) && java.util.Objects.equals(verdict, o.verdict);
    }

    /** nft's listing order: by key, part by part. */
    static final Comparator<Elem> ORDER = (a, b) -> {
        for (int i = 0; i < a.lo.length && i < b.lo.length; i++) {
            int c = Long.compare(a.lo[i], b.lo[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.lo.length, b.lo.length);
    };

    /** {@code KEY[ : DATA]} as nft lists it. */
    String print(List<Stmt.Type> key, List<Stmt.Type> dataTypes) {
        return print(key, dataTypes, 0, 0);
    }

    /**
     * {@code KEY [timeout T] [expires E][ : DATA]} as nft lists it: the element's own timeout where it is
     * not the set's ({@code setTimeout}, ms), the time left until {@code now} reaches its expiry.
     */
    String print(List<Stmt.Type> key, List<Stmt.Type> dataTypes, long setTimeout, long now) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < lo.length; i++) {
            Stmt.Type t = key.get(i);
            b.append(i > 0 ? " . " : "").append(Values.print(t, lo[i]));
            if (hi[i] != lo[i]) {
                b.append(Values.printRange(t, new long[] { lo[i], hi[i] }));
            }
        }
        if (timeout != 0 && timeout != setTimeout) {
            b.append(" timeout ").append(Values.time(timeout));
        }
        if (expires != 0) {
            b.append(" expires ").append(Values.time(Math.max(0, (expires - now) / 1_000_000)));
        }
        if (verdict != null) {
            b.append(" : ").append(verdict.print());
        } else if (data != null) {
            b.append(" : ");
            for (int i = 0; i < data.length; i++) {
                b.append(i > 0 ? " . " : "").append(Values.print(dataTypes.get(i), data[i]));
            }
        }
        return b.toString();
    }
}

package org.modnet.capture;

import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.modnet.capture.FilterCode.Expr;
import org.modnet.capture.FilterCode.Node;
import org.modnet.capture.FilterCode.Op;
import org.modnet.capture.FilterCode.Test;

/**
 * What libpcap's optimiser does for tcpdump, in spirit: a test whose outcome the way to it already
 * decided is jumped over (after "ethertype is 0x800" held, the next {@code host}'s same test holds and
 * its "is it 0x806" fails), blocks that test the same thing and go to the same places become one,
 * blocks no way reaches are gone, and a jump to a block that only passes on goes where it passes to.
 * Loading a value a way in has loaded already is left out when the graph is laid out
 * ({@link FilterCode#emit}). A chain of N {@code host} terms keeps about four jumps per term.
 */
final class FilterOptimizer {
    private FilterOptimizer() {
    }

    /** At most this many excluded values are remembered per value: a long "or" of hosts stays linear. */
    static final int EXCLUDED = 16;

    /** The optimised graph's entry; the blocks are changed in place. */
    static Node optimise(Node root) {
        Node r = root;
        for (int round = 0; round < 4; round++) {
            int before = FilterCode.topological(r).size();
            r = thread(r);
            r = merge(r);
            if (FilterCode.topological(r).size() == before && round > 0) {
                break;
            }
        }
        return r;
    }

    /**
     * Jump threading: walks the blocks, each before those it jumps to, with what holds on every way into
     * each (the outcomes of the tests on the way); a jump to a block whose test those decide goes on to
     * where that outcome leads, as far as they decide.
     */
    static Node thread(Node root) {
        if (!root.isTest()) {
            return root;
        }
        List<Node> order = FilterCode.topological(root);
        IdentityHashMap<Node, Facts> in = new IdentityHashMap<>();
        in.put(root, Facts.NONE);
        for (Node n : order) {
            Facts f = in.get(n);
            if (f == null) {
                continue; // every way here was threaded past it
            }
            for (boolean outcome : new boolean[] { true, false }) {
                Facts g = f.with(n.test, outcome);
                Node t = n.succ(outcome);
                while (t.isTest()) {
                    int d = g.decide(t.test);
                    if (d < 0) {
                        break;
                    }
                    t = t.succ(d == 1);
                }
                if (outcome) {
                    n.jt = t;
                } else {
                    n.jf = t;
                }
                if (t.isTest()) {
                    Facts had = in.get(t);
                    in.put(t, had == null ? g : had.join(g));
                }
            }
        }
        return root;
    }

    /** Blocks with the same test and the same places to go become one; a test going one place either way goes. */
    static Node merge(Node root) {
        if (!root.isTest()) {
            return root;
        }
        List<Node> order = FilterCode.topological(root);
        IdentityHashMap<Node, Node> canon = new IdentityHashMap<>();
        record Key(Test test, Node jt, Node jf) {
            @Override
            public boolean equals(Object o) {
                return o instanceof Key k && k.test.equals(test) && k.jt == jt && k.jf == jf;
            }

            @Override
            public int hashCode() {
                return test.hashCode() * 31 + System.identityHashCode(jt) * 17 + System.identityHashCode(jf);
            }
        }
        Map<Key, Node> made = new HashMap<>();
        for (int i = order.size() - 1; i >= 0; i--) {
            Node n = order.get(i);
            n.jt = canon.getOrDefault(n.jt, n.jt);
            n.jf = canon.getOrDefault(n.jf, n.jf);
            if (n.jt == n.jf) {
                canon.put(n, n.jt);
                continue;
            }
            Node same = made.putIfAbsent(new Key(n.test, n.jt, n.jf), n);
            canon.put(n, same == null ? n : same);
        }
        return canon.getOrDefault(root, root);
    }

    /** What is known of a value: it lies in [lo, hi] and is none of {@code ex}. */
    record Range(long lo, long hi, long[] ex) {
        static Range of(Expr e) {
            return new Range(0, e.max(), new long[0]);
        }

        boolean empty() {
            return lo > hi;
        }

        boolean excluded(long v) {
            return v < lo || v > hi || Arrays.binarySearch(ex, v) >= 0;
        }

        Range with(Op op, long k, boolean holds) {
            return switch (op) {
                case EQ -> holds ? new Range(Math.max(lo, k), Math.min(hi, k), ex) : without(k);
                case GT -> holds ? new Range(Math.max(lo, k + 1), hi, ex) : new Range(lo, Math.min(hi, k), ex);
                case GE -> holds ? new Range(Math.max(lo, k), hi, ex) : new Range(lo, Math.min(hi, k - 1), ex);
            };
        }

        private Range without(long k) {
            if (k == lo) {
                return new Range(lo + 1, hi, ex);
            }
            if (k == hi) {
                return new Range(lo, hi - 1, ex);
            }
            if (excluded(k) || ex.length >= EXCLUDED) {
                return this;
            }
            long[] e = Arrays.copyOf(ex, ex.length + 1);
            e[ex.length] = k;
            Arrays.sort(e);
            return new Range(lo, hi, e);
        }

        /** 1 when every value known holds for the test, 0 when none does, -1 when it depends. */
        int decide(Op op, long k) {
            if (empty()) {
                return -1; // no frame comes this way; leave it be
            }
            return switch (op) {
                case EQ -> lo == k && hi == k ? 1 : excluded(k) ? 0 : -1;
                case GT -> lo > k ? 1 : hi <= k ? 0 : -1;
                case GE -> lo >= k ? 1 : hi < k ? 0 : -1;
            };
        }

        /** What is known when one came either way. */
        Range join(Range o) {
            if (empty()) {
                return o;
            }
            if (o.empty()) {
                return this;
            }
            long l = Math.min(lo, o.lo);
            long h = Math.max(hi, o.hi);
            long[] e = Arrays.stream(ex).filter(o::excluded).toArray();
            long[] f = Arrays.stream(o.ex).filter(this::excluded).toArray();
            long[] both = java.util.stream.LongStream.concat(Arrays.stream(e), Arrays.stream(f)).filter(v -> v > l && v < h)
                    .distinct().sorted().limit(EXCLUDED).toArray();
            return new Range(l, h, both);
        }
    }

    /**
     * The outcomes known on a way: per value, its range; a test against the length of something else
     * is keyed by itself, its range being 0 (failed) or 1 (held).
     */
    record Facts(Map<Object, Range> known) {
        static final Facts NONE = new Facts(Map.of());

        Facts with(Test t, boolean holds) {
            Map<Object, Range> m = new HashMap<>(known);
            if (t.rhs() != null) {
                m.put(t, new Range(holds ? 1 : 0, holds ? 1 : 0, new long[0]));
            } else {
                m.put(t.e(), m.getOrDefault(t.e(), Range.of(t.e())).with(t.op(), t.k(), holds));
            }
            return new Facts(m);
        }

        int decide(Test t) {
            if (t.rhs() != null) {
                Range r = known.get(t);
                return r == null || r.lo != r.hi ? -1 : (int) r.lo;
            }
            Range r = known.get(t.e());
            return r == null ? Range.of(t.e()).decide(t.op(), t.k()) : r.decide(t.op(), t.k());
        }

        Facts join(Facts o) {
            Map<Object, Range> m = new HashMap<>();
            for (Map.Entry<Object, Range> e : known.entrySet()) {
                Range other = o.known.get(e.getKey());
                if (other != null) {
                    m.put(e.getKey(), e.getValue().join(other));
                }
            }
            return new Facts(m);
        }
    }
}

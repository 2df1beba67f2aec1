package org.modnet.capture;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled tcpdump filter before it is eBPF: a graph of blocks, as libpcap's code generator makes
 * them, each of which loads one value of the frame and tests it, going to one block when the test
 * holds and another when it does not, down to the two ends "keep" and "drop". The values are pure
 * functions of the frame (an offset, the frame's length, an offset past the IPv4 header), so a
 * value tested once means the same wherever it is tested again — what {@link FilterOptimizer} uses.
 * {@link #emit} lays the graph out as eBPF assembler text.
 */
final class FilterCode {
    private FilterCode() {
    }

    enum Kind {
        /** The frame's length (r7). */
        LEN,
        /** {@code size} bytes at {@code off}, big-endian, shifted right by {@code shift}, masked. */
        ABS,
        /** The IPv4 header's length in bytes plus {@code off}. */
        IHL_END,
        /** {@code size} bytes, big-endian, at {@code off} past the IPv4 header. */
        IND
    }

    /** A value of the frame. */
    record Expr(Kind kind, int size, int off, int shift, long mask) {
        static final Expr LEN = new Expr(Kind.LEN, 4, 0, 0, 0xffffffffL);

        static Expr abs(int size, int off) {
            return new Expr(Kind.ABS, size, off, 0, 0xffffffffL);
        }

        static Expr abs(int size, int off, int shift, long mask) {
            return new Expr(Kind.ABS, size, off, shift, mask & 0xffffffffL);
        }

        static Expr ihlEnd(int off) {
            return new Expr(Kind.IHL_END, 1, off, 0, 0xffffffffL);
        }

        static Expr ind(int size, int off) {
            return new Expr(Kind.IND, size, off, 0, 0xffffffffL);
        }

        /** The largest value it can have. */
        long max() {
            return switch (kind) {
                case LEN -> 0xffffffffL;
                case ABS -> ((size == 4 ? 0xffffffffL : (1L << (8 * size)) - 1) >>> shift) & mask;
                case IHL_END -> 60 + off;
                case IND -> (1L << (8 * size)) - 1;
            };
        }
    }

    enum Op {
        EQ("jeq", "jne"), GT("jgt", "jle"), GE("jge", "jlt");

        final String yes;
        final String no;

        Op(String yes, String no) {
            this.yes = yes;
            this.no = no;
        }
    }

    /** {@code e op k}, or {@code e op len} when {@code vsLen}; k is unsigned 32-bit. */
    record Test(Expr e, Op op, long k, boolean vsLen) {
    }

    /**
     * A block: a test and where it goes, or an end (keep/drop). While the graph is built, a block may
     * stand for one not made yet ({@link #alias}), resolved by {@link #resolve}.
     */
    static final class Node {
        final Test test;
        Node jt;
        Node jf;
        final boolean end;
        final boolean keep;
        Node alias;

        /** A place for a block not made yet. */
        Node() {
            this(null, null, null, false, false);
        }

        Node(Test test, Node jt, Node jf) {
            this(test, jt, jf, false, false);
        }

        private Node(Test test, Node jt, Node jf, boolean end, boolean keep) {
            this.test = test;
            this.jt = jt;
            this.jf = jf;
            this.end = end;
            this.keep = keep;
        }

        static Node end(boolean keep) {
            return new Node(null, null, null, true, keep);
        }

        boolean isTest() {
            return test != null;
        }

        Node succ(boolean outcome) {
            return outcome ? jt : jf;
        }
    }

    private static Node follow(Node n) {
        Node x = n;
        while (x.alias != null) {
            x = x.alias;
        }
        // shorten the chain for later look-ups
        Node y = n;
        while (y.alias != null) {
            Node next = y.alias;
            y.alias = x;
            y = next;
        }
        return x;
    }

    /** Replaces places by the blocks made for them; returns the entry block. */
    static Node resolve(Node root) {
        Node r = follow(root);
        ArrayDeque<Node> work = new ArrayDeque<>();
        IdentityHashMap<Node, Boolean> seen = new IdentityHashMap<>();
        work.push(r);
        seen.put(r, true);
        while (!work.isEmpty()) {
            Node n = work.pop();
            if (!n.isTest()) {
                continue;
            }
            n.jt = follow(n.jt);
            n.jf = follow(n.jf);
            for (Node s : new Node[] { n.jt, n.jf }) {
                if (seen.put(s, true) == null) {
                    work.push(s);
                }
            }
        }
        return r;
    }

    /** The test blocks reachable from root, each before the blocks it jumps to (no recursion: chains are long). */
    static List<Node> topological(Node root) {
        List<Node> post = new ArrayList<>();
        IdentityHashMap<Node, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        ArrayDeque<Integer> state = new ArrayDeque<>();
        if (!root.isTest()) {
            return post;
        }
        stack.push(root);
        state.push(0);
        seen.put(root, true);
        while (!stack.isEmpty()) {
            Node n = stack.peek();
            int s = state.pop();
            if (s < 2) {
                state.push(s + 1);
                Node next = s == 0 ? n.jt : n.jf;
                if (next.isTest() && seen.put(next, true) == null) {
                    stack.push(next);
                    state.push(0);
                }
            } else {
                stack.pop();
                post.add(n);
            }
        }
        java.util.Collections.reverse(post);
        return post;
    }

    /** One line of assembler; a jump names its target block (or end) so it can be laid out. */
    private record Line(String label, String text, String mnemonic, String operands, String target) {
        boolean conditional() {
            return target != null && !mnemonic.startsWith("ja");
        }
    }

    private static final Map<String, String> NEGATED = new HashMap<>();

    static {
        for (Op op : Op.values()) {
            NEGATED.put(op.yes, op.no);
            NEGATED.put(op.no, op.yes);
        }
    }

    /** Registers that keep a value for later blocks; r2 is the scratch one, r6/r7 the frame and its length. */
    private static final int[] KEEP = { 3, 4, 5, 8, 9, 0, 1 };

    /**
     * The graph as eBPF assembler, one instruction a line: r6 the frame, r7 its length. With
     * {@code keepValues}, each of the most tested values has a register of its own and is loaded
     * only where no way in has loaded it already; else every block loads its value into r3.
     */
    static String emit(Node root, boolean keepValues) {
        List<Node> order = layout(root);
        Map<Expr, Integer> reg = new HashMap<>();
        if (keepValues) {
            Map<Expr, Integer> uses = new HashMap<>();
            for (Node n : order) {
                if (n.test.e().kind() != Kind.LEN) {
                    uses.merge(n.test.e(), 1, Integer::sum);
                }
            }
            List<Expr> byUse = new ArrayList<>(uses.keySet());
            byUse.sort(Comparator.comparing((Expr e) -> -uses.get(e)).thenComparing(Expr::toString));
            for (int i = 0; i < byUse.size() && i < KEEP.length; i++) {
                reg.put(byUse.get(i), i);
            }
        }
        // which kept values are in their registers on every way into a block
        IdentityHashMap<Node, Integer> avail = new IdentityHashMap<>();
        for (Node n : order) {
            int in = avail.getOrDefault(n, 0);
            Integer r = reg.get(n.test.e());
            int out = r == null ? in : in | (1 << r);
            for (Node s : new Node[] { n.jt, n.jf }) {
                if (s.isTest()) {
                    avail.merge(s, out, (a, b) -> a & b);
                }
            }
        }
        if (!order.isEmpty()) {
            avail.put(order.get(0), 0); // nothing is loaded on entry
        }
        IdentityHashMap<Node, String> labels = new IdentityHashMap<>();
        for (int i = 0; i < order.size(); i++) {
            labels.put(order.get(i), "L" + i);
        }
        List<Line> lines = new ArrayList<>();
        lines.add(plain(null, "mov %r6, %r1"));
        lines.add(plain(null, "mov %r7, %r2"));
        if (order.isEmpty()) {
            lines.add(jump(null, "ja", "", target(root, labels)));
        }
        for (int i = 0; i < order.size(); i++) {
            Node n = order.get(i);
            String next = i + 1 < order.size() ? labels.get(order.get(i + 1)) : "match";
            String label = labels.get(n);
            Test t = n.test;
            String r;
            if (t.e().kind() == Kind.LEN) {
                r = "%r7";
            } else {
                Integer k = reg.get(t.e());
                r = "%r" + (k == null ? (keepValues ? 2 : 3) : KEEP[k]);
                if (k == null || (avail.get(n) & (1 << k)) == 0) {
                    for (String s : load(t.e(), r)) {
                        lines.add(plain(label, s));
                        label = null;
                    }
                }
            }
            String wide = t.vsLen() || t.k() <= Integer.MAX_VALUE ? "" : "32";
            String operands = r + ", " + (t.vsLen() ? "%r7" : Long.toString((int) t.k())) + ", ";
            String jt = target(n.jt, labels);
            String jf = target(n.jf, labels);
            if (jf.equals(next)) {
                lines.add(jump(label, t.op().yes + wide, operands, jt));
            } else if (jt.equals(next)) {
                lines.add(jump(label, t.op().no + wide, operands, jf));
            } else {
                lines.add(jump(label, t.op().yes + wide, operands, jt));
                lines.add(jump(null, "ja", "", jf));
            }
        }
        lines.add(plain("match", "mov %r0, 1"));
        lines.add(plain(null, "exit"));
        lines.add(plain("miss", "mov %r0, 0"));
        lines.add(plain(null, "exit"));
        lines = farJumps(lines);
        StringBuilder sb = new StringBuilder();
        for (Line l : lines) {
            if (l.label() != null) {
                sb.append(l.label()).append(":\n");
            }
            if (l.target() == null) {
                sb.append(l.text()).append('\n');
            } else {
                sb.append(l.mnemonic()).append(' ').append(l.operands()).append(l.target()).append('\n');
            }
        }
        return sb.toString();
    }

    private static String target(Node n, Map<Node, String> labels) {
        return n.isTest() ? labels.get(n) : n.keep ? "match" : "miss";
    }

    private static Line plain(String label, String text) {
        return new Line(label, text, null, null, null);
    }

    private static Line jump(String label, String mnemonic, String operands, String target) {
        return new Line(label, null, mnemonic, operands, target);
    }

    /**
     * A jump's offset has 16 bits: one that reaches further becomes the opposite test over a
     * {@code ja32}, whose offset has 32. Repeated until every jump reaches (each change only adds).
     */
    private static List<Line> farJumps(List<Line> lines) {
        List<Line> cur = lines;
        while (true) {
            Map<String, Integer> at = new HashMap<>();
            for (int i = 0; i < cur.size(); i++) {
                String l = cur.get(i).label();
                if (l != null) {
                    at.put(l, i);
                }
            }
            List<Line> out = new ArrayList<>(cur.size());
            boolean changed = false;
            for (int i = 0; i < cur.size(); i++) {
                Line l = cur.get(i);
                if (l.target() == null || l.mnemonic().equals("ja32")) {
                    out.add(l);
                    continue;
                }
                Integer to = at.get(l.target());
                long off = to == null ? 0 : (long) to - i - 1; // a number (+1) is near
                if (off <= Short.MAX_VALUE && off >= Short.MIN_VALUE) {
                    out.add(l);
                } else if (l.conditional()) {
                    String m = l.mnemonic();
                    boolean wide = m.endsWith("32");
                    String base = wide ? m.substring(0, m.length() - 2) : m;
                    out.add(new Line(l.label(), null, NEGATED.get(base) + (wide ? "32" : ""), l.operands(), "+1"));
                    out.add(new Line(null, null, "ja32", "", l.target()));
                    changed = true;
                } else {
                    out.add(new Line(l.label(), null, "ja32", "", l.target()));
                    changed = true;
                }
            }
            if (!changed) {
                return out;
            }
            cur = out;
        }
    }

    /** Test blocks in an order where every jump goes forward, each block's "else" next where it can be. */
    private static List<Node> layout(Node root) {
        List<Node> topo = topological(root);
        IdentityHashMap<Node, Integer> preds = new IdentityHashMap<>();
        for (Node n : topo) {
            preds.putIfAbsent(n, 0);
            for (Node s : new Node[] { n.jt, n.jf }) {
                if (s.isTest()) {
                    preds.merge(s, 1, Integer::sum);
                }
            }
        }
        List<Node> order = new ArrayList<>(topo.size());
        ArrayDeque<Node> ready = new ArrayDeque<>();
        if (root.isTest()) {
            ready.push(root);
        }
        while (!ready.isEmpty()) {
            Node n = ready.pop();
            order.add(n);
            for (Node s : new Node[] { n.jt, n.jf }) { // jf pushed last: laid out next when it can be
                if (s.isTest() && preds.merge(s, -1, Integer::sum) == 0) {
                    ready.push(s);
                }
            }
        }
        return order;
    }

    /** The instructions that put the value in register r. */
    private static List<String> load(Expr e, String r) {
        List<String> out = new ArrayList<>();
        String size = e.size() == 1 ? "b" : e.size() == 2 ? "h" : "w";
        switch (e.kind()) {
            case ABS -> {
                out.add("ldx" + size + " " + r + ", [%r6+" + e.off() + "]");
                if (e.size() > 1) {
                    out.add("be" + e.size() * 8 + " " + r);
                }
                if (e.shift() != 0) {
                    out.add("rsh " + r + ", " + e.shift());
                }
                long full = e.size() == 4 ? 0xffffffffL : (1L << (8 * e.size())) - 1;
                if ((e.mask() & full) != full) {
                    out.add("and32 " + r + ", " + (int) e.mask());
                }
            }
            case IHL_END -> {
                out.add("ldxb " + r + ", [%r6+14]");
                out.add("and " + r + ", 0xf");
                out.add("lsh " + r + ", 2");
                out.add("add " + r + ", " + e.off());
            }
            case IND -> {
                out.add("ldxb " + r + ", [%r6+14]");
                out.add("and " + r + ", 0xf");
                out.add("lsh " + r + ", 2");
                out.add("add " + r + ", %r6");
                out.add("ldx" + size + " " + r + ", [" + r + "+" + (14 + e.off()) + "]");
                if (e.size() > 1) {
                    out.add("be" + e.size() * 8 + " " + r);
                }
            }
            case LEN -> throw new IllegalStateException("the length is in r7");
        }
        return out;
    }
}

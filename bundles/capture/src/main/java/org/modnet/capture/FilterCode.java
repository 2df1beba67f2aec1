package org.modnet.capture;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.modnet.capture.FilterTree.Val;

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
        /** The IPv4 header's length in bytes (the header at {@code base}) plus {@code off}. */
        IHL_END,
        /** {@code size} bytes, big-endian, at {@code off} past the IPv4 header's length (the header at {@code base}), masked. */
        IND,
        /** Any arithmetic of the frame ({@code val}): computed by code that rejects the frame on a load past its end. */
        ARITH
    }

    /** A value of the frame. */
    record Expr(Kind kind, int size, int off, int shift, long mask, int base, Val val) {
        static final Expr LEN = new Expr(Kind.LEN, 4, 0, 0, 0xffffffffL, 0, FilterTree.Len.LEN);

        static Expr abs(int size, int off) {
            return abs(size, off, 0, 0xffffffffL);
        }

        static Expr abs(int size, int off, int shift, long mask) {
            Val v = new FilterTree.Load(new FilterTree.Num(off), size);
            if (shift != 0) {
                v = new FilterTree.Bin('r', v, new FilterTree.Num(shift));
            }
            if ((mask & 0xffffffffL) != 0xffffffffL) {
                v = new FilterTree.Bin('&', v, new FilterTree.Num(mask & 0xffffffffL));
            }
            return new Expr(Kind.ABS, size, off, shift, mask & 0xffffffffL, 0, v);
        }

        static Expr ihlEnd(int base, int off) {
            return new Expr(Kind.IHL_END, 1, off, 0, 0xffffffffL, base,
                    new FilterTree.Bin('+', new FilterTree.Ihl(base), new FilterTree.Num(off)));
        }

        static Expr ind(int size, int base, int off, long mask) {
            Val v = new FilterTree.Load(new FilterTree.Bin('+', new FilterTree.Ihl(base), new FilterTree.Num(off)), size);
            if ((mask & 0xffffffffL) != 0xffffffffL) {
                v = new FilterTree.Bin('&', v, new FilterTree.Num(mask & 0xffffffffL));
            }
            return new Expr(Kind.IND, size, off, 0, mask & 0xffffffffL, base, v);
        }

        static Expr arith(Val v) {
            return new Expr(Kind.ARITH, 4, 0, 0, 0xffffffffL, 0, v);
        }

        /** The largest value it can have. */
        long max() {
            return switch (kind) {
                case LEN, ARITH -> 0xffffffffL;
                case ABS -> ((size == 4 ? 0xffffffffL : (1L << (8 * size)) - 1) >>> shift) & mask;
                case IHL_END -> 60 + off;
                case IND -> ((size == 4 ? 0xffffffffL : (1L << (8 * size)) - 1)) & mask;
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

    /** {@code e op k}, or {@code e op rhs} when rhs is not null (the frame's length, or another value); k is unsigned 32-bit. */
    record Test(Expr e, Op op, long k, Expr rhs) {
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

    /**
     * Registers that keep a value for later blocks; r2 is the scratch one, r1 and r2 (with the stack)
     * the arithmetic's, r6/r7 the frame and its length.
     */
    private static final int[] KEEP = { 3, 4, 5, 8, 9, 0 };

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
                if (n.test.e().kind() != Kind.LEN && !general(n.test)) {
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
            Integer r = general(n.test) ? null : reg.get(n.test.e());
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
            String against;
            if (general(t)) {
                // e op rhs, both computed: rhs first, kept on the stack while e is
                List<Line> code = new ArrayList<>();
                arith(t.rhs().val(), 0, code);
                code.add(plain(null, "stxdw [%r10-8], %r1"));
                arith(t.e().val(), 1, code);
                code.add(plain(null, "ldxdw %r2, [%r10-8]"));
                label = addAll(lines, label, code);
                r = "%r1";
                against = "%r2";
            } else {
                if (t.e().kind() == Kind.LEN) {
                    r = "%r7";
                } else {
                    Integer k = reg.get(t.e());
                    r = "%r" + (k == null ? (keepValues ? 2 : 3) : KEEP[k]);
                    if (k == null || (avail.get(n) & (1 << k)) == 0) {
                        label = addAll(lines, label, load(t.e(), r));
                    }
                }
                against = t.rhs() != null ? "%r7" : Long.toString((int) t.k());
            }
            String wide = t.rhs() != null || t.k() <= Integer.MAX_VALUE ? "" : "32";
            String operands = r + ", " + against + ", ";
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

    /** Whether a test compares two computed values (not a constant, not the length). */
    private static boolean general(Test t) {
        return t.rhs() != null && t.rhs().kind() != Kind.LEN;
    }

    /** Appends the code, the first line taking the label; returns the label still to place (null once placed). */
    private static String addAll(List<Line> lines, String label, List<Line> code) {
        String l = label;
        for (Line c : code) {
            lines.add(l == null || c.label() != null ? c : new Line(l, c.text(), c.mnemonic(), c.operands(), c.target()));
            l = null;
        }
        return l;
    }

    /** The instructions that put the value in register r. */
    private static List<Line> load(Expr e, String r) {
        List<Line> out = new ArrayList<>();
        String size = e.size() == 1 ? "b" : e.size() == 2 ? "h" : "w";
        switch (e.kind()) {
            case ABS -> {
                out.add(plain(null, "ldx" + size + " " + r + ", [%r6+" + e.off() + "]"));
                if (e.size() > 1) {
                    out.add(plain(null, "be" + e.size() * 8 + " " + r));
                }
                if (e.shift() != 0) {
                    out.add(plain(null, "rsh " + r + ", " + e.shift()));
                }
                long full = e.size() == 4 ? 0xffffffffL : (1L << (8 * e.size())) - 1;
                if ((e.mask() & full) != full) {
                    out.add(plain(null, "and32 " + r + ", " + (int) e.mask()));
                }
            }
            case IHL_END -> {
                out.add(plain(null, "ldxb " + r + ", [%r6+" + e.base() + "]"));
                out.add(plain(null, "and " + r + ", 0xf"));
                out.add(plain(null, "lsh " + r + ", 2"));
                out.add(plain(null, "add " + r + ", " + e.off()));
            }
            case IND -> {
                out.add(plain(null, "ldxb " + r + ", [%r6+" + e.base() + "]"));
                out.add(plain(null, "and " + r + ", 0xf"));
                out.add(plain(null, "lsh " + r + ", 2"));
                out.add(plain(null, "add " + r + ", %r6"));
                out.add(plain(null, "ldx" + size + " " + r + ", [" + r + "+" + e.off() + "]"));
                if (e.size() > 1) {
                    out.add(plain(null, "be" + e.size() * 8 + " " + r));
                }
                long full = e.size() == 4 ? 0xffffffffL : (1L << (8 * e.size())) - 1;
                if ((e.mask() & full) != full) {
                    out.add(plain(null, "and32 " + r + ", " + (int) e.mask()));
                }
            }
            case ARITH -> {
                arith(e.val(), 0, out);
                if (!r.equals("%r1")) {
                    out.add(plain(null, "mov " + r + ", %r1"));
                }
            }
            case LEN -> throw new IllegalStateException("the length is in r7");
        }
        return out;
    }

    /** Stack slots the arithmetic may use (8 bytes each, of the 512). */
    static final int MAX_SLOTS = 60;

    /**
     * Code that leaves {@code v} (unsigned 32-bit) in r1, with r2 and the stack slots from {@code depth}
     * on as scratch: a load past the frame's end or a division by zero goes to "miss", as classic BPF
     * ends the program there with 0.
     */
    static void arith(Val v, int depth, List<Line> out) {
        if (depth >= MAX_SLOTS) {
            throw new IllegalArgumentException("expression too complex");
        }
        switch (v) {
            case FilterTree.Num n -> out.add(plain(null, "mov32 %r1, " + (int) n.k()));
            case FilterTree.Len l -> out.add(plain(null, "mov %r1, %r7"));
            case FilterTree.Ihl h -> {
                out.add(jump(null, "jle", "%r7, " + h.at() + ", ", "miss"));
                out.add(plain(null, "ldxb %r1, [%r6+" + h.at() + "]"));
                out.add(plain(null, "and32 %r1, 15"));
                out.add(plain(null, "lsh32 %r1, 2"));
            }
            case FilterTree.Load l -> {
                arith(l.at(), depth, out);
                out.add(plain(null, "mov %r2, %r1"));
                out.add(plain(null, "add %r2, " + l.size()));
                out.add(jump(null, "jgt", "%r2, %r7, ", "miss"));
                out.add(plain(null, "add %r1, %r6"));
                String size = l.size() == 1 ? "b" : l.size() == 2 ? "h" : "w";
                out.add(plain(null, "ldx" + size + " %r1, [%r1+0]"));
                if (l.size() > 1) {
                    out.add(plain(null, "be" + l.size() * 8 + " %r1"));
                }
            }
            case FilterTree.Neg n -> {
                arith(n.v(), depth, out);
                out.add(plain(null, "neg32 %r1"));
            }
            case FilterTree.Bin b -> {
                String op = switch (b.op()) {
                    case '+' -> "add32";
                    case '-' -> "sub32";
                    case '*' -> "mul32";
                    case '/' -> "div32";
                    case '%' -> "mod32";
                    case '&' -> "and32";
                    case '|' -> "or32";
                    case '^' -> "xor32";
                    case 'l' -> "lsh32";
                    default -> "rsh32";
                };
                arith(b.l(), depth, out);
                if (b.r() instanceof FilterTree.Num n) {
                    out.add(plain(null, op + " %r1, " + (int) n.k())); // the parser refused a zero divisor and long shifts
                    return;
                }
                String slot = "[%r10-" + 8 * (depth + 1) + "]";
                out.add(plain(null, "stxdw " + slot + ", %r1"));
                arith(b.r(), depth + 1, out);
                out.add(plain(null, "mov %r2, %r1"));
                out.add(plain(null, "ldxdw %r1, " + slot));
                if (b.op() == '/' || b.op() == '%') {
                    out.add(jump(null, "jeq", "%r2, 0, ", "miss"));
                }
                if (b.op() == 'l' || b.op() == 'r') {
                    out.add(plain(null, "and32 %r2, 31"));
                }
                out.add(plain(null, op + " %r1, %r2"));
            }
        }
    }
}

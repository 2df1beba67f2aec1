package org.modnet.capture;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

import org.modnet.capture.FilterCode.Node;
import org.modnet.capture.FilterCode.Test;
import org.modnet.capture.FilterTree.Bin;
import org.modnet.capture.FilterTree.Ihl;
import org.modnet.capture.FilterTree.Len;
import org.modnet.capture.FilterTree.Load;
import org.modnet.capture.FilterTree.Neg;
import org.modnet.capture.FilterTree.Num;
import org.modnet.capture.FilterTree.Val;

/**
 * The compiled filter as classic BPF ({@code struct sock_filter}), what libpcap hands the kernel and
 * {@code tcpdump -d} prints: each block of the graph computes its value in A (a load past the frame's
 * end ends the program with 0, classic BPF's own rule), compares it and jumps; a kept frame returns the
 * snapshot length (262144), a dropped one 0. Binary arithmetic keeps its right side in scratch memory
 * M[depth]. The code is modnet's own layout of its graph, not libpcap's instruction for instruction.
 * An instruction is a {@code long}: code in bits 0-15, jt 16-23, jf 24-31, k 32-63 (the C struct's bytes,
 * little-endian), as {@code SO_ATTACH_FILTER} takes it.
 */
final class ClassicCode {
    /** tcpdump's default snapshot length: what {@code ret} gives a kept frame. */
    static final int SNAPLEN = 262144;

    private static final int LD = 0x00, LDX = 0x01, ST = 0x02, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
    private static final int W = 0x00, H = 0x08, B = 0x10;
    private static final int IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
    private static final int K = 0x00, X = 0x08;
    private static final int JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30;
    private static final int TAX = 0x00;
    private static final int MEMWORDS = 16;
    /** A jump's target that is the next instruction (and, one less, the one after it): a far test's two {@code ja}s. */
    private static final int NEXT = -10;

    private final List<long[]> code = new ArrayList<>(); // {code, k, target block or -1 (keep -2, drop -3) for jt, for jf}
    private int depth;

    private final boolean far;
    private final java.util.Map<Test, Boolean> skip;

    private ClassicCode(boolean far, java.util.Map<Test, Boolean> skip) {
        this.far = far;
        this.skip = skip;
    }

    /**
     * The program of the graph from {@code root}. Classic jumps reach 255 instructions ahead; a program
     * with a longer one is laid out again with every test going through two {@code ja}s, whose reach is 32 bits.
     */
    static long[] compile(Node root, java.util.Map<Test, Boolean> guards) {
        long[] p = new ClassicCode(false, guards).emit(root);
        return p != null ? p : new ClassicCode(true, guards).emit(root);
    }

    /** The block {@code n} stands for once the guards are left out. */
    private Node past(Node n) {
        while (n.isTest() && skip.containsKey(n.test)) {
            n = n.succ(skip.get(n.test));
        }
        return n;
    }

    private long[] emit(Node entry) {
        Node root = past(entry);
        List<Node> blocks = new ArrayList<>();
        for (Node n : FilterCode.topological(root)) {
            if (!skip.containsKey(n.test)) {
                blocks.add(n);
            }
        }
        IdentityHashMap<Node, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < blocks.size(); i++) {
            index.put(blocks.get(i), i);
        }
        int[] start = new int[blocks.size()];
        if (!root.isTest()) {
            return new long[] { insn(RET | K, 0, 0, root.keep ? SNAPLEN : 0) };
        }
        for (int b = 0; b < blocks.size(); b++) {
            start[b] = code.size();
            Node n = blocks.get(b);
            Test t = n.test;
            int op = switch (t.op()) {
                case EQ -> JEQ;
                case GT -> JGT;
                case GE -> JGE;
            };
            int jt = target(past(n.jt), index);
            int jf = target(past(n.jf), index);
            long[] jump;
            if (t.rhs() != null) {
                int slot = push();
                value(t.rhs().val());
                add(ST, slot);
                value(t.e().val());
                add(LDX | W | MEM, slot);
                pop();
                jump = new long[] { JMP | op | X, 0, jt, jf };
            } else {
                value(t.e().val());
                jump = new long[] { JMP | op | K, t.k(), jt, jf };
            }
            if (far) {
                jump[2] = NEXT;
                jump[3] = NEXT - 1;
                code.add(jump);
                code.add(new long[] { JMP | JA, 0, jt, 0 });
                code.add(new long[] { JMP | JA, 0, jf, 0 });
            } else {
                code.add(jump);
            }
        }
        int keepAt = code.size();
        int dropAt = keepAt + 1;
        long[] out = new long[code.size() + 2];
        for (int i = 0; i < code.size(); i++) {
            long[] c = code.get(i);
            int cls = (int) c[0] & 0x07;
            if (cls == JMP && ((int) c[0] & 0xf0) == JA) {
                out[i] = insn((int) c[0], 0, 0, at((int) c[2], start, keepAt, dropAt) - (i + 1));
            } else if (cls == JMP) {
                int t = c[2] == NEXT ? 0 : at((int) c[2], start, keepAt, dropAt) - (i + 1);
                int f = c[3] == NEXT - 1 ? 1 : at((int) c[3], start, keepAt, dropAt) - (i + 1);
                if (t > 255 || f > 255) {
                    return null; // lay it out again with far jumps
                }
                out[i] = insn((int) c[0], t, f, (int) c[1]);
            } else {
                out[i] = insn((int) c[0], 0, 0, (int) c[1]);
            }
        }
        out[keepAt] = insn(RET | K, 0, 0, SNAPLEN);
        out[dropAt] = insn(RET | K, 0, 0, 0);
        return out;
    }

    private static int target(Node n, IdentityHashMap<Node, Integer> index) {
        if (!n.isTest()) {
            return n.keep ? -2 : -3;
        }
        return index.get(n);
    }

    private static int at(int target, int[] start, int keepAt, int dropAt) {
        return target == -2 ? keepAt : target == -3 ? dropAt : start[target];
    }

    private void add(int c, long k) {
        code.add(new long[] { c, k, 0, 0 });
    }

    private int push() {
        if (depth >= MEMWORDS) {
            throw new IllegalStateException("expression too complex");
        }
        return depth++;
    }

    private void pop() {
        depth--;
    }

    private static int sizeCode(int size) {
        return size == 4 ? W : size == 2 ? H : B;
    }

    /** Code that leaves {@code v} in A (X may change). */
    private void value(Val v) {
        switch (v) {
            case Num n -> add(LD | IMM, n.k());
            case Len l -> add(LD | W | LEN, 0);
            case Ihl h -> {
                add(LDX | B | MSH, h.at());
                add(MISC | 0x80, 0); // txa
            }
            case Load l -> {
                if (l.at() instanceof Num n) {
                    add(LD | sizeCode(l.size()) | ABS, n.k());
                } else if (l.at() instanceof Bin b && b.op() == '+' && b.l() instanceof Ihl h && b.r() instanceof Num n) {
                    add(LDX | B | MSH, h.at()); // libpcap's pattern: X = the IPv4 header's length
                    add(LD | sizeCode(l.size()) | IND, n.k());
                } else {
                    value(l.at());
                    add(MISC | TAX, 0);
                    add(LD | sizeCode(l.size()) | IND, 0);
                }
            }
            case Neg n -> {
                value(n.v());
                add(ALU | 0x80, 0);
            }
            case Bin b -> {
                int op = switch (b.op()) {
                    case '+' -> 0x00;
                    case '-' -> 0x10;
                    case '*' -> 0x20;
                    case '/' -> 0x30;
                    case '|' -> 0x40;
                    case '&' -> 0x50;
                    case 'l' -> 0x60;
                    case 'r' -> 0x70;
                    case '%' -> 0x90;
                    default -> 0xa0; // '^'
                };
                if (b.r() instanceof Num n && !((op == 0x30 || op == 0x90) && n.k() == 0)) {
                    value(b.l());
                    long k = op == 0x60 || op == 0x70 ? n.k() & 31 : n.k(); // shifts by the low five bits, as the filter's meaning says
                    add(ALU | op | K, k);
                } else {
                    int slot = push();
                    value(b.r());
                    add(ST, slot);
                    value(b.l());
                    add(LDX | W | MEM, slot);
                    pop();
                    add(ALU | op | X, 0);
                }
            }
        }
    }

    private static long insn(int code, int jt, int jf, int k) {
        return (code & 0xffffL) | (jt & 0xffL) << 16 | (jf & 0xffL) << 24 | (k & 0xffffffffL) << 32;
    }

    // --- tcpdump -d, -dd, -ddd ---

    /** {@code tcpdump -d}: libpcap's {@code bpf_image} lines. */
    static List<String> image(long[] p) {
        List<String> out = new ArrayList<>(p.length);
        for (int i = 0; i < p.length; i++) {
            out.add(image(p[i], i));
        }
        return out;
    }

    private static String image(long insn, int n) {
        int c = (int) insn & 0xffff;
        int jt = (int) (insn >>> 16) & 0xff;
        int jf = (int) (insn >>> 24) & 0xff;
        int k = (int) (insn >>> 32);
        String op;
        String arg;
        String size = switch (c & 0x18) {
            case H -> "h";
            case B -> "b";
            default -> "";
        };
        switch (c & 0x07) {
            case LD -> {
                op = "ld" + size;
                arg = switch (c & 0xe0) {
                    case ABS -> "[" + Integer.toUnsignedString(k) + "]";
                    case IND -> "[x + " + Integer.toUnsignedString(k) + "]";
                    case MEM -> "M[" + k + "]";
                    case LEN -> "#pktlen";
                    default -> "#0x" + Integer.toHexString(k);
                };
            }
            case LDX -> {
                op = "ldx" + ((c & 0xe0) == MSH ? "b" : "");
                arg = switch (c & 0xe0) {
                    case MSH -> "4*([" + k + "]&0xf)";
                    case MEM -> "M[" + k + "]";
                    case LEN -> "#pktlen";
                    default -> "#0x" + Integer.toHexString(k);
                };
            }
            case ST -> {
                op = "st";
                arg = "M[" + k + "]";
            }
            case 0x03 -> {
                op = "stx";
                arg = "M[" + k + "]";
            }
            case ALU -> {
                String[] names = { "add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "neg", "mod", "xor" };
                op = names[(c & 0xf0) >> 4];
                arg = (c & 0xf0) == 0x80 ? "" : (c & X) != 0 ? "x" : "#" + Integer.toUnsignedString(k);
            }
            case JMP -> {
                if ((c & 0xf0) == JA) {
                    return String.format("(%03d) %-8s %d", n, "ja", n + 1 + k);
                }
                String[] names = { "ja", "jeq", "jgt", "jge", "jset" };
                op = names[(c & 0xf0) >> 4];
                arg = (c & X) != 0 ? "x" : "#0x" + Integer.toHexString(k);
                return String.format("(%03d) %-8s %-16s jt %d\tjf %d", n, op, arg, n + 1 + jt, n + 1 + jf);
            }
            case RET -> {
                op = "ret";
                arg = (c & 0x18) == 0x10 ? "" : "#" + Integer.toUnsignedString(k);
            }
            default -> {
                op = (c & 0xf8) == 0x80 ? "txa" : "tax";
                arg = "";
            }
        }
        return String.format("(%03d) %-8s %s", n, op, arg).stripTrailing();
    }

    /** {@code tcpdump -dd}: a C array's elements. */
    static List<String> cArray(long[] p) {
        List<String> out = new ArrayList<>(p.length);
        for (long insn : p) {
            out.add(String.format("{ 0x%x, %d, %d, 0x%08x },", (int) insn & 0xffff, (int) (insn >>> 16) & 0xff,
                    (int) (insn >>> 24) & 0xff, (int) (insn >>> 32)));
        }
        return out;
    }

    /** {@code tcpdump -ddd}: the count, then one instruction a line in decimal. */
    static List<String> decimal(long[] p) {
        List<String> out = new ArrayList<>(p.length + 1);
        out.add(String.valueOf(p.length));
        for (long insn : p) {
            out.add(((int) insn & 0xffff) + " " + ((int) (insn >>> 16) & 0xff) + " " + ((int) (insn >>> 24) & 0xff) + " "
                    + Integer.toUnsignedString((int) (insn >>> 32)));
        }
        return out;
    }
}

package org.modnet.capture;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.modnet.capture.FilterCode.Expr;
import org.modnet.capture.FilterCode.Node;
import org.modnet.capture.FilterCode.Op;
import org.modnet.capture.FilterCode.Test;
import org.modnet.capture.FilterTree.And;
import org.modnet.capture.FilterTree.Bin;
import org.modnet.capture.FilterTree.Cmp;
import org.modnet.capture.FilterTree.Const;
import org.modnet.capture.FilterTree.Ihl;
import org.modnet.capture.FilterTree.Len;
import org.modnet.capture.FilterTree.Load;
import org.modnet.capture.FilterTree.Not;
import org.modnet.capture.FilterTree.Num;
import org.modnet.capture.FilterTree.Or;
import org.modnet.capture.FilterTree.Pred;
import org.modnet.capture.FilterTree.Rel;
import org.modnet.capture.FilterTree.Val;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.SocketFilter;

/**
 * tcpdump's filter compiled to eBPF, as libpcap compiles it to BPF: the parsed expression
 * ({@link FilterParser}) becomes a graph of tests ({@link FilterCode}) that go to "match" and "no
 * match", every load guarded by the frame's length — a guard that fails drops the frame whatever the
 * expression around it says, as a classic BPF load past the end ends the program with 0;
 * {@link FilterOptimizer} shortens it unless {@code tcpdump -O} asks not to (and, as libpcap's, refuses
 * an expression it finds can match nothing), and the program runs on each frame in the project's VM —
 * JIT-compiled, or interpreted when the JIT cannot take a program that large. r6 holds the frame, r7
 * its length; the program returns 1 for a frame to keep. The same graph laid out as classic BPF
 * ({@link #classic()}) is what {@code tcpdump -d} prints, as Linux's does. It decides as {@link Filter} does.
 */
final class BpfFilter {
    private final Node keep = Node.end(true);
    private final Node drop = Node.end(false);
    private final long[] insns;
    private final BpfSyscall bpf;
    private final SocketFilter program;
    /** The graph the program was laid out from, for its classic BPF form. */
    private final Node root;
    /**
     * The length guards this compiler made (by identity), each with the outcome that goes on: classic BPF
     * needs none of them — a load past the end ends its program with 0 — and leaves them out.
     */
    private final java.util.Map<Test, Boolean> guardTests = new java.util.IdentityHashMap<>();

    /**
     * Longer programs are not offered to the JIT: at four bytes of JVM bytecode or more an instruction
     * they cannot fit the one method it makes, and trying costs seconds.
     */
    static final int JIT_MAX = 65536 / 4;

    private BpfFilter(BpfSyscall bpf, Pred expression, boolean optimise) throws BpfException {
        this.bpf = bpf;
        Node root = FilterCode.resolve(gen(expression, keep, drop));
        if (optimise) {
            root = FilterOptimizer.optimise(root);
            if (root == drop) {
                throw new IllegalArgumentException("expression rejects all packets"); // libpcap's optimiser says so too
            }
        }
        this.insns = bpf.assemble(FilterCode.emit(root, optimise));
        this.root = root;
        SocketFilter p = null;
        if (insns.length <= JIT_MAX) {
            try {
                p = bpf.socketFilter("tcpdump", insns, BpfSyscall.JIT);
            } catch (BpfException tooLarge) {
                // the JVM's 64 KiB a method: a filter that large is interpreted, as the kernel runs a
                // program its JIT refused
            }
        }
        this.program = p != null ? p : bpf.socketFilter("tcpdump", insns, BpfSyscall.INTERPRETER);
    }

    /** The compiled and optimised filter of the words after tcpdump's options. */
    static BpfFilter compile(BpfSyscall bpf, List<String> args) {
        return compile(bpf, args, true);
    }

    /** The compiled filter; {@code optimise} false is {@code tcpdump -O}. */
    static BpfFilter compile(BpfSyscall bpf, List<String> args, boolean optimise) {
        Pred e = FilterParser.parse(args);
        try {
            return new BpfFilter(bpf, e, optimise);
        } catch (BpfException x) {
            throw new IllegalStateException("the filter compiled to a program the VM refused: " + x.getMessage(), x);
        }
    }

    /** Whether the frame passes. */
    boolean test(byte[] frame) {
        try {
            return program.run(MemorySegment.ofArray(frame)) == 1;
        } catch (BpfFault f) {
            return false; // every load is guarded; a fault would be a compiler bug, and the frame is not kept
        }
    }

    /** The number of instructions. */
    int length() {
        return insns.length;
    }

    /** "jit", or "interpreter" for a program too large for the JIT. */
    String engine() {
        return program.engine();
    }

    /**
     * The filter as classic BPF ({@link ClassicCode}): what libpcap would hand {@code SO_ATTACH_FILTER},
     * and what {@code tcpdump -d}, {@code -dd} and {@code -ddd} print.
     */
    long[] classic() {
        return ClassicCode.compile(root, guardTests);
    }

    /** The eBPF program, one instruction per line. */
    List<String> dump() {
        List<String> out = new ArrayList<>();
        int n = 0;
        for (String line : bpf.disassemble(insns)) {
            if (line != null) {
                out.add(String.format("(%03d) %s", n, line));
            }
            n++;
        }
        return out;
    }

    private Node test(Expr e, Op op, long k, Node jt, Node jf) {
        return new Node(new Test(e, op, k & 0xffffffffL, null), jt, jf);
    }

    // --- the expression: each part goes to yes or no; a load past the frame's end to drop, whatever the part ---

    private Node gen(Pred p, Node yes, Node no) {
        return switch (p) {
            case Const c -> c.value() ? yes : no;
            case Not n -> gen(n.p(), no, yes);
            case And a -> {
                Node next = yes;
                for (int i = a.all().size() - 1; i >= 0; i--) {
                    next = gen(a.all().get(i), next, no);
                }
                yield next;
            }
            case Or o -> {
                Node next = no;
                for (int i = o.any().size() - 1; i >= 0; i--) {
                    next = gen(o.any().get(i), yes, next);
                }
                yield next;
            }
            case Cmp c -> cmp(c, yes, no);
        };
    }

    /** A check before a load: the test, and the outcome on which the frame is dropped. */
    private record Guard(Test test, boolean dropWhen) {
    }

    /** Offsets past this are computed, not encoded in a load instruction (its offset has 16 bits). */
    private static final long NEAR = 30000;

    /** The value as a block can test it, with the checks that must pass first. */
    private static Expr lower(Val v, List<Guard> guards) {
        if (v instanceof Len) {
            return Expr.LEN;
        }
        long mask = 0xffffffffL;
        Val x = v;
        if (v instanceof Bin b && b.op() == '&' && b.r() instanceof Num m && b.l() instanceof Load) {
            mask = m.k();
            x = b.l();
        }
        if (x instanceof Load l && l.at() instanceof Num k && k.k() + l.size() <= NEAR) {
            guards.add(new Guard(new Test(Expr.LEN, Op.GE, k.k() + l.size(), null), false));
            return Expr.abs(l.size(), (int) k.k(), 0, mask);
        }
        if (x instanceof Load l && l.at() instanceof Bin a && a.op() == '+' && a.l() instanceof Ihl h && a.r() instanceof Num k
                && k.k() + l.size() <= NEAR && h.at() <= NEAR) {
            guards.add(new Guard(new Test(Expr.LEN, Op.GT, h.at(), null), false));
            guards.add(new Guard(new Test(Expr.ihlEnd(h.at(), (int) k.k() + l.size()), Op.GT, 0, Expr.LEN), true));
            return Expr.ind(l.size(), h.at(), (int) k.k(), mask);
        }
        return Expr.arith(v);
    }

    private Node cmp(Cmp c, Node yes, Node no) {
        List<Guard> guards = new ArrayList<>();
        Expr l = lower(c.l(), guards);
        Node t;
        Rel rel = c.rel();
        if (c.r() instanceof Num k) {
            t = switch (rel) {
                case EQ -> test(l, Op.EQ, k.k(), yes, no);
                case NE -> test(l, Op.EQ, k.k(), no, yes);
                case GT -> test(l, Op.GT, k.k(), yes, no);
                case GE -> test(l, Op.GE, k.k(), yes, no);
                case LT -> test(l, Op.GE, k.k(), no, yes);
                case LE -> test(l, Op.GT, k.k(), no, yes);
            };
        } else {
            Expr r = lower(c.r(), guards);
            boolean flip = rel == Rel.NE || rel == Rel.LT || rel == Rel.LE;
            Op op = switch (rel) {
                case EQ, NE -> Op.EQ;
                case GT, LE -> Op.GT;
                default -> Op.GE;
            };
            t = new Node(new Test(l, op, 0, r), flip ? no : yes, flip ? yes : no);
        }
        for (int i = guards.size() - 1; i >= 0; i--) {
            Guard g = guards.get(i);
            t = g.dropWhen() ? new Node(g.test(), drop, t) : new Node(g.test(), t, drop);
            guardTests.put(g.test(), !g.dropWhen());
        }
        return t;
    }
}

package org.modnet.capture;

import java.util.List;
import java.util.function.Predicate;

import org.modnet.capture.FilterTree.And;
import org.modnet.capture.FilterTree.Bin;
import org.modnet.capture.FilterTree.Cmp;
import org.modnet.capture.FilterTree.Const;
import org.modnet.capture.FilterTree.Ihl;
import org.modnet.capture.FilterTree.Len;
import org.modnet.capture.FilterTree.Load;
import org.modnet.capture.FilterTree.Neg;
import org.modnet.capture.FilterTree.Not;
import org.modnet.capture.FilterTree.Num;
import org.modnet.capture.FilterTree.Or;
import org.modnet.capture.FilterTree.Pred;
import org.modnet.capture.FilterTree.Val;

/**
 * tcpdump's filter language ({@link FilterParser}) evaluated on a frame's bytes by walking the parsed
 * expression: the reference the compiled eBPF filter ({@link BpfFilter}) is checked against. As
 * classic BPF does, a load past the frame's end (or a division by zero) rejects the frame.
 */
final class Filter {
    private final Pred root;

    private Filter(Pred root) {
        this.root = root;
    }

    /** Thrown on a load past the end: the frame is rejected. */
    private static final class Abort extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final Abort ABORT = new Abort();

        private Abort() {
            super(null, null, false, false);
        }
    }

    /** The filter of the words after tcpdump's options; everything passes for none. */
    static Predicate<Frame> parse(List<String> args) {
        Filter f = new Filter(FilterParser.parse(args));
        return frame -> f.test(frame.b);
    }

    boolean test(byte[] b) {
        try {
            return eval(root, b);
        } catch (Abort a) {
            return false;
        }
    }

    private static boolean eval(Pred p, byte[] b) {
        return switch (p) {
            case Const c -> c.value();
            case Not n -> !eval(n.p(), b);
            case And a -> {
                for (Pred x : a.all()) {
                    if (!eval(x, b)) {
                        yield false;
                    }
                }
                yield true;
            }
            case Or o -> {
                for (Pred x : o.any()) {
                    if (eval(x, b)) {
                        yield true;
                    }
                }
                yield false;
            }
            case Cmp c -> c.rel().holds(value(c.l(), b), value(c.r(), b));
        };
    }

    private static long value(Val v, byte[] b) {
        return switch (v) {
            case Num n -> n.k();
            case Len l -> b.length;
            case Ihl h -> 4L * (load(b, h.at(), 1) & 0xf);
            case Load l -> load(b, value(l.at(), b), l.size());
            case Neg n -> -value(n.v(), b) & 0xffffffffL;
            case Bin x -> {
                long l = value(x.l(), b);
                long r = value(x.r(), b);
                if ((x.op() == '/' || x.op() == '%') && r == 0) {
                    throw Abort.ABORT;
                }
                yield FilterTree.apply(x.op(), l, r);
            }
        };
    }

    private static long load(byte[] b, long at, int size) {
        if (at + size > b.length) {
            throw Abort.ABORT;
        }
        long v = 0;
        for (int i = 0; i < size; i++) {
            v = v << 8 | (b[(int) at + i] & 0xff);
        }
        return v;
    }
}

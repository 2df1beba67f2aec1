package org.modnet.capture;

import java.util.List;

/**
 * A parsed tcpdump filter, in the terms libpcap's code generator uses: every primitive ({@code host},
 * {@code port}, {@code vlan}, {@code tcp[13]}...) is already spelt out as comparisons of values of the
 * frame (loads at offsets, the length, arithmetic) joined by and/or/not. {@link Filter} evaluates it
 * on a frame; {@link BpfFilter} compiles it. As in classic BPF, values are unsigned 32-bit and a load
 * past the frame's end rejects the frame, whatever the rest of the expression says.
 */
final class FilterTree {
    private FilterTree() {
    }

    /** A boolean expression. */
    sealed interface Pred permits Const, And, Or, Not, Cmp {
    }

    record Const(boolean value) implements Pred {
        static final Const TRUE = new Const(true);
        static final Const FALSE = new Const(false);
    }

    /** All hold, tested in order. */
    record And(List<Pred> all) implements Pred {
    }

    /** One holds, tested in order. */
    record Or(List<Pred> any) implements Pred {
    }

    record Not(Pred p) implements Pred {
    }

    enum Rel {
        EQ, NE, LT, LE, GT, GE;

        /** The relation with its sides swapped: {@code a < b} is {@code b > a}. */
        Rel swapped() {
            return switch (this) {
                case LT -> GT;
                case LE -> GE;
                case GT -> LT;
                case GE -> LE;
                default -> this;
            };
        }

        boolean holds(long a, long b) {
            return switch (this) {
                case EQ -> a == b;
                case NE -> a != b;
                case LT -> a < b;
                case LE -> a <= b;
                case GT -> a > b;
                case GE -> a >= b;
            };
        }
    }

    /** {@code l rel r}, unsigned. */
    record Cmp(Val l, Rel rel, Val r) implements Pred {
    }

    /** An unsigned 32-bit value of the frame. */
    sealed interface Val permits Num, Len, Load, Ihl, Bin, Neg {
    }

    record Num(long k) implements Val {
    }

    /** The frame's length. */
    record Len() implements Val {
        static final Len LEN = new Len();
    }

    /** {@code size} (1, 2 or 4) bytes, big-endian, at the byte offset {@code at}. */
    record Load(Val at, int size) implements Val {
    }

    /** The IPv4 header's length in bytes, the header being at {@code at}: {@code 4*([at]&0xf)}, libpcap's {@code ldxb}. */
    record Ihl(int at) implements Val {
    }

    /** {@code l op r}, op one of {@code + - * / % & | ^ << >>}. */
    record Bin(char op, Val l, Val r) implements Val {
    }

    record Neg(Val v) implements Val {
    }

    /** {@code op} on unsigned 32-bit values; shifts take the low five bits of r (as the x86 JIT does), division by 0 is the caller's. */
    static long apply(char op, long a, long b) {
        long v = switch (op) {
            case '+' -> a + b;
            case '-' -> a - b;
            case '*' -> a * b;
            case '/' -> a / b;
            case '%' -> a % b;
            case '&' -> a & b;
            case '|' -> a | b;
            case '^' -> a ^ b;
            case 'l' -> a << (b & 31);
            case 'r' -> a >>> (b & 31);
            default -> throw new IllegalStateException("operator " + op);
        };
        return v & 0xffffffffL;
    }
}

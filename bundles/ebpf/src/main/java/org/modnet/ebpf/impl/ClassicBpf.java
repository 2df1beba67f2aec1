package org.modnet.ebpf.impl;

import java.util.ArrayList;
import java.util.List;

import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.HelperProtos;

/**
 * Classic BPF ({@code struct sock_filter}: a 16-bit code, jt, jf, a 32-bit k) as {@code SO_ATTACH_FILTER}
 * takes it: checked as {@code bpf_check_classic} checks it — every refusal is {@code EINVAL} in the
 * kernel, the message says which rule — then translated to eBPF as {@code bpf_convert_filter} does: A in
 * r0, X in r7, a scratch register r8, the skb in r6, M[0..15] on the stack below r10; the packet loads
 * stay {@code BPF_LD|BPF_ABS/IND}, the ancillary loads ({@code SKF_AD_*}) become reads of
 * {@code __sk_buff} or helper calls, a division by X checks for zero and returns 0, and the jumps are
 * laid out again over the longer code. One instruction here is a {@code long} whose bytes are the C
 * struct's, little-endian: code in bits 0-15, jt 16-23, jf 24-31, k 32-63.
 */
final class ClassicBpf {
    /** {@code BPF_MAXINSNS}. */
    static final int MAX_INSNS = 4096;
    /** {@code BPF_MEMWORDS}. */
    static final int MEMWORDS = 16;

    // classic classes and fields (include/uapi/linux/filter.h, bpf_common.h)
    static final int LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
    static final int W = 0x00, H = 0x08, B = 0x10;
    static final int IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
    static final int K = 0x00, X = 0x08, A = 0x10;
    static final int TAX = 0x00, TXA = 0x80;

    /** {@code SKF_AD_OFF} and the ancillary loads modnet answers ({@code SKF_AD_*}). */
    static final int SKF_AD_OFF = -0x1000;
    static final int SKF_AD_PROTOCOL = 0, SKF_AD_PKTTYPE = 4, SKF_AD_IFINDEX = 8, SKF_AD_NLATTR = 12, SKF_AD_NLATTR_NEST = 16,
            SKF_AD_MARK = 20, SKF_AD_QUEUE = 24, SKF_AD_HATYPE = 28, SKF_AD_RXHASH = 32, SKF_AD_CPU = 36, SKF_AD_ALU_XOR_X = 40,
            SKF_AD_VLAN_TAG = 44, SKF_AD_VLAN_TAG_PRESENT = 48, SKF_AD_PAY_OFFSET = 52, SKF_AD_RANDOM = 56, SKF_AD_VLAN_TPID = 60;

    private static final int REG_A = 0;
    private static final int REG_X = 7;
    private static final int REG_TMP = 8;
    private static final int REG_CTX = 6;

    private ClassicBpf() {
    }

    static int code(long insn) {
        return (int) insn & 0xffff;
    }

    static int jt(long insn) {
        return (int) (insn >>> 16) & 0xff;
    }

    static int jf(long insn) {
        return (int) (insn >>> 24) & 0xff;
    }

    static int k(long insn) {
        return (int) (insn >>> 32);
    }

    /** One classic instruction from its fields. */
    static long insn(int code, int jt, int jf, int k) {
        return (code & 0xffffL) | (jt & 0xffL) << 16 | (jf & 0xffL) << 24 | (k & 0xffffffffL) << 32;
    }

    /**
     * {@code bpf_check_classic} and {@code check_load_and_stores}: throws what is wrong (EINVAL in the
     * kernel), with the instruction's index.
     */
    static void check(long[] f) throws BpfException {
        int n = f.length;
        if (n == 0 || n > MAX_INSNS) {
            throw new BpfException("classic BPF program of " + n + " instructions (1 to " + MAX_INSNS + ")");
        }
        for (int pc = 0; pc < n; pc++) {
            int code = code(f[pc]);
            int k = k(f[pc]);
            if (!allowed(code)) {
                throw new BpfException(pc, "unknown classic BPF code " + Program.hex(code));
            }
            switch (code) {
                case ALU | 0x30 | K, ALU | 0x90 | K -> { // DIV, MOD by a constant
                    if (k == 0) {
                        throw new BpfException(pc, "division by constant zero");
                    }
                }
                case ALU | 0x60 | K, ALU | 0x70 | K -> { // LSH, RSH
                    if (Integer.compareUnsigned(k, 32) >= 0) {
                        throw new BpfException(pc, "shift by " + Integer.toUnsignedString(k) + " (32 or more)");
                    }
                }
                case LD | MEM, LDX | MEM, ST, STX -> {
                    if (Integer.compareUnsigned(k, MEMWORDS) >= 0) {
                        throw new BpfException(pc, "scratch memory word " + Integer.toUnsignedString(k) + " (0 to 15)");
                    }
                }
                case JMP | 0x00 -> { // JA
                    if (Integer.compareUnsigned(k, n - pc - 1) >= 0) {
                        throw new BpfException(pc, "jump out of range");
                    }
                }
                case LD | W | ABS, LD | H | ABS, LD | B | ABS -> {
                    if (Integer.compareUnsigned(k, SKF_AD_OFF) >= 0 && !ancillary(k - SKF_AD_OFF)) {
                        throw new BpfException(pc, "unknown or unsupported ancillary load " + (k - SKF_AD_OFF));
                    }
                }
                default -> {
                    if ((code & 0x07) == JMP) {
                        if (pc + jt(f[pc]) + 1 >= n || pc + jf(f[pc]) + 1 >= n) {
                            throw new BpfException(pc, "jump out of range");
                        }
                    }
                }
            }
        }
        int last = code(f[n - 1]);
        if (last != (RET | K) && last != (RET | A)) {
            throw new BpfException(n - 1, "the last instruction is not a return");
        }
        loadsAndStores(f);
    }

    /** {@code chk_code_allowed}: the codes classic BPF has. */
    private static boolean allowed(int code) {
        return switch (code) {
            case ALU | 0x00 | K, ALU | 0x00 | X, ALU | 0x10 | K, ALU | 0x10 | X, ALU | 0x20 | K, ALU | 0x20 | X, ALU | 0x30 | K,
                    ALU | 0x30 | X, ALU | 0x40 | K, ALU | 0x40 | X, ALU | 0x50 | K, ALU | 0x50 | X, ALU | 0x60 | K, ALU | 0x60 | X,
                    ALU | 0x70 | K, ALU | 0x70 | X, ALU | 0x90 | K, ALU | 0x90 | X, ALU | 0xa0 | K, ALU | 0xa0 | X, ALU | 0x80,
                    LD | W | ABS, LD | H | ABS, LD | B | ABS, LD | W | LEN, LD | W | IND, LD | H | IND, LD | B | IND, LD | IMM,
                    LD | MEM, LDX | W | LEN, LDX | B | MSH, LDX | IMM, LDX | MEM, ST, STX, MISC | TAX, MISC | TXA, RET | K, RET | A,
                    JMP | 0x00, JMP | 0x10 | K, JMP | 0x10 | X, JMP | 0x20 | K, JMP | 0x20 | X, JMP | 0x30 | K, JMP | 0x30 | X,
                    JMP | 0x40 | K, JMP | 0x40 | X -> true;
            default -> false;
        };
    }

    /** The ancillary loads translated here; the kernel's netlink, hardware-type and payload-offset ones are not. */
    private static boolean ancillary(int what) {
        return switch (what) {
            case SKF_AD_PROTOCOL, SKF_AD_PKTTYPE, SKF_AD_IFINDEX, SKF_AD_MARK, SKF_AD_QUEUE, SKF_AD_RXHASH, SKF_AD_CPU,
                    SKF_AD_ALU_XOR_X, SKF_AD_VLAN_TAG, SKF_AD_VLAN_TAG_PRESENT, SKF_AD_RANDOM, SKF_AD_VLAN_TPID -> true;
            default -> false;
        };
    }

    /** {@code check_load_and_stores}: no scratch word is read before every path to the read wrote it. */
    private static void loadsAndStores(long[] f) throws BpfException {
        int n = f.length;
        int[] masks = new int[n];
        java.util.Arrays.fill(masks, 0xffff);
        int valid = 0;
        for (int pc = 0; pc < n; pc++) {
            valid &= masks[pc];
            int code = code(f[pc]);
            int k = k(f[pc]);
            if (code == ST || code == STX) {
                valid |= 1 << k;
            } else if (code == (LD | MEM) || code == (LDX | MEM)) {
                if ((valid & (1 << k)) == 0) {
                    throw new BpfException(pc, "scratch memory word " + k + " read before it is written");
                }
            } else if (code == (JMP | 0x00)) {
                masks[pc + 1 + k] &= valid;
                valid = 0xffff;
            } else if ((code & 0x07) == JMP) {
                masks[pc + 1 + jt(f[pc])] &= valid;
                masks[pc + 1 + jf(f[pc])] &= valid;
                valid = 0xffff;
            }
        }
    }

    /** {@code bpf_convert_filter}: the checked classic program as eBPF, the skb its r1. */
    static long[] convert(long[] f) {
        int n = f.length;
        int[] start = new int[n + 1];
        int prologue = 3;
        int at = prologue;
        // first pass: each instruction's eBPF length, with its jumps at their longest
        for (int pc = 0; pc < n; pc++) {
            start[pc] = at;
            at += translate(f, pc, null, 0).length;
        }
        start[n] = at;
        long[] out = new long[at];
        // A = 0, X = 0 (the kernel XORs them with themselves; a move of 0 is the same and reads nothing the verifier minds)
        out[0] = Bpf.encode(Bpf.ALU | Bpf.MOV | Bpf.K, REG_A, 0, 0, 0);
        out[1] = Bpf.encode(Bpf.ALU | Bpf.MOV | Bpf.K, REG_X, 0, 0, 0);
        out[2] = Bpf.encode(Bpf.ALU64 | Bpf.MOV | Bpf.X, REG_CTX, 1, 0, 0); // the skb where LD_ABS finds it
        for (int pc = 0; pc < n; pc++) {
            long[] code = translate(f, pc, start, start[pc]);
            System.arraycopy(code, 0, out, start[pc], code.length);
        }
        return out;
    }

    private static long ebpf(int opcode, int dst, int src, int off, int imm) {
        return Bpf.encode(opcode, dst, src, off, imm);
    }

    private static long ctxLoad(int dst, int field) {
        return ebpf(Bpf.LDX | Bpf.MEM | Bpf.W, dst, REG_CTX, field, 0);
    }

    private static int scratch(int k) {
        return -(MEMWORDS - k) * 4;
    }

    /**
     * The eBPF of classic instruction {@code pc}, placed at {@code here}; with {@code start} null only
     * its length matters (jumps get their longest form).
     */
    private static long[] translate(long[] f, int pc, int[] start, int here) {
        int code = code(f[pc]);
        int k = k(f[pc]);
        int cls = code & 0x07;
        switch (cls) {
            case ALU -> {
                int op = code & 0xf0;
                if (op == 0x80) {
                    return new long[] { ebpf(Bpf.ALU | Bpf.NEG, REG_A, 0, 0, 0) };
                }
                if ((code & X) != 0) {
                    long alu = ebpf(Bpf.ALU | op | Bpf.X, REG_A, REG_X, 0, 0);
                    if (op == Bpf.DIV || op == Bpf.MOD) {
                        // a division by X = 0 ends the program with 0
                        return new long[] { ebpf(Bpf.JMP | Bpf.JNE | Bpf.K, REG_X, 0, 2, 0),
                                ebpf(Bpf.ALU | Bpf.XOR | Bpf.X, REG_A, REG_A, 0, 0), ebpf(Bpf.JMP | Bpf.EXIT, 0, 0, 0, 0), alu };
                    }
                    return new long[] { alu };
                }
                return new long[] { ebpf(Bpf.ALU | op | Bpf.K, REG_A, 0, 0, k) };
            }
            case LD -> {
                int mode = code & 0xe0;
                int size = code & 0x18;
                return switch (mode) {
                    case ABS -> k < 0 && k >= SKF_AD_OFF ? ancillaryLoad(k - SKF_AD_OFF)
                            : new long[] { ebpf(Bpf.LD | Bpf.ABS | size, 0, 0, 0, k) };
                    case IND -> new long[] { ebpf(Bpf.LD | Bpf.IND | size, 0, REG_X, 0, k) };
                    case LEN -> new long[] { ctxLoad(REG_A, 0) };
                    case MEM -> new long[] { ebpf(Bpf.LDX | Bpf.MEM | Bpf.W, REG_A, 10, scratch(k), 0) };
                    default -> new long[] { ebpf(Bpf.ALU | Bpf.MOV | Bpf.K, REG_A, 0, 0, k) };
                };
            }
            case LDX -> {
                int mode = code & 0xe0;
                return switch (mode) {
                    case LEN -> new long[] { ctxLoad(REG_X, 0) };
                    case MEM -> new long[] { ebpf(Bpf.LDX | Bpf.MEM | Bpf.W, REG_X, 10, scratch(k), 0) };
                    case MSH -> new long[] { // X = 4 * (P[k] & 0xf), A kept
                            ebpf(Bpf.ALU64 | Bpf.MOV | Bpf.X, REG_TMP, REG_A, 0, 0), ebpf(Bpf.LD | Bpf.ABS | Bpf.B, 0, 0, 0, k),
                            ebpf(Bpf.ALU | Bpf.AND | Bpf.K, REG_A, 0, 0, 0xf), ebpf(Bpf.ALU | Bpf.LSH | Bpf.K, REG_A, 0, 0, 2),
                            ebpf(Bpf.ALU64 | Bpf.MOV | Bpf.X, REG_X, REG_A, 0, 0), ebpf(Bpf.ALU64 | Bpf.MOV | Bpf.X, REG_A, REG_TMP, 0, 0) };
                    default -> new long[] { ebpf(Bpf.ALU | Bpf.MOV | Bpf.K, REG_X, 0, 0, k) };
                };
            }
            case ST -> {
                return new long[] { ebpf(Bpf.STX | Bpf.MEM | Bpf.W, 10, REG_A, scratch(k), 0) };
            }
            case STX -> {
                return new long[] { ebpf(Bpf.STX | Bpf.MEM | Bpf.W, 10, REG_X, scratch(k), 0) };
            }
            case MISC -> {
                return (code & 0xf8) == TXA ? new long[] { ebpf(Bpf.ALU64 | Bpf.MOV | Bpf.X, REG_A, REG_X, 0, 0) }
                        : new long[] { ebpf(Bpf.ALU64 | Bpf.MOV | Bpf.X, REG_X, REG_A, 0, 0) };
            }
            case RET -> {
                if ((code & 0x18) == A) {
                    return new long[] { ebpf(Bpf.JMP | Bpf.EXIT, 0, 0, 0, 0) };
                }
                return new long[] { ebpf(Bpf.ALU | Bpf.MOV | Bpf.K, REG_A, 0, 0, k), ebpf(Bpf.JMP | Bpf.EXIT, 0, 0, 0, 0) };
            }
            default -> {
                return jump(f, pc, code, k, start, here);
            }
        }
    }

    /** An ancillary load ({@code convert_bpf_extensions}): a field of {@code __sk_buff} or a helper's answer into A. */
    private static long[] ancillaryLoad(int what) {
        return switch (what) {
            // skb->protocol is kept in network order: A gets it in host order, as ntohs does
            case SKF_AD_PROTOCOL -> new long[] { ctxLoad(REG_A, 16), ebpf(Bpf.ALU | Bpf.END | Bpf.X, REG_A, 0, 0, 16) };
            case SKF_AD_PKTTYPE -> new long[] { ctxLoad(REG_A, 4) };
            case SKF_AD_IFINDEX -> new long[] { ctxLoad(REG_A, 40) };
            case SKF_AD_MARK -> new long[] { ctxLoad(REG_A, 8) };
            case SKF_AD_QUEUE -> new long[] { ctxLoad(REG_A, 12) };
            case SKF_AD_RXHASH -> new long[] { ctxLoad(REG_A, 68) };
            case SKF_AD_VLAN_TAG -> new long[] { ctxLoad(REG_A, 24) };
            case SKF_AD_VLAN_TAG_PRESENT -> new long[] { ctxLoad(REG_A, 20) };
            case SKF_AD_VLAN_TPID -> new long[] { ctxLoad(REG_A, 28), ebpf(Bpf.ALU | Bpf.END | Bpf.X, REG_A, 0, 0, 16) };
            case SKF_AD_ALU_XOR_X -> new long[] { ebpf(Bpf.ALU | Bpf.XOR | Bpf.X, REG_A, REG_X, 0, 0) };
            case SKF_AD_CPU -> new long[] { ebpf(Bpf.JMP | Bpf.CALL, 0, 0, 0, HelperProtos.GET_SMP_PROCESSOR_ID) };
            default -> new long[] { ebpf(Bpf.JMP | Bpf.CALL, 0, 0, 0, HelperProtos.GET_PRANDOM_U32) }; // SKF_AD_RANDOM
        };
    }

    /**
     * A classic jump: JA k, or "if A op K/X goto jt else jf". eBPF compares 64 bits with a sign-extended
     * immediate, so a k with its top bit set goes through the scratch register, as the kernel does.
     */
    private static long[] jump(long[] f, int pc, int code, int k, int[] start, int here) {
        int op = code & 0xf0;
        if (op == 0x00) {
            int to = start == null ? 0 : start[pc + 1 + k] - (here + 1);
            return new long[] { ebpf(Bpf.JMP | Bpf.JA, 0, 0, to, 0) };
        }
        List<Long> out = new ArrayList<>(3);
        boolean x = (code & X) != 0;
        int src = x ? REG_X : 0;
        int opX = x ? Bpf.X : Bpf.K;
        if (!x && k < 0) {
            out.add(ebpf(Bpf.ALU | Bpf.MOV | Bpf.K, REG_TMP, 0, 0, k)); // zero-extended into r8
            src = REG_TMP;
            opX = Bpf.X;
        }
        int jt = jt(f[pc]);
        int jf = jf(f[pc]);
        int trueAt = start == null ? 0 : start[pc + 1 + jt];
        int falseAt = start == null ? 0 : start[pc + 1 + jf];
        int kImm = opX == Bpf.X ? 0 : k;
        if (jf == 0) {
            int self = here + out.size();
            out.add(ebpf(Bpf.JMP | op | opX, REG_A, src, trueAt - (self + 1), kImm));
        } else if (jt == 0 && op != Bpf.JSET) {
            int negated = switch (op) {
                case Bpf.JEQ -> Bpf.JNE;
                case Bpf.JGT -> Bpf.JLE;
                default -> Bpf.JLT; // JGE
            };
            int self = here + out.size();
            out.add(ebpf(Bpf.JMP | negated | opX, REG_A, src, falseAt - (self + 1), kImm));
        } else {
            int self = here + out.size();
            out.add(ebpf(Bpf.JMP | op | opX, REG_A, src, trueAt - (self + 1), kImm));
            out.add(ebpf(Bpf.JMP | Bpf.JA, 0, 0, falseAt - (self + 2), 0));
        }
        long[] r = new long[out.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = out.get(i);
        }
        return r;
    }
}

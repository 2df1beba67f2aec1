package org.modnet.ebpf.impl;

import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.Helper;
import org.modnet.ebpf.api.Helpers;

/**
 * The interpreter ({@code kernel/bpf/core.c}'s {@code ___bpf_prog_run}): one switch over the opcode per
 * instruction, registers in a {@code long[]}, bpf-to-bpf calls on a frame stack with a 512-byte stack
 * frame each. Undefined behaviour is what the kernel defines: division by zero gives 0, modulo by zero
 * leaves the dividend, shifts take their count modulo the width. A program that runs more than
 * {@link #MAX_STEPS} instructions is stopped (an unverified program could loop for ever).
 */
final class Interpreter implements Executable {
    static final long MAX_STEPS = 100_000_000L;

    private final Program p;
    private final Helpers helpers;

    Interpreter(Program p, Helpers helpers) {
        this.p = p;
        this.helpers = helpers;
    }

    @Override
    public String engine() {
        return "interpreter";
    }

    @Override
    public long run(Memory mem, long r1, long r2) {
        final int[] op = p.op;
        final int[] dst = p.dst;
        final int[] src = p.src;
        final int[] off = p.off;
        final int[] imm = p.imm;
        long[] r = mem.interpreterRegs; // no allocation per run: a memory serves one run at a time
        java.util.Arrays.fill(r, 0, 11, 0L);
        r[1] = r1;
        r[2] = r2;
        r[10] = mem.stackTop();
        mem.tailCalled = false;
        // call frames: return pc, then r6..r9 and r10 of the caller
        int[] returnPc = mem.interpreterReturns;
        long[] saved = r; // caller registers saved after the 11 registers
        int depth = 0;
        int pc = 0;
        long steps = 0;
        while (true) {
            if (++steps > MAX_STEPS) {
                throw new BpfFault("the program ran " + MAX_STEPS + " instructions without ending");
            }
            int i = pc++;
            int d = dst[i];
            int o = op[i];
            switch (o) {
                // ALU64
                case Bpf.ALU64 | Bpf.ADD | Bpf.K -> r[d] += imm[i];
                case Bpf.ALU64 | Bpf.ADD | Bpf.X -> r[d] += r[src[i]];
                case Bpf.ALU64 | Bpf.SUB | Bpf.K -> r[d] -= imm[i];
                case Bpf.ALU64 | Bpf.SUB | Bpf.X -> r[d] -= r[src[i]];
                case Bpf.ALU64 | Bpf.MUL | Bpf.K -> r[d] *= imm[i];
                case Bpf.ALU64 | Bpf.MUL | Bpf.X -> r[d] *= r[src[i]];
                case Bpf.ALU64 | Bpf.DIV | Bpf.K -> r[d] = div64(r[d], imm[i], off[i]);
                case Bpf.ALU64 | Bpf.DIV | Bpf.X -> r[d] = div64(r[d], r[src[i]], off[i]);
                case Bpf.ALU64 | Bpf.MOD | Bpf.K -> r[d] = mod64(r[d], imm[i], off[i]);
                case Bpf.ALU64 | Bpf.MOD | Bpf.X -> r[d] = mod64(r[d], r[src[i]], off[i]);
                case Bpf.ALU64 | Bpf.OR | Bpf.K -> r[d] |= imm[i];
                case Bpf.ALU64 | Bpf.OR | Bpf.X -> r[d] |= r[src[i]];
                case Bpf.ALU64 | Bpf.AND | Bpf.K -> r[d] &= imm[i];
                case Bpf.ALU64 | Bpf.AND | Bpf.X -> r[d] &= r[src[i]];
                case Bpf.ALU64 | Bpf.XOR | Bpf.K -> r[d] ^= imm[i];
                case Bpf.ALU64 | Bpf.XOR | Bpf.X -> r[d] ^= r[src[i]];
                case Bpf.ALU64 | Bpf.LSH | Bpf.K -> r[d] <<= imm[i];
                case Bpf.ALU64 | Bpf.LSH | Bpf.X -> r[d] <<= r[src[i]];
                case Bpf.ALU64 | Bpf.RSH | Bpf.K -> r[d] >>>= imm[i];
                case Bpf.ALU64 | Bpf.RSH | Bpf.X -> r[d] >>>= r[src[i]];
                case Bpf.ALU64 | Bpf.ARSH | Bpf.K -> r[d] >>= imm[i];
                case Bpf.ALU64 | Bpf.ARSH | Bpf.X -> r[d] >>= r[src[i]];
                case Bpf.ALU64 | Bpf.NEG -> r[d] = -r[d];
                case Bpf.ALU64 | Bpf.MOV | Bpf.K -> r[d] = imm[i];
                case Bpf.ALU64 | Bpf.MOV | Bpf.X -> r[d] = movsx64(r[src[i]], off[i]);
                case Bpf.ALU64 | Bpf.END -> r[d] = bswap(r[d], imm[i]);
                // ALU32: results zero-extended
                case Bpf.ALU | Bpf.ADD | Bpf.K -> r[d] = u32((int) r[d] + imm[i]);
                case Bpf.ALU | Bpf.ADD | Bpf.X -> r[d] = u32((int) r[d] + (int) r[src[i]]);
                case Bpf.ALU | Bpf.SUB | Bpf.K -> r[d] = u32((int) r[d] - imm[i]);
                case Bpf.ALU | Bpf.SUB | Bpf.X -> r[d] = u32((int) r[d] - (int) r[src[i]]);
                case Bpf.ALU | Bpf.MUL | Bpf.K -> r[d] = u32((int) r[d] * imm[i]);
                case Bpf.ALU | Bpf.MUL | Bpf.X -> r[d] = u32((int) r[d] * (int) r[src[i]]);
                case Bpf.ALU | Bpf.DIV | Bpf.K -> r[d] = div32((int) r[d], imm[i], off[i]);
                case Bpf.ALU | Bpf.DIV | Bpf.X -> r[d] = div32((int) r[d], (int) r[src[i]], off[i]);
                case Bpf.ALU | Bpf.MOD | Bpf.K -> r[d] = mod32((int) r[d], imm[i], off[i]);
                case Bpf.ALU | Bpf.MOD | Bpf.X -> r[d] = mod32((int) r[d], (int) r[src[i]], off[i]);
                case Bpf.ALU | Bpf.OR | Bpf.K -> r[d] = u32((int) r[d] | imm[i]);
                case Bpf.ALU | Bpf.OR | Bpf.X -> r[d] = u32((int) r[d] | (int) r[src[i]]);
                case Bpf.ALU | Bpf.AND | Bpf.K -> r[d] = u32((int) r[d] & imm[i]);
                case Bpf.ALU | Bpf.AND | Bpf.X -> r[d] = u32((int) r[d] & (int) r[src[i]]);
                case Bpf.ALU | Bpf.XOR | Bpf.K -> r[d] = u32((int) r[d] ^ imm[i]);
                case Bpf.ALU | Bpf.XOR | Bpf.X -> r[d] = u32((int) r[d] ^ (int) r[src[i]]);
                case Bpf.ALU | Bpf.LSH | Bpf.K -> r[d] = u32((int) r[d] << imm[i]);
                case Bpf.ALU | Bpf.LSH | Bpf.X -> r[d] = u32((int) r[d] << (int) r[src[i]]);
                case Bpf.ALU | Bpf.RSH | Bpf.K -> r[d] = u32((int) r[d] >>> imm[i]);
                case Bpf.ALU | Bpf.RSH | Bpf.X -> r[d] = u32((int) r[d] >>> (int) r[src[i]]);
                case Bpf.ALU | Bpf.ARSH | Bpf.K -> r[d] = u32((int) r[d] >> imm[i]);
                case Bpf.ALU | Bpf.ARSH | Bpf.X -> r[d] = u32((int) r[d] >> (int) r[src[i]]);
                case Bpf.ALU | Bpf.NEG -> r[d] = u32(-(int) r[d]);
                case Bpf.ALU | Bpf.MOV | Bpf.K -> r[d] = u32(imm[i]);
                case Bpf.ALU | Bpf.MOV | Bpf.X -> r[d] = u32(movsx32((int) r[src[i]], off[i]));
                case Bpf.ALU | Bpf.END | Bpf.K -> r[d] = toLe(r[d], imm[i]);
                case Bpf.ALU | Bpf.END | Bpf.X -> r[d] = bswap(r[d], imm[i]);
                // lddw
                case Bpf.LD | Bpf.IMM | Bpf.DW -> {
                    r[d] = p.imm64[i];
                    pc++;
                }
                // the legacy packet loads: a load past the end returns 0 from the (sub)program, as gen_ld_abs's exit does
                case Bpf.LD | Bpf.ABS | Bpf.W, Bpf.LD | Bpf.ABS | Bpf.H, Bpf.LD | Bpf.ABS | Bpf.B, Bpf.LD | Bpf.IND | Bpf.W,
                        Bpf.LD | Bpf.IND | Bpf.H, Bpf.LD | Bpf.IND | Bpf.B -> {
                    int k = (o & 0xe0) == Bpf.IND ? (int) r[src[i]] + imm[i] : imm[i];
                    long v = SkbBuffer.ldAbs(mem, k, Bpf.bytes(o));
                    if (v >= 0) {
                        r[0] = v;
                    } else {
                        r[0] = 0;
                        if (depth == 0) {
                            return 0;
                        }
                        depth--;
                        pc = returnPc[depth];
                        System.arraycopy(saved, 11 + depth * 5, r, 6, 5);
                    }
                }
                // loads and stores
                case Bpf.LDX | Bpf.MEM | Bpf.B -> r[d] = mem.load8(r[src[i]] + off[i]);
                case Bpf.LDX | Bpf.MEM | Bpf.H -> r[d] = mem.load16(r[src[i]] + off[i]);
                case Bpf.LDX | Bpf.MEM | Bpf.W -> r[d] = mem.load32(r[src[i]] + off[i]);
                case Bpf.LDX | Bpf.MEM | Bpf.DW -> r[d] = mem.load64(r[src[i]] + off[i]);
                case Bpf.LDX | Bpf.MEMSX | Bpf.B -> r[d] = (byte) mem.load8(r[src[i]] + off[i]);
                case Bpf.LDX | Bpf.MEMSX | Bpf.H -> r[d] = (short) mem.load16(r[src[i]] + off[i]);
                case Bpf.LDX | Bpf.MEMSX | Bpf.W -> r[d] = (int) mem.load32(r[src[i]] + off[i]);
                case Bpf.ST | Bpf.MEM | Bpf.B -> mem.store8(r[d] + off[i], imm[i]);
                case Bpf.ST | Bpf.MEM | Bpf.H -> mem.store16(r[d] + off[i], imm[i]);
                case Bpf.ST | Bpf.MEM | Bpf.W -> mem.store32(r[d] + off[i], imm[i]);
                case Bpf.ST | Bpf.MEM | Bpf.DW -> mem.store64(r[d] + off[i], imm[i]);
                case Bpf.STX | Bpf.MEM | Bpf.B -> mem.store8(r[d] + off[i], r[src[i]]);
                case Bpf.STX | Bpf.MEM | Bpf.H -> mem.store16(r[d] + off[i], r[src[i]]);
                case Bpf.STX | Bpf.MEM | Bpf.W -> mem.store32(r[d] + off[i], r[src[i]]);
                case Bpf.STX | Bpf.MEM | Bpf.DW -> mem.store64(r[d] + off[i], r[src[i]]);
                case Bpf.STX | Bpf.ATOMIC | Bpf.W, Bpf.STX | Bpf.ATOMIC | Bpf.DW -> atomic(mem, r, i, Bpf.bytes(o));
                // jumps
                case Bpf.JMP | Bpf.JA -> pc += off[i];
                case Bpf.JMP32 | Bpf.JA -> pc += imm[i];
                case Bpf.JMP | Bpf.EXIT -> {
                    if (depth == 0) {
                        return r[0];
                    }
                    depth--;
                    pc = returnPc[depth];
                    System.arraycopy(saved, 11 + depth * 5, r, 6, 5);
                }
                case Bpf.JMP | Bpf.CALL -> {
                    if (src[i] == Bpf.PSEUDO_CALL) {
                        if (depth + 1 >= Bpf.MAX_FRAMES) {
                            throw new BpfFault("the call stack is too deep (" + Bpf.MAX_FRAMES + " frames)");
                        }
                        returnPc[depth] = pc;
                        System.arraycopy(r, 6, saved, 11 + depth * 5, 5);
                        depth++;
                        r[10] -= Bpf.STACK_SIZE;
                        pc = i + 1 + imm[i];
                    } else if (callHelper(mem, r, imm[i])) {
                        return 0; // an unwind helper returned 0
                    } else if (mem.tailCalled) {
                        mem.tailCalled = false;
                        return mem.tailResult; // bpf_tail_call: the other program's result is this one's
                    }
                }
                case Bpf.JMP | Bpf.CALL | Bpf.X -> {
                    if (callHelper(mem, r, r[d])) {
                        return 0;
                    }
                }
                default -> {
                    int cls = o & 0x07;
                    boolean taken;
                    if (cls == Bpf.JMP) {
                        long a = r[d];
                        long b = (o & Bpf.X) != 0 ? r[src[i]] : imm[i];
                        taken = jump(o & 0xf0, a, b);
                    } else if (cls == Bpf.JMP32) {
                        long a = r[d] & 0xffffffffL;
                        long b = ((o & Bpf.X) != 0 ? r[src[i]] : imm[i]) & 0xffffffffL;
                        taken = jump32(o & 0xf0, (int) a, (int) b);
                    } else {
                        throw new BpfFault(i + ": unknown opcode " + Program.hex(o));
                    }
                    if (taken) {
                        pc += off[i];
                    }
                }
            }
        }
    }

    private boolean callHelper(Memory mem, long[] r, long id) {
        Helper h = helpers.get(id);
        if (h == null) {
            throw new BpfFault("call to unknown helper " + id);
        }
        r[0] = h.call(r[1], r[2], r[3], r[4], r[5], mem);
        // r1-r5 are clobbered by a call: the kernel leaves them undefined; keep them as they are
        return helpers.unwinds(id) && r[0] == 0;
    }

    /**
     * {@code BPF_ATOMIC}: add/or/and/xor (their fetch variants put the old value in the source
     * register), xchg (the same), cmpxchg (compares with r0, which gets the old value).
     */
    private void atomic(Memory mem, long[] r, int i, int size) {
        int operation = p.imm[i];
        long addr = r[p.dst[i]] + p.off[i];
        int s = p.src[i];
        if (operation == Bpf.CMPXCHG) {
            r[0] = mem.atomic(addr, size, operation, r[s], size == 4 ? r[0] & 0xffffffffL : r[0]);
        } else {
            long old = mem.atomic(addr, size, operation, r[s], 0);
            if ((operation & Bpf.FETCH) != 0) {
                r[s] = old;
            }
        }
    }

    static boolean jump(int operation, long a, long b) {
        return switch (operation) {
            case Bpf.JEQ -> a == b;
            case Bpf.JNE -> a != b;
            case Bpf.JGT -> Long.compareUnsigned(a, b) > 0;
            case Bpf.JGE -> Long.compareUnsigned(a, b) >= 0;
            case Bpf.JLT -> Long.compareUnsigned(a, b) < 0;
            case Bpf.JLE -> Long.compareUnsigned(a, b) <= 0;
            case Bpf.JSGT -> a > b;
            case Bpf.JSGE -> a >= b;
            case Bpf.JSLT -> a < b;
            case Bpf.JSLE -> a <= b;
            case Bpf.JSET -> (a & b) != 0;
            default -> throw new BpfFault("unknown jump " + operation);
        };
    }

    /** JMP32: the same comparisons on the low halves, sign-extended for the signed ones and zero-extended for the rest. */
    static boolean jump32(int operation, int a, int b) {
        boolean signed = operation == Bpf.JSGT || operation == Bpf.JSGE || operation == Bpf.JSLT || operation == Bpf.JSLE;
        return signed ? jump(operation, a, b) : jump(operation, a & 0xffffffffL, b & 0xffffffffL);
    }

    static long u32(int v) {
        return v & 0xffffffffL;
    }

    /** Unsigned (off 0) or signed (off 1) 64-bit division; by zero gives 0. */
    static long div64(long a, long b, int signed) {
        if (b == 0) {
            return 0;
        }
        return signed == 1 ? a / b : Long.divideUnsigned(a, b);
    }

    /** Modulo; by zero leaves the dividend. */
    static long mod64(long a, long b, int signed) {
        if (b == 0) {
            return a;
        }
        return signed == 1 ? a % b : Long.remainderUnsigned(a, b);
    }

    static long div32(int a, int b, int signed) {
        if (b == 0) {
            return 0;
        }
        return u32(signed == 1 ? a / b : Integer.divideUnsigned(a, b));
    }

    static long mod32(int a, int b, int signed) {
        if (b == 0) {
            return u32(a);
        }
        return u32(signed == 1 ? a % b : Integer.remainderUnsigned(a, b));
    }

    /** MOV with an offset of 8, 16 or 32 sign-extends that many low bits ({@code movsx}). */
    static long movsx64(long v, int bits) {
        return switch (bits) {
            case 8 -> (byte) v;
            case 16 -> (short) v;
            case 32 -> (int) v;
            default -> v;
        };
    }

    static int movsx32(int v, int bits) {
        return switch (bits) {
            case 8 -> (byte) v;
            case 16 -> (short) v;
            default -> v;
        };
    }

    /** To little-endian on a little-endian machine: the low {@code bits} kept, the rest cleared. */
    static long toLe(long v, int bits) {
        return switch (bits) {
            case 16 -> v & 0xffffL;
            case 32 -> v & 0xffffffffL;
            default -> v;
        };
    }

    /** Byte swap of the low {@code bits} ({@code be16..64} here, {@code bswap16..64}), upper bits cleared. */
    static long bswap(long v, int bits) {
        return switch (bits) {
            case 16 -> Short.reverseBytes((short) v) & 0xffffL;
            case 32 -> Integer.reverseBytes((int) v) & 0xffffffffL;
            default -> Long.reverseBytes(v);
        };
    }
}

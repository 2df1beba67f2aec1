package org.modnet.ebpf.impl;

import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfException;

/**
 * A program's instructions, checked for what no engine may run: unknown opcodes, registers outside
 * r0–r10 (and writes to the read-only r10), reserved fields that are not zero, jumps and calls that
 * leave the program or land inside a 16-byte {@code lddw}, and a last instruction from which execution
 * could fall off the end. The engines rely on these checks; the verifier adds the proofs about values.
 * The decoded fields are kept in arrays the engines index directly.
 */
public final class Program {
    private final String name;
    private final long[] insns;
    final int[] op;
    final int[] dst;
    final int[] src;
    final int[] off;
    final int[] imm;
    /** For {@code lddw}: the 64-bit immediate, at the first slot. */
    final long[] imm64;
    private boolean[] second;
    /** The kernel's func_info in part: subprograms (their first instruction) whose BTF return type is no int. */
    private int[] nonScalarReturns = new int[0];
    /** Global functions, as {@code BpfObject.ProgramDef#globalFuncs} lists them. */
    private int[] globalFuncs = new int[0];

    private Program(String name, long[] insns) {
        this.name = name;
        this.insns = insns.clone();
        int n = insns.length;
        op = new int[n];
        dst = new int[n];
        src = new int[n];
        off = new int[n];
        imm = new int[n];
        imm64 = new long[n];
        for (int i = 0; i < n; i++) {
            long x = insns[i];
            op[i] = Bpf.opcode(x);
            dst[i] = Bpf.dst(x);
            src[i] = Bpf.src(x);
            off[i] = Bpf.off(x);
            imm[i] = Bpf.imm(x);
        }
    }

    /** The instructions, checked; throws the first problem with its instruction index. */
    public static Program of(String name, long[] insns) throws BpfException {
        Program p = new Program(name, insns);
        p.check();
        return p;
    }

    public String name() {
        return name;
    }

    /** This program with the starts of its subprograms that return no int, as BTF says ({@code func_info}). */
    public Program withNonScalarReturns(int[] starts) {
        return with(starts, globalFuncs);
    }

    /** This program with its global functions ({@code BpfObject.ProgramDef#globalFuncs}), which the verifier checks apart. */
    public Program withGlobalFuncs(int[] funcs) {
        return with(nonScalarReturns, funcs);
    }

    private Program with(int[] starts, int[] funcs) {
        Program p = new Program(name, insns);
        p.nonScalarReturns = starts.clone();
        p.globalFuncs = funcs.clone();
        try {
            p.check();
        } catch (BpfException e) {
            throw new IllegalStateException("a checked program no longer checks", e);
        }
        return p;
    }

    int[] nonScalarReturns() {
        return nonScalarReturns;
    }

    int[] globalFuncs() {
        return globalFuncs;
    }

    /** The instructions as loaded (a copy). */
    public long[] instructions() {
        return insns.clone();
    }

    public int length() {
        return insns.length;
    }

    /** The decoded opcode of instruction {@code i}. */
    public int opcode(int i) {
        return op[i];
    }

    public int dst(int i) {
        return dst[i];
    }

    public int src(int i) {
        return src[i];
    }

    public int off(int i) {
        return off[i];
    }

    public int imm(int i) {
        return imm[i];
    }

    public long imm64(int i) {
        return imm64[i];
    }

    /** Replaces the immediate of an {@code lddw} (map relocation); the program must be checked again by its user. */
    public Program withImm64(int i, int srcReg, long value) throws BpfException {
        long[] copy = insns.clone();
        copy[i] = Bpf.encode(op[i], dst[i], srcReg, off[i], (int) value);
        copy[i + 1] = Bpf.encode(0, 0, 0, 0, (int) (value >>> 32));
        return of(name, copy);
    }

    /** Whether instruction {@code i} is the second half of an {@code lddw}. */
    public boolean isSecondHalf(int i) {
        return second[i];
    }

    private void check() throws BpfException {
        int n = insns.length;
        if (n == 0) {
            throw new BpfException("the program has no instructions");
        }
        if (n > 1_000_000) {
            throw new BpfException("program of " + n + " instructions is too large (BPF_COMPLEXITY_LIMIT_INSNS)");
        }
        second = new boolean[n];
        for (int i = 0; i < n; i++) {
            if (second[i]) {
                continue;
            }
            int o = op[i];
            int cls = Bpf.cls(o);
            if (dst[i] > 10 || src[i] > 10 && !(o == (Bpf.LD | Bpf.IMM | Bpf.DW))) {
                throw new BpfException(i, "invalid register: r" + Math.max(dst[i], src[i]));
            }
            switch (cls) {
                case Bpf.ALU, Bpf.ALU64 -> checkAlu(i, o, cls);
                case Bpf.JMP, Bpf.JMP32 -> checkJump(i, o, cls);
                case Bpf.LD -> {
                    int mode = o & 0xe0;
                    if (mode == Bpf.ABS || mode == Bpf.IND) {
                        // the legacy packet loads (check_ld_abs): r0 gets the value, the size is not DW
                        if (dst[i] != 0 || off[i] != 0 || (o & 0x18) == Bpf.DW || (mode == Bpf.ABS && src[i] != 0)) {
                            throw new BpfException(i, "BPF_LD_[ABS|IND] uses reserved fields");
                        }
                        continue;
                    }
                    if (o != (Bpf.LD | Bpf.IMM | Bpf.DW)) {
                        throw new BpfException(i, "unknown opcode " + hex(o));
                    }
                    if (i + 1 >= n || op[i + 1] != 0 || dst[i + 1] != 0 || src[i + 1] != 0 || off[i + 1] != 0) {
                        throw new BpfException(i, "invalid BPF_LD_IMM insn");
                    }
                    if (off[i] != 0 || src[i] > 6) {
                        throw new BpfException(i, "invalid BPF_LD_IMM insn");
                    }
                    second[i + 1] = true;
                    imm64[i] = (imm[i] & 0xffffffffL) | ((long) imm[i + 1] << 32);
                }
                case Bpf.LDX -> {
                    int mode = o & 0xe0;
                    if ((mode != Bpf.MEM && mode != Bpf.MEMSX) || (mode == Bpf.MEMSX && (o & 0x18) == Bpf.DW) || imm[i] != 0) {
                        throw new BpfException(i, mode == Bpf.MEM || mode == Bpf.MEMSX ? "BPF_LDX uses reserved fields" : "unknown opcode " + hex(o));
                    }
                }
                case Bpf.ST -> {
                    if ((o & 0xe0) != Bpf.MEM || src[i] != 0) {
                        throw new BpfException(i, (o & 0xe0) != Bpf.MEM ? "unknown opcode " + hex(o) : "BPF_ST uses reserved fields");
                    }
                }
                case Bpf.STX -> {
                    int mode = o & 0xe0;
                    if (mode == Bpf.MEM) {
                        if (imm[i] != 0) {
                            throw new BpfException(i, "BPF_STX uses reserved fields");
                        }
                    } else if (mode == Bpf.ATOMIC) {
                        int size = o & 0x18;
                        int a = imm[i];
                        boolean known = a == Bpf.ADD || a == Bpf.OR || a == Bpf.AND || a == Bpf.XOR
                                || a == (Bpf.ADD | Bpf.FETCH) || a == (Bpf.OR | Bpf.FETCH) || a == (Bpf.AND | Bpf.FETCH)
                                || a == (Bpf.XOR | Bpf.FETCH) || a == Bpf.XCHG || a == Bpf.CMPXCHG;
                        if ((size != Bpf.W && size != Bpf.DW) || !known) {
                            throw new BpfException(i, "BPF_ATOMIC uses invalid atomic opcode " + hex(a));
                        }
                    } else {
                        throw new BpfException(i, "unknown opcode " + hex(o));
                    }
                }
                default -> throw new BpfException(i, "unknown opcode " + hex(o));
            }
        }
        int last = n - 1;
        if (second[last]) {
            last--;
        }
        int lo = op[last];
        if (lo != (Bpf.JMP | Bpf.EXIT) && lo != (Bpf.JMP | Bpf.JA) && lo != (Bpf.JMP32 | Bpf.JA)) {
            throw new BpfException(last, "the last instruction is not an exit or a jump: execution would fall off the end");
        }
        for (int i = 0; i < n; i++) {
            if (second[i]) {
                continue;
            }
            int o = op[i];
            int cls = Bpf.cls(o);
            if ((cls == Bpf.JMP || cls == Bpf.JMP32) && (o & 0xf0) != Bpf.EXIT && !(o == (Bpf.JMP | Bpf.CALL) && src[i] == 0)
                    && o != (Bpf.JMP | Bpf.CALL | Bpf.X)) {
                int t = target(i);
                if (t < 0 || t >= n) {
                    throw new BpfException(i, "jump out of range from insn " + i + " to " + t);
                }
                if (second[t]) {
                    throw new BpfException(i, "jump into the middle of ldimm64 insn " + (t - 1));
                }
            }
        }
    }

    /** The instruction a jump or local call at {@code i} goes to. */
    public int target(int i) {
        if (op[i] == (Bpf.JMP32 | Bpf.JA) || op[i] == (Bpf.JMP | Bpf.CALL)) {
            return i + 1 + imm[i];
        }
        return i + 1 + off[i];
    }

    private void checkAlu(int i, int o, int cls) throws BpfException {
        int operation = o & 0xf0;
        boolean x = (o & Bpf.X) != 0;
        switch (operation) {
            case Bpf.NEG -> {
                if (x || src[i] != 0 || off[i] != 0 || imm[i] != 0) {
                    throw new BpfException(i, "BPF_NEG uses reserved fields");
                }
            }
            case Bpf.END -> {
                if (cls == Bpf.ALU64 && x) {
                    throw new BpfException(i, "unknown opcode " + hex(o));
                }
                if (src[i] != 0 || off[i] != 0 || (imm[i] != 16 && imm[i] != 32 && imm[i] != 64)) {
                    throw new BpfException(i, "BPF_END uses reserved fields");
                }
            }
            case Bpf.ADD, Bpf.SUB, Bpf.MUL, Bpf.DIV, Bpf.OR, Bpf.AND, Bpf.LSH, Bpf.RSH, Bpf.MOD, Bpf.XOR, Bpf.MOV, Bpf.ARSH -> {
                int o16 = off[i];
                boolean offOk = o16 == 0 || ((operation == Bpf.DIV || operation == Bpf.MOD) && o16 == 1)
                        || (operation == Bpf.MOV && x && (o16 == 8 || o16 == 16 || (o16 == 32 && cls == Bpf.ALU64)));
                if (x ? imm[i] != 0 || !offOk : src[i] != 0 || !(o16 == 0 || ((operation == Bpf.DIV || operation == Bpf.MOD) && o16 == 1))) {
                    throw new BpfException(i, "BPF_ALU uses reserved fields");
                }
            }
            default -> throw new BpfException(i, "unknown opcode " + hex(o));
        }
    }

    private void checkJump(int i, int o, int cls) throws BpfException {
        int operation = o & 0xf0;
        boolean x = (o & Bpf.X) != 0;
        switch (operation) {
            case Bpf.JA -> {
                if (x || dst[i] != 0 || src[i] != 0 || (cls == Bpf.JMP ? imm[i] != 0 : off[i] != 0)) {
                    throw new BpfException(i, "BPF_JA uses reserved fields");
                }
            }
            case Bpf.CALL -> {
                if (cls != Bpf.JMP || off[i] != 0) {
                    throw new BpfException(i, "BPF_CALL uses reserved fields");
                }
                if (x ? src[i] != 0 || imm[i] != 0 : dst[i] != 0 || src[i] > Kfuncs.PSEUDO_KFUNC_CALL) {
                    throw new BpfException(i, "BPF_CALL uses reserved fields");
                }
            }
            case Bpf.EXIT -> {
                if (cls != Bpf.JMP || x || dst[i] != 0 || src[i] != 0 || off[i] != 0 || imm[i] != 0) {
                    throw new BpfException(i, "BPF_EXIT uses reserved fields");
                }
            }
            case Bpf.JEQ, Bpf.JGT, Bpf.JGE, Bpf.JSET, Bpf.JNE, Bpf.JSGT, Bpf.JSGE, Bpf.JLT, Bpf.JLE, Bpf.JSLT, Bpf.JSLE -> {
                if (x ? imm[i] != 0 : src[i] != 0) {
                    throw new BpfException(i, "BPF_JMP/JMP32 uses reserved fields");
                }
            }
            default -> throw new BpfException(i, "unknown opcode " + hex(o));
        }
    }

    static String hex(int v) {
        return String.format("%#04x", v);
    }
}

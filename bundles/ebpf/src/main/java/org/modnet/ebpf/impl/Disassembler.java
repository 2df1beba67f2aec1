package org.modnet.ebpf.impl;

import java.util.ArrayList;
import java.util.List;

import org.modnet.ebpf.api.Bpf;

/**
 * The disassembler: each instruction in the syntax {@link Assembler} reads back ({@code mov32 %r0, 0},
 * {@code ldxdw %r1, [%r10-8]}, {@code jeq %r1, 2, +3}, {@code call local +5}), so assembling the text
 * gives the same instructions. {@code bpftool prog dump} prints it with instruction numbers.
 */
public final class Disassembler {
    private static final String[] ALU = new String[16];
    private static final String[] JMP = new String[16];

    static {
        ALU[Bpf.ADD >> 4] = "add";
        ALU[Bpf.SUB >> 4] = "sub";
        ALU[Bpf.MUL >> 4] = "mul";
        ALU[Bpf.DIV >> 4] = "div";
        ALU[Bpf.OR >> 4] = "or";
        ALU[Bpf.AND >> 4] = "and";
        ALU[Bpf.LSH >> 4] = "lsh";
        ALU[Bpf.RSH >> 4] = "rsh";
        ALU[Bpf.MOD >> 4] = "mod";
        ALU[Bpf.XOR >> 4] = "xor";
        ALU[Bpf.MOV >> 4] = "mov";
        ALU[Bpf.ARSH >> 4] = "arsh";
        JMP[Bpf.JEQ >> 4] = "jeq";
        JMP[Bpf.JGT >> 4] = "jgt";
        JMP[Bpf.JGE >> 4] = "jge";
        JMP[Bpf.JSET >> 4] = "jset";
        JMP[Bpf.JNE >> 4] = "jne";
        JMP[Bpf.JSGT >> 4] = "jsgt";
        JMP[Bpf.JSGE >> 4] = "jsge";
        JMP[Bpf.JLT >> 4] = "jlt";
        JMP[Bpf.JLE >> 4] = "jle";
        JMP[Bpf.JSLT >> 4] = "jslt";
        JMP[Bpf.JSLE >> 4] = "jsle";
    }

    private Disassembler() {
    }

    /** One line per instruction; the second slot of an {@code lddw} is null (it has no text of its own). */
    public static List<String> disassemble(long[] insns) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < insns.length; i++) {
            long x = insns[i];
            if (Bpf.opcode(x) == (Bpf.LD | Bpf.IMM | Bpf.DW) && i + 1 < insns.length) {
                long v = (Bpf.imm(x) & 0xffffffffL) | ((long) Bpf.imm(insns[i + 1]) << 32);
                if (Bpf.src(x) == Bpf.PSEUDO_MAP_FD && Bpf.imm(insns[i + 1]) == 0) {
                    out.add("ldmap %r" + Bpf.dst(x) + ", " + Bpf.imm(x));
                    out.add(null);
                    i++;
                    continue;
                }
                if (Bpf.src(x) == Bpf.PSEUDO_MAP_VALUE) {
                    out.add("ldmapval %r" + Bpf.dst(x) + ", " + Bpf.imm(x) + ", " + Bpf.imm(insns[i + 1]));
                    out.add(null);
                    i++;
                    continue;
                }
                String kind = switch (Bpf.src(x)) {
                    case 0 -> "";
                    case Bpf.PSEUDO_MAP_FD -> " # map";
                    default -> " # src " + Bpf.src(x);
                };
                out.add("lddw %r" + Bpf.dst(x) + ", 0x" + Long.toHexString(v) + kind);
                out.add(null);
                i++;
                continue;
            }
            out.add(insn(x));
        }
        return out;
    }

    /** One instruction's text. */
    public static String insn(long x) {
        int o = Bpf.opcode(x);
        int d = Bpf.dst(x);
        int s = Bpf.src(x);
        int off = Bpf.off(x);
        int imm = Bpf.imm(x);
        int cls = Bpf.cls(o);
        int operation = o & 0xf0;
        boolean reg = (o & Bpf.X) != 0;
        String rd = "%r" + d;
        String rs = "%r" + s;
        switch (cls) {
            case Bpf.ALU, Bpf.ALU64 -> {
                String w = cls == Bpf.ALU ? "32" : "";
                if (operation == Bpf.NEG) {
                    return "neg" + w + " " + rd;
                }
                if (operation == Bpf.END) {
                    String name = cls == Bpf.ALU64 ? "bswap" : reg ? "be" : "le";
                    return name + imm + " " + rd;
                }
                if (operation == Bpf.MOV && reg && off != 0) {
                    return "movsx" + off + (cls == Bpf.ALU ? "32" : "64") + " " + rd + ", " + rs;
                }
                String name = ALU[operation >> 4];
                if (name == null) {
                    return unknown(x);
                }
                if (off == 1 && (operation == Bpf.DIV || operation == Bpf.MOD)) {
                    name = "s" + name;
                }
                return name + w + " " + rd + ", " + (reg ? rs : String.valueOf(imm));
            }
            case Bpf.LD -> {
                // ubpf's words for the legacy packet loads (r0 gets the value)
                if ((o & 0xe0) == Bpf.ABS) {
                    return "ldabs" + size(o) + " " + imm;
                }
                if ((o & 0xe0) == Bpf.IND) {
                    return "ldind" + size(o) + " " + rs + ", " + imm;
                }
                return unknown(x);
            }
            case Bpf.LDX -> {
                return "ldx" + ((o & 0xe0) == Bpf.MEMSX ? "s" : "") + size(o) + " " + rd + ", " + mem(s, off);
            }
            case Bpf.ST -> {
                return "st" + size(o) + " " + mem(d, off) + ", " + imm;
            }
            case Bpf.STX -> {
                if ((o & 0xe0) == Bpf.ATOMIC) {
                    String w = (o & 0x18) == Bpf.W ? "32" : "";
                    String name = switch (imm) {
                        case Bpf.XCHG -> "xchg";
                        case Bpf.CMPXCHG -> "cmpxchg";
                        default -> ((imm & Bpf.FETCH) != 0 ? "fetch " : "") + ALU[(imm & 0xf0) >> 4];
                    };
                    return "lock " + name + w + " " + mem(d, off) + ", " + rs;
                }
                return "stx" + size(o) + " " + mem(d, off) + ", " + rs;
            }
            default -> {
                String w = cls == Bpf.JMP32 ? "32" : "";
                switch (operation) {
                    case Bpf.JA -> {
                        return cls == Bpf.JMP32 ? "ja32 " + signed(imm) : "ja " + signed(off);
                    }
                    case Bpf.EXIT -> {
                        return "exit";
                    }
                    case Bpf.CALL -> {
                        if (reg) {
                            return "call " + rd;
                        }
                        return s == Bpf.PSEUDO_CALL ? "call local " + signed(imm) : "call " + imm;
                    }
                    default -> {
                        String name = JMP[operation >> 4];
                        if (name == null) {
                            return unknown(x);
                        }
                        return name + w + " " + rd + ", " + (reg ? rs : String.valueOf(imm)) + ", " + signed(off);
                    }
                }
            }
        }
    }

    private static String size(int o) {
        return switch (o & 0x18) {
            case Bpf.B -> "b";
            case Bpf.H -> "h";
            case Bpf.W -> "w";
            default -> "dw";
        };
    }

    private static String mem(int r, int off) {
        return "[%r" + r + (off < 0 ? "-" + (-off) : "+" + off) + "]";
    }

    private static String signed(int v) {
        return v < 0 ? String.valueOf(v) : "+" + v;
    }

    private static String unknown(long x) {
        return ".insn 0x" + Long.toHexString(x) + " # unknown";
    }
}

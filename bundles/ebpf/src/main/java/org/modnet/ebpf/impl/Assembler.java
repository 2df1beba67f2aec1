package org.modnet.ebpf.impl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfException;

/**
 * The eBPF assembler for the ubpf syntax the bpf_conformance suite is written in: one instruction per
 * line, {@code #} comments, {@code name:} labels, registers {@code %r0}..{@code %r10}, memory operands
 * {@code [%r1+8]}, and the mnemonics of RFC 9669 — {@code mov}/{@code mov32}, {@code add}..{@code arsh}
 * (with {@code 32} for ALU32), {@code sdiv}/{@code smod}, {@code movsx864}.., {@code neg}, {@code le16}..,
 * {@code be16}.., {@code bswap16}.. (also {@code swap16}..), {@code lddw}, {@code ldx[s]b/h/w/dw},
 * {@code st*}/{@code stx*}, {@code lock [fetch] add|or|and|xor|xchg|cmpxchg[32]}, {@code ja}/{@code ja32},
 * conditional jumps (with {@code 32} for JMP32), {@code call N}, {@code call local LABEL},
 * {@code call %rN}, {@code exit}; {@code ldmap %rN, M} for an {@code lddw} of the program's map M, and
 * {@code ldmapval %rN, M, OFF} for the address of byte OFF of its value (global data). Errors name the line: "line 3: invalid register %r50".
 */
public final class Assembler {
    private Assembler() {
    }

    private static final Map<String, Integer> ALU = Map.ofEntries(Map.entry("add", Bpf.ADD), Map.entry("sub", Bpf.SUB),
            Map.entry("mul", Bpf.MUL), Map.entry("div", Bpf.DIV), Map.entry("or", Bpf.OR), Map.entry("and", Bpf.AND),
            Map.entry("lsh", Bpf.LSH), Map.entry("rsh", Bpf.RSH), Map.entry("mod", Bpf.MOD), Map.entry("xor", Bpf.XOR),
            Map.entry("mov", Bpf.MOV), Map.entry("arsh", Bpf.ARSH), Map.entry("sdiv", Bpf.DIV), Map.entry("smod", Bpf.MOD));

    private static final Map<String, Integer> JUMPS = Map.ofEntries(Map.entry("jeq", Bpf.JEQ), Map.entry("jgt", Bpf.JGT),
            Map.entry("jge", Bpf.JGE), Map.entry("jset", Bpf.JSET), Map.entry("jne", Bpf.JNE), Map.entry("jsgt", Bpf.JSGT),
            Map.entry("jsge", Bpf.JSGE), Map.entry("jlt", Bpf.JLT), Map.entry("jle", Bpf.JLE), Map.entry("jslt", Bpf.JSLT),
            Map.entry("jsle", Bpf.JSLE));

    private static final Map<String, Integer> SIZES = Map.of("b", Bpf.B, "h", Bpf.H, "w", Bpf.W, "dw", Bpf.DW);

    private static final Map<String, Integer> ATOMICS = Map.of("add", Bpf.ADD, "or", Bpf.OR, "and", Bpf.AND, "xor", Bpf.XOR);

    /** One source line's instruction before labels are resolved. */
    private record Line(int number, String mnemonic, List<String> operands, int slot) {
    }

    /** Assembles the text; throws with the line of the first error. */
    public static long[] assemble(String text) throws BpfException {
        List<Line> lines = new ArrayList<>();
        Map<String, Integer> labels = new HashMap<>();
        int slot = 0;
        int n = 0;
        for (String raw : text.split("\n", -1)) {
            n++;
            String s = raw;
            int hash = s.indexOf('#');
            if (hash >= 0) {
                s = s.substring(0, hash);
            }
            s = s.strip();
            while (!s.isEmpty()) {
                int colon = s.indexOf(':');
                if (colon > 0 && s.substring(0, colon).matches("[A-Za-z_.][A-Za-z0-9_.]*")) {
                    String label = s.substring(0, colon);
                    if (labels.put(label, slot) != null) {
                        throw new BpfException("line " + n + ": label " + label + " is defined twice");
                    }
                    s = s.substring(colon + 1).strip();
                } else {
                    break;
                }
            }
            if (s.isEmpty()) {
                continue;
            }
            if (s.startsWith("--")) {
                throw new BpfException("line " + n + ": unknown directive " + s);
            }
            String[] parts = s.split("\\s+", 2);
            String mnemonic = parts[0].toLowerCase(Locale.ROOT);
            List<String> operands = new ArrayList<>();
            if (mnemonic.equals("lock") || mnemonic.equals("call")) {
                // lock [fetch] op [..], %r; call local NAME: words, then operands
                String rest = parts.length > 1 ? parts[1] : "";
                String[] words = rest.split("\\s+", 3);
                int i = 0;
                boolean call = mnemonic.equals("call");
                while (i < words.length && !words[i].isEmpty() && !words[i].startsWith("[") && !words[i].startsWith("%")
                        && !words[i].matches("-?[0-9].*") && !(call && i > 0)) {
                    mnemonic += " " + words[i].toLowerCase(Locale.ROOT);
                    i++;
                }
                String tail = String.join(" ", java.util.Arrays.copyOfRange(words, i, words.length)).strip();
                splitOperands(tail, operands);
            } else if (parts.length > 1) {
                splitOperands(parts[1], operands);
            }
            lines.add(new Line(n, mnemonic, operands, slot));
            slot += mnemonic.equals("lddw") || mnemonic.startsWith("ldmap") ? 2 : 1;
        }
        if (lines.isEmpty()) {
            throw new BpfException("the program has no instructions");
        }
        long[] out = new long[slot];
        boolean[] exits = new boolean[slot];
        for (Line l : lines) {
            exits[l.slot] = l.mnemonic.equals("exit");
        }
        for (Line l : lines) {
            try {
                encode(l, labels, out, exits);
            } catch (NumberFormatException e) {
                throw new BpfException("line " + l.number + ": invalid number in \"" + String.join(", ", l.operands) + "\"");
            } catch (IllegalArgumentException e) {
                throw new BpfException("line " + l.number + ": " + e.getMessage());
            }
        }
        return out;
    }

    private static void splitOperands(String text, List<String> out) {
        for (String o : text.split(",")) {
            String t = o.strip();
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
    }

    private static void encode(Line l, Map<String, Integer> labels, long[] out, boolean[] exits) {
        String m = l.mnemonic;
        List<String> ops = l.operands;
        int at = l.slot;
        if (m.equals("exit")) {
            count(ops, 0, m);
            out[at] = Bpf.encode(Bpf.JMP | Bpf.EXIT, 0, 0, 0, 0);
            return;
        }
        if (m.equals("ldmap")) {
            // lddw of a map (BPF_PSEUDO_MAP_FD): the program's map number N, what libbpf's relocation gives
            count(ops, 2, m);
            out[at] = Bpf.encode(Bpf.LD | Bpf.IMM | Bpf.DW, register(ops.get(0)), Bpf.PSEUDO_MAP_FD, 0, (int) number(ops.get(1), 32));
            out[at + 1] = 0;
            return;
        }
        if (m.equals("ldmapval")) {
            // lddw of a map value (BPF_PSEUDO_MAP_VALUE): the address of byte OFF of map N's value, as global data is reached
            count(ops, 3, m);
            out[at] = Bpf.encode(Bpf.LD | Bpf.IMM | Bpf.DW, register(ops.get(0)), Bpf.PSEUDO_MAP_VALUE, 0, (int) number(ops.get(1), 32));
            out[at + 1] = Bpf.encode(0, 0, 0, 0, (int) number(ops.get(2), 32));
            return;
        }
        if (m.equals("lddw")) {
            count(ops, 2, m);
            long v = number(ops.get(1), 64);
            out[at] = Bpf.encode(Bpf.LD | Bpf.IMM | Bpf.DW, register(ops.get(0)), 0, 0, (int) v);
            out[at + 1] = Bpf.encode(0, 0, 0, 0, (int) (v >>> 32));
            return;
        }
        if (m.startsWith("lock")) {
            encodeAtomic(m, ops, out, at);
            return;
        }
        if (m.startsWith("call")) {
            encodeCall(m, ops, labels, out, at);
            return;
        }
        if (m.equals("neg") || m.equals("neg32") || m.equals("neg64")) {
            count(ops, 1, m);
            out[at] = Bpf.encode((m.equals("neg32") ? Bpf.ALU : Bpf.ALU64) | Bpf.NEG, register(ops.get(0)), 0, 0, 0);
            return;
        }
        java.util.regex.Matcher end = java.util.regex.Pattern.compile("(le|be|bswap|swap)(16|32|64)").matcher(m);
        if (end.matches()) {
            count(ops, 1, m);
            int opcode = switch (end.group(1)) {
                case "le" -> Bpf.ALU | Bpf.END | Bpf.K;
                case "be" -> Bpf.ALU | Bpf.END | Bpf.X;
                default -> Bpf.ALU64 | Bpf.END;
            };
            out[at] = Bpf.encode(opcode, register(ops.get(0)), 0, 0, Integer.parseInt(end.group(2)));
            return;
        }
        java.util.regex.Matcher sx = java.util.regex.Pattern.compile("movsx(8|16|32)(32|64)").matcher(m);
        if (sx.matches()) {
            count(ops, 2, m);
            int from = Integer.parseInt(sx.group(1));
            boolean wide = sx.group(2).equals("64");
            if (!wide && from == 32) {
                throw new IllegalArgumentException("invalid mnemonic " + m);
            }
            out[at] = Bpf.encode((wide ? Bpf.ALU64 : Bpf.ALU) | Bpf.MOV | Bpf.X, register(ops.get(0)), register(ops.get(1)), from, 0);
            return;
        }
        String base = m.endsWith("32") ? m.substring(0, m.length() - 2) : m.endsWith("64") ? m.substring(0, m.length() - 2) : m;
        boolean is32 = m.endsWith("32");
        if (ALU.containsKey(base) && !m.startsWith("ja")) {
            count(ops, 2, m);
            int signed = base.equals("sdiv") || base.equals("smod") ? 1 : 0;
            int cls = is32 ? Bpf.ALU : Bpf.ALU64;
            int dst = register(ops.get(0));
            if (isRegister(ops.get(1))) {
                out[at] = Bpf.encode(cls | ALU.get(base) | Bpf.X, dst, register(ops.get(1)), signed, 0);
            } else {
                out[at] = Bpf.encode(cls | ALU.get(base) | Bpf.K, dst, 0, signed, (int) number(ops.get(1), 32));
            }
            return;
        }
        if (m.equals("ja") || m.equals("ja32")) {
            count(ops, 1, m);
            int target = target(ops.get(0), labels, at, exits);
            out[at] = m.equals("ja") ? Bpf.encode(Bpf.JMP | Bpf.JA, 0, 0, offset16(target), 0)
                    : Bpf.encode(Bpf.JMP32 | Bpf.JA, 0, 0, 0, target);
            return;
        }
        if (JUMPS.containsKey(base)) {
            count(ops, 3, m);
            int cls = is32 ? Bpf.JMP32 : Bpf.JMP;
            int dst = register(ops.get(0));
            int off = offset16(target(ops.get(2), labels, at, exits));
            if (isRegister(ops.get(1))) {
                out[at] = Bpf.encode(cls | JUMPS.get(base) | Bpf.X, dst, register(ops.get(1)), off, 0);
            } else {
                out[at] = Bpf.encode(cls | JUMPS.get(base) | Bpf.K, dst, 0, off, (int) number(ops.get(1), 32));
            }
            return;
        }
        java.util.regex.Matcher legacy = java.util.regex.Pattern.compile("(ldabs|ldind)(b|h|w)").matcher(m);
        if (legacy.matches()) { // ubpf's legacy packet loads: ldabsw 12, ldindb %r7, 14
            boolean ind = legacy.group(1).equals("ldind");
            count(ops, ind ? 2 : 1, m);
            int size = SIZES.get(legacy.group(2));
            out[at] = Bpf.encode(Bpf.LD | (ind ? Bpf.IND : Bpf.ABS) | size, 0, ind ? register(ops.get(0)) : 0, 0,
                    (int) number(ops.get(ind ? 1 : 0), 32));
            return;
        }
        java.util.regex.Matcher mem = java.util.regex.Pattern.compile("(ldx|ldxs|stx|st)(b|h|w|dw)").matcher(m);
        if (mem.matches()) {
            count(ops, 2, m);
            int size = SIZES.get(mem.group(2));
            switch (mem.group(1)) {
                case "ldx", "ldxs" -> {
                    if (mem.group(1).equals("ldxs") && size == Bpf.DW) {
                        throw new IllegalArgumentException("invalid mnemonic " + m);
                    }
                    int[] a = memory(ops.get(1));
                    out[at] = Bpf.encode(Bpf.LDX | (mem.group(1).equals("ldxs") ? Bpf.MEMSX : Bpf.MEM) | size,
                            register(ops.get(0)), a[0], a[1], 0);
                }
                case "stx" -> {
                    int[] a = memory(ops.get(0));
                    out[at] = Bpf.encode(Bpf.STX | Bpf.MEM | size, a[0], register(ops.get(1)), a[1], 0);
                }
                default -> {
                    int[] a = memory(ops.get(0));
                    out[at] = Bpf.encode(Bpf.ST | Bpf.MEM | size, a[0], 0, a[1], (int) number(ops.get(1), 32));
                }
            }
            return;
        }
        throw new IllegalArgumentException("invalid mnemonic " + m);
    }

    private static void encodeAtomic(String m, List<String> ops, long[] out, int at) {
        String[] w = m.split(" ");
        if (w.length < 2 || ops.size() != 2) {
            throw new IllegalArgumentException("Invalid number of operands for lock");
        }
        boolean fetch = w.length == 3 && w[1].equals("fetch");
        String op = w[w.length - 1];
        if (w.length > 3 || (w.length == 3 && !fetch)) {
            throw new IllegalArgumentException("invalid atomic operation " + m);
        }
        boolean is32 = op.endsWith("32");
        String base = is32 ? op.substring(0, op.length() - 2) : op;
        int imm;
        if (base.equals("xchg")) {
            imm = Bpf.XCHG;
        } else if (base.equals("cmpxchg")) {
            imm = Bpf.CMPXCHG;
        } else if (ATOMICS.containsKey(base)) {
            imm = ATOMICS.get(base) | (fetch ? Bpf.FETCH : 0);
        } else {
            throw new IllegalArgumentException("invalid atomic operation " + m);
        }
        if (fetch && (base.equals("xchg") || base.equals("cmpxchg"))) {
            throw new IllegalArgumentException("invalid atomic operation " + m);
        }
        int[] a = memory(ops.get(0));
        out[at] = Bpf.encode(Bpf.STX | Bpf.ATOMIC | (is32 ? Bpf.W : Bpf.DW), a[0], register(ops.get(1)), a[1], imm);
    }

    private static void encodeCall(String m, List<String> ops, Map<String, Integer> labels, long[] out, int at) {
        if (m.equals("call local")) {
            count(ops, 1, m);
            Integer target = labels.get(ops.get(0));
            int rel;
            if (target != null) {
                rel = target - at - 1;
            } else if (ops.get(0).matches("[+-][0-9]+")) {
                rel = Integer.parseInt(ops.get(0).replace("+", "")); // relative, as the disassembler prints it
            } else {
                throw new IllegalArgumentException("invalid label " + ops.get(0));
            }
            out[at] = Bpf.encode(Bpf.JMP | Bpf.CALL, 0, Bpf.PSEUDO_CALL, 0, rel);
            return;
        }
        if (!m.equals("call")) {
            throw new IllegalArgumentException("invalid mnemonic " + m);
        }
        count(ops, 1, m);
        if (isRegister(ops.get(0))) {
            out[at] = Bpf.encode(Bpf.JMP | Bpf.CALL | Bpf.X, register(ops.get(0)), 0, 0, 0); // callx
        } else {
            out[at] = Bpf.encode(Bpf.JMP | Bpf.CALL, 0, 0, 0, (int) number(ops.get(0), 32));
        }
    }

    private static void count(List<String> ops, int n, String m) {
        if (ops.size() != n) {
            throw new IllegalArgumentException("invalid number of operands for " + m + ": " + ops.size() + " (needs " + n + ")");
        }
    }

    private static boolean isRegister(String s) {
        return s.startsWith("%") || s.matches("r[0-9]+");
    }

    private static int register(String s) {
        String r = s.startsWith("%") ? s.substring(1) : s;
        if (r.matches("r(10|[0-9])")) {
            return Integer.parseInt(r.substring(1));
        }
        throw new IllegalArgumentException("invalid register " + s);
    }

    /** {@code [%rN+off]}, {@code [%rN-off]} or {@code [%rN]}: register and offset. */
    private static int[] memory(String s) {
        if (!s.startsWith("[") || !s.endsWith("]")) {
            throw new IllegalArgumentException("invalid memory operand " + s);
        }
        String in = s.substring(1, s.length() - 1).replace(" ", "");
        int sign = Math.max(in.indexOf('+'), in.indexOf('-'));
        if (sign < 0) {
            return new int[] { register(in), 0 };
        }
        long off = number(in.substring(sign + (in.charAt(sign) == '+' ? 1 : 0)), 64);
        if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
            throw new IllegalArgumentException("offset out of range: " + in.substring(sign));
        }
        return new int[] { register(in.substring(0, sign)), (int) off };
    }

    /** A jump target: a label, or a signed offset ({@code +3}, {@code -2}); returned as the offset from the next slot. */
    private static int target(String s, Map<String, Integer> labels, int at, boolean[] exits) {
        Integer label = labels.get(s);
        if (label != null) {
            return label - at - 1;
        }
        if (s.equals("exit")) {
            // the suite's convention: "exit" names an exit instruction (the next one, else the last)
            int found = -1;
            for (int k = 0; k < exits.length; k++) {
                if (exits[k]) {
                    found = k;
                    if (k > at) {
                        break;
                    }
                }
            }
            if (found >= 0) {
                return found - at - 1;
            }
        }
        if (s.matches("[+-]?[0-9]+|[+-]?0x[0-9a-fA-F]+")) {
            return (int) number(s.startsWith("+") ? s.substring(1) : s, 32);
        }
        throw new IllegalArgumentException("invalid label " + s);
    }

    private static int offset16(int off) {
        if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
            throw new IllegalArgumentException("jump offset out of range: " + off);
        }
        return off;
    }

    /**
     * A decimal or hexadecimal number. For 32 bits a decimal must fit a signed int and a hexadecimal
     * 32 bits (0xffffffff is -1); for 64 bits anything a long holds, hexadecimal up to 16 digits.
     */
    static long number(String s, int bits) {
        String t = s.strip();
        boolean negative = t.startsWith("-");
        if (negative || t.startsWith("+")) {
            t = t.substring(1);
        }
        long v;
        boolean hex = t.startsWith("0x") || t.startsWith("0X");
        if (hex) {
            String digits = t.substring(2);
            if (digits.isEmpty() || digits.length() > 16) {
                throw new NumberFormatException(s);
            }
            v = Long.parseUnsignedLong(digits, 16);
            if (bits == 32 && (Long.compareUnsigned(v, 0xffffffffL) > 0)) {
                throw new IllegalArgumentException("immediate out of range: " + s);
            }
        } else {
            v = Long.parseUnsignedLong(t);
            if (bits == 32 && v > (negative ? 2147483648L : 2147483647L)) {
                throw new IllegalArgumentException("immediate out of range: " + s);
            }
            if (bits == 64 && !negative && v < 0) {
                // an unsigned decimal above Long.MAX_VALUE keeps its bits
            }
        }
        return negative ? -v : v;
    }
}

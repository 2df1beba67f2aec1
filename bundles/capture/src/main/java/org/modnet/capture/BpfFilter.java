package org.modnet.capture;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.modnet.ebpf.api.Assembler;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.Engines;
import org.modnet.ebpf.api.Executable;
import org.modnet.ebpf.api.Helpers;
import org.modnet.ebpf.api.Memory;
import org.modnet.ebpf.api.Program;

/**
 * tcpdump's filter compiled to eBPF, as libpcap compiles it to BPF: the expression becomes jumps to
 * "match" and "no match", every load guarded by the frame's length, and the program runs on each
 * frame in the project's VM (JIT-compiled). r6 holds the frame, r7 its length; the program returns 1
 * for a frame to keep. {@code tcpdump -d} prints it. The primitives mean what {@link Filter}'s do.
 */
final class BpfFilter {
    private final StringBuilder asm = new StringBuilder();
    private final FilterWords words;
    private int labels;
    private final String text;
    private final Executable executable;
    private final Memory memory = new Memory();

    private BpfFilter(FilterWords words) throws BpfException {
        this.words = words;
        line("mov %r6, %r1");
        line("mov %r7, %r2");
        if (words.isEmpty()) {
            line("ja match");
        } else {
            String match = "match";
            String miss = "miss";
            or(match, miss);
            words.end();
        }
        line("match:");
        line("mov %r0, 1");
        line("exit");
        line("miss:");
        line("mov %r0, 0");
        line("exit");
        this.text = asm.toString();
        Program p = Program.of("tcpdump", Assembler.assemble(text));
        this.executable = Engines.jit(p, new Helpers());
    }

    /** The compiled filter of the words after tcpdump's options. */
    static BpfFilter compile(List<String> args) {
        try {
            return new BpfFilter(new FilterWords(args));
        } catch (BpfException e) {
            throw new IllegalStateException("the filter compiled to a program the VM refused: " + e.getMessage(), e);
        }
    }

    /** Whether the frame passes. */
    boolean test(byte[] frame) {
        if (frame.length == 0) {
            return run(0, 0);
        }
        long base = memory.set(Memory.FIRST_FREE, MemorySegment.ofArray(frame), false);
        return run(base, frame.length);
    }

    private boolean run(long base, int len) {
        try {
            return executable.run(memory, base, len) == 1;
        } catch (Memory.Fault f) {
            return false; // every load is guarded; a fault would be a compiler bug, and the frame is not kept
        }
    }

    /** The program, one instruction per line, for {@code tcpdump -d}. */
    List<String> dump() throws BpfException {
        List<String> out = new ArrayList<>();
        int n = 0;
        for (String line : org.modnet.ebpf.api.Disassembler.disassemble(Assembler.assemble(text))) {
            if (line != null) {
                out.add(String.format("(%03d) %s", n, line));
            }
            n++;
        }
        return out;
    }

    private void line(String s) {
        asm.append(s).append('\n');
    }

    private String label() {
        return "L" + labels++;
    }

    // --- expression: each part jumps to yes or no ---

    private void or(String yes, String no) {
        String nextTry = label();
        and(yes, nextTry);
        while ("or".equals(words.peek()) || "||".equals(words.peek())) {
            words.next();
            line(nextTry + ":");
            nextTry = label();
            and(yes, nextTry);
        }
        line(nextTry + ":");
        line("ja " + no);
    }

    private void and(String yes, String no) {
        String ok = label();
        not(ok, no);
        while ("and".equals(words.peek()) || "&&".equals(words.peek())) {
            words.next();
            line(ok + ":");
            ok = label();
            not(ok, no);
        }
        line(ok + ":");
        line("ja " + yes);
    }

    private void not(String yes, String no) {
        String w = words.peek();
        if ("not".equals(w) || "!".equals(w)) {
            words.next();
            not(no, yes);
            return;
        }
        if ("(".equals(w)) {
            words.next();
            or(yes, no);
            if (!")".equals(words.next())) {
                throw new IllegalArgumentException("syntax error in filter expression: ')' expected");
            }
            return;
        }
        primitive(yes, no);
    }

    // --- primitives ---

    /** r3 = the big-endian 16-bit value at {@code off} (the length already checked). */
    private void u16(int off) {
        line("ldxh %r3, [%r6+" + off + "]");
        line("be16 %r3");
    }

    private void u32(int off) {
        line("ldxw %r3, [%r6+" + off + "]");
        line("be32 %r3");
    }

    private void etherType(int type, String no) {
        line("jlt %r7, 14, " + no);
        u16(12);
        line("jne %r3, " + type + ", " + no);
    }

    /** IPv4 as the decoder sees it: ethertype 0x0800, at least 34 bytes, version 4. */
    private void ipv4(String no) {
        line("jlt %r7, 34, " + no);
        u16(12);
        line("jne %r3, 0x800, " + no);
        line("ldxb %r3, [%r6+14]");
        line("rsh %r3, 4");
        line("jne %r3, 4, " + no);
    }

    private void primitive(String yes, String no) {
        String w = words.next();
        boolean src = true;
        boolean dst = true;
        if (w.equals("src") || w.equals("dst")) {
            src = w.equals("src");
            dst = w.equals("dst");
            w = words.next();
        }
        switch (w) {
            case "host" -> host(Filter.address(words.next()), src, dst, yes, no);
            case "net" -> {
                String n = words.next();
                int slash = n.indexOf('/');
                int len = slash < 0 ? 32 : Filter.number(n.substring(slash + 1), 32);
                int a = Filter.address(slash < 0 ? n : n.substring(0, slash));
                int mask = len == 0 ? 0 : -1 << (32 - len);
                ipv4(no);
                String trySecond = label();
                if (src) {
                    u32(26);
                    line("and32 %r3, " + mask);
                    line("jeq32 %r3, " + (a & mask) + ", " + yes);
                }
                if (dst) {
                    u32(30);
                    line("and32 %r3, " + mask);
                    line("jeq32 %r3, " + (a & mask) + ", " + yes);
                }
                line(trySecond + ":");
                line("ja " + no);
            }
            case "port" -> {
                int p = Filter.number(words.next(), 65535);
                ipv4(no);
                u16(20);
                line("and %r3, 0x1fff");
                line("jne %r3, 0, " + no); // not the first fragment: no ports
                line("ldxb %r3, [%r6+23]");
                String transport = label();
                line("jeq %r3, 6, " + transport);
                line("jne %r3, 17, " + no);
                line(transport + ":");
                line("ldxb %r4, [%r6+14]");
                line("and %r4, 0xf");
                line("lsh %r4, 2");
                line("mov %r3, %r4");
                line("add %r3, 18");
                line("jgt %r3, %r7, " + no);
                line("mov %r5, %r6");
                line("add %r5, %r4");
                if (src) {
                    line("ldxh %r3, [%r5+14]");
                    line("be16 %r3");
                    line("jeq %r3, " + p + ", " + yes);
                }
                if (dst) {
                    line("ldxh %r3, [%r5+16]");
                    line("be16 %r3");
                    line("jeq %r3, " + p + ", " + yes);
                }
                line("ja " + no);
            }
            case "ip" -> {
                etherType(0x0800, no);
                line("ja " + yes);
            }
            case "arp" -> {
                etherType(0x0806, no);
                line("ja " + yes);
            }
            case "icmp", "tcp", "udp" -> {
                int proto = w.equals("icmp") ? 1 : w.equals("tcp") ? 6 : 17;
                ipv4(no);
                line("ldxb %r3, [%r6+23]");
                line("jne %r3, " + proto + ", " + no);
                line("ja " + yes);
            }
            case "ether" -> {
                if (!"proto".equals(words.next())) {
                    throw new IllegalArgumentException("syntax error in filter expression: 'proto' expected after 'ether'");
                }
                String p = words.next();
                int type = p.startsWith("0x") ? Integer.parseInt(p.substring(2), 16) : Filter.number(p, 65535);
                etherType(type, no);
                line("ja " + yes);
            }
            default -> throw new IllegalArgumentException("syntax error in filter expression at \"" + w + "\"");
        }
    }

    /** IPv4 source/destination, or the sender/target protocol address of an ARP packet. */
    private void host(int a, boolean src, boolean dst, String yes, String no) {
        String arp = label();
        String v4 = label();
        // IPv4?
        line("jlt %r7, 34, " + arp);
        u16(12);
        line("jne %r3, 0x800, " + arp);
        line("ldxb %r3, [%r6+14]");
        line("rsh %r3, 4");
        line("jne %r3, 4, " + arp);
        line(v4 + ":");
        if (src) {
            u32(26);
            line("jeq32 %r3, " + a + ", " + yes);
        }
        if (dst) {
            u32(30);
            line("jeq32 %r3, " + a + ", " + yes);
        }
        line("ja " + no);
        line(arp + ":");
        line("jlt %r7, 42, " + no);
        u16(12);
        line("jne %r3, 0x806, " + no);
        if (src) {
            u32(28);
            line("jeq32 %r3, " + a + ", " + yes);
        }
        if (dst) {
            u32(38);
            line("jeq32 %r3, " + a + ", " + yes);
        }
        line("ja " + no);
    }
}

package org.modnet.capture;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.modnet.capture.FilterCode.Expr;
import org.modnet.capture.FilterCode.Node;
import org.modnet.capture.FilterCode.Op;
import org.modnet.capture.FilterCode.Test;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.SocketFilter;

/**
 * tcpdump's filter compiled to eBPF, as libpcap compiles it to BPF: the expression becomes a graph of
 * tests ({@link FilterCode}) that go to "match" and "no match", every load guarded by the frame's
 * length; {@link FilterOptimizer} shortens it unless {@code tcpdump -O} asks not to, and the program
 * runs on each frame in the project's VM — JIT-compiled, or interpreted when the JIT cannot take a
 * program that large. r6 holds the frame, r7 its length; the program returns 1 for a frame to keep.
 * {@code tcpdump -d} prints it. The primitives mean what {@link Filter}'s do.
 */
final class BpfFilter {
    private final FilterWords words;
    private final Node keep = Node.end(true);
    private final Node drop = Node.end(false);
    private final long[] insns;
    private final BpfSyscall bpf;
    private final SocketFilter program;

    /**
     * Longer programs are not offered to the JIT: at four bytes of JVM bytecode or more an instruction
     * they cannot fit the one method it makes, and trying costs seconds.
     */
    static final int JIT_MAX = 65536 / 4;

    private BpfFilter(BpfSyscall bpf, FilterWords words, boolean optimise) throws BpfException {
        this.words = words;
        this.bpf = bpf;
        Node root;
        if (words.isEmpty()) {
            root = keep;
        } else {
            root = or(keep, drop);
            words.end();
        }
        root = FilterCode.resolve(root);
        if (optimise) {
            root = FilterOptimizer.optimise(root);
        }
        this.insns = bpf.assemble(FilterCode.emit(root, optimise));
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
        try {
            return new BpfFilter(bpf, new FilterWords(args), optimise);
        } catch (BpfException e) {
            throw new IllegalStateException("the filter compiled to a program the VM refused: " + e.getMessage(), e);
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

    /** The program, one instruction per line, for {@code tcpdump -d}. */
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
        return new Node(new Test(e, op, k & 0xffffffffL, false), jt, jf);
    }

    private static final Expr ETHERTYPE = Expr.abs(2, 12);
    private static final Expr VERSION = Expr.abs(1, 14, 4, 0xf);
    private static final Expr PROTOCOL = Expr.abs(1, 23);
    private static final Expr FRAGMENT = Expr.abs(2, 20, 0, 0x1fff);

    // --- expression: each part goes to yes or no; "next" is a place for what comes later ---

    private Node or(Node yes, Node no) {
        Node next = new Node();
        Node entry = and(yes, next);
        while ("or".equals(words.peek()) || "||".equals(words.peek())) {
            words.next();
            Node after = new Node();
            next.alias = and(yes, after);
            next = after;
        }
        next.alias = no;
        return entry;
    }

    private Node and(Node yes, Node no) {
        Node next = new Node();
        Node entry = not(next, no);
        while ("and".equals(words.peek()) || "&&".equals(words.peek())) {
            words.next();
            Node after = new Node();
            next.alias = not(after, no);
            next = after;
        }
        next.alias = yes;
        return entry;
    }

    private Node not(Node yes, Node no) {
        words.enter();
        try {
            String w = words.peek();
            if ("not".equals(w) || "!".equals(w)) {
                words.next();
                return not(no, yes);
            }
            if ("(".equals(w)) {
                words.next();
                Node e = or(yes, no);
                if (!")".equals(words.next())) {
                    throw new IllegalArgumentException("syntax error in filter expression: ')' expected");
                }
                return e;
            }
            return primitive(yes, no);
        } finally {
            words.leave();
        }
    }

    // --- primitives ---

    private Node etherType(int type, Node yes, Node no) {
        return test(Expr.LEN, Op.GE, 14, test(ETHERTYPE, Op.EQ, type, yes, no), no);
    }

    /** IPv4 as the decoder sees it: ethertype 0x0800, at least 34 bytes, version 4. */
    private Node ipv4(Node yes, Node no) {
        return test(Expr.LEN, Op.GE, 34, test(ETHERTYPE, Op.EQ, 0x800, test(VERSION, Op.EQ, 4, yes, no), no), no);
    }

    /** Source or destination (as asked) equals a under the mask. */
    private Node either(int size, int srcOff, int dstOff, long mask, long a, boolean src, boolean dst, Node yes, Node no) {
        Node d = dst ? test(Expr.abs(size, dstOff, 0, mask), Op.EQ, a & mask, yes, no) : no;
        return src ? test(Expr.abs(size, srcOff, 0, mask), Op.EQ, a & mask, yes, d) : d;
    }

    /** The source or destination port (as asked) is p, where the frame holds the ports. */
    private Node ports(int p, boolean src, boolean dst, Node yes, Node no) {
        Node d = dst ? test(Expr.ind(2, 2), Op.EQ, p, yes, no) : no;
        Node s = src ? test(Expr.ind(2, 0), Op.EQ, p, yes, d) : d;
        return new Node(new Test(Expr.ihlEnd(18), Op.GT, 0, true), no, s); // ports past the frame's end
    }

    private Node primitive(Node yes, Node no) {
        String w = words.next();
        boolean src = true;
        boolean dst = true;
        if (w.equals("src") || w.equals("dst")) {
            src = w.equals("src");
            dst = w.equals("dst");
            w = words.next();
        }
        switch (w) {
            case "host" -> {
                long a = Filter.address(words.next()) & 0xffffffffL;
                // IPv4 source/destination, or the sender/target protocol address of an ARP packet; the
                // ethertype first, so that what a term's failure knows is the same on each way out
                Node v4 = test(Expr.LEN, Op.GE, 34, test(VERSION, Op.EQ, 4, either(4, 26, 30, 0xffffffffL, a, src, dst, yes, no), no), no);
                Node arp = test(ETHERTYPE, Op.EQ, 0x806, test(Expr.LEN, Op.GE, 42, either(4, 28, 38, 0xffffffffL, a, src, dst, yes, no), no), no);
                return test(Expr.LEN, Op.GE, 14, test(ETHERTYPE, Op.EQ, 0x800, v4, arp), no);
            }
            case "net" -> {
                String n = words.next();
                int slash = n.indexOf('/');
                int len = slash < 0 ? 32 : Filter.number(n.substring(slash + 1), 32);
                long a = Filter.address(slash < 0 ? n : n.substring(0, slash)) & 0xffffffffL;
                long mask = len == 0 ? 0 : (0xffffffffL << (32 - len)) & 0xffffffffL;
                return ipv4(either(4, 26, 30, mask, a, src, dst, yes, no), no);
            }
            case "port" -> {
                int p = Filter.number(words.next(), 65535);
                // TCP and UDP each a copy of the port tests: the optimiser knows the protocol on each, and
                // merges the copies once it has used that
                Node udp = test(PROTOCOL, Op.EQ, 17, ports(p, src, dst, yes, no), no);
                Node tcp = test(PROTOCOL, Op.EQ, 6, ports(p, src, dst, yes, no), udp);
                return ipv4(test(FRAGMENT, Op.EQ, 0, tcp, no), no); // not the first fragment: no ports
            }
            case "ip" -> {
                return etherType(0x0800, yes, no);
            }
            case "arp" -> {
                return etherType(0x0806, yes, no);
            }
            case "icmp", "tcp", "udp" -> {
                int proto = w.equals("icmp") ? 1 : w.equals("tcp") ? 6 : 17;
                return ipv4(test(PROTOCOL, Op.EQ, proto, yes, no), no);
            }
            case "ether" -> {
                if (!"proto".equals(words.next())) {
                    throw new IllegalArgumentException("syntax error in filter expression: 'proto' expected after 'ether'");
                }
                String p = words.next();
                int type = p.startsWith("0x") ? Integer.parseInt(p.substring(2), 16) : Filter.number(p, 65535);
                return etherType(type, yes, no);
            }
            default -> throw new IllegalArgumentException("syntax error in filter expression at \"" + w + "\"");
        }
    }
}

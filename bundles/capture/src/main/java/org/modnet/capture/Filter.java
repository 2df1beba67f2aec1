package org.modnet.capture;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The common part of tcpdump's filter language (pcap-filter(7)): {@code [src|dst] host A},
 * {@code [src|dst] net A/LEN}, {@code [src|dst] port N}, {@code ip}, {@code arp}, {@code icmp},
 * {@code tcp}, {@code udp}, {@code ether proto N}, joined by {@code and}/{@code &&}, {@code or}/{@code ||},
 * {@code not}/{@code !} and parentheses. Evaluated on decoded frames (a BPF compilation comes with the
 * eBPF VM).
 */
final class Filter {
    private final List<String> words;
    private int i;

    private Filter(List<String> words) {
        this.words = words;
    }

    /** The filter of the words after tcpdump's options; everything passes for none. */
    static Predicate<Frame> parse(List<String> args) {
        List<String> words = words(args);
        if (words.isEmpty()) {
            return f -> true;
        }
        Filter p = new Filter(words);
        Predicate<Frame> e = p.or();
        if (p.i != words.size()) {
            throw new IllegalArgumentException("syntax error in filter expression at \"" + words.get(p.i) + "\"");
        }
        return e;
    }

    /** The expression's words, parentheses apart: {@code (tcp or udp)} is five words. */
    static List<String> words(List<String> args) {
        List<String> words = new ArrayList<>();
        for (String a : args) {
            for (String w : a.replace("(", " ( ").replace(")", " ) ").trim().split("\\s+")) {
                if (!w.isEmpty()) {
                    words.add(w);
                }
            }
        }
        return words;
    }

    private String peek() {
        return i < words.size() ? words.get(i) : null;
    }

    private String next() {
        if (i >= words.size()) {
            throw new IllegalArgumentException("syntax error in filter expression: unexpected end");
        }
        return words.get(i++);
    }

    private Predicate<Frame> or() {
        Predicate<Frame> left = and();
        while ("or".equals(peek()) || "||".equals(peek())) {
            next();
            left = left.or(and());
        }
        return left;
    }

    private Predicate<Frame> and() {
        Predicate<Frame> left = not();
        while ("and".equals(peek()) || "&&".equals(peek())) {
            next();
            left = left.and(not());
        }
        return left;
    }

    private Predicate<Frame> not() {
        String w = peek();
        if ("not".equals(w) || "!".equals(w)) {
            next();
            return not().negate();
        }
        if ("(".equals(w)) {
            next();
            Predicate<Frame> e = or();
            if (!")".equals(next())) {
                throw new IllegalArgumentException("syntax error in filter expression: ')' expected");
            }
            return e;
        }
        return primitive();
    }

    private Predicate<Frame> primitive() {
        String w = next();
        boolean src = true;
        boolean dst = true;
        if (w.equals("src") || w.equals("dst")) {
            src = w.equals("src");
            dst = w.equals("dst");
            w = next();
        }
        boolean s = src;
        boolean d = dst;
        switch (w) {
            case "host" -> {
                int a = address(next());
                return f -> f.hasAddress(a, s, d);
            }
            case "net" -> {
                String n = next();
                int slash = n.indexOf('/');
                int len = slash < 0 ? 32 : number(n.substring(slash + 1), 32);
                int a = address(slash < 0 ? n : n.substring(0, slash));
                int mask = len == 0 ? 0 : -1 << (32 - len);
                return f -> f.ipv4 && ((s && (f.saddr & mask) == (a & mask)) || (d && (f.daddr & mask) == (a & mask)));
            }
            case "port" -> {
                int p = number(next(), 65535);
                return f -> (s && f.sport == p) || (d && f.dport == p);
            }
            case "ip" -> {
                return f -> f.ethertype == 0x0800;
            }
            case "arp" -> {
                return f -> f.ethertype == 0x0806;
            }
            case "icmp" -> {
                return f -> f.ipv4 && f.protocol == 1;
            }
            case "tcp" -> {
                return f -> f.ipv4 && f.protocol == 6;
            }
            case "udp" -> {
                return f -> f.ipv4 && f.protocol == 17;
            }
            case "ether" -> {
                if (!"proto".equals(next())) {
                    throw new IllegalArgumentException("syntax error in filter expression: 'proto' expected after 'ether'");
                }
                String p = next();
                int type = p.startsWith("0x") ? Integer.parseInt(p.substring(2), 16) : number(p, 65535);
                return f -> f.ethertype == type;
            }
            default -> throw new IllegalArgumentException("syntax error in filter expression at \"" + w + "\"");
        }
    }

    static int address(String text) {
        long a = org.modnet.api.inet.Ipv4Addresses.parse(text);
        if (a < 0) {
            throw new IllegalArgumentException("unknown host '" + text + "'");
        }
        return (int) a;
    }

    static int number(String text, int max) {
        try {
            int n = Integer.parseInt(text);
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("illegal number '" + text + "'");
    }
}

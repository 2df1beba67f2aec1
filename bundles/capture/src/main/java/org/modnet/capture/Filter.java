package org.modnet.capture;

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
    private final FilterWords words;

    private Filter(FilterWords words) {
        this.words = words;
    }

    /** The filter of the words after tcpdump's options; everything passes for none. */
    static Predicate<Frame> parse(List<String> args) {
        FilterWords words = new FilterWords(args);
        if (words.isEmpty()) {
            return f -> true;
        }
        Predicate<Frame> e = new Filter(words).or();
        words.end();
        return e;
    }

    private Predicate<Frame> or() {
        Predicate<Frame> left = and();
        while ("or".equals(words.peek()) || "||".equals(words.peek())) {
            words.next();
            left = left.or(and());
        }
        return left;
    }

    private Predicate<Frame> and() {
        Predicate<Frame> left = not();
        while ("and".equals(words.peek()) || "&&".equals(words.peek())) {
            words.next();
            left = left.and(not());
        }
        return left;
    }

    private Predicate<Frame> not() {
        words.enter();
        try {
            String w = words.peek();
            if ("not".equals(w) || "!".equals(w)) {
                words.next();
                return not().negate();
            }
            if ("(".equals(w)) {
                words.next();
                Predicate<Frame> e = or();
                if (!")".equals(words.next())) {
                    throw new IllegalArgumentException("syntax error in filter expression: ')' expected");
                }
                return e;
            }
            return primitive();
        } finally {
            words.leave();
        }
    }

    private Predicate<Frame> primitive() {
        String w = words.next();
        boolean src = true;
        boolean dst = true;
        if (w.equals("src") || w.equals("dst")) {
            src = w.equals("src");
            dst = w.equals("dst");
            w = words.next();
        }
        boolean s = src;
        boolean d = dst;
        switch (w) {
            case "host" -> {
                int a = address(words.next());
                return f -> f.hasAddress(a, s, d);
            }
            case "net" -> {
                String n = words.next();
                int slash = n.indexOf('/');
                int len = slash < 0 ? 32 : number(n.substring(slash + 1), 32);
                int a = address(slash < 0 ? n : n.substring(0, slash));
                int mask = len == 0 ? 0 : -1 << (32 - len);
                return f -> f.ipv4 && ((s && (f.saddr & mask) == (a & mask)) || (d && (f.daddr & mask) == (a & mask)));
            }
            case "port" -> {
                int p = number(words.next(), 65535);
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
                if (!"proto".equals(words.next())) {
                    throw new IllegalArgumentException("syntax error in filter expression: 'proto' expected after 'ether'");
                }
                String p = words.next();
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

package org.modnet.capture;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.modnet.capture.FilterTree.And;
import org.modnet.capture.FilterTree.Bin;
import org.modnet.capture.FilterTree.Cmp;
import org.modnet.capture.FilterTree.Const;
import org.modnet.capture.FilterTree.Ihl;
import org.modnet.capture.FilterTree.Len;
import org.modnet.capture.FilterTree.Load;
import org.modnet.capture.FilterTree.Neg;
import org.modnet.capture.FilterTree.Not;
import org.modnet.capture.FilterTree.Num;
import org.modnet.capture.FilterTree.Or;
import org.modnet.capture.FilterTree.Pred;
import org.modnet.capture.FilterTree.Rel;
import org.modnet.capture.FilterTree.Val;

/**
 * pcap-filter(7)'s language, read as libpcap's grammar reads it, into a {@link FilterTree} spelt out
 * as libpcap's code generator spells each primitive (Ethernet link layer, DLT_EN10MB):
 * <ul>
 * <li>{@code [proto] [dir] [type] ID}: proto {@code ether ip ip6 arp rarp tcp udp sctp}, dir
 * {@code src dst} {@code src or dst} {@code src and dst}, type {@code host net port portrange gateway};
 * an ID after and/or alone repeats the last qualifiers ({@code host a or b}, {@code tcp port 80 or 443});
 * {@code net A/LEN}, {@code net A mask M}, {@code net 10.1}; IPv6 {@code host 2001:db8::1} and
 * {@code net fe80::/10}; {@code portrange A-B};</li>
 * <li>{@code ip ip6 arp rarp tcp udp sctp icmp icmp6}, {@code [ip|ip6|ether] proto N|\NAME},
 * {@code [ether|ip|ip6] broadcast|multicast}, {@code less N}, {@code greater N}, {@code vlan [ID]}
 * (each {@code vlan} moves every later offset past its tag, as libpcap's does);</li>
 * <li>{@code arth relop arth}: {@code + - * / % & | ^ << >>}, unary {@code -}, {@code len}, numbers
 * (decimal, 0x hex, 0 octal), accessors {@code proto[expr]} and {@code proto[expr:1|2|4]}, named
 * offsets and values ({@code tcpflags}, {@code tcp-syn}, {@code icmptype}, {@code icmp-echo}...);
 * {@code tcp/udp/icmp[...]} is IPv4 only and only first fragments, as libpcap's is;</li>
 * <li>{@code and &&}, {@code or ||} (the same precedence, left to right), {@code not !}, parentheses.</li>
 * </ul>
 * Errors are libpcap's words, thrown as {@link IllegalArgumentException}.
 */
final class FilterParser {
    private static final Set<String> PROTOS = Set.of("ether", "link", "ip", "ip6", "arp", "rarp", "tcp", "udp", "sctp", "icmp",
            "icmp6", "igmp");
    private static final Set<String> KEYWORDS = Set.of("ether", "link", "ip", "ip6", "arp", "rarp", "tcp", "udp", "sctp", "icmp",
            "icmp6", "igmp", "src", "dst", "host", "net", "mask", "port", "portrange", "gateway", "proto", "less", "greater",
            "broadcast", "multicast", "vlan", "and", "or", "not", "len");
    private static final Set<String> RELOPS = Set.of("=", "==", "!=", "<", "<=", ">", ">=");
    private static final Set<String> ARITH_OPS = Set.of("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>");

    /** libpcap's named offsets and values (pcap-filter(7)). */
    static final Map<String, Long> NAMED = Map.ofEntries(Map.entry("tcpflags", 13L), Map.entry("tcp-fin", 0x01L),
            Map.entry("tcp-syn", 0x02L), Map.entry("tcp-rst", 0x04L), Map.entry("tcp-push", 0x08L), Map.entry("tcp-ack", 0x10L),
            Map.entry("tcp-urg", 0x20L), Map.entry("tcp-ece", 0x40L), Map.entry("tcp-cwr", 0x80L), Map.entry("icmptype", 0L),
            Map.entry("icmpcode", 1L), Map.entry("icmp-echoreply", 0L), Map.entry("icmp-unreach", 3L),
            Map.entry("icmp-sourcequench", 4L), Map.entry("icmp-redirect", 5L), Map.entry("icmp-echo", 8L),
            Map.entry("icmp-routeradvert", 9L), Map.entry("icmp-routersolicit", 10L), Map.entry("icmp-timxceed", 11L),
            Map.entry("icmp-paramprob", 12L), Map.entry("icmp-tstamp", 13L), Map.entry("icmp-tstampreply", 14L),
            Map.entry("icmp-ireq", 15L), Map.entry("icmp-ireqreply", 16L), Map.entry("icmp-maskreq", 17L),
            Map.entry("icmp-maskreply", 18L), Map.entry("icmp6type", 0L), Map.entry("icmp6code", 1L),
            Map.entry("icmp6-destinationunreach", 1L), Map.entry("icmp6-packettoobig", 2L), Map.entry("icmp6-timeexceeded", 3L),
            Map.entry("icmp6-parameterproblem", 4L), Map.entry("icmp6-echo", 128L), Map.entry("icmp6-echoreply", 129L),
            Map.entry("icmp6-multicastlistenerquery", 130L), Map.entry("icmp6-multicastlistenerreportv1", 131L),
            Map.entry("icmp6-multicastlistenerdone", 132L), Map.entry("icmp6-routersolicit", 133L),
            Map.entry("icmp6-routeradvert", 134L), Map.entry("icmp6-neighborsolicit", 135L), Map.entry("icmp6-neighboradvert", 136L),
            Map.entry("icmp6-redirect", 137L), Map.entry("icmp6-multicastlistenerreportv2", 143L));

    /** The IP protocol numbers {@code proto \NAME} knows. */
    private static final Map<String, Long> IP_PROTOS = Map.of("icmp", 1L, "igmp", 2L, "tcp", 6L, "udp", 17L, "sctp", 132L,
            "icmp6", 58L, "ah", 51L, "esp", 50L, "pim", 103L, "vrrp", 112L);
    /** The ethertypes {@code ether proto \NAME} knows. */
    private static final Map<String, Long> ETHER_PROTOS = Map.of("ip", 0x800L, "ip6", 0x86ddL, "arp", 0x806L, "rarp", 0x8035L);
    /** The services a port may be named by (libpcap asks getservbyname; these are /etc/services' common ones). */
    private static final Map<String, Integer> SERVICES = Map.ofEntries(Map.entry("ftp-data", 20), Map.entry("ftp", 21),
            Map.entry("ssh", 22), Map.entry("telnet", 23), Map.entry("smtp", 25), Map.entry("domain", 53), Map.entry("bootps", 67),
            Map.entry("bootpc", 68), Map.entry("tftp", 69), Map.entry("http", 80), Map.entry("www", 80), Map.entry("pop3", 110),
            Map.entry("ntp", 123), Map.entry("imap", 143), Map.entry("snmp", 161), Map.entry("bgp", 179), Map.entry("https", 443),
            Map.entry("syslog", 514));

    private static final int ETH_IP = 0x800;
    private static final int ETH_IP6 = 0x86dd;
    private static final int ETH_ARP = 0x806;
    private static final int ETH_RARP = 0x8035;
    private static final int IPPROTO_FRAGMENT = 44;

    /** The qualifiers of a primitive with an ID; null where not given. */
    private record Qual(String proto, String dir, String type) {
    }

    private final FilterWords w;
    /** How far {@code vlan} has moved the network layer: 4 bytes a tag, for everything after it. */
    private int linkOff;
    /** The qualifiers an ID alone after and/or repeats. */
    private Qual last;
    /** The checks an accessor needs (the protocol, a first fragment), joined to its relation. */
    private List<Pred> pre;
    /** Arithmetic operators so far: a bound, so that a very long expression is too complex, not a stack overflow. */
    private int operators;

    /** At most this many arithmetic operators in an expression. */
    static final int MAX_OPERATORS = 1000;

    private FilterParser(FilterWords w) {
        this.w = w;
    }

    /** The expression of tcpdump's words; true (every frame) for none. */
    static Pred parse(List<String> args) {
        FilterWords w = new FilterWords(args);
        if (w.isEmpty()) {
            return Const.TRUE;
        }
        FilterParser p = new FilterParser(w);
        Pred e = p.expr();
        w.end();
        return e;
    }

    // --- and, or, not ---

    private Pred expr() {
        Pred left = term();
        while (w.at("and", "&&", "or", "||")) {
            boolean and = w.at("and", "&&");
            w.next();
            Pred right = last != null && bareId() ? idExpr() : term();
            left = join(and, left, right);
        }
        return left;
    }

    private static Pred join(boolean and, Pred left, Pred right) {
        if (and) {
            List<Pred> l = new ArrayList<>(left instanceof And a ? a.all() : List.of(left));
            l.add(right);
            return new And(l);
        }
        List<Pred> l = new ArrayList<>(left instanceof Or o ? o.any() : List.of(left));
        l.add(right);
        return new Or(l);
    }

    /** Whether an ID alone comes next (maybe after not, or in parentheses): the last qualifiers repeat. */
    private boolean bareId() {
        int k = 0;
        while ("not".equals(w.peek(k)) || "!".equals(w.peek(k)) || "(".equals(w.peek(k))) {
            k++;
        }
        String id = w.peek(k);
        String after = w.peek(k + 1);
        return id != null && isIdWord(id) && (after == null || !RELOPS.contains(after) && !ARITH_OPS.contains(after)
                || after.equals("/") && last.type() != null && last.type().equals("net"));
    }

    private static boolean isIdWord(String s) {
        return !KEYWORDS.contains(s) && !NAMED.containsKey(s) && !s.startsWith("\\")
                && (Character.isLetterOrDigit(s.charAt(0)) || s.startsWith("::"));
    }

    /** IDs with the last qualifiers: {@code not ID}, {@code ( ID or ID )}, {@code ID}. */
    private Pred idExpr() {
        w.enter();
        try {
            if (w.at("not", "!")) {
                w.next();
                return new Not(idExpr());
            }
            if (w.at("(")) {
                w.next();
                Pred p = idExpr();
                while (w.at("and", "&&", "or", "||")) {
                    boolean and = w.at("and", "&&");
                    w.next();
                    p = join(and, p, idExpr());
                }
                w.expect(")");
                return p;
            }
            return id(last);
        } finally {
            w.leave();
        }
    }

    private Pred term() {
        w.enter();
        try {
            if (w.at("not", "!")) {
                w.next();
                return new Not(term());
            }
            if (w.at("(")) {
                String after = w.afterClosing();
                if (after != null && (RELOPS.contains(after) || ARITH_OPS.contains(after))) {
                    return relation(); // ( arth ) relop arth
                }
                w.next();
                Pred e = expr();
                w.expect(")");
                return e;
            }
            return primitive();
        } finally {
            w.leave();
        }
    }

    // --- primitives ---

    private Pred primitive() {
        String t = w.peek();
        if (t == null) {
            throw syntax();
        }
        if (startsArith(t)) {
            return relation();
        }
        String proto = null;
        if (PROTOS.contains(t)) {
            proto = w.next();
        }
        String dir = null;
        if (w.at("src", "dst")) {
            dir = w.next();
            String j = w.peek();
            String other = w.peek(1);
            if (("or".equals(j) || "||".equals(j) || "and".equals(j) || "&&".equals(j)) && ("src".equals(other) || "dst".equals(other))
                    && !other.equals(dir)) {
                w.next();
                w.next();
                dir = j.equals("or") || j.equals("||") ? "or" : "and";
            }
        }
        String type = null;
        if (w.at("host", "net", "port", "portrange", "gateway")) {
            type = w.next();
        }
        if (dir != null || type != null) {
            return id(new Qual(proto, dir, type));
        }
        if (proto != null) {
            if (w.at("proto")) {
                w.next();
                return protoNumber(proto, w.next());
            }
            if (w.at("broadcast", "multicast")) {
                return broadcast(proto, w.next());
            }
            return protocol(proto);
        }
        switch (w.next()) {
            case "proto" -> {
                return protoNumber(null, w.next());
            }
            case "broadcast" -> {
                return broadcast("ether", "broadcast");
            }
            case "multicast" -> {
                return broadcast("ether", "multicast");
            }
            case "less" -> {
                return new Cmp(Len.LEN, Rel.LE, new Num(number(w.next())));
            }
            case "greater" -> {
                return new Cmp(Len.LEN, Rel.GE, new Num(number(w.next())));
            }
            case "vlan" -> {
                return vlan();
            }
            default -> throw syntax();
        }
    }

    /** Whether a relation {@code arth relop arth} starts at this word. */
    private boolean startsArith(String t) {
        if (t.equals("len") || t.equals("-") || NAMED.containsKey(t) || Character.isDigit(t.charAt(0))) {
            return true;
        }
        return PROTOS.contains(t) && "[".equals(w.peek(1));
    }

    /** The qualified ID's test; the qualifiers are remembered for IDs that follow alone. */
    private Pred id(Qual q) {
        last = q;
        String type = q.type() == null ? "host" : q.type();
        String dir = q.dir() == null ? "or" : q.dir();
        String proto = q.proto();
        String id = w.next();
        if (!isIdWord(id)) {
            throw syntax();
        }
        switch (type) {
            case "host" -> {
                if ("ether".equals(proto) || "link".equals(proto)) {
                    return etherHost(mac(id), dir);
                }
                if (id.contains(":")) {
                    return ip6Host(proto, ipv6(id, id), 128, dir);
                }
                checkHostProto(proto, "host");
                return ipHost(proto, address(id), 0xffffffffL, dir);
            }
            case "net" -> {
                if (id.contains(":")) {
                    return net6(proto, id, dir);
                }
                checkHostProto(proto, "net");
                return net(proto, id, dir);
            }
            case "port", "portrange" -> {
                if (proto != null && !Set.of("tcp", "udp", "sctp").contains(proto)) {
                    throw new IllegalArgumentException("illegal qualifier of '" + type + "'");
                }
                long lo;
                long hi;
                if (type.equals("port")) {
                    lo = hi = port(id);
                } else {
                    int dash = id.indexOf('-', 1);
                    if (dash < 0) {
                        throw new IllegalArgumentException("illegal port range " + id);
                    }
                    lo = port(id.substring(0, dash));
                    hi = port(id.substring(dash + 1));
                    if (lo > hi) {
                        long x = lo;
                        lo = hi;
                        hi = x;
                    }
                }
                return ports(proto, dir, lo, hi);
            }
            default -> {
                // gateway needs the host's Ethernet address, which only name resolution gives
                if (Character.isDigit(id.charAt(0))) {
                    throw new IllegalArgumentException("'gateway' requires a name");
                }
                throw new IllegalArgumentException("unknown host '" + id + "'");
            }
        }
    }

    private static void checkHostProto(String proto, String type) {
        if (proto != null && !Set.of("ip", "arp", "rarp").contains(proto)) {
            throw new IllegalArgumentException("'" + proto + "' modifier applied to " + type);
        }
    }

    private Pred net(String proto, String id, String dir) {
        long a;
        long mask;
        String shown;
        if (w.at("/")) {
            w.next();
            String len = w.next();
            long bits = number(len);
            if (bits > 32) {
                throw new IllegalArgumentException("mask length must be <= 32");
            }
            a = partial(id);
            mask = bits == 0 ? 0 : (0xffffffffL << (32 - bits)) & 0xffffffffL;
            shown = id + "/" + len;
        } else if (w.at("mask")) {
            w.next();
            String m = w.next();
            a = partial(id);
            mask = address(m);
            shown = id + " mask " + m;
        } else {
            a = partial(id);
            int parts = id.split("\\.", -1).length;
            mask = (0xffffffffL << (32 - 8 * parts)) & 0xffffffffL;
            shown = id;
        }
        if ((a & ~mask & 0xffffffffL) != 0) {
            throw new IllegalArgumentException("non-network bits set in \"" + shown + "\"");
        }
        return ipHost(proto, a, mask, dir);
    }

    /** {@code host ADDR6} and {@code net ADDR6/LEN}: the IPv6 source/destination, word by word under the mask. */
    private Pred ip6Host(String proto, long[] a, int bits, String dir) {
        if (proto != null && !proto.equals("ip6")) {
            if (Set.of("ip", "arp", "rarp").contains(proto)) {
                throw new IllegalArgumentException("'" + proto + "' modifier applied to ip6 host");
            }
            throw new IllegalArgumentException("'" + proto + "' modifier applied to host");
        }
        int n = nh();
        List<Pred> src = new ArrayList<>();
        List<Pred> dst = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int left = Math.max(0, Math.min(32, bits - 32 * i));
            long mask = left == 0 ? 0 : (0xffffffffL << (32 - left)) & 0xffffffffL;
            if (mask == 0) {
                continue; // libpcap loads no word the mask leaves out
            }
            Val s = mask == 0xffffffffL ? abs(4, n + 8 + 4 * i) : new Bin('&', abs(4, n + 8 + 4 * i), new Num(mask));
            Val d = mask == 0xffffffffL ? abs(4, n + 24 + 4 * i) : new Bin('&', abs(4, n + 24 + 4 * i), new Num(mask));
            src.add(eq(s, a[i] & mask));
            dst.add(eq(d, a[i] & mask));
        }
        Pred ps = src.isEmpty() ? Const.TRUE : new And(src);
        Pred pd = dst.isEmpty() ? Const.TRUE : new And(dst);
        Pred p = switch (dir) {
            case "src" -> ps;
            case "dst" -> pd;
            case "and" -> and(ps, pd);
            default -> or(ps, pd);
        };
        return and(etherType(ETH_IP6), p);
    }

    private Pred net6(String proto, String id, String dir) {
        int bits = 128;
        String shown = id;
        if (w.at("/")) {
            w.next();
            String len = w.next();
            long b = number(len);
            if (b > 128) {
                throw new IllegalArgumentException("mask length must be <= 128");
            }
            bits = (int) b;
            shown = id + "/" + len;
        }
        long[] a = ipv6(id, shown);
        for (int i = 0; i < 4; i++) {
            int left = Math.max(0, Math.min(32, bits - 32 * i));
            long mask = left == 0 ? 0 : (0xffffffffL << (32 - left)) & 0xffffffffL;
            if ((a[i] & ~mask & 0xffffffffL) != 0) {
                throw new IllegalArgumentException("non-network bits set in \"" + shown + "\"");
            }
        }
        return ip6Host(proto, a, bits, dir);
    }

    /** An IPv6 address as four 32-bit words; a literal only (no name is resolved). */
    private static long[] ipv6(String id, String shown) {
        byte[] b = null;
        if (id.matches("[0-9A-Fa-f:.]+")) {
            try {
                java.net.InetAddress addr = java.net.InetAddress.getByName(id); // a literal: no lookup
                b = addr.getAddress();
                if (b.length == 4) { // ::ffff:a.b.c.d comes back as IPv4
                    b = new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, b[0], b[1], b[2], b[3] };
                }
            } catch (java.net.UnknownHostException | SecurityException e) {
                b = null;
            }
        }
        if (b == null) {
            throw new IllegalArgumentException("unknown host '" + shown + "'");
        }
        long[] w = new long[4];
        for (int i = 0; i < 16; i++) {
            w[i / 4] = w[i / 4] << 8 | (b[i] & 0xff);
        }
        return w;
    }

    /** An IPv4 address or the leading parts of one ({@code 10.1} is 10.1.0.0), as libpcap reads a network. */
    private static long partial(String id) {
        String[] parts = id.split("\\.", -1);
        if (parts.length > 4) {
            throw new IllegalArgumentException("unknown network '" + id + "'");
        }
        long a = 0;
        for (int i = 0; i < 4; i++) {
            long b = 0;
            if (i < parts.length) {
                if (!parts[i].matches("[0-9]{1,3}") || (b = Long.parseLong(parts[i])) > 255) {
                    throw new IllegalArgumentException("unknown network '" + id + "'");
                }
            }
            a = a << 8 | b;
        }
        return a;
    }

    static long address(String id) {
        if (!id.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
            throw new IllegalArgumentException("unknown host '" + id + "'");
        }
        long a = partial(id);
        return a;
    }

    private static long[] mac(String id) {
        if (!id.matches("[0-9A-Fa-f]{1,2}([:.-][0-9A-Fa-f]{1,2}){5}")) {
            if (id.contains(":")) {
                throw new IllegalArgumentException("bogus ethernet address " + id);
            }
            throw new IllegalArgumentException("unknown ether host '" + id + "'");
        }
        String[] p = id.split("[:.-]");
        long[] m = new long[6];
        for (int i = 0; i < 6; i++) {
            m[i] = Long.parseLong(p[i], 16);
        }
        return m;
    }

    private static long port(String id) {
        Integer named = SERVICES.get(id);
        if (named != null) {
            return named;
        }
        if (id.isEmpty() || !Character.isDigit(id.charAt(0))) { // "3-": a range's missing end
            throw new IllegalArgumentException("unknown port '" + id + "'");
        }
        long p = number(id);
        if (p > 65535) {
            throw new IllegalArgumentException("illegal port number " + p + " > 65535");
        }
        return p;
    }

    /** A number as libpcap's scanner reads one: decimal, 0x hex, 0 octal; at most 32 bits. */
    static long number(String s) {
        long v;
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) {
                v = Long.parseLong(s.substring(2), 16);
            } else if (s.length() > 1 && s.startsWith("0")) {
                v = Long.parseLong(s.substring(1), 8);
            } else {
                v = Long.parseLong(s);
            }
        } catch (NumberFormatException e) {
            if (s.matches("[0-9]+|0[xX][0-9a-fA-F]+")) {
                throw new IllegalArgumentException("number " + s + " overflows 32 bits");
            }
            throw syntax();
        }
        if (v > 0xffffffffL || v < 0) {
            throw new IllegalArgumentException("number " + s + " overflows 32 bits");
        }
        return v;
    }

    // --- what each primitive tests, as libpcap's gencode spells it ---

    private Val abs(int size, long off) {
        return new Load(new Num(off), size);
    }

    private Pred eq(Val v, long k) {
        return new Cmp(v, Rel.EQ, new Num(k & 0xffffffffL));
    }

    private static Pred and(Pred... p) {
        return new And(List.of(p));
    }

    private static Pred or(Pred... p) {
        return new Or(List.of(p));
    }

    /** The ethertype, where {@code vlan} has put it. */
    private Pred etherType(long type) {
        return eq(abs(2, 12 + linkOff), type);
    }

    private int nh() {
        return 14 + linkOff;
    }

    /** Source or destination (as dir says) of the two fields under mask equal a. */
    private Pred either(int size, long srcOff, long dstOff, long mask, long a, String dir) {
        if (mask == 0) {
            return Const.TRUE; // net 0/0: libpcap loads no address
        }
        Val s = mask == 0xffffffffL ? abs(size, srcOff) : new Bin('&', abs(size, srcOff), new Num(mask));
        Val d = mask == 0xffffffffL ? abs(size, dstOff) : new Bin('&', abs(size, dstOff), new Num(mask));
        Pred ps = eq(s, a & mask);
        Pred pd = eq(d, a & mask);
        return switch (dir) {
            case "src" -> ps;
            case "dst" -> pd;
            case "and" -> and(ps, pd);
            default -> or(ps, pd);
        };
    }

    /** {@code host}/{@code net}: IPv4 source/destination, or ARP's/RARP's sender/target protocol address. */
    private Pred ipHost(String proto, long a, long mask, String dir) {
        int n = nh();
        Pred ip = and(etherType(ETH_IP), either(4, n + 12, n + 16, mask, a, dir));
        Pred arp = and(etherType(ETH_ARP), either(4, n + 14, n + 24, mask, a, dir));
        Pred rarp = and(etherType(ETH_RARP), either(4, n + 14, n + 24, mask, a, dir));
        if (proto == null) {
            return or(ip, arp, rarp);
        }
        return proto.equals("ip") ? ip : proto.equals("arp") ? arp : rarp;
    }

    private Pred etherHost(long[] m, String dir) {
        Pred src = and(eq(abs(4, 8), m[2] << 24 | m[3] << 16 | m[4] << 8 | m[5]), eq(abs(2, 6), m[0] << 8 | m[1]));
        Pred dst = and(eq(abs(4, 2), m[2] << 24 | m[3] << 16 | m[4] << 8 | m[5]), eq(abs(2, 0), m[0] << 8 | m[1]));
        return switch (dir) {
            case "src" -> src;
            case "dst" -> dst;
            case "and" -> and(src, dst);
            default -> or(src, dst);
        };
    }

    /** The IPv6 next header is p, or a fragment header's is (libpcap looks one header deep). */
    private Pred ip6Proto(long p) {
        int n = nh();
        return or(eq(abs(1, n + 6), p), and(eq(abs(1, n + 6), IPPROTO_FRAGMENT), eq(abs(1, n + 40), p)));
    }

    private Pred ipProto(long p) {
        return eq(abs(1, nh() + 9), p);
    }

    /** Not a later fragment: only a first fragment holds the transport header. */
    private Pred firstFragment() {
        return eq(new Bin('&', abs(2, nh() + 6), new Num(0x1fff)), 0);
    }

    private Pred protocol(String proto) {
        return switch (proto) {
            case "ip" -> etherType(ETH_IP);
            case "ip6" -> etherType(ETH_IP6);
            case "arp" -> etherType(ETH_ARP);
            case "rarp" -> etherType(ETH_RARP);
            case "tcp", "udp", "sctp" -> {
                long p = IP_PROTOS.get(proto);
                yield or(and(etherType(ETH_IP), ipProto(p)), and(etherType(ETH_IP6), ip6Proto(p)));
            }
            case "icmp", "igmp" -> and(etherType(ETH_IP), ipProto(IP_PROTOS.get(proto)));
            case "icmp6" -> and(etherType(ETH_IP6), ip6Proto(58));
            default -> throw syntax(); // "ether" or "link" alone
        };
    }

    /** {@code [ip|ip6|ether] proto N} or {@code \NAME}. */
    private Pred protoNumber(String proto, String id) {
        boolean ether = "ether".equals(proto) || "link".equals(proto);
        long p;
        if (id.startsWith("\\")) {
            Long known = (ether ? ETHER_PROTOS : IP_PROTOS).get(id.substring(1));
            if (known == null) {
                throw new IllegalArgumentException("unknown " + (ether ? "ether" : "ip") + " proto '" + id.substring(1) + "'");
            }
            p = known;
        } else if (!id.isEmpty() && Character.isDigit(id.charAt(0))) {
            p = number(id);
        } else {
            throw syntax();
        }
        if (ether) {
            return etherType(p);
        }
        if (proto == null) {
            return or(and(etherType(ETH_IP), ipProto(p)), and(etherType(ETH_IP6), ip6Proto(p)));
        }
        return switch (proto) {
            case "ip" -> and(etherType(ETH_IP), ipProto(p));
            case "ip6" -> and(etherType(ETH_IP6), ip6Proto(p));
            default -> throw new IllegalArgumentException("'" + proto + "' modifier applied to proto");
        };
    }

    private Pred broadcast(String proto, String which) {
        boolean bc = which.equals("broadcast");
        int n = nh();
        return switch (proto) {
            case "ether", "link" -> bc ? and(eq(abs(4, 2), 0xffffffffL), eq(abs(2, 0), 0xffff))
                    : new Cmp(new Bin('&', abs(1, 0), new Num(1)), Rel.NE, new Num(0));
            case "ip" -> bc ? and(etherType(ETH_IP), or(eq(abs(4, n + 16), 0), eq(abs(4, n + 16), 0xffffffffL)))
                    : and(etherType(ETH_IP), new Cmp(abs(1, n + 16), Rel.GE, new Num(224)));
            case "ip6" -> {
                if (bc) {
                    throw new IllegalArgumentException("only link-layer/IP broadcast filters supported");
                }
                yield and(etherType(ETH_IP6), eq(abs(1, n + 24), 0xff));
            }
            default -> throw new IllegalArgumentException(bc ? "only link-layer/IP broadcast filters supported"
                    : "only link-layer/IP multicast filters supported");
        };
    }

    /** The transport ports compare (test given the port's value); IPv6 and IPv4 first fragments, TCP, UDP and SCTP as asked. */
    private Pred ports(String proto, String dir, long lo, long hi) {
        List<Long> protos = proto == null ? List.of(132L, 6L, 17L) : List.of(IP_PROTOS.get(proto));
        int n = nh();
        // a copy of the port tests for each protocol: the optimiser knows the protocol on each way, so a
        // long "or" of ports stays linear, and it merges the copies once it has used that
        List<Pred> v6 = new ArrayList<>();
        List<Pred> v4 = new ArrayList<>();
        Val ihl = new Ihl(n);
        for (long p : protos) {
            v6.add(and(eq(abs(1, n + 6), p), portTest(abs(2, n + 40), abs(2, n + 42), dir, lo, hi)));
            v4.add(and(ipProto(p), firstFragment(),
                    portTest(new Load(new Bin('+', ihl, new Num(n)), 2), new Load(new Bin('+', ihl, new Num(n + 2)), 2), dir, lo, hi)));
        }
        return or(and(etherType(ETH_IP6), new Or(v6)), and(etherType(ETH_IP), new Or(v4)));
    }

    private Pred portTest(Val src, Val dst, String dir, long lo, long hi) {
        Pred s = lo == hi ? eq(src, lo) : and(new Cmp(src, Rel.GE, new Num(lo)), new Cmp(src, Rel.LE, new Num(hi)));
        Pred d = lo == hi ? eq(dst, lo) : and(new Cmp(dst, Rel.GE, new Num(lo)), new Cmp(dst, Rel.LE, new Num(hi)));
        return switch (dir) {
            case "src" -> s;
            case "dst" -> d;
            case "and" -> and(s, d);
            default -> or(s, d);
        };
    }

    /** {@code vlan [ID]}: an 802.1Q/802.1ad tag here; everything after looks past it. */
    private Pred vlan() {
        int t = 12 + linkOff;
        Pred tagged = or(eq(abs(2, t), 0x8100), eq(abs(2, t), 0x88a8), eq(abs(2, t), 0x9100));
        Pred p = tagged;
        String id = w.peek();
        if (id != null && Character.isDigit(id.charAt(0)) && !ARITH_OPS.contains(String.valueOf(w.peek(1)))
                && !RELOPS.contains(String.valueOf(w.peek(1)))) {
            w.next();
            long vid = number(id);
            if (vid > 4095) {
                throw new IllegalArgumentException("VLAN tag " + vid + " greater than maximum 4095");
            }
            p = and(tagged, eq(new Bin('&', abs(2, t + 2), new Num(0xfff)), vid));
        }
        linkOff += 4;
        return p;
    }

    // --- arithmetic ---

    private Pred relation() {
        List<Pred> outer = pre;
        pre = new ArrayList<>();
        try {
            Val l = arith();
            String op = w.next();
            Rel rel = switch (op) {
                case "=", "==" -> Rel.EQ;
                case "!=" -> Rel.NE;
                case "<" -> Rel.LT;
                case "<=" -> Rel.LE;
                case ">" -> Rel.GT;
                case ">=" -> Rel.GE;
                default -> throw syntax();
            };
            Val r = arith();
            Pred c;
            if (l instanceof Num a && r instanceof Num b) {
                c = rel.holds(a.k(), b.k()) ? Const.TRUE : Const.FALSE;
            } else if (l instanceof Num) {
                c = new Cmp(r, rel.swapped(), l);
            } else {
                c = new Cmp(l, rel, r);
            }
            if (pre.isEmpty()) {
                return c;
            }
            List<Pred> all = new ArrayList<>();
            for (Pred p : pre) {
                if (!all.contains(p)) {
                    all.add(p);
                }
            }
            all.add(c);
            return new And(all);
        } finally {
            pre = outer;
        }
    }

    private static final List<Set<String>> LEVELS = List.of(Set.of("|"), Set.of("&"), Set.of("<<", ">>"), Set.of("+", "-"),
            Set.of("*", "/", "%"));

    private Val arith() {
        w.enter();
        try {
            return binary(0);
        } finally {
            w.leave();
        }
    }

    private Val binary(int level) {
        if (level == LEVELS.size()) {
            return xor();
        }
        Val l = binary(level + 1);
        while (w.peek() != null && LEVELS.get(level).contains(w.peek())) {
            String op = w.next();
            if (++operators > MAX_OPERATORS) {
                throw new IllegalArgumentException("expression too complex");
            }
            l = fold(op, l, right(level + 1));
        }
        return l;
    }

    /**
     * libpcap's grammar gives {@code ^} no precedence, so its parser shifts it: {@code a ^ b} takes the
     * operand just read on the left and the whole rest of the arithmetic on the right
     * ({@code ip[0] | 1 ^ 2} is {@code ip[0] | (1 ^ 2)}, {@code ip[0] ^ 1 | 2} is {@code ip[0] ^ (1 | 2)}).
     */
    private Val xor() {
        Val p = unary();
        if (w.at("^")) {
            w.next();
            int checks = pre.size();
            Val r = arith();
            pre.subList(checks, pre.size()).clear(); // as right()
            return fold("^", p, r);
        }
        return p;
    }

    /**
     * The right operand of an arithmetic operator. libpcap's code generator keeps only the left
     * operand's protocol checks for {@code a op b} (gen_arth returns a's): in
     * {@code ip[2:2] - ((tcp[12] & 0xf0) >> 2)} no "is it TCP" is tested. Linux's tcpdump accepts what
     * that program accepts, so this one drops them too.
     */
    private Val right(int level) {
        int checks = pre.size();
        Val r = binary(level);
        pre.subList(checks, pre.size()).clear();
        return r;
    }

    private Val unary() {
        if (w.at("-")) {
            w.next();
            w.enter();
            try {
                Val v = xor();
                return v instanceof Num n ? new Num(-n.k() & 0xffffffffL) : new Neg(v);
            } finally {
                w.leave();
            }
        }
        return primary();
    }

    private Val primary() {
        String t = w.next();
        if (t.equals("(")) {
            Val v = arith();
            w.expect(")");
            return v;
        }
        if (t.equals("len")) {
            return Len.LEN;
        }
        Long named = NAMED.get(t);
        if (named != null) {
            return new Num(named);
        }
        if (Character.isDigit(t.charAt(0))) {
            return new Num(number(t));
        }
        if (PROTOS.contains(t) && w.at("[")) {
            w.next();
            Val idx = arith();
            int size = 1;
            if (w.at(":")) {
                w.next();
                long s = number(w.next());
                if (s != 1 && s != 2 && s != 4) {
                    throw new IllegalArgumentException("data size must be 1, 2, or 4");
                }
                size = (int) s;
            }
            w.expect("]");
            return access(t, idx, size);
        }
        throw syntax();
    }

    /** {@code proto[idx:size]}: the offset from the protocol's header, the checks it needs added to the relation. */
    private Val access(String proto, Val idx, int size) {
        int n = nh();
        switch (proto) {
            case "ether", "link" -> {
                return new Load(idx, size);
            }
            case "ip", "arp", "rarp", "ip6" -> {
                pre.add(protocol(proto));
                return new Load(fold("+", new Num(n), idx), size);
            }
            case "tcp", "udp", "sctp", "icmp", "igmp" -> {
                pre.add(etherType(ETH_IP));
                pre.add(ipProto(IP_PROTOS.get(proto)));
                pre.add(firstFragment());
                return new Load(new Bin('+', new Ihl(n), fold("+", new Num(n), idx)), size);
            }
            case "icmp6" -> {
                // no extension headers: the ICMPv6 header right after the fixed IPv6 one, as libpcap reads it
                pre.add(etherType(ETH_IP6));
                pre.add(eq(abs(1, n + 6), 58));
                return new Load(fold("+", new Num(n + 40), idx), size);
            }
            default -> throw syntax();
        }
    }

    /** {@code l op r}, folded when both are numbers; libpcap's refusals of a zero divisor and long shifts. */
    private static Val fold(String op, Val l, Val r) {
        char c = switch (op) {
            case "<<" -> 'l';
            case ">>" -> 'r';
            default -> op.charAt(0);
        };
        if ((c == '/' || c == '%') && r instanceof Num n && n.k() == 0) {
            throw new IllegalArgumentException(c == '/' ? "division by zero" : "modulus by zero");
        }
        if ((c == 'l' || c == 'r') && r instanceof Num n && n.k() > 31) {
            throw new IllegalArgumentException("shift by more than 31 bits");
        }
        if (l instanceof Num a && r instanceof Num b) {
            return new Num(FilterTree.apply(c, a.k(), b.k()));
        }
        return new Bin(c, l, r);
    }

    private static IllegalArgumentException syntax() {
        return new IllegalArgumentException(FilterWords.SYNTAX);
    }
}

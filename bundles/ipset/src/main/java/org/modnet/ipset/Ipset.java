package org.modnet.ipset;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

import org.modnet.api.shell.CommandException;

/**
 * One namespace's sets and the {@code ipset} command over them (ipset 7.17's syntax, output and error
 * words): create, add, del, test, list, save, restore, flush, destroy, rename, swap. The sets are kept
 * in the order they were made, as the kernel's index lists them.
 */
final class Ipset {
    static final String VERSION = "ipset v7.17";
    static final String HELP = "Try `ipset help' for more information.";

    private final Map<String, NamedSet> sets = new LinkedHashMap<>();
    /** Rules that refer to each set, by their owner (such as "iptables/filter"). */
    private final Map<String, Map<String, Integer>> refs = new HashMap<>();
    final LongSupplier clock;

    Ipset(LongSupplier clock) {
        this.clock = clock;
    }

    static CommandException error(String msg) {
        return new CommandException(VERSION + ": " + msg, 1);
    }

    static CommandException syntax(String msg) {
        return new CommandException(VERSION + ": " + msg + "\n" + HELP, 2);
    }

    /**
     * The garbage collector's pass over every set with timeouts (mtype_gc, which a timer runs per set):
     * expired elements become tombstones by compare-and-set, so packets testing and adding at the same
     * time are never blocked; returns how many went.
     */
    synchronized int gc() {
        int n = 0;
        for (NamedSet s : sets.values()) {
            NamedSet.Data d = s.data;
            if (d.timeout >= 0) {
                n += d.table.expire(s.now());
            }
        }
        return n;
    }

    synchronized NamedSet set(String name) {
        return sets.get(name);
    }

    synchronized void references(String owner, Map<String, Integer> counts) {
        refs.put(owner, Map.copyOf(counts));
    }

    /** The rules referring to the set under this name (the handle, which keeps its name across a swap). */
    private int references(NamedSet s) {
        int n = 0;
        for (Map<String, Integer> m : refs.values()) {
            n += m.getOrDefault(s.name, 0);
        }
        return n;
    }

    // ------------------------------------------------------------------ the command

    /** Runs one command line; {@code stdin} gives restore its lines. */
    synchronized List<String> run(List<String> args, List<String> stdin) {
        boolean exist = false, terse = false, names = false, save = false;
        List<String> words = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "-exist", "-!" -> exist = true;
                case "-t", "-terse" -> terse = true;
                case "-n", "-name" -> names = true;
                case "-q", "-quiet", "-s", "-sorted", "-r", "-resolve" -> { }
                case "-o", "-output" -> {
                    String f = i + 1 < args.size() ? args.get(++i) : "";
                    if (!f.equals("plain") && !f.equals("save")) {
                        throw syntax("Syntax error: unknown output mode '" + f + "'");
                    }
                    save = f.equals("save");
                }
                default -> words.add(a);
            }
        }
        if (words.isEmpty()) {
            throw syntax("No command specified.");
        }
        String cmd = words.get(0);
        List<String> rest = words.subList(1, words.size());
        List<String> out = new ArrayList<>();
        switch (cmd) {
            case "create", "n", "-N" -> create(rest, exist);
            case "add", "-A" -> add(rest, exist);
            case "del", "-D" -> del(rest, exist);
            case "test", "-T" -> out.add(test(rest));
            case "list", "-L" -> list(rest, out, save, terse, names);
            case "save", "-S" -> list(rest, out, true, false, false);
            case "flush", "-F" -> flush(rest);
            case "destroy", "x", "-X" -> destroy(rest);
            case "rename", "e", "-E" -> rename(rest);
            case "swap", "w", "-W" -> swap(rest);
            case "restore", "-R" -> restore(stdin, exist);
            case "version", "-V", "-v" -> out.add(VERSION + ", protocol version: 7");
            default -> throw syntax("No command specified: unknown argument " + cmd);
        }
        return out;
    }

    private NamedSet existing(String name) {
        NamedSet s = sets.get(name);
        if (s == null) {
            throw error("The set with the given name does not exist");
        }
        return s;
    }

    private static String need(List<String> rest, int i, String which, String cmd) {
        if (rest.size() <= i) {
            throw syntax("Missing " + which + " mandatory argument to command " + cmd);
        }
        return rest.get(i);
    }

    // ------------------------------------------------------------------ create

    private void create(List<String> rest, boolean exist) {
        String name = need(rest, 0, "first", "create");
        String typename = need(rest, 1, "second", "create");
        SetType type = SetType.of(typename);
        if (type == null) {
            throw error("Syntax error: typename '" + typename + "' is unknown");
        }
        if (name.length() > 31) {
            throw error("Syntax error: setname '" + name + "' is longer than 31 characters");
        }
        int hashsize = 1024, maxelem = 65536, timeout = -1, first = -1, last = -1;
        boolean counters = false;
        Integer initval = null;
        for (int i = 2; i < rest.size(); i++) {
            String o = rest.get(i);
            switch (o) {
                case "family" -> {
                    String f = value(rest, ++i, o);
                    if (!f.equals("inet") && !f.equals("ipv4")) {
                        throw error("Syntax error: unknown family '" + f + "'"); // inet6 is not in this slice
                    }
                }
                case "hashsize" -> hashsize = (int) number(value(rest, ++i, o), 1, 0xffffffffL);
                case "maxelem" -> maxelem = (int) Math.min(number(value(rest, ++i, o), 1, 0xffffffffL), 1 << 22);
                case "timeout" -> timeout = (int) number(value(rest, ++i, o), 0, 2147483);
                case "counters" -> counters = true;
                case "bucketsize" -> value(rest, ++i, o);
                // the kernel takes a given initval (IPSET_ATTR_INITVAL) and draws one only without it, so
                // ipset save | ipset restore gives the same hash
                case "initval" -> initval = (int) uint32(value(rest, ++i, o));
                case "range" -> {
                    if (type != SetType.BITMAP_PORT) {
                        throw syntax("Unknown argument: `" + o + "'");
                    }
                    String v = value(rest, ++i, o);
                    int dash = v.indexOf('-');
                    first = port(dash < 0 ? v : v.substring(0, dash));
                    last = dash < 0 ? first : port(v.substring(dash + 1));
                    if (first > last) {
                        int t = first;
                        first = last;
                        last = t;
                    }
                }
                default -> throw syntax("Unknown argument: `" + o + "'");
            }
        }
        if (type == SetType.BITMAP_PORT && first < 0) {
            throw syntax("Mandatory option `range' is missing");
        }
        if (sets.containsKey(name)) {
            if (exist && sets.get(name).data.type == type) {
                return;
            }
            throw error("Set cannot be created: set with the same name already exists");
        }
        // the kernel rounds the hash size up to a power of two, at least 64
        hashsize = Math.max(64, Integer.highestOneBit(Math.max(1, hashsize - 1)) << 1);
        NamedSet.Data d = new NamedSet.Data(type, hashsize, maxelem, timeout, counters, first, last,
                initval != null ? initval : ThreadLocalRandom.current().nextInt());
        sets.put(name, new NamedSet(name, d, clock));
    }

    private static String value(List<String> rest, int i, String opt) {
        if (i >= rest.size()) {
            throw syntax("Missing mandatory value to option " + opt); // ipset's words for a missing value
        }
        return rest.get(i);
    }

    static long number(String v, long lo, long hi) {
        if (!v.matches("[0-9]{1,12}")) {
            throw error("Syntax error: '" + v + "' is invalid as number");
        }
        long n = Long.parseLong(v);
        if (n < lo || n > hi) {
            throw error("Syntax error: '" + v + "' is out of range " + lo + "-" + hi);
        }
        return n;
    }

    /** ipset_parse_uint32 (strtoul, base 0): decimal or {@code 0x} hex, as save prints initval. */
    private static long uint32(String v) {
        if (v.matches("0[xX][0-9a-fA-F]{1,8}")) {
            return Long.parseLong(v.substring(2), 16);
        }
        return number(v, 0, 0xffffffffL);
    }

    private static int port(String v) {
        return (int) number(v, 0, 65535);
    }

    static int address(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length == 4) {
            int a = 0;
            boolean ok = true;
            for (String x : p) {
                ok &= x.matches("[0-9]{1,3}") && Integer.parseInt(x) < 256;
                a = (a << 8) | (ok ? Integer.parseInt(x) : 0);
            }
            if (ok) {
                return a;
            }
        }
        throw error("Syntax error: cannot parse " + s + ": resolving to IPv4 address failed");
    }

    static String addr(long a) {
        return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
    }

    // ------------------------------------------------------------------ elements

    /** An element as given on the command line, with its options. */
    /** {@code cidrs}: each key's prefix length (hash:net), parallel to {@code keys}; {@code cidr}: the first's. */
    private record Element(List<Long> keys, List<Integer> cidrs, int cidr, int timeout, String text, int flags) {
        Element(List<Long> keys, List<Integer> cidrs, int cidr, int timeout, String text) {
            this(keys, cidrs, cidr, timeout, text, 0);
        }
    }

    /**
     * ip_set_range_to_cidr: the fewest networks that cover {@code lo..hi} exactly, each the largest block
     * aligned at its start that does not pass {@code hi}.
     */
    static List<long[]> rangeToCidrs(long lo, long hi) {
        List<long[]> out = new ArrayList<>();
        while (lo <= hi) {
            int len = 32;
            while (len > 0) {
                long size = 1L << (32 - (len - 1));
                if ((lo & (size - 1)) != 0 || lo + size - 1 > hi) {
                    break;
                }
                len--;
            }
            out.add(new long[] { lo, len });
            lo += 1L << (32 - len);
        }
        return out;
    }

    /** Parses {@code ELEMENT [timeout N] [packets N bytes N]} for the set's type into its keys. */
    private Element element(NamedSet s, List<String> rest, String cmd) {
        String e = need(rest, 1, "second", cmd);
        NamedSet.Data d = s.data;
        List<Long> keys = new ArrayList<>();
        List<Integer> cidrs = new ArrayList<>();
        int cidr = 32;
        int dashAt = e.indexOf('-');
        if (dashAt > 0 && (d.type == SetType.HASH_IP || d.type == SetType.HASH_NET)) {
            // FROM-TO: every address (hash:ip) or the networks that cover the range (hash:net)
            long lo = address(e.substring(0, dashAt)) & 0xffffffffL;
            long hi = address(e.substring(dashAt + 1)) & 0xffffffffL;
            if (lo > hi) { // the kernel's uadt swaps them
                long x = lo;
                lo = hi;
                hi = x;
            }
            if (d.type == SetType.HASH_IP) {
                if (hi - lo + 1 > d.maxelem) {
                    throw error("Hash is full, cannot add more elements");
                }
                for (long a = lo; a <= hi; a++) {
                    keys.add(a);
                    cidrs.add(32);
                }
            } else {
                for (long[] n : rangeToCidrs(lo, hi)) {
                    keys.add(NamedSet.netKey((int) n[0], (int) n[1]));
                    cidrs.add((int) n[1]);
                }
            }
            return options(d, rest, new Element(keys, cidrs, cidrs.get(0), -2, e));
        }
        switch (d.type) {
            case HASH_IP -> {
                int slash = e.indexOf('/');
                int a = address(slash < 0 ? e : e.substring(0, slash));
                int c = slash < 0 ? 32 : (int) number(e.substring(slash + 1), 1, 32);
                long base = a & (c == 0 ? 0 : -1 << (32 - c)) & 0xffffffffL;
                long n = 1L << (32 - c);
                if (n > d.maxelem) {
                    throw error("Hash is full, cannot add more elements");
                }
                for (long i = 0; i < n; i++) {
                    keys.add(base + i);
                }
            }
            case HASH_NET -> {
                int slash = e.indexOf('/');
                int a = address(slash < 0 ? e : e.substring(0, slash));
                cidr = slash < 0 ? 32 : (int) number(e.substring(slash + 1), 0, 32);
                if (cidr == 0 && !cmd.equals("test")) {
                    throw error("The value of the CIDR parameter of the IP address is invalid");
                }
                keys.add(NamedSet.netKey(a, cidr));
            }
            case HASH_IP_PORT -> {
                int comma = e.indexOf(',');
                if (comma < 0) {
                    throw error("Syntax error: Second element is missing from " + e + ".");
                }
                int a = address(e.substring(0, comma));
                String pp = e.substring(comma + 1);
                int colon = pp.indexOf(':');
                int proto = 6;
                if (colon >= 0) {
                    proto = switch (pp.substring(0, colon)) {
                        case "tcp" -> 6;
                        case "udp" -> 17;
                        case "sctp" -> 132;
                        case "udplite" -> 136;
                        default -> throw error("Syntax error: cannot parse '" + pp + "' as a protocol"); // icmp is not in this slice
                    };
                }
                String ps = colon >= 0 ? pp.substring(colon + 1) : pp;
                int port = servicePort(ps, proto);
                keys.add(NamedSet.ipPortKey(a, proto, port));
            }
            default -> {
                int dash = e.indexOf('-');
                int lo = port(dash < 0 ? e : e.substring(0, dash));
                int hi = dash < 0 ? lo : port(e.substring(dash + 1));
                if (lo < d.first || hi > d.last || lo > hi) {
                    throw error("Element is out of the range of the set");
                }
                for (int p = lo; p <= hi; p++) {
                    keys.add((long) p);
                }
            }
        }
        while (cidrs.size() < keys.size()) {
            cidrs.add(cidr);
        }
        return options(d, rest, new Element(keys, cidrs, cidr, -2, e));
    }

    /** The element's options: {@code timeout N}, {@code packets N bytes N}. */
    private Element options(NamedSet.Data d, List<String> rest, Element el) {
        int timeout = -2;
        int flags = 0;
        for (int i = 2; i < rest.size(); i++) {
            String o = rest.get(i);
            switch (o) {
                case "nomatch" -> {
                    if (d.type != SetType.HASH_NET) {
                        throw syntax("Unknown argument: `nomatch'");
                    }
                    flags |= SetTable.NOMATCH;
                }
                case "timeout" -> {
                    String v = value(rest, ++i, o);
                    long t = number(v, 0, 2147483);
                    if (d.timeout < 0) {
                        throw error("Timeout cannot be used: set was created without timeout support");
                    }
                    timeout = (int) t;
                }
                case "packets", "bytes" -> {
                    number(value(rest, ++i, o), 0, Long.MAX_VALUE / 2);
                    if (!d.counters) {
                        throw error("Packet/byte counters cannot be used: set was created without counter support");
                    }
                }
                default -> throw syntax("Unknown argument: `" + o + "'");
            }
        }
        return new Element(el.keys(), el.cidrs(), el.cidr(), timeout, el.text(), flags);
    }

    private static int servicePort(String s, int proto) {
        if (s.matches("[0-9]+")) {
            return port(s);
        }
        return switch (s) { // the few /etc/services names a set is usually given
            case "http" -> 80;
            case "https" -> 443;
            case "ssh" -> 22;
            case "domain" -> 53;
            case "smtp" -> 25;
            case "ntp" -> 123;
            default -> throw error("Syntax error: cannot parse '" + s + "' as a " + (proto == 17 ? "udp" : "tcp") + " port");
        };
    }

    private void add(List<String> rest, boolean exist) {
        NamedSet s = existing(need(rest, 0, "first", "add"));
        Element e = element(s, rest, "add");
        NamedSet.Data d = s.data;
        long now = s.now();
        int t = e.timeout == -2 ? d.timeout : e.timeout;
        for (int ki = 0; ki < e.keys.size(); ki++) {
            long k = e.keys.get(ki);
            SetTable.Added r = d.table.add(k, NamedSet.expiry(t, now), exist, now, e.flags);
            if (r == SetTable.Added.FULL) {
                throw error(d.type.hash() ? "Hash is full, cannot add more elements" : "Element is out of the range of the set");
            }
            if (r == SetTable.Added.EXISTS && !exist) {
                throw error("Element cannot be added to the set: it's already added");
            }
            if (r == SetTable.Added.ADDED && d.type == SetType.HASH_NET) {
                d.cidrs.incrementAndGet(e.cidrs.get(ki));
            }
        }
    }

    private void del(List<String> rest, boolean exist) {
        NamedSet s = existing(need(rest, 0, "first", "del"));
        Element e = element(s, rest, "del");
        NamedSet.Data d = s.data;
        for (int ki = 0; ki < e.keys.size(); ki++) {
            long k = e.keys.get(ki);
            if (d.table.del(k, s.now())) {
                if (d.type == SetType.HASH_NET) {
                    d.cidrs.decrementAndGet(e.cidrs.get(ki));
                }
            } else if (!exist) {
                throw error("Element cannot be deleted from the set: it's not added");
            }
        }
    }

    /** {@code ipset test}: an address is looked for in every network of a hash:net; a network given is looked for as is. */
    private String test(List<String> rest) {
        NamedSet s = existing(need(rest, 0, "first", "test"));
        Element e = element(s, rest, "test");
        NamedSet.Data d = s.data;
        long now = s.now();
        boolean in = true;
        for (long k : e.keys) {
            int slot = d.table.find(k, now);
            if (slot < 0 && d.type == SetType.HASH_NET && e.cidr == 32) {
                for (int c = 31; c >= 0 && slot < 0; c--) {
                    slot = d.cidrs.get(c) > 0 ? d.table.find(NamedSet.netKey((int) k, c), now) : -1;
                }
            }
            in &= slot >= 0 && (d.table.flags(slot) & SetTable.NOMATCH) == 0; // a nomatch network is NOT in the set
        }
        String what = e.text + " is" + (in ? "" : " NOT") + " in set " + s.name + ".";
        if (!in) {
            throw new CommandException(what, 1);
        }
        return "Warning: " + what;
    }

    // ------------------------------------------------------------------ list and save

    private String member(NamedSet.Data d, long k) {
        return switch (d.type) {
            case HASH_IP -> addr(k);
            case HASH_NET -> {
                int cidr = (int) (k >>> 32);
                yield addr(k & 0xffffffffL) + (cidr == 32 ? "" : "/" + cidr);
            }
            case HASH_IP_PORT -> {
                int proto = (int) ((k >>> 16) & 0xff);
                String p = switch (proto) {
                    case 6 -> "tcp";
                    case 17 -> "udp";
                    case 132 -> "sctp";
                    default -> "udplite";
                };
                yield addr(k >>> 24) + "," + p + ":" + (k & 0xffff);
            }
            default -> Long.toString(k);
        };
    }

    private static String header(NamedSet.Data d) {
        StringBuilder b = new StringBuilder();
        if (d.type.hash()) {
            b.append("family inet hashsize ").append(d.hashsize).append(" maxelem ").append(d.maxelem);
        } else {
            b.append("range ").append(d.first).append('-').append(d.last);
        }
        if (d.timeout >= 0) {
            b.append(" timeout ").append(d.timeout);
        }
        if (d.counters) {
            b.append(" counters");
        }
        if (d.type.hash()) {
            b.append(" bucketsize 12 initval 0x").append(String.format("%08x", d.initval));
        }
        return b.toString();
    }

    private List<String> members(NamedSet s, boolean save) {
        NamedSet.Data d = s.data;
        long now = s.now();
        d.table.expire(now); // the collector's pass the kernel's timer would have made
        List<long[]> all = new ArrayList<>();
        d.table.forEach(now, (SetTable.FlagVisitor) (k, exp, p, by, f) -> all.add(new long[] { k, exp, p, by, f }));
        if (d.type == SetType.BITMAP_PORT) {
            all.sort((x, y) -> Long.compare(x[0], y[0]));
        }
        List<String> out = new ArrayList<>();
        for (long[] e : all) {
            StringBuilder b = new StringBuilder(save ? "add " + s.name + " " : "").append(member(d, e[0]));
            if (d.timeout >= 0) {
                b.append(" timeout ").append(e[1] == 0 ? 0 : (e[1] - now) / 1_000_000_000L);
            }
            if (d.counters) {
                b.append(" packets ").append(e[2]).append(" bytes ").append(e[3]);
            }
            if ((e[4] & SetTable.NOMATCH) != 0) {
                b.append(" nomatch");
            }
            out.add(b.toString());
        }
        return out;
    }

    private void list(List<String> rest, List<String> out, boolean save, boolean terse, boolean names) {
        List<NamedSet> which = rest.isEmpty() ? new ArrayList<>(sets.values()) : List.of(existing(rest.get(0)));
        for (NamedSet s : which) {
            if (names) {
                out.add(s.name);
                continue;
            }
            NamedSet.Data d = s.data;
            if (save) {
                out.add("create " + s.name + " " + d.type.typename + " " + header(d));
                if (!terse) {
                    out.addAll(members(s, true));
                }
                continue;
            }
            if (!out.isEmpty()) {
                out.add("");
            }
            List<String> m = members(s, false);
            out.add("Name: " + s.name);
            out.add("Type: " + d.type.typename);
            out.add("Revision: " + d.type.revision);
            out.add("Header: " + header(d));
            out.add("Size in memory: " + (d.table.memory() + 200));
            out.add("References: " + references(s));
            out.add("Number of entries: " + m.size());
            if (!terse) {
                out.add("Members:");
                out.addAll(m);
            }
        }
    }

    // ------------------------------------------------------------------ flush, destroy, rename, swap, restore

    private void flush(List<String> rest) {
        for (NamedSet s : rest.isEmpty() ? new ArrayList<>(sets.values()) : List.of(existing(rest.get(0)))) {
            s.data.table.flush();
            for (int c = 0; c <= 32; c++) {
                s.data.cidrs.set(c, 0);
            }
        }
    }

    private void destroy(List<String> rest) {
        List<NamedSet> which = rest.isEmpty() ? new ArrayList<>(sets.values()) : List.of(existing(rest.get(0)));
        for (NamedSet s : which) {
            if (references(s) > 0) {
                throw error("Set cannot be destroyed: it is in use by a kernel component");
            }
        }
        for (NamedSet s : which) {
            sets.remove(s.name);
        }
    }

    private void rename(List<String> rest) {
        NamedSet s = existing(need(rest, 0, "first", "rename"));
        String to = need(rest, 1, "second", "rename");
        if (sets.containsKey(to)) {
            throw error("Set cannot be renamed: a set with the new name already exists");
        }
        if (references(s) > 0) {
            throw error("Set cannot be renamed: it is in use by a kernel component");
        }
        sets.remove(s.name);
        s.name = to;
        sets.put(to, s);
    }

    /** ip_set_swap: the two names exchange contents, so each rule now sees the other set's elements. */
    private void swap(List<String> rest) {
        NamedSet a = existing(need(rest, 0, "first", "swap"));
        NamedSet b = sets.get(need(rest, 1, "second", "swap"));
        if (b == null) {
            throw error("Sets cannot be swapped: the second set does not exist");
        }
        if (a.data.type != b.data.type) {
            throw error("The sets cannot be swapped: their type does not match");
        }
        NamedSet.Data t = a.data;
        a.data = b.data;
        b.data = t;
    }

    /** ipset restore: each line a command without "ipset"; the first failing line stops it, the lines before it stay. */
    private void restore(List<String> lines, boolean exist) {
        int n = 0;
        for (String l : lines) {
            n++;
            String t = l.trim();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            if (t.equals("COMMIT")) {
                continue;
            }
            List<String> words = new ArrayList<>(List.of(t.split("\\s+")));
            if (exist) {
                words.add(0, "-exist");
            }
            try {
                run(words, List.of());
            } catch (CommandException e) {
                String m = e.getMessage().startsWith(VERSION + ": ") ? e.getMessage().substring(VERSION.length() + 2) : e.getMessage();
                throw error("Error in line " + n + ": " + m);
            }
        }
    }
}

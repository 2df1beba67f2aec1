package org.modnet.ipv4;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.modnet.api.inet.FibRule;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;

/**
 * One namespace's routing policy database and its routing tables ({@code net/core/fib_rules.c} and
 * {@code net/ipv4/fib_rules.c}): the rules in priority order, each matching a packet's flow (source,
 * destination, in and out device, mark, TOS, protocol, ports) and sending its lookup to a table, to
 * another rule ({@code goto}) or to a reject. Tables are made by id when a route is added to one.
 *
 * <p>The rules are read by the packet path without a lock: an array compiled after each change (with
 * device names resolved to ifindexes, tables and goto targets to references) and never changed after
 * it is published. With only the three default rules a lookup is main then default, as Linux's
 * {@code fib_lookup} does while {@code fib_has_custom_rules} is false: it costs what it did before
 * rules existed.
 *
 * <p>modnet answers for its own addresses before any table (the callers' {@code isLocal}), so the
 * {@code lookup local} rule finds only the routes added by hand to table 255; a rule placed before
 * it cannot take a local destination away, and deleting it does not stop local delivery.
 */
final class FibRules {
    /**
     * What a reject action returns ({@code fib4_rule_action}): a blackhole is EINVAL to a local sender
     * and a silent drop when forwarding; a rule's unreachable is ENETUNREACH (a route's own
     * unreachable is EHOSTUNREACH); prohibit is EACCES. Told apart from routes by identity.
     */
    static final RouteEntry BLACKHOLE = reject("blackhole");
    static final RouteEntry UNREACHABLE = reject("unreachable");
    static final RouteEntry PROHIBIT = reject("prohibit");

    /** {@code LOOPBACK_IFINDEX}: the {@code iif} of a packet this host sends ({@code flowi4_iif} on output). */
    static final int LOOPBACK_IFINDEX = 1;

    private static final int TO_TABLE = 0;
    private static final int GOTO = 1;
    private static final int NOP = 2;
    private static final int REJECT = 3;

    /** A rule as the packet path reads it: primitives and resolved references, never changed once published. */
    private static final class Rule {
        final FibRule spec;
        final boolean invert;
        final int src;
        final int srcMask;
        final int dst;
        final int dstMask;
        final int iif; // 0 any, -1 a device not in the namespace (matches nothing, "[detached]")
        final int oif;
        final int mark;
        final int markMask;
        final int tos;
        final int proto;
        final int sportLo;
        final int sportHi;
        final int dportLo;
        final int dportHi;
        final int action;
        final RouteEntry reject;
        final Ipv4Fib table; // null: no such table yet, the rule passes on
        final int suppress;
        int gotoIndex = -1; // the first rule of the goto's priority, -1 unresolved

        Rule(FibRule r, NetNamespace ns, Map<Long, Ipv4Fib> tables) {
            spec = r;
            invert = r.not();
            srcMask = FibTrie.mask(r.srcLen());
            src = r.src() & srcMask;
            dstMask = FibTrie.mask(r.dstLen());
            dst = r.dst() & dstMask;
            iif = ifindex(ns, r.iif());
            oif = ifindex(ns, r.oif());
            mark = r.fwmark() < 0 ? 0 : (int) r.fwmark();
            markMask = r.fwmark() < 0 ? 0 : r.fwmask() < 0 ? -1 : (int) r.fwmask();
            tos = r.tos();
            proto = r.ipproto();
            sportLo = r.sportLo();
            sportHi = r.sportHi();
            dportLo = r.dportLo();
            dportHi = r.dportHi();
            action = switch (r.action()) {
                case "goto" -> GOTO;
                case "nop" -> NOP;
                case "blackhole", "unreachable", "prohibit" -> REJECT;
                default -> TO_TABLE;
            };
            reject = switch (r.action()) {
                case "blackhole" -> BLACKHOLE;
                case "unreachable" -> UNREACHABLE;
                case "prohibit" -> PROHIBIT;
                default -> null;
            };
            table = action == TO_TABLE ? tables.get(r.table()) : null;
            suppress = r.suppressPrefixlen();
        }

        private static int ifindex(NetNamespace ns, String name) {
            if (name == null) {
                return 0;
            }
            NetDevice d = ns.device(name);
            return d == null ? -1 : d.ifindex();
        }

        /** {@code fib_rule_match} with {@code fib4_rule_match}: every selector given must hold, or none with {@code not}. */
        boolean matches(int daddr, int saddr, int inIf, int outIf, int pktMark, int pktTos, int pktProto, int sport, int dport) {
            boolean m = (iif == 0 || iif == inIf) && (oif == 0 || oif == outIf) && ((pktMark ^ mark) & markMask) == 0
                    && ((daddr & dstMask) == dst) && ((saddr & srcMask) == src) && (tos == 0 || tos == (pktTos & 0xfc))
                    && (proto == 0 || proto == pktProto) && (sportLo == 0 || sport >= sportLo && sport <= sportHi)
                    && (dportLo == 0 || dport >= dportLo && dport <= dportHi);
            return m != invert;
        }
    }

    private final NetNamespace ns;
    /** The main table: the kernel's routes and those added without a table. */
    final Ipv4Fib main;
    /** Every table by id (main among them), changed under this object's lock. */
    private final Map<Long, Ipv4Fib> tables = new TreeMap<>();
    /** The rules in the order they are tried, changed under this object's lock. */
    private final List<FibRule> rules = new ArrayList<>(FibRule.defaults());

    private volatile Rule[] compiled;
    private volatile long compiledGeneration;
    /** {@code fib_has_custom_rules}: false while the rules are the three defaults. */
    private volatile boolean custom;
    /** Table 253 once made: the no-rules lookup tries it after main. */
    private volatile Ipv4Fib defaultTable;

    FibRules(NetNamespace ns) {
        this.ns = ns;
        this.main = new Ipv4Fib(ns);
        tables.put(FibRule.MAIN, main);
        synchronized (this) {
            compile();
        }
    }

    private static RouteEntry reject(String type) {
        return new RouteEntry(type, 0, 0, 0, null, 0, 0, "kernel", "global");
    }

    /** {@code fib_lookup} for a packet this host sends; see {@link #lookup}. */
    RouteEntry output(int daddr, int saddr, int oif, int mark, int tos, int proto, int sport, int dport) {
        return lookup(daddr, saddr, LOOPBACK_IFINDEX, oif, mark, tos, proto, sport, dport, null);
    }

    /**
     * {@code fib_lookup}: the route the rules pick for the flow, one of the reject constants, or null
     * (ENETUNREACH: no rule's table had a route). With {@code table} not null, its first element gets
     * the id of the table whose route was taken. Allocates nothing and takes no lock.
     */
    RouteEntry lookup(int daddr, int saddr, int iif, int oif, int mark, int tos, int proto, int sport, int dport, long[] table) {
        if (!custom) {
            RouteEntry r = main.lookup(daddr);
            long id = FibRule.MAIN;
            if (r == null || isThrow(r)) {
                Ipv4Fib d = defaultTable;
                r = d == null ? null : d.lookup(daddr);
                id = FibRule.DEFAULT;
            }
            if (r == null || isThrow(r)) {
                return null;
            }
            if (table != null) {
                table[0] = id;
            }
            return r;
        }
        Rule[] rs = current();
        for (int i = 0; i < rs.length; i++) {
            Rule rule = rs[i];
            if (!rule.matches(daddr, saddr, iif, oif, mark, tos, proto, sport, dport)) {
                continue;
            }
            switch (rule.action) {
                case GOTO -> {
                    if (rule.gotoIndex >= 0) {
                        i = rule.gotoIndex - 1; // forward only: add refuses a backward goto
                    }
                }
                case NOP -> {
                }
                case REJECT -> {
                    return rule.reject;
                }
                default -> {
                    Ipv4Fib t = rule.table;
                    RouteEntry r = t == null ? null : t.lookup(daddr);
                    // -EAGAIN: no route, or a throw route, and the next rule is tried;
                    // fib4_rule_suppress: a route no longer than suppress_prefixlength is refused too (not a
                    // reject route, which the table returns as an error before suppression is asked)
                    if (r == null || isThrow(r) || (rule.suppress >= 0 && r.len() <= rule.suppress && r.dev() != null)) {
                        continue;
                    }
                    if (table != null) {
                        table[0] = rule.spec.table();
                    }
                    return r;
                }
            }
        }
        return null;
    }

    private static boolean isThrow(RouteEntry r) {
        return "throw".equals(r.type());
    }

    private Rule[] current() {
        if (ns.addressGeneration() != compiledGeneration) {
            synchronized (this) {
                compile(); // a device came or went: iif and oif resolve again
            }
        }
        return compiled;
    }

    /** Publishes the rules for the packet path (lock held). */
    private void compile() {
        compiledGeneration = ns.addressGeneration();
        Rule[] rs = new Rule[rules.size()];
        for (int i = 0; i < rs.length; i++) {
            rs[i] = new Rule(rules.get(i), ns, tables);
        }
        for (Rule r : rs) {
            if (r.action == GOTO) {
                for (int j = 0; j < rs.length; j++) {
                    if (rs[j].spec.priority() == r.spec.gotoPriority()) {
                        r.gotoIndex = j;
                        break;
                    }
                }
            }
        }
        compiled = rs;
        defaultTable = tables.get(FibRule.DEFAULT);
        // Linux keeps local and main merged in one trie until a rule is added (fib_unmerge), so its
        // shortcut still finds local routes; a table 255 with routes by hand takes the rules here
        custom = !rules.equals(FibRule.defaults()) || tables.containsKey(FibRule.LOCAL);
    }

    /** Devices came, went or were renamed: the kernel's routes and the rules' device names follow. */
    synchronized void linksChanged() {
        main.addressesChanged();
        compile();
    }

    /** The table of that id, or null when none was made. */
    synchronized Ipv4Fib table(long id) {
        return tables.get(id);
    }

    /** {@code fib_new_table}: the table of that id, made empty if it was not there. */
    synchronized Ipv4Fib tableOrNew(long id) {
        Ipv4Fib t = tables.get(id);
        if (t == null) {
            t = new Ipv4Fib(ns, id);
            tables.put(id, t);
            compile(); // rules that name it now reach it
        }
        return t;
    }

    synchronized List<Long> tableIds() {
        return List.copyOf(tables.keySet());
    }

    synchronized List<FibRule> rules() {
        return List.copyOf(rules);
    }

    /**
     * {@code fib_nl_newrule}: the rule goes after every rule of its priority or lower. Without a
     * priority it takes one less than the second rule's ({@code fib_default_rule_pref}); {@code table 0}
     * takes the first id without a table ({@code fib_empty_table}).
     */
    synchronized FibRule add(FibRule r) throws NetException {
        long pref = r.priority();
        if (pref < 0) {
            pref = rules.size() >= 2 && rules.get(1).priority() != 0 ? rules.get(1).priority() - 1 : 0;
        }
        long table = r.table();
        if ("table".equals(r.action()) && table <= 0) {
            table = 1;
            while (tables.containsKey(table)) {
                table++;
            }
            tableOrNew(table);
        }
        FibRule rule = new FibRule(pref, r.not(), r.src(), r.srcLen(), r.dst(), r.dstLen(), r.iif(), r.oif(), r.fwmark(),
                r.fwmark() >= 0 && r.fwmask() < 0 ? 0xffffffffL : r.fwmask(), r.tos(), r.ipproto(), r.sportLo(), r.sportHi(),
                r.dportLo(), r.dportHi(), r.action(), "table".equals(r.action()) ? table : -1,
                "goto".equals(r.action()) ? r.gotoPriority() : -1, r.suppressPrefixlen());
        if ("goto".equals(rule.action()) && rule.gotoPriority() <= pref) {
            throw new NetException(Errno.EINVAL, "Backward goto not supported");
        }
        if ((rule.tos() & 3) != 0) {
            throw new NetException(Errno.EINVAL, "Invalid dsfield (tos): ECN bits must be 0");
        }
        if (rule.sportLo() > rule.sportHi()) {
            throw new NetException(Errno.EINVAL, "Invalid sport range");
        }
        if (rule.dportLo() > rule.dportHi()) {
            throw new NetException(Errno.EINVAL, "Invalid dport range");
        }
        if (rules.contains(rule)) {
            throw new NetException(Errno.EEXIST); // rule_exists: the same rule at the same priority
        }
        int at = 0;
        while (at < rules.size() && rules.get(at).priority() <= pref) {
            at++;
        }
        rules.add(at, rule);
        compile();
        return rule;
    }

    /** {@code fib_nl_delrule}: the first rule that every field given matches goes; ENOENT when none does. */
    synchronized FibRule delete(FibRule sel) throws NetException {
        for (int i = 0; i < rules.size(); i++) {
            FibRule r = rules.get(i);
            if (selects(sel, r)) {
                rules.remove(i);
                compile();
                return r;
            }
        }
        throw new NetException(Errno.ENOENT);
    }

    /** {@code rule_find} and {@code fib4_rule_compare}: the fields a delete request gave, compared. */
    static boolean selects(FibRule sel, FibRule r) {
        return (sel.action() == null || sel.action().equals(r.action())) && (sel.table() <= 0 || sel.table() == r.table())
                && (sel.priority() < 0 || sel.priority() == r.priority()) && (sel.iif() == null || sel.iif().equals(r.iif()))
                && (sel.oif() == null || sel.oif().equals(r.oif())) && (sel.fwmark() <= 0 || sel.fwmark() == r.fwmark())
                && (sel.fwmask() <= 0 || sel.fwmask() == r.fwmask())
                && (sel.suppressPrefixlen() < 0 || sel.suppressPrefixlen() == r.suppressPrefixlen())
                && (sel.ipproto() == 0 || sel.ipproto() == r.ipproto())
                && (sel.sportLo() == 0 || sel.sportLo() == r.sportLo() && sel.sportHi() == r.sportHi())
                && (sel.dportLo() == 0 || sel.dportLo() == r.dportLo() && sel.dportHi() == r.dportHi())
                && (sel.srcLen() == 0 || sel.srcLen() == r.srcLen() && sel.src() == r.src())
                && (sel.dstLen() == 0 || sel.dstLen() == r.dstLen() && sel.dst() == r.dst()) && (sel.tos() == 0 || sel.tos() == r.tos());
    }

    /**
     * The rules as text for a hand-over ({@code TableState.extra}): one line a rule, its fields in the
     * record's order, device names URL-encoded ({@code -} for none); null while they are the defaults.
     */
    synchronized String encode() {
        if (rules.equals(FibRule.defaults())) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (FibRule r : rules) {
            sb.append(r.priority()).append(' ').append(r.not()).append(' ').append(r.src()).append(' ').append(r.srcLen()).append(' ')
                    .append(r.dst()).append(' ').append(r.dstLen()).append(' ').append(name(r.iif())).append(' ').append(name(r.oif()))
                    .append(' ').append(r.fwmark()).append(' ').append(r.fwmask()).append(' ').append(r.tos()).append(' ')
                    .append(r.ipproto()).append(' ').append(r.sportLo()).append(' ').append(r.sportHi()).append(' ').append(r.dportLo())
                    .append(' ').append(r.dportHi()).append(' ').append(r.action()).append(' ').append(r.table()).append(' ')
                    .append(r.gotoPriority()).append(' ').append(r.suppressPrefixlen()).append('\n');
        }
        return sb.toString();
    }

    /** The rules a previous version {@link #encode encoded}, in place of these; lines it cannot read are skipped. Returns them. */
    synchronized int decode(String text) {
        List<FibRule> read = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.split(" ");
            if (f.length != 20) {
                continue;
            }
            try {
                read.add(new FibRule(Long.parseLong(f[0]), Boolean.parseBoolean(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                        Integer.parseInt(f[4]), Integer.parseInt(f[5]), unname(f[6]), unname(f[7]), Long.parseLong(f[8]),
                        Long.parseLong(f[9]), Integer.parseInt(f[10]), Integer.parseInt(f[11]), Integer.parseInt(f[12]),
                        Integer.parseInt(f[13]), Integer.parseInt(f[14]), Integer.parseInt(f[15]), f[16], Long.parseLong(f[17]),
                        Long.parseLong(f[18]), Integer.parseInt(f[19])));
            } catch (NumberFormatException e) {
                // a line of another layout: left out
            }
        }
        rules.clear();
        rules.addAll(read);
        compile();
        return read.size();
    }

    private static String name(String dev) {
        return dev == null ? "-" : "=" + java.net.URLEncoder.encode(dev, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String unname(String w) {
        return w.equals("-") ? null : java.net.URLDecoder.decode(w.substring(1), java.nio.charset.StandardCharsets.UTF_8);
    }
}

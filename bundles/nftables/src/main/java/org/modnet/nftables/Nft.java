package org.modnet.nftables;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.modnet.api.shell.CommandException;
import org.modnet.nftables.Ruleset.Chain;
import org.modnet.nftables.Ruleset.Model;
import org.modnet.nftables.Ruleset.NSet;
import org.modnet.nftables.Ruleset.Rule;
import org.modnet.nftables.Ruleset.Table;

/**
 * The nft command (nftables v1.0.6): reads commands in nft's syntax, one line or a whole {@code -f}
 * file, applies them all to a copy of the ruleset and publishes it only if every one succeeded, and
 * prints {@code list} output as nft does (tabs, braces, {@code # handle N} with {@code -a}).
 */
final class Nft {
    private final Ruleset rs;
    private List<String> toks;
    /** Where each token starts in {@link #source}, for the caret line under an error. */
    private List<Integer> starts;
    private int pos;
    private String source;
    private boolean handles;
    /** Where each element of the last element list read starts (its key's token), for errors about one of them. */
    private List<Integer> elemToks = new ArrayList<>();

    private Nft(Ruleset rs) {
        this.rs = rs;
    }

    /**
     * Changes to the element tables of sets that already exist ({@link DynSet}s the published ruleset
     * uses): made only once the whole change has been published, so a failing command changes nothing.
     */
    private final List<Runnable> after = new ArrayList<>();
    /** The element tables made by this change, which no packet sees yet: changed at once. */
    private final java.util.Set<DynSet> fresh = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    /** The sets this change made (nft marks a set {@code dynamic} when a rule of the same batch adds to it). */
    private final java.util.Set<NSet> made = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    private void dynChange(DynSet d, Runnable r) {
        if (fresh.contains(d)) {
            r.run();
        } else {
            after.add(r);
        }
    }

    private long now() {
        return rs.clock.getAsLong();
    }

    /** Runs {@code text} (commands separated by newlines or ';') atomically; returns what it prints. */
    static List<String> run(Ruleset rs, String text, boolean handles) {
        return run(rs, text, handles, false, null);
    }

    /**
     * Reads back what {@code nft -a list ruleset} printed of a previous version's ruleset, as it was:
     * the handles its {@code # handle N} comments give, the counters' packets and bytes, and then each
     * table's next handle ({@code "family name" -> next}) and the next table handle (key {@code ""}).
     */
    static void restore(Ruleset rs, String listing, java.util.Map<String, Integer> next) {
        run(rs, listing, false, true, next);
    }

    /** {@code nft -a list ruleset} without a change: the published model is never changed in place. */
    static List<String> list(Ruleset rs, boolean handles) {
        Nft n = new Nft(rs);
        n.handles = handles;
        List<String> out = new ArrayList<>();
        for (Table t : rs.model().tables) {
            n.list(t, null, out);
        }
        return out;
    }

    /** Every table's next handle by {@code "family name"}, and the next table handle under {@code ""}. */
    static java.util.Map<String, Integer> nextHandles(Ruleset rs) {
        java.util.Map<String, Integer> out = new java.util.HashMap<>();
        Model m = rs.model();
        out.put("", m.nextTableHandle);
        for (Table t : m.tables) {
            out.put(t.family + " " + t.name, t.nextHandle);
        }
        return out;
    }

    private boolean restoring;
    /** The line (from 1) of the place the last error message marked, for {@code nft -f}'s {@code FILE:LINE:} prefix. */
    private int errLine;

    /**
     * {@code nft -f FILE}: as {@link #run(Ruleset, String, boolean)}, and an error starts with nft's
     * {@code FILE:LINE:FIRST-LAST: } (the columns, from 1, of the first and last character it marks).
     */
    static List<String> runFile(Ruleset rs, String text, boolean handles, String file) {
        Nft n = new Nft(rs);
        try {
            return run(n, rs, text, handles, false, null);
        } catch (CommandException e) {
            if (n.errLine == 0 || e.getMessage() == null || !e.getMessage().startsWith("Error: ")) {
                throw e;
            }
            String[] l = e.getMessage().split("\n", -1);
            int first, last;
            if (l.length >= 3 && l[l.length - 1].indexOf('^') >= 0) {
                String marks = l[l.length - 1];
                first = Math.min(marks.indexOf('^') < 0 ? Integer.MAX_VALUE : marks.indexOf('^'),
                        marks.indexOf('~') < 0 ? Integer.MAX_VALUE : marks.indexOf('~')) + 1;
                last = Math.max(marks.lastIndexOf('^'), marks.lastIndexOf('~')) + 1;
            } else {
                // a newline marked: the column after the line's last character, as nft's caret sits there
                int len = l.length >= 2 ? l[1].length() : 0;
                first = last = len + 1;
            }
            throw new CommandException(file + ":" + n.errLine + ":" + first + "-" + last + ": " + e.getMessage(), e.status());
        }
    }

    private static List<String> run(Ruleset rs, String text, boolean handles, boolean restore, java.util.Map<String, Integer> next) {
        return run(new Nft(rs), rs, text, handles, restore, next);
    }

    private static List<String> run(Nft n, Ruleset rs, String text, boolean handles, boolean restore, java.util.Map<String, Integer> next) {
        n.handles = handles;
        n.restoring = restore;
        n.source = text;
        n.starts = new ArrayList<>();
        n.toks = tokenize(text, n.starts, restore);
        n.pos = 0;
        List<String> result = rs.change(m -> {
            if (next != null) {
                List<String> out = n.runAll(m);
                m.nextTableHandle = Math.max(m.nextTableHandle, next.getOrDefault("", 1));
                for (Table t : m.tables) {
                    t.nextHandle = Math.max(t.nextHandle, next.getOrDefault(t.family + " " + t.name, 1));
                }
                return out;
            }
            return n.runAll(m);
        });
        n.after.forEach(Runnable::run);
        return result;
    }

    private List<String> runAll(Model m) {
        List<String> out = new ArrayList<>();
        while (pos < toks.size()) {
            String t = next();
            if (t.equals(";") || t.equals("\n")) {
                continue;
            }
            command(m, t, out);
        }
        return out;
    }

    /** The handle a restored listing gives the object just opened or the rule just read ({@code # handle N}), or 0. */
    private int handle() {
        if (restoring && peek().startsWith("#handle:")) {
            return Integer.parseInt(next().substring(8));
        }
        return 0;
    }

    // ------------------------------------------------------------------ tokens

    static List<String> tokenize(String s, List<Integer> starts) {
        return tokenize(s, starts, false);
    }

    /** {@code handles}: a {@code # handle N} comment is a token, {@code #handle:N}. */
    static List<String> tokenize(String s, List<Integer> starts, boolean handles) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (!Character.isWhitespace(c) || c == '\n') {
                while (starts.size() < out.size()) {
                    starts.add(i);
                }
                if (c != '#') {
                    starts.add(i);
                }
            }
            if (c == '#') {
                int j = i;
                while (j < s.length() && s.charAt(j) != '\n') {
                    j++;
                }
                String comment = s.substring(i, j).strip();
                if (handles && comment.matches("# handle [0-9]{1,9}")) {
                    starts.add(i);
                    out.add("#handle:" + comment.substring(9));
                }
                i = j;
            } else if (c == '\n') {
                out.add("\n");
                i++;
            } else if (Character.isWhitespace(c)) {
                i++;
            } else if ("{};,".indexOf(c) >= 0) {
                out.add(String.valueOf(c));
                i++;
            } else if (c == '"') {
                int j = s.indexOf('"', i + 1);
                if (j < 0) {
                    throw error("syntax error, unterminated string", s);
                }
                out.add(s.substring(i, j + 1));
                i = j + 1;
            } else {
                int j = i;
                while (j < s.length() && !Character.isWhitespace(s.charAt(j)) && "{};,\"#".indexOf(s.charAt(j)) < 0) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
        }
        return out;
    }

    /** The line of the file the token before {@code pos} is on, as nft shows it under its error. */
    private String line() {
        if (toks.isEmpty()) {
            return "";
        }
        int t = Math.max(0, Math.min(pos - 1, toks.size() - 1));
        int at = starts.get(t);
        int from = source.lastIndexOf('\n', at - (toks.get(t).equals("\n") ? 1 : 0)) + 1;
        errLine = lineOf(from);
        int to = source.indexOf('\n', from);
        String line = source.substring(from, to < 0 ? source.length() : to);
        if (toks.get(t).equals("\n")) {
            return line;
        }
        // nft's caret line: spaces to the token, a caret under each of its characters
        return line + "\n" + " ".repeat(at - from) + "^".repeat(Math.max(1, toks.get(t).length()));
    }

    /** The line number (from 1) of the source's character {@code at}. */
    private int lineOf(int at) {
        int n = 1;
        for (int i = 0; i < at && i < source.length(); i++) {
            if (source.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    /** The line of token {@code from} with carets under tokens {@code from..to}. */
    private String lineAt(int from, int to) {
        return marked(-1, -1, from, to);
    }

    /**
     * The line of token {@code cFrom} as nft marks an expression under an error: tildes under tokens
     * {@code tFrom..tTo} (none when -1), carets under {@code cFrom..cTo}.
     */
    private String marked(int tFrom, int tTo, int cFrom, int cTo) {
        cFrom = Math.max(0, Math.min(cFrom, toks.size() - 1));
        cTo = Math.max(cFrom, Math.min(cTo, toks.size() - 1));
        int at = starts.get(cFrom);
        int from = source.lastIndexOf('\n', at - 1) + 1;
        errLine = lineOf(from);
        int to = source.indexOf('\n', from);
        String line = source.substring(from, to < 0 ? source.length() : to);
        char[] mark = new char[line.length()];
        java.util.Arrays.fill(mark, ' ');
        if (tFrom >= 0) {
            for (int i = starts.get(tFrom) - from; i < starts.get(tTo) + toks.get(tTo).length() - from && i < mark.length; i++) {
                mark[i] = '~';
            }
        }
        for (int i = at - from; i < starts.get(cTo) + toks.get(cTo).length() - from && i < mark.length; i++) {
            mark[i] = '^';
        }
        return line + "\n" + new String(mark).stripTrailing();
    }

    static CommandException error(String msg, String line) {
        return new CommandException("Error: " + msg + (line == null ? "" : "\n" + line.stripTrailing()), 1);
    }

    private CommandException syntax() {
        String t = pos - 1 < toks.size() && pos > 0 ? toks.get(pos - 1) : "end of file";
        String shown = t.equals("\n") ? "newline" : t;
        return error("syntax error, unexpected " + shown, line());
    }

    private CommandException noent() {
        return error("Could not process rule: No such file or directory", line());
    }

    private CommandException exists() {
        return error("Could not process rule: File exists", line());
    }

    private String next() {
        if (pos >= toks.size()) {
            pos++;
            throw syntax();
        }
        return toks.get(pos++);
    }

    private String peek() {
        return pos < toks.size() ? toks.get(pos) : "";
    }

    private void expect(String w) {
        if (!next().equals(w)) {
            throw syntax();
        }
    }

    private boolean endOfStatement() {
        String p = peek();
        return p.isEmpty() || p.equals(";") || p.equals("\n") || p.equals("}") || p.startsWith("#handle:");
    }

    /**
     * The words nft 1.0.6's scanner reads as keywords, never as a name: a table, chain, set or object called so is refused
     * ("unexpected fwd, expecting string"), as is any quoted name. Taken from Linux's nft by trying each word of its man page.
     */
    private static final java.util.Set<String> KEYWORDS = java.util.Set.of(
            "accept", "add", "ah", "all", "and", "arp", "auto-merge", "bridge", "cgroup", "chain", "comment", "comp",
            "constant", "continue", "counter", "cpu", "create", "ct", "day", "dccp", "define", "delete", "describe",
            "device", "devices", "dnat", "drop", "dst", "dup", "dynamic", "ecn", "element", "elements", "eq", "esp",
            "ether", "exists", "expires", "export", "exthdr", "fib", "flags", "flow", "flowtable", "flush", "frag",
            "fwd", "gc-interval", "ge", "get", "goto", "gt", "handle", "hbh", "hook", "hour", "ibrname", "icmp",
            "icmpv6", "igmp", "iif", "iifgroup", "iifname", "iiftype", "import", "include", "index", "inet", "insert",
            "interval", "ip", "ip6", "ipsec", "jhash", "jump", "le", "limit", "list", "log", "lshift", "lt", "map",
            "mark", "masquerade", "meta", "meter", "mh", "missing", "monitor", "ne", "netdev", "nftrace", "not",
            "notrack", "numgen", "obrname", "offload", "oif", "oifgroup", "oifname", "oiftype", "or", "osf",
            "pkttype", "policy", "position", "priority", "queue", "quota", "random", "redefine", "redirect", "reject",
            "rename", "replace", "reset", "return", "rshift", "rt", "rtclassid", "rule", "ruleset", "sctp", "secmark",
            "set", "size", "skgid", "skuid", "snat", "socket", "srh", "symhash", "synproxy", "table", "tcp", "th",
            "time", "timeout", "tproxy", "type", "typeof", "udp", "udplite", "undefine", "update", "vlan", "vmap",
            "xor", "xt");

    private String name() {
        String n = next();
        if (KEYWORDS.contains(n)) {
            throw error("syntax error, unexpected " + n + ", expecting string", line());
        }
        if (n.startsWith("\"")) {
            throw error("syntax error, unexpected quoted string, expecting string", line());
        }
        if (!n.matches("[A-Za-z_][A-Za-z0-9_.\\-]*") || n.equals("{") ) {
            throw syntax();
        }
        return n;
    }

    // ------------------------------------------------------------------ commands

    private void command(Model m, String verb, List<String> out) {
        switch (verb) {
            case "table" -> tableBlock(m, true);
            case "add", "create", "insert", "replace", "delete", "flush", "list" -> {
                String obj = next();
                switch (obj) {
                    case "ruleset" -> {
                        if (verb.equals("flush")) {
                            m.tables.clear();
                        } else if (verb.equals("list")) {
                            for (Table t : m.tables) {
                                list(t, null, out);
                            }
                        } else {
                            throw syntax();
                        }
                    }
                    case "table" -> table(m, verb, out);
                    case "chain" -> chain(m, verb, out);
                    case "rule" -> rule(m, verb);
                    case "set", "map" -> set(m, verb, out, obj.equals("map"));
                    case "counter" -> counter(m, verb, out);
                    case "quota" -> quota(m, verb, out);
                    case "limit" -> limitObj(m, verb, out);
                    case "element" -> element(m, verb);
                    default -> throw syntax();
                }
            }
            default -> throw syntax();
        }
    }

    private String family() {
        String p = peek();
        if (p.equals("ip") || p.equals("inet") || p.equals("netdev")) {
            pos++;
            return p;
        }
        if (p.equals("ip6") || p.equals("arp") || p.equals("bridge")) {
            throw error("Could not process rule: Operation not supported (only ip, inet and netdev tables in modnet)", line());
        }
        return "ip";
    }

    private Table table(Model m, boolean mustExist) {
        String fam = family();
        String name = name();
        Table t = m.table(fam, name);
        if (t == null && mustExist) {
            throw noent();
        }
        return t;
    }

    private void table(Model m, String verb, List<String> out) {
        int save = pos;
        String fam = family();
        String name = name();
        Table t = m.table(fam, name);
        switch (verb) {
            case "add", "create" -> {
                if (t != null && verb.equals("create")) {
                    throw exists();
                }
                if (t == null) {
                    t = new Table(fam, name);
                    t.handle = m.nextTableHandle++;
                    m.tables.add(t);
                }
                if (peek().equals("{")) {
                    pos = save;
                    tableBlock(m, false);
                }
            }
            case "delete" -> {
                if (t == null) {
                    throw noent();
                }
                m.tables.remove(t);
            }
            case "flush" -> {
                if (t == null) {
                    throw noent();
                }
                for (Chain c : t.chains.values()) {
                    c.rules = new ArrayList<>();
                }
            }
            case "list" -> {
                if (t == null) {
                    throw noent();
                }
                list(t, null, out);
            }
            default -> throw syntax();
        }
    }

    /** {@code table FAMILY NAME { chain ... { ... } set ... { ... } }} as nft list prints it. */
    private void tableBlock(Model m, boolean fresh) {
        String fam = family();
        String name = name();
        Table t = m.table(fam, name);
        if (t == null) {
            t = new Table(fam, name);
            t.handle = m.nextTableHandle++;
            m.tables.add(t);
        }
        expect("{");
        int th = handle();
        if (th > 0) {
            t.handle = th;
        }
        // a block may jump to a chain it defines further down: declare its chains first, in order
        for (int i = pos, depth = 1; i < toks.size() && depth > 0; i++) {
            String w = toks.get(i);
            depth += w.equals("{") ? 1 : w.equals("}") ? -1 : 0;
            if (depth == 1 && w.equals("chain") && i + 1 < toks.size() && toks.get(i + 1).matches("[A-Za-z_][A-Za-z0-9_.\\-]*")) {
                chainIn(t, toks.get(i + 1), false);
            }
        }
        while (true) {
            String w = next();
            switch (w) {
                case "\n", ";" -> { }
                case "}" -> {
                    return;
                }
                case "chain" -> {
                    Chain c = chainIn(t, name(), false);
                    if (peek().equals("{")) {
                        chainBody(t, c, true);
                    }
                }
                case "counter" -> {
                    String cn = name();
                    defineCounter(t, cn, false);
                }
                case "quota" -> {
                    String qn = name();
                    defineQuota(t, qn, false);
                }
                case "limit" -> {
                    String ln = name();
                    defineLimit(t, ln, false);
                }
                case "set", "map" -> {
                    String sn = name();
                    define(t, sn, w.equals("map"), false);
                }
                default -> throw syntax();
            }
        }
    }

    private Chain chainIn(Table t, String name, boolean create) {
        Chain c = t.chains.get(name);
        if (c != null && create) {
            throw exists();
        }
        if (c == null) {
            c = new Chain(name);
            c.handle = t.nextHandle++;
            t.chains.put(name, c);
        }
        return c;
    }

    /** {@code { type filter hook input priority 0; policy drop; [rules] }}. */
    private void chainBody(Table t, Chain c, boolean rules) {
        expect("{");
        int ch = handle();
        if (ch > 0) {
            c.handle = ch;
        }
        while (true) {
            String w = peek();
            switch (w) {
                case "\n", ";" -> pos++;
                case "}" -> {
                    pos++;
                    return;
                }
                case "type" -> {
                    pos++;
                    String type = next();
                    if (!type.equals("filter") && !type.equals("nat")) {
                        throw error("Could not process rule: No such file or directory (chain type " + type + ")", line());
                    }
                    int typeTok = pos - 2;
                    expect("hook");
                    String hook = next();
                    boolean netdev = t.family.equals("netdev");
                    if (netdev ? !hook.equals("ingress") : !Arrays.asList(Ruleset.HOOKS).contains(hook)) {
                        if (!hook.equals("ingress") && !Arrays.asList(Ruleset.HOOKS).contains(hook)) {
                            throw error("unknown chain hook", line());
                        }
                        throw error("The " + t.family + " family does not support this hook", line());
                    }
                    String device = null;
                    if (peek().equals("device")) {
                        pos++;
                        device = unquote(next());
                    }
                    expect("priority");
                    int prio = priority();
                    if (netdev && device == null) {
                        // nft marks the whole definition, from type to the priority's end
                        throw error("Missing `device' in this chain definition", lineAt(typeTok, pos - 1));
                    }
                    if (netdev && !type.equals("filter")) {
                        throw error("Could not process rule: Operation not supported", line());
                    }
                    c.type = type;
                    c.hook = hook;
                    c.device = device;
                    c.prio = prio;
                }
                case "policy" -> {
                    pos++;
                    String p = next();
                    if (!p.equals("accept") && !p.equals("drop")) {
                        throw syntax();
                    }
                    if (!c.base()) {
                        throw error("Could not process rule: Operation not supported (policy on a regular chain)", line());
                    }
                    c.policyDrop = p.equals("drop");
                }
                default -> {
                    if (!rules) {
                        throw syntax();
                    }
                    List<Stmt> st = statements(t, c);
                    int rh = handle();
                    c.rules.add(new Rule(rh > 0 ? rh : t.nextHandle++, st));
                }
            }
        }
    }

    private static final String[] PRIO_NAMES = { "raw", "mangle", "dstnat", "filter", "security", "srcnat" };
    private static final int[] PRIO_VALUES = { -300, -150, -100, 0, 50, 100 };

    private int priority() {
        String w = next();
        int base;
        int k = Arrays.asList(PRIO_NAMES).indexOf(w);
        if (k >= 0) {
            base = PRIO_VALUES[k];
            if (peek().equals("+") || peek().equals("-")) {
                String op = next();
                base += (op.equals("+") ? 1 : -1) * integer(next());
            }
        } else {
            base = integer(w);
        }
        return base;
    }

    private int integer(String w) {
        if (!w.matches("-?[0-9]{1,9}")) {
            throw syntax();
        }
        return Integer.parseInt(w);
    }

    /**
     * How nft prints a base chain's priority: the standard name when it is one (±offset within 10 of it)
     * and the name fits the family and hook (std_prio_family_hook_compat: {@code dstnat} only at
     * prerouting, {@code srcnat} only at postrouting, the netdev family only {@code filter}).
     */
    static String priorityName(int p, String family, String hook) {
        for (int i = 0; i < PRIO_VALUES.length; i++) {
            String n = PRIO_NAMES[i];
            if (!n.equals("filter") && (family.equals("netdev") || n.equals("dstnat") && !hook.equals("prerouting")
                    || n.equals("srcnat") && !hook.equals("postrouting"))) {
                continue;
            }
            int d = p - PRIO_VALUES[i];
            if (d == 0) {
                return PRIO_NAMES[i];
            }
            if (Math.abs(d) <= 10) {
                return PRIO_NAMES[i] + (d > 0 ? " + " : " - ") + Math.abs(d);
            }
        }
        return Integer.toString(p);
    }

    private void chain(Model m, String verb, List<String> out) {
        Table t = table(m, true);
        String name = name();
        Chain c = t.chains.get(name);
        switch (verb) {
            case "add", "create" -> {
                if (verb.equals("create") && c != null) {
                    throw exists();
                }
                c = chainIn(t, name, false);
                if (peek().equals("{")) {
                    chainBody(t, c, false);
                }
            }
            case "delete" -> {
                if (c == null) {
                    throw noent();
                }
                if (!c.rules.isEmpty() || referenced(t, name)) {
                    throw error("Could not process rule: Device or resource busy", line());
                }
                t.chains.remove(name);
            }
            case "flush" -> {
                if (c == null) {
                    throw noent();
                }
                c.rules = new ArrayList<>();
            }
            case "list" -> {
                if (c == null) {
                    throw noent();
                }
                list(t, c, out);
            }
            default -> throw syntax();
        }
    }

    private static boolean referenced(Table t, String chain) {
        for (Chain c : t.chains.values()) {
            for (Rule r : c.rules) {
                for (Stmt s : r.stmts()) {
                    if (s.targets(t).contains(chain)) {
                        return true;
                    }
                }
            }
        }
        for (NSet s : t.sets.values()) {
            for (Elem e : s.elems) {
                if (e.verdict() != null && chain.equals(e.verdict().chain())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@code add|insert rule T C [handle|position N] STMTS}, {@code replace rule T C handle N STMTS}, {@code delete rule T C handle N}. */
    private void rule(Model m, String verb) {
        Table t = table(m, true);
        String cn = name();
        Chain c = t.chains.get(cn);
        if (c == null) {
            throw noent();
        }
        int at = -1;
        if (peek().equals("handle") || peek().equals("position")) {
            pos++;
            int h = integer(next());
            for (int i = 0; i < c.rules.size(); i++) {
                if (c.rules.get(i).handle() == h) {
                    at = i;
                }
            }
            if (at < 0) {
                throw noent();
            }
        } else if (verb.equals("delete") || verb.equals("replace")) {
            throw syntax();
        }
        switch (verb) {
            case "delete" -> c.rules.remove(at);
            case "replace" -> c.rules.set(at, new Rule(c.rules.get(at).handle(), statements(t, c)));
            case "insert" -> {
                List<Stmt> st = statements(t, c);
                c.rules.add(at < 0 ? 0 : at, new Rule(t.nextHandle++, st));
            }
            case "add" -> {
                List<Stmt> st = statements(t, c);
                c.rules.add(at < 0 ? c.rules.size() : at + 1, new Rule(t.nextHandle++, st));
            }
            default -> throw syntax();
        }
        checkLoops(t);
    }

    /** Jumps that come back to their chain are refused, as nf_tables_check_loops does. */
    private void checkLoops(Table t) {
        for (Chain c : t.chains.values()) {
            depth(t, c, c.name, 0);
        }
    }

    private void depth(Table t, Chain c, String start, int d) {
        if (d >= Regs.STACK) {
            throw error("Could not process rule: Too many links", line());
        }
        for (Rule r : c.rules) {
            for (Stmt s : r.stmts()) {
                for (String target : s.targets(t)) {
                    if (target.equals(start)) {
                        throw error("Could not process rule: Too many levels of symbolic links", line());
                    }
                    depth(t, t.chains.get(target), start, d + 1);
                }
            }
        }
    }

    private void set(Model m, String verb, List<String> out, boolean map) {
        Table t = table(m, true);
        int nameTok = pos;
        String name = name();
        NSet s = t.sets.get(name);
        switch (verb) {
            case "add", "create" -> define(t, name, map, verb.equals("create"));
            case "delete" -> {
                if (s == null) {
                    throw noent();
                }
                for (Chain c : t.chains.values()) {
                    for (Rule r : c.rules) {
                        for (Stmt st : r.stmts()) {
                            if (name.equals(st.setName())) {
                                throw error("Could not process rule: Device or resource busy", lineAt(nameTok, nameTok));
                            }
                        }
                    }
                }
                t.sets.remove(name);
            }
            case "flush" -> {
                if (s == null) {
                    throw noent();
                }
                s.elems = new ArrayList<>();
                if (s.dyn != null) {
                    DynSet d = s.dyn;
                    dynChange(d, d::clear);
                }
            }
            case "list" -> {
                if (s == null) {
                    throw noent();
                }
                out.add("table " + t.family + " " + t.name + " {");
                printSet(s, out);
                out.add("}");
            }
            default -> throw syntax();
        }
    }

    /** The most elements a set holds (nft's {@code size}; modnet bounds every set). */
    static final int MAX_ELEMENTS = 65536;

    /**
     * {@code set|map NAME { type ...; [flags interval;] [elements = { ... }] }}: a new set, or more
     * elements for one of the same type; another type is {@code File exists}, as the kernel answers.
     */
    private void define(Table t, String name, boolean map, boolean create) {
        int nameTok = pos - 1;
        NSet old = t.sets.get(name);
        if (old != null && create) {
            throw exists();
        }
        NSet s = new NSet(name);
        setBody(t, s, map);
        if (old == null) {
            if (s.handle == 0) {
                s.handle = t.nextHandle++;
            }
            made.add(s);
            List<Elem> e = s.elems;
            s.elems = new ArrayList<>();
            if (s.timeouts() || s.dynamicFlag) {
                makeDyn(s);
            }
            addElements(t, s, e, nameTok);
            t.sets.put(name, s);
            return;
        }
        if (!old.type.equals(s.type) || !java.util.Objects.equals(old.dataType, s.dataType) || old.interval != s.interval
                || old.timeouts() != s.timeouts()) {
            throw error("Could not process rule: File exists", lineAt(nameTok, nameTok));
        }
        addElements(t, old, s.elems, nameTok);
        if (old.vmap()) {
            checkLoops(t);
        }
    }

    private void setBody(Table t, NSet s, boolean map) {
        expect("{");
        s.handle = handle();
        while (true) {
            String w = next();
            switch (w) {
                case "\n", ";" -> { }
                case "}" -> {
                    if (s.type == null) {
                        throw error("set definition does not specify key", line());
                    }
                    return;
                }
                case "type" -> {
                    List<Stmt.Type> key = new ArrayList<>();
                    StringBuilder kn = new StringBuilder();
                    do {
                        String ty = next();
                        Stmt.Type k = Values.typeOf(ty);
                        if (k == null) {
                            throw error("unknown datatype " + ty, line());
                        }
                        kn.append(kn.isEmpty() ? "" : " . ").append(ty);
                        key.add(k);
                    } while (peek().equals(".") && next().equals("."));
                    s.type = kn.toString();
                    s.key = List.copyOf(key);
                    if (map) {
                        expect(":");
                        String dt = next();
                        if (dt.equals("verdict")) {
                            s.dataType = dt;
                        } else {
                            List<Stmt.Type> data = new ArrayList<>();
                            StringBuilder dn = new StringBuilder();
                            while (true) {
                                Stmt.Type d = Values.typeOf(dt);
                                if (d == null) {
                                    throw error("unknown datatype " + dt, line());
                                }
                                data.add(d);
                                dn.append(dn.isEmpty() ? "" : " . ").append(dt);
                                if (!peek().equals(".")) {
                                    break;
                                }
                                pos++;
                                dt = next();
                            }
                            s.dataType = dn.toString();
                            s.data = List.copyOf(data);
                        }
                    }
                }
                case "flags" -> {
                    do {
                        String f = next();
                        switch (f) {
                            case "interval" -> s.interval = true;
                            case "timeout" -> s.timeoutFlag = true;
                            case "dynamic" -> s.dynamicFlag = true;
                            default -> throw error("Could not process rule: Operation not supported (set flags " + f + ")", line());
                        }
                    } while (peek().equals(",") && next().equals(","));
                    checkTimeouts(s);
                }
                case "timeout", "gc-interval" -> {
                    long ms = Values.parseTime(next());
                    if (ms < 0) {
                        throw syntax();
                    }
                    if (w.equals("timeout")) {
                        s.timeout = ms;
                    } else {
                        s.gcInterval = ms;
                    }
                    checkTimeouts(s);
                }
                case "size" -> {
                    long n = count(next());
                    if (n <= 0 || n > MAX_ELEMENTS) {
                        throw error("Could not process rule: Operation not supported (size beyond modnet's " + MAX_ELEMENTS + ")", line());
                    }
                    s.size = (int) n;
                }
                case "elements" -> {
                    expect("=");
                    if (s.type == null) {
                        throw error("set definition does not specify key", line());
                    }
                    s.elems.addAll(elementList(t, s.key, s.interval, s.map() ? s : null, false, s.timeouts()));
                }
                default -> throw syntax();
            }
        }
    }

    /** Adds {@code e} to {@code s}: an element already there is no change, unless a map gives its key other data (File exists). */
    private void addElements(Table t, NSet s, List<Elem> e, int tok) {
        if (s.dyn != null) {
            DynSet d = s.dyn;
            long now = now();
            int adding = 0;
            for (Elem x : e) {
                adding += d.contains(key(x), 0, now) ? 0 : 1;
            }
            if (d.count.get() + adding > d.limit) {
                throw error("Could not process rule: No space left on device", line());
            }
            long setTimeout = s.timeout;
            dynChange(d, () -> {
                for (Elem x : e) {
                    long ms = x.timeout() > 0 ? x.timeout() : setTimeout;
                    long exp = x.expires() != 0 ? x.expires() : ms == 0 ? 0 : now + ms * 1_000_000L;
                    d.insert(key(x), 0, now, exp, x.timeout(), false);
                }
            });
            return;
        }
        List<Elem> all = new ArrayList<>(s.elems);
        List<Integer> at = elemToks;
        for (int i = 0; i < e.size(); i++) {
            Elem x = e.get(i);
            Elem had = all.stream().filter(y -> y.sameKey(x)).findFirst().orElse(null);
            if (had == null) {
                all.add(x);
            } else if (!had.sameData(x)) {
                throw error("Could not process rule: File exists", i < at.size() ? lineAt(at.get(i), at.get(i)) : line());
            }
        }
        if (all.size() > MAX_ELEMENTS) {
            throw error("Could not process rule: No space left on device", line());
        }
        all.sort(Elem.ORDER);
        s.elems = all;
    }

    /** An element's key as registers hold it. */
    private static int[] key(Elem e) {
        int[] k = new int[e.lo().length];
        for (int i = 0; i < k.length; i++) {
            k[i] = (int) e.lo()[i];
        }
        return k;
    }

    /** A set's own element table (nft_set_hash with timeouts), with the elements it had. */
    private void makeDyn(NSet s) {
        DynSet d = new DynSet(s.key.size(), s.size > 0 ? s.size : MAX_ELEMENTS);
        fresh.add(d);
        s.dyn = d;
        for (Elem x : s.elems) {
            d.insert(key(x), 0, 0, 0, 0, false);
        }
        s.elems = new ArrayList<>();
    }

    /** Timeouts are taken on sets of exact keys: an interval set or a map with them is not in modnet. */
    private void checkTimeouts(NSet s) {
        if ((s.timeouts() || s.dynamicFlag) && (s.interval || s.map())) {
            throw error("Could not process rule: Operation not supported (timeouts and dynamic updates on interval sets and maps are not in modnet)",
                    line());
        }
    }

    private void element(Model m, String verb) {
        Table t = table(m, true);
        NSet s = t.sets.get(name());
        if (s == null) {
            throw noent();
        }
        switch (verb) {
            case "add", "create" -> {
                addElements(t, s, elementList(t, s.key, s.interval, s.map() ? s : null, false, s.timeouts()), pos);
                if (s.vmap()) {
                    checkLoops(t); // a verdict map's new jump may close a loop through the rules that look it up
                }
            }
            case "delete" -> {
                List<Elem> gone = elementList(t, s.key, s.interval, s.map() ? s : null, true, false);
                if (s.dyn != null) {
                    DynSet d = s.dyn;
                    long now = now();
                    for (int i = 0; i < gone.size(); i++) {
                        if (!d.contains(key(gone.get(i)), 0, now)) {
                            int k = elemToks.get(i);
                            throw error("Could not process rule: No such file or directory", lineAt(k, k));
                        }
                    }
                    dynChange(d, () -> gone.forEach(g -> d.remove(key(g), now)));
                    return;
                }
                List<Elem> left = new ArrayList<>(s.elems);
                for (int i = 0; i < gone.size(); i++) {
                    Elem g = gone.get(i);
                    if (!left.removeIf(y -> y.sameKey(g))) {
                        int k = elemToks.get(i);
                        throw error("Could not process rule: No such file or directory", lineAt(k, k));
                    }
                }
                s.elems = left;
            }
            default -> throw syntax();
        }
    }

    private List<Elem> elementList(Table t, List<Stmt.Type> key, boolean intervals, NSet map) {
        return elementList(t, key, intervals, map, false, false);
    }

    /**
     * {@code { KEY[ : DATA], ... }}: a key is one value per part of a concatenation ({@code a . b}),
     * prefixes and ranges only where {@code intervals}; a map's elements carry data of its type or a
     * verdict ({@code accept}, {@code jump CHAIN}); {@code keysOnly} for delete, where data may be left out.
     */
    private List<Elem> elementList(Table t, List<Stmt.Type> key, boolean intervals, NSet map, boolean keysOnly, boolean timeouts) {
        expect("{");
        List<Elem> out = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        elemToks = at;
        while (true) {
            String w = elemWord();
            if (w.equals("}")) {
                return out;
            }
            if (w.equals(",") || w.equals("\n")) {
                continue;
            }
            int keyTok = pos - 1;
            long[] lo = new long[key.size()], hi = new long[key.size()];
            for (int i = 0; i < key.size(); i++) {
                if (i > 0) {
                    if (!peek().equals(".")) {
                        throw error("invalid data type, expected " + Values.describe(key), lineAt(keyTok, keyTok));
                    }
                    pos++;
                    w = elemWord();
                }
                long[] e = element(key.get(i), w);
                if (e[0] != e[1] && !intervals) {
                    throw error("Could not process rule: Invalid argument (a range or prefix in a set without flags interval)", line());
                }
                lo[i] = e[0];
                hi[i] = e[1];
            }
            if (peek().equals(".")) {
                pos++;
                next();
                throw error("Can't parse symbolic invalid expressions", line());
            }
            long timeout = 0, expires = 0;
            while (peek().equals("timeout") || peek().equals("expires")) {
                String what = next();
                long ms = Values.parseTime(next());
                if (ms < 0) {
                    throw syntax();
                }
                if (!timeouts) {
                    // the kernel takes no time on an element of a set without timeouts (EINVAL)
                    throw error("Could not process rule: Invalid argument", lineAt(keyTok, keyTok));
                }
                if (what.equals("timeout")) {
                    timeout = ms;
                } else {
                    expires = now() + ms * 1_000_000L;
                    expires = expires == 0 ? 1 : expires;
                }
            }
            long[] data = null;
            Stmt.Verdict verdict = null;
            if (map != null && !(keysOnly && !peek().equals(":"))) {
                if (!elemWord().equals(":")) {
                    throw syntax();
                }
                if (map.vmap()) {
                    String v = next();
                    switch (v) {
                        case "accept", "drop", "return" -> verdict = new Stmt.Verdict(v, null);
                        case "jump", "goto" -> {
                            String c = name();
                            if (!t.chains.containsKey(c)) {
                                throw error("Could not process rule: No such file or directory", lineAt(keyTok, keyTok));
                            }
                            if (t.chains.get(c).base()) {
                                throw error("Could not process rule: Operation not supported (jump to a base chain)", lineAt(keyTok, keyTok));
                            }
                            verdict = new Stmt.Verdict(v, c);
                        }
                        default -> throw error("syntax error, unexpected string", line());
                    }
                } else {
                    data = new long[map.data.size()];
                    for (int i = 0; i < data.length; i++) {
                        if (i > 0) {
                            if (!next().equals(".")) {
                                throw syntax();
                            }
                        }
                        data[i] = value(map.data.get(i), next());
                    }
                }
            }
            Elem e = new Elem(lo, hi, data, verdict, timeout, expires);
            for (Elem o : out) {
                if (o.sameKey(e) && map != null && !o.sameData(e)) {
                    throw error("Could not process rule: File exists", lineAt(keyTok, keyTok));
                }
            }
            out.add(e);
            at.add(keyTok);
        }
    }

    /** The next token, a {@code KEY:DATA} written without spaces taken as three. */
    private String elemWord() {
        String w = next();
        int c = w.indexOf(':');
        if (c < 0 || w.length() == 1 || w.startsWith("\"")) {
            return w;
        }
        int at = starts.get(pos - 1);
        List<String> parts = new ArrayList<>();
        List<Integer> where = new ArrayList<>();
        if (c > 0) {
            parts.add(w.substring(0, c));
            where.add(at);
        }
        parts.add(":");
        where.add(at + c);
        if (c + 1 < w.length()) {
            parts.add(w.substring(c + 1));
            where.add(at + c + 1);
        }
        toks.remove(pos - 1);
        starts.remove(pos - 1);
        toks.addAll(pos - 1, parts);
        starts.addAll(pos - 1, where);
        return toks.get(pos - 1);
    }

    private long[] element(Stmt.Type type, String w) {
        long whole = Values.parse(type, w);
        if (whole >= 0) {
            return new long[] { whole, whole }; // echo-request is a name, not a range
        }
        int slash = w.indexOf('/');
        int dash = w.indexOf('-');
        if (slash > 0 && type == Stmt.Type.ADDR) {
            long a = value(type, w.substring(0, slash));
            int len = integer(w.substring(slash + 1));
            if (len < 0 || len > 32) {
                throw syntax();
            }
            long mask = len == 0 ? 0 : (0xffffffffL << (32 - len)) & 0xffffffffL;
            return new long[] { a & mask, (a & mask) | (~mask & 0xffffffffL) };
        }
        if (dash > 0) {
            long a = value(type, w.substring(0, dash));
            long b = value(type, w.substring(dash + 1));
            if (b < a) {
                throw error("Range has zero or negative size", line());
            }
            return new long[] { a, b };
        }
        long v = value(type, w);
        return new long[] { v, v };
    }

    private long value(Stmt.Type type, String w) {
        long v = Values.parse(type, w);
        if (v < 0) {
            String what = switch (type) {
                case ADDR -> "Could not resolve hostname: Name or service not known";
                case PORT -> "Could not resolve service: Servname not supported for ai_socktype";
                case PROTO -> "Could not resolve protocol name";
                case ICMP -> "Could not parse ICMP type";
                case CTSTATUS -> "Could not parse conntrack status";
                case PKTTYPE -> "Could not parse packet type";
                case MARK -> v == -2 ? "Value " + new java.math.BigInteger(w.startsWith("0x") ? w.substring(2) : w, w.startsWith("0x") ? 16 : 10)
                        + " exceeds valid range 0-4294967295" : "Could not parse packet mark";
                default -> "Could not parse conntrack state";
            };
            throw error(what, line());
        }
        return v;
    }

    // ------------------------------------------------------------------ statements

    /** A rule's statements, checked against its chain as nf_tables validates them (nat only in nat chains). */
    private List<Stmt> statements(Table t, Chain c) {
        List<Stmt> out = statements(t);
        for (Stmt s : out) {
            if ((s instanceof Stmt.Nat || s instanceof Stmt.NatMap) && c.base() && !c.type.equals("nat")) {
                throw error("Could not process rule: Operation not supported", line());
            }
            if (s instanceof Stmt.Nat n && c.base() && (n.kind() == Expr.Nat.REDIR && !c.hook.equals("prerouting") && !c.hook.equals("output")
                    || n.kind() == Expr.Nat.MASQ && !c.hook.equals("postrouting"))) {
                throw error("Could not process rule: Operation not supported", line());
            }
            if (s instanceof Stmt.Reject && c.base() && !(c.hook.equals("input") || c.hook.equals("forward") || c.hook.equals("output"))) {
                throw error("Could not process rule: Operation not supported", line());
            }
        }
        return out;
    }

    private List<Stmt> statements(Table t) {
        List<Stmt> out = new ArrayList<>();
        boolean ipv4Dep = false;
        while (!endOfStatement()) {
            String w = next();
            Stmt s = switch (w) {
                case "ip", "icmp" -> {
                    ipv4Dep = true;
                    yield fieldStmt(t, w);
                }
                case "tcp", "udp", "mark", "th", "udplite", "sctp", "dccp", "pkttype" -> fieldStmt(t, w);
                case "meta" -> {
                    String k = peek();
                    if (k.equals("iifname") || k.equals("oifname") || k.equals("iif") || k.equals("oif")) {
                        pos++;
                        yield ifname(k);
                    }
                    if (k.equals("mark") && pos + 1 < toks.size() && toks.get(pos + 1).equals("set")) {
                        pos += 2;
                        yield setMark(t, false);
                    }
                    yield fieldStmt(t, w);
                }
                case "iifname", "oifname", "iif", "oif" -> ifname(w);
                case "ct" -> {
                    if (peek().equals("mark") && pos + 1 < toks.size() && toks.get(pos + 1).equals("set")) {
                        pos += 2;
                        yield setMark(t, true);
                    }
                    if (peek().equals("zone") && pos + 1 < toks.size() && toks.get(pos + 1).equals("set")) {
                        pos += 2;
                        yield new Stmt.SetZone((int) value(Stmt.Type.PORT, next()));
                    }
                    yield fieldStmt(t, w);
                }
                case "limit" -> {
                    if (peek().equals("name")) {
                        pos++;
                        String ln = unquote(next());
                        Ruleset.LimitObj o = t.limits.get(ln);
                        if (o == null) {
                            throw noent();
                        }
                        yield new Stmt.NamedLimit(ln, o.limit());
                    }
                    yield limit();
                }
                case "quota" -> {
                    if (!peek().equals("name")) {
                        yield anonymousQuota();
                    }
                    pos++;
                    String qn = unquote(next());
                    Ruleset.QuotaObj o = t.quotas.get(qn);
                    if (o == null) {
                        throw noent();
                    }
                    yield new Stmt.NamedQuota(qn, o.quota());
                }
                case "counter" -> {
                    if (peek().equals("name")) {
                        pos++;
                        String cn = unquote(next());
                        Ruleset.CounterObj o = t.counters.get(cn);
                        if (o == null) {
                            throw noent();
                        }
                        yield new Stmt.NamedCounter(cn, o.counter());
                    }
                    if (peek().equals("packets")) {
                        pos += 4; // nft list's own counter values, as nft -f reads them back: restart at 0
                        if (restoring) {
                            Expr.Counter c = new Expr.Counter(); // a previous version's counter counts on
                            c.packets.set(Long.parseLong(toks.get(pos - 3)));
                            c.bytes.set(Long.parseLong(toks.get(pos - 1)));
                            yield new Stmt.Counter(c);
                        }
                    }
                    yield new Stmt.Counter(new Expr.Counter());
                }
                case "log" -> {
                    String prefix = null;
                    if (peek().equals("prefix")) {
                        pos++;
                        prefix = unquote(next());
                    }
                    yield new Stmt.Log(prefix);
                }
                case "add", "update" -> dynset(t, w.equals("update"));
                case "accept", "drop", "return" -> new Stmt.Verdict(w, null);
                case "jump", "goto" -> {
                    String c = name();
                    if (!t.chains.containsKey(c)) {
                        throw noent();
                    }
                    if (t.chains.get(c).base()) {
                        throw error("Could not process rule: Operation not supported (jump to a base chain)", line());
                    }
                    yield new Stmt.Verdict(w, c);
                }
                case "reject" -> reject(t, ipv4Dep);
                case "masquerade", "redirect" -> {
                    int kind = w.equals("masquerade") ? Expr.Nat.MASQ : Expr.Nat.REDIR;
                    if (!peek().equals("to")) {
                        yield new Stmt.Nat(kind, 0, 0);
                    }
                    int kw = pos - 1;
                    pos++;
                    String p = next();
                    if (!p.startsWith(":")) {
                        throw syntax();
                    }
                    int[] ports = natPorts(p.substring(1));
                    needTransport(out, kw, 1);
                    yield new Stmt.Nat(kind, 0, 0, ports[0], ports[1]);
                }
                case "queue" -> queue();
                case "snat", "dnat" -> {
                    int kw = pos - 1;
                    boolean ipTo = false, addrPort = false;
                    if (peek().equals("ip")) {
                        pos++;
                        ipTo = true;
                        if (peek().equals("addr")) {
                            // dnat ip addr . port to KEY map { k : A . P }
                            pos++;
                            expect(".");
                            expect("port");
                            addrPort = true;
                        }
                    }
                    expect("to");
                    int kind = w.equals("snat") ? Expr.Nat.SNAT : Expr.Nat.DNAT;
                    if (FIELD_WORDS.contains(peek())) {
                        boolean pair = addrPort || mapsToAPair(t);
                        yield new Stmt.NatMap(kind, pair ? mapSrc(t, List.of(Stmt.Type.ADDR, Stmt.Type.PORT)) : mapSrc(t, Stmt.Type.ADDR));
                    }
                    if (ipTo) {
                        throw syntax();
                    }
                    String a = next();
                    int[] ports = { 0, 0 };
                    int colon = a.indexOf(':');
                    if (colon > 0) {
                        ports = natPorts(a.substring(colon + 1));
                        needTransport(out, kw, colon + 1);
                        a = a.substring(0, colon);
                    }
                    long[] addrs = element(Stmt.Type.ADDR, a);
                    if (a.indexOf('/') > 0) {
                        throw syntax();
                    }
                    yield new Stmt.Nat(kind, (int) addrs[0], (int) addrs[1], ports[0], ports[1]);
                }
                default -> throw syntax();
            };
            if (s instanceof Stmt.Match m && (m.field() == Stmt.Field.TH_SPORT || m.field() == Stmt.Field.TH_DPORT) && !out.isEmpty()
                    && out.get(out.size() - 1) instanceof Stmt.Match d && !d.neq() && d.rhs() == Stmt.Rhs.VALUE
                    && (d.field() == Stmt.Field.META_L4PROTO || d.field() == Stmt.Field.IP_PROTOCOL && t.family.equals("ip"))) {
                // th after one transport protocol is that protocol's own header field (nft's payload_dependency_kill)
                Stmt.Field own = thOf((int) d.a(), m.field() == Stmt.Field.TH_SPORT);
                if (own != null) {
                    s = new Stmt.Match(own, m.neq(), m.rhs(), m.a(), m.b(), m.elems(), m.setName());
                }
            }
            if (s instanceof Stmt.NatMap nm && !out.isEmpty() && out.get(out.size() - 1) instanceof Stmt.Match d && !d.neq()
                    && d.rhs() == Stmt.Rhs.VALUE && d.field() == Stmt.Field.META_L4PROTO
                    && nm.src().fields().stream().anyMatch(f -> f.needs == d.a())) {
                out.remove(out.size() - 1); // the map's key carries the protocol as its dependency
            }
            if (s instanceof Stmt.Match m && m.field().needs >= 0 && !out.isEmpty()
                    && out.get(out.size() - 1) instanceof Stmt.Match d && !d.neq() && d.rhs() == Stmt.Rhs.VALUE
                    && (d.field() == Stmt.Field.META_L4PROTO || d.field() == Stmt.Field.IP_PROTOCOL && t.family.equals("ip")) && d.a() == m.field().needs) {
                out.remove(out.size() - 1); // nft keeps the protocol as the match's own dependency and lists it no more
            }
            out.add(s);
        }
        if (out.isEmpty()) {
            throw syntax();
        }
        return out;
    }

    /** {@code add|update @SET { KEY [timeout T] }}, the verb read (nft_dynset). */
    private Stmt dynset(Table t, boolean update) {
        String v = next();
        if (!v.startsWith("@")) {
            throw syntax();
        }
        int setTok = pos - 1;
        NSet s = namedSet(t, v.substring(1));
        expect("{");
        int from = pos;
        List<Stmt.Field> fs = fields(next());
        int to = pos - 1;
        long timeout = 0;
        if (peek().equals("timeout")) {
            pos++;
            timeout = Values.parseTime(next());
            if (timeout < 0) {
                throw syntax();
            }
        }
        expect("}");
        if (!s.key.equals(Stmt.types(fs))) {
            throw error("datatype mismatch, expected " + Values.describe(s.key) + ", expression has type "
                    + Values.describe(Stmt.types(fs)), marked(from, to, setTok, setTok));
        }
        if (s.interval || s.map() || timeout > 0 && !s.timeouts()) {
            throw error("Could not process rule: Operation not supported", line());
        }
        if (s.size == 0) {
            s.size = 65535; // nft_dynset_init gives a set without a size the default one
        }
        if (s.dyn == null) {
            makeDyn(s); // the set becomes one the packet path adds to: its elements go to their own table
        } else {
            DynSet d = s.dyn;
            int size = s.size;
            dynChange(d, () -> d.limit = size);
        }
        if (made.contains(s)) {
            s.dynamicFlag = true;
        }
        return new Stmt.Dynset(update, s.name, fs, timeout);
    }

    /** The field of protocol {@code proto}'s header that {@code th sport|dport} is, or null for a protocol with no ports. */
    private static Stmt.Field thOf(int proto, boolean src) {
        return switch (proto) {
            case 6 -> src ? Stmt.Field.TCP_SPORT : Stmt.Field.TCP_DPORT;
            case 17 -> src ? Stmt.Field.UDP_SPORT : Stmt.Field.UDP_DPORT;
            case 136 -> src ? Stmt.Field.UDPLITE_SPORT : Stmt.Field.UDPLITE_DPORT;
            case 132 -> src ? Stmt.Field.SCTP_SPORT : Stmt.Field.SCTP_DPORT;
            case 33 -> src ? Stmt.Field.DCCP_SPORT : Stmt.Field.DCCP_DPORT;
            default -> null;
        };
    }

    /** The words a payload, meta or ct expression starts with. */
    private static final java.util.Set<String> FIELD_WORDS = java.util.Set.of("ip", "tcp", "udp", "icmp", "meta", "ct", "mark", "th",
            "udplite", "sctp", "dccp", "pkttype");

    /** One expression nft names ({@code ip saddr}, {@code tcp dport}, {@code meta mark}, {@code ct state}), its first word read. */
    private Stmt.Field field(String w) {
        String f = w.equals("mark") || w.equals("pkttype") ? "" : next();
        return switch (w) {
            case "th", "udplite", "sctp", "dccp" -> {
                boolean src = f.equals("sport");
                if (!src && !f.equals("dport")) {
                    throw syntax();
                }
                yield switch (w) {
                    case "th" -> src ? Stmt.Field.TH_SPORT : Stmt.Field.TH_DPORT;
                    case "udplite" -> src ? Stmt.Field.UDPLITE_SPORT : Stmt.Field.UDPLITE_DPORT;
                    case "sctp" -> src ? Stmt.Field.SCTP_SPORT : Stmt.Field.SCTP_DPORT;
                    default -> src ? Stmt.Field.DCCP_SPORT : Stmt.Field.DCCP_DPORT;
                };
            }
            case "pkttype" -> Stmt.Field.META_PKTTYPE;
            case "ip" -> switch (f) {
                case "saddr" -> Stmt.Field.IP_SADDR;
                case "daddr" -> Stmt.Field.IP_DADDR;
                case "protocol" -> Stmt.Field.IP_PROTOCOL;
                default -> throw syntax();
            };
            case "tcp", "udp" -> switch (f) {
                case "sport" -> w.equals("tcp") ? Stmt.Field.TCP_SPORT : Stmt.Field.UDP_SPORT;
                case "dport" -> w.equals("tcp") ? Stmt.Field.TCP_DPORT : Stmt.Field.UDP_DPORT;
                default -> throw syntax();
            };
            case "icmp" -> {
                if (!f.equals("type")) {
                    throw syntax();
                }
                yield Stmt.Field.ICMP_TYPE;
            }
            case "meta" -> switch (f) {
                case "l4proto" -> Stmt.Field.META_L4PROTO;
                case "mark" -> Stmt.Field.META_MARK;
                case "pkttype" -> Stmt.Field.META_PKTTYPE;
                default -> throw syntax();
            };
            case "mark" -> Stmt.Field.META_MARK;
            case "ct" -> switch (f) {
                case "state" -> Stmt.Field.CT_STATE;
                case "mark" -> Stmt.Field.CT_MARK;
                case "zone" -> Stmt.Field.CT_ZONE;
                case "status" -> Stmt.Field.CT_STATUS;
                default -> throw syntax();
            };
            default -> throw syntax();
        };
    }

    /** {@code KEY[ . KEY...]}, its first word read: the parts of a concatenation. */
    private List<Stmt.Field> fields(String w) {
        List<Stmt.Field> fs = new ArrayList<>();
        fs.add(field(w));
        while (peek().equals(".")) {
            pos++;
            fs.add(field(next()));
        }
        return fs;
    }

    /** A statement led by an expression: a match, a concatenation's lookup, or a verdict map. */
    private Stmt fieldStmt(Table t, String w) {
        int from = pos - 1;
        List<Stmt.Field> fs = fields(w);
        int to = pos - 1;
        if (peek().equals("vmap")) {
            pos++;
            List<Stmt.Type> key = Stmt.types(fs);
            String v = next();
            if (v.startsWith("@")) {
                NSet s = namedSet(t, v.substring(1));
                if (!s.vmap() || !s.key.equals(key)) {
                    throw error("datatype mismatch, map expects " + Values.describe(s.key) + ", mapping expression has type "
                            + Values.describe(key), marked(from, to, pos - 1, pos - 1));
                }
                return new Stmt.Vmap(fs, null, s.name);
            }
            pos--;
            NSet anon = new NSet("");
            anon.dataType = "verdict";
            List<Elem> e = elementList(t, key, key.size() == 1, anon);
            e.sort(Elem.ORDER);
            t.nextHandle++; // the anonymous map is an object of the table with its own handle, made before the rule
            return new Stmt.Vmap(fs, e, null);
        }
        if (fs.size() == 1) {
            return match(t, fs.get(0), from, to);
        }
        boolean neq = false;
        if (peek().equals("!=")) {
            pos++;
            neq = true;
        }
        List<Stmt.Type> key = Stmt.types(fs);
        String v = next();
        if (v.startsWith("@")) {
            NSet s = namedSet(t, v.substring(1));
            if (!s.key.equals(key)) {
                throw error("datatype mismatch, expected " + Values.describe(s.key) + ", expression has type "
                        + Values.describe(key), marked(from, to, pos - 1, pos - 1));
            }
            return new Stmt.Concat(fs, neq, null, s.name);
        }
        if (!v.equals("{")) {
            throw syntax(); // a concatenation is matched against a set here
        }
        pos--;
        List<Elem> e = elementList(t, key, true, null); // an anonymous set takes ranges as nft makes it an interval set
        e.sort(Elem.ORDER);
        t.nextHandle++;
        return new Stmt.Concat(fs, neq, e, null);
    }

    private NSet namedSet(Table t, String name) {
        NSet s = t.sets.get(name);
        if (s == null) {
            throw error("Could not process rule: No such file or directory", line());
        }
        return s;
    }

    /**
     * Whether the map after {@code dnat ip to KEY map} gives an address and a port: a named map's data
     * type says, an anonymous map's first element's data ({@code A . P}) shows.
     */
    private boolean mapsToAPair(Table t) {
        int i = pos;
        while (i < toks.size() && !toks.get(i).equals("map")) {
            i++;
        }
        if (i + 1 >= toks.size()) {
            return false;
        }
        String m = toks.get(i + 1);
        if (m.startsWith("@")) {
            NSet s = t.sets.get(m.substring(1));
            return s != null && s.data.size() == 2;
        }
        boolean data = false;
        for (int j = i + 2; j < toks.size(); j++) {
            String w = toks.get(j);
            if (w.equals(",") || w.equals("}")) {
                return false;
            }
            if (data && w.equals(".")) {
                return true;
            }
            if (w.contains(":")) {
                data = true;
                if (w.length() > 1 && w.indexOf(':') < w.length() - 1 && j + 1 < toks.size() && toks.get(j + 1).equals(".")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@code KEY map { k : v, ... }} or {@code KEY map @m}, the map's data of {@code data}'s type. */
    private Stmt.MapSrc mapSrc(Table t, Stmt.Type data) {
        return mapSrc(t, List.of(data));
    }

    private Stmt.MapSrc mapSrc(Table t, List<Stmt.Type> data) {
        int from = pos;
        List<Stmt.Field> fs = fields(next());
        int to = pos - 1;
        expect("map");
        List<Stmt.Type> key = Stmt.types(fs);
        String v = next();
        if (v.startsWith("@")) {
            NSet s = namedSet(t, v.substring(1));
            if (!s.map() || s.vmap() || !s.key.equals(key) || !s.data.equals(data)) {
                throw error("datatype mismatch, map expects " + Values.describe(s.key) + ", mapping expression has type "
                        + Values.describe(key), marked(from, to, pos - 1, pos - 1));
            }
            return new Stmt.MapSrc(fs, null, s.name, s.data);
        }
        pos--;
        NSet anon = new NSet("");
        anon.dataType = Values.typeName(data.get(0));
        anon.data = data;
        List<Elem> e = elementList(t, key, key.size() == 1, anon);
        e.sort(Elem.ORDER);
        t.nextHandle++;
        return new Stmt.MapSrc(fs, e, null, data);
    }

    /** {@code meta|ct mark set} read: a value, the other mark, or a map's mark. */
    private Stmt setMark(Table t, boolean ct) {
        String w = peek();
        if ((w.equals("meta") || w.equals("ct")) && pos + 1 < toks.size() && toks.get(pos + 1).equals("mark")
                && (pos + 2 >= toks.size() || !toks.get(pos + 2).equals("map"))) {
            pos += 2;
            return new Stmt.SetMark(ct, 0, w.equals("ct") ? Stmt.Field.CT_MARK : Stmt.Field.META_MARK, null);
        }
        if (FIELD_WORDS.contains(w)) {
            return new Stmt.SetMark(ct, 0, null, mapSrc(t, Stmt.Type.MARK));
        }
        return new Stmt.SetMark(ct, value(Stmt.Type.MARK, next()), null, null);
    }

    /**
     * {@code queue [num N] [bypass]} or as nft lists it, {@code queue [flags bypass] to N}; {@code queue}
     * read. A range of queues ({@code num 2-3}, fanout) is not taken.
     */
    private Stmt queue() {
        int num = 0;
        boolean bypass = false;
        while (true) {
            String w = peek();
            if (w.equals("num") || w.equals("to")) {
                pos++;
                String n = next();
                if (!n.matches("[0-9]{1,5}") || Integer.parseInt(n) > 65535) {
                    throw syntax();
                }
                num = Integer.parseInt(n);
            } else if (w.equals("bypass")) {
                pos++;
                bypass = true;
            } else if (w.equals("flags")) {
                pos++;
                expect("bypass");
                bypass = true;
            } else {
                return new Stmt.Queue(num, bypass);
            }
        }
    }

    /** A NAT statement's {@code P} or {@code P-P}. */
    private int[] natPorts(String w) {
        int dash = w.indexOf('-');
        int lo = (int) value(Stmt.Type.PORT, dash > 0 ? w.substring(0, dash) : w);
        int hi = dash > 0 ? (int) value(Stmt.Type.PORT, w.substring(dash + 1)) : lo;
        if (hi < lo) {
            throw error("Range has zero or negative size", line());
        }
        return new int[] { lo, hi };
    }

    /**
     * A NAT port needs a transport protocol matched before it in the rule (a tcp/udp field, {@code meta
     * l4proto}, {@code ip protocol}); else nft's error, the statement's word marked and the port under carets
     * (the last token read, from character {@code at}).
     */
    private void needTransport(List<Stmt> before, int kwTok, int at) {
        for (Stmt s : before) {
            if (s instanceof Stmt.Match m && (m.field().needs > 1 && m.field().transport
                    || !m.neq() && (m.field() == Stmt.Field.META_L4PROTO || m.field() == Stmt.Field.IP_PROTOCOL))) {
                return;
            }
        }
        int tok = pos - 1;
        String base = marked(kwTok, kwTok, tok, tok);
        int nl = base.indexOf('\n');
        String line = base.substring(0, nl);
        char[] mark = base.substring(nl + 1).toCharArray();
        int from = starts.get(tok) - (source.lastIndexOf('\n', starts.get(tok) - 1) + 1);
        char[] full = java.util.Arrays.copyOf(mark, Math.max(mark.length, from + toks.get(tok).length()));
        for (int i = mark.length; i < full.length; i++) {
            full[i] = ' ';
        }
        for (int i = from; i < from + at; i++) {
            full[i] = ' ';
        }
        throw error("transport protocol mapping is only valid after transport protocol match", line + "\n" + new String(full).stripTrailing());
    }

    /** {@code limit rate [over] N/UNIT [burst B packets]}, {@code limit} read. */
    private Stmt limit() {
        int from = pos - 1;
        expect("rate");
        boolean over = false;
        if (peek().equals("over")) {
            pos++;
            over = true;
        }
        String r = next();
        if (r.matches("[0-9]{1,18}") && peek().matches("[kmg]?bytes/.*")) {
            return byteLimit(from, Long.parseLong(r), over);
        }
        int slash = r.indexOf('/');
        if (slash <= 0 || !r.substring(0, slash).matches("[0-9]{1,18}")) {
            throw syntax();
        }
        long rate = Long.parseLong(r.substring(0, slash));
        String unit = r.substring(slash + 1);
        if (Stmt.Limit.unitNanos(unit) < 0) {
            throw error("syntax error, unexpected string", line());
        }
        if (rate == 0) {
            throw error("Could not process rule: Invalid argument", lineAt(from, pos - 1));
        }
        int burst = 5; // nft's default for a packet limit
        if (peek().equals("burst")) {
            int b0 = pos;
            pos++;
            burst = integer(next());
            if (peek().equals("packets")) {
                pos++;
            } else if (peek().equals("bytes")) {
                throw error("Could not process rule: Operation not supported (byte limits are not in modnet yet)", line());
            }
            if (burst <= 0) {
                throw error("packet limit burst must be > 0", lineAt(b0, pos - 1));
            }
        }
        return Stmt.Limit.of(rate, unit, burst, over);
    }

    /** The rest of {@code limit rate [over] N BYTES/UNIT [burst B BYTES]}, N read. */
    private Stmt byteLimit(int from, long n, boolean over) {
        String w = next();
        int slash = w.indexOf('/');
        long rate = bytesValue(Long.toString(n), w.substring(0, slash));
        String unit = w.substring(slash + 1);
        if (Stmt.Limit.unitNanos(unit) < 0) {
            throw error("syntax error, unexpected string", line());
        }
        if (rate == 0) {
            throw error("Could not process rule: Invalid argument", lineAt(from, pos - 1));
        }
        long burst = 0; // nft's default for a byte limit
        if (peek().equals("burst")) {
            pos++;
            String b = next();
            String u = next();
            if (u.equals("packets")) {
                throw syntax();
            }
            burst = bytesValue(b, u);
        }
        if (Math.unsignedMultiplyHigh(Stmt.Limit.unitNanos(unit), rate + burst) != 0) {
            // the bucket, unit * (rate + burst) nanoseconds, does not fit nft_limit_init's u64 (EOVERFLOW)
            throw error("Could not process rule: Value too large for defined data type", lineAt(from, pos - 1));
        }
        return Stmt.Limit.ofBytes(rate, unit, burst, over);
    }

    /** {@code quota [over|until] N UNIT [used N UNIT]}, {@code quota} read: the rule's own quota. */
    private Stmt anonymousQuota() {
        boolean over = false;
        if (peek().equals("over")) {
            pos++;
            over = true;
        } else if (peek().equals("until")) {
            pos++;
        }
        long bytes = bytesValue(next(), next());
        long used = 0;
        if (peek().equals("used")) {
            pos++;
            used = bytesValue(next(), next());
        }
        Expr.Quota q = new Expr.Quota(bytes, over);
        q.consumed.set(used);
        return new Stmt.Quota(q);
    }

    private Stmt reject(Table t, boolean ipv4Dep) {
        if (!peek().equals("with")) {
            // nft spells the default out where the rule is IPv4's (ip family, or an ip/icmp match in inet)
            return new Stmt.Reject(t.family.equals("inet") && ipv4Dep ? "with icmp port-unreachable" : "", 3, false);
        }
        pos++;
        String kind = next();
        if (kind.equals("tcp")) {
            expect("reset");
            return new Stmt.Reject("with tcp reset", 0, true);
        }
        if (!kind.equals("icmp") && !kind.equals("icmpx")) {
            throw syntax();
        }
        if (peek().equals("type")) {
            pos++;
        }
        String what = next();
        int code = switch (what) {
            case "net-unreachable" -> 0;
            case "host-unreachable" -> 1;
            case "prot-unreachable" -> 2;
            case "port-unreachable" -> 3;
            case "net-prohibited" -> 9;
            case "host-prohibited" -> 10;
            case "admin-prohibited" -> 13;
            default -> throw syntax();
        };
        return new Stmt.Reject("with " + kind + " " + what, code, false);
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }

    private Stmt ifname(String key) {
        boolean neq = false;
        if (peek().equals("!=")) {
            pos++;
            neq = true;
        }
        String n = unquote(next());
        if (n.isEmpty() || n.length() > 15) {
            throw syntax();
        }
        return new Stmt.Ifname(key.startsWith("meta ") ? key.substring(5) : key, neq, n);
    }

    private Stmt match(Table t, Stmt.Field f, int from, int to) {
        boolean neq = false;
        if (peek().equals("!=")) {
            pos++;
            neq = true;
        } else if (peek().equals("==")) {
            pos++;
        }
        String w = next();
        if (w.equals("{")) {
            pos--;
            List<Elem> e = elementList(t, List.of(f.type), f.type == Stmt.Type.ADDR || f.type == Stmt.Type.PORT
                    || f.type == Stmt.Type.MARK || f.type == Stmt.Type.PROTO || f.type == Stmt.Type.ICMP, null);
            if (e.isEmpty()) {
                throw syntax();
            }
            e.sort(Elem.ORDER);
            t.nextHandle++; // the anonymous set is an object of the table with its own handle, made before the rule
            return new Stmt.Match(f, neq, Stmt.Rhs.SET, 0, 0, e, null);
        }
        if (w.startsWith("@")) {
            String sn = w.substring(1);
            NSet s = t.sets.get(sn);
            if (s == null) {
                throw error("Could not process rule: No such file or directory (set " + sn + ")", line());
            }
            if (!s.key.equals(List.of(f.type))) {
                throw error("datatype mismatch, expected " + Values.describe(s.key) + ", expression has type "
                        + Values.describe(List.of(f.type)), marked(from, to, pos - 1, pos - 1));
            }
            return new Stmt.Match(f, neq, Stmt.Rhs.NAMED, 0, 0, null, sn);
        }
        if (f.type == Stmt.Type.CTSTATE || f.type == Stmt.Type.CTSTATUS) {
            long mask = value(f.type, w);
            while (peek().equals(",")) {
                pos++;
                mask |= value(f.type, next());
            }
            return new Stmt.Match(f, neq, Stmt.Rhs.FLAGS, mask, 0, null, null);
        }
        long[] e = element(f.type, w);
        if (w.indexOf('/') > 0) {
            int len = Integer.parseInt(w.substring(w.indexOf('/') + 1));
            if (len == 32) {
                return new Stmt.Match(f, neq, Stmt.Rhs.VALUE, e[0], 0, null, null);
            }
            return new Stmt.Match(f, neq, Stmt.Rhs.PREFIX, e[0], len, null, null);
        }
        if (e[0] != e[1]) {
            return new Stmt.Match(f, neq, Stmt.Rhs.RANGE, e[0], e[1], null, null);
        }
        return new Stmt.Match(f, neq, Stmt.Rhs.VALUE, e[0], 0, null, null);
    }

    // ------------------------------------------------------------------ list

    private void list(Table t, Chain only, List<String> out) {
        out.add("table " + t.family + " " + t.name + " {" + (handles ? " # handle " + t.handle : ""));
        boolean first = true;
        if (only == null) {
            // stateful objects in the order they were made, as the kernel keeps them
            List<Object> objs = new ArrayList<>(t.counters.values());
            objs.addAll(t.quotas.values());
            objs.addAll(t.limits.values());
            objs.sort(java.util.Comparator.comparingInt(o -> o instanceof Ruleset.CounterObj c ? c.handle()
                    : o instanceof Ruleset.QuotaObj q ? q.handle() : ((Ruleset.LimitObj) o).handle()));
            for (Object o : objs) {
                if (!first) {
                    out.add("");
                }
                first = false;
                if (o instanceof Ruleset.CounterObj c) {
                    printCounter(c, out);
                } else if (o instanceof Ruleset.QuotaObj q) {
                    printQuota(q, out);
                } else {
                    printLimit((Ruleset.LimitObj) o, out);
                }
            }
            for (NSet s : t.sets.values()) {
                if (!first) {
                    out.add("");
                }
                first = false;
                printSet(s, out);
            }
        }
        for (Chain c : t.chains.values()) {
            if (only != null && c != only) {
                continue;
            }
            if (!first) {
                out.add("");
            }
            first = false;
            out.add("\tchain " + c.name + " {" + (handles ? " # handle " + c.handle : ""));
            if (c.base()) {
                out.add("\t\ttype " + c.type + " hook " + c.hook + (c.device != null ? " device \"" + c.device + "\"" : "")
                        + " priority " + priorityName(c.prio, t.family, c.hook) + "; policy "
                        + (c.policyDrop ? "drop" : "accept") + ";");
            }
            for (Rule r : c.rules) {
                StringBuilder b = new StringBuilder("\t\t");
                for (int i = 0; i < r.stmts().size(); i++) {
                    b.append(i > 0 ? " " : "").append(r.stmts().get(i).print());
                }
                if (handles) {
                    b.append(" # handle ").append(r.handle());
                }
                out.add(b.toString());
            }
            out.add("\t}");
        }
        out.add("}");
    }

    private void printCounter(Ruleset.CounterObj o, List<String> out) {
        out.add("\tcounter " + o.name() + " {" + (handles ? " # handle " + o.handle() : ""));
        out.add("\t\tpackets " + o.counter().packets.get() + " bytes " + o.counter().bytes.get());
        out.add("\t}");
    }

    private void printQuota(Ruleset.QuotaObj o, List<String> out) {
        Expr.Quota q = o.quota();
        out.add("\tquota " + o.name() + " {" + (handles ? " # handle " + o.handle() : ""));
        long used = q.consumed.get();
        out.add("\t\t" + (q.over ? "over " : "") + bytesUnit(q.bytes) + (used > 0 ? " used " + bytesUnit(used) : ""));
        out.add("\t}");
    }

    private static String bytesUnit(long v) {
        return Values.bytesUnit(v);
    }

    private long bytesValue(String n, String unit) {
        long v = count(n);
        return switch (unit) {
            case "bytes" -> v;
            case "kbytes" -> v << 10;
            case "mbytes" -> v << 20;
            case "gbytes" -> v << 30;
            default -> throw syntax();
        };
    }

    private void printLimit(Ruleset.LimitObj o, List<String> out) {
        out.add("\tlimit " + o.name() + " {" + (handles ? " # handle " + o.handle() : ""));
        out.add("\t\t" + o.limit().print().substring("limit ".length()));
        out.add("\t}");
    }

    /** {@code add|create|delete|list limit T NAME [{ rate [over] N/UNIT [burst N packets] }]}. */
    private void limitObj(Model m, String verb, List<String> out) {
        Table t = table(m, true);
        statefulObject(t, verb, out, t.limits, (st, name) -> st instanceof Stmt.NamedLimit n && n.name().equals(name),
                this::defineLimit, this::printLimit);
    }

    /**
     * The verbs every named stateful object (counter, quota, limit) takes: {@code add|create} define it,
     * {@code delete} refuses one a rule still names (EBUSY, as the kernel's {@code nft_obj} use count does),
     * {@code list} prints it inside its table.
     */
    private <O> void statefulObject(Table t, String verb, List<String> out, java.util.Map<String, O> objects,
            java.util.function.BiPredicate<Stmt, String> names, ObjectDefiner define,
            java.util.function.BiConsumer<O, List<String>> print) {
        int nameTok = pos;
        String name = name();
        O o = objects.get(name);
        switch (verb) {
            case "add", "create" -> define.define(t, name, verb.equals("create"));
            case "delete" -> {
                if (o == null) {
                    throw noent();
                }
                for (Chain c : t.chains.values()) {
                    for (Rule r : c.rules) {
                        for (Stmt st : r.stmts()) {
                            if (names.test(st, name)) {
                                throw error("Could not process rule: Device or resource busy", lineAt(nameTok, nameTok));
                            }
                        }
                    }
                }
                objects.remove(name);
            }
            case "list" -> {
                if (o == null) {
                    throw noent();
                }
                out.add("table " + t.family + " " + t.name + " {");
                print.accept(o, out);
                out.add("}");
            }
            default -> throw syntax();
        }
    }

    /** Reads a named object's definition ({@code { ... }}) into table {@code t}; {@code create} refuses one that exists. */
    @FunctionalInterface
    private interface ObjectDefiner {
        void define(Table t, String name, boolean create);
    }

    private void defineLimit(Table t, String name, boolean create) {
        Ruleset.LimitObj o = t.limits.get(name);
        if (o != null && create) {
            throw exists();
        }
        expect("{");
        int h = handle();
        while (peek().equals("\n") || peek().equals(";")) {
            pos++;
        }
        Stmt.Limit l = (Stmt.Limit) limit();
        while (peek().equals("\n") || peek().equals(";")) {
            pos++;
        }
        expect("}");
        if (o == null) {
            t.limits.put(name, new Ruleset.LimitObj(name, h > 0 ? h : t.nextHandle++, l));
        }
    }

    /** {@code add|create|delete|list quota T NAME [{ [over] N UNIT [used N UNIT] }]}. */
    private void quota(Model m, String verb, List<String> out) {
        Table t = table(m, true);
        statefulObject(t, verb, out, t.quotas, (st, name) -> st instanceof Stmt.NamedQuota n && n.name().equals(name),
                this::defineQuota, this::printQuota);
    }

    private void defineQuota(Table t, String name, boolean create) {
        Ruleset.QuotaObj o = t.quotas.get(name);
        if (o != null && create) {
            throw exists();
        }
        expect("{");
        int h = handle();
        boolean over = false;
        long bytes = -1, used = 0;
        while (!peek().equals("}")) {
            String w = next();
            switch (w) {
                case "\n", ";" -> { }
                case "over" -> over = true;
                case "until" -> over = false;
                case "used" -> used = bytesValue(next(), next());
                default -> bytes = bytesValue(w, next());
            }
        }
        pos++;
        if (bytes < 0) {
            throw syntax();
        }
        if (o == null) {
            Expr.Quota q = new Expr.Quota(bytes, over);
            q.consumed.set(used);
            t.quotas.put(name, new Ruleset.QuotaObj(name, h > 0 ? h : t.nextHandle++, q));
        }
    }

    /** {@code add|create|delete|list|reset counter T NAME [{ packets N bytes M }]}. */
    private void counter(Model m, String verb, List<String> out) {
        Table t = table(m, true);
        statefulObject(t, verb, out, t.counters, (st, name) -> st instanceof Stmt.NamedCounter n && n.name().equals(name),
                this::defineCounter, this::printCounter);
    }

    /** A counter object, with the values {@code { packets N bytes M }} give it (nft list's own, as nft -f reads them back). */
    private void defineCounter(Table t, String name, boolean create) {
        Ruleset.CounterObj o = t.counters.get(name);
        if (o != null && create) {
            throw exists();
        }
        long packets = 0, bytes = 0;
        int h = 0;
        if (peek().equals("{")) {
            pos++;
            h = handle();
            while (!peek().equals("}")) {
                String w = next();
                switch (w) {
                    case "\n", ";" -> { }
                    case "packets" -> packets = count(next());
                    case "bytes" -> bytes = count(next());
                    default -> throw syntax();
                }
            }
            pos++;
        }
        if (o == null) {
            Expr.Counter c = new Expr.Counter();
            c.packets.set(packets);
            c.bytes.set(bytes);
            t.counters.put(name, new Ruleset.CounterObj(name, h > 0 ? h : t.nextHandle++, c));
        }
    }

    private long count(String w) {
        if (!w.matches("[0-9]{1,19}")) {
            throw syntax();
        }
        return Long.parseLong(w);
    }

    private void printSet(NSet s, List<String> out) {
        out.add("\t" + (s.map() ? "map " : "set ") + s.name + " {" + (handles ? " # handle " + s.handle : ""));
        out.add("\t\ttype " + s.type + (s.map() ? " : " + s.dataType : ""));
        if (s.size > 0) {
            out.add("\t\tsize " + s.size);
        }
        // nft lists the flags when there is one besides timeout, or timeout without the set's own timeout
        if (s.interval || s.dynamicFlag || s.timeoutFlag && s.timeout == 0) {
            List<String> f = new ArrayList<>();
            if (s.dynamicFlag) {
                f.add("dynamic");
            }
            if (s.interval) {
                f.add("interval");
            }
            if (s.timeouts()) {
                f.add("timeout");
            }
            out.add("\t\tflags " + String.join(",", f));
        }
        if (s.timeout > 0) {
            out.add("\t\ttimeout " + Values.time(s.timeout));
        }
        if (s.gcInterval > 0) {
            out.add("\t\tgc-interval " + Values.time(s.gcInterval));
        }
        long now = now();
        List<Elem> elems = s.dyn != null ? s.dyn.elements(now) : s.elems;
        if (!elems.isEmpty()) {
            // nft's calculate_delim: a named set's elements go on new lines, so many per line by key type
            StringBuilder b = new StringBuilder("\t\telements = { ");
            for (int i = 0; i < elems.size(); i++) {
                if (i > 0) {
                    b.append(",");
                    if (Values.breakAfter(s.key, i)) {
                        out.add(b.toString());
                        b = new StringBuilder("\t\t\t     ");
                    } else {
                        b.append(" ");
                    }
                }
                b.append(elems.get(i).print(s.key, s.data, s.timeout, now));
            }
            out.add(b.append(" }").toString());
        }
        out.add("\t}");
    }

}

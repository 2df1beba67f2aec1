package org.modnet.netfilter;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.modnet.api.shell.CommandException;

/**
 * The {@code iptables} command (iptables 1.8.9, legacy, filter table): parses argv as iptables does,
 * applies the change to a copy of the table and publishes it whole, and prints {@code -L}, {@code -S}
 * and {@code iptables-save} byte for byte as iptables does.
 */
final class Iptables {
    static final String VERSION = "iptables v1.8.9 (legacy): ";
    static final String TRY = "Try `iptables -h' or 'iptables --help' for more information.";

    private Iptables() {
    }

    static CommandException syntax(String msg) {
        return new CommandException(VERSION + msg + "\n" + TRY, 2);
    }

    /** libxtables' xtables_error for an extension's option: the message, a blank line, then the hint. */
    static CommandException syntaxBlank(String msg) {
        return new CommandException(VERSION + msg + "\n\n" + TRY, 2);
    }

    static CommandException fail(String msg) {
        return new CommandException("iptables: " + msg, 1);
    }

    /** One parsed command line. */
    static final class Cmd {
        char cmd;
        String chain, chain2;
        int num = -1;
        boolean numeric, verbose, exact, lineNumbers;
        Rule rule;
        String policy;
        boolean ruleGiven;
        /** {@code -c PKTS BYTES} ({@code --set-counters}): the new rule's or the policy's counters; null: none given. */
        long[] counters;
    }

    private static final Map<String, Character> LONG = Map.ofEntries(Map.entry("--append", 'A'),
            Map.entry("--insert", 'I'), Map.entry("--delete", 'D'), Map.entry("--replace", 'R'),
            Map.entry("--flush", 'F'), Map.entry("--zero", 'Z'), Map.entry("--new-chain", 'N'),
            Map.entry("--delete-chain", 'X'), Map.entry("--rename-chain", 'E'), Map.entry("--policy", 'P'),
            Map.entry("--list", 'L'), Map.entry("--list-rules", 'S'), Map.entry("--check", 'C'),
            Map.entry("--new", 'N'));

    /** Runs one command line on the table, returning what it prints. */
    static List<String> run(FilterTable table, String... argv) {
        Cmd c = parse(table, Arrays.asList(argv));
        List<String> out = new ArrayList<>();
        table.change((b, u) -> apply(c, b, u, out));
        return out;
    }

    static Cmd parse(FilterTable table, List<String> args) {
        Cmd c = new Cmd();
        Rule r = new Rule();
        List<Match> matches = new ArrayList<>();
        Matches.Ports ports = null;
        Matches.Icmp icmp = null;
        Matches.CtState ctstate = null, state = null;
        boolean inv = false;
        // -m mark / -m connmark / -m limit: their place in the match list, filled once the line is read
        int markAt = -1, connmarkAt = -1, limitAt = -1, addrAt = -1;
        int srcType = 0, dstType = 0;
        boolean srcTypeInv = false, dstTypeInv = false;
        String lastMark = null;
        int[] mark = null, connmark = null;
        boolean markInv = false, connmarkInv = false;
        String limitRate = "3/hour";
        int limitBurst = Matches.Limit.DEFAULT_BURST;
        int hashlimitAt = -1;
        Hashlimit.Cfg hashlimit = null;
        String hashlimitRate = null;
        Matches.Set setMatch = null;
        List<Matches.Set> setMatches = new ArrayList<>();
        List<String> targetOpts = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("!")) {
                inv = true;
                continue;
            }
            Character lc = LONG.get(a);
            if (lc == null && a.length() >= 2 && a.charAt(0) == '-' && a.charAt(1) != '-') {
                // bundled short flags such as -nvL or -vxL INPUT
                String flags = a.substring(1);
                boolean bundle = flags.length() > 1 && flags.chars().allMatch(ch -> "nvxLSFZX".indexOf(ch) >= 0);
                if (bundle) {
                    for (char ch : flags.toCharArray()) {
                        switch (ch) {
                            case 'n' -> c.numeric = true;
                            case 'v' -> c.verbose = true;
                            case 'x' -> c.exact = true;
                            default -> setCmd(c, ch);
                        }
                    }
                    if ("LSFZX".indexOf(c.cmd) >= 0 && i + 1 < args.size() && !args.get(i + 1).startsWith("-")) {
                        c.chain = args.get(++i);
                        i = ruleNumber(c, args, i);
                    }
                    continue;
                }
            }
            String opt = lc != null ? "-" + lc : a;
            if (Targets.TAKES_OPTIONS.contains(r.kind) && Targets.OPTIONS.contains(opt)) {
                final int at = i + 1;
                Targets.option(r, opt, () -> need(args, at, opt), targetOpts);
                if (!opt.equals("--notrack") && !opt.equals("--clamp-mss-to-pmtu") && !opt.equals("--save-mark") && !opt.equals("--queue-bypass")
                        && !opt.equals("--restore-mark")) {
                    i++;
                }
                inv = false;
                continue;
            }
            switch (opt) {
                case "-A", "-C", "-N", "-P", "-E", "-R", "-I", "-D" -> {
                    setCmd(c, opt.charAt(1));
                    c.chain = need(args, ++i, opt);
                    if (opt.equals("-P") || opt.equals("-E")) {
                        String v = need(args, ++i, opt);
                        if (opt.equals("-P")) {
                            c.policy = v;
                        } else {
                            c.chain2 = v;
                        }
                    } else if (opt.equals("-R")) {
                        c.num = number(need(args, ++i, opt));
                    } else if ((opt.equals("-I") || opt.equals("-D")) && i + 1 < args.size()
                            && args.get(i + 1).matches("[0-9]+")) {
                        c.num = number(args.get(++i));
                    }
                }
                case "-F", "-Z", "-X", "-L", "-S" -> {
                    setCmd(c, opt.charAt(1));
                    if (i + 1 < args.size() && !args.get(i + 1).startsWith("-")) {
                        c.chain = args.get(++i);
                        i = ruleNumber(c, args, i);
                    }
                }
                case "-t", "--table" -> {
                    String t = need(args, ++i, opt);
                    if (!t.equals(table == null ? "filter" : table.name)) {
                        throw new CommandException(VERSION + "can't initialize iptables table `" + t
                                + "': Table does not exist (do you need to insmod?)\nPerhaps iptables or your kernel needs to be upgraded.", 3);
                    }
                }
                case "-n", "--numeric" -> c.numeric = true;
                case "-v", "--verbose" -> c.verbose = true;
                case "-x", "--exact" -> c.exact = true;
                case "--line-numbers" -> c.lineNumbers = true;
                case "-s", "--source", "-d", "--destination" -> {
                    int[] am = address(need(args, ++i, opt));
                    if (opt.startsWith("-s") || opt.equals("--source")) {
                        r.src = am[0];
                        r.srcMask = am[1];
                        r.srcInv = inv;
                    } else {
                        r.dst = am[0];
                        r.dstMask = am[1];
                        r.dstInv = inv;
                    }
                    c.ruleGiven = true;
                }
                case "-p", "--protocol" -> {
                    String p = need(args, ++i, opt).toLowerCase(Locale.ROOT);
                    r.proto = switch (p) {
                        case "all", "0" -> 0;
                        case "icmp", "1" -> 1;
                        case "tcp", "6" -> 6;
                        case "udp", "17" -> 17;
                        default -> {
                            if (p.matches("[0-9]{1,3}") && Integer.parseInt(p) < 256) {
                                yield Integer.parseInt(p);
                            }
                            throw syntax("unknown protocol \"" + p + "\" specified");
                        }
                    };
                    r.protoInv = inv;
                    c.ruleGiven = true;
                }
                case "-c", "--set-counters" -> {
                    if (i + 2 >= args.size() || args.get(i + 1).startsWith("-") || args.get(i + 2).startsWith("-")) {
                        throw syntax("-c requires packet and byte counter");
                    }
                    c.counters = new long[] { counter(args.get(++i), "packet"), counter(args.get(++i), "byte") };
                }
                case "-f", "--fragment" -> {
                    if (r.frag) {
                        throw syntax("multiple -f flags not allowed");
                    }
                    r.frag = true;
                    r.fragInv = inv;
                    c.ruleGiven = true;
                }
                case "-i", "--in-interface", "-o", "--out-interface" -> {
                    String n = need(args, ++i, opt);
                    if (opt.startsWith("-i") || opt.equals("--in-interface")) {
                        r.in = n;
                        r.inInv = inv;
                    } else {
                        r.out = n;
                        r.outInv = inv;
                    }
                    c.ruleGiven = true;
                }
                case "-m", "--match" -> {
                    String m = need(args, ++i, opt);
                    switch (m) {
                        case "tcp", "udp" -> {
                            if (ports == null) {
                                ports = new Matches.Ports(m.equals("tcp") ? 6 : 17);
                                matches.add(ports);
                            }
                        }
                        case "icmp" -> {
                            if (icmp == null) {
                                icmp = new Matches.Icmp();
                                matches.add(icmp);
                            }
                        }
                        case "multiport", "comment", "length" -> { }
                        case "mark", "connmark" -> {
                            if (m.equals("mark") && markAt < 0) {
                                markAt = matches.size();
                                matches.add(null);
                            } else if (m.equals("connmark") && connmarkAt < 0) {
                                connmarkAt = matches.size();
                                matches.add(null);
                            }
                            lastMark = m;
                        }
                        case "addrtype" -> {
                            if (addrAt < 0) {
                                addrAt = matches.size();
                                matches.add(null);
                            }
                        }
                        case "set" -> {
                            setMatch = new Matches.Set();
                            setMatches.add(setMatch);
                            matches.add(setMatch);
                        }
                        case "hashlimit" -> {
                            if (hashlimitAt < 0) {
                                hashlimitAt = matches.size();
                                matches.add(null);
                                hashlimit = new Hashlimit.Cfg();
                            }
                        }
                        case "limit" -> {
                            if (limitAt < 0) {
                                limitAt = matches.size();
                                matches.add(null);
                            }
                        }
                        case "conntrack" -> {
                            ctstate = new Matches.CtState(false);
                            matches.add(ctstate);
                        }
                        case "state" -> {
                            state = new Matches.CtState(true);
                            matches.add(state);
                        }
                        default -> throw new CommandException(VERSION + "Couldn't load match `" + m
                                + "':No such file or directory\n\n" + TRY, 2);
                    }
                    c.ruleGiven = true;
                }
                case "--sport", "--source-port", "--dport", "--destination-port", "--tcp-flags", "--syn" -> {
                    if (r.proto != 6 && r.proto != 17 || r.proto == 17 && (opt.equals("--tcp-flags") || opt.equals("--syn"))) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    if (ports == null) {
                        ports = new Matches.Ports(r.proto);
                        matches.add(ports);
                    }
                    if (opt.equals("--tcp-flags")) {
                        ports.flagMask = tcpFlags(need(args, ++i, opt));
                        ports.flagCmp = tcpFlags(need(args, ++i, opt));
                        ports.flagSet = true;
                        ports.flagInv = inv;
                    } else if (opt.equals("--syn")) {
                        ports.flagMask = 0x17;
                        ports.flagCmp = 0x02;
                        ports.flagSet = true;
                        ports.flagInv = inv;
                    } else {
                        int[] range = portRange(need(args, ++i, opt), r.proto);
                        if (opt.equals("--sport") || opt.equals("--source-port")) {
                            ports.sportLo = range[0];
                            ports.sportHi = range[1];
                            ports.sportInv = inv;
                            ports.sportSet = true;
                        } else {
                            ports.dportLo = range[0];
                            ports.dportHi = range[1];
                            ports.dportInv = inv;
                            ports.dportSet = true;
                        }
                    }
                }
                case "--icmp-type" -> {
                    if (r.proto != 1) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    if (icmp == null) {
                        icmp = new Matches.Icmp();
                        matches.add(icmp);
                    }
                    icmpType(icmp, need(args, ++i, opt));
                    icmp.inv = inv;
                }
                case "--dports", "--destination-ports", "--sports", "--source-ports", "--ports" -> {
                    int dir = opt.startsWith("--d") ? Matches.Multiport.DST
                            : opt.startsWith("--s") ? Matches.Multiport.SRC : Matches.Multiport.ANY;
                    String[] list = need(args, ++i, opt).split(",");
                    if (list.length > 15) {
                        throw syntax("too many ports specified");
                    }
                    int[] lo = new int[list.length], hi = new int[list.length];
                    for (int k = 0; k < list.length; k++) {
                        int[] pr = portRange(list[k], r.proto);
                        lo[k] = pr[0];
                        hi[k] = pr[1];
                    }
                    if (r.proto != 6 && r.proto != 17) {
                        throw syntax("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
                    }
                    matches.add(new Matches.Multiport(r.proto, dir, lo, hi, inv));
                }
                case "--comment" -> {
                    String t = need(args, ++i, opt);
                    if (t.length() > 255) {
                        throw syntax("COMMENT must be shorter than 256 characters");
                    }
                    matches.add(new Matches.Comment(t));
                }
                case "--length" -> {
                    String v = need(args, ++i, opt);
                    String[] p = v.split(":", -1);
                    try {
                        int lo = p[0].isEmpty() ? 0 : Integer.parseInt(p[0]);
                        int hi = p.length > 1 ? (p[1].isEmpty() ? 0xffff : Integer.parseInt(p[1])) : lo;
                        if (lo < 0 || hi > 0xffff || lo > hi) {
                            throw new NumberFormatException();
                        }
                        matches.add(new Matches.Length(lo, hi, inv));
                    } catch (NumberFormatException e) {
                        throw syntax("length invalid: \"" + v + "\"");
                    }
                }
                case "-j", "--jump", "-g", "--goto" -> {
                    String t = need(args, ++i, opt);
                    boolean go = opt.equals("-g") || opt.equals("--goto");
                    switch (t) {
                        case "ACCEPT", "DROP", "RETURN", "REJECT", "LOG", "SNAT", "DNAT", "MASQUERADE", "REDIRECT", "MARK",
                                "CONNMARK", "NOTRACK", "CT", "TCPMSS", "TOS", "DSCP", "TTL", "SET", "NFQUEUE", "QUEUE" -> {
                            if (go) {
                                throw syntax("goto '" + t + "' is not a chain");
                            }
                            r.kind = Rule.Kind.valueOf(t);
                        }
                        default -> {
                            r.kind = go ? Rule.Kind.GOTO : Rule.Kind.JUMP;
                            r.target = t;
                        }
                    }
                    c.ruleGiven = true;
                }
                case "--reject-with" -> {
                    String w = need(args, ++i, opt);
                    switch (w) {
                        case "icmp-net-unreachable", "icmp-host-unreachable", "icmp-port-unreachable",
                                "icmp-proto-unreachable", "icmp-net-prohibited", "icmp-host-prohibited",
                                "icmp-admin-prohibited" -> r.rejectWith = w;
                        case "tcp-reset", "tcp-rst" -> r.rejectWith = "tcp-reset";
                        default -> throw syntax("unknown reject type \"" + w + "\"");
                    }
                }
                case "--to-source", "--to-destination" -> {
                    if (r.kind != (opt.equals("--to-source") ? Rule.Kind.SNAT : Rule.Kind.DNAT)) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    natRange(r, need(args, ++i, opt));
                }
                case "--to-ports" -> {
                    if (r.kind != Rule.Kind.MASQUERADE && r.kind != Rule.Kind.REDIRECT) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    String v = need(args, ++i, opt);
                    int[] pr = natPorts(v);
                    r.natMinPort = pr[0];
                    r.natMaxPort = pr[1];
                    r.natTo = v;
                }
                case "--random", "--random-fully" -> {
                    // iptables 1.8.9: --random for all four NAT targets, --random-fully for SNAT and MASQUERADE only
                    if (r.kind != Rule.Kind.SNAT && r.kind != Rule.Kind.MASQUERADE
                            && (opt.equals("--random-fully") || r.kind != Rule.Kind.DNAT && r.kind != Rule.Kind.REDIRECT)) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    r.natFlags |= opt.equals("--random") ? org.modnet.api.netfilter.NfNat.RANDOM
                            : org.modnet.api.netfilter.NfNat.RANDOM_FULLY;
                }
                case "--ctstate", "--state" -> {
                    Matches.CtState m = opt.equals("--ctstate") ? ctstate : state;
                    if (m == null) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    String v = need(args, ++i, opt);
                    if (!m.parse(v)) {
                        throw syntax("Bad " + (m.state ? "state" : "ctstate") + " \"" + v + "\"");
                    }
                    m.inv = inv;
                }
                case "--mark" -> {
                    if (lastMark == null) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    if ((lastMark.equals("mark") ? mark : connmark) != null) {
                        throw syntaxBlank(lastMark + ": option \"--mark\" can only be used once.");
                    }
                    int[] pair = Targets.markPair(lastMark, "--mark", need(args, ++i, opt));
                    if (lastMark.equals("mark")) {
                        mark = pair;
                        markInv = inv;
                    } else {
                        connmark = pair;
                        connmarkInv = inv;
                    }
                }
                case "--src-type", "--dst-type" -> {
                    if (addrAt < 0) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    boolean src = opt.equals("--src-type");
                    if ((src ? srcType : dstType) != 0) {
                        throw syntaxBlank("addrtype: option \"" + opt + "\" can only be used once.");
                    }
                    int m = AddrType.parse(need(args, ++i, opt));
                    if (src) {
                        srcType = m;
                        srcTypeInv = inv;
                    } else {
                        dstType = m;
                        dstTypeInv = inv;
                    }
                }
                case "--limit", "--limit-burst" -> {
                    if (limitAt < 0) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    String v = need(args, ++i, opt);
                    if (opt.equals("--limit")) {
                        Matches.Limit.parseRate(v); // refused now, in libxt_limit's words
                        limitRate = v;
                    } else {
                        long bu = v.matches("[0-9]{1,9}") ? Long.parseLong(v) : -1;
                        if (bu < 0 || bu > 10000) {
                            throw syntaxBlank("limit: bad value for option \"--limit-burst\", or out of range (0-10000).");
                        }
                        limitBurst = (int) bu;
                    }
                }
                case "--hashlimit-upto", "--hashlimit-above", "--hashlimit-burst", "--hashlimit-mode", "--hashlimit-srcmask",
                        "--hashlimit-dstmask", "--hashlimit-name", "--hashlimit-htable-size", "--hashlimit-htable-max",
                        "--hashlimit-htable-expire", "--hashlimit-htable-gcinterval" -> {
                    if (hashlimit == null) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    String v = need(args, ++i, opt);
                    Hashlimit.Cfg h = hashlimit;
                    switch (opt) {
                        case "--hashlimit-upto", "--hashlimit-above" -> {
                            if (hashlimitRate != null) {
                                throw syntaxBlank("hashlimit: option \"" + hashlimitRate + "\" cannot be used together with \""
                                        + opt + "\".");
                            }
                            Hashlimit.parseRate(h, opt, v);
                            h.above = opt.equals("--hashlimit-above");
                            hashlimitRate = opt;
                        }
                        case "--hashlimit-burst" -> {
                            long bu = v.matches("[0-9]{1,9}") ? Long.parseLong(v) : -1;
                            if (bu < 1 || bu > 1_000_000) {
                                throw syntax("bad value for option \"--hashlimit-burst\", or out of range (1-1000000).");
                            }
                            h.burst = bu;
                        }
                        case "--hashlimit-mode" -> h.mode = Hashlimit.parseMode(opt, v);
                        case "--hashlimit-srcmask" -> h.srcmask = (int) Math.min(Hashlimit.u32(opt, v), 255);
                        case "--hashlimit-dstmask" -> h.dstmask = (int) Math.min(Hashlimit.u32(opt, v), 255);
                        case "--hashlimit-name" -> h.name = v;
                        case "--hashlimit-htable-size" -> h.size = Hashlimit.u32(opt, v);
                        case "--hashlimit-htable-max" -> h.max = Hashlimit.u32(opt, v);
                        case "--hashlimit-htable-expire" -> h.expire = Hashlimit.u32(opt, v);
                        default -> h.gcinterval = Hashlimit.u32(opt, v);
                    }
                }
                case "--match-set" -> {
                    if (setMatch == null || setMatch.name != null) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    if (i + 2 >= args.size() || args.get(i + 1).startsWith("-") || args.get(i + 2).startsWith("-")) {
                        throw syntax("--match-set requires two args.");
                    }
                    setMatch.name = args.get(++i);
                    setMatch.flags = args.get(++i);
                    int[] d = Matches.dirs(setMatch.flags);
                    setMatch.dim = d[0];
                    setMatch.srcFlags = d[1];
                    setMatch.inv = inv;
                    setMatch.set = ipset(table, setMatch.name);
                }
                case "--add-set", "--del-set", "--exist", "--timeout" -> {
                    if (r.kind != Rule.Kind.SET) {
                        throw syntax("unknown option \"" + a + "\"");
                    }
                    if (opt.equals("--exist") || opt.equals("--timeout")) {
                        if (r.addSet == null) {
                            throw syntax(opt.equals("--exist") ? "Flag `--exist' can be used with `--add-set' only"
                                    : "Option `--timeout' can be used with `--add-set' only");
                        }
                        if (opt.equals("--exist")) {
                            r.setExist = true;
                        } else {
                            long t = Targets.u32(need(args, ++i, opt));
                            if (t < 0) {
                                throw syntax("Invalid value for option --timeout or out of range 0-4294967295.");
                            }
                            r.setTimeout = (int) Math.min(t, Integer.MAX_VALUE);
                        }
                    } else {
                        if (i + 2 >= args.size() || args.get(i + 2).startsWith("-")) {
                            throw syntax(opt + " requires two args.");
                        }
                        Matches.Set ref = new Matches.Set();
                        ref.name = args.get(++i);
                        ref.flags = args.get(++i);
                        int[] d = Matches.dirs(ref.flags);
                        ref.dim = d[0];
                        ref.srcFlags = d[1];
                        ref.set = ipset(table, ref.name);
                        if (opt.equals("--add-set")) {
                            r.addSet = ref;
                        } else {
                            r.delSet = ref;
                        }
                    }
                }
                case "--log-prefix" -> {
                    String p = need(args, ++i, opt);
                    if (p.length() > 29) {
                        throw syntax("Maximum prefix length 29 for --log-prefix");
                    }
                    r.logPrefix = p;
                }
                case "--log-level" -> {
                    String l = need(args, ++i, opt);
                    int lv = List.of("emerg", "alert", "crit", "error", "warning", "notice", "info", "debug").indexOf(l);
                    if (lv < 0 && l.matches("[0-7]")) {
                        lv = Integer.parseInt(l);
                    }
                    if (lv < 0) {
                        throw syntax("log-level `" + l + "' unknown");
                    }
                    r.logLevel = lv;
                }
                default -> throw syntax("unknown option \"" + a + "\"");
            }
            inv = false;
        }
        if (c.cmd == 0) {
            throw syntax("no command specified");
        }
        if ((r.kind == Rule.Kind.REJECT) == false && r.rejectWith != null && !r.rejectWith.equals("icmp-port-unreachable")) {
            throw syntax("unknown option \"--reject-with\"");
        }
        if (r.kind == Rule.Kind.REJECT && r.rejectWith.equals("tcp-reset") && (r.proto != 6 || r.protoInv)) {
            // the kernel's checkentry refuses it (ipt_REJECT: "TCP_RESET invalid for non-tcp")
            throw fail("Invalid argument. Run `dmesg' for more information.");
        }
        if (ctstate != null && ctstate.mask == 0) {
            throw syntax("conntrack: At least one option is required");
        }
        if (state != null && state.mask == 0) {
            throw new CommandException(VERSION + "state: option \"--state\" must be specified\n\n" + TRY, 2);
        }
        checkNat(table, c, r);
        Targets.check(r, targetOpts);
        if (markAt >= 0) {
            if (mark == null) {
                throw syntaxBlank("mark: option \"--mark\" must be specified");
            }
            matches.set(markAt, new Matches.Mark(mark[0], mark[1], markInv));
        }
        if (connmarkAt >= 0) {
            if (connmark == null) {
                throw syntaxBlank("connmark: option \"--mark\" must be specified");
            }
            matches.set(connmarkAt, new Matches.Connmark(connmark[0], connmark[1], connmarkInv));
        }
        if (limitAt >= 0) {
            if (limitBurst == 0 && "ACIR".indexOf(c.cmd) >= 0) {
                throw fail("Numerical result out of range."); // xt_limit's checkentry: ERANGE
            }
            matches.set(limitAt, new Matches.Limit(Matches.Limit.parseRate(limitRate), limitBurst,
                    table != null ? table.clock : System::nanoTime));
        }
        for (Matches.Set sm : setMatches) {
            if (sm.name == null) {
                throw syntax("You must specify `--match-set' with proper arguments");
            }
        }
        if (r.kind == Rule.Kind.SET && r.addSet == null && r.delSet == null) {
            throw syntax("You must specify either `--add-set' or `--del-set' or `--map-set'");
        }
        if (hashlimitAt >= 0) {
            if (hashlimit.name == null) {
                throw syntaxBlank("hashlimit: option \"--hashlimit-name\" must be specified");
            }
            if (hashlimitRate == null) {
                throw syntax("You have to specify --hashlimit");
            }
            if (hashlimit.expire < 0) {
                hashlimit.expire = hashlimit.unit * 1000; // hashlimit_mt_check: the rate's unit, in ms
            }
            Hashlimit.Table ht = null;
            if ("AIR".indexOf(c.cmd) >= 0) {
                Hashlimit.check(hashlimit);
                ht = table != null ? table.hashlimits.get(hashlimit) : new Hashlimit.Registry(System::nanoTime).get(hashlimit);
            } else if (table != null) {
                ht = table.hashlimits.table(hashlimit.name);
            }
            matches.set(hashlimitAt, new Hashlimit.Match(hashlimit, ht));
        }
        if (addrAt >= 0) {
            if (srcType == 0 && dstType == 0) {
                throw syntax("addrtype: you must specify --src-type or --dst-type");
            }
            matches.set(addrAt, new AddrType.Match(srcType, dstType, srcTypeInv, dstTypeInv, table));
        }
        checkMangle(table, c, r, ports);
        r.matches = matches.toArray(new Match[0]);
        c.ruleGiven |= !matches.isEmpty();
        c.rule = r;
        if ("ACDIR".indexOf(c.cmd) >= 0 && c.chain != null) {
            if (r.in != null && (c.chain.equals("OUTPUT") || c.chain.equals("POSTROUTING"))) {
                throw new CommandException(VERSION + "Can't use -i with " + c.chain + "\n\n" + TRY, 2);
            }
            if (r.out != null && (c.chain.equals("INPUT") || c.chain.equals("PREROUTING"))) {
                throw new CommandException(VERSION + "Can't use -o with " + c.chain + "\n\n" + TRY, 2);
            }
        }
        return c;
    }

    /** libxt_set's get_set_byname: the set by its name, or iptables' words when the namespace has none. */
    private static org.modnet.api.netfilter.IpSet ipset(FilterTable table, String name) {
        org.modnet.api.netfilter.IpSet s = table != null ? table.sets.get(name) : null;
        if (s == null) {
            throw syntaxBlank("Set " + name + " doesn't exist.");
        }
        return s;
    }

    /**
     * What the kernel and libxt_*NAT check: NAT targets only in the nat table's chains their hook allows
     * (SNAT: POSTROUTING, INPUT; DNAT, REDIRECT: PREROUTING, OUTPUT; MASQUERADE: POSTROUTING), ports only
     * with a protocol that has them, and no DROP in the nat table.
     */
    private static void checkNat(FilterTable table, Cmd c, Rule r) {
        boolean nat = table != null && table.name.equals("nat");
        Rule.Kind k = r.kind;
        boolean natTarget = k == Rule.Kind.SNAT || k == Rule.Kind.DNAT || k == Rule.Kind.MASQUERADE || k == Rule.Kind.REDIRECT;
        if (nat && k == Rule.Kind.DROP) {
            throw new CommandException(VERSION + "\nThe \"nat\" table is not intended for filtering, the use of DROP is "
                    + "therefore inhibited.\n\n\n" + TRY, 2);
        }
        if (!natTarget || "ACIR".indexOf(c.cmd) < 0) {
            return;
        }
        if ((k == Rule.Kind.SNAT || k == Rule.Kind.DNAT) && r.natTo == null) {
            throw new CommandException(VERSION + k + ": option \"" + (k == Rule.Kind.SNAT ? "--to-source" : "--to-destination")
                    + "\" must be specified\n\n" + TRY, 2);
        }
        if (r.natMinPort != 0 && r.proto != 6 && r.proto != 17) {
            throw syntax("Need TCP, UDP, SCTP or DCCP with port specification");
        }
        String ch = c.chain;
        boolean ok = nat && switch (k) {
            case SNAT -> ch.equals("POSTROUTING") || ch.equals("INPUT") || !isBuiltin(table, ch);
            case MASQUERADE -> ch.equals("POSTROUTING") || !isBuiltin(table, ch);
            default -> ch.equals("PREROUTING") || ch.equals("OUTPUT") || !isBuiltin(table, ch);
        };
        if (!ok) {
            throw fail("Invalid argument. Run `dmesg' for more information.");
        }
    }

    /**
     * What the kernel's checkentry refuses (the answer is {@code Invalid argument}): NOTRACK and CT outside
     * the raw table; TOS, DSCP and TTL outside mangle; TCPMSS without {@code -p tcp} and a {@code --tcp-flags} match that requires SYN
     * (xt_TCPMSS's find_syn_match), and {@code --clamp-mss-to-pmtu} in a built-in chain that is not on
     * FORWARD, OUTPUT or POSTROUTING.
     */
    private static void checkMangle(FilterTable table, Cmd c, Rule r, Matches.Ports ports) {
        if ("ACIR".indexOf(c.cmd) < 0) {
            return;
        }
        String t = table == null ? "filter" : table.name;
        boolean bad = switch (r.kind) {
            case NOTRACK, CT -> !t.equals("raw");
            case TOS, DSCP, TTL -> !t.equals("mangle");
            case TCPMSS -> r.proto != 6 || r.protoInv || ports == null || !ports.flagSet || ports.flagInv
                    || (ports.flagCmp & 0x02) == 0
                    || r.mss == Targets.CLAMP_PMTU && table != null && isBuiltin(table, c.chain)
                            && !List.of("FORWARD", "OUTPUT", "POSTROUTING").contains(c.chain);
            default -> false;
        };
        if (bad) {
            throw fail("Invalid argument. Run `dmesg' for more information.");
        }
    }

    private static boolean isBuiltin(FilterTable t, String chain) {
        return Arrays.asList(t.builtin).contains(chain);
    }

    /** {@code ADDR[-ADDR][:PORT[-PORT]]}, as libxt_SNAT/DNAT parse it. */
    private static void natRange(Rule r, String v) {
        String a = v, ports = null;
        int colon = v.indexOf(':');
        if (colon >= 0) {
            a = v.substring(0, colon);
            ports = v.substring(colon + 1);
        }
        String[] ends = a.split("-", -1);
        try {
            r.natMinAddr = parseIp(ends[0]);
            r.natMaxAddr = ends.length > 1 ? parseIp(ends[1]) : r.natMinAddr;
            if (ends.length > 2) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw syntax("Bad IP address \"" + a + "\"");
        }
        if (ports != null) {
            int[] pr = natPorts(ports);
            r.natMinPort = pr[0];
            r.natMaxPort = pr[1];
        }
        r.natTo = v;
    }

    private static int[] natPorts(String v) {
        String[] p = v.split("-", -1);
        try {
            int lo = Integer.parseInt(p[0]);
            int hi = p.length > 1 ? Integer.parseInt(p[1]) : lo;
            if (p.length > 2 || lo < 1 || hi > 65535 || lo > hi) {
                throw new NumberFormatException();
            }
            return new int[] { lo, hi };
        } catch (NumberFormatException e) {
            throw syntax("Port \"" + v + "\" not valid");
        }
    }

    private static void setCmd(Cmd c, char ch) {
        if (c.cmd != 0 && c.cmd != ch) {
            throw syntax("Cannot use -" + c.cmd + " with -" + ch);
        }
        c.cmd = ch;
    }

    private static String need(List<String> args, int i, String opt) {
        if (i >= args.size()) {
            throw syntax("option \"" + opt + "\" requires an argument");
        }
        return args.get(i);
    }

    /** {@code -L|-S CHAIN RULENUM}: only that rule (iptables 1.8.9); the index of the last argument read. */
    private static int ruleNumber(Cmd c, List<String> args, int i) {
        if ((c.cmd == 'L' || c.cmd == 'S') && i + 1 < args.size() && args.get(i + 1).matches("[0-9]+")) {
            c.num = number(args.get(++i));
        }
        return i;
    }

    private static int number(String s) {
        try {
            int n = Integer.parseInt(s);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw syntax("Invalid rule number `" + s + "'");
        }
    }

    static int[] address(String s) {
        String a = s;
        int bits = 32;
        int slash = s.indexOf('/');
        try {
            if (slash >= 0) {
                a = s.substring(0, slash);
                String m = s.substring(slash + 1);
                if (m.contains(".")) {
                    int mask = parseIp(m);
                    bits = Integer.bitCount(mask);
                    if (mask != (bits == 0 ? 0 : -1 << (32 - bits))) {
                        throw syntax("host/network `" + s + "' not found");
                    }
                } else {
                    bits = Integer.parseInt(m);
                    if (bits < 0 || bits > 32) {
                        throw new IllegalArgumentException();
                    }
                }
            }
            int mask = bits == 0 ? 0 : -1 << (32 - bits);
            return new int[] { parseIp(a) & mask, mask };
        } catch (IllegalArgumentException e) {
            throw syntax("host/network `" + s + "' not found");
        }
    }

    private static int parseIp(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length != 4) {
            throw new IllegalArgumentException();
        }
        int v = 0;
        for (String x : p) {
            int o = Integer.parseInt(x);
            if (o < 0 || o > 255) {
                throw new IllegalArgumentException();
            }
            v = v << 8 | o;
        }
        return v;
    }

    static int[] portRange(String s, int proto) {
        int c = s.indexOf(':');
        if (c < 0) {
            int p = port(s, proto);
            return new int[] { p, p };
        }
        int lo = c == 0 ? 0 : port(s.substring(0, c), proto);
        int hi = c == s.length() - 1 ? 0xffff : port(s.substring(c + 1), proto);
        if (lo > hi) {
            return new int[] { hi, lo }; // iptables swaps a reversed range
        }
        return new int[] { lo, hi };
    }

    private static int port(String s, int proto) {
        int p = s.matches("[0-9]{1,5}") ? Integer.parseInt(s) : Names.serviceByName(s, proto);
        if (p < 0 || p > 0xffff) {
            throw syntax("invalid port/service `" + s + "' specified");
        }
        return p;
    }

    private static int tcpFlags(String s) {
        if (s.equals("ALL")) {
            return 0x3f;
        }
        if (s.equals("NONE")) {
            return 0;
        }
        int v = 0;
        for (String f : s.split(",")) {
            int k = Arrays.asList(Names.TCP_FLAGS).indexOf(f);
            if (k < 0 || k > 5) {
                throw syntax("Unknown TCP flag `" + f + "'");
            }
            v |= 1 << k;
        }
        return v;
    }

    private static void icmpType(Matches.Icmp m, String s) {
        for (Names.IcmpName n : Names.ICMP) {
            if (n.name().equals(s)) {
                m.type = n.type();
                m.codeMin = n.codeMin();
                m.codeMax = n.codeMax();
                return;
            }
        }
        try {
            String[] p = s.split("/");
            m.type = Integer.parseInt(p[0]);
            if (p.length > 1) {
                m.codeMin = m.codeMax = Integer.parseInt(p[1]);
            }
            if (m.type > 255 || m.codeMin > 255 || p.length > 2) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw syntax("Invalid ICMP type `" + s + "'");
        }
    }

    // ------------------------------------------------------------------ applying

    static FilterTable.Chain find(Map<String, FilterTable.Chain> b, TreeMap<String, FilterTable.Chain> u, String name) {
        FilterTable.Chain c = b.get(name);
        return c != null ? c : u.get(name);
    }

    private static FilterTable.Chain existing(Map<String, FilterTable.Chain> b, TreeMap<String, FilterTable.Chain> u,
            String name) {
        FilterTable.Chain c = find(b, u, name);
        if (c == null) {
            throw fail("No chain/target/match by that name.");
        }
        return c;
    }

    private static void checkTarget(Cmd c, Map<String, FilterTable.Chain> b, TreeMap<String, FilterTable.Chain> u) {
        Rule r = c.rule;
        if ((r.kind == Rule.Kind.JUMP || r.kind == Rule.Kind.GOTO) && !u.containsKey(r.target)) {
            throw new CommandException(VERSION + "Couldn't load target `" + r.target + "':No such file or directory\n\n" + TRY, 2);
        }
    }

    /** One number of {@code -c}: iptables reads it with sscanf's %llu. */
    private static long counter(String v, String what) {
        if (!v.matches("[0-9]{1,19}")) {
            throw syntax("-c " + what + " counter not numeric");
        }
        return Long.parseLong(v);
    }

    static void apply(Cmd c, Map<String, FilterTable.Chain> b, TreeMap<String, FilterTable.Chain> u, List<String> out) {
        if (c.counters != null && c.rule != null && "AIR".indexOf(c.cmd) >= 0) {
            c.rule.packets.set(c.counters[0]);
            c.rule.bytes.set(c.counters[1]);
        }
        switch (c.cmd) {
            case 'A', 'I', 'R', 'C' -> {
                FilterTable.Chain ch = existing(b, u, c.chain);
                checkTarget(c, b, u);
                String spec = c.rule.save();
                switch (c.cmd) {
                    case 'A' -> ch.rules.add(c.rule);
                    case 'I' -> {
                        int n = c.num < 0 ? 1 : c.num;
                        if (n > ch.rules.size() + 1) {
                            throw fail("Index of insertion too big.");
                        }
                        ch.rules.add(n - 1, c.rule);
                    }
                    case 'R' -> {
                        if (c.num > ch.rules.size()) {
                            throw fail("Index of replacement too big.");
                        }
                        ch.rules.set(c.num - 1, c.rule);
                    }
                    default -> {
                        if (ch.rules.stream().noneMatch(x -> x.save().equals(spec))) {
                            throw fail("Bad rule (does a matching rule exist in that chain?).");
                        }
                    }
                }
            }
            case 'D' -> {
                FilterTable.Chain ch = existing(b, u, c.chain);
                if (c.num > 0) {
                    if (c.num > ch.rules.size()) {
                        throw fail("Index of deletion too big.");
                    }
                    ch.rules.remove(c.num - 1);
                } else {
                    String spec = c.rule.save();
                    int k = -1;
                    for (int i = 0; i < ch.rules.size() && k < 0; i++) {
                        if (ch.rules.get(i).save().equals(spec)) {
                            k = i;
                        }
                    }
                    if (k < 0) {
                        throw fail("Bad rule (does a matching rule exist in that chain?).");
                    }
                    ch.rules.remove(k);
                }
            }
            case 'F' -> {
                for (FilterTable.Chain ch : selected(c, b, u)) {
                    ch.rules.clear();
                }
            }
            case 'Z' -> {
                for (FilterTable.Chain ch : selected(c, b, u)) {
                    ch.packets.set(0);
                    ch.bytes.set(0);
                    for (Rule r : ch.rules) {
                        r.packets.set(0);
                        r.bytes.set(0);
                    }
                }
                if (c.verbose || c.chain == null) {
                    // -Z alone prints nothing; -L -Z lists first (not in this slice)
                }
            }
            case 'N' -> {
                if (find(b, u, c.chain) != null) {
                    throw fail("Chain already exists.");
                }
                if (c.chain.length() > 28 || c.chain.startsWith("-") || c.chain.equals("!")) {
                    throw syntax("chain name `" + c.chain + "' too long (must be under 29 chars)");
                }
                u.put(c.chain, new FilterTable.Chain(c.chain, false));
            }
            case 'X' -> {
                List<String> names = c.chain == null ? new ArrayList<>(u.keySet()) : List.of(c.chain);
                for (String n : names) {
                    if (b.containsKey(n)) {
                        throw fail("Invalid argument. Run `dmesg' for more information.");
                    }
                    FilterTable.Chain ch = u.get(n);
                    if (ch == null) {
                        throw fail("No chain/target/match by that name.");
                    }
                    if (refs(b, u, n) > 0 && (c.chain != null || refsFromOutside(b, u, n, names))) {
                        throw fail("Too many links.");
                    }
                    if (!ch.rules.isEmpty() && c.chain != null) {
                        throw fail("Directory not empty.");
                    }
                }
                for (String n : names) {
                    u.remove(n);
                }
            }
            case 'E' -> {
                FilterTable.Chain ch = u.get(c.chain);
                if (ch == null) {
                    throw fail(b.containsKey(c.chain) ? "Invalid argument. Run `dmesg' for more information."
                            : "No chain/target/match by that name.");
                }
                if (find(b, u, c.chain2) != null) {
                    throw fail("File exists.");
                }
                FilterTable.Chain n = new FilterTable.Chain(c.chain2, false);
                n.rules = ch.rules;
                u.remove(c.chain);
                u.put(c.chain2, n);
                for (FilterTable.Chain x : chains(b, u)) {
                    for (int i = 0; i < x.rules.size(); i++) {
                        Rule r = x.rules.get(i);
                        if ((r.kind == Rule.Kind.JUMP || r.kind == Rule.Kind.GOTO) && r.target.equals(c.chain)) {
                            Rule r2 = r.withTargetChain(-1);
                            r2.target = c.chain2;
                            x.rules.set(i, r2);
                        }
                    }
                }
            }
            case 'P' -> {
                FilterTable.Chain ch = b.get(c.chain);
                if (ch == null) {
                    throw fail(u.containsKey(c.chain) ? "Bad built-in chain name." : "Bad built-in chain name.");
                }
                if (!c.policy.equals("ACCEPT") && !c.policy.equals("DROP")) {
                    throw fail("Bad policy name. Run `dmesg' for more information.");
                }
                ch.policy = Rule.Kind.valueOf(c.policy);
                if (c.counters != null) {
                    // a fresh pair, as iptables-restore's [P:B]: the old snapshot's packets keep counting on the old one
                    ch.packets = new java.util.concurrent.atomic.AtomicLong(c.counters[0]);
                    ch.bytes = new java.util.concurrent.atomic.AtomicLong(c.counters[1]);
                }
            }
            case 'L' -> list(c, b, u, out);
            case 'S' -> {
                if (c.num > 0) {
                    // one rule: no policy line, nothing when the chain has no such rule
                    FilterTable.Chain ch = existing(b, u, c.chain);
                    if (c.num <= ch.rules.size()) {
                        out.add("-A " + ch.name + ch.rules.get(c.num - 1).save(c.verbose));
                    }
                    break;
                }
                for (FilterTable.Chain ch : selected(c, b, u)) {
                    // -S -v: the counters as iptables-legacy prints them (-c PKTS BYTES), a policy's too
                    out.add(ch.builtin ? "-P " + ch.name + " " + ch.policy
                            + (c.verbose ? " -c " + ch.packets.get() + " " + ch.bytes.get() : "") : "-N " + ch.name);
                }
                for (FilterTable.Chain ch : selected(c, b, u)) {
                    for (Rule r : ch.rules) {
                        out.add("-A " + ch.name + r.save(c.verbose));
                    }
                }
            }
            default -> throw syntax("no command specified");
        }
    }

    private static boolean refsFromOutside(Map<String, FilterTable.Chain> b, TreeMap<String, FilterTable.Chain> u,
            String name, List<String> deleting) {
        for (FilterTable.Chain x : chains(b, u)) {
            if (deleting.contains(x.name)) {
                continue;
            }
            for (Rule r : x.rules) {
                if ((r.kind == Rule.Kind.JUMP || r.kind == Rule.Kind.GOTO) && r.target.equals(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    static int refs(Map<String, FilterTable.Chain> b, TreeMap<String, FilterTable.Chain> u, String name) {
        int n = 0;
        for (FilterTable.Chain x : chains(b, u)) {
            for (Rule r : x.rules) {
                if ((r.kind == Rule.Kind.JUMP || r.kind == Rule.Kind.GOTO) && r.target.equals(name)) {
                    n++;
                }
            }
        }
        return n;
    }

    static List<FilterTable.Chain> chains(Map<String, FilterTable.Chain> b, TreeMap<String, FilterTable.Chain> u) {
        List<FilterTable.Chain> l = new ArrayList<>(b.values()); // the table's built-ins, in its order
        l.addAll(u.values());
        return l;
    }

    private static List<FilterTable.Chain> selected(Cmd c, Map<String, FilterTable.Chain> b,
            TreeMap<String, FilterTable.Chain> u) {
        return c.chain == null ? chains(b, u) : List.of(existing(b, u, c.chain));
    }

    // ------------------------------------------------------------------ -L

    /** xtables_print_num: a counter, with K/M/G/T units unless -x. */
    static String num(long n, boolean exact, boolean table) {
        if (exact) {
            return table ? String.format("%8d ", n) : n + " ";
        }
        if (n <= 99999) {
            return table ? String.format("%5d ", n) : n + " ";
        }
        String[] units = { "K", "M", "G", "T" };
        n /= 1000;
        int k = 0;
        while (n > 9999 && k < 3) {
            n /= 1000;
            k++;
        }
        return table ? String.format("%4d%s ", n, units[k]) : n + units[k] + " ";
    }

    private static String pad(String s, int w) {
        return String.format("%-" + w + "s", s);
    }

    private static void list(Cmd c, Map<String, FilterTable.Chain> b, TreeMap<String, FilterTable.Chain> u,
            List<String> out) {
        if (c.num > 0) {
            // -L CHAIN N: that rule's line alone, without the chain's header
            FilterTable.Chain ch = existing(b, u, c.chain);
            if (c.num <= ch.rules.size()) {
                out.add(line(ch.rules.get(c.num - 1), c.num, c));
            }
            return;
        }
        boolean first = true;
        for (FilterTable.Chain ch : selected(c, b, u)) {
            if (!first) {
                out.add("");
            }
            first = false;
            StringBuilder h = new StringBuilder("Chain ").append(ch.name);
            if (ch.builtin) {
                h.append(" (policy ").append(ch.policy);
                if (c.verbose) {
                    h.append(' ').append(num(ch.packets.get(), c.exact, false)).append("packets, ")
                            .append(num(ch.bytes.get(), c.exact, false)).append("bytes");
                }
                h.append(')');
            } else {
                h.append(" (").append(refs(b, u, ch.name)).append(" references)");
            }
            out.add(h.toString());
            StringBuilder t = new StringBuilder();
            if (c.lineNumbers) {
                t.append("num  ");
            }
            if (c.verbose) {
                t.append(c.exact ? String.format("%8s %10s ", "pkts", "bytes") : String.format("%5s %5s ", "pkts", "bytes"));
            }
            t.append(pad("target", 9)).append(' ').append(" prot ").append("opt");
            if (c.verbose) {
                t.append(' ').append(pad("in", 6)).append(' ').append(pad("out", 6)).append(' ');
            }
            t.append(' ').append(pad("source", 19)).append(' ').append(' ').append(pad("destination", 19)).append(' ');
            out.add(t.toString());
            int n = 0;
            for (Rule r : ch.rules) {
                out.add(line(r, ++n, c));
            }
        }
    }

    static String line(Rule r, int n, Cmd c) {
        StringBuilder l = new StringBuilder();
        if (c.lineNumbers) {
            l.append(pad(Integer.toString(n), 4)).append(' ');
        }
        if (c.verbose) {
            l.append(num(r.packets.get(), c.exact, true)).append(num(r.bytes.get(), c.exact, true));
        }
        l.append(pad(r.targetName(), 9)).append(' ');
        l.append(r.protoInv ? '!' : ' ');
        String pn = Names.protoName(r.proto);
        l.append(pad(c.numeric || pn == null ? Integer.toString(r.proto) : pn, 5));
        l.append(r.fragInv ? '!' : '-').append(r.frag ? 'f' : '-').append(' ');
        if (c.verbose) {
            String in = r.in != null ? r.in : c.numeric ? "*" : "any";
            String ou = r.out != null ? r.out : c.numeric ? "*" : "any";
            l.append(' ').append(pad((r.inInv ? "!" : "") + in, 6)).append(' ');
            l.append(pad((r.outInv ? "!" : "") + ou, 6)).append(' ');
        }
        l.append(r.srcInv ? '!' : ' ').append(pad(Rule.listAddr(r.src, r.srcMask, c.numeric), 19)).append(' ');
        l.append(r.dstInv ? '!' : ' ').append(pad(Rule.listAddr(r.dst, r.dstMask, c.numeric), 19)).append(' ');
        if (r.kind == Rule.Kind.GOTO) {
            l.append("[goto] ");
        }
        for (Match m : r.matches) {
            m.list(l, c.numeric);
        }
        r.listTarget(l, c.numeric);
        return l.toString();
    }

    // ------------------------------------------------------------------ save / restore

    static final DateTimeFormatter CTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ROOT);

    /** iptables-save [-c]: the table in iptables-restore's format. */
    static List<String> save(FilterTable table, boolean counters, ZonedDateTime now) {
        List<String> out = new ArrayList<>();
        String date = CTIME.format(now);
        out.add("# Generated by iptables-save v1.8.9 on " + date);
        out.add("*" + table.name);
        List<FilterTable.Chain> chains = table.chains();
        for (FilterTable.Chain ch : chains) {
            out.add(":" + ch.name + " " + (ch.builtin ? ch.policy.name() : "-") + " ["
                    + (ch.builtin ? ch.packets.get() : 0) + ":" + (ch.builtin ? ch.bytes.get() : 0) + "]");
        }
        for (FilterTable.Chain ch : chains) {
            for (Rule r : ch.rules) {
                out.add((counters ? "[" + r.packets.get() + ":" + r.bytes.get() + "] " : "") + "-A " + ch.name + r.save());
            }
        }
        out.add("COMMIT");
        out.add("# Completed on " + date);
        return out;
    }

    /** iptables-restore [--noflush]: the whole input applied at once at COMMIT, or nothing. */
    static void restore(FilterTable table, List<String> lines, boolean noflush) {
        restore(name -> name.equals(table.name) ? table : null, lines, noflush);
    }

    /** iptables-restore over several tables: each COMMIT replaces one table whole. */
    static void restore(java.util.function.Function<String, FilterTable> tables, List<String> lines, boolean noflush) {
        restore(tables, lines, noflush, false);
    }

    /** {@code [packets:bytes]} as iptables-save -c writes it, or null when the text is not that. */
    private static long[] counters(String s) {
        int colon = s.indexOf(':');
        if (!s.startsWith("[") || !s.endsWith("]") || colon < 0) {
            return null;
        }
        try {
            long p = Long.parseLong(s.substring(1, colon));
            long b = Long.parseLong(s.substring(colon + 1, s.length() - 1));
            return p < 0 || b < 0 ? null : new long[] { p, b };
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * iptables-restore [-c] [--noflush]: with {@code counters} (-c, --counters) the {@code [packets:bytes]}
     * before a rule and after a built-in chain's policy are set on the rule and the policy, as
     * {@code iptables-save -c | iptables-restore -c} moves a table with its counts.
     */
    static void restore(java.util.function.Function<String, FilterTable> tables, List<String> lines, boolean noflush,
            boolean counters) {
        List<Object[]> pending = new ArrayList<>();
        FilterTable table = null;
        List<FilterTable> commitTables = new ArrayList<>();
        boolean inTable = false;
        int lineNo = 0;
        List<List<Object[]>> commits = new ArrayList<>();
        for (String raw : lines) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            final int ln = lineNo;
            if (line.startsWith("*")) {
                table = tables.apply(line.substring(1));
                if (table == null) {
                    throw new CommandException("iptables-restore: unable to initialize table '" + line.substring(1)
                            + "'\n\nError occurred at line: " + ln + "\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.", 1);
                }
                inTable = true;
                pending = new ArrayList<>();
            } else if (!inTable) {
                throw new CommandException("iptables-restore: line " + ln + " failed", 1);
            } else if (line.equals("COMMIT")) {
                commits.add(pending);
                commitTables.add(table);
                inTable = false;
            } else if (line.startsWith(":")) {
                String[] p = line.substring(1).split("\\s+");
                if (p.length < 2) {
                    throw new CommandException("iptables-restore: line " + ln + " failed", 1);
                }
                long[] n = counters && p.length > 2 ? counters(p[2]) : null;
                if (counters && p.length > 2 && n == null) {
                    throw new CommandException("iptables-restore: line " + ln + " failed", 1);
                }
                pending.add(new Object[] { ln, "chain", p[0], p[1], n });
            } else {
                String l = line;
                long[] n = null;
                if (l.startsWith("[")) {
                    int end = l.indexOf(']');
                    n = counters(l.substring(0, end + 1));
                    if (end < 0 || n == null) {
                        throw new CommandException("iptables-restore: Bad parameter: " + line, 1);
                    }
                    l = l.substring(end + 1).strip(); // without -c the counts are read and left
                    if (!counters) {
                        n = null;
                    }
                }
                pending.add(new Object[] { ln, "rule", l, n });
            }
        }
        if (inTable) {
            throw new CommandException("iptables-restore: COMMIT expected at line " + (lineNo + 1), 1);
        }
        for (int k = 0; k < commits.size(); k++) {
            List<Object[]> ops = commits.get(k);
            FilterTable t = commitTables.get(k);
            t.change((b, u) -> {
                if (!noflush) {
                    u.clear();
                    for (FilterTable.Chain c : b.values()) {
                        c.rules.clear();
                    }
                }
                for (Object[] op : ops) {
                    int ln = (Integer) op[0];
                    try {
                        if (op[1].equals("chain")) {
                            String name = (String) op[2];
                            String pol = (String) op[3];
                            FilterTable.Chain c = b.get(name);
                            if (c != null) {
                                if (!pol.equals("ACCEPT") && !pol.equals("DROP")) {
                                    throw new CommandException("x", 1);
                                }
                                c.policy = Rule.Kind.valueOf(pol);
                                if (op[4] instanceof long[] n) {
                                    // a fresh pair: the old snapshot's packets keep counting on the old one
                                    c.packets = new java.util.concurrent.atomic.AtomicLong(n[0]);
                                    c.bytes = new java.util.concurrent.atomic.AtomicLong(n[1]);
                                }
                            } else if (u.containsKey(name)) {
                                u.get(name).rules.clear();
                            } else {
                                u.put(name, new FilterTable.Chain(name, false));
                            }
                        } else {
                            Cmd c = parse(t, Restore.split((String) op[2]));
                            apply(c, b, u, new ArrayList<>());
                            if (op[3] instanceof long[] n && c.rule != null && (c.cmd == 'A' || c.cmd == 'I')) {
                                c.rule.packets.set(n[0]);
                                c.rule.bytes.set(n[1]);
                            }
                        }
                    } catch (CommandException e) {
                        throw new CommandException("iptables-restore: line " + ln + " failed", 1);
                    }
                }
            });
        }
    }
}

package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.modnet.api.inet.FibRule;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/**
 * {@code ip rule [list [SELECTOR]] | add|del SELECTOR ACTION | flush}: the routing policy database, as
 * iproute2's {@code iprule.c} reads and prints it, over the IPv4 {@link RouteTable}'s rules.
 */
final class IpRule {
    static final String USAGE = """
            Usage: ip rule { add | del } SELECTOR ACTION
                   ip rule { flush | save | restore }
                   ip rule [ list [ SELECTOR ]]
            SELECTOR := [ not ] [ from PREFIX ] [ to PREFIX ] [ tos TOS ]
                        [ fwmark FWMARK[/MASK] ]
                        [ iif STRING ] [ oif STRING ] [ pref NUMBER ] [ l3mdev ]
                        [ uidrange NUMBER-NUMBER ]
                        [ ipproto PROTOCOL ]
                        [ sport [ NUMBER | NUMBER-NUMBER ]
                        [ dport [ NUMBER | NUMBER-NUMBER ] ]
            ACTION := [ table TABLE_ID ]
                      [ protocol PROTO ]
                      [ nat ADDRESS ]
                      [ realms [SRCREALM/]DSTREALM ]
                      [ goto NUMBER ]
                      SUPPRESSOR
            SUPPRESSOR := [ suppress_prefixlength NUMBER ]
                          [ suppress_ifgroup DEVGROUP ]
            TABLE_ID := [ local | main | default | NUMBER ]""";

    /** IP protocol names as {@code /etc/protocols} gives them to iproute2's {@code inet_proto_a2n}. */
    private static final Map<String, Integer> PROTOCOLS = Map.ofEntries(Map.entry("ip", 0), Map.entry("icmp", 1),
            Map.entry("igmp", 2), Map.entry("tcp", 6), Map.entry("udp", 17), Map.entry("ipv6", 41), Map.entry("gre", 47),
            Map.entry("esp", 50), Map.entry("ah", 51), Map.entry("ipv6-icmp", 58), Map.entry("ospf", 89), Map.entry("sctp", 132),
            Map.entry("udplite", 136));

    private final Invocation inv;
    private final NetNamespace ns;
    private final IpCommand.Options options;

    IpRule(Invocation inv, NetNamespace ns, IpCommand.Options options) {
        this.inv = inv;
        this.ns = ns;
        this.options = options;
    }

    private RouteTable table() {
        if (inv.routes() == null) {
            throw new CommandException("ip rule: IPv4 (org.modnet.ipv4) is not running", Iproute.FAILED);
        }
        return inv.routes();
    }

    void run(List<String> words) {
        Args args = new Args(words);
        String cmd = args.more() ? args.next() : "list";
        if (matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst")) {
            list(selector(args, false));
        } else if (matches(cmd, "add")) {
            add(args);
        } else if (matches(cmd, "delete")) {
            if (!args.more()) {
                throw new CommandException("\"ip rule del\" requires arguments.", Iproute.FAILED);
            }
            try {
                table().deleteRule(ns, selector(args, true));
            } catch (NetException e) {
                throw Iproute.rtnl(e);
            }
        } else if (matches(cmd, "flush")) {
            flush();
        } else if (matches(cmd, "save") || matches(cmd, "restore")) {
            throw new CommandException("ip rule " + cmd + ": not available in modnet (its binary format is netlink's)", Iproute.SYNTAX);
        } else if (matches(cmd, "help")) {
            throw new CommandException(USAGE, Iproute.SYNTAX);
        } else {
            throw Iproute.unknownCommand(cmd, "rule");
        }
    }

    private void add(Args args) {
        FibRule r = selector(args, true);
        if (r.action() == null) {
            // iprule_modify: without an action the rule looks up a table, main when none is named
            r = with(r, "table", r.table() < 0 ? FibRule.MAIN : r.table());
        }
        try {
            table().addRule(ns, r);
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
    }

    /** {@code ip rule flush}: every rule but those at priority 0 goes (main and default too, as Linux's). */
    private void flush() {
        for (FibRule r : table().rules(ns)) {
            if (r.priority() != 0) {
                try {
                    table().deleteRule(ns, r);
                } catch (NetException e) {
                    // gone meanwhile
                }
            }
        }
    }

    private static FibRule with(FibRule r, String action, long table) {
        return new FibRule(r.priority(), r.not(), r.src(), r.srcLen(), r.dst(), r.dstLen(), r.iif(), r.oif(), r.fwmark(), r.fwmask(),
                r.tos(), r.ipproto(), r.sportLo(), r.sportHi(), r.dportLo(), r.dportHi(), action, table, r.gotoPriority(),
                r.suppressPrefixlen());
    }

    /**
     * The selector and action words of {@code iprule_modify} (for add and del) or the filter of
     * {@code iprule_list} (which reads an unknown word as a prefix): a rule with "not given" where a
     * word was not.
     */
    private FibRule selector(Args args, boolean modify) {
        long pref = -1;
        boolean not = false;
        int[] from = { 0, 0 };
        int[] to = { 0, 0 };
        String iif = null;
        String oif = null;
        long mark = -1;
        long mask = -1;
        int tos = 0;
        int proto = 0;
        int[] sport = { 0, 0 };
        int[] dport = { 0, 0 };
        String action = null;
        long tableId = -1;
        long target = -1;
        int suppress = -1;
        while (args.more()) {
            String w = args.next();
            switch (w) {
                case "not" -> not = true;
                case "from" -> from = prefix(args.value(Iproute::incomplete), modify);
                case "to" -> to = prefix(args.value(Iproute::incomplete), modify);
                case "preference", "order", "priority", "pref", "prio" -> {
                    String v = args.value(Iproute::incomplete);
                    Long p = u32(v);
                    if (p == null) {
                        throw Iproute.invarg("preference value is invalid\n", v);
                    }
                    pref = p;
                }
                case "tos", "dsfield" -> {
                    String v = args.value(Iproute::incomplete);
                    tos = dsfield(v);
                }
                case "fwmark" -> {
                    String v = args.value(Iproute::incomplete);
                    int slash = v.indexOf('/');
                    Long m = u32(slash < 0 ? v : v.substring(0, slash));
                    if (m == null) {
                        throw Iproute.invarg("fwmark value is invalid\n", slash < 0 ? v : v.substring(0, slash));
                    }
                    mark = m;
                    if (slash >= 0) {
                        Long k = u32(v.substring(slash + 1));
                        if (k == null) {
                            throw Iproute.invarg("fwmask value is invalid\n", v.substring(slash + 1));
                        }
                        mask = k;
                    }
                }
                case "table", "lookup" -> {
                    String v = args.value(Iproute::incomplete);
                    Long t = RtTables.parse(v);
                    if (t == null) {
                        throw Iproute.invarg("invalid table ID\n", v);
                    }
                    tableId = t;
                    if (modify && action == null) {
                        action = "table";
                    }
                }
                case "suppress_prefixlength", "sup_pl" -> {
                    String v = args.value(Iproute::incomplete);
                    Integer n = Iproute.parseInt(v);
                    if (n == null) {
                        throw Iproute.invarg("suppress_prefixlength value is invalid\n", v);
                    }
                    suppress = n;
                }
                case "dev", "iif" -> {
                    iif = args.value(Iproute::incomplete);
                    if (!Iproute.validIfName(iif)) {
                        throw Iproute.invarg("\"iif\"/\"dev\" not a valid ifname", iif);
                    }
                }
                case "oif" -> {
                    oif = args.value(Iproute::incomplete);
                    if (!Iproute.validIfName(oif)) {
                        throw Iproute.invarg("\"oif\" not a valid ifname", oif);
                    }
                }
                case "ipproto" -> {
                    String v = args.value(Iproute::incomplete);
                    Integer p = PROTOCOLS.get(v);
                    if (p == null && v.matches("[0-9]{1,3}") && Integer.parseInt(v) < 256) {
                        p = Integer.parseInt(v);
                    }
                    if (p == null) {
                        throw Iproute.invarg("Invalid \"ipproto\" value\n", v);
                    }
                    proto = p;
                }
                case "sport" -> sport = ports(args.value(Iproute::incomplete));
                case "dport" -> dport = ports(args.value(Iproute::incomplete));
                case "goto" -> {
                    String v = args.value(Iproute::incomplete);
                    Long t = u32(v);
                    if (t == null) {
                        throw Iproute.invarg("invalid target\n", v);
                    }
                    target = t;
                    action = "goto";
                }
                case "nop" -> action = "nop";
                case "realms", "uidrange", "tun_id", "l3mdev", "protocol", "proto", "nat", "map-to", "suppress_ifgroup", "sup_group" ->
                    throw new CommandException("ip rule: \"" + w + "\" is not supported by modnet", Iproute.SYNTAX);
                default -> {
                    if (matches(w, "help")) {
                        throw new CommandException(USAGE, Iproute.SYNTAX);
                    }
                    if (!modify) {
                        from = prefix(w, false); // iprule_list: a bare word is the "from" prefix
                    } else if (w.equals("blackhole") || w.equals("unreachable") || w.equals("prohibit")) {
                        action = w;
                    } else if (w.equals("unicast")) {
                        action = "table";
                    } else {
                        throw Iproute.invarg("Failed to parse rule type", w);
                    }
                }
            }
        }
        return new FibRule(pref, not, from[0], from[1], to[0], to[1], iif, oif, mark, mask, tos, proto, sport[0], sport[1], dport[0],
                dport[1], action, tableId, target, suppress);
    }

    /** {@code get_prefix}: {@code all}/{@code default} for any, else ADDR[/LEN]; exit 1 with iproute2's words. */
    private static int[] prefix(String w, boolean modify) {
        if (w.equals("all") || w.equals("default") || w.equals("any")) {
            return new int[] { 0, 0 };
        }
        Ipv4.Prefix p = Ipv4.parsePrefix(w);
        if (p == null) {
            throw new CommandException("Error: " + (modify ? "any valid" : "inet") + " prefix is expected rather than \"" + w + "\".",
                    Iproute.FAILED);
        }
        return new int[] { (int) Ipv4.bits(p.address()), p.length() };
    }

    /** {@code get_u32(.., 0)}: decimal, 0x hex or 0 octal, 0 .. 2^32-1; null if not. */
    static Long u32(String s) {
        try {
            long v;
            if (s.startsWith("0x") || s.startsWith("0X")) {
                v = Long.parseLong(s.substring(2), 16);
            } else if (s.length() > 1 && s.startsWith("0")) {
                v = Long.parseLong(s.substring(1), 8);
            } else {
                v = Long.parseLong(s);
            }
            return v < 0 || v > 0xffffffffL || s.startsWith("+") ? null : v;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {@code rtnl_dsfield_a2n}: a hexadecimal number (with or without 0x) up to 0xff. */
    private static int dsfield(String v) {
        try {
            int t = Integer.parseInt(v.startsWith("0x") || v.startsWith("0X") ? v.substring(2) : v, 16);
            if (t >= 0 && t <= 0xff) {
                return t;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw Iproute.invarg("TOS value is invalid\n", v);
    }

    /** {@code parse_rule_port_range}: N or N-M, read as C's sscanf "%hu-%hu" reads them (16 bits each). */
    private static int[] ports(String v) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(?:-(\\d+))?.*").matcher(v);
        if (!m.matches()) {
            throw Iproute.invarg("invalid port range\n", v);
        }
        int lo = (int) (Long.parseLong(m.group(1).length() > 9 ? m.group(1).substring(m.group(1).length() - 9) : m.group(1)) & 0xffff);
        int hi = m.group(2) == null ? lo : (int) (Long.parseLong(m.group(2).length() > 9 ? m.group(2).substring(m.group(2).length() - 9)
                : m.group(2)) & 0xffff);
        return new int[] { lo, hi };
    }

    private void list(FibRule filter) {
        List<FibRule> all = table().rules(ns);
        List<Object> json = options.json() ? new ArrayList<>() : null;
        for (FibRule r : all) {
            if (!shown(filter, r)) {
                continue;
            }
            boolean unresolved = r.action().equals("goto") && all.stream().noneMatch(o -> o.priority() == r.gotoPriority());
            if (json != null) {
                json.add(json(r, unresolved));
            } else {
                inv.out().println(format(r, unresolved));
            }
        }
        if (json != null) {
            inv.out().print(Json.render(json, options.pretty()));
        }
    }

    /** {@code filter_nlmsg} of {@code iprule_list}: each selector given must equal the rule's. */
    private static boolean shown(FibRule f, FibRule r) {
        return (!f.not() || r.not()) && (f.priority() < 0 || f.priority() == r.priority())
                && (f.table() < 0 || f.table() == r.table())
                // a prefix selects the rules whose own prefix lies inside it (as long or longer)
                && (f.srcLen() == 0 || r.srcLen() >= f.srcLen() && sameNet(f.src(), r.src(), f.srcLen()))
                && (f.dstLen() == 0 || r.dstLen() >= f.dstLen() && sameNet(f.dst(), r.dst(), f.dstLen()))
                && (f.fwmark() < 0 || f.fwmark() == r.fwmark()) && (f.fwmask() < 0 || f.fwmask() == r.fwmask())
                && (f.iif() == null || f.iif().equals(r.iif())) && (f.oif() == null || f.oif().equals(r.oif()))
                && (f.tos() == 0 || f.tos() == r.tos()) && (f.ipproto() == 0 || f.ipproto() == r.ipproto())
                && (f.sportLo() == 0 || f.sportLo() == r.sportLo() && f.sportHi() == r.sportHi())
                && (f.dportLo() == 0 || f.dportLo() == r.dportLo() && f.dportHi() == r.dportHi());
    }

    private static boolean sameNet(int a, int b, int len) {
        int m = len == 0 ? 0 : -1 << (32 - len);
        return (a & m) == (b & m);
    }

    private static String address(int addr, int len) {
        return Ipv4Addresses.format(addr) + (len == 32 ? "" : "/" + len);
    }

    private static String protocol(int p) {
        for (Map.Entry<String, Integer> e : PROTOCOLS.entrySet()) {
            if (e.getValue() == p && !e.getKey().equals("ip")) {
                return e.getKey();
            }
        }
        return "ipproto-" + p; // inet_proto_n2a without a name
    }

    private static String range(int lo, int hi) {
        return lo == hi ? Integer.toString(lo) : lo + "-" + hi;
    }

    /** A rule as {@code ip rule list} prints it ({@code print_rule}). */
    String format(FibRule r, boolean unresolved) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.priority()).append(":\t");
        if (r.not()) {
            sb.append("not ");
        }
        sb.append("from ").append(r.srcLen() == 0 ? "all" : address(r.src(), r.srcLen()));
        if (r.dstLen() != 0) {
            sb.append(" to ").append(address(r.dst(), r.dstLen()));
        }
        if (r.tos() != 0) {
            sb.append(String.format(" tos 0x%02x", r.tos()));
        }
        if (r.fwmark() >= 0) {
            sb.append(String.format(" fwmark 0x%x", r.fwmark()));
            if (r.fwmask() != 0xffffffffL) {
                sb.append(String.format("/0x%x", r.fwmask()));
            }
        }
        if (r.iif() != null) {
            sb.append(" iif ").append(r.iif()).append(ns.device(r.iif()) == null ? " [detached]" : "");
        }
        if (r.oif() != null) {
            sb.append(" oif ").append(r.oif()).append(ns.device(r.oif()) == null ? " [detached]" : "");
        }
        if (r.ipproto() != 0) {
            sb.append(" ipproto ").append(protocol(r.ipproto()));
        }
        if (r.sportLo() != 0) {
            sb.append(" sport ").append(range(r.sportLo(), r.sportHi()));
        }
        if (r.dportLo() != 0) {
            sb.append(" dport ").append(range(r.dportLo(), r.dportHi()));
        }
        switch (r.action()) {
            case "table" -> {
                sb.append(" lookup ").append(RtTables.name(r.table()));
                if (r.suppressPrefixlen() >= 0) {
                    sb.append(" suppress_prefixlength ").append(r.suppressPrefixlen());
                }
            }
            case "goto" -> sb.append(" goto ").append(r.gotoPriority()).append(unresolved ? " [unresolved]" : "");
            default -> sb.append(' ').append(r.action());
        }
        return sb.toString();
    }

    /** A rule as {@code ip -j rule list} prints it: the text's fields under iproute2's JSON names. */
    Map<String, Object> json(FibRule r, boolean unresolved) {
        Map<String, Object> o = Json.object();
        o.put("priority", r.priority());
        if (r.not()) {
            o.put("not", null);
        }
        if (r.srcLen() == 0) {
            o.put("src", "all");
        } else {
            o.put("src", Ipv4Addresses.format(r.src()));
            if (r.srcLen() != 32) {
                o.put("srclen", r.srcLen());
            }
        }
        if (r.dstLen() != 0) {
            o.put("dst", Ipv4Addresses.format(r.dst()));
            if (r.dstLen() != 32) {
                o.put("dstlen", r.dstLen());
            }
        }
        if (r.tos() != 0) {
            o.put("tos", String.format("0x%02x", r.tos()));
        }
        if (r.fwmark() >= 0) {
            o.put("fwmark", String.format("0x%x", r.fwmark()));
            if (r.fwmask() != 0xffffffffL) {
                o.put("fwmask", String.format("0x%x", r.fwmask()));
            }
        }
        if (r.iif() != null) {
            o.put("iif", r.iif());
            if (ns.device(r.iif()) == null) {
                o.put("iif_detached", null);
            }
        }
        if (r.oif() != null) {
            o.put("oif", r.oif());
            if (ns.device(r.oif()) == null) {
                o.put("oif_detached", null);
            }
        }
        if (r.ipproto() != 0) {
            o.put("ipproto", protocol(r.ipproto()));
        }
        ports(o, "sport", r.sportLo(), r.sportHi());
        ports(o, "dport", r.dportLo(), r.dportHi());
        switch (r.action()) {
            case "table" -> {
                o.put("table", RtTables.name(r.table()));
                if (r.suppressPrefixlen() >= 0) {
                    o.put("suppress_prefixlen", r.suppressPrefixlen());
                }
            }
            case "goto" -> {
                o.put("goto", r.gotoPriority());
                if (unresolved) {
                    o.put("unresolved", null);
                }
            }
            case "nop" -> o.put("nop", null);
            default -> o.put("action", r.action());
        }
        return o;
    }

    private static void ports(Map<String, Object> o, String key, int lo, int hi) {
        if (lo == 0) {
            return;
        }
        if (lo == hi) {
            o.put(key, lo);
        } else {
            o.put(key + "_start", lo);
            o.put(key + "_end", hi);
        }
    }
}

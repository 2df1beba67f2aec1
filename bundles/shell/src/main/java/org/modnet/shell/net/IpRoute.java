package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.util.List;

import org.modnet.api.inet.FibRule;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/**
 * {@code ip route [show] | add|replace ROUTE | del PREFIX | get ADDRESS}, iproute2's {@code iproute.c}
 * over the IPv4 {@link RouteTable} of the namespace.
 */
final class IpRoute {
    private final Invocation inv;
    private final NetNamespace ns;
    private final IpCommand.Options options;

    IpRoute(Invocation inv, NetNamespace ns) {
        this(inv, ns, new IpCommand.Options(0, false, false, false, null));
    }

    IpRoute(Invocation inv, NetNamespace ns, IpCommand.Options options) {
        this.inv = inv;
        this.ns = ns;
        this.options = options;
    }

    private RouteTable table() {
        if (inv.routes() == null) {
            throw new CommandException("ip route: IPv4 (org.modnet.ipv4) is not running", Iproute.FAILED);
        }
        return inv.routes();
    }

    void run(List<String> words) {
        Args args = new Args(words);
        String cmd = args.more() ? args.next() : "show";
        if (matches(cmd, "show") || matches(cmd, "list")) {
            show(args);
        } else if (matches(cmd, "add") || matches(cmd, "replace") || cmd.equals("change")) {
            add(args, !cmd.startsWith("a"));
        } else if (matches(cmd, "delete")) {
            delete(args);
        } else if (matches(cmd, "get")) {
            get(args);
        } else if (matches(cmd, "flush")) {
            flush(args);
        } else if (matches(cmd, "help")) {
            throw new CommandException("Usage: ip route { list | add | replace | del | get } ...", Iproute.SYNTAX);
        } else {
            throw Iproute.unknownCommand(cmd, "route");
        }
    }

    /**
     * {@code ip route flush [table main|all] [dev DEV] [proto P] [[root|match] PREFIX]}: every route of the
     * main table that the selectors match goes; without a selector iproute2 refuses, status 1.
     */
    private void flush(Args args) {
        if (!args.more()) {
            throw new CommandException("\"ip route flush\" requires arguments.", 1);
        }
        if (args.peek().equals("cache")) {
            args.next();
            table().flushCache(ns); // the routing cache is gone since Linux 3.6: what is left is the PMTU exceptions
            return;
        }
        NetDevice dev = null;
        String proto = null;
        int prefix = 0;
        int len = -1;
        long tableId = FibRule.MAIN;
        while (args.more()) {
            String w = args.next();
            switch (w) {
                case "table" -> tableId = tableId(args.value(Iproute::incomplete), "table id value is invalid\n");
                case "dev", "oif" -> {
                    String name = args.value(Iproute::incomplete);
                    dev = ns.device(name);
                    if (dev == null) {
                        throw Iproute.cannotFind(name);
                    }
                }
                case "proto", "protocol" -> proto = args.value(Iproute::incomplete);
                default -> {
                    String p = w.equals("root") || w.equals("match") || w.equals("exact") ? args.value(Iproute::incomplete) : w;
                    int[] pl = prefix(p);
                    prefix = pl[0];
                    len = pl[1];
                }
            }
        }
        List<Long> ids = tableId == 0 ? table().tables(ns) : List.of(tableId);
        for (long id : ids) {
            List<RouteEntry> routes;
            try {
                routes = id == FibRule.MAIN ? LocalTable.main(table().routes(ns)) : table().routes(ns, id);
            } catch (NetException e) {
                throw new CommandException("Error: " + e.getMessage() + ".\nFlush terminated", Iproute.KERNEL);
            }
            for (RouteEntry r : routes) {
                if (dev != null && r.dev() != dev || proto != null && !proto.equals(r.protocol())
                        || len >= 0 && (r.len() < len || (r.prefix() & mask(len)) != (prefix & mask(len)))) {
                    continue; // "PREFIX" as iproute2's default "root": the prefix and routes inside it
                }
                try {
                    table().delete(ns, id, r.prefix(), r.len(), r.metric());
                } catch (NetException e) {
                    // gone meanwhile
                }
            }
        }
    }

    /** A table by name or number; {@code ip route}'s words for neither ({@code msg} differs by subcommand). */
    private static long tableId(String w, String msg) {
        // listing and flushing take "all" for 0 (RT_TABLE_UNSPEC: every table); add and del do not
        Long id = w.equals("all") && msg.startsWith("table id") ? Long.valueOf(0) : RtTables.parse(w);
        if (id == null) {
            throw Iproute.invarg(msg, w);
        }
        return id;
    }

    /**
     * {@code ip route show [table main|local|all|ID] [[to] [exact|root|match] PREFIX] [dev DEV] [proto P]
     * [scope S] [type T]}: iproute2's {@code iproute_list} — a selector's field is left out of each line
     * (every route shown has it), a prefix alone is {@code exact}; {@code table all} gives main then
     * local, each local route marked {@code table local}.
     */
    private void show(Args args) {
        String table = "main";
        String devName = null;
        String proto = null;
        String scope = null;
        String type = null;
        String how = "exact";
        int[] to = null;
        while (args.more()) {
            String w = args.next();
            switch (w) {
                case "table" -> table = args.value(Iproute::incomplete);
                case "dev", "oif" -> devName = args.value(Iproute::incomplete);
                case "proto", "protocol" -> proto = args.value(Iproute::incomplete);
                case "scope" -> scope = args.value(Iproute::incomplete);
                case "type" -> type = args.value(Iproute::incomplete);
                case "to" -> {
                    continue;
                }
                case "exact", "root", "match" -> {
                    how = w;
                    to = prefix(args.value(Iproute::incomplete));
                }
                default -> {
                    if (ROUTE_TYPES.contains(w)) {
                        type = w;
                    } else {
                        to = prefix(w);
                    }
                }
            }
        }
        NetDevice dev = null;
        if (devName != null) {
            dev = ns.device(devName);
            if (dev == null) {
                throw Iproute.cannotFind(devName);
            }
        }
        long tableId = tableId(table, "table id value is invalid\n");
        // iproute2 dumps every table (table all, 0) in the kernel's hash order: by the id's low byte
        List<Long> ids = new java.util.ArrayList<>(tableId == 0 ? table().tables(ns) : List.of(tableId));
        if (tableId == 0 && !ids.contains(FibRule.LOCAL)) {
            ids.add(FibRule.LOCAL);
        }
        ids.sort(java.util.Comparator.comparingLong((Long id) -> id & 0xff).thenComparingLong(id -> id));
        Shown hide = new Shown(dev != null, proto != null, scope != null);
        List<Object> json = options.json() ? new java.util.ArrayList<>() : null;
        for (long id : ids) {
            List<RouteEntry> list;
            try {
                list = tableRoutes(id);
            } catch (NetException e) {
                throw new CommandException("Error: " + e.getMessage() + ".\nDump terminated", Iproute.KERNEL);
            }
            String marker = tableId == 0 && id != FibRule.MAIN ? RtTables.name(id) : null;
            for (RouteEntry r : list) {
                if (dev != null && r.dev() != dev || proto != null && !proto.equals(r.protocol())
                        || scope != null && !scope.equals(r.scope()) || type != null && !type.equals(r.type())
                        || to != null && !selected(r, how, to)) {
                    continue;
                }
                if (json != null) {
                    json.add(json(r, hide, marker));
                } else {
                    inv.out().println(format(r, hide, marker));
                }
            }
        }
        if (json != null) {
            inv.out().print(Json.render(json, options.pretty()));
        }
    }

    /**
     * The routes of one table as Linux lists them: main without the loopback's prefix route, local as
     * modnet's own addresses make it (and any route added to it by hand).
     */
    private List<RouteEntry> tableRoutes(long id) throws NetException {
        if (id == FibRule.MAIN) {
            return LocalTable.main(table().routes(ns));
        }
        if (id == FibRule.LOCAL) {
            List<RouteEntry> local = new java.util.ArrayList<>(LocalTable.local(ns));
            local.addAll(table().routes(ns, id));
            return local;
        }
        return table().routes(ns, id);
    }

    /** The route types {@code ip route} takes as a word. */
    private static final java.util.Set<String> ROUTE_TYPES = java.util.Set.of("unicast", "local", "broadcast", "blackhole",
            "unreachable", "prohibit", "multicast", "anycast", "throw", "nat");

    /** {@code exact}: that prefix; {@code root}: it and the routes inside it; {@code match}: the routes that contain it. */
    private static boolean selected(RouteEntry r, String how, int[] to) {
        return switch (how) {
            case "root" -> r.len() >= to[1] && (r.prefix() & mask(to[1])) == (to[0] & mask(to[1]));
            case "match" -> r.len() <= to[1] && (to[0] & mask(r.len())) == r.prefix();
            default -> r.len() == to[1] && r.prefix() == (to[0] & mask(to[1]));
        };
    }

    /** The fields a selector fixed, left out of the lines as iproute2 leaves them. */
    record Shown(boolean dev, boolean proto, boolean scope) {
        static final Shown ALL = new Shown(false, false, false);
    }

    /** A route as {@code ip route show} prints it. */
    static String format(RouteEntry r) {
        return format(r, Shown.ALL, null);
    }

    /** A route of another table than main, marked {@code table NAME}, as {@code ip monitor} prints it. */
    static String format(RouteEntry r, String tableName) {
        return format(r, Shown.ALL, tableName);
    }

    private static String format(RouteEntry r, Shown hide, String tableName) {
        StringBuilder sb = new StringBuilder();
        if (!r.type().equals("unicast")) {
            sb.append(r.type()).append(' ');
        }
        sb.append(r.len() == 0 ? "default" : org.modnet.api.inet.Ipv4Addresses.format(r.prefix()) + (r.len() == 32 ? "" : "/" + r.len()));
        if (r.gateway() != 0) {
            sb.append(" via ").append(org.modnet.api.inet.Ipv4Addresses.format(r.gateway()));
        }
        if (r.dev() != null && !hide.dev()) {
            sb.append(" dev ").append(r.dev().name());
        }
        if (tableName != null) {
            sb.append(" table ").append(tableName);
        }
        if (!r.protocol().equals("boot") && !hide.proto()) {
            sb.append(" proto ").append(r.protocol());
        }
        if (!r.scope().equals("global") && !hide.scope()) {
            sb.append(" scope ").append(r.scope());
        }
        if (r.src() != 0) {
            sb.append(" src ").append(org.modnet.api.inet.Ipv4Addresses.format(r.src()));
        }
        if (r.metric() != 0) {
            sb.append(" metric ").append(r.metric());
        }
        if ((r.features() & RouteEntry.RTAX_FEATURE_ECN) != 0) {
            sb.append(" features ecn"); // print_rta_metrics' RTAX_FEATURES
        }
        return sb.toString();
    }

    /** A route as {@code ip -j route} prints it: the text's fields by their JSON names, and {@code flags}. */
    static java.util.Map<String, Object> json(RouteEntry r) {
        return json(r, Shown.ALL, null);
    }

    private static java.util.Map<String, Object> json(RouteEntry r, Shown hide, String tableName) {
        java.util.Map<String, Object> o = Json.object();
        if (!r.type().equals("unicast")) {
            o.put("type", r.type());
        }
        o.put("dst", r.len() == 0 ? "default" : org.modnet.api.inet.Ipv4Addresses.format(r.prefix()) + (r.len() == 32 ? "" : "/" + r.len()));
        if (r.gateway() != 0) {
            o.put("gateway", org.modnet.api.inet.Ipv4Addresses.format(r.gateway()));
        }
        if (r.dev() != null && !hide.dev()) {
            o.put("dev", r.dev().name());
        }
        if (tableName != null) {
            o.put("table", tableName);
        }
        if (!r.protocol().equals("boot") && !hide.proto()) {
            o.put("protocol", r.protocol());
        }
        if (!r.scope().equals("global") && !hide.scope()) {
            o.put("scope", r.scope());
        }
        if (r.src() != 0) {
            o.put("prefsrc", org.modnet.api.inet.Ipv4Addresses.format(r.src()));
        }
        if (r.metric() != 0) {
            o.put("metric", r.metric());
        }
        o.put("flags", List.of()); // RTNH_F_*: none of them (onlink, dead, linkdown) is set by modnet
        if ((r.features() & RouteEntry.RTAX_FEATURE_ECN) != 0) {
            java.util.Map<String, Object> metrics = Json.object();
            metrics.put("ecn", null); // iproute2's print_rtax_features: "metrics":[{"ecn":null}]
            o.put("metrics", List.of(metrics));
        }
        return o;
    }

    private void add(Args args, boolean replace) {
        String type = "unicast";
        int prefix = -1;
        int len = -1;
        int via = 0;
        int src = 0;
        int metric = 0;
        NetDevice dev = null;
        String proto = "boot";
        String scope = null;
        int features = 0;
        long tableId = FibRule.MAIN;
        while (args.more()) {
            String w = args.next();
            switch (w) {
                case "unicast", "blackhole", "unreachable", "prohibit", "throw" -> type = w;
                case "features" -> {
                    String f = args.value(Iproute::incomplete);
                    if (!f.equals("ecn")) {
                        throw Iproute.invarg("\"features\" value not valid\n", f);
                    }
                    features |= RouteEntry.RTAX_FEATURE_ECN;
                }
                case "via" -> via = address(args.value(Iproute::incomplete), "via");
                case "dev", "oif" -> {
                    String name = args.value(Iproute::incomplete);
                    dev = ns.device(name);
                    if (dev == null) {
                        throw Iproute.cannotFind(name);
                    }
                }
                case "src" -> src = address(args.value(Iproute::incomplete), "src");
                case "metric", "preference", "priority" -> {
                    Integer m = Iproute.parseInt(args.value(Iproute::incomplete));
                    if (m == null || m < 0) {
                        throw Iproute.invarg("\"metric\" value is invalid\n", w);
                    }
                    metric = m;
                }
                case "proto", "protocol" -> proto = args.value(Iproute::incomplete);
                case "scope" -> scope = args.value(Iproute::incomplete);
                case "table" -> tableId = tableId(args.value(Iproute::incomplete), "\"table\" value is invalid\n");
                default -> {
                    if (prefix >= 0) {
                        throw Iproute.duparg2("to", w);
                    }
                    int[] p = prefix(w);
                    prefix = p[0];
                    len = p[1];
                }
            }
        }
        if (prefix < 0) {
            throw Iproute.incomplete();
        }
        if (type.equals("unicast") && dev == null) {
            dev = onLinkDevice(via);
            if (dev == null) {
                throw new CommandException(via == 0 ? "Error: Device for nexthop is not up." : "Error: Nexthop has invalid gateway.",
                        Iproute.KERNEL);
            }
        }
        if (scope == null) {
            scope = type.equals("unicast") && via == 0 ? "link" : "global";
        }
        try {
            table().add(ns, tableId, new RouteEntry(type, prefix, len, via, type.equals("unicast") ? dev : null, src, metric, proto, scope, features),
                    replace);
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
    }

    /** The device whose connected network holds the gateway ({@code fib_check_nh}). */
    private NetDevice onLinkDevice(int gateway) {
        if (gateway == 0) {
            return null;
        }
        for (RouteEntry r : table().routes(ns)) {
            if (r.gateway() == 0 && r.dev() != null && r.len() > 0 && (gateway & mask(r.len())) == r.prefix()) {
                return r.dev();
            }
        }
        return null;
    }

    private void delete(Args args) {
        int prefix = -1;
        int len = -1;
        int metric = -1;
        String type = null;
        long tableId = FibRule.MAIN;
        while (args.more()) {
            String w = args.next();
            if (prefix < 0 && (w.equals("unicast") || w.equals("blackhole") || w.equals("unreachable") || w.equals("prohibit")
                    || w.equals("throw"))) {
                type = w; // ip route del TYPE PREFIX: only a route of that type
            } else if (w.equals("metric") || w.equals("preference") || w.equals("priority")) {
                Integer m = Iproute.parseInt(args.value(Iproute::incomplete));
                if (m == null || m < 0) {
                    throw Iproute.invarg("\"metric\" value is invalid\n", w);
                }
                metric = m;
            } else if (w.equals("table")) {
                tableId = tableId(args.value(Iproute::incomplete), "\"table\" value is invalid\n");
            } else if (w.equals("dev") || w.equals("via") || w.equals("proto") || w.equals("scope")) {
                args.value(Iproute::incomplete); // selectors Linux also accepts; the prefix decides here
            } else {
                int[] p = prefix(w);
                prefix = p[0];
                len = p[1];
            }
        }
        if (prefix < 0) {
            throw Iproute.incomplete();
        }
        if (type != null) {
            RouteEntry match = null;
            List<RouteEntry> routes;
            try {
                routes = table().routes(ns, tableId);
            } catch (NetException e) {
                routes = List.of();
            }
            for (RouteEntry r : routes) {
                if (r.prefix() == (prefix & mask(len)) && r.len() == len && r.type().equals(type) && (metric < 0 || r.metric() == metric)) {
                    match = r;
                    break;
                }
            }
            if (match == null) {
                throw Iproute.rtnl(new NetException(org.modnet.api.net.Errno.ESRCH));
            }
            metric = match.metric();
        }
        try {
            table().delete(ns, tableId, prefix, len, metric);
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
    }

    /**
     * {@code ip route get ADDRESS [from A] [iif DEV] [oif DEV] [mark M] [tos T] [ipproto P] [sport N]
     * [dport N]}: the route a packet with those keys would take through the rules, printed as
     * iproute2 prints the kernel's answer ({@code from} in place of {@code src} when a source is
     * given, {@code table} when not main, {@code cache iif DEV} for an input route).
     */
    private void get(Args args) {
        if (!args.more()) {
            throw Iproute.incomplete();
        }
        int address = -1;
        boolean haveAddress = false;
        int from = 0;
        NetDevice iif = null;
        NetDevice oif = null;
        long mark = 0;
        int tos = 0;
        int protocol = 0;
        int sport = 0;
        int dport = 0;
        while (args.more()) {
            String w = args.next();
            switch (w) {
                case "from" -> from = address(args.value(Iproute::incomplete), "from");
                case "iif" -> iif = device(args.value(Iproute::incomplete));
                case "oif", "dev" -> oif = device(args.value(Iproute::incomplete));
                case "mark" -> {
                    String v = args.value(Iproute::incomplete);
                    Long m = IpRule.u32(v);
                    if (m == null) {
                        throw Iproute.invarg("invalid mark value\n", v);
                    }
                    mark = m;
                }
                case "tos", "dsfield" -> {
                    String v = args.value(Iproute::incomplete);
                    try {
                        tos = Integer.parseInt(v.startsWith("0x") ? v.substring(2) : v, 16);
                    } catch (NumberFormatException e) {
                        throw Iproute.invarg("TOS value is invalid\n", v);
                    }
                }
                case "ipproto" -> {
                    String v = args.value(Iproute::incomplete);
                    protocol = switch (v) {
                        case "tcp" -> 6;
                        case "udp" -> 17;
                        case "icmp" -> 1;
                        case "sctp" -> 132;
                        default -> {
                            Integer n = Iproute.parseInt(v);
                            if (n == null || n < 0 || n > 255) {
                                throw Iproute.invarg("Invalid \"ipproto\" value\n", v);
                            }
                            yield n;
                        }
                    };
                }
                case "sport", "dport" -> {
                    String v = args.value(Iproute::incomplete);
                    Integer n = Iproute.parseInt(v);
                    if (n == null || n < 0 || n > 65535) {
                        throw Iproute.invarg("invalid " + w + "\n", v);
                    }
                    if (w.equals("sport")) {
                        sport = n;
                    } else {
                        dport = n;
                    }
                }
                case "to" -> {
                    address = address(args.value(Iproute::incomplete), "to");
                    haveAddress = true;
                }
                default -> {
                    if (haveAddress) {
                        throw Iproute.duparg2("to", w);
                    }
                    address = address(w, "to");
                    haveAddress = true;
                }
            }
        }
        if (!haveAddress) {
            throw Iproute.incomplete();
        }
        RouteTable.Decision d;
        try {
            d = table().get(ns, address, new RouteTable.Flow(from, iif, oif, (int) mark, tos, protocol, sport, dport));
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
        RouteEntry r = d.route();
        boolean local = r.type().equals("local");
        String fmt = org.modnet.api.inet.Ipv4Addresses.format(address);
        java.util.Map<String, Object> o = Json.object();
        StringBuilder sb = new StringBuilder();
        if (local) {
            sb.append("local ");
            o.put("type", "local");
        }
        sb.append(fmt);
        o.put("dst", fmt);
        if (from != 0) {
            sb.append(" from ").append(org.modnet.api.inet.Ipv4Addresses.format(from));
            o.put("from", org.modnet.api.inet.Ipv4Addresses.format(from));
        }
        if (d.nextHop() != address) {
            sb.append(" via ").append(org.modnet.api.inet.Ipv4Addresses.format(d.nextHop()));
            o.put("gateway", org.modnet.api.inet.Ipv4Addresses.format(d.nextHop()));
        }
        sb.append(" dev ").append(r.dev().name());
        o.put("dev", r.dev().name());
        if (d.table() != FibRule.MAIN) {
            sb.append(" table ").append(RtTables.name(d.table()));
            o.put("table", RtTables.name(d.table()));
        }
        if (iif == null) {
            if (from == 0 && d.src() != 0) {
                sb.append(" src ").append(org.modnet.api.inet.Ipv4Addresses.format(d.src())); // rt_fill_info: prefsrc when no source was asked
                o.put("prefsrc", org.modnet.api.inet.Ipv4Addresses.format(d.src()));
            }
            o.put("flags", List.of());
            if (mark != 0) {
                sb.append(mark >= 16 ? String.format(" mark 0x%x", mark) : " mark " + mark); // print_route: hex from 16 on
                o.put("mark", mark);
            }
            sb.append(" uid 0");
            o.put("uid", 0);
        } else {
            o.put("flags", List.of());
        }
        RouteTable.PmtuException ex = local ? null : table().exception(ns, address);
        // the cached route carries the route's metrics: Linux's `ip route get` shows "features ecn" on the cache line
        boolean ecn = (r.features() & RouteEntry.RTAX_FEATURE_ECN) != 0;
        if (options.json()) {
            o.put("cache", List.of());
            if (ecn) {
                java.util.Map<String, Object> metrics = Json.object();
                metrics.put("ecn", null);
                o.put("metrics", List.of(metrics));
            }
            inv.out().print(Json.render(List.of(o), options.pretty()));
            return;
        }
        inv.out().println(sb);
        String features = ecn ? " features ecn" : "";
        if (ex != null) {
            // iproute2 prints the exception's expiry and its metrics, "lock" before a locked one
            inv.out().println("    cache expires " + ex.expiresSec() + "sec mtu " + (ex.locked() ? "lock " : "") + ex.mtu()
                    + features + (iif != null ? " iif " + iif.name() : ""));
        } else {
            inv.out().println((local ? "    cache <local>" : "    cache") + features + (iif != null ? " iif " + iif.name() : ""));
        }
    }

    private NetDevice device(String name) {
        NetDevice d = ns.device(name);
        if (d == null) {
            throw Iproute.cannotFind(name);
        }
        return d;
    }

    /** {@code default}, {@code ADDR} (a /32) or {@code ADDR/PLEN}: the prefix and its length. */
    private static int[] prefix(String w) {
        if (w.equals("default") || w.equals("0/0")) {
            return new int[] { 0, 0 };
        }
        Ipv4.Prefix p = Ipv4.parsePrefix(w);
        if (p == null) {
            throw Iproute.invarg("invalid prefix", w);
        }
        return new int[] { (int) Ipv4.bits(p.address()), p.prefixGiven() ? p.length() : 32 };
    }

    private static int address(String text, String what) {
        long bits = Ipv4.parseBits(text);
        if (bits < 0) {
            throw Iproute.invarg("invalid address", text);
        }
        return (int) bits;
    }

    private static int mask(int len) {
        return len == 0 ? 0 : -1 << (32 - len);
    }

}

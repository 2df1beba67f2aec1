package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.util.List;
import java.util.Locale;

import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/**
 * {@code ip neigh [show] [dev DEV] | add|replace ADDR lladdr MAC dev DEV [nud STATE] | del ADDR dev DEV
 * | flush dev DEV|all}, iproute2's {@code ipneigh.c} over the ARP table of the namespace.
 */
final class IpNeigh {
    private final Invocation inv;
    private final NetNamespace ns;
    private final int stats;
    private final IpCommand.Options options;

    IpNeigh(Invocation inv, NetNamespace ns, int stats) {
        this(inv, ns, new IpCommand.Options(stats, false, false, false, null));
    }

    IpNeigh(Invocation inv, NetNamespace ns, IpCommand.Options options) {
        this.inv = inv;
        this.ns = ns;
        this.stats = options.stats();
        this.options = options;
    }

    private NeighbourTable table() {
        if (inv.neighbours() == null) {
            throw new CommandException("ip neigh: ARP (org.modnet.ethernet) is not running", Iproute.FAILED);
        }
        return inv.neighbours();
    }

    void run(List<String> words) {
        Args args = new Args(words);
        String cmd = args.more() ? args.next() : "show";
        if (matches(cmd, "show") || matches(cmd, "list")) {
            showFiltered(args);
        } else if (matches(cmd, "add") || matches(cmd, "replace") || cmd.equals("change")) {
            add(args, !cmd.startsWith("a"));
        } else if (matches(cmd, "delete")) {
            delete(args);
        } else if (matches(cmd, "flush")) {
            if (args.more() && args.peek().equals("all")) {
                args.next();
                table().flush(ns, null);
                return;
            }
            NetDevice dev = device(args);
            if (dev == null) {
                throw new CommandException("Flush requires arguments.", Iproute.SYNTAX);
            }
            table().flush(ns, dev);
        } else if (matches(cmd, "help")) {
            throw new CommandException("Usage: ip neigh { add | del | replace } ADDR [ lladdr LLADDR ] [ nud STATE ] dev DEV\n"
                    + "       ip neigh { show | flush } [ dev DEV ]", Iproute.SYNTAX);
        } else {
            throw Iproute.unknownCommand(cmd, "neigh");
        }
    }

    /** {@code [dev] DEV} if given, else null. */
    private NetDevice device(Args args) {
        NetDevice dev = null;
        while (args.more()) {
            String w = args.next();
            String name = w.equals("dev") ? args.value(Iproute::incomplete) : w;
            dev = ns.device(name);
            if (dev == null) {
                throw Iproute.cannotFind(name);
            }
        }
        return dev;
    }

    /**
     * {@code ip neigh show [[to] PREFIX] [dev DEV] [nud STATE]...}: iproute2's filters; several
     * {@code nud} add up, {@code nud all} is every state; without one every entry shows.
     */
    private void showFiltered(Args args) {
        NetDevice only = null;
        int prefix = 0;
        int prefixLen = 0;
        java.util.EnumSet<NudState> states = null;
        while (args.more()) {
            String w = args.next();
            switch (w) {
                case "dev" -> {
                    String name = args.value(Iproute::incomplete);
                    only = ns.device(name);
                    if (only == null) {
                        throw Iproute.cannotFind(name);
                    }
                }
                case "nud" -> {
                    String st = args.value(Iproute::incomplete);
                    if (states == null) {
                        states = java.util.EnumSet.noneOf(NudState.class);
                    }
                    if (st.equals("all")) {
                        states.addAll(java.util.EnumSet.allOf(NudState.class));
                    } else {
                        try {
                            states.add(NudState.valueOf(st.toUpperCase(Locale.ROOT)));
                        } catch (IllegalArgumentException e) {
                            throw Iproute.invarg("nud state is bad", st);
                        }
                    }
                }
                default -> {
                    String p = w.equals("to") ? args.value(Iproute::incomplete) : w;
                    int slash = p.indexOf('/');
                    long a = org.modnet.api.inet.Ipv4Addresses.parse(slash < 0 ? p : p.substring(0, slash));
                    if (a < 0) {
                        throw Iproute.invarg("to value is invalid", p);
                    }
                    prefix = (int) a;
                    try {
                        prefixLen = slash < 0 ? 32 : Integer.parseInt(p.substring(slash + 1));
                    } catch (NumberFormatException e) {
                        throw Iproute.invarg("to value is invalid", p);
                    }
                    if (prefixLen < 0 || prefixLen > 32) {
                        throw Iproute.invarg("to value is invalid", p);
                    }
                }
            }
        }
        show(only, prefix, prefixLen, states);
    }

    private void show(NetDevice only, int prefix, int prefixLen, java.util.Set<NudState> states) {
        int mask = prefixLen == 0 ? 0 : -1 << (32 - prefixLen);
        List<Object> json = options.json() ? new java.util.ArrayList<>() : null;
        for (Neighbour n : table().entries(ns)) {
            if (only != null && n.dev() != only) {
                continue;
            }
            if ((n.address() & mask) != (prefix & mask) || states != null && !states.contains(n.state())) {
                continue;
            }
            if (json != null) {
                json.add(json(n, only == null));
                continue;
            }
            StringBuilder sb = new StringBuilder(org.modnet.api.inet.Ipv4Addresses.format(n.address()));
            if (only == null) {
                sb.append(" dev ").append(n.dev().name());
            }
            if (n.lladdr() != null && n.state() != NudState.INCOMPLETE && n.state() != NudState.FAILED) {
                sb.append(" lladdr ").append(n.lladdr());
            }
            if (stats > 0) {
                if (n.refcnt() != 0) {
                    sb.append(" ref ").append(n.refcnt()); // print_cacheinfo: ndm_refcnt only when not 0
                }
                sb.append(" used ").append(n.usedMs() / 1000).append('/').append(n.confirmedMs() / 1000).append('/')
                        .append(n.updatedMs() / 1000).append(" probes ").append(n.probes());
            }
            sb.append(' ').append(n.state());
            inv.out().println(sb);
        }
        if (json != null) {
            inv.out().print(Json.render(json, options.pretty()));
        }
    }

    /** An entry as {@code ip -j neigh} prints it; with {@code -s} the times in seconds and the probes. */
    private java.util.Map<String, Object> json(Neighbour n, boolean withDev) {
        java.util.Map<String, Object> o = Json.object();
        o.put("dst", org.modnet.api.inet.Ipv4Addresses.format(n.address()));
        if (withDev) {
            o.put("dev", n.dev().name());
        }
        if (n.lladdr() != null && n.state() != NudState.INCOMPLETE && n.state() != NudState.FAILED) {
            o.put("lladdr", n.lladdr().toString());
        }
        if (stats > 0) {
            if (n.refcnt() != 0) {
                o.put("refcnt", n.refcnt());
            }
            o.put("used", n.usedMs() / 1000);
            o.put("confirmed", n.confirmedMs() / 1000);
            o.put("updated", n.updatedMs() / 1000);
            o.put("probes", n.probes());
        }
        o.put("state", List.of(n.state().toString()));
        return o;
    }

    private void add(Args args, boolean replace) {
        int address = -1;
        boolean addressSeen = false;
        MacAddress lladdr = null;
        NetDevice dev = null;
        NudState nud = NudState.PERMANENT;
        while (args.more()) {
            String w = args.next();
            switch (w) {
                case "lladdr" -> {
                    String mac = args.value(Iproute::incomplete);
                    try {
                        lladdr = MacAddress.parse(mac);
                    } catch (IllegalArgumentException e) {
                        throw new CommandException("\"" + mac + "\" is invalid lladdr.", Iproute.SYNTAX);
                    }
                }
                case "dev" -> {
                    String name = args.value(Iproute::incomplete);
                    dev = ns.device(name);
                    if (dev == null) {
                        throw Iproute.cannotFind(name);
                    }
                }
                case "nud" -> {
                    String s = args.value(Iproute::incomplete);
                    try {
                        nud = NudState.valueOf(s.toUpperCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                        throw Iproute.invarg("nud state is bad", s);
                    }
                }
                default -> {
                    long bits = Ipv4.parseBits(w);
                    if (bits < 0 || addressSeen) {
                        throw Iproute.invarg("invalid address", w);
                    }
                    address = (int) bits;
                    addressSeen = true;
                }
            }
        }
        if (!addressSeen || dev == null) {
            throw new CommandException("Device and destination are required arguments.", Iproute.SYNTAX);
        }
        if (lladdr == null) {
            throw new CommandException("Error: lladdr is required for a neighbour entry in modnet.", Iproute.SYNTAX);
        }
        try {
            table().add(dev, address, lladdr, nud, replace);
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
    }

    private void delete(Args args) {
        int address = -1;
        boolean addressSeen = false;
        NetDevice dev = null;
        while (args.more()) {
            String w = args.next();
            if (w.equals("dev")) {
                String name = args.value(Iproute::incomplete);
                dev = ns.device(name);
                if (dev == null) {
                    throw Iproute.cannotFind(name);
                }
            } else {
                long bits = Ipv4.parseBits(w);
                if (bits < 0) {
                    throw Iproute.invarg("invalid address", w);
                }
                address = (int) bits;
                addressSeen = true;
            }
        }
        if (!addressSeen || dev == null) {
            throw new CommandException("Device and destination are required arguments.", Iproute.SYNTAX);
        }
        try {
            table().delete(dev, address);
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
    }
}

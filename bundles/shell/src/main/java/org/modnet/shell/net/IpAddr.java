package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/** {@code ip address}: show, add, delete and flush IPv4 addresses, as iproute2's {@code ip/ipaddress.c}. */
final class IpAddr {
    static final String USAGE = """
            Usage: ip address {add|change|replace} IFADDR dev IFNAME [ LIFETIME ]
                                                                  [ CONFFLAG-LIST ]
                   ip address del IFADDR dev IFNAME
                   ip address flush dev IFNAME
                   ip address [ show [ dev IFNAME ] [ up ] ]
            IFADDR := PREFIX [ broadcast ADDR ] [ label IFNAME ] [ scope SCOPE-ID ]
            SCOPE-ID := [ host | link | global ]""";

    private final Invocation inv;
    private final IpCommand.Options options;
    private final NetNamespace ns;

    IpAddr(Invocation inv, IpCommand.Options options, NetNamespace ns) {
        this.inv = inv;
        this.options = options;
        this.ns = ns;
    }

    void run(List<String> words) {
        if (words.isEmpty()) {
            show(List.of());
            return;
        }
        String cmd = words.get(0);
        List<String> rest = words.subList(1, words.size());
        if (matches(cmd, "add")) {
            modify(rest, true);
        } else if (matches(cmd, "delete")) {
            modify(rest, false);
        } else if (matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst")) {
            show(rest);
        } else if (matches(cmd, "flush")) {
            flush(rest);
        } else if (matches(cmd, "help")) {
            throw new CommandException(USAGE, Iproute.SYNTAX);
        } else if (matches(cmd, "change") || matches(cmd, "replace") || matches(cmd, "save")
                || matches(cmd, "restore") || matches(cmd, "showdump")) {
            throw new CommandException("ip address " + cmd + ": not supported by modnet", Iproute.SYNTAX);
        } else {
            throw Iproute.unknownCommand(cmd, "addr");
        }
    }

    // --- show and flush ---

    /** {@code [dev] IFNAME} and {@code up}, what show and flush select by. */
    private record Filter(String dev, boolean upOnly) {
    }

    private static Filter filter(List<String> words) {
        Args args = new Args(words);
        String dev = null;
        boolean up = false;
        while (args.more()) {
            String w = args.next();
            if (w.equals("up")) {
                up = true;
            } else {
                if (w.equals("dev")) {
                    w = args.value(Iproute::incomplete);
                } else if (matches(w, "help")) {
                    throw new CommandException(USAGE, Iproute.SYNTAX);
                }
                if (dev != null) {
                    throw Iproute.duparg2("dev", w);
                }
                dev = w;
            }
        }
        return new Filter(dev, up);
    }

    private List<NetDevice> devices(Filter f) {
        List<NetDevice> all;
        if (f.dev() != null) {
            NetDevice d = ns.device(f.dev());
            if (d == null) {
                throw Iproute.doesNotExist(f.dev());
            }
            all = List.of(d);
        } else {
            all = ns.devices();
        }
        return f.upOnly() ? all.stream().filter(NetDevice::isUp).toList() : all;
    }

    private void show(List<String> words) {
        List<Object> json = options.json() ? new java.util.ArrayList<>() : null;
        for (NetDevice d : devices(filter(words))) {
            List<IfAddress> addresses = d.addresses();
            if (json != null) {
                java.util.Map<String, Object> o;
                if (options.brief()) {
                    o = Json.object();
                    LinkFormat.link(o, d, ns);
                    o.put("ifname", d.name());
                    o.put("operstate", d.operState());
                } else {
                    o = LinkFormat.json(d, ns, false, options.stats(), options.details());
                }
                List<Object> info = new java.util.ArrayList<>();
                for (int i = 0; i < addresses.size(); i++) {
                    info.add(addressJson(d, addresses, i, options.brief()));
                }
                o.put("addr_info", info);
                json.add(o);
            } else if (options.brief()) {
                StringBuilder b = new StringBuilder(String.format("%-16s %-14s ", LinkFormat.nameAndLink(d, ns),
                        d.operState()));
                for (IfAddress a : addresses) {
                    b.append(a.address().getHostAddress()).append('/').append(a.prefixLen()).append(' ');
                }
                inv.out().println(b);
            } else if (options.oneline()) {
                for (int i = 0; i < addresses.size(); i++) {
                    inv.out().println(d.ifindex() + ": " + d.name() + String.join("\\", addressLines(d, addresses, i)));
                }
            } else {
                inv.out().println(LinkFormat.header(d, ns, false));
                if (options.details()) {
                    String[] more = LinkFormat.details(d);
                    inv.out().println(LinkFormat.linkLine(d, ns) + more[0]);
                    if (more[1] != null) {
                        inv.out().println(more[1]);
                    }
                } else {
                    inv.out().println(LinkFormat.linkLine(d, ns));
                }
                for (int i = 0; i < addresses.size(); i++) {
                    addressLines(d, addresses, i).forEach(inv.out()::println);
                }
            }
        }
        if (json != null) {
            inv.out().print(Json.render(json, options.pretty()));
        }
    }

    /**
     * {@code    inet 10.0.0.1/24 brd 10.0.0.255 scope global veth0} and its lifetimes. An address in
     * the network of an earlier one is {@code secondary}, as the kernel marks it.
     */
    static List<String> addressLines(NetDevice d, List<IfAddress> addresses, int index) {
        IfAddress a = addresses.get(index);
        StringBuilder b = new StringBuilder("    ").append(a.family()).append(' ');
        b.append(a.address().getHostAddress()).append('/').append(a.prefixLen()).append(' ');
        if (a.broadcast() != null) {
            b.append("brd ").append(a.broadcast().getHostAddress()).append(' ');
        }
        b.append("scope ").append(a.scope() == null ? "global" : a.scope()).append(' ');
        if (secondary(addresses, index)) {
            b.append("secondary ");
        }
        b.append(a.label() == null || a.label().isEmpty() ? d.name() : a.label());
        return List.of(b.toString(), "       valid_lft forever preferred_lft forever");
    }

    /** An address as {@code ip -j addr} prints it in {@code addr_info}; {@code -br} keeps the address and length. */
    static java.util.Map<String, Object> addressJson(NetDevice d, List<IfAddress> addresses, int index, boolean brief) {
        IfAddress a = addresses.get(index);
        java.util.Map<String, Object> o = Json.object();
        if (!brief) {
            o.put("family", a.family());
        }
        o.put("local", a.address().getHostAddress());
        o.put("prefixlen", a.prefixLen());
        if (brief) {
            return o;
        }
        if (a.broadcast() != null) {
            o.put("broadcast", a.broadcast().getHostAddress());
        }
        o.put("scope", a.scope() == null ? "global" : a.scope());
        if (secondary(addresses, index)) {
            o.put("secondary", true);
        }
        o.put("label", a.label() == null || a.label().isEmpty() ? d.name() : a.label());
        o.put("valid_life_time", 4294967295L); // INFINITY_LIFE_TIME: "forever"
        o.put("preferred_life_time", 4294967295L);
        return o;
    }

    private static boolean secondary(List<IfAddress> addresses, int index) {
        IfAddress a = addresses.get(index);
        if (!(a.address() instanceof Inet4Address)) {
            return false;
        }
        for (int i = 0; i < index; i++) {
            IfAddress p = addresses.get(i);
            if (p.address() instanceof Inet4Address && p.prefixLen() == a.prefixLen()
                    && Ipv4.sameNetwork(p.address(), a.address(), a.prefixLen())) {
                return true;
            }
        }
        return false;
    }

    private void flush(List<String> words) {
        if (words.isEmpty()) {
            throw new CommandException("Flush requires arguments.", Iproute.FAILED);
        }
        for (NetDevice d : devices(filter(words))) {
            for (IfAddress a : d.addresses()) {
                try {
                    d.removeAddress(a);
                } catch (NetException e) {
                    throw Iproute.rtnl(e);
                }
            }
        }
    }

    // --- add and delete ---

    private void modify(List<String> words, boolean add) {
        Args args = new Args(words);
        Ipv4.Prefix local = null;
        String dev = null;
        String label = null;
        String scope = null;
        InetAddress brd = null;
        boolean brdPlus = false;
        while (args.more()) {
            String w = args.next();
            if (matches(w, "broadcast") || w.equals("brd")) {
                String v = args.value(Iproute::incomplete);
                if (brd != null || brdPlus) {
                    throw Iproute.duparg("broadcast", v);
                }
                if (v.equals("+")) {
                    brdPlus = true;
                } else if (!v.equals("-")) {
                    brd = Ipv4.parse(v);
                    if (brd == null) {
                        throw new CommandException("Error: inet address is expected rather than \"" + v + "\".",
                                Iproute.FAILED);
                    }
                }
            } else if (w.equals("dev")) {
                dev = args.value(Iproute::incomplete);
            } else if (w.equals("label")) {
                label = args.value(Iproute::incomplete);
            } else if (matches(w, "scope")) {
                String v = args.value(Iproute::incomplete);
                scope = switch (v) {
                    case "global", "universe", "0" -> "global";
                    case "site", "200" -> "site";
                    case "link", "253" -> "link";
                    case "host", "254" -> "host";
                    default -> throw Iproute.invarg("invalid scope value.", v);
                };
            } else if (w.equals("valid_lft") || w.equals("preferred_lft")) {
                String v = args.value(Iproute::incomplete);
                if (!v.equals("forever")) {
                    throw new CommandException("ip address: lifetimes other than \"forever\" are not supported by modnet",
                            Iproute.SYNTAX);
                }
            } else if (matches(w, "help")) {
                throw new CommandException(USAGE, Iproute.SYNTAX);
            } else {
                if (w.equals("local")) {
                    w = args.value(Iproute::incomplete);
                }
                if (local != null) {
                    throw Iproute.duparg2("local", w);
                }
                local = Ipv4.parsePrefix(w);
                if (local == null) {
                    throw new CommandException("Error: inet prefix is expected rather than \"" + w + "\".",
                            Iproute.FAILED);
                }
            }
        }
        if (dev == null) {
            throw new CommandException("Not enough information: \"dev\" argument is required.", Iproute.FAILED);
        }
        if (label != null && !label.equals(dev) && !label.startsWith(dev + ":")) {
            throw new CommandException("\"label\" (" + label + ") must match \"dev\" (" + dev
                    + ") or be prefixed by \"dev\" with a colon.", Iproute.FAILED);
        }
        if (local == null) {
            throw new CommandException("ip address " + (add ? "add" : "del") + ": an address is required (PREFIX dev "
                    + "IFNAME)", Iproute.FAILED);
        }
        NetDevice d = ns.device(dev);
        if (d == null) {
            throw Iproute.cannotFind(dev);
        }
        try {
            if (add) {
                if (brdPlus && local.length() <= 30) {
                    brd = Ipv4.broadcast(local.address(), local.length());
                }
                if (scope == null) {
                    scope = (Ipv4.bits(local.address()) >>> 24) == 127 ? "host" : "global";
                }
                d.addAddress(new IfAddress(local.address(), local.length(), brd, scope, label == null ? dev : label));
            } else {
                d.removeAddress(toDelete(d, local));
            }
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
    }

    /** The address {@code del} names: with no prefix length, the first with that address, as the kernel matches. */
    private IfAddress toDelete(NetDevice d, Ipv4.Prefix local) {
        if (!local.prefixGiven()) {
            for (IfAddress a : d.addresses()) {
                if (a.address().equals(local.address())) {
                    inv.err().println("Warning: Executing wildcard deletion to stay compatible with old scripts.\n"
                            + "         Explicitly specify the prefix length (" + local.address().getHostAddress()
                            + "/" + a.prefixLen() + ") to avoid this warning.\n"
                            + "         This special behaviour is likely to disappear in further releases,\n"
                            + "         fix your scripts!");
                    return a;
                }
            }
        }
        return new IfAddress(local.address(), local.length(), null, "global", d.name());
    }
}

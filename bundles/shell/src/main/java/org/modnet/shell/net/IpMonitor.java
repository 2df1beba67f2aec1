package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NudState;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Rtnetlink;
import org.modnet.api.net.RtnlMessage;
import org.modnet.api.shell.CommandException;

/**
 * {@code ip monitor [all | OBJECTS] [label]}, iproute2's {@code ipmonitor.c}: joins the namespace's
 * rtnetlink groups and prints each notification as {@code ip link}, {@code ip addr}, {@code ip route}
 * and {@code ip neigh} print the object, with {@code Deleted } before a removal and, with
 * {@code label}, {@code [LINK]}, {@code [ADDR]}, {@code [ROUTE]} or {@code [NEIGH]} before each. Runs
 * until interrupted (Ctrl-C), as on Linux.
 */
final class IpMonitor {
    static final String USAGE = """
            Usage: ip monitor [ all | OBJECTS ] [ FILE ] [ label ] [ all-nsid ]
                              [ dev DEVICE ]
            OBJECTS :=  address | link | mroute | neigh | netconf |
                        nexthop | nsid | prefix | route | rule | stats
            FILE := file FILENAME""";

    /**
     * Messages waiting to be printed: the listener runs in the thread of the change (softirq for a
     * neighbour) and only queues; what does not fit is counted, as a netlink socket's overrun.
     */
    static final int QUEUE = 1024;

    private final Invocation inv;
    private final NetNamespace ns;
    private final java.util.concurrent.atomic.AtomicLong overruns = new java.util.concurrent.atomic.AtomicLong();

    IpMonitor(Invocation inv, NetNamespace ns) {
        this.inv = inv;
        this.ns = ns;
    }

    /** The groups and whether to label, from the words after {@code monitor}. */
    record Request(int groups, boolean label) {
    }

    static Request parse(List<String> words) {
        int groups = 0;
        boolean label = false;
        for (String w : words) {
            if (matches(w, "label")) {
                label = true;
            } else if (matches(w, "all")) {
                groups = Rtnetlink.ALL_GROUPS;
            } else if (matches(w, "link")) {
                groups |= Rtnetlink.mask(Rtnetlink.RTNLGRP_LINK);
            } else if (matches(w, "address")) {
                groups |= Rtnetlink.mask(Rtnetlink.RTNLGRP_IPV4_IFADDR);
            } else if (matches(w, "route")) {
                groups |= Rtnetlink.mask(Rtnetlink.RTNLGRP_IPV4_ROUTE);
            } else if (matches(w, "neigh")) {
                groups |= Rtnetlink.mask(Rtnetlink.RTNLGRP_NEIGH);
            } else if (matches(w, "help")) {
                throw new CommandException(USAGE, Iproute.SYNTAX);
            } else if (w.equals("mroute") || w.equals("netconf") || w.equals("nexthop") || w.equals("nsid")
                    || w.equals("prefix") || w.equals("rule") || w.equals("stats") || w.equals("all-nsid")
                    || w.equals("file") || w.equals("dev")) {
                throw new CommandException("ip monitor " + w + ": not available in modnet yet", Iproute.SYNTAX);
            } else {
                throw new CommandException("Argument \"" + w + "\" is unknown, try \"ip monitor help\".", Iproute.SYNTAX);
            }
        }
        return new Request(groups == 0 ? Rtnetlink.ALL_GROUPS : groups, label);
    }

    void run(List<String> words) {
        Request req = parse(words);
        BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE);
        AutoCloseable sub;
        try {
            sub = ns.rtnlListen(req.groups(), m -> {
                String text = format(m, ns, req.label());
                if (text != null && !queue.offer(text)) {
                    overruns.incrementAndGet();
                }
            });
        } catch (UnsupportedOperationException e) {
            throw new CommandException("ip monitor: " + e.getMessage(), Iproute.FAILED);
        }
        try {
            while (true) {
                String text;
                try {
                    text = queue.take();
                } catch (InterruptedException interrupted) {
                    break; // Ctrl-C: iproute2 dies of SIGINT, printing nothing more
                }
                inv.out().println(text);
                inv.out().flush();
                long lost = overruns.getAndSet(0);
                if (lost > 0) {
                    inv.err().println("ip monitor: " + lost + " notifications lost (queue full)");
                }
            }
        } finally {
            try {
                sub.close();
            } catch (Exception e) {
                // a subscription's close throws nothing
            }
        }
    }

    /**
     * One notification as iproute2 prints it (its lines joined by newlines), or null for one it does not
     * print. Runs in the listener, so a link is read while the change that caused it holds RTNL.
     */
    static String format(RtnlMessage m, NetNamespace current, boolean label) {
        String deleted = Rtnetlink.isDelete(m.type()) ? "Deleted " : "";
        return switch (Rtnetlink.groupOf(m.type())) {
            case Rtnetlink.RTNLGRP_LINK -> (label ? "[LINK]" : "") + deleted + link(m.dev(), current);
            case Rtnetlink.RTNLGRP_IPV4_IFADDR -> m.body() instanceof IfAddress a
                    ? (label ? "[ADDR]" : "") + deleted + address(m.dev(), a) : null;
            case Rtnetlink.RTNLGRP_IPV4_ROUTE -> m.body() instanceof RouteEntry r
                    ? (label ? "[ROUTE]" : "") + deleted + IpRoute.format(r) + " "
                    : m.body() instanceof org.modnet.api.inet.TableRoute t
                            ? (label ? "[ROUTE]" : "") + deleted + IpRoute.format(t.route(), RtTables.name(t.table())) + " " : null;
            case Rtnetlink.RTNLGRP_NEIGH -> m.body() instanceof Neighbour n
                    ? (label ? "[NEIGH]" : "") + deleted + neighbour(n) : null;
            default -> null;
        };
    }

    /** The header without {@code qlen} (Linux's notifications leave it out) and the link line. */
    private static String link(NetDevice dev, NetNamespace current) {
        String header = LinkFormat.header(dev, current, false).replaceFirst("qlen \\d+$", "");
        return header + "\n" + LinkFormat.linkLine(dev, current);
    }

    /** {@code 3: v0    inet 10.0.0.1/24 scope global v0} and the lifetimes, as {@code ip -o addr} puts them. */
    private static String address(NetDevice dev, IfAddress a) {
        List<String> lines = IpAddr.addressLines(dev, List.of(a), 0);
        return dev.ifindex() + ": " + dev.name() + lines.get(0) + "\n" + lines.get(1);
    }

    /** {@code 10.0.0.2 dev v0 lladdr 02:00:00:00:00:02 REACHABLE }, the address left out unless valid. */
    static String neighbour(Neighbour n) {
        StringBuilder sb = new StringBuilder(org.modnet.api.inet.Ipv4Addresses.format(n.address()));
        sb.append(" dev ").append(n.dev().name());
        if (n.lladdr() != null && n.state() != NudState.INCOMPLETE && n.state() != NudState.FAILED) {
            sb.append(" lladdr ").append(n.lladdr());
        }
        return sb.append(' ').append(n.state()).append(' ').toString();
    }
}

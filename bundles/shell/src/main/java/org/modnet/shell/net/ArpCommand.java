package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * net-tools' {@code arp [-n] [-a] [-i IF] [ADDRESS]}: the ARP table of the session's namespace, in the
 * table form ({@code Address HWtype HWaddress Flags Mask Iface}) or BSD's {@code -a} form. Names are
 * never resolved (as {@code -n}): modnet has no resolver. NOARP entries are not shown.
 */
@Component(service = ArpCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=arp" })
public final class ArpCommand {
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile NetCore core;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile NeighbourTable neighbours;

    public void arp(CommandSession session, String... args) {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        NetCore c = core;
        if (c == null) {
            throw new CommandException("arp: the stack is not running", 1);
        }
        NetNamespace ns = Commands.namespace(c, session.get(Commands.NETNS), "arp");
        NeighbourTable t = neighbours;
        List<Neighbour> all = t == null ? List.of() : t.entries(ns);
        lines(all, args).forEach(System.out::println);
    }

    static List<String> lines(List<Neighbour> all, String... args) {
        boolean bsd = false;
        String iface = null;
        String host = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-i") || a.equals("--device")) {
                if (++i >= args.length) {
                    throw new CommandException("arp: option requires an argument -- 'i'", 255);
                }
                iface = args[i];
            } else if (a.startsWith("-") && a.length() > 1 && a.substring(1).chars().allMatch(ch -> "anve".indexOf(ch) >= 0)) {
                bsd |= a.indexOf('a') > 0;
            } else if (a.startsWith("-")) {
                throw new CommandException("arp: invalid option -- '" + a.charAt(1) + "'", 255);
            } else {
                host = a;
            }
        }
        int only = 0;
        if (host != null) {
            long h = org.modnet.api.inet.Ipv4Addresses.parse(host);
            if (h < 0) {
                throw new CommandException(host + ": Unknown host", 255);
            }
            only = (int) h;
        }
        List<String> out = new ArrayList<>();
        int shown = 0;
        for (Neighbour n : all) {
            if (n.state() == NudState.NOARP || iface != null && !n.dev().name().equals(iface) || host != null && n.address() != only) {
                continue;
            }
            if (shown++ == 0 && !bsd) {
                out.add("Address                  HWtype  HWaddress           Flags Mask            Iface"); // with the first entry, as net-tools
            }
            String addr = org.modnet.api.inet.Ipv4Addresses.format(n.address());
            boolean complete = ProcNetArp.valid(n.state()); // ATF_COM, as /proc/net/arp's flags say it
            boolean perm = n.state() == NudState.PERMANENT;
            if (bsd) {
                out.add("? (" + addr + ") at " + (complete ? n.lladdr() + " [ether]" + (perm ? " PERM" : "") : "<incomplete>") + " on "
                        + n.dev().name());
            } else if (complete) {
                out.add(String.format("%-23.23s  %-8.8s%-20.20s%-6.6s%-15.15s %s", addr, "ether", n.lladdr(), perm ? "CM" : "C", "",
                        n.dev().name()));
            } else {
                out.add(String.format("%-23.23s  %-8.8s%-20.20s%-6.6s%-15.15s %s", addr, "", "(incomplete)", "", "", n.dev().name()));
            }
        }
        if (host != null && shown == 0) {
            out.add(host + " (" + host + ") -- no entry");
        }
        return out;
    }
}

package org.modnet.shell.snmp;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code nstat [-a] [-z] [-r] [-n] [-s] [PATTERN...]} (iproute2): the SNMP counters of the current
 * namespace, by default the increments since the last nstat there. Every layer's {@link SnmpMib}
 * service contributes; a layer that is stopped contributes nothing.
 */
@Component(service = NstatCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=nstat", "osgi.command.function=netstat" })
public final class NstatCommand {
    private final Nstat nstat = new Nstat();
    private final List<SnmpMib> mibs = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile NetCore core;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addMib(SnmpMib mib) {
        mibs.add(mib);
    }

    void removeMib(SnmpMib mib) {
        mibs.remove(mib);
    }

    public void nstat(CommandSession session, String... args) {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        NetNamespace ns = namespace(session, "nstat");
        Nstat.Options options;
        try {
            options = Nstat.parse(args);
        } catch (IllegalArgumentException e) {
            throw new CommandException(e.getMessage() + "\nUsage: nstat [-a] [-z] [-r] [-n] [-s] [PATTERN...]", 255);
        }
        for (String line : nstat.run(ns, mibs, options)) {
            System.out.println(line);
        }
    }

    private volatile org.osgi.framework.BundleContext context;

    @org.osgi.service.component.annotations.Activate
    void activate(org.osgi.framework.BundleContext context) {
        this.context = context;
    }

    static final String NETSTAT_USAGE = """
            usage: netstat [-vWeenNcCF] [<Af>] -r         netstat {-V|--version|-h|--help}
                   netstat [-vWnNcaeol] [<Socket> ...]
                   netstat { [-vWeenNac] -i | [-cnNe] -M | -s [-6tuw] }
            (modnet: -r, -i, -s, and the sockets with -t -u -a -l -n -p)""";

    /**
     * net-tools' {@code netstat}: {@code -s} the counters of every MIB in its words; {@code -r} the
     * routing table, {@code -i} the interfaces, else the sockets ({@code -t -u -a -l -n -p}; without
     * {@code -t}/{@code -u} both, and the UNIX-domain section, which modnet has none of) — see {@link NetstatViews}.
     */
    public void netstat(CommandSession session, String... args) {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        boolean stats = false;
        boolean route = false;
        boolean ifaces = false;
        boolean tcp = false;
        boolean udp = false;
        boolean raw = false;
        boolean unix = false;
        boolean all = false;
        boolean listening = false;
        boolean numeric = false;
        boolean program = false;
        for (String a : args) {
            if (a.isEmpty()) {
                continue; // net-tools passes over an empty word (an unset variable) and lists the sockets
            }
            String[] opts = a.startsWith("--") ? new String[] { a.substring(2) } : a.startsWith("-") && a.length() > 1
                    ? a.substring(1).split("") : null;
            if (opts == null) {
                throw new CommandException("netstat: " + a + ": unknown address family or socket type\n" + NETSTAT_USAGE, 1);
            }
            for (String o : opts) {
                switch (o) {
                    case "s", "statistics" -> stats = true;
                    case "r", "route" -> route = true;
                    case "i", "interfaces" -> ifaces = true;
                    case "t", "tcp" -> tcp = true;
                    case "u", "udp" -> udp = true;
                    case "w", "raw" -> raw = true;
                    case "x", "unix" -> unix = true;
                    case "a", "all" -> all = true;
                    case "l", "listening" -> listening = true;
                    case "n", "numeric" -> numeric = true;
                    case "p", "program" -> program = true;
                    case "4", "inet", "W", "wide", "e", "extend", "v", "verbose" -> {
                    }
                    default -> throw new CommandException("netstat: invalid option -- '" + o + "'\n" + NETSTAT_USAGE, 1);
                }
            }
        }
        NetNamespace ns = namespace(session, "netstat");
        if (stats) {
            statistics(ns);
            return;
        }
        if (route) {
            List<String> lines = procFile("/proc/net/route", ns);
            if (lines == null) {
                throw new CommandException("netstat: no support for `AF INET (inet)' on this system.", 1);
            }
            NetstatViews.routes(lines, numeric).forEach(System.out::println);
            return;
        }
        if (ifaces) {
            NetstatViews.interfaces(ns.devices(), all).forEach(System.out::println);
            return;
        }
        boolean any = tcp || udp || raw || unix;
        if (!any || tcp || udp || raw) {
            NetstatViews.Sockets which = new NetstatViews.Sockets(!any || tcp, !any || udp, listening, all, program);
            List<String> t = which.tcp() ? procFile("/proc/net/tcp", ns) : null;
            List<String> u = which.udp() ? procFile("/proc/net/udp", ns) : null;
            NetstatViews.sockets(t, u, which).forEach(System.out::println);
        }
        if (!any || unix) {
            System.out.println("Active UNIX domain sockets (" + (all ? "servers and established" : listening ? "only servers"
                    : "w/o servers") + ")");
            System.out.println("Proto RefCnt Flags       Type       State         I-Node   " + (program ? "PID/Program name    " : "")
                    + "Path");
        }
    }

    private List<String> procFile(String path, NetNamespace ns) {
        org.osgi.framework.BundleContext c = context;
        return c == null ? null : org.modnet.shell.net.NetCommands.procFile(c, path, ns);
    }

    /** {@code netstat -s}: the counters of every MIB in net-tools' words. */
    private void statistics(NetNamespace ns) {
        java.util.Map<String, Long> all = ProcNetSnmp.all(mibs, ns);
        boolean forwarding;
        try {
            forwarding = "1".equals(ns.sysctl().get("net.ipv4.ip_forward"));
        } catch (org.modnet.api.net.NetException e) {
            forwarding = false;
        }
        for (String line : Netstat.render(all, forwarding)) {
            System.out.println(line);
        }
    }

    private NetNamespace namespace(CommandSession session, String tool) {
        NetCore c = core;
        if (c == null) {
            throw new CommandException(tool + ": the network core (org.modnet.core) is not running", 1);
        }
        return Commands.namespace(c, session.get(Commands.NETNS), tool);
    }
}

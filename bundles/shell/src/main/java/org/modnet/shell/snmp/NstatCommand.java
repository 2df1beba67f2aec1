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

    /** {@code netstat -s}: the counters of every MIB in net-tools' words (only {@code -s} is here). */
    public void netstat(CommandSession session, String... args) {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        if (args.length != 1 || !(args[0].equals("-s") || args[0].equals("--statistics"))) {
            throw new CommandException("netstat: only the statistics (-s) are in modnet; the sockets: ss", 1);
        }
        NetNamespace ns = namespace(session, "netstat");
        java.util.Map<String, Long> all = new java.util.LinkedHashMap<>();
        for (SnmpMib mib : mibs) {
            all.putAll(mib.counters(ns));
        }
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

package org.modnet.shell.net;

import java.io.PrintStream;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/**
 * What one run of a network command works with: the core (null when org.modnet.core is not running),
 * the Gogo session (its {@code modnet.netns} variable names the current namespace), where output and
 * warnings go, and the link drivers for {@code ip link add}.
 */
record Invocation(NetCore core, CommandSession session, PrintStream out, PrintStream err, LinkFactories links,
        org.modnet.api.inet.RouteTable routes, org.modnet.api.inet.NeighbourTable neighbours, ProcFiles procFiles,
        org.modnet.api.net.XdpLoader xdpLoader) {

    Invocation(NetCore core, CommandSession session, PrintStream out, PrintStream err, LinkFactories links,
            org.modnet.api.inet.RouteTable routes, org.modnet.api.inet.NeighbourTable neighbours, ProcFiles procFiles) {
        this(core, session, out, err, links, routes, neighbours, procFiles, null);
    }

    /** The /proc files other layers keep: the lines of {@code path} in {@code ns}, or null if no layer has it. */
    @FunctionalInterface
    interface ProcFiles {
        java.util.List<String> read(String path, org.modnet.api.net.NetNamespace ns);

        /** The paths of the files kept, for {@code ls}. */
        default java.util.Collection<String> paths() {
            return java.util.List.of();
        }
    }

    Invocation(NetCore core, CommandSession session, PrintStream out, PrintStream err, LinkFactories links,
            org.modnet.api.inet.RouteTable routes, org.modnet.api.inet.NeighbourTable neighbours) {
        this(core, session, out, err, links, routes, neighbours, (path, ns) -> null);
    }

    /** Without IPv4 routing or ARP (tests of the link-layer commands). */
    Invocation(NetCore core, CommandSession session, PrintStream out, PrintStream err, LinkFactories links) {
        this(core, session, out, err, links, null, null);
    }

    /** The core, or the error every network command gives when it is not there. */
    NetCore requireCore(String tool) {
        if (core == null) {
            throw new CommandException(tool + ": the network core (org.modnet.core) is not running", 1);
        }
        return core;
    }

    /** The namespace the session is in ({@code ip netns exec} sets it), init_net by default. */
    NetNamespace namespace(String tool) {
        return Namespaces.current(requireCore(tool), session, tool);
    }
}

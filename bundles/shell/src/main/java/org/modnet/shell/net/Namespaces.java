package org.modnet.shell.net;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;

/**
 * Which network namespace a command acts in: the one {@code ip netns exec} runs it in on this thread, else
 * the session's {@link Commands#NETNS}, else init_net.
 */
final class Namespaces {
    private Namespaces() {
    }

    /** The name the session names, or null for init_net. */
    static String currentName(CommandSession session) {
        Object name = Commands.netns(session == null ? null : session.get(Commands.NETNS));
        if (name == null) {
            return null;
        }
        String s = name.toString();
        return s.isEmpty() ? null : s;
    }

    static NetNamespace current(NetCore core, CommandSession session, String tool) {
        return Commands.namespace(core, currentName(session), tool);
    }

    /** Whether the two are the same namespace. */
    static boolean same(NetNamespace a, NetNamespace b) {
        return a == b || (a != null && b != null && a.name().equals(b.name()));
    }
}

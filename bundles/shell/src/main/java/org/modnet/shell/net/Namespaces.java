package org.modnet.shell.net;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;

/** Which network namespace a command acts in: the session's {@link Commands#NETNS}, else init_net. */
final class Namespaces {
    private Namespaces() {
    }

    /** The name the session names, or null for init_net. */
    static String currentName(CommandSession session) {
        Object name = session == null ? null : session.get(Commands.NETNS);
        if (name == null) {
            return null;
        }
        String s = name.toString();
        return s.isEmpty() ? null : s;
    }

    static NetNamespace current(NetCore core, CommandSession session, String tool) {
        String name = currentName(session);
        if (name == null) {
            return core.initNet();
        }
        NetNamespace ns = core.namespace(name);
        if (ns == null) {
            // the namespace the session was put in (ip netns exec) has since been deleted
            throw new CommandException(tool + ": network namespace \"" + name
                    + "\" does not exist any more (see ip netns list)", 1);
        }
        return ns;
    }

    /** Whether the two are the same namespace. */
    static boolean same(NetNamespace a, NetNamespace b) {
        return a == b || (a != null && b != null && a.name().equals(b.name()));
    }
}

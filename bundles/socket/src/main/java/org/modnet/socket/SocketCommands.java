package org.modnet.socket;

import java.util.Arrays;
import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.socket.api.SocketCalls;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** The socket tools in the Gogo shell: {@code ss} and {@code nc}, in the session's namespace. */
@Component(service = SocketCommands.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=ss", "osgi.command.function=nc" })
public final class SocketCommands {
    private final NetCore core;
    private final SocketLayer layer;

    @Activate
    public SocketCommands(@Reference NetCore core, @Reference SocketLayer layer) {
        this.core = core;
        this.layer = layer;
    }

    /** {@code ss [-utalnpemHs] [state STATE] [FILTER]}. */
    public void ss(CommandSession session, String... args) {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "ss");
        new SsCommand(System.out).run(layer, ns, args == null ? List.of() : Arrays.asList(args));
    }

    /** {@code nc [-u] [-l] [-z] [-v] [-k] [-N] [-w SECS] [-q SECS] [-W N] [-s ADDR] [-p PORT] [HOST] PORT}: TCP, or UDP with -u. */
    public void nc(CommandSession session, String... args) throws InterruptedException {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "nc");
        try (SocketCalls sys = layer.process("nc", ns.isInitNet() ? "" : ns.name())) {
            if (sys == null) {
                throw new CommandException("nc: network namespace \"" + ns.name() + "\" does not exist any more", 1);
            }
            int status = new NcCommand(sys, System.in, System.out, System.err)
                    .run(args == null ? List.of() : Arrays.asList(args));
            if (status != 0) {
                throw new CommandException("", status);
            }
        }
    }
}

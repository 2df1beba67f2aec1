package org.modnet.packetdrill;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetException;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.socket.api.Sockets;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code packetdrill [--tolerance_usecs=N] [-v] [-D NAME=VALUE] FILE.pkt...}: runs scripts against the
 * running stack, each in a scratch namespace with its own {@code tun0}, and prints packetdrill's words:
 * the error line of a failure, {@code FILE pass} / {@code FILE failed} / {@code FILE skipped: WHY}. The
 * exit status is 0 when every script passed or was skipped, 1 otherwise, 2 for a usage error.
 */
@Component(service = PacketdrillCommand.class, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=packetdrill" })
public final class PacketdrillCommand {
    static final String USAGE = "usage: packetdrill [--tolerance_usecs=N] [-v] [-D NAME=VALUE] FILE.pkt...";

    private final NetCore core;
    private final Sockets sockets;
    private final RouteTable routes;

    @Activate
    public PacketdrillCommand(@Reference NetCore core, @Reference Sockets sockets, @Reference RouteTable routes) {
        this.core = core;
        this.sockets = sockets;
        this.routes = routes;
    }

    public void packetdrill(String... args) {
        int status = run(System.out, Commands.words(args));
        if (status != 0) {
            throw new CommandException("", status);
        }
    }

    int run(PrintStream out, String... args) {
        CommandLine cl;
        try {
            cl = Runner.commandLine(args);
        } catch (ScriptException e) {
            out.println(e.getMessage());
            out.println(USAGE);
            return 2;
        }
        if (cl.scripts().isEmpty()) {
            out.println(USAGE);
            return 2;
        }
        boolean verbose = cl.options().stream().anyMatch(o -> o.name().equals("verbose"));
        List<String> failed = new ArrayList<>();
        for (String s : cl.scripts()) {
            Path file = Path.of(s);
            if (!Files.isRegularFile(file)) {
                out.println(s + ": No such file or directory");
                failed.add(s);
                continue;
            }
            Outcome o = Runner.run(file, cl, () -> {
                try {
                    return LiveTestbed.create(core, sockets, routes);
                } catch (NetException e) {
                    throw new CommandException("packetdrill: cannot make a scratch namespace: " + e.getMessage());
                }
            }, verbose ? out : null);
            print(out, s, o);
            if (o.status() == Outcome.Status.FAIL) {
                failed.add(s);
            }
        }
        return failed.isEmpty() ? 0 : 1;
    }

    static void print(PrintStream out, String file, Outcome o) {
        switch (o.status()) {
            case PASS -> out.println(file + " pass");
            case FAIL -> {
                out.println(o.message());
                out.println(file + " failed");
            }
            case SKIP -> out.println(file + " skipped: " + o.message());
        }
    }
}

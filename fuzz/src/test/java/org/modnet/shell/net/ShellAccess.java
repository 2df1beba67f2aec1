package org.modnet.shell.net;

import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.shell.CommandException;

/**
 * The fuzz targets' door to the shell's commands without Gogo: ip, sysctl and ethtool run as the
 * shell runs them, on a real (standalone) core, their output thrown away. Only the commands' defined
 * error, {@link CommandException}, may come out.
 */
public final class ShellAccess {
    private static final PrintStream NULL = new PrintStream(OutputStream.nullOutputStream());
    private final Invocation invocation;

    public ShellAccess(NetCore core) {
        CommandSession session = (CommandSession) Proxy.newProxyInstance(ShellAccess.class.getClassLoader(),
                new Class<?>[] { CommandSession.class }, (p, m, a) -> switch (m.getName()) {
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == a[0];
                    case "toString" -> "fuzz session";
                    case "getConsole" -> NULL;
                    default -> null;
                });
        invocation = new Invocation(core, session, NULL, NULL, kind -> null);
    }

    /** Runs one command line: {@code command} is ip, sysctl or ethtool. */
    public void run(String command, List<String> words) {
        try {
            switch (command) {
                case "ip" -> {
                    // ip monitor runs until interrupted (Ctrl-C): a word that may name it comes with the
                    // interrupt already there, so the command parses, subscribes and ends at once
                    if (words.stream().anyMatch(w -> !w.isEmpty() && "monitor".startsWith(w))) {
                        Thread.currentThread().interrupt();
                    }
                    try {
                        new IpCommand(invocation).run(words);
                    } finally {
                        Thread.interrupted();
                    }
                }
                case "sysctl" -> new SysctlCommand(invocation).run(words);
                default -> new EthtoolCommand(invocation).run(words);
            }
        } catch (CommandException e) {
            // the defined error: the tool's message and exit status
        }
    }
}

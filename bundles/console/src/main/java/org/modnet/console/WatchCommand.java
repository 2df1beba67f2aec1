package org.modnet.console;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.util.Arrays;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.threadio.ThreadIO;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code watch}: see {@link Watch}. The command runs in the caller's session, its output captured per round;
 * under {@code ip netns exec NS} it runs in a child session of the caller's, as Linux's watch runs its line
 * in a shell of its own that inherited the namespace.
 */
@Component(service = WatchCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=watch" })
public final class WatchCommand {
    private final ThreadIO threadIO;
    private final CommandProcessor processor;

    @Activate
    public WatchCommand(@Reference ThreadIO threadIO, @Reference CommandProcessor processor) {
        this.threadIO = threadIO;
        this.processor = processor;
    }

    public void watch(CommandSession session, String... args) {
        if (session == null) {
            session = org.apache.felix.service.command.Job.Utils.current().session();
        }
        // under ip netns exec NS, watch's command line runs in NS every round, as Linux's watch and the shell
        // it starts inherit the namespace: the line runs as a job of its own, on other threads the exec's
        // thread-local namespace does not reach, so it runs in a child session that has the caller's
        // variables (copied once: Gogo's child sessions start with none) and NS as its own; the caller's
        // session is not touched, and what the line sets stays in the child, as in watch's sh -c
        Object execNs = Commands.netns(null);
        CommandSession child = execNs == null ? null : childIn(session, execNs);
        CommandSession s = child == null ? session : child;
        InputStream in = System.in;
        PrintStream out = System.out;
        Watch.Runner runner = line -> {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8);
            threadIO.setStreams(in, capture, capture);
            try {
                s.execute(line);
            } catch (InterruptedException e) {
                throw e;
            } catch (CommandException e) {
                if (!e.getMessage().isEmpty()) {
                    capture.println(e.getMessage());
                }
            } catch (Exception e) {
                capture.println(e.getMessage());
            } finally {
                threadIO.close();
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException();
            }
            return buffer.toString(StandardCharsets.UTF_8);
        };
        try {
            new Watch(out, runner, Thread::sleep, ZonedDateTime::now, hostname(), columns()).run(Arrays.asList(Commands.words(session, args)));
        } finally {
            if (child != null) {
                child.close();
            }
        }
    }

    /** A child session of {@code parent} with a copy of its variables and {@code netns} as its namespace. */
    private CommandSession childIn(CommandSession parent, Object netns) {
        CommandSession child = processor.createSession(parent);
        if (parent.get(".variables") instanceof Iterable<?> names) {
            for (Object name : names) {
                String n = name.toString();
                Object value = parent.get(n);
                if (value != null) {
                    child.put(n, value);
                }
            }
        }
        child.put(Commands.NETNS, netns);
        return child;
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private static int columns() {
        try {
            return Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "80"));
        } catch (NumberFormatException e) {
            return 80;
        }
    }
}

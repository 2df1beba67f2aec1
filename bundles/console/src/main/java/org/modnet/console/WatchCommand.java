package org.modnet.console;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.util.Arrays;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.threadio.ThreadIO;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code watch}: see {@link Watch}. The command runs in the caller's session, its output captured per round. */
@Component(service = WatchCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=watch" })
public final class WatchCommand {
    private final ThreadIO threadIO;

    @Activate
    public WatchCommand(@Reference ThreadIO threadIO) {
        this.threadIO = threadIO;
    }

    public void watch(CommandSession session, String... args) {
        if (session == null) {
            session = org.apache.felix.service.command.Job.Utils.current().session();
        }
        CommandSession s = session;
        // under ip netns exec NS, watch's command line runs in NS every round, as Linux's watch and the shell
        // it starts inherit the namespace: the line runs as a job of its own, on other threads, so it is
        // given the session's variable for the round
        Object execNs = Commands.netns(null);
        InputStream in = System.in;
        PrintStream out = System.out;
        Watch.Runner runner = line -> {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8);
            threadIO.setStreams(in, capture, capture);
            Object sessionNs = execNs == null ? null : s.get(Commands.NETNS);
            if (execNs != null) {
                s.put(Commands.NETNS, execNs);
            }
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
                if (execNs != null) {
                    s.put(Commands.NETNS, sessionNs);
                }
                threadIO.close();
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException();
            }
            return buffer.toString(StandardCharsets.UTF_8);
        };
        new Watch(out, runner, Thread::sleep, ZonedDateTime::now, hostname(), columns()).run(Arrays.asList(Commands.words(session, args)));
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

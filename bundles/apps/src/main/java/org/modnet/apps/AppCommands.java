package org.modnet.apps;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.socket.api.Sockets;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The applications in the Gogo shell, each in the session's namespace ({@code ip netns exec NS ...}):
 * {@code httpd}, {@code curl} and {@code iperf3}. httpd runs in the foreground until Ctrl-C (an interrupt) or
 * {@code httpd stop -p PORT} from another shell in the same namespace; {@code httpd status} prints its
 * counters.
 */
@Component(service = AppCommands.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=httpd", "osgi.command.function=curl",
        "osgi.command.function=iperf3" })
public final class AppCommands {
    private final NetCore core;
    private final Sockets sockets;
    /** The servers running, by "namespace:port". */
    private final Map<String, Httpd> running = new ConcurrentHashMap<>();
    /** The iperf3 servers and clients running, stopped when the bundle stops. */
    private final Map<Iperf3, Thread> iperfs = new ConcurrentHashMap<>();

    @Activate
    public AppCommands(@Reference NetCore core, @Reference Sockets sockets) {
        this.core = core;
        this.sockets = sockets;
    }

    @Deactivate
    void deactivate() {
        running.values().forEach(Httpd::stop);
        iperfs.keySet().forEach(Iperf3::stop);
    }

    private static String netns(NetNamespace ns) {
        return ns.isInitNet() ? "" : ns.name();
    }

    private NetNamespace namespace(CommandSession session, String tool) {
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        return Commands.namespace(core, session.get(Commands.NETNS), tool);
    }

    private SelectorProvider provider(NetNamespace ns, String tool) {
        SelectorProvider p = sockets.provider(netns(ns));
        if (p == null) {
            throw new CommandException(tool + ": network namespace \"" + ns.name() + "\" does not exist any more", 1);
        }
        return p;
    }

    static final String HTTPD_USAGE = "Usage: httpd [-p PORT] [-d DIR] [-v] [--busy-poll USECS] [--busy-poll-budget N] [--prefer-busy-poll]\n"
            + "       httpd stop [-p PORT]\n"
            + "       httpd status [-p PORT]";

    /**
     * {@code httpd [-p PORT] [-d DIR] [-v]}: serves DIR (default the current directory) on PORT (default
     * 80) until interrupted; {@code -v} logs each request in the Common Log Format to standard output.
     * {@code httpd stop [-p PORT]} ends the one serving PORT in this namespace; {@code httpd status}
     * prints its counters.
     */
    public void httpd(CommandSession session, String... args) throws InterruptedException {
        args = Commands.words(session, args);
        List<String> a = args == null ? List.of() : Arrays.asList(args);
        NetNamespace ns = namespace(session, "httpd");
        int port = 80;
        Path dir = Path.of(System.getProperty("user.dir", "."));
        boolean verbose = false;
        long busyPollUsecs = 0;
        int busyPollBudget = 0;
        boolean preferBusyPoll = false;
        String sub = null;
        for (int i = 0; i < a.size(); i++) {
            String w = a.get(i);
            switch (w) {
                case "-p" -> port = port(value(a, ++i, w));
                case "-d", "-h" -> dir = Path.of(value(a, ++i, w));
                case "-v" -> verbose = true;
                // its epoll instance's EPIOCSPARAMS, as a Linux server sets them: busy poll for USECS (0: net.core.busy_poll),
                // N frames a poll, the device's interrupt kept off between polls (napi_defer_hard_irqs, gro_flush_timeout)
                case "--busy-poll" -> busyPollUsecs = number(value(a, ++i, w), w, Integer.MAX_VALUE);
                case "--busy-poll-budget" -> busyPollBudget = (int) number(value(a, ++i, w), w, 0xffff);
                case "--prefer-busy-poll" -> preferBusyPoll = true;
                case "-f" -> {
                    // foreground: the only way httpd runs here (busybox's flag, accepted)
                }
                case "stop", "status" -> {
                    if (sub != null || i != 0) {
                        throw new CommandException(HTTPD_USAGE, 1);
                    }
                    sub = w;
                }
                default -> throw new CommandException("httpd: invalid option -- '" + w + "'\n" + HTTPD_USAGE, 1);
            }
        }
        String id = netns(ns) + ":" + port;
        if (sub != null) {
            Httpd h = running.get(id);
            if (h == null) {
                throw new CommandException("httpd: no httpd serving port " + port + " in this namespace", 1);
            }
            if (sub.equals("stop")) {
                h.stop();
            } else {
                status(h, System.out);
            }
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new CommandException("httpd: " + dir + ": No such directory", 1);
        }
        Httpd h = new Httpd(provider(ns, "httpd"), new HttpFiles(dir), port, verbose ? System.out : null);
        h.busyPoll(busyPollUsecs, busyPollBudget, preferBusyPoll);
        ServerSocketChannel server;
        try {
            server = h.bind();
        } catch (IOException e) {
            throw new CommandException("httpd: bind: " + e.getMessage(), 1);
        }
        if (running.putIfAbsent(id, h) != null) {
            try {
                server.close();
            } catch (IOException e) {
                // nothing to add
            }
            throw new CommandException("httpd: bind: Address already in use", 1);
        }
        try {
            h.serve(server);
        } catch (IOException e) {
            throw new CommandException("httpd: " + e.getMessage(), 1);
        } finally {
            running.remove(id, h);
            System.out.flush();
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }

    /** A whole number 0..{@code max} for option {@code opt}, or httpd's usage error. */
    private static long number(String v, String opt, long max) {
        try {
            long n = Long.parseLong(v);
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the error below
        }
        throw new CommandException("httpd: invalid number '" + v + "' for " + opt + "\n" + HTTPD_USAGE, 1);
    }

    /** mod_status's machine-readable lines ({@code ?auto}), with modnet's own refusals after them. */
    static void status(Httpd h, PrintStream out) {
        Httpd.Stats s = h.stats;
        out.println("ServerVersion: " + HttpFiles.SERVER);
        out.println("DocumentRoot: " + h.files().root());
        out.println("Port: " + h.port());
        out.println("Total Accesses: " + s.accesses.get());
        out.println("Total kBytes: " + s.bytes.get() / 1024);
        out.println("Total Connections: " + s.connections.get());
        out.println("ConnsTotal: " + s.open.get());
        out.println("RefusedMaxConnections: " + s.refused.get());
        out.println("BadRequests: " + s.bad.get());
        out.println("Timeouts: " + s.timeouts.get());
        out.println("Resets: " + s.resets.get());
        out.println("FileCacheEvictions: " + s.cacheEvictions.get());
    }

    private static String value(List<String> a, int i, String option) {
        if (i >= a.size()) {
            throw new CommandException("httpd: option requires an argument -- '" + option.substring(1) + "'\n" + HTTPD_USAGE, 1);
        }
        return a.get(i);
    }

    private static int port(String s) {
        try {
            int p = Integer.parseInt(s);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new CommandException("httpd: invalid port '" + s + "'", 1);
    }

    /**
     * {@code curl [-o FILE] [-O] [-I] [-i] [-s] [-S] [-f] [-v] [-w FORMAT] [-r RANGE] [-H HEADER]
     * [-X METHOD] [-m SECS] [--connect-timeout SECS] URL}; its exit status is curl's.
     */
    public void curl(CommandSession session, String... args) throws InterruptedException {
        args = Commands.words(session, args);
        NetNamespace ns = namespace(session, "curl");
        List<String> a = args == null ? List.of() : new ArrayList<>(Arrays.asList(args));
        int status = new Curl(provider(ns, "curl"), System.out, System.err, Path.of(System.getProperty("user.dir", ".")))
                .run(a);
        System.out.flush();
        if (status != 0) {
            throw new CommandException("", status);
        }
    }

    /**
     * {@code iperf3 -s [-p PORT] [-1] [-J] [-i SECS]} or {@code iperf3 -c HOST [-p PORT] [-t SECS] [-n BYTES]
     * [-P N] [-R] [-u] [-b RATE] [-l LEN] [-J] [-i SECS]}: iperf3's control protocol and output, so
     * Linux's iperf3 is the peer either way. The server runs until Ctrl-C (or once with -1).
     */
    public void iperf3(CommandSession session, String... args) throws InterruptedException {
        args = Commands.words(session, args);
        NetNamespace ns = namespace(session, "iperf3");
        List<String> a = args == null ? List.of() : Arrays.asList(args);
        Iperf3 iperf = new Iperf3(provider(ns, "iperf3"), System.out);
        iperfs.put(iperf, Thread.currentThread());
        int status;
        try {
            status = iperf.run(a);
        } finally {
            iperfs.remove(iperf);
            System.out.flush();
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (status != 0) {
            throw new CommandException("", status);
        }
    }
}

package org.modnet.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemPackages;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.ops4j.pax.exam.Option;

/**
 * What the Pax Exam tests boot: exactly the bundles of run-configs/modnet.bndrun as bnd exported
 * them (run-configs/target/export/modnet), with the launcher's framework properties, plus the
 * feature and repository folders, so a test can install features as bin/modnet does.
 */
final class ModnetRuntime {
    private ModnetRuntime() {
    }

    static Path root() {
        return Paths.get(System.getProperty("modnet.root", "..")).toAbsolutePath().normalize();
    }

    static Option[] options() throws IOException {
        Path export = root().resolve("run-configs/target/export/modnet");
        if (!Files.isDirectory(export)) {
            throw new IllegalStateException(export + " is missing: build run-configs first (mvn verify builds it)");
        }
        List<Option> options = new ArrayList<>();
        options.add(systemPackages("jdk.net"));
        options.add(systemProperty("modnet.features").value(root().resolve("features").toString()));
        options.add(systemProperty("modnet.repo").value(root().resolve("run-configs/target/repo").toString()));
        options.add(systemProperty("org.slf4j.simpleLogger.defaultLogLevel").value("warn"));
        options.add(frameworkProperty("felix.log.level").value("1"));
        // as modnet.bndrun: the staged update installs the new jar beside the running one first
        options.add(frameworkProperty("org.osgi.framework.bsnversion").value("multiple"));
        // as modnet.bndrun: the resolver on the calling thread (-Dfelix.resolver.parallelism=N: the benchmark's comparison)
        options.add(frameworkProperty("felix.resolver.parallelism").value(System.getProperty("felix.resolver.parallelism", "1")));
        try (Stream<Path> jars = Files.list(export)) {
            // Start the weaver and the logging provider first, as modnet.bndrun's start levels do.
            jars.filter(p -> p.toString().endsWith(".jar"))
                    .sorted(Comparator.comparingInt(ModnetRuntime::bootOrder).thenComparing(Path::toString))
                    .forEach(jar -> options.add(bundle(jar.toUri().toString())));
        }
        options.add(junitBundles());
        return options.toArray(new Option[0]);
    }

    private static int bootOrder(Path jar) {
        String name = jar.getFileName().toString();
        if (name.startsWith("org.apache.aries.spifly") || name.startsWith("asm")) {
            return 0;
        }
        return name.startsWith("slf4j") ? 1 : 2;
    }

    /** Runs a Gogo command line as the shell would; returns what it printed, or throws its failure. */
    static String run(CommandProcessor processor, String line) throws Exception {
        return run(processor, null, line);
    }

    /** Runs a command line that may fail; returns what it printed either way. */
    static String runCapturing(CommandProcessor processor, String netns, String line) throws Exception {
        return execute(processor, netns, line, false);
    }

    /** Runs a command line in a network namespace, as {@code ip netns exec NS} does. */
    static String run(CommandProcessor processor, String netns, String line) throws Exception {
        return execute(processor, netns, line, true);
    }

    private static String execute(CommandProcessor processor, String netns, String line, boolean rethrow) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        CommandSession session = processor.createSession(InputStream.nullInputStream(), out, out);
        if (netns != null) {
            session.put(org.modnet.api.shell.Commands.NETNS, netns);
        }
        try {
            Object result = session.execute(line);
            if (result != null) {
                out.println(session.format(result, 0));
            }
        } catch (Exception e) {
            if (rethrow) {
                throw e;
            }
            out.println("(failed: " + e + ")");
        } finally {
            session.close();
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * Runs {@code line}, a server ({@code nc -l}, {@code httpd}, ...), in {@code netns} on a thread of its
     * own and returns once {@code ss} there lists {@code port} (a TCP listener, or with {@code udp} a bound
     * UDP socket); fails when the server ended or did not get there within 10 s. The future holds what
     * the server printed.
     */
    static java.util.concurrent.CompletableFuture<String> serve(CommandProcessor processor, String netns, String line, boolean udp,
            int port) throws Exception {
        java.util.concurrent.CompletableFuture<String> server = new java.util.concurrent.CompletableFuture<>();
        Thread.ofPlatform().daemon().name("itest-server-" + port).start(() -> {
            try {
                server.complete(runCapturing(processor, netns, line));
            } catch (Exception e) {
                server.complete(e.toString());
            }
        });
        String ss = udp ? "ss -u -a -n" : "ss -t -l -n";
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!run(processor, netns, ss).contains(":" + port + " ")) {
            if (server.isDone() || System.nanoTime() > deadline) {
                throw new AssertionError(line + " in " + netns + " did not " + (udp ? "bind " : "listen on ") + port + ": "
                        + (server.isDone() ? server.get() : "still running after 10 s"));
            }
            Thread.sleep(20);
        }
        return server;
    }

    /**
     * Namespaces ns1 and ns2 joined by a veth pair, up and addressed: veth0 10.0.0.1/24 in ns1,
     * veth1 10.0.0.2/24 in ns2. Returns {veth0, veth1}.
     */
    static org.modnet.api.net.NetDevice[] vethPair(org.osgi.framework.BundleContext context, org.modnet.api.net.NetCore core)
            throws Exception {
        org.modnet.api.net.NetNamespace ns1 = core.addNamespace("ns1");
        org.modnet.api.net.NetNamespace ns2 = core.addNamespace("ns2");
        org.modnet.api.net.LinkFactory veth = service(context, org.modnet.api.net.LinkFactory.class, "(modnet.link.kind=veth)");
        org.modnet.api.net.NetDevice a = veth.create(ns1, "veth0", java.util.List.of("peer", "name", "veth1"));
        org.modnet.api.net.NetDevice b = ns1.device("veth1");
        b.setNamespace(ns2);
        java.net.InetAddress brd = java.net.InetAddress.getByName("10.0.0.255");
        a.addAddress(new org.modnet.api.net.IfAddress(java.net.InetAddress.getByName("10.0.0.1"), 24, brd, "global", "veth0"));
        b.addAddress(new org.modnet.api.net.IfAddress(java.net.InetAddress.getByName("10.0.0.2"), 24, brd, "global", "veth1"));
        a.open();
        b.open();
        return new org.modnet.api.net.NetDevice[] { a, b };
    }

    /** How many ETH_P_ALL taps (tcpdump's packet sockets) are registered: a capture started listens once this grows. */
    static int taps(org.osgi.framework.BundleContext context) throws Exception {
        org.osgi.framework.ServiceReference<?>[] refs = context.getServiceReferences(org.modnet.api.net.PacketHandler.class.getName(),
                "(" + org.modnet.api.net.PacketHandler.ETHERTYPE + "=" + org.modnet.api.net.Eth.ETH_P_ALL + ")");
        return refs == null ? 0 : refs.length;
    }

    /**
     * Runs {@code line} (a tcpdump) in {@code netns} on a thread of its own and returns once its tap is in
     * place, or it ended; the future holds what it printed.
     */
    static java.util.concurrent.CompletableFuture<String> capture(org.osgi.framework.BundleContext context, CommandProcessor processor,
            String netns, String line) throws Exception {
        int before = taps(context);
        java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return runCapturing(processor, netns, line);
            } catch (Exception e) {
                return e.toString();
            }
        }, r -> Thread.ofPlatform().daemon().start(r));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (taps(context) == before && !out.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(100); // the core takes the registered tap into its handler list
        return out;
    }

    /** The service, waiting up to 10 s for it (DS activates asynchronously). */
    static <T> T service(org.osgi.framework.BundleContext context, Class<T> type, String filter) throws Exception {
        org.osgi.util.tracker.ServiceTracker<T, T> tracker = filter == null
                ? new org.osgi.util.tracker.ServiceTracker<>(context, type, null)
                : new org.osgi.util.tracker.ServiceTracker<>(context,
                        context.createFilter("(&(objectClass=" + type.getName() + ")" + filter + ")"), null);
        tracker.open();
        T s = tracker.waitForService(10_000);
        if (s == null) {
            throw new AssertionError("no " + type.getSimpleName() + " service" + (filter == null ? "" : " " + filter));
        }
        return s;
    }

    /** The bundle of that symbolic name. */
    static org.osgi.framework.Bundle bundleNamed(org.osgi.framework.BundleContext context, String bsn) {
        for (org.osgi.framework.Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + bsn);
    }

    static File file(String relative) {
        return root().resolve(relative).toFile();
    }

    /** ss's states of a connection on its way out: worth printing whatever its queues hold. */
    private static final java.util.Set<String> CLOSING_STATES = java.util.Set.of("FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
            "LAST-ACK", "CLOSING");

    /**
     * For a transfer that stalled: from {@code ss -tnoi} in each namespace, the connections that still
     * hold bytes or are closing, with their detail line (timers, recovery state), then {@code nstat -az};
     * each line starts with {@code tag}. Never throws: it only explains a failure.
     */
    static void printStalled(CommandProcessor processor, String tag, String... namespaces) {
        for (String ns : namespaces) {
            try {
                String[] lines = run(processor, ns, "ss -tnoi").split("\n");
                for (int i = 0; i < lines.length; i++) {
                    String[] w = lines[i].trim().split("\\s+");
                    boolean queued = w.length > 3 && w[0].startsWith("ESTAB") && (!w[1].equals("0") || !w[2].equals("0"));
                    if (queued || w.length > 3 && CLOSING_STATES.contains(w[0])) {
                        System.out.println(tag + ": stalled in " + ns + ": " + lines[i] + " | "
                                + (i + 1 < lines.length ? lines[i + 1].trim() : ""));
                    }
                }
                System.out.println(tag + ": " + ns + " counters: " + run(processor, ns, "nstat -az").replaceAll("\\s+", " "));
            } catch (Exception e) {
                System.out.println(tag + ": ss failed: " + e);
            }
        }
    }

    /** Every counter {@code nstat -az} shows in {@code ns}, by name. */
    static java.util.Map<String, Long> nstat(CommandProcessor processor, String ns) throws Exception {
        java.util.Map<String, Long> all = new java.util.TreeMap<>();
        for (String line : run(processor, ns, "nstat -az").split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 2 && w[1].matches("\\d+")) {
                all.put(w[0], Long.parseLong(w[1]));
            }
        }
        return all;
    }

    /**
     * A stack sample's key for the hand-over ITs' timelines: the {@code top} frames whatever they are, then those whose class
     * name contains one of {@code kept} (modnet's, Felix's, SCR's), {@code max} in all, innermost first.
     */
    static String stackKey(StackTraceElement[] st, int top, int max, String... kept) {
        StringBuilder k = new StringBuilder();
        int shown = 0;
        for (StackTraceElement f : st) {
            boolean keep = shown < top;
            for (int i = 0; !keep && i < kept.length; i++) {
                keep = f.getClassName().contains(kept[i]);
            }
            if (keep) {
                k.append(f.getClassName().replaceAll(".*\\.", "")).append('.').append(f.getMethodName()).append(':')
                        .append(f.getLineNumber()).append(" < ");
                if (++shown == max) {
                    break;
                }
            }
        }
        return k.toString();
    }

    /** A bundle event's word in the hand-over ITs' timelines ({@code BundleEvent}'s type, lower case). */
    static String bundleEvent(int type) {
        return switch (type) {
        case org.osgi.framework.BundleEvent.STOPPING -> "stopping";
        case org.osgi.framework.BundleEvent.STOPPED -> "stopped";
        case org.osgi.framework.BundleEvent.UNRESOLVED -> "unresolved";
        case org.osgi.framework.BundleEvent.UPDATED -> "updated";
        case org.osgi.framework.BundleEvent.RESOLVED -> "resolved";
        case org.osgi.framework.BundleEvent.STARTING -> "starting";
        case org.osgi.framework.BundleEvent.STARTED -> "started";
        case org.osgi.framework.BundleEvent.INSTALLED -> "installed";
        case org.osgi.framework.BundleEvent.UNINSTALLED -> "uninstalled";
        default -> "event" + type;
        };
    }
}

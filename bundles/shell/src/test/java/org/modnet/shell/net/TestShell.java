package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.modnet.api.net.LinkFactory;
import org.modnet.api.shell.CommandException;

/**
 * Runs the commands as Gogo would, over a fake core: a line is split on spaces, the output captured.
 * init_net starts with lo (1, up, 127.0.0.1/8).
 */
final class TestShell {
    final FakeCore core = new FakeCore();
    final FakeSession session = new FakeSession();
    final Map<String, LinkFactory> links = new HashMap<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    boolean coreRunning = true;

    TestShell() {
        try {
            core.ns("init_net").device("lo").addAddress(new org.modnet.api.net.IfAddress(Ipv4.parse("127.0.0.1"), 8,
                    null, "host", "lo"));
        } catch (org.modnet.api.net.NetException e) {
            throw new AssertionError(e);
        }
    }

    /** The route table {@code ip route} works on; null: none (IPv4 absent). */
    org.modnet.api.inet.RouteTable routes;

    FakeNamespace init() {
        return core.ns("init_net");
    }

    Invocation invocation() {
        return new Invocation(coreRunning ? core : null, session, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), links::get, routes, null, new Invocation.ProcFiles() {
                    @Override
                    public List<String> read(String path, org.modnet.api.net.NetNamespace ns) {
                        return procFiles.get(path);
                    }

                    @Override
                    public java.util.Collection<String> paths() {
                        return procFiles.keySet();
                    }
                });
    }

    /** Files other layers would register as {@link org.modnet.api.shell.ProcFile} services. */
    final Map<String, List<String>> procFiles = new java.util.TreeMap<>();

    String ls(String line) {
        return run(line, w -> new LsCommand(invocation()).run(w));
    }

    CommandException lsFails(String line) {
        return fails(() -> ls(line));
    }

    String ip(String line) {
        return run(line, w -> new IpCommand(invocation()).run(w));
    }

    String sysctl(String line) {
        return run(line, w -> new SysctlCommand(invocation()).run(w));
    }

    String ethtool(String line) {
        return run(line, w -> new EthtoolCommand(invocation()).run(w));
    }

    String ynl(String line) {
        return run(line, w -> new YnlCommand(invocation()).run(w));
    }

    CommandException ynlFails(String line) {
        return fails(() -> ynl(line));
    }

    String cat(String line) {
        return run(line, w -> new CatCommand(invocation()).run(w));
    }

    CommandException ipFails(String line) {
        return fails(() -> ip(line));
    }

    CommandException sysctlFails(String line) {
        return fails(() -> sysctl(line));
    }

    CommandException ethtoolFails(String line) {
        return fails(() -> ethtool(line));
    }

    /** {@code echo INPUT | tee LINE}: what tee printed. */
    String tee(String input, String line) {
        java.io.InputStream in = System.in;
        System.setIn(new java.io.ByteArrayInputStream(input.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        try {
            return run(line, w -> new TeeCommand(invocation()).run(w));
        } finally {
            System.setIn(in);
        }
    }

    CommandException teeFails(String input, String line) {
        return fails(() -> tee(input, line));
    }

    CommandException catFails(String line) {
        return fails(() -> cat(line));
    }

    private static CommandException fails(Runnable r) {
        return assertThrows(CommandException.class, r::run);
    }

    /** What went to standard output (of the last command that failed, too); and clears it. */
    String out() {
        String s = out.toString(StandardCharsets.UTF_8);
        out.reset();
        return s;
    }

    /** What went to standard error besides the failure's own message; and clears it. */
    String err() {
        String s = err.toString(StandardCharsets.UTF_8);
        err.reset();
        return s;
    }

    private String run(String line, Consumer<List<String>> command) {
        out.reset();
        command.accept(line.isBlank() ? List.of() : Arrays.asList(line.trim().split("\\s+")));
        return out();
    }

    static String lines(String... lines) {
        return String.join("\n", lines) + "\n";
    }
}

package org.modnet.packetdrill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.modnet.api.net.NetException;

/**
 * Back-quoted commands on the stack under test, as packetdrill runs them through {@code sh -c} on the
 * test namespace: {@code sysctl}, {@code set_sysctls.py /proc/sys/...=V}, shell files they name
 * ({@code defaults.sh}) line by line, {@code tc qdisc add dev tun0 root pfifo}. As in {@code sh}, the
 * status of a command list is that of its last command. A command that would change what modnet
 * cannot change ({@code ethtool -K}, {@code ip route change}, module parameters) skips the script with
 * the reason; one that would only read or clean ({@code ip tcp_metrics flush}, the sysctl restore file
 * of {@code set_sysctls.py}) has nothing to do here, since the namespace is thrown away at the end.
 */
final class ShellCommands {
    private static final Pattern ARITH = Pattern.compile("\\$\\(\\(([0-9*+\\- ]+)\\)\\)");
    private static final Pattern REDIRECT = Pattern.compile("\\s*(\\d?>&\\d|\\d?>\\s*/dev/null)");

    private final Testbed bed;
    private final Path dir;
    /** What the last refused command was, for the failure message. */
    private String lastError = "";

    ShellCommands(Testbed bed, Path dir) {
        this.bed = bed;
        this.dir = dir;
    }

    void runInit(ShellCommand c) throws ScriptFailure {
        int status = runText(c.command(), dir, c.line());
        if (status != 0) {
            throw new ScriptFailure(c.line(), "error executing init command: non-zero status " + status + lastError);
        }
    }

    void run(ShellCommand c, int line) throws ScriptFailure {
        int status = runText(c.command(), dir, line);
        if (status != 0) {
            throw new ScriptFailure(line, "error executing `" + c.command().strip() + "` command: non-zero status "
                    + status + lastError);
        }
    }

    /** The cleanup command: its failures do not change the verdict (the script has ended). */
    void runCleanup(ShellCommand c) {
        try {
            runText(c.command(), dir, c.line());
        } catch (ScriptFailure ignored) {
            // nothing of the namespace outlives the run
        }
    }

    private int runText(String text, Path base, int line) throws ScriptFailure {
        int status = 0;
        for (String raw : text.replaceAll("\\\\\r?\n", " ").split("\n|;|&&")) {
            String cmd = raw.strip();
            if (cmd.isEmpty() || cmd.startsWith("#")) {
                continue;
            }
            status = runLine(cmd, base, line);
        }
        return status;
    }

    private int runLine(String cmd, Path base, int line) throws ScriptFailure {
        cmd = REDIRECT.matcher(cmd).replaceAll("").strip();
        Matcher m = ARITH.matcher(cmd);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(b, Long.toString(arith(m.group(1))));
        }
        m.appendTail(b);
        List<String> w = words(b.toString());
        if (w.isEmpty()) {
            return 0;
        }
        String tool = w.getFirst();
        if (tool.contains("sysctl_restore_")) {
            return 0; // set_sysctls.py's restore file: the scratch namespace goes away instead
        }
        if (tool.endsWith("set_sysctls.py")) {
            int status = 0;
            for (String a : w.subList(1, w.size())) {
                int eq = a.indexOf('=');
                if (!a.startsWith("/proc/sys/") || eq < 0) {
                    return 1;
                }
                status |= set(a.substring("/proc/sys/".length(), eq).replace('/', '.'), a.substring(eq + 1));
            }
            return status;
        }
        if (tool.endsWith(".sh")) {
            Path file = base.resolve(tool).normalize();
            if (!Files.isRegularFile(file)) {
                return 127;
            }
            try {
                return runText(Files.readString(file), file.getParent(), line);
            } catch (IOException e) {
                return 126;
            }
        }
        return switch (tool) {
            case "sysctl" -> sysctl(w);
            case "ip" -> {
                if (w.size() >= 3 && w.get(1).equals("tcp_metrics") && w.get(2).equals("flush")) {
                    yield 0; // modnet keeps no TCP metrics cache: there is nothing to flush
                }
                throw ScriptFailure.skip(line, "command not supported by the runner: `" + cmd + "`");
            }
            case "tc" -> {
                if (w.size() >= 7 && w.get(1).equals("qdisc") && (w.get(2).equals("add") || w.get(2).equals("replace"))
                        && w.get(4).equals("tun0") && w.get(5).equals("root") && w.get(6).equals("pfifo")) {
                    yield 0; // tun0's pfifo_fast is one FIFO for a flow's packets, which is what pfifo gives the scripts
                }
                throw ScriptFailure.skip(line, "command not supported by the runner: `" + cmd + "`");
            }
            case "true", ":" -> 0;
            case "false" -> 1;
            default -> throw ScriptFailure.skip(line, "command not supported by the runner: `" + cmd + "`");
        };
    }

    private int sysctl(List<String> w) {
        int status = 0;
        for (String a : w.subList(1, w.size())) {
            if (a.startsWith("-")) {
                continue;
            }
            int eq = a.indexOf('=');
            if (eq < 0) {
                try {
                    bed.namespace().sysctl().get(a);
                } catch (NetException e) {
                    status = 255;
                }
                continue;
            }
            if (set(a.substring(0, eq), a.substring(eq + 1)) != 0) {
                status = 255; // sysctl's answer to a key it cannot set
            }
        }
        return status;
    }

    private int set(String name, String value) {
        try {
            bed.namespace().sysctl().set(name.strip(), value.strip());
            lastError = "";
            return 0;
        } catch (NetException | RuntimeException e) {
            lastError = " (sysctl " + name.strip() + "=" + value.strip() + ": " + e.getMessage() + ")";
            return 1;
        }
    }

    private static long arith(String expr) {
        long sum = 0;
        for (String term : expr.replace(" ", "").replace("-", "+-").split("\\+")) {
            if (term.isEmpty()) {
                continue;
            }
            long p = 1;
            for (String f : term.split("\\*")) {
                p *= Long.parseLong(f);
            }
            sum += p;
        }
        return sum;
    }

    /** Splits on blanks, keeping double- and single-quoted parts together (quotes removed). */
    private static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        boolean any = false;
        for (char c : s.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                any = true;
            } else if (Character.isWhitespace(c)) {
                if (any || !cur.isEmpty()) {
                    out.add(cur.toString());
                    cur.setLength(0);
                    any = false;
                }
            } else {
                cur.append(c);
            }
        }
        if (any || !cur.isEmpty()) {
            out.add(cur.toString());
        }
        return out;
    }
}

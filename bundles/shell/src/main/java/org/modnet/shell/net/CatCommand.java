package org.modnet.shell.net;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.SoftnetStat;
import org.modnet.api.shell.CommandException;

/**
 * {@code cat FILE...} for the files modnet keeps: {@code /proc/net/dev}, {@code /proc/net/softnet_stat}
 * and the sysctls under {@code /proc/sys/net}, each read in the session's namespace, and the files
 * other layers register ({@code /proc/net/sockstat}, {@code /sys/kernel/tracing/trace}, ...), and the
 * device attributes under {@code /sys/class/net} ({@link SysClassNet}). With no
 * file (or {@code -}) it copies standard input, so it works in a pipe.
 */
final class CatCommand {
    private final Invocation inv;

    CatCommand(Invocation inv) {
        this.inv = inv;
    }

    void run(List<String> words) {
        List<String> files = new ArrayList<>();
        boolean options = true;
        for (String w : words) {
            if (options && w.equals("--")) {
                options = false;
            } else if (options && w.startsWith("-") && w.length() > 1) {
                String opt = w.startsWith("--") ? "unrecognized option '" + w + "'"
                        : "invalid option -- '" + w.charAt(1) + "'";
                throw new CommandException("cat: " + opt + "\nTry 'cat --help' for more information.", 1);
            } else {
                files.add(w);
            }
        }
        if (files.isEmpty()) {
            files.add("-");
        }
        List<String> errors = new ArrayList<>();
        for (String file : files) {
            try {
                for (String line : read(file)) {
                    inv.out().println(line);
                }
            } catch (CommandException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new CommandException(String.join("\n", errors), 1);
        }
    }

    private List<String> read(String file) {
        if (file.equals("-")) {
            return stdin();
        }
        String path = normalize(file);
        return switch (path) {
            case "/proc/net/dev" -> ProcNet.dev(namespace().devices());
            case "/proc/net/softnet_stat" -> softnet();
            case "/proc/interrupts" -> interrupts();
            case "/proc", "/proc/net", "/proc/sys", "/proc/self", "/proc/self/net" -> throw new CommandException("cat: " + file + ": Is a directory", 1);
            default -> {
                if (path.equals("/sys") || path.startsWith("/sys/")) {
                    SysClassNet.Node node = SysClassNet.lookup(path, namespace().devices());
                    if (node != null && node.directory()) {
                        throw new CommandException("cat: " + file + ": Is a directory", 1);
                    }
                    if (node != null && node.error() != null) {
                        throw new CommandException("cat: " + file + ": " + node.error(), 1);
                    }
                    if (node != null) {
                        yield List.of(node.text());
                    }
                }
                if (path.startsWith("/proc/sys/")) {
                    yield List.of(sysctl(file, path.substring("/proc/sys/".length())));
                }
                List<String> kept = inv.procFiles().read(path, namespace());
                if (kept != null) {
                    yield kept;
                }
                throw new CommandException("cat: " + file + ": No such file or directory", 1);
            }
        };
    }

    /** {@code /proc/self/net} is {@code /proc/net}; repeated and trailing slashes are one. */
    static String normalize(String file) {
        String p = file.replaceAll("/+", "/");
        if (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.startsWith("/proc/self/net")) {
            p = "/proc/net" + p.substring("/proc/self/net".length());
        }
        return p;
    }

    private List<String> softnet() {
        List<String> lines = new ArrayList<>();
        for (SoftnetStat s : inv.requireCore("cat").softnetStats()) {
            lines.add(ProcNet.softnetLine(s));
        }
        return lines;
    }

    private String sysctl(String file, String relative) {
        String name = relative.replace('/', '.');
        var sysctl = namespace().sysctl();
        try {
            return sysctl.get(name);
        } catch (NetException e) {
            if (e.errno() == Errno.ENOENT) {
                for (Map.Entry<String, String> entry : sysctl.all().entrySet()) {
                    if (entry.getKey().startsWith(name + ".")) {
                        throw new CommandException("cat: " + file + ": Is a directory", 1);
                    }
                }
                throw new CommandException("cat: " + file + ": No such file or directory", 1);
            }
            throw new CommandException("cat: " + file + ": " + e.errno().text(), 1);
        }
    }

    private List<String> interrupts() {
        var core = inv.requireCore("cat");
        List<org.modnet.api.net.NetDevice> all = new ArrayList<>();
        for (NetNamespace ns : core.namespaces()) {
            all.addAll(ns.devices());
        }
        return ProcNet.interrupts(core.cpus(), all);
    }

    private NetNamespace namespace() {
        return inv.namespace("cat");
    }

    private static List<String> stdin() {
        List<String> lines = new ArrayList<>();
        try {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lines.add(line);
            }
        } catch (IOException e) {
            throw new CommandException("cat: -: " + e.getMessage(), 1);
        }
        return lines;
    }
}

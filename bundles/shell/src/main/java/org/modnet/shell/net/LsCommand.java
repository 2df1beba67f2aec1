package org.modnet.shell.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/**
 * {@code ls [-1] [PATH...]} as GNU ls prints to a pipe (one name a line, sorted, hidden names left
 * out): under {@code /proc} and {@code /sys} it lists modnet's own views of the session's namespace
 * (the files {@code cat} reads), not the host's; other paths are the host's file system, as Felix's
 * {@code ls} showed them. A missing path is GNU's {@code cannot access} and exit status 2.
 */
final class LsCommand {
    private final Invocation inv;

    LsCommand(Invocation inv) {
        this.inv = inv;
    }

    void run(List<String> words) {
        List<String> paths = new ArrayList<>();
        boolean options = true;
        for (String w : words) {
            if (options && w.equals("--")) {
                options = false;
            } else if (options && w.startsWith("-") && w.length() > 1) {
                for (char c : w.substring(1).toCharArray()) {
                    if (c != '1' || w.startsWith("--")) {
                        String opt = w.startsWith("--") ? "unrecognized option '" + w + "'" : "invalid option -- '" + c + "'";
                        throw new CommandException("ls: " + opt + "\nTry 'ls --help' for more information.", 2);
                    }
                }
            } else {
                paths.add(w);
            }
        }
        if (paths.isEmpty()) {
            paths.add(".");
        }
        List<String> errors = new ArrayList<>();
        List<String> fileArgs = new ArrayList<>();
        List<String> dirs = new ArrayList<>();
        List<List<String>> dirEntries = new ArrayList<>();
        for (String p : paths) {
            List<String> entries;
            try {
                entries = entries(p);
            } catch (CommandException e) {
                errors.add(e.getMessage());
                continue;
            }
            if (entries == null) {
                fileArgs.add(p);
            } else {
                dirs.add(p);
                dirEntries.add(entries);
            }
        }
        for (String e : errors) {
            inv.err().println(e); // GNU ls reports each missing path first and still lists the others
        }
        fileArgs.sort(null);
        fileArgs.forEach(inv.out()::println);
        boolean headers = paths.size() > 1;
        boolean first = fileArgs.isEmpty();
        for (int i = 0; i < dirs.size(); i++) {
            if (headers) {
                if (!first) {
                    inv.out().println();
                }
                inv.out().println(dirs.get(i) + ":");
            }
            first = false;
            dirEntries.get(i).forEach(inv.out()::println);
        }
        if (!errors.isEmpty()) {
            throw new CommandException("", 2);
        }
    }

    /** A directory's names, sorted; null for a file; CommandException if there is nothing there. */
    private List<String> entries(String typed) {
        String path = CatCommand.normalize(typed);
        if (path.equals("/proc") || path.startsWith("/proc/") || path.equals("/sys") || path.startsWith("/sys/")) {
            return modnetEntries(typed, path);
        }
        Path p = inv.session() == null ? Path.of(typed) : inv.session().currentDir() == null ? Path.of(typed)
                : inv.session().currentDir().resolve(typed);
        if (!Files.exists(p)) {
            throw missing(typed);
        }
        if (!Files.isDirectory(p)) {
            return null;
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.map(q -> q.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new CommandException("ls: cannot open directory '" + typed + "': " + e.getMessage(), 2);
        }
    }

    private List<String> modnetEntries(String typed, String path) {
        NetNamespace ns = inv.namespace("ls");
        TreeSet<String> names = new TreeSet<>();
        if (path.startsWith("/sys")) {
            SysClassNet.Node node = SysClassNet.lookup(path, ns.devices());
            if (node != null && !node.directory()) {
                return null;
            }
            if (node != null) {
                names.addAll(node.entries());
            }
        }
        String prefix = path + "/";
        for (String file : inv.procFiles().paths()) {
            if (file.equals(path)) {
                return null;
            }
            if (file.startsWith(prefix)) {
                names.add(file.substring(prefix.length()).split("/")[0]);
            }
        }
        for (String file : List.of("/proc/interrupts", "/proc/net/dev", "/proc/net/softnet_stat")) {
            if (file.equals(path)) {
                return null;
            }
            if (file.startsWith(prefix)) {
                names.add(file.substring(prefix.length()).split("/")[0]);
            }
        }
        if (path.equals("/proc")) {
            names.add("sys");
        }
        if (path.equals("/proc/sys") || path.startsWith("/proc/sys/")) {
            String key = path.equals("/proc/sys") ? "" : path.substring("/proc/sys/".length()).replace('/', '.');
            for (String name : ns.sysctl().all().keySet()) {
                if (name.equals(key)) {
                    return null;
                }
                if (key.isEmpty() || name.startsWith(key + ".")) {
                    names.add((key.isEmpty() ? name : name.substring(key.length() + 1)).split("\\.")[0]);
                }
            }
        }
        if (names.isEmpty()) {
            throw missing(typed);
        }
        return new ArrayList<>(names);
    }

    private static CommandException missing(String typed) {
        return new CommandException("ls: cannot access '" + typed + "': No such file or directory", 2);
    }
}

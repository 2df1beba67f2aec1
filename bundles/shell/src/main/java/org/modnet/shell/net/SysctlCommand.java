package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.net.Sysctl;
import org.modnet.api.shell.CommandException;

/**
 * {@code sysctl}, as procps-ng's: read {@code NAME}, write {@code NAME=VALUE} (with or without
 * {@code -w}), list with {@code -a}; in the session's namespace. Each failed key counts one into the
 * exit status, as procps-ng 4 adds up its return codes (one failure exits 1, two 2).
 */
final class SysctlCommand {
    static final String USAGE = """

            Usage:
             sysctl [options] [variable[=value] ...]

            Options:
              -a, --all            display all variables
              -A                   alias of -a
              -X                   alias of -a
              -e, --ignore         ignore unknown variables errors
              -N, --names          print variable names without values
              -n, --values         print only values of the given variable(s)
              -q, --quiet          do not echo variable set
              -w, --write          enable writing a value to variable
              -p, --load[=<file>]  read values from file
              -h, --help           display this help and exit""";

    private final Invocation inv;
    private boolean all;
    private boolean ignore;
    private boolean namesOnly;
    private boolean valuesOnly;
    private boolean quiet;
    private boolean write;
    private boolean load;
    private final List<String> errors = new ArrayList<>();

    SysctlCommand(Invocation inv) {
        this.inv = inv;
    }

    void run(List<String> words) {
        List<String> keys = new ArrayList<>();
        boolean options = true;
        for (String w : words) {
            if (options && w.equals("--")) {
                options = false;
            } else if (options && w.startsWith("--")) {
                longOption(w);
            } else if (options && w.startsWith("-") && w.length() > 1) {
                for (char c : w.substring(1).toCharArray()) {
                    shortOption(c);
                }
            } else {
                keys.add(w);
            }
        }
        Sysctl sysctl = inv.namespace("sysctl").sysctl();
        if (load) {
            loadFiles(sysctl, keys.isEmpty() ? List.of("/etc/sysctl.conf") : keys);
            if (!errors.isEmpty()) {
                throw new CommandException(String.join("\n", errors), 1); // procps: 1 however many failed
            }
            return;
        }
        if (all) {
            for (Map.Entry<String, String> e : sysctl.all().entrySet()) {
                print(e.getKey(), e.getValue());
            }
        } else if (keys.isEmpty()) {
            throw new CommandException("sysctl: no variables specified\nTry `sysctl --help' for more information.", 1);
        } else {
            for (String key : keys) {
                if (write || key.indexOf('=') >= 0) {
                    write(sysctl, key);
                } else {
                    read(sysctl, key);
                }
            }
        }
        if (!errors.isEmpty()) {
            throw new CommandException(String.join("\n", errors), Math.min(errors.size(), 255));
        }
    }

    private void longOption(String w) {
        switch (w) {
            case "--all" -> all = true;
            case "--ignore" -> ignore = true;
            case "--names" -> namesOnly = true;
            case "--values" -> valuesOnly = true;
            case "--quiet" -> quiet = true;
            case "--write" -> write = true;
            case "--load" -> load = true;
            case "--help" -> throw new CommandException(USAGE.strip(), 1);
            default -> throw new CommandException("sysctl: unrecognized option '" + w + "'\n" + USAGE, 1);
        }
    }

    private void shortOption(char c) {
        switch (c) {
            case 'a', 'A', 'X' -> all = true;
            case 'e' -> ignore = true;
            case 'N' -> namesOnly = true;
            case 'n' -> valuesOnly = true;
            case 'q' -> quiet = true;
            case 'w' -> write = true;
            case 'p' -> load = true;
            case 'h' -> throw new CommandException(USAGE.strip(), 1);
            default -> throw new CommandException("sysctl: invalid option -- '" + c + "'\n" + USAGE, 1);
        }
    }

    /**
     * {@code sysctl -p [FILE...]}: each file's {@code name = value} lines set in turn and echoed;
     * blank lines and comments ({@code #}, {@code ;}) skipped; a name starting {@code -} may be absent.
     * The files are the host's, read where they lie.
     */
    private void loadFiles(Sysctl sysctl, List<String> files) {
        for (String file : files) {
            List<String> lines;
            try {
                lines = java.nio.file.Files.readAllLines(java.nio.file.Path.of(file));
            } catch (java.io.IOException | RuntimeException e) {
                errors.add("sysctl: cannot open \"" + file + "\": No such file or directory");
                continue;
            }
            for (String raw : lines) {
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                    continue;
                }
                boolean optional = line.startsWith("-");
                if (optional) {
                    line = line.substring(1).strip();
                }
                int eq = line.indexOf('=');
                if (eq < 0) {
                    errors.add("sysctl: " + file + ": invalid syntax, continuing...");
                    continue;
                }
                String name = line.substring(0, eq).strip();
                String value = line.substring(eq + 1).strip();
                int before = errors.size();
                write(sysctl, name + "=" + value);
                if (optional && errors.size() > before && errors.get(errors.size() - 1).startsWith("sysctl: cannot stat")) {
                    errors.remove(errors.size() - 1);
                }
            }
        }
    }

    private void print(String name, String value) {
        if (namesOnly) {
            inv.out().println(name);
        } else if (valuesOnly) {
            inv.out().println(value);
        } else {
            inv.out().println(name + " = " + value);
        }
    }

    private void read(Sysctl sysctl, String key) {
        String name = dotted(key);
        if (name.isEmpty()) {
            errors.add("sysctl: \"" + key + "\" is an unknown key");
            return;
        }
        try {
            String value = sysctl.get(name);
            print(name, value);
        } catch (NetException e) {
            if (e.errno() == Errno.ENOENT && directory(sysctl, name)) {
                return;
            }
            fail(name, e);
        }
    }

    /** {@code sysctl net.core}: a directory lists what is under it. */
    private boolean directory(Sysctl sysctl, String name) {
        boolean any = false;
        for (Map.Entry<String, String> e : sysctl.all().entrySet()) {
            if (e.getKey().startsWith(name + ".")) {
                print(e.getKey(), e.getValue());
                any = true;
            }
        }
        return any;
    }

    private void write(Sysctl sysctl, String setting) {
        int eq = setting.indexOf('=');
        if (eq < 0) {
            errors.add("sysctl: \"" + setting + "\" must be of the form name=value");
            return;
        }
        String name = dotted(setting.substring(0, eq).strip());
        String value = setting.substring(eq + 1).strip();
        if (name.isEmpty()) {
            errors.add("sysctl: malformed setting \"" + setting + "\"");
            return;
        }
        try {
            sysctl.set(name, value);
        } catch (NetException e) {
            if (e.errno() == Errno.ENOENT && exists(sysctl, name)) { // the key is there, its value names nothing
                errors.add("sysctl: setting key \"" + name + "\": " + e.errno().text());
                return;
            }
            fail(name, e);
            return;
        }
        if (!quiet) {
            print(name, value);
        }
    }

    private static boolean exists(Sysctl sysctl, String name) {
        try {
            sysctl.get(name);
            return true;
        } catch (NetException e) {
            return false;
        }
    }

    private void fail(String name, NetException e) {
        if (e.errno() == Errno.ENOENT) {
            if (!ignore) {
                errors.add("sysctl: cannot stat /proc/sys/" + slashed(name) + ": No such file or directory");
            }
        } else if (e.errno() == Errno.EPERM || e.errno() == Errno.EACCES) {
            errors.add("sysctl: permission denied on key \"" + name + "\"");
        } else {
            errors.add("sysctl: setting key \"" + name + "\": " + e.errno().text());
        }
    }

    /**
     * procps's {@code slashdot}: a name whose first separator is a slash is a path, and its dots are
     * part of names; otherwise dots separate. Returned in the dotted form sysctl prints.
     */
    static String dotted(String key) {
        String k = key.startsWith("/proc/sys/") ? key.substring("/proc/sys/".length()) : key;
        int slash = k.indexOf('/');
        int dot = k.indexOf('.');
        if (slash >= 0 && (dot < 0 || slash < dot)) {
            StringBuilder b = new StringBuilder();
            for (char c : k.toCharArray()) {
                b.append(c == '/' ? '.' : c == '.' ? '/' : c);
            }
            return b.toString();
        }
        return k;
    }

    /** The path under /proc/sys of a dotted name. */
    static String slashed(String name) {
        StringBuilder b = new StringBuilder();
        for (char c : name.toCharArray()) {
            b.append(c == '.' ? '/' : c == '/' ? '.' : c);
        }
        return b.toString();
    }
}

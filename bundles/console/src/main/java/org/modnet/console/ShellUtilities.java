package org.modnet.console;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Component;

/**
 * The few text tools a shell user pipes command output through: {@code echo}, {@code grep},
 * {@code head}, {@code tail}, {@code wc -l}, {@code sort}, {@code uniq}, {@code cut} ({@code tee} is the shell bundle's, which also writes modnet's /sys and /proc/sys), and
 * {@code sleep}, as GNU coreutils' (sort compares as in the C locale). They read the pipe (standard input) and write standard
 * output, as their POSIX namesakes do, so {@code ip link | grep UP} works in Gogo.
 */
@Component(service = ShellUtilities.class, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=echo", "osgi.command.function=grep",
        "osgi.command.function=head", "osgi.command.function=tail", "osgi.command.function=wc", "osgi.command.function=sleep",
        "osgi.command.function=sort", "osgi.command.function=uniq", "osgi.command.function=cut" })
public final class ShellUtilities {

    public void echo(String... words) {
        words = Commands.words(words);
        System.out.println(String.join(" ", words));
    }

    /**
     * {@code grep [-vicqwEF] PATTERN}: lines of standard input that match, the pattern read as GNU grep
     * reads it (a basic regular expression, {@code -E} extended, {@code -F} a fixed string; see
     * {@link GrepPattern}); {@code -q} prints nothing, {@code -w} matches whole words.
     */
    public void grep(String... args) throws IOException {
        args = Commands.words(args);
        boolean invert = false;
        boolean ignoreCase = false;
        boolean count = false;
        boolean quiet = false;
        boolean word = false;
        boolean extended = false;
        boolean fixed = false;
        String pattern = null;
        for (String a : args) {
            if (pattern == null && a.startsWith("-") && a.length() > 1) {
                for (char c : a.substring(1).toCharArray()) {
                    switch (c) {
                        case 'v' -> invert = true;
                        case 'i' -> ignoreCase = true;
                        case 'c' -> count = true;
                        case 'q' -> quiet = true;
                        case 'w' -> word = true;
                        case 'E' -> extended = true;
                        case 'F' -> fixed = true;
                        case 'G' -> extended = false;
                        default -> throw new CommandException("grep: invalid option -- '" + c + "'\nUsage: grep [-vicqwEFG] PATTERN", 2);
                    }
                }
            } else if (pattern == null) {
                pattern = a;
            } else {
                throw new CommandException("grep: reads standard input only; files are not supported", 2);
            }
        }
        if (pattern == null) {
            throw new CommandException("Usage: grep [-vicqwEFG] PATTERN", 2);
        }
        Pattern p;
        try {
            p = GrepPattern.compile(pattern, extended, fixed, ignoreCase, word);
        } catch (PatternSyntaxException e) {
            throw new CommandException("grep: bad pattern: " + e.getDescription(), 2);
        }
        int matches = 0;
        for (String line : lines()) {
            if (p.matcher(line).find() != invert) {
                matches++;
                if (!count && !quiet) {
                    System.out.println(line);
                }
            }
        }
        if (count && !quiet) {
            System.out.println(matches);
        }
        if (matches == 0) {
            throw new CommandException("", 1); // grep's status 1: nothing matched, nothing to say
        }
    }

    /** {@code head [-n N]}: the first N (10) lines. */
    public void head(String... args) throws IOException {
        args = Commands.words(args);
        int n = count("head", args);
        int i = 0;
        for (String line : lines()) {
            if (i++ < n) {
                System.out.println(line);
            }
        }
    }

    /** {@code tail [-n N]}: the last N (10) lines. */
    public void tail(String... args) throws IOException {
        args = Commands.words(args);
        int n = count("tail", args);
        Deque<String> last = new ArrayDeque<>();
        for (String line : lines()) {
            last.addLast(line);
            if (last.size() > n) {
                last.removeFirst();
            }
        }
        last.forEach(System.out::println);
    }

    /** {@code wc -l}: the number of lines. */
    public void wc(String... args) throws IOException {
        args = Commands.words(args);
        if (args.length != 1 || !args[0].equals("-l")) {
            throw new CommandException("Usage: wc -l", 2);
        }
        int n = 0;
        for (String ignored : lines()) {
            n++;
        }
        System.out.println(n);
    }

    /** {@code sleep NUMBER[smhd]...}: the sum of the intervals; Ctrl-C ends it. */
    public void sleep(String... args) throws InterruptedException {
        args = Commands.words(args);
        if (args.length == 0) {
            throw new CommandException("sleep: missing operand\nTry 'sleep --help' for more information.", 1);
        }
        double seconds = 0;
        for (String a : args) {
            double unit = 1;
            String n = a;
            if (!a.isEmpty() && "smhd".indexOf(a.charAt(a.length() - 1)) >= 0) {
                unit = switch (a.charAt(a.length() - 1)) {
                    case 'm' -> 60;
                    case 'h' -> 3600;
                    case 'd' -> 86400;
                    default -> 1;
                };
                n = a.substring(0, a.length() - 1);
            }
            double v;
            try {
                v = Double.parseDouble(n);
            } catch (NumberFormatException e) {
                v = -1;
            }
            if (!(v >= 0) || n.isEmpty() || n.contains("x") || n.contains("X")) {
                throw new CommandException("sleep: invalid time interval \u2018" + a + "\u2019\nTry 'sleep --help' for more information.", 1);
            }
            seconds += v * unit;
        }
        long ms = (long) Math.min(seconds * 1000, Long.MAX_VALUE / 2);
        Thread.sleep(ms);
    }

    /**
     * {@code sort [-n] [-r] [-u] [-t SEP] [-k N[,M]]}: the lines of standard input in order, compared
     * as strings (the C locale's byte order) or with {@code -n} by their leading number; {@code -k}
     * compares from field N (to M), fields split by {@code -t} or by runs of blanks.
     */
    public void sort(String... args) throws IOException {
        args = Commands.words(args);
        boolean numeric = false;
        boolean reverse = false;
        boolean unique = false;
        String sep = null;
        int from = 0;
        int to = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-n" -> numeric = true;
                case "-r" -> reverse = true;
                case "-u" -> unique = true;
                case "-nr", "-rn" -> {
                    numeric = true;
                    reverse = true;
                }
                case "-t" -> sep = operand("sort", args, ++i);
                case "-k" -> {
                    String k = operand("sort", args, ++i);
                    try {
                        String[] p = k.split(",");
                        from = Integer.parseInt(p[0]);
                        to = p.length > 1 ? Integer.parseInt(p[1]) : 0;
                    } catch (NumberFormatException e) {
                        from = -1;
                    }
                    if (from <= 0) {
                        throw new CommandException("sort: invalid number at field start: invalid count at start of \u2018" + k + "\u2019", 2);
                    }
                }
                default -> throw new CommandException("sort: invalid option -- '" + (a.length() > 1 ? a.charAt(1) : a) + "'\n"
                        + "Try 'sort --help' for more information.", 2);
            }
        }
        final String fsep = sep;
        final int kf = from;
        final int kt = to;
        final boolean num = numeric;
        java.util.Comparator<String> byKey = (x, y) -> {
            String a = key(x, fsep, kf, kt);
            String b = key(y, fsep, kf, kt);
            return num ? Double.compare(leadingNumber(a), leadingNumber(b)) : a.compareTo(b);
        };
        java.util.Comparator<String> full = byKey.thenComparing(java.util.Comparator.naturalOrder()); // the last-resort comparison
        java.util.List<String> lines = new java.util.ArrayList<>();
        for (String l : lines()) {
            lines.add(l);
        }
        lines.sort(reverse ? full.reversed() : full);
        String last = null;
        for (String l : lines) {
            if (unique && last != null && byKey.compare(last, l) == 0) {
                continue;
            }
            System.out.println(l);
            last = l;
        }
    }

    private static String key(String line, String sep, int from, int to) {
        if (from <= 0) {
            return line;
        }
        String[] f = sep != null ? line.split(Pattern.quote(sep), -1) : line.strip().split("\\s+");
        if (from > f.length) {
            return "";
        }
        int end = to <= 0 ? f.length : Math.min(to, f.length);
        return String.join(sep != null ? sep : " ", java.util.Arrays.copyOfRange(f, from - 1, Math.max(end, from)));
    }

    private static double leadingNumber(String s) {
        java.util.regex.Matcher m = Pattern.compile("^\\s*(-?\\d+(\\.\\d+)?)").matcher(s);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** {@code uniq [-c] [-d] [-u]}: adjacent repeated lines once; {@code -c} with their count as {@code %7d }. */
    public void uniq(String... args) throws IOException {
        args = Commands.words(args);
        boolean count = false;
        boolean dupOnly = false;
        boolean uniqueOnly = false;
        for (String a : args) {
            switch (a) {
                case "-c" -> count = true;
                case "-d" -> dupOnly = true;
                case "-u" -> uniqueOnly = true;
                default -> throw new CommandException("uniq: invalid option -- '" + (a.length() > 1 ? a.charAt(1) : a) + "'\n"
                        + "Try 'uniq --help' for more information.", 1);
            }
        }
        String prev = null;
        int n = 0;
        for (String l : lines()) {
            if (l.equals(prev)) {
                n++;
                continue;
            }
            emit(prev, n, count, dupOnly, uniqueOnly);
            prev = l;
            n = 1;
        }
        emit(prev, n, count, dupOnly, uniqueOnly);
    }

    private static void emit(String line, int n, boolean count, boolean dupOnly, boolean uniqueOnly) {
        if (line == null || dupOnly && n < 2 || uniqueOnly && n > 1) {
            return;
        }
        System.out.println(count ? String.format("%7d %s", n, line) : line);
    }

    /** {@code cut -d DELIM -f LIST} or {@code cut -c LIST}: the fields or characters listed ({@code 1,3-5}, {@code 2-}). */
    public void cut(String... args) throws IOException {
        args = Commands.words(args);
        String delim = "\t";
        String fields = null;
        String chars = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-d")) {
                delim = operand("cut", args, ++i);
            } else if (a.startsWith("-d") && a.length() > 2) {
                delim = a.substring(2);
            } else if (a.equals("-f")) {
                fields = operand("cut", args, ++i);
            } else if (a.startsWith("-f") && a.length() > 2) {
                fields = a.substring(2);
            } else if (a.equals("-c")) {
                chars = operand("cut", args, ++i);
            } else if (a.startsWith("-c") && a.length() > 2) {
                chars = a.substring(2);
            } else {
                throw new CommandException("cut: invalid option -- '" + (a.length() > 1 ? a.charAt(1) : a) + "'\n"
                        + "Try 'cut --help' for more information.", 1);
            }
        }
        if ((fields == null) == (chars == null)) {
            throw new CommandException("cut: you must specify a list of bytes, characters, or fields\n"
                    + "Try 'cut --help' for more information.", 1);
        }
        if (delim.length() != 1) {
            throw new CommandException("cut: the delimiter must be a single character\nTry 'cut --help' for more information.", 1);
        }
        boolean[] pick = ranges("cut", fields != null ? fields : chars);
        for (String l : lines()) {
            StringBuilder sb = new StringBuilder();
            if (chars != null) {
                for (int i = 0; i < l.length(); i++) {
                    if (picked(pick, i + 1)) {
                        sb.append(l.charAt(i));
                    }
                }
            } else if (!l.contains(delim)) {
                sb.append(l); // a line without the delimiter is printed whole, as cut does without -s
            } else {
                String[] f = l.split(Pattern.quote(delim), -1);
                for (int i = 0; i < f.length; i++) {
                    if (picked(pick, i + 1)) {
                        if (sb.length() > 0 || i > 0 && anyPickedBefore(pick, i)) {
                            sb.append(delim);
                        }
                        sb.append(f[i]);
                    }
                }
            }
            System.out.println(sb);
        }
    }

    private static boolean anyPickedBefore(boolean[] pick, int i) {
        for (int k = 1; k <= i; k++) {
            if (picked(pick, k)) {
                return true;
            }
        }
        return false;
    }

    /** A LIST as cut reads it: positions from 1; the last slot set means "and every one after". */
    private static boolean[] ranges(String tool, String list) {
        boolean[] pick = new boolean[1026];
        for (String part : list.split(",")) {
            String[] p = part.split("-", -1);
            try {
                int lo = p[0].isEmpty() ? 1 : Integer.parseInt(p[0]);
                int hi = p.length == 1 ? lo : p[1].isEmpty() ? 1025 : Integer.parseInt(p[1]);
                if (lo < 1 || hi < lo || p.length > 2) {
                    throw new NumberFormatException();
                }
                for (int k = lo; k <= Math.min(hi, 1025); k++) {
                    pick[k] = true;
                }
            } catch (NumberFormatException e) {
                throw new CommandException(tool + ": invalid field value \u2018" + part + "\u2019\nTry 'cut --help' for more information.", 1);
            }
        }
        return pick;
    }

    private static boolean picked(boolean[] pick, int k) {
        return k < pick.length ? pick[k] : pick[pick.length - 1];
    }

    private static String operand(String tool, String[] args, int i) {
        if (i >= args.length) {
            throw new CommandException(tool + ": option requires an argument -- '" + args[i - 1].charAt(args[i - 1].length() - 1) + "'\n"
                    + "Try '" + tool + " --help' for more information.", tool.equals("sort") ? 2 : 1);
        }
        return args[i];
    }

    private static int count(String tool, String... args) {
        if (args.length == 0) {
            return 10;
        }
        String value = args.length == 2 && args[0].equals("-n") ? args[1]
                : args.length == 1 && args[0].matches("-\\d+") ? args[0].substring(1) : null;
        try {
            int n = value == null ? -1 : Integer.parseInt(value);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CommandException("Usage: " + tool + " [-n N]", 2);
    }

    private static Iterable<String> lines() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        return in.lines().toList();
    }
}

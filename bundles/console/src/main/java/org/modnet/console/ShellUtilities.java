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
 * {@code head}, {@code tail}, {@code wc -l}. They read the pipe (standard input) and write standard
 * output, as their POSIX namesakes do, so {@code ip link | grep UP} works in Gogo.
 */
@Component(service = ShellUtilities.class, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=echo", "osgi.command.function=grep",
        "osgi.command.function=head", "osgi.command.function=tail", "osgi.command.function=wc" })
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

package org.modnet.console;

import java.io.PrintStream;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

import org.modnet.api.shell.CommandException;

/**
 * {@code watch [-n SECS] [-t] [-d] COMMAND...} as procps-ng's watch: runs the modnet command line
 * (the words joined with spaces, as watch hands them to {@code sh -c}) every interval until Ctrl-C,
 * each round on a cleared screen under the header {@code Every 1.0s: COMMAND} with {@code HOST: DATE}
 * at the right edge ({@code -t}: no header). {@code -d} shows in reverse video the characters that
 * changed since the last round. Ctrl-C ends it as it ends any command.
 */
final class Watch {
    static final String CLEAR = "\033[H\033[2J";
    static final String STANDOUT = "\033[7m";
    static final String STANDOUT_END = "\033[27m";
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ROOT);

    /** Runs a command line; returns what it printed (standard output and error). */
    interface Runner {
        String run(String line) throws InterruptedException;
    }

    /** Waits between rounds; Ctrl-C interrupts it. */
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    private final PrintStream out;
    private final Runner runner;
    private final Sleeper sleeper;
    private final Supplier<ZonedDateTime> clock;
    private final String host;
    private final int width;

    Watch(PrintStream out, Runner runner, Sleeper sleeper, Supplier<ZonedDateTime> clock, String host, int width) {
        this.out = out;
        this.runner = runner;
        this.sleeper = sleeper;
        this.clock = clock;
        this.host = host;
        this.width = width;
    }

    void run(List<String> args) {
        double interval = 2.0; // procps's default
        boolean title = true;
        boolean differences = false;
        int i = 0;
        for (; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--")) {
                i++;
                break;
            }
            if (!a.startsWith("-") || a.length() == 1) {
                break;
            }
            if (a.equals("--no-title")) {
                title = false;
            } else if (a.equals("--differences")) {
                differences = true;
            } else if (a.equals("--interval") || a.startsWith("--interval=")) {
                String v = a.contains("=") ? a.substring(a.indexOf('=') + 1) : ++i < args.size() ? args.get(i) : null;
                interval = seconds(v);
            } else if (a.startsWith("--")) {
                throw usage("unrecognized option '" + a + "'");
            } else {
                for (int k = 1; k < a.length(); k++) {
                    char c = a.charAt(k);
                    switch (c) {
                        case 't' -> title = false;
                        case 'd' -> differences = true;
                        case 'n' -> {
                            String v = k + 1 < a.length() ? a.substring(k + 1) : ++i < args.size() ? args.get(i) : null;
                            if (v == null) {
                                throw usage("option requires an argument -- 'n'");
                            }
                            interval = seconds(v);
                            k = a.length();
                        }
                        default -> throw usage("invalid option -- '" + c + "'");
                    }
                }
            }
        }
        if (i >= args.size()) {
            throw usage(null);
        }
        String line = String.join(" ", args.subList(i, args.size()));
        long millis = Math.round(interval * 1000);
        String previous = null;
        try {
            while (true) {
                String now = runner.run(line);
                StringBuilder screen = new StringBuilder(CLEAR);
                if (title) {
                    screen.append(header(interval, line)).append("\n\n");
                }
                screen.append(differences && previous != null ? highlight(previous, now) : now);
                out.print(screen);
                out.flush();
                previous = now;
                sleeper.sleep(millis);
            }
        } catch (InterruptedException e) {
            // Ctrl-C is how watch ends; Gogo reports the job as interrupted, as for any command
            out.println();
        }
    }

    /** procps: a number of seconds, at least 0.1; anything else is "failed to parse argument". */
    private static double seconds(String v) {
        try {
            double s = Double.parseDouble(v.replace(',', '.'));
            if (Double.isNaN(s) || s < 0) {
                throw new NumberFormatException();
            }
            return Math.min(Math.max(s, 0.1), 4294967.0); // watch's bounds (0.1 s; UINT_MAX/1000)
        } catch (NumberFormatException | NullPointerException e) {
            throw new CommandException("watch: failed to parse argument: '" + v + "'", 1);
        }
    }

    private static CommandException usage(String problem) {
        String text = "\nUsage:\n watch [options] command\n\nTry 'watch --help' for more information.";
        // getopt's complaint, then watch's usage, which begins with an empty line
        return new CommandException(problem == null ? text : "watch: " + problem + "\n" + text, 1);
    }

    /** {@code Every 1.0s: COMMAND} on the left, {@code HOST: DATE} ending at the right edge. */
    String header(double interval, String line) {
        String left = String.format(Locale.ROOT, "Every %.1fs: %s", interval, line);
        String right = host + ": " + DATE.format(clock.get());
        int room = width - right.length() - 1;
        if (left.length() > room) {
            left = room > 3 ? left.substring(0, room - 3) + "..." : "";
        }
        return left + " ".repeat(Math.max(1, width - left.length() - right.length())) + right;
    }

    /** The new output, characters that differ from the old one at the same line and column in reverse video. */
    static String highlight(String old, String now) {
        String[] before = old.split("\n", -1);
        String[] after = now.split("\n", -1);
        StringBuilder b = new StringBuilder();
        for (int l = 0; l < after.length; l++) {
            String was = l < before.length ? before[l] : "";
            String is = after[l];
            boolean on = false;
            for (int c = 0; c < is.length(); c++) {
                boolean changed = c >= was.length() || was.charAt(c) != is.charAt(c);
                if (changed != on) {
                    b.append(changed ? STANDOUT : STANDOUT_END);
                    on = changed;
                }
                b.append(is.charAt(c));
            }
            if (on) {
                b.append(STANDOUT_END);
            }
            if (l < after.length - 1) {
                b.append('\n');
            }
        }
        return b.toString();
    }
}

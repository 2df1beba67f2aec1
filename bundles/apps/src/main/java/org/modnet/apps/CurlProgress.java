package org.modnet.apps;

import java.io.PrintStream;

/**
 * curl's progress meter ({@code lib/progress.c}'s layout): two header lines, then one line that is
 * rewritten in place ({@code \r}) at most once a second and once at the end, followed by a newline.
 * Sizes take five columns ({@link #max5}), times eight ({@link #time}). A size the server did not
 * announce shows as what has arrived, at 100 % of the total and 0 % received, as curl shows it.
 */
final class CurlProgress {
    static final String HEADER = "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
            + "                                 Dload  Upload   Total   Spent    Left  Speed\n";

    private final PrintStream err;
    private final long start;
    private long lastPrint;
    private long lastBytes;
    private long lastSample;
    private long current;
    private boolean begun;
    private boolean ended;
    private long lastSize = -1;
    private long lastReceived;

    CurlProgress(PrintStream err, long startNanos) {
        this.err = err;
        this.start = startNanos;
        this.lastPrint = startNanos;
        this.lastSample = startNanos;
    }

    void begin() {
        begun = true;
        err.print(HEADER);
        err.print(line(-1, 0, 0));
        err.flush();
    }

    /** A line if a second has passed since the last one. {@code size} -1 when unknown. */
    void update(long size, long received, long now) {
        lastSize = size;
        lastReceived = received;
        if (now - lastPrint >= 1_000_000_000L) {
            sample(received, now);
            lastPrint = now;
            err.print(line(size, received, now - start));
            err.flush();
        }
    }

    /** Ends a meter that is still running with what it last showed (a transfer that failed). */
    void end(long now) {
        if (begun && !ended) {
            end(lastSize, lastReceived, now);
        }
    }

    void end(long size, long received, long now) {
        ended = true;
        long elapsed = now - start;
        if (now - lastSample < 1_000_000_000L || current == 0) {
            current = elapsed <= 0 ? 0 : (long) (received / (elapsed / 1e9));
        }
        err.print(line(size, received, elapsed) + "\n");
        err.flush();
    }

    private void sample(long received, long now) {
        current = (long) ((received - lastBytes) / ((now - lastSample) / 1e9));
        lastBytes = received;
        lastSample = now;
    }

    /** One meter line, with its leading carriage return. */
    String line(long size, long received, long elapsedNanos) {
        double secs = elapsedNanos / 1e9;
        long speed = secs <= 0 ? 0 : (long) (received / secs);
        long total = size >= 0 ? size : received;
        int totalPct = total > 0 ? (int) (received * 100 / total) : 0;
        int dlPct = size > 0 ? (int) (received * 100 / size) : 0;
        long spent = (long) secs;
        long expected = size > 0 && speed > 0 ? size / speed : 0;
        long left = expected > spent ? expected - spent : 0;
        long cur = elapsedNanos < 0 ? 0 : current != 0 ? current : speed;
        return String.format("\r%3d %s  %3d %s  %3d %s  %s  %s %s %s %s %s", totalPct, max5(total), dlPct, max5(received), 0,
                max5(0), max5(speed), max5(0), time(expected), time(spent), time(left), max5(cur));
    }

    /** A byte count in five columns: 99999, then 9999k, 99.9M, 9999M, 99.9G, 9999G, as curl's max5data. */
    static String max5(long b) {
        final long k = 1024;
        final long m = k * k;
        final long g = m * k;
        if (b < 100_000) {
            return String.format("%5d", b);
        }
        if (b < 10_000 * k) {
            return String.format("%4dk", b / k);
        }
        if (b < 100 * m) {
            return String.format("%2d.%dM", b / m, (b % m) / (m / 10));
        }
        if (b < 10_000 * m) {
            return String.format("%4dM", b / m);
        }
        if (b < 100 * g) {
            return String.format("%2d.%dG", b / g, (b % g) / (g / 10));
        }
        return String.format("%4dG", b / g);
    }

    /** Seconds as {@code H:MM:SS} in eight columns, {@code --:--:--} for none, days past 99 hours. */
    static String time(long seconds) {
        if (seconds <= 0) {
            return "--:--:--";
        }
        long h = seconds / 3600;
        if (h <= 99) {
            return String.format("%2d:%02d:%02d", h, (seconds % 3600) / 60, seconds % 60);
        }
        long d = seconds / 86400;
        return d <= 999 ? String.format("%3dd %02dh", d, h % 24) : String.format("%7dd", d);
    }
}

package org.modnet.sched;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

import org.modnet.api.shell.CommandException;

/**
 * iproute2's {@code tc/tc_util.c} and {@code lib/utils.c} as modnet needs them: reading times, rates,
 * sizes, percentages and handles the way {@code tc} reads them, and printing them the way it prints.
 */
final class TcUtil {
    static final long NSEC_PER_USEC = 1_000L;
    static final long NSEC_PER_MSEC = 1_000_000L;
    static final long NSEC_PER_SEC = 1_000_000_000L;
    static final long UINT32_MAX = 0xffff_ffffL;

    private TcUtil() {
    }

    /** tc's error for a word it cannot read: {@code Illegal "what"}, status 1. */
    static CommandException illegal(String what) {
        return new CommandException("Illegal \"" + what + "\"", 1);
    }

    /** {@code get_time64}: a number with s/sec/ms/msec/us/usec/ns (a bare number is microseconds) to nanoseconds; null if unreadable. */
    static Long parseTime(String s) {
        int i = numberEnd(s);
        double v = leadingValue(s, i);
        if (Double.isNaN(v)) {
            return null;
        }
        String unit = s.substring(i).toLowerCase(Locale.ROOT);
        double scale = switch (unit) {
            case "s", "sec", "secs" -> NSEC_PER_SEC;
            case "ms", "msec", "msecs" -> NSEC_PER_MSEC;
            case "", "us", "usec", "usecs" -> NSEC_PER_USEC;
            case "ns", "nsec", "nsecs" -> 1;
            default -> Double.NaN;
        };
        if (Double.isNaN(scale) || Double.isInfinite(v)) {
            return null;
        }
        return Math.round(v * scale);
    }

    /** {@code get_rate64}: bits per second with bit/kbit/mbit/gbit/tbit, kibit..., or bps/kbps/mbps/gbps (bytes); to bytes per second. */
    static Long parseRate(String s) {
        int i = numberEnd(s);
        double v = leadingValue(s, i);
        if (Double.isNaN(v)) {
            return null;
        }
        String unit = s.substring(i).toLowerCase(Locale.ROOT);
        double bits = switch (unit) {
            case "", "bit" -> 1;
            case "kbit" -> 1e3;
            case "mbit" -> 1e6;
            case "gbit" -> 1e9;
            case "tbit" -> 1e12;
            case "kibit" -> 1024.0;
            case "mibit" -> 1024.0 * 1024;
            case "gibit" -> 1024.0 * 1024 * 1024;
            case "bps" -> 8;
            case "kbps" -> 8e3;
            case "mbps" -> 8e6;
            case "gbps" -> 8e9;
            default -> Double.NaN;
        };
        if (Double.isNaN(bits) || v < 0) {
            return null;
        }
        return (long) (v * bits / 8);
    }

    /** {@code get_size}: bytes with k/kb (KiB), m/mb, g/gb, kbit/mbit/gbit (bits), b; a bare number is bytes. */
    static Long parseSize(String s) {
        int i = numberEnd(s);
        double v = leadingValue(s, i);
        if (Double.isNaN(v)) {
            return null;
        }
        String unit = s.substring(i).toLowerCase(Locale.ROOT);
        double scale = switch (unit) {
            case "", "b" -> 1;
            case "k", "kb" -> 1024;
            case "m", "mb" -> 1024 * 1024;
            case "g", "gb" -> 1024.0 * 1024 * 1024;
            case "kbit" -> 1024 / 8.0;
            case "mbit" -> 1024 * 1024 / 8.0;
            case "gbit" -> 1024.0 * 1024 * 1024 / 8;
            default -> Double.NaN;
        };
        if (Double.isNaN(scale) || v < 0 || v * scale > UINT32_MAX) {
            return null;
        }
        return (long) (v * scale);
    }

    /** {@code get_percent}: {@code 20%} or {@code 20} to a fraction of 2^32-1; null if not 0..100. */
    static Long parsePercent(String s) {
        String n = s.endsWith("%") ? s.substring(0, s.length() - 1) : s;
        double v;
        try {
            v = Double.parseDouble(n);
        } catch (NumberFormatException e) {
            return null;
        }
        if (!(v >= 0 && v <= 100)) {
            return null;
        }
        return Math.round(v / 100 * UINT32_MAX);
    }

    /** {@code get_u32}: a non-negative int; null if not one. */
    static Integer parseU32(String s) {
        try {
            long v = Long.decode(s);
            return v < 0 || v > Integer.MAX_VALUE ? null : (int) v;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {@code get_qdisc_handle}: hex major with an optional colon ({@code 1:}, {@code 8001}), as major << 16; -1 if bad. */
    static int parseQdiscHandle(String s) {
        String h = s.endsWith(":") ? s.substring(0, s.length() - 1) : s;
        if (h.isEmpty() || h.length() > 4) {
            return -1;
        }
        try {
            return Integer.parseInt(h, 16) << 16;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** {@code get_tc_classid}: {@code maj:min} in hex ({@code 1:10}, {@code 1:}); -1 if bad. */
    static int parseClassid(String s) {
        int colon = s.indexOf(':');
        if (colon < 0) {
            return parseQdiscHandle(s);
        }
        // get_tc_classid: no major before the colon is major 0 (":1", a default mq's queue 1)
        int maj = colon == 0 ? 0 : parseQdiscHandle(s.substring(0, colon));
        String m = s.substring(colon + 1);
        if (maj == -1 || m.length() > 4) { // majors from 8000: up are negative ints, not errors
            return -1;
        }
        try {
            return maj | (m.isEmpty() ? 0 : Integer.parseInt(m, 16));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A handle as tc prints it: {@code 8001:}, {@code 0:}; a class as {@code 1:10}. */
    static String handle(int h) {
        int min = h & 0xffff;
        return Integer.toHexString(h >>> 16) + ":" + (min == 0 ? "" : Integer.toHexString(min));
    }

    /** {@code sprint_time64}: 50ms, 991us, 1.5s, 800ns. */
    static String time(long ns) {
        if (ns >= NSEC_PER_SEC) {
            return g3(ns / (double) NSEC_PER_SEC) + "s";
        }
        if (ns >= NSEC_PER_MSEC) {
            return g3(ns / (double) NSEC_PER_MSEC) + "ms";
        }
        if (ns >= NSEC_PER_USEC) {
            return g3(ns / (double) NSEC_PER_USEC) + "us";
        }
        return ns + "ns";
    }

    /** {@code sprint_rate}: bytes per second as 10Mbit, 1500Kbit, 800bit (units of 1000 while they divide evenly). */
    static String rate(long bytesPerSec) {
        String[] units = { "bit", "Kbit", "Mbit", "Gbit", "Tbit" };
        long r = bytesPerSec * 8;
        int i = 0;
        for (; i < units.length - 1; i++) {
            if (r < 1000 || (r % 1000 != 0 && r < 1_000_000)) {
                break;
            }
            r /= 1000;
        }
        return r + units[i];
    }

    /** {@code sprint_size}: 4Kb, 10Kb, 1Mb, 1514b. */
    static String size(long sz) {
        if (sz >= 1024 * 1024 && Math.abs(1024 * 1024 * Math.rint(sz / (1024.0 * 1024)) - sz) < 1024) {
            return g6(Math.rint(sz / (1024.0 * 1024))) + "Mb";
        }
        if (sz >= 1024 && Math.abs(1024 * Math.rint(sz / 1024.0) - sz) < 16) {
            return g6(Math.rint(sz / 1024.0)) + "Kb";
        }
        return sz + "b";
    }

    /** A fraction of 2^32-1 as tc prints a percentage: {@code 20%}, {@code 0.1%}. */
    static String percent(long u32) {
        return g6(100.0 * u32 / UINT32_MAX) + "%";
    }

    /** C's {@code %.3g} for the values tc prints (below 1000). */
    static String g3(double v) {
        return g(v, 3);
    }

    /** C's {@code %g}. */
    static String g6(double v) {
        return g(v, 6);
    }

    private static String g(double v, int digits) {
        if (v == 0) {
            return "0";
        }
        BigDecimal d = new BigDecimal(v).round(new MathContext(digits)).stripTrailingZeros();
        return d.scale() < 0 ? d.setScale(0).toPlainString() : d.toPlainString();
    }

    /** The number before {@code end} (where {@link #numberEnd} stopped), or NaN when there is none to read. */
    private static double leadingValue(String s, int end) {
        if (end == 0) {
            return Double.NaN;
        }
        try {
            return Double.parseDouble(s.substring(0, end));
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static int numberEnd(String s) {
        int i = 0;
        if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
            i++;
        }
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
            i++;
        }
        return i == 0 || (i == 1 && !Character.isDigit(s.charAt(0))) ? 0 : i;
    }
}

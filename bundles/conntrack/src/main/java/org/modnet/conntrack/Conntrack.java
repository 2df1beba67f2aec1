package org.modnet.conntrack;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.shell.CommandException;

/**
 * The {@code conntrack} command (conntrack-tools 1.4.7): {@code -L}, {@code -D}, {@code -F}, {@code -C}
 * and {@code -S} with the filters {@code -p -s -d -r -q --sport --dport --state -w}, printing entries as it
 * does ({@code tcp      6 431999 ESTABLISHED src=... [ASSURED] mark=0 use=1}), and the lines of
 * {@code /proc/net/nf_conntrack}. The summary conntrack writes to stderr is the last line here.
 */
final class Conntrack {
    static final String VERSION = "conntrack v1.4.7 (conntrack-tools): ";
    static final String TRY = "Try `conntrack -h' or 'conntrack --help' for more information.";

    private Conntrack() {
    }

    static CommandException error(String msg) {
        return new CommandException(VERSION + msg + "\n" + TRY, 1);
    }

    /** Runs one command line on the namespace's table, returning what it prints. */
    static List<String> run(ConntrackTable t, String... args) {
        char cmd = 0;
        int proto = -1;
        long s = -1, d = -1, r = -1, q = -1;
        int sport = -1, dport = -1, state = -1, zone = -1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-L", "--dump", "-D", "--delete", "-F", "--flush", "-C", "--count", "-S", "--stats" -> {
                    char c = a.startsWith("--") ? switch (a) {
                        case "--dump" -> 'L';
                        case "--delete" -> 'D';
                        case "--flush" -> 'F';
                        case "--count" -> 'C';
                        default -> 'S';
                    } : a.charAt(1);
                    if (cmd != 0 && cmd != c) {
                        throw error("Invalid parameters");
                    }
                    cmd = c;
                    if (i + 1 < args.length && (args[i + 1].equals("conntrack") || args[i + 1].equals("expect"))) {
                        i++; // the table name: only conntrack has entries here
                    }
                }
                case "-p", "--proto", "--protonum" -> proto = switch (value(args, ++i, a).toLowerCase(Locale.ROOT)) {
                    case "tcp", "6" -> 6;
                    case "udp", "17" -> 17;
                    case "icmp", "1" -> 1;
                    default -> {
                        String p = args[i];
                        if (p.matches("[0-9]{1,3}") && Integer.parseInt(p) < 256) {
                            yield Integer.parseInt(p);
                        }
                        throw error("`" + p + "' unsupported protocol");
                    }
                };
                case "-s", "--orig-src", "--src" -> s = addr(value(args, ++i, a));
                case "-d", "--orig-dst", "--dst" -> d = addr(value(args, ++i, a));
                case "-r", "--reply-src" -> r = addr(value(args, ++i, a));
                case "-q", "--reply-dst" -> q = addr(value(args, ++i, a));
                case "--sport", "--orig-port-src" -> sport = port(value(args, ++i, a));
                case "--dport", "--orig-port-dst" -> dport = port(value(args, ++i, a));
                case "--state" -> {
                    String v = value(args, ++i, a);
                    if (proto != 6) {
                        throw error("unknown option `--state'");
                    }
                    state = java.util.Arrays.asList(TcpConntrack.NAMES).indexOf(v.toUpperCase(Locale.ROOT));
                    if (state <= 0) {
                        throw error("unknown TCP state `" + v + "'");
                    }
                }
                // -w/--zone, --orig-zone, --reply-zone: conntrack-tools reads them with strtoul into a u16; one
                // zone per flow here (no CT --zone-orig/--zone-reply), so the three filter alike
                case "-w", "--zone", "--orig-zone", "--reply-zone" -> zone = (int) strtoul(value(args, ++i, a)) & 0xffff;
                case "-n", "--src-nat", "-g", "--dst-nat" -> { }
                default -> throw error("unknown option `" + a + "'");
            }
        }
        final int fp = proto, fs = sport, fd = dport, fst = state, fz = zone;
        final long ls = s, ld = d, lr = r, lq = q;
        Predicate<NfConn> filter = ct -> (fp < 0 || ct.proto == fp)
                && (ls < 0 || ct.orig.src == (int) ls) && (ld < 0 || ct.orig.dst == (int) ld)
                && (lr < 0 || ct.reply.src == (int) lr) && (lq < 0 || ct.reply.dst == (int) lq)
                && (fs < 0 || (ct.proto == 6 || ct.proto == 17) && ct.orig.sport == fs)
                && (fd < 0 || (ct.proto == 6 || ct.proto == 17) && ct.orig.dport == fd)
                && (fst < 0 || ct.proto == 6 && ct.state == fst)
                && (fz < 0 || ct.zone == fz);
        List<String> out = new ArrayList<>();
        switch (cmd) {
            case 'L' -> {
                int n = 0;
                for (NfConn ct : t.entries()) {
                    if (filter.test(ct)) {
                        out.add(line(t, ct, false));
                        n++;
                    }
                }
                out.add(VERSION + n + " flow entries have been shown.");
            }
            case 'D' -> {
                List<NfConn> gone = t.delete(filter);
                for (NfConn ct : gone) {
                    out.add(line(t, ct, false));
                }
                out.add(VERSION + gone.size() + " flow entries have been deleted.");
            }
            case 'F' -> {
                t.delete(ct -> true);
                out.add(VERSION + "connection tracking table has been emptied.");
            }
            case 'C' -> out.add(Integer.toString(t.count.get()));
            case 'S' -> out.add(String.format("cpu=%-4d\tfound=%d invalid=%d insert=%d insert_failed=%d drop=%d "
                    + "early_drop=%d error=%d search_restart=%d clash_resolve=%d chaintoolong=%d ", 0, t.found.get(),
                    t.invalid.get(), t.insert.get(), t.insertFailed.get(), t.drop.get(), t.earlyDrop.get(), t.error.get(),
                    t.searchRestart.get(), t.clashResolve.get(), t.chainTooLong.get()));
            default -> throw error("no command specified");
        }
        return out;
    }

    /** C's strtoul(v, NULL, 0): a decimal, 0x hex or 0 octal prefix of the text, 0 when there is none. */
    static long strtoul(String v) {
        String t = v.strip();
        int radix = 10, i = 0;
        if (t.startsWith("0x") || t.startsWith("0X")) {
            radix = 16;
            i = 2;
        } else if (t.startsWith("0")) {
            radix = 8;
        }
        long n = 0;
        for (; i < t.length(); i++) {
            int dgt = Character.digit(t.charAt(i), radix);
            if (dgt < 0) {
                break;
            }
            n = n * radix + dgt;
            if (n > 0xffffffffL) {
                return 0xffffffffL; // ULONG_MAX as a 32-bit tool sees it; truncated to the zone's 16 bits anyway
            }
        }
        return n;
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw error("option `" + opt + "' requires an argument");
        }
        return args[i];
    }

    private static long addr(String v) {
        long a = Ipv4Addresses.parse(v);
        if (a < 0) {
            throw error("Bad parameter `" + v + "'");
        }
        return a & 0xffffffffL;
    }

    private static int port(String v) {
        if (!v.matches("[0-9]{1,5}") || Integer.parseInt(v) > 65535) {
            throw error("invalid port: `" + v + "'");
        }
        return Integer.parseInt(v);
    }

    static String protoName(int p) {
        return switch (p) {
            case 6 -> "tcp";
            case 17 -> "udp";
            case 1 -> "icmp";
            default -> "unknown";
        };
    }

    /** One entry as conntrack -L prints it, or (proc) as a line of /proc/net/nf_conntrack. */
    static String line(ConntrackTable t, NfConn ct, boolean proc) {
        StringBuilder b = new StringBuilder();
        if (proc) {
            b.append(String.format("%-8s %d ", "ipv4", 2));
        }
        b.append(String.format("%-8s %d %d ", protoName(ct.proto), ct.proto, t.secondsLeft(ct)));
        if (ct.proto == 6) {
            b.append(TcpConntrack.NAMES[ct.state]).append(' ');
        }
        tuple(b, ct.orig, ct.proto);
        if (!ct.has(NfConn.IPS_SEEN_REPLY)) {
            b.append("[UNREPLIED] ");
        }
        tuple(b, ct.reply, ct.proto);
        if (ct.has(NfConn.IPS_ASSURED)) {
            b.append("[ASSURED] ");
        }
        b.append("mark=").append(ct.mark).append(' ');
        if (proc) {
            b.append("zone=").append(ct.zone).append(" use=2"); // the reader holds a reference too
        } else {
            // conntrack-tools prints a zone only when the kernel sends one (CTA_ZONE: not for zone 0)
            b.append(ct.zone != 0 ? "zone=" + ct.zone + " " : "").append("use=1");
        }
        return b.toString();
    }

    private static void tuple(StringBuilder b, NfConn.TupleHash h, int proto) {
        b.append("src=").append(Ipv4Addresses.format(h.src)).append(" dst=").append(Ipv4Addresses.format(h.dst)).append(' ');
        switch (proto) {
            case 6, 17 -> b.append("sport=").append(h.sport).append(" dport=").append(h.dport).append(' ');
            case 1 -> b.append("type=").append(h.dport >>> 8).append(" code=").append(h.dport & 0xff).append(" id=")
                    .append(h.sport).append(' ');
            default -> { }
        }
    }

    /** How many events one {@code conntrack -E} can have waiting before it loses some (its socket buffer). */
    static final int EVENT_RING = 4096;

    /**
     * {@code conntrack -E [-e NEW,UPDATE,DESTROY] [-p PROTO]}: prints each event as conntrack does
     * ({@code    [NEW] tcp      6 120 SYN_SENT src=...}) until {@code stop} says so, then its summary;
     * returns the number of events shown.
     */
    static int events(ConntrackTable t, String[] args, java.util.function.Consumer<String> out,
            java.util.function.BooleanSupplier stop, long pollMillis) {
        int mask = ConntrackEvents.NEW | ConntrackEvents.UPDATE | ConntrackEvents.DESTROY;
        int proto = -1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-E", "--event" -> {
                    if (i + 1 < args.length && (args[i + 1].equals("conntrack") || args[i + 1].equals("expect"))) {
                        i++;
                    }
                }
                case "-e", "--event-mask" -> {
                    mask = 0;
                    for (String w : value(args, ++i, a).split(",")) {
                        mask |= switch (w.toUpperCase(Locale.ROOT)) {
                            case "NEW" -> ConntrackEvents.NEW;
                            case "UPDATE" -> ConntrackEvents.UPDATE;
                            case "DESTROY" -> ConntrackEvents.DESTROY;
                            case "ALL" -> ConntrackEvents.NEW | ConntrackEvents.UPDATE | ConntrackEvents.DESTROY;
                            default -> throw error("unknown event `" + w + "'");
                        };
                    }
                }
                case "-p", "--proto", "--protonum" -> proto = switch (value(args, ++i, a).toLowerCase(Locale.ROOT)) {
                    case "tcp", "6" -> 6;
                    case "udp", "17" -> 17;
                    case "icmp", "1" -> 1;
                    default -> throw error("`" + args[i] + "' unsupported protocol");
                };
                default -> throw error("unknown option `" + a + "'");
            }
        }
        ConntrackEvents.Listener l = t.events.listen(mask, proto, EVENT_RING);
        int[] shown = { 0 };
        boolean warned = false;
        try {
            ConntrackEvents.Listener.Sink sink = (type, ct, state, status, mark, seconds) -> {
                out.accept(event(type, ct, state, status, mark, seconds));
                shown[0]++;
            };
            while (true) {
                l.drain(sink);
                if (!warned && l.lost.get() > 0) {
                    out.accept("WARNING: We have hit ENOBUFS! We are losing events.");
                    warned = true;
                }
                if (stop.getAsBoolean()) {
                    l.drain(sink);
                    break;
                }
                try {
                    Thread.sleep(pollMillis);
                } catch (InterruptedException ctrlC) {
                    l.drain(sink);
                    break; // Ctrl-C: what came before it is shown, then the summary
                }
            }
        } finally {
            t.events.unlisten(l);
        }
        out.accept(VERSION + shown[0] + " flow events have been shown.");
        return shown[0];
    }

    /** One event as conntrack -E prints it: the entry as it was when it happened, without use=. */
    static String event(int type, NfConn ct, int state, int status, int mark, long seconds) {
        StringBuilder b = new StringBuilder(String.format("%9s ", ConntrackEvents.NAMES[type]));
        b.append(String.format("%-8s %d %d ", protoName(ct.proto), ct.proto, seconds));
        if (ct.proto == 6) {
            b.append(TcpConntrack.NAMES[state]).append(' ');
        }
        tuple(b, ct.orig, ct.proto);
        if ((status & NfConn.IPS_SEEN_REPLY) == 0) {
            b.append("[UNREPLIED] ");
        }
        tuple(b, ct.reply, ct.proto);
        if ((status & NfConn.IPS_ASSURED) != 0) {
            b.append("[ASSURED] ");
        }
        if (mark != 0) {
            b.append("mark=").append(mark).append(' ');
        }
        return b.toString().stripTrailing();
    }
}

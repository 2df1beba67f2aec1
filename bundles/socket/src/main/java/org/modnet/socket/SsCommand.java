package org.modnet.socket;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.TcpInfo;

/**
 * {@code ss} (iproute2's socket statistics) over modnet's sockets: the selection options
 * ({@code -u -t -a -l -4}), the columns ({@code -n -p -o -e -H}), the detail line of {@code -m} and
 * {@code -i} (TCP_INFO, as iproute2 6.1 prints it: {@link SsTcpInfo}), the summary ({@code -s}), and a
 * filter in ss's language — {@code state NAME}/{@code exclude NAME} and expressions over
 * {@code sport}, {@code dport}, {@code src}, {@code dst} joined by {@code and}, {@code or}, {@code not}
 * and parentheses. Ports are always numeric: modnet has no services database.
 */
final class SsCommand {
    private final PrintStream out;
    private boolean udp;
    private boolean tcp;
    private boolean all;
    private boolean listening;
    private boolean processes;
    private boolean extended;
    private boolean memory;
    private boolean noHeader;
    private boolean summary;
    private boolean info;
    private boolean options;
    private boolean numeric;
    private final List<String> states = new ArrayList<>();
    private final List<String> excluded = new ArrayList<>();
    private Filter filter = s -> true;

    SsCommand(PrintStream out) {
        this.out = out;
    }

    /** A predicate over a socket, from ss's filter expression. */
    @FunctionalInterface
    interface Filter {
        boolean test(Sock s);
    }

    /** {@code --help} printed the usage: nothing more to do. */
    private static final class Help extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Help() {
            super(null, null, false, false);
        }
    }

    void run(SocketLayer layer, NetNamespace ns, List<String> args) {
        try {
            list(layer, ns, args);
        } catch (Help h) {
            // usage printed
        }
    }

    private void list(SocketLayer layer, NetNamespace ns, List<String> args) {
        List<String> words = new ArrayList<>();
        for (String a : args) {
            for (String w : a.trim().split("\\s+")) {
                if (!w.isEmpty()) {
                    words.add(w);
                }
            }
        }
        int i = 0;
        for (; i < words.size() && words.get(i).startsWith("-") && words.get(i).length() > 1; i++) {
            String w = words.get(i);
            if (w.startsWith("--")) {
                longOption(w);
                continue;
            }
            for (char c : w.substring(1).toCharArray()) {
                switch (c) {
                    case 'u' -> udp = true;
                    case 't' -> tcp = true;
                    case 'a' -> all = true;
                    case 'l' -> listening = true;
                    case 'n' -> numeric = true; // ports are always numbers here; -n also prints rates as numbers
                    case '4', 'r' -> {
                        // IPv4 is the only family; no names to resolve
                    }
                    case 'i' -> info = true;
                    case 'o' -> options = true;
                    case 'p' -> processes = true;
                    case 'e' -> extended = true;
                    case 'm' -> memory = true;
                    case 'H' -> noHeader = true;
                    case 's' -> summary = true;
                    case 'w' -> udp = tcp = true;
                    case 'h' -> {
                        out.println(usage());
                        return;
                    }
                    default -> throw new CommandException("ss: invalid option -- '" + c + "'\n" + usage(), 255);
                }
            }
        }
        List<String> rest = words.subList(i, words.size());
        parseFilter(new ArrayList<>(rest));
        List<Sock> socks = layer.allSockets(ns);
        if (summary) {
            summary(layer.sockets(ns.name()).size(), socks);
            return;
        }
        if (!udp && !tcp) {
            udp = tcp = true; // ss with no protocol lists them all
        }
        List<Sock> shown = new ArrayList<>();
        for (Sock s : socks) {
            if (selected(s) && filter.test(s)) {
                shown.add(s);
            }
        }
        print(shown, udp && tcp);
    }

    private void longOption(String w) {
        switch (w) {
            case "--udp" -> udp = true;
            case "--tcp" -> tcp = true;
            case "--all" -> all = true;
            case "--listening" -> listening = true;
            case "--numeric" -> numeric = true;
            case "--ipv4" -> {
            }
            case "--info" -> info = true;
            case "--options" -> options = true;
            case "--processes" -> processes = true;
            case "--extended" -> extended = true;
            case "--memory" -> memory = true;
            case "--no-header" -> noHeader = true;
            case "--summary" -> summary = true;
            case "--help" -> {
                out.println(usage());
                throw new Help();
            }
            default -> throw new CommandException("ss: unrecognized option '" + w + "'\n" + usage(), 255);
        }
    }

    static String usage() {
        return "Usage: ss [ OPTIONS ] [ FILTER ]\n"
                + "   -a, --all           display all sockets\n"
                + "   -l, --listening     display listening sockets\n"
                + "   -n, --numeric       don't resolve service names\n"
                + "   -o, --options       show timer information\n"
                + "   -e, --extended      show detailed socket information\n"
                + "   -m, --memory        show socket memory usage\n"
                + "   -p, --processes     show process using socket\n"
                + "   -i, --info          show internal TCP information\n"
                + "   -s, --summary       show socket usage summary\n"
                + "   -H, --no-header     Suppress header line\n"
                + "   -t, --tcp           display only TCP sockets\n"
                + "   -u, --udp           display only UDP sockets\n"
                + "   FILTER := [ state STATE-FILTER ] [ EXPRESSION ]";
    }

    /** Which sockets the options select: a datagram socket not connected counts as listening, as in ss. */
    private boolean selected(Sock s) {
        boolean isUdp = s.type() == SocketCalls.SOCK_DGRAM;
        if (isUdp ? !udp : !tcp) {
            return false;
        }
        String st = stateName(s).toLowerCase(java.util.Locale.ROOT);
        if (!states.isEmpty() || !excluded.isEmpty()) {
            boolean in = states.isEmpty() || states.stream().anyMatch(f -> stateMatches(f, s));
            return in && excluded.stream().noneMatch(f -> stateMatches(f, s));
        }
        boolean listens = st.equals("unconn") || st.equals("listen");
        if (all) {
            return true;
        }
        if (listening) {
            return listens;
        }
        // ss's default, SS_CONN: neither listening nor closed, nor TIME-WAIT, nor a request (SYN-RECV)
        return !listens && !st.equals("time-wait") && !(st.equals("syn-recv") && s.type() == SocketCalls.SOCK_STREAM);
    }

    private static boolean stateMatches(String filter, Sock s) {
        int st = s.state();
        return switch (filter) {
            case "all" -> true;
            case "established" -> st == Sock.TCP_ESTABLISHED;
            case "connected" -> st != Sock.TCP_CLOSE && st != Sock.TCP_LISTEN;
            case "listening" -> st == Sock.TCP_LISTEN || (s.type() == SocketCalls.SOCK_DGRAM && st == Sock.TCP_CLOSE);
            case "closed", "unconnected" -> st == Sock.TCP_CLOSE;
            case "syn-sent" -> st == Sock.TCP_SYN_SENT;
            case "syn-recv" -> st == Sock.TCP_SYN_RECV;
            case "fin-wait-1" -> st == Sock.TCP_FIN_WAIT1;
            case "fin-wait-2" -> st == Sock.TCP_FIN_WAIT2;
            case "time-wait" -> st == Sock.TCP_TIME_WAIT;
            case "close-wait" -> st == Sock.TCP_CLOSE_WAIT;
            case "last-ack" -> st == Sock.TCP_LAST_ACK;
            case "closing" -> st == Sock.TCP_CLOSING;
            case "synchronized" -> st != Sock.TCP_CLOSE && st != Sock.TCP_LISTEN && st != Sock.TCP_SYN_SENT;
            default -> false;
        };
    }

    static String stateName(Sock s) {
        return switch (s.state()) {
            case Sock.TCP_ESTABLISHED -> "ESTAB";
            case Sock.TCP_SYN_SENT -> "SYN-SENT";
            case Sock.TCP_SYN_RECV -> "SYN-RECV";
            case Sock.TCP_FIN_WAIT1 -> "FIN-WAIT-1";
            case Sock.TCP_FIN_WAIT2 -> "FIN-WAIT-2";
            case Sock.TCP_TIME_WAIT -> "TIME-WAIT";
            case Sock.TCP_CLOSE_WAIT -> "CLOSE-WAIT";
            case Sock.TCP_LAST_ACK -> "LAST-ACK";
            case Sock.TCP_CLOSING -> "CLOSING";
            case Sock.TCP_LISTEN -> "LISTEN";
            case Sock.TCP_CLOSE -> s.type() == SocketCalls.SOCK_DGRAM ? "UNCONN" : "CLOSE";
            default -> "UNKNOWN";
        };
    }

    // --- the filter language ---

    private static final List<String> STATE_NAMES = List.of("all", "established", "connected", "listening", "closed", "unconnected",
            "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2", "time-wait", "close-wait", "last-ack", "closing", "synchronized");

    private void parseFilter(List<String> w) {
        while (!w.isEmpty() && (w.get(0).equals("state") || w.get(0).equals("exclude"))) {
            String kind = w.remove(0);
            if (w.isEmpty() || !STATE_NAMES.contains(w.get(0))) {
                throw new CommandException("ss: wrong state name: " + (w.isEmpty() ? "" : w.get(0)), 255);
            }
            (kind.equals("state") ? states : excluded).add(w.remove(0));
        }
        if (w.isEmpty()) {
            return;
        }
        Parser p = new Parser(w);
        filter = p.expr();
        if (p.at < w.size()) {
            throw new CommandException("ss: bad filter expression near \"" + w.get(p.at) + "\"", 255);
        }
    }

    /** Recursive descent over ss's filter words: or of ands of (not) primaries. */
    private static final class Parser {
        final List<String> w;
        int at;

        Parser(List<String> w) {
            this.w = w;
        }

        String peek() {
            return at < w.size() ? w.get(at) : null;
        }

        Filter expr() {
            Filter left = term();
            while ("or".equals(peek()) || "||".equals(peek())) {
                at++;
                Filter a = left;
                Filter b = term();
                left = s -> a.test(s) || b.test(s);
            }
            return left;
        }

        Filter term() {
            Filter left = factor();
            while (peek() != null && !"or".equals(peek()) && !"||".equals(peek()) && !")".equals(peek())) {
                if ("and".equals(peek()) || "&&".equals(peek()) || "&".equals(peek())) {
                    at++;
                }
                Filter a = left;
                Filter b = factor();
                left = s -> a.test(s) && b.test(s);
            }
            return left;
        }

        Filter factor() {
            String t = peek();
            if (t == null) {
                throw new CommandException("ss: bad filter expression: it ends too early", 255);
            }
            if (t.equals("not") || t.equals("!")) {
                at++;
                Filter f = factor();
                return s -> !f.test(s);
            }
            if (t.equals("(")) {
                at++;
                Filter f = expr();
                if (!")".equals(peek())) {
                    throw new CommandException("ss: bad filter expression: missing \")\"", 255);
                }
                at++;
                return f;
            }
            return primary();
        }

        Filter primary() {
            String key = w.get(at++);
            if (!List.of("sport", "dport", "src", "dst").contains(key)) {
                throw new CommandException("ss: bad filter expression near \"" + key + "\"", 255);
            }
            String op = "==";
            String t = peek();
            if (t != null && List.of("=", "==", "!=", "eq", "neq", "ne", ">", "<", ">=", "<=", "gt", "lt", "ge", "le").contains(t)) {
                op = t;
                at++;
            }
            String value = peek();
            if (value == null) {
                throw new CommandException("ss: bad filter expression: " + key + " needs a value", 255);
            }
            at++;
            boolean local = key.equals("sport") || key.equals("src");
            if (key.endsWith("port")) {
                int port = port(value.startsWith(":") ? value.substring(1) : value);
                String o = op;
                return s -> compare((local ? s.localAddress() : s.remoteAddress()).port(), o, port);
            }
            return address(value, local, op);
        }

        private static Filter address(String value, boolean local, String op) {
            String host = value;
            int port = -1;
            int colon = value.lastIndexOf(':');
            if (colon >= 0) {
                host = value.substring(0, colon);
                port = value.substring(colon + 1).equals("*") ? -1 : port(value.substring(colon + 1));
            }
            int prefix = 32;
            int slash = host.indexOf('/');
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(host.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                host = host.substring(0, slash);
            }
            long a = host.equals("*") || host.isEmpty() ? 0 : Ipv4Addresses.parse(host);
            if (a < 0 || prefix < 0 || prefix > 32) {
                throw new CommandException("ss: bad address \"" + value + "\"", 255);
            }
            int mask = host.equals("*") || host.isEmpty() ? 0 : Ipv4Addresses.mask(prefix);
            int want = (int) a & mask;
            int p = port;
            boolean negate = op.equals("!=") || op.equals("neq") || op.equals("ne");
            return s -> {
                SockAddr x = local ? s.localAddress() : s.remoteAddress();
                boolean m = (x.address() & mask) == want && (p < 0 || x.port() == p);
                return m != negate;
            };
        }

        private static int port(String text) {
            try {
                int p = Integer.parseInt(text);
                if (p >= 0 && p <= 65535) {
                    return p;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw new CommandException("ss: bad port \"" + text + "\"", 255);
        }

        private static boolean compare(int v, String op, int port) {
            return switch (op) {
                case "!=", "neq", "ne" -> v != port;
                case ">", "gt" -> v > port;
                case "<", "lt" -> v < port;
                case ">=", "ge" -> v >= port;
                case "<=", "le" -> v <= port;
                default -> v == port;
            };
        }
    }

    // --- output ---

    /** ss's columns: Netid, State, Recv-Q, Send-Q, Local Address:, Port, Peer Address:, Port, Process, and an empty last one. */
    private static final String[] HEADER = { "Netid", "State", "Recv-Q", "Send-Q", "Local Address:", "Port", "Peer Address:", "Port", "Process", "" };
    /** What ss prints before each column but the first on a line. */
    private static final String[] LDELIM = { "", " ", " ", " ", " ", "", " ", "", "", "" };
    private static final int COL_PROC = 8;

    /**
     * The lines as iproute2 6.1's ss renders its column buffer when its output is no terminal: each column
     * as wide as its longest field plus its delimiter (the local and peer addresses right-aligned), with
     * no spreading to a screen width. The field still being written when ss renders, the last line's
     * Process field, is not measured: ss measures a field when it moves past it. The Process field holds
     * what follows the addresses: {@code users:}, the timer, {@code -e}'s details and, after a new line
     * and a tab, {@code -m}'s and {@code -i}'s.
     */
    private void print(List<Sock> socks, boolean netid) {
        boolean[] disabled = new boolean[HEADER.length];
        disabled[0] = !netid;
        disabled[1] = singleState(); // one state asked for: ss leaves the State column out
        List<String[]> rows = new ArrayList<>();
        if (!noHeader) {
            rows.add(HEADER.clone());
        }
        for (Sock s : socks) {
            StringBuilder process = new StringBuilder();
            if (processes && !s.users().isEmpty()) {
                process.append(" users:(").append(s.users()).append(")");
            }
            boolean full = !miniSock(s);
            boolean stream = s.type() == SocketCalls.SOCK_STREAM;
            if (options && stream) {
                process.append(SsTcpInfo.timer(s.timer()));
            }
            if (extended) {
                process.append(" ino:").append(s.isClosed() || s.isTimewait() ? 0 : s.inode()).append(" sk:").append(Long.toHexString(s.inode()));
                if (full) {
                    int sh = s.shutdownBits(); // INET_DIAG_SHUTDOWN: '-' for a direction shut
                    process.append(' ').append((sh & Sock.RCV_SHUTDOWN) != 0 ? '-' : '<').append('-')
                            .append((sh & Sock.SEND_SHUTDOWN) != 0 ? '-' : '>');
                }
            }
            if (memory || info && stream) { // ss puts -m and -i on a line of their own, after a tab
                process.append("\n\t");
                if (full && memory) {
                    process.append(SsTcpInfo.skmem(s));
                }
                TcpInfo ti = full && info && stream ? s.tcpInfo() : null;
                if (ti != null) {
                    process.append(SsTcpInfo.stats(ti, s.congestionControl(), s.bbrInfo(), s.state() == Sock.TCP_LISTEN, options, numeric));
                }
            }
            rows.add(new String[] { s.netid(), stateName(s), String.format(java.util.Locale.ROOT, "%-6d", s.recvQueue()),
                    String.format(java.util.Locale.ROOT, "%-6d", s.sendQueue()), address(s.localAddress()), port(s.localAddress()),
                    address(s.remoteAddress()), port(s.remoteAddress()), process.toString(), "" });
        }
        int[] width = widths(rows, disabled, !socks.isEmpty());
        StringBuilder b = new StringBuilder();
        for (int n = 0; n < rows.size(); n++) {
            String[] r = rows.get(n);
            boolean started = false;
            boolean last = n == rows.size() - 1 && !socks.isEmpty();
            for (int c = 0; c < r.length; c++) {
                if (disabled[c] || last && c > COL_PROC) {
                    continue;
                }
                int printed = 0;
                if (started) {
                    b.append(LDELIM[c]);
                    printed = LDELIM[c].length();
                }
                started = true;
                boolean right = c == 4 || c == 6;
                if (right && width[c] > 0) {
                    int pad = width[c] - r[c].length() - printed;
                    b.append(" ".repeat(Math.max(pad, 0)));
                    printed += Math.max(pad, 0);
                }
                b.append(r[c]);
                printed += r[c].length();
                if (!right && width[c] > 0) {
                    b.append(" ".repeat(Math.max(width[c] - printed, 0)));
                }
            }
            b.append('\n');
        }
        out.print(b);
    }

    /** ss's render_calc_width without a screen: the longest measured field, plus the delimiter after the first column. */
    private static int[] widths(List<String[]> rows, boolean[] disabled, boolean lastUnmeasured) {
        int[] max = new int[HEADER.length];
        for (int n = 0; n < rows.size(); n++) {
            String[] r = rows.get(n);
            for (int c = 0; c < r.length; c++) {
                if (lastUnmeasured && n == rows.size() - 1 && c >= COL_PROC) {
                    break;
                }
                max[c] = Math.max(max[c], r[c].length());
            }
        }
        int[] width = new int[HEADER.length];
        boolean first = true;
        for (int c = 0; c < width.length; c++) {
            if (disabled[c]) {
                continue;
            }
            width[c] = !first && max[c] > 0 ? max[c] + LDELIM[c].length() : max[c];
            if (width[c] > 0) {
                first = false;
            }
        }
        return width;
    }

    /** {@code state X} naming exactly one TCP state (ss's state mask has one bit), with nothing excluded. */
    private boolean singleState() {
        return states.size() == 1 && excluded.isEmpty() && !List.of("all", "connected", "synchronized", "listening").contains(states.get(0));
    }

    /** A TIME-WAIT or SYN-RECV entry: Linux shows a timewait or request sock, with no memory, info or shutdown. */
    private static boolean miniSock(Sock s) {
        return s.type() == SocketCalls.SOCK_STREAM && (s.state() == Sock.TCP_TIME_WAIT || s.state() == Sock.TCP_SYN_RECV);
    }

    /** The address field with ss's delimiter: {@code 10.0.0.1:}. */
    private static String address(SockAddr a) {
        return Ipv4Addresses.format(a.address()) + ":";
    }

    /** The port field: {@code *} for a port that is not set. */
    private static String port(SockAddr a) {
        return a.port() == 0 ? "*" : String.valueOf(a.port());
    }

    /**
     * {@code ss -s} as iproute2 6.1 prints it: the sockets in use, the TCP line from sockstat's numbers
     * ({@code alloc + tw} in all, {@code alloc - (inuse - tw)} closed) and CurrEstab, and the transport
     * table (the hashed TCP sockets, the UDP ones, their sum).
     */
    private void summary(int used, List<Sock> socks) {
        TcpCounts t = TcpCounts.of(socks);
        int udpCount = 0;
        for (Sock s : socks) {
            if (s.type() == SocketCalls.SOCK_DGRAM) {
                udpCount++;
            }
        }
        out.println("Total: " + used);
        out.println("TCP:   " + (t.alloc + t.tw) + " (estab " + t.estab + ", closed " + (t.alloc - (t.inuse - t.tw)) + ", orphaned "
                + t.orphan + ", timewait " + t.tw + ")");
        out.println();
        out.println("Transport Total     IP        IPv6");
        out.println(transport("RAW", 0));
        out.println(transport("UDP", udpCount));
        out.println(transport("TCP", t.inuse));
        out.println(transport("INET", udpCount + t.inuse));
        out.println(transport("FRAG", 0)); // modnet's reassembly queues are not in sockstat: none counted here
        out.println();
    }

    private static String transport(String name, int n) {
        return String.format(java.util.Locale.ROOT, "%s\t  %-9d %-9d %-9d", name, n, n, 0);
    }

    /**
     * sockstat's TCP numbers over every TCP socket: {@code inuse} the hashed ones (not TIME-WAIT, not a
     * request), {@code orphan} those no descriptor holds, {@code tw} TIME-WAIT, {@code alloc} every full
     * socket, {@code estab} CurrEstab (ESTABLISHED and CLOSE-WAIT).
     */
    record TcpCounts(int inuse, int orphan, int tw, int alloc, int estab) {
        static TcpCounts of(List<Sock> socks) {
            int inuse = 0;
            int orphan = 0;
            int tw = 0;
            int alloc = 0;
            int estab = 0;
            for (Sock s : socks) {
                if (s.type() != SocketCalls.SOCK_STREAM || !"tcp".equals(s.netid())) {
                    continue;
                }
                int st = s.state();
                if (st == Sock.TCP_TIME_WAIT || s.isTimewait()) {
                    tw++;
                    continue;
                }
                if (st == Sock.TCP_SYN_RECV) {
                    continue; // a request sock, not yet a socket
                }
                alloc++;
                if (st != Sock.TCP_CLOSE) {
                    inuse++;
                    if (s.isClosed()) {
                        orphan++;
                    }
                }
                if (st == Sock.TCP_ESTABLISHED || st == Sock.TCP_CLOSE_WAIT) {
                    estab++;
                }
            }
            return new TcpCounts(inuse, orphan, tw, alloc, estab);
        }
    }

    /** {@code /proc/net/sockstat}: sockets in use, and per protocol those open and the pages they hold. */
    static List<String> sockstat(SocketLayer layer, NetNamespace ns) {
        Map<String, long[]> usage = layer.usage(ns);
        long used = layer.sockets(ns.name()).size();
        List<String> lines = new ArrayList<>();
        lines.add("sockets: used " + used);
        long[] tcpUse = usage.get("TCP");
        if (tcpUse != null) {
            TcpCounts t = TcpCounts.of(layer.allSockets(ns));
            lines.add("TCP: inuse " + t.inuse + " orphan " + t.orphan + " tw " + t.tw + " alloc " + t.alloc + " mem " + tcpUse[1]);
        }
        long[] udpUse = usage.getOrDefault("UDP", new long[2]);
        lines.add("UDP: inuse " + udpUse[0] + " mem " + udpUse[1]);
        lines.add("UDPLITE: inuse 0");
        lines.add("RAW: inuse 0");
        return lines;
    }
}

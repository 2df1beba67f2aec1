package org.modnet.apps;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code curl} for {@code http://} URLs on modnet sockets, as curl 7.88 behaves: the body to standard
 * output or a file, the progress meter on standard error (unless {@code -s}), its error lines
 * ({@code curl: (N) ...}) and exit codes: 1 unsupported protocol, 2 bad option, 3 bad URL, 6 a host
 * name (modnet has no resolver: addresses only, and localhost), 7 could not connect, 8 a reply that is
 * not HTTP, 18 a body cut short, 22 {@code -f} on a status of 400 or more, 23 the output cannot be
 * written, 28 a timeout ({@code -m}, {@code --connect-timeout}), 47 more redirects than
 * {@code --max-redirs} allows (50 by default) with {@code -L}, 52 an empty reply. {@code -L} follows a
 * 300, 301, 302, 303, 307 or 308 answer's {@code Location} (absolute, absolute-path or relative to the
 * URL it answered, RFC 3986 5.2), as curl does for any 3xx libcurl follows: on the same connection
 * when the answer left it intact and the next URL names the same host and port, else on a new one;
 * the bodies of the answers it follows are read and dropped.
 */
final class Curl {
    static final String USER_AGENT = "curl/7.88.1";
    private static final String TRY = "curl: try 'curl --help' or 'curl --manual' for more information";

    private final SelectorProvider provider;
    private final PrintStream out;
    private final PrintStream err;
    private final Path cwd;

    private String url;
    private String output;
    private boolean remoteName;
    private boolean head;
    private boolean include;
    private boolean silent;
    private boolean showError;
    private boolean fail;
    private boolean verbose;
    private String writeOut;
    private String range;
    private String method;
    private final List<String> headers = new ArrayList<>();
    private double maxTime;
    private double connectTimeout;
    private boolean followLocation;
    /** curl's --max-redirs default (CURLOPT_MAXREDIRS is 50 in the curl tool); -1 is no limit. */
    private long maxRedirs = 50;

    // what -w reports
    private int httpCode;
    private long sizeDownload;
    private long sizeHeader;
    private long sizeRequest;
    private String contentType;
    private double timeConnect;
    private double timeStart;
    private double timeTotal;
    private String remoteIp = "";
    private int remotePort;
    private String errorMessage = "";
    private int exitCode;
    private int numConnects;
    private String httpVersion = "0";
    private int numRedirects;
    private String redirectUrl = "";
    private String effectiveUrl;
    /** The output, opened when the first body (or head, with -i or -I) is written and kept across redirects. */
    private OutputStream sink;

    Curl(SelectorProvider provider, PrintStream out, PrintStream err, Path cwd) {
        this.provider = provider;
        this.out = out;
        this.err = err;
        this.cwd = cwd;
    }

    /** Thrown to end the transfer with curl's exit code and message. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final int code;

        Failure(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    /** Runs curl; returns its exit status. */
    int run(List<String> args) throws InterruptedException {
        try {
            if (!options(args)) {
                return 2;
            }
        } catch (Failure f) {
            err.println("curl: " + f.getMessage());
            err.println(TRY);
            return f.code;
        }
        long t0 = System.nanoTime();
        CurlProgress meter = silent ? null : new CurlProgress(err, t0);
        try {
            transfer(t0, meter);
        } catch (Failure f) {
            exitCode = f.code;
            errorMessage = f.getMessage();
            if (meter != null) {
                meter.end(System.nanoTime()); // the meter's last line, as it stood, before the error
            }
        }
        timeTotal = (System.nanoTime() - t0) / 1e9;
        if (exitCode != 0 && (!silent || showError)) {
            err.println("curl: (" + exitCode + ") " + errorMessage);
        }
        if (writeOut != null) {
            out.print(writeOut(writeOut));
            out.flush();
        }
        return exitCode;
    }

    private boolean options(List<String> args) throws Failure {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("--")) {
                String name = a.substring(2);
                switch (name) {
                    case "output" -> output = value(args, ++i, a);
                    case "remote-name" -> remoteName = true;
                    case "head" -> head = true;
                    case "include" -> include = true;
                    case "silent" -> silent = true;
                    case "show-error" -> showError = true;
                    case "fail" -> fail = true;
                    case "verbose" -> verbose = true;
                    case "write-out" -> writeOut = value(args, ++i, a);
                    case "range" -> range = value(args, ++i, a);
                    case "header" -> headers.add(value(args, ++i, a));
                    case "request" -> method = value(args, ++i, a);
                    case "max-time" -> maxTime = seconds(value(args, ++i, a), a);
                    case "connect-timeout" -> connectTimeout = seconds(value(args, ++i, a), a);
                    case "location" -> followLocation = true;
                    case "max-redirs" -> maxRedirs = redirs(value(args, ++i, a), a);
                    default -> throw new Failure(2, "option " + a + ": is unknown");
                }
                continue;
            }
            if (!a.startsWith("-") || a.length() == 1) {
                url = a;
                continue;
            }
            for (int k = 1; k < a.length(); k++) {
                char c = a.charAt(k);
                switch (c) {
                    case 'O' -> remoteName = true;
                    case 'I' -> head = true;
                    case 'i' -> include = true;
                    case 's' -> silent = true;
                    case 'S' -> showError = true;
                    case 'f' -> fail = true;
                    case 'v' -> verbose = true;
                    case 'L' -> followLocation = true;
                    case 'o', 'w', 'r', 'H', 'X', 'm' -> {
                        String v = k + 1 < a.length() ? a.substring(k + 1) : value(args, ++i, "-" + c);
                        switch (c) {
                            case 'o' -> output = v;
                            case 'w' -> writeOut = v;
                            case 'r' -> range = v;
                            case 'H' -> headers.add(v);
                            case 'X' -> method = v;
                            default -> maxTime = seconds(v, "-m");
                        }
                        k = a.length();
                    }
                    default -> throw new Failure(2, "option -" + c + ": is unknown");
                }
            }
        }
        if (url == null) {
            throw new Failure(2, "no URL specified!");
        }
        return true;
    }

    private static String value(List<String> args, int i, String option) throws Failure {
        if (i >= args.size()) {
            throw new Failure(2, "option " + option + ": requires parameter");
        }
        return args.get(i);
    }

    /** --max-redirs: a count, or -1 for no limit, as curl takes it. */
    private static long redirs(String v, String option) throws Failure {
        try {
            long n = Long.parseLong(v);
            if (n >= -1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new Failure(2, "option " + option + ": expected a proper numerical parameter");
    }

    private static double seconds(String v, String option) throws Failure {
        try {
            double d = Double.parseDouble(v);
            if (d >= 0) {
                return d;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new Failure(2, "option " + option + ": expected a proper numerical parameter");
    }

    /** A URL taken apart: only http, a numeric host (or localhost), a port and the path with its query. */
    record Url(String host, int address, int port, String path) {
        String hostHeader() {
            return port == 80 ? host : host + ":" + port;
        }
    }

    static Url parseUrl(String url) throws Failure {
        String rest = url;
        int scheme = url.indexOf("://");
        if (scheme >= 0) {
            String s = url.substring(0, scheme);
            if (!s.equalsIgnoreCase("http")) {
                throw new Failure(1, "Protocol \"" + s + "\" not supported or disabled in libcurl");
            }
            rest = url.substring(scheme + 3);
        }
        int slash = rest.indexOf('/');
        int query = rest.indexOf('?');
        int cut = slash < 0 ? query : query < 0 ? slash : Math.min(slash, query);
        String authority = cut < 0 ? rest : rest.substring(0, cut);
        String path = cut < 0 ? "/" : rest.substring(cut);
        if (path.startsWith("?")) {
            path = "/" + path;
        }
        int hash = path.indexOf('#');
        if (hash >= 0) {
            path = path.substring(0, hash);
        }
        if (authority.contains("@")) {
            authority = authority.substring(authority.lastIndexOf('@') + 1);
        }
        String host = authority;
        int port = 80;
        int colon = authority.lastIndexOf(':');
        if (colon >= 0) {
            host = authority.substring(0, colon);
            String p = authority.substring(colon + 1);
            if (!p.isEmpty()) {
                try {
                    port = Integer.parseInt(p);
                } catch (NumberFormatException e) {
                    port = -1;
                }
                if (port < 0 || port > 65535) {
                    throw new Failure(3, "URL using bad/illegal format or missing URL");
                }
            }
        }
        if (host.isEmpty() || path.contains(" ")) {
            throw new Failure(3, "URL using bad/illegal format or missing URL");
        }
        long a = org.modnet.api.inet.Ipv4Addresses.parse(host.equalsIgnoreCase("localhost") ? "127.0.0.1" : host);
        if (a < 0) {
            throw new Failure(6, "Could not resolve host: " + host);
        }
        return new Url(host, (int) a, port, path);
    }

    private void info(String s) {
        if (verbose) {
            err.println("* " + s);
        }
    }

    private long deadline(long t0, double secs) {
        return secs > 0 ? t0 + (long) (secs * 1e9) : Long.MAX_VALUE;
    }

    /** The URL, then each Location -L follows, up to --max-redirs; the output stays open across them. */
    private void transfer(long t0, CurlProgress meter) throws Failure, InterruptedException {
        effectiveUrl = url;
        Url u = parseUrl(url);
        if (meter != null) {
            meter.begin();
        }
        boolean ok = false;
        try {
            while (true) {
                String location = fetch(u, t0, meter);
                if (location == null) {
                    break;
                }
                redirectUrl = resolve(u, location);
                if (!followLocation) {
                    break;
                }
                if (maxRedirs >= 0 && numRedirects >= maxRedirs) {
                    throw new Failure(47, "Maximum (" + maxRedirs + ") redirects followed");
                }
                info("Issue another request to this URL: '" + redirectUrl + "'");
                u = parseUrl(redirectUrl);
                effectiveUrl = redirectUrl;
                redirectUrl = "";
                numRedirects++;
            }
            ok = true;
        } finally {
            if (kept != null) {
                kept.close(); // curl's connection cache goes at exit, without a line for it
                kept = null;
            }
            if (sink != null) {
                try {
                    sink.flush();
                    if (sink != out) {
                        sink.close();
                    }
                } catch (IOException e) {
                    if (ok) {
                        throw new Failure(23, "Failure writing output to destination");
                    }
                }
            }
        }
    }

    /** An open connection: kept after an answer that left it intact, for the next request to the same host and port. */
    private record Conn(SocketChannel ch, Selector sel, SelectionKey key, int address, int port, int number) {
        void close() {
            try (SocketChannel c = ch; Selector s = sel) {
                // both closed
            } catch (IOException ignored) {
                // going anyway
            }
        }
    }

    /** The connection the last answer left intact, or null. */
    private Conn kept;

    /** A reused connection the server had closed before this request's answer began: curl connects again. */
    private static final class Died extends Exception {
        private static final long serialVersionUID = 1L;

        Died() {
            super(null, null, false, false);
        }
    }

    /**
     * One request and its answer, on the connection the last answer left intact when it goes to the
     * same host and port (curl's connection cache: "Re-using existing connection"), else on a new one.
     * A reused connection that turns out closed before the answer begins is replaced by a fresh
     * connect, as libcurl retries a dead cached connection once. Returns the answer's Location when it
     * is a redirect (3xx) with one, else null; with -L its body is dropped instead of written.
     */
    private String fetch(Url u, long t0, CurlProgress meter) throws Failure, InterruptedException {
        Conn c = kept;
        kept = null;
        if (c != null && (c.address() != u.address() || c.port() != u.port())) {
            c.close(); // curl keeps it cached and closes it at exit without a word: the same for the output
            c = null;
        }
        if (c != null) {
            info("Found bundle for host: 0x" + Integer.toHexString(System.identityHashCode(c)) + " [serially]");
            info("Can not multiplex, even if we wanted to");
            info("Re-using existing connection #" + c.number() + " with host " + u.host());
            try {
                return exchange(c, u, t0, meter, true);
            } catch (Died d) {
                info("Connection died, retrying a fresh connect (retry count: 1)");
            }
        }
        try {
            return exchange(connect(u, t0), u, t0, meter, false);
        } catch (Died d) {
            throw new IllegalStateException("only a reused connection dies", d); // exchange throws Died only when reused
        }
    }

    /** A new connection to the URL's host and port, counted in num_connects. */
    private Conn connect(Url u, long t0) throws Failure, InterruptedException {
        long total = deadline(t0, maxTime);
        long connectBy = Math.min(total, deadline(t0, connectTimeout > 0 ? connectTimeout : 300));
        String addr = org.modnet.api.inet.Ipv4Addresses.format(u.address());
        int conn = numConnects;
        SocketChannel ch = null;
        Selector sel = null;
        try {
            ch = provider.openSocketChannel();
            sel = provider.openSelector();
            info("  Trying " + addr + ":" + u.port() + "...");
            ch.configureBlocking(false);
            SelectionKey key;
            try {
                boolean connected = ch.connect(new InetSocketAddress(InetAddress.getByAddress(bytes(u.address())), u.port()));
                key = ch.register(sel, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT);
                while (!connected) {
                    long wait = waitMillis(connectBy);
                    if (wait <= 0) {
                        throw new Failure(28, "Connection timed out after " + ms(t0) + " milliseconds");
                    }
                    sel.select(wait);
                    interrupted();
                    sel.selectedKeys().clear();
                    connected = ch.finishConnect();
                }
            } catch (ConnectException e) {
                info("connect to " + addr + " port " + u.port() + " failed: " + e.getMessage());
                info("Failed to connect to " + u.host() + " port " + u.port() + " after " + ms(t0) + " ms: Couldn't connect to server");
                info("Closing connection " + conn);
                throw new Failure(7, "Failed to connect to " + u.host() + " port " + u.port() + " after " + ms(t0)
                        + " ms: Couldn't connect to server");
            }
            numConnects++;
            timeConnect = (System.nanoTime() - t0) / 1e9;
            info("Connected to " + u.host() + " (" + addr + ") port " + u.port() + " (#" + conn + ")");
            Conn c = new Conn(ch, sel, key, u.address(), u.port(), conn);
            ch = null; // the connection owns them now
            sel = null;
            return c;
        } catch (IOException e) {
            throw new Failure(7, "Failed to connect to " + u.host() + " port " + u.port() + " after " + ms(t0) + " ms: " + e.getMessage());
        } finally {
            if (ch != null || sel != null) {
                new Conn(ch, sel, null, 0, 0, conn).close();
            }
        }
    }

    /**
     * The request on {@code c} and its answer. The connection is kept for the next request when the
     * answer leaves it intact, else closed. {@link Died} when {@code reused} and the server had closed
     * it before any of the answer came.
     */
    private String exchange(Conn c, Url u, long t0, CurlProgress meter, boolean reused) throws Failure, InterruptedException, Died {
        long total = deadline(t0, maxTime);
        remoteIp = org.modnet.api.inet.Ipv4Addresses.format(u.address());
        remotePort = u.port();
        long size = -1;
        long received = 0;
        int conn = c.number();
        SocketChannel ch = c.ch();
        Selector sel = c.sel();
        SelectionKey key = c.key();
        boolean keep = false;
        try {
            String m = method != null ? method : head ? "HEAD" : "GET";
            byte[] request = request(m, u);
            sizeRequest = request.length;
            ByteBuffer rq = ByteBuffer.wrap(request);
            key.interestOps(SelectionKey.OP_WRITE);
            Reader r = new Reader(ch, sel, total, t0);
            try {
                while (rq.hasRemaining()) {
                    ch.write(rq);
                    if (rq.hasRemaining()) {
                        await(sel, total, t0, 0, -1);
                    }
                }
                key.interestOps(SelectionKey.OP_READ);
                if (reused && !r.fill()) {
                    throw new Died(); // the server closed it while it sat in the cache
                }
            } catch (IOException e) {
                if (reused) {
                    throw new Died(); // reset or a broken pipe on the cached connection
                }
                throw e;
            }
            // the head of the answer (skipping 1xx interim answers), then the body
            Map<String, String> h;
            while (true) {
                h = readHead(r);
                if (httpCode >= 200) {
                    break;
                }
                httpCode = 0;
            }
            timeStart = (System.nanoTime() - t0) / 1e9;
            contentType = h.get("content-type");
            String te = h.get("transfer-encoding");
            boolean chunked = te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
            String cl = h.get("content-length");
            if (!chunked && cl != null) {
                try {
                    size = Long.parseLong(cl.trim());
                } catch (NumberFormatException e) {
                    throw new Failure(8, "Invalid Content-Length: value");
                }
            }
            if (meter != null) {
                meter.update(size, 0, System.nanoTime()); // the size is known from here on
            }
            boolean noBody = m.equals("HEAD") || httpCode == 204 || httpCode == 304;
            if (fail && httpCode >= 400) {
                info("Closing connection " + conn);
                throw new Failure(22, "The requested URL returned error: " + httpCode);
            }
            // libcurl's redirects: 300, 301, 302, 303, 307 and 308 with a Location (304, 305, 306 are not)
            String location = switch (httpCode) {
                case 300, 301, 302, 303, 307, 308 -> h.get("location");
                default -> null;
            };
            boolean follow = followLocation && location != null;
            if (sink == null && (!follow || head || include)) {
                sink = open(parseUrl(url)); // -O names the file after the URL typed, wherever it leads
            }
            if (head || include) {
                sink.write(r.headBytes);
            }
            if (!noBody) {
                Body body = new Body(r, follow ? OutputStream.nullOutputStream() : sink, meter, chunked ? -2 : size, t0);
                received = chunked ? body.chunked() : body.counted(size);
            }
            sizeDownload = received;
            if (meter != null && !follow) {
                meter.end(size, received, System.nanoTime());
            }
            // a body read to the end of the stream (no length, not chunked) used the connection up
            boolean close = "close".equalsIgnoreCase(h.getOrDefault("connection", "")) || httpVersion.equals("1.0")
                    || !noBody && !chunked && size < 0;
            info(close ? "Closing connection " + conn : "Connection #" + conn + " to host " + u.host() + " left intact");
            keep = !close && !r.buf.hasRemaining(); // bytes past the answer: not a connection to send the next request on
            return location;
        } catch (IOException e) {
            // curl says strerror(errno): ECONNRESET is "Connection reset by peer", where Java says "Connection reset"
            String why = e.getMessage() == null || e.getMessage().equals("Connection reset") ? "Connection reset by peer" : e.getMessage();
            throw new Failure(56, "Recv failure: " + why);
        } finally {
            if (keep) {
                kept = c;
            } else {
                c.close();
            }
        }
    }

    /**
     * A Location against the URL that answered it (RFC 3986 5.2): absolute ({@code http://...}),
     * network-path ({@code //host/...}), absolute-path ({@code /...}), query-only or relative to the
     * base's directory, with its dot segments removed and any fragment dropped.
     */
    static String resolve(Url base, String location) {
        String loc = location.trim();
        int hash = loc.indexOf('#');
        if (hash >= 0) {
            loc = loc.substring(0, hash);
        }
        if (loc.matches("(?i)^[a-z][a-z0-9+.-]*://.*")) {
            return loc;
        }
        if (loc.startsWith("//")) {
            return "http:" + loc;
        }
        String origin = "http://" + base.hostHeader();
        String basePath = base.path();
        int q = basePath.indexOf('?');
        String baseNoQuery = q < 0 ? basePath : basePath.substring(0, q);
        if (loc.isEmpty()) {
            return origin + basePath;
        }
        if (loc.startsWith("?")) {
            return origin + baseNoQuery + loc;
        }
        String path = loc.startsWith("/") ? loc : baseNoQuery.substring(0, baseNoQuery.lastIndexOf('/') + 1) + loc;
        int lq = path.indexOf('?');
        String query = lq < 0 ? "" : path.substring(lq);
        return origin + removeDotSegments(lq < 0 ? path : path.substring(0, lq)) + query;
    }

    /** RFC 3986 5.2.4: "." and ".." segments out of an absolute path. */
    static String removeDotSegments(String path) {
        List<String> out = new ArrayList<>();
        String[] segs = path.split("/", -1);
        for (int i = 1; i < segs.length; i++) {
            String seg = segs[i];
            boolean last = i == segs.length - 1;
            if (seg.equals(".")) {
                if (last) {
                    out.add("");
                }
            } else if (seg.equals("..")) {
                if (!out.isEmpty()) {
                    out.remove(out.size() - 1);
                }
                if (last) {
                    out.add("");
                }
            } else {
                out.add(seg);
            }
        }
        return "/" + String.join("/", out);
    }

    private static byte[] bytes(int a) {
        return new byte[] { (byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a };
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static long waitMillis(long deadline) {
        if (deadline == Long.MAX_VALUE) {
            return 1000;
        }
        long w = (deadline - System.nanoTime()) / 1_000_000;
        return w <= 0 ? 0 : Math.min(w, 1000);
    }

    private static void interrupted() throws InterruptedException {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedException();
        }
    }

    /** Waits for the key's interest; a timeout past {@code deadline} is curl's 28 with what had arrived. */
    private void await(Selector sel, long deadline, long t0, long got, long size) throws IOException, Failure, InterruptedException {
        long wait = waitMillis(deadline);
        if (wait <= 0) {
            throw new Failure(28, "Operation timed out after " + ms(t0) + " milliseconds with " + got
                    + (size >= 0 ? " out of " + size : "") + " bytes received");
        }
        sel.select(wait);
        interrupted();
        sel.selectedKeys().clear();
    }

    private byte[] request(String m, Url u) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Host", u.hostHeader());
        h.put("User-Agent", USER_AGENT);
        h.put("Accept", "*/*");
        if (range != null) {
            h.put("Range", "bytes=" + range);
        }
        for (String x : headers) {
            int colon = x.indexOf(':');
            int semi = x.indexOf(';');
            if (colon > 0) {
                String name = x.substring(0, colon).trim();
                String value = x.substring(colon + 1).trim();
                h.keySet().removeIf(k -> k.equalsIgnoreCase(name));
                if (!value.isEmpty()) {
                    h.put(name, value); // "Name:" alone removes curl's own header
                }
            } else if (semi > 0 && x.substring(semi + 1).isBlank()) {
                h.put(x.substring(0, semi).trim(), ""); // "Name;" sends it empty
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(m).append(' ').append(u.path()).append(" HTTP/1.1\r\n");
        for (Map.Entry<String, String> e : h.entrySet()) {
            sb.append(e.getKey()).append(':').append(e.getValue().isEmpty() ? "" : " " + e.getValue()).append("\r\n");
        }
        sb.append("\r\n");
        if (verbose) {
            String[] lines = sb.toString().split("\r\n", -1);
            for (int i = 0; i < lines.length - 1; i++) {
                err.println("> " + lines[i]);
            }
        }
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The connection's bytes, buffered, with the deadline applied to every wait. */
    private final class Reader {
        final SocketChannel ch;
        final Selector sel;
        final long deadline;
        final long t0;
        final ByteBuffer buf = ByteBuffer.allocate(65536).flip();
        byte[] headBytes;
        long got;
        long size = -1;

        Reader(SocketChannel ch, Selector sel, long deadline, long t0) {
            this.ch = ch;
            this.sel = sel;
            this.deadline = deadline;
            this.t0 = t0;
        }

        /** Fills the buffer with at least one more byte; false at the end of the stream. */
        boolean fill() throws IOException, Failure, InterruptedException {
            buf.compact();
            try {
                while (true) {
                    int n = ch.read(buf);
                    if (n < 0) {
                        return false;
                    }
                    if (n > 0) {
                        return true;
                    }
                    await(sel, deadline, t0, got, size);
                }
            } finally {
                buf.flip();
            }
        }

        /** A line without its CRLF, or null at the end of the stream. */
        String line(ByteArrayOutputStream raw) throws IOException, Failure, InterruptedException {
            StringBuilder sb = new StringBuilder();
            while (true) {
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    raw.write(b);
                    if (b == '\n') {
                        int l = sb.length();
                        return l > 0 && sb.charAt(l - 1) == '\r' ? sb.substring(0, l - 1) : sb.toString();
                    }
                    if (sb.length() > 100_000) {
                        throw new Failure(8, "Weird server reply");
                    }
                    sb.append((char) (b & 0xff));
                }
                if (!fill()) {
                    return null;
                }
            }
        }
    }

    private Map<String, String> readHead(Reader r) throws IOException, Failure, InterruptedException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        String status = r.line(raw);
        if (status == null) {
            throw new Failure(52, "Empty reply from server");
        }
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || parts[1].length() != 3) {
            throw new Failure(8, "Weird server reply");
        }
        try {
            httpCode = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new Failure(8, "Weird server reply");
        }
        httpVersion = parts[0].substring(5);
        if (verbose) {
            err.println("< " + status);
        }
        Map<String, String> h = new LinkedHashMap<>();
        while (true) {
            String line = r.line(raw);
            if (line == null) {
                throw new Failure(8, "Weird server reply");
            }
            if (verbose) {
                err.println("< " + line);
            }
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                h.putIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        r.headBytes = raw.toByteArray();
        sizeHeader += r.headBytes.length;
        return h;
    }

    /** The output, opened when the body is about to be written, as curl does: -o FILE, -O, or standard output. */
    private OutputStream open(Url u) throws Failure {
        String name = output;
        if (name == null && remoteName) {
            String p = u.path();
            int q = p.indexOf('?');
            p = q < 0 ? p : p.substring(0, q);
            name = p.substring(p.lastIndexOf('/') + 1);
            if (name.isEmpty()) {
                throw new Failure(23, "Remote file name has no length!");
            }
        }
        if (name == null || name.equals("-")) {
            return out;
        }
        Path file = cwd.resolve(name);
        try {
            return new BufferedOutputStream(Files.newOutputStream(file), 65536);
        } catch (IOException e) {
            err.println("Warning: Failed to open the file " + name + ": No such file or directory");
            throw new Failure(23, "Failure writing output to destination");
        }
    }

    /** The body: a counted one, to the end of the stream, or chunked (RFC 9112 7.1). */
    private final class Body {
        final Reader r;
        final OutputStream sink;
        final CurlProgress meter;
        final long size;
        long got;

        Body(Reader r, OutputStream sink, CurlProgress meter, long size, long t0) {
            this.r = r;
            this.sink = sink;
            this.meter = meter;
            this.size = size;
            r.size = size;
        }

        private void take(int n) throws Failure {
            try {
                sink.write(r.buf.array(), r.buf.arrayOffset() + r.buf.position(), n);
            } catch (IOException e) {
                throw new Failure(23, "Failure writing output to destination");
            }
            r.buf.position(r.buf.position() + n);
            got += n;
            r.got = got;
            if (meter != null) {
                meter.update(size, got, System.nanoTime());
            }
        }

        /** {@code size} bytes, or to the end of the stream when -1. */
        long counted(long size) throws IOException, Failure, InterruptedException {
            while (size < 0 || got < size) {
                if (!r.buf.hasRemaining() && !r.fill()) {
                    if (size >= 0) {
                        throw new Failure(18, "transfer closed with " + (size - got) + " bytes remaining to read");
                    }
                    break;
                }
                take((int) Math.min(r.buf.remaining(), size < 0 ? Long.MAX_VALUE : size - got));
            }
            return got;
        }

        long chunked() throws IOException, Failure, InterruptedException {
            ByteArrayOutputStream ignore = new ByteArrayOutputStream();
            while (true) {
                String line = r.line(ignore);
                if (line == null) {
                    throw new Failure(18, "transfer closed with outstanding read data remaining");
                }
                int semi = line.indexOf(';');
                long n;
                try {
                    n = Long.parseLong((semi < 0 ? line : line.substring(0, semi)).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new Failure(56, "Illegal or missing hexadecimal sequence in chunked-encoding");
                }
                if (n < 0) {
                    throw new Failure(56, "Illegal or missing hexadecimal sequence in chunked-encoding");
                }
                if (n == 0) {
                    // the trailer fields, to the empty line
                    String t;
                    while ((t = r.line(ignore)) != null && !t.isEmpty()) {
                        ignore.reset();
                    }
                    return got;
                }
                long left = n;
                while (left > 0) {
                    if (!r.buf.hasRemaining() && !r.fill()) {
                        throw new Failure(18, "transfer closed with outstanding read data remaining");
                    }
                    int k = (int) Math.min(r.buf.remaining(), left);
                    take(k);
                    left -= k;
                }
                String crlf = r.line(ignore);
                if (crlf == null || !crlf.isEmpty()) {
                    throw new Failure(56, "Illegal or missing hexadecimal sequence in chunked-encoding");
                }
                ignore.reset();
            }
        }
    }

    /** {@code -w FORMAT}: curl's variables and its backslash escapes. */
    String writeOut(String format) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c == '\\' && i + 1 < format.length()) {
                char n = format.charAt(++i);
                switch (n) {
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case '\\' -> sb.append('\\');
                    default -> sb.append('\\').append(n);
                }
            } else if (c == '%' && i + 1 < format.length() && format.charAt(i + 1) == '%') {
                sb.append('%');
                i++;
            } else if (c == '%' && i + 1 < format.length() && format.charAt(i + 1) == '{') {
                int close = format.indexOf('}', i);
                if (close < 0) {
                    sb.append(format.substring(i));
                    break;
                }
                String name = format.substring(i + 2, close);
                String v = variable(name);
                if (v == null) {
                    err.println("curl: unknown --write-out variable: '" + name + "'");
                } else {
                    sb.append(v);
                }
                i = close;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private String variable(String name) {
        return switch (name) {
            case "http_code", "response_code" -> String.format("%03d", httpCode);
            case "size_download" -> Long.toString(sizeDownload);
            case "size_header" -> Long.toString(sizeHeader);
            case "size_request" -> Long.toString(sizeRequest);
            case "time_total" -> String.format(Locale.ROOT, "%.6f", timeTotal);
            case "time_connect" -> String.format(Locale.ROOT, "%.6f", timeConnect);
            case "time_starttransfer" -> String.format(Locale.ROOT, "%.6f", timeStart);
            case "speed_download" -> Long.toString(timeTotal > 0 ? (long) (sizeDownload / timeTotal) : 0);
            case "content_type" -> contentType == null ? "" : contentType;
            case "url" -> url;
            case "url_effective" -> effectiveUrl == null ? url : effectiveUrl;
            case "num_redirects" -> Integer.toString(numRedirects);
            case "redirect_url" -> redirectUrl;
            case "remote_ip" -> remoteIp;
            case "remote_port" -> remotePort == 0 ? "" : Integer.toString(remotePort);
            case "num_connects" -> Integer.toString(numConnects);
            case "exitcode" -> Integer.toString(exitCode);
            case "errormsg" -> errorMessage;
            case "http_version" -> httpVersion;
            default -> null;
        };
    }
}

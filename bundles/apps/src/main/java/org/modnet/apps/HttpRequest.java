package org.modnet.apps;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An HTTP/1.x request head (RFC 9112 section 2-5): the request line and its header fields, parsed
 * from the bytes a connection has received. {@link #parse} reads what is there: a whole head, not yet
 * a whole head, or a head the server must refuse with a status code. The limits are Apache's defaults
 * ({@code LimitRequestLine} 8190, {@code LimitRequestFieldSize} 8190, {@code LimitRequestFields} 100),
 * so a 10 MB header line costs a connection at most one line's worth of buffer before its answer.
 *
 * @param method   the method token, as sent (methods are case-sensitive)
 * @param target   the request target, as sent
 * @param minor    the HTTP/1.x minor version (0 or 1)
 * @param headers  the fields in order, names as sent
 */
record HttpRequest(String method, String target, int minor, List<Header> headers) {
    static final int LIMIT_REQUEST_LINE = 8190;
    static final int LIMIT_REQUEST_FIELD_SIZE = 8190;
    static final int LIMIT_REQUEST_FIELDS = 100;
    /**
     * The largest request body httpd reads (and drops): nginx's client_max_body_size default, 1 MiB. A
     * larger Content-Length is 413 at once, a chunked body 413 when it passes it (Apache's own default,
     * LimitRequestBody 1 GiB, would have httpd read a gigabyte for nothing).
     */
    static final long LIMIT_REQUEST_BODY = 1 << 20;

    /** One header field: a name (compared without case) and its value with the surrounding blanks removed. */
    record Header(String name, String value) {
    }

    /**
     * What {@link #parse} found: a request head and the bytes it took (its body, if any, follows:
     * {@link #contentLength}, {@link #chunked}), more bytes needed ({@code status} 0, {@code request}
     * null), or a refusal ({@code status} 400, 413, 414, 431, 501 or 505) after which the connection is
     * closed.
     */
    record Parsed(HttpRequest request, int consumed, int status) {
        static final Parsed MORE = new Parsed(null, 0, 0);

        boolean complete() {
            return request != null;
        }
    }

    /** The first value of header {@code name} (any case), or null. */
    String header(String name) {
        for (Header h : headers) {
            if (h.name().equalsIgnoreCase(name)) {
                return h.value();
            }
        }
        return null;
    }

    /** Whether the Connection header lists {@code option} (RFC 9110 7.6.1: a comma-separated list, any case). */
    boolean connectionHas(String option) {
        for (Header h : headers) {
            if (h.name().equalsIgnoreCase("Connection")) {
                for (String o : h.value().split(",")) {
                    if (o.trim().equalsIgnoreCase(option)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** The body's length from Content-Length (checked by {@link #parse}); 0 without one, or when chunked. */
    long contentLength() {
        String cl = header("Content-Length");
        return cl == null || chunked() ? 0 : Long.parseLong(cl);
    }

    /** Whether the body comes chunked (the only Transfer-Encoding {@link #parse} lets through). */
    boolean chunked() {
        return header("Transfer-Encoding") != null;
    }

    /** {@code Expect: 100-continue} on HTTP/1.1 (RFC 9110 10.1.1): the client waits for a 100 before its body. */
    boolean expectsContinue() {
        String e = header("Expect");
        return minor >= 1 && e != null && e.equalsIgnoreCase("100-continue");
    }

    /** HTTP/1.1 keeps the connection unless "close"; HTTP/1.0 closes it unless "keep-alive" (RFC 9112 9.3). */
    boolean keepAlive() {
        return minor >= 1 ? !connectionHas("close") : connectionHas("keep-alive");
    }

    /**
     * Parses a request head from {@code b[off, off+len)}. Empty lines before the request line are
     * skipped (RFC 9112 2.2). A line may end in CRLF or a bare LF, as Apache and nginx accept.
     */
    static Parsed parse(byte[] b, int off, int len) {
        int end = off + len;
        int p = off;
        // RFC 9112 2.2: ignore at least one empty line before the request line
        while (p < end && (b[p] == '\r' || b[p] == '\n')) {
            p++;
        }
        int lineEnd = indexOf(b, p, end, '\n');
        if (lineEnd < 0) {
            return end - p > LIMIT_REQUEST_LINE ? refuse(414) : Parsed.MORE;
        }
        if (lineEnd - p > LIMIT_REQUEST_LINE + 1) {
            return refuse(414);
        }
        String line = ascii(b, p, trimCr(b, p, lineEnd));
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty() || !token(parts[0])) {
            return refuse(400);
        }
        String version = parts[2];
        if (!version.startsWith("HTTP/") || version.length() != 8 || version.charAt(6) != '.'
                || !Character.isDigit(version.charAt(5)) || !Character.isDigit(version.charAt(7))) {
            return refuse(400);
        }
        if (version.charAt(5) != '1') {
            return refuse(505);
        }
        int minor = version.charAt(7) - '0';
        List<Header> headers = new ArrayList<>();
        p = lineEnd + 1;
        while (true) {
            int e = indexOf(b, p, end, '\n');
            if (e < 0) {
                return end - p > LIMIT_REQUEST_FIELD_SIZE ? refuse(431) : Parsed.MORE;
            }
            if (e - p > LIMIT_REQUEST_FIELD_SIZE + 1) {
                return refuse(431);
            }
            int contentEnd = trimCr(b, p, e);
            if (contentEnd == p) {
                p = e + 1;
                break; // the empty line: the end of the head
            }
            if (b[p] == ' ' || b[p] == '\t') {
                return refuse(400); // RFC 9112 5.2: obsolete line folding, refused
            }
            if (headers.size() >= LIMIT_REQUEST_FIELDS) {
                return refuse(431);
            }
            String field = new String(b, p, contentEnd - p, StandardCharsets.ISO_8859_1);
            int colon = field.indexOf(':');
            if (colon <= 0 || !token(field.substring(0, colon))) {
                return refuse(400); // RFC 9112 5.1: no blank between the name and the colon
            }
            headers.add(new Header(field.substring(0, colon), field.substring(colon + 1).strip()));
            p = e + 1;
        }
        HttpRequest r = new HttpRequest(parts[0], parts[1], minor, List.copyOf(headers));
        if (minor >= 1 && r.header("Host") == null) {
            return refuse(400); // RFC 9112 3.2: a 1.1 request without Host
        }
        int body = bodyFraming(r);
        return body != 0 ? refuse(body) : new Parsed(r, p - off, 0);
    }

    /**
     * RFC 9112 6.1-6.3: how the body is framed, or the refusal. Transfer-Encoding must be "chunked"
     * alone (else 501, as Apache and nginx answer); with a Content-Length too it is 400, as nginx
     * refuses the pair (a request smuggling shape; RFC 9112 6.1 lets a server reject it). Content-Length
     * must be digits, every copy the same (else 400), and at most {@link #LIMIT_REQUEST_BODY} (else 413).
     */
    private static int bodyFraming(HttpRequest r) {
        String te = null;
        String cl = null;
        for (Header h : r.headers()) {
            if (h.name().equalsIgnoreCase("Transfer-Encoding")) {
                if (te != null) {
                    return 501; // "chunked, chunked" or a second coding: nothing httpd decodes
                }
                te = h.value();
            } else if (h.name().equalsIgnoreCase("Content-Length")) {
                String v = h.value();
                if (v.isEmpty() || v.length() > 18 || !v.chars().allMatch(c -> c >= '0' && c <= '9') || (cl != null && !cl.equals(v))) {
                    return 400;
                }
                cl = v;
            }
        }
        if (te != null) {
            return !te.equalsIgnoreCase("chunked") ? 501 : cl != null ? 400 : 0;
        }
        return cl != null && Long.parseLong(cl) > LIMIT_REQUEST_BODY ? 413 : 0;
    }

    /**
     * What {@link #scan} found in a plain GET or HEAD head, in place: where the path is in the buffer
     * and how the connection goes on. One per server thread, reused for every request.
     */
    static final class Plain {
        boolean head;
        int pathFrom;
        int pathTo;
        int minor;
        boolean close;
    }

    /**
     * The allocation-free parse of the common request: {@code GET} or {@code HEAD} of a plain path (no
     * percent escape, no dot segment, no trailing slash, no absolute form), HTTP/1.x, a Host on 1.1, and
     * no Content-Length, Transfer-Encoding, Expect or Range. Returns the bytes the head takes, with
     * {@code out} filled in, or 0 for anything else (a head not all here, a refusal, any other shape),
     * which {@link #parse} then reads as before: this is only a shortcut to the answer it would give.
     */
    static int scan(byte[] b, int len, Plain out) {
        int p;
        if (len > 4 && b[0] == 'G' && b[1] == 'E' && b[2] == 'T' && b[3] == ' ') {
            out.head = false;
            p = 4;
        } else if (len > 5 && b[0] == 'H' && b[1] == 'E' && b[2] == 'A' && b[3] == 'D' && b[4] == ' ') {
            out.head = true;
            p = 5;
        } else {
            return 0;
        }
        if (p >= len || b[p] != '/') {
            return 0;
        }
        int from = p;
        int pathTo = -1;
        int limit = Math.min(len, LIMIT_REQUEST_LINE);
        for (; p < limit && b[p] != ' '; p++) {
            int c = b[p] & 0xff;
            if (c < 0x21 || c > 0x7e) {
                return 0;
            }
            if (pathTo < 0) {
                if (c == '?') {
                    pathTo = p;
                } else if (c == '%' || c == '\\' || (c == '.' && b[p - 1] == '/')) {
                    return 0; // escapes, dot segments and hidden names: parse and decode's way
                }
            }
        }
        if (pathTo < 0) {
            pathTo = p;
        }
        if (b[pathTo - 1] == '/') {
            return 0; // a directory: its index or its listing
        }
        // " HTTP/1.x" and the line's end
        if (p + 9 >= len || b[p] != ' ' || b[p + 1] != 'H' || b[p + 2] != 'T' || b[p + 3] != 'T' || b[p + 4] != 'P'
                || b[p + 5] != '/' || b[p + 6] != '1' || b[p + 7] != '.' || b[p + 8] < '0' || b[p + 8] > '9') {
            return 0;
        }
        int minor = b[p + 8] - '0';
        p += 9;
        if (b[p] == '\r') {
            p++;
        }
        if (p >= len || b[p] != '\n') {
            return 0;
        }
        p++;
        boolean host = false;
        boolean close = false;
        boolean keepAlive = false;
        for (int fields = 0; ; fields++) {
            int e = indexOf(b, p, Math.min(len, p + LIMIT_REQUEST_FIELD_SIZE + 1), '\n');
            if (e < 0) {
                return 0;
            }
            int end = trimCr(b, p, e);
            if (end == p) {
                p = e + 1;
                break;
            }
            if (fields >= LIMIT_REQUEST_FIELDS) {
                return 0;
            }
            int colon = p;
            while (colon < end && tchar(b[colon] & 0xff)) {
                colon++;
            }
            if (colon == p || colon == end || b[colon] != ':') {
                return 0; // no name, a blank before the colon, a folded line: parse refuses it
            }
            int v = colon + 1;
            int ve = end;
            while (v < ve && blank(b[v])) {
                v++;
            }
            while (ve > v && blank(b[ve - 1])) {
                ve--;
            }
            int n = colon - p;
            if (named(b, p, n, "Host")) {
                host = true;
            } else if (named(b, p, n, "Connection")) {
                // RFC 9110 7.6.1: a comma-separated list of options, any case
                int o = v;
                while (o <= ve) {
                    int c = o;
                    while (c < ve && b[c] != ',') {
                        c++;
                    }
                    int a = o;
                    int z = c;
                    while (a < z && (b[a] & 0xff) <= ' ') {
                        a++;
                    }
                    while (z > a && (b[z - 1] & 0xff) <= ' ') {
                        z--;
                    }
                    close |= named(b, a, z - a, "close");
                    keepAlive |= named(b, a, z - a, "keep-alive");
                    o = c + 1;
                }
            } else if (named(b, p, n, "Content-Length") || named(b, p, n, "Transfer-Encoding") || named(b, p, n, "Expect")
                    || named(b, p, n, "Range")) {
                return 0;
            }
            p = e + 1;
        }
        if (minor >= 1 && !host) {
            return 0;
        }
        out.pathFrom = from;
        out.pathTo = pathTo;
        out.minor = minor;
        out.close = minor >= 1 ? close : !keepAlive;
        return p;
    }

    /** The blanks String.strip takes off a value that matter here: space, tab and the other ASCII whitespace. */
    private static boolean blank(byte c) {
        return c == ' ' || c == '\t' || (c >= 0x0a && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
    }

    /** Whether {@code b[from, from+n)} is {@code name} in any case (ASCII). */
    private static boolean named(byte[] b, int from, int n, String name) {
        if (n != name.length()) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            int c = b[from + i] & 0xff;
            int d = name.charAt(i);
            int l = d | 0x20;
            if (c != d && !(l >= 'a' && l <= 'z' && (c | 0x20) == l)) {
                return false;
            }
        }
        return true;
    }

    private static boolean tchar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static Parsed refuse(int status) {
        return new Parsed(null, 0, status);
    }

    private static int indexOf(byte[] b, int from, int to, char c) {
        for (int i = from; i < to; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private static int trimCr(byte[] b, int from, int lf) {
        return lf > from && b[lf - 1] == '\r' ? lf - 1 : lf;
    }

    private static String ascii(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }

    /** RFC 9110 5.6.2: a token is one or more tchars. */
    static boolean token(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** The method in upper case is not a method's name in a comparison: methods are case-sensitive. */
    boolean is(String m) {
        return method.equals(m);
    }

    @Override
    public String toString() {
        return method + " " + target + " HTTP/1." + minor + " " + headers.size() + " fields";
    }
}

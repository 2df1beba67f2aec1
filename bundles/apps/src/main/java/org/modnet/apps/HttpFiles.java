package org.modnet.apps;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What httpd answers to a request, decided without a socket: the file under the document root, a
 * part of it (Range), a directory listing, or an error page, each with the headers Apache sends
 * (Date, Server, Last-Modified, Accept-Ranges, Content-Length, Content-Type by extension,
 * Content-Range). {@link Httpd} writes it out.
 */
final class HttpFiles {
    static final String SERVER = "modnet-httpd";
    /** RFC 9110 5.6.7 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (RFC_1123_DATE_TIME does not pad the day). */
    static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);

    /**
     * An answer: status, reason, headers in order, and the body: {@code body} bytes, or
     * {@code length} bytes of {@code file} from {@code offset}. {@code head} sends the headers only.
     */
    record Response(int status, Map<String, String> headers, byte[] body, Path file, long offset, long length,
            boolean head, boolean close) {
        long bodyLength() {
            return body != null ? body.length : length;
        }

        /** The status line and the headers, CRLF-terminated, as bytes. */
        byte[] headBytes() {
            StringBuilder sb = new StringBuilder(256);
            sb.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
            for (Map.Entry<String, String> e : headers.entrySet()) {
                sb.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
            }
            return sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    private final Path root;

    HttpFiles(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    Path root() {
        return root;
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 206 -> "Partial Content";
            case 301 -> "Moved Permanently";
            case 304 -> "Not Modified";
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 416 -> "Range Not Satisfiable";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            case 505 -> "HTTP Version Not Supported";
            default -> "Unknown";
        };
    }

    /** The answer to a request the parser refused ({@code status} 400, 414, 431, 501, 505): an error page, then close. */
    Response refusal(int status, Instant now) {
        return error(status, false, true, now, null);
    }

    /** The answer to {@code req}. */
    Response respond(HttpRequest req, Instant now) {
        boolean head = req.is("HEAD");
        boolean close = !req.keepAlive();
        if (!req.is("GET") && !head) {
            // RFC 9110 15.5.6: a 405 names the methods the resource has
            return error(405, false, close, now, Map.of("Allow", "GET, HEAD"));
        }
        String target = req.target();
        if (target.startsWith("http://")) { // absolute-form (RFC 9112 3.2.2): its path is what counts
            int slash = target.indexOf('/', 7);
            target = slash < 0 ? "/" : target.substring(slash);
        }
        if (!target.startsWith("/")) {
            return error(400, head, true, now, null);
        }
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        String path = decode(rawPath);
        if (path == null) {
            return error(400, head, true, now, null);
        }
        Path file = resolve(path);
        if (file == null) {
            return error(403, head, close, now, null); // a path that climbs out of the document root
        }
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            return error(404, head, close, now, null);
        }
        if (attrs.isDirectory()) {
            if (!rawPath.endsWith("/")) {
                // as Apache's mod_dir: a directory is named with its trailing slash
                return error(301, head, close, now, Map.of("Location", rawPath + "/" + (q < 0 ? "" : target.substring(q))));
            }
            Path index = file.resolve("index.html");
            if (Files.isRegularFile(index)) {
                file = index;
                try {
                    attrs = Files.readAttributes(file, BasicFileAttributes.class);
                } catch (IOException e) {
                    return error(404, head, close, now, null);
                }
            } else {
                return listing(file, path, head, close, now);
            }
        }
        if (!attrs.isRegularFile() || !Files.isReadable(file)) {
            return error(403, head, close, now, null);
        }
        long size = attrs.size();
        Map<String, String> h = common(now);
        h.put("Last-Modified", HTTP_DATE.format(attrs.lastModifiedTime().toInstant()));
        h.put("Accept-Ranges", "bytes");
        String range = req.header("Range");
        long[] r = range == null ? null : range(range, size);
        if (r != null && r[0] < 0) {
            Map<String, String> e = new LinkedHashMap<>();
            e.put("Content-Range", "bytes */" + size);
            return error(416, head, close, now, e);
        }
        long offset = 0;
        long length = size;
        int status = 200;
        if (r != null) {
            status = 206;
            offset = r[0];
            length = r[1] - r[0] + 1;
            h.put("Content-Range", "bytes " + r[0] + "-" + r[1] + "/" + size);
        }
        h.put("Content-Length", Long.toString(length));
        h.put("Content-Type", contentType(file.getFileName().toString()));
        connection(h, req, close);
        return new Response(status, h, null, file, offset, length, head, close);
    }

    private static void connection(Map<String, String> h, HttpRequest req, boolean close) {
        if (close) {
            h.put("Connection", "close");
        } else if (req != null && req.minor() == 0) {
            h.put("Connection", "keep-alive"); // a 1.0 client that asked for it is told it has it
        }
    }

    private static Map<String, String> common(Instant now) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Date", HTTP_DATE.format(now));
        h.put("Server", SERVER);
        return h;
    }

    /**
     * A single byte range ({@code bytes=A-B}, {@code bytes=A-}, {@code bytes=-N}, RFC 9110 14.1.2) as
     * {first, last} within {@code size}; {-1, -1} when it cannot be satisfied (416); null when the
     * header is not one range of bytes, which is ignored (a 200 with the whole file, as RFC 9110
     * 14.2 allows; several ranges are answered the same way rather than as multipart/byteranges).
     */
    static long[] range(String header, long size) {
        String h = header.strip();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
            return null;
        }
        String spec = h.substring(6).strip();
        if (spec.contains(",")) {
            return null;
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String a = spec.substring(0, dash).strip();
        String b = spec.substring(dash + 1).strip();
        try {
            if (a.isEmpty()) {
                if (b.isEmpty()) {
                    return null;
                }
                long n = Long.parseLong(b);
                if (n < 0) {
                    return null;
                }
                if (n == 0 || size == 0) {
                    return new long[] { -1, -1 };
                }
                return new long[] { Math.max(0, size - n), size - 1 };
            }
            long first = Long.parseLong(a);
            long last = b.isEmpty() ? Long.MAX_VALUE : Long.parseLong(b);
            if (first < 0 || last < first) {
                return null; // RFC 9110 14.1.1: an invalid range-spec makes the header ignored
            }
            if (first >= size) {
                return new long[] { -1, -1 };
            }
            return new long[] { first, Math.min(last, size - 1) };
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Percent-decoding of a path (UTF-8); null for a malformed escape or a NUL. */
    static String decode(String raw) {
        byte[] out = new byte[raw.length()];
        int n = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    return null;
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                    return null;
                }
                out[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (c > 0x7e || c < 0x21) {
                return null;
            } else {
                out[n++] = (byte) c;
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }

    /** The file a decoded path names under the root, or null if its ".." segments climb out of it. */
    Path resolve(String path) {
        List<String> segments = new ArrayList<>();
        for (String s : path.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (segments.isEmpty()) {
                    return null;
                }
                segments.remove(segments.size() - 1);
                continue;
            }
            if (s.indexOf('\\') >= 0) {
                return null;
            }
            segments.add(s);
        }
        Path p = root;
        for (String s : segments) {
            p = p.resolve(s);
        }
        return p.normalize().startsWith(root) ? p : null;
    }

    static String contentType(String name) {
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        // the common entries of Debian's /etc/mime.types
        return switch (ext) {
            case "html", "htm" -> "text/html";
            case "txt", "text", "log", "conf" -> "text/plain";
            case "css" -> "text/css";
            case "csv" -> "text/csv";
            case "js", "mjs" -> "text/javascript";
            case "json" -> "application/json";
            case "xml" -> "application/xml";
            case "pdf" -> "application/pdf";
            case "zip" -> "application/zip";
            case "gz", "tgz" -> "application/gzip";
            case "tar" -> "application/x-tar";
            case "png" -> "image/png";
            case "jpg", "jpeg" -> "image/jpeg";
            case "gif" -> "image/gif";
            case "svg" -> "image/svg+xml";
            case "ico" -> "image/vnd.microsoft.icon";
            case "wasm" -> "application/wasm";
            case "pcap" -> "application/vnd.tcpdump.pcap";
            default -> "application/octet-stream";
        };
    }

    private Response listing(Path dir, String path, boolean head, boolean close, Instant now) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                names.add(Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? n + "/" : n);
            }
        } catch (IOException e) {
            return error(403, head, close, now, null);
        }
        names.sort(null);
        String title = "Index of " + html(path);
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html>\n<head><title>").append(title).append("</title></head>\n<body>\n<h1>")
                .append(title).append("</h1>\n<ul>\n");
        if (!path.equals("/")) {
            sb.append("<li><a href=\"../\">Parent Directory</a></li>\n");
        }
        for (String n : names) {
            sb.append("<li><a href=\"").append(html(href(n))).append("\">").append(html(n)).append("</a></li>\n");
        }
        sb.append("</ul>\n</body>\n</html>\n");
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        Map<String, String> h = common(now);
        h.put("Content-Length", Integer.toString(body.length));
        h.put("Content-Type", "text/html;charset=UTF-8");
        if (close) {
            h.put("Connection", "close");
        }
        return new Response(200, h, body, null, 0, body.length, head, close);
    }

    private static String href(String name) {
        StringBuilder sb = new StringBuilder();
        for (byte c : name.getBytes(StandardCharsets.UTF_8)) {
            int u = c & 0xff;
            if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || "-._~/".indexOf(u) >= 0) {
                sb.append((char) u);
            } else {
                sb.append('%').append(String.format("%02X", u));
            }
        }
        return sb.toString();
    }

    static String html(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static Response error(int status, boolean head, boolean close, Instant now, Map<String, String> extra) {
        String reason = reason(status);
        String text = "<!DOCTYPE html>\n<html><head><title>" + status + " " + reason + "</title></head>\n<body><h1>" + reason
                + "</h1></body></html>\n";
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        Map<String, String> h = common(now);
        if (extra != null) {
            h.putAll(extra);
        }
        h.put("Content-Length", Integer.toString(body.length));
        h.put("Content-Type", "text/html;charset=UTF-8");
        if (close) {
            h.put("Connection", "close");
        }
        return new Response(status, h, body, null, 0, body.length, head, close);
    }
}

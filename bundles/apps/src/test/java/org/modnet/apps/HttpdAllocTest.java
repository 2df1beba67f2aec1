package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * httpd's keep-alive GET path allocates nothing per request once warm (the file's metadata cached, the
 * Date line formatted once a second, the head parsed in place and written as bytes), so its
 * request/response latency has no garbage collection in it: the serving thread's allocated bytes
 * (ThreadMXBean) over 10,000 GETs of a small file on one connection, on the JDK's loopback sockets: less
 * than a byte a request on average (the Date line once a second is all). The loop selects with an
 * action, so no selected-key set's node or iterator is made per wake-up either; the parse-into-Strings
 * path this replaced made about 5 KB a request.
 */
class HttpdAllocTest {
    @TempDir
    Path root;

    @Test
    void repeatedGetsOnOneConnectionAllocateAlmostNothing() throws Exception {
        byte[] body = "small file\n".repeat(40).getBytes(StandardCharsets.US_ASCII);
        Files.write(root.resolve("small.txt"), body);
        Httpd h = start();
        Thread serving = this.serving;
        int port = h.port();
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress("127.0.0.1", port));
            c.setTcpNoDelay(true);
            OutputStream out = c.getOutputStream();
            InputStream in = c.getInputStream();
            byte[] req = "GET /small.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            byte[] resp = new byte[4096];
            int expect = get(out, in, req, resp, -1, body.length);
            for (int i = 0; i < 20_000; i++) { // warm: the JIT's escape analysis, the cache
                get(out, in, req, resp, expect, body.length);
            }
            int n = 10_000;
            long before = mx.getThreadAllocatedBytes(serving.threadId());
            for (int i = 0; i < n; i++) {
                get(out, in, req, resp, expect, body.length);
            }
            long bytes = mx.getThreadAllocatedBytes(serving.threadId()) - before;
            System.out.println("httpd allocated " + (double) bytes / n + " B/request");
            assertTrue(bytes < n, bytes + " bytes over " + n + " requests");
            assertEquals(n + 20_001, h.stats.accesses.get());
        } finally {
            h.stop();
            serving.join(10_000);
        }
    }

    private Thread serving;

    private Httpd start() throws Exception {
        HttpdServing running = HttpdServing.start(root, 18580);
        serving = running.thread();
        return running.httpd();
    }

    /** One GET on its own connection (HTTP/1.0, closed after): the whole answer as text. */
    private static String fetch(int port, String path) throws Exception {
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress("127.0.0.1", port));
            c.getOutputStream().write(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void moreFilesThanTheCacheHoldsAreAllServedAndTheEvictionsCounted() throws Exception {
        int files = HttpFileCache.SIZE * 3;
        for (int i = 0; i < files; i++) {
            Files.writeString(root.resolve("f" + i + ".txt"), "file " + i + "\n");
        }
        Httpd h = start();
        try {
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < files; i++) {
                    String r = fetch(h.port(), "/f" + i + ".txt");
                    assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n"), r);
                    assertTrue(r.endsWith("\r\n\r\nfile " + i + "\n"), r);
                }
            }
            assertTrue(h.stats.cacheEvictions.get() > 0, "evictions counted: " + h.stats.cacheEvictions.get());
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            AppCommands.status(h, new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("FileCacheEvictions: " + h.stats.cacheEvictions.get() + "\n"));
        } finally {
            h.stop();
            serving.join(10_000);
        }
    }

    @Test
    void aChangedFileIsServedAsItIsNowAfterTheCachesSecond() throws Exception {
        Path f = root.resolve("a.txt");
        Files.writeString(f, "old\n");
        Httpd h = start();
        try {
            assertTrue(fetch(h.port(), "/a.txt").endsWith("\r\nContent-Length: 4\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nold\n"));
            Files.writeString(f, "newer\n");
            Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
            Thread.sleep(HttpFileCache.VALID_NS / 1_000_000 + 200); // past the entry's second: it is checked again
            String r = fetch(h.port(), "/a.txt");
            assertTrue(r.endsWith("\r\nContent-Length: 6\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nnewer\n"), r);
            Files.delete(f);
            Thread.sleep(HttpFileCache.VALID_NS / 1_000_000 + 200);
            assertTrue(fetch(h.port(), "/a.txt").startsWith("HTTP/1.1 404 Not Found\r\n"));
        } finally {
            h.stop();
            serving.join(10_000);
        }
    }

    /** One GET and its whole answer (the head, then {@code bodyLength} bytes); the answer's length. */
    private static int get(OutputStream out, InputStream in, byte[] req, byte[] resp, int expect, int bodyLength) throws Exception {
        out.write(req);
        int got = 0;
        int total = expect;
        while (total < 0 || got < total) {
            int r = in.read(resp, got, resp.length - got);
            if (r < 0) {
                throw new AssertionError("closed after " + got + " bytes");
            }
            got += r;
            if (total < 0) {
                String s = new String(resp, 0, got, StandardCharsets.ISO_8859_1);
                int end = s.indexOf("\r\n\r\n");
                if (end >= 0) {
                    assertTrue(s.startsWith("HTTP/1.1 200 OK\r\n"), s);
                    assertTrue(s.contains("\r\nContent-Length: " + bodyLength + "\r\n"), s);
                    total = end + 4 + bodyLength;
                }
            }
        }
        assertEquals(total, got, "no more than the answer");
        return total;
    }
}

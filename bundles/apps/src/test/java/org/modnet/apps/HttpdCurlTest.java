package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * httpd and curl against each other on the JDK's own loopback sockets (they take any
 * SelectorProvider; modnet's is the ITs'): the wire between them, keep-alive, pipelining, -f and -w.
 */
class HttpdCurlTest {
    @TempDir
    Path root;
    private Httpd httpd;
    private Thread serving;
    private int port;
    private byte[] data;

    @BeforeEach
    void start() throws Exception {
        data = new byte[300_000];
        new Random(19).nextBytes(data);
        Files.write(root.resolve("data.bin"), data);
        HttpdServing running = HttpdServing.start(root, 18080);
        httpd = running.httpd();
        serving = running.thread();
        port = httpd.port();
    }

    @AfterEach
    void stop() throws Exception {
        httpd.stop();
        serving.join(10_000);
    }

    private record Run(int status, byte[] out, String err) {
    }

    private Run curl(String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int s = new Curl(SelectorProvider.provider(), new PrintStream(out), new PrintStream(err), root).run(List.of(args));
        return new Run(s, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    private String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    @Test
    void curlFetchesAFileIntactWithItsMeterAndWriteOut() throws Exception {
        Run r = curl("-o", "got.bin", "-w", "%{http_code} %{size_download}\\n", url("/data.bin"));
        assertEquals(0, r.status(), r.err());
        assertArrayEquals(data, Files.readAllBytes(root.resolve("got.bin")));
        assertEquals("200 300000\n", new String(r.out(), StandardCharsets.US_ASCII));
        assertTrue(r.err().startsWith(CurlProgress.HEADER), r.err());
        assertTrue(r.err().endsWith("\n") && r.err().contains("\r100  292k  100  292k"), r.err());
    }

    @Test
    void aRangeFetchesItsBytesOnly() throws Exception {
        Run r = curl("-s", "-r", "1000-1999", "-w", "%{http_code}", "-o", "part", url("/data.bin"));
        assertEquals("206", new String(r.out(), StandardCharsets.US_ASCII));
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 1000, 2000), Files.readAllBytes(root.resolve("part")));
    }

    @Test
    void failOnNotFoundIsTwentyTwoAndWritesNoBody() throws Exception {
        Run r = curl("-sS", "-f", "-w", "%{http_code} %{size_download}\\n", url("/nope"));
        assertEquals(22, r.status());
        assertEquals("404 0\n", new String(r.out(), StandardCharsets.US_ASCII));
        assertEquals("curl: (22) The requested URL returned error: 404\n", r.err());
    }

    @Test
    void withoutFailANotFoundIsItsPageAndStatusZero() throws Exception {
        Run r = curl("-s", url("/nope"));
        assertEquals(0, r.status());
        assertTrue(new String(r.out(), StandardCharsets.UTF_8).contains("<h1>Not Found</h1>"));
    }

    @Test
    void headPrintsTheHeadersOnly() throws Exception {
        Run r = curl("-s", "-I", url("/data.bin"));
        String head = new String(r.out(), StandardCharsets.ISO_8859_1);
        assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n"), head);
        assertTrue(head.contains("Content-Length: 300000\r\n"), head);
        assertTrue(head.endsWith("\r\n\r\n"), head);
    }

    @Test
    void aRefusedPortIsSevenInCurlsWords() throws Exception {
        httpd.stop();
        serving.join(10_000);
        Run r = curl("-sS", "-w", "%{http_code}\\n", url("/"));
        assertEquals(7, r.status());
        assertEquals("000\n", new String(r.out(), StandardCharsets.US_ASCII));
        assertTrue(r.err().matches("curl: \\(7\\) Failed to connect to 127.0.0.1 port " + port
                + " after \\d+ ms: Couldn't connect to server\n"), r.err());
    }

    @Test
    void pipelinedRequestsOnOneConnectionAreAnsweredInOrderThenClosedOnRequest() throws Exception {
        Files.writeString(root.resolve("a.txt"), "AAA");
        Files.writeString(root.resolve("b.txt"), "BB");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port));
            OutputStream o = s.getOutputStream();
            o.write(("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1); // ends: the server closed
            int a = all.indexOf("\r\n\r\nAAA");
            int b = all.indexOf("\r\n\r\nBB");
            assertTrue(a > 0 && b > a, all);
            assertTrue(all.substring(a).contains("Connection: close"), all);
        }
        assertEquals(2, httpd.stats.accesses.get());
    }

    @Test
    void aTenMegabyteHeaderLineGetsFourThirtyOneAfterALingeringCloseAndTheServerKeepsServing() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port));
            OutputStream o = s.getOutputStream();
            o.write("GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".getBytes(StandardCharsets.US_ASCII));
            byte[] junk = new byte[16384];
            java.util.Arrays.fill(junk, (byte) 'a');
            try {
                for (int i = 0; i < 640; i++) { // 10 MB, unless the server has answered and closed first
                    o.write(junk);
                }
            } catch (java.io.IOException e) {
                throw new AssertionError("the server reads and drops the rest of the line (a lingering close)", e);
            }
            s.shutdownOutput();
            String answer = new String(s.getInputStream().readNBytes(64), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 431 Request Header Fields Too Large"), answer);
        }
        assertEquals(1, httpd.stats.bad.get());
        assertEquals(0, curl("-s", "-o", "again", url("/data.bin")).status());
    }

    @Test
    void locationFollowsTheDirectorysRedirectToItsSlash() throws Exception {
        Files.createDirectory(root.resolve("dir"));
        Files.writeString(root.resolve("dir/index.html"), "hi\n");
        Run r = curl("-s", "-L", "-w", "%{http_code} %{num_redirects} %{url_effective}", url("/dir"));
        assertEquals(0, r.status(), r.err());
        assertEquals("hi\n200 1 " + url("/dir/"), new String(r.out(), StandardCharsets.US_ASCII));
        Run once = curl("-s", "-o", "page", "-w", "%{http_code} %{num_redirects} [%{redirect_url}]", url("/dir"));
        assertEquals("301 0 [" + url("/dir/") + "]", new String(once.out(), StandardCharsets.US_ASCII));
        Run heads = curl("-s", "-I", "-L", url("/dir"));
        String h = new String(heads.out(), StandardCharsets.ISO_8859_1);
        assertTrue(h.startsWith("HTTP/1.1 301 Moved Permanently\r\n") && h.contains("Location: /dir/\r\n")
                && h.contains("\r\n\r\nHTTP/1.1 200 OK\r\n"), "both heads, as curl -I -L prints them: " + h);
    }

    @Test
    void moreRedirectsThanMaxRedirsIsFortySeven() throws Exception {
        Files.createDirectory(root.resolve("dir"));
        Run r = curl("-sS", "-L", "--max-redirs", "0", "-w", "%{http_code} %{num_redirects} %{exitcode}\n", url("/dir"));
        assertEquals(47, r.status());
        assertEquals("301 0 47\n", new String(r.out(), StandardCharsets.US_ASCII));
        assertEquals("curl: (47) Maximum (0) redirects followed\n", r.err());
    }

    /** Sends {@code request} on one connection and reads until the server closes it. */
    private String exchange(String request) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port));
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.shutdownOutput(); // our FIN ends the server's lingering close at once
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void requestBodiesAreReadAndDroppedSoTheNextRequestOnTheConnectionParses() throws Exception {
        Files.writeString(root.resolve("a.txt"), "AAA");
        String all = exchange("POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nGET /x HTTP"
                + "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n0\r\n\r\n"
                + "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(all.startsWith("HTTP/1.1 405 Method Not Allowed\r\n"), all);
        int first = all.indexOf("HTTP/1.1 200 OK");
        int second = all.indexOf("HTTP/1.1 200 OK", first + 1);
        assertTrue(first > 0 && second > first && all.endsWith("\r\n\r\nAAA"), "405, then two 200s: " + all);
        assertEquals(3, httpd.stats.accesses.get());
        assertEquals(0, httpd.stats.bad.get());
    }

    @Test
    void aContinueComesBeforeTheBodyAndATooLargeBodyIs413AndClosed() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port));
            s.getOutputStream().write("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] cont = s.getInputStream().readNBytes(25);
            assertEquals("HTTP/1.1 100 Continue\r\n\r\n", new String(cont, StandardCharsets.ISO_8859_1));
            s.getOutputStream().write("abcGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            String rest = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(rest.startsWith("HTTP/1.1 405 ") && rest.contains("HTTP/1.1 404 Not Found"), rest);
        }
        String big = exchange("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
        assertTrue(big.startsWith("HTTP/1.1 413 ") && big.contains("Connection: close"), big);
        String chunked = exchange("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "100000\r\n" + "a".repeat(1 << 20) + "\r\n1\r\nb\r\n0\r\n\r\n");
        assertTrue(chunked.startsWith("HTTP/1.1 413 "), "a chunked body past 1 MiB: " + chunked.substring(0, Math.min(200, chunked.length())));
        assertEquals(2, httpd.stats.bad.get());
        assertEquals(0, curl("-s", "-o", "again", url("/data.bin")).status(), "and the server goes on serving");
    }

    @Test
    void anInterruptEndsTheServerAndFreesItsPort() throws Exception {
        serving.interrupt(); // what Ctrl-C does to the shell's command thread
        serving.join(10_000);
        assertTrue(!serving.isAlive(), "httpd ended on the interrupt");
        Run r = curl("-sS", url("/"));
        assertEquals(7, r.status(), r.err());
    }

    @Test
    void verboseLogsEachRequestInTheCommonLogFormat() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Httpd v = new Httpd(SelectorProvider.provider(), new HttpFiles(root), 0, new PrintStream(log, true));
        ServerSocketChannel server = v.bind();
        int p = ((InetSocketAddress) server.getLocalAddress()).getPort();
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                v.serve(server);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try {
            assertEquals(0, curl("-s", "-o", "x", "http://127.0.0.1:" + p + "/data.bin").status());
            assertEquals(0, curl("-s", "-I", "http://127.0.0.1:" + p + "/nope").status());
        } finally {
            v.stop();
            t.join(10_000);
        }
        String[] lines = log.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(2, lines.length, log.toString());
        assertTrue(lines[0].matches("127\\.0\\.0\\.1 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000\\] \"GET /data.bin HTTP/1.1\" 200 300000"),
                lines[0]);
        assertTrue(lines[1].endsWith("\"HEAD /nope HTTP/1.1\" 404 -"), lines[1]);
    }
}

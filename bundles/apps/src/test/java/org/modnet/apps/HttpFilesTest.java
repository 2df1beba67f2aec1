package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpFilesTest {
    private static final Instant NOW = Instant.parse("1994-11-06T08:49:37Z");

    @TempDir
    Path root;
    private HttpFiles files;

    @BeforeEach
    void files() throws Exception {
        Files.writeString(root.resolve("hello.txt"), "hello world\n");
        Files.setLastModifiedTime(root.resolve("hello.txt"), FileTime.from(Instant.parse("2001-02-03T04:05:06Z")));
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/a b.html"), "<p>");
        files = new HttpFiles(root);
    }

    private HttpFiles.Response get(String target, String... fields) {
        StringBuilder sb = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: x\r\n");
        for (String f : fields) {
            sb.append(f).append("\r\n");
        }
        byte[] b = sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        return files.respond(HttpRequest.parse(b, 0, b.length).request(), NOW);
    }

    @Test
    void aFileIsServedWithItsLengthTypeDatesAndRanges() {
        HttpFiles.Response r = get("/hello.txt");
        assertEquals(200, r.status());
        assertEquals("12", r.headers().get("Content-Length"));
        assertEquals("text/plain", r.headers().get("Content-Type"));
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", r.headers().get("Date"));
        assertEquals("Sat, 03 Feb 2001 04:05:06 GMT", r.headers().get("Last-Modified"));
        assertEquals("bytes", r.headers().get("Accept-Ranges"));
        assertEquals(root.resolve("hello.txt"), r.file());
        assertFalse(r.close());
        String head = new String(r.headBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(head.startsWith("HTTP/1.1 200 OK\r\nDate: "), head);
        assertTrue(head.endsWith("\r\n\r\n"), head);
    }

    @Test
    void aRangeIsAPartialContentWithItsContentRange() {
        HttpFiles.Response r = get("/hello.txt", "Range: bytes=6-10");
        assertEquals(206, r.status());
        assertEquals(6, r.offset());
        assertEquals(5, r.length());
        assertEquals("bytes 6-10/12", r.headers().get("Content-Range"));
        assertEquals("5", r.headers().get("Content-Length"));
        assertEquals("bytes 9-11/12", get("/hello.txt", "Range: bytes=-3").headers().get("Content-Range"));
        assertEquals("bytes 4-11/12", get("/hello.txt", "Range: bytes=4-").headers().get("Content-Range"));
        assertEquals("bytes 4-11/12", get("/hello.txt", "Range: bytes=4-999").headers().get("Content-Range"));
    }

    @Test
    void aRangePastTheEndIsNotSatisfiableAndNamesTheLength() {
        HttpFiles.Response r = get("/hello.txt", "Range: bytes=12-20");
        assertEquals(416, r.status());
        assertEquals("bytes */12", r.headers().get("Content-Range"));
        assertEquals(416, get("/hello.txt", "Range: bytes=20-").status());
    }

    @Test
    void anInvalidOrMultipleRangeIsIgnoredForTheWholeFile() {
        assertEquals(200, get("/hello.txt", "Range: bytes=5-2").status());
        assertEquals(200, get("/hello.txt", "Range: lines=1-2").status());
        assertEquals(200, get("/hello.txt", "Range: bytes=0-1,4-5").status());
    }

    @Test
    void aMissingFileIsNotFound() {
        HttpFiles.Response r = get("/nope");
        assertEquals(404, r.status());
        assertEquals("text/html;charset=UTF-8", r.headers().get("Content-Type"));
        assertEquals(Integer.toString(r.body().length), r.headers().get("Content-Length"));
    }

    @Test
    void aPathClimbingOutOfTheRootIsForbidden() {
        assertEquals(403, get("/../etc/passwd").status());
        assertEquals(403, get("/sub/%2e%2e/%2E%2E/x").status());
        assertNull(files.resolve("/a/../../b"));
    }

    @Test
    void otherMethodsAreNotAllowedAndTheAnswerSaysWhichAre() {
        byte[] b = "DELETE /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        HttpFiles.Response r = files.respond(HttpRequest.parse(b, 0, b.length).request(), NOW);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD", r.headers().get("Allow"));
    }

    @Test
    void headHasTheHeadersOfGetAndNoBody() {
        byte[] b = "HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        HttpFiles.Response r = files.respond(HttpRequest.parse(b, 0, b.length).request(), NOW);
        assertEquals(200, r.status());
        assertTrue(r.head());
        assertEquals("12", r.headers().get("Content-Length"));
    }

    @Test
    void aDirectoryIsListedWithEscapedLinksAndRedirectedWithoutItsSlash() {
        HttpFiles.Response r = get("/sub/");
        assertEquals(200, r.status());
        String page = new String(r.body(), StandardCharsets.UTF_8);
        assertTrue(page.contains("<a href=\"a%20b.html\">a b.html</a>"), page);
        assertTrue(page.contains("Index of /sub/"), page);
        HttpFiles.Response moved = get("/sub");
        assertEquals(301, moved.status());
        assertEquals("/sub/", moved.headers().get("Location"));
    }

    @Test
    void aDirectoryWithAnIndexServesIt() throws Exception {
        Files.writeString(root.resolve("sub/index.html"), "<h1>index</h1>");
        HttpFiles.Response r = get("/sub/");
        assertEquals(root.resolve("sub/index.html"), r.file());
        assertEquals("text/html", r.headers().get("Content-Type"));
    }

    @Test
    void aRefusedRequestGetsItsStatusAndACloseOfTheConnection() {
        HttpFiles.Response r = files.refusal(431, NOW);
        assertEquals(431, r.status());
        assertTrue(r.close());
        assertEquals("close", r.headers().get("Connection"));
        assertTrue(new String(r.headBytes(), StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    }

    @Test
    void badEscapesAreBadRequests() {
        assertEquals(400, get("/a%zz").status());
        assertEquals(400, get("/a%00b").status());
        assertArrayEquals(new long[] { 0, 0 }, HttpFiles.range("bytes=0-0", 1));
    }

    @Test
    void theTypeComesFromTheExtension() {
        assertEquals("text/html", HttpFiles.contentType("a.HTML"));
        assertEquals("application/json", HttpFiles.contentType("x.json"));
        assertEquals("application/octet-stream", HttpFiles.contentType("blob"));
    }
}

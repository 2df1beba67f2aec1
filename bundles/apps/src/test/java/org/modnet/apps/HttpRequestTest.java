package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class HttpRequestTest {
    private static HttpRequest.Parsed parse(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        return HttpRequest.parse(b, 0, b.length);
    }

    @Test
    void parsesARequestLineAndItsFieldsAndSaysHowManyBytesItTook() {
        String head = "GET /a/b.txt?x=1 HTTP/1.1\r\nHost: 10.0.0.2\r\nRange:  bytes=0-9 \r\n\r\n";
        HttpRequest.Parsed p = parse(head + "GET /next");
        assertTrue(p.complete());
        assertEquals(head.length(), p.consumed());
        assertEquals("GET", p.request().method());
        assertEquals("/a/b.txt?x=1", p.request().target());
        assertEquals(1, p.request().minor());
        assertEquals("bytes=0-9", p.request().header("range"));
    }

    @Test
    void anUnfinishedHeadAsksForMore() {
        HttpRequest.Parsed p = parse("GET / HTTP/1.1\r\nHost: a\r\n");
        assertFalse(p.complete());
        assertEquals(0, p.status());
    }

    @Test
    void acceptsBareLineFeedsAndSkipsEmptyLinesBeforeTheRequest() {
        HttpRequest.Parsed p = parse("\r\n\nHEAD / HTTP/1.0\n\n");
        assertTrue(p.complete());
        assertEquals("HEAD", p.request().method());
        assertEquals(0, p.request().minor());
    }

    @Test
    void http11WithoutHostIsABadRequest() {
        assertEquals(400, parse("GET / HTTP/1.1\r\n\r\n").status());
    }

    @Test
    void aMalformedRequestLineIsABadRequest() {
        assertEquals(400, parse("GET /\r\n\r\n").status());
        assertEquals(400, parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n").status());
        assertEquals(400, parse("G(T / HTTP/1.1\r\nHost: a\r\n\r\n").status());
        assertEquals(400, parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n").status());
        assertEquals(400, parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n").status());
    }

    @Test
    void anotherMajorVersionIsNotSupported() {
        assertEquals(505, parse("GET / HTTP/2.0\r\n\r\n").status());
    }

    @Test
    void aRequestLineLongerThanApachesLimitIsRefusedBeforeItEnds() {
        String line = "GET /" + "a".repeat(HttpRequest.LIMIT_REQUEST_LINE + 10);
        assertEquals(414, parse(line).status());
    }

    @Test
    void aTenMegabyteHeaderLineIsRefusedAfterItsFirstEightKilobytes() {
        String head = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(HttpRequest.LIMIT_REQUEST_FIELD_SIZE + 1);
        assertEquals(431, parse(head).status());
    }

    @Test
    void moreThanAHundredFieldsAreRefused() {
        StringBuilder sb = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < HttpRequest.LIMIT_REQUEST_FIELDS; i++) {
            sb.append("X-").append(i).append(": v\r\n");
        }
        assertEquals(431, parse(sb.append("\r\n").toString()).status());
    }

    @Test
    void aBodysFramingComesFromContentLengthOrChunked() {
        String head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
        HttpRequest.Parsed p = parse(head + "hello");
        assertEquals(head.length(), p.consumed(), "the head only: the body is the connection's to read and drop");
        assertEquals(5, p.request().contentLength());
        HttpRequest chunked = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nExpect: 100-continue\r\n\r\n").request();
        assertTrue(chunked.chunked());
        assertTrue(chunked.expectsContinue());
        assertEquals(0, chunked.contentLength());
    }

    @Test
    void badBodyFramingIsRefusedAsNginxRefusesIt() {
        assertEquals(413, parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + (HttpRequest.LIMIT_REQUEST_BODY + 1) + "\r\n\r\n").status());
        assertEquals(400, parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n").status());
        assertEquals(400, parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").status());
        assertEquals(400, parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n").status());
        assertEquals(400, parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n").status());
        assertEquals(501, parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").status());
    }

    private static HttpChunkedBody chunks(String body, long limit) {
        HttpChunkedBody c = new HttpChunkedBody(limit);
        byte[] b = body.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < b.length && !c.done() && c.status() == 0; i++) {
            int n = c.consume(b, i, 1);
            if (c.status() == 0) {
                assertEquals(1, n, "byte by byte, as a slow client sends it");
            }
        }
        return c;
    }

    @Test
    void aChunkedBodyIsReadToItsTrailersEndAndNoFurther() {
        String body = "5;name=x\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
        byte[] b = (body + "GET / HTTP/1.1\r\n").getBytes(StandardCharsets.ISO_8859_1);
        HttpChunkedBody c = new HttpChunkedBody(1000);
        assertEquals(body.length(), c.consume(b, 0, b.length), "the next request stays unread");
        assertTrue(c.done());
        assertEquals(15, c.total());
        assertTrue(chunks(body, 1000).done());
        assertTrue(chunks("0\n\n", 1000).done(), "bare LFs, as the head's lines may end");
    }

    @Test
    void aChunkedBodyPastTheLimitIs413AndBadFramingIs400() {
        assertEquals(413, chunks("400\r\n", 1000).status());
        assertEquals(413, chunks("3e8\r\n" + "a".repeat(1000) + "\r\n1\r\n", 1000).status());
        assertEquals(400, chunks("zz\r\n", 1000).status());
        assertEquals(400, chunks("5\r\nhelloXX", 1000).status());
        assertEquals(400, chunks("1234567890abcdef0\r\n", Long.MAX_VALUE).status());
        assertEquals(400, chunks("5;" + "x".repeat(HttpRequest.LIMIT_REQUEST_FIELD_SIZE + 1), 1000).status());
    }

    @Test
    void keepAliveIsHttp11sDefaultAndHttp10sOnRequest() {
        assertTrue(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").request().keepAlive());
        assertFalse(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").request().keepAlive());
        assertFalse(parse("GET / HTTP/1.0\r\n\r\n").request().keepAlive());
        assertTrue(parse("GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n").request().keepAlive());
        assertNull(parse("GET / HTTP/1.0\r\n\r\n").request().header("Host"));
    }

    /** scan's answer for a head, or 0; when it takes one, parse reads the same request from it. */
    private static int scan(String s, HttpRequest.Plain q) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        int n = HttpRequest.scan(b, b.length, q);
        if (n > 0) {
            HttpRequest.Parsed p = HttpRequest.parse(b, 0, b.length);
            assertTrue(p.complete(), s);
            assertEquals(p.consumed(), n, s);
            assertEquals(p.request().is("HEAD"), q.head, s);
            String target = p.request().target();
            int qm = target.indexOf('?');
            assertEquals(qm < 0 ? target : target.substring(0, qm), new String(b, q.pathFrom, q.pathTo - q.pathFrom, StandardCharsets.ISO_8859_1), s);
            assertEquals(p.request().minor(), q.minor, s);
            assertEquals(!p.request().keepAlive(), q.close, s);
        }
        return n;
    }

    @Test
    void theInPlaceScanTakesPlainGetsAndHeadsAsParseReadsThem() {
        HttpRequest.Plain q = new HttpRequest.Plain();
        String head = "GET /a/b.txt?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n";
        assertEquals(head.length(), scan(head + "GET /next", q));
        assertFalse(q.close);
        assertTrue(scan("HEAD /f HTTP/1.1\nhost:h\n\n", q) > 0);
        assertTrue(q.head);
        assertTrue(scan("GET /f HTTP/1.1\r\nHost: h\r\nConnection: Upgrade ,  CLOSE \r\n\r\n", q) > 0);
        assertTrue(q.close);
        assertTrue(scan("GET /f HTTP/1.0\r\n\r\n", q) > 0);
        assertTrue(q.close, "1.0 closes unless asked");
        assertTrue(scan("GET /f HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n", q) > 0);
        assertFalse(q.close);
        assertTrue(scan("GET /f HTTP/1.1\r\nHost: h\r\nConnection: closed, -lose\r\n\r\n", q) > 0);
        assertFalse(q.close, "only the whole option counts");
    }

    @Test
    void theInPlaceScanLeavesEverythingElseToParse() {
        HttpRequest.Plain q = new HttpRequest.Plain();
        for (String s : new String[] {
                "GET /f HTTP/1.1\r\nHost: h\r\n", // not all here
                "GET /f HTTP/1.1\r\n\r\n", // no Host
                "POST /f HTTP/1.1\r\nHost: h\r\n\r\n", "get /f HTTP/1.1\r\nHost: h\r\n\r\n",
                "\r\nGET /f HTTP/1.1\r\nHost: h\r\n\r\n", "GET  /f HTTP/1.1\r\nHost: h\r\n\r\n",
                "GET /f  HTTP/1.1\r\nHost: h\r\n\r\n", "GET /f HTTP/2.0\r\nHost: h\r\n\r\n",
                "GET /f HTTP/1.1 \r\nHost: h\r\n\r\n", "GET http://h/f HTTP/1.1\r\nHost: h\r\n\r\n",
                "GET /a%20b HTTP/1.1\r\nHost: h\r\n\r\n", "GET /../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n",
                "GET /a/./b HTTP/1.1\r\nHost: h\r\n\r\n", "GET /.hidden HTTP/1.1\r\nHost: h\r\n\r\n",
                "GET /dir/ HTTP/1.1\r\nHost: h\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
                "GET /a\\b HTTP/1.1\r\nHost: h\r\n\r\n", "GET /\u00e9 HTTP/1.1\r\nHost: h\r\n\r\n",
                "GET /f HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n\r\n",
                "GET /f HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
                "GET /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
                "GET /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
                "GET /f HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", "GET /f HTTP/1.1\r\nHost : h\r\n\r\n",
                "GET /f HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n",
                "GET /f HTTP/1.1\r\nHost: h\r\n" + "X: y\r\n".repeat(100) + "\r\n",
                "GET /f HTTP/1.1\r\nHost: h\r\nX: " + "y".repeat(9000) + "\r\n\r\n" }) {
            assertEquals(0, scan(s, q), s);
        }
    }
}

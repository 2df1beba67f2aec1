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
    void aRequestWithABodyIsRefusedRatherThanLeftUnread() {
        assertEquals(413, parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").status());
        assertEquals(501, parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").status());
    }

    @Test
    void keepAliveIsHttp11sDefaultAndHttp10sOnRequest() {
        assertTrue(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").request().keepAlive());
        assertFalse(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").request().keepAlive());
        assertFalse(parse("GET / HTTP/1.0\r\n\r\n").request().keepAlive());
        assertTrue(parse("GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n").request().keepAlive());
        assertNull(parse("GET / HTTP/1.0\r\n\r\n").request().header("Host"));
    }
}

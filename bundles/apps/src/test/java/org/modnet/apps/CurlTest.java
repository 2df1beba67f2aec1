package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class CurlTest {
    @Test
    void sizesTakeFiveColumnsAsCurlsMeterPrintsThem() {
        assertEquals("    0", CurlProgress.max5(0));
        assertEquals("99999", CurlProgress.max5(99_999));
        assertEquals("   97k", " " + CurlProgress.max5(100_000));
        assertEquals("10.0M", CurlProgress.max5(10 << 20));
        assertEquals(" 100M", CurlProgress.max5(100L << 20));
        assertEquals("1536M", CurlProgress.max5(3L << 29));
        assertEquals("20.0G", CurlProgress.max5(20L << 30));
    }

    @Test
    void timesAreHoursMinutesSecondsOrDashes() {
        assertEquals("--:--:--", CurlProgress.time(0));
        assertEquals(" 0:00:03", CurlProgress.time(3));
        assertEquals(" 1:01:01", CurlProgress.time(3661));
        assertEquals("  5d 00h", CurlProgress.time(5 * 86400));
    }

    @Test
    void aFinishedDownloadLineReadsAsCurls() {
        CurlProgress p = new CurlProgress(new PrintStream(new ByteArrayOutputStream()), 0);
        // 3 bytes of a known size in 0.014 s: 214 bytes/s, as curl 7.88 printed it for the same transfer
        assertEquals("\r100     3  100     3    0     0    214      0 --:--:-- --:--:-- --:--:--   214",
                p.line(3, 3, 14_000_000));
        // a size the server did not announce: the total is what arrived, received shows 0 %
        assertEquals("\r100    13    0    13    0     0   1300      0 --:--:-- --:--:-- --:--:--  1300",
                p.line(-1, 13, 10_000_000));
    }

    @Test
    void urlsTakeAnAddressAPortAndAPath() throws Exception {
        Curl.Url u = Curl.parseUrl("http://10.0.0.2:8080/a/b?c=d");
        assertEquals("10.0.0.2", u.host());
        assertEquals(8080, u.port());
        assertEquals("/a/b?c=d", u.path());
        assertEquals("10.0.0.2:8080", u.hostHeader());
        assertEquals("/", Curl.parseUrl("10.0.0.2").path());
        assertEquals("10.0.0.2", Curl.parseUrl("10.0.0.2").hostHeader());
    }

    @Test
    void aLocationResolvesAgainstTheUrlThatAnsweredAsRfc3986Says() throws Exception {
        Curl.Url base = Curl.parseUrl("http://10.0.0.2:8080/a/b/c?q=1");
        assertEquals("http://10.0.0.2:8080/a/b/c/", Curl.resolve(Curl.parseUrl("http://10.0.0.2:8080/a/b/c"), "/a/b/c/"));
        assertEquals("http://10.0.0.2:8080/a/b/d", Curl.resolve(base, "d"));
        assertEquals("http://10.0.0.2:8080/a/d/e", Curl.resolve(base, "../d/e#frag"));
        assertEquals("http://10.0.0.2:8080/", Curl.resolve(base, "../../../.."));
        assertEquals("http://10.0.0.2:8080/a/b/c?r=2", Curl.resolve(base, "?r=2"));
        assertEquals("http://10.0.0.3/x", Curl.resolve(base, "http://10.0.0.3/x"));
        assertEquals("http://10.0.0.4:81/y", Curl.resolve(base, "//10.0.0.4:81/y"));
        assertEquals("http://10.0.0.2/z", Curl.resolve(Curl.parseUrl("10.0.0.2/a"), "/z"));
    }

    @Test
    void aHostNameIsUnresolvedAnotherSchemeUnsupportedABadPortMalformed() {
        assertEquals(6, assertThrows(Curl.Failure.class, () -> Curl.parseUrl("http://example.com/")).code);
        Curl.Failure https = assertThrows(Curl.Failure.class, () -> Curl.parseUrl("https://10.0.0.1/"));
        assertEquals(1, https.code);
        assertEquals("Protocol \"https\" not supported or disabled in libcurl", https.getMessage());
        assertEquals(3, assertThrows(Curl.Failure.class, () -> Curl.parseUrl("http://10.0.0.1:99999/")).code);
    }

    @Test
    void noUrlOrAnUnknownOptionIsStatusTwoWithCurlsWords() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Curl c = new Curl(SelectorProvider.provider(), new PrintStream(new ByteArrayOutputStream()), new PrintStream(err), Path.of("."));
        assertEquals(2, c.run(List.of("-s")));
        assertTrue(err.toString().startsWith("curl: no URL specified!\ncurl: try 'curl --help'"), err.toString());
        err.reset();
        assertEquals(2, new Curl(SelectorProvider.provider(), System.out, new PrintStream(err), Path.of(".")).run(List.of("-Z", "x")));
        assertTrue(err.toString().startsWith("curl: option -Z: is unknown"), err.toString());
    }

    @Test
    void writeOutExpandsVariablesAndEscapes() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Curl c = new Curl(SelectorProvider.provider(), new PrintStream(out), new PrintStream(err), Path.of("."));
        assertEquals("000 0 100%\t\n", c.writeOut("%{http_code} %{size_download} 100%%\\t\\n"));
        assertEquals("", c.writeOut("%{nope}"));
        assertTrue(err.toString().contains("curl: unknown --write-out variable: 'nope'"));
    }
}

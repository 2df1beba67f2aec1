package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.modnet.api.shell.CommandException;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * modnet's httpd in ns2 and modnet's curl in ns1, across a veth pair (10.0.0.1 - 10.0.0.2), through
 * the shell as a user types them: a 10 MB file intact, HEAD, a Range, 404 with and without -f, a
 * refused port, and many clients at once.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class HttpIT {
    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private Path dir;
    private CompletableFuture<String> httpd;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void httpdInNs2() throws Exception {
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, "(modnet.ipproto=6)"); // TCP is up
        ModnetRuntime.vethPair(context, core);
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
        dir = Files.createTempDirectory("modnet-httpd");
        httpd = ModnetRuntime.serve(processor, "ns2", "httpd -p 8080 -d " + dir, false, 8080);
    }

    @After
    public void stopHttpd() throws Exception {
        if (httpd != null) {
            ModnetRuntime.runCapturing(processor, "ns2", "httpd stop -p 8080");
            assertEquals("httpd printed nothing and ended on httpd stop", "", httpd.get(10, TimeUnit.SECONDS).trim());
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** What a command line printed (standard output and error together) and its exit status. */
    record Ran(int status, String out) {
    }

    private Ran ns1(String line) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        CommandSession session = processor.createSession(InputStream.nullInputStream(), out, out);
        session.put(org.modnet.api.shell.Commands.NETNS, "ns1");
        int status = 0;
        try {
            session.execute(line);
        } catch (CommandException e) {
            status = e.status();
        } finally {
            session.close();
        }
        return new Ran(status, bytes.toString(StandardCharsets.UTF_8));
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = new byte[65536];
            int n;
            while ((n = in.read(b)) > 0) {
                md.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    public void curlFetchesTenMegabytesIntactAndHeadRangeAndNotFoundAnswerAsHttpSays() throws Exception {
        byte[] data = new byte[10 << 20];
        new Random(19).nextBytes(data);
        Files.write(dir.resolve("big.bin"), data);
        Path got = dir.resolve("got.bin");
        long t0 = System.nanoTime();
        Ran r = ns1("curl -o " + got + " -w '%{http_code} %{size_download}\\n' http://10.0.0.2:8080/big.bin");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(r.out(), 0, r.status());
        assertThat(r.out(), containsString("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"));
        assertThat(r.out(), containsString("\r100 10.0M  100 10.0M    0     0"));
        assertThat(r.out(), containsString("200 10485760\n"));
        assertEquals(sha256(dir.resolve("big.bin")), sha256(got));
        System.out.println("curl fetched 10 MiB from httpd across the veth in " + ms + " ms");

        Ran head = ns1("curl -s -I http://10.0.0.2:8080/big.bin");
        assertThat(head.out(), containsString("HTTP/1.1 200 OK\r\n"));
        assertThat(head.out(), containsString("Content-Length: 10485760\r\n"));
        assertThat(head.out(), containsString("Accept-Ranges: bytes\r\n"));

        Path part = dir.resolve("part");
        Ran range = ns1("curl -s -r 1000-1999 -o " + part + " -w '%{http_code} %{size_download}' http://10.0.0.2:8080/big.bin");
        assertEquals("206 1000", range.out().trim());
        assertEquals(java.nio.ByteBuffer.wrap(data, 1000, 1000), java.nio.ByteBuffer.wrap(Files.readAllBytes(part)));

        Ran unsatisfiable = ns1("curl -s -r 20000000- -w '%{http_code}' -o " + part + " http://10.0.0.2:8080/big.bin");
        assertEquals("416", unsatisfiable.out().trim());

        Ran notFound = ns1("curl -sS -f -w '%{http_code} %{size_download}\\n' http://10.0.0.2:8080/nope");
        assertEquals(22, notFound.status());
        assertThat(notFound.out(), containsString("curl: (22) The requested URL returned error: 404\n"));
        assertThat(notFound.out(), containsString("404 0\n"));
        Ran page = ns1("curl -s http://10.0.0.2:8080/nope");
        assertEquals(0, page.status());
        assertThat(page.out(), containsString("<h1>Not Found</h1>"));

        Ran refused = ns1("curl -sS -w '%{http_code}\\n' http://10.0.0.2:8081/");
        assertEquals(7, refused.status());
        assertThat(refused.out(), containsString("curl: (7) Failed to connect to 10.0.0.2 port 8081 after "));
        assertThat(refused.out(), containsString("000\n"));

        Ran status = new Ran(0, ModnetRuntime.run(processor, "ns2", "httpd status -p 8080"));
        assertThat(status.out(), containsString("Total Accesses: 6\n"));
    }

    @Test
    public void fiftyCurlsAtOnceAreAllServedIntact() throws Exception {
        int clients = 50;
        byte[] data = new byte[200_000];
        new Random(50).nextBytes(data);
        Files.write(dir.resolve("f.bin"), data);
        String want = sha256(dir.resolve("f.bin"));
        List<CompletableFuture<Ran>> runs = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Path out = dir.resolve("out" + i);
            runs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return ns1("curl -s -o " + out + " http://10.0.0.2:8080/f.bin");
                } catch (Exception e) {
                    return new Ran(-1, e.toString());
                }
            }, TcpAppsIT.THREADS));
        }
        for (int i = 0; i < clients; i++) {
            Ran r = runs.get(i).get(120, TimeUnit.SECONDS);
            assertEquals("client " + i + ": " + r.out(), 0, r.status());
            assertEquals("client " + i, want, sha256(dir.resolve("out" + i)));
        }
        String status = ModnetRuntime.run(processor, "ns2", "httpd status -p 8080");
        assertThat(status, containsString("Total Accesses: " + clients + "\n"));
        assertThat(status, containsString("RefusedMaxConnections: 0\n"));
    }
}

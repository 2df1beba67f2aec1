package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** curl against a server that answers with fixed bytes (on the JDK's loopback): the body forms and the failures. */
class CurlWireTest {
    private ServerSocket server;
    private Thread serving;

    /** Answers one connection with {@code answer} after reading its head, then closes (or holds it open when null). */
    private int serve(String answer) throws Exception {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        serving = Thread.ofPlatform().daemon().start(() -> {
            try (Socket s = server.accept()) {
                byte[] b = new byte[4096];
                int n = 0;
                while (!new String(b, 0, n, StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
                    n += s.getInputStream().read(b, n, b.length - n);
                }
                if (answer == null) {
                    Thread.sleep(10_000);
                    return;
                }
                s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
            } catch (Exception e) {
                // the test ended the connection
            }
        });
        return server.getLocalPort();
    }

    @AfterEach
    void close() throws Exception {
        server.close();
        serving.interrupt();
    }

    private record Run(int status, String out, String err) {
    }

    private static Run curl(String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int s = new Curl(SelectorProvider.provider(), new PrintStream(out), new PrintStream(err), Path.of(".")).run(List.of(args));
        return new Run(s, out.toString(StandardCharsets.ISO_8859_1), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aRedirectLoopStopsAfterFiftyWithCurlsFortySeven() throws Exception {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        serving = Thread.ofPlatform().daemon().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    byte[] b = new byte[4096];
                    int n = 0;
                    while (!new String(b, 0, n, StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
                        n += s.getInputStream().read(b, n, b.length - n);
                    }
                    s.getOutputStream().write("HTTP/1.1 302 Found\r\nLocation: loop\r\nContent-Length: 3\r\n\r\nabc"
                            .getBytes(StandardCharsets.ISO_8859_1));
                } catch (Exception e) {
                    return;
                }
            }
        });
        Run r = curl("-sS", "-L", "-w", "%{http_code} %{num_redirects} %{size_download}\n",
                "http://127.0.0.1:" + server.getLocalPort() + "/loop");
        assertEquals(47, r.status());
        assertEquals("302 50 3\n", r.out(), "the bodies of followed redirects are dropped, not written");
        assertEquals("curl: (47) Maximum (50) redirects followed\n", r.err());
    }

    /** Answers every request on each connection it accepts with the next of {@code answers}; closes a connection after {@code perConnection} answers. */
    private int serveInTurn(int perConnection, String... answers) throws Exception {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        serving = Thread.ofPlatform().daemon().start(() -> {
            int next = 0;
            while (!server.isClosed() && next < answers.length) {
                try (Socket s = server.accept()) {
                    for (int k = 0; k < perConnection && next < answers.length; k++) {
                        byte[] b = new byte[4096];
                        int n = 0;
                        while (!new String(b, 0, n, StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
                            int got = s.getInputStream().read(b, n, b.length - n);
                            if (got < 0) {
                                throw new java.io.EOFException();
                            }
                            n += got;
                        }
                        s.getOutputStream().write(answers[next++].getBytes(StandardCharsets.ISO_8859_1));
                    }
                } catch (Exception e) {
                    return;
                }
            }
        });
        return server.getLocalPort();
    }

    @Test
    void aRedirectToTheSameHostReusesTheConnectionAsCurlDoes() throws Exception {
        int port = serveInTurn(2, "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        Run r = curl("-s", "-v", "-L", "-w", "|%{num_connects} %{num_redirects}", "http://127.0.0.1:" + port + "/a");
        assertEquals(0, r.status(), r.err());
        assertEquals("hello|1 1", r.out());
        assertTrue(r.err().contains("* Connection #0 to host 127.0.0.1 left intact\n* Issue another request to this URL: 'http://127.0.0.1:"
                + port + "/b'\n* Found bundle for host: 0x"), r.err());
        assertTrue(r.err().contains(" [serially]\n* Can not multiplex, even if we wanted to\n* Re-using existing connection #0 with host 127.0.0.1\n> GET /b HTTP/1.1\n"),
                r.err());
        assertEquals(1, r.err().split("Trying", -1).length - 1, "one connect: " + r.err());
    }

    @Test
    void aReusedConnectionTheServerClosedIsReplacedByAFreshConnect() throws Exception {
        int port = serveInTurn(1, "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        Run r = curl("-s", "-v", "-L", "-w", "|%{num_connects} %{num_redirects}", "http://127.0.0.1:" + port + "/a");
        assertEquals(0, r.status(), r.err());
        assertEquals("hello|2 1", r.out());
        assertTrue(r.err().contains("* Re-using existing connection #0 with host 127.0.0.1\n"), r.err());
        assertTrue(r.err().contains("* Connection died, retrying a fresh connect (retry count: 1)\n*   Trying 127.0.0.1:" + port
                + "...\n* Connected to 127.0.0.1 (127.0.0.1) port " + port + " (#1)\n"), r.err());
    }

    @Test
    void aChunkedBodyIsDecodedAndItsSizeCounted() throws Exception {
        int port = serve("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n");
        Run r = curl("-s", "-w", "|%{size_download}", "http://127.0.0.1:" + port + "/");
        assertEquals(0, r.status(), r.err());
        assertEquals("hello, world|12", r.out());
    }

    @Test
    void aBodyWithoutALengthRunsToTheClose() throws Exception {
        int port = serve("HTTP/1.0 200 OK\r\n\r\nall of it");
        assertEquals("all of it", curl("-s", "http://127.0.0.1:" + port + "/").out());
    }

    @Test
    void aBodyCutShortIsEighteenWithWhatWasMissing() throws Exception {
        int port = serve("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        Run r = curl("-sS", "http://127.0.0.1:" + port + "/");
        assertEquals(18, r.status());
        assertEquals("curl: (18) transfer closed with 7 bytes remaining to read\n", r.err());
    }

    @Test
    void aConnectionClosedWithoutAWordIsAnEmptyReply() throws Exception {
        int port = serve("");
        Run r = curl("-sS", "http://127.0.0.1:" + port + "/");
        assertEquals(52, r.status());
        assertEquals("curl: (52) Empty reply from server\n", r.err());
    }

    @Test
    void aServerThatNeverAnswersIsTwentyEightAfterMaxTime() throws Exception {
        int port = serve(null);
        Run r = curl("-sS", "-m", "0.3", "-w", "%{http_code}", "http://127.0.0.1:" + port + "/");
        assertEquals(28, r.status());
        assertTrue(r.err().matches("curl: \\(28\\) Operation timed out after \\d+ milliseconds with 0 bytes received\n"), r.err());
        assertEquals("000", r.out());
    }

    @Test
    void aReplyThatIsNotHttpIsWeird() throws Exception {
        int port = serve("SSH-2.0-OpenSSH\r\n\r\n");
        assertEquals(8, curl("-s", "http://127.0.0.1:" + port + "/").status());
    }

    @Test
    void verboseShowsTheRequestAndTheAnswerHeadAsCurlDoes() throws Exception {
        int port = serve("HTTP/1.1 204 No Content\r\nServer: t\r\n\r\n");
        Run r = curl("-s", "-v", "-H", "X-A: 1", "-H", "Accept:", "http://127.0.0.1:" + port + "/p");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("*   Trying 127.0.0.1:" + port + "...\n"), r.err());
        assertTrue(r.err().contains("* Connected to 127.0.0.1 (127.0.0.1) port " + port + " (#0)\n"), r.err());
        assertTrue(r.err().contains("> GET /p HTTP/1.1\n> Host: 127.0.0.1:" + port + "\n> User-Agent: curl/7.88.1\n> X-A: 1\n> \n"),
                r.err());
        assertTrue(r.err().contains("< HTTP/1.1 204 No Content\n< Server: t\n< \n"), r.err());
    }
}

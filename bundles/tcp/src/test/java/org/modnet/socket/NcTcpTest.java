package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetProtocol;
import org.modnet.api.net.Eth;
import org.modnet.core.StandaloneCore;
import org.modnet.drivers.loopback.Loopback;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.SocketProtocol;
import org.modnet.tcp.TcpProtocol;

/**
 * {@code nc} over modnet's TCP on lo (a threaded stack, as the shell runs it): a listener writing what
 * arrives, a client sending its input, {@code -N}, {@code -q}, {@code -k} and {@code -z} as OpenBSD's
 * netcat behaves, and its words.
 */
class NcTcpTest {
    private final StandaloneCore stack = StandaloneCore.threaded(1, 8192);
    private final SocketLayer sockets = new SocketLayer(stack.core());

    NcTcpTest() {
        ArpProtocol arp = new ArpProtocol(stack.core());
        Ipv4Protocol ipv4 = new Ipv4Protocol(stack.core(), arp);
        TcpProtocol tcp = new TcpProtocol(stack.core(), ipv4);
        stack.addPernet(new Loopback(), 0);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addPernet(tcp, 20);
        stack.addPernet(sockets, 30);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        ipv4.addProtocol(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.addOffload(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        stack.addOffload(Eth.ETH_P_IP, ipv4);
        sockets.addProtocol(tcp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 1, SocketProtocol.PROTOCOL, 6,
                SocketProtocol.DEFAULT, true));
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    /** One nc run: its status, standard output and standard error. */
    record Run(int status, byte[] out, String err) {
        String text() {
            return new String(out, StandardCharsets.UTF_8);
        }
    }

    private Run nc(InputStream in, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (SocketCalls sys = sockets.process("nc", "")) {
            status = new NcCommand(sys, in, new PrintStream(out, false), new PrintStream(err, true, StandardCharsets.UTF_8))
                    .run(List.of(args));
        } catch (org.modnet.api.shell.CommandException e) {
            status = e.status();
            err.writeBytes(e.getMessage().getBytes(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return new Run(status, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    private CompletableFuture<Run> listener(String... args) throws InterruptedException {
        CompletableFuture<Run> r = CompletableFuture.supplyAsync(() -> nc(InputStream.nullInputStream(), args));
        awaitListening();
        return r;
    }

    /** Waits until a socket listens (ss's LISTEN), so the client does not race the listener. */
    private void awaitListening() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (sockets.sockets("").stream().noneMatch(s -> s.state() == org.modnet.socket.api.Sock.TCP_LISTEN)) {
            assertTrue(System.nanoTime() < deadline, "no listener came up");
            Thread.sleep(5);
        }
    }

    private static InputStream bytes(byte[] b) {
        return new ByteArrayInputStream(b);
    }

    @Test
    void aFileCrossesFromNcNToAListenerIntact() throws Exception {
        byte[] file = new byte[2 << 20];
        new Random(14).nextBytes(file);
        CompletableFuture<Run> server = listener("-l", "5000");
        Run client = nc(bytes(file), "-N", "127.0.0.1", "5000");
        Run got = server.get(60, TimeUnit.SECONDS);
        assertEquals(0, client.status(), client.err());
        assertEquals(0, got.status(), got.err());
        assertEquals(file.length, got.out().length);
        assertArrayEquals(file, got.out());
    }

    @Test
    void theListenerAnswersAndTheClientPrintsItWithVerboseWords() throws Exception {
        CompletableFuture<Run> server = CompletableFuture.supplyAsync(() -> nc(bytes("pong\n".getBytes()), "-l", "-v", "-N", "5001"));
        awaitListening();
        Run client = nc(bytes("ping\n".getBytes()), "-v", "-N", "127.0.0.1", "5001");
        Run s = server.get(20, TimeUnit.SECONDS);
        assertEquals("ping\n", s.text());
        assertTrue(s.err().startsWith("Listening on 0.0.0.0 5001\nConnection received on 127.0.0.1 "), s.err());
        assertEquals("pong\n", client.text());
        assertEquals("Connection to 127.0.0.1 5001 port [tcp/*] succeeded!\n", client.err());
    }

    @Test
    void withQZeroTheClientQuitsAtTheEndOfItsInputAndTheListenerSeesTheClose() throws Exception {
        CompletableFuture<Run> server = listener("-l", "5002");
        Run client = nc(bytes("bye\n".getBytes()), "-q", "0", "127.0.0.1", "5002");
        assertEquals(0, client.status());
        Run s = server.get(20, TimeUnit.SECONDS);
        assertEquals("bye\n", s.text());
    }

    @Test
    void withKTheListenerTakesOneConnectionAfterAnother() throws Exception {
        CompletableFuture<Run> server = listener("-l", "-k", "5003");
        assertEquals(0, nc(bytes("one\n".getBytes()), "-N", "127.0.0.1", "5003").status());
        assertEquals(0, nc(bytes("two\n".getBytes()), "-N", "127.0.0.1", "5003").status());
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (sockets.sockets("").size() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(!server.isDone(), "-k keeps listening");
        // ends only when interrupted (Ctrl-C); the test stops the stack instead
    }

    @Test
    void aScanReportsOpenAndRefusedPortsInOpenBsdWords() throws Exception {
        CompletableFuture<Run> server = listener("-l", "5004");
        Run open = nc(InputStream.nullInputStream(), "-z", "-v", "127.0.0.1", "5004");
        assertEquals(0, open.status());
        assertEquals("Connection to 127.0.0.1 5004 port [tcp/*] succeeded!\n", open.err());
        server.get(10, TimeUnit.SECONDS);
        Run closed = nc(InputStream.nullInputStream(), "-z", "-v", "127.0.0.1", "5005");
        assertEquals(1, closed.status());
        assertEquals("nc: connect to 127.0.0.1 port 5005 (tcp) failed: Connection refused\n", closed.err());
        Run quiet = nc(InputStream.nullInputStream(), "-z", "127.0.0.1", "5005");
        assertEquals(1, quiet.status());
        assertEquals("", quiet.err(), "without -v a refusal is only the status, as OpenBSD's nc");
    }

    @Test
    void aRefusedConnectionIsStatusOneAndWordsOnlyWithVerbose() {
        Run r = nc(bytes("x".getBytes()), "127.0.0.1", "9");
        assertEquals(1, r.status());
        assertEquals("", r.err());
        Run v = nc(bytes("x".getBytes()), "-v", "-w", "2", "127.0.0.1", "9");
        assertEquals(1, v.status());
        assertEquals("nc: connect to 127.0.0.1 port 9 (tcp) failed: Connection refused\n", v.err());
    }

    /** Standard input that never ends and never has anything: a terminal nobody types on. */
    private static InputStream silentTerminal() {
        return new InputStream() {
            @Override
            public int read() throws java.io.IOException {
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                return -1;
            }
        };
    }

    @Test
    void withWAnIdleClientGivesUpAfterThoseSeconds() throws Exception {
        CompletableFuture<Run> server = listener("-l", "5007");
        long t0 = System.nanoTime();
        Run c = nc(silentTerminal(), "-w", "1", "127.0.0.1", "5007");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, c.status());
        assertTrue(ms >= 950 && ms < 5000, "idle for " + ms + " ms");
        assertEquals(0, server.get(10, TimeUnit.SECONDS).status(), "the listener saw the close and ended");
    }

    @Test
    void withDNcDoesNotReadItsInputAndNShutsAtOnce() throws Exception {
        CompletableFuture<Run> server = listener("-l", "5008");
        Run c = nc(silentTerminal(), "-d", "-N", "127.0.0.1", "5008");
        assertEquals(0, c.status());
        assertEquals("", server.get(10, TimeUnit.SECONDS).text());
    }

    @Test
    void aPortInUseIsRefusedAsOpenBsdSaysIt() throws Exception {
        CompletableFuture<Run> server = listener("-l", "5006");
        Run second = nc(InputStream.nullInputStream(), "-l", "5006");
        assertEquals(1, second.status());
        assertEquals("nc: Address already in use", second.err());
        nc(InputStream.nullInputStream(), "-z", "127.0.0.1", "5006");
        server.get(10, TimeUnit.SECONDS);
    }
}

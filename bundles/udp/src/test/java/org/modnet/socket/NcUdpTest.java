package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
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
import org.modnet.udp.UdpProtocol;

/**
 * {@code nc -u} over modnet's UDP on lo (a threaded stack, as the shell runs it) against a closed port:
 * as OpenBSD nc 1.219 in a Linux namespace, it ends silently with status 0 once the port unreachable
 * is back, though its input has not ended.
 */
class NcUdpTest {
    private final StandaloneCore stack = StandaloneCore.threaded(1, 8192);
    private final SocketLayer sockets = new SocketLayer(stack.core());

    NcUdpTest() {
        ArpProtocol arp = new ArpProtocol(stack.core());
        Ipv4Protocol ipv4 = new Ipv4Protocol(stack.core(), arp);
        UdpProtocol udp = new UdpProtocol(ipv4);
        stack.addPernet(new Loopback(), 0);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addPernet(udp, 20);
        stack.addPernet(sockets, 30);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        ipv4.addProtocol(udp, Map.of(InetProtocol.PROTOCOL, 17));
        sockets.addProtocol(udp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 2, SocketProtocol.PROTOCOL, 17,
                SocketProtocol.DEFAULT, true));
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    /** A terminal: one line typed, then nothing more until nc stops reading. */
    private static InputStream oneLineThenWaits() {
        return new InputStream() {
            private final byte[] line = "hi\n".getBytes(StandardCharsets.UTF_8);
            private int at;

            @Override
            public int read() throws IOException {
                byte[] b = new byte[1];
                return read(b, 0, 1) < 0 ? -1 : b[0];
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (at < line.length) {
                    int n = Math.min(len, line.length - at);
                    System.arraycopy(line, at, b, off, n);
                    at += n;
                    return n;
                }
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    throw new InterruptedIOException();
                }
                return -1;
            }
        };
    }

    @Test
    void ncUToAClosedPortEndsSilentlyWithStatusZeroAsOpenBsdNcDoes() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> {
            try (SocketCalls sys = sockets.process("nc", "")) {
                return new NcCommand(sys, oneLineThenWaits(), new PrintStream(out, true), new PrintStream(out, true))
                        .run(List.of("-u", "127.0.0.1", "9"));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        assertEquals(0, run.get(20, TimeUnit.SECONDS), "the port unreachable ends it, not the input");
        assertEquals("", out.toString(StandardCharsets.UTF_8), "not a word");
    }
}

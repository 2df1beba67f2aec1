package org.modnet.itests;

import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;

/**
 * What the TCP integration tests share: reproducible streams checked by SHA-256 at both ends, sent
 * and received through {@link SocketCalls}, and counters read from {@code nstat}'s output.
 */
final class TcpStreams {
    private TcpStreams() {
    }

    static int check(int r, String what) {
        if (r < 0) {
            throw new IllegalStateException(what + ": " + SocketCalls.strerror(r));
        }
        return r;
    }

    /** The value of counter {@code name} in {@code nstat}'s output (fails if it is not there). */
    static long counter(String nstat, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\s+(\\d+)").matcher(nstat);
        assertTrue("no " + name + " in:\n" + nstat, m.find());
        return Long.parseLong(m.group(1));
    }

    /** A reproducible stream of bytes: {@code seed} picks it; the sender and the checker make the same one. */
    static final class Stream {
        private final SplittableRandom random;
        final MessageDigest digest = sha256();
        private final ByteBuffer chunk;
        private long left;

        Stream(long seed, long bytes) {
            this(seed, bytes, 64 << 10);
        }

        /** With {@code chunkBytes} (a multiple of 8) handed to {@code send} at a time: the bytes are the same for any size. */
        Stream(long seed, long bytes, int chunkBytes) {
            random = new SplittableRandom(seed);
            left = bytes;
            chunk = ByteBuffer.allocate(chunkBytes);
            chunk.limit(0);
        }

        /** The next bytes to send (empty at the end); what {@code send} takes is consumed from it. */
        ByteBuffer next() {
            if (!chunk.hasRemaining() && left > 0) {
                chunk.clear();
                int n = (int) Math.min(chunk.capacity(), left);
                for (int i = 0; i < n; i += 8) {
                    chunk.putLong(i, random.nextLong());
                }
                chunk.limit(n);
                digest.update(chunk.array(), 0, n);
                left -= n;
            }
            return chunk;
        }

        boolean done() {
            return left == 0 && !chunk.hasRemaining();
        }

        /** Bytes not yet handed to the generator (a whole chunk at a time). */
        long left() {
            return left;
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Sends {@code bytes} of the stream {@code seed} on {@code fd}, blocking; its SHA-256. */
    static byte[] sendAll(SocketCalls p, int fd, long seed, long bytes) {
        return sendAll(p, fd, seed, bytes, null);
    }

    /** As above, running {@code midway} once, when half the stream has been sent. */
    static byte[] sendAll(SocketCalls p, int fd, long seed, long bytes, Runnable midway) {
        Stream s = new Stream(seed, bytes);
        Runnable pending = midway;
        while (!s.done()) {
            check(p.send(fd, s.next(), 0), "send");
            if (pending != null && s.left() <= bytes / 2) {
                pending.run();
                pending = null;
            }
        }
        return s.digest.digest();
    }

    /**
     * A connection from namespace {@code from} to {@code port} of {@code addr} in namespace {@code to}:
     * { client process, client fd, server process, server fd }.
     */
    static Object[] connect(Sockets sockets, String from, String to, int addr, int port) {
        SocketCalls server = sockets.process("tcp-server", to);
        SocketCalls client = sockets.process("tcp-client", from);
        int l = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
        check(server.bind(l, new SockAddr(0, port)), "bind");
        check(server.listen(l, 16), "listen");
        int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
        check(client.connect(c, new SockAddr(addr, port)), "connect");
        int s = check(server.accept(l, null, 0), "accept");
        server.close(l);
        return new Object[] { client, c, server, s };
    }

    /** Reads {@code fd} to its end, blocking; the byte count and SHA-256 of what came. */
    static Object[] receiveAll(SocketCalls p, int fd) {
        MessageDigest d = sha256();
        ByteBuffer b = ByteBuffer.allocate(64 << 10);
        long total = 0;
        while (true) {
            b.clear();
            int n = check(p.recv(fd, b, 0), "recv");
            if (n == 0) {
                return new Object[] { total, d.digest() };
            }
            d.update(b.array(), 0, n);
            total += n;
        }
    }
}

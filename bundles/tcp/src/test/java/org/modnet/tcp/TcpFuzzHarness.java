package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * A listener and an established connection on lo, with data flowing both ways, and a way to push a
 * hand-made TCP segment (raw bytes: header, options, payload) straight into {@code tcp_v4_rcv} as if it
 * came in on lo, and to see exactly what that one segment did: its fate ({@link TcpDrops}) and the
 * counters it moved. Each side's application writes a seeded byte stream and reads what arrives; the
 * digests of both say whether the data stayed intact.
 */
final class TcpFuzzHarness implements AutoCloseable {
    static final int LOCALHOST = 0x7f000001;
    static final int PORT = 7000;
    /** A port nothing listens on. */
    static final int CLOSED_PORT = 7001;

    final TcpStack s;
    final SocketCalls sys;
    final int listener;
    final int client;
    final int server;
    final TcpSock ls;
    final TcpSock cs;
    final TcpSock ss;
    private final NetDevice lo;

    /** The two streams: client to server ({@code up}) and server to client ({@code down}). */
    final byte[] up;
    final byte[] down;
    int upWritten;
    int downWritten;
    long upRead;
    long downRead;
    private final MessageDigest upDigest;
    private final MessageDigest downDigest;
    private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);

    TcpFuzzHarness(int streamBytes, long seed) {
        s = new TcpStack();
        sys = s.process();
        listener = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(listener, new SockAddr(LOCALHOST, PORT)));
        assertEquals(0, sys.listen(listener, 128));
        client = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sys.connect(client, new SockAddr(LOCALHOST, PORT));
        s.run();
        server = sys.accept(listener, null, SOCK_NONBLOCK);
        assertTrue(server >= 3, "accept: " + SocketCalls.strerror(server));
        for (int fd : new int[] { client, server }) { // each write goes out at once: no Nagle wait for the ACK
            assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, 1));
        }
        ls = sockOf(listener);
        cs = sockOf(client);
        ss = sockOf(server);
        lo = s.ns.device("lo");
        Random r = new Random(seed);
        up = new byte[streamBytes];
        down = new byte[streamBytes];
        r.nextBytes(up);
        r.nextBytes(down);
        try {
            upDigest = MessageDigest.getInstance("SHA-256");
            downDigest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private TcpSock sockOf(int fd) {
        SockAddr[] me = new SockAddr[1];
        SockAddr[] peer = new SockAddr[1];
        sys.getsockname(fd, me);
        sys.getpeername(fd, peer);
        for (Sock k : s.sockets.sockets("")) {
            boolean listening = peer[0] == null || peer[0].port() == 0;
            if (k.localAddress().equals(me[0]) && (listening ? k.state() == Sock.TCP_LISTEN : peer[0].equals(k.remoteAddress()))) {
                return (TcpSock) k;
            }
        }
        throw new AssertionError("no sock for fd " + fd);
    }

    /** The peer of one end of the connection. */
    TcpSock peerOf(TcpSock v) {
        return v == ss ? cs : ss;
    }

    /** The stream {@code v}'s peer writes to it. */
    byte[] streamTo(TcpSock v) {
        return v == ss ? up : down;
    }

    /** How much of that stream the peer's application has written so far. */
    int writtenTo(TcpSock v) {
        return v == ss ? upWritten : downWritten;
    }

    // --- a connection's private state, read as the test's model needs it ---

    private static final Map<String, Field> FIELDS = new HashMap<>();

    static int field(TcpSock sk, String name) {
        Field f = FIELDS.computeIfAbsent(name, n -> {
            try {
                Field x = TcpSock.class.getDeclaredField(n);
                x.setAccessible(true);
                return x;
            } catch (NoSuchFieldException e) {
                throw new AssertionError(e);
            }
        });
        try {
            return f.getInt(sk);
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    static int rcvNxt(TcpSock sk) {
        return field(sk, "rcvNxt");
    }

    static int rcvWindow(TcpSock sk) {
        return Math.max(field(sk, "rcvWndRight") - rcvNxt(sk), 0);
    }

    // --- the applications ---

    /** One round of both applications: write up to {@code chunk} bytes each, let the stack run, read all. */
    void pump(int chunk) {
        write(chunk);
        s.run();
        readAll();
    }

    /** Both applications write up to {@code chunk} bytes; nothing is processed yet (the segments wait on lo). */
    void write(int chunk) {
        if (upWritten < up.length) {
            int n = sys.send(client, ByteBuffer.wrap(up, upWritten, Math.min(chunk, up.length - upWritten)), MSG_DONTWAIT);
            if (n > 0) {
                upWritten += n;
            }
        }
        if (downWritten < down.length) {
            int n = sys.send(server, ByteBuffer.wrap(down, downWritten, Math.min(chunk, down.length - downWritten)), MSG_DONTWAIT);
            if (n > 0) {
                downWritten += n;
            }
        }
    }

    /** Both applications read all that has arrived. */
    void readAll() {
        for (int fd : new int[] { server, client }) {
            while (true) {
                buf.clear();
                int n = sys.recv(fd, buf, MSG_DONTWAIT);
                if (n <= 0) {
                    break;
                }
                if (fd == server) {
                    upDigest.update(buf.array(), 0, n);
                    upRead += n;
                } else {
                    downDigest.update(buf.array(), 0, n);
                    downRead += n;
                }
            }
        }
    }

    /** Runs both applications until each has read all the other wrote; false if that took too long. */
    boolean finish(int maxRounds) {
        for (int round = 0; round < maxRounds; round++) {
            if (upRead == up.length && downRead == down.length) {
                return true;
            }
            pump(16384);
            s.advance(20);
        }
        return upRead == up.length && downRead == down.length;
    }

    /** Whether what each side read is, byte for byte, what the other wrote (SHA-256 compared). */
    void assertIntact() throws NoSuchAlgorithmException {
        assertEquals(up.length, upRead, "client to server: all bytes read");
        assertEquals(down.length, downRead, "server to client: all bytes read");
        assertEquals(hex(MessageDigest.getInstance("SHA-256").digest(up)), hex(upDigest.digest()), "sha256 client to server");
        assertEquals(hex(MessageDigest.getInstance("SHA-256").digest(down)), hex(downDigest.digest()), "sha256 server to client");
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }

    // --- one segment in, what it did out ---

    /** The counters a segment may move, besides its fate. */
    enum Seen {
        InSegs, InErrs, InCsumErrors, OutSegs, OutRsts, TCPChallengeACK, TCPSYNChallenge, TCPACKSkippedSeq,
        TCPACKSkippedChallenge, TCPACKSkippedPAWS, TCPOFOQueue, ListenDrops
    }

    /** What one segment did: its fate (null: consumed) and how the counters above moved. */
    record Outcome(TcpDrops.Reason fate, EnumMap<Seen, Long> moved, int fates) {
        long n(Seen c) {
            return moved.getOrDefault(c, 0L);
        }

        String name() {
            return fate == null ? "CONSUMED" : fate.name();
        }
    }

    private long read(Seen c) {
        TcpMib mib = s.tcp.net(s.ns).mib;
        return switch (c) {
            case InSegs, InErrs, InCsumErrors, OutSegs, OutRsts -> mib.get(TcpMib.Tcp.valueOf(c.name()));
            default -> mib.get(TcpMib.Ext.valueOf(c.name()));
        };
    }

    private long[] fates() {
        TcpDrops d = s.tcp.net(s.ns).drops;
        TcpDrops.Reason[] all = TcpDrops.Reason.values();
        long[] v = new long[all.length + 1];
        for (TcpDrops.Reason r : all) {
            v[r.ordinal()] = d.get(r);
        }
        v[all.length] = d.consumed();
        return v;
    }

    /**
     * Pushes {@code tcp} (header, options, payload; the checksum as given) from {@code saddr} to
     * {@code daddr} into TCP's receive path as lo would hand it over, and returns what it did. Nothing
     * else runs meanwhile: answers wait on lo until the next {@link TcpStack#run}.
     */
    Outcome inject(int saddr, int daddr, byte[] tcp) {
        long[] before = fates();
        EnumMap<Seen, Long> was = new EnumMap<>(Seen.class);
        for (Seen c : Seen.values()) {
            was.put(c, read(c));
        }
        SkBuff skb = s.stack.core().allocSkb(20 + tcp.length, 64);
        assertTrue(skb != null, "the pool has a buffer");
        int nh = skb.put(20 + tcp.length);
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 20 + tcp.length);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 6);
        skb.setU32(nh + 12, saddr);
        skb.setU32(nh + 16, daddr);
        skb.setNetworkHeader(nh);
        skb.setBytes(nh + 20, tcp, 0, tcp.length);
        skb.pull(20);
        skb.dev(lo);
        s.tcp.receive(skb);
        long[] after = fates();
        TcpDrops.Reason fate = null;
        int fates = 0;
        TcpDrops.Reason[] all = TcpDrops.Reason.values();
        for (int i = 0; i < after.length; i++) {
            long d = after[i] - before[i];
            fates += (int) d;
            if (d != 0 && i < all.length) {
                fate = all[i];
            }
        }
        EnumMap<Seen, Long> moved = new EnumMap<>(Seen.class);
        for (Seen c : Seen.values()) {
            long d = read(c) - was.get(c);
            if (d != 0) {
                moved.put(c, d);
            }
        }
        return new Outcome(fate, moved, fates);
    }

    /** A segment from {@code v}'s peer to {@code v}: the connection's own addresses and ports. */
    Outcome injectTo(TcpSock v, byte[] tcp) {
        return inject(v.raddr(), v.laddr(), tcp);
    }

    // --- segments as bytes ---

    /** A TCP header with these fields, {@code options} (a multiple of 4 long) and {@code payload}. */
    static byte[] segment(int sport, int dport, int seq, int ack, int flags, int window, byte[] options, byte[] payload) {
        byte[] b = new byte[20 + options.length + payload.length];
        put16(b, TcpHeader.SOURCE, sport);
        put16(b, TcpHeader.DEST, dport);
        put32(b, TcpHeader.SEQ, seq);
        put32(b, TcpHeader.ACK_SEQ, ack);
        b[TcpHeader.DOFF] = (byte) ((5 + options.length / 4) << 4);
        b[TcpHeader.FLAGS] = (byte) flags;
        put16(b, TcpHeader.WINDOW, window);
        System.arraycopy(options, 0, b, 20, options.length);
        System.arraycopy(payload, 0, b, 20 + options.length, payload.length);
        return b;
    }

    static void put16(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 8);
        b[o + 1] = (byte) v;
    }

    static void put32(byte[] b, int o, int v) {
        put16(b, o, v >>> 16);
        put16(b, o + 2, v);
    }

    static int get16(byte[] b, int o) {
        return (b[o] & 0xff) << 8 | (b[o + 1] & 0xff);
    }

    static int get32(byte[] b, int o) {
        return get16(b, o) << 16 | get16(b, o + 2);
    }

    /** Sets the checksum over the IPv4 pseudo-header of {@code saddr} to {@code daddr}, as a sender does. */
    static byte[] checksum(byte[] tcp, int saddr, int daddr) {
        put16(tcp, TcpHeader.CHECK, 0);
        long sum = (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + 6 + tcp.length;
        for (int i = 0; i + 1 < tcp.length; i += 2) {
            sum += get16(tcp, i);
        }
        if ((tcp.length & 1) != 0) {
            sum += (tcp[tcp.length - 1] & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        put16(tcp, TcpHeader.CHECK, (int) (~sum & 0xffff));
        return tcp;
    }

    @Override
    public void close() {
        sys.close();
        s.close();
    }
}

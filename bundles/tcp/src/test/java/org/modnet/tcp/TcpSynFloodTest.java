package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Errno;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * A SYN flood on the virtual clock: thousands of SYNs from spoofed sources into a listener in namespace
 * b while a connection from a keeps moving data; with the SYN queue full, a real client from a still
 * completes its handshake through a cookie.
 */
class TcpSynFloodTest {
    private static final int A = 0x0a000001; // 10.0.0.1 in the initial namespace
    private static final int B = 0x0a000002; // 10.0.0.2 in namespace "b"
    private static final int SPOOFED = 0x0a000064; // 10.0.0.100 .. 10.0.0.199: nobody answers for them
    private static final int FLOOD = 5000;

    private TcpStack s;
    private SocketCalls a;
    private SocketCalls b;
    private NetDevice da;
    private NetDevice db;
    private NetNamespace nsb;
    private int toSpoofed;

    @BeforeEach
    void setUp() throws Exception {
        s = new TcpStack();
        nsb = s.stack.core().addNamespace("b");
        da = s.ns.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> wire(skb, db, A));
        db = nsb.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> wire(skb, da, B));
        da.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, InetAddress.getByName("10.0.0.255"), "global", "eth0"));
        db.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, InetAddress.getByName("10.0.0.255"), "global", "eth0"));
        da.open();
        db.open();
        s.arp.add(da, B, db.address(), NudState.PERMANENT, false);
        s.arp.add(db, A, da.address(), NudState.PERMANENT, false);
        for (int i = 0; i < 100; i++) {
            s.arp.add(db, SPOOFED + i, da.address(), NudState.PERMANENT, false);
        }
        a = s.process();
        b = s.sockets.process("test", "b");
    }

    @AfterEach
    void tearDown() {
        a.close();
        b.close();
        s.close();
    }

    /** Frames for the peer's address cross; replies to spoofed sources vanish (counted). */
    private TxResult wire(SkBuff skb, NetDevice peer, int peerAddr) {
        int ip = skb.data() + 14;
        if (skb.getU16(skb.data() + 12) == 0x0800 && skb.getU32(ip + 16) != (peerAddr == A ? B : A)) {
            toSpoofed++;
            skb.free();
            return TxResult.OK;
        }
        if (!peer.rxQueue(0).receive(skb)) {
            skb.free();
        }
        return TxResult.OK;
    }

    private TcpNet netB() {
        return s.tcp.net(nsb);
    }

    private long countB(TcpMib.Ext c) {
        return netB().mib.get(c);
    }

    /** A client from a to the listener: {client fd, accepted fd}. */
    private int[] connect(int l) {
        int c = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), a.connect(c, new SockAddr(B, 8000)));
        s.run();
        int sfd = b.accept(l, null, SOCK_NONBLOCK);
        assertTrue(sfd >= 3, "accept: " + SocketCalls.strerror(sfd));
        return new int[] { c, sfd };
    }

    private static int drain(SocketCalls sys, int fd, ByteArrayOutputStream into) {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        int total = 0;
        while (true) {
            buf.clear();
            int n = sys.recv(fd, buf, MSG_DONTWAIT);
            if (n <= 0) {
                return total;
            }
            into.write(buf.array(), 0, n);
            total += n;
        }
    }

    /** Moves {@code data} from one end to the other through the stack; what arrived. */
    private byte[] move(SocketCalls from, int out, SocketCalls to, int in, byte[] data) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int sent = 0;
        for (int round = 0; got.size() < data.length; round++) {
            assertTrue(round < 10_000, "the transfer stalled at " + got.size());
            if (sent < data.length) {
                int n = from.send(out, ByteBuffer.wrap(data, sent, data.length - sent), MSG_DONTWAIT);
                if (n > 0) {
                    sent += n;
                }
            }
            s.run();
            drain(to, in, got);
            s.advance(5);
        }
        return got.toByteArray();
    }

    @Test
    void aSynFloodNeitherStarvesAConnectionNorStopsARealClient() {
        int l = b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, b.bind(l, new SockAddr(0, 8000)));
        assertEquals(0, b.listen(l, 8));
        int[] c1 = connect(l);

        Random r = new Random(42);
        byte[] stream = new byte[FLOOD / 100 * 4096];
        r.nextBytes(stream);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] syn = Segments.opts(Segments.mss(1460), Segments.sackPerm(), Segments.ts(1, 0), Segments.nop(), Segments.ws(7));
        for (int batch = 0; batch < FLOOD / 100; batch++) {
            for (int i = 0; i < 100; i++) {
                int k = batch * 100 + i;
                SkBuff f = TcpWire.frame(s, db.address(), da.address(), SPOOFED + k % 100, B, 1024 + k, 8000, TcpHeader.SYN, r.nextInt(), 0,
                        65535, syn, 0);
                if (!db.rxQueue(0).receive(f)) {
                    f.free();
                }
            }
            assertEquals(4096, a.send(c1[0], ByteBuffer.wrap(stream, batch * 4096, 4096), MSG_DONTWAIT));
            s.run();
            int n = drain(b, c1[1], got);
            assertEquals(4096, n, "batch " + batch + ": the connection's data kept moving through the flood");
            s.advance(10);
        }
        assertArrayEquals(stream, got.toByteArray());
        assertEquals(FLOOD - 8, countB(TcpMib.Ext.SyncookiesSent), "all but the eight the SYN queue held: " + netB().mib.snapshot());
        assertEquals(FLOOD - 8, countB(TcpMib.Ext.TCPReqQFullDoCookies));
        assertEquals(0, countB(TcpMib.Ext.TCPReqQFullDrop));
        assertEquals(0, countB(TcpMib.Ext.ListenDrops));
        assertEquals(FLOOD, toSpoofed, "one SYN-ACK to each spoofed SYN, nothing more yet");
        assertEquals(1 + 8, netB().established.get(), "the accepted connection and eight request socks: cookies keep nothing");

        // a real client while the SYN queue is still full: its handshake goes through a cookie
        int[] c2 = connect(l);
        assertEquals(FLOOD - 8 + 1, countB(TcpMib.Ext.SyncookiesSent));
        assertEquals(1, countB(TcpMib.Ext.SyncookiesRecv));
        assertEquals(0, countB(TcpMib.Ext.SyncookiesFailed));
        byte[] up = new byte[300_000];
        byte[] down = new byte[300_000];
        r.nextBytes(up);
        r.nextBytes(down);
        assertArrayEquals(up, move(a, c2[0], b, c2[1], up), "up through the cookie connection (window scale kept in TSval)");
        assertArrayEquals(down, move(b, c2[1], a, c2[0], down), "and down");

        s.advance(70_000, 100);
        assertEquals(2, netB().established.get(), "the request socks gave up after tcp_synack_retries");
    }
}

package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.IPPROTO_TCP;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;
import static org.modnet.socket.api.SocketCalls.SO_KEEPALIVE;
import static org.modnet.socket.api.SocketCalls.TCP_KEEPCNT;
import static org.modnet.socket.api.SocketCalls.TCP_KEEPIDLE;
import static org.modnet.socket.api.SocketCalls.TCP_KEEPINTVL;
import static org.modnet.socket.api.SocketCalls.TCP_USER_TIMEOUT;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketCalls;

/**
 * Keepalive ({@code tcp_keepalive_timer}) and TCP_USER_TIMEOUT on virtual time: probes as Linux sends
 * them (an ACK at snd_una - 1 without data), at the idle time and then every interval, ETIMEDOUT after
 * the count; the user timeout ending a connection whose data (or zero-window probes) stay unanswered.
 */
class TcpKeepaliveTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;
    private int fd;
    private long t0;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        int l = p.listen(PORT);
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
        t0 = now();
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    private long now() {
        return p.s.clock.get() / 1_000_000L;
    }

    private int soError() {
        int[] e = new int[1];
        p.sys.getsockopt(fd, SOL_SOCKET, SocketCalls.SO_ERROR, e);
        return e[0];
    }

    private void answer() {
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 0);
    }

    @Test
    void probesFollowTheIdleTimeThenTheIntervalAndTheCountEndsTheConnection() {
        assertEquals(0, p.sys.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1));
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 10));
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, 2));
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, 3));
        p.s.advance(9_900);
        p.none();
        p.s.advance(1_000);
        TcpPeer.Seg probe = p.out();
        assertTrue(probe.ms() - t0 >= 10_000 && probe.ms() - t0 < 10_600, "after 10 s idle (and the wheel's slack): " + (probe.ms() - t0));
        assertEquals(TcpHeader.ACK, probe.flags());
        assertEquals(p.iss, probe.seq(), "snd_una - 1: the peer must answer it");
        assertEquals(0, probe.len());
        assertEquals(P, probe.ack());
        assertEquals(1, p.count(TcpMib.Ext.TCPKeepAlive));

        answer(); // the peer is alive: idle again from here
        long answered = now();
        p.s.advance(9_900);
        p.none();
        p.s.advance(1_000);
        assertTrue(p.out().ms() - answered >= 10_000, "the answer restarted the idle time");
        p.s.advance(30_000);
        List<TcpPeer.Seg> rest = p.drain();
        assertEquals(3, rest.size(), "two more probes, 2 s apart, then the reset: " + rest);
        long gap = rest.get(1).ms() - rest.get(0).ms();
        assertTrue(gap >= 2_000 && gap < 2_100, "TCP_KEEPINTVL apart: " + gap);
        assertEquals(TcpHeader.RST | TcpHeader.ACK, rest.get(2).flags());
        assertEquals(Errno.ETIMEDOUT.number(), soError());
        assertEquals(1, p.count(TcpMib.Ext.TCPAbortOnTimeout));
        assertEquals(4, p.count(TcpMib.Ext.TCPKeepAlive));
    }

    @Test
    void theSysctlsGiveTheDefaults() throws Exception {
        assertEquals("7200", p.s.ns.sysctl().get("net.ipv4.tcp_keepalive_time"));
        assertEquals("75", p.s.ns.sysctl().get("net.ipv4.tcp_keepalive_intvl"));
        assertEquals("9", p.s.ns.sysctl().get("net.ipv4.tcp_keepalive_probes"));
        p.s.ns.sysctl().set("net.ipv4.tcp_keepalive_time", "60");
        assertEquals(0, p.sys.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1));
        p.s.advance(59_000, 100);
        p.none();
        p.s.advance(20 * 60_000, 1000);
        List<TcpPeer.Seg> all = p.drain();
        assertEquals(10, all.size(), "tcp_keepalive_probes = 9 probes, then the reset: " + all);
        assertTrue(all.get(0).ms() - t0 >= 60_000 && all.get(0).ms() - t0 < 70_000, "after tcp_keepalive_time: " + all.get(0));
        for (int i = 1; i < 9; i++) {
            long gap = all.get(i).ms() - all.get(i - 1).ms();
            assertTrue(gap >= 75_000 && gap < 85_000, "tcp_keepalive_intvl apart: " + gap);
            assertEquals(p.iss, all.get(i).seq());
        }
        assertEquals(TcpHeader.RST | TcpHeader.ACK, all.get(9).flags());
        assertEquals(Errno.ETIMEDOUT.number(), soError());
    }

    @Test
    void aChildTakesItsListenersKeepaliveSettings() throws Exception {
        int l = p.listen(5002);
        assertEquals(0, p.sys.setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, 1));
        assertEquals(0, p.sys.setsockopt(l, IPPROTO_TCP, TCP_KEEPIDLE, 5));
        long start = now();
        int c = p.accept(l, 5002, Segments.mss(1000), new byte[0], null);
        int[] v = new int[1];
        p.sys.getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, v);
        assertEquals(1, v[0]);
        p.sys.getsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, v);
        assertEquals(5, v[0]);
        p.s.advance(6_000);
        TcpPeer.Seg probe = p.out();
        assertEquals(p.iss, probe.seq());
        assertEquals(0, probe.len());
        assertTrue(probe.ms() - start >= 5_000, "after the listener's TCP_KEEPIDLE: " + (probe.ms() - start));
    }

    @Test
    void withoutSoKeepaliveAnIdleConnectionSendsNothing() {
        p.s.advance(3 * 3600 * 1000, 10_000);
        p.none();
        assertEquals(Sock.TCP_ESTABLISHED, p.s.sockets.sockets("").stream().filter(k -> k.remoteAddress().port() == TcpPeer.PEER_PORT)
                .findFirst().orElseThrow().state());
        assertEquals(0, p.count(TcpMib.Ext.TCPKeepAlive));
    }

    @Test
    void clearingSoKeepaliveStopsTheProbes() {
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 5));
        assertEquals(0, p.sys.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1));
        p.s.advance(6_000);
        assertEquals(1, p.drain().size());
        assertEquals(0, p.sys.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, 0));
        p.s.advance(600_000, 1000);
        p.none();
        assertEquals(0, soError());
    }

    @Test
    void theUserTimeoutEndsAConnectionWhoseDataStaysUnacknowledged() {
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 3000));
        assertEquals(100, p.sys.send(fd, ByteBuffer.allocate(100), 0));
        long sent = p.out().ms();
        while (p.count(TcpMib.Ext.TCPAbortOnTimeout) == 0 && now() - sent < 10_000) {
            p.s.advance(10);
        }
        assertTrue(now() - sent >= 3000 && now() - sent <= 3100, "after 3 s, not tcp_retries2: " + (now() - sent));
        p.s.advance(10_000);
        List<TcpPeer.Seg> after = p.drain();
        assertTrue(after.size() >= 1 && after.size() < 15, "a few retransmissions, fewer than tcp_retries2: " + after);
        for (TcpPeer.Seg x : after) {
            assertEquals(100, x.len(), "only the data again, no reset at the end (tcp_write_err): " + x);
        }
        assertEquals(Errno.ETIMEDOUT.number(), soError());
        assertEquals(1, p.count(TcpMib.Ext.TCPAbortOnTimeout));
        long last = after.get(after.size() - 1).ms();
        assertTrue(last - sent < 3000, "nothing sent after 3 s");
    }

    @Test
    void anOrphanClosedWithAUserTimeoutGivesUpItsFinAfterThatLong() throws Exception {
        // packetdrill user_timeout/user_timeout.pkt
        p.s.advance(2000);
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 3000));
        Sock k = p.s.sockets.sockets("").stream().filter(x -> x.remoteAddress().port() == TcpPeer.PEER_PORT).findFirst()
                .orElseThrow();
        assertEquals(0, p.sys.close(fd));
        TcpPeer.Seg fin = p.out();
        assertEquals(TcpHeader.FIN | TcpHeader.ACK, fin.flags());
        p.s.advance(5000);
        List<TcpPeer.Seg> again = p.drain();
        assertTrue(again.size() >= 1, "the FIN again: " + again);
        for (TcpPeer.Seg x : again) {
            assertEquals(TcpHeader.FIN | TcpHeader.ACK, x.flags());
            assertTrue(x.ms() - fin.ms() < 3000, "within the user timeout: " + x);
        }
        assertEquals(Sock.TCP_CLOSE, k.state(), "gone after 3 s");
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 1); // too late
        assertEquals(TcpHeader.RST, p.out().flags() & TcpHeader.RST, "nobody is there any more");
    }

    @Test
    void theUserTimeoutAlsoEndsZeroWindowProbingThatThePeerAnswers() {
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 5000));
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 0, new byte[0], 0); // the window closes
        assertEquals(100, p.sys.send(fd, ByteBuffer.allocate(100), 0));
        p.none();
        long start = now();
        long firstProbe = -1;
        int probes = 0;
        while (now() - start < 20_000 && p.count(TcpMib.Ext.TCPAbortOnTimeout) == 0) {
            p.s.advance(10);
            for (TcpPeer.Seg x : p.drain()) {
                if (x.flags() == TcpHeader.ACK && x.seq() == p.iss && x.len() == 0) {
                    probes++;
                    firstProbe = firstProbe < 0 ? x.ms() : firstProbe;
                    p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 0, new byte[0], 0); // answered, still closed
                }
            }
        }
        assertTrue(probes >= 2, "probes: " + probes);
        long took = now() - firstProbe;
        // and the wheel's slack: at HZ=250 a timer of 2 s and more sits on the level of 256 ms buckets
        assertTrue(took >= 5000 && took <= 5000 + 256 + 4, "ended by the user timeout after the first probe: " + took);
        assertEquals(Errno.ETIMEDOUT.number(), soError());
        assertEquals(1, p.count(TcpMib.Ext.TCPAbortOnTimeout));
    }

    @Test
    void withoutTheUserTimeoutAnsweredZeroWindowProbesGoOnForever() {
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 0, new byte[0], 0);
        p.sys.send(fd, ByteBuffer.allocate(100), 0);
        long start = now();
        while (now() - start < 2_400_000) {
            p.s.advance(1000, 100);
            for (TcpPeer.Seg x : p.drain()) {
                if (x.len() == 0 && x.seq() == p.iss) {
                    p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 0, new byte[0], 0);
                }
            }
        }
        assertEquals(0, soError());
        assertTrue(p.count(TcpMib.Ext.TCPWinProbe) > 15, "more than tcp_retries2 probes, each answered");
    }
}

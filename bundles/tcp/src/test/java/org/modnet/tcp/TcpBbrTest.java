package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;

import java.nio.ByteBuffer;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.socket.SsCommandAccess;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.TcpInfo;
import org.modnet.tcp_bbr.Bbr;

/** BBR's bundle driving a connection on lo: selected by sysctl and TCP_CONGESTION, its rate samples, ss -i. */
class TcpBbrTest {
    private static final int LOCALHOST = 0x7f000001;

    private TcpStack s;
    private SocketCalls sys;

    @BeforeEach
    void setUp() {
        s = new TcpStack();
        sys = s.process();
        s.tcp.addCongestion(new Bbr(), Map.of(TcpCongestionOps.NAME, Bbr.NAME));
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    private int[] connect(int port) {
        int l = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(l, new SockAddr(LOCALHOST, port)));
        assertEquals(0, sys.listen(l, 8));
        int c = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(c, new SockAddr(LOCALHOST, port)));
        s.run();
        int a = sys.accept(l, null, SOCK_NONBLOCK);
        assertTrue(a >= 0, "accept: " + SocketCalls.strerror(a));
        return new int[] { c, a };
    }

    /** Sends {@code bytes} of a counting pattern and checks every byte on arrival. */
    private void transfer(int from, int to, int bytes) {
        int sent = 0;
        int got = 0;
        ByteBuffer in = ByteBuffer.allocate(65536);
        byte[] chunk = new byte[8192];
        while (got < bytes) {
            if (sent < bytes) {
                int len = Math.min(chunk.length, bytes - sent);
                for (int i = 0; i < len; i++) {
                    chunk[i] = (byte) ((sent + i) * 31);
                }
                int n = sys.send(from, ByteBuffer.wrap(chunk, 0, len), 0);
                sent += Math.max(n, 0);
            }
            s.run();
            in.clear();
            int r = sys.recv(to, in, MSG_DONTWAIT);
            for (int i = 0; i < r; i++) {
                assertEquals((byte) ((got + i) * 31), in.get(i), "byte " + (got + i));
            }
            got += Math.max(r, 0);
            s.advance(1);
        }
    }

    private TcpSock established(int localPort) {
        return s.tcp.net(s.ns).hashed().stream()
                .filter(k -> k.state() == TcpSock.TCP_ESTABLISHED && k.localAddress().port() != localPort).findFirst()
                .orElseThrow();
    }

    @Test
    void bbrChosenBySysctlCarriesATransferIntactAndReportsItsModelInSsAndTcpInfo() throws NetException {
        assertTrue(s.ns.sysctl().get("net.ipv4.tcp_available_congestion_control").contains("bbr"));
        s.ns.sysctl().set("net.ipv4.tcp_congestion_control", "bbr");
        int[] p = connect(7101);
        transfer(p[0], p[1], 2_000_000);
        TcpSock snd = established(7101);
        assertEquals("bbr", snd.congestionControl());
        TcpInfo i = snd.tcpInfo();
        assertTrue(i.deliveryRate() > 0, "delivery_rate from the rate samples: " + i.deliveryRate());
        assertTrue(i.pacingRate() > 0, "BBR sets the pacing rate: " + i.pacingRate());
        long[] bbr = snd.bbrInfo();
        assertTrue(bbr != null && bbr[0] > 0, "a bandwidth estimate");
        String ss = SsCommandAccess.run(s.sockets, "-tin");
        assertTrue(ss.contains(" bbr:(bw:"), ss);
        assertTrue(ss.contains(",cwnd_gain:"), ss);
        assertTrue(ss.contains(" delivery_rate "), ss);
    }

    @Test
    void tcpCongestionSwitchesALiveConnectionToBbrAndBack() throws NetException {
        s.ns.sysctl().set("net.ipv4.tcp_allowed_congestion_control", "reno bbr"); // what an application may pick
        int[] p = connect(7102);
        transfer(p[0], p[1], 200_000);
        assertEquals(0, sys.setsockopt(p[0], SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, TcpCongestion.nameWords("bbr")));
        transfer(p[0], p[1], 500_000);
        TcpSock snd = established(7102);
        assertEquals("bbr", snd.congestionControl());
        assertTrue(snd.bbrInfo() != null, "BBR's model for ss -i");
        assertEquals(0, sys.setsockopt(p[0], SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, TcpCongestion.nameWords("reno")));
        transfer(p[0], p[1], 200_000);
        assertEquals(null, snd.bbrInfo(), "no bbr:(...) once the connection left BBR");
    }

    /** An algorithm that asks for pacing at a fixed rate with a window that never limits. */
    static final class FixedRate implements TcpCongestionOps {
        static final long RATE = 655_360; // bytes per second

        @Override
        public String name() {
            return "fixed";
        }

        @Override
        public Object init(org.modnet.api.tcp.TcpCongestionState sk) {
            sk.pacingNeeded();
            sk.pacingRate(RATE);
            sk.cwnd(1000);
            return null;
        }

        @Override
        public int ssthresh(org.modnet.api.tcp.TcpCongestionState sk) {
            return sk.cwnd();
        }

        @Override
        public void congAvoid(org.modnet.api.tcp.TcpCongestionState sk, int ack, int acked) {
        }

        @Override
        public boolean congControl(org.modnet.api.tcp.TcpCongestionState sk, int ack, int acked, long rttUs) {
            return true;
        }
    }

    @Test
    void internalPacingSpacesSegmentsAtThePacingRate() throws NetException {
        s.tcp.addCongestion(new FixedRate(), Map.of(TcpCongestionOps.NAME, "fixed"));
        s.ns.sysctl().set("net.ipv4.tcp_congestion_control", "fixed");
        int[] p = connect(7103);
        TcpSock snd = established(7103);
        // lo's 65483-byte segments (the first ones half that, tcp_bound_to_half_wnd, till the peer's window grows)
        long perSegNs = 65483 * 1_000_000_000L / FixedRate.RATE; // about 100 ms a full segment
        int total = 40 * 65483;
        int sent = 0;
        int got = 0;
        long[] bytesAt = new long[50];
        ByteBuffer in = ByteBuffer.allocate(1 << 20);
        for (int ms = 0; ms < 50 * 100; ms++) {
            if (sent < total) {
                sent += Math.max(0, sys.send(p[0], ByteBuffer.allocate(Math.min(65536, total - sent)), MSG_DONTWAIT));
            }
            s.run();
            in.clear();
            got += Math.max(0, sys.recv(p[1], in, MSG_DONTWAIT));
            if (ms % 100 == 0) {
                bytesAt[ms / 100] = snd.bytesSent;
            }
            s.advance(1, 1);
        }
        // the first ten segments go at once; after that one segment per mss/rate (about 100 ms)
        long perSecond = (bytesAt[25] - bytesAt[15]) * 1_000_000_000L / (10 * 100_000_000L);
        assertEquals(FixedRate.RATE, perSecond, FixedRate.RATE / 10.0, "paced at the rate: " + perSecond + " B/s, "
                + perSegNs / 1_000_000 + " ms per segment");
        for (int k = 10; k < 29; k++) {
            assertTrue(bytesAt[k + 1] - bytesAt[k] <= 2L * snd.mss, "no burst in 100 ms once paced: " + (bytesAt[k + 1] - bytesAt[k]));
        }
        assertEquals(total, got, "every byte arrived");
    }

    @Test
    void aReceiverThatDoesNotReadMakesTheSenderRwndLimitedAndSsSaysHowLong() {
        int[] p = connect(7104);
        TcpSock snd = established(7104);
        sys.send(p[0], ByteBuffer.allocate(1 << 20), MSG_DONTWAIT); // more than the peer's receive buffer
        s.run();
        s.advance(300, 10);
        TcpInfo i = snd.tcpInfo();
        assertTrue(i.rwndLimited() >= 250_000, "limited by the peer's window for most of 300 ms: " + i.rwndLimited());
        assertTrue(i.busyTime() >= i.rwndLimited(), "busy time includes it");
        String ss = SsCommandAccess.run(s.sockets, "-tin");
        assertTrue(ss.contains(" busy:") && ss.contains(" rwnd_limited:"), ss);
        ByteBuffer in = ByteBuffer.allocate(1 << 20);
        int got = 0;
        for (int k = 0; k < 200 && got < (1 << 20); k++) {
            in.clear();
            got += Math.max(0, sys.recv(p[1], in, MSG_DONTWAIT));
            s.advance(1);
        }
        assertEquals(1 << 20, got);
        s.advance(300); // the last ACK (a delayed one) comes
        long busy = snd.tcpInfo().busyTime();
        s.advance(1000);
        assertEquals(busy, snd.tcpInfo().busyTime(), "nothing in flight and nothing queued: the busy time stops");
    }

    @Test
    void soMaxPacingRateCapsWhatTheAlgorithmAsksAndTcpInfoShowsIt() throws NetException {
        s.tcp.addCongestion(new FixedRate(), Map.of(TcpCongestionOps.NAME, "fixed"));
        s.ns.sysctl().set("net.ipv4.tcp_congestion_control", "fixed");
        int c = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.setsockopt(c, SocketCalls.SOL_SOCKET, SocketCalls.SO_MAX_PACING_RATE, new int[] { 100_000 }));
        int[] v = new int[1];
        assertEquals(1, sys.getsockopt(c, SocketCalls.SOL_SOCKET, SocketCalls.SO_MAX_PACING_RATE, v), "one 32-bit value");
        assertEquals(100_000, v[0]);
        int l = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(l, new SockAddr(LOCALHOST, 7105)));
        assertEquals(0, sys.listen(l, 8));
        sys.connect(c, new SockAddr(LOCALHOST, 7105));
        s.run();
        TcpSock snd = s.tcp.net(s.ns).hashed().stream()
                .filter(k -> k.state() == TcpSock.TCP_ESTABLISHED && k.remoteAddress().port() == 7105).findFirst().orElseThrow();
        TcpInfo i = snd.tcpInfo();
        assertEquals(100_000L, i.maxPacingRate());
        assertEquals(100_000L, i.pacingRate(), "the algorithm's 640 KiB/s capped");
        assertEquals(0, sys.setsockopt(c, SocketCalls.SOL_SOCKET, SocketCalls.SO_MAX_PACING_RATE, new int[] { -1 }));
        assertEquals(-1L, snd.tcpInfo().maxPacingRate(), "~0U: no limit again");
    }

    /**
     * TSO autosizing takes the algorithm's min_tso_segs (tcp_tso_segs asks ca_ops->min_tso_segs): BBR
     * paced below bbr_min_tso_rate (1.2 Mbit/s, 150 kB/s) asks for one segment per burst where the
     * sysctl says three, and the burst is then what a millisecond at that rate carries, at least that.
     */
    @Test
    void bbrsMinTsoSegsReplacesTheSysctlsFloorAtALowPacingRate() throws NetException {
        s.ns.sysctl().set("net.ipv4.tcp_min_tso_segs", "3");
        s.ns.sysctl().set("net.ipv4.tcp_congestion_control", "bbr");
        int c = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.setsockopt(c, SocketCalls.SOL_SOCKET, SocketCalls.SO_MAX_PACING_RATE, new int[] { 100_000 }));
        int l = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(l, new SockAddr(LOCALHOST, 7106)));
        assertEquals(0, sys.listen(l, 8));
        sys.connect(c, new SockAddr(LOCALHOST, 7106));
        s.run();
        TcpSock snd = s.tcp.net(s.ns).hashed().stream()
                .filter(k -> k.state() == TcpSock.TCP_ESTABLISHED && k.remoteAddress().port() == 7106).findFirst().orElseThrow();
        assertEquals(100_000L, snd.tcpInfo().pacingRate());
        assertEquals(1, snd.minTsoSegs(), "BBR's floor at 100 kB/s");
        assertEquals(0, sys.setsockopt(c, SocketCalls.SOL_SOCKET, SocketCalls.SO_MAX_PACING_RATE, new int[] { 1_000_000 }));
        assertEquals(0, sys.setsockopt(c, SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, TcpCongestion.nameWords("reno")));
        assertEquals(3, snd.minTsoSegs(), "Reno has none: the sysctl's");
    }

    @Test
    void tsoAutosizeIsAMillisecondAtThePacingRateAndAtLeastTheFloor() {
        assertEquals(6, TcpTso.autosize(1448, 10_000_000, 2), "10 MB/s: 9765 bytes a millisecond");
        assertEquals(2, TcpTso.autosize(1448, 1_000_000, 2), "976 bytes: the floor");
        assertEquals(1, TcpTso.autosize(1448, 100_000, 1));
        assertEquals(TcpTso.GSO_MAX_SEGS, TcpTso.autosize(1448, -1, 2), "no rate yet (~0)");
        assertEquals(45, TcpTso.autosize(1448, Long.MAX_VALUE, 2), "bounded by the 64 KiB GSO size");
    }
}

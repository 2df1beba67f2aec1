package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import org.modnet.api.net.Sysctl;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.api.tcp.TcpCongestionState;
import org.modnet.socket.SsCommandAccess;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/** Congestion control as services: the registry, its three sysctls, TCP_CONGESTION, ss -i, and an algorithm leaving. */
class CongestionControlTest {
    private static final int LOCALHOST = 0x7f000001;

    /** An algorithm that counts what TCP calls and grows the window by one per ACK. */
    static final class Counting implements TcpCongestionOps {
        final String name;
        int inits;
        int releases;
        int acks;
        int pktsAcked;
        int losses;
        int txStarts;
        /** The longest time nothing had been sent, as CA_EVENT_TX_START showed it to the algorithm. */
        long idleUs;

        Counting(String name) {
            this.name = name;
        }

        @Override
        public void cwndEvent(TcpCongestionState sk, int event) {
            if (event == TcpCongestion.CA_EVENT_TX_START && sk.lastSendUs() != 0) { // 0: nothing sent before
                txStarts++;
                idleUs = Math.max(idleUs, sk.nowUs() - sk.lastSendUs());
            }
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Object init(TcpCongestionState sk) {
            inits++;
            return new int[1];
        }

        @Override
        public void release(TcpCongestionState sk) {
            releases++;
        }

        @Override
        public int ssthresh(TcpCongestionState sk) {
            losses++;
            return 2;
        }

        @Override
        public void congAvoid(TcpCongestionState sk, int ack, int acked) {
            acks++;
            ((int[]) sk.priv())[0] += acked;
            sk.cwnd(sk.cwnd() + 1);
        }

        @Override
        public void pktsAcked(TcpCongestionState sk, int pkts, long rttUs) {
            pktsAcked += pkts;
        }
    }

    private TcpStack s;
    private SocketCalls sys;
    private Sysctl sysctl;

    @BeforeEach
    void setUp() {
        s = new TcpStack();
        sys = s.process();
        sysctl = s.ns.sysctl();
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    private Counting load(String name) {
        Counting c = new Counting(name);
        s.tcp.addCongestion(c, Map.of(TcpCongestionOps.NAME, name));
        return c;
    }

    private String get(String name) throws NetException {
        return sysctl.get(name);
    }

    /** A connected pair on lo: {client, server}. */
    private int[] connect(int port, int beforeConnect) {
        int l = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(l, new SockAddr(LOCALHOST, port)));
        assertEquals(0, sys.listen(l, 8));
        int c = beforeConnect >= 0 ? beforeConnect : sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(c, new SockAddr(LOCALHOST, port)));
        s.run();
        int a = sys.accept(l, null, SOCK_NONBLOCK);
        assertTrue(a >= 0, "accept: " + SocketCalls.strerror(a));
        return new int[] { c, a };
    }

    private String congestion(int fd) {
        int[] w = new int[4];
        int n = sys.getsockopt(fd, SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, w);
        assertEquals(4, n);
        return TcpCongestion.name(w, n);
    }

    private int setCongestion(int fd, String name) {
        return sys.setsockopt(fd, SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, TcpCongestion.nameWords(name));
    }

    private void transfer(int from, int to, int bytes) {
        int sent = 0;
        int got = 0;
        ByteBuffer in = ByteBuffer.allocate(65536);
        while (got < bytes) {
            if (sent < bytes) {
                int n = sys.send(from, ByteBuffer.wrap(new byte[Math.min(8192, bytes - sent)]), 0);
                sent += Math.max(n, 0);
            }
            s.run();
            in.clear();
            int r = sys.recv(to, in, MSG_DONTWAIT);
            got += Math.max(r, 0);
            s.advance(1);
        }
    }

    @Test
    void renoIsBuiltInTheDefaultAndTheOnlyAlgorithmListed() throws NetException {
        assertEquals("reno", get("net.ipv4.tcp_congestion_control"));
        assertEquals("reno", get("net.ipv4.tcp_available_congestion_control"));
        assertEquals("reno", get("net.ipv4.tcp_allowed_congestion_control"));
    }

    @Test
    void cubicArrivingBecomesTheDefaultAsOnLinuxAndLeavingMovesItsConnectionsToReno() throws NetException {
        org.modnet.tcp_cubic.Cubic cubic = new org.modnet.tcp_cubic.Cubic(); // the bundle's service itself
        s.tcp.addCongestion(cubic, Map.of(TcpCongestionOps.NAME, TcpCongestion.CUBIC));
        assertEquals("cubic", get("net.ipv4.tcp_congestion_control"), "Linux's default, once its module is there");
        assertEquals("reno cubic", get("net.ipv4.tcp_available_congestion_control"));
        assertEquals("reno cubic", get("net.ipv4.tcp_allowed_congestion_control"));
        int[] p = connect(7010, -1);
        assertEquals("cubic", congestion(p[0]));
        assertEquals("cubic", congestion(p[1]));
        transfer(p[0], p[1], 200_000);
        assertEquals(Map.of("sockets", 2), cubic.users(), "lsmod's Used by: both ends");
        long before = s.count(TcpMib.Ext.TCPCongestionFallback);
        s.tcp.removeCongestion(cubic);
        assertEquals("reno", get("net.ipv4.tcp_congestion_control"));
        assertEquals("reno", congestion(p[0]));
        assertEquals("reno", congestion(p[1]));
        assertEquals(before + 3, s.count(TcpMib.Ext.TCPCongestionFallback), "the listener and both ends moved, counted");
        assertEquals(Map.of("sockets", 0), cubic.users(), "each end released its state");
        transfer(p[0], p[1], 200_000);
        s.tcp.addCongestion(new org.modnet.tcp_cubic.Cubic(), Map.of(TcpCongestionOps.NAME, TcpCongestion.CUBIC));
        assertEquals("cubic", get("net.ipv4.tcp_congestion_control"), "back with its bundle");
    }

    /** CUBIC moves its epoch by this on TX_START: the idle restart (tcp_slow_start_after_idle) must not hide it. */
    @Test
    void sendingAfterAnIdlePeriodTellsTheAlgorithmHowLongNothingWasSent() throws NetException {
        Counting v = load("vegas");
        sysctl.set("net.ipv4.tcp_congestion_control", "vegas");
        int[] p = connect(7012, -1);
        transfer(p[0], p[1], 20_000);
        int starts = v.txStarts;
        assertTrue(v.idleUs < 1_000_000, "a busy transfer: " + v.idleUs);
        s.advance(5_000); // idle for longer than the RTO: the window restarts too
        transfer(p[0], p[1], 20_000);
        assertTrue(v.txStarts > starts, "CA_EVENT_TX_START when sending began again");
        assertTrue(v.idleUs >= 4_900_000 && v.idleUs < 6_000_000, "idle for " + v.idleUs + " us");
    }

    @Test
    void aDefaultTheUserChoseStaysWhenCubicArrives() throws NetException {
        sysctl.set("net.ipv4.tcp_congestion_control", "reno");
        load("cubic");
        assertEquals("reno", get("net.ipv4.tcp_congestion_control"));
    }

    @Test
    void anAlgorithmServiceIsListedWhileItIsRegistered() throws NetException {
        Counting w = load("westwood");
        load("vegas");
        assertEquals("reno westwood vegas", get("net.ipv4.tcp_available_congestion_control"));
        s.tcp.removeCongestion(w);
        assertEquals("reno vegas", get("net.ipv4.tcp_available_congestion_control"));
    }

    @Test
    void aSecondAlgorithmWithATakenNameIsNotListed() throws NetException {
        load("vegas");
        load("vegas");
        assertEquals("reno vegas", get("net.ipv4.tcp_available_congestion_control"));
    }

    @Test
    void availableIsReadOnly() {
        NetException e = assertThrows(NetException.class, () -> sysctl.set("net.ipv4.tcp_available_congestion_control", "reno"));
        assertEquals(Errno.EPERM, e.errno());
    }

    @Test
    void settingAnUnknownDefaultIsEnoentAndKeepsTheOld() throws NetException {
        NetException e = assertThrows(NetException.class, () -> sysctl.set("net.ipv4.tcp_congestion_control", "cubic"));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("reno", get("net.ipv4.tcp_congestion_control"));
    }

    @Test
    void theDefaultBecomesAllowed() throws NetException {
        load("vegas");
        sysctl.set("net.ipv4.tcp_congestion_control", "vegas");
        assertEquals("vegas", get("net.ipv4.tcp_congestion_control"));
        assertEquals("reno vegas", get("net.ipv4.tcp_allowed_congestion_control"));
    }

    @Test
    void allowedTakesRegisteredNamesOnlyAndAlwaysKeepsTheDefault() throws NetException {
        load("vegas");
        NetException e = assertThrows(NetException.class, () -> sysctl.set("net.ipv4.tcp_allowed_congestion_control", "vegas bbr"));
        assertEquals(Errno.ENOENT, e.errno());
        sysctl.set("net.ipv4.tcp_allowed_congestion_control", "vegas");
        assertEquals("reno vegas", get("net.ipv4.tcp_allowed_congestion_control"), "reno stays: it is the default");
    }

    @Test
    void tcpCongestionGetsTheNameAndRefusesUnknownAndNotAllowedOnes() throws NetException {
        load("vegas");
        int fd = sys.socket(AF_INET, SOCK_STREAM, 0);
        assertEquals("reno", congestion(fd));
        assertEquals(-Errno.ENOENT.number(), setCongestion(fd, "cubic"));
        assertEquals(-Errno.EPERM.number(), setCongestion(fd, "vegas"), "not in tcp_allowed_congestion_control");
        sysctl.set("net.ipv4.tcp_allowed_congestion_control", "reno vegas");
        assertEquals(0, setCongestion(fd, "vegas"));
        assertEquals("vegas", congestion(fd));
    }

    @Test
    void newConnectionsTakeTheDefaultAndTheAlgorithmDrivesTheWindow() throws NetException {
        Counting v = load("vegas");
        sysctl.set("net.ipv4.tcp_congestion_control", "vegas");
        int[] p = connect(7001, -1);
        assertEquals("vegas", congestion(p[0]));
        assertEquals("vegas", congestion(p[1]), "the child takes its listener's");
        assertEquals(2, v.inits, "both ends initialised at ESTABLISHED");
        transfer(p[0], p[1], 200_000);
        assertTrue(v.acks > 0 && v.pktsAcked > 0, "acks " + v.acks + " pkts " + v.pktsAcked);
        String ss = SsCommandAccess.run(s.sockets, "-tin");
        assertTrue(ss.contains("vegas"), ss);
    }

    @Test
    void tcpCongestionSwitchesAnEstablishedConnection() throws NetException {
        Counting v = load("vegas");
        sysctl.set("net.ipv4.tcp_allowed_congestion_control", "reno vegas");
        int[] p = connect(7002, -1);
        assertEquals(0, setCongestion(p[0], "vegas"));
        assertEquals(1, v.inits, "re-initialised as tcp_reinit_congestion_control does");
        transfer(p[0], p[1], 100_000);
        assertTrue(v.acks > 0);
        assertEquals(0, setCongestion(p[0], "reno"));
        assertEquals(1, v.releases);
    }

    @Test
    void anAlgorithmLeavingMovesItsConnectionsToTheDefaultAndCountsThem() throws NetException {
        Counting v = load("vegas");
        sysctl.set("net.ipv4.tcp_congestion_control", "vegas");
        int[] p = connect(7003, -1);
        transfer(p[0], p[1], 50_000);
        s.tcp.removeCongestion(v);
        assertEquals("reno", get("net.ipv4.tcp_congestion_control"), "the default falls back to reno");
        assertEquals("reno", get("net.ipv4.tcp_available_congestion_control"));
        assertEquals("reno", congestion(p[0]));
        assertEquals("reno", congestion(p[1]));
        assertTrue(s.count(TcpMib.Ext.TCPCongestionFallback) >= 2, "the listener and both ends moved");
        assertEquals(2, v.releases, "each established end released its state");
        int acks = v.acks;
        transfer(p[0], p[1], 50_000);
        assertEquals(acks, v.acks, "the unloaded algorithm is never called again");
    }

    @Test
    void aSocketThatChoseAnAlgorithmBeforeItLeftTakesTheDefaultAtConnect() throws NetException {
        Counting v = load("vegas");
        sysctl.set("net.ipv4.tcp_allowed_congestion_control", "reno vegas");
        int fd = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, setCongestion(fd, "vegas"));
        s.tcp.removeCongestion(v);
        int[] p = connect(7004, fd);
        assertEquals("reno", congestion(p[0]));
        assertEquals(0, v.inits);
        assertTrue(s.count(TcpMib.Ext.TCPCongestionFallback) >= 1);
    }

    @Test
    void anAlgorithmComingBackUnderItsNameTakesItsConnectionsAndDefaultBack() throws NetException {
        Counting v1 = load("vegas");
        sysctl.set("net.ipv4.tcp_congestion_control", "vegas");
        int[] p = connect(7005, -1);
        s.tcp.removeCongestion(v1); // the bundle is updated: the old version leaves...
        assertEquals("reno", congestion(p[0]));
        int oldAcks = v1.acks;
        Counting v2 = load("vegas"); // ...and the new one comes
        assertEquals("vegas", get("net.ipv4.tcp_congestion_control"));
        assertEquals("reno vegas", get("net.ipv4.tcp_allowed_congestion_control"));
        assertEquals("vegas", congestion(p[0]));
        assertEquals("vegas", congestion(p[1]));
        assertEquals(2, v2.inits, "the new version made its own state for both ends");
        transfer(p[0], p[1], 50_000);
        assertTrue(v2.acks > 0);
        assertEquals(oldAcks, v1.acks, "nothing calls the old version");
    }

    @Test
    void aConnectionTheUserMovedDoesNotReturn() throws NetException {
        Counting v1 = load("vegas");
        sysctl.set("net.ipv4.tcp_congestion_control", "vegas");
        int[] p = connect(7006, -1);
        s.tcp.removeCongestion(v1);
        assertEquals(0, setCongestion(p[0], "reno"));
        load("vegas");
        assertEquals("reno", congestion(p[0]), "the user's choice stands");
        assertEquals("vegas", congestion(p[1]));
    }

    @Test
    void theAckPathThroughAnAlgorithmAllocatesNothing() throws NetException {
        Counting v = load("vegas");
        sysctl.set("net.ipv4.tcp_congestion_control", "vegas");
        int[] p = connect(7007, -1);
        TcpSock sk = s.tcp.net(s.ns).hashed().stream().filter(k -> k.state() == TcpSock.TCP_ESTABLISHED).findFirst().orElseThrow();
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        sk.lockSock();
        try {
            for (int i = 0; i < 20_000; i++) {
                sk.congAck(sk.sndUna, 1, 1000);
            }
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 200_000; i++) {
                sk.congAck(sk.sndUna, 1, 1000);
                sk.cw.cwnd = 10;
            }
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            assertTrue(allocated < 100_000, allocated + " bytes for 200000 ACKs");
        } finally {
            sk.releaseSock();
        }
        assertTrue(v.acks >= 220_000);
        sys.close(p[0]);
    }
    @Test
    void theAckPathThroughCubicAllocatesNothing() throws NetException {
        s.tcp.addCongestion(new org.modnet.tcp_cubic.Cubic(), Map.of(TcpCongestionOps.NAME, TcpCongestion.CUBIC));
        int[] p = connect(7011, -1);
        TcpSock sk = s.tcp.net(s.ns).hashed().stream().filter(k -> k.state() == TcpSock.TCP_ESTABLISHED).findFirst().orElseThrow();
        assertEquals("cubic", sk.congestionControl());
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        sk.lockSock();
        try {
            for (int i = 0; i < 20_000; i++) {
                sk.congAck(sk.sndUna, 1, 1000 + (i & 7) * 1000); // RTT samples for HyStart too
            }
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 200_000; i++) {
                sk.congAck(sk.sndUna, 1, 1000 + (i & 7) * 1000);
                if ((i & 1023) == 0) {
                    sk.cw.ssthresh = sk.ca.ops.ssthresh(sk.cw); // a loss now and then: a new epoch, K again
                    sk.cw.cwnd = sk.cw.ssthresh;
                }
            }
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            assertTrue(allocated < 100_000, allocated + " bytes for 200000 ACKs");
        } finally {
            sk.releaseSock();
        }
        sys.close(p[0]);
    }
}

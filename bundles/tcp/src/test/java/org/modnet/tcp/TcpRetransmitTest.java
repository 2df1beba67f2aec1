package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

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
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * Loss and the retransmission timer, on virtual time: two namespaces joined by a wire that drops the
 * frames a test chooses (smoltcp's fault injector in spirit) and remembers when each TCP segment left.
 */
class TcpRetransmitTest {
    private static final int A = 0x0a000001; // 10.0.0.1 in the initial namespace
    private static final int B = 0x0a000002; // 10.0.0.2 in namespace "b"

    /** A TCP segment as it left a namespace: when, its flags and sequence number, its payload length. */
    record Seen(long ms, NetNamespace from, int flags, int seq, int len) {
    }

    private TcpStack s;
    private SocketCalls a;
    private SocketCalls b;
    private NetDevice da;
    private NetDevice db;
    private final List<Seen> seen = new ArrayList<>();
    private Predicate<Seen> drop = x -> false;
    /** Rewrites a TCP segment on the wire: given the skb and its TCP header offset, true when it changed it. */
    private java.util.function.BiPredicate<SkBuff, Integer> rewrite = (skb, th) -> false;

    @BeforeEach
    void setUp() throws Exception {
        s = new TcpStack();
        NetNamespace nsb = s.stack.core().addNamespace("b");
        da = s.ns.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> wire(skb, d, db));
        db = nsb.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> wire(skb, d, da));
        da.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, InetAddress.getByName("10.0.0.255"), "global", "eth0"));
        db.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, InetAddress.getByName("10.0.0.255"), "global", "eth0"));
        da.open();
        db.open();
        s.arp.add(da, B, db.address(), NudState.PERMANENT, false);
        s.arp.add(db, A, da.address(), NudState.PERMANENT, false);
        a = s.process();
        b = s.sockets.process("test", "b");
    }

    @AfterEach
    void tearDown() {
        a.close();
        b.close();
        s.close();
    }

    private TxResult wire(SkBuff skb, NetDevice self, NetDevice peer) {
        int ip = skb.data() + 14;
        if (skb.getU16(skb.data() + 12) == 0x0800 && skb.getU8(ip + 9) == 6) {
            int th = ip + (skb.getU8(ip) & 0xf) * 4;
            int total = skb.getU16(ip + 2);
            int hlen = (skb.getU8(th + 12) >>> 4) * 4;
            Seen x = new Seen(s.clock.get() / 1_000_000L, self.namespace(), skb.getU8(th + 13), skb.getU32(th + 4),
                    total - (th - ip) - hlen);
            seen.add(x);
            if (seen.size() > 100_000) {
                throw new AssertionError("a segment storm: " + seen.subList(seen.size() - 12, seen.size()));
            }
            if (drop.test(x)) {
                skb.free();
                return TxResult.OK;
            }
            if (rewrite.test(skb, th)) {
                int len = total - (th - ip);
                skb.setU16(th + TcpHeader.CHECK, 0);
                TcpHeader.setChecksum(skb, th, len, TcpAf.inetPseudoSum(skb.getU32(ip + 12), skb.getU32(ip + 16), len));
            }
        }
        peer.rxQueue(0).receive(skb); // a full ring drops and frees it (RX_MISSED_ERRORS)
        return TxResult.OK;
    }

    /** A connection from a (client) to b (server): {client fd, accepted fd}. */
    private int[] connect() {
        int l = b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, b.bind(l, new SockAddr(0, 8000)));
        assertEquals(0, b.listen(l, 8));
        int c = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), a.connect(c, new SockAddr(B, 8000)));
        s.run();
        int sfd = b.accept(l, null, SOCK_NONBLOCK);
        assertTrue(sfd >= 3, "accept: " + SocketCalls.strerror(sfd));
        return new int[] { c, sfd };
    }

    private List<Seen> dataFrom(NetNamespace ns) {
        return seen.stream().filter(x -> x.from() == ns && x.len() > 0).toList();
    }

    @Test
    void aLostSegmentIsSentAgainWhenTheTimerFires() throws Exception {
        // the RTO alone: without RACK (tcp_recovery 0) two SACKed segments are below the duplicate
        // threshold, and without the loss probe (tcp_early_retrans 0) nothing goes before the timer
        s.ns.sysctl().set("net.ipv4.tcp_recovery", "0");
        s.ns.sysctl().set("net.ipv4.tcp_early_retrans", "0");
        int[] fds = connect();
        boolean[] once = { false };
        drop = x -> x.from() == s.ns && x.len() > 0 && !once[0] && (once[0] = true);
        byte[] msg = new byte[3000];
        new Random(3).nextBytes(msg);
        assertEquals(3000, a.send(fds[0], ByteBuffer.wrap(msg), 0));
        s.run();
        assertEquals(-Errno.EAGAIN.number(), b.recv(fds[1], ByteBuffer.allocate(4000), MSG_DONTWAIT), "a hole: nothing in order");
        assertTrue(s.tcp.net(db.namespace()).mib.get(TcpMib.Ext.TCPOFOQueue) >= 1, () -> "the segment after the hole waits out of order: " + seen);
        s.advance(150);
        assertEquals(0, s.count(TcpMib.Tcp.RetransSegs), "not before tcp_rto_min");
        s.advance(300);
        assertEquals(1, s.count(TcpMib.Tcp.RetransSegs));
        assertEquals(1, s.count(TcpMib.Ext.TCPTimeouts));
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(4000);
        int n = b.recv(fds[1], buf, MSG_DONTWAIT);
        assertEquals(3000, n, "the retransmission filled the hole and the queued segment followed");
        got.write(buf.array(), 0, n);
        assertArrayEquals(msg, got.toByteArray());
    }

    @Test
    void outSegsLeavesRetransmissionsToRetransSegs() throws Exception {
        // __tcp_transmit_skb counts OutSegs only for a segment reaching past snd_nxt or taking no sequence
        // space: the SYN and the data segment sent again count in RetransSegs alone, so every frame the
        // client sent is in exactly one of the two
        s.ns.sysctl().set("net.ipv4.tcp_recovery", "0");
        s.ns.sysctl().set("net.ipv4.tcp_early_retrans", "0");
        boolean[] once = { false, false };
        drop = x -> x.from() == s.ns && ((x.flags() & 0x02) != 0 && !once[0] && (once[0] = true)
                || x.len() > 0 && !once[1] && (once[1] = true));
        int[] fds = connect0();
        assertEquals(3000, a.send(fds[0], ByteBuffer.wrap(new byte[3000]), 0));
        s.run();
        s.advance(5000); // the SYN went twice: no RTT sample, the RTO is the fallback's 3 s (tcp_init_transfer)
        assertEquals(3000, b.recv(fds[1], ByteBuffer.allocate(4000), MSG_DONTWAIT), () -> "the hole filled by the RTO: " + seen);
        long fromA = seen.stream().filter(x -> x.from() == s.ns).count();
        assertEquals(2, s.count(TcpMib.Tcp.RetransSegs), "the SYN and the first data segment went twice: " + seen);
        assertEquals(fromA - 2, s.count(TcpMib.Tcp.OutSegs), "OutSegs: every frame but the two retransmissions: " + seen);
    }

    /** {@link #connect} through a lost SYN: the client's SYN goes again after the initial RTO. */
    private int[] connect0() {
        int l = b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, b.bind(l, new SockAddr(0, 8000)));
        assertEquals(0, b.listen(l, 8));
        int c = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), a.connect(c, new SockAddr(B, 8000)));
        s.run();
        s.advance(1500);
        int sfd = b.accept(l, null, SOCK_NONBLOCK);
        assertTrue(sfd >= 3, "accept: " + SocketCalls.strerror(sfd));
        return new int[] { c, sfd };
    }

    @Test
    void theTimerBacksOffExponentiallyAndGivesUpAfterTcpRetries2() throws Exception {
        s.ns.sysctl().set("net.ipv4.tcp_early_retrans", "0"); // the RTO alone, no loss probe before it
        int[] fds = connect();
        drop = x -> x.from() == s.ns && x.len() > 0;
        a.send(fds[0], ByteBuffer.wrap(new byte[100]), 0);
        s.run();
        s.advance(1_000_000, 100);
        List<Seen> tries = dataFrom(s.ns);
        assertEquals(16, tries.size(), "the first transmission and tcp_retries2 = 15 retransmissions");
        long first = tries.get(1).ms() - tries.get(0).ms();
        long second = tries.get(2).ms() - tries.get(1).ms();
        long third = tries.get(3).ms() - tries.get(2).ms();
        assertTrue(first >= 200 && first < 400, "RTO starts at tcp_rto_min over a fast path: " + first);
        assertTrue(second >= 2 * first - 100 && second <= 2 * first + 100, "doubled: " + first + " then " + second);
        assertTrue(third >= 2 * second - 100 && third <= 2 * second + 100, "doubled: " + second + " then " + third);
        long last = tries.get(15).ms() - tries.get(14).ms();
        assertTrue(last >= 120_000 && last < 140_000, "capped at TCP_RTO_MAX: " + last);
        int[] err = new int[1];
        a.getsockopt(fds[0], SOL_SOCKET, SocketCalls.SO_ERROR, err);
        assertEquals(Errno.ETIMEDOUT.number(), err[0]);
        assertEquals(1, s.count(TcpMib.Ext.TCPAbortOnTimeout));
        assertEquals(15, s.count(TcpMib.Tcp.RetransSegs));
    }

    @Test
    void aConnectThatHearsNothingTimesOutAfterTcpSynRetries() {
        drop = x -> (x.flags() & 0x02) != 0; // every SYN
        int c = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), a.connect(c, new SockAddr(B, 8001)));
        s.run();
        s.advance(200_000, 100);
        List<Seen> syns = seen.stream().filter(x -> (x.flags() & 0x02) != 0).toList();
        assertEquals(7, syns.size(), "the SYN and tcp_syn_retries = 6 more");
        long gap = syns.get(1).ms() - syns.get(0).ms();
        assertTrue(gap >= 1000 && gap < 1200, "the initial RTO is 1 s: " + gap);
        int[] err = new int[1];
        a.getsockopt(c, SOL_SOCKET, SocketCalls.SO_ERROR, err);
        assertEquals(Errno.ETIMEDOUT.number(), err[0]);
        assertEquals(6, s.count(TcpMib.Ext.TCPSynRetrans));
        assertEquals(1, s.count(TcpMib.Tcp.AttemptFails));
    }

    /** Moves {@code size} bytes each way at once; returns the virtual milliseconds it took. */
    private long exchange(int[] fds, int size) {
        Random r = new Random(size);
        byte[] up = new byte[size];
        byte[] down = new byte[size];
        r.nextBytes(up);
        r.nextBytes(down);
        ByteBuffer upOut = ByteBuffer.wrap(up);
        ByteBuffer downOut = ByteBuffer.wrap(down);
        ByteArrayOutputStream upIn = new ByteArrayOutputStream();
        ByteArrayOutputStream downIn = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long start = s.clock.get();
        for (int round = 0; round < 1_000_000 && (upIn.size() < size || downIn.size() < size); round++) {
            boolean moved = false;
            if (upOut.hasRemaining()) {
                moved |= a.send(fds[0], upOut, MSG_DONTWAIT) > 0;
            }
            if (downOut.hasRemaining()) {
                moved |= b.send(fds[1], downOut, MSG_DONTWAIT) > 0;
            }
            s.run();
            buf.clear();
            int n = b.recv(fds[1], buf, MSG_DONTWAIT);
            if (n > 0) {
                upIn.write(buf.array(), 0, n);
                moved = true;
            }
            buf.clear();
            n = a.recv(fds[0], buf, MSG_DONTWAIT);
            if (n > 0) {
                downIn.write(buf.array(), 0, n);
                moved = true;
            }
            if (!moved) {
                s.advance(10);
            }
        }
        assertArrayEquals(up, upIn.toByteArray(), "a to b intact");
        assertArrayEquals(down, downIn.toByteArray(), "b to a intact");
        return (s.clock.get() - start) / 1_000_000L;
    }

    @Test
    void aMegabyteEachWayBetweenNamespacesArrivesIntact() {
        int[] fds = connect();
        exchange(fds, 1 << 20);
        assertEquals(0, s.count(TcpMib.Tcp.RetransSegs), "nothing lost, nothing sent twice");
        assertTrue(s.count(TcpMib.Tcp.OutSegs) > (1 << 20) / 1448, "segments of at most the MSS (1448 with timestamps)");
    }

    @Test
    void aMegabyteEachWaySurvivesRandomLoss() {
        int[] fds = connect();
        Random loss = new Random(17);
        drop = x -> x.len() > 0 && loss.nextInt(100) < 2;
        exchange(fds, 1 << 20);
        assertTrue(s.count(TcpMib.Tcp.RetransSegs) > 0, "losses were repaired by retransmission");
        assertTrue(s.tcp.net(db.namespace()).mib.get(TcpMib.Ext.TCPOFOQueue) > 0, "segments after a hole waited out of order");
    }

    @Test
    void aLostHandshakeAckIsRepairedByTheSynAckAgain() {
        int l = b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, b.bind(l, new SockAddr(0, 8002)));
        assertEquals(0, b.listen(l, 8));
        boolean[] once = { false };
        drop = x -> x.from() == s.ns && x.flags() == 0x10 && !once[0] && (once[0] = true); // the handshake's ACK
        int c = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), a.connect(c, new SockAddr(B, 8002)));
        s.run();
        assertEquals(-Errno.EAGAIN.number(), b.accept(l, null, 0), "the server is still in SYN-RECV");
        s.advance(1300); // TCP_TIMEOUT_INIT: the SYN-ACK again, which the client acknowledges
        assertEquals(1, s.tcp.net(db.namespace()).mib.get(TcpMib.Ext.TCPSynRetrans));
        assertTrue(b.accept(l, null, 0) >= 3, "the handshake completed");
    }

    @Test
    void aClosedWindowIsProbedAndReopens() {
        int[] fds = connect();
        byte[] data = new byte[6_000_000]; // more than the window and the autotuned send buffer (4 MB at most) hold
        new Random(5).nextBytes(data);
        ByteBuffer out = ByteBuffer.wrap(data);
        for (int i = 0; i < 100 && out.hasRemaining(); i++) {
            a.send(fds[0], out, MSG_DONTWAIT);
            s.advance(50);
        }
        assertTrue(out.hasRemaining(), "the reader does not read: the window closes and the sender stops");
        s.advance(3000);
        assertTrue(s.count(TcpMib.Ext.TCPWinProbe) > 0, "a zero window is probed");
        TcpMib rx = s.tcp.net(db.namespace()).mib;
        assertEquals(1, rx.get(TcpMib.Ext.TCPToZeroWindowAdv), "the reader's side offered a zero window once (tcp_select_window)");
        assertEquals(0, rx.get(TcpMib.Ext.TCPFromZeroWindowAdv), "and has not opened it yet");
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(65536);
        for (int i = 0; i < 10_000 && got.size() < data.length; i++) {
            if (out.hasRemaining()) {
                a.send(fds[0], out, MSG_DONTWAIT);
            }
            s.run();
            buf.clear();
            int n = b.recv(fds[1], buf, MSG_DONTWAIT);
            if (n > 0) {
                got.write(buf.array(), 0, n);
            } else {
                s.advance(10);
            }
        }
        assertArrayEquals(data, got.toByteArray(), "reading reopened the window and everything came");
        assertTrue(rx.get(TcpMib.Ext.TCPFromZeroWindowAdv) >= 1, "reading reopened the window (TCPFromZeroWindowAdv)");
    }

    @Test
    void aResetInTheWindowButNotAtRcvNxtGetsAChallengeAck() {
        int[] fds = connect();
        assertEquals(0, a.setsockopt(fds[0], SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, 1)); // not held by Nagle
        int[] mode = { 1 }; // 1: the next pure ACK from b becomes a RST one past rcv_nxt; 2: a RST exactly at it
        rewrite = (skb, th) -> {
            if (mode[0] == 0 || skb.getU8(th + TcpHeader.FLAGS) != TcpHeader.ACK) {
                return false;
            }
            skb.setU8(th + TcpHeader.FLAGS, TcpHeader.RST | TcpHeader.ACK);
            skb.setU32(th + TcpHeader.SEQ, skb.getU32(th + TcpHeader.SEQ) + (mode[0] == 1 ? 1 : 0));
            mode[0] = 0;
            return true;
        };
        a.send(fds[0], ByteBuffer.wrap(new byte[10]), 0);
        s.run();
        assertEquals(1, s.count(TcpMib.Ext.TCPChallengeACK), "RFC 5961 3.2: not exactly rcv_nxt is challenged");
        assertEquals(10, b.recv(fds[1], ByteBuffer.allocate(100), MSG_DONTWAIT), "the connection lives on");
        mode[0] = 2;
        a.send(fds[0], ByteBuffer.wrap(new byte[10]), 0);
        s.run();
        assertEquals(-Errno.ECONNRESET.number(), a.recv(fds[0], ByteBuffer.allocate(100), MSG_DONTWAIT), "exactly at rcv_nxt resets");
        assertEquals(1, s.count(TcpMib.Tcp.EstabResets));
    }

    /** Moves {@code msg} from a to b a millisecond at a time; returns what b read. */
    private byte[] transfer(int[] fds, byte[] msg, int maxMs) throws Exception {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        int off = 0;
        for (int ms = 0; ms < maxMs && got.size() < msg.length; ms++) {
            if (off < msg.length) {
                int n = a.send(fds[0], ByteBuffer.wrap(msg, off, Math.min(1 << 16, msg.length - off)), MSG_DONTWAIT);
                if (n > 0) {
                    off += n;
                }
            }
            s.advance(1);
            int n;
            while ((n = b.recv(fds[1], buf.clear(), MSG_DONTWAIT)) > 0) {
                got.write(buf.array(), 0, n);
            }
        }
        return got.toByteArray();
    }

    @Test
    void aMegabyteCrossesRandomLossInBothDirectionsIntactAndRecoveryDoesMostOfTheWork() throws Exception {
        int[] fds = connect();
        Random loss = new Random(17);
        drop = x -> loss.nextInt(100) < 3; // 3% of segments either way, data and ACKs
        byte[] msg = new byte[1 << 20];
        new Random(5).nextBytes(msg);
        byte[] got = transfer(fds, msg, 120_000);
        assertEquals(msg.length, got.length, () -> "delivered; sender " + conn(a, fds[0]));
        assertArrayEquals(msg, got);
        assertTrue(s.count(TcpMib.Ext.TCPSackRecovery) > 0, "losses were repaired by SACK recovery");
        assertTrue(s.count(TcpMib.Ext.TCPTimeouts) < s.count(TcpMib.Ext.TCPSackRecovery),
                () -> "fewer timeouts (" + s.count(TcpMib.Ext.TCPTimeouts) + ") than recoveries (" + s.count(TcpMib.Ext.TCPSackRecovery) + ")");
    }

    @Test
    void aMegabyteCrossesRandomLossWithCubicIntactAndTheSocketNamesCubic() throws Exception {
        s.tcp.addCongestion(new org.modnet.tcp_cubic.Cubic(), java.util.Map.of(TcpCongestionOps.NAME, TcpCongestion.CUBIC));
        assertEquals("cubic", s.tcp.net(db.namespace()).cong.control.get(), "cubic arrived: Linux's default");
        assertEquals("reno cubic", s.tcp.net(s.ns).cong.availableSysctl.get());
        int[] fds = connect();
        int[] w = new int[4];
        int n = a.getsockopt(fds[0], SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, w);
        assertEquals("cubic", TcpCongestion.name(w, n), "getsockopt(TCP_CONGESTION)");
        TcpSock client = s.tcp.net(s.ns).hashed().get(0); // namespace a holds only the client
        assertEquals("cubic", client.congestionControl(), "what ss -i prints");
        Random loss = new Random(29);
        drop = x -> loss.nextInt(100) < 3; // 3% of segments either way, data and ACKs
        byte[] msg = new byte[1 << 20];
        new Random(6).nextBytes(msg);
        byte[] got = transfer(fds, msg, 120_000);
        assertEquals(msg.length, got.length, () -> "delivered; sender " + conn(a, fds[0]));
        assertArrayEquals(msg, got);
        assertTrue(s.count(TcpMib.Ext.TCPSackRecovery) > 0, "losses were repaired by SACK recovery");
        assertEquals("cubic", client.congestionControl(), "still cubic after the losses");
        assertTrue(client.cw.ssthresh < Integer.MAX_VALUE, "a loss set ssthresh");
    }

    @Test
    void aMegabyteCrossesRandomLossWithBbrIntactPacedAndInRecoveryAsBbrDoes() throws Exception {
        s.tcp.addCongestion(new org.modnet.tcp_bbr.Bbr(), java.util.Map.of(TcpCongestionOps.NAME, "bbr"));
        s.tcp.net(s.ns).cong.control.set("bbr"); // namespace a's default, as sysctl -w sets it
        int[] fds = connect();
        TcpSock client = s.tcp.net(s.ns).hashed().get(0); // namespace a holds only the client
        assertEquals("bbr", client.congestionControl());
        Random loss = new Random(31);
        drop = x -> loss.nextInt(100) < 3; // 3% of segments either way, data and ACKs
        byte[] msg = new byte[1 << 20];
        new Random(7).nextBytes(msg);
        byte[] got = transfer(fds, msg, 120_000);
        assertEquals(msg.length, got.length, () -> "delivered; sender " + conn(a, fds[0]));
        assertArrayEquals(msg, got);
        assertTrue(s.count(TcpMib.Ext.TCPSackRecovery) > 0, "losses were repaired by SACK recovery");
        assertTrue(client.pacingNeeded && client.pacingRate > 0, "BBR paced it: " + client.pacingRate);
        assertTrue(client.bbrInfo()[0] > 0, "a bandwidth estimate survived the losses");
    }

    private String conn(SocketCalls p, int fd) {
        return s.tcp.net(s.ns).hashed().stream().map(t -> {
            return "una=" + t.sndUna + " nxt=" + t.sndNxt + " max=" + t.sndMax + " write=" + t.writeSeq + " ca=" + t.caState
                    + " cwnd=" + t.cw.cwnd + " inflight=" + t.rec.inFlight() + " out=" + t.rec.q.packetsOut + " sacked="
                    + t.rec.q.sackedOut + " lost=" + t.rec.q.lostOut + " retrans=" + t.rec.q.retransOut + " pending="
                    + t.rec.pending + " timer=" + t.rtxTimer.pending() + " rto=" + t.rtoMs + " wnd=" + t.sndWnd;
        }).toList().toString();
    }

    @Test
    void manyConnectionsThroughBurstyLossEachDeliverIntact() throws Exception {
        int n = 8; // few enough that the test wire's receive ring never fills
        Random loss = new Random(23);
        int[] burst = { 0 };
        long[] burstMs = { 0 };
        drop = x -> { // 1% alone, and now and then a burst of up to 20 in one ms, as an overflowing ring drops
            if (burst[0] > 0 && x.ms() == burstMs[0]) { // a ring overflows for what arrives together, not for
                burst[0]--;                              // a lone connection's retransmissions minutes apart
                return true;
            }
            burst[0] = 0;
            if (loss.nextInt(1000) < 2) {
                burst[0] = 20;
                burstMs[0] = x.ms();
            }
            return loss.nextInt(100) < 1;
        };
        int per = 256 << 10;
        int l = b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, b.bind(l, new SockAddr(0, 8001)));
        assertEquals(0, b.listen(l, n));
        int[] c = new int[n];
        for (int i = 0; i < n; i++) {
            c[i] = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            a.connect(c[i], new SockAddr(B, 8001));
        }
        s.run();
        int[] srv = new int[n];
        for (int i = 0; i < n; i++) {
            srv[i] = b.accept(l, null, SOCK_NONBLOCK);
            assertTrue(srv[i] >= 3, "accept " + i);
        }
        byte[] msg = new byte[per];
        new Random(9).nextBytes(msg);
        int[] off = new int[n];
        long[] got = new long[n];
        boolean[] shut = new boolean[n];
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        int ms;
        for (ms = 0; ms < 300_000; ms++) {
            boolean all = true;
            for (int i = 0; i < n; i++) {
                if (off[i] < per) {
                    int r = a.send(c[i], ByteBuffer.wrap(msg, off[i], Math.min(1 << 16, per - off[i])), MSG_DONTWAIT);
                    if (r > 0) {
                        off[i] += r;
                    }
                } else if (!shut[i]) {
                    a.shutdown(c[i], SocketCalls.SHUT_WR);
                    shut[i] = true;
                }
            }
            s.advance(1);
            for (int i = 0; i < n; i++) {
                int r;
                while ((r = b.recv(srv[i], buf.clear(), MSG_DONTWAIT)) > 0) {
                    got[i] += r;
                }
                all &= got[i] == per && r == 0;
            }
            if (all) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            final int k = i;
            assertEquals(per, got[i], () -> "connection " + k + ": " + conn(a, c[k]));
        }
        System.out.println("TcpRetransmitTest: " + n + " connections in " + ms + " ms; recoveries " + s.count(TcpMib.Ext.TCPSackRecovery)
                + ", timeouts " + s.count(TcpMib.Ext.TCPTimeouts) + ", probes " + s.count(TcpMib.Ext.TCPLossProbes));
    }
}

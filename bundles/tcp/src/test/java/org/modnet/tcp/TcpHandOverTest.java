package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.tcp.TcpPeer.LOCAL;
import static org.modnet.tcp.TcpPeer.PEER;
import static org.modnet.tcp.TcpPeer.PEER_ISS;
import static org.modnet.tcp.TcpPeer.PEER_PORT;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.handover.SocketState;
import org.modnet.api.handover.TcpConnectionState;
import org.modnet.api.handover.TcpEstimator;
import org.modnet.api.handover.TcpLayerState;
import org.modnet.api.handover.TcpRateState;
import org.modnet.api.handover.TcpSenderState;
import org.modnet.api.handover.TcpSegment;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * TCP's state hand-over on an update of its bundle (issue 15), against a scripted peer on virtual
 * time: the old version freezes a connection mid-transfer (bytes in flight and unsent, unread bytes,
 * out-of-order segments, SACK, timestamps, timers), the new one remakes it field for field, and the
 * connection goes on segment for segment as the same script runs without a swap; a listener keeps its
 * queued and half-open children, a TIME-WAIT sock its time, the namespace its secrets and counters;
 * a state version the new one cannot read is refused, counted and closes the sockets.
 */
class TcpHandOverTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1; // the peer's first data byte
    private static final byte[] SYN = Segments.opts(Segments.mss(1460), Segments.sackPerm(), Segments.ts(100, 0),
            Segments.nop(), Segments.ws(7));

    private final List<TcpPeer> peers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        peers.forEach(TcpPeer::close);
    }

    /**
     * The classes this bundle names for {@code update}'s class loading to take first ({@code Modnet-Update-Warm} in bnd.bnd: what
     * the preparation and the adoption meet) are classes of this bundle, and include the listeners' remake's (the parts a
     * TcpSock makes, its timers): a renamed class would leave the swap thread to define it itself again.
     */
    @Test
    void theClassesTheUpdateLoadsFirstAreThisBundlesAndTheListenersRemakes() throws Exception {
        String bnd = java.nio.file.Files.readString(java.nio.file.Path.of("bnd.bnd")).replace("\\\n", "");
        String header = bnd.lines().filter(l -> l.startsWith("Modnet-Update-Warm:")).findFirst().orElseThrow();
        List<String> names = List.of(header.substring(header.indexOf(':') + 1).trim().split("\\s*,\\s*"));
        for (String n : names) {
            Class<?> c = Class.forName(n, false, getClass().getClassLoader());
            assertEquals("org.modnet.tcp", c.getPackageName(), n);
        }
        for (Class<?> c : List.of(TcpTimers.class, TcpInput.class, TcpOutput.class, TcpTimer.class, TcpHandOver.class)) {
            assertTrue(names.contains(c.getName()), c.getName());
        }
        // TcpSock's nested classes are not: the loading of the first of them waited for the standby start to be over, and the
        // update with it (task lst15); the swap defines those few itself
        assertTrue(names.stream().noneMatch(n -> n.startsWith(TcpSock.class.getName() + "$")), names.toString());
        assertEquals(names.size(), new java.util.HashSet<>(names).size(), "each once");
    }

    private TcpPeer peer() throws Exception {
        TcpPeer p = new TcpPeer();
        peers.add(p);
        return p;
    }

    /** A segment the stack sent, its numbers made relative to both ISNs and its clock, so two runs compare. */
    private record Rel(long ms, int flags, int seq, int ack, int win, int len, long tsval, long tsecr, String sack) {
    }

    private static List<Rel> rel(List<TcpPeer.Seg> segs, int iss, long tsBase) {
        List<Rel> out = new ArrayList<>();
        for (TcpPeer.Seg g : segs) {
            out.add(new Rel(g.ms(), g.flags(), g.seq() - iss, g.ack(), g.win(), g.len(), g.tsval() < 0 ? -1 : g.tsval() - tsBase,
                    g.tsecr(), java.util.Arrays.toString(g.sack())));
        }
        return out;
    }

    /** The connection's socket in the stack's tables now. */
    private static TcpSock conn(TcpPeer p) {
        return p.s.tcp.net(p.s.ns).lookupEstablished(PEER, PEER_PORT, LOCAL, PORT);
    }

    /** Data from the peer: {@code len} bytes at {@code seq}, acknowledging {@code ack} (relative to the stack's ISN), window {@code win}. */
    private static void data(TcpPeer p, int seq, int len, int ack, int win, int tsval) {
        p.in(PORT, TcpHeader.ACK, seq, p.iss + ack, win, TcpPeer.ts(tsval, 0), len);
    }

    /**
     * The transfer both runs play: the stack writes 20,000 bytes to a peer that opened a window of
     * 8,000 (with window scale 7: 62.5 units) and acknowledges 3,000, so bytes are in flight and
     * unsent; the peer sends 100 bytes in order (unread) and 200 beyond a hole; TCP_NODELAY and
     * keepalive are set. Returns the accepted fd and the SYN-ACK's tsval (the stack's clock base).
     */
    private static long[] before(TcpPeer p) {
        int l = p.listen(PORT);
        TcpPeer.Seg[] sa = new TcpPeer.Seg[1];
        int fd = p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), sa);
        // the peer's window is the 16-bit field scaled by 2^7: 63 units is 8,064 bytes
        assertEquals(0, p.sys.setsockopt(fd, SocketCalls.SOL_TCP, SocketCalls.TCP_NODELAY, 1));
        assertEquals(0, p.sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_KEEPALIVE, 1));
        data(p, P, 0, 1, 63, 102);
        byte[] out = new byte[20_000];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (i * 7);
        }
        assertEquals(20_000, p.sys.send(fd, ByteBuffer.wrap(out), 0));
        p.s.advance(5);
        data(p, P, 100, 1 + 3000, 63, 103); // in order, 3,000 acknowledged
        data(p, P + 300, 200, 1 + 3000, 63, 104); // beyond a hole of 200
        p.s.advance(3);
        return new long[] { fd, sa[0].tsval() };
    }

    /** The peer's bytes [off, off + len) of {@code stream}, with FIN when {@code fin}. */
    private static void bytes(TcpPeer p, byte[] stream, int off, int len, boolean fin, int tsval) {
        p.in(PORT, TcpHeader.ACK | (fin ? TcpHeader.FIN : 0), P + off, p.iss + 1, 63, TcpPeer.ts(tsval, 0),
                java.util.Arrays.copyOfRange(stream, off, off + len));
    }

    @Test
    void outOfOrderRangesGoOverWithTheirBytesAndTheFilledHolesDeliverThemInOrder() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        int fd = p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        byte[] stream = new byte[5000];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = (byte) (i * 13 + i / 256);
        }
        bytes(p, stream, 1000, 500, false, 102);
        bytes(p, stream, 1500, 500, false, 103); // touches the first: one range [1000, 2000)
        bytes(p, stream, 3000, 1000, false, 104);
        bytes(p, stream, 4000, 1000, true, 105); // [3000, 5000) and the FIN
        TcpConnectionState was = TcpHandOver.state(conn(p));
        assertEquals(2, was.outOfOrder().size(), "two ranges");
        TcpSegment a = was.outOfOrder().get(0);
        TcpSegment b = was.outOfOrder().get(1);
        assertEquals(P + 1000, a.seq());
        assertArrayEquals(java.util.Arrays.copyOfRange(stream, 1000, 2000), a.payload(), "read from the ring");
        assertEquals(false, a.fin());
        assertEquals(P + 3000, b.seq());
        assertArrayEquals(java.util.Arrays.copyOfRange(stream, 3000, 5000), b.payload());
        assertTrue(b.fin());

        p.s.swapTcp(TcpHandOver.STATE_VERSION);
        TcpSock now = conn(p);
        assertEquals(2, now.ofoCount);
        assertEquals(3000, now.ofoBytes);
        bytes(p, stream, 0, 1000, false, 106);
        assertEquals(TcpSock.TCP_ESTABLISHED, now.state(), "the second hole is still open");
        bytes(p, stream, 2000, 1000, false, 107);
        assertEquals(TcpSock.TCP_CLOSE_WAIT, now.state(), "the FIN came in order with the last range");
        ByteBuffer in = ByteBuffer.allocate(6000);
        assertEquals(5000, p.sys.recv(fd, in, SocketCalls.MSG_DONTWAIT));
        assertArrayEquals(stream, java.util.Arrays.copyOf(in.array(), 5000), "every byte in order, through the same descriptor");
        assertEquals(0, p.sys.recv(fd, in, SocketCalls.MSG_DONTWAIT), "then the end of the stream");
    }

    /** The rest of the script: the hole filled, everything acknowledged as it comes, the app reads it all. */
    private static byte[] after(TcpPeer p, int fd) {
        data(p, P + 100, 200, 1 + 8000, 63, 105);
        p.s.advance(50);
        for (int acked = 8000; acked < 20_000; acked += 4000) {
            data(p, P + 500, 0, 1 + acked, 63, 106);
            p.s.advance(20);
        }
        data(p, P + 500, 0, 1 + 20_000, 63, 107);
        p.s.advance(300);
        ByteBuffer in = ByteBuffer.allocate(1000);
        assertEquals(500, p.sys.recv(fd, in, SocketCalls.MSG_DONTWAIT));
        assertEquals(-Errno.EAGAIN.number(), p.sys.recv(fd, ByteBuffer.allocate(10), SocketCalls.MSG_DONTWAIT));
        return java.util.Arrays.copyOf(in.array(), 500);
    }

    @Test
    void aConnectionMidTransferKeepsEveryFieldAndGoesOnExactlyAsWithoutTheSwap() throws Exception {
        TcpPeer plain = peer();
        long[] a = before(plain);
        plain.drain();
        byte[] readPlain = after(plain, (int) a[0]);
        List<Rel> expected = rel(plain.drain(), plain.iss, a[1]);

        TcpPeer swapped = peer();
        long[] b = before(swapped);
        swapped.drain();
        TcpSock old = conn(swapped);
        TcpConnectionState was = TcpHandOver.state(old);
        assertTrue(sendLen(was) > 0 && was.sequence().sndNxt() != was.sequence().writeSeq(),
                "bytes in flight and unsent: " + was.sequence());
        assertEquals(100, recvLen(was), "unread bytes");
        byte[] sendBefore = was.sendBytes(sendLen(was));
        byte[] recvBefore = was.receiveBytes(recvLen(was));
        assertEquals(1, was.outOfOrder().size(), "an out-of-order segment");
        assertTrue(was.timers().retransmitMs() >= 0 && was.timers().keepaliveMs() >= 0, "timers armed: " + was.timers());

        TcpProtocol gone = swapped.s.swapTcp(TcpHandOver.STATE_VERSION);
        TcpLayerState deposit = gone.exported();
        assertEquals(1, deposit.connections().size());
        assertEquals(1, deposit.listeners().size());
        assertTrue(old.frozen);
        TcpSock now = conn(swapped);
        assertNotNull(now, "the connection is in the new version's established hash");
        assertNotSame(old, now);
        sameState(deposit.connections().get(0), TcpHandOver.state(now));
        sameState(was, deposit.connections().get(0));
        assertArrayEquals(sendBefore, TcpHandOver.state(now).sendBytes(sendLen(was)), "the bytes to send, as they were");
        assertArrayEquals(recvBefore, TcpHandOver.state(now).receiveBytes(recvLen(was)), "the bytes to read, as they were");
        swapped.none(); // the swap itself sends nothing

        byte[] readSwapped = after(swapped, (int) b[0]);
        assertEquals(expected, rel(swapped.drain(), swapped.iss, b[1]), "the same segments as without the swap");
        assertArrayEquals(readPlain, readSwapped, "the same bytes read, through the same descriptor");
        assertEquals(plain.count(TcpMib.Tcp.RetransSegs), swapped.count(TcpMib.Tcp.RetransSegs));
        assertEquals(0, swapped.count(TcpMib.Tcp.OutRsts));
        assertEquals(plain.count(TcpMib.Tcp.OutSegs), swapped.count(TcpMib.Tcp.OutSegs), "the MIB continued");
    }

    /**
     * The clocks stop at the freeze and start when IPv4 has delivered what it held: a registration that
     * comes long after the adoption resends nothing, and the retransmission timer then has what was left.
     */
    @Test
    void anAdoptedConnectionsTimersStartWhenIpv4HasDeliveredWhatItHeldNotAtAdoption() throws Exception {
        TcpPeer p = peer();
        before(p);
        p.drain();
        TcpConnectionState was = TcpHandOver.state(conn(p));
        long left = was.timers().retransmitMs();
        assertTrue(left >= 0 && left + 10 < TcpProtocol.CLOCKS_FALLBACK_MS, "data in flight, the retransmission timer armed: " + was.timers());
        long retrans = p.count(TcpMib.Tcp.RetransSegs);
        long[] pendingBetween = new long[1];
        p.s.swapTcp(TcpHandOver.STATE_VERSION, () -> {
            p.s.advance(TcpProtocol.CLOCKS_FALLBACK_MS - 10); // a registration slower than the timer: on the old clocks an RTO
            TcpSock c = conn(p); // not remade yet (left for its first segment or the pass), or remade with its clocks stopped
            pendingBetween[0] = c != null && c.rtxTimer.pending() ? 1 : 0;
        });
        assertEquals(0, pendingBetween[0], "not armed before IPv4 took the new version");
        p.none(); // nothing resent while it waited
        assertEquals(retrans, p.count(TcpMib.Tcp.RetransSegs));
        TcpSock now = conn(p);
        assertTrue(now.rtxTimer.pending(), "armed once IPv4 delivered the held segments");
        assertEquals(left, now.rtxTimer.remainingMs(), 1, "with what was left at the freeze");
    }

    @Test
    void aConnectionMidTransferGoesOnExactlyAsWithoutAnUpdateOfIpv4UnderIt() throws Exception {
        TcpPeer plain = peer();
        long[] a = before(plain);
        plain.drain();
        byte[] readPlain = after(plain, (int) a[0]);
        List<Rel> expected = rel(plain.drain(), plain.iss, a[1]);

        TcpPeer swapped = peer();
        long[] b = before(swapped);
        swapped.drain();
        TcpSock old = conn(swapped);
        TcpConnectionState was = TcpHandOver.state(old);
        org.modnet.ipv4.Ipv4Protocol oldIp = swapped.s.ipv4;
        TcpLayerState deposit = swapped.s.swapIpv4().exported();
        assertNotNull(deposit, "TCP handed over because the IPv4 it is bound to did");
        assertEquals(1, deposit.connections().size());
        assertEquals(1, deposit.listeners().size());
        assertTrue(old.frozen);
        TcpSock now = conn(swapped);
        assertNotNull(now, "the connection is in the new TCP's established hash");
        assertNotSame(old, now);
        assertNotSame(oldIp, swapped.s.ipv4);
        assertSame(swapped.s.ipv4, now.net.ipv4, "the new TCP sends through the new IPv4");
        sameState(was, TcpHandOver.state(now));
        swapped.none(); // the swap itself sends nothing

        byte[] readSwapped = after(swapped, (int) b[0]);
        assertEquals(expected, rel(swapped.drain(), swapped.iss, b[1]), "the same segments as without the update");
        assertArrayEquals(readPlain, readSwapped, "the same bytes read, through the same descriptor");
        assertEquals(0, swapped.count(TcpMib.Tcp.OutRsts));
        assertEquals(0, swapped.count(TcpMib.Tcp.EstabResets));
        assertEquals(plain.count(TcpMib.Tcp.OutSegs), swapped.count(TcpMib.Tcp.OutSegs), "the MIB continued");
    }

    @Test
    void aSegmentArrivingWhileIpv4AndTcpAreUpdatedWaitsForTheNextTcpInsteadOfAReset() throws Exception {
        TcpPeer p = peer();
        long[] b = before(p); // 100 bytes unread, 200 beyond a hole of 200
        p.drain();
        p.s.swapIpv4(() -> data(p, P + 100, 200, 1 + 3000, 63, 105)); // the hole, while no TCP is registered
        assertEquals(0L, p.s.ipv4.counters(p.s.ns).get("IpInUnknownProtos"), "held, not protocol unreachable");
        assertEquals(0L, p.s.ipv4.counters(p.s.ns).get("IpInDiscards"), "the hold queue refused nothing");
        assertEquals(0, p.count(TcpMib.Tcp.OutRsts));
        ByteBuffer in = ByteBuffer.allocate(1000);
        assertEquals(500, p.sys.recv((int) b[0], in, SocketCalls.MSG_DONTWAIT), "the held segment filled the hole");
        TcpPeer.Seg ack = p.drain().getLast();
        assertEquals(P + 500, ack.ack(), "the new TCP acknowledges everything");
    }

    @Test
    void aSegmentReachingTheOldTcpAfterItHandedOverIsDroppedNotAnsweredWithAReset() throws Exception {
        TcpPeer p = peer();
        long[] b = before(p);
        p.drain();
        TcpProtocol gone = p.s.swapIpv4(false, () -> {
            data(p, P + 100, 200, 1 + 3000, 63, 105); // the old IPv4 still delivers to the old TCP
        }, () -> { });
        assertEquals(1, gone.droppedLeaving(), "dropped by the old version");
        assertEquals(1L, gone.counters(p.s.ns).get("TcpExtTCPHandOverLeavingDrop"), "counted under the name nstat shows");
        assertEquals(0, p.count(TcpMib.Tcp.OutRsts), "no reset for a connection that was handed over");
        assertTrue(p.drain().stream().noneMatch(g -> (g.flags() & TcpHeader.RST) != 0));
        data(p, P + 100, 200, 1 + 3000, 63, 106); // the peer sends it again, to the new version
        assertEquals(500, p.sys.recv((int) b[0], ByteBuffer.allocate(1000), SocketCalls.MSG_DONTWAIT));
    }

    private static int sendLen(TcpConnectionState c) {
        return c.sequence().writeSeq() - c.sequence().sndUna();
    }

    private static int recvLen(TcpConnectionState c) {
        return c.sequence().rcvNxt() - c.sequence().copiedSeq() - (c.sequence().finReceived() ? 1 : 0);
    }

    /** Every component of two connection states, arrays by content; the socket's id is its inode and changes. */
    private static void sameState(TcpConnectionState x, TcpConnectionState y) {
        SocketState s = x.socket();
        SocketState t = y.socket();
        assertEquals(new SocketState(0, s.namespace(), s.family(), s.type(), s.protocol(), s.state(), s.localAddress(), s.localPort(),
                s.boundAddress(), s.remoteAddress(), s.remotePort(), s.shutdown(), s.error(), s.options(), s.receiveQueue(), s.drops(),
                s.extra()), new SocketState(0, t.namespace(), t.family(), t.type(), t.protocol(), t.state(), t.localAddress(),
                        t.localPort(), t.boundAddress(), t.remoteAddress(), t.remotePort(), t.shutdown(), t.error(), t.options(),
                        t.receiveQueue(), t.drops(), t.extra()));
        assertEquals(x.sequence(), y.sequence());
        assertEquals(x.options(), y.options());
        assertEquals(x.rtt(), y.rtt());
        assertEquals(x.congestion(), y.congestion());
        assertArrayEquals(x.sendBytes(sendLen(x)), y.sendBytes(sendLen(y)), "unacknowledged and unsent bytes");
        assertArrayEquals(x.receiveBytes(recvLen(x)), y.receiveBytes(recvLen(y)), "unread bytes");
        assertEquals(x.outOfOrder().size(), y.outOfOrder().size());
        for (int i = 0; i < x.outOfOrder().size(); i++) {
            TcpSegment g = x.outOfOrder().get(i);
            TcpSegment h = y.outOfOrder().get(i);
            assertEquals(g.seq(), h.seq());
            assertEquals(g.fin(), h.fin());
            assertArrayEquals(g.payload(), h.payload());
        }
        assertArrayEquals(x.pushMarks(), y.pushMarks());
        assertEquals(x.timers(), y.timers(), "timers armed with the time that was left");
        assertEquals(x.tcpOptions(), y.tcpOptions());
        assertEquals(x.counters(), y.counters());
        assertEquals(x.path(), y.path(), "ECN, path MTU, soft error");
        sameSender(x.sender(), y.sender());
    }

    private static void sameSender(TcpSenderState x, TcpSenderState y) {
        assertEquals(x.frto(), y.frto(), "F-RTO");
        assertEquals(x.pacingRate(), y.pacingRate(), "sk_pacing_rate");
        assertEquals(x.pacingNeeded(), y.pacingNeeded());
        assertEquals(x.wstampNs(), y.wstampNs(), "tcp_wstamp_ns");
        assertEquals(x.chronoType(), y.chronoType());
        assertEquals(x.chronoStartUs(), y.chronoStartUs());
        assertArrayEquals(x.chronoStatUs(), y.chronoStatUs(), "busy, rwnd- and sndbuf-limited times");
        TcpRateState r = x.rate();
        TcpRateState t = y.rate();
        assertEquals(List.of(r.deliveredMstampUs(), r.firstTxMstampUs(), r.appLimited(), r.rateDelivered(), r.rateIntervalUs(),
                r.rateAppLimited()), List.of(t.deliveredMstampUs(), t.firstTxMstampUs(), t.appLimited(), t.rateDelivered(),
                        t.rateIntervalUs(), t.rateAppLimited()), "the rate sampler");
        assertArrayEquals(r.segmentDelivered(), t.segmentDelivered(), "tx.delivered of each segment in flight");
        assertArrayEquals(r.segmentDeliveredUs(), t.segmentDeliveredUs());
        assertArrayEquals(r.segmentFirstTxUs(), t.segmentFirstTxUs());
        assertArrayEquals(r.segmentAppLimited(), t.segmentAppLimited());
    }

    /** A connection mid-transfer in {@code p}, swapped after {@code set} changed its old version; returns {old, new}. */
    private static TcpSock[] swapAfter(TcpPeer p, java.util.function.Consumer<TcpSock> set) {
        before(p);
        p.drain();
        TcpSock old = conn(p);
        set.accept(old);
        p.s.swapTcp(TcpHandOver.STATE_VERSION);
        TcpSock now = conn(p);
        assertNotNull(now);
        assertNotSame(old, now);
        return new TcpSock[] { old, now };
    }

    @Test
    void theEcnStateCrossesTheSwapAndTheNextAckStillEchoesTheCongestionMark() throws Exception {
        TcpPeer p = peer();
        TcpSock[] s = swapAfter(p, old -> {
            // as tcp_ecn_check_ce leaves it after a CE-marked segment: ECE owed until the peer's CWR
            old.ecnFlags = TcpEcn.TCP_ECN_OK | TcpEcn.TCP_ECN_DEMAND_CWR | TcpEcn.TCP_ECN_SEEN;
            old.deliveredCe = 7;
        });
        assertEquals(s[0].ecnFlags, s[1].ecnFlags, "tp->ecn_flags");
        assertEquals(7, s[1].deliveredCe, "tp->delivered_ce");
        data(p, P + 100, 200, 1 + 8000, 63, 105); // fills the hole: answered at once
        List<TcpPeer.Seg> out = p.drain();
        assertTrue(!out.isEmpty() && out.stream().allMatch(g -> (g.flags() & TcpHeader.ECE) != 0),
                "every segment the new version sends echoes the mark: " + out);
    }

    @Test
    void thePathMtuAndTheSoftErrorCrossTheSwap() throws Exception {
        TcpPeer p = peer();
        TcpSock[] s = swapAfter(p, old -> {
            old.pmtuCookie = 1400; // tcp_sync_mss after a frag-needed for 1400
            old.mtuInfo = 1400;
            old.errSoft = Errno.EHOSTUNREACH; // an ICMP host unreachable the connection survived
        });
        assertEquals(1400, s[1].pmtuCookie, "icsk_pmtu_cookie");
        assertEquals(1400, s[1].mtuInfo, "tp->mtu_info");
        assertSame(Errno.EHOSTUNREACH, s[1].errSoft, "sk_err_soft, reported if the connection times out");
    }

    @Test
    void ipRecverrCrossesTheSwapAndTheNextVersionQueuesErrors() throws Exception {
        TcpPeer p = peer();
        TcpSock[] s = swapAfter(p, old -> {
            try {
                old.setOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, new int[] { 1 });
            } catch (org.modnet.socket.api.SockException e) {
                throw new AssertionError(e);
            }
        });
        assertTrue(s[1].recvErr(), "inet->recverr");
        int[] v = new int[1];
        s[1].getOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, v);
        assertEquals(1, v[0], "getsockopt(IP_RECVERR) on the adopted socket");
        // the error queue was made with the option: an error the new version meets is queued, not lost
        assertTrue(s[1].queueLocalError(Errno.EMSGSIZE, 1400, PEER, PEER_PORT), "a local error queued on the adopted socket");
    }

    /**
     * An IP_RECVERR connection's pending error (an ICMP error {@code tcp_v4_err} told it at once) and its error queue cross
     * the swap: the next call on its descriptor returns the error and {@code MSG_ERRQUEUE} reads the entry, as without the
     * update (the deposit said no error and an empty queue: both were lost).
     */
    @Test
    void aPendingErrorAndTheErrorQueueCrossTheSwap() throws Exception {
        TcpPeer p = peer();
        int fd = (int) before(p)[0];
        p.drain();
        assertEquals(0, p.sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1));
        TcpSock old = conn(p);
        assertTrue(old.queueLocalError(Errno.EMSGSIZE, 1400, PEER, PEER_PORT), "an error queued before the update");
        old.reportError(Errno.EHOSTUNREACH);
        p.s.swapTcp(TcpHandOver.STATE_VERSION);
        assertNotSame(old, conn(p));
        int[] err = new int[1];
        assertEquals(1, p.sys.getsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_ERROR, err));
        assertEquals(Errno.EHOSTUNREACH.number(), err[0], "SO_ERROR: sk_err, told before the update");
        org.modnet.socket.api.MsgHdr m = new org.modnet.socket.api.MsgHdr(null, ByteBuffer.allocate(16));
        assertEquals(0, p.sys.recvmsg(fd, m, SocketCalls.MSG_ERRQUEUE), "a local error quotes no payload");
        assertEquals(SocketCalls.MSG_ERRQUEUE, m.flags);
        assertEquals(new SockAddr(PEER, PEER_PORT), m.name);
        assertEquals(new org.modnet.socket.api.SockExtendedErr(Errno.EMSGSIZE.number(),
                org.modnet.socket.api.SockExtendedErr.SO_EE_ORIGIN_LOCAL, 0, 0, 1400, 0, 0), m.extendedErr);
        assertEquals(-Errno.EAGAIN.number(), p.sys.recvmsg(fd, new org.modnet.socket.api.MsgHdr(null, ByteBuffer.allocate(16)),
                SocketCalls.MSG_ERRQUEUE), "one entry, read once");
    }

    /**
     * A listener's own TCP options cross the swap, and a child it makes after the update inherits them as one made before
     * ({@code sk_clone_lock}): TCP_NODELAY, the keepalive times, TCP_USER_TIMEOUT, TCP_MAXSEG (the SYN-ACK's MSS) and
     * TCP_CONGESTION; TCP_WINDOW_CLAMP never set stays 0, so the child's window scale is its buffers' (the new listener had
     * none of the TCP options, and its buffer's window as its clamp, which the children took and scaled their windows by).
     */
    @Test
    void aListenersOptionsCrossTheSwapAndItsChildrenAfterItInheritThemAsBefore() throws Exception {
        TcpPeer p = peer();
        java.util.Map<String, Object> fixed = java.util.Map.of(org.modnet.api.tcp.TcpCongestionOps.NAME, "fixed");
        p.s.tcp.addCongestion(new TcpBbrTest.FixedRate(), fixed);
        p.s.ns.sysctl().set("net.ipv4.tcp_allowed_congestion_control", "reno fixed");
        int l = p.listen(PORT);
        int[][] opts = { { SocketCalls.TCP_NODELAY, 1 }, { SocketCalls.TCP_KEEPIDLE, 30 }, { SocketCalls.TCP_KEEPINTVL, 7 },
            { SocketCalls.TCP_KEEPCNT, 4 }, { SocketCalls.TCP_USER_TIMEOUT, 5000 }, { SocketCalls.TCP_MAXSEG, 1000 } };
        for (int[] o : opts) {
            assertEquals(0, p.sys.setsockopt(l, SocketCalls.SOL_TCP, o[0], o[1]));
        }
        assertEquals(0, p.sys.setsockopt(l, SocketCalls.SOL_TCP, org.modnet.api.tcp.TcpCongestion.TCP_CONGESTION,
                org.modnet.api.tcp.TcpCongestion.nameWords("fixed")));
        inFrom(p, PEER_PORT, TcpHeader.SYN, PEER_ISS, 0, SYN);
        TcpPeer.Seg first = p.out(); // a child made before the update
        p.s.swapTcp(TcpHandOver.STATE_VERSION, () -> p.s.tcp.addCongestion(new TcpBbrTest.FixedRate(), fixed));
        for (int[] o : opts) {
            int[] v = new int[1];
            assertEquals(1, p.sys.getsockopt(l, SocketCalls.SOL_TCP, o[0], v));
            assertEquals(o[1], v[0], "the listener's option " + o[0]);
        }
        int[] clamp = new int[1];
        assertEquals(1, p.sys.getsockopt(l, SocketCalls.SOL_TCP, SocketCalls.TCP_WINDOW_CLAMP, clamp));
        assertEquals(0, clamp[0], "TCP_WINDOW_CLAMP never set");
        int[] w = new int[4];
        int n = p.sys.getsockopt(l, SocketCalls.SOL_TCP, org.modnet.api.tcp.TcpCongestion.TCP_CONGESTION, w);
        assertEquals("fixed", org.modnet.api.tcp.TcpCongestion.name(w, n), "the listener's TCP_CONGESTION");
        inFrom(p, PEER_PORT + 1, TcpHeader.SYN, 5000, 0, SYN);
        TcpPeer.Seg second = p.out(); // a child made after it
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, second.flags());
        assertEquals(List.of(1000, first.ws(), first.win()), List.of(second.mss(), second.ws(), second.win()),
                "the SYN-ACK's MSS (TCP_MAXSEG), window scale and window, as before the update");
        TcpSock child = p.s.tcp.net(p.s.ns).lookupEstablished(PEER, PEER_PORT + 1, LOCAL, PORT);
        assertNotNull(child);
        assertEquals(List.of(TcpSock.NAGLE_OFF, 30, 7, 4, 5000, "fixed"), List.of(child.nonagle & TcpSock.NAGLE_OFF,
                child.keepaliveTime, child.keepaliveIntvl, child.keepaliveProbes, child.userTimeoutMs, child.congestionControl()),
                "what the child inherited");
    }

    /**
     * A connection whose algorithm left (its bundle stopped: the connection runs on the default until one of that name comes
     * back) keeps waiting for it across the swap and returns to it when it comes (it stayed on the default for good: the
     * deposit named the default).
     */
    @Test
    void aConnectionWaitingForItsAlgorithmToComeBackStillReturnsToItAfterTheSwap() throws Exception {
        TcpPeer p = peer();
        TcpSock[] s = swapAfter(p, old -> old.caLeft = "fixed"); // as congFallback leaves it: on reno, waiting for "fixed"
        assertEquals("reno", s[1].congestionControl());
        assertEquals("fixed", s[1].caLeft, "still waiting for its algorithm");
        p.s.tcp.addCongestion(new TcpBbrTest.FixedRate(), java.util.Map.of(org.modnet.api.tcp.TcpCongestionOps.NAME, "fixed"));
        assertEquals("fixed", s[1].congestionControl(), "back on it once it came");
    }

    @Test
    void theFrtoFlagCrossesTheSwap() throws Exception {
        TcpPeer p = peer();
        TcpSock[] s = swapAfter(p, old -> old.rec.frto = true); // a timeout F-RTO is still checking (RFC 5682)
        assertTrue(s[1].rec.frto, "tp->frto");
        TcpSock[] t = swapAfter(peer(), old -> old.rec.frto = false);
        assertTrue(!t[1].rec.frto);
    }

    @Test
    void theRateSamplerAndEachSegmentsDeliveryStampCrossTheSwap() throws Exception {
        TcpPeer p = peer();
        TcpRateState[] was = new TcpRateState[1];
        TcpSock[] s = swapAfter(p, old -> {
            old.rec.rate.rateDelivered = 11;
            old.rec.rate.rateIntervalUs = 22_000;
            old.rec.rate.rateAppLimited = true;
            was[0] = old.rec.rateHandOver();
        });
        TcpRateState now = s[1].rec.rateHandOver();
        assertTrue(was[0].segmentDelivered().length > 0, "segments in flight, each with its delivery stamp");
        assertArrayEquals(was[0].segmentDelivered(), now.segmentDelivered());
        assertArrayEquals(was[0].segmentDeliveredUs(), now.segmentDeliveredUs());
        assertArrayEquals(was[0].segmentFirstTxUs(), now.segmentFirstTxUs());
        assertArrayEquals(was[0].segmentAppLimited(), now.segmentAppLimited());
        assertEquals(was[0].deliveredMstampUs(), now.deliveredMstampUs());
        assertEquals(was[0].firstTxMstampUs(), now.firstTxMstampUs());
        assertEquals(was[0].appLimited(), now.appLimited());
        assertEquals(11, now.rateDelivered(), "TCP_INFO's last sample");
        assertEquals(22_000, now.rateIntervalUs());
        assertTrue(now.rateAppLimited());
    }

    @Test
    void pacingAndTheChronographCrossTheSwapAndThePacingTimerWaitsForTheDepartureTime() throws Exception {
        TcpPeer p = peer();
        long[] departure = new long[1];
        TcpSock[] s = swapAfter(p, old -> {
            old.pacingRate = 1_250_000; // 10 Mbit/s, as an algorithm that paces sets it
            old.pacingNeeded = true;
            departure[0] = old.net.core.nanoTime() + 40_000_000L; // the next segment leaves in 40 ms
            old.wstampNs = departure[0];
            old.chronoType = TcpSock.CHRONO_RWND_LIMITED;
            old.chronoStartUs = 123;
            old.chronoStat[TcpSock.CHRONO_BUSY] = 4_000;
            old.chronoStat[TcpSock.CHRONO_RWND_LIMITED] = 5_000;
            old.chronoStat[TcpSock.CHRONO_SNDBUF_LIMITED] = 6_000;
        });
        TcpSock now = s[1];
        assertEquals(1_250_000, now.pacingRate, "sk_pacing_rate, not the algorithm's fresh one");
        assertTrue(now.pacingNeeded);
        assertEquals(departure[0], now.wstampNs, "tcp_wstamp_ns on the core's clock");
        assertEquals(TcpSock.CHRONO_RWND_LIMITED, now.chronoType);
        assertEquals(123, now.chronoStartUs);
        assertArrayEquals(new long[] { 0, 4_000, 5_000, 6_000 }, now.chronoStat, "busy_time, rwnd_limited, sndbuf_limited go on");
        assertTrue(now.writeSeq != now.sndNxt, "unsent bytes wait");
        assertTrue(now.pacingTimer.pending(), "the pacing timer is armed for their departure time");
        assertEquals(40, now.pacingTimer.remainingMs(), 1);
    }

    /**
     * The estimator's deviation ({@code mdev_us}, {@code mdev_max_us}, {@code rtt_seq}) and the delayed-ACK
     * state ({@code ato}, {@code ICSK_ACK_PUSHED}, {@code last_seg_size}) cross the swap (1.9): before, the
     * new version started them at 0, so rttvar held until {@code snd_una} passed sequence 0, the next
     * delayed ACK waited TCP_ATO_MIN whatever ato had learnt, and a pushed segment's read was not ACKed at once.
     */
    @Test
    void theDeviationAndTheDelayedAckStateCrossTheSwap() throws Exception {
        TcpPeer p = peer();
        TcpSock[] s = swapAfter(p, old -> {
            old.mdevUs = 12_345;
            old.mdevMaxUs = 234_567;
            old.rttvarSeq = old.sndUna + 1_000;
            old.atoMs = 77;
            old.ackPushed = TcpSock.ACK_PUSHED | TcpSock.ACK_PUSHED2;
            old.lastSegSize = 321;
            old.pingpong = 3;
        });
        TcpSock now = s[1];
        assertEquals(List.of(12_345L, 234_567L, s[0].sndUna + 1_000, 77L, TcpSock.ACK_PUSHED | TcpSock.ACK_PUSHED2, 321, 3),
                List.of(now.mdevUs, now.mdevMaxUs, now.rttvarSeq, now.atoMs, now.ackPushed, now.lastSegSize, now.pingpong),
                "mdev_us, mdev_max_us, rtt_seq, ato, the PUSHED bits, last_seg_size, pingpong");
        assertTrue(now.inPingpong(), "an interactive connection stays interactive across the update");
        assertEquals(TcpHandOver.state(s[0]).rtt(), TcpHandOver.state(now).rtt());
    }

    /** A deposit from before 1.9 is read: the deviation starts at the rttvar it carried, the ACK state as before data. */
    @Test
    void anEstimatorWithoutTheDeviationReadsAsBefore19() throws Exception {
        TcpPeer p = peer();
        before(p);
        p.drain();
        TcpSock sk = conn(p);
        sk.atoMs = 77;
        sk.ackPushed = TcpSock.ACK_PUSHED;
        sk.pingpong = 2;
        TcpEstimator old = new TcpEstimator(10_000, 210_000, 211, 9_000, 0, 0, false, 0, 0, 0, 0, 0, 0);
        assertTrue(!old.carriesVariance());
        TcpHandOver.adoptVariance(sk, old);
        assertEquals(List.of(210_000L, 210_000L, sk.sndMax, 0L, 0, 0, 0),
                List.of(sk.mdevUs, sk.mdevMaxUs, sk.rttvarSeq, sk.atoMs, sk.ackPushed, sk.lastSegSize, sk.pingpong));
    }

    @Test
    void aDepositWithoutThePathAndSenderPartsReadsAsBefore15() {
        TcpConnectionState old = new TcpConnectionState(null, null, null, null, null, new byte[0], 0, new byte[0], 0, List.of(),
                new int[0], null, null, java.util.Map.of(), null);
        assertEquals(null, old.path(), "a 1.4 version's deposit: the new version starts the path part afresh");
        assertEquals(null, old.sender());
    }

    @Test
    void aListenerKeepsItsAcceptQueueAndItsHalfOpenChild() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        p.in(PORT, TcpHeader.SYN, PEER_ISS, 0, 65535, SYN, 0);
        int firstIss = p.out().seq();
        p.in(PORT, TcpHeader.ACK, PEER_ISS + 1, firstIss + 1, 63, TcpPeer.ts(101, 0), 0);
        p.in(PORT, TcpHeader.ACK, PEER_ISS + 1, firstIss + 1, 63, TcpPeer.ts(102, 0), 10); // data queued on the child
        p.drain();
        // a second peer port: its handshake is half done when the bundle is updated
        int second = PEER_PORT + 1;
        inFrom(p, second, TcpHeader.SYN, 5000, 0, SYN);
        int secondIss = p.out().seq();
        TcpLayerState deposit = p.s.swapTcp(TcpHandOver.STATE_VERSION).exported();
        assertEquals(1, deposit.listeners().size());
        assertEquals(1, deposit.listeners().get(0).acceptQueue().size(), "the established child not yet accepted");
        assertEquals(1, deposit.listeners().get(0).synQueue().size(), "the child in SYN-RECV");
        assertEquals(0, deposit.listeners().get(0).synQueueDropped());
        inFrom(p, second, TcpHeader.ACK, 5001, secondIss + 1, TcpPeer.ts(103, 0));
        int c1 = p.sys.accept(l, null, SOCK_NONBLOCK);
        int c2 = p.sys.accept(l, null, SOCK_NONBLOCK);
        assertTrue(c1 >= 0 && c2 >= 0, "both children accepted through the listener's old descriptor: " + c1 + " " + c2);
        ByteBuffer got = ByteBuffer.allocate(100);
        assertEquals(10, p.sys.recv(c1, got, SocketCalls.MSG_DONTWAIT), "the bytes queued on the child before the swap");
        SockAddr[] peerOf = new SockAddr[1];
        assertEquals(0, p.sys.getpeername(c2, peerOf));
        assertEquals(second, peerOf[0].port());
        for (TcpPeer.Seg s : p.drain()) {
            assertTrue((s.flags() & TcpHeader.RST) == 0, "no reset: " + s);
        }
        assertEquals(0, p.count(TcpMib.Tcp.OutRsts));
    }

    /**
     * A connect still in SYN-SENT when the bundle is updated: its SYN's sequence number is no byte of
     * the send ring (which is not made yet), so the next version adopts it and completes the handshake
     * with the peer's SYN-ACK (it threw dividing by the empty ring's length, and TCP did not come up).
     */
    @Test
    void aConnectInSynSentIsAdoptedAndCompletesWithTheNextVersion() throws Exception {
        TcpPeer p = peer();
        int c = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), p.sys.connect(c, new SockAddr(PEER, PEER_PORT)));
        TcpPeer.Seg syn = p.out();
        assertEquals(TcpHeader.SYN, syn.flags() & (TcpHeader.SYN | TcpHeader.ACK));
        TcpLayerState deposit = p.s.swapTcp(TcpHandOver.STATE_VERSION).exported();
        assertEquals(1, deposit.connections().size(), "the connecting socket went over");
        SockAddr[] me = new SockAddr[1];
        assertEquals(0, p.sys.getsockname(c, me));
        p.in(PEER_PORT, me[0].port(), TcpHeader.SYN | TcpHeader.ACK, PEER_ISS, syn.seq() + 1, 65535, Segments.mss(1460), 0);
        TcpPeer.Seg ack = p.out();
        assertEquals(TcpHeader.ACK, ack.flags() & (TcpHeader.SYN | TcpHeader.ACK | TcpHeader.RST), "the handshake's last ACK");
        assertEquals(PEER_ISS + 1, ack.ack());
        assertEquals(3, p.sys.send(c, ByteBuffer.wrap(new byte[] { 1, 2, 3 }), SocketCalls.MSG_DONTWAIT), "and it carries data");
    }

    /**
     * The adoption remakes the listener at once and leaves the connections for later: one whose segment
     * IPv4 held through the swap is remade when that segment reaches the new version, the other by the
     * pass once IPv4 has delivered what it held; both go on through their descriptors, no reset.
     */
    @Test
    void aConnectionIsRemadeOnItsFirstSegmentAndTheOthersByThePassAfterTheHeldSegments() throws Exception {
        remadeOnItsFirstSegmentAndByThePass(TcpProtocol.IN_PLACE_TABLE);
    }

    /**
     * The same with a next version that reads only the list of connections handed over in place ({@code
     * Modnet-Tcp-Deferred: 1}, handover 1.7): the old version builds a record of each in the swap, the new one hashes
     * each into a table of its own; the connections go on alike.
     */
    @Test
    void aNextVersionThatReadsOnlyTheListGetsARecordOfEachConnectionAndRemakesThemAlike() throws Exception {
        remadeOnItsFirstSegmentAndByThePass(TcpProtocol.IN_PLACE_LIST);
    }

    /**
     * What {@code Modnet-Tcp-Deferred} says: 1 the list, 2 the table too, 3 the table released when the new version's pass
     * is over (the old version's stop waits for that); a newer number reads as the newest this version writes.
     */
    @Test
    void theNextVersionsHeaderSaysWhichFormItReads() {
        assertEquals(TcpProtocol.IN_PLACE_LIST, TcpProtocol.inPlaceForm("1"));
        assertEquals(TcpProtocol.IN_PLACE_TABLE, TcpProtocol.inPlaceForm("2"));
        assertEquals(TcpProtocol.IN_PLACE_RELEASED, TcpProtocol.inPlaceForm("3"));
        assertEquals(TcpProtocol.IN_PLACE_RELEASED, TcpProtocol.inPlaceForm(" 7 "));
        assertEquals(TcpProtocol.IN_PLACE_LIST, TcpProtocol.inPlaceForm("yes"));
    }

    /**
     * {@code form} {@link TcpProtocol#IN_PLACE_TABLE}: the connections stay in the old version's tables and the adoption
     * makes no entry for them (the new version asks the old one by 4-tuple); {@link TcpProtocol#IN_PLACE_LIST}: one entry
     * each, made in the adoption.
     */
    private void remadeOnItsFirstSegmentAndByThePass(int form) throws Exception {
        TcpPeer p = peer();
        p.s.tcp.successorReads(form);
        int l = p.listen(PORT);
        int first = p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        int firstIss = p.iss;
        int second = PEER_PORT + 1;
        inFrom(p, second, TcpHeader.SYN, 5000, 0, SYN);
        int secondIss = p.out().seq();
        inFrom(p, second, TcpHeader.ACK, 5001, secondIss + 1, TcpPeer.ts(102, 0));
        int other = p.sys.accept(l, null, SOCK_NONBLOCK);
        assertTrue(other >= 0);
        p.drain();
        p.iss = firstIss; // the second SYN-ACK moved it
        boolean[] between = new boolean[3];
        int[] entries = new int[1];
        p.s.swapTcp(TcpHandOver.STATE_VERSION, () -> {
            TcpNet net = p.s.tcp.net(p.s.ns);
            between[0] = net.lookupListener(LOCAL, PORT) != null;
            between[1] = conn(p) == null && net.lookupEstablished(PEER, second, LOCAL, PORT) == null;
            between[2] = net.lazy != null && net.lazy.holdsPort(PORT) && net.lazy.find(PEER, second, LOCAL, PORT) != null;
            entries[0] = net.lazy == null ? -1 : net.lazy.size();
            data(p, P, 10, 1, 63, 103); // to the first connection, held by IPv4 while no TCP is registered
        });
        assertTrue(between[0], "the listener is remade inside the adoption");
        assertTrue(between[1], "the connections are left for later");
        assertTrue(between[2], "found by their 4-tuple and port before they are remade");
        assertEquals(form == TcpProtocol.IN_PLACE_TABLE ? 0 : 2, entries[0], "entries the adoption made for them");
        assertArrayEquals(new int[] { 1, 1 }, p.s.tcp.remade(), "one on its held segment, one by the pass");
        assertNotNull(conn(p));
        assertNotNull(p.s.tcp.net(p.s.ns).lookupEstablished(PEER, second, LOCAL, PORT));
        assertEquals(10, p.sys.recv(first, ByteBuffer.allocate(100), SocketCalls.MSG_DONTWAIT), "the held bytes, read through the old descriptor");
        assertEquals(3, p.sys.send(other, ByteBuffer.wrap(new byte[] { 1, 2, 3 }), SocketCalls.MSG_DONTWAIT));
        List<TcpPeer.Seg> out = p.drain();
        assertTrue(out.stream().anyMatch(g -> g.len() == 3), "the second connection sends: " + out);
        assertTrue(out.stream().noneMatch(g -> (g.flags() & TcpHeader.RST) != 0));
        assertEquals(0, p.count(TcpMib.Tcp.OutRsts));
    }

    /**
     * With {@code -Dmodnet.tcp.wakeremade=true}, a connection remade by its held segment, after the new version registered:
     * its descriptor's parked socket is closed once IPv4 has delivered what it held ({@code attached}), which wakes its poll
     * and epoll waiters (they look again and find the new socket), and the pass wakes what it remakes in batches. Off (the
     * default), they sleep until the pass's end (130-500 ms after the registration under 1,000 connections).
     */
    @Test
    void aConnectionRemadeByItsHeldSegmentWakesItsDescriptorsWaitersBeforeThePass() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        TcpSock before = conn(p);
        List<Runnable> pass = new ArrayList<>();
        p.s.pass = pass::add;
        p.s.swapTcp(TcpHandOver.STATE_VERSION, () -> {
            p.s.tcp.wakeRemade(true); // the default (-Dmodnet.tcp.wakeremade=false turns it off)
            data(p, P, 10, 1, 63, 103); // held by IPv4 while no TCP is registered
        });
        assertEquals(1, pass.size(), "the pass waits");
        assertArrayEquals(new int[] { 1, 0 }, p.s.tcp.remade(), "remade on its held segment");
        assertTrue(before.isClosed(), "the parked socket closed (its waiters woken) before the pass: before, at its end");
        pass.forEach(Runnable::run);
    }

    /**
     * Issue 15 (task gap15): IPv4 held nothing for the connections (the streams were quiet as the old version left), so no
     * segment remakes one after the registration, and their applications, whose descriptors are parked, could do nothing
     * until the pass reached them. {@code attached} remakes the first few itself, on the registration's thread, and wakes
     * their descriptors' waiters; with a held segment in the namespace it leaves the rest to the pass as before.
     */
    @Test
    void withNothingHeldTheRegistrationRemakesTheFirstConnectionsAndWakesThemBeforeThePass() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        int fd = p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        TcpSock before = conn(p);
        List<Runnable> pass = new ArrayList<>();
        p.s.pass = pass::add;
        p.s.swapTcp(TcpHandOver.STATE_VERSION, () -> {
            p.s.tcp.wakeRemade(true);
            p.s.tcp.earlyRemake(2); // the component's default (-Dmodnet.tcp.earlyremake=0 turns it off)
        });
        assertEquals(1, pass.size(), "the pass waits");
        assertNotNull(conn(p), "remade at the registration, before the pass");
        assertTrue(before.isClosed(), "its parked socket closed (its waiters woken) before the pass");
        assertEquals(3, p.sys.send(fd, ByteBuffer.wrap(new byte[] { 1, 2, 3 }), SocketCalls.MSG_DONTWAIT), "its application goes on");
        assertTrue(p.drain().stream().anyMatch(g -> g.len() == 3), "and it sends");
        pass.forEach(Runnable::run);
        assertArrayEquals(new int[] { 0, 0 }, p.s.tcp.remade(), "nothing left for the pass");
    }

    /** The same with a segment held for the namespace: that segment remade its connection, the rest waits for the pass. */
    @Test
    void withASegmentHeldTheRegistrationLeavesTheOtherConnectionsToThePass() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        int firstIss = p.iss;
        int second = PEER_PORT + 1;
        inFrom(p, second, TcpHeader.SYN, 5000, 0, SYN);
        int secondIss = p.out().seq();
        inFrom(p, second, TcpHeader.ACK, 5001, secondIss + 1, TcpPeer.ts(102, 0));
        assertTrue(p.sys.accept(l, null, SOCK_NONBLOCK) >= 0);
        p.drain();
        p.iss = firstIss; // the second SYN-ACK moved it
        List<Runnable> pass = new ArrayList<>();
        p.s.pass = pass::add;
        p.s.swapTcp(TcpHandOver.STATE_VERSION, () -> {
            p.s.tcp.earlyRemake(16);
            data(p, P, 10, 1, 63, 103); // to the first connection, held by IPv4 while no TCP is registered
        });
        assertArrayEquals(new int[] { 1, 0 }, p.s.tcp.remade(), "remade on its held segment");
        assertEquals(null, p.s.tcp.net(p.s.ns).lookupEstablished(PEER, second, LOCAL, PORT), "the other waits for the pass");
        pass.forEach(Runnable::run);
        assertArrayEquals(new int[] { 1, 1 }, p.s.tcp.remade(), "remade by the pass");
    }

    /**
     * Issue 15, the lazy adoption's caveats: a connection the new version has not remade yet is a live
     * connection all the same. {@code ss} lists it and {@code lsmod}'s "Used by" counts it (once, before
     * and after the pass): the walk remakes what still waits.
     */
    @Test
    void ssAndLsmodSeeAConnectionNotRemadeYetAndCountItOnce() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        List<Runnable> pass = new ArrayList<>();
        p.s.pass = pass::add;
        p.s.swapTcp(TcpHandOver.STATE_VERSION);
        assertEquals(1, pass.size(), "the pass waits");
        assertEquals(null, conn(p), "the connection is not remade yet");
        assertTrue(p.s.tcp.sockets(p.s.ns).stream().anyMatch(k -> k instanceof TcpSock t && t.rport() == PEER_PORT
                && t.state() == TcpSock.TCP_ESTABLISHED), "ss lists it");
        assertEquals(2, p.s.tcp.sockets(), "lsmod's Used by: the listener and the connection");
        assertEquals(1, p.s.tcp.remadeOnCall());
        pass.forEach(Runnable::run);
        assertEquals(2, p.s.tcp.sockets(), "counted once after the pass");
        assertArrayEquals(new int[] { 0, 0 }, p.s.tcp.remade(), "nothing left for the pass");
    }

    /**
     * A connection not remade yet holds its local port as a live one does: a {@code bind} to it is
     * refused with EADDRINUSE, and a port search (bind to port 0, connect from none) does not pick it.
     */
    @Test
    void aBindToThePortOfAConnectionNotRemadeYetIsRefusedAndNoPortSearchTakesIt() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        assertEquals(0, p.sys.close(l)); // the connection alone holds the port now
        p.s.ns.sysctl().set("net.ipv4.ip_local_port_range", PORT + " " + PORT);
        List<Runnable> pass = new ArrayList<>();
        p.s.pass = pass::add;
        p.s.swapTcp(TcpHandOver.STATE_VERSION);
        assertEquals(null, conn(p), "the connection is not remade yet");
        int ephemeral = p.sys.socket(AF_INET, SOCK_STREAM, 0);
        assertEquals(-Errno.EADDRINUSE.number(), p.sys.bind(ephemeral, new SockAddr(0, 0)), "no other port in the range");
        int connecting = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EADDRNOTAVAIL.number(), p.sys.connect(connecting, new SockAddr(PEER, PEER_PORT + 1)));
        int fd = p.sys.socket(AF_INET, SOCK_STREAM, 0);
        assertEquals(-Errno.EADDRINUSE.number(), p.sys.bind(fd, new SockAddr(0, PORT)), "bind(2) as Linux answers it");
        assertNotNull(conn(p), "remade for the bind");
        pass.forEach(Runnable::run);
        assertEquals(-Errno.EADDRINUSE.number(), p.sys.bind(fd, new SockAddr(0, PORT)), "and after the pass");
        p.none();
    }

    /**
     * A connection deposited in place has its clocks stopped at the deposit and is frozen only when the
     * next version asks: nothing fires in between (its ACKs wait in IPv4's hold queue), and the state it
     * is frozen into carries what was left of its timers at the deposit.
     */
    @Test
    void aConnectionDepositedInPlaceStopsItsClocksAtOnceAndCarriesWhatWasLeftWhenFrozenLater() throws Exception {
        TcpPeer p = peer();
        before(p);
        p.drain();
        TcpSock sk = conn(p);
        assertTrue(sk.rtxTimer.pending() && sk.keepaliveTimer.pending(), "data in flight, keepalive on");
        long left = sk.rtxTimer.remainingMs();
        TcpHandOver.stopClocks(p.s.tcp.net(p.s.ns));
        SocketState s = TcpHandOver.inPlace(sk);
        assertEquals(sk.inode(), s.id());
        assertEquals(PEER_PORT, s.remotePort());
        assertTrue(!sk.frozen, "not frozen yet");
        p.s.advance(10_000); // past the retransmission timer's expiry and keepalive's
        p.none(); // no retransmission, no keepalive while it waits
        assertTrue(sk.firedWhileStopped != 0, "the retransmission timer came due and did nothing");
        TcpConnectionState st = TcpHandOver.freeze(sk);
        assertTrue(sk.frozen);
        assertEquals(left, st.timers().retransmitMs(), 1, "the retransmission timer's time left at the deposit");
        assertTrue(st.timers().keepaliveMs() >= 0, "keepalive carried");
    }

    /** A segment from the peer at 10.0.0.1 from {@code sport}, options given. */
    private static void inFrom(TcpPeer p, int sport, int flags, int seq, int ack, byte[] options) {
        p.in(sport, PORT, flags, seq, ack, 63, options, 0);
    }

    @Test
    void aTimewaitSockKeepsItsTimeAndAnswersAsBefore() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        int fd = p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        assertEquals(0, p.sys.close(fd)); // our FIN: FIN-WAIT-1
        TcpPeer.Seg fin = p.out();
        assertTrue(fin.has(TcpHeader.FIN));
        p.in(PORT, TcpHeader.FIN | TcpHeader.ACK, P, fin.seq() + 1, 63, TcpPeer.ts(102, 0), 0);
        p.drain(); // the ACK of its FIN: TIME-WAIT
        p.s.advance(10_000, 100);
        long leftBefore = p.s.tcp.net(p.s.ns).deathRow.all().get(0).remainingMs();
        TcpLayerState deposit = p.s.swapTcp(TcpHandOver.STATE_VERSION).exported();
        assertEquals(1, deposit.timewait().size());
        assertEquals(leftBefore, deposit.timewait().get(0).remainingMs());
        List<TcpTimewaitSock> tws = p.s.tcp.net(p.s.ns).deathRow.all();
        assertEquals(1, tws.size(), "in the new version's death row");
        assertEquals(leftBefore, tws.get(0).remainingMs(), "what was left of its time, not 60 s from the swap");
        p.in(PORT, TcpHeader.FIN | TcpHeader.ACK, P, fin.seq() + 1, 63, TcpPeer.ts(103, 0), 0); // its FIN again
        TcpPeer.Seg ack = p.out();
        assertEquals(TcpHeader.ACK, ack.flags(), "TIME-WAIT answers a retransmitted FIN with an ACK");
        assertEquals(P + 1, ack.ack());
        assertEquals(TcpSock.TIMEWAIT_MS, tws.get(0).remainingMs(), "and starts its 2MSL again, as Linux does");
        long tw = p.count(TcpMib.Ext.TW);
        p.s.advance(TcpSock.TIMEWAIT_MS + 5_000, 100); // the wheel's slack at 60 s: up to 4 s late, never early
        assertEquals(tw + 1, p.count(TcpMib.Ext.TW), "it ends on the new version's timer");
        assertEquals(0, p.s.tcp.net(p.s.ns).deathRow.all().size());
    }

    /**
     * A staged update starts the new version beside the old one's stop: the new version, made while the
     * old one has not frozen yet, waits for the deposit instead of starting empty, then adopts the
     * connection, which goes on with its bytes.
     */
    @Test
    void aNewVersionMadeBeforeTheOldOneFrozeWaitsForItsDepositAndAdopts() throws Exception {
        TcpPeer p = peer();
        long[] a = before(p);
        p.drain();
        TcpSock old = conn(p);
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        boolean[] waited = new boolean[1];
        Thread next = p.s.swapTcpBesideTheStop(stopping, () -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            waited[0] = true;
        });
        p.s.finishBesideTheStop(next);
        assertTrue(waited[0]);
        assertTrue(old.frozen, "the old version froze after the new one was made");
        TcpSock now = conn(p);
        assertNotNull(now, "the new version waited for the deposit and adopted the connection");
        assertNotSame(old, now);
        p.none(); // the swap sends nothing
        assertArrayEquals(expectedRead(), after(p, (int) a[0]), "the bytes read through the same descriptor");
    }

    /**
     * Beside the stop, the new version makes its namespaces while it waits for the deposit (not after it, in
     * the adoption): the secrets the deposit carries reach those namespaces all the same, so the ISNs and
     * the syncookies go on from the old version's keys.
     */
    @Test
    void aNewVersionMadeBesideTheStopMakesItsNamespacesBeforeTheDepositAndTakesItsKeys() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        TcpNet before = p.s.tcp.net(p.s.ns);
        int isn = before.isn.hash(LOCAL, PEER, PORT, 33333);
        long[] cookie = before.cookies.keys();
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        Thread next = p.s.swapTcpBesideTheStop(stopping, () -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        p.s.finishBesideTheStop(next);
        TcpNet after = p.s.tcp.net(p.s.ns);
        assertNotSame(before, after);
        assertTrue(p.s.tcp.handOverNote().contains(" namespaces made before the deposit"), p.s.tcp.handOverNote());
        assertEquals(isn, after.isn.hash(LOCAL, PEER, PORT, 33333), "ISNs keep their key in a namespace made before it came");
        assertArrayEquals(cookie, after.cookies.keys(), "cookies sent before stay valid");
        assertNotNull(conn(p), "the connection adopted into it");
    }

    /** What {@link #after} reads: the peer's 100 bytes in order, then the 200 that filled the hole and the 200 beyond it. */
    private static byte[] expectedRead() throws Exception {
        TcpPeer plain = new TcpPeer();
        try {
            long[] a = before(plain);
            return after(plain, (int) a[0]);
        } finally {
            plain.close();
        }
    }

    /**
     * A connection mid-transfer and what a warm-up on scratch sockets must leave as it was: the running
     * namespace's hashes, its MIB and its sysctls (the set-up both warm-up tests share).
     */
    private record Running(TcpPeer p, TcpNet net, int sockets, java.util.Map<String, Long> mib, String sysctls, TcpSock conn) {
        /** Asserts the warm-up touched none of it, left the connection running and sent nothing for its scratch sockets. */
        void untouched() {
            assertEquals(sockets, p.s.tcp.sockets(), "the running namespace's hashes");
            assertEquals(mib, net.mib.snapshot(), "its MIB");
            assertEquals(sysctls, p.s.ns.sysctl().all().toString(), "its sysctls");
            assertTrue(!conn.frozen, "the running connection is not frozen");
            p.s.advance(1_000);
            assertEquals(0, p.count(TcpMib.Tcp.OutRsts), "nothing sent for the scratch sockets");
        }
    }

    private Running running() throws Exception {
        TcpPeer p = peer();
        before(p);
        p.drain();
        TcpNet net = p.s.tcp.net(p.s.ns);
        return new Running(p, net, p.s.tcp.sockets(), net.mib.snapshot(), p.s.ns.sysctl().all().toString(), conn(p));
    }

    /**
     * The warm-up a new version runs while its predecessor freezes freezes and adopts scratch sockets
     * only: the running namespace keeps its sockets, its sysctls and its counters.
     */
    @Test
    void theWarmUpFreezesAndAdoptsScratchSocketsAndTouchesNothingRunning() throws Exception {
        Running r = running();
        assertEquals(8, TcpHandOverWarmUp.run(r.p().s.stack.core(), r.p().s.ipv4, 8));
        r.untouched();
    }

    /**
     * The scratch listener and connection a new version remakes in standby, before the swap ({@code TcpProtocol.prepare}), are
     * deposited, remade (the listener hashed in its scratch namespace's listen table, the connection's clocks collected) and
     * dropped: the running namespace keeps its sockets, its sysctls and its counters, and an update afterwards hands the
     * connection over as ever.
     */
    @Test
    void theScratchRemakesAreMadeAndDroppedAndTouchNothingRunning() throws Exception {
        Running r = running();
        TcpPeer p = r.p();
        assertTrue(TcpHandOverWarmUp.adoption(p.s.stack.core(), p.s.ipv4));
        assertTrue(TcpHandOverWarmUp.adoption(p.s.stack.core(), p.s.ipv4), "again: each run its own scratch namespace");
        r.untouched();
        p.s.swapTcp(TcpHandOver.STATE_VERSION);
        assertNotNull(conn(p));
        assertNotSame(r.conn(), conn(p));
    }

    /**
     * The running version's freeze warm-up, whole ({@code TcpHandOverWarmUp.FREEZES} and {@code WALKS}), makes under 48 MB of
     * garbage on one set of scratch objects (task gc15): its 16,000 scratch freezes made 50-90 MB in a second before, G1's young
     * pauses during the streams (task alloc15). Counted by the JVM for this thread, not timed.
     */
    @Test
    void theWholeFreezeWarmUpAllocatesUnder48MegabytesOnOneSetOfScratchObjects() throws Exception {
        TcpPeer p = running().p();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(id);
        int[] n = TcpHandOverWarmUp.runFreezeSide(p.s.stack.core(), p.s.ipv4, TcpHandOverWarmUp.FREEZES, TcpHandOverWarmUp.WALKS, () -> false);
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        System.out.printf("TcpHandOverTest: the freeze warm-up: %d freezes, %d walks, %d bytes allocated (%d a freeze)%n", n[0], n[1], allocated,
                allocated / n[0]);
        assertEquals(TcpHandOverWarmUp.FREEZES, n[0]);
        assertTrue(allocated < 48L << 20, "the warm-up allocated " + allocated + " bytes");
    }

    @Test
    void theFreezeWarmUpFreezesScratchSocketsAndTouchesNothingRunningNorLaterSwaps() throws Exception {
        Running r = running();
        TcpPeer p = r.p();
        // every scratch connection is met by the walk as a real one it would leave in place is: hashed, established, deferrable
        assertArrayEquals(new int[] { 40, 10, 10 * TcpHandOverWarmUp.WALK_CONNECTIONS },
                TcpHandOverWarmUp.runFreezeSide(p.s.stack.core(), p.s.ipv4, 40, 10, () -> false));
        assertArrayEquals(new int[] { 0, 0, 0 }, TcpHandOverWarmUp.runFreezeSide(p.s.stack.core(), p.s.ipv4, 40, 10, () -> true),
                "stops when told");
        r.untouched();
        p.s.swapTcp(TcpHandOver.STATE_VERSION); // and an update afterwards hands the connection over as ever
        assertNotNull(conn(p));
        assertNotSame(r.conn(), conn(p));
    }

    @Test
    void aNewVersionWithNoPredecessorStoppingDoesNotWaitAndStartsEmpty() throws Exception {
        TcpStack s = new TcpStack();
        try {
            java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
            assertEquals(null, TcpProtocol.awaitDeposit(s.sockets, stopping::get), "nothing deposited, nobody stopping");
        } finally {
            s.close();
        }
    }

    @Test
    void theSecretsAndCountersContinue() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        TcpNet before = p.s.tcp.net(p.s.ns);
        long inSegs = before.mib.get(TcpMib.Tcp.InSegs);
        int isn = before.isn.hash(LOCAL, PEER, PORT, 33333);
        long[] cookie = before.cookies.keys();
        p.s.swapTcp(TcpHandOver.STATE_VERSION);
        TcpNet after = p.s.tcp.net(p.s.ns);
        assertNotSame(before, after);
        assertEquals(isn, after.isn.hash(LOCAL, PEER, PORT, 33333), "ISNs keep their key");
        assertArrayEquals(cookie, after.cookies.keys(), "cookies sent before stay valid");
        assertEquals(inSegs, after.mib.get(TcpMib.Tcp.InSegs));
        assertEquals(1, after.mib.get(TcpMib.Tcp.CurrEstab), "the gauge is the old one, not counted again");
    }

    @Test
    void anUnreadableStateVersionIsRefusedCountedAndClosesTheSockets() throws Exception {
        TcpPeer p = peer();
        int l = p.listen(PORT);
        int fd = p.accept(l, PORT, SYN, TcpPeer.ts(101, 0), null);
        p.s.swapTcp(TcpHandOver.STATE_VERSION + 1);
        assertEquals(-Errno.EBADF.number(), p.sys.recv(fd, ByteBuffer.allocate(10), SocketCalls.MSG_DONTWAIT));
        assertEquals(1L, p.s.sockets.counters(p.s.ns).get("HandOverRefused"));
        assertEquals(2L, p.s.sockets.counters(p.s.ns).get("HandOverSocketsClosed"));
        assertEquals(null, conn(p), "the new version adopted nothing");
        // traffic goes on on new sockets: a fresh listener on the port takes a new connection
        int l2 = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, p.sys.bind(l2, new SockAddr(LOCAL, PORT)));
        assertEquals(0, p.sys.listen(l2, 8));
        int again = p.accept(l2, PORT, SYN, TcpPeer.ts(200, 0), null);
        assertEquals(3, p.sys.send(again, ByteBuffer.wrap("new".getBytes()), 0));
    }
}

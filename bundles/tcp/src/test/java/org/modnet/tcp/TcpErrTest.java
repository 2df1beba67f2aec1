package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;
import static org.modnet.tcp.Segments.mss;
import static org.modnet.tcp.Segments.opts;
import static org.modnet.tcp.TcpHeader.ACK;
import static org.modnet.tcp.TcpHeader.SYN;
import static org.modnet.tcp.TcpWire.LOCAL;
import static org.modnet.tcp.TcpWire.PEER;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.socket.api.MsgHdr;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockExtendedErr;
import org.modnet.socket.api.SocketCalls;

/**
 * TCP's ICMP error handler ({@code tcp_v4_err}) on a scripted wire: the stack (10.0.0.2) connects to
 * the peer (10.0.0.1), and the test answers with ICMP errors quoting what the stack sent, from a router
 * on the link (10.0.0.254).
 */
class TcpErrTest {
    private static final int ROUTER = 0x0a0000fe; // 10.0.0.254
    private static final int PISS = 5000;
    private static final int PORT = 80;

    private TcpStack s;
    private TcpWire w;
    private SocketCalls sys;
    private int fd;
    private TcpWire.Seg syn;

    @BeforeEach
    void setUp() throws Exception {
        s = new TcpStack();
        w = new TcpWire(s);
        sys = s.process();
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    private TcpNet net() {
        return s.tcp.net(s.ns);
    }

    /** connect(2) to the peer: the SYN is in {@link #syn}. */
    private void connectStarted() {
        fd = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(fd, new SockAddr(PEER, PORT)));
        s.run();
        syn = w.one();
        assertTrue(syn.is(SYN), syn::toString);
    }

    /** An established connection whose peer offered MSS 1460, SACK and a 64 KiB window (no timestamps). */
    private void established() {
        connectStarted();
        w.send(PEER, PORT, syn.sport(), SYN | ACK, PISS, syn.seq() + 1, 65535, opts(mss(1460), Segments.sackPerm()), 0);
        w.take(); // the ACK
        assertEquals(Sock.TCP_ESTABLISHED, sk().state());
    }

    private TcpSock sk() {
        return net().lookupEstablished(PEER, PORT, LOCAL, syn.sport());
    }

    private int getsockopt(int level, int name) {
        int[] v = new int[1];
        int r = sys.getsockopt(fd, level, name, v);
        return r < 0 ? r : v[0];
    }

    /**
     * An ICMP error from the router quoting the IPv4 header and the first 8 bytes of a segment the
     * stack sent with sequence number {@code seq} (RFC 792's minimum quote).
     */
    private void icmp(int type, int code, int info, int seq) {
        int quote = 20 + 8;
        int len = 14 + 20 + 8 + quote;
        SkBuff skb = s.stack.core().allocSkb(len, 64);
        int o = skb.put(len);
        skb.setBytes(o, new byte[len], 0, len);
        long mac = w.d0.address().bits();
        skb.setU16(o, (int) (mac >>> 32));
        skb.setU32(o + 2, (int) mac);
        skb.setU16(o + 6, (int) (TcpWire.PEER_MAC.bits() >>> 32));
        skb.setU32(o + 8, (int) TcpWire.PEER_MAC.bits());
        skb.setU16(o + 12, Eth.ETH_P_IP);
        int h = o + 14;
        skb.setU8(h, 0x45);
        skb.setU16(h + 2, 20 + 8 + quote);
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, 1);
        skb.setU32(h + 12, ROUTER);
        skb.setU32(h + 16, LOCAL);
        skb.setU16(h + 10, InetChecksum.checksum(skb, h, 20));
        int i = h + 20;
        skb.setU8(i, type);
        skb.setU8(i + 1, code);
        skb.setU32(i + 4, info);
        int q = i + 8; // the quoted segment: as the stack sent it, DF set
        skb.setU8(q, 0x45);
        skb.setU16(q + 2, 1500);
        skb.setU16(q + 6, 0x4000);
        skb.setU8(q + 8, 63);
        skb.setU8(q + 9, 6);
        skb.setU32(q + 12, LOCAL);
        skb.setU32(q + 16, PEER);
        skb.setU16(q + 10, InetChecksum.checksum(skb, q, 20));
        skb.setU16(q + 20, syn.sport());
        skb.setU16(q + 22, icmpPorts);
        skb.setU32(q + 24, seq);
        skb.setU16(i + 2, InetChecksum.checksum(skb, i, 8 + quote));
        if (!w.d0.rxQueue(0).receive(skb)) {
            skb.free();
        }
        s.run();
    }

    private void write(int n) {
        ByteBuffer b = ByteBuffer.allocate(n);
        assertEquals(n, sys.send(fd, b, 0));
        s.run();
    }

    @Test
    void fragNeededWithAnInWindowQuoteShrinksTheMssAndResendsTheQueueAtOnce() {
        established();
        assertEquals(1460, getsockopt(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG));
        write(4 * 1460);
        List<TcpWire.Seg> first = w.take();
        assertEquals(4 * 1460, first.stream().mapToInt(TcpWire.Seg::len).sum(), first::toString);
        int una = syn.seq() + 1;

        icmp(3, 4, 1200, una); // fragmentation needed, next-hop MTU 1200, quoting the first segment

        assertEquals(1160, getsockopt(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG), "MSS = 1200 - 40");
        assertEquals(1200, getsockopt(SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU), "IP_MTU reads the learned path MTU");
        List<TcpWire.Seg> again = w.take();
        assertFalse(again.isEmpty(), "resent at once, not at the RTO");
        assertEquals(una, again.get(0).seq(), again::toString);
        assertEquals(4 * 1460, again.stream().mapToInt(TcpWire.Seg::len).sum(), "the whole queue goes again: " + again);
        for (TcpWire.Seg x : again) {
            assertTrue(x.len() <= 1160, "each at the new size: " + x);
        }
        assertEquals(0, s.count(TcpMib.Ext.TCPTimeouts));
        assertEquals(TcpCongestion.CA_LOSS, sk().caState);
        assertEquals(10, sk().cw.cwnd, "the congestion window is not touched");
        assertEquals(8, sk().rec.q.size(), "each of the 4 entries split in two: 1160 and 300 bytes");
        assertEquals(1200, sk().tcpInfo().pmtu(), "ss -i's pmtu:");
        assertEquals(0, getsockopt(SOL_SOCKET, SocketCalls.SO_ERROR), "an MTU the route took is no error");

        w.send(PEER, PORT, syn.sport(), ACK, PISS + 1, una + 4 * 1460, 65535, new byte[0], 0);
        assertEquals(TcpCongestion.CA_OPEN, sk().caState, "all acknowledged: Open again");
        assertEquals(0, sk().rec.q.size());
    }

    @Test
    void aQuoteOutsideWhatIsInFlightIsCountedAndIgnored() {
        established();
        write(1000);
        w.take();
        icmp(3, 4, 1200, syn.seq() + 1 + 100_000);
        assertEquals(1, s.count(TcpMib.Ext.OutOfWindowIcmps));
        assertEquals(1460, getsockopt(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG));
        assertTrue(w.take().isEmpty(), "nothing resent");
        assertEquals(TcpCongestion.CA_OPEN, sk().caState);
    }

    @Test
    void tcpsOwnDfSegmentAboveALearnedPathMtuIsRefusedAndTheMssFollows() {
        established();
        icmp(3, 4, 1200, syn.seq() + 1 + 100_000); // IPv4 learns the MTU; TCP ignores the quote (out of window)
        assertEquals(1460, getsockopt(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG));
        long fragFails = s.ipv4.counters(s.ns).get("IpFragFails");
        write(2 * 1460);
        s.run(); // the ICMP IPv4 sent itself through lo
        assertTrue(s.ipv4.counters(s.ns).get("IpFragFails") > fragFails, "ip_fragment refused TCP's DF segments");
        assertEquals(1160, getsockopt(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG));
        List<TcpWire.Seg> out = w.take();
        assertFalse(out.isEmpty());
        for (TcpWire.Seg x : out) {
            assertTrue(x.len() <= 1160, "never fragmented, sent at the new size: " + x);
        }
        assertEquals(2 * 1460, out.stream().mapToInt(TcpWire.Seg::len).sum(), out::toString);
        assertEquals(0, s.count(TcpMib.Ext.TCPTimeouts));
    }

    @Test
    void fragNeededWhileTheUserHoldsTheSocketWaitsForTheRelease() {
        established();
        write(2 * 1460);
        w.take();
        TcpSock sk = sk();
        sk.lockSock();
        icmp(3, 4, 1200, syn.seq() + 1);
        assertEquals(1460, sk.mss, "deferred: TCP_MTU_REDUCED_DEFERRED");
        assertEquals(0, s.count(TcpMib.Ext.LockDroppedIcmps), "frag-needed is never dropped for the lock");
        icmp(3, 1, 0, syn.seq() + 1); // host unreachable meanwhile: counted
        assertEquals(1, s.count(TcpMib.Ext.LockDroppedIcmps));
        sk.releaseSock();
        assertEquals(1160, sk.mss, "done at release_sock");
        assertFalse(w.take().isEmpty());
    }

    @Test
    void aConnectAnsweredWithPortUnreachableFailsWithEconnrefusedAtOnce() {
        connectStarted();
        icmp(3, 3, 0, syn.seq());
        assertEquals(Errno.ECONNREFUSED.number(), getsockopt(SOL_SOCKET, SocketCalls.SO_ERROR));
        assertEquals(1, s.count(TcpMib.Tcp.AttemptFails));
        assertTrue(w.take().isEmpty(), "no SYN again");
        assertEquals(0L, s.ipv4.counters(s.ns).get("IcmpInErrors"), "the error found its socket");
    }

    @Test
    void anErrorQuotingNoConnectionCountsIcmpInErrors() {
        connectStarted();
        icmpFrom(syn.sport() + 1, PORT, 3, 3, 0); // tcp_v4_err: no socket for the quote is ICMP_MIB_INERRORS
        assertEquals(1L, s.ipv4.counters(s.ns).get("IcmpInErrors"));
        assertEquals(0, s.count(TcpMib.Tcp.AttemptFails), "the connect is not touched");
    }

    @Test
    void aConnectAnsweredWithNetUnreachableFailsWithEnetunreach() {
        connectStarted();
        icmp(3, 0, 0, syn.seq());
        assertEquals(Errno.ENETUNREACH.number(), getsockopt(SOL_SOCKET, SocketCalls.SO_ERROR));
        assertEquals(1, s.count(TcpMib.Tcp.AttemptFails));
    }

    @Test
    void aConnectAnsweredWithHostUnreachableFailsWithEhostunreach() {
        connectStarted();
        icmp(3, 1, 0, syn.seq());
        assertEquals(Errno.EHOSTUNREACH.number(), getsockopt(SOL_SOCKET, SocketCalls.SO_ERROR));
    }

    @Test
    void anErrorQuotingAnotherSequenceNumberLeavesTheConnectAlone() {
        connectStarted();
        icmp(3, 3, 0, syn.seq() + 5000);
        assertEquals(1, s.count(TcpMib.Ext.OutOfWindowIcmps));
        assertEquals(0, getsockopt(SOL_SOCKET, SocketCalls.SO_ERROR));
        assertEquals(Sock.TCP_SYN_SENT, sk().state());
    }

    @Test
    void anEstablishedConnectionKeepsAHostUnreachableAsASoftErrorUntilItTimesOut() throws Exception {
        s.ns.sysctl().set("net.ipv4.tcp_retries2", "2");
        established();
        write(100);
        w.take();
        icmp(3, 1, 0, syn.seq() + 1);
        assertEquals(0, getsockopt(SOL_SOCKET, SocketCalls.SO_ERROR), "a soft error: SO_ERROR has nothing yet");
        assertEquals(Sock.TCP_ESTABLISHED, sk().state());
        s.advance(60_000, 100);
        assertEquals(Errno.EHOSTUNREACH.number(), getsockopt(SOL_SOCKET, SocketCalls.SO_ERROR),
                "the timeout reports the soft error, not ETIMEDOUT");
    }

    @Test
    void aHostUnreachableAboutTheHeadDuringBackoffRevertsOneBackoffStep() {
        established();
        write(100);
        w.take();
        for (int i = 0; i < 1000 && s.count(TcpMib.Ext.TCPTimeouts) < 3; i++) {
            s.advance(10);
        }
        assertEquals(3, s.count(TcpMib.Ext.TCPTimeouts));
        w.take();
        long backedOff = sk().rtoMs;
        icmp(3, 1, 0, syn.seq() + 1); // RFC 6069: the path is down, not congested
        assertEquals(backedOff / 2, sk().rtoMs, "one doubling undone (tcp_ld_RTO_revert)");
        s.advance(backedOff / 2 + backedOff / 4); // before the backed-off RTO; the wheel may round up (timer slack)
        assertEquals(4, s.count(TcpMib.Ext.TCPTimeouts), "the next timeout comes at the reverted RTO, not the backed-off one");
        icmp(3, 3, 0, syn.seq() + 1); // port unreachable reverts nothing
        assertEquals(backedOff, sk().rtoMs);
    }

    /**
     * {@code tcp_v4_err}'s {@code ip_icmp_error} for a connect still opening: with IP_RECVERR the error that fails it is
     * also queued, quoting our SYN from its TCP header on, from the router that sent it; MSG_ERRQUEUE reads it once.
     */
    @Test
    void withIpRecverrAConnectsIcmpErrorIsQueuedQuotingTheSyn() {
        fd = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1));
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(fd, new SockAddr(PEER, PORT)));
        s.run();
        syn = w.one();
        icmp(3, 1, 0, syn.seq());
        assertEquals(Errno.EHOSTUNREACH.number(), getsockopt(SOL_SOCKET, SocketCalls.SO_ERROR), "the connect failed");
        MsgHdr m = new MsgHdr(null, ByteBuffer.allocate(64));
        assertEquals(8, sys.recvmsg(fd, m, SocketCalls.MSG_ERRQUEUE), "the 8 bytes of our SYN the router quoted");
        assertEquals(SocketCalls.MSG_ERRQUEUE, m.flags);
        assertEquals(new SockAddr(PEER, PORT), m.name);
        assertEquals(new SockExtendedErr(Errno.EHOSTUNREACH.number(), SockExtendedErr.SO_EE_ORIGIN_ICMP, 3, 1, 0, 0, ROUTER),
                m.extendedErr);
        assertEquals(syn.sport(), m.iov[0].getShort(0) & 0xffff, "the quote starts at our TCP header");
        assertEquals(syn.seq(), m.iov[0].getInt(4));
        assertEquals(-Errno.EAGAIN.number(), sys.recvmsg(fd, new MsgHdr(null, ByteBuffer.allocate(64)), SocketCalls.MSG_ERRQUEUE));
    }

    @Test
    void ipRecverrReportsAnEstablishedConnectionsErrorAtOnce() {
        established();
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, new int[] { 1 }));
        write(100);
        w.take();
        icmp(3, 1, 0, syn.seq() + 1);
        assertEquals(Errno.EHOSTUNREACH.number(), getsockopt(SOL_SOCKET, SocketCalls.SO_ERROR));
        assertEquals(Sock.TCP_ESTABLISHED, sk().state(), "the connection goes on");
    }

    /**
     * Issue 15: just after an update of TCP, before its pass has remade every connection, an ICMP error
     * quoting one not remade yet finds it (remade for it) as Linux's {@code tcp_v4_err} finds a live
     * connection: not counted as quoting no socket, and it acts (here a "fragmentation needed" in
     * window shrinks the MSS).
     */
    @Test
    void anErrorQuotingAConnectionNotRemadeYetAfterAnUpdateFindsIt() {
        established();
        write(1460);
        w.take();
        List<Runnable> pass = new java.util.ArrayList<>();
        s.pass = pass::add;
        s.swapTcp(TcpHandOver.STATE_VERSION);
        assertEquals(null, sk(), "not remade yet");
        icmp(3, 4, 1200, syn.seq() + 1);
        assertEquals(0L, s.ipv4.counters(s.ns).get("IcmpInErrors"), "the error found its socket");
        assertEquals(1160, sk().mss, "remade for it, and the error acted: MSS = 1200 - 40");
        pass.forEach(Runnable::run);
        assertEquals(1160, getsockopt(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG));
    }

    @Test
    void ipMtuDiscoverDontKeepsTheMss() {
        established();
        assertEquals(SocketCalls.IP_PMTUDISC_WANT, getsockopt(SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER));
        assertEquals(0, sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER,
                new int[] { SocketCalls.IP_PMTUDISC_DONT }));
        write(1460);
        w.take();
        icmp(3, 4, 1200, syn.seq() + 1);
        assertEquals(1460, getsockopt(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_MAXSEG));
    }

    @Test
    void ipNoPmtuDiscMakesDontTheDefaultOfNewSockets() throws Exception {
        int before = sys.socket(AF_INET, SOCK_STREAM, 0);
        s.ns.sysctl().set("net.ipv4.ip_no_pmtu_disc", "1");
        int after = sys.socket(AF_INET, SOCK_STREAM, 0);
        int[] v = new int[1];
        sys.getsockopt(before, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, v);
        assertEquals(SocketCalls.IP_PMTUDISC_WANT, v[0]);
        sys.getsockopt(after, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, v);
        assertEquals(SocketCalls.IP_PMTUDISC_DONT, v[0], "inet_create's default with ip_no_pmtu_disc");
    }

    @Test
    void ipMtuOnAnUnconnectedSocketIsEnotconn() {
        int u = sys.socket(AF_INET, SOCK_STREAM, 0);
        assertEquals(-Errno.ENOTCONN.number(), sys.getsockopt(u, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU, new int[1]));
    }

    @Test
    void aNetUnreachableAboutOurSynAckDropsTheRequest() {
        int l = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(l, new SockAddr(0, 5000)));
        assertEquals(0, sys.listen(l, 8));
        w.send(PEER, 40000, 5000, SYN, PISS, 0, 65535, opts(mss(1460)), 0);
        TcpWire.Seg synack = w.one();
        TcpSock req = net().lookupEstablished(PEER, 40000, LOCAL, 5000);
        assertEquals(Sock.TCP_SYN_RECV, req.state());
        icmpFrom(5000, 40000, 3, 0, synack.seq());
        assertEquals(1, s.count(TcpMib.Ext.ListenDrops));
        assertEquals(null, net().lookupEstablished(PEER, 40000, LOCAL, 5000));
    }

    /** {@link #icmp} quoting a segment from our port {@code sport} to the peer's {@code dport}. */
    private void icmpFrom(int sport, int dport, int type, int code, int seq) {
        syn = new TcpWire.Seg(LOCAL, PEER, sport, dport, 0, 0, 0, 0, 0, 0, 0, false, false, 0, 0, 0);
        icmpPorts = dport;
        icmp(type, code, 0, seq);
        icmpPorts = PORT;
    }

    private int icmpPorts = PORT;

    @Test
    void theRetransmissionQueueSplitsAnEntryKeepingItsMarks() {
        TcpRtxQueue q = new TcpRtxQueue();
        q.add(1000, 2460, false, 7);
        q.add(2460, 3920, false, 8);
        q.add(3920, 3921, true, 9);
        q.markLost(q.at(1), net(), 0);
        assertEquals(3, q.split(1, 600));
        assertEquals(5, q.size());
        assertEquals(5, q.packetsOut);
        assertEquals(3, q.lostOut);
        int[][] bounds = { { 1000, 2460 }, { 2460, 3060 }, { 3060, 3660 }, { 3660, 3920 }, { 3920, 3921 } };
        for (int k = 0; k < 5; k++) {
            int i = q.at(k);
            assertEquals(bounds[k][0], q.seq[i]);
            assertEquals(bounds[k][1], q.end[i]);
        }
        assertEquals(8, q.xmitNs[q.at(3)]);
        assertTrue((q.sacked[q.at(4)] & TcpRtxQueue.FIN) != 0);
        assertEquals(1, q.split(4, 600), "the FIN is never split");
    }
}

package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.tcp.TcpPeer.LOCAL;
import static org.modnet.tcp.TcpPeer.PEER;
import static org.modnet.tcp.TcpPeer.PEER_ISS;
import static org.modnet.tcp.TcpPeer.PEER_PORT;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.TcpInfo;

/**
 * ECN (RFC 3168) as Linux does it, against a scripted peer: the negotiation table of {@code tcp_ecn}
 * on each side, the fallback of a retransmitted SYN, which segments are ECT(0), CE echoed as ECE until
 * CWR, and the sender's reduction on ECE (CWR state, once per window, no retransmission).
 */
class TcpEcnTest {
    private static final int PORT = 5000;
    private static final int LPORT = 41000;
    private static final int MSS = 1460;
    private static final int ECE_CWR = TcpHeader.ECE | TcpHeader.CWR;

    private TcpPeer p;

    @AfterEach
    void tearDown() {
        if (p != null) {
            p.close();
        }
    }

    private TcpPeer peer(int tcpEcn) throws Exception {
        p = new TcpPeer();
        p.s.ns.sysctl().set("net.ipv4.tcp_ecn", Integer.toString(tcpEcn));
        return p;
    }

    private byte[] synOpts() {
        return Segments.opts(Segments.mss(MSS), Segments.nop(), Segments.ws(7));
    }

    private boolean ecnOk(TcpInfo i) {
        return (i.options() & TcpInfo.TCPI_OPT_ECN) != 0;
    }

    /** The stack connects with tcp_ecn = {@code local}; the peer answers as a Linux listener with tcp_ecn = {@code remote}. */
    @ParameterizedTest(name = "client tcp_ecn={0}, server tcp_ecn={1}: ecn {2}")
    @CsvSource({ "0,0,false", "0,1,false", "0,2,false", "1,0,false", "1,1,true", "1,2,true", "2,0,false", "2,1,false",
            "2,2,false" })
    void aConnectingStackAsksOnlyWithTcpEcnOneAndAgreesOnlyOnAnEceSynAck(int local, int remote, boolean agreed) throws Exception {
        peer(local);
        int fd = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, p.sys.bind(fd, new SockAddr(LOCAL, LPORT)));
        assertEquals(-Errno.EINPROGRESS.number(), p.sys.connect(fd, new SockAddr(PEER, PEER_PORT)));
        TcpPeer.Seg syn = p.out();
        assertEquals(TcpHeader.SYN | (local == 1 ? ECE_CWR : 0), syn.flags(), "tcp_ecn_send_syn");
        assertEquals(0, syn.tos() & 3, "a SYN is never ECT (RFC 3168 6.1.1)");
        boolean asked = (syn.flags() & ECE_CWR) == ECE_CWR;
        int synAckEcn = asked && remote != 0 ? TcpHeader.ECE : 0;
        p.in(PEER_PORT, LPORT, TcpHeader.SYN | TcpHeader.ACK | synAckEcn, PEER_ISS, syn.seq() + 1, 65535, synOpts(), 0);
        TcpPeer.Seg ack = p.out();
        assertEquals(TcpHeader.ACK, ack.flags());
        assertEquals(agreed, ecnOk(sockInfo(LPORT)));
    }

    /** The peer connects as a Linux client with tcp_ecn = {@code remote}; the stack listens with tcp_ecn = {@code local}. */
    @ParameterizedTest(name = "client tcp_ecn={0}, server tcp_ecn={1}: ecn {2}")
    @CsvSource({ "0,0,false", "0,1,false", "0,2,false", "1,0,false", "1,1,true", "1,2,true", "2,0,false", "2,1,false",
            "2,2,false" })
    void aListeningStackAgreesWhenTheSynAsksAndTcpEcnIsNotZero(int remote, int local, boolean agreed) throws Exception {
        peer(local);
        int l = p.listen(PORT);
        p.in(PORT, TcpHeader.SYN | (remote == 1 ? ECE_CWR : 0), PEER_ISS, 0, 65535, synOpts(), 0);
        TcpPeer.Seg sa = p.out();
        assertEquals(TcpHeader.SYN | TcpHeader.ACK | (agreed ? TcpHeader.ECE : 0), sa.flags(), "tcp_ecn_make_synack: ECE, never CWR");
        assertEquals(0, sa.tos() & 3, "a SYN-ACK is not ECT");
        p.in(PORT, TcpHeader.ACK, PEER_ISS + 1, p.iss + 1, 65535, new byte[0], 0);
        int fd = p.sys.accept(l, null, SOCK_NONBLOCK);
        assertTrue(fd >= 3);
        assertEquals(agreed, ecnOk(sockInfo(PORT)));
    }

    @Test
    void anEctSynIsTakenForABrokenMiddleboxAndNotAgreedTo() throws Exception {
        peer(2);
        p.listen(PORT);
        p.inTos = TcpEcn.INET_ECN_ECT_0;
        p.in(PORT, TcpHeader.SYN | ECE_CWR, PEER_ISS, 0, 65535, synOpts(), 0);
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, p.out().flags());
    }

    /** {@code ip route add 10.0.0.1/32 dev d0 features ecn}: the host route to the peer with RTAX_FEATURE_ECN. */
    private void routeWithFeaturesEcn() throws Exception {
        new org.modnet.ipv4.RouteService(p.s.ipv4).add(p.s.ns, new org.modnet.api.inet.RouteEntry("unicast", PEER, 32, 0, p.d0, 0, 0,
                "boot", "link", org.modnet.api.inet.RouteEntry.RTAX_FEATURE_ECN), false);
    }

    /** {@code tcp_ecn_send_syn}: a route with {@code features ecn} makes the SYN ask though tcp_ecn is 2. */
    @Test
    void aRouteWithFeaturesEcnMakesAConnectingStackAskWithTcpEcnTwo() throws Exception {
        peer(2);
        routeWithFeaturesEcn();
        int fd = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, p.sys.bind(fd, new SockAddr(LOCAL, LPORT)));
        assertEquals(-Errno.EINPROGRESS.number(), p.sys.connect(fd, new SockAddr(PEER, PEER_PORT)));
        TcpPeer.Seg syn = p.out();
        assertEquals(TcpHeader.SYN | ECE_CWR, syn.flags(), "dst_feature(dst, RTAX_FEATURE_ECN)");
        p.in(PEER_PORT, LPORT, TcpHeader.SYN | TcpHeader.ACK | TcpHeader.ECE, PEER_ISS, syn.seq() + 1, 65535, synOpts(), 0);
        p.out();
        assertTrue(ecnOk(sockInfo(LPORT)));
    }

    /** {@code tcp_ecn_create_request}'s {@code ecn_ok_dst}: a listener with tcp_ecn 0 agrees with a peer whose route has it. */
    @Test
    void aRouteWithFeaturesEcnMakesAListenerAgreeWithTcpEcnZero() throws Exception {
        peer(0);
        routeWithFeaturesEcn();
        p.listen(PORT);
        p.in(PORT, TcpHeader.SYN | ECE_CWR, PEER_ISS, 0, 65535, synOpts(), 0);
        assertEquals(TcpHeader.SYN | TcpHeader.ACK | TcpHeader.ECE, p.out().flags());
    }

    @Test
    void aSynAckWithEceAndCwrIsNoAgreement() throws Exception {
        peer(1);
        int fd = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, p.sys.bind(fd, new SockAddr(LOCAL, LPORT)));
        p.sys.connect(fd, new SockAddr(PEER, PEER_PORT));
        TcpPeer.Seg syn = p.out();
        p.in(PEER_PORT, LPORT, TcpHeader.SYN | TcpHeader.ACK | ECE_CWR, PEER_ISS, syn.seq() + 1, 65535, synOpts(), 0);
        assertEquals(false, ecnOk(sockInfo(LPORT)), "tcp_ecn_rcv_synack: a reflected SYN's flags are not an answer");
    }

    @Test
    void aRetransmittedSynStopsAskingWhileTcpEcnFallbackIsOn() throws Exception {
        peer(1);
        assertEquals(List.of(ECE_CWR, 0), synFlagsOverTwoTries());
        p.close();
        peer(1);
        p.s.ns.sysctl().set("net.ipv4.tcp_ecn_fallback", "0");
        assertEquals(List.of(ECE_CWR, ECE_CWR), synFlagsOverTwoTries());
    }

    private List<Integer> synFlagsOverTwoTries() {
        int fd = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, p.sys.bind(fd, new SockAddr(LOCAL, LPORT)));
        p.sys.connect(fd, new SockAddr(PEER, PEER_PORT));
        int first = p.out().flags() & ECE_CWR;
        p.s.advance(1100);
        int second = p.out().flags() & ECE_CWR;
        return List.of(first, second);
    }

    @Test
    void aSynCookieKeepsTheEcnAgreementInItsTimestamp() throws Exception {
        peer(2);
        p.s.ns.sysctl().set("net.ipv4.tcp_syncookies", "2");
        int l = p.listen(PORT);
        byte[] syn = Segments.opts(Segments.mss(MSS), Segments.sackPerm(), Segments.ts(100, 0), Segments.nop(), Segments.ws(7));
        p.in(PORT, TcpHeader.SYN | ECE_CWR, PEER_ISS, 0, 65535, syn, 0);
        TcpPeer.Seg sa = p.out();
        assertEquals(TcpHeader.SYN | TcpHeader.ACK | TcpHeader.ECE, sa.flags(), "cookie SYN-ACK: " + sa);
        assertEquals(1, p.count(TcpMib.Ext.SyncookiesSent));
        p.in(PORT, TcpHeader.ACK, PEER_ISS + 1, p.iss + 1, 65535, TcpPeer.ts(101, (int) sa.tsval()), 0);
        assertEquals(1, p.count(TcpMib.Ext.SyncookiesRecv));
        assertTrue(p.sys.accept(l, null, SOCK_NONBLOCK) >= 3);
        assertTrue(ecnOk(sockInfo(PORT)), "the child agreed from the cookie's timestamp");
    }

    /** An accepted ECN connection (the peer's SYN asked), {@code bytes} queued to send and the first flight drained. */
    private int ecnConnection(int bytes) throws Exception {
        peer(2);
        int l = p.listen(PORT);
        p.in(PORT, TcpHeader.SYN | ECE_CWR, PEER_ISS, 0, 65535, synOpts(), 0);
        assertEquals(TcpHeader.ECE, p.out().flags() & ECE_CWR);
        p.in(PORT, TcpHeader.ACK, PEER_ISS + 1, p.iss + 1, 65535, new byte[0], 0);
        int fd = p.sys.accept(l, null, SOCK_NONBLOCK);
        assertTrue(fd >= 3);
        if (bytes > 0) {
            assertEquals(bytes, p.sys.send(fd, ByteBuffer.allocate(bytes), 0));
        }
        return fd;
    }

    @Test
    void newDataIsEct0AndPureAcksAndRetransmissionsAreNotEct() throws Exception {
        ecnConnection(2 * MSS);
        List<TcpPeer.Seg> data = p.drain();
        assertEquals(2, data.size());
        for (TcpPeer.Seg d : data) {
            assertEquals(TcpEcn.INET_ECN_ECT_0, d.tos() & 3, "new data: " + d);
        }
        p.s.advance(1500); // the RTO: the first segment again
        TcpPeer.Seg rtx = p.out();
        assertEquals(data.get(0).seq(), rtx.seq());
        assertEquals(TcpEcn.INET_ECN_NOT_ECT, rtx.tos() & 3, "a retransmission is Not-ECT (RFC 3168 6.1.5)");
        p.drain();
        p.in(PORT, TcpHeader.ACK, PEER_ISS + 1, p.iss + 1, 65535, new byte[0], 100);
        p.s.advance(200);
        TcpPeer.Seg ack = p.out();
        assertEquals(0, ack.len());
        assertEquals(TcpEcn.INET_ECN_NOT_ECT, ack.tos() & 3, "a pure ACK is Not-ECT");
    }

    @Test
    void aCeMarkIsEchoedWithEceOnEveryAckUntilTheSenderSendsCwr() throws Exception {
        ecnConnection(0);
        int ack = p.iss + 1;
        int seq = PEER_ISS + 1;
        p.inTos = TcpEcn.INET_ECN_CE;
        p.in(PORT, TcpHeader.ACK, seq, ack, 65535, new byte[0], 100);
        seq += 100;
        TcpPeer.Seg a1 = p.out();
        assertEquals(TcpHeader.ACK | TcpHeader.ECE, a1.flags(), "CE: an ECE ACK at once (quick ACK)");
        p.inTos = TcpEcn.INET_ECN_ECT_0;
        p.in(PORT, TcpHeader.ACK, seq, ack, 65535, new byte[0], 100);
        seq += 100;
        p.s.advance(200);
        assertEquals(TcpHeader.ECE, p.out().flags() & TcpHeader.ECE, "ECE until CWR, unmarked data too");
        p.in(PORT, TcpHeader.ACK | TcpHeader.CWR, seq, ack, 65535, new byte[0], 100);
        p.s.advance(200);
        assertEquals(TcpHeader.ACK, p.out().flags(), "CWR ends the echo");
        TcpInfo i = sockInfo(PORT);
        assertEquals(TcpInfo.TCPI_OPT_ECN | TcpInfo.TCPI_OPT_ECN_SEEN, i.options() & (TcpInfo.TCPI_OPT_ECN | TcpInfo.TCPI_OPT_ECN_SEEN));
    }

    @Test
    void anEceAckReducesTheWindowOnceAWindowWithoutRetransmittingAndTheNextNewDataCarriesCwr() throws Exception {
        ecnConnection(20 * MSS);
        List<TcpPeer.Seg> first = p.drain();
        int firstBytes = first.stream().mapToInt(TcpPeer.Seg::len).sum();
        int q = p.iss + 1;
        TcpInfo before = sockInfo(PORT);
        long retransBefore = p.count(TcpMib.Tcp.RetransSegs);
        p.in(PORT, TcpHeader.ACK | TcpHeader.ECE, PEER_ISS + 1, q + MSS, 65535, new byte[0], 0);
        TcpInfo cwr = sockInfo(PORT);
        assertEquals(TcpInfo.TCP_CA_CWR, cwr.caState(), "tcp_enter_cwr");
        assertTrue(cwr.sndSsthresh() < before.sndCwnd(), "ssthresh from the algorithm: " + cwr.sndSsthresh());
        List<TcpPeer.Seg> next = p.drain();
        long withCwr = next.stream().filter(s -> s.has(TcpHeader.CWR)).count();
        assertEquals(1, withCwr, "CWR on the first new data segment only: " + next);
        assertTrue(next.get(0).has(TcpHeader.CWR) && next.get(0).len() > 0, "the first: " + next.get(0));
        // a second echo within the same window is the same congestion: no second reduction
        p.in(PORT, TcpHeader.ACK | TcpHeader.ECE, PEER_ISS + 1, q + 2 * MSS, 65535, new byte[0], 0);
        assertEquals(cwr.sndSsthresh(), sockInfo(PORT).sndSsthresh());
        assertEquals(retransBefore, p.count(TcpMib.Tcp.RetransSegs), "a mark is no loss: nothing goes again");
        assertTrue(p.count(TcpMib.Ext.TCPDeliveredCE) >= 2, "TCPDeliveredCE");
        assertTrue(sockInfo(PORT).deliveredCe() >= 2);
        // everything sent before the reduction acknowledged, and one more: Open again, at ssthresh
        p.drain();
        p.in(PORT, TcpHeader.ACK, PEER_ISS + 1, q + firstBytes + MSS, 65535, new byte[0], 0);
        assertEquals(TcpInfo.TCP_CA_OPEN, sockInfo(PORT).caState());
    }

    @Test
    void eceOnAConnectionThatDidNotNegotiateEcnIsIgnored() throws Exception {
        peer(2);
        int l = p.listen(PORT);
        p.in(PORT, TcpHeader.SYN, PEER_ISS, 0, 65535, synOpts(), 0);
        p.out();
        p.in(PORT, TcpHeader.ACK, PEER_ISS + 1, p.iss + 1, 65535, new byte[0], 0);
        int fd = p.sys.accept(l, null, SOCK_NONBLOCK);
        assertEquals(4 * MSS, p.sys.send(fd, ByteBuffer.allocate(4 * MSS), 0));
        for (TcpPeer.Seg d : p.drain()) {
            assertEquals(0, d.tos() & 3, "no ECT without ECN");
        }
        p.in(PORT, TcpHeader.ACK | TcpHeader.ECE, PEER_ISS + 1, p.iss + 1 + MSS, 65535, new byte[0], 0);
        assertEquals(TcpInfo.TCP_CA_OPEN, sockInfo(PORT).caState());
        assertEquals(0, p.count(TcpMib.Ext.TCPDeliveredCE));
    }

    private TcpInfo sockInfo(int localPort) {
        TcpSock sk = p.s.tcp.net(p.s.ns).lookupEstablished(PEER, PEER_PORT, LOCAL, localPort);
        return sk.tcpInfo();
    }
}

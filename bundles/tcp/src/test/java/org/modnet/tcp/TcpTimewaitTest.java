package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;
import static org.modnet.tcp.Segments.mss;
import static org.modnet.tcp.Segments.nop;
import static org.modnet.tcp.Segments.opts;
import static org.modnet.tcp.Segments.sackPerm;
import static org.modnet.tcp.Segments.ts;
import static org.modnet.tcp.Segments.ws;
import static org.modnet.tcp.TcpHeader.ACK;
import static org.modnet.tcp.TcpHeader.FIN;
import static org.modnet.tcp.TcpHeader.RST;
import static org.modnet.tcp.TcpHeader.SYN;
import static org.modnet.tcp.TcpWire.PEER;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.SsCommandAccess;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * The light TIME-WAIT sock with exact segments ({@code tcp_timewait_state_process}): the test plays
 * the peer of a server whose side closes first, so the server's 4-tuple waits in TIME-WAIT.
 */
class TcpTimewaitTest {
    private static final int SPORT = 40000;
    private static final int PISS = 1_000_000;

    private TcpStack s;
    private TcpWire peer;
    private SocketCalls sys;
    private int listener;
    /** The server's ISS, from its SYN-ACK, and the peer's clock for its timestamps. */
    private int siss;
    private int tsval = 5000;
    private int lastServerTsval;

    @BeforeEach
    void setUp() throws Exception {
        s = new TcpStack();
        peer = new TcpWire(s);
        sys = s.process();
        listener = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(listener, new SockAddr(0, 5000)));
        assertEquals(0, sys.listen(listener, 8));
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    private TcpNet net() {
        return s.tcp.net(s.ns);
    }

    private TcpTimewaitSock tw() {
        return net().deathRow.lookup(PEER, SPORT, TcpWire.LOCAL, 5000);
    }

    private byte[] tsOpt() {
        return opts(nop(), nop(), ts(tsval += 10, lastServerTsval));
    }

    /** The peer connects with every option; returns the accepted descriptor. */
    private int connect() {
        peer.send(PEER, SPORT, 5000, SYN, PISS, 0, 65535, opts(mss(1460), sackPerm(), ts(tsval, 0), nop(), ws(7)), 0);
        TcpWire.Seg synack = peer.one();
        assertTrue(synack.is(SYN | ACK), synack::toString);
        siss = synack.seq();
        lastServerTsval = synack.tsval();
        peer.send(PEER, SPORT, 5000, ACK, PISS + 1, siss + 1, 1024, tsOpt(), 0);
        int fd = sys.accept(listener, null, SOCK_NONBLOCK);
        assertTrue(fd >= 3, "accept: " + SocketCalls.strerror(fd));
        return fd;
    }

    /** The server closes first; the peer acknowledges its FIN with its own: the server is in TIME-WAIT. */
    private void serverClosesFirst() {
        int fd = connect();
        assertEquals(0, sys.close(fd));
        TcpWire.Seg fin = peer.one();
        assertEquals(FIN | ACK, fin.flags(), fin::toString);
        assertEquals(siss + 1, fin.seq());
        lastServerTsval = fin.tsval();
        peer.send(PEER, SPORT, 5000, FIN | ACK, PISS + 1, siss + 2, 1024, tsOpt(), 0);
        TcpWire.Seg ack = peer.one();
        assertEquals(ACK, ack.flags(), "the peer's FIN is acknowledged: " + ack);
        assertEquals(siss + 2, ack.seq());
        assertEquals(PISS + 2, ack.ack());
        assertNotNull(tw(), "a timewait sock holds the 4-tuple");
        assertEquals(TcpSock.TCP_TIME_WAIT, tw().substate);
        assertTrue(net().orphans.isEmpty(), "the full socket is gone");
    }

    @Test
    void anIcmpErrorAboutATimeWaitConnectionFindsASocketThatIgnoresIt() {
        serverClosesFirst();
        // tcp_v4_err: a TIME-WAIT sock is not "no socket" (no Icmp InErrors); another port is
        assertTrue(TcpErr.err(net(), quote(5000, SPORT, siss + 1), 0, 3, 3, 0, 0));
        assertNotNull(tw(), "the error leaves it be");
        assertEquals(false, TcpErr.err(net(), quote(5001, SPORT, siss + 1), 0, 3, 3, 0, 0));
    }

    /** The IPv4 header and 8 bytes of a segment we sent, as an ICMP error quotes it, at offset 0. */
    private org.modnet.api.skb.SkBuff quote(int sport, int dport, int seq) {
        org.modnet.api.skb.SkBuff skb = s.stack.core().allocSkb(28, 0);
        int o = skb.put(28);
        skb.setBytes(o, new byte[28], 0, 28);
        skb.setU8(o, 0x45);
        skb.setU8(o + 9, 6);
        skb.setU32(o + 12, TcpWire.LOCAL);
        skb.setU32(o + 16, PEER);
        skb.setU16(o + 20, sport);
        skb.setU16(o + 22, dport);
        skb.setU32(o + 24, seq);
        return skb;
    }

    @Test
    void aRetransmittedFinIsAcknowledgedAndRestartsTwoMsl() {
        serverClosesFirst();
        int peerTs = tsval; // the TSval of the FIN that ended the connection: ts_recent
        s.advance(30_000, 100);
        peer.send(PEER, SPORT, 5000, FIN | ACK, PISS + 1, siss + 2, 1024, tsOpt(), 0);
        TcpWire.Seg ack = peer.one();
        assertEquals(ACK, ack.flags());
        assertEquals(siss + 2, ack.seq(), "SEQ = the old connection's snd_nxt");
        assertEquals(PISS + 2, ack.ack(), "ACK = rcv_nxt, past the FIN");
        assertTrue(ack.ts(), "timestamps as the connection had them");
        assertEquals(peerTs, ack.tsecr(), "echoing ts_recent: an out-of-window segment does not move it");
        s.advance(50_000, 100);
        assertNotNull(tw(), "80 s after the close but 50 s after the FIN again: still waiting");
        s.advance(20_000, 100);
        assertNull(tw(), "2MSL after the retransmitted FIN it is gone");
        assertEquals(1, s.count(TcpMib.Ext.TW));
        assertEquals(0, net().deathRow.count.get());
        assertEquals(0, s.count(TcpMib.Ext.TWKilled));
    }

    @Test
    void aRetransmittedFinInsideTheRateLimitIsCountedNotAnswered() {
        serverClosesFirst();
        peer.send(PEER, SPORT, 5000, FIN | ACK, PISS + 1, siss + 2, 1024, tsOpt(), 0);
        assertEquals(1, peer.take().size());
        peer.send(PEER, SPORT, 5000, FIN | ACK, PISS + 1, siss + 2, 1024, tsOpt(), 0);
        assertEquals(List.of(), peer.take(), "tcp_invalid_ratelimit: one ACK per 500 ms");
        assertEquals(1, s.count(TcpMib.Ext.TCPACKSkippedTimeWait));
    }

    @Test
    void aResetKillsTheTimewaitUnlessRfc1337() throws Exception {
        serverClosesFirst();
        s.ns.sysctl().set("net.ipv4.tcp_rfc1337", "1");
        peer.send(PEER, SPORT, 5000, RST, PISS + 2, 0, 0, new byte[0], 0);
        assertNotNull(tw(), "RFC 1337: TIME-WAIT is not assassinated");
        assertEquals(List.of(), peer.take());
        s.ns.sysctl().set("net.ipv4.tcp_rfc1337", "0");
        peer.send(PEER, SPORT, 5000, RST, PISS + 2, 0, 0, new byte[0], 0);
        assertNull(tw());
        assertEquals(1, s.count(TcpMib.Ext.TWKilled));
        assertEquals(List.of(), peer.take(), "nothing answers a RST");
    }

    @Test
    void aNewerSynOpensANewConnectionWithAnIsnBeyondTheOldOne() {
        serverClosesFirst();
        s.advance(2_000);
        peer.send(PEER, SPORT, 5000, SYN, PISS + 100_000, 0, 65535, opts(mss(1460), sackPerm(), ts(tsval += 10, 0), nop(), ws(7)), 0);
        TcpWire.Seg synack = peer.one();
        assertEquals(SYN | ACK, synack.flags(), synack::toString);
        assertEquals(siss + 2 + 65535 + 2, synack.seq(), "tcp_tw_isn: snd_nxt + 65535 + 2 (RFC 6191)");
        assertEquals(PISS + 100_001, synack.ack());
        assertNull(tw(), "the timewait sock gave way");
        lastServerTsval = synack.tsval();
        peer.send(PEER, SPORT, 5000, ACK, PISS + 100_001, synack.seq() + 1, 1024, tsOpt(), 0);
        assertTrue(sys.accept(listener, null, SOCK_NONBLOCK) >= 3, "the new connection is accepted");
    }

    @Test
    void anOldSynIsAnsweredWithAnAckAndLeavesTheTimewait() {
        serverClosesFirst();
        s.advance(1_000);
        // a SYN below rcv_nxt and with an older timestamp: an old duplicate
        peer.send(PEER, SPORT, 5000, SYN, PISS - 5, 0, 65535, opts(mss(1460), nop(), nop(), ts(1, 0)), 0);
        TcpWire.Seg ack = peer.one();
        assertEquals(ACK, ack.flags(), ack::toString);
        assertEquals(PISS + 2, ack.ack());
        assertNotNull(tw());
        assertEquals(1, s.count(TcpMib.Ext.PAWSEstab), "its timestamp is older than ts_recent");
    }

    @Test
    void beyondTcpMaxTwBucketsTheConnectionClosesWithoutTimewait() throws Exception {
        s.ns.sysctl().set("net.ipv4.tcp_max_tw_buckets", "0");
        int fd = connect();
        sys.close(fd);
        lastServerTsval = peer.one().tsval();
        peer.send(PEER, SPORT, 5000, FIN | ACK, PISS + 1, siss + 2, 1024, tsOpt(), 0);
        assertEquals(ACK, peer.one().flags(), "the FIN is still acknowledged");
        assertNull(tw());
        assertEquals(1, s.count(TcpMib.Ext.TCPTimeWaitOverflow));
        peer.send(PEER, SPORT, 5000, FIN | ACK, PISS + 1, siss + 2, 1024, tsOpt(), 0);
        assertEquals(RST, peer.one().flags(), "with nothing left for the 4-tuple, a reset");
    }

    @Test
    void ssShowsTimeWaitAndSockstatCountsIt() {
        serverClosesFirst();
        String out = SsCommandAccess.run(s.sockets, "-t", "-a", "-n");
        assertTrue(out.lines().anyMatch(l -> l.matches("TIME-WAIT\\s+0\\s+0\\s+10\\.0\\.0\\.2:5000\\s+10\\.0\\.0\\.1:40000\\s*")), out);
        assertTrue(SsCommandAccess.sockstat(s.sockets).get(1).contains(" orphan 0 tw 1 "), SsCommandAccess.sockstat(s.sockets).toString());
        assertTrue(SsCommandAccess.run(s.sockets, "-t", "state", "time-wait").contains("10.0.0.1:40000"));
    }

    @Test
    void anOrphanIsListedInFinWait1ThenWaitsInFinWait2AsATimewaitSock() {
        int fd = connect();
        assertEquals(0, sys.close(fd));
        TcpWire.Seg fin = peer.one();
        String out = SsCommandAccess.run(s.sockets, "-t", "-a", "-n");
        assertTrue(out.lines().anyMatch(l -> l.startsWith("FIN-WAIT-1") && l.contains("10.0.0.1:40000")), out);
        assertEquals(1, net().orphans.size());
        assertTrue(SsCommandAccess.sockstat(s.sockets).get(1).contains(" orphan 1 tw 0 "), SsCommandAccess.sockstat(s.sockets).toString());
        lastServerTsval = fin.tsval();
        peer.send(PEER, SPORT, 5000, ACK, PISS + 1, siss + 2, 1024, tsOpt(), 0); // the FIN acknowledged, no FIN yet
        assertEquals(List.of(), peer.take());
        assertEquals(0, net().orphans.size(), "the orphan gave way to a timewait sock");
        assertEquals(TcpSock.TCP_FIN_WAIT2, tw().substate);
        out = SsCommandAccess.run(s.sockets, "-t", "-a", "-n");
        assertTrue(out.lines().anyMatch(l -> l.startsWith("FIN-WAIT-2") && l.contains("10.0.0.1:40000")), out);
        peer.send(PEER, SPORT, 5000, FIN | ACK, PISS + 1, siss + 2, 1024, tsOpt(), 0);
        TcpWire.Seg ack = peer.one();
        assertEquals(ACK, ack.flags());
        assertEquals(PISS + 2, ack.ack(), "the FIN moves the timewait sock to TIME-WAIT");
        assertEquals(TcpSock.TCP_TIME_WAIT, tw().substate);
    }

    @Test
    void aPassiveCloserThatClosedStaysListedInLastAckUntilItsFinIsAcknowledged() {
        int fd = connect();
        peer.send(PEER, SPORT, 5000, FIN | ACK, PISS + 1, siss + 1, 1024, tsOpt(), 0);
        assertEquals(ACK, peer.one().flags());
        assertEquals(0, sys.close(fd));
        TcpWire.Seg fin = peer.one();
        assertEquals(FIN | ACK, fin.flags());
        String out = SsCommandAccess.run(s.sockets, "-t", "-a", "-n");
        assertTrue(out.lines().anyMatch(l -> l.startsWith("LAST-ACK") && l.contains("10.0.0.1:40000")), out);
        lastServerTsval = fin.tsval();
        peer.send(PEER, SPORT, 5000, ACK, PISS + 2, siss + 2, 1024, tsOpt(), 0);
        out = SsCommandAccess.run(s.sockets, "-t", "-a", "-n");
        assertTrue(out.lines().noneMatch(l -> l.contains("10.0.0.1:40000")), "gone, and no TIME-WAIT for the passive closer: " + out);
        assertTrue(net().orphans.isEmpty());
        assertNull(tw());
    }

    @Test
    void anOrphanInFinWait2ThatHearsNothingEndsAfterTcpFinTimeout() throws Exception {
        s.ns.sysctl().set("net.ipv4.tcp_fin_timeout", "10");
        int fd = connect();
        sys.close(fd);
        lastServerTsval = peer.one().tsval();
        peer.send(PEER, SPORT, 5000, ACK, PISS + 1, siss + 2, 1024, tsOpt(), 0);
        assertEquals(TcpSock.TCP_FIN_WAIT2, tw().substate);
        s.advance(9_000, 100);
        assertNotNull(tw());
        s.advance(3_000, 100);
        assertNull(tw(), "tcp_fin_timeout");
    }

    @Test
    void aPortHeldInTimewaitNeedsSoReuseaddrToBeBoundAgain() {
        serverClosesFirst();
        sys.close(listener);
        int a = sys.socket(AF_INET, SOCK_STREAM, 0);
        assertEquals(-Errno.EADDRINUSE.number(), sys.bind(a, new SockAddr(0, 5000)), "the timewait sock holds 5000");
        sys.close(a);
        s.advance(70_000, 100);
        int b = sys.socket(AF_INET, SOCK_STREAM, 0);
        assertEquals(0, sys.bind(b, new SockAddr(0, 5000)), "free once it expired");
    }

    /** A loopback connection from {@code c} to a listener on 7000 that the client closes first: its 4-tuple waits in TIME-WAIT. */
    private int clientClosesFirst(int lo, int c) {
        int l = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(l, new SockAddr(lo, 7000)));
        assertEquals(0, sys.listen(l, 8));
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(c, new SockAddr(lo, 7000)));
        s.run();
        int a = sys.accept(l, null, SOCK_NONBLOCK);
        assertTrue(a >= 3);
        sys.close(c);
        s.run();
        sys.close(a);
        s.run();
        return l;
    }

    @Test
    void tcpTwReuseLetsAConnectTakeOverATimewaitBetweenLoopbackAddresses() throws Exception {
        int lo = 0x7f000001;
        s.ns.sysctl().set("net.ipv4.ip_local_port_range", "41000 41000"); // one port to choose from
        int l = clientClosesFirst(lo, sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
        assertNotNull(net().deathRow.lookup(lo, 7000, lo, 41000));
        int c2 = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EADDRNOTAVAIL.number(), sys.connect(c2, new SockAddr(lo, 7000)), "not within a second of its last timestamp");
        s.ns.sysctl().set("net.ipv4.tcp_tw_reuse", "0");
        s.advance(2_000);
        assertEquals(-Errno.EADDRNOTAVAIL.number(), sys.connect(c2, new SockAddr(lo, 7000)), "tcp_tw_reuse=0");
        s.ns.sysctl().set("net.ipv4.tcp_tw_reuse", "2");
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(c2, new SockAddr(lo, 7000)), "2: loopback may reuse");
        s.run();
        assertEquals(1, s.count(TcpMib.Ext.TWRecycled));
        assertTrue(sys.accept(l, null, SOCK_NONBLOCK) >= 3, "the new connection completes");
        assertNull(net().deathRow.lookup(lo, 7000, lo, 41000));
    }

    @Test
    void aConnectChoosesAPortWhoseTimewaitHoldsAnotherFourTuple() throws Exception {
        int lo = 0x7f000001;
        s.ns.sysctl().set("net.ipv4.ip_local_port_range", "41000 41000");
        s.ns.sysctl().set("net.ipv4.tcp_tw_reuse", "0");
        clientClosesFirst(lo, sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
        int l2 = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(l2, new SockAddr(lo, 7001)));
        assertEquals(0, sys.listen(l2, 8));
        int c2 = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(c2, new SockAddr(lo, 7001)), "another 4-tuple: the port is free for it");
        SockAddr[] me = new SockAddr[1];
        assertEquals(0, sys.getsockname(c2, me));
        assertEquals(41000, me[0].port());
        assertNotNull(net().deathRow.lookup(lo, 7000, lo, 41000), "the TIME-WAIT stays");
    }

    @Test
    void aConnectFromABoundPortTakesOverATimewaitWithTimestampsWhateverTcpTwReuse() throws Exception {
        int lo = 0x7f000001;
        s.ns.sysctl().set("net.ipv4.tcp_tw_reuse", "0");
        int l = clientClosesFirst(lo, clientFrom(lo, 41000));
        int c2 = clientFrom(lo, 41000);
        // __inet_hash_connect with a bound port: tcp_twsk_unique without a timewait pointer asks only for timestamps
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(c2, new SockAddr(lo, 7000)));
        s.run();
        assertEquals(1, s.count(TcpMib.Ext.TWRecycled));
        assertTrue(sys.accept(l, null, SOCK_NONBLOCK) >= 3, "the new connection completes");
    }

    @Test
    void aConnectFromABoundPortCannotTakeOverATimewaitWithoutTimestamps() throws Exception {
        int lo = 0x7f000001;
        s.ns.sysctl().set("net.ipv4.tcp_timestamps", "0");
        clientClosesFirst(lo, clientFrom(lo, 41000));
        int c2 = clientFrom(lo, 41000);
        s.advance(2_000);
        assertEquals(-Errno.EADDRNOTAVAIL.number(), sys.connect(c2, new SockAddr(lo, 7000)));
        assertEquals(0, s.count(TcpMib.Ext.TWRecycled));
    }

    private int clientFrom(int addr, int port) {
        int c = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.setsockopt(c, SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1));
        assertEquals(0, sys.bind(c, new SockAddr(addr, port)));
        return c;
    }
}

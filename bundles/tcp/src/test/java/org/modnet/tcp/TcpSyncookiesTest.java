package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.tcp.Segments.mss;
import static org.modnet.tcp.Segments.nop;
import static org.modnet.tcp.Segments.opts;
import static org.modnet.tcp.Segments.sackPerm;
import static org.modnet.tcp.Segments.ts;
import static org.modnet.tcp.Segments.ws;
import static org.modnet.tcp.TcpHeader.ACK;
import static org.modnet.tcp.TcpHeader.RST;
import static org.modnet.tcp.TcpHeader.SYN;
import static org.modnet.tcp.TcpWire.LOCAL;
import static org.modnet.tcp.TcpWire.PEER;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * SYN cookies: the encoding alone ({@code secure_tcp_syn_cookie}, {@code check_tcp_syn_cookie},
 * {@code cookie_init_timestamp}), then a listener answering with them, segment by segment.
 */
class TcpSyncookiesTest {
    private static final int SPORT = 40000;
    private static final int PISS = 7_000_000;

    // --- the encoding ---

    private final AtomicLong clock = new AtomicLong(5 * 60_000_000_000L);
    private final TcpSyncookies cookies = new TcpSyncookies(clock::get, 0x0123456789abcdefL, 0x0fedcba987654321L);

    @Test
    void aCookieGivesBackTheMssIndexForItsFourTupleAndSequence() {
        for (int i = 0; i < TcpSyncookies.MSSTAB.length; i++) {
            int c = cookies.cookie(PEER, LOCAL, SPORT, 80, PISS, i);
            assertEquals(i, cookies.check(c, PEER, LOCAL, SPORT, 80, PISS));
        }
    }

    @Test
    void aCookieForAnotherFourTupleOrSequenceIsRefused() {
        int c = cookies.cookie(PEER, LOCAL, SPORT, 80, PISS, 3);
        assertEquals(-1, cookies.check(c, PEER + 1, LOCAL, SPORT, 80, PISS));
        assertEquals(-1, cookies.check(c, PEER, LOCAL, SPORT + 1, 80, PISS));
        assertEquals(-1, cookies.check(c, PEER, LOCAL, SPORT, 81, PISS));
        // the sequence number is added, not hashed (as in Linux): one off only moves the index, far off is refused
        assertEquals(2, cookies.check(c, PEER, LOCAL, SPORT, 80, PISS + 1));
        assertEquals(-1, cookies.check(c, PEER, LOCAL, SPORT, 80, PISS + 0x10000));
        assertEquals(-1, cookies.check(c + 1, PEER, LOCAL, SPORT, 80, PISS));
        TcpSyncookies other = new TcpSyncookies(clock::get, 1, 2);
        assertEquals(-1, other.check(c, PEER, LOCAL, SPORT, 80, PISS), "another secret");
    }

    @Test
    void aCookieIsGoodForItsMinuteAndTheNextOnly() {
        int c = cookies.cookie(PEER, LOCAL, SPORT, 80, PISS, 2);
        clock.addAndGet(60_000_000_000L);
        assertEquals(2, cookies.check(c, PEER, LOCAL, SPORT, 80, PISS));
        clock.addAndGet(60_000_000_000L);
        assertEquals(-1, cookies.check(c, PEER, LOCAL, SPORT, 80, PISS), "MAX_SYNCOOKIE_AGE");
    }

    @Test
    void theMssIndexIsTheLargestTableEntryNotAboveTheMss() {
        assertEquals(0, TcpSyncookies.mssIndex(100));
        assertEquals(0, TcpSyncookies.mssIndex(536));
        assertEquals(0, TcpSyncookies.mssIndex(1299));
        assertEquals(1, TcpSyncookies.mssIndex(1300));
        assertEquals(2, TcpSyncookies.mssIndex(1440));
        assertEquals(3, TcpSyncookies.mssIndex(1460));
        assertEquals(3, TcpSyncookies.mssIndex(8960));
    }

    @Test
    void theTimestampCarriesWscaleSackAndEcnInItsLowBitsAndIsNeverAhead() {
        int now = 1_000_037;
        int t = TcpSyncookies.timestamp(now, true, 7, true, false);
        assertEquals(7 | TcpSyncookies.TS_OPT_SACK, t & TcpSyncookies.TSMASK);
        assertTrue(Integer.compareUnsigned(t, now) <= 0 && now - t < 64);
        int none = TcpSyncookies.timestamp(now, false, 0, false, true);
        assertEquals(0xf | TcpSyncookies.TS_OPT_ECN, none & TcpSyncookies.TSMASK);
        TcpOptions o = new TcpOptions();
        o.sawTstamp = true;
        int all = TcpOptions.SYSCTL_TIMESTAMPS | TcpOptions.SYSCTL_SACK | TcpOptions.SYSCTL_WINDOW_SCALING;
        assertTrue(TcpSyncookies.decodeTimestamp(o, t, all));
        assertTrue(o.tstampOk && o.sackOk && o.wscaleOk);
        assertEquals(7, o.sndWscale);
        assertTrue(TcpSyncookies.decodeTimestamp(o, none, all));
        assertFalse(o.wscaleOk, "15: the SYN offered no window scale");
        assertFalse(TcpSyncookies.decodeTimestamp(o, t, TcpOptions.SYSCTL_TIMESTAMPS | TcpOptions.SYSCTL_WINDOW_SCALING),
                "SACK since turned off: refused");
        o.sawTstamp = false;
        assertTrue(TcpSyncookies.decodeTimestamp(o, 0, all));
        assertFalse(o.tstampOk || o.sackOk || o.wscaleOk, "no timestamp: no options");
    }

    // --- a listener answering with cookies ---

    private TcpStack s;
    private TcpWire peer;
    private SocketCalls sys;
    private int listener;

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

    private static byte[] synOptions(int tsval) {
        return opts(mss(1460), sackPerm(), ts(tsval, 0), nop(), ws(7));
    }

    /** Fills the SYN queue: eight SYNs from 10.0.0.1 that are never acknowledged. */
    private void fillSynQueue() {
        for (int i = 0; i < 8; i++) {
            peer.send(PEER, 30000 + i, 5000, SYN, 100 * i, 0, 65535, synOptions(1), 0);
        }
        List<TcpWire.Seg> synacks = peer.take();
        assertEquals(8, synacks.size());
        assertEquals(0, s.count(TcpMib.Ext.SyncookiesSent), "request socks while the queue has room");
    }

    /** A cookie SYN-ACK carries the listener's TOS as any SYN-ACK does, but never its ECN bits (INET_ECN_MASK). */
    @Test
    void aCookieSynackTakesTheListenersTosWithoutItsEcnBits() {
        assertEquals(0, sys.setsockopt(listener, SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, 0x13));
        fillSynQueue();
        peer.send(PEER, SPORT, 5000, SYN, PISS, 0, 65535, synOptions(4321), 0);
        TcpWire.Seg synack = peer.one();
        assertEquals(1, s.count(TcpMib.Ext.SyncookiesSent), synack::toString);
        assertEquals(0x10, synack.tos(), "DSCP kept, ECN bits cleared");
    }

    @Test
    void withTheSynQueueFullASynIsAnsweredWithACookieThatTheAckTurnsIntoAConnection() {
        fillSynQueue();
        peer.send(PEER, SPORT, 5000, SYN, PISS, 0, 65535, synOptions(4321), 0);
        TcpWire.Seg synack = peer.one();
        assertEquals(SYN | ACK, synack.flags(), synack::toString);
        assertEquals(PISS + 1, synack.ack());
        assertEquals(3, net().cookies.check(synack.seq(), PEER, LOCAL, SPORT, 5000, PISS), "the ISN is a cookie for MSS 1460");
        int tsOff = net().isn.tsOff(1, LOCAL, PEER);
        assertEquals(7 | TcpSyncookies.TS_OPT_SACK, (synack.tsval() - tsOff) & TcpSyncookies.TSMASK, "wscale 7 and SACK in TSval");
        assertEquals(4321, synack.tsecr());
        assertTrue(synack.sackOk() && synack.wscale() >= 0 && synack.mss() == 1460, synack::toString);
        assertEquals(1, s.count(TcpMib.Ext.SyncookiesSent));
        assertEquals(1, s.count(TcpMib.Ext.TCPReqQFullDoCookies));
        assertEquals(0, s.count(TcpMib.Ext.ListenDrops));
        int inEhash = net().established.get();

        peer.send(PEER, SPORT, 5000, ACK, PISS + 1, synack.seq() + 1, 1024, opts(nop(), nop(), ts(4331, synack.tsval())), 0);
        assertEquals(1, s.count(TcpMib.Ext.SyncookiesRecv));
        assertEquals(inEhash + 1, net().established.get());
        int fd = sys.accept(listener, null, SOCK_NONBLOCK);
        assertTrue(fd >= 3, "accept: " + SocketCalls.strerror(fd));
        assertEquals(List.of(), peer.take(), "nothing to say yet");

        // what the cookie kept: MSS 1460 less the timestamps, the peer's window scale of 7
        assertEquals(4000, sys.send(fd, ByteBuffer.wrap(new byte[4000]), 0));
        s.run();
        List<TcpWire.Seg> data = peer.take();
        assertTrue(data.size() >= 2, data::toString);
        assertEquals(1448, data.get(0).len(), "MSS from the cookie less TCPOLEN_TSTAMP_ALIGNED");
        assertEquals(4000, data.stream().mapToInt(TcpWire.Seg::len).sum(), "1024 << 7 of window takes it all");
        assertEquals(synack.seq() + 1, data.get(0).seq());
        assertTrue(data.get(0).ts(), "timestamps on: the echo said so");
        peer.send(PEER, SPORT, 5000, ACK, PISS + 1, synack.seq() + 4001, 1024, opts(nop(), nop(), ts(4341, data.get(0).tsval())), 10);
        ByteBuffer in = ByteBuffer.allocate(100);
        assertEquals(10, sys.recv(fd, in, MSG_DONTWAIT));
    }

    @Test
    void theFirstOverflowIsLoggedOncePerListener() {
        fillSynQueue();
        Sock l = s.sockets.sockets("").stream().filter(x -> x.state() == Sock.TCP_LISTEN).findFirst().orElseThrow();
        assertFalse(((TcpSock) l).synfloodWarned());
        peer.send(PEER, SPORT, 5000, SYN, PISS, 0, 65535, synOptions(1), 0);
        peer.send(PEER, SPORT + 1, 5000, SYN, PISS, 0, 65535, synOptions(1), 0);
        assertTrue(((TcpSock) l).synfloodWarned(), "possible SYN flooding on port 5000. Sending cookies.");
        assertEquals(2, s.count(TcpMib.Ext.SyncookiesSent));
    }

    @Test
    void anAckWithABadCookieIsCountedAndReset() {
        fillSynQueue();
        peer.send(PEER, SPORT, 5000, SYN, PISS, 0, 65535, synOptions(1), 0);
        TcpWire.Seg synack = peer.one();
        peer.send(PEER, SPORT, 5000, ACK, PISS + 1, synack.seq() + 2, 1024, new byte[0], 0);
        assertEquals(1, s.count(TcpMib.Ext.SyncookiesFailed));
        assertEquals(0, s.count(TcpMib.Ext.SyncookiesRecv));
        TcpWire.Seg rst = peer.one();
        assertEquals(RST, rst.flags());
        assertEquals(synack.seq() + 2, rst.seq());
    }

    @Test
    void withoutARecentOverflowAnAckIsNotTakenForACookie() {
        peer.send(PEER, SPORT, 5000, ACK, PISS + 1, 12345, 1024, new byte[0], 0);
        assertEquals(RST, peer.one().flags());
        assertEquals(0, s.count(TcpMib.Ext.SyncookiesFailed), "cookies were not being sent");
    }

    @Test
    void withSyncookiesOffAFullQueueDropsTheSyn() throws Exception {
        s.ns.sysctl().set("net.ipv4.tcp_syncookies", "0");
        fillSynQueue();
        peer.send(PEER, SPORT, 5000, SYN, PISS, 0, 65535, synOptions(1), 0);
        assertEquals(List.of(), peer.take());
        assertEquals(1, s.count(TcpMib.Ext.TCPReqQFullDrop));
        assertEquals(1, s.count(TcpMib.Ext.ListenDrops));
        assertEquals(0, s.count(TcpMib.Ext.SyncookiesSent));
    }

    @Test
    void withSyncookiesTwoEverySynGetsACookieAndWithoutTimestampsNoScaleOrSack() throws Exception {
        s.ns.sysctl().set("net.ipv4.tcp_syncookies", "2");
        int inEhash = net().established.get();
        peer.send(PEER, SPORT, 5000, SYN, PISS, 0, 65535, opts(mss(1300), sackPerm(), nop(), ws(5)), 0);
        TcpWire.Seg synack = peer.one();
        assertEquals(SYN | ACK, synack.flags());
        assertEquals(inEhash, net().established.get(), "no request sock");
        assertEquals(1, net().cookies.check(synack.seq(), PEER, LOCAL, SPORT, 5000, PISS), "MSS 1300");
        assertFalse(synack.ts() || synack.sackOk() || synack.wscale() >= 0, "nothing a cookie cannot keep: " + synack);
        assertEquals(1, s.count(TcpMib.Ext.SyncookiesSent));
        peer.send(PEER, SPORT, 5000, ACK, PISS + 1, synack.seq() + 1, 65535, new byte[0], 0);
        assertEquals(1, s.count(TcpMib.Ext.SyncookiesRecv));
        int fd = sys.accept(listener, null, SOCK_NONBLOCK);
        assertTrue(fd >= 3);
        assertEquals(3000, sys.send(fd, ByteBuffer.wrap(new byte[3000]), 0));
        s.run();
        assertEquals(1300, peer.take().get(0).len(), "MSS 1300 from the cookie");
    }
}

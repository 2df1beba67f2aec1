package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.modnet.tcp.TcpFuzzHarness.CLOSED_PORT;
import static org.modnet.tcp.TcpFuzzHarness.LOCALHOST;
import static org.modnet.tcp.TcpFuzzHarness.PORT;
import static org.modnet.tcp.TcpFuzzHarness.field;
import static org.modnet.tcp.TcpFuzzHarness.rcvNxt;
import static org.modnet.tcp.TcpHeader.ACK;
import static org.modnet.tcp.TcpHeader.FIN;
import static org.modnet.tcp.TcpHeader.PSH;
import static org.modnet.tcp.TcpHeader.RST;
import static org.modnet.tcp.TcpHeader.SYN;
import static org.modnet.tcp.TcpHeader.URG;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketCalls;
import org.modnet.tcp.TcpDrops.Reason;
import org.modnet.tcp.TcpFuzzHarness.Outcome;
import org.modnet.tcp.TcpFuzzHarness.Seen;

/**
 * Bad input, one kind at a time, against an established connection and a listener: each impossible
 * flag set, each out-of-window number and each broken header gets the answer RFC 9293 3.10.7 and RFC
 * 5961 ask for, as Linux gives it, ends on its drop reason and moves its counters.
 */
class TcpBadInputTest {
    private static final byte[] NONE = new byte[0];

    private TcpFuzzHarness h;
    /** The server end: the segments below come from the client's address and port. */
    private TcpSock v;

    @BeforeEach
    void setUp() {
        h = new TcpFuzzHarness(4096, 1);
        v = h.ss;
        h.pump(1000); // some data each way, acknowledged
        h.s.advance(100);
        h.pump(1000);
        h.s.advance(100);
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    private int r() {
        return rcvNxt(v);
    }

    private int sndNxt() {
        return field(v, "sndNxt");
    }

    private Outcome send(int flags, int seq, int ack, byte[] payload) {
        byte[] tcp = TcpFuzzHarness.segment(v.rport(), v.lport(), seq, ack, flags, 1024, NONE, payload);
        return h.injectTo(v, TcpFuzzHarness.checksum(tcp, v.raddr(), v.laddr()));
    }

    private Outcome toListener(int flags, int sport, byte[] options) {
        byte[] tcp = TcpFuzzHarness.segment(sport, PORT, 1000, 0, flags, 65535, options, NONE);
        return h.inject(LOCALHOST, LOCALHOST, TcpFuzzHarness.checksum(tcp, LOCALHOST, LOCALHOST));
    }

    private void assertFate(Reason fate, Outcome o) {
        assertEquals(1, o.fates(), "exactly one fate: " + o);
        assertEquals(1, o.n(Seen.InSegs), "counted in InSegs");
        assertEquals(fate, o.fate(), o.toString());
    }

    private void assertStillEstablished() {
        h.s.run();
        assertEquals(Sock.TCP_ESTABLISHED, v.state());
        assertEquals(Sock.TCP_ESTABLISHED, h.cs.state());
    }

    // --- impossible flag sets on an established connection ---

    @Test
    void synFinInTheWindowIsAChallengeAckAndInErrs() {
        Outcome o = send(SYN | FIN | ACK, r(), sndNxt(), NONE);
        assertFate(Reason.TCP_INVALID_SYN, o);
        assertEquals(1, o.n(Seen.TCPSYNChallenge));
        assertEquals(1, o.n(Seen.TCPChallengeACK));
        assertEquals(1, o.n(Seen.OutSegs), "the challenge ACK");
        assertEquals(1, o.n(Seen.InErrs), "tcp_rcv_established counts a SYN in InErrs");
        assertStillEstablished();
    }

    @Test
    void aChallengedSynInTheWindowLeavesTsRecentAlone() {
        int before = field(v, "tsRecent");
        byte[] options = Segments.opts(Segments.nop(), Segments.nop(), Segments.ts(before + 1_000_000, 0));
        byte[] tcp = TcpFuzzHarness.segment(v.rport(), v.lport(), r(), sndNxt(), SYN | ACK, 1024, options, NONE);
        Outcome o = h.injectTo(v, TcpFuzzHarness.checksum(tcp, v.raddr(), v.laddr()));
        assertFate(Reason.TCP_INVALID_SYN, o);
        assertEquals(before, field(v, "tsRecent"), "else every later segment of the peer fails PAWS and the connection stalls");
        h.pump(100);
        h.s.advance(100);
        assertEquals(0, h.s.count(TcpMib.Ext.PAWSEstab));
    }

    @Test
    void synRstNotAtRcvNxtIsAResetCheckedFirstAndChallenged() {
        Outcome o = send(SYN | RST, r() + 1, 0, NONE);
        assertFate(Reason.TCP_RESET, o);
        assertEquals(1, o.n(Seen.TCPChallengeACK));
        assertEquals(0, o.n(Seen.TCPSYNChallenge), "RST is checked before SYN (RFC 9293 3.10.7.4 second, fourth)");
        assertStillEstablished();
    }

    @Test
    void synRstAtRcvNxtResetsTheConnection() {
        Outcome o = send(SYN | RST, r(), 0, NONE);
        assertFate(Reason.TCP_RESET, o);
        assertEquals(Sock.TCP_CLOSE, v.state());
        int[] err = new int[1];
        h.sys.getsockopt(h.server, SocketCalls.SOL_SOCKET, SocketCalls.SO_ERROR, err);
        assertEquals(Errno.ECONNRESET.number(), err[0]);
    }

    @Test
    void noFlagsAtAllIsDroppedWithoutAnAnswerInOrOutOfTheWindow() {
        assertFate(Reason.TCP_FLAGS, send(0, r(), sndNxt(), new byte[10]));
        Outcome far = send(0, r() + (1 << 30), sndNxt(), NONE);
        assertFate(Reason.TCP_FLAGS, far);
        assertEquals(0, far.n(Seen.OutSegs), "no dupack: Linux checks the flags before the sequence");
        assertStillEstablished();
    }

    @Test
    void finWithoutAckIsDroppedAndTheConnectionStaysOpen() {
        Outcome o = send(FIN, r(), 0, NONE);
        assertFate(Reason.TCP_FLAGS, o);
        assertEquals(0, o.n(Seen.OutSegs));
        assertStillEstablished();
    }

    @Test
    void urgAloneIsDropped() {
        assertFate(Reason.TCP_FLAGS, send(URG | PSH, r(), 0, new byte[] { 1 }));
        assertStillEstablished();
    }

    // --- sequence and acknowledgment numbers ---

    @Test
    void aResetInTheWindowButNotAtRcvNxtGetsAChallengeAckAndAnotherWithinHalfASecondIsSkipped() {
        Outcome first = send(RST, r() + 100, 0, NONE);
        assertFate(Reason.TCP_RESET, first);
        assertEquals(1, first.n(Seen.TCPChallengeACK));
        Outcome second = send(RST | ACK, r() + 200, sndNxt(), NONE);
        assertFate(Reason.TCP_RESET, second);
        assertEquals(1, second.n(Seen.TCPACKSkippedChallenge), "tcp_invalid_ratelimit");
        assertEquals(0, second.n(Seen.OutSegs));
        assertStillEstablished();
    }

    @Test
    void aResetOutOfTheWindowIsIgnoredSilently() {
        Outcome o = send(RST, r() + (1 << 30), 0, NONE);
        assertFate(Reason.TCP_INVALID_SEQUENCE, o);
        assertEquals(0, o.n(Seen.OutSegs));
        assertStillEstablished();
    }

    @Test
    void aSynOutOfTheWindowIsAChallengeAckToo() {
        Outcome o = send(SYN, r() - (1 << 30), 0, NONE);
        assertFate(Reason.TCP_INVALID_SYN, o);
        assertEquals(1, o.n(Seen.TCPSYNChallenge), "RFC 5961 4.2: whatever its sequence number");
        assertEquals(1, o.n(Seen.TCPChallengeACK));
        assertStillEstablished();
    }

    @Test
    void dataOutOfTheWindowIsAlwaysAnsweredAndABareAckOncePerRatelimit() {
        Outcome o = send(ACK, r() + (1 << 20), sndNxt(), new byte[100]);
        assertFate(Reason.TCP_INVALID_SEQUENCE, o);
        assertEquals(1, o.n(Seen.OutSegs), "tcp_send_dupack");
        Outcome again = send(ACK, r() - 5000, sndNxt(), new byte[100]);
        assertFate(Reason.TCP_OLD_SEQUENCE, again);
        assertEquals(1, again.n(Seen.OutSegs), "data is always answered: no ACK loop can come of it");
        Outcome bare = send(ACK, r() - 5000, sndNxt(), NONE);
        assertFate(Reason.TCP_OLD_SEQUENCE, bare);
        assertEquals(1, bare.n(Seen.OutSegs), "the first bare ACK out of the window is answered");
        Outcome old = send(ACK, r() - 5000, sndNxt(), NONE);
        assertFate(Reason.TCP_OLD_SEQUENCE, old);
        assertEquals(1, old.n(Seen.TCPACKSkippedSeq), "a bare ACK out of the window waits for tcp_invalid_ratelimit");
        assertEquals(0, old.n(Seen.OutSegs));
        assertStillEstablished();
    }

    @Test
    void anAckOfDataNotSentIsDroppedWithItsDataInEstablished() {
        int before = r();
        Outcome o = send(ACK, r(), sndNxt() + 100_000, new byte[50]);
        assertFate(Reason.TCP_ACK_UNSENT_DATA, o);
        assertEquals(0, o.n(Seen.OutSegs), "no challenge in ESTABLISHED (tcp_rcv_established)");
        assertEquals(before, r(), "its bytes were not taken");
        assertStillEstablished();
    }

    @Test
    void anAckOlderThanTheMaxWindowIsABlindInjectionAndChallenged() {
        int old = field(v, "sndUna") - field(v, "maxWindow") - 1;
        int before = r();
        Outcome o = send(ACK, r(), old, new byte[50]);
        assertFate(Reason.TCP_TOO_OLD_ACK, o);
        assertEquals(1, o.n(Seen.TCPChallengeACK), "RFC 5961 5.2");
        assertEquals(before, r(), "its bytes were not taken");
        assertStillEstablished();
    }

    @Test
    void aRetransmittedFinIsAcknowledgedAgain() {
        assertEquals(0, h.sys.shutdown(h.client, SocketCalls.SHUT_WR));
        h.s.run();
        assertEquals(Sock.TCP_CLOSE_WAIT, v.state());
        Outcome o = send(FIN | ACK, r() - 1, sndNxt(), NONE); // the peer did not see our ACK of its FIN
        assertFate(Reason.TCP_OLD_DATA, o);
        assertEquals(1, o.n(Seen.OutSegs), "the ACK again, at once");
    }

    @Test
    void anAckThatMovesSndUnaUpdatesTheWindowEvenBehindAnOutOfOrderSegmentsSequence() {
        assertEquals(100, h.sys.send(h.server, java.nio.ByteBuffer.wrap(new byte[100]), 0)); // on lo, not yet received
        int una = field(v, "sndUna");
        int wscale = field(h.cs, "rcvWscale");
        byte[] ahead = TcpFuzzHarness.segment(v.rport(), v.lport(), r() + 1000, una, ACK, 0, NONE, NONE);
        assertFate(null, h.injectTo(v, TcpFuzzHarness.checksum(ahead, v.raddr(), v.laddr())));
        assertEquals(0, field(v, "sndWnd"), "a segment ahead in the window set SND.WL1 and a zero window");
        byte[] acks = TcpFuzzHarness.segment(v.rport(), v.lport(), r(), una + 100, ACK, 1000, NONE, NONE);
        assertFate(null, h.injectTo(v, TcpFuzzHarness.checksum(acks, v.raddr(), v.laddr())));
        assertEquals(1000 << wscale, field(v, "sndWnd"), "tcp_may_update_window: an ACK of new data updates it");
    }

    @Test
    void aTimeWaitSockEndsOnlyOnAResetAtRcvNxtAndEachSegmentHasOneFate() {
        assertEquals(0, h.sys.shutdown(h.client, SocketCalls.SHUT_WR));
        h.s.run();
        h.sys.close(h.server);
        h.s.run();
        TcpSock c = h.cs; // closed; its 4-tuple now belongs to a timewait sock
        TcpNet net = h.s.tcp.net(h.s.ns);
        assertNotNull(net.deathRow.lookup(c.raddr(), c.rport(), c.laddr(), c.lport()), "TIME-WAIT");
        int at = rcvNxt(c);
        byte[] blind = TcpFuzzHarness.segment(c.rport(), c.lport(), at + 10, 0, RST, 0, NONE, NONE);
        assertFate(Reason.NOT_SPECIFIED, h.injectTo(c, TcpFuzzHarness.checksum(blind, c.raddr(), c.laddr())));
        assertNotNull(net.deathRow.lookup(c.raddr(), c.rport(), c.laddr(), c.lport()), "a reset elsewhere is dropped");
        long killed = h.s.count(TcpMib.Ext.TWKilled);
        byte[] exact = TcpFuzzHarness.segment(c.rport(), c.lport(), at, 0, RST, 0, NONE, NONE);
        assertFate(Reason.NOT_SPECIFIED, h.injectTo(c, TcpFuzzHarness.checksum(exact, c.raddr(), c.laddr())));
        assertNull(net.deathRow.lookup(c.raddr(), c.rport(), c.laddr(), c.lport()));
        assertEquals(killed + 1, h.s.count(TcpMib.Ext.TWKilled));
    }

    // --- the listener ---

    @Test
    void aSynFinToAListenerMakesNoRequestAndNoAnswer() {
        Outcome o = toListener(SYN | FIN, 20001, NONE);
        assertFate(Reason.TCP_FLAGS, o);
        assertEquals(0, o.n(Seen.OutSegs));
        assertNull(h.s.tcp.net(h.s.ns).lookupEstablished(LOCALHOST, 20001, LOCALHOST, PORT));
    }

    @Test
    void aSynRstToAListenerIsDropped() {
        Outcome o = toListener(SYN | RST, 20002, NONE);
        assertFate(Reason.TCP_RESET, o);
        assertEquals(0, o.n(Seen.OutSegs));
    }

    @Test
    void segmentsWithoutSynToAListenerAreDroppedAndAnAckIsReset() {
        assertFate(Reason.TCP_FLAGS, toListener(0, 20003, NONE));
        assertFate(Reason.TCP_FLAGS, toListener(FIN, 20003, NONE));
        assertFate(Reason.TCP_FLAGS, toListener(URG, 20003, NONE));
        Outcome ack = toListener(ACK, 20003, NONE);
        assertFate(Reason.TCP_FLAGS, ack);
        assertEquals(1, ack.n(Seen.OutRsts), "RFC 9293 3.10.7.2: <SEQ=SEG.ACK><CTL=RST>");
    }

    @Test
    void aSynWithAbsurdOptionsMakesARequestWithSaneOnes() throws Exception {
        byte[] options = Segments.opts(Segments.mss(0), Segments.ws(15), Segments.raw(77, 4, 0, 0), Segments.raw(1, 1, 1, 0),
                Segments.raw(2, 0, 0, 0));
        Outcome o = toListener(SYN, 20004, options);
        assertFate(null, o);
        assertEquals(1, o.n(Seen.OutSegs), "the SYN-ACK");
        TcpSock child = h.s.tcp.net(h.s.ns).lookupEstablished(LOCALHOST, 20004, LOCALHOST, PORT);
        assertNotNull(child);
        java.lang.reflect.Field f = TcpSock.class.getDeclaredField("rx");
        f.setAccessible(true);
        TcpOptions rx = (TcpOptions) f.get(child);
        assertEquals(TcpOptions.MSS_DEFAULT, rx.mssClamp, "MSS 0 is ignored");
        assertEquals(14, rx.sndWscale, "a window scale of 15 is taken as 14");
        assertEquals(1, rx.illegalWscale);
        assertEquals(1, h.s.tcp.net(h.s.ns).illegalWscale(), "and counted for the namespace");
    }

    @Test
    void aSegmentToAClosedPortIsResetAndCountedAsNoSocket() {
        byte[] tcp = TcpFuzzHarness.segment(20005, CLOSED_PORT, 1, 0, SYN, 100, NONE, NONE);
        Outcome o = h.inject(LOCALHOST, LOCALHOST, TcpFuzzHarness.checksum(tcp, LOCALHOST, LOCALHOST));
        assertFate(Reason.NO_SOCKET, o);
        assertEquals(1, o.n(Seen.OutRsts));
    }

    // --- broken headers ---

    @Test
    void aBadChecksumIsInCsumErrorsAndInErrs() {
        byte[] tcp = TcpFuzzHarness.checksum(TcpFuzzHarness.segment(v.rport(), v.lport(), r(), sndNxt(), ACK, 100, NONE,
                new byte[20]), v.raddr(), v.laddr());
        tcp[25] ^= 0x40;
        Outcome o = h.injectTo(v, tcp);
        assertFate(Reason.TCP_CSUM, o);
        assertEquals(1, o.n(Seen.InCsumErrors));
        assertEquals(1, o.n(Seen.InErrs));
    }

    @Test
    void aDataOffsetBelowFiveWordsIsInErrsAndOnePastTheEndIsDroppedUncounted() {
        byte[] low = TcpFuzzHarness.segment(v.rport(), v.lport(), r(), sndNxt(), ACK, 100, NONE, NONE);
        low[TcpHeader.DOFF] = 4 << 4;
        Outcome o = h.injectTo(v, TcpFuzzHarness.checksum(low, v.raddr(), v.laddr()));
        assertFate(Reason.PKT_TOO_SMALL, o);
        assertEquals(1, o.n(Seen.InErrs));
        byte[] high = TcpFuzzHarness.segment(v.rport(), v.lport(), r(), sndNxt(), ACK, 100, NONE, new byte[8]);
        high[TcpHeader.DOFF] = (byte) (15 << 4);
        Outcome p = h.injectTo(v, TcpFuzzHarness.checksum(high, v.raddr(), v.laddr()));
        assertFate(Reason.PKT_TOO_SMALL, p);
        assertEquals(0, p.n(Seen.InErrs));
        Outcome shortOne = h.injectTo(v, new byte[12]);
        assertFate(Reason.PKT_TOO_SMALL, shortOne);
        assertStillEstablished();
    }

    @Test
    void aPureAckInOrderIsConsumed() {
        Outcome o = send(ACK, r(), sndNxt(), NONE);
        assertFate(null, o);
        assertEquals(0, o.n(Seen.OutSegs));
        assertStillEstablished();
    }
}

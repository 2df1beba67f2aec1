package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.SocketCalls;

/**
 * PAWS (RFC 7323 5): a segment whose TSval is older than ts_recent is dropped and answered with a
 * duplicate ACK (PAWSEstab), ts_recent moves only for segments at or before the last ACK sent, a
 * reset passes, and a ts_recent idle for 24 days no longer rejects anything.
 */
class TcpPawsTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;
    private int fd;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        int l = p.listen(PORT);
        TcpPeer.Seg[] sa = new TcpPeer.Seg[1];
        p.in(PORT, TcpHeader.SYN, PEER_ISS, 0, 65535,
                Segments.opts(Segments.mss(1460), Segments.sackPerm(), Segments.ts(100, 0), Segments.nop(), Segments.ws(7)), 0);
        sa[0] = p.out();
        assertEquals(100, sa[0].tsecr());
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 1000, TcpPeer.ts(200, (int) sa[0].tsval()), 0);
        fd = p.sys.accept(l, null, SocketCalls.SOCK_NONBLOCK);
        p.none();
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    private void data(int seq, int len, int tsval) {
        p.in(PORT, TcpHeader.ACK, seq, p.iss + 1, 1000, TcpPeer.ts(tsval, 0), len);
    }

    private int read() {
        return p.sys.recv(fd, ByteBuffer.allocate(10_000), SocketCalls.MSG_DONTWAIT);
    }

    @Test
    void aSegmentWithAnOlderTimestampIsDroppedAndAnsweredWithADuplicateAck() {
        data(P, 10, 300);
        TcpPeer.Seg a = p.out();
        assertEquals(P + 10, a.ack());
        assertEquals(300, a.tsecr(), "ts_recent took the in-order segment's TSval");
        data(P + 10, 10, 250);
        a = p.out();
        assertEquals(P + 10, a.ack(), "the old segment's bytes were not taken");
        assertEquals(300, a.tsecr());
        assertEquals(1, p.count(TcpMib.Ext.PAWSEstab));
        assertEquals(10, read());
    }

    @Test
    void oldPureAcksAreAnsweredAtMostOncePerRatelimit() {
        int old = 200 - 100_000; // far more than an RTO older: not a reordered duplicate ACK
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 1000, TcpPeer.ts(old, 0), 0);
        assertEquals(P, p.out().ack());
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 1000, TcpPeer.ts(old, 0), 0);
        p.none();
        assertEquals(2, p.count(TcpMib.Ext.PAWSEstab));
        assertEquals(1, p.count(TcpMib.Ext.TCPACKSkippedPAWS));
    }

    @Test
    void aReorderedDuplicateAckWithinAnRtoIsNotRejected() {
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 1000, TcpPeer.ts(300, 0), 0);
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 1000, TcpPeer.ts(290, 0), 0); // sent before the one above
        p.none();
        assertEquals(0, p.count(TcpMib.Ext.PAWSEstab), "tcp_disordered_ack");
    }

    @Test
    void aResetWithAnOldTimestampStillResets() {
        p.in(PORT, TcpHeader.RST, P, 0, 0, TcpPeer.ts(5, 0), 0);
        assertEquals(-Errno.ECONNRESET.number(), read());
        assertEquals(0, p.count(TcpMib.Ext.PAWSEstab));
    }

    @Test
    void outOfOrderSegmentsDoNotMoveTsRecent() {
        data(P + 100, 10, 900); // after the last ACK sent: RFC 7323 4.3 keeps ts_recent
        assertEquals(200, p.out().tsecr());
        data(P, 10, 300);
        assertEquals(300, p.out().tsecr());
        assertEquals(0, p.count(TcpMib.Ext.PAWSEstab));
    }

    @Test
    void anAckOfDataNotSentDoesNotMoveTsRecent() {
        // packetdrill ts_recent/invalid_ack.pkt
        p.in(PORT, TcpHeader.FIN | TcpHeader.ACK, P, p.iss + 9999, 1000, TcpPeer.ts(200_000, 0), 0);
        p.drain();
        data(P, 1000, 201);
        TcpPeer.Seg a = p.out();
        assertEquals(P + 1000, a.ack());
        assertEquals(201, a.tsecr());
    }

    @Test
    void aTsRecentIdleForTwentyFourDaysNoLongerRejects() {
        data(P, 10, 300);
        p.drain();
        p.s.advance(25L * 24 * 3600 * 1000, 3_600_000);
        p.drain();
        data(P + 10, 10, 7); // the peer's clock wrapped or restarted meanwhile
        assertEquals(P + 20, p.out().ack());
        assertEquals(0, p.count(TcpMib.Ext.PAWSEstab));
        assertEquals(20, read());
    }
}

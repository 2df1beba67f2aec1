package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.socket.api.SocketCalls;

/**
 * Linux's pingpong (interactive) mode, {@code icsk_ack.pingpong}: a data reply sent within ato of the
 * data it answers counts (tcp_event_data_sent), and at {@code net.ipv4.tcp_pingpong_thresh} (1) the
 * connection is request/response: a short pushed request is acknowledged neither on arrival (no quick
 * ACK: tcp_in_quickack_mode) nor by the read that takes it (tcp_cleanup_rbuf's PUSHED rule is for
 * connections that are not interactive), but by the answer. A delayed-ACK timer that fires (no answer
 * came) leaves the mode. An HTTP keep-alive server, one TAP write a request instead of two.
 */
class TcpPingpongTest {
    private static final int PORT = 5000;
    private static final int REQUEST = 29; // "GET /rr HTTP/1.1\r\nHost: x\r\n\r\n"
    private static final int ANSWER = 206;

    private TcpPeer p;
    private int l;
    private int fd;
    private int seq = PEER_ISS + 1;
    private int acked;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        l = p.listen(PORT);
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
        acked = p.iss + 1;
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    /** The peer's request (PSH, acknowledging all the stack sent): what the stack sent at its arrival. */
    private List<TcpPeer.Seg> request() {
        p.in(PORT, TcpHeader.ACK | TcpHeader.PSH, seq, acked, 65535, new byte[0], REQUEST);
        seq += REQUEST;
        return p.drain();
    }

    /** The application reads the request: what the read sent. */
    private List<TcpPeer.Seg> read() {
        assertEquals(REQUEST, p.sys.recv(fd, ByteBuffer.allocate(4096), 0));
        return p.drain();
    }

    /** The application answers: what the write sent. */
    private List<TcpPeer.Seg> answer() {
        assertEquals(ANSWER, p.sys.send(fd, ByteBuffer.allocate(ANSWER), 0));
        List<TcpPeer.Seg> out = p.drain();
        acked += ANSWER;
        return out;
    }

    /** One request read and answered at once: the answer within ato makes the connection interactive. */
    private void becomeInteractive() {
        request();
        read();
        answer();
        assertTrue(sock().inPingpong());
    }

    private TcpSock sock() {
        return p.s.sock(p.sys, fd);
    }

    private int quickack() {
        int[] v = new int[1];
        assertEquals(1, p.sys.getsockopt(fd, SocketCalls.SOL_TCP, SocketCalls.TCP_QUICKACK, v), "one word");
        return v[0];
    }

    private void quickack(int val) {
        assertEquals(0, p.sys.setsockopt(fd, SocketCalls.SOL_TCP, SocketCalls.TCP_QUICKACK, new int[] {val}));
    }

    @Test
    void answeredRequestsAreAcknowledgedByTheirAnswersOnly() {
        // the first request: quick-ACK mode acknowledges it on arrival; its answer, within ato, makes the
        // connection interactive
        assertEquals(1, request().size(), "the first request is quick-ACKed");
        assertEquals(List.of(), read());
        answer();
        assertTrue(sock().inPingpong());
        // every next one (the quick ACKs of a new connection not used up): the answer is the only segment
        for (int i = 0; i < 40; i++) {
            assertEquals(List.of(), request(), "request " + i + ": no quick ACK on an interactive connection");
            assertEquals(List.of(), read(), "request " + i + ": the read does not acknowledge a pushed request");
            List<TcpPeer.Seg> a = answer();
            assertEquals(1, a.size(), "request " + i + ": " + a);
            assertEquals(seq, a.get(0).ack(), "the answer acknowledges the request");
            assertEquals(ANSWER, a.get(0).len());
        }
        assertEquals(0, p.count(TcpMib.Ext.DelayedACKs));
    }

    @Test
    void aDelayedAckTimerThatFiresLeavesPingpongMode() {
        becomeInteractive();
        // a request the application does not answer: the delayed ACK goes when its timer fires
        assertEquals(List.of(), request());
        assertEquals(List.of(), read());
        p.s.advance(250, 5);
        List<TcpPeer.Seg> delayed = p.drain();
        assertEquals(1, delayed.size(), "the delayed ACK: " + delayed);
        assertEquals(seq, delayed.get(0).ack());
        assertEquals(1, p.count(TcpMib.Ext.DelayedACKs));
        assertFalse(sock().inPingpong(), "no answer carried the ACK: the connection is not request/response");
        // out of the mode, a pushed request read out is acknowledged by the read (tcp_cleanup_rbuf)
        List<TcpPeer.Seg> arrival = request();
        List<TcpPeer.Seg> r = arrival.isEmpty() ? read() : arrival;
        assertEquals(1, r.size(), "acknowledged at once or by the read: " + arrival + " " + r);
        assertEquals(seq, r.get(0).ack());
    }

    @Test
    void theThresholdIsTheSysctls() throws Exception {
        p.s.ns.sysctl().set("net.ipv4.tcp_pingpong_thresh", "3");
        for (int i = 0; i < 2; i++) {
            request();
            read();
            answer();
            assertFalse(sock().inPingpong(), "after " + (i + 1) + " answers of 3");
        }
        request();
        read();
        answer();
        assertTrue(sock().inPingpong(), "the third answer within ato");
        assertEquals(List.of(), request());
        assertEquals(List.of(), read());
        assertEquals(1, answer().size());
    }

    @Test
    void aSlowAnswerDoesNotCountAQuickOneDoes() {
        request();
        read();
        p.s.advance(100, 5); // past ato (40 ms): the delayed ACK went, and the answer is no quick reply
        p.drain();
        answer();
        assertFalse(sock().inPingpong());
        // the next one answered at once counts
        becomeInteractive();
        assertEquals(List.of(), request());
        assertEquals(List.of(), read());
    }

    /**
     * TCP_QUICKACK as {@code __tcp_sock_set_quickack}: like tcp_cleanup_rbuf's pushed rule it acknowledges
     * only what the application has read out; unread data waits for the read or the timer.
     */
    @Test
    void tcpQuickackZeroEntersTheModeAndOneLeavesItAcknowledgingWhatIsDue() {
        assertEquals(1, quickack(), "a new connection is not interactive");
        request(); // quick-ACKed: nothing due
        read();
        quickack(0);
        assertTrue(sock().inPingpong());
        assertEquals(0, quickack());
        assertEquals(List.of(), request(), "interactive: no ACK at arrival");
        assertEquals(List.of(), read(), "nor from the read");
        quickack(1);
        List<TcpPeer.Seg> now = p.drain();
        assertEquals(1, now.size(), "TCP_QUICKACK 1 sends the ACK that was due: " + now);
        assertEquals(seq, now.get(0).ack());
        assertFalse(sock().inPingpong());
        assertEquals(1, quickack());
        quickack(1);
        assertEquals(List.of(), p.drain(), "nothing due: nothing sent");
    }

    @Test
    void tcpQuickackTwoAcknowledgesAndStaysInteractive() {
        becomeInteractive();
        assertEquals(List.of(), request());
        assertEquals(List.of(), read());
        quickack(2);
        List<TcpPeer.Seg> now = p.drain();
        assertEquals(1, now.size(), "the ACK due goes at once: " + now);
        assertEquals(seq, now.get(0).ack());
        assertTrue(sock().inPingpong(), "an even value goes back to pingpong mode");
        assertEquals(0, quickack());
    }

    /** {@code tcp_fin}: ESTABLISHED to CLOSE_WAIT enters pingpong mode at the threshold, answered or not. */
    @Test
    void aFinOnAnEstablishedConnectionEntersPingpongMode() throws Exception {
        p.s.ns.sysctl().set("net.ipv4.tcp_pingpong_thresh", "3");
        request();
        read();
        assertEquals(1, quickack(), "no answer yet: not interactive");
        p.in(PORT, TcpHeader.ACK | TcpHeader.FIN, seq, acked, 65535, new byte[0], 0);
        p.drain();
        assertEquals(TcpSock.TCP_CLOSE_WAIT, sock().state());
        assertTrue(sock().inPingpong(), "the threshold (3) reached by the FIN alone");
        assertEquals(0, quickack());
    }
}

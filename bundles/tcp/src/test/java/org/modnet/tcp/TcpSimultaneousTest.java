package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * Simultaneous open (RFC 9293 3.5 figure 8: SYN-SENT, a SYN, SYN-RECV, our SYN-ACK, their SYN-ACK,
 * ESTABLISHED) and simultaneous close (FIN-WAIT-1, their FIN, CLOSING, the ACK of ours, TIME-WAIT).
 */
class TcpSimultaneousTest {
    private static final int LPORT = 6000;

    private TcpPeer p;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    private Sock sock() {
        return p.s.sockets.sockets("").stream().filter(k -> k.remoteAddress().port() == TcpPeer.PEER_PORT).findFirst()
                .orElseThrow();
    }

    /** connect() from LPORT to the peer: returns the fd; the SYN is consumed. */
    private int connect() {
        int fd = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, p.sys.bind(fd, new SockAddr(TcpPeer.LOCAL, LPORT)));
        assertEquals(-Errno.EINPROGRESS.number(), p.sys.connect(fd, new SockAddr(TcpPeer.PEER, TcpPeer.PEER_PORT)));
        TcpPeer.Seg syn = p.out();
        assertEquals(TcpHeader.SYN, syn.flags());
        return fd;
    }

    @Test
    void crossingSynsMeetInSynRecvAndBothSynAcksEstablish() {
        int fd = connect();
        int iss = p.iss;
        p.in(LPORT, TcpHeader.SYN, PEER_ISS, 0, 65535,
                Segments.opts(Segments.mss(1400), Segments.sackPerm(), Segments.ts(100, 0), Segments.nop(), Segments.ws(7)), 0);
        TcpPeer.Seg synAck = p.out();
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, synAck.flags(), "our SYN again, now acknowledging theirs");
        assertEquals(iss, synAck.seq());
        assertEquals(PEER_ISS + 1, synAck.ack());
        assertEquals(1460, synAck.mss(), "the SYN's options: MSS, SACK-permitted, TS, window scale");
        assertTrue(synAck.sackPerm());
        assertEquals(100, synAck.tsecr(), "echoing their SYN's TSval");
        assertTrue(synAck.ws() >= 0);
        assertEquals(Sock.TCP_SYN_RECV, sock().state());
        assertEquals(-Errno.EALREADY.number(), p.sys.connect(fd, new SockAddr(TcpPeer.PEER, TcpPeer.PEER_PORT)),
                "still connecting");

        p.in(LPORT, TcpHeader.SYN | TcpHeader.ACK, PEER_ISS, iss + 1, 65535,
                Segments.opts(Segments.mss(1400), Segments.sackPerm(), Segments.ts(101, (int) synAck.tsval()), Segments.nop(),
                        Segments.ws(7)),
                0);
        assertEquals(Sock.TCP_ESTABLISHED, sock().state());
        TcpPeer.Seg ack = p.out();
        assertEquals(TcpHeader.ACK, ack.flags(), "their SYN-ACK repeats a SYN we have: acknowledged at once");
        assertEquals(iss + 1, ack.seq());
        assertEquals(PEER_ISS + 1, ack.ack());
        assertArrayEquals(new int[] { PEER_ISS, PEER_ISS + 1 }, ack.sack(), "with a D-SACK of the SYN, as Linux sends");
        int[] err = new int[1];
        p.sys.getsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_ERROR, err);
        assertEquals(0, err[0]);
        assertEquals(1, p.count(TcpMib.Tcp.ActiveOpens));
        assertEquals(0, p.count(TcpMib.Tcp.PassiveOpens));
        assertEquals(1, p.count(TcpMib.Tcp.CurrEstab));

        assertEquals(2, p.sys.send(fd, ByteBuffer.wrap(new byte[] { 1, 2 }), 0));
        TcpPeer.Seg data = p.out();
        assertEquals(iss + 1, data.seq());
        assertEquals(2, data.len());
        p.in(LPORT, TcpHeader.ACK, PEER_ISS + 1, iss + 3, 1000, TcpPeer.ts(102, (int) data.tsval()), 5);
        assertEquals(5, p.sys.recv(fd, ByteBuffer.allocate(10), SocketCalls.MSG_DONTWAIT));
    }

    @Test
    void aSimultaneousOpenWhoseSynAckNeverComesTimesOut() {
        int fd = connect();
        p.in(LPORT, TcpHeader.SYN, PEER_ISS, 0, 65535, Segments.mss(1400), 0);
        p.out();
        p.s.advance(200_000, 100);
        int[] err = new int[1];
        p.sys.getsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_ERROR, err);
        assertEquals(Errno.ETIMEDOUT.number(), err[0]);
        assertEquals(Sock.TCP_CLOSE, sock().state());
        long synAcks = p.drain().stream().filter(x -> x.flags() == (TcpHeader.SYN | TcpHeader.ACK)).count();
        assertEquals(6, synAcks, "tcp_syn_retries governs it, as for the SYN");
    }

    @Test
    void crossingFinsPassThroughClosingToTimeWait() throws Exception {
        int l = p.listen(5000);
        int fd = p.accept(l, 5000, Segments.mss(1460), new byte[0], null);
        Sock k = sock();
        int iss = p.iss;
        int q = PEER_ISS + 1;
        assertEquals(0, p.sys.close(fd));
        TcpPeer.Seg fin = p.out();
        assertEquals(TcpHeader.FIN | TcpHeader.ACK, fin.flags());
        assertEquals(iss + 1, fin.seq());
        assertEquals(Sock.TCP_FIN_WAIT1, k.state());
        p.in(5000, TcpHeader.FIN | TcpHeader.ACK, q, iss + 1, 1000, new byte[0], 0); // theirs, sent before ours arrived
        assertEquals(Sock.TCP_CLOSING, k.state());
        TcpPeer.Seg ack = p.out();
        assertEquals(TcpHeader.ACK, ack.flags());
        assertEquals(iss + 2, ack.seq());
        assertEquals(q + 1, ack.ack(), "their FIN acknowledged");
        p.in(5000, TcpHeader.ACK, q + 1, iss + 2, 1000, new byte[0], 0);
        // TIME-WAIT is held by the light timewait sock that took the connection's place (tcp_time_wait)
        assertEquals(Sock.TCP_CLOSE, k.state());
        assertEquals(1, p.s.tcp.net(p.s.ns).deathRow.count.get());
        p.none();
        p.s.advance(70_000, 1000);
        assertEquals(0, p.s.tcp.net(p.s.ns).deathRow.count.get());
        assertEquals(1, p.count(TcpMib.Ext.TW));
        assertEquals(0, p.count(TcpMib.Tcp.EstabResets));
    }
}

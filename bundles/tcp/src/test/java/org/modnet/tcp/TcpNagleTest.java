package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.IPPROTO_TCP;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.TCP_CORK;
import static org.modnet.socket.api.SocketCalls.TCP_KEEPCNT;
import static org.modnet.socket.api.SocketCalls.TCP_KEEPIDLE;
import static org.modnet.socket.api.SocketCalls.TCP_KEEPINTVL;
import static org.modnet.socket.api.SocketCalls.TCP_MAXSEG;
import static org.modnet.socket.api.SocketCalls.TCP_NODELAY;
import static org.modnet.socket.api.SocketCalls.TCP_USER_TIMEOUT;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * What decides when bytes leave: Nagle ({@code tcp_nagle_check}, Minshall's variant as Linux has it),
 * TCP_NODELAY, TCP_CORK (held until uncorked, or the probe timer's RTO), TCP_MAXSEG; and the IPPROTO_TCP options' numbers,
 * bounds and answers as Linux gives them.
 */
class TcpNagleTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;
    private int fd;
    private int sent; // bytes the stack sent so far, past its ISN

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        int l = p.listen(PORT);
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    private int write(int n) {
        return p.sys.send(fd, ByteBuffer.allocate(n), 0);
    }

    private void ackAll(int upTo) {
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1 + upTo, 65535, new byte[0], 0);
    }

    private int get(int name) {
        int[] v = new int[1];
        assertEquals(1, p.sys.getsockopt(fd, IPPROTO_TCP, name, v));
        return v[0];
    }

    @Test
    void msgMoreHoldsAPartialSegmentAndMarksNoPush() {
        assertEquals(40, p.sys.send(fd, ByteBuffer.allocate(40), SocketCalls.MSG_MORE));
        assertEquals(40, p.sys.send(fd, ByteBuffer.allocate(40), SocketCalls.MSG_MORE));
        p.none(); // held although nothing is in flight: MSG_MORE corks this push (tcp_push)
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1));
        TcpPeer.Seg held = p.out();
        assertEquals(p.iss + 1, held.seq());
        assertEquals(80, held.len(), "TCP_NODELAY pushes what waited, as one segment");
        assertEquals(TcpHeader.ACK, held.flags(), "no PSH: the writes said more was coming");
        ackAll(80);
        assertEquals(40, write(40));
        TcpPeer.Seg plain = p.out();
        assertEquals(40, plain.len());
        assertEquals(TcpHeader.ACK | TcpHeader.PSH, plain.flags(), "a write without MSG_MORE ends pushed");
        ackAll(120);
        assertEquals(3000, p.sys.send(fd, ByteBuffer.allocate(3000), SocketCalls.MSG_MORE));
        TcpPeer.Seg full1 = p.out();
        TcpPeer.Seg full2 = p.out();
        assertEquals(1000, full1.len(), "full segments go at once under MSG_MORE");
        assertEquals(TcpHeader.ACK, full1.flags());
        assertEquals(1000, full2.len());
        TcpPeer.Seg full3 = p.out();
        assertEquals(1000, full3.len());
        assertEquals(TcpHeader.ACK, full3.flags(), "the tail carries no push mark either");
        p.none();
    }

    @Test
    void aSmallSegmentWaitsWhileASmallOneIsUnacknowledged() {
        assertEquals(10, write(10));
        TcpPeer.Seg first = p.out();
        assertEquals(10, first.len(), "nothing in flight: it goes");
        assertEquals(10, write(10));
        assertEquals(10, write(10));
        p.none();
        p.s.advance(100);
        p.none();
        ackAll(10);
        TcpPeer.Seg second = p.out();
        assertEquals(p.iss + 11, second.seq());
        assertEquals(20, second.len(), "the ACK releases what waited, as one segment");
        assertEquals(TcpHeader.ACK | TcpHeader.PSH, second.flags());
    }

    @Test
    void fullSegmentsInFlightDoNotHoldTheSmallTail() {
        assertEquals(1010, write(1010));
        assertEquals(1000, p.out().len());
        assertEquals(10, p.out().len(), "Minshall: only an unacknowledged small segment holds the next one");
    }

    @Test
    void tcpNodelaySendsSmallSegmentsAtOnceAndPushesWhatWaits() {
        write(10);
        p.out();
        write(10);
        p.none();
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1));
        assertEquals(10, p.out().len(), "setting TCP_NODELAY pushes the pending bytes");
        write(5);
        assertEquals(5, p.out().len());
        assertEquals(1, get(TCP_NODELAY));
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 0));
        assertEquals(0, get(TCP_NODELAY));
        write(5);
        p.none();
    }

    @Test
    void tcpCorkHoldsPartialSegmentsUntilUncorked() {
        // packetdrill nagle/sockopt_cork_nodelay.pkt
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_CORK, 1));
        assertEquals(1, get(TCP_CORK));
        write(40);
        p.s.advance(50);
        write(40);
        p.s.advance(10);
        p.none();
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_CORK, 0));
        TcpPeer.Seg s = p.out();
        assertEquals(p.iss + 1, s.seq());
        assertEquals(80, s.len());
        assertEquals(TcpHeader.ACK | TcpHeader.PSH, s.flags());
        ackAll(80);
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_CORK, 1));
        write(40);
        p.s.advance(50);
        write(40);
        p.none();
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1));
        s = p.out();
        assertEquals(p.iss + 81, s.seq(), "TCP_NODELAY pushes even under the cork");
        assertEquals(80, s.len());
    }

    @Test
    void tcpCorkStillSendsFullSegments() {
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_CORK, 1));
        write(2500);
        assertEquals(1000, p.out().len());
        assertEquals(1000, p.out().len());
        p.none();
        assertEquals(0, p.sys.close(fd));
        assertEquals(500, p.out().len(), "closing pushes the tail with the FIN");
    }

    @Test
    void tcpMaxsegOnAListenerClampsTheMssEachChildAnnouncesAndUses() throws Exception {
        // packetdrill mss/mss-setsockopt-tcp_maxseg-server.pkt
        int l = p.listen(5001);
        assertEquals(0, p.sys.setsockopt(l, IPPROTO_TCP, TCP_MAXSEG, 1100));
        int[] v = new int[1];
        p.sys.getsockopt(l, IPPROTO_TCP, TCP_MAXSEG, v);
        assertEquals(1100, v[0], "before a connection: the value set");
        TcpPeer.Seg[] sa = new TcpPeer.Seg[1];
        p.s.run();
        int c = p.accept(l, 5001, Segments.opts(Segments.mss(1300), Segments.nop(), Segments.ws(7)), new byte[0], sa);
        assertEquals(1100, sa[0].mss());
        p.sys.getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, v);
        assertEquals(1100, v[0], "the MSS in use");
        assertEquals(3000, p.sys.send(c, ByteBuffer.allocate(3000), 0));
        assertEquals(1100, p.out().len());
    }

    @Test
    void tcpMaxsegBeforeConnectLowersTheMssOfTheSyn() {
        int c = p.sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int[] v = new int[1];
        p.sys.getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, v);
        assertEquals(536, v[0], "TCP_MSS_DEFAULT before anything is known");
        assertEquals(0, p.sys.setsockopt(c, IPPROTO_TCP, TCP_MAXSEG, 600));
        p.sys.connect(c, new SockAddr(TcpPeer.PEER, TcpPeer.PEER_PORT));
        TcpPeer.Seg syn = p.out();
        assertEquals(TcpHeader.SYN, syn.flags());
        assertEquals(600, syn.mss());
    }

    @Test
    void badValuesAreEinvalAndUnknownOptionsEnoprotoopt() {
        int inval = -Errno.EINVAL.number();
        assertEquals(inval, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, 87));
        assertEquals(inval, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, 32768));
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, 0), "0 forgets it");
        assertEquals(inval, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 0));
        assertEquals(inval, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 32768));
        assertEquals(inval, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, 0));
        assertEquals(inval, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, 128));
        assertEquals(inval, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, -1));
        assertEquals(-Errno.ENOPROTOOPT.number(), p.sys.setsockopt(fd, IPPROTO_TCP, 99, 1));
        assertEquals(-Errno.ENOPROTOOPT.number(), p.sys.getsockopt(fd, IPPROTO_TCP, 99, new int[1]));
        assertEquals(7200, get(TCP_KEEPIDLE), "net.ipv4.tcp_keepalive_time");
        assertEquals(75, get(TCP_KEEPINTVL), "net.ipv4.tcp_keepalive_intvl");
        assertEquals(9, get(TCP_KEEPCNT), "net.ipv4.tcp_keepalive_probes");
        assertEquals(0, get(TCP_USER_TIMEOUT));
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 30));
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 4000));
        assertEquals(30, get(TCP_KEEPIDLE));
        assertEquals(4000, get(TCP_USER_TIMEOUT));
        assertEquals(1000, get(TCP_MAXSEG), "the MSS in use: the peer's 1000");
        assertEquals(SocketCalls.IPPROTO_TCP, 6);
    }
}

package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.IPPROTO_TCP;
import static org.modnet.socket.api.SocketCalls.TCP_CORK;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.skb.SkBuff;

/**
 * The probe timer ({@code tcp_check_probe_timer}, {@code tcp_probe_timer}, {@code tcp_write_wakeup}):
 * data that waits while nothing is in flight has no ACK coming to send it, so the timer does. A cork
 * held past the RTO lets its bytes go (tcp(7)'s ceiling on TCP_CORK), and a send that found no buffer
 * free is tried again instead of waiting for ever.
 */
class TcpProbeTimerTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;
    private int fd;

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

    @Test
    void aCorkHeldPastTheRtoLetsItsBytesGoWithPush() {
        assertEquals(0, p.sys.setsockopt(fd, IPPROTO_TCP, TCP_CORK, 1));
        assertEquals(40, write(40));
        p.s.advance(50);
        assertEquals(40, write(40));
        p.s.advance(100);
        p.none(); // within the RTO (200 ms and the RTT) the cork holds
        p.s.advance(200);
        TcpPeer.Seg s = p.out();
        assertEquals(p.iss + 1, s.seq());
        assertEquals(80, s.len(), "tcp_write_wakeup: what waited, up to the MSS");
        assertEquals(TcpHeader.ACK | TcpHeader.PSH, s.flags());
        p.none();
        p.in(PORT, TcpHeader.ACK, P, p.iss + 81, 65535, new byte[0], 0);
        p.s.advance(5_000);
        p.none(); // nothing waits: the timer stops
    }

    @Test
    void aSendThatFoundNoBufferFreeIsTriedAgainByTheProbeTimer() {
        List<SkBuff> held = new ArrayList<>();
        for (SkBuff b; (b = p.s.stack.core().allocSkb(1500, 64)) != null;) {
            held.add(b); // the pool is empty: the stack can build no segment
        }
        assertEquals(3000, write(3000));
        p.none();
        held.forEach(SkBuff::free);
        p.s.advance(100);
        p.none(); // no ACK is coming: only the timer sends it
        p.s.advance(150);
        TcpPeer.Seg first = p.out();
        assertEquals(p.iss + 1, first.seq());
        assertEquals(1000, first.len(), "tcp_write_wakeup: one segment, with PSH");
        assertEquals(TcpHeader.ACK | TcpHeader.PSH, first.flags());
        p.none();
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1001, 65535, new byte[0], 0);
        int sent = 1000;
        for (TcpPeer.Seg s : p.drain()) {
            assertEquals(p.iss + 1 + sent, s.seq());
            sent += s.len();
        }
        assertEquals(3000, sent, "the ACK of the first segment let the rest go");
    }
}

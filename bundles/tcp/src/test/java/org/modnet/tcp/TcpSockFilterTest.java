package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.Sock;

/**
 * A socket filter on a TCP connection ({@code tcp_filter}): it runs on each segment before the socket
 * takes it, with the skb's data at the TCP header; a segment it refuses is dropped as
 * {@code SKB_DROP_REASON_SOCKET_FILTER}, counted in the socket's drops, and never acknowledged.
 */
class TcpSockFilterTest {
    @Test
    void aSegmentTheFilterRefusesNeverReachesTheConnectionAndIsCounted() throws Exception {
        try (TcpPeer p = new TcpPeer()) {
            int l = p.listen(5000);
            int fd = p.accept(l, 5000, Segments.mss(1460), new byte[0], null);
            TcpSock sk = (TcpSock) p.s.sockets.sockets("").stream()
                    .filter(k -> k instanceof TcpSock t && t.state() == TcpSock.TCP_ESTABLISHED).findFirst().orElseThrow();
            int[] seen = new int[1];
            sk.attachFilter(new Sock.Filter() {
                @Override
                public long run(Sock s, SkBuff skb) {
                    seen[0] = skb.getU8(skb.data() + 12) >>> 4; // the data offset: data is at the TCP header
                    return skb.len() > 20 + 50 ? 0 : 0xffff; // segments with more than 50 bytes of payload are refused
                }

                @Override
                public long[] classic() {
                    return null;
                }

                @Override
                public void release() {
                }
            });
            long dropsBefore = sk.drops();
            p.in(5000, TcpHeader.ACK | TcpHeader.PSH, TcpPeer.PEER_ISS + 1, p.iss + 1, 1000, new byte[0], 100);
            p.none(); // refused before TCP saw it: no ACK
            assertEquals(5, seen[0], "the filter starts at the TCP header");
            assertEquals(dropsBefore + 1, sk.drops());
            assertEquals(1, p.s.tcp.net(p.s.ns).drops.get(TcpDrops.Reason.SOCKET_FILTER));
            p.in(5000, TcpHeader.ACK | TcpHeader.PSH, TcpPeer.PEER_ISS + 1, p.iss + 1, 1000, new byte[0], 10);
            assertEquals(TcpPeer.PEER_ISS + 11, p.out().ack(), "the short segment is taken and acknowledged");
            assertEquals(10, p.sys.recv(fd, ByteBuffer.allocate(100), 0));
        }
    }
}

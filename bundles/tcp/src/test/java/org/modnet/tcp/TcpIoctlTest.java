package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.F_SETFL;
import static org.modnet.socket.api.SocketCalls.MSG_WAITALL;
import static org.modnet.socket.api.SocketCalls.SIOCINQ;
import static org.modnet.socket.api.SocketCalls.SIOCOUTQ;
import static org.modnet.socket.api.SocketCalls.SIOCOUTQNSD;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;

/** MSG_WAITALL and the queue ioctls (SIOCINQ, SIOCOUTQ, SIOCOUTQNSD) as {@code tcp_recvmsg} and {@code tcp_ioctl} have them. */
class TcpIoctlTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;
    private int l;
    private int fd;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        l = p.listen(PORT);
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null);
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    private int ioctl(int request) {
        int[] out = { -1 };
        int r = p.sys.ioctl(fd, request, out);
        return r < 0 ? r : out[0];
    }

    private CompletableFuture<Integer> recvWaitall(int len) {
        assertEquals(0, p.sys.fcntl(fd, F_SETFL, 0)); // blocking
        ByteBuffer buf = ByteBuffer.allocate(len);
        return CompletableFuture.supplyAsync(() -> p.sys.recv(fd, buf, MSG_WAITALL), r -> Thread.ofVirtual().start(r));
    }

    private static void settle(CompletableFuture<?> f) throws Exception {
        for (int i = 0; i < 20 && !f.isDone(); i++) {
            Thread.sleep(10);
        }
    }

    @Test
    void msgWaitallWaitsUntilTheWholeBufferIsFilled() throws Exception {
        CompletableFuture<Integer> r = recvWaitall(300);
        p.in(PORT, TcpHeader.ACK | TcpHeader.PSH, P, p.iss + 1, 65535, new byte[0], 100);
        p.in(PORT, TcpHeader.ACK | TcpHeader.PSH, P + 100, p.iss + 1, 65535, new byte[0], 100);
        settle(r);
        assertTrue(!r.isDone(), "200 of 300 bytes: still waiting");
        p.in(PORT, TcpHeader.ACK | TcpHeader.PSH, P + 200, p.iss + 1, 65535, new byte[0], 150);
        assertEquals(300, r.get(5, TimeUnit.SECONDS));
        assertEquals(50, ioctl(SIOCINQ), "the rest stays queued");
    }

    @Test
    void msgWaitallReturnsWhatCameWhenThePeerCloses() throws Exception {
        CompletableFuture<Integer> r = recvWaitall(300);
        p.in(PORT, TcpHeader.ACK | TcpHeader.PSH, P, p.iss + 1, 65535, new byte[0], 100);
        settle(r);
        assertTrue(!r.isDone());
        p.in(PORT, TcpHeader.ACK | TcpHeader.FIN, P + 100, p.iss + 1, 65535, new byte[0], 0);
        assertEquals(100, r.get(5, TimeUnit.SECONDS));
        assertEquals(0, p.sys.recv(fd, ByteBuffer.allocate(10), MSG_WAITALL), "then the end of the stream");
    }

    @Test
    void siocinqCountsBytesInOrderNotYetRead() {
        assertEquals(0, ioctl(SIOCINQ));
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 120);
        p.in(PORT, TcpHeader.ACK, P + 500, p.iss + 1, 65535, new byte[0], 100); // out of order: not readable
        assertEquals(120, ioctl(SIOCINQ));
        assertEquals(120, ioctl(org.modnet.socket.api.SocketCalls.FIONREAD), "FIONREAD is SIOCINQ");
        p.in(PORT, TcpHeader.ACK | TcpHeader.FIN, P + 120, p.iss + 1, 65535, new byte[0], 0);
        assertEquals(120, ioctl(SIOCINQ), "the FIN is not a byte to read");
    }

    @Test
    void siocoutqCountsUnacknowledgedAndSiocoutqnsdUnsentBytes() {
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 200, new byte[0], 0); // the peer's window: 200 bytes
        p.drain();
        assertEquals(300, p.sys.send(fd, ByteBuffer.allocate(300), 0));
        // tcp_snd_wnd_test: the 300-byte segment does not fit the 200-byte window, and no sliver goes
        assertEquals(0, p.drain().stream().mapToInt(TcpPeer.Seg::len).sum());
        assertEquals(300, ioctl(SIOCOUTQ));
        assertEquals(300, ioctl(SIOCOUTQNSD), "nothing sent yet");
        p.in(PORT, TcpHeader.ACK, P, p.iss + 1, 65535, new byte[0], 0); // the window opens
        assertEquals(300, p.drain().stream().mapToInt(TcpPeer.Seg::len).sum());
        assertEquals(300, ioctl(SIOCOUTQ));
        assertEquals(0, ioctl(SIOCOUTQNSD), "all sent, none acknowledged");
        p.in(PORT, TcpHeader.ACK, P, p.iss + 151, 65535, new byte[0], 0);
        assertEquals(150, ioctl(SIOCOUTQ));
        assertEquals(0, ioctl(SIOCOUTQNSD));
        p.in(PORT, TcpHeader.ACK, P, p.iss + 301, 65535, new byte[0], 0);
        assertEquals(0, ioctl(SIOCOUTQ));
        assertEquals(0, p.sys.shutdown(fd, 1));
        assertEquals(1, ioctl(SIOCOUTQ), "the FIN counts one");
    }

    @Test
    void aListenerAnswersEinvalAndAnUnknownRequestEnotty() {
        int[] out = new int[1];
        assertEquals(-Errno.EINVAL.number(), p.sys.ioctl(l, SIOCINQ, out));
        assertEquals(-Errno.EINVAL.number(), p.sys.ioctl(l, SIOCOUTQ, out));
        assertEquals(-Errno.ENOTTY.number(), p.sys.ioctl(fd, 0x8912 /* SIOCGIFCONF */, out));
        assertEquals(-Errno.EFAULT.number(), p.sys.ioctl(fd, SIOCINQ, new int[0]));
        assertEquals(-Errno.EBADF.number(), p.sys.ioctl(99, SIOCINQ, out));
    }

}

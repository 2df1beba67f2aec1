package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.modnet.socket.api.SleepListener;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketCalls;

/**
 * The socket backlog ({@code sk_add_backlog}) against a user going to sleep: a segment that arrives
 * while the reader still holds the socket, past its last look at the backlog, must not stay queued
 * behind a sleeper that nothing wakes ({@code sk_wait_event} releases the socket, backlog first).
 */
class TcpBacklogTest {
    @Test
    void aSegmentQueuedAsTheReaderFallsAsleepIsProcessedAndWakesIt() throws Exception {
        try (TcpPeer p = new TcpPeer()) {
            int l = p.listen(5000);
            int fd = p.accept(l, 5000, Segments.mss(1460), new byte[0], null);
            assertEquals(0, p.sys.fcntl(fd, SocketCalls.F_SETFL, 2 /* O_RDWR: blocking */));
            AtomicInteger read = new AtomicInteger(Integer.MIN_VALUE);
            AtomicBoolean once = new AtomicBoolean();
            Thread reader = new Thread(() -> read.set(p.sys.recv(fd, ByteBuffer.allocate(1000), 0)), "reader");
            // the reader holds the socket and has looked at the backlog: the peer's data comes now, from
            // another softirq, and finds the socket owned
            SleepListener l1 = new SleepListener() {
                @Override
                public void sleeping(Sock sock) {
                    if (Thread.currentThread() != reader || once.getAndSet(true)) {
                        return;
                    }
                    Thread softirq = new Thread(() -> p.in(5000, TcpHeader.ACK | TcpHeader.PSH, TcpPeer.PEER_ISS + 1,
                            p.iss + 1, 1000, new byte[0], 100), "softirq");
                    softirq.start();
                    try {
                        softirq.join(200); // queued to the backlog (it cannot take the socket while we hold it)
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }

                @Override
                public void awake(Sock sock) {
                }

                @Override
                public void woken(Sock sock, Thread sleeper) {
                }
            };
            SleepListener.add(l1);
            try {
                reader.start();
                reader.join(5000);
                assertFalse(reader.isAlive(), "the reader sleeps with the data in the backlog");
                assertEquals(100, read.get());
            } finally {
                SleepListener.remove(l1);
                if (reader.isAlive()) {
                    reader.interrupt();
                }
            }
        }
    }

    /**
     * A timer (or a listener, or another softirq) that holds the socket looks like a user to a softirq on
     * another CPU, which queues its segment to the backlog; letting go must process it, as release_sock
     * does, or the ACK a sender waits for sits there until a retransmission (or for ever).
     */
    @Test
    void aSegmentQueuedWhileATimerHeldTheSocketIsProcessedWhenItLetsGo() throws Exception {
        try (TcpPeer p = new TcpPeer()) {
            int l = p.listen(5000);
            int fd = p.accept(l, 5000, Segments.mss(1460), new byte[0], null);
            TcpSock sk = (TcpSock) p.s.sockets.sockets("").stream()
                    .filter(k -> k instanceof TcpSock t && t.state() == TcpSock.TCP_ESTABLISHED).findFirst().orElseThrow();
            assertTrue(sk.sockLock().tryLock(), "the timer takes the socket");
            try {
                Thread softirq = new Thread(() -> p.in(5000, TcpHeader.ACK | TcpHeader.PSH, TcpPeer.PEER_ISS + 1, p.iss + 1,
                        1000, new byte[0], 100), "softirq");
                softirq.start();
                softirq.join(5000);
                assertFalse(softirq.isAlive());
                assertEquals(TcpPeer.PEER_ISS + 1, sk.rcvNxt, "queued to the backlog, not processed");
            } finally {
                sk.unlockSock(0);
            }
            assertEquals(TcpPeer.PEER_ISS + 101, sk.rcvNxt, "processed as the timer let go, before anyone else took the socket");
            assertEquals(100, p.sys.recv(fd, ByteBuffer.allocate(1000), SocketCalls.MSG_DONTWAIT),
                    "the segment that waited in the backlog was processed as the timer let go");
        }
    }
}

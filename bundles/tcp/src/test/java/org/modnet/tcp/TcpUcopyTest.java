package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.modnet.socket.api.SleepListener;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketCalls;

/**
 * {@code tp->ucopy}: a reader asleep in recv with nothing to read lends its buffer, and in-order bytes
 * that arrive go from the skb straight into it, without passing through the receive ring; what does
 * not fit goes to the ring as before, in order.
 */
class TcpUcopyTest {
    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    /** The reader's thread, asleep in a blocking recv into {@code buf}; the count it returned goes in {@code read}. */
    private static Thread sleepingReader(TcpPeer p, int fd, ByteBuffer buf, AtomicInteger read) throws InterruptedException {
        CountDownLatch asleep = new CountDownLatch(1);
        Thread reader = new Thread(() -> read.set(p.sys.recv(fd, buf, 0)), "reader");
        SleepListener l = new SleepListener() {
            @Override
            public void sleeping(Sock sock) {
                if (Thread.currentThread() == reader) {
                    asleep.countDown();
                }
            }

            @Override
            public void awake(Sock sock) {
            }

            @Override
            public void woken(Sock sock, Thread sleeper) {
            }
        };
        SleepListener.add(l);
        try {
            reader.start();
            assertTrue(asleep.await(5, TimeUnit.SECONDS), "the reader went to sleep");
        } finally {
            SleepListener.remove(l);
        }
        return reader;
    }

    private static TcpSock established(TcpPeer p) {
        return (TcpSock) p.s.sockets.sockets("").stream()
                .filter(k -> k instanceof TcpSock t && t.state() == TcpSock.TCP_ESTABLISHED).findFirst().orElseThrow();
    }

    @Test
    void bytesForASleepingReaderGoStraightIntoItsBufferWithoutTheRing() throws Exception {
        try (TcpPeer p = new TcpPeer()) {
            int l = p.listen(5000);
            int fd = p.accept(l, 5000, Segments.mss(1460), new byte[0], null);
            assertEquals(0, p.sys.fcntl(fd, SocketCalls.F_SETFL, 2 /* O_RDWR: blocking */));
            TcpSock sk = established(p);
            ByteBuffer buf = ByteBuffer.allocate(1000);
            AtomicInteger read = new AtomicInteger(Integer.MIN_VALUE);
            Thread reader = sleepingReader(p, fd, buf, read);
            byte[] data = pattern(300);
            p.in(5000, TcpHeader.ACK | TcpHeader.PSH, TcpPeer.PEER_ISS + 1, p.iss + 1, 1000, new byte[0], data);
            reader.join(5000);
            assertFalse(reader.isAlive(), "the reader was woken");
            assertEquals(300, read.get());
            assertArrayEquals(data, Arrays.copyOf(buf.array(), 300));
            assertEquals(TcpPeer.PEER_ISS + 301, sk.rcvNxt);
            assertEquals(sk.rcvNxt, sk.copiedSeq, "read, as if copied out of the ring");
            assertEquals(0, sk.rbuf == null ? 0 : sk.rbuf.length, "no ring was needed for bytes the reader took");
        }
    }

    @Test
    void whatTheLentBufferCannotHoldWaitsInTheRingInOrder() throws Exception {
        try (TcpPeer p = new TcpPeer()) {
            int l = p.listen(5000);
            int fd = p.accept(l, 5000, Segments.mss(1460), new byte[0], null);
            assertEquals(0, p.sys.fcntl(fd, SocketCalls.F_SETFL, 2 /* O_RDWR: blocking */));
            ByteBuffer buf = ByteBuffer.allocate(40);
            AtomicInteger read = new AtomicInteger(Integer.MIN_VALUE);
            Thread reader = sleepingReader(p, fd, buf, read);
            byte[] data = pattern(100);
            p.in(5000, TcpHeader.ACK | TcpHeader.PSH, TcpPeer.PEER_ISS + 1, p.iss + 1, 1000, new byte[0], data);
            reader.join(5000);
            assertFalse(reader.isAlive(), "the reader was woken");
            assertEquals(40, read.get());
            assertArrayEquals(Arrays.copyOf(data, 40), buf.array());
            assertEquals(60, inq(p, fd), "the rest is in the ring (SIOCINQ)");
            ByteBuffer rest = ByteBuffer.allocate(100);
            assertEquals(60, p.sys.recv(fd, rest, SocketCalls.MSG_DONTWAIT));
            assertArrayEquals(Arrays.copyOfRange(data, 40, 100), Arrays.copyOf(rest.array(), 60));
        }
    }

    @Test
    void aPeekingReaderLendsNothingAndTheBytesStayToRead() throws Exception {
        try (TcpPeer p = new TcpPeer()) {
            int l = p.listen(5000);
            int fd = p.accept(l, 5000, Segments.mss(1460), new byte[0], null);
            assertEquals(0, p.sys.fcntl(fd, SocketCalls.F_SETFL, 2 /* O_RDWR: blocking */));
            ByteBuffer buf = ByteBuffer.allocate(100);
            AtomicInteger read = new AtomicInteger(Integer.MIN_VALUE);
            CountDownLatch asleep = new CountDownLatch(1);
            Thread reader = new Thread(() -> read.set(p.sys.recv(fd, buf, SocketCalls.MSG_PEEK)), "reader");
            SleepListener sl = new SleepListener() {
                @Override
                public void sleeping(Sock sock) {
                    if (Thread.currentThread() == reader) {
                        asleep.countDown();
                    }
                }

                @Override
                public void awake(Sock sock) {
                }

                @Override
                public void woken(Sock sock, Thread sleeper) {
                }
            };
            SleepListener.add(sl);
            try {
                reader.start();
                assertTrue(asleep.await(5, TimeUnit.SECONDS));
            } finally {
                SleepListener.remove(sl);
            }
            byte[] data = pattern(50);
            p.in(5000, TcpHeader.ACK | TcpHeader.PSH, TcpPeer.PEER_ISS + 1, p.iss + 1, 1000, new byte[0], data);
            reader.join(5000);
            assertEquals(50, read.get());
            ByteBuffer again = ByteBuffer.allocate(100);
            assertEquals(50, p.sys.recv(fd, again, SocketCalls.MSG_DONTWAIT), "a peek leaves the bytes");
            assertArrayEquals(data, Arrays.copyOf(again.array(), 50));
        }
    }

    private static int inq(TcpPeer p, int fd) {
        int[] v = new int[1];
        p.sys.ioctl(fd, SocketCalls.SIOCINQ, v);
        return v[0];
    }
}

package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;

import org.junit.jupiter.api.Test;
import org.modnet.socket.api.EpollEvent;
import org.modnet.socket.api.SocketCalls;

/**
 * epoll_wait polls a socket while the protocol, holding that socket, wakes it (TCP does both: its
 * {@code poll} takes the socket lock, and its softirq wakes the socket's waiters with the lock held).
 * Found by TcpBulkIT's thousand connections: the two threads took the epoll lock and the socket lock
 * in opposite orders and stopped for good.
 */
class EpollLockOrderTest {

    /** A socket whose poll takes its own lock, as TcpSock's does, and says when it is trying to. */
    private static final class LockingSock extends ReadySock {
        final ReentrantLock sockLock = new ReentrantLock();
        final CountDownLatch polling = new CountDownLatch(1);

        LockingSock(LoopStack stack) {
            super(stack);
        }

        @Override
        public int poll() {
            polling.countDown();
            sockLock.lock();
            try {
                return SocketCalls.POLLIN;
            } finally {
                sockLock.unlock();
            }
        }
    }

    @Test
    void epollWaitAndAWakeUnderTheSocketLockDoNotDeadlock() throws Exception {
        try (LoopStack stack = new LoopStack()) {
            LockingSock sock = new LockingSock(stack);
            Epoll ep = new Epoll();
            assertEquals(0, ep.ctl(SocketCalls.EPOLL_CTL_ADD, 3, sock, SocketCalls.EPOLLIN, 42));
            CountDownLatch held = new CountDownLatch(1);
            Thread softirq = Thread.ofPlatform().daemon(true).start(() -> {
                sock.sockLock.lock(); // the softirq holds the socket ...
                try {
                    held.countDown();
                    sock.polling.await(); // ... while epoll_wait polls it ...
                    Thread.sleep(50);
                    sock.arrive(); // ... and wakes its waiters before letting go
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    sock.sockLock.unlock();
                }
            });
            held.await();
            EpollEvent[] events = { new EpollEvent() };
            int[] n = new int[1];
            Thread waiter = Thread.ofPlatform().daemon(true).start(() -> n[0] = ep.await(events, 5000));
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                softirq.join();
                waiter.join();
            }, "epoll_wait and the wake stopped each other");
            assertEquals(1, n[0]);
            assertEquals(42, events[0].data);
        }
    }
}

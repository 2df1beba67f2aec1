package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.Test;
import org.modnet.socket.api.EpollEvent;
import org.modnet.socket.api.SocketCalls;

/**
 * A socket's wake (the softirq's {@code ep_poll_callback}) and {@code epoll_wait} allocate nothing in
 * steady state, with descriptors above the JDK's cache of boxed integers: under TcpHandOverIT's
 * thousand streams the wake boxed the descriptor and made a set entry, and every wait copied the ready
 * list into a new list and array, 8 MB/s of the run's garbage (BENCHMARKS.md, alloc15). Behaviour, not
 * timing: the thread's allocated bytes across the calls.
 */
class EpollAllocationTest {

    @Test
    void wakesAndWaitsAllocateNothingInSteadyState() throws Exception {
        try (LoopStack stack = new LoopStack()) {
            Epoll ep = new Epoll();
            int count = 64;
            ReadySock[] socks = new ReadySock[count];
            for (int i = 0; i < count; i++) {
                socks[i] = new ReadySock(stack);
                // edge-triggered, as TcpHandOverIT's loops and most servers: only a wake puts it back on the list
                assertEquals(0, ep.ctl(SocketCalls.EPOLL_CTL_ADD, 1000 + i, socks[i], SocketCalls.EPOLLIN | SocketCalls.EPOLLET, i));
            }
            EpollEvent[] events = new EpollEvent[16];
            for (int i = 0; i < events.length; i++) {
                events[i] = new EpollEvent();
            }
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long seen = 0;
            int rounds = 20_000;
            long before = 0;
            for (int pass = 0; pass < 2; pass++) { // the first pass warms up (class loading, the JIT's profiles)
                if (pass == 1) {
                    before = mx.getCurrentThreadAllocatedBytes();
                }
                for (int r = 0; r < rounds; r++) {
                    socks[r % count].arrive();
                    socks[(r * 7 + 3) % count].arrive();
                    int n;
                    while ((n = ep.await(events, 0)) > 0) {
                        seen += n;
                    }
                }
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(seen >= 2L * rounds, "every wake reported: " + seen);
            assertTrue(allocated < 4096, rounds + " wakes and waits allocated " + allocated + " bytes");
        }
    }

    @Test
    void aLevelTriggeredSocketStaysReadyAndAWakeWhilePolledIsNotLost() throws Exception {
        try (LoopStack stack = new LoopStack()) {
            Epoll ep = new Epoll();
            ReadySock a = new ReadySock(stack);
            ReadySock b = new ReadySock(stack);
            assertEquals(0, ep.ctl(SocketCalls.EPOLL_CTL_ADD, 500, a, SocketCalls.EPOLLIN, 1));
            assertEquals(0, ep.ctl(SocketCalls.EPOLL_CTL_ADD, 501, b, SocketCalls.EPOLLIN | SocketCalls.EPOLLET, 2));
            EpollEvent[] one = { new EpollEvent() };
            assertEquals(1, ep.await(one, 0));
            assertEquals(1, one[0].data); // the ready list's order: a first
            assertEquals(1, ep.await(one, 0));
            assertEquals(2, one[0].data); // b next, with a back at the tail (level-triggered)
            assertEquals(1, ep.await(one, 0));
            assertEquals(1, one[0].data);
            assertEquals(1, ep.await(one, 0));
            assertEquals(1, one[0].data); // b, edge-triggered, is off the list until woken
            b.arrive();
            assertEquals(1, ep.await(one, 0));
            assertEquals(1, one[0].data);
            assertEquals(1, ep.await(one, 0));
            assertEquals(2, one[0].data);
            assertEquals(0, ep.ctl(SocketCalls.EPOLL_CTL_DEL, 500, a, 0, 0));
            assertEquals(0, ep.await(one, 0)); // a left, b not woken again
        }
    }

    /** A socket that finds nothing on its first polls and wakes its waiters while its {@code arriveAt}-th poll runs. */
    private static final class LateSock extends ReadySock {
        private final int arriveAt;
        private volatile int polls;

        LateSock(LoopStack stack, int arriveAt) {
            super(stack);
            this.arriveAt = arriveAt;
        }

        @Override
        public int poll() {
            int n = ++polls;
            if (n == arriveAt) {
                wakeUp(); // data arrives after this poll read the socket's state: the wake comes while epoll_wait polls
                return 0;
            }
            return n > arriveAt ? SocketCalls.POLLIN : 0;
        }
    }

    @Test
    void aWakeWhileEpollWaitPollsWithoutItsLockIsNotLostWhenThatWaitSleepsAgain() throws Exception {
        try (LoopStack stack = new LoopStack()) {
            Epoll ep = new Epoll();
            LateSock s = new LateSock(stack, 2);
            assertEquals(0, ep.ctl(SocketCalls.EPOLL_CTL_ADD, 700, s, SocketCalls.EPOLLIN | SocketCalls.EPOLLET, 7));
            EpollEvent[] one = { new EpollEvent() };
            java.util.concurrent.CompletableFuture<Integer> waited = java.util.concurrent.CompletableFuture.supplyAsync(() -> ep.await(one, -1));
            // the waiter's first harvest polls once (nothing) and sleeps; this wake makes it harvest again, and that
            // harvest's poll is the one during which the data arrives
            while (s.polls < 1) {
                Thread.onSpinWait();
            }
            Thread.sleep(20);
            s.arrive();
            assertEquals(1, waited.get(10, java.util.concurrent.TimeUnit.SECONDS), "the wait returns the event, not sleeps on");
            assertEquals(7, one[0].data);
        }
    }
}

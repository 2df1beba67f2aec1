package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.RxQueue;
import org.modnet.api.skb.SkBuffPool;

/**
 * A driver's idle wait ({@link RxQueue.IdleWait}): a softirq thread with nothing to do sleeps in it
 * instead of parking, and work raised from another thread (a timer armed, a NAPI instance scheduled)
 * rings it; taken back, the thread parks again.
 */
class SoftirqIdleWaitTest {
    private final CoreEngine core = new CoreEngine(2, true, new SkBuffPool(64, 2048), System::nanoTime);

    /** An interrupt that is a semaphore: {@link #wake} releases it. */
    private static final class FakeWait implements RxQueue.IdleWait {
        final Semaphore rung = new Semaphore(0);
        final AtomicInteger idles = new AtomicInteger();
        final AtomicInteger wakes = new AtomicInteger();
        volatile Thread idler;

        @Override
        public void idle(long nanos) {
            idler = Thread.currentThread();
            idles.incrementAndGet();
            try {
                if (nanos < 0) {
                    rung.acquire();
                } else {
                    rung.tryAcquire(nanos, TimeUnit.NANOSECONDS);
                }
                rung.drainPermits();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void wake() {
            wakes.incrementAndGet();
            rung.release();
        }
    }

    @AfterEach
    void tearDown() {
        core.shutdown();
    }

    private static void awaitIdle(FakeWait w, int idles) throws InterruptedException {
        for (int i = 0; i < 1000 && w.idles.get() < idles; i++) {
            Thread.sleep(5);
        }
    }

    @Test
    void anIdleSoftirqSleepsInTheDriversWaitAndATimerArmedElsewhereRingsIt() throws Exception {
        FakeWait w = new FakeWait();
        assertTrue(core.softirq(1).setIdleWait(w));
        awaitIdle(w, 1);
        assertTrue(w.idles.get() >= 1, "the thread never slept in the wait");
        assertEquals("ksoftirqd/1", w.idler.getName());
        CountDownLatch fired = new CountDownLatch(1);
        core.timer(1, fired::countDown).mod(20);
        assertTrue(fired.await(10, TimeUnit.SECONDS), "a timer armed while the thread idled in the wait never fired");
        assertTrue(w.wakes.get() >= 1, "the timer did not ring the wait");
    }

    @Test
    void aNapiScheduledFromAnotherThreadRingsTheWaitAndIsPolled() throws Exception {
        FakeWait w = new FakeWait();
        CountDownLatch polled = new CountDownLatch(1);
        Napi napi = new Napi(core.softirq(0), (n, budget) -> {
            polled.countDown();
            return 0;
        });
        assertTrue(core.softirq(0).setIdleWait(w));
        awaitIdle(w, 1);
        assertTrue(napi.schedule());
        assertTrue(polled.await(10, TimeUnit.SECONDS), "the NAPI instance was never polled");
        assertTrue(w.wakes.get() >= 1, "scheduling it did not ring the wait");
    }

    @Test
    void aSecondDriversWaitIsRefusedAndATakenBackWaitIsLeft() throws Exception {
        FakeWait first = new FakeWait();
        FakeWait second = new FakeWait();
        assertTrue(core.softirq(0).setIdleWait(first));
        assertTrue(core.softirq(0).setIdleWait(first), "the same wait again is no conflict");
        assertFalse(core.softirq(0).setIdleWait(second), "one CPU waits for one driver's interrupt");
        awaitIdle(first, 1);
        core.softirq(0).clearIdleWait(first);
        int idles = first.idles.get();
        CountDownLatch fired = new CountDownLatch(1);
        core.timer(0, fired::countDown).mod(20);
        assertTrue(fired.await(10, TimeUnit.SECONDS), "the thread stopped running its timers");
        Thread.sleep(50);
        assertTrue(first.idles.get() <= idles + 1, "the thread still idles in a wait taken back");
        assertTrue(core.softirq(0).setIdleWait(second), "a CPU whose wait was taken back takes another");
    }

    @Test
    void aSoftirqRunByHandTakesNoWait() {
        CoreEngine manual = new CoreEngine(1, false, new SkBuffPool(8, 2048), System::nanoTime);
        try {
            assertFalse(manual.softirq(0).setIdleWait(new FakeWait()), "no thread of its own to idle in it");
        } finally {
            manual.shutdown();
        }
    }
}

package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.skb.SkBuffPool;

/**
 * Timers on running softirq threads, on wall time: armed from a thread that is no softirq, on a CPU
 * whose thread sleeps with nothing to do, they fire on time.
 */
class SoftirqTimerTest {
    private final CoreEngine core = new CoreEngine(2, true, new SkBuffPool(64, 2048), System::nanoTime);

    @AfterEach
    void tearDown() {
        core.shutdown();
    }

    @Test
    void aTimerArmedFromAnotherThreadOnAnIdleSoftirqFiresOnItsThreadNotBeforeItsTime() throws Exception {
        for (int cpu = 0; cpu < 2; cpu++) {
            CountDownLatch fired = new CountDownLatch(1);
            AtomicLong at = new AtomicLong();
            Thread[] on = new Thread[1];
            long armed = System.nanoTime();
            core.timer(cpu, () -> {
                at.set(System.nanoTime());
                on[0] = Thread.currentThread();
                fired.countDown();
            }).mod(30);
            assertTrue(fired.await(10, TimeUnit.SECONDS), "CPU " + cpu + "'s timer never fired");
            // 30 jiffies from the jiffy it was armed in: at least 29 ms later, as on Linux
            assertTrue(at.get() - armed >= 29_000_000L, "fired early on CPU " + cpu);
            assertTrue(on[0].getName().equals("ksoftirqd/" + cpu), "ran on " + on[0].getName());
        }
    }

    @Test
    void anEarlierTimerWakesASoftirqSleepingUntilALaterOne() throws Exception {
        CountDownLatch late = new CountDownLatch(1);
        core.timer(1, late::countDown).mod(60_000); // the thread now sleeps for a minute
        Thread.sleep(50);
        CountDownLatch early = new CountDownLatch(1);
        core.timer(1, early::countDown).mod(20);
        assertTrue(early.await(10, TimeUnit.SECONDS), "the earlier timer waited for the later one");
        assertTrue(late.getCount() == 1, "and the later one is not due");
    }
}

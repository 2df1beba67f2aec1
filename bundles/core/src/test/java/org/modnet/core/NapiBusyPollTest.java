package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.skb.SkBuffPool;

/**
 * Busy polling ({@code napi_busy_loop}): a thread that would sleep polls a NAPI instance itself, in
 * that CPU's softirq context, with the driver's interrupt masked, so the frames it reads wake neither
 * the interrupt nor the softirq thread; when it stops, the instance completes and the interrupt is on again.
 */
class NapiBusyPollTest {
    private final CoreEngine core = new CoreEngine(1, true, new SkBuffPool(64, 2048), System::nanoTime);

    @AfterEach
    void tearDown() {
        core.shutdown();
    }

    /**
     * A driver whose "hardware" is a counter of frames waiting: a frame that arrives with the interrupt
     * enabled schedules NAPI, as an interrupt would; a masked one waits for a poll.
     */
    private final class FakeDriver implements Napi.Poller {
        final AtomicInteger waiting = new AtomicInteger();
        volatile boolean irqEnabled = true;
        final List<String> pollers = new ArrayList<>();
        final List<Integer> napiIds = new ArrayList<>();
        final List<Integer> cpus = new ArrayList<>();
        final AtomicInteger received = new AtomicInteger();
        final AtomicInteger masks = new AtomicInteger();
        Napi napi;

        void arrive() {
            waiting.incrementAndGet();
            if (irqEnabled) {
                irqEnabled = false; // the interrupt masks itself
                napi.schedule();
            }
        }

        @Override
        public synchronized int poll(Napi n, int budget) {
            int done = 0;
            while (done < budget && waiting.get() > 0) {
                waiting.decrementAndGet();
                pollers.add(Thread.currentThread().getName());
                napiIds.add(core.currentNapiId());
                cpus.add(core.currentCpu());
                received.incrementAndGet();
                done++;
            }
            return done;
        }

        @Override
        public void busyPollStarted() {
            masks.incrementAndGet();
            irqEnabled = false;
        }

        @Override
        public void completed() {
            irqEnabled = true;
            if (waiting.get() > 0) { // level-triggered: what waits fires at once
                irqEnabled = false;
                napi.schedule();
            }
        }
    }

    private FakeDriver driver() {
        FakeDriver d = new FakeDriver();
        d.napi = new Napi(core.softirq(0), d);
        core.hashNapi(d.napi);
        return d;
    }

    /** The softirq thread sleeps (nothing scheduled, no timer): its wake-up count stops moving. */
    private void awaitAsleep() throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            long before = core.softirq(0).wakeups();
            Thread.sleep(20);
            if (core.softirq(0).wakeups() == before && !core.softirq(0).hasWork()) {
                return;
            }
        }
    }

    @Test
    void anInterruptWakesTheSoftirqThreadWhichPollsTheFrame() throws Exception {
        FakeDriver d = driver();
        awaitAsleep();
        long wakeups = core.softirq(0).wakeups();
        long irqs = d.napi.schedules();
        d.arrive();
        for (int i = 0; i < 500 && d.received.get() < 1; i++) {
            Thread.sleep(10);
        }
        assertEquals(1, d.received.get());
        assertEquals("ksoftirqd/0", d.pollers.get(0));
        assertEquals(irqs + 1, d.napi.schedules(), "one interrupt taken");
        assertTrue(core.softirq(0).wakeups() > wakeups, "the softirq thread was woken for it");
    }

    @Test
    void aBusyPollerReadsTheFramesItselfAndTheSoftirqThreadIsNotWoken() throws Exception {
        FakeDriver d = driver();
        awaitAsleep();
        long wakeups = core.softirq(0).wakeups();
        long irqs = d.napi.schedules();
        CountDownLatch polling = new CountDownLatch(1);
        Thread sender = Thread.ofPlatform().start(() -> {
            try {
                polling.await();
                for (int i = 0; i < 3; i++) {
                    Thread.sleep(5);
                    d.arrive();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        core.napiBusyLoop(d.napi.id(), () -> {
            polling.countDown(); // the loop polls once before it asks: the interrupt is masked by then
            return d.received.get() >= 3;
        }, TimeUnit.SECONDS.toNanos(10));
        sender.join();
        assertEquals(3, d.received.get());
        String me = Thread.currentThread().getName();
        assertEquals(List.of(me, me, me), d.pollers, "every frame read on the busy poller's thread");
        assertEquals(List.of(d.napi.id(), d.napi.id(), d.napi.id()), d.napiIds, "skb->napi_id: the instance polled");
        assertEquals(List.of(0, 0, 0), d.cpus, "in CPU 0's softirq context");
        assertEquals(irqs, d.napi.schedules(), "no interrupt taken");
        assertEquals(wakeups, core.softirq(0).wakeups(), "the softirq thread slept through it");
        assertEquals(1, d.masks.get());
        assertTrue(d.irqEnabled, "the interrupt is on again once the poller stopped");
        assertTrue(!d.napi.isScheduled(), "the instance completed");
    }

    @Test
    void framesLeftWhenTheBusyPollerStopsGoToTheSoftirq() throws Exception {
        FakeDriver d = driver();
        awaitAsleep();
        core.napiBusyLoop(d.napi.id(), () -> {
            if (d.waiting.get() == 0 && d.received.get() == 0) {
                d.waiting.addAndGet(CoreEngine.BUSY_POLL_BUDGET * 3); // a burst the last poll cannot take whole
            }
            return true;
        }, TimeUnit.SECONDS.toNanos(10));
        for (int i = 0; i < 500 && d.received.get() < CoreEngine.BUSY_POLL_BUDGET * 3; i++) {
            Thread.sleep(10);
        }
        assertEquals(CoreEngine.BUSY_POLL_BUDGET * 3, d.received.get(), "none stranded");
        assertTrue(d.pollers.contains("ksoftirqd/0"), "the softirq took the rest");
        for (int i = 0; i < 500 && !d.irqEnabled; i++) {
            Thread.sleep(10);
        }
        assertTrue(d.irqEnabled, "completed by the softirq in the end");
    }

    @Test
    void anUnknownIdOrNoTimeReturnsAtOnce() {
        FakeDriver d = driver();
        core.napiBusyLoop(0, () -> false, TimeUnit.SECONDS.toNanos(10));
        core.napiBusyLoop(d.napi.id() + 1000, () -> false, TimeUnit.SECONDS.toNanos(10));
        core.napiBusyLoop(d.napi.id(), () -> false, 0);
        assertEquals(0, d.masks.get(), "nothing polled");
        assertTrue(d.napi.id() >= CoreEngine.MIN_NAPI_ID, "ids start above the CPUs' numbers");
    }
}

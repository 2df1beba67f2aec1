package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.skb.SkBuffPool;

/**
 * Preferred busy polling ({@code SO_PREFER_BUSY_POLL}, epoll's {@code prefer_busy_poll}) with the
 * device's {@code napi_defer_hard_irqs} and {@code gro_flush_timeout}: between an application's busy
 * polls the device's interrupt stays off and nothing wakes the softirq thread; frames that arrive
 * then wait for the next busy poll. When the application stops polling, the NAPI watchdog (fired by
 * the softirq thread, {@code gro_flush_timeout} after the last poll) polls the queue
 * {@code napi_defer_hard_irqs} times and then gives the interrupt back. The core's clock here is the
 * test's: the watchdog is due only when the test moves it, so everything asserted is a count.
 */
class NapiPreferBusyPollTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final CoreEngine core = new CoreEngine(1, true, new SkBuffPool(64, 2048), clock::get);

    @AfterEach
    void tearDown() {
        core.shutdown();
    }

    /** Frames waiting in "hardware"; an interrupt when enabled schedules NAPI, as in {@link NapiBusyPollTest}. */
    private final class FakeDriver implements Napi.Poller {
        final AtomicInteger waiting = new AtomicInteger();
        volatile boolean irqEnabled = true;
        final List<String> pollers = new ArrayList<>();
        final AtomicInteger received = new AtomicInteger();
        final AtomicInteger masks = new AtomicInteger();
        final AtomicInteger unmasks = new AtomicInteger();
        volatile int defer;
        volatile long timeout;
        /** GRO: a flow held since a poll found a frame, until a flush sends every flow up. */
        volatile boolean flowHeld;
        /** Each {@code napi_gro_flush}'s flush_old, in order. */
        final List<Boolean> flushes = java.util.Collections.synchronizedList(new ArrayList<>());
        Napi napi;

        void arrive() {
            waiting.incrementAndGet();
            if (irqEnabled) {
                irqEnabled = false;
                napi.schedule();
            }
        }

        @Override
        public synchronized int poll(Napi n, int budget) {
            int done = 0;
            while (done < budget && waiting.get() > 0) {
                waiting.decrementAndGet();
                pollers.add(Thread.currentThread().getName());
                received.incrementAndGet();
                done++;
            }
            if (done == 0) {
                pollers.add(Thread.currentThread().getName() + " (empty)");
            } else {
                flowHeld = true; // this poll's frames: one flow, of this jiffy
            }
            return done;
        }

        @Override
        public boolean groHeld() {
            return flowHeld;
        }

        @Override
        public void groFlush(boolean flushOld) {
            if (flowHeld) {
                flushes.add(flushOld);
                flowHeld &= flushOld; // flush_old keeps this jiffy's flow
            }
        }

        @Override
        public void busyPollStarted() {
            if (irqEnabled) {
                masks.incrementAndGet(); // a mask that changes something: the interrupt was on
            }
            irqEnabled = false;
        }

        @Override
        public void completed() {
            unmasks.incrementAndGet();
            irqEnabled = true;
            if (waiting.get() > 0) {
                irqEnabled = false;
                napi.schedule();
            }
        }

        @Override
        public int deferHardIrqs() {
            return defer;
        }

        @Override
        public long groFlushTimeout() {
            return timeout;
        }
    }

    private FakeDriver driver(int defer, long timeout) {
        FakeDriver d = new FakeDriver();
        d.defer = defer;
        d.timeout = timeout;
        d.napi = new Napi(core.softirq(0), d);
        core.hashNapi(d.napi);
        return d;
    }

    private void awaitAsleep() throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            long before = core.softirq(0).wakeups();
            Thread.sleep(20);
            if (core.softirq(0).wakeups() == before && !core.softirq(0).hasWork()) {
                return;
            }
        }
    }

    /** One busy poll, as a selector's: until {@code frames} in all were read. */
    private void busyPoll(FakeDriver d, boolean prefer, int frames) {
        core.napiBusyLoop(d.napi.id(), () -> d.received.get() >= frames, TimeUnit.SECONDS.toNanos(10), prefer, 0);
    }

    /** One busy poll during which a frame arrives (the poller holds the instance: the interrupt is masked). */
    private void busyPollOneArriving(FakeDriver d, boolean prefer) {
        int frames = d.received.get() + 1;
        boolean[] arrived = new boolean[1];
        core.napiBusyLoop(d.napi.id(), () -> {
            if (!arrived[0]) {
                arrived[0] = true; // the loop polls once before it asks: masked by then
                d.arrive();
            }
            return d.received.get() >= frames;
        }, TimeUnit.SECONDS.toNanos(10), prefer, 0);
    }

    @Test
    void betweenPreferredBusyPollsTheInterruptStaysOffAndTheSoftirqThreadSleeps() throws Exception {
        FakeDriver d = driver(2, TimeUnit.SECONDS.toNanos(10));
        awaitAsleep();
        long wakeups = core.softirq(0).wakeups();
        busyPollOneArriving(d, true);
        for (int round = 2; round <= 20; round++) {
            d.arrive(); // comes while the application answers the one before: no interrupt, it waits for the poll
            busyPoll(d, true, round);
        }
        assertEquals(20, d.received.get());
        String me = Thread.currentThread().getName();
        assertTrue(d.pollers.stream().allMatch(p -> p.startsWith(me)), "every frame read by the application's own polls: " + d.pollers);
        assertEquals(1, d.masks.get(), "the interrupt masked once, by the first poll");
        assertEquals(0, d.unmasks.get(), "and never given back between polls");
        assertEquals(0, d.napi.schedules(), "no interrupt taken");
        assertFalse(d.napi.isScheduled(), "SCHED is free for the next poll");
        assertTrue(d.napi.watchdogAt() != 0, "the watchdog is armed");
        assertEquals(0, d.napi.watchdogFires());
        awaitAsleep();
        assertEquals(wakeups + 1, core.softirq(0).wakeups(), "the softirq thread woke once, to note the newly armed watchdog; not per poll");
    }

    @Test
    void whenTheApplicationStopsTheWatchdogPollsDeferTimesThenTheInterruptIsBack() throws Exception {
        FakeDriver d = driver(2, TimeUnit.SECONDS.toNanos(10));
        awaitAsleep();
        busyPollOneArriving(d, true);
        assertEquals(0, d.unmasks.get());
        d.arrive(); // after the application stopped polling: waits for the watchdog
        awaitAsleep();
        assertEquals(1, d.waiting.get(), "nobody read it yet");
        for (int i = 0; i < 500 && d.unmasks.get() == 0; i++) {
            clock.addAndGet(TimeUnit.SECONDS.toNanos(11)); // gro_flush_timeout passes
            core.softirq(0).timer(() -> {
            }).mod(0); // a timer due now: the softirq thread runs its round (its watchdogs too)
            Thread.sleep(10);
        }
        assertEquals(2, d.received.get(), "the watchdog's poll read it");
        assertTrue(d.pollers.contains("ksoftirqd/0"), "read by the softirq thread: " + d.pollers);
        assertEquals(2, d.pollers.stream().filter("ksoftirqd/0 (empty)"::equals).count(),
                "a poll that found frames starts napi_defer_hard_irqs (2) again: two empty polls, the first still deferred");
        assertEquals(3, d.napi.watchdogFires(), "each of the three by the watchdog");
        assertEquals(1, d.unmasks.get(), "then the interrupt is on again");
        assertTrue(d.irqEnabled);
        assertEquals(0, d.napi.watchdogAt(), "and the watchdog disarmed");
        long irqs = d.napi.schedules();
        d.arrive();
        for (int i = 0; i < 500 && d.received.get() < 3; i++) {
            Thread.sleep(10);
        }
        assertEquals(3, d.received.get());
        assertEquals(irqs + 1, d.napi.schedules(), "the next frame takes the interrupt, as without busy polling");
    }

    @Test
    void withoutPreferOrWithoutTheDeviceKnobsTheInterruptComesBackAfterEachPoll() throws Exception {
        FakeDriver plain = driver(2, TimeUnit.SECONDS.toNanos(10));
        awaitAsleep();
        busyPollOneArriving(plain, false);
        assertEquals(1, plain.unmasks.get(), "not preferred: busy_poll_stop enables the interrupt");
        assertEquals(0, plain.napi.watchdogAt());
        FakeDriver noTimeout = driver(2, 0);
        busyPollOneArriving(noTimeout, true);
        assertEquals(1, noTimeout.unmasks.get(), "gro_flush_timeout 0: nothing defers");
        FakeDriver noDefer = driver(0, TimeUnit.SECONDS.toNanos(10));
        busyPollOneArriving(noDefer, true);
        assertEquals(1, noDefer.unmasks.get(), "napi_defer_hard_irqs 0: nothing defers");
        assertEquals(0, noDefer.napi.watchdogAt());
    }

    /** One busy poll that finds nothing: it polls (empty) until {@code nanos} of the wall clock pass. */
    private void busyPollEmpty(FakeDriver d) {
        core.napiBusyLoop(d.napi.id(), () -> false, TimeUnit.MILLISECONDS.toNanos(2), true, 0);
    }

    private void awaitUnmasks(FakeDriver d, int n) throws InterruptedException {
        for (int i = 0; i < 500 && d.unmasks.get() < n; i++) {
            Thread.sleep(10);
        }
    }

    /**
     * Linux 6.13's irq_suspend_timeout, as epoll uses it with prefer_busy_poll: each wait that returned
     * events moves the watchdog out to the suspension's timeout ({@code napi_suspend_irqs}); a busy poll
     * that found nothing schedules the instance at once ({@code napi_resume_irqs}), and that poll's
     * completion, with napi_defer_hard_irqs 1 spent by busy_poll_stop's own, gives the interrupt back: no
     * watchdog fired (the test's clock never moves), so without the resume the interrupt would still be off.
     */
    @Test
    void anEmptyPreferredBusyPollResumesTheInterruptAtOnceWithIrqSuspendTimeout() throws Exception {
        FakeDriver d = driver(1, TimeUnit.SECONDS.toNanos(10));
        d.napi.irqSuspendTimeout(TimeUnit.SECONDS.toNanos(100));
        awaitAsleep();
        for (int round = 1; round <= 5; round++) {
            busyPollOneArriving(d, true);
            core.napiSuspendIrqs(d.napi.id()); // the wait returned the socket's event
            assertEquals(clock.get() + TimeUnit.SECONDS.toNanos(100), d.napi.watchdogAt(), "the watchdog moved out to irq_suspend_timeout");
        }
        assertEquals(5, d.received.get());
        assertEquals(0, d.unmasks.get(), "suspended: the interrupt stayed off between the polls");
        busyPollEmpty(d); // the application's next wait finds nothing
        assertEquals(0, d.unmasks.get(), "busy_poll_stop alone defers (napi_defer_hard_irqs 1)");
        core.napiResumeIrqs(d.napi.id());
        awaitUnmasks(d, 1);
        assertEquals(1, d.unmasks.get(), "napi_resume_irqs: the softirq's poll completed and enabled the interrupt");
        assertEquals(1, d.napi.irqResumes());
        assertEquals(1, d.napi.irqEnables());
        assertEquals(0, d.napi.watchdogFires(), "not the watchdog's doing");
        assertEquals(0, d.napi.schedules(), "and no interrupt taken for it");
        assertTrue(d.pollers.contains("ksoftirqd/0 (empty)"), "the resumed poll ran on the softirq thread: " + d.pollers);
        d.arrive();
        for (int i = 0; i < 500 && d.received.get() < 6; i++) {
            Thread.sleep(10);
        }
        assertEquals(6, d.received.get());
        assertEquals(1, d.napi.schedules(), "the next frame takes the interrupt at once, not the watchdog");
    }

    @Test
    void withoutIrqSuspendTimeoutSuspendAndResumeDoNothing() throws Exception {
        FakeDriver d = driver(1, TimeUnit.SECONDS.toNanos(10));
        awaitAsleep();
        busyPollOneArriving(d, true);
        long at = d.napi.watchdogAt();
        core.napiSuspendIrqs(d.napi.id());
        assertEquals(at, d.napi.watchdogAt(), "no suspension: the watchdog stays at gro_flush_timeout");
        busyPollEmpty(d);
        core.napiResumeIrqs(d.napi.id());
        awaitAsleep();
        assertEquals(0, d.napi.irqResumes());
        assertEquals(0, d.unmasks.get(), "the interrupt stays off until the watchdog (gro_flush_timeout), as in Linux 6.12");
    }

    /**
     * NAPI_STATE_PREFER_BUSY_POLL: a preferred busy poller that finds the softirq holding the instance
     * sets it, and the softirq's poll that used its whole budget completes instead of keeping the
     * instance on its list, so the busy poller takes it; a plain poller does not set it.
     */
    @Test
    void aWaitingPreferredBusyPollerMakesAFullSoftirqPollYield() throws Exception {
        FakeDriver d = driver(2, TimeUnit.SECONDS.toNanos(10));
        awaitAsleep();
        d.waiting.addAndGet(64); // more than two polls' budget waits in the hardware
        Napi n = d.napi;
        int[] work = new int[1];
        // the instance held as the softirq holds it after an interrupt (taken here by hand: the softirq thread is not raised)
        assertTrue(n.busyPollStart(false));
        assertFalse(n.busyPollStart(false), "held");
        assertFalse(n.preferBusyPoll(), "a plain busy poller that finds it held leaves the bit alone");
        assertTrue(n.poll(8, work), "a full poll keeps the instance: more to do");
        assertEquals(8, work[0]);
        assertFalse(n.busyPollStart(true), "held");
        assertTrue(n.preferBusyPoll(), "a preferred one sets it");
        assertFalse(n.poll(8, work), "the full poll completes now, so the busy poller can take the instance");
        assertEquals(8, work[0]);
        assertFalse(n.isScheduled());
        assertFalse(n.preferBusyPoll(), "cleared by the completion");
        assertTrue(n.irqDeferred(), "which deferred the interrupt (napi_defer_hard_irqs): the frames left are the busy poller's");
        assertEquals(0, d.unmasks.get());
        assertTrue(n.busyPollStart(true), "the busy poller takes it");
        assertEquals(8, n.busyPoll(8));
        n.busyPollStop(8, true);
        assertEquals(32, d.received.get(), "and busy_poll_stop's own poll");
    }

    /**
     * GRO under busy polling, as {@code __napi_busy_loop} leaves it: the busy polls do not complete the
     * instance, so the flow held after one busy poll is held through the next ones (no
     * {@code napi_gro_flush}); {@code busy_poll_stop}'s poll, finding a frame, completes it with
     * {@code gro_flush_timeout} honoured (only older flows go up, the watchdog armed), and the
     * watchdog's poll, finding nothing, sends the flow up.
     */
    @Test
    void heldFlowsStayThroughBusyPollsAndBusyPollStopsCompletionHonoursGroFlushTimeout() throws Exception {
        FakeDriver d = driver(0, TimeUnit.MILLISECONDS.toNanos(1)); // gro_flush_timeout 1 ms, no deferral
        awaitAsleep();
        int[] asked = new int[1];
        List<Boolean> duringPolls = new ArrayList<>();
        core.napiBusyLoop(d.napi.id(), () -> {
            asked[0]++; // each after a busy poll: a frame for the next poll, three in all
            d.arrive();
            if (asked[0] < 3) {
                return false;
            }
            duringPolls.addAll(d.flushes);
            return true; // the third waits for busy_poll_stop's poll
        }, TimeUnit.SECONDS.toNanos(10), false, 0);
        assertEquals(3, d.received.get());
        assertEquals(List.of(), duringPolls, "no flush in two busy polls that found frames: the flow stayed held");
        assertEquals(List.of(true), d.flushes, "busy_poll_stop's completion, with frames: napi_gro_flush(flush_old), this jiffy's flow kept");
        assertTrue(d.flowHeld);
        assertTrue(d.napi.watchdogAt() != 0, "the watchdog armed for gro_flush_timeout");
        for (int i = 0; i < 500 && d.flowHeld; i++) {
            clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(2));
            core.softirq(0).timer(() -> {
            }).mod(0); // a timer due now: the softirq thread runs its round (its watchdogs too)
            Thread.sleep(10);
        }
        assertEquals(List.of(true, false), d.flushes, "the watchdog's poll found nothing: every flow up");
    }
}

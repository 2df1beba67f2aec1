package org.modnet.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The update's scheduling boost: raised on the calling thread only, not inherited by a thread it starts, put back on close. */
class SchedBoostTest {
    @Test
    void niceRaisedForTheSectionAndRestoredAfter() throws Exception {
        String before = SchedBoost.current();
        assumeTrue(before.startsWith("nice "), "a Linux thread under SCHED_OTHER: " + before);
        AtomicReference<String> child = new AtomicReference<>();
        try (SchedBoost b = SchedBoost.raise(SchedBoost.Policy.NICE)) {
            assumeTrue(b.raised(), "CAP_SYS_NICE (root): " + b.said());
            assertEquals("nice -20", b.said());
            assertEquals("nice -20", SchedBoost.current());
            Thread t = Thread.ofPlatform().start(() -> child.set(SchedBoost.current()));
            t.join();
        }
        assertEquals(before, SchedBoost.current(), "put back as it was");
        assertEquals(before, child.get(), "a thread started during the section runs at the normal priority (SCHED_FLAG_RESET_ON_FORK)");
    }

    /** The loading thread after the swap: born raised, it goes back to nice 0 for the rest of its work. */
    @Test
    void aRaisedThreadGoesBackToNiceZero() throws Exception {
        assumeTrue(SchedBoost.current().startsWith("nice "), "a Linux thread under SCHED_OTHER");
        AtomicReference<String> seen = new AtomicReference<>();
        Thread t = Thread.ofPlatform().unstarted(() -> {
            SchedBoost b = SchedBoost.raise(SchedBoost.Policy.NICE);
            if (!b.raised()) {
                seen.set("not raised");
                return;
            }
            seen.set(SchedBoost.current() + " then " + (SchedBoost.normal() ? SchedBoost.current() : "refused"));
        });
        t.start();
        t.join();
        assumeTrue(!"not raised".equals(seen.get()), "CAP_SYS_NICE (root)");
        assertEquals("nice -20 then nice 0", seen.get());
    }

    @Test
    void fifoRaisedAndRestored() {
        String before = SchedBoost.current();
        assumeTrue(before.startsWith("nice "), "a Linux thread under SCHED_OTHER: " + before);
        try (SchedBoost b = SchedBoost.raise(SchedBoost.Policy.FIFO)) {
            assumeTrue(b.raised(), "CAP_SYS_NICE (root): " + b.said());
            assertEquals("SCHED_FIFO 1", SchedBoost.current());
        }
        assertEquals(before, SchedBoost.current());
    }

    @Test
    void closedTwiceRestoresOnce() {
        String before = SchedBoost.current();
        assumeTrue(before.startsWith("nice "), "a Linux thread under SCHED_OTHER: " + before);
        SchedBoost b = SchedBoost.raise(SchedBoost.Policy.NICE);
        b.close();
        b.close(); // nothing more to put back, and no failure
        assertEquals(before, SchedBoost.current());
        assertTrue(b.said().equals("nice -20") || b.said().startsWith("not raised: "), b.said());
        assertFalse(b.said().isEmpty());
    }

    @Test
    void aThreadStartedRaisedIsBornRaisedAndTheNextOneIsNot() throws Exception {
        String before = SchedBoost.current();
        assumeTrue(before.startsWith("nice "), "a Linux thread under SCHED_OTHER: " + before);
        AtomicReference<String> raisedChild = new AtomicReference<>();
        AtomicReference<String> plainChild = new AtomicReference<>();
        try (SchedBoost b = SchedBoost.raise(SchedBoost.Policy.NICE)) {
            assumeTrue(b.raised(), "CAP_SYS_NICE (root): " + b.said());
            Thread t = Thread.ofPlatform().unstarted(() -> raisedChild.set(SchedBoost.current()));
            b.startRaised(t);
            t.join();
            assertEquals("nice -20", SchedBoost.current(), "the starter stays raised");
            Thread u = Thread.ofPlatform().start(() -> plainChild.set(SchedBoost.current()));
            u.join();
        }
        assertEquals("nice -20", raisedChild.get(), "born raised");
        assertEquals(before, plainChild.get(), "a thread started after it runs at the normal priority again (the flag set back)");
        assertEquals(before, SchedBoost.current(), "put back as it was");
    }

    @Test
    void notRaisedAThreadStartsPlain() throws Exception {
        SchedBoost b = SchedBoost.raise(SchedBoost.Policy.NICE);
        b.close();
        AtomicReference<String> child = new AtomicReference<>();
        Thread t = Thread.ofPlatform().unstarted(() -> child.set(SchedBoost.current()));
        b.startRaised(t);
        t.join();
        assertEquals(SchedBoost.current(), child.get());
    }

    /** The class-loading thread kept off the command's CPU (modnet.update.warm.sched=pin): its mask without that CPU, then back. */
    @Test
    void aThreadKeptOffACpuRunsElsewhereAndGetsItsCpusBack() throws Exception {
        long[] mask = SchedBoost.affinity(0);
        assumeTrue(mask != null && SchedBoost.cpu() >= 0, "sched_getaffinity and getcpu");
        assumeTrue(Long.bitCount(mask[0]) >= 2, "two CPUs or more allowed: " + Long.toHexString(mask[0]));
        AtomicReference<String> seen = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            int off = SchedBoost.cpu();
            long[] own = SchedBoost.affinity(0);
            long[] away = SchedBoost.without(own, off);
            if (!SchedBoost.affinity(0, away)) {
                seen.set("refused");
                return;
            }
            int now = SchedBoost.cpu(); // sched_setaffinity moves the caller off a CPU it no longer may use before it returns
            long[] pinned = SchedBoost.affinity(0);
            SchedBoost.affinity(0, own);
            seen.set((now != off) + " " + ((pinned[off / 64] & 1L << (off % 64)) == 0) + " " + java.util.Arrays.equals(own, SchedBoost.affinity(0)));
        });
        t.join();
        assertEquals("true true true", seen.get(), "on another CPU, its mask without the one it left, then its own mask back");
    }

    @Test
    void aMaskWithoutItsOnlyCpuIsNone() {
        assertEquals(null, SchedBoost.without(new long[] { 0b100 }, 2), "no CPU left: no pin");
        assertEquals(0b101L, SchedBoost.without(new long[] { 0b111 }, 1)[0]);
        assertEquals(null, SchedBoost.without(new long[] { 0b11 }, -1), "the CPU unknown: no pin");
        assertEquals(null, SchedBoost.without(null, 0));
    }

    /** The loader born at nice 0 and raised by the command once the standby start returned (modnet.update.warm.sched=after). */
    @Test
    void anotherThreadRaisedByItsTid() throws Exception {
        assumeTrue(SchedBoost.current().startsWith("nice "), "a Linux thread under SCHED_OTHER");
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch raised = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger tid = new java.util.concurrent.atomic.AtomicInteger();
        AtomicReference<String> seen = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            tid.set(SchedBoost.tid());
            String before = SchedBoost.current();
            running.countDown();
            try {
                raised.await();
            } catch (InterruptedException e) {
                return;
            }
            seen.set(before + " then " + SchedBoost.current());
        });
        running.await();
        boolean did = SchedBoost.raiseThread(tid.get(), SchedBoost.Policy.NICE);
        raised.countDown();
        t.join();
        assumeTrue(did, "CAP_SYS_NICE (root)");
        assertEquals("nice 0 then nice -20", seen.get());
    }
}

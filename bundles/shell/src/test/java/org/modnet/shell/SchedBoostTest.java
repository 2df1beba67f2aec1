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
}

package org.modnet.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** Gogo's dispatch of an {@code update} line raised: the caller for the line, the threads it starts born raised, all put back. */
class UpdateDispatchTest {
    @Test
    void onlyTheModuleUpdateLineIsRaised() {
        assertTrue(UpdateDispatch.isUpdate("update org.modnet.tcp /tmp/tcp.jar"));
        assertTrue(UpdateDispatch.isUpdate("  modnet:update 27"));
        assertTrue(UpdateDispatch.isUpdate("update;lsmod"));
        assertFalse(UpdateDispatch.isUpdate("felix:update 27"), "Felix's own command is not modnet's update");
        assertFalse(UpdateDispatch.isUpdate("lsmod; update tcp"));
        assertFalse(UpdateDispatch.isUpdate("updates"));
        assertFalse(UpdateDispatch.isUpdate(""));
    }

    @Test
    void theCallerIsRaisedForTheLineAndItsThreadsAreBornRaised() throws Exception {
        String before = SchedBoost.current();
        assumeTrue(before.equals("nice 0"), "a Linux thread at nice 0: " + before);
        assumeTrue(SchedBoost.raise(SchedBoost.Policy.NICE).said().equals("nice -20") && restoreTo(before), "CAP_SYS_NICE (root)");
        UpdateDispatch d = new UpdateDispatch(SchedBoost.Policy.NICE);
        AtomicReference<String> child = new AtomicReference<>();
        d.beforeExecute(null, "update org.modnet.tcp");
        try {
            assertEquals("nice -20", SchedBoost.current());
            Thread t = Thread.ofPlatform().start(() -> child.set(SchedBoost.current()));
            t.join();
        } finally {
            d.afterExecute(null, "update org.modnet.tcp", (Object) null);
        }
        assertEquals("nice -20", child.get(), "Gogo's job and pipe threads, started by the caller, are born raised");
        assertEquals(before, SchedBoost.current(), "the caller gets back what it had");
        d.beforeExecute(null, "lsmod");
        assertEquals(before, SchedBoost.current(), "another line is not raised");
        d.afterExecute(null, "lsmod", new Exception("failed"));
        assertEquals(before, SchedBoost.current());
        new UpdateDispatch((SchedBoost.Policy) null).beforeExecute(null, "update tcp");
        assertEquals(before, SchedBoost.current(), "modnet.update.priority=off: not raised");
    }

    /** The command's settle: its own pool's threads go back to nice 0, a raised thread of another pool does not. */
    @Test
    void settlePutsBackTheSessionPoolOnly() throws Exception {
        assumeTrue(SchedBoost.current().equals("nice 0"), "a Linux thread at nice 0");
        SchedBoost probe = SchedBoost.raise(SchedBoost.Policy.NICE);
        probe.close();
        assumeTrue(probe.said().equals("nice -20"), "CAP_SYS_NICE (root)");
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch settled = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        AtomicReference<String> sibling = new AtomicReference<>();
        AtomicReference<String> other = new AtomicReference<>();
        AtomicReference<String> self = new AtomicReference<>();
        Thread job = raisedThread("session-9871-thread-1", () -> {
            await(settled);
            sibling.set(SchedBoost.current());
            await(end);
        });
        Thread stranger = raisedThread("session-9872-thread-1", () -> {
            await(settled);
            other.set(SchedBoost.current());
            await(end);
        });
        Thread command = raisedThread("session-9871-thread-2", () -> {
            await(go);
            UpdateDispatch.settle();
            self.set(SchedBoost.current());
            settled.countDown();
        });
        go.countDown();
        command.join();
        end.countDown();
        job.join();
        stranger.join();
        command.join();
        assertEquals("nice 0", self.get());
        assertEquals("nice 0", sibling.get(), "the job thread of the same session's pool");
        assertEquals("nice -20", other.get(), "another session's thread is not touched");
    }

    /** A thread that raises itself (with the flag cleared, as born raised) and runs {@code r}. */
    private static Thread raisedThread(String name, Runnable r) throws InterruptedException {
        CountDownLatch up = new CountDownLatch(1);
        Thread t = Thread.ofPlatform().name(name).start(() -> {
            SchedBoost.raiseInherited(SchedBoost.Policy.NICE); // never closed: the thread ends at that priority
            up.countDown();
            r.run();
        });
        up.await();
        return t;
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean restoreTo(String before) {
        SchedBoost.normal();
        return SchedBoost.current().equals(before);
    }
}

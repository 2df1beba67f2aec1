package org.modnet.packetdrill;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.socket.api.SleepListener;
import org.modnet.socket.api.Sock;

/**
 * The runner's verdict does not depend on how fast the system-call thread runs: with that thread held
 * up for 20 ms of wall time each time it falls asleep and wakes (as a loaded machine may deschedule
 * it), modnet's own scripts still pass, timing included, because the runner waits for the socket
 * layer's word ({@link SleepListener}) rather than for a quiet spell of the thread.
 */
class SlowSyscallThreadTest {
    @Test
    void ownScriptsPassWithASlowSystemCallThread() throws Exception {
        SleepListener slow = new SleepListener() {
            @Override
            public void sleeping(Sock sock) {
                pause();
            }

            @Override
            public void awake(Sock sock) {
                pause();
            }

            @Override
            public void woken(Sock sock, Thread sleeper) {
            }

            private void pause() {
                if (Thread.currentThread().getName().equals("packetdrill-syscall")) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        List<Path> files = SuiteTest.scripts(OwnScriptsTest.SCRIPTS);
        assertFalse(files.isEmpty());
        List<String> failed = new ArrayList<>();
        SleepListener.add(slow); // before the runner's: it hears of a sleep only after the pause
        try {
            for (Path f : files) {
                Outcome o = SuiteTest.run(f);
                if (o.status() != Outcome.Status.PASS) {
                    failed.add(o.message());
                }
            }
        } finally {
            SleepListener.remove(slow);
        }
        assertTrue(failed.isEmpty(), "failed with a slow system-call thread: " + String.join("\n", failed));
    }
}

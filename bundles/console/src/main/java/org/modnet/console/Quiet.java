package org.modnet.console;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * When a session's output was last written. Gogo stops waiting for an interrupted job at once, while
 * its command may still be writing its last words (ping's statistics); after a Ctrl-C, the next
 * prompt (or an attached command's status) waits until the output has been quiet for 100 ms since
 * the interrupt (at most 2 s), so it comes after them.
 */
final class Quiet {
    private static final long QUIET_NANOS = 100_000_000L;
    private static final long MAX_NANOS = 2_000_000_000L;

    private volatile long last = System.nanoTime();
    private final java.util.concurrent.atomic.AtomicBoolean interrupted = new java.util.concurrent.atomic.AtomicBoolean();

    /** {@code out}, noting each write. */
    OutputStream watch(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                last = System.nanoTime();
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                last = System.nanoTime();
                out.write(b, off, len);
            }
        };
    }

    /**
     * Ctrl-C came: call before the job is interrupted (Gogo's wait for it ends at once). The interrupt
     * counts as output, so the quiet wait starts from it.
     */
    void interrupted() {
        interrupted.set(true);
        last = System.nanoTime();
    }

    /** After a command: if Ctrl-C ended it, waits for its last words (quiet for 100 ms, at most 2 s). */
    void afterCommand() {
        if (!interrupted.getAndSet(false)) {
            return;
        }
        long deadline = System.nanoTime() + MAX_NANOS;
        try {
            while (System.nanoTime() - last < QUIET_NANOS && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

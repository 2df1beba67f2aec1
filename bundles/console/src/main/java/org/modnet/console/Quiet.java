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

    /** Counts the interrupt as output: the quiet wait starts from it. */
    void touch() {
        last = System.nanoTime();
    }

    void await() {
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

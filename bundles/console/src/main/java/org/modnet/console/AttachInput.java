package org.modnet.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.function.IntConsumer;

/**
 * An attach session's standard input in the instance: the bytes the client sends ({@link Frames#IN}),
 * then its end of file ({@link Frames#IN_EOF}), read by the session's commands as a local shell's
 * read the terminal or a pipe. The client sends at most {@link #WINDOW} bytes ahead of what the
 * commands read: the instance hands back credit ({@link Frames#CREDIT}) as they read, so a command
 * that reads nothing never makes the frame reader wait, and a Ctrl-C behind the data is always seen.
 */
final class AttachInput extends InputStream {
    /** What the client may send before the commands read any of it. */
    static final int WINDOW = 64 << 10;
    /** Credit goes back in steps of this many bytes read (the client keeps at least WINDOW - CREDIT_STEP). */
    static final int CREDIT_STEP = WINDOW / 4;

    private final byte[] ring = new byte[WINDOW];
    private final IntConsumer credit;
    private int head;
    private int count;
    private int unreturned;
    private boolean eof;

    /** {@code credit} sends the client the bytes it may send again (called by the reading command). */
    AttachInput(IntConsumer credit) {
        this.credit = credit;
    }

    /** The client's bytes; more than its window is a broken client, and ends the session. */
    synchronized void feed(byte[] b) throws IOException {
        if (eof) {
            throw new IOException("attach: input after its end");
        }
        if (b.length > WINDOW - count) {
            throw new IOException("attach: the client sent " + b.length + " bytes with room for " + (WINDOW - count));
        }
        int tail = (head + count) % WINDOW;
        int first = Math.min(b.length, WINDOW - tail);
        System.arraycopy(b, 0, ring, tail, first);
        System.arraycopy(b, first, ring, 0, b.length - first);
        count += b.length;
        notifyAll();
    }

    /** The client's standard input ended (or the client went away). */
    synchronized void end() {
        eof = true;
        notifyAll();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int give;
        synchronized (this) {
            while (count == 0 && !eof) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // Ctrl-C: the command ends, as a read(2) ends with EINTR
                    throw new InterruptedIOException("interrupted");
                }
            }
            if (count == 0) {
                return -1;
            }
            int n = Math.min(len, count);
            int first = Math.min(n, WINDOW - head);
            System.arraycopy(ring, head, b, off, first);
            System.arraycopy(ring, 0, b, off + first, n - first);
            head = (head + n) % WINDOW;
            count -= n;
            unreturned += n;
            give = unreturned >= CREDIT_STEP ? unreturned : 0;
            unreturned -= give;
            if (give == 0) {
                return n;
            }
            len = n; // reused below as the count read
        }
        credit.accept(give);
        return len;
    }

    @Override
    public synchronized int available() {
        return count;
    }
}

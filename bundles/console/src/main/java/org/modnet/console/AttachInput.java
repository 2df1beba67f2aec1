package org.modnet.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.function.IntConsumer;

/**
 * An attach session's standard input in the instance, read as a terminal is read: when a command
 * reads and nothing is buffered, the instance asks the client for input ({@link Frames#READ}, at most
 * {@link #WINDOW} bytes), and the client answers with what it has ({@link Frames#IN}: a line typed, or
 * a chunk of a pipe) or the end ({@link Frames#IN_EOF}). Nothing is sent that no command asked for, so a
 * line typed while a command that does not read runs (ping) stays with the client and becomes the
 * next command, as typed-ahead input stays in a terminal for the shell; and the frame reader never
 * waits on input, so a Ctrl-C is seen at once.
 */
final class AttachInput extends InputStream {
    /** The most one request asks for. */
    static final int WINDOW = 64 << 10;

    private final byte[] ring = new byte[WINDOW];
    private final IntConsumer request;
    private int head;
    private int count;
    private boolean requested;
    private boolean eof;

    /** {@code request} asks the client for up to that many bytes (called by the reading command). */
    AttachInput(IntConsumer request) {
        this.request = request;
    }

    /** The client's answer; more than was asked for is a broken client, and ends the session. */
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
        requested = false;
        notifyAll();
    }

    /** The client's standard input ended (or the client went away). */
    synchronized void end() {
        eof = true;
        requested = false;
        notifyAll();
    }

    /**
     * A command ended: an answer still on its way, or bytes it left unread, were its to consume (a
     * terminal's reader took them); the next command asks afresh.
     */
    synchronized void commandEnded() {
        requested = false;
        head = 0;
        count = 0;
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
        while (true) {
            boolean ask;
            synchronized (this) {
                if (count > 0) {
                    int n = Math.min(len, count);
                    int first = Math.min(n, WINDOW - head);
                    System.arraycopy(ring, head, b, off, first);
                    System.arraycopy(ring, 0, b, off + first, n - first);
                    head = (head + n) % WINDOW;
                    count -= n;
                    return n;
                }
                if (eof) {
                    return -1;
                }
                ask = !requested;
                requested = true;
                if (!ask) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt(); // Ctrl-C: the command ends, as a read(2) ends with EINTR
                        throw new InterruptedIOException("interrupted");
                    }
                    continue;
                }
            }
            request.accept(WINDOW); // outside the lock: the client's answer comes through feed
        }
    }

    @Override
    public synchronized int available() {
        return count;
    }
}

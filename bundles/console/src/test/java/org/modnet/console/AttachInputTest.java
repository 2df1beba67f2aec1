package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/**
 * An attach session's standard input: asked of the client only when a command reads (once while
 * waiting), the answer read, the end, and what a command left unread dropped when it ends.
 */
class AttachInputTest {
    private final List<Integer> requests = new CopyOnWriteArrayList<>();
    private final AttachInput in = new AttachInput(requests::add);

    private Thread reading(AtomicReference<String> got) {
        return Thread.ofPlatform().start(() -> {
            byte[] b = new byte[100];
            try {
                int n = in.read(b, 0, b.length);
                got.set(n < 0 ? "EOF" : new String(b, 0, n));
            } catch (IOException e) {
                got.set(e.getClass().getSimpleName());
            }
        });
    }

    @Test
    void nothingIsAskedUntilACommandReadsThenOnceUntilTheAnswer() throws Exception {
        assertEquals(List.of(), requests, "a command that does not read asks nothing: typed lines stay with the client");
        AtomicReference<String> got = new AtomicReference<>();
        Thread t = reading(got);
        while (requests.isEmpty()) {
            Thread.sleep(1);
        }
        Thread.sleep(50);
        assertEquals(List.of(AttachInput.WINDOW), requests, "one request while the read waits");
        in.feed("hello\n".getBytes());
        t.join(5000);
        assertEquals("hello\n", got.get());
        Thread t2 = reading(got);
        while (requests.size() < 2) {
            Thread.sleep(1);
        }
        in.end();
        t2.join(5000);
        assertEquals("EOF", got.get());
        assertEquals(-1, in.read());
    }

    @Test
    void whatACommandLeftUnreadIsDroppedWhenItEnds() throws IOException {
        in.feed("first line\nsecond\n".getBytes());
        byte[] b = new byte[6];
        assertEquals(6, in.read(b, 0, 6));
        in.commandEnded();
        assertEquals(0, in.available(), "the rest was that command's");
        assertThrows(IOException.class, () -> in.feed(new byte[AttachInput.WINDOW + 1]), "more than a request asks is a broken client");
    }

    @Test
    void ctrlCEndsABlockedRead() throws Exception {
        AtomicReference<String> got = new AtomicReference<>();
        Thread t = reading(got);
        while (requests.isEmpty()) {
            Thread.sleep(1);
        }
        Thread.sleep(20);
        t.interrupt();
        t.join(5000);
        assertEquals(InterruptedIOException.class.getSimpleName(), got.get());
    }
}

package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** An attach session's standard input: bytes within the client's credit, credit back as they are read, the end. */
class AttachInputTest {
    private final List<Integer> credits = new ArrayList<>();
    private final AttachInput in = new AttachInput(credits::add);

    @Test
    void bytesFedAreReadInOrderThenTheEnd() throws IOException {
        in.feed("hello ".getBytes());
        in.feed("world\n".getBytes());
        byte[] b = new byte[64];
        int n = in.read(b, 0, 64);
        assertEquals("hello world\n", new String(b, 0, n));
        in.end();
        assertEquals(-1, in.read(b, 0, 64));
        assertEquals(-1, in.read());
    }

    @Test
    void creditGoesBackInStepsAsTheCommandReads() throws IOException {
        byte[] chunk = new byte[AttachInput.CREDIT_STEP];
        for (int i = 0; i < 4; i++) {
            in.feed(chunk); // the whole window
        }
        assertThrows(IOException.class, () -> in.feed(new byte[1]), "past the window is a broken client");
        byte[] b = new byte[AttachInput.CREDIT_STEP / 2];
        in.read(b, 0, b.length);
        assertEquals(List.of(), credits, "less than a step read: no credit yet");
        in.read(b, 0, b.length);
        assertEquals(List.of(AttachInput.CREDIT_STEP), credits);
        in.feed(chunk); // the credit given back is room again
        assertEquals(4 * AttachInput.CREDIT_STEP, in.available());
    }

    @Test
    void aRingWrapKeepsTheBytes() throws IOException {
        byte[] big = new byte[AttachInput.WINDOW - 10];
        in.feed(big);
        in.read(new byte[AttachInput.WINDOW], 0, AttachInput.WINDOW);
        byte[] wrap = new byte[40];
        for (int i = 0; i < wrap.length; i++) {
            wrap[i] = (byte) i;
        }
        in.feed(wrap);
        byte[] back = new byte[40];
        assertEquals(40, in.read(back, 0, 40));
        assertArrayEquals(wrap, back);
    }

    @Test
    void ctrlCEndsABlockedRead() throws Exception {
        AtomicReference<Throwable> got = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                in.read();
            } catch (Throwable t) {
                got.set(t);
            }
        });
        Thread.sleep(100);
        reader.interrupt();
        reader.join(5000);
        assertEquals(InterruptedIOException.class, got.get().getClass());
    }
}

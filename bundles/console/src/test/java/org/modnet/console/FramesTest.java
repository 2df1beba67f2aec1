package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class FramesTest {

    @Test
    void aCommandAndItsStatusCrossTheWireIntact() throws IOException {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(wire);
        Frames.write(out, Frames.COMMAND, "lb; lsmod");
        Frames.writeStatus(out, 126);

        DataInputStream in = new DataInputStream(new ByteArrayInputStream(wire.toByteArray()));
        Frames.Frame command = Frames.read(in);
        assertEquals(Frames.COMMAND, command.type());
        assertEquals("lb; lsmod", command.text());
        assertEquals(126, Frames.read(in).status());
        assertNull(Frames.read(in), "a clean end of stream");
    }

    @Test
    void outputIsSentInFramesAtEachLineAndFlush() throws IOException {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        PrintStream session = new PrintStream(new Frames.FrameOutputStream(new DataOutputStream(wire), Frames.OUT), false,
                StandardCharsets.UTF_8);
        session.print("partial");
        session.flush();
        session.println(" line");
        session.flush();

        DataInputStream in = new DataInputStream(new ByteArrayInputStream(wire.toByteArray()));
        assertEquals("partial", Frames.read(in).text());
        assertEquals(" line\n", Frames.read(in).text());
    }

    @Test
    void aFrameLongerThanTheLimitOrCutShortIsAnError() {
        byte[] huge = { 'C', 0x7f, 0, 0, 0 };
        assertThrows(IOException.class, () -> Frames.read(new DataInputStream(new ByteArrayInputStream(huge))));
        byte[] cut = { 'C', 0, 0, 0, 9, 'l', 'b' };
        assertThrows(IOException.class, () -> Frames.read(new DataInputStream(new ByteArrayInputStream(cut))));
        byte[] badStatus = { 'X', 0, 0, 0, 1, 0 };
        assertThrows(IOException.class, () -> Frames.read(new DataInputStream(new ByteArrayInputStream(badStatus))));
    }
}

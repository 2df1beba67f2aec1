package org.modnet.console;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The attach protocol on the control socket: frames of a type byte, a 4-byte length and a payload.
 * The server speaks first: {@link #READY}, or a refusal ({@link #ERR} then {@link #STATUS}) and the
 * end of the connection. The client then sends {@link #COMMAND} (a script, run like {@code -c}) and
 * {@link #QUIT}; the server answers with {@link #OUT} and {@link #ERR} bytes and closes each command
 * with {@link #STATUS}. The client's standard input goes as {@link #IN} frames and {@link #IN_EOF},
 * never more than the instance's {@link #CREDIT} allows ({@link AttachInput}). {@link #INTERRUPT} (the client's Ctrl-C) may come at any time: it interrupts
 * the command running then, as a terminal's Ctrl-C ends a shell's foreground job.
 */
final class Frames {
    static final byte READY = 'R';
    static final byte COMMAND = 'C';
    static final byte QUIT = 'Q';
    static final byte OUT = 'O';
    static final byte ERR = 'E';
    static final byte STATUS = 'X';
    static final byte INTERRUPT = 'I';
    /** Client to instance: bytes of its standard input for the running command(s), within the credit it has. */
    static final byte IN = 'D';
    /** Client to instance: its standard input ended. */
    static final byte IN_EOF = 'F';
    /** Instance to client: a 4-byte count of input bytes the client may send again (its commands read them). */
    static final byte CREDIT = 'W';
    static final int MAX_FRAME = 1 << 20;

    private Frames() {
    }

    record Frame(byte type, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int status() {
            return ((payload[0] & 0xff) << 24) | ((payload[1] & 0xff) << 16) | ((payload[2] & 0xff) << 8)
                    | (payload[3] & 0xff);
        }
    }

    static void write(DataOutputStream out, byte type, byte[] payload, int off, int len)
            throws IOException {
        synchronized (out) {
            out.writeByte(type);
            out.writeInt(len);
            out.write(payload, off, len);
            out.flush();
        }
    }

    static void write(DataOutputStream out, byte type, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        write(out, type, b, 0, b.length);
    }

    static void writeStatus(DataOutputStream out, int status) throws IOException {
        writeInt(out, STATUS, status);
    }

    static void writeInt(DataOutputStream out, byte type, int value) throws IOException {
        byte[] b = { (byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value };
        write(out, type, b, 0, 4);
    }

    /** The next frame, or null at a clean end of stream. */
    static Frame read(DataInputStream in) throws IOException {
        int type = in.read();
        if (type < 0) {
            return null;
        }
        int len = in.readInt();
        if (len < 0 || len > MAX_FRAME) {
            throw new IOException("attach: bad frame length " + len);
        }
        byte[] payload = new byte[len];
        try {
            in.readFully(payload);
        } catch (EOFException e) {
            throw new IOException("attach: connection closed inside a frame");
        }
        if ((type == STATUS || type == CREDIT) && len != 4) {
            throw new IOException("attach: bad " + (type == STATUS ? "status" : "credit") + " frame");
        }
        return new Frame((byte) type, payload);
    }

    /** An output stream that sends what is written as frames of one type, buffered up to a flush. */
    static final class FrameOutputStream extends OutputStream {
        private final DataOutputStream out;
        private final byte type;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

        FrameOutputStream(DataOutputStream out, byte type) {
            this.out = out;
            this.type = type;
        }

        @Override
        public synchronized void write(int b) throws IOException {
            buffer.write(b);
            if (b == '\n' || buffer.size() >= 8192) {
                flush();
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            buffer.write(b, off, len);
            if (buffer.size() >= 8192) {
                flush();
            }
        }

        @Override
        public synchronized void flush() throws IOException {
            if (buffer.size() > 0) {
                byte[] bytes = buffer.toByteArray();
                buffer.reset();
                Frames.write(out, type, bytes, 0, bytes.length);
            }
        }
    }
}

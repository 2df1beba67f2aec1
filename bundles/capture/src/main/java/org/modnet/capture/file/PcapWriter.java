package org.modnet.capture.file;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The classic libpcap file format: a 24-byte global header (magic 0xa1b2c3d4, version 2.4, snapshot
 * length, link type 1 = Ethernet), then per packet a 16-byte header (seconds, microseconds, captured
 * and original length) and the bytes. Little-endian, as libpcap writes on x86; tshark reads it.
 */
public class PcapWriter implements AutoCloseable {
    public static final int LINKTYPE_ETHERNET = 1;

    private final OutputStream out;
    private final int snaplen;
    private final ByteBuffer header = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);

    public PcapWriter(OutputStream out, int snaplen) throws IOException {
        this(out, snaplen, true);
    }

    /** For a subclass writing another format: {@code header} false writes nothing here. */
    PcapWriter(OutputStream out, int snaplen, boolean writeHeader) throws IOException {
        this.out = out;
        this.snaplen = snaplen;
        if (!writeHeader) {
            return;
        }
        header.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(snaplen)
                .putInt(LINKTYPE_ETHERNET);
        out.write(header.array(), 0, 24);
    }

    public void write(long epochNanos, byte[] frame, int origLen) throws IOException {
        int caplen = Math.min(frame.length, snaplen);
        header.clear();
        header.putInt((int) (epochNanos / 1_000_000_000L)).putInt((int) (epochNanos % 1_000_000_000L / 1000)).putInt(caplen)
                .putInt(origLen);
        out.write(header.array(), 0, 16);
        out.write(frame, 0, caplen);
    }

    /** Pushes what is buffered to the file, so a reader sees every frame written so far. */
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}

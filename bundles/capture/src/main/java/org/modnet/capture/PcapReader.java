package org.modnet.capture;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads classic pcap files (either byte order, microsecond or nanosecond timestamps), Ethernet only.
 * A file that is not pcap, or a record longer than its snapshot length, is an error with the reason.
 */
final class PcapReader implements AutoCloseable {
    record Record(long nanos, byte[] bytes, int origLen) {
    }

    private final DataInputStream in;
    private final ByteOrder order;
    private final boolean nanoResolution;
    private final int snaplen;

    PcapReader(InputStream stream) throws IOException {
        this.in = new DataInputStream(stream);
        byte[] h = new byte[24];
        try {
            in.readFully(h);
        } catch (EOFException e) {
            throw new IOException("not a pcap file: shorter than its header");
        }
        ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt(0);
        if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
            order = ByteOrder.LITTLE_ENDIAN;
        } else if (Integer.reverseBytes(magic) == 0xa1b2c3d4 || Integer.reverseBytes(magic) == 0xa1b23c4d) {
            order = ByteOrder.BIG_ENDIAN;
        } else {
            throw new IOException("not a pcap file (bad magic " + Integer.toHexString(magic) + "; pcapng is not read here)");
        }
        b.order(order);
        nanoResolution = (order == ByteOrder.LITTLE_ENDIAN ? magic : Integer.reverseBytes(magic)) == 0xa1b23c4d;
        snaplen = b.getInt(16);
        if (b.getInt(20) != PcapWriter.LINKTYPE_ETHERNET) {
            throw new IOException("link type " + b.getInt(20) + " is not Ethernet (1)");
        }
    }

    /** The next record, or null at the end of the file. */
    Record next() throws IOException {
        byte[] h = new byte[16];
        int first = in.read(h, 0, 1);
        if (first < 0) {
            return null;
        }
        try {
            in.readFully(h, 1, 15);
        } catch (EOFException e) {
            throw new IOException("truncated record header");
        }
        ByteBuffer b = ByteBuffer.wrap(h).order(order);
        long sec = b.getInt(0) & 0xffffffffL;
        long frac = b.getInt(4) & 0xffffffffL;
        int caplen = b.getInt(8);
        int orig = b.getInt(12);
        if (caplen < 0 || caplen > Math.max(snaplen, 262144)) {
            throw new IOException("record of " + caplen + " bytes is larger than the snapshot length");
        }
        byte[] bytes = new byte[caplen];
        try {
            in.readFully(bytes);
        } catch (EOFException e) {
            throw new IOException("truncated record");
        }
        return new Record(sec * 1_000_000_000L + (nanoResolution ? frac : frac * 1000), bytes, orig);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}

package org.modnet.capture.file;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads capture files, Ethernet only: classic pcap (either byte order, microsecond or nanosecond
 * timestamps) and pcapng (sections in either byte order; Enhanced and Simple Packet Blocks, each
 * interface's link type and {@code if_tsresol}; other blocks skipped). A file that is neither, a
 * non-Ethernet interface, a record longer than the snapshot length or a truncated block is an error
 * with the reason.
 */
public final class PcapReader implements AutoCloseable {
    /** One frame: when it was captured (nanoseconds since the epoch), its captured bytes, and its length on the wire. */
    public record Record(long nanos, byte[] bytes, int origLen) {
    }

    private static final int PCAPNG_SHB = 0x0A0D0D0A;
    private static final int PCAPNG_BYTE_ORDER = 0x1A2B3C4D;
    private static final int IDB = 1;
    private static final int SPB = 3;
    private static final int EPB = 6;
    private static final int MAX_BLOCK = 16 << 20;

    private final DataInputStream in;
    private final boolean pcapng;
    private ByteOrder order;
    private boolean nanoResolution;
    private int snaplen;
    /** pcapng: each interface of the current section, {link type, snaplen, tsresol byte}. */
    private final List<int[]> interfaces = new ArrayList<>();

    public PcapReader(InputStream stream) throws IOException {
        this.in = new DataInputStream(stream);
        byte[] m = new byte[4];
        try {
            in.readFully(m);
        } catch (EOFException e) {
            throw new IOException("not a pcap file: shorter than its header");
        }
        int magic = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (magic == PCAPNG_SHB) {
            pcapng = true;
            section();
            return;
        }
        pcapng = false;
        byte[] h = new byte[24];
        System.arraycopy(m, 0, h, 0, 4);
        try {
            in.readFully(h, 4, 20);
        } catch (EOFException e) {
            throw new IOException("not a pcap file: shorter than its header");
        }
        ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
            order = ByteOrder.LITTLE_ENDIAN;
        } else if (Integer.reverseBytes(magic) == 0xa1b2c3d4 || Integer.reverseBytes(magic) == 0xa1b23c4d) {
            order = ByteOrder.BIG_ENDIAN;
        } else {
            throw new IOException("not a pcap or pcapng file (bad magic " + Integer.toHexString(magic) + ")");
        }
        b.order(order);
        nanoResolution = (order == ByteOrder.LITTLE_ENDIAN ? magic : Integer.reverseBytes(magic)) == 0xa1b23c4d;
        snaplen = b.getInt(16);
        if (b.getInt(20) != PcapWriter.LINKTYPE_ETHERNET) {
            throw new IOException("link type " + b.getInt(20) + " is not Ethernet (1)");
        }
    }

    /** The rest of a Section Header Block, whose type has been read: its byte order, its interfaces reset. */
    private void section() throws IOException {
        byte[] len = new byte[4];
        readFully(len, "truncated section header");
        section(len);
    }

    /** A section's byte-order magic and the rest of its header, its length's bytes already read. */
    private void section(byte[] len) throws IOException {
        byte[] m = new byte[4];
        readFully(m, "truncated section header");
        int bom = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (bom == PCAPNG_BYTE_ORDER) {
            order = ByteOrder.LITTLE_ENDIAN;
        } else if (Integer.reverseBytes(bom) == PCAPNG_BYTE_ORDER) {
            order = ByteOrder.BIG_ENDIAN;
        } else {
            throw new IOException("not a pcapng file (bad byte-order magic " + Integer.toHexString(bom) + ")");
        }
        int total = ByteBuffer.wrap(len).order(order).getInt();
        if (total < 28 || total % 4 != 0 || total > MAX_BLOCK) {
            throw new IOException("bad section header length " + total);
        }
        readFully(new byte[total - 12], "truncated section header");
        interfaces.clear();
    }

    private void readFully(byte[] b, String what) throws IOException {
        try {
            in.readFully(b);
        } catch (EOFException e) {
            throw new IOException(what);
        }
    }

    /**
     * The snapshot length: the file header's (pcap), or the first interface's once its block has been
     * read (pcapng; 262144 before).
     */
    public int snaplen() {
        if (!pcapng) {
            return snaplen;
        }
        return interfaces.isEmpty() || interfaces.get(0)[1] == 0 ? 262144 : interfaces.get(0)[1];
    }

    /** The next record, or null at the end of the file. */
    public Record next() throws IOException {
        return pcapng ? nextBlock() : nextRecord();
    }

    /** Fills {@code h}: false at a clean end of the file, an error when it ends inside. */
    private boolean header(byte[] h, String what) throws IOException {
        if (in.read(h, 0, 1) < 0) {
            return false;
        }
        try {
            in.readFully(h, 1, h.length - 1);
        } catch (EOFException e) {
            throw new IOException("truncated " + what);
        }
        return true;
    }

    private Record nextRecord() throws IOException {
        byte[] h = new byte[16];
        if (!header(h, "record header")) {
            return null;
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
        readFully(bytes, "truncated record");
        return new Record(sec * 1_000_000_000L + (nanoResolution ? frac : frac * 1000), bytes, orig);
    }

    /** pcapng: blocks until a packet, skipping the kinds that carry none. */
    private Record nextBlock() throws IOException {
        while (true) {
            byte[] h = new byte[8];
            if (!header(h, "block header")) {
                return null;
            }
            ByteBuffer hb = ByteBuffer.wrap(h).order(order);
            int type = hb.getInt(0);
            if (type == PCAPNG_SHB) {
                section(java.util.Arrays.copyOfRange(h, 4, 8)); // a new section, perhaps in the other byte order
                continue;
            }
            int total = hb.getInt(4);
            if (total < 12 || total % 4 != 0 || total > MAX_BLOCK) {
                throw new IOException("bad pcapng block length " + total);
            }
            byte[] body = new byte[total - 12];
            readFully(body, "truncated pcapng block");
            byte[] trailer = new byte[4];
            readFully(trailer, "truncated pcapng block");
            if (ByteBuffer.wrap(trailer).order(order).getInt() != total) {
                throw new IOException("pcapng block lengths disagree");
            }
            ByteBuffer b = ByteBuffer.wrap(body).order(order);
            switch (type) {
                case IDB -> interfaces.add(interfaceOf(b));
                case EPB -> {
                    if (body.length < 20) {
                        throw new IOException("short enhanced packet block");
                    }
                    int[] itf = iface(b.getInt(0));
                    long ts = (b.getInt(4) & 0xffffffffL) << 32 | (b.getInt(8) & 0xffffffffL);
                    int caplen = b.getInt(12);
                    int orig = b.getInt(16);
                    if (caplen < 0 || caplen > body.length - 20 || (itf[1] > 0 && caplen > itf[1])) {
                        throw new IOException("packet of " + caplen + " bytes does not fit its block or the snapshot length");
                    }
                    byte[] bytes = new byte[caplen];
                    b.get(20, bytes);
                    return new Record(nanos(ts, itf[2]), bytes, orig);
                }
                case SPB -> {
                    int[] itf = iface(0);
                    int orig = b.getInt(0);
                    int caplen = Math.min(orig, body.length - 4);
                    if (itf[1] > 0) {
                        caplen = Math.min(caplen, itf[1]);
                    }
                    byte[] bytes = new byte[Math.max(0, caplen)];
                    b.get(4, bytes);
                    return new Record(0, bytes, orig);
                }
                default -> {
                    // name resolution, statistics, custom blocks: nothing to replay
                }
            }
        }
    }

    private int[] iface(int id) throws IOException {
        if (id < 0 || id >= interfaces.size()) {
            throw new IOException("packet for interface " + id + ", which no interface description block declared");
        }
        int[] itf = interfaces.get(id);
        if (itf[0] != PcapWriter.LINKTYPE_ETHERNET) {
            throw new IOException("link type " + itf[0] + " is not Ethernet (1)");
        }
        return itf;
    }

    /** An Interface Description Block: {link type, snaplen, if_tsresol} (resolution 6, microseconds, unless given). */
    private static int[] interfaceOf(ByteBuffer b) throws IOException {
        if (b.capacity() < 8) {
            throw new IOException("short interface description block");
        }
        int linktype = Short.toUnsignedInt(b.getShort(0));
        int snap = b.getInt(4);
        int tsresol = 6;
        int p = 8;
        while (p + 4 <= b.capacity()) {
            int code = Short.toUnsignedInt(b.getShort(p));
            int len = Short.toUnsignedInt(b.getShort(p + 2));
            if (code == 0) {
                break;
            }
            if (p + 4 + len > b.capacity()) {
                throw new IOException("interface option runs past its block");
            }
            if (code == 9 && len >= 1) {
                tsresol = b.get(p + 4) & 0xff;
            }
            p += 4 + ((len + 3) & ~3);
        }
        return new int[] { linktype, snap, tsresol };
    }

    /** A timestamp in units of the interface's resolution (10^-n seconds, or 2^-n with the top bit set), in nanoseconds. */
    static long nanos(long ts, int tsresol) {
        if ((tsresol & 0x80) != 0) {
            int shift = tsresol & 0x7f;
            if (shift >= 63) {
                return 0;
            }
            long whole = ts >>> shift;
            long frac = ts & ((1L << shift) - 1);
            return whole * 1_000_000_000L + java.math.BigInteger.valueOf(frac).multiply(java.math.BigInteger.valueOf(1_000_000_000L))
                    .shiftRight(shift).longValue();
        }
        if (tsresol <= 9) {
            long mul = 1;
            for (int i = tsresol; i < 9; i++) {
                mul *= 10;
            }
            return ts * mul;
        }
        long div = 1;
        for (int i = 9; i < tsresol && i < 28; i++) {
            div *= 10;
        }
        return ts / div;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}

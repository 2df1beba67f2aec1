package org.modnet.capture.file;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The pcapng format (the IETF draft, what Wireshark and dumpcap write): a Section Header Block naming
 * the writer, one Interface Description Block for the captured device (Ethernet, nanosecond time
 * stamps, its name), then an Enhanced Packet Block per frame. Little-endian, every block padded to 4
 * bytes and closed with its length.
 */
public final class PcapngWriter extends PcapWriter {
    private static final int SHB = 0x0A0D0D0A;
    private static final int IDB = 0x00000001;
    private static final int EPB = 0x00000006;

    private final OutputStream out;
    private final int snaplen;

    public PcapngWriter(OutputStream out, int snaplen, String device) throws IOException {
        super(out, snaplen, false);
        this.out = out;
        this.snaplen = snaplen;
        ByteBuffer shb = block(SHB, 16 + option(4, "modnet tcpdump") + 4);
        shb.putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1L);
        putOption(shb, 4, "modnet tcpdump".getBytes(StandardCharsets.UTF_8)); // shb_userappl
        end(shb);
        ByteBuffer idb = block(IDB, 8 + option(2, device) + 8 + 4);
        idb.putShort((short) LINKTYPE_ETHERNET).putShort((short) 0).putInt(snaplen);
        putOption(idb, 2, device.getBytes(StandardCharsets.UTF_8)); // if_name
        putOption(idb, 9, new byte[] { 9 }); // if_tsresol: 10^-9 s
        end(idb);
        out.write(shb.array());
        out.write(idb.array());
    }

    private static int padded(int n) {
        return (n + 3) & ~3;
    }

    private static int option(int code, String value) {
        return 4 + padded(value.getBytes(StandardCharsets.UTF_8).length);
    }

    /** A block's buffer: type and length written, the body to follow, room for the closing length. */
    private static ByteBuffer block(int type, int body) {
        int total = 12 + body;
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(total);
        return b;
    }

    private static void putOption(ByteBuffer b, int code, byte[] value) {
        b.putShort((short) code).putShort((short) value.length).put(value);
        for (int i = value.length; i < padded(value.length); i++) {
            b.put((byte) 0);
        }
    }

    /** opt_endofopt where options were given, then the closing total length. */
    private static void end(ByteBuffer b) {
        b.putInt(0);
        b.putInt(b.capacity());
    }

    @Override
    public void write(long epochNanos, byte[] frame, int origLen) throws IOException {
        int caplen = Math.min(frame.length, snaplen);
        ByteBuffer epb = block(EPB, 20 + padded(caplen));
        epb.putInt(0).putInt((int) (epochNanos >>> 32)).putInt((int) epochNanos).putInt(caplen).putInt(origLen);
        epb.put(frame, 0, caplen);
        for (int i = caplen; i < padded(caplen); i++) {
            epb.put((byte) 0);
        }
        epb.putInt(epb.capacity());
        out.write(epb.array());
    }
}

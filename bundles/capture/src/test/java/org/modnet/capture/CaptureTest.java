package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.modnet.capture.file.PcapWriter;

/** Filters, tcpdump lines and pcap bytes, on frames built by a helper. */
class CaptureTest {

    /** An Ethernet + IPv4 frame from {@code src} to {@code dst} with protocol {@code proto} and 8 bytes of L4. */
    private static Frame ipFrame(int src, int dst, int proto, int sport, int dport, int icmpType) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8).order(ByteOrder.BIG_ENDIAN);
        b.put(new byte[12]).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 28).putShort((short) 1).putShort((short) 0).put((byte) 64)
                .put((byte) proto).putShort((short) 0).putInt(src).putInt(dst);
        if (proto == 1) {
            b.put((byte) icmpType).put((byte) 0).putShort((short) 0).putShort((short) 7).putShort((short) 3);
        } else {
            b.putShort((short) sport).putShort((short) dport).putShort((short) 8).putShort((short) 0);
        }
        return new Frame(b.array());
    }

    private static Predicate<Frame> filter(String expression) {
        return Filter.parse(List.of(expression.split(" ")));
    }

    @Test
    void hostNetPortAndProtocolPrimitivesCombineWithAndOrNot() {
        Frame udp = ipFrame(0x0a000001, 0x0a000002, 17, 5353, 53, 0);
        Frame icmp = ipFrame(0x0a000002, 0x0a000001, 1, 0, 0, 8);
        assertTrue(filter("host 10.0.0.1").test(udp));
        assertTrue(filter("src host 10.0.0.1").test(udp));
        assertFalse(filter("dst host 10.0.0.1").test(udp));
        assertTrue(filter("net 10.0.0.0/24 and udp and dst port 53").test(udp));
        assertFalse(filter("port 53").test(icmp));
        assertTrue(filter("icmp or port 53").test(icmp));
        assertTrue(filter("not ( udp or arp )").test(icmp));
        assertTrue(filter("! udp && ip").test(icmp));
    }

    @Test
    void aBadExpressionIsASyntaxErrorAsTcpdumpSaysIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> filter("host"));
        assertEquals("can't parse filter expression: syntax error", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> filter("port 70000"));
        assertThrows(IllegalArgumentException.class, () -> filter("frobnicate"));
    }

    @Test
    void linesReadAsTcpdumpWritesThem() {
        Instant t = Instant.parse("2026-11-22T12:00:00.123456Z");
        String icmp = Printer.line(ipFrame(0x0a000001, 0x0a000002, 1, 0, 0, 8), t, false);
        assertTrue(icmp.endsWith(" IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 3, length 8"), icmp);
        String udp = Printer.line(ipFrame(0x0a000001, 0x0a000002, 17, 5353, 53, 0), t, false);
        assertTrue(udp.endsWith(" IP 10.0.0.1.5353 > 10.0.0.2.53: UDP, length 0"), udp);
        assertTrue(Printer.line(new Frame(new byte[5]), t, false).endsWith("[|ether]"));
    }

    @Test
    void pcapHasLibpcapsGlobalHeaderAndRecordHeaders() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PcapWriter w = new PcapWriter(out, 262144)) {
            w.write(1_700_000_000_123_456_000L, new byte[] { 1, 2, 3 }, 3);
        }
        ByteBuffer b = ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xa1b2c3d4, b.getInt());
        assertEquals(2, b.getShort());
        assertEquals(4, b.getShort());
        b.getInt();
        b.getInt();
        assertEquals(262144, b.getInt());
        assertEquals(1, b.getInt(), "LINKTYPE_ETHERNET");
        assertEquals(1_700_000_000, b.getInt());
        assertEquals(123_456, b.getInt(), "microseconds");
        assertEquals(3, b.getInt());
        assertEquals(3, b.getInt());
        byte[] data = new byte[3];
        b.get(data);
        assertArrayEquals(new byte[] { 1, 2, 3 }, data);
    }
}

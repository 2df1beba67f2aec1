package org.modnet.capture.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class PcapReaderTest {

    private static byte[] twoRecords() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PcapWriter w = new PcapWriter(out, 262144)) {
            w.write(1_000_000_000_000L, new byte[] { 1, 2, 3 }, 3);
            w.write(1_000_000_500_000L, new byte[60], 60);
        }
        return out.toByteArray();
    }

    @Test
    void whatTheWriterWritesTheReaderReadsBack() throws IOException {
        try (PcapReader r = new PcapReader(new ByteArrayInputStream(twoRecords()))) {
            PcapReader.Record a = r.next();
            assertArrayEquals(new byte[] { 1, 2, 3 }, a.bytes());
            assertEquals(1_000_000_000_000L, a.nanos());
            assertEquals(60, r.next().bytes().length);
            assertNull(r.next());
        }
    }

    @Test
    void anythingButPcapIsRefusedWithTheReason() {
        IOException notPcap = assertThrows(IOException.class, () -> new PcapReader(new ByteArrayInputStream(new byte[24])));
        assertTrue(notPcap.getMessage().startsWith("not a pcap or pcapng file"), notPcap.getMessage());
        assertThrows(IOException.class, () -> new PcapReader(new ByteArrayInputStream(new byte[5])));
    }

    @Test
    void aTruncatedRecordIsAnError() throws IOException {
        byte[] file = twoRecords();
        try (PcapReader r = new PcapReader(new ByteArrayInputStream(Arrays.copyOf(file, file.length - 10)))) {
            r.next();
            assertThrows(IOException.class, r::next);
        }
    }

    private static byte[] pcapng() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PcapngWriter w = new PcapngWriter(out, 262144, "tap0")) {
            w.write(1_700_000_000_123_456_789L, new byte[] { 1, 2, 3 }, 3);
            w.write(1_700_000_001_000_000_000L, new byte[64], 1500);
        }
        return out.toByteArray();
    }

    @Test
    void pcapngFromTheWriterReadsBackWithNanosecondStamps() throws IOException {
        try (PcapReader r = new PcapReader(new ByteArrayInputStream(pcapng()))) {
            PcapReader.Record a = r.next();
            assertArrayEquals(new byte[] { 1, 2, 3 }, a.bytes());
            assertEquals(1_700_000_000_123_456_789L, a.nanos(), "if_tsresol 9");
            PcapReader.Record b = r.next();
            assertEquals(64, b.bytes().length);
            assertEquals(1500, b.origLen());
            assertNull(r.next());
        }
    }

    /** A big-endian pcapng section, as another machine writes it: microsecond stamps (no if_tsresol), a block to skip, a simple packet. */
    @Test
    void aBigEndianSectionWithDefaultResolutionAndOtherBlocksReads() throws IOException {
        ByteBuffer f = ByteBuffer.allocate(256).order(ByteOrder.BIG_ENDIAN);
        f.putInt(0x0A0D0D0A).putInt(28).putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1).putInt(28);
        f.putInt(1).putInt(20).putShort((short) 1).putShort((short) 0).putInt(0).putInt(20); // IDB: Ethernet, no options
        f.putInt(5).putInt(24).putInt(0).putInt(0).putInt(0).putInt(24); // an interface statistics block: skipped
        f.putInt(6).putInt(36).putInt(0).putInt(0).putInt(2_000_000).putInt(4).putInt(4).put(new byte[] { 9, 8, 7, 6 }).putInt(36);
        f.putInt(3).putInt(20).putInt(3).put(new byte[] { 5, 5, 5, 0 }).putInt(20); // SPB: 3 bytes, padded
        byte[] file = Arrays.copyOf(f.array(), f.position());
        try (PcapReader r = new PcapReader(new ByteArrayInputStream(file))) {
            PcapReader.Record a = r.next();
            assertArrayEquals(new byte[] { 9, 8, 7, 6 }, a.bytes());
            assertEquals(2_000_000_000L, a.nanos(), "2 000 000 microseconds");
            assertArrayEquals(new byte[] { 5, 5, 5 }, r.next().bytes());
            assertNull(r.next());
        }
    }

    @Test
    void brokenPcapngIsAnErrorWithTheReason() throws IOException {
        byte[] good = pcapng();
        byte[] cut = Arrays.copyOf(good, good.length - 6);
        try (PcapReader r = new PcapReader(new ByteArrayInputStream(cut))) {
            r.next();
            assertTrue(assertThrows(IOException.class, r::next).getMessage().contains("truncated"));
        }
        byte[] lying = good.clone();
        lying[good.length - 1] ^= 0x40; // the last block's trailing length
        try (PcapReader r = new PcapReader(new ByteArrayInputStream(lying))) {
            r.next();
            IOException e = assertThrows(IOException.class, r::next);
            assertTrue(e.getMessage().contains("disagree") || e.getMessage().contains("length"), e.getMessage());
        }
        ByteBuffer f = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        f.putInt(0x0A0D0D0A).putInt(28).putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1).putInt(28);
        f.putInt(6).putInt(32).putInt(0).putInt(0).putInt(0).putInt(0).putInt(0).putInt(32); // a packet for an undeclared interface
        try (PcapReader r = new PcapReader(new ByteArrayInputStream(Arrays.copyOf(f.array(), f.position())))) {
            assertTrue(assertThrows(IOException.class, r::next).getMessage().contains("no interface description block"));
        }
    }

    @Test
    void timestampResolutionsConvertToNanoseconds() {
        assertEquals(1_500_000_000L, PcapReader.nanos(1_500_000, 6));
        assertEquals(1_500_000_000L, PcapReader.nanos(1_500_000_000L, 9));
        assertEquals(1_500_000_000L, PcapReader.nanos(15_000_000_000L, 10));
        assertEquals(1_500_000_000L, PcapReader.nanos(3L << 29, 0x80 | 30), "2^-30 units");
    }
}

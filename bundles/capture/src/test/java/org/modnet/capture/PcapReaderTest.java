package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
        assertTrue(notPcap.getMessage().startsWith("not a pcap file"), notPcap.getMessage());
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
}

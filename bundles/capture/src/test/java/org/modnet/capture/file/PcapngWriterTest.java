package org.modnet.capture.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** pcapng: blocks that walk end to end by their lengths, and a file tshark reads without a warning. */
class PcapngWriterTest {
    static byte[] frame(int len) {
        byte[] f = new byte[len];
        f[0] = 2;
        f[6] = 2;
        f[11] = 1;
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xb5; // IEEE local experimental: plain data to a decoder
        return f;
    }

    @Test
    void blocksAreWellFormed() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PcapngWriter w = new PcapngWriter(bytes, 262144, "tap0")) {
            w.write(1_700_000_000_123_456_789L, frame(61), 61);
            w.write(1_700_000_001_000_000_000L, frame(64), 1500);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        int[] types = new int[4];
        int n = 0;
        while (b.hasRemaining()) {
            int start = b.position();
            int type = b.getInt();
            int len = b.getInt();
            assertEquals(0, len % 4, "blocks are padded to 4 bytes");
            assertEquals(len, b.getInt(start + len - 4), "a block closes with its length");
            types[n++] = type;
            if (type == 6) {
                assertEquals(0, b.getInt(start + 8), "interface 0");
                long ts = ((long) b.getInt(start + 12) << 32) | (b.getInt(start + 16) & 0xffffffffL);
                assertTrue(ts == 1_700_000_000_123_456_789L || ts == 1_700_000_001_000_000_000L, "nanosecond time stamps");
            }
            b.position(start + len);
        }
        assertEquals(0x0A0D0D0A, types[0]);
        assertEquals(1, types[1]);
        assertEquals(6, types[2]);
        assertEquals(6, types[3]);
    }

    @Test
    void tsharkReadsItWithoutAWarning() throws Exception {
        boolean tshark = java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "tshark")));
        Assumptions.assumeTrue(tshark, "needs tshark (.ci/run installs it)");
        Path file = Files.createTempFile("modnet", ".pcapng");
        try (PcapngWriter w = new PcapngWriter(Files.newOutputStream(file), 262144, "veth0")) {
            w.write(System.currentTimeMillis() * 1_000_000L, frame(60), 60);
            w.write(System.currentTimeMillis() * 1_000_000L, frame(100), 100);
        }
        Process p = new ProcessBuilder("tshark", "-r", file.toString(), "-T", "fields", "-e", "frame.len", "-e", "frame.interface_name")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertEquals("60\tveth0\n100\tveth0\n", out.replaceAll("(?m)^Running as user.*\\n", ""));
        Process bad = new ProcessBuilder("tshark", "-r", file.toString(), "-Y", "_ws.malformed || _ws.expert.severity >= warning")
                .redirectErrorStream(true).start();
        String warnings = new String(bad.getInputStream().readAllBytes()).replaceAll("(?m)^Running as user.*\\n", "");
        assertEquals(0, bad.waitFor());
        assertEquals("", warnings.strip());
        Files.deleteIfExists(file);
    }
}

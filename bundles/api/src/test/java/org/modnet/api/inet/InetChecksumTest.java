package org.modnet.api.inet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The internet checksum against RFC 1071's definition, 16-bit word by 16-bit word. */
class InetChecksumTest {

    /** RFC 1071 as written: big-endian 16-bit words, an odd byte padded with zero, carries folded. */
    private static int reference(byte[] b, int off, int len, int initial) {
        long sum = initial & 0xffffffffL;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += (b[off + i] & 0xff) << 8 | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (b[off + len - 1] & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    @Test
    void everyLengthAndOffsetSumsAsRfc1071Says() {
        SplittableRandom r = new SplittableRandom(1071);
        byte[] b = new byte[2100];
        for (int round = 0; round < 4; round++) {
            for (int i = 0; i < b.length; i++) {
                // all ones in the last round: the most carries
                b[i] = round == 3 ? (byte) 0xff : (byte) r.nextInt(256);
            }
            MemorySegment m = MemorySegment.ofArray(b);
            for (int len = 0; len <= 1600; len += len < 64 ? 1 : 37) {
                for (int off = 0; off < 9; off++) {
                    int initial = r.nextInt() & 0x7fffffff;
                    assertEquals(reference(b, off, len, initial), InetChecksum.sum(m, off, len, initial),
                            "len " + len + " at " + off);
                }
            }
        }
    }

    @Test
    void aSegmentWithItsChecksumInPlaceSumsToAllOnes() {
        byte[] b = new byte[1500];
        new SplittableRandom(6).nextBytes(b);
        b[16] = 0;
        b[17] = 0;
        int c = ~InetChecksum.sum(MemorySegment.ofArray(b), 0, b.length, 0) & 0xffff;
        b[16] = (byte) (c >>> 8);
        b[17] = (byte) c;
        assertEquals(0xffff, InetChecksum.sum(MemorySegment.ofArray(b), 0, b.length, 0));
    }
}

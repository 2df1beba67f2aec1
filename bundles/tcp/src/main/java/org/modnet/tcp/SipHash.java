package org.modnet.tcp;

/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed 64-bit hash,
 * what Linux keys its sequence numbers and timestamp offsets with ({@code lib/siphash.c}). The key is
 * two 64-bit words (bytes 0-7 and 8-15, little-endian); messages are read as little-endian 64-bit
 * words. The fixed-size forms hash small tuples without an array, for the packet path.
 */
final class SipHash {
    private SipHash() {
    }

    /** SipHash-2-4 of {@code len} bytes of {@code m} from {@code off}. */
    static long hash(long k0, long k1, byte[] m, int off, int len) {
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;
        int end = off + len - (len & 7);
        for (int i = off; i < end; i += 8) {
            long w = 0;
            for (int b = 7; b >= 0; b--) {
                w = w << 8 | (m[i + b] & 0xffL);
            }
            v3 ^= w;
            for (int r = 0; r < 2; r++) {
                v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
                v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
                v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
                v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
            }
            v0 ^= w;
        }
        long last = (long) (len & 0xff) << 56;
        for (int b = (len & 7) - 1; b >= 0; b--) {
            last |= (m[end + b] & 0xffL) << (8 * b);
        }
        return finish(v0, v1, v2, v3, last);
    }

    /**
     * The hash of the 8-byte message holding {@code a} then {@code b}, each little-endian — Linux's
     * {@code siphash_2u32}.
     */
    static long hash2u32(long k0, long k1, int a, int b) {
        long w = (a & 0xffffffffL) | (long) b << 32;
        return hashWords(k0, k1, w, 0, 8);
    }

    /**
     * The hash of the 12-byte message holding {@code a}, {@code b}, {@code c}, each little-endian —
     * Linux's {@code siphash_3u32}.
     */
    static long hash3u32(long k0, long k1, int a, int b, int c) {
        long w = (a & 0xffffffffL) | (long) b << 32;
        return hashWords(k0, k1, w, c & 0xffffffffL, 12);
    }

    /** A message of one whole word {@code w0} and a last word holding {@code tail}'s bytes, {@code len} bytes in all. */
    private static long hashWords(long k0, long k1, long w0, long tail, int len) {
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;
        v3 ^= w0;
        for (int r = 0; r < 2; r++) {
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
        }
        v0 ^= w0;
        return finish(v0, v1, v2, v3, tail | (long) (len & 0xff) << 56);
    }

    /** The last word (remaining bytes and the length), then the finalization's four rounds. */
    private static long finish(long v0, long v1, long v2, long v3, long last) {
        v3 ^= last;
        for (int r = 0; r < 2; r++) {
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
        }
        v0 ^= last;
        v2 ^= 0xff;
        for (int r = 0; r < 4; r++) {
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
        }
        return v0 ^ v1 ^ v2 ^ v3;
    }
}

package org.modnet.tcp;

/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4), as {@code before()}, {@code after()} and
 * {@code between()} in Linux's {@code include/net/tcp.h}: a sequence number is an {@code int} holding
 * the unsigned 32-bit value, and one comes before another when their signed difference is negative,
 * so comparisons stay right across the wrap from 0xffffffff to 0.
 */
final class TcpSeq {
    private TcpSeq() {
    }

    /** {@code before(a, b)}: a comes strictly before b. */
    static boolean before(int a, int b) {
        return a - b < 0;
    }

    /** {@code after(a, b)}: a comes strictly after b. */
    static boolean after(int a, int b) {
        return b - a < 0;
    }

    /** !after(a, b): a is at or before b. */
    static boolean beforeOrEqual(int a, int b) {
        return a - b <= 0;
    }

    /** !before(a, b): a is at or after b. */
    static boolean afterOrEqual(int a, int b) {
        return a - b >= 0;
    }

    /**
     * {@code between(seq1, seq2, seq3)}: {@code seq2 <= seq1 <= seq3}, both ends included, measured
     * from seq2 as Linux does ({@code seq3 - seq2 >= seq1 - seq2} unsigned), so a range that wraps works.
     */
    static boolean between(int seq1, int seq2, int seq3) {
        return Integer.compareUnsigned(seq3 - seq2, seq1 - seq2) >= 0;
    }

    /** The later of two sequence numbers. */
    static int max(int a, int b) {
        return after(a, b) ? a : b;
    }

    /** The earlier of two sequence numbers. */
    static int min(int a, int b) {
        return before(a, b) ? a : b;
    }

    /** The unsigned value, for printing ({@code ss}, {@code /proc/net/tcp}, packetdrill). */
    static long unsigned(int seq) {
        return seq & 0xffffffffL;
    }
}

package org.modnet.api.inet;

import org.modnet.api.skb.SkBuff;

/** The internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words. */
public final class InetChecksum {
    private InetChecksum() {
    }

    /** The folded 16-bit ones' complement sum of {@code len} bytes at {@code offset}, plus {@code initial}. */
    public static int sum(SkBuff skb, int offset, int len, int initial) {
        long sum = initial & 0xffffffffL;
        int i = 0;
        for (; i + 1 < len; i += 2) {
            sum += skb.getU16(offset + i);
        }
        if (i < len) {
            sum += skb.getU8(offset + i) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** The checksum to store: the complement of the sum (0xffff when the sum is 0, never 0 for IPv4). */
    public static int checksum(SkBuff skb, int offset, int len) {
        return ~sum(skb, offset, len, 0) & 0xffff;
    }

    /** Whether the bytes, checksum field included, sum to 0xffff: the check a receiver makes. */
    public static boolean verify(SkBuff skb, int offset, int len) {
        return sum(skb, offset, len, 0) == 0xffff;
    }
}

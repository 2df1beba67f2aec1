package org.modnet.api.inet;

import org.modnet.api.skb.SkBuff;

/** The internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words. */
public final class InetChecksum {
    private InetChecksum() {
    }

    /** The folded 16-bit ones' complement sum of {@code len} bytes at {@code offset}, plus {@code initial}. */
    public static int sum(SkBuff skb, int offset, int len, int initial) {
        if (len < 0 || offset < 0 || offset > skb.end() - len) {
            throw new IndexOutOfBoundsException("checksum of " + len + " bytes at " + offset + " outside the buffer");
        }
        return sum(skb.memory(), offset, len, initial);
    }

    /** The same over any memory — a driver's own buffer before an skb exists. */
    public static int sum(java.lang.foreign.MemorySegment m, long offset, int len, int initial) {
        long sum = initial & 0xffffffffL;
        long sum2 = 0;
        int i = 0;
        // 64-bit big-endian loads, each added as two 32-bit halves into two 64-bit accumulators (no
        // carry is lost: 2^31 additions of 2^32 fit): the ones' complement sum is the same whatever the
        // word size, once the carries are folded back (RFC 1071, section 2). Half the loads of 32-bit
        // words; the bulk TCP path spent most of its time here (TcpBench, JFR).
        for (; i + 15 < len; i += 16) {
            long w = m.get(BE_LONG, offset + i);
            long v = m.get(BE_LONG, offset + i + 8);
            sum += (w >>> 32) + (w & 0xffffffffL);
            sum2 += (v >>> 32) + (v & 0xffffffffL);
        }
        sum += sum2;
        for (; i + 3 < len; i += 4) {
            sum += m.get(BE_INT, offset + i) & 0xffffffffL;
        }
        if (i + 1 < len) {
            sum += m.get(BE_SHORT, offset + i) & 0xffff;
            i += 2;
        }
        if (i < len) {
            sum += (m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + i) & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    private static final java.lang.foreign.ValueLayout.OfLong BE_LONG = java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED
            .withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final java.lang.foreign.ValueLayout.OfInt BE_INT = java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED
            .withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final java.lang.foreign.ValueLayout.OfShort BE_SHORT = java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED
            .withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    /** The checksum to store: the complement of the sum (0xffff when the sum is 0, never 0 for IPv4). */
    public static int checksum(SkBuff skb, int offset, int len) {
        return ~sum(skb, offset, len, 0) & 0xffff;
    }

    /** Whether the bytes, checksum field included, sum to 0xffff: the check a receiver makes. */
    public static boolean verify(SkBuff skb, int offset, int len) {
        return sum(skb, offset, len, 0) == 0xffff;
    }

    /**
     * {@code skb_checksum_help}: completes a {@code CHECKSUM_PARTIAL} skb in software, as a device
     * without transmit checksumming needs it: the sum from {@code csum_start} to the end (the check
     * field holding the pseudo-header's sum) goes complemented into the check field, and the skb is
     * {@code CHECKSUM_NONE}. Fragments are summed where they lie. False, and nothing changes, if the
     * offsets lie outside the packet or the data is shared and cannot be made private.
     */
    public static boolean complete(SkBuff skb) {
        if (skb.ipSummed() != org.modnet.api.skb.Checksum.PARTIAL) {
            return true;
        }
        int start = skb.csumStart();
        int field = start + skb.csumOffset();
        int len = skb.len() - (start - skb.data());
        if (start < skb.data() || field + 2 > skb.tail() || len < 0 || !skb.unshare()) {
            return false;
        }
        start = skb.csumStart(); // unshare keeps the offsets, but read again to be plain about it
        field = start + skb.csumOffset();
        int head = Math.min(len, skb.tail() - start);
        long s = sum(skb, start, head, 0);
        int done = head;
        for (int i = 0; i < skb.nrFrags() && done < len; i++) {
            int n = Math.min(skb.fragSize(i), len - done);
            int f = sum(skb.fragMemory(i), skb.fragOffset(i), n, 0);
            // a piece that starts at an odd byte adds its sum byte-swapped (RFC 1071 2.B)
            s += (done & 1) == 0 ? f : ((f << 8) | (f >>> 8)) & 0xffff;
            done += n;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        skb.setU16(field, (int) ~s & 0xffff);
        skb.ipSummed(org.modnet.api.skb.Checksum.NONE);
        return true;
    }
}

package org.modnet.conntrack;

/** RFC 1624 incremental checksum update ({@code csum_replace4}, {@code csum_replace2}): HC' = ~(~HC + ~m + m'). */
final class Csum {
    private Csum() {
    }

    static int replace16(int check, int old, int now) {
        int s = (~check & 0xffff) + (~old & 0xffff) + (now & 0xffff);
        s = (s & 0xffff) + (s >>> 16);
        s = (s & 0xffff) + (s >>> 16);
        return ~s & 0xffff;
    }

    static int replace32(int check, int old, int now) {
        return replace16(replace16(check, old >>> 16, now >>> 16), old & 0xffff, now & 0xffff);
    }
}

package org.modnet.ebpf.impl;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * {@code bpf_strtol} and {@code bpf_strtoul} (helpers 105 and 106): a number at the start of a string
 * of {@code len} bytes, in the base the low 5 bits of the flags give (0: from its prefix, 8, 10 or 16),
 * after leading white space and, for strtol, a minus sign. Returns how many bytes it read, or -EINVAL
 * (no digit, a bad base or flag, a minus for strtoul) or -ERANGE (too large); the result is stored at
 * {@code res} (0 on an error). The kernel copies at most 63 bytes after the white space and sign into a
 * NUL-terminated buffer and parses that: a NUL ends the number, and so does the 63rd byte. Allocates nothing.
 */
final class Strtox {
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long EINVAL = -22;
    private static final long ERANGE = -34;
    /** The kernel's bounce buffer, less its NUL. */
    private static final int MAX_DIGITS = 63;
    static final int BASE_MASK = 0x1f;

    private Strtox() {
    }

    static long strtol(MemorySegment buf, long flags, MemorySegment res) {
        return parse(buf, flags, res, true);
    }

    static long strtoul(MemorySegment buf, long flags, MemorySegment res) {
        return parse(buf, flags, res, false);
    }

    private static long parse(MemorySegment buf, long flags, MemorySegment res, boolean signed) {
        res.set(U64, 0, 0L);
        long len = buf.byteSize();
        int base = (int) (flags & BASE_MASK);
        if (len == 0 || base != 0 && base != 8 && base != 10 && base != 16 || (flags & ~BASE_MASK) != 0) {
            return EINVAL;
        }
        long at = 0;
        while (at < len && space(byteAt(buf, at))) {
            at++;
        }
        boolean negative = at < len && byteAt(buf, at) == '-';
        if (negative) {
            at++;
        }
        if (at == len) {
            return EINVAL;
        }
        long end = Math.min(len, at + MAX_DIGITS); // what the bounce buffer holds
        int c0 = charAt(buf, at, end);
        int c1 = charAt(buf, at + 1, end);
        if (base == 0) {
            base = c0 != '0' ? 10 : (c1 | 0x20) == 'x' && digit(charAt(buf, at + 2, end)) < 16 ? 16 : 8;
        }
        long digits = at;
        if (base == 16 && c0 == '0' && (c1 | 0x20) == 'x') {
            digits += 2;
        }
        long value = 0;
        boolean overflow = false;
        long k = digits;
        for (; k < end; k++) {
            int d = digit(byteAt(buf, k));
            if (d >= base) {
                break;
            }
            // overflow of an unsigned 64-bit value, as _parse_integer flags it
            if (Long.compareUnsigned(value, Long.divideUnsigned(-1L - d, base)) > 0) {
                overflow = true;
            }
            value = value * base + d;
        }
        if (overflow) {
            return ERANGE;
        }
        if (k == digits) {
            return EINVAL;
        }
        long result;
        if (signed) {
            if (negative ? -value > 0 : value < 0) {
                return ERANGE;
            }
            result = negative ? -value : value;
        } else {
            if (negative) {
                return EINVAL;
            }
            result = value;
        }
        res.set(U64, 0, result);
        return k;
    }

    private static int byteAt(MemorySegment buf, long at) {
        return buf.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    /** The byte at {@code at} of the bounce buffer ending at {@code end}: 0 past it, as its NUL. */
    private static int charAt(MemorySegment buf, long at, long end) {
        return at < end ? byteAt(buf, at) : 0;
    }

    /** The kernel's isspace: tab to carriage return, space, and 0xa0. */
    private static boolean space(int c) {
        return c >= 9 && c <= 13 || c == ' ' || c == 0xa0;
    }

    /** The value of a digit in any base up to 16; 16 for anything else. */
    private static int digit(int c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        int l = c | 0x20;
        return l >= 'a' && l <= 'f' ? l - 'a' + 10 : 16;
    }
}

package org.modnet.shell.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IPv4 text, parsed strictly as iproute2's {@code get_addr_ipv4} does (one to four decimal parts,
 * missing ones zero) and never through a resolver.
 */
final class Ipv4 {
    private Ipv4() {
    }

    /** An address and a prefix length; {@code prefixGiven} is false for a bare address (/32). */
    record Prefix(Inet4Address address, int length, boolean prefixGiven) {
    }

    /** The address as a 32-bit value, or -1 if the text is not one. */
    static long parseBits(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length < 1 || parts.length > 4) {
            return -1;
        }
        long bits = 0;
        for (int i = 0; i < 4; i++) {
            int part = 0;
            if (i < parts.length) {
                String p = parts[i];
                if (p.isEmpty() || p.length() > 3) {
                    return -1;
                }
                for (int j = 0; j < p.length(); j++) {
                    if (p.charAt(j) < '0' || p.charAt(j) > '9') {
                        return -1;
                    }
                }
                part = Integer.parseInt(p);
                if (part > 255) {
                    return -1;
                }
            }
            bits = (bits << 8) | part;
        }
        return bits;
    }

    /** The address, or null. */
    static Inet4Address parse(String text) {
        long bits = parseBits(text);
        return bits < 0 ? null : of(bits);
    }

    /** {@code ADDR[/PLEN]}, the prefix length as a number 0..32 or a dotted netmask; null if not one. */
    static Prefix parsePrefix(String text) {
        int slash = text.indexOf('/');
        String addr = slash < 0 ? text : text.substring(0, slash);
        long bits = parseBits(addr);
        if (bits < 0) {
            return null;
        }
        if (slash < 0) {
            return new Prefix(of(bits), 32, false);
        }
        String len = text.substring(slash + 1);
        int plen = -1;
        if (!len.isEmpty() && len.length() <= 2 && len.chars().allMatch(Character::isDigit)) {
            plen = Integer.parseInt(len);
        } else if (len.indexOf('.') > 0) {
            plen = maskLength(parseBits(len));
        }
        if (plen < 0 || plen > 32) {
            return null;
        }
        return new Prefix(of(bits), plen, true);
    }

    /** The prefix length of a contiguous netmask, or -1. */
    private static int maskLength(long mask) {
        if (mask < 0) {
            return -1;
        }
        int len = Long.numberOfLeadingZeros(~mask & 0xffff_ffffL) - 32;
        long expected = len == 0 ? 0 : (0xffff_ffffL << (32 - len)) & 0xffff_ffffL;
        return mask == expected ? len : -1;
    }

    static long bits(InetAddress a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
    }

    static Inet4Address of(long bits) {
        byte[] b = { (byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits };
        try {
            return (Inet4Address) InetAddress.getByAddress(b); // no lookup: the bytes are the address
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static long mask(int plen) {
        return plen == 0 ? 0 : (0xffff_ffffL << (32 - plen)) & 0xffff_ffffL;
    }

    /** The broadcast of a prefix ({@code brd +}): the host bits set. */
    static Inet4Address broadcast(InetAddress address, int plen) {
        return of(bits(address) | (~mask(plen) & 0xffff_ffffL));
    }

    /** Whether the two are in the same network of that length. */
    static boolean sameNetwork(InetAddress a, InetAddress b, int plen) {
        long m = mask(plen);
        return (bits(a) & m) == (bits(b) & m);
    }
}

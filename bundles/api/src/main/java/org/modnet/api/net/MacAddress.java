package org.modnet.api.net;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** A 48-bit Ethernet address, held in the low 48 bits of a long. */
public record MacAddress(long bits) {
    public static final MacAddress ZERO = new MacAddress(0);
    public static final MacAddress BROADCAST = new MacAddress(0xffff_ffff_ffffL);

    public MacAddress {
        if ((bits & ~0xffff_ffff_ffffL) != 0) {
            throw new IllegalArgumentException("a MAC address has 48 bits");
        }
    }

    /** Parses {@code 02:00:5e:10:00:01}; throws IllegalArgumentException otherwise. */
    public static MacAddress parse(String text) {
        String[] parts = text.split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("\"" + text + "\" is not a valid MAC address");
        }
        long bits = 0;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 2) {
                throw new IllegalArgumentException("\"" + text + "\" is not a valid MAC address");
            }
            try {
                bits = (bits << 8) | Integer.parseInt(p, 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("\"" + text + "\" is not a valid MAC address");
            }
        }
        return new MacAddress(bits);
    }

    /** A random locally administered unicast address, as {@code eth_random_addr} makes. */
    public static MacAddress random() {
        long bits = ThreadLocalRandom.current().nextLong() & 0xffff_ffff_ffffL;
        bits &= ~(1L << 40); // clear multicast
        bits |= 1L << 41; // set locally administered
        return new MacAddress(bits);
    }

    public byte[] bytes() {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (bits >>> (40 - 8 * i));
        }
        return b;
    }

    public boolean isMulticast() {
        return (bits & (1L << 40)) != 0;
    }

    public boolean isBroadcast() {
        return bits == BROADCAST.bits;
    }

    @Override
    public String toString() {
        return HexFormat.ofDelimiter(":").formatHex(bytes());
    }
}

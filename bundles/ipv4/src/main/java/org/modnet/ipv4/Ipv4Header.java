package org.modnet.ipv4;

import org.modnet.api.skb.SkBuff;

/**
 * The IPv4 header (RFC 791) as a view over an skb: field offsets named once, accessors that read the
 * bytes where they lie. Callers check the length first ({@link Ipv4Input} does, before any accessor).
 */
final class Ipv4Header {
    static final int VERSION_IHL = 0;
    static final int TOS = 1;
    static final int TOT_LEN = 2;
    static final int ID = 4;
    static final int FRAG_OFF = 6;
    static final int TTL = 8;
    static final int PROTOCOL = 9;
    static final int CHECK = 10;
    static final int SADDR = 12;
    static final int DADDR = 16;
    static final int MIN_LEN = 20;
    static final int MAX_LEN = 60;

    static final int FLAG_DF = 0x4000;
    static final int FLAG_MF = 0x2000;
    static final int OFFSET_MASK = 0x1fff;

    /** Option types (RFC 791 and the IANA registry) that {@code ip_options_compile} knows. */
    static final int IPOPT_END = 0;
    static final int IPOPT_NOOP = 1;
    static final int IPOPT_RR = 7;
    static final int IPOPT_TIMESTAMP = 68;
    static final int IPOPT_SEC = 130;
    static final int IPOPT_LSRR = 131;
    static final int IPOPT_SSRR = 137;
    static final int IPOPT_RA = 148;

    private Ipv4Header() {
    }

    static int version(SkBuff skb, int h) {
        return skb.getU8(h + VERSION_IHL) >>> 4;
    }

    /** Header length in bytes. */
    static int headerLen(SkBuff skb, int h) {
        return (skb.getU8(h + VERSION_IHL) & 0x0f) * 4;
    }

    static int totalLen(SkBuff skb, int h) {
        return skb.getU16(h + TOT_LEN);
    }

    static int fragOff(SkBuff skb, int h) {
        return skb.getU16(h + FRAG_OFF);
    }

    static boolean isFragment(SkBuff skb, int h) {
        return (fragOff(skb, h) & (FLAG_MF | OFFSET_MASK)) != 0;
    }

    static int ttl(SkBuff skb, int h) {
        return skb.getU8(h + TTL);
    }

    static int protocol(SkBuff skb, int h) {
        return skb.getU8(h + PROTOCOL);
    }

    static int saddr(SkBuff skb, int h) {
        return skb.getU32(h + SADDR);
    }

    static int daddr(SkBuff skb, int h) {
        return skb.getU32(h + DADDR);
    }
}

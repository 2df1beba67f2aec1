package org.modnet.netfilter;

import org.modnet.api.skb.SkBuff;

/**
 * An x_tables match ({@code struct xt_match}): tests one packet, and prints itself as
 * {@code iptables -S} ({@link #save}) and {@code iptables -L} ({@link #list}) do.
 */
interface Match {
    /** {@link #test}'s answer for a packet the match refuses outright ({@code par->hotdrop}): the rule drops it. */
    int HOTDROP = -1;

    /**
     * @param nh  where the IPv4 header starts (from head)
     * @param th  where the transport header starts, or -1 on a non-first fragment or a short packet
     */
    boolean matches(SkBuff skb, int nh, int th, int proto);

    /** 1 for a match, 0 for none, {@link #HOTDROP} for a packet to drop here (a match with no room for it). */
    default int test(SkBuff skb, int nh, int th, int proto) {
        return matches(skb, nh, th, proto) ? 1 : 0;
    }

    /** The words after the rule's addresses in iptables-save's format, each with a leading space. */
    void save(StringBuilder b);

    /** The words iptables -L prints for it, each with a leading space. */
    void list(StringBuilder b, boolean numeric);
}

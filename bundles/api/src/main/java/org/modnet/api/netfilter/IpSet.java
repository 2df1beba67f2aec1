package org.modnet.api.netfilter;

import org.modnet.api.skb.SkBuff;

/**
 * One ipset ({@code struct ip_set}) as a packet sees it. A key is made of {@code dim} dimensions taken
 * from the packet, each from its source or its destination: bit {@code i} of {@code srcFlags} set means
 * dimension {@code i} comes from the source ({@code --match-set NAME src,dst}: dim 2, srcFlags 0b01). A
 * key with fewer dimensions than the set's type has is never in it (ip_set_test). None of these
 * allocates or locks.
 */
public interface IpSet {
    /** The set's name now (a swap exchanges names and contents together, as the kernel's index does). */
    String name();

    /** {@code ip_set_test}: whether the set holds the packet's key; a match counts the packet and its bytes when the set has counters. */
    boolean test(SkBuff skb, int nh, int th, int proto, int dim, int srcFlags);

    /**
     * {@code ip_set_add} ({@code SET --add-set}): adds the packet's key; {@code timeout} in seconds, or -1
     * for the set's default; with {@code exist} a key already there has its timeout renewed.
     */
    void add(SkBuff skb, int nh, int th, int proto, int dim, int srcFlags, int timeout, boolean exist);

    /** {@code ip_set_del} ({@code SET --del-set}): removes the packet's key if it is there. */
    void del(SkBuff skb, int nh, int th, int proto, int dim, int srcFlags);
}

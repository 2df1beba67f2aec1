package org.modnet.api.netfilter;

import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;

/**
 * The NAT core ({@code nf_nat_core.c}) as a NAT table's targets see it: each call binds the packet's
 * new connection to a range ({@code nf_nat_setup_info}); the core then translates every packet of the
 * connection, both ways. Handed to an {@link NfNatLookup} with the packet it asks about.
 */
public interface NfNat {
    /** {@code NF_NAT_RANGE_PROTO_RANDOM}: the port is picked at random, not kept. */
    int RANDOM = 1;
    /** {@code NF_NAT_RANGE_PROTO_RANDOM_FULLY}. */
    int RANDOM_FULLY = 2;

    /**
     * SNAT at POST_ROUTING/LOCAL_IN, DNAT at PRE_ROUTING/LOCAL_OUT: addresses {@code minAddr..maxAddr}
     * (network order as ints; 0 and 0 keep the address), ports {@code minPort..maxPort} (0 and 0 keep
     * the port unless it is taken). DROP when no free tuple is left in the range.
     */
    Verdict setup(SkBuff skb, NfHook hook, int minAddr, int maxAddr, int minPort, int maxPort, int flags);

    /** MASQUERADE: SNAT to {@code out}'s primary address, forgotten when that address goes. */
    Verdict masquerade(SkBuff skb, NetDevice out, int minPort, int maxPort, int flags);

    /** REDIRECT: DNAT to the address of the device it came in on (127.0.0.1 when it was sent here). */
    Verdict redirect(SkBuff skb, NfHook hook, NetDevice in, int minPort, int maxPort, int flags);
}

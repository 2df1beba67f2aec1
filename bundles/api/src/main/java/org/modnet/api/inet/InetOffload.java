package org.modnet.api.inet;

import org.modnet.api.skb.SkBuff;

/**
 * A transport protocol's part of software segmentation, {@code struct net_offload}
 * ({@code inet_add_offload}): registered as an OSGi service with the property
 * {@value InetProtocol#PROTOCOL}. IPv4's {@code inet_gso_segment} cuts a GSO skb into copies of its
 * headers, each with its share of the payload, fixes the IPv4 header of each, and asks this for the
 * transport header ({@code tcp4_gso_segment}'s part: sequence numbers, flags, checksum).
 */
public interface InetOffload {
    /** The transport header's length at {@code th} (an offset from head), or -1 if it is malformed. */
    int headerLen(SkBuff skb, int th);

    /**
     * Fixes the transport header of segment {@code index} of {@code count}, whose payload of
     * {@code payloadLen} bytes starts {@code offset} bytes into the GSO skb's payload; its network and
     * transport headers are set and its IPv4 header is final. With {@code csumOffload} the checksum may
     * be left {@code CHECKSUM_PARTIAL} for the device; otherwise it is complete.
     */
    void gsoFixSegment(SkBuff seg, int index, int count, int offset, int payloadLen, boolean csumOffload);
}

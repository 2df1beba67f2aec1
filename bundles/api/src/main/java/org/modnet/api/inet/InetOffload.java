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

    /**
     * {@code tcp4_gro_receive}'s look at the segment alone, transport header at {@code th}, {@code len}
     * bytes from it (network header set, IPv4's header there): its header length, with
     * {@link org.modnet.api.net.PacketOffload#GRO_FINAL} when it ends its flow or may not be held (flags
     * GRO never merges, IPv4's flush: a total length not the frame's), or -1 when it takes no part and
     * looks for no flow (a bad checksum, a header that does not fit). @since 1.14
     */
    default int groHeaderLen(SkBuff skb, int th, int len) {
        return -1;
    }

    /**
     * {@code tcp_gro_receive} against a held skb (its transport header at {@code heldTh}) whose network
     * part matched: {@link org.modnet.api.net.PacketOffload#groMatch}'s bits. @since 1.14
     */
    default int groMatch(SkBuff held, int heldTh, SkBuff skb, int th, int hlen) {
        return 0;
    }

    /** After the merge: what the segment's header adds to the held one's. @since 1.14 */
    default void groMerged(SkBuff held, int heldTh, SkBuff skb, int th) {
    }

    /** {@code tcp4_gro_complete}: the held skb, {@code len} bytes from {@code th}, goes up as one. @since 1.14 */
    default void groComplete(SkBuff skb, int th, int len) {
    }
}

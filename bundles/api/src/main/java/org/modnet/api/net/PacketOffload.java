package org.modnet.api.net;

import java.util.function.Consumer;

import org.modnet.api.skb.SkBuff;

/**
 * Software segmentation for one ethertype, {@code struct packet_offload}'s {@code gso_segment}:
 * registered as an OSGi service with the property {@value PacketHandler#ETHERTYPE}, as
 * {@code dev_add_offload} registers. The core calls it from {@code validate_xmit_skb} for a GSO skb
 * whose device cannot take it whole; the core itself knows no protocol.
 */
@FunctionalInterface
public interface PacketOffload {
    /**
     * {@code skb_gso_segment}: cuts the GSO skb (data at the MAC or network header, header offsets
     * set) into packets of at most {@code gso_size} payload each, with their own headers and
     * checksums as {@code features} ({@link NetdevFeatures}) allow, handing each to {@code out} in
     * order. The skb stays the caller's. Returns how many were handed out, or -1 if the skb cannot be
     * segmented here (not this protocol's, malformed); a segment without a buffer ends the run early,
     * counted by the offload.
     */
    int gsoSegment(SkBuff skb, long features, Consumer<SkBuff> out);

    /** {@link #groMatch}: the frame belongs to the held skb's flow ({@code NAPI_GRO_CB(p)->same_flow}). @since 1.19 */
    int GRO_SAME_FLOW = 1;
    /** {@link #groMatch}: the frame's payload may be appended to the held skb ({@code skb_gro_receive}). @since 1.19 */
    int GRO_MERGE = 2;
    /** {@link #groMatch}: the held skb goes up now, after the frame if merged ({@code pp}). @since 1.19 */
    int GRO_FLUSH = 4;
    /**
     * {@link #groHeaderLen}: the frame ends its flow (PSH, FIN, no payload; SYN, RST, URG or a length
     * not the frame's, which never merge): merged it flushes, alone it is not held. @since 1.19
     */
    int GRO_FINAL = 1 << 16;

    /**
     * {@code gro_receive}'s look at the frame alone: the length of its headers (network and transport)
     * when its flow is to be looked for, with {@link #GRO_FINAL} or'd in when it ends its flow; -1 when
     * it goes up alone and no flow is looked for, the held ones left as they are (another protocol,
     * options, a fragment, a bad checksum, a header that does not fit). A checksum verified here is
     * marked {@code CHECKSUM_UNNECESSARY}. @since 1.19
     */
    default int groHeaderLen(SkBuff skb) {
        return -1;
    }

    /**
     * {@code gro_receive} against one held skb ({@code gso_size} its first payload, {@code gso_segs} the
     * frames in it): 0 for another flow, else {@link #GRO_SAME_FLOW} with {@link #GRO_MERGE} and
     * {@link #GRO_FLUSH} as they apply. {@code hlen} is {@link #groHeaderLen}'s length (the core does
     * not call it for a frame that took no part). @since 1.19
     */
    default int groMatch(SkBuff held, SkBuff skb, int hlen) {
        return 0;
    }

    /** After the core appended the frame's payload to the held skb: headers the frame adds to (TCP's PSH, FIN). @since 1.19 */
    default void groMerged(SkBuff held, SkBuff skb) {
    }

    /**
     * {@code gro_complete}: the held skb of {@code gso_segs} frames goes up; its headers are made those of
     * one packet of its length (IPv4's total length and header checksum, TCP's checksum field). @since 1.19
     */
    default void groComplete(SkBuff skb) {
    }
}

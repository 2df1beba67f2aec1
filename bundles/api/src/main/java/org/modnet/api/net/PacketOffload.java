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
}

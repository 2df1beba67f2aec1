package org.modnet.api.net;

import org.modnet.api.skb.SkBuff;

/**
 * A protocol handler for received frames, {@code struct packet_type}: registered as an OSGi service
 * with the property {@value #ETHERTYPE} (an ethertype, or {@link Eth#ETH_P_ALL} for a tap that sees
 * every frame), as {@code dev_add_pack} registers. The handler owns the skb it is given and must free
 * or pass it on; a tap gets its own reference.
 */
@FunctionalInterface
public interface PacketHandler {
    /** Service property: the ethertype handled (an Integer). */
    String ETHERTYPE = "modnet.ethertype";

    void receive(SkBuff skb, NetDevice dev);
}

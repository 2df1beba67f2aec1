package org.modnet.api.inet;

import org.modnet.api.skb.SkBuff;

/**
 * A transport protocol, {@code struct net_protocol}: registered as a service with property
 * {@value #PROTOCOL} (the IP protocol number: 1 ICMP, 6 TCP, 17 UDP), it receives the packets
 * delivered locally. The skb's data starts at the transport header; its network header is set.
 * The handler owns the skb.
 */
@FunctionalInterface
public interface InetProtocol {
    String PROTOCOL = "modnet.ipproto";

    void receive(SkBuff skb);
}

package org.modnet.api.skb;

/** Who a received frame is for, {@code skb->pkt_type} ({@code PACKET_*} of if_packet.h). */
public enum PktType {
    /** To us. */
    HOST,
    /** To all. */
    BROADCAST,
    /** To a group. */
    MULTICAST,
    /** To someone else (seen in promiscuous mode). */
    OTHERHOST,
    /** Sent by us (what taps see on transmit). */
    OUTGOING,
    /** Looped back. */
    LOOPBACK
}

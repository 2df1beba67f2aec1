package org.modnet.api.skb;

/** {@code skb->ip_summed}: what is known about the packet's checksum. */
public enum Checksum {
    /** Nothing: software must check (receive) or compute (transmit) it. */
    NONE,
    /** The device checked it (receive). */
    UNNECESSARY,
    /** The device summed the packet: {@code csum} holds the sum (receive). */
    COMPLETE,
    /** To be completed from {@code csumStart}, stored at {@code csumStart + csumOffset} (transmit offload). */
    PARTIAL
}

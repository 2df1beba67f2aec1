package org.modnet.api.netfilter;

/** The five IPv4 hooks ({@code NF_INET_*}), in a packet's order along its path. */
public enum NfHook {
    /** Every packet that arrives, after header checks, before the routing decision. */
    PRE_ROUTING,
    /** Packets for this host, before the transport protocol. */
    LOCAL_IN,
    /** Packets routed through this host. */
    FORWARD,
    /** Packets this host sends, after routing. */
    LOCAL_OUT,
    /** Every packet that leaves, just before the neighbour layer. */
    POST_ROUTING
}

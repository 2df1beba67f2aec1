package org.modnet.api.inet;

import org.modnet.api.handover.HandsOver;

import org.modnet.api.skb.SkBuff;

/**
 * A transport protocol, {@code struct net_protocol}: registered as a service with property
 * {@value #PROTOCOL} (the IP protocol number: 1 ICMP, 6 TCP, 17 UDP), it receives the packets
 * delivered locally. The skb's data starts at the transport header; its network header is set.
 * The handler owns the skb.
 */
@FunctionalInterface
public interface InetProtocol extends HandsOver {
    String PROTOCOL = "modnet.ipproto";

    void receive(SkBuff skb);

    /**
     * {@code err_handler}: an ICMP error arrived quoting a packet of this protocol. {@code inner} is the
     * offset of the quoted IPv4 header in {@code skb}; at least its header and the first 8 bytes of the
     * transport header are in the linear data. The skb stays the caller's. Type, code and info are the
     * ICMP header's ({@code info} carries the next-hop MTU of "fragmentation needed").
     */
    default void error(SkBuff skb, int inner, int type, int code, int info) {
    }

    /**
     * {@link #error}, answering whether a socket of this protocol was there for it: Linux's
     * {@code err_handler} returns {@code -ENOENT} when none is ({@code __udp4_lib_err},
     * {@code tcp_v4_err}), and the error is then counted in Icmp InErrors. A handler that does not say
     * counts as having found one.
     *
     * @since 1.9
     */
    default boolean errorFoundSocket(SkBuff skb, int inner, int type, int code, int info) {
        error(skb, inner, type, code, info);
        return true;
    }

    /**
     * IPv4 took this handler and has delivered to it, in arrival order, the packets it held while the
     * previous version handed over. A version that adopted state starts the clocks the hand-over
     * stopped now (TCP's retransmission, delayed-ACK and keepalive timers), so neither the adoption nor
     * the wait for registration is counted against an acknowledgement still in the hold queue. IPv4
     * calls it after every registration; it has nothing to do on a fresh start.
     */
    default void attached() {
    }

}

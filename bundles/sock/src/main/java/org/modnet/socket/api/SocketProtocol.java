package org.modnet.socket.api;

import java.util.List;

import org.modnet.api.handover.HandsOver;
import org.modnet.api.net.NetNamespace;

/**
 * A protocol's entry in the socket switch ({@code inet_protosw}), registered as a service with
 * {@value #FAMILY}, {@value #TYPE} and {@value #PROTOCOL} (the protocol number {@code socket(2)} is
 * given, also matched by protocol 0 when {@value #DEFAULT} is true).
 */
public interface SocketProtocol extends HandsOver {
    String FAMILY = "modnet.socket.family";
    String TYPE = "modnet.socket.type";
    String PROTOCOL = "modnet.socket.protocol";
    String DEFAULT = "modnet.socket.default";

    /** A new socket of this protocol in {@code ns} ({@code sk_alloc} plus the protocol's init). */
    Sock create(NetNamespace ns) throws SockException;

    /** The name {@code /proc/net/sockstat} and {@code ss -s} print: "UDP", "TCP". */
    String name();

    /** Pages of socket memory the protocol has charged in {@code ns} ({@code sockstat}'s "mem"). */
    long memoryPages(NetNamespace ns);

    /**
     * Every socket the protocol holds in {@code ns}, those no descriptor holds included: connections
     * not yet accepted, orphans finishing their close, TIME-WAIT ({@code ss -a}, {@code /proc/net/tcp}
     * walk the protocol's hashes, not the descriptors). A protocol that has none beyond its open
     * sockets returns none.
     */
    default List<Sock> sockets(NetNamespace ns) {
        return List.of();
    }

}

package org.modnet.socket.api;

import java.util.List;

import org.modnet.api.net.NetNamespace;

/**
 * A protocol's entry in the socket switch ({@code inet_protosw}), registered as a service with
 * {@value #FAMILY}, {@value #TYPE} and {@value #PROTOCOL} (the protocol number {@code socket(2)} is
 * given, also matched by protocol 0 when {@value #DEFAULT} is true).
 */
public interface SocketProtocol {
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
     * Sockets of {@code ns} that no descriptor refers to any more but that the protocol still keeps:
     * TCP's orphans finishing their close and its TIME-WAIT socks. {@code ss -a} lists them.
     * @since 1.2
     */
    default List<Sock> unowned(NetNamespace ns) {
        return List.of();
    }

    /** Orphaned sockets in {@code ns} ({@code sockstat}'s "orphan"). @since 1.2 */
    default int orphans(NetNamespace ns) {
        return 0;
    }

    /** TIME-WAIT sockets in {@code ns} ({@code sockstat}'s "tw"). @since 1.2 */
    default int timewait(NetNamespace ns) {
        return 0;
    }
}

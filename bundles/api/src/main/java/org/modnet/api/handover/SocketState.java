package org.modnet.api.handover;

import java.util.List;
import java.util.Map;

import org.modnet.api.net.NetNamespace;

/**
 * A socket as its protocol hands it over: {@code socket(2)}'s triple, its namespace, its addresses
 * ({@code inet_sock}'s saddr/sport and daddr/dport, with the address the user bound apart from the one
 * chosen), its state, options, receive queue and counters. {@code id} names it to the holder (the old
 * socket's inode) so descriptors find the socket made from it; {@code extra} holds what only the
 * protocol knows, by name (UDP: {@code addressLocked}, {@code portLocked}, {@code gsoSize});
 * {@code errorQueue} (1.12) the entries of its {@code IP_RECVERR} error queue, oldest first.
 */
public record SocketState(long id, NetNamespace namespace, int family, int type, int protocol, int state,
        int localAddress, int localPort, int boundAddress, int remoteAddress, int remotePort, int shutdown,
        int error, SockOptions options, List<Datagram> receiveQueue, long drops, Map<String, Long> extra,
        List<QueuedError> errorQueue) {
    public SocketState {
        receiveQueue = List.copyOf(receiveQueue);
        extra = Map.copyOf(extra);
        errorQueue = List.copyOf(errorQueue);
    }

    /** A socket without an error queue (as every deposit before 1.12): it starts empty. */
    public SocketState(long id, NetNamespace namespace, int family, int type, int protocol, int state, int localAddress,
            int localPort, int boundAddress, int remoteAddress, int remotePort, int shutdown, int error, SockOptions options,
            List<Datagram> receiveQueue, long drops, Map<String, Long> extra) {
        this(id, namespace, family, type, protocol, state, localAddress, localPort, boundAddress, remoteAddress, remotePort,
                shutdown, error, options, receiveQueue, drops, extra, List.of());
    }
}

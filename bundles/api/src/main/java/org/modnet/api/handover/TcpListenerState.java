package org.modnet.api.handover;

import java.util.List;

/**
 * A listening socket: its socket part, its {@code listen(2)} backlog, its accept queue (the established
 * children no {@code accept(2)} took yet, queued again in order) and its SYN queue (children in
 * SYN-RECV, which modnet keeps as full sockets: they are carried like connections, their SYN-ACK timer
 * with them). A request the old version could not freeze is dropped and counted in {@code
 * synQueueDropped}: its peer retransmits its SYN, or, holding our SYN-ACK already, sends an ACK that
 * the new listener answers with a reset, as Linux's listener answers an ACK it has no request for.
 */
public record TcpListenerState(SocketState socket, int backlog, List<TcpConnectionState> acceptQueue,
        List<TcpConnectionState> synQueue, int synQueueDropped) {
    public TcpListenerState {
        acceptQueue = List.copyOf(acceptQueue);
        synQueue = List.copyOf(synQueue);
    }
}

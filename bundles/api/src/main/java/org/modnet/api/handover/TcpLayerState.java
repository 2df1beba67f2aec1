package org.modnet.api.handover;

import java.util.List;

/**
 * TCP's deposit beside its {@link LayerState} (which names the sockets whose descriptors wait for it):
 * the layout version, every namespace's secrets and MIB, the connections (established or closing, with
 * an orphan among them when its user closed it), the listeners with their accept queues, and the
 * TIME-WAIT socks.
 */
public record TcpLayerState(int version, List<TcpNamespaceState> namespaces, List<TcpConnectionState> connections,
        List<TcpListenerState> listeners, List<TcpTimewaitState> timewait) {
    public TcpLayerState {
        namespaces = List.copyOf(namespaces);
        connections = List.copyOf(connections);
        listeners = List.copyOf(listeners);
        timewait = List.copyOf(timewait);
    }
}

package org.modnet.api.handover;

import java.util.List;
import java.util.Objects;
import java.util.function.LongFunction;

/**
 * TCP's connections handed over in place (1.7): instead of freezing every connection before it
 * deposits, the old version stops their clocks, deposits each one's socket (its id and 4-tuple, no
 * more) and {@code freeze}, which freezes the connection of a socket id at once if the old version has
 * not done so yet and returns its state (null for an id it does not know). The new version asks for a
 * connection when its first segment comes, or in a pass after; the old version freezes the rest itself
 * before its deactivation returns, so nothing of it runs after its bundle has stopped. A new version
 * reads this only if its bundle says so ({@code Modnet-Tcp-Deferred}); else the old one freezes all
 * connections into {@link TcpLayerState} as before.
 */
public record TcpDeferredConnections(List<SocketState> connections, LongFunction<TcpConnectionState> freeze) {
    public TcpDeferredConnections {
        connections = List.copyOf(connections);
        Objects.requireNonNull(freeze, "freeze");
    }
}

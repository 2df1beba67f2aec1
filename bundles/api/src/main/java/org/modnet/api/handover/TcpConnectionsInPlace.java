package org.modnet.api.handover;

import java.util.List;
import java.util.Objects;

import org.modnet.api.net.NetNamespace;

/**
 * TCP's connections left in the old version's own tables (1.11): where {@link TcpDeferredConnections} lists a record per
 * connection, built inside the swap by the old version and read back by the new one into a table of its own, this carries
 * no record at all. The old version stops the connections' clocks and deposits its {@link Table}; the new version asks it
 * for a connection by the 4-tuple of the segment or call that first needs it, and for the list of all of them only in
 * the pass after the held segments are delivered. The swap's walk and the adoption so cost what the connections that are
 * not left in place cost (listeners, TIME-WAIT, the closed and unhashed ones), not one step per connection. The old
 * version freezes the rest itself before its deactivation returns, as for {@link TcpDeferredConnections}. A new version
 * reads this only if its bundle says {@code Modnet-Tcp-Deferred: 2} or more.
 */
public record TcpConnectionsInPlace(Table table) {
    public TcpConnectionsInPlace {
        Objects.requireNonNull(table, "table");
    }

    /** The old version's tables, read by the new version. Safe to call from any thread, each connection frozen once. */
    public interface Table {
        /**
         * The state of the connection of {@code ns} left in place with this 4-tuple (the segment's source is its remote
         * end), frozen now if the old version has not frozen it yet and the same state on every later call; null if no
         * connection left in place has that 4-tuple. Allocates nothing when there is none.
         */
        TcpConnectionState freeze(NetNamespace ns, int raddr, int rport, int laddr, int lport);

        /** The state of the connection left in place whose socket id is {@code id}, as above; null if none has it. */
        TcpConnectionState freeze(long id);

        /** Whether a connection of {@code ns} left in place holds local port {@code port}. Allocates nothing after its first call. */
        boolean holdsPort(NetNamespace ns, int port);

        /** Every connection left in place: its socket (id, namespace, 4-tuple, options), made at the first call. */
        List<SocketState> connections();
    }
}

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
 *
 * <p>The contract of the window (1.13): the {@link Table} is the old version's object, its methods the old bundle's code,
 * called by the new version from its adoption until its pass over the connections left in place ends (under 1,000
 * connections 130-500 ms after the {@code update} call), while the old bundle is being stopped, uninstalled and refreshed.
 * Felix disposes of a refreshed revision's class loader: a class of the old bundle not loaded by then can no longer be
 * loaded, and code that needed one would fail on the new version's packet path. So:
 * <ul>
 * <li>the old version's rest freeze runs every path of the table (each connection frozen, the list, the ports and the ids
 * made) before its deactivation returns, so what the new version calls after the refresh runs only code and classes
 * already loaded: a refresh or uninstall of the old revision in the window is harmless;</li>
 * <li>the new version calls {@link Table#release} once it no longer calls the table (its pass is over, it remade every
 * connection in its adoption, it refused the deposit, or it stopped first), and never calls it after that; a new version
 * says so with {@code Modnet-Tcp-Deferred: 3};</li>
 * <li>an old version may wait for that release in its stop (its component's deactivation, which Felix's {@code stop},
 * {@code uninstall} and {@code refresh} of it all run first), up to a bound past which it logs a warning and returns, so
 * that its classes are not in use at all once its bundle has stopped (TCP: {@code -Dmodnet.tcp.releasewait.ms}, off by
 * default); it never waits for a next version that says only 2, nor when no next version took the table.</li>
 * </ul>
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

        /**
         * The new version no longer calls this table (its pass over the connections left in place is over, or it stopped
         * first): the old version's stop, which waits for this, may return. Called once; nothing is called after it.
         * A table that does not wait ignores it. @since 1.13
         */
        default void release() {
        }
    }
}

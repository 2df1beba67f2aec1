package org.modnet.api.inet;

import java.util.List;

import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;

/** IPv4 routing per namespace ({@code ip route}): a service of the ipv4 bundle. */
public interface RouteTable {

    /** The result of {@code ip route get}: where a packet to an address would go. */
    record Decision(int destination, RouteEntry route, int nextHop, int src) {
    }

    /** Every route of the main table, in prefix order. */
    List<RouteEntry> routes(NetNamespace ns);

    /** {@code ip route add} (EEXIST if the same prefix and metric exist) or {@code replace}. */
    void add(NetNamespace ns, RouteEntry route, boolean replace) throws NetException;

    /** {@code ip route del PREFIX [metric N]}: ESRCH when there is no such route. */
    void delete(NetNamespace ns, int prefix, int len, int metric) throws NetException;

    /** {@code ip route get ADDRESS}: ENETUNREACH without a route. */
    Decision get(NetNamespace ns, int address) throws NetException;

    /**
     * A learned path MTU toward one destination (Linux's next-hop exception): its MTU, the seconds
     * left before it expires, and whether it is locked (clamped to {@code net.ipv4.route.min_pmtu}).
     * @since 1.7
     */
    record PmtuException(int mtu, long expiresSec, boolean locked) {
    }

    /** The path MTU exception toward {@code address}, or null (none, or a table without them). @since 1.7 */
    default PmtuException exception(NetNamespace ns, int address) {
        return null;
    }

    /** {@code ip route flush cache}: every path MTU exception of the namespace goes. @since 1.7 */
    default void flushCache(NetNamespace ns) {
    }

    /**
     * {@code fib_lookup}: the route the table picks for {@code daddr} — the longest prefix, the lowest
     * metric; unicast or a reject type — or null when none matches. One walk, nothing allocated: what a
     * per-packet caller (XDP's {@code bpf_fib_lookup}) uses. The namespace's own and broadcast
     * addresses are not told apart here ({@link Ipv4#addressType} does).
     */
    default RouteEntry lookup(NetNamespace ns, int daddr) {
        RouteEntry best = null; // the slow way, for tables without their own
        for (RouteEntry r : routes(ns)) {
            boolean matches = r.len() == 0 || ((daddr ^ r.prefix()) >>> (32 - r.len())) == 0;
            if (matches && (best == null || r.len() > best.len() || (r.len() == best.len() && r.metric() < best.metric()))) {
                best = r;
            }
        }
        return best;
    }
}

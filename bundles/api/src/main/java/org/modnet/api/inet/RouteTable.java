package org.modnet.api.inet;

import java.util.List;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;

/** IPv4 routing per namespace ({@code ip route}): a service of the ipv4 bundle. */
public interface RouteTable {

    /**
     * The result of {@code ip route get}: where a packet to an address would go, and the table whose
     * route it took ({@code table} since 1.8).
     */
    record Decision(int destination, RouteEntry route, int nextHop, int src, long table) {
        public Decision(int destination, RouteEntry route, int nextHop, int src) {
            this(destination, route, nextHop, src, FibRule.MAIN);
        }
    }

    /**
     * What a lookup through the rules matches on besides the destination (Linux's {@code flowi4}):
     * {@code ip route get ADDRESS from A iif DEV oif DEV mark M tos T ipproto P sport S dport D}.
     * 0 and null for what is not given; without {@code iif} the packet is one this host sends. @since 1.8
     */
    record Flow(int saddr, NetDevice iif, NetDevice oif, int mark, int tos, int protocol, int sport, int dport) {
        public static final Flow NONE = new Flow(0, null, null, 0, 0, 0, 0, 0);
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

    /**
     * The routes of one table by id ({@code ip route show table ID}); ENOENT ("FIB table does not
     * exist") for a table never made. The main table is {@link #routes(NetNamespace)}. @since 1.8
     */
    default List<RouteEntry> routes(NetNamespace ns, long table) throws NetException {
        if (table == FibRule.MAIN) {
            return routes(ns);
        }
        throw new NetException(Errno.ENOENT, "ipv4: FIB table does not exist");
    }

    /** The ids of the tables the namespace has (made by a route added to them, or built in). @since 1.8 */
    default List<Long> tables(NetNamespace ns) {
        return List.of(FibRule.MAIN);
    }

    /** {@code ip route add|replace ROUTE table ID}: the table is made on first use. @since 1.8 */
    default void add(NetNamespace ns, long table, RouteEntry route, boolean replace) throws NetException {
        if (table != FibRule.MAIN) {
            throw new NetException(Errno.EOPNOTSUPP);
        }
        add(ns, route, replace);
    }

    /** {@code ip route del PREFIX [metric N] table ID}: ESRCH when there is no such route. @since 1.8 */
    default void delete(NetNamespace ns, long table, int prefix, int len, int metric) throws NetException {
        if (table != FibRule.MAIN) {
            throw new NetException(Errno.ESRCH);
        }
        delete(ns, prefix, len, metric);
    }

    /** {@code ip route get ADDRESS} with the flow's other keys, through the rules. @since 1.8 */
    default Decision get(NetNamespace ns, int address, Flow flow) throws NetException {
        return get(ns, address);
    }

    /** The routing policy rules in the order they are tried ({@code ip rule list}). @since 1.8 */
    default List<FibRule> rules(NetNamespace ns) {
        return FibRule.defaults();
    }

    /**
     * {@code ip rule add}: EEXIST for a rule equal to one there; EINVAL (with Linux's text) for a
     * backward goto or a bad port range. @since 1.8
     */
    default void addRule(NetNamespace ns, FibRule rule) throws NetException {
        throw new NetException(Errno.EOPNOTSUPP);
    }

    /** {@code ip rule del}: the first rule the given fields match goes; ENOENT when none. @since 1.8 */
    default void deleteRule(NetNamespace ns, FibRule selector) throws NetException {
        throw new NetException(Errno.ENOENT);
    }
}

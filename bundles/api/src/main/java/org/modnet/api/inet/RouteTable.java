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
}

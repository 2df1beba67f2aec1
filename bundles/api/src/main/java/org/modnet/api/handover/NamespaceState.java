package org.modnet.api.handover;

import java.util.List;
import java.util.Map;

import org.modnet.api.net.NetNamespace;

/**
 * One namespace's share of a layer's deposit: the sysctls the layer registers there with the values
 * they had, its counters by name (the MIB continues), its routes and its neighbours (empty for a layer
 * that keeps none), and the packets and entries the hand-over could not carry, by counter name.
 * @since 1.1
 *
 * @param namespace  the namespace
 * @param sysctls    the layer's sysctls by name, as {@code sysctl -n} prints their values
 * @param counters   the layer's counters by name
 * @param routes     routes added by hand, in every table that exists
 * @param neighbours neighbour entries
 * @param dropped    what was lost in the hand-over, by counter name (e.g. {@code ReasmFails})
 */
public record NamespaceState(NetNamespace namespace, Map<String, String> sysctls, Map<String, Long> counters,
        List<RouteState> routes, List<NeighbourState> neighbours, Map<String, Long> dropped) {
    public NamespaceState {
        sysctls = Map.copyOf(sysctls);
        counters = Map.copyOf(counters);
        routes = List.copyOf(routes);
        neighbours = List.copyOf(neighbours);
        dropped = Map.copyOf(dropped);
    }
}

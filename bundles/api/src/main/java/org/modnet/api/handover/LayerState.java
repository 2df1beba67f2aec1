package org.modnet.api.handover;

import java.util.List;
import java.util.Map;

import org.modnet.api.net.NetNamespace;

/**
 * One layer's deposit: its name ("udp", "tcp"), the version of the layout its new version must read,
 * its sockets, and its per-namespace counters (the MIB continues where the old version left it).
 *
 * @param layer    the layer, as its module is named
 * @param version  the state layout's version; a reader that does not know it refuses the deposit
 * @param sockets  every socket the old version held, in no particular order
 * @param counters per namespace, the layer's MIB by counter name
 */
public record LayerState(String layer, int version, List<SocketState> sockets, Map<NetNamespace, Map<String, Long>> counters) {
    public LayerState {
        sockets = List.copyOf(sockets);
        counters = Map.copyOf(counters);
    }
}

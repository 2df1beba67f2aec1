package org.modnet.api.handover;

import java.util.List;
import java.util.Map;

/**
 * A layer's deposit of tables (IPv4's routes and sysctls, ARP's neighbours), one share per namespace.
 * @since 1.1
 *
 * @param layer      the layer, as its module is named ("ipv4", "ethernet")
 * @param version    the state layout's version; a reader that does not know it refuses the deposit
 * @param namespaces every namespace the old version served
 * @param extra      what only the layer knows, by name (IPv4: {@code holdProtocols}, the IP protocol
 *                   numbers whose handlers were leaving with their own hand-over, whose packets the
 *                   new version holds until they come back)
 */
public record TableState(String layer, int version, List<NamespaceState> namespaces, Map<String, String> extra) {
    public TableState {
        namespaces = List.copyOf(namespaces);
        extra = Map.copyOf(extra);
    }

    /** A deposit with nothing beyond its namespaces. */
    public TableState(String layer, int version, List<NamespaceState> namespaces) {
        this(layer, version, namespaces, Map.of());
    }
}

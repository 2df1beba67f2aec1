package org.modnet.api.handover;

import java.util.List;

/**
 * A layer's deposit of tables (IPv4's routes and sysctls, ARP's neighbours), one share per namespace.
 * @since 1.1
 *
 * @param layer      the layer, as its module is named ("ipv4", "ethernet")
 * @param version    the state layout's version; a reader that does not know it refuses the deposit
 * @param namespaces every namespace the old version served
 */
public record TableState(String layer, int version, List<NamespaceState> namespaces) {
    public TableState {
        namespaces = List.copyOf(namespaces);
    }
}

package org.modnet.tcp;

import java.util.Map;

import org.modnet.api.module.ModuleUsage;

/**
 * The TCP module's users for lsmod and rmmod: its sockets across namespaces, as each holds the module.
 * Registered by {@link TcpProtocol} itself, which unregisters it after its hand-over.
 */
public final class TcpModuleUsage implements ModuleUsage {
    private final TcpProtocol tcp;

    public TcpModuleUsage(TcpProtocol tcp) {
        this.tcp = tcp;
    }

    @Override
    public Map<String, Integer> users() {
        return Map.of(SOCKETS, tcp.sockets());
    }
}

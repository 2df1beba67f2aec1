package org.modnet.tcp;

import java.util.Map;

import org.modnet.api.module.ModuleUsage;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** The TCP module's users for lsmod and rmmod: its sockets across namespaces, as each holds the module. */
@Component(service = ModuleUsage.class)
public final class TcpModuleUsage implements ModuleUsage {
    private final TcpProtocol tcp;

    @Activate
    public TcpModuleUsage(@Reference TcpProtocol tcp) {
        this.tcp = tcp;
    }

    @Override
    public Map<String, Integer> users() {
        return Map.of(SOCKETS, tcp.sockets());
    }
}

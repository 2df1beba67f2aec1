package org.modnet.udp;

import java.util.Map;

import org.modnet.api.module.ModuleUsage;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** The UDP module's users for lsmod and rmmod: its sockets across namespaces, as each holds the module. */
@Component(service = ModuleUsage.class)
public final class UdpModuleUsage implements ModuleUsage {
    private final UdpProtocol udp;

    @Activate
    public UdpModuleUsage(@Reference UdpProtocol udp) {
        this.udp = udp;
    }

    @Override
    public Map<String, Integer> users() {
        return Map.of(SOCKETS, udp.sockets());
    }
}

package org.modnet.drivers.loopback;

import java.util.Map;
import java.util.Set;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Component;

/**
 * {@code drivers/net/loopback.c}: {@code lo} in every namespace, first of all devices (ifindex 1).
 * What it sends comes back in on its own receive queue. In {@code init_net} it comes up at once, as a
 * booted host has it; in a new namespace it starts down, as in Linux.
 */
@Component(service = PernetOperations.class, immediate = true, property = PernetOperations.ORDER + ":Integer=0")
public final class Loopback implements PernetOperations, NetDeviceOps {

    /** Offloads lo has on, most of them fixed: it never puts a frame on a wire. */
    private static final Map<String, Boolean> FEATURES = Map.of("rx-checksumming", true, "tx-checksumming", true,
            "scatter-gather", true, "tcp-segmentation-offload", true, "generic-segmentation-offload", true,
            "generic-receive-offload", true, "loopback", true, "tx-udp-segmentation", true);
    private static final Set<String> FIXED = Set.of("rx-checksumming", "scatter-gather", "loopback");

    @Override
    public void init(NetNamespace ns) throws NetException {
        NetDevice lo = ns.register(DeviceSetup.loopback().withFeatures(FEATURES, FIXED), this);
        if (ns.isInitNet()) {
            lo.open();
        }
    }

    @Override
    public void exit(NetNamespace ns) {
        NetDevice lo = ns.device("lo");
        if (lo != null && lo.kind().equals("loopback")) {
            ns.unregister(lo);
        }
    }

    /** {@code loopback_xmit}: the frame turns around into lo's own receive queue. */
    @Override
    public TxResult startXmit(SkBuff skb, NetDevice dev) {
        int len = skb.len();
        if (dev.rxQueue(0).receive(skb)) {
            dev.stats().addShared(DeviceStats.Field.TX_PACKETS, 1);
            dev.stats().addShared(DeviceStats.Field.TX_BYTES, len);
        } else {
            dev.stats().addShared(DeviceStats.Field.TX_DROPPED, 1);
        }
        return TxResult.OK;
    }

    @Override
    public Map<String, String> driverInfo(NetDevice dev) {
        return Map.of("driver", "loopback", "version", "1.0", "bus-info", "");
    }
}

package __PACKAGE__;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.module.ModuleUsage;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Link kind "__NAME__": {@code ip link add NAME type __NAME__}. It starts as Linux's {@code dummy}: what
 * is sent is counted and freed. Replace {@link Dev#startXmit} with the hardware's (or the tunnel's)
 * transmit, and hand received frames to {@code dev.rxQueue(0).receive(skb)}. Stopping the bundle
 * removes every device it made, as unloading a module does.
 */
@Component(service = { LinkFactory.class, ModuleUsage.class }, immediate = true, property = LinkFactory.KIND + "=__NAME__")
public final class __CLASS__Driver implements LinkFactory, ModuleUsage {
    private final Set<NetDevice> devices = ConcurrentHashMap.newKeySet();

    @Override
    public NetDevice create(NetNamespace ns, String name, List<String> args) throws NetException {
        if (!args.isEmpty()) {
            throw new NetException(Errno.EINVAL, "__NAME__: unknown argument \"" + args.get(0) + "\"");
        }
        NetDevice dev = ns.register(DeviceSetup.ether(name, "__NAME__").withQdisc("noqueue").withFeatures(Map.of(), Set.of()),
                new Dev(devices));
        devices.add(dev);
        return dev;
    }

    /** The devices made and still registered. */
    int devices() {
        return devices.size();
    }

    /** lsmod's "Used by": the devices this driver made; rmmod refuses while there are any (rmmod -f removes them). */
    @Override
    public Map<String, Integer> users() {
        return Map.of(DEVICES, devices.size());
    }

    @Deactivate
    void deactivate() {
        for (NetDevice dev : devices.toArray(new NetDevice[0])) {
            dev.namespace().unregister(dev);
        }
    }

    /** One device's operations: the packet path, so no allocation, no lock, no log; it counts. */
    static final class Dev implements NetDeviceOps {
        private final Set<NetDevice> registry;

        Dev(Set<NetDevice> registry) {
            this.registry = registry;
        }

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice self) {
            self.stats().addShared(DeviceStats.Field.TX_PACKETS, 1);
            self.stats().addShared(DeviceStats.Field.TX_BYTES, skb.len());
            skb.free();
            return TxResult.OK;
        }

        @Override
        public boolean deletable(NetDevice self) {
            return true; // ip link del
        }

        @Override
        public void uninit(NetDevice self) {
            registry.remove(self);
        }
    }
}

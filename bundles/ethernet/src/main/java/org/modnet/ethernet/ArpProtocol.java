package org.modnet.ethernet;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.shell.ProcFile;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * ARP and the IPv4 neighbour table in the stack: the handler of ethertype 0x0806, one table per
 * namespace, and the {@link NeighbourTable} service IPv4 output resolves next hops with.
 */
@Component(service = { NeighbourTable.class, PacketHandler.class, PernetOperations.class, ProcFile.class }, immediate = true,
        property = { PacketHandler.ETHERTYPE + ":Integer=2054", PernetOperations.ORDER + ":Integer=5",
                ProcFile.PATH + "=/proc/net/stat/arp_cache" })
public final class ArpProtocol implements NeighbourTable, PacketHandler, PernetOperations, ProcFile {
    private final NetCore core;
    private final Map<NetNamespace, NeighNet> nets = new ConcurrentHashMap<>();
    private final Unreachable[] unreachable = new Unreachable[1];

    @Activate
    public ArpProtocol(@Reference NetCore core) {
        this.core = core;
    }

    @Override
    public void init(NetNamespace ns) {
        nets.put(ns, new NeighNet(ns, core, unreachable));
    }

    @Override
    public void exit(NetNamespace ns) {
        NeighNet net = nets.remove(ns);
        if (net != null) {
            net.clear();
            ns.sysctl().unregister("net.ipv4.neigh");
        }
    }

    @Override
    public void netdevRegister(NetDevice dev) {
        NeighNet net = nets.get(dev.namespace());
        if (net != null) {
            net.deviceUp(dev);
        }
    }

    @Override
    public void netdevUnregister(NetDevice dev) {
        NeighNet net = nets.get(dev.namespace());
        if (net != null) {
            net.deviceGone(dev);
        }
    }

    @Override
    public void netdevChangeName(NetDevice dev, String oldName) {
        NeighNet net = nets.get(dev.namespace());
        if (net != null) {
            net.deviceRenamed(dev, oldName);
        }
    }

    /** {@code /proc/net/stat/arp_cache}. */
    @Override
    public List<String> read(NetNamespace ns) {
        NeighNet net = nets.get(ns);
        return net == null ? null : net.arpCache();
    }

    @Override
    public void receive(SkBuff skb, NetDevice dev) {
        NeighNet net = nets.get(dev.namespace());
        if (net == null) {
            dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
            skb.free();
            return;
        }
        net.receive(skb, dev);
    }

    @Override
    public void output(SkBuff skb, NetDevice dev, int nextHop) {
        NeighNet net = nets.get(dev.namespace());
        if (net == null) {
            dev.stats().addShared(DeviceStats.Field.TX_DROPPED, 1);
            skb.free();
            return;
        }
        net.output(skb, dev, nextHop);
    }

    @Override
    public void setUnreachable(Unreachable handler) {
        unreachable[0] = handler;
    }

    @Override
    public List<Neighbour> entries(NetNamespace ns) {
        NeighNet net = nets.get(ns);
        return net == null ? List.of() : net.entries();
    }

    @Override
    public Neighbour lookup(NetDevice dev, int address) {
        NeighNet net = nets.get(dev.namespace());
        return net == null ? null : net.lookup(dev, address);
    }

    @Override
    public void add(NetDevice dev, int address, MacAddress lladdr, NudState state, boolean replace) throws NetException {
        net(dev.namespace()).add(dev, address, lladdr, state, replace);
    }

    @Override
    public void delete(NetDevice dev, int address) throws NetException {
        net(dev.namespace()).delete(dev, address);
    }

    @Override
    public int flush(NetNamespace ns, NetDevice devOrNull) {
        NeighNet net = nets.get(ns);
        return net == null ? 0 : net.flush(devOrNull);
    }

    @Override
    public Map<String, Long> stats(NetNamespace ns) {
        NeighNet net = nets.get(ns);
        return net == null ? Map.of() : net.stats();
    }

    private NeighNet net(NetNamespace ns) throws NetException {
        NeighNet net = nets.get(ns);
        if (net == null) {
            throw new NetException(Errno.ENODEV, "no ARP table in namespace " + ns.name());
        }
        return net;
    }
}

package org.modnet.ethernet;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.handover.BundleUpdates;
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
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.framework.BundleContext;
import org.modnet.api.handover.HandsOver;
import org.modnet.api.handover.NamespaceState;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import java.util.function.BooleanSupplier;

/**
 * ARP and the IPv4 neighbour table in the stack: the handler of ethertype 0x0806, one table per
 * namespace, and the {@link NeighbourTable} service IPv4 output resolves next hops with.
 */
@Component(service = { NeighbourTable.class, PacketHandler.class, PernetOperations.class, ProcFile.class }, immediate = true,
        configurationPolicy = ConfigurationPolicy.IGNORE,
        property = { PacketHandler.ETHERTYPE + ":Integer=2054", PernetOperations.ORDER + ":Integer=5",
                ProcFile.PATH + "=/proc/net/stat/arp_cache" })
public final class ArpProtocol implements NeighbourTable, PacketHandler, PernetOperations, ProcFile, HandsOver {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ArpProtocol.class);
    /** The layout of {@link TableState} this code writes and reads: neighbours with their timers, arp_cache statistics. */
    static final int STATE_VERSION = 1;
    static final String LAYER = "ethernet";

    private final NetCore core;
    private final Map<NetNamespace, NeighNet> nets = new ConcurrentHashMap<>();
    private final java.util.function.Function<NetNamespace, NeighNet> makeNet = new MakeNet();
    private final Unreachable[] unreachable = new Unreachable[1];
    private final StateHolder holder;
    private final BooleanSupplier updating;
    private final int stateVersion;
    /** Namespaces' shares of the deposit, taken as the core calls exit while this version leaves for an update. */
    private final List<NamespaceState> leaving = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Tables exported for the next version that still serve output until this version is deactivated. */
    private final Map<NetNamespace, NeighNet> retiring = new ConcurrentHashMap<>();
    /** IPv4's routes and forwarding, for proxy_arp and arp_filter; absent while IPv4 is not there. */
    private volatile org.modnet.api.inet.RouteTable routes;
    private volatile org.modnet.api.inet.Ipv4 ipv4;
    private final NeighNet.Inet inet = new NeighNet.Inet() {
        @Override
        public org.modnet.api.inet.RouteEntry route(NetNamespace ns, int daddr) {
            org.modnet.api.inet.RouteTable r = routes;
            return r == null ? null : r.lookup(ns, daddr);
        }

        @Override
        public boolean forwarding(NetDevice dev) {
            org.modnet.api.inet.Ipv4 ip = ipv4;
            return ip != null && ip.forwarding(dev);
        }
    };

    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    void bindRoutes(org.modnet.api.inet.RouteTable r) {
        routes = r;
    }

    void unbindRoutes(org.modnet.api.inet.RouteTable r) {
        if (routes == r) {
            routes = null;
        }
    }

    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    void bindIpv4(org.modnet.api.inet.Ipv4 ip) {
        ipv4 = ip;
    }

    void unbindIpv4(org.modnet.api.inet.Ipv4 ip) {
        if (ipv4 == ip) {
            ipv4 = null;
        }
    }

    /** The namespace's table, or null (tests). */
    NeighNet netFor(NetNamespace ns) {
        return nets.get(ns);
    }

    /** Binds IPv4's side by hand (tests): the route lookup and forwarding that proxy_arp and arp_filter ask. */
    void inet(org.modnet.api.inet.RouteTable r, org.modnet.api.inet.Ipv4 ip) {
        routes = r;
        ipv4 = ip;
    }

    /** ARP without hand-over: how tests and benchmarks build a stack. */
    public ArpProtocol(NetCore core) {
        this(core, null, () -> false, STATE_VERSION);
    }

    /**
     * The component: the core's holder keeps the neighbour tables across an update of this bundle, whose
     * {@value BundleUpdates#STATE_VERSION_HEADER} header says which state layout it writes and reads.
     */
    @Activate
    public ArpProtocol(@Reference NetCore core, @Reference StateHolder holder, BundleContext context) {
        this(core, holder, new BeingUpdated(context), BundleUpdates.stateVersion(context.getBundle(), STATE_VERSION));
    }

    /*
     * Classes and loops, not lambdas, from a new version's construction to its registration and in the old version's deposit:
     * both run for the first time in a JVM inside a live update (IPv4 holding the packets for next hops), and each lambda's
     * class would be spun there at its first run.
     */

    /** This bundle stops for an update. */
    private record BeingUpdated(BundleContext context) implements BooleanSupplier {
        @Override
        public boolean getAsBoolean() {
            return BundleUpdates.beingUpdated(context);
        }
    }

    /** A namespace's table, made at its init or its adoption. */
    private final class MakeNet implements java.util.function.Function<NetNamespace, NeighNet> {
        @Override
        public NeighNet apply(NetNamespace ns) {
            return new NeighNet(ns, core, unreachable, inet);
        }
    }

    /** Adopts what the previous version deposited, if any, before any packet or call reaches this one. */
    ArpProtocol(NetCore core, StateHolder holder, BooleanSupplier updating, int stateVersion) {
        this.core = core;
        this.holder = holder;
        this.updating = updating;
        this.stateVersion = stateVersion;
        if (holder != null) {
            TableState st = holder.take(LAYER);
            if (st != null) {
                adopt(st);
            }
        }
    }

    @Override
    public boolean handingOver() {
        return holder != null && updating.getAsBoolean();
    }

    @Override
    public void init(NetNamespace ns) {
        nets.computeIfAbsent(ns, makeNet); // an adopted namespace has its table
    }

    @Override
    public void exit(NetNamespace ns) {
        NeighNet net = nets.get(ns);
        if (net == null) {
            return;
        }
        if (handingOver()) {
            // IPv4 may send through this version until it lets go of it: the table retires before it
            // leaves the live ones, so a packet sent meanwhile (the export takes a while) finds one of them
            retiring.put(ns, net);
            nets.remove(ns);
            leaving.add(net.export()); // the sysctls stay registered for the next version
            return;
        }
        nets.remove(ns);
        net.clear();
        ns.sysctl().unregister("net.ipv4.neigh");
        net.conf.names().forEach(ns.sysctl()::unregister); // ARP's keys only: IPv4's stay in net.ipv4.conf
    }

    /** Leaving for an update: every namespace's neighbours go to the core's holder. */
    @Deactivate
    void deactivate() {
        if (!handingOver()) {
            return;
        }
        for (NeighNet net : nets.values()) { // namespaces the core did not exit
            leaving.add(net.export());
            retiring.put(net.ns, net);
        }
        for (NeighNet net : retiring.values()) {
            net.retire();
        }
        retiring.clear();
        TableState st = new TableState(LAYER, stateVersion, leaving);
        holder.deposit(st);
        int n = 0;
        for (NamespaceState share : st.namespaces()) {
            n += share.neighbours().size();
        }
        LOG.info("ethernet: {} neighbours in {} namespaces handed over (state version {})", n, st.namespaces().size(), st.version());
    }

    /** Every namespace's table as it would be deposited; the entries leave (tests). */
    TableState export() {
        List<NamespaceState> all = new java.util.ArrayList<>();
        for (NetNamespace ns : List.copyOf(nets.keySet())) {
            NeighNet net = nets.remove(ns);
            all.add(net.export());
            net.retire();
        }
        return new TableState(LAYER, stateVersion, all);
    }

    private void adopt(TableState st) {
        if (st.version() != stateVersion || stateVersion != STATE_VERSION) {
            holder.refuse(st, "this ethernet reads state version " + STATE_VERSION + ", the deposit is version " + st.version());
            for (NamespaceState ns : st.namespaces()) {
                ns.namespace().sysctl().unregister("net.ipv4.neigh"); // start from the defaults
            }
            return;
        }
        int n = 0;
        int lost = 0;
        for (NamespaceState share : st.namespaces()) {
            NeighNet net = nets.computeIfAbsent(share.namespace(), makeNet);
            lost += net.adopt(share);
            n += share.neighbours().size();
        }
        LOG.info("ethernet: {} neighbours in {} namespaces adopted, {} not restored (state version {})", n - lost,
                st.namespaces().size(), lost, st.version());
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
        outputStatus(skb, dev, nextHop);
    }

    @Override
    public int outputStatus(SkBuff skb, NetDevice dev, int nextHop) {
        NeighNet net = nets.get(dev.namespace());
        if (net == null) {
            net = retiring.get(dev.namespace()); // leaving for an update, and IPv4 has not let go yet
        }
        if (net == null) {
            dev.stats().addShared(DeviceStats.Field.TX_DROPPED, 1);
            skb.free();
            return org.modnet.api.sched.Qdisc.NET_XMIT_DROP;
        }
        return net.output(skb, dev, nextHop);
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

package org.modnet.conntrack;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.handover.BundleUpdates;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.net.Timer;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.NfNatLookup;
import java.util.function.BooleanSupplier;

import org.modnet.api.handover.HandsOver;
import org.modnet.api.handover.NamespaceState;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.Commands;
import org.modnet.api.shell.ProcFile;
import org.modnet.api.skb.SkBuff;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * nf_conntrack_proto.c's hook set and nf_nat_proto.c's: per namespace a {@link ConntrackTable} and a
 * {@link NatCore}; {@code nf_conntrack_in} at PRE_ROUTING and LOCAL_OUT (-200, NF_IP_PRI_CONNTRACK),
 * NAT at PRE_ROUTING and LOCAL_OUT (-100, DNAT) and at POST_ROUTING and LOCAL_IN (100, SNAT), which asks
 * the NAT tables ({@link NfNatLookup} services) about a connection's first packet, and
 * {@code nf_conntrack_confirm} last at POST_ROUTING and LOCAL_IN. Before them all, nf_defrag_ipv4 at
 * PRE_ROUTING and LOCAL_OUT (-400, NF_IP_PRI_CONNTRACK_DEFRAG): IPv4 reassembles fragments there (its
 * queues of user IP_DEFRAG_CONNTRACK_IN/OUT plus the zone), a fragment that waits is STOLEN and the whole
 * datagram goes on through the hook's later functions, so tracking, NAT and every table see it whole. One timer on the core's wheel runs
 * the garbage collector every second and forgets MASQUERADEd flows whose address went.
 */
@Component(service = { ConntrackComponent.class, PernetOperations.class, ProcFile.class }, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=conntrack",
        ProcFile.PATH + "=/proc/net/nf_conntrack", PernetOperations.ORDER + ":Integer=35" })
public final class ConntrackComponent implements PernetOperations, ProcFile, HandsOver {
    static final int PRI_CONNTRACK_DEFRAG = -400, PRI_CONNTRACK = -200, PRI_NAT_DST = -100, PRI_NAT_SRC = 100, PRI_CONNTRACK_CONFIRM = Integer.MAX_VALUE;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConntrackComponent.class);
    /**
     * The layout of the {@link TableState} this code writes and reads: per namespace its settable
     * sysctls, conntrack -S's counters, and in {@code extra} under {@code "INDEX/conntrack"} (INDEX: the
     * namespace's place in the list) its entries, one line each as {@link ConntrackTable#export} writes them.
     */
    static final int STATE_VERSION = 1;
    static final String LAYER = "conntrack";

    /** A hook this module registers ({@code struct nf_hook_ops}). */
    record HookOps(NfHook hook, int priority, NfHookFunction fn) {
    }

    /** One namespace's tracking and NAT. */
    record Net(NetNamespace ns, ConntrackTable table, NatCore nat, long[] addressGeneration) {
    }

    private final NetCore core;
    private final Map<NetNamespace, Net> nets = new ConcurrentHashMap<>();
    /**
     * The namespace the last packet was tracked in, so a router's flood skips the map. A plain field: a
     * {@link Net} is immutable, so a racy read sees it whole or not at all, and a miss asks the map.
     */
    private Net last;
    private final List<ServiceRegistration<?>> regs = new ArrayList<>();
    /** The NAT tables' lookups by hook ordinal. */
    private final List<List<NfNatLookup>> lookups = new ArrayList<>();
    /**
     * Lookups of a nat table that left for an update, kept until its next version registers; each with
     * its owner (the registering bundle's id, which an update keeps; {@link #NO_OWNER} without OSGi).
     */
    private final Map<NfNatLookup, Object> retiringLookups = new ConcurrentHashMap<>();
    private static final Object NO_OWNER = "";
    private final Timer gc;
    /** IPv4, which reassembles for the defrag hooks; without it fragments pass as they are. */
    private volatile org.modnet.api.inet.Ipv4 ipv4;

    private final StateHolder holder;
    private final BooleanSupplier updating;
    private final int stateVersion;

    /** Without OSGi (tests, benchmarks): no hook services, no timer, no hand-over. */
    public ConntrackComponent(NetCore core, BundleContext context) {
        this(core, null, context, () -> false, STATE_VERSION);
    }

    /**
     * The component: it adopts the entries its previous version deposited with the core's holder before
     * it registers a hook, so the old hooks (which IPv4 keeps while this bundle is
     * {@linkplain #handingOver() handing over}) give way to hooks whose table already knows every flow.
     */
    @Activate
    public ConntrackComponent(@Reference NetCore core, @Reference StateHolder holder, BundleContext context) {
        this(core, holder, context, () -> BundleUpdates.beingUpdated(context), BundleUpdates.stateVersion(context.getBundle(), STATE_VERSION));
    }

    ConntrackComponent(NetCore core, StateHolder holder, BundleContext context, BooleanSupplier updating, int stateVersion) {
        this.core = core;
        this.holder = holder;
        this.updating = updating;
        this.stateVersion = stateVersion;
        for (int i = 0; i < NfHook.values().length; i++) {
            lookups.add(new CopyOnWriteArrayList<>());
        }
        if (holder != null) {
            TableState st = holder.take(LAYER);
            if (st != null) {
                adopt(st);
            }
        }
        if (context != null) {
            // one set: tracking, NAT and confirm pass the entry between hooks, so an update changes them together
            List<HookOps> set = hookSet();
            for (HookOps h : set) {
                register(context, h.hook(), h.priority(), h.fn(), set.size());
            }
            gc = core.timer(0, this::gcWorker);
            gc.mod(1000);
        } else {
            gc = null;
        }
    }

    /**
     * The hook set, each function as it is registered: nf_defrag_ipv4's two first (they hand IPv4
     * themselves as the function a reassembled datagram goes on after).
     */
    List<HookOps> hookSet() {
        return List.of(
                    new HookOps(NfHook.PRE_ROUTING, PRI_CONNTRACK_DEFRAG, new DefragHook()),
                    new HookOps(NfHook.LOCAL_OUT, PRI_CONNTRACK_DEFRAG, new DefragHook()),
                    new HookOps(NfHook.PRE_ROUTING, PRI_CONNTRACK, this::conntrackIn),
                    new HookOps(NfHook.LOCAL_OUT, PRI_CONNTRACK, this::conntrackIn),
                    new HookOps(NfHook.PRE_ROUTING, PRI_NAT_DST, this::nat),
                    new HookOps(NfHook.LOCAL_OUT, PRI_NAT_DST, this::nat),
                    new HookOps(NfHook.POST_ROUTING, PRI_NAT_SRC, this::nat),
                    new HookOps(NfHook.LOCAL_IN, PRI_NAT_SRC, this::nat),
                    new HookOps(NfHook.POST_ROUTING, PRI_CONNTRACK_CONFIRM, this::confirm),
                    new HookOps(NfHook.LOCAL_IN, PRI_CONNTRACK_CONFIRM, this::confirm));
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setIpv4(org.modnet.api.inet.Ipv4 v) {
        ipv4 = v;
    }

    void unsetIpv4(org.modnet.api.inet.Ipv4 v) {
        if (ipv4 == v) {
            ipv4 = null;
        }
    }

    /**
     * {@code ipv4_conntrack_defrag}: a fragment of a namespace conntrack tracks goes into IPv4's
     * reassembly; while the datagram is incomplete the fragment is STOLEN (IPv4's queue holds it), and the
     * fragment that completes it is STOLEN too while the whole datagram goes on from this hook
     * ({@code nf_reinject} after this function). An untracked packet (NOTRACK before, on loopback) and any
     * packet not a fragment pass with one look at the header's fragment bits.
     */
    private final class DefragHook implements NfHookFunction, HandsOver {
        @Override
        public Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
            int nh = skb.networkHeader();
            if ((skb.getU16(nh + 6) & 0x3fff) == 0) {
                return Verdict.ACCEPT;
            }
            org.modnet.api.inet.Ipv4 ip = ipv4;
            if (ip == null || skb.nfctInfo() == SkBuff.IP_CT_UNTRACKED || !nets.containsKey(ns)) {
                return Verdict.ACCEPT;
            }
            int zone = skb.nfct() instanceof org.modnet.api.netfilter.NfCtTemplate t ? t.zone() : 0;
            int user = (hook == NfHook.PRE_ROUTING ? org.modnet.api.inet.Ipv4.IP_DEFRAG_CONNTRACK_IN
                    : org.modnet.api.inet.Ipv4.IP_DEFRAG_CONNTRACK_OUT) + zone;
            SkBuff whole = ip.defrag(ns, skb, user);
            if (whole == skb) {
                return Verdict.ACCEPT; // IPv4 could not take it: it goes on as it is
            }
            if (whole != null) {
                ip.nfReinject(whole, hook, this, ns, in, out);
            }
            return Verdict.STOLEN;
        }

        @Override
        public boolean handingOver() {
            return ConntrackComponent.this.handingOver();
        }
    }

    private void register(BundleContext context, NfHook hook, int priority, NfHookFunction fn, int setSize) {
        Hashtable<String, Object> p = new Hashtable<>();
        p.put(NfHookFunction.HOOK, hook.name());
        p.put(NfHookFunction.PRIORITY, priority);
        p.put(NfHookFunction.SET, LAYER);
        p.put(NfHookFunction.SET_SIZE, setSize);
        regs.add(context.registerService(NfHookFunction.class, fn instanceof DefragHook d ? d : new Hook(fn), p));
    }

    /** A hook of this version: IPv4 keeps it in place while this version hands over. */
    private final class Hook implements NfHookFunction, HandsOver {
        private final NfHookFunction fn;

        Hook(NfHookFunction fn) {
            this.fn = fn;
        }

        @Override
        public Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
            return fn.hook(skb, hook, ns, in, out);
        }

        @Override
        public boolean handingOver() {
            return ConntrackComponent.this.handingOver();
        }
    }

    @Override
    public boolean handingOver() {
        return holder != null && updating.getAsBoolean();
    }

    /**
     * Every namespace's entries (with their NAT bindings), sysctls and counters, for the next version.
     * The tables stay: the old hooks keep tracking until the next version's replace them.
     */
    TableState export() {
        List<NamespaceState> namespaces = new ArrayList<>();
        Map<String, String> extra = new java.util.HashMap<>();
        for (Net n : nets.values()) {
            int i = namespaces.size();
            namespaces.add(new NamespaceState(n.ns, n.table.sysctls(), n.table.stats(), List.of(), List.of(), Map.of()));
            StringBuilder b = new StringBuilder();
            for (NfConn ct : n.table.entries()) {
                b.append(n.table.export(ct)).append('\n');
            }
            extra.put(i + "/conntrack", b.toString());
        }
        return new TableState(LAYER, stateVersion, namespaces, extra);
    }

    /** The previous version's flows and settings; a layout this code cannot read is refused. */
    void adopt(TableState st) {
        if (st.version() != stateVersion || stateVersion != STATE_VERSION) {
            holder.refuse(st, "this conntrack reads state version " + STATE_VERSION + ", the deposit is version " + st.version());
            for (NamespaceState share : st.namespaces()) {
                share.namespace().sysctl().unregister("net.netfilter.nf_conntrack_"); // start from the defaults
            }
            return;
        }
        int entries = 0;
        int lost = 0;
        for (int i = 0; i < st.namespaces().size(); i++) {
            NamespaceState share = st.namespaces().get(i);
            Net n = net(share.namespace());
            n.table.adoptSysctls(share.sysctls());
            n.table.adoptStats(share.counters());
            String text = st.extra().getOrDefault(i + "/conntrack", "");
            for (String line : text.split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                if (n.table.adopt(line)) {
                    entries++;
                } else {
                    lost++;
                }
            }
        }
        LOG.info("conntrack: {} entries in {} namespaces adopted, {} not restored (state version {})", entries,
                st.namespaces().size(), lost, st.version());
    }

    @Deactivate
    void deactivate() {
        if (handingOver()) {
            TableState st = export();
            // the old hooks track on until the next version's set replaces them: it takes the flows as they are then
            holder.deposit(st, this::export);
            LOG.info("conntrack: the flows of {} namespaces handed over (state version {})", st.namespaces().size(),
                    st.version());
        }
        if (gc != null) {
            gc.del();
        }
        for (ServiceRegistration<?> r : regs) {
            try {
                r.unregister();
            } catch (IllegalStateException gone) {
                // the framework took it down already
            }
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addLookup(NfNatLookup l, Map<String, Object> props) {
        addLookup(NfHook.valueOf(String.valueOf(props.get(NfHookFunction.HOOK))), l, owner(props));
    }

    private static Object owner(Map<String, Object> props) {
        Object id = props.get("service.bundleid");
        return id != null ? id : NO_OWNER;
    }

    /**
     * A nat table leaving for an update ({@link HandsOver#handingOver()}) keeps its place until its next
     * version's lookup comes, so a new connection in between is still NATed by the old rules.
     */
    void removeLookup(NfNatLookup l, Map<String, Object> props) {
        if (l instanceof HandsOver h && h.handingOver()) {
            retiringLookups.put(l, owner(props));
            return;
        }
        for (List<NfNatLookup> list : lookups) {
            list.remove(l);
        }
    }

    /** A NAT table's lookup, for tests and benchmarks that run without OSGi. */
    public void addLookup(NfHook hook, NfNatLookup l) {
        addLookup(hook, l, NO_OWNER);
    }

    /**
     * A lookup registered by {@code owner}: it takes the place of that owner's retiring lookup at the
     * hook, and of no other module's (iptables' and nftables' nat tables, updated at the same moment,
     * each keep NATing until their own next version is there).
     */
    void addLookup(NfHook hook, NfNatLookup l, Object owner) {
        List<NfNatLookup> list = lookups.get(hook.ordinal());
        list.removeIf(x -> owner.equals(retiringLookups.get(x))); // the next version takes the old one's place
        list.add(l);
        retiringLookups.keySet().removeIf(r -> lookups.stream().noneMatch(x -> x.contains(r)));
    }

    /** The lookups asked at {@code hook}, in order; for tests. */
    List<NfNatLookup> lookups(NfHook hook) {
        return List.copyOf(lookups.get(hook.ordinal()));
    }

    @Override
    public void init(NetNamespace ns) {
        nets.computeIfAbsent(ns, n -> {
            ConntrackTable t = new ConntrackTable(n.sysctl(), () -> core.nanoTime() / 1_000_000, ConntrackTable.DEFAULT_BUCKETS);
            return new Net(n, t, new NatCore(t, d -> Ipv4Addresses.select(d, 0, false)), new long[] { n.addressGeneration() });
        });
    }

    @Override
    public void exit(NetNamespace ns) {
        if (handingOver()) {
            return; // the core calls this as the service goes, before deactivate exports the flows
        }
        if (nets.remove(ns) != null) {
            ns.sysctl().unregister("net.netfilter.nf_conntrack_");
        }
        last = null;
    }

    Net net(NetNamespace ns) {
        Net n = nets.get(ns);
        if (n == null) {
            init(ns);
            n = nets.get(ns);
        }
        return n;
    }

    // ------------------------------------------------------------------ hooks

    /** The namespace's tracking, or null: the last one's when the packet is in it again. */
    private Net tracking(NetNamespace ns) {
        Net n = last;
        if (n != null && n.ns == ns) {
            return n;
        }
        n = nets.get(ns);
        if (n != null) {
            last = n;
        }
        return n;
    }

    /** The conntrack hook (public for benchmarks that run without OSGi). */
    public Verdict conntrackIn(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
        Net n = tracking(ns);
        return n == null ? Verdict.ACCEPT : n.table.in(skb);
    }

    /** nf_nat_inet_fn: the tables decide a new connection's binding for this manip type, then it is applied. */
    public Verdict nat(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
        if (!(skb.nfct() instanceof NfConn ct)
                || skb.nfctInfo() != SkBuff.IP_CT_NEW && (ct.status & (NfConn.IPS_SRC_NAT | NfConn.IPS_DST_NAT)) == 0) {
            // the skb carries its entry: a known flow without a NAT binding (IPS_NAT_MASK clear) has nothing to translate
            return Verdict.ACCEPT;
        }
        Net n = tracking(ns);
        if (n == null) {
            return Verdict.ACCEPT;
        }
        if (NatCore.needsBinding(skb, hook)) {
            for (NfNatLookup l : lookups.get(hook.ordinal())) {
                Verdict v = l.lookup(skb, hook, ns, in, out, n.nat);
                if (v != Verdict.ACCEPT) {
                    return v;
                }
            }
            NatCore.nullBinding(skb, hook);
        }
        return n.nat.packet(skb, hook);
    }

    public Verdict confirm(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
        if (!(skb.nfct() instanceof NfConn ct) || ct.has(NfConn.IPS_CONFIRMED)) {
            return Verdict.ACCEPT; // nf_conntrack_confirm: nothing to do for an entry in the table already
        }
        Net n = tracking(ns);
        return n == null ? Verdict.ACCEPT : n.table.confirm(skb);
    }

    /** gc_worker, and nf_nat_masquerade's inet notifier: flows whose masquerade address went are deleted. */
    private void gcWorker() {
        try {
            for (Net n : nets.values()) {
                n.table.gc();
                long g = n.ns.addressGeneration();
                if (g != n.addressGeneration[0]) {
                    n.addressGeneration[0] = g;
                    n.table.delete(ct -> ct.masqIfindex != 0 && !hasAddress(n.ns.device(ct.masqIfindex), ct.masqAddr));
                }
            }
        } finally {
            gc.mod(1000);
        }
    }

    /** Runs the garbage collector and the masquerade check now (tests drive time by hand). */
    void gcNow() {
        for (Net n : nets.values()) {
            n.table.gc();
            n.addressGeneration[0] = n.ns.addressGeneration();
            n.table.delete(ct -> ct.masqIfindex != 0 && !hasAddress(n.ns.device(ct.masqIfindex), ct.masqAddr));
        }
    }

    private static boolean hasAddress(NetDevice dev, int addr) {
        if (dev == null) {
            return false;
        }
        for (org.modnet.api.net.IfAddress a : dev.addresses()) {
            if (a.address() instanceof java.net.Inet4Address v4 && Ipv4Addresses.toInt(v4) == addr) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ command and /proc

    /** conntrack in {@code ns} without a shell: its output lines, or a CommandException in its words. */
    public List<String> run(NetNamespace ns, String... args) {
        return Conntrack.run(net(ns).table, args);
    }

    public void conntrack(CommandSession session, String... args) {
        args = Commands.words(session, args);
        Object netns = session != null ? session.get(Commands.NETNS) : null;
        if (java.util.Arrays.asList(args).contains("-E") || java.util.Arrays.asList(args).contains("--event")) {
            // until Ctrl-C (the session's thread interrupted), as conntrack -E runs until SIGINT
            Net n = net(Commands.namespace(core, netns, "conntrack"));
            Thread me = Thread.currentThread();
            Conntrack.events(n.table, args, l -> {
                System.out.println(l);
                System.out.flush();
            }, me::isInterrupted, 50);
            return;
        }
        for (String l : run(Commands.namespace(core, netns, "conntrack"), args)) {
            System.out.println(l);
        }
    }

    @Override
    public List<String> read(NetNamespace ns) {
        Net n = net(ns);
        List<String> l = new ArrayList<>();
        for (NfConn ct : n.table.entries()) {
            l.add(Conntrack.line(n.table, ct, true));
        }
        return l;
    }
}

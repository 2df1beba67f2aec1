package org.modnet.conntrack;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.net.Timer;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.NfNatLookup;
import org.modnet.api.handover.HandsOver;
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
 * {@code nf_conntrack_confirm} last at POST_ROUTING and LOCAL_IN. One timer on the core's wheel runs
 * the garbage collector every second and forgets MASQUERADEd flows whose address went.
 */
@Component(service = { ConntrackComponent.class, PernetOperations.class, ProcFile.class }, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=conntrack",
        ProcFile.PATH + "=/proc/net/nf_conntrack", PernetOperations.ORDER + ":Integer=35" })
public final class ConntrackComponent implements PernetOperations, ProcFile {
    static final int PRI_CONNTRACK = -200, PRI_NAT_DST = -100, PRI_NAT_SRC = 100, PRI_CONNTRACK_CONFIRM = Integer.MAX_VALUE;

    /** One namespace's tracking and NAT. */
    record Net(NetNamespace ns, ConntrackTable table, NatCore nat, long[] addressGeneration) {
    }

    private final NetCore core;
    private final Map<NetNamespace, Net> nets = new ConcurrentHashMap<>();
    private final List<ServiceRegistration<?>> regs = new ArrayList<>();
    /** The NAT tables' lookups by hook ordinal. */
    private final List<List<NfNatLookup>> lookups = new ArrayList<>();
    /** Lookups of a nat table that left for an update, kept until its next version registers. */
    private final java.util.Set<NfNatLookup> retiringLookups = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Timer gc;

    @Activate
    public ConntrackComponent(@Reference NetCore core, BundleContext context) {
        this.core = core;
        for (int i = 0; i < NfHook.values().length; i++) {
            lookups.add(new CopyOnWriteArrayList<>());
        }
        if (context != null) {
            register(context, NfHook.PRE_ROUTING, PRI_CONNTRACK, this::conntrackIn);
            register(context, NfHook.LOCAL_OUT, PRI_CONNTRACK, this::conntrackIn);
            register(context, NfHook.PRE_ROUTING, PRI_NAT_DST, this::nat);
            register(context, NfHook.LOCAL_OUT, PRI_NAT_DST, this::nat);
            register(context, NfHook.POST_ROUTING, PRI_NAT_SRC, this::nat);
            register(context, NfHook.LOCAL_IN, PRI_NAT_SRC, this::nat);
            register(context, NfHook.POST_ROUTING, PRI_CONNTRACK_CONFIRM, this::confirm);
            register(context, NfHook.LOCAL_IN, PRI_CONNTRACK_CONFIRM, this::confirm);
            gc = core.timer(0, this::gcWorker);
            gc.mod(1000);
        } else {
            gc = null;
        }
    }

    private void register(BundleContext context, NfHook hook, int priority, NfHookFunction fn) {
        Hashtable<String, Object> p = new Hashtable<>();
        p.put(NfHookFunction.HOOK, hook.name());
        p.put(NfHookFunction.PRIORITY, priority);
        regs.add(context.registerService(NfHookFunction.class, fn, p));
    }

    @Deactivate
    void deactivate() {
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
        addLookup(NfHook.valueOf(String.valueOf(props.get(NfHookFunction.HOOK))), l);
    }

    /**
     * A nat table leaving for an update ({@link HandsOver#handingOver()}) keeps its place until its next
     * version's lookup comes, so a new connection in between is still NATed by the old rules.
     */
    void removeLookup(NfNatLookup l, Map<String, Object> props) {
        if (l instanceof HandsOver h && h.handingOver()) {
            retiringLookups.add(l);
            return;
        }
        for (List<NfNatLookup> list : lookups) {
            list.remove(l);
        }
    }

    /** A NAT table's lookup, for tests and benchmarks that run without OSGi. */
    public void addLookup(NfHook hook, NfNatLookup l) {
        List<NfNatLookup> list = lookups.get(hook.ordinal());
        list.removeIf(retiringLookups::contains); // the next version takes the old one's place
        list.add(l);
        if (lookups.stream().noneMatch(x -> x.stream().anyMatch(retiringLookups::contains))) {
            retiringLookups.clear();
        }
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
        if (nets.remove(ns) != null) {
            ns.sysctl().unregister("net.netfilter.nf_conntrack_");
        }
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

    /** The conntrack hook (public for benchmarks that run without OSGi). */
    public Verdict conntrackIn(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
        Net n = nets.get(ns);
        return n == null ? Verdict.ACCEPT : n.table.in(skb);
    }

    /** nf_nat_inet_fn: the tables decide a new connection's binding for this manip type, then it is applied. */
    public Verdict nat(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
        Net n = nets.get(ns);
        if (n == null || skb.nfct() == null) {
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
        Net n = nets.get(ns);
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

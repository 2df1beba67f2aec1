package org.modnet.netfilter;

import java.io.IOException;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandSession;
import java.util.function.BooleanSupplier;

import org.modnet.api.handover.BundleUpdates;
import org.modnet.api.handover.HandsOver;
import org.modnet.api.handover.NamespaceState;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.NfNat;
import org.modnet.api.netfilter.NfNatLookup;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
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
 * iptable_filter: the {@code filter} table of every namespace on LOCAL_IN, FORWARD and LOCAL_OUT at
 * priority 0 (NF_IP_PRI_FILTER), and the {@code iptables}, {@code iptables-save} and
 * {@code iptables-restore} commands. A namespace's table is made the first time a command touches
 * it; until then its packets pass the hooks untouched (Linux's filter table, loaded and empty, accepts).
 */
@Component(service = { IptablesCommand.class, PernetOperations.class }, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=iptables",
        PernetOperations.ORDER + ":Integer=40" })
public final class IptablesCommand implements PernetOperations, HandsOver {
    /** NF_IP_PRI_FILTER. */
    static final int PRI_FILTER = 0;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(IptablesCommand.class);
    /**
     * The layout of the {@link TableState} this code writes and reads: one {@link NamespaceState} per
     * namespace with a table, and in {@code extra} under {@code "INDEX/TABLE"} (INDEX: the namespace's
     * place in the list) the table as {@code iptables-save -c} prints it, rules and policies with their
     * counters; {@code iptables-restore -c} is how the new version reads it back. Under
     * {@code "INDEX/hashlimit/NAME"} each {@code -m hashlimit} table's live buckets (Hashlimit.Table#export),
     * a key a previous version without them leaves out and the next ignores when no rule names it.
     */
    static final int STATE_VERSION = 1;
    static final String LAYER = "netfilter";

    private final NetCore core;
    private final Map<NetNamespace, FilterTable> tables = new ConcurrentHashMap<>();
    /** The nat tables (iptable_nat.c), made when a command first names {@code -t nat} in a namespace. */
    private final Map<NetNamespace, FilterTable> natTables = new ConcurrentHashMap<>();
    /** The mangle (iptable_mangle.c) and raw (iptable_raw.c) tables, made when a command first names them. */
    private final Map<NetNamespace, FilterTable> mangleTables = new ConcurrentHashMap<>();
    private final Map<NetNamespace, FilterTable> rawTables = new ConcurrentHashMap<>();
    /** Each namespace's {@code -m hashlimit} tables, shared by its iptables tables (the kernel's per-net list). */
    private final Map<NetNamespace, Hashlimit.Registry> hashlimits = new ConcurrentHashMap<>();
    /** {@code /proc/net/ipt_hashlimit/NAME}: one file service per name some namespace has. */
    private final Map<String, ServiceRegistration<?>> hashlimitFiles = new java.util.HashMap<>();
    static final int PRI_RAW = -300, PRI_MANGLE = -150;
    private final List<ServiceRegistration<?>> regs = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final BundleContext context;
    /** Whether the raw and mangle tables' hook functions are registered: once a namespace has the table. */
    private boolean rawHooked, mangleHooked, deactivated;
    private volatile Ipv4 ipv4;
    private volatile org.modnet.api.netfilter.IpSets ipsets;
    private final StateHolder holder;
    private final BooleanSupplier updating;
    private final int stateVersion;

    /** Without OSGi (tests, benchmarks): no hook services, no hand-over. */
    public IptablesCommand(NetCore core, BundleContext context) {
        this(core, null, context, () -> false, STATE_VERSION);
    }

    /**
     * The component: it adopts what its previous version deposited with the core's holder before it
     * registers a hook, so the hooks' old functions (which IPv4 and the NAT core keep while this bundle is
     * {@linkplain #handingOver() handing over}) are replaced by functions that already hold the rules.
     */
    @Activate
    public IptablesCommand(@Reference NetCore core, @Reference StateHolder holder, BundleContext context) {
        this(core, holder, context, () -> BundleUpdates.beingUpdated(context), BundleUpdates.stateVersion(context.getBundle(), STATE_VERSION));
    }

    IptablesCommand(NetCore core, StateHolder holder, BundleContext context, BooleanSupplier updating, int stateVersion) {
        this.core = core;
        this.holder = holder;
        this.updating = updating;
        this.stateVersion = stateVersion;
        this.context = context;
        if (holder != null) {
            // the ipset bundle's sets before the rules are restored: DS binds the optional reference only
            // after the constructor, and a -m set rule whose set is missing would fail its whole table
            ipsets = currentIpSets();
            TableState st = holder.take(LAYER);
            if (st != null) {
                adopt(st);
            }
        }
        if (context != null) {
            NfHookFunction fn = new FilterHook();
            filterFn = fn;
            for (NfHook h : new NfHook[] { NfHook.LOCAL_IN, NfHook.FORWARD, NfHook.LOCAL_OUT }) {
                Hashtable<String, Object> p = new Hashtable<>();
                p.put(NfHookFunction.HOOK, h.name());
                p.put(NfHookFunction.PRIORITY, PRI_FILTER);
                regs.add(context.registerService(NfHookFunction.class, fn, p));
            }
            // iptable_nat: its chains are asked by the NAT core (conntrack's bundle) about a connection's
            // first packet at each hook, at NF_IP_PRI_NAT_DST (-100) and NF_IP_PRI_NAT_SRC (100)
            NfNatLookup lookup = new NatHook();
            for (NfHook h : FilterTable.NAT_HOOKS) {
                Hashtable<String, Object> p = new Hashtable<>();
                p.put(NfHookFunction.HOOK, h.name());
                p.put(NfHookFunction.PRIORITY, h == NfHook.PRE_ROUTING || h == NfHook.LOCAL_OUT ? -100 : 100);
                regs.add(context.registerService(NfNatLookup.class, lookup, p));
            }
        }
    }

    /**
     * iptable_raw (before conntrack, -200, sees a packet) and iptable_mangle (after it) hook in when the
     * first namespace makes the table, as Linux registers a table's hooks when it is instantiated: until
     * then a packet pays nothing for them.
     */
    private synchronized void hookIn(boolean raw) {
        if (context == null || deactivated || (raw ? rawHooked : mangleHooked)) {
            return;
        }
        if (raw) {
            rawHooked = true;
            registerTable(context, rawTables, FilterTable.RAW_HOOKS, PRI_RAW);
        } else {
            mangleHooked = true;
            registerTable(context, mangleTables, FilterTable.MANGLE_HOOKS, PRI_MANGLE);
        }
    }

    private void registerTable(BundleContext context, Map<NetNamespace, FilterTable> map, NfHook[] hooks, int priority) {
        NfHookFunction fn = new TableHook(map);
        if (map == rawTables) {
            rawFn = fn;
        } else {
            mangleFn = fn;
        }
        for (NfHook h : hooks) {
            Hashtable<String, Object> p = new Hashtable<>();
            p.put(NfHookFunction.HOOK, h.name());
            p.put(NfHookFunction.PRIORITY, priority);
            regs.add(context.registerService(NfHookFunction.class, fn, p));
        }
    }

    /** The raw or mangle table's function on its hooks: nothing to do in a namespace without the table. */
    private final class TableHook implements NfHookFunction, HandsOver {
        private final Map<NetNamespace, FilterTable> map;

        TableHook(Map<NetNamespace, FilterTable> map) {
            this.map = map;
        }

        @Override
        public Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
            FilterTable t = map.get(ns);
            return t == null ? Verdict.ACCEPT : t.run(hook, skb, in, out);
        }

        @Override
        public boolean handingOver() {
            return IptablesCommand.this.handingOver();
        }
    }

    /** The filter table's function on its three hooks; IPv4 keeps it while this version hands over. */
    private final class FilterHook implements NfHookFunction, HandsOver {
        @Override
        public Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
            return IptablesCommand.this.hook(skb, hook, ns, in, out);
        }

        @Override
        public boolean handingOver() {
            return IptablesCommand.this.handingOver();
        }
    }

    /** The nat table's chains; the NAT core keeps them while this version hands over. */
    private final class NatHook implements NfNatLookup, HandsOver {
        @Override
        public Verdict lookup(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out, NfNat nat) {
            return natLookup(skb, hook, ns, in, out, nat);
        }

        @Override
        public boolean handingOver() {
            return IptablesCommand.this.handingOver();
        }
    }

    /**
     * The IpSets service got by hand before DS binds it, released by {@link #releaseIpSets} once DS holds
     * it (or this component goes): a get without its unget would keep the service's use count up.
     */
    private org.osgi.framework.ServiceReference<org.modnet.api.netfilter.IpSets> ipsetsByHand;

    /** The hook functions of the filter, raw and mangle tables: where a queued packet's reinjection resumes. */
    private volatile NfHookFunction filterFn, rawFn, mangleFn;
    /** nfnetlink_queue's queues (this bundle's NfQueueCore), which NFQUEUE hands packets to. */
    private volatile org.modnet.api.netfilter.NfQueue nfqueue;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setNfQueue(org.modnet.api.netfilter.NfQueue q) {
        nfqueue = q;
    }

    void unsetNfQueue(org.modnet.api.netfilter.NfQueue q) {
        if (nfqueue == q) {
            nfqueue = null;
        }
    }

    /** NFQUEUE's way to the queues for a table of {@code ns}: nat's lookups are no hook function, so nothing resumes there. */
    private FilterTable.Queuer queuer(FilterTable t, NetNamespace ns) {
        return (skb, hook, in, out, num, bypass) -> {
            org.modnet.api.netfilter.NfQueue q = nfqueue;
            NfHookFunction from = switch (t.name) {
                case "filter" -> filterFn;
                case "raw" -> rawFn;
                case "mangle" -> mangleFn;
                default -> null;
            };
            if (q == null || from == null) {
                return bypass ? Verdict.ACCEPT : Verdict.DROP;
            }
            return q.enqueue(skb, hook, ns, in, out, num, bypass, from);
        };
    }

    /** The IpSets service there is now, or null (DS binds it to {@link #setIpSets} later as well). */
    private org.modnet.api.netfilter.IpSets currentIpSets() {
        if (context == null) {
            return null;
        }
        try {
            org.osgi.framework.ServiceReference<org.modnet.api.netfilter.IpSets> ref =
                    context.getServiceReference(org.modnet.api.netfilter.IpSets.class);
            org.modnet.api.netfilter.IpSets s = ref == null ? null : context.getService(ref);
            if (s != null) {
                ipsetsByHand = ref;
            }
            return s;
        } catch (IllegalStateException e) {
            return null;
        }
    }

    private synchronized void releaseIpSets() {
        org.osgi.framework.ServiceReference<org.modnet.api.netfilter.IpSets> ref = ipsetsByHand;
        ipsetsByHand = null;
        if (ref != null) {
            try {
                context.ungetService(ref);
            } catch (IllegalStateException gone) {
                // this bundle's context is no longer valid: the framework released it
            }
        }
    }

    @Override
    public boolean handingOver() {
        return holder != null && updating.getAsBoolean();
    }

    /**
     * Every namespace's tables as {@code iptables-save -c} prints them, for the next version. The tables
     * stay here: the hooks keep running them until the next version's functions replace them.
     */
    TableState export() {
        List<NamespaceState> namespaces = new ArrayList<>();
        Map<String, String> extra = new java.util.HashMap<>();
        java.util.Set<NetNamespace> all = new java.util.LinkedHashSet<>(tables.keySet());
        all.addAll(natTables.keySet());
        all.addAll(mangleTables.keySet());
        all.addAll(rawTables.keySet());
        ZonedDateTime now = ZonedDateTime.now();
        for (NetNamespace ns : all) {
            int i = namespaces.size();
            namespaces.add(new NamespaceState(ns, Map.of(), Map.of(), List.of(), List.of(), Map.of()));
            FilterTable f = tables.get(ns);
            if (f != null) {
                extra.put(i + "/filter", String.join("\n", Iptables.save(f, true, now)));
            }
            FilterTable n = natTables.get(ns);
            if (n != null) {
                extra.put(i + "/nat", String.join("\n", Iptables.save(n, true, now)));
            }
            FilterTable m = mangleTables.get(ns);
            if (m != null) {
                extra.put(i + "/mangle", String.join("\n", Iptables.save(m, true, now)));
            }
            FilterTable r = rawTables.get(ns);
            if (r != null) {
                extra.put(i + "/raw", String.join("\n", Iptables.save(r, true, now)));
            }
            // the order the tables were made in, so the next version makes them in it (iptables-save's order)
            List<FilterTable> made = new ArrayList<>();
            for (FilterTable t : new FilterTable[] { f, n, m, r }) {
                if (t != null) {
                    made.add(t);
                }
            }
            made.sort((x, y) -> Long.compare(x.loaded, y.loaded));
            extra.put(i + "/order", String.join(",", made.stream().map(t -> t.name).toList()));
            // -m hashlimit's buckets, from the registry the tables hold (deactivate forgets the map's)
            Hashlimit.Registry hl = made.isEmpty() ? null : made.get(0).hashlimits;
            if (hl != null) {
                for (String name : hl.names()) {
                    Hashlimit.Table t = hl.table(name);
                    if (t != null) {
                        extra.put(i + "/hashlimit/" + name, String.join("\n", t.export()));
                    }
                }
            }
        }
        return new TableState(LAYER, stateVersion, namespaces, extra);
    }

    /** The previous version's tables, restored with their counters; a layout this code cannot read is refused. */
    void adopt(TableState st) {
        if (st.version() != stateVersion || stateVersion != STATE_VERSION) {
            holder.refuse(st, "this netfilter reads state version " + STATE_VERSION + ", the deposit is version " + st.version());
            return;
        }
        int rules = 0;
        int lost = 0;
        int lostKeys = 0;
        for (int i = 0; i < st.namespaces().size(); i++) {
            NetNamespace ns = st.namespaces().get(i).namespace();
            String order = st.extra().get(i + "/order");
            for (String name : order != null ? order.split(",") : new String[] { "filter", "nat", "mangle", "raw" }) {
                String text = st.extra().get(i + "/" + name);
                if (text == null) {
                    continue;
                }
                List<String> lines = List.of(text.split("\n"));
                try {
                    Iptables.restore(t -> table(ns, t), lines, false, true);
                    rules += (int) lines.stream().filter(l -> l.startsWith("[")).count();
                } catch (CommandException e) {
                    lost++; // the table starts empty, as a failed iptables-restore leaves it
                    LOG.warn("netfilter: the {} table of a namespace could not be restored: {}", name, e.getMessage());
                }
            }
            // the buckets, into the tables the restored rules made (a name no rule gives any more has none)
            String prefix = i + "/hashlimit/";
            for (Map.Entry<String, String> e : st.extra().entrySet()) {
                if (!e.getKey().startsWith(prefix) || e.getValue().isEmpty()) {
                    continue;
                }
                Hashlimit.Registry r = hashlimits.get(ns);
                Hashlimit.Table t = r == null ? null : r.table(e.getKey().substring(prefix.length()));
                for (String line : e.getValue().split("\n")) {
                    if (t == null || !t.adopt(line)) {
                        lostKeys++;
                    }
                }
            }
        }
        LOG.info("netfilter: {} rules in {} namespaces adopted, {} tables not restored, {} hashlimit keys lost (state version {})",
                rules, st.namespaces().size(), lost, lostKeys, st.version());
    }

    @Deactivate
    void deactivate() {
        if (handingOver()) {
            TableState st = export();
            // the old hooks filter (and count) on until the next version's replace them: it takes the tables as they are then
            holder.deposit(st, this::export);
            LOG.info("netfilter: the tables of {} namespaces handed over (state version {})", st.namespaces().size(),
                    st.version());
        }
        synchronized (this) {
            deactivated = true; // a command still running makes no new hook
        }
        for (ServiceRegistration<?> r : regs) {
            try {
                r.unregister();
            } catch (IllegalStateException gone) {
                // the framework took it down already
            }
        }
        hashlimits.clear();
        hashlimitFilesChanged();
        releaseIpSets();
    }

    /** The ipset bundle's sets, which {@code -m set} and SET name (none without the bundle: "Set X doesn't exist."). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setIpSets(org.modnet.api.netfilter.IpSets s) {
        ipsets = s;
        releaseIpSets(); // DS holds it now
        // a new ipset version (after an update): the rules take its sets, which hold the old ones' elements
        for (Map<NetNamespace, FilterTable> m : List.of(tables, natTables, mangleTables, rawTables)) {
            for (FilterTable t : m.values()) {
                t.relinkSets();
            }
        }
    }

    void unsetIpSets(org.modnet.api.netfilter.IpSets s) {
        if (ipsets == s) {
            ipsets = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setIpv4(Ipv4 v) {
        ipv4 = v;
    }

    void unsetIpv4(Ipv4 v) {
        if (ipv4 == v) {
            ipv4 = null;
        }
    }

    @Override
    public void init(NetNamespace ns) {
        // the table is made when a command first touches the namespace
    }

    /** A namespace that goes takes its table with it (the kernel's iptable_filter_net_exit). */
    @Override
    public void exit(NetNamespace ns) {
        if (handingOver()) {
            return; // the core calls this as the service goes, before deactivate exports the tables
        }
        tables.remove(ns);
        natTables.remove(ns);
        mangleTables.remove(ns);
        rawTables.remove(ns);
        hashlimits.remove(ns);
        hashlimitFilesChanged();
    }

    /** The namespace's hashlimit tables, made with the namespace's first iptables table. */
    Hashlimit.Registry hashlimits(NetNamespace ns) {
        return hashlimits.computeIfAbsent(ns, n -> {
            Hashlimit.Registry r = new Hashlimit.Registry(core != null ? core::nanoTime : System::nanoTime);
            r.onChange = this::hashlimitFilesChanged;
            return r;
        });
    }

    /** {@code cat /proc/net/ipt_hashlimit/NAME} in {@code ns}: its keys, or nothing when the namespace has no such table. */
    List<String> hashlimitFile(NetNamespace ns, String name) {
        Hashlimit.Registry r = hashlimits.get(ns);
        Hashlimit.Table t = r == null ? null : r.table(name);
        return t == null ? List.of() : t.proc();
    }

    /** Registers a file for each name some namespace has and takes down the files of names gone. */
    private synchronized void hashlimitFilesChanged() {
        if (context == null) {
            return;
        }
        java.util.Set<String> names = new java.util.TreeSet<>();
        hashlimits.values().forEach(r -> names.addAll(r.names()));
        for (var it = hashlimitFiles.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            if (!names.contains(e.getKey())) {
                try {
                    e.getValue().unregister();
                } catch (IllegalStateException gone) {
                    // the framework took it down already
                }
                it.remove();
            }
        }
        if (deactivated) {
            return;
        }
        for (String n : names) {
            if (!hashlimitFiles.containsKey(n)) {
                Hashtable<String, Object> p = new Hashtable<>();
                p.put(org.modnet.api.shell.ProcFile.PATH, "/proc/net/ipt_hashlimit/" + n);
                org.modnet.api.shell.ProcFile f = ns -> hashlimitFile(ns, n);
                hashlimitFiles.put(n, context.registerService(org.modnet.api.shell.ProcFile.class, f, p));
            }
        }
    }

    /** Namespaces with a table now. */
    int tables() {
        return tables.size();
    }

    /** The NfHookFunction registered on the three hooks (public for benchmarks that run without OSGi). */
    public Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
        FilterTable t = tables.get(ns);
        return t == null ? Verdict.ACCEPT : t.run(hook, skb, in, out);
    }

    /** iptables-restore of these lines in {@code ns}, without a shell (benchmarks loading many rules at once). */
    public void restoreLines(NetNamespace ns, List<String> lines) {
        Iptables.restore(name -> table(ns, name), lines, false, false);
    }

    /** The raw table's NfHookFunction on PREROUTING and OUTPUT (public for benchmarks that run without OSGi). */
    public Verdict rawHook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
        FilterTable t = rawTables.get(ns);
        return t == null ? Verdict.ACCEPT : t.run(hook, skb, in, out);
    }

    /** The NfNatLookup of the nat table's chains (public for benchmarks that run without OSGi). */
    public Verdict natLookup(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out, NfNat nat) {
        FilterTable t = natTables.get(ns);
        return t == null ? Verdict.ACCEPT : t.run(hook, skb, in, out, nat);
    }

    FilterTable natTable(NetNamespace ns) {
        return natTables.computeIfAbsent(ns, n -> clocked(new FilterTable("nat", FilterTable.NAT, FilterTable.NAT_HOOKS), n));
    }

    FilterTable mangleTable(NetNamespace ns) {
        FilterTable t = mangleTables.computeIfAbsent(ns,
                n -> clocked(new FilterTable("mangle", FilterTable.MANGLE, FilterTable.MANGLE_HOOKS), n));
        hookIn(false);
        return t;
    }

    FilterTable rawTable(NetNamespace ns) {
        FilterTable t = rawTables.computeIfAbsent(ns,
                n -> clocked(new FilterTable("raw", FilterTable.RAW, FilterTable.RAW_HOOKS), n));
        hookIn(true);
        return t;
    }

    /** A table whose {@code -m limit} counts by the core's clock and whose {@code -m addrtype} knows the namespace. */
    private FilterTable clocked(FilterTable t, NetNamespace ns) {
        if (ns != null) {
            t.addrType = new AddrType.OfNamespace(ns);
        }
        if (core != null) {
            t.clock = core::nanoTime;
        }
        if (ns != null) {
            t.queuer = queuer(t, ns);
            t.hashlimits = hashlimits(ns);
            t.sets = new FilterTable.SetLookup() {
                @Override
                public org.modnet.api.netfilter.IpSet get(String name) {
                    org.modnet.api.netfilter.IpSets s = ipsets;
                    return s == null ? null : s.set(ns, name);
                }

                @Override
                public void references(String owner, Map<String, Integer> counts) {
                    org.modnet.api.netfilter.IpSets s = ipsets;
                    if (s != null) {
                        s.references(ns, owner, counts);
                    }
                }
            };
        }
        return t;
    }

    /** The table {@code -t NAME} names in these words (filter without it), or null for one that does not exist. */
    FilterTable table(NetNamespace ns, String name) {
        return switch (name) {
            case "filter" -> table(ns);
            case "nat" -> natTable(ns);
            case "mangle" -> mangleTable(ns);
            case "raw" -> rawTable(ns);
            default -> null;
        };
    }

    private static String tableName(String[] args) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-t") || args[i].equals("--table")) {
                return args[i + 1];
            }
        }
        return "filter";
    }

    private FilterTable table(NetNamespace ns, String[] args) {
        FilterTable t = table(ns, tableName(args));
        return t != null ? t : table(ns); // parse refuses the unknown name in iptables' words
    }

    FilterTable table(NetNamespace ns) {
        return tables.computeIfAbsent(ns, n -> {
            FilterTable t = clocked(new FilterTable(), n);
            t.rejecter = new FilterTable.Rejecter() {
                @Override
                public void reject(SkBuff skb, int code) {
                    Ipv4 v = ipv4;
                    if (v != null) {
                        v.sendIcmpError(skb, 3, code, 0);
                    }
                }

                @Override
                public void reset(SkBuff skb, int nh, int th) {
                    sendReset(n, skb, nh, th);
                }
            };
            return t;
        });
    }

    /** nf_send_reset, as {@link org.modnet.api.netfilter.NfReject} sends it for iptables and nftables alike. */
    void sendReset(NetNamespace ns, SkBuff in, int nh, int th) {
        org.modnet.api.netfilter.NfReject.sendReset(core, ipv4, ns, in, nh, th);
    }

    private NetNamespace namespace(CommandSession session, String tool) {
        Object netns = session != null ? session.get(Commands.NETNS) : null;
        return Commands.namespace(core, netns, tool);
    }

    /** iptables in {@code ns} without a shell: its output lines, or a CommandException in its words. */
    public List<String> run(NetNamespace ns, String... args) {
        return Iptables.run(table(ns, args), args);
    }

    public void iptables(CommandSession session, String... args) {
        args = Commands.words(session, args);
        for (String l : Iptables.run(table(namespace(session, "iptables"), args), args)) {
            System.out.println(l);
        }
    }

    /** {@code iptables-save [-c]}: see {@link SaveCommand}. */
    void save(CommandSession session, String... args) {
        args = Commands.words(session, args);
        boolean counters = false;
        String only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-c", "--counters" -> counters = true;
                case "-t", "--table" -> {
                    if (i + 1 >= args.length || !List.of("filter", "nat", "mangle", "raw").contains(args[++i])) {
                        throw new CommandException("iptables-save: Unable to initialize table", 1);
                    }
                    only = args[i];
                }
                default -> throw new CommandException("iptables-save: unknown option \"" + args[i] + "\"", 1);
            }
        }
        NetNamespace ns = namespace(session, "iptables-save");
        for (String l : save(ns, only, counters, ZonedDateTime.now())) {
            System.out.println(l);
        }
    }

    /**
     * iptables-save's tables: the one {@code only} names, else every table the namespace has, as
     * /proc/net/ip_tables_names lists them (the one made last first; filter is always there).
     */
    List<String> save(NetNamespace ns, String only, boolean counters, ZonedDateTime now) {
        List<String> out = new ArrayList<>();
        if (only != null) {
            return Iptables.save(table(ns, only), counters, now);
        }
        List<FilterTable> all = new ArrayList<>();
        for (Map<NetNamespace, FilterTable> m : List.of(tables, natTables, mangleTables, rawTables)) {
            FilterTable t = m.get(ns);
            if (t != null) {
                all.add(t);
            }
        }
        all.sort((a, b) -> Long.compare(b.loaded, a.loaded));
        if (!tables.containsKey(ns)) {
            all.add(table(ns)); // an empty filter table, last, as before any rule loaded it
        }
        for (FilterTable t : all) {
            out.addAll(Iptables.save(t, counters, now));
        }
        return out;
    }

    /** {@code iptables-restore [--noflush] [FILE]}: see {@link RestoreCommand}. */
    void restore(CommandSession session, String... args) throws IOException {
        args = Commands.words(session, args);
        boolean noflush = false;
        boolean counters = false;
        String file = null;
        for (String a : args) {
            switch (a) {
                case "-n", "--noflush" -> noflush = true;
                case "-c", "--counters" -> counters = true;
                default -> {
                    if (a.startsWith("-")) {
                        throw new CommandException("iptables-restore: unknown option \"" + a + "\"", 1);
                    }
                    file = a;
                }
            }
        }
        List<String> lines;
        try {
            lines = org.modnet.api.netfilter.NfRulesFile.read(file).lines().toList();
        } catch (IOException e) {
            throw new CommandException("Can't open " + file + ": No such file or directory", 1);
        }
        NetNamespace ns = namespace(session, "iptables-restore");
        Iptables.restore(name -> table(ns, name), lines, noflush, counters);
    }
}

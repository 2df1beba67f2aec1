package org.modnet.nftables;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import java.util.function.BooleanSupplier;

import org.apache.felix.service.command.CommandSession;
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
import org.modnet.api.netfilter.NfIngress;
import org.modnet.api.netfilter.NfNat;
import org.modnet.api.netfilter.NfNatLookup;
import org.modnet.api.netfilter.NfRulesFile;
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
 * nf_tables for every namespace and the {@code nft} command. A filter base chain runs from a hook
 * function registered at its own hook and priority (as nf_tables registers one nf_hook_ops per base
 * chain), so {@code priority raw} runs before conntrack's -200 and {@code priority filter} after it;
 * one function serves every namespace's chains at that hook and priority, and stays registered once
 * made. Nat chains are asked by the conntrack bundle's NAT core at -100 (dstnat) and 100 (srcnat). A
 * namespace's ruleset is made the first time nft touches it.
 *
 * <p>On an update of this bundle the rulesets go to the next version through the core's {@link
 * StateHolder} as {@code nft -a list ruleset} prints them (handles and counters included), and the hook
 * functions and nat lookups {@linkplain HandsOver hand over}: IPv4 and the NAT core keep running the old
 * ones until the new version, which adopted the rulesets first, registers its own at the same places.
 */
@Component(service = { NftCommand.class, PernetOperations.class }, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=nft", PernetOperations.ORDER + ":Integer=41" })
public final class NftCommand implements PernetOperations, HandsOver {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NftCommand.class);
    /**
     * The layout of the {@link TableState} this code writes and reads: one {@link NamespaceState} per
     * namespace with a ruleset; in {@code extra}, under {@code "INDEX/ruleset"} (INDEX: the namespace's
     * place in the list) its {@code nft -a list ruleset}, under {@code "INDEX/next"} each table's next
     * handle as {@code family name=N} lines ({@code =N} alone: the next table handle), and under
     * {@code "hooks"} the hook functions registered, as {@code HOOK:PRIORITY} separated by commas.
     */
    static final int STATE_VERSION = 1;
    static final String LAYER = "nftables";
    private final StateHolder holder;
    private final BooleanSupplier updating;
    private final int stateVersion;
    private final NetCore core;
    private final Map<NetNamespace, Ruleset> rulesets = new ConcurrentHashMap<>();
    private final List<ServiceRegistration<?>> regs = new ArrayList<>();
    private volatile Ipv4 ipv4;
    private final BundleContext context;
    /** The hook functions made so far, by {@code hook index << 32 | priority}. */
    private final Map<Long, ServiceRegistration<?>> hookRegs = new ConcurrentHashMap<>();
    /** The core's netdev ingress hooks, and the function this version put on each device there. */
    private volatile NfIngress ingress;
    private final Map<NetDevice, NfIngress.Hook> ingressHooks = new ConcurrentHashMap<>();

    /** Without OSGi (tests, benchmarks): no hook services, no hand-over. */
    public NftCommand(NetCore core, BundleContext context) {
        this(core, null, context, () -> false, STATE_VERSION);
    }

    /**
     * The component: it adopts what its previous version deposited before it registers a hook function,
     * so the functions that replace the old ones already hold the rules.
     */
    @Activate
    public NftCommand(@Reference NetCore core, @Reference StateHolder holder, BundleContext context) {
        this(core, holder, context, () -> BundleUpdates.beingUpdated(context), BundleUpdates.stateVersion(context.getBundle(), STATE_VERSION));
    }

    NftCommand(NetCore core, StateHolder holder, BundleContext context, BooleanSupplier updating, int stateVersion) {
        this.core = core;
        this.context = context;
        this.holder = holder;
        this.updating = updating;
        this.stateVersion = stateVersion;
        java.util.Set<Long> hooks = new java.util.TreeSet<>();
        if (holder != null) {
            TableState st = holder.take(LAYER);
            if (st != null) {
                hooks.addAll(adopt(st));
            }
        }
        if (context == null) {
            return;
        }
        NfNatLookup nat = new NatHook();
        for (NfHook h : new NfHook[] { NfHook.PRE_ROUTING, NfHook.LOCAL_IN, NfHook.LOCAL_OUT, NfHook.POST_ROUTING }) {
            Hashtable<String, Object> p = new Hashtable<>();
            p.put(NfHookFunction.HOOK, h.name());
            p.put(NfHookFunction.PRIORITY, h == NfHook.PRE_ROUTING || h == NfHook.LOCAL_OUT ? -100 : 100);
            regs.add(context.registerService(NfNatLookup.class, nat, p));
        }
        for (Ruleset rs : rulesets.values()) {
            hooks.addAll(rs.filterHooks());
        }
        register(hooks);
    }

    /** The nat chains' lookup; the NAT core keeps it while this version hands over. */
    private final class NatHook implements NfNatLookup, HandsOver {
        @Override
        public Verdict lookup(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out, NfNat nat) {
            return natLookup(skb, hook, ns, in, out, nat);
        }

        @Override
        public boolean handingOver() {
            return NftCommand.this.handingOver();
        }
    }

    /** The filter base chains of every namespace at one hook and priority; IPv4 keeps it while this version hands over. */
    private final class FilterHook implements NfHookFunction, HandsOver {
        private final int prio;

        FilterHook(int prio) {
            this.prio = prio;
        }

        @Override
        public Verdict hook(SkBuff skb, NfHook h, NetNamespace ns, NetDevice in, NetDevice out) {
            Ruleset r = rulesetOf(ns);
            return r == null ? Verdict.ACCEPT : r.run(h, skb, in, out, prio, this);
        }

        @Override
        public boolean handingOver() {
            return NftCommand.this.handingOver();
        }
    }

    @Override
    public boolean handingOver() {
        return holder != null && updating.getAsBoolean();
    }

    /**
     * Every namespace's ruleset as {@code nft -a list ruleset} prints it, for the next version. The
     * rulesets stay here: the old hook functions run them until the next version's replace them.
     */
    TableState export() {
        List<NamespaceState> namespaces = new ArrayList<>();
        Map<String, String> extra = new java.util.HashMap<>();
        for (Map.Entry<NetNamespace, Ruleset> e : rulesets.entrySet()) {
            int i = namespaces.size();
            namespaces.add(new NamespaceState(e.getKey(), Map.of(), Map.of(), List.of(), List.of(), Map.of()));
            extra.put(i + "/ruleset", String.join("\n", Nft.list(e.getValue(), true)));
            StringBuilder next = new StringBuilder();
            Nft.nextHandles(e.getValue()).forEach((k, v) -> next.append(k).append('=').append(v).append('\n'));
            extra.put(i + "/next", next.toString());
        }
        StringBuilder hooks = new StringBuilder();
        for (long key : new java.util.TreeSet<>(hookRegs.keySet())) {
            hooks.append(hooks.isEmpty() ? "" : ",").append(NfHook.values()[(int) (key >>> 32)]).append(':').append((int) key);
        }
        extra.put("hooks", hooks.toString());
        return new TableState(LAYER, stateVersion, namespaces, extra);
    }

    /**
     * The previous version's rulesets, read back with their handles and counters; returns the hook
     * functions it had (they must all be replaced). A layout this code cannot read is refused.
     */
    java.util.Set<Long> adopt(TableState st) {
        java.util.Set<Long> hooks = new java.util.TreeSet<>();
        if (st.version() != stateVersion || stateVersion != STATE_VERSION) {
            holder.refuse(st, "this nftables reads state version " + STATE_VERSION + ", the deposit is version " + st.version());
            return hooks;
        }
        String h = st.extra().getOrDefault("hooks", "");
        for (String k : h.isEmpty() ? new String[0] : h.split(",")) {
            int colon = k.indexOf(':');
            hooks.add((long) NfHook.valueOf(k.substring(0, colon)).ordinal() << 32
                    | (Integer.parseInt(k.substring(colon + 1)) & 0xffffffffL));
        }
        int lost = 0;
        for (int i = 0; i < st.namespaces().size(); i++) {
            NetNamespace ns = st.namespaces().get(i).namespace();
            Map<String, Integer> next = new java.util.HashMap<>();
            for (String l : st.extra().getOrDefault(i + "/next", "").split("\n")) {
                int eq = l.lastIndexOf('=');
                if (eq >= 0) {
                    next.put(l.substring(0, eq), Integer.parseInt(l.substring(eq + 1)));
                }
            }
            try {
                Nft.restore(ruleset(ns), st.extra().getOrDefault(i + "/ruleset", ""), next);
            } catch (CommandException e) {
                lost++; // the namespace starts with an empty ruleset, as a failed nft -f leaves it
                LOG.warn("nftables: the ruleset of a namespace could not be restored: {}", e.getMessage());
            }
        }
        LOG.info("nftables: the rulesets of {} namespaces adopted, {} not restored (state version {})", st.namespaces().size(),
                lost, st.version());
        return hooks;
    }

    /** Registers a hook function for every hook and priority a filter base chain now has (not on the packet path). */
    private synchronized void syncHooks(Ruleset rs) {
        if (context == null) {
            return;
        }
        register(rs.filterHooks());
    }

    /** A hook function at each {@code hook << 32 | priority} not registered yet. */
    private synchronized void register(java.util.Set<Long> keys) {
        if (context == null || deactivated) {
            return;
        }
        for (long key : keys) {
            if (hookRegs.containsKey(key)) {
                continue;
            }
            NfHook hook = NfHook.values()[(int) (key >>> 32)];
            int prio = (int) key;
            NfHookFunction fn = new FilterHook(prio);
            Hashtable<String, Object> p = new Hashtable<>();
            p.put(NfHookFunction.HOOK, hook.name());
            p.put(NfHookFunction.PRIORITY, prio);
            hookRegs.put(key, context.registerService(NfHookFunction.class, fn, p));
        }
    }

    private boolean deactivated;

    @Deactivate
    void deactivate() {
        if (handingOver()) {
            TableState st = export();
            // the old hook functions filter (and count) on until the next version's replace them: it takes the rulesets as they are then
            holder.deposit(st, this::export);
            LOG.info("nftables: the rulesets of {} namespaces handed over (state version {})", st.namespaces().size(), st.version());
        }
        for (Ruleset r : rulesets.values()) {
            org.modnet.api.net.Timer t = r.gcTimer;
            r.gcTimer = null; // the next version collects the sets it adopts
            if (t != null) {
                t.del();
            }
        }
        synchronized (this) {
            deactivated = true; // a command still running makes no new hook function
            NfIngress ing = ingress;
            if (!handingOver() && ing != null) {
                // on an update the old functions run on until the next version's replace them, as at IPv4's hooks
                ingressHooks.forEach((dev, h) -> {
                    if (ing.ingressHook(dev) == h) {
                        ing.attachIngress(dev, null);
                    }
                });
            }
            ingressHooks.clear();
        }
        regs.addAll(hookRegs.values());
        for (ServiceRegistration<?> r : regs) {
            try {
                r.unregister();
            } catch (IllegalStateException gone) {
                // the framework took it down already
            }
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

    /** nfnetlink_queue's queues (the netfilter bundle's), which the queue statement hands packets to. */
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

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setIngress(NfIngress i) {
        ingress = i;
        rulesets.forEach(this::syncIngress);
    }

    void unsetIngress(NfIngress i) {
        if (ingress == i) {
            ingress = null;
            ingressHooks.clear(); // the core that held them is gone
        }
    }

    /**
     * Puts a function on the ingress of each device of {@code ns} a netdev chain names and takes it off
     * the ones none names any more (not on the packet path). With no netdev chain a device keeps no
     * hook: its frames pay the core's one null check.
     */
    private synchronized void syncIngress(NetNamespace ns, Ruleset rs) {
        NfIngress ing = ingress;
        if (ing == null || deactivated) {
            return;
        }
        java.util.Set<String> want = rs.ingressDevices();
        for (NetDevice d : ns.devices()) {
            NfIngress.Hook have = ingressHooks.get(d);
            if (want.contains(d.name()) && have == null) {
                NfIngress.Hook h = (skb, dev) -> {
                    Ruleset r = rulesets.get(ns);
                    return r == null ? Verdict.ACCEPT : r.runIngress(skb, dev);
                };
                ingressHooks.put(d, h);
                ing.attachIngress(d, h);
            } else if (!want.contains(d.name()) && have != null) {
                ingressHooks.remove(d);
                if (ing.ingressHook(d) == have) {
                    ing.attachIngress(d, null);
                }
            }
        }
    }

    @Override
    public void netdevRegister(NetDevice dev) {
        Ruleset rs = rulesets.get(dev.namespace());
        if (rs != null) {
            syncIngress(dev.namespace(), rs); // a chain may name a device before it exists, as Linux 6 allows
        }
    }

    @Override
    public void netdevUnregister(NetDevice dev) {
        synchronized (this) {
            NfIngress.Hook h = ingressHooks.remove(dev);
            NfIngress ing = ingress;
            if (h != null && ing != null && ing.ingressHook(dev) == h) {
                ing.attachIngress(dev, null);
            }
        }
    }

    @Override
    public void netdevChangeName(NetDevice dev, String oldName) {
        netdevRegister(dev);
    }

    @Override
    public void init(NetNamespace ns) {
        // made when nft first touches the namespace
    }

    @Override
    public void exit(NetNamespace ns) {
        if (handingOver()) {
            return; // the core calls this as the service goes, before deactivate exports the rulesets
        }
        Ruleset r = rulesets.remove(ns);
        org.modnet.api.net.Timer t = r == null ? null : r.gcTimer;
        if (t != null) {
            t.del();
        }
        last = null;
    }

    /**
     * The ruleset the last packet was judged by, so a flood through one namespace skips the map. A
     * plain field: a racy reader sees a ruleset whose {@link Ruleset#owner} is its namespace or (not yet
     * visible) null, which only sends it to the map.
     */
    private Ruleset last;

    /** {@code ns}'s ruleset, or null when nft never touched it. */
    private Ruleset rulesetOf(NetNamespace ns) {
        Ruleset r = last;
        if (r != null && r.owner == ns) {
            return r;
        }
        r = rulesets.get(ns);
        if (r != null) {
            last = r;
        }
        return r;
    }

    /** Every filter chain of {@code ns} on {@code hook}, all priorities in order (public for benchmarks that run without OSGi). */
    public Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
        Ruleset r = rulesetOf(ns);
        return r == null ? Verdict.ACCEPT : r.run(hook, skb, in, out, false, null);
    }

    public Verdict natLookup(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out, NfNat nat) {
        Ruleset r = rulesetOf(ns);
        return r == null ? Verdict.ACCEPT : r.run(hook, skb, in, out, true, nat);
    }

    Ruleset ruleset(NetNamespace ns) {
        return rulesets.computeIfAbsent(ns, n -> {
            Ruleset r = new Ruleset();
            r.owner = n;
            if (core != null) {
                r.clock = core::nanoTime; // limit counts by the instance's clock (virtual under test)
                r.gcTimer = core.timer(0, r::gc); // the sets' garbage collector, on the core's wheel
            }
            r.queuer = (skb, hook, in, out, num, bypass, from) -> {
                org.modnet.api.netfilter.NfQueue q = nfqueue;
                return q == null ? (bypass ? Verdict.ACCEPT : Verdict.DROP) : q.enqueue(skb, hook, n, in, out, num, bypass, from);
            };
            r.rejecter = new Expr.Rejecter() {
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
            return r;
        });
    }

    /** nf_send_reset, as {@link org.modnet.api.netfilter.NfReject} sends it for iptables and nftables alike. */
    void sendReset(NetNamespace ns, SkBuff in, int nh, int th) {
        org.modnet.api.netfilter.NfReject.sendReset(core, ipv4, ns, in, nh, th);
    }

    /** nft in {@code ns} without a shell: its output lines, or a CommandException in nft's words. */
    public List<String> run(NetNamespace ns, String... args) throws IOException {
        boolean handles = false;
        String file = null;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (text.isEmpty() && (a.equals("-a") || a.equals("--handle"))) {
                handles = true;
            } else if (text.isEmpty() && (a.equals("-f") || a.equals("--file"))) {
                if (i + 1 >= args.length) {
                    throw new CommandException("nft: option requires an argument -- 'f'", 1);
                }
                file = args[++i];
            } else if (text.isEmpty() && a.startsWith("-") && !a.equals("-")) {
                throw new CommandException("nft: invalid option -- '" + a.substring(1) + "'", 1);
            } else if (!a.isEmpty()) {
                text.append(text.isEmpty() ? "" : " ").append(a);
            }
        }
        if (file != null) {
            String content;
            try {
                content = NfRulesFile.read(file);
            } catch (IOException e) {
                throw new CommandException("Error: Could not process rule: No such file or directory\n" + file, 1);
            }
            Ruleset rs = ruleset(ns);
            List<String> out = Nft.runFile(rs, content, handles, file);
            syncHooks(rs);
            syncIngress(ns, rs);
            return out;
        }
        if (text.isEmpty()) {
            return List.of();
        }
        return apply(ns, text.toString(), handles);
    }

    private List<String> apply(NetNamespace ns, String text, boolean handles) {
        Ruleset rs = ruleset(ns);
        List<String> out = Nft.run(rs, text, handles);
        syncHooks(rs);
        syncIngress(ns, rs);
        return out;
    }

    public void nft(CommandSession session, String... args) throws IOException {
        args = Commands.words(session, args);
        Object netns = session != null ? session.get(Commands.NETNS) : null;
        NetNamespace ns = Commands.namespace(core, netns, "nft");
        for (String l : run(ns, args)) {
            System.out.println(l);
        }
    }
}

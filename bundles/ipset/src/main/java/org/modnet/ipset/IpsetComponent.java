package org.modnet.ipset;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.handover.BundleUpdates;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.netfilter.IpSet;
import org.modnet.api.netfilter.IpSets;
import org.modnet.api.shell.Commands;
import org.modnet.api.handover.HandsOver;
import org.modnet.api.handover.NamespaceState;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * ip_set_core: every namespace's sets ({@code ip_set_net}), the {@code ipset} command, and the
 * {@link IpSets} service through which iptables' {@code -m set} and {@code SET} target find a set by name
 * and say how many rules refer to it. A namespace's sets go with it.
 *
 * <p>On {@code update ipset} the sets go to the next version through the core's {@link StateHolder}: each
 * namespace's sets as {@code ipset save} prints them (types, options, elements with the seconds their
 * timeouts have left, counters), read back by {@code ipset restore}. The rules that name a set keep the
 * old version's until the next one's service comes, then take its sets (netfilter relinks them).
 */
@Component(service = { IpSets.class, IpsetComponent.class, PernetOperations.class }, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=ipset", PernetOperations.ORDER + ":Integer=38" })
public final class IpsetComponent implements IpSets, PernetOperations, HandsOver {
    /**
     * The layout of the {@link TableState}: one {@link NamespaceState} per namespace with sets, and in
     * {@code extra} under {@code "INDEX/save"} its sets as {@code ipset save} prints them.
     */
    static final int STATE_VERSION = 1;
    static final String LAYER = "ipset";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(IpsetComponent.class);

    private final NetCore core;
    private final Map<NetNamespace, Ipset> nets = new ConcurrentHashMap<>();
    /** The collector of expired elements: one timer on the core's wheel, every second (null without a core). */
    private final org.modnet.api.net.Timer gcTimer;
    private volatile boolean gcStopped;
    private final StateHolder holder;
    private final java.util.function.BooleanSupplier updating;
    private final int stateVersion;

    /** Without OSGi (tests): no hand-over. */
    public IpsetComponent(NetCore core) {
        this(core, null, () -> false, STATE_VERSION);
    }

    /** The component: it adopts the sets its previous version deposited before it offers its service. */
    @Activate
    public IpsetComponent(@Reference NetCore core, @Reference StateHolder holder, BundleContext context) {
        this(core, holder, () -> BundleUpdates.beingUpdated(context), BundleUpdates.stateVersion(context.getBundle(), STATE_VERSION));
    }

    IpsetComponent(NetCore core, StateHolder holder, java.util.function.BooleanSupplier updating, int stateVersion) {
        this.core = core;
        this.holder = holder;
        this.updating = updating;
        this.stateVersion = stateVersion;
        this.gcTimer = core != null ? core.timer(0, this::gc) : null;
        if (gcTimer != null) {
            gcTimer.mod(GC_MILLIS);
        }
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

    /** Every namespace's sets as {@code ipset save} prints them, for the next version; they stay here meanwhile. */
    TableState export() {
        List<NamespaceState> namespaces = new ArrayList<>();
        Map<String, String> extra = new java.util.HashMap<>();
        for (Map.Entry<NetNamespace, Ipset> e : nets.entrySet()) {
            int i = namespaces.size();
            namespaces.add(new NamespaceState(e.getKey(), Map.of(), Map.of(), List.of(), List.of(), Map.of()));
            extra.put(i + "/save", String.join("\n", e.getValue().run(List.of("save"), List.of())));
        }
        return new TableState(LAYER, stateVersion, namespaces, extra);
    }

    /** The previous version's sets, restored; a layout this code cannot read is refused. */
    void adopt(TableState st) {
        if (st.version() != stateVersion || stateVersion != STATE_VERSION) {
            holder.refuse(st, "this ipset reads state version " + STATE_VERSION + ", the deposit is version " + st.version());
            return;
        }
        int lost = 0;
        for (int i = 0; i < st.namespaces().size(); i++) {
            String text = st.extra().get(i + "/save");
            if (text == null || text.isEmpty()) {
                continue;
            }
            try {
                net(st.namespaces().get(i).namespace()).run(List.of("restore", "-exist"), List.of(text.split("\n")));
            } catch (RuntimeException e) {
                lost++; // what was restored before the failing line stays, as ipset restore leaves it
                LOG.warn("ipset: the sets of a namespace could not all be restored: {}", e.getMessage());
            }
        }
        LOG.info("ipset: the sets of {} namespaces adopted, {} not whole (state version {})", st.namespaces().size(), lost,
                st.version());
    }

    @Deactivate
    void deactivate() {
        gcStopped = true;
        if (gcTimer != null) {
            gcTimer.del();
        }
        if (handingOver()) {
            // the rules use the old sets until the next version's service comes: it takes them as they are then
            holder.deposit(export(), this::export);
        }
    }

    /** How often expired elements are collected (Linux: the set's timeout / 3, at least a second). */
    static final long GC_MILLIS = 1000;

    /** The timer's function: each namespace's sets with timeouts lose their expired elements, then it re-arms. */
    void gc() {
        for (Ipset s : nets.values()) {
            s.gc();
        }
        if (!gcStopped && gcTimer != null) {
            gcTimer.mod(GC_MILLIS);
        }
    }

    Ipset net(NetNamespace ns) {
        return nets.computeIfAbsent(ns, n -> new Ipset(core != null ? core::nanoTime : System::nanoTime));
    }

    @Override
    public IpSet set(NetNamespace ns, String name) {
        return net(ns).set(name);
    }

    @Override
    public void references(NetNamespace ns, String owner, Map<String, Integer> counts) {
        net(ns).references(owner, counts);
    }

    /** ipset in {@code ns} without a shell: its output lines, or a CommandException in its words. */
    public List<String> run(NetNamespace ns, List<String> stdin, String... args) {
        return net(ns).run(List.of(args), stdin);
    }

    public void ipset(CommandSession session, String... args) throws IOException {
        args = Commands.words(session, args);
        Object netns = session != null ? session.get(Commands.NETNS) : null;
        NetNamespace ns = Commands.namespace(core, netns, "ipset");
        List<String> stdin = List.of();
        if (List.of(args).contains("restore") || List.of(args).contains("-R")) {
            stdin = new ArrayList<>();
            BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String l; (l = r.readLine()) != null;) {
                stdin.add(l);
            }
        }
        for (String l : run(ns, stdin, args)) {
            System.out.println(l);
        }
    }

    @Override
    public void init(NetNamespace ns) {
        // a namespace's sets are made by its first ipset command
    }

    @Override
    public void exit(NetNamespace ns) {
        if (handingOver()) {
            return; // the core calls this as the service goes, before deactivate exports the sets
        }
        nets.remove(ns);
    }
}

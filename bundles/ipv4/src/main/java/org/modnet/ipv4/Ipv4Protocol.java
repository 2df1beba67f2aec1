package org.modnet.ipv4;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.handover.BundleUpdates;
import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.Errno;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.net.NetCore;
import org.osgi.service.component.annotations.Activate;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.framework.BundleContext;
import org.modnet.api.handover.HandsOver;
import org.modnet.api.handover.NamespaceState;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * IPv4 in the stack: the handler of ethertype 0x0800 ({@code ip_packet_type}), IPv4's per-namespace
 * state ({@code ipv4_mib_ops}), the transport protocols registered by number
 * ({@code inet_add_protocol}), and the {@code Ip} MIB for {@code nstat}. Stopping this bundle takes
 * IPv4 away: frames of 0x0800 are then dropped and counted by the core, as Linux without IPv4 would.
 * <p>
 * The packet handler and the per-namespace operations are registered by this component itself, apart
 * from its DS services, and leave in its own deactivation: on an update, DS takes the users of
 * {@code Ipv4} (UDP and TCP, each handing its sockets over) down first, and this version forwards
 * meanwhile; the core holds 0x0800 only from this version's own deposit on.
 */
@Component(service = { SnmpMib.class, Ipv4Protocol.class, Ipv4.class, org.modnet.api.shell.ProcFile.class }, immediate = true,
        configurationPolicy = ConfigurationPolicy.IGNORE,
        property = org.modnet.api.shell.ProcFile.PATH + "=/proc/net/stat/rt_cache")
public final class Ipv4Protocol implements PacketHandler, PernetOperations, SnmpMib, Ipv4, org.modnet.api.net.PacketOffload,
        org.modnet.api.shell.ProcFile, HandsOver {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Ipv4Protocol.class);
    /** The layout of {@link TableState} this code writes and reads: routes of RT_TABLE_MAIN, IP and ICMP MIBs, sysctls. */
    public static final int STATE_VERSION = 1;
    static final String LAYER = "ipv4";

    private final Map<NetNamespace, Ipv4Net> nets = new ConcurrentHashMap<>();
    private final Map<Integer, InetProtocol> protocols = new ConcurrentHashMap<>();
    private final java.util.function.Function<NetNamespace, Ipv4Net> makeNet = new MakeNet();
    private final NetCore core;
    private final NeighbourSlot neighbours;
    private final NfHooks hooks = new NfHooks();
    private final Ipv4Gso gso;
    private final Ipv4Gro gro;
    private final StateHolder holder;
    private final BooleanSupplier updating;
    private final int stateVersion;
    /** Namespaces' shares of the deposit, taken as the core calls exit while this version leaves for an update. */
    private final List<NamespaceState> leaving = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Transport protocols that left (or are leaving) with a hand-over of their own: UDP's sockets when IPv4 is updated. */
    private final java.util.Set<Integer> waiting = ConcurrentHashMap.newKeySet();
    static final String HOLD_PROTOCOLS = "holdProtocols";
    /** The extra key of a namespace's routing rules ({@code FibRules.encode}), followed by its name. @since state version 1 */
    static final String RULES = "fibRules:";
    /** The rules of the namespaces leaving with this version, by {@link #RULES} key. */
    private final Map<String, String> leavingRules = new java.util.concurrent.ConcurrentHashMap<>();
    /** The namespaces whose share of the deposit was taken. */
    private final java.util.Set<NetNamespace> exported = ConcurrentHashMap.newKeySet();
    /** Packets the namespaces leaving with this version held for UDP and TCP (leaving before it), in order. */
    private final List<SkBuff> leavingHeld = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** A staged update started this version beside its predecessor's stop: the deposit may be on its way. */
    private final BooleanSupplier predecessorLeaving;
    /** How long a version started beside its predecessor's stop waits for that predecessor's deposit. */
    static final long DEPOSIT_WAIT_NANOS = 10_000_000_000L;
    /** Where the component registers its packet path (null in tests, which wire the core by hand). */
    private final BundleContext context;
    /** {@code register_pernet_subsys} and {@code dev_add_pack}: the core's view of this version, registered by hand. */
    private org.osgi.framework.ServiceRegistration<?> pernetReg;
    private org.osgi.framework.ServiceRegistration<?> packetReg;

    /** IPv4 over a fixed neighbour table, without hand-over: how tests and benchmarks build a stack. */
    public Ipv4Protocol(NetCore core, NeighbourTable neighbours) {
        this(core, neighbours, null, () -> false, STATE_VERSION);
    }

    /**
     * The component. The neighbour table (ARP, in the ethernet bundle) is bound dynamically, so an update
     * of ethernet leaves IPv4 and everything above it running; the core's holder keeps IPv4's tables across
     * an update of this bundle, whose {@value BundleUpdates#STATE_VERSION_HEADER} header says which state layout it
     * writes and reads.
     */
    @Activate
    public Ipv4Protocol(@Reference NetCore core, @Reference StateHolder holder, BundleContext context) {
        this(core, null, holder, new BeingUpdated(context), BundleUpdates.stateVersion(context.getBundle(), STATE_VERSION), context);
    }

    /*
     * Classes, not lambdas, on the way from a new version's construction to its packet handler and in the old version's
     * deposit: both run for the first time in a JVM inside a live update, with the forwarding held, and each lambda's class
     * would be spun there at its first run (0.3-1 ms each on a loaded machine).
     */

    /** This bundle stops for an update. */
    private record BeingUpdated(BundleContext context) implements BooleanSupplier {
        @Override
        public boolean getAsBoolean() {
            return BundleUpdates.beingUpdated(context);
        }
    }

    /** A staged update started this version beside its predecessor's stop. */
    private record PredecessorStopping(BundleContext context) implements BooleanSupplier {
        @Override
        public boolean getAsBoolean() {
            return BundleUpdates.predecessorStopping(context);
        }
    }

    /** Nothing to do while the deposit is awaited. */
    private static final class NoWarmUp implements java.util.function.Consumer<BooleanSupplier> {
        @Override
        public void accept(BooleanSupplier over) {
        }
    }

    /** The previous version's deposit, if it is there. */
    private record Deposit(StateHolder holder) implements java.util.function.Supplier<TableState> {
        @Override
        public TableState get() {
            return holder.take(LAYER);
        }
    }

    /** A packet that cannot go out: {@link #discard}. */
    private final class Discard implements java.util.function.Consumer<SkBuff> {
        @Override
        public void accept(SkBuff skb) {
            discard(skb);
        }
    }

    /** {@code arp_error_report}: packets that waited for a neighbour that never answered. */
    private final class ArpErrorReport implements NeighbourTable.Unreachable {
        @Override
        public void report(SkBuff skb) {
            Ipv4Net net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
            if (net != null) {
                net.mib.inc(Ipv4Mib.Counter.OutDiscards);
                net.icmp.sendError(skb, Icmp.DEST_UNREACH, 1, 0); // host unreachable, to the sender
            }
            skb.free();
        }
    }

    /** A namespace's IPv4, made at its init or its adoption. */
    private final class MakeNet implements java.util.function.Function<NetNamespace, Ipv4Net> {
        @Override
        public Ipv4Net apply(NetNamespace ns) {
            return newNet(ns);
        }
    }

    /**
     * DS, once the state is adopted: the per-namespace operations first (the core runs init for every
     * namespace an adoption did not bring), then the packet handler, which gets the frames the core held
     * during the swap first, in order.
     */
    @Activate
    void activate() {
        if (holder != null && context != null && !"false".equals(context.getProperty(WARM_FREEZE))) {
            Thread.ofPlatform().daemon().name("modnet-ipv4-warm-freeze").priority(Thread.MIN_PRIORITY).start(new WarmFreeze(this));
        }
        java.util.Hashtable<String, Object> pernet = new java.util.Hashtable<>();
        pernet.put(PernetOperations.ORDER, 10);
        pernetReg = context.registerService(PernetOperations.class, this, pernet);
        java.util.Hashtable<String, Object> packet = new java.util.Hashtable<>();
        packet.put(PacketHandler.ETHERTYPE, 2048);
        packetReg = context.registerService(new String[] { PacketHandler.class.getName(),
                org.modnet.api.net.PacketOffload.class.getName() }, this, packet);
    }

    /**
     * The packet path leaves: the handler first (leaving for an update, the core holds 0x0800 from now
     * on), then the per-namespace operations (the core runs exit for every namespace: its share of the
     * deposit is taken there).
     */
    private void leavePath() {
        unregister(packetReg);
        packetReg = null;
        unregister(pernetReg);
        pernetReg = null;
    }

    private static void unregister(org.osgi.framework.ServiceRegistration<?> reg) {
        if (reg != null) {
            try {
                reg.unregister();
            } catch (IllegalStateException e) {
                // already gone with the bundle
            }
        }
    }

    /**
     * Adopts what the previous version deposited, if any, before any packet or call reaches this one.
     * Public for the tests of the layers above, which update IPv4 under their own state.
     */
    public Ipv4Protocol(NetCore core, NeighbourTable table, StateHolder holder, BooleanSupplier updating, int stateVersion) {
        this(core, table, holder, updating, stateVersion, null);
    }

    private Ipv4Protocol(NetCore core, NeighbourTable table, StateHolder holder, BooleanSupplier updating, int stateVersion,
            BundleContext context) {
        this.core = core;
        this.context = context;
        this.predecessorLeaving = context == null ? () -> false : new PredecessorStopping(context);
        this.neighbours = new NeighbourSlot(core, new Discard());
        this.gso = new Ipv4Gso(core);
        this.gro = new Ipv4Gro(gso);
        this.holder = holder;
        this.updating = updating;
        this.stateVersion = stateVersion;
        neighbours.setUnreachable(new ArpErrorReport());
        if (table != null) {
            neighbours.bind(table);
        }
        if (holder != null) {
            // started beside the old version's stop (a staged update): its deposit comes when its users have gone
            TableState st = BundleUpdates.awaitDeposit(new Deposit(holder), predecessorLeaving, DEPOSIT_WAIT_NANOS, new NoWarmUp());
            if (st != null) {
                adopt(st);
            }
            adoptHeld(holder.takeHeld(LAYER));
        }
    }

    /**
     * What the previous version held for UDP and TCP while they were handed over before it left: held
     * here first, in order, ahead of the frames the core held, until their next versions register.
     */
    private void adoptHeld(List<SkBuff> packets) {
        for (SkBuff skb : packets) {
            Ipv4Net net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
            if (net == null) { // its namespace went, or the state was refused: nobody holds it
                if (skb.dev() != null) {
                    skb.dev().stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
                }
                skb.free();
                continue;
            }
            net.input.holdAdopted(skb);
        }
    }

    /** A packet that cannot go out (no neighbour table): OutDiscards in its namespace. */
    private void discard(SkBuff skb) {
        Ipv4Net net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
        if (net != null) {
            net.mib.inc(Ipv4Mib.Counter.OutDiscards);
        }
        skb.free();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindNeighbours(NeighbourTable table) {
        neighbours.bind(table);
    }

    void unbindNeighbours(NeighbourTable table) {
        neighbours.unbind(table);
    }

    /** The neighbour table IPv4 sends through (the slot holding ARP's current version). */
    NeighbourTable neighbours() {
        return neighbours;
    }

    /**
     * The bundle is stopping for an update (a transient stop: it stays persistently started) while the
     * framework keeps running. A framework shutting down, {@code stop} or {@code rmmod} drop the state.
     */

    @Override
    public boolean handingOver() {
        return holder != null && updating.getAsBoolean();
    }

    /** IPv4's state in a namespace, or null. */
    Ipv4Net net(NetNamespace ns) {
        return nets.get(ns);
    }

    @Override
    public void init(NetNamespace ns) {
        nets.computeIfAbsent(ns, makeNet); // a namespace whose state was adopted has it already
    }

    private Ipv4Net newNet(NetNamespace ns) {
        Ipv4Net net = new Ipv4Net(ns, core, neighbours, hooks);
        for (NetDevice dev : ns.devices()) {
            net.devconf.register(dev); // lo came with the namespace, before IPv4's init: its directory too
        }
        net.gso = gso;
        for (Map.Entry<Integer, InetProtocol> p : protocols.entrySet()) {
            net.input.addProtocol(p.getKey(), p.getValue());
        }
        return net;
    }

    /** {@code inetdev_event} NETDEV_REGISTER: the device's {@code net.ipv4.conf.DEV} directory. */
    @Override
    public void netdevRegister(NetDevice dev) {
        Ipv4Net net = nets.get(dev.namespace());
        if (net != null) {
            net.devconf.register(dev);
        }
    }

    @Override
    public void netdevUnregister(NetDevice dev) {
        Ipv4Net net = nets.get(dev.namespace());
        if (net != null) {
            net.devconf.unregister(dev);
        }
    }

    @Override
    public void netdevChangeName(NetDevice dev, String oldName) {
        Ipv4Net net = nets.get(dev.namespace());
        if (net != null) {
            net.devconf.rename(dev);
        }
    }

    @Override
    public void exit(NetNamespace ns) {
        boolean handOver = handingOver();
        // leaving for an update, the namespace's state stays for the frames still on their way through
        // this version (the core took the handler away just before): they are forwarded, not dropped
        Ipv4Net net = handOver ? nets.get(ns) : nets.remove(ns);
        if (net == null || handOver && !exported.add(ns)) {
            return;
        }
        if (handOver) {
            int reasm = net.defrag.dropForHandOver(); // in flight reassemblies are not carried: ReasmFails
            leavingHeld.addAll(net.input.takeHeld()); // before the export: a refusal of the hold queue is in its MIB
            leaving.add(net.export(reasm));
            keepRules(net);
        }
        net.exit(handOver);
    }

    /** Leaving for an update: every namespace's routes, sysctls and counters go to the core's holder. */
    @Deactivate
    public void deactivate() {
        leavePath();
        if (!handingOver()) {
            return;
        }
        for (Ipv4Net net : nets.values()) { // namespaces the core did not exit (none when it removed this service first)
            if (!exported.add(net.ns)) {
                continue;
            }
            int reasm = net.defrag.dropForHandOver();
            leavingHeld.addAll(net.input.takeHeld());
            leaving.add(net.export(reasm));
            keepRules(net);
        }
        for (Map.Entry<Integer, InetProtocol> p : protocols.entrySet()) {
            if (p.getValue().handingOver()) {
                waiting.add(p.getKey());
            }
        }
        StringBuilder holding = new StringBuilder();
        for (int n : new java.util.TreeSet<>(waiting)) {
            holding.append(holding.isEmpty() ? "" : ",").append(n);
        }
        String hold = holding.toString();
        Map<String, String> extra = new java.util.HashMap<>(leavingRules);
        if (!hold.isEmpty()) {
            extra.put(HOLD_PROTOCOLS, hold);
        }
        TableState st = new TableState(LAYER, stateVersion, leaving, extra);
        holder.depositHeld(LAYER, leavingHeld); // before the tables: a new version that has the tables finds these too
        holder.deposit(st);
        int routes = 0;
        for (NamespaceState n : st.namespaces()) {
            routes += n.routes().size();
        }
        LOG.info("ipv4: {} routes in {} namespaces handed over (state version {})", routes, st.namespaces().size(), st.version());
    }

    /** A namespace's routing rules go with the deposit (in its extra: the layout of the namespaces' shares stays version 1). */
    private void keepRules(Ipv4Net net) {
        String rules = net.rules.encode();
        if (rules != null) {
            leavingRules.put(RULES + net.ns.name(), rules);
        }
    }

    /** {@code false}: the running version's freeze side is not warmed after its start (the benchmark's comparison only). */
    static final String WARM_FREEZE = "modnet.ipv4.warmfreeze";
    /** How long after its activation a version runs its own freeze side once ({@link WarmFreeze}): after the boot's busy start. */
    static final long WARM_FREEZE_DELAY_NANOS = 2_000_000_000L;

    /**
     * The running version's own freeze side, run once some time after its start and thrown away, as TCP's is
     * ({@code TcpHandOverWarmUp.runFreezeSide}): every namespace's share of a deposit exported ({@link Ipv4Net#export}: its
     * routes walked, sysctls read, MIBs snapshotted), its rules encoded, a {@link TableState} made of them; nothing is
     * deposited, removed or counted. An update's deposit, run for the first time in the JVM between the old packet handler's
     * leaving and the new one's coming with the flood held, then runs classes that are loaded and initialised and call sites
     * that are linked. A class, not a lambda (its class would be spun in the deposit it warms).
     */
    private static final class WarmFreeze implements Runnable {
        private final Ipv4Protocol ipv4;

        WarmFreeze(Ipv4Protocol ipv4) {
            this.ipv4 = ipv4;
        }

        @Override
        public void run() {
            java.util.concurrent.locks.LockSupport.parkNanos(WARM_FREEZE_DELAY_NANOS);
            try {
                ipv4.warmFreeze();
            } catch (RuntimeException e) {
                // a namespace going meanwhile: the warm-up is no more than that
            }
        }
    }

    /** {@link WarmFreeze}'s pass: the deposit's reads and records, of no effect; how many namespaces it exported. */
    int warmFreeze() {
        if (packetReg == null && context != null) {
            return 0; // left already
        }
        List<NamespaceState> all = new java.util.ArrayList<>();
        Map<String, String> extra = new java.util.HashMap<>();
        for (Ipv4Net net : nets.values()) {
            all.add(net.export(0));
            String rules = net.rules.encode();
            if (rules != null) {
                extra.put(RULES + net.ns.name(), rules);
            }
        }
        StringBuilder holding = new StringBuilder();
        for (int n : new java.util.TreeSet<>(waiting)) {
            holding.append(holding.isEmpty() ? "" : ",").append(n);
        }
        extra.put(HOLD_PROTOCOLS, holding.toString());
        TableState st = new TableState(LAYER, stateVersion, all, extra);
        int routes = 0;
        for (NamespaceState n : st.namespaces()) {
            routes += n.routes().size();
        }
        return routes >= 0 ? st.namespaces().size() : 0;
    }

    /** The state of every namespace, as it would be deposited (tests). */
    TableState export() {
        List<NamespaceState> all = new java.util.ArrayList<>();
        for (Ipv4Net net : nets.values()) {
            all.add(net.export(0));
        }
        return new TableState(LAYER, stateVersion, all);
    }

    /** The new version's side: each namespace's state made here before any service of this one is seen. */
    private void adopt(TableState st) {
        if (st.version() != stateVersion || stateVersion != STATE_VERSION) {
            holder.refuse(st, "this ipv4 reads state version " + STATE_VERSION + ", the deposit is version " + st.version());
            for (NamespaceState ns : st.namespaces()) {
                ns.sysctls().keySet().forEach(ns.namespace().sysctl()::unregister); // start from the defaults
            }
            return;
        }
        int routes = 0;
        int lost = 0;
        String hold = st.extra().getOrDefault(HOLD_PROTOCOLS, "");
        for (NamespaceState share : st.namespaces()) {
            Ipv4Net net = nets.computeIfAbsent(share.namespace(), makeNet);
            lost += net.adopt(share);
            routes += share.routes().size();
            String rules = st.extra().get(RULES + share.namespace().name());
            if (rules != null) {
                net.rules.decode(rules); // after the routes: the rules find their tables made
            }
            for (String p : hold.split(",")) {
                if (!p.isBlank()) {
                    net.input.holdFor(Integer.parseInt(p.trim())); // their next versions come after this one
                }
            }
        }
        LOG.info("ipv4: {} routes in {} namespaces adopted, {} not restored (state version {})", routes - lost,
                st.namespaces().size(), lost, st.version());
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addProtocol(InetProtocol protocol, Map<String, Object> props) {
        if (props.get(InetProtocol.PROTOCOL) instanceof Number n) {
            protocols.put(n.intValue(), protocol);
            Ipv4Input[] inputs = new Ipv4Input[nets.size()];
            int i = 0;
            for (Ipv4Net net : nets.values()) { // a loop, not a lambda: no class spun for it inside an update's swap
                if (i == inputs.length) {
                    inputs = java.util.Arrays.copyOf(inputs, i + 1); // a namespace made meanwhile
                }
                inputs[i++] = net.input;
            }
            if (i < inputs.length) {
                inputs = java.util.Arrays.copyOf(inputs, i); // a namespace gone meanwhile
            }
            release(inputs, n.intValue(), protocol, HOLD_TURNS ? HOLD_TURN : Integer.MAX_VALUE);
            protocol.attached(); // what was held for it is delivered: an adopting version starts its clocks
        }
    }

    /**
     * How many held packets each namespace's release delivers in its turn: as TCP's pass remakes connections a batch
     * of each namespace in turn, so the release of one namespace's held segments does not wait for all of another's.
     */
    static final int HOLD_TURN = 32;
    /**
     * Whether the release of what was held for a new version takes the namespaces in turn ({@link #release}); {@code
     * -Dmodnet.ipv4.holdturns=false}: one namespace after the other, as before (the benchmark's comparison only).
     */
    static final boolean HOLD_TURNS = !"false".equals(System.getProperty("modnet.ipv4.holdturns"));

    /**
     * Hands {@code protocol} to every namespace's input: up to {@code turn} held packets of each in turn until every
     * namespace's hold has ended (each ends it under its own lock, see {@link Ipv4Input#releaseTurn}). Loops, not lambdas:
     * their classes would be spun here, inside an update's swap.
     */
    static void release(Ipv4Input[] inputs, int protocol, InetProtocol handler, int turn) {
        boolean[] done = new boolean[inputs.length];
        for (int left = inputs.length; left > 0;) {
            for (int i = 0; i < inputs.length; i++) {
                if (!done[i] && inputs[i].releaseTurn(protocol, handler, turn)) {
                    done[i] = true;
                    left--;
                }
            }
        }
    }

    public void removeProtocol(InetProtocol protocol, Map<String, Object> props) {
        if (props.get(InetProtocol.PROTOCOL) instanceof Number n) {
            protocols.remove(n.intValue(), protocol);
            boolean handOver = protocol.handingOver(); // its next version takes over: hold its packets meanwhile
            if (handOver) {
                waiting.add(n.intValue()); // if this version leaves too, the next one holds them
            }
            for (Ipv4Net net : nets.values()) { // a loop, not a lambda: its class would be spun here, inside the swap
                if (handOver) {
                    net.input.holdFor(n.intValue());
                }
                net.input.removeProtocol(n.intValue(), protocol);
            }
        }
    }

    /**
     * The last hold of TCP's segments during its update, per namespace, in ms from {@code origin} (a nanoTime): how many
     * were held, the first's and the last's arrival, and their release at the new version's registration (its start, end
     * and the count it delivered). For the hand-over benchmark (TcpHandOverIT reads it by reflection).
     */
    public String holdNote(long origin) {
        StringBuilder b = new StringBuilder();
        for (Ipv4Net net : nets.values()) {
            long[] m = net.input.holdMarks();
            if (m[6] == 0 || m[6] < origin) {
                continue; // no hold of protocol 6 since origin in this namespace
            }
            b.append(b.isEmpty() ? "" : "; ").append(net.ns.name()).append(String.format(": hold from %.1f, %d held", (m[6] - origin) / 1e6, m[0]));
            if (m[0] > 0) {
                b.append(String.format(" (first %.1f, last %.1f)", (m[1] - origin) / 1e6, (m[2] - origin) / 1e6));
            }
            if (m[3] != 0) {
                b.append(String.format(", released %d at %.1f-%.1f", m[5], (m[3] - origin) / 1e6, (m[4] - origin) / 1e6));
            } else {
                b.append(", not released");
            }
        }
        return b.isEmpty() ? "no hold of protocol 6" : b.toString();
    }

    /** {@code inet_add_offload}: a transport protocol's part of software segmentation, by its number. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addOffload(org.modnet.api.inet.InetOffload offload, Map<String, Object> props) {
        if (props.get(InetProtocol.PROTOCOL) instanceof Number n) {
            gso.add(n.intValue(), offload);
        }
    }

    public void removeOffload(org.modnet.api.inet.InetOffload offload, Map<String, Object> props) {
        if (props.get(InetProtocol.PROTOCOL) instanceof Number n) {
            gso.remove(n.intValue(), offload);
        }
    }

    /** {@code inet_gso_segment}, offered to the core for ethertype 0x0800 ({@code ip_packet_offload}). */
    @Override
    public int gsoSegment(SkBuff skb, long features, java.util.function.Consumer<SkBuff> out) {
        return gso.segment(skb, features, out);
    }

    /** {@code inet_gro_receive}'s look at a packet alone. */
    @Override
    public int groHeaderLen(SkBuff skb) {
        return gro.headerLen(skb);
    }

    /** {@code inet_gro_receive} against a held flow. */
    @Override
    public int groMatch(SkBuff held, SkBuff skb, int hlen) {
        return gro.match(held, skb, hlen);
    }

    @Override
    public void groMerged(SkBuff held, SkBuff skb) {
        gro.merged(held, skb);
    }

    /** {@code inet_gro_complete}. */
    @Override
    public void groComplete(SkBuff skb) {
        gro.complete(skb);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addHook(org.modnet.api.netfilter.NfHookFunction fn, Map<String, Object> props) {
        org.modnet.api.netfilter.NfHook hook = org.modnet.api.netfilter.NfHook.valueOf(
                String.valueOf(props.get(org.modnet.api.netfilter.NfHookFunction.HOOK)));
        int priority = props.get(org.modnet.api.netfilter.NfHookFunction.PRIORITY) instanceof Number n ? n.intValue() : 0;
        String set = props.get(org.modnet.api.netfilter.NfHookFunction.SET) instanceof String s ? s : null;
        int setSize = props.get(org.modnet.api.netfilter.NfHookFunction.SET_SIZE) instanceof Number n ? n.intValue() : 0;
        // the bundle's id is its identity across an update: a successor replaces only its own predecessor
        hooks.add(hook, priority, fn, set, setSize, props.get("service.bundleid"));
    }

    public void removeHook(org.modnet.api.netfilter.NfHookFunction fn) {
        hooks.remove(fn);
    }

    /** {@code ip_rcv} for a frame of ethertype 0x0800. */
    @Override
    public void receive(SkBuff skb, NetDevice dev) {
        Ipv4Net net = nets.get(dev.namespace());
        if (net == null) {
            dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1); // namespace coming or going
            skb.free();
            return;
        }
        net.input.rcv(skb, dev);
    }

    @Override
    public String mib() {
        return "Ip";
    }

    /** {@code /proc/net/stat/rt_cache}: where martian drops show ({@link Ipv4Net#rtCache}). */
    @Override
    public List<String> read(NetNamespace ns) {
        Ipv4Net net = nets.get(ns);
        return net == null ? null : net.rtCache();
    }

    @Override
    public Map<String, Long> counters(NetNamespace ns) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            return Map.of();
        }
        Map<String, Long> all = new java.util.LinkedHashMap<>(net.mib.snapshot());
        all.putAll(net.icmp.mib.snapshot());
        return all;
    }

    // --- what the transport protocols use (Ipv4) ---

    @Override
    public SkBuff defrag(NetNamespace ns, SkBuff skb, int user) {
        int h = skb.data();
        if (!Ipv4Header.isFragment(skb, h)) {
            return skb; // the one check an unfragmented packet pays
        }
        Ipv4Net net = nets.get(ns);
        return net == null ? skb : net.defrag.add(skb, user);
    }

    @Override
    public void nfReinject(SkBuff skb, org.modnet.api.netfilter.NfHook hook, org.modnet.api.netfilter.NfHookFunction from,
            NetNamespace ns, NetDevice in, NetDevice out) {
        nfReinject(skb, hook, from, ns, in, out, org.modnet.api.netfilter.Verdict.ACCEPT);
    }

    @Override
    public void nfReinject(SkBuff skb, org.modnet.api.netfilter.NfHook hook, org.modnet.api.netfilter.NfHookFunction from,
            NetNamespace ns, NetDevice in, NetDevice out, org.modnet.api.netfilter.Verdict verdict) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            skb.free(); // the namespace's IPv4 went while the packet waited
            return;
        }
        net.reinject(skb, hook, from, in, out, verdict);
    }

    @Override
    public OutputRoute route(NetNamespace ns, int daddr) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            return new OutputRoute(null, 0, Errno.ENETUNREACH);
        }
        Ipv4Output.Decision d = net.output.route(daddr);
        return new OutputRoute(d.dev(), d.src(), d.error());
    }

    @Override
    public OutputRoute route(NetNamespace ns, int daddr, int saddr, int mark) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            return new OutputRoute(null, 0, Errno.ENETUNREACH);
        }
        Ipv4Output.Decision d = net.output.route(daddr, saddr, 0, mark);
        return new OutputRoute(d.dev(), d.src(), d.error());
    }

    @Override
    public int routeFeatures(NetNamespace ns, int daddr, int saddr, int mark) {
        Ipv4Net net = nets.get(ns);
        if (net == null || net.output.isLocal(daddr)) {
            return 0;
        }
        org.modnet.api.inet.RouteEntry r = net.rules.output(daddr, saddr, 0, mark, 0, 0, 0, 0);
        return Ipv4Output.error(r) == null ? r.features() : 0;
    }

    @Override
    public Errno send(NetNamespace ns, SkBuff skb, int saddr, int daddr, int protocol, int ttl, int tos) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            skb.free();
            return Errno.ENETUNREACH;
        }
        return net.output.send(skb, saddr, daddr, protocol, ttl, tos, false);
    }

    @Override
    public Errno send(NetNamespace ns, SkBuff skb, int saddr, int daddr, int protocol, int ttl, int tos,
            boolean dontFragment) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            skb.free();
            return Errno.ENETUNREACH;
        }
        return net.output.send(skb, saddr, daddr, protocol, ttl, tos, dontFragment);
    }

    @Override
    public int pathMtu(NetNamespace ns, int daddr) {
        Ipv4Net net = nets.get(ns);
        return net == null ? 0 : net.output.pathMtu(daddr);
    }

    @Override
    public AddressType addressType(NetNamespace ns, int addr) {
        if (addr == 0) {
            return AddressType.ANY;
        }
        if ((addr >>> 24) == 127) {
            return AddressType.LOCAL;
        }
        if ((addr & 0xf0000000) == 0xe0000000) {
            return AddressType.MULTICAST;
        }
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            return addr == -1 ? AddressType.BROADCAST : AddressType.UNICAST;
        }
        return switch (net.classify(addr, null)) {
            case LOCAL -> AddressType.LOCAL;
            case BROADCAST -> AddressType.BROADCAST;
            default -> AddressType.UNICAST;
        };
    }

    @Override
    public void sendIcmpError(SkBuff skb, int type, int code, int info) {
        Ipv4Net net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
        if (net != null) {
            net.icmp.sendError(skb, type, code, info);
        }
    }

    @Override
    public int[] localPortRange(NetNamespace ns) {
        Ipv4Net net = nets.get(ns);
        return net == null ? new int[] { 32768, 60999 } : net.localPortRange.get();
    }

    @Override
    public boolean forwarding(NetDevice in) {
        Ipv4Net net = nets.get(in.namespace());
        return net != null && net.devconf.get(in, Ipv4DevConf.Key.forwarding) != 0;
    }

    @Override
    public boolean nonlocalBind(NetNamespace ns) {
        Ipv4Net net = nets.get(ns);
        return net != null && net.nonlocalBind.get() != 0;
    }

    @Override
    public boolean reservedPort(NetNamespace ns, int port) {
        Ipv4Net net = nets.get(ns);
        return net != null && net.reservedPorts.reserved(port);
    }

    @Override
    public boolean forwarding(NetNamespace ns) {
        Ipv4Net net = nets.get(ns);
        return net != null && net.ipForward.get() == 1;
    }
}

package org.modnet.tcp;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.handover.BundleUpdates;
import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.module.ModuleUsage;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.net.Errno;
import org.modnet.api.shell.ProcFile;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketProtocol;
import org.modnet.api.handover.LayerState;
import org.modnet.api.handover.LiveHandOver;
import org.modnet.api.handover.SocketState;
import org.modnet.api.handover.TcpConnectionState;
import org.modnet.api.handover.TcpConnectionsInPlace;
import org.modnet.api.handover.TcpDeferredConnections;
import org.modnet.api.handover.TcpLayerState;
import org.modnet.api.handover.TcpListenerState;
import org.modnet.api.handover.TcpNamespaceState;
import org.modnet.api.handover.TcpTimewaitState;
import org.modnet.socket.api.SocketHandOver;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TCP, IP protocol 6 ({@code net/ipv4/tcp_ipv4.c}): {@code tcp_v4_rcv}'s checks on every segment
 * (addressed to this host, length, data offset, checksum; each outcome on the counters Linux moves),
 * then the socket lookup — and, with no socket for the segment, {@code tcp_v4_send_reset}: the RST
 * RFC 9293 3.10.7.1 asks of a CLOSED port, so a peer's {@code connect} fails at once with
 * {@code ECONNREFUSED}. The per-namespace state and the {@code Tcp} and {@code TcpExt} MIBs, as
 * {@code nstat} and {@code netstat -s} show them.
 *
 * <p>Nothing on the receive path allocates: each softirq CPU reads segments through its own header
 * view, and a thread outside a softirq (a loopback sender) through a view of its own.
 */
@Component(service = {}, immediate = true)
public final class TcpProtocol implements InetProtocol, SocketProtocol, PernetOperations, SnmpMib,
        org.modnet.api.inet.InetOffload {
    /** Headroom a segment we build leaves for IPv4 and the link layer ({@link Ipv4#send}'s ask). */
    private static final int HEADROOM = 64;
    /** The ECN bits of the TOS byte: a reply never copies them ({@code INET_ECN_MASK}). */
    private static final int ECN_MASK = 3;
    private static final Logger LOG = LoggerFactory.getLogger(TcpProtocol.class);

    static final String LAYER = "tcp";

    private final NetCore core;
    private final Ipv4 ipv4;
    private final Map<NetNamespace, TcpNet> nets = new ConcurrentHashMap<>();
    /** One header view per softirq CPU; threads outside the softirqs use {@link #threadViews}. */
    private final TcpHeader[] views;
    private final ThreadLocal<TcpHeader> threadViews = new ThreadViews();
    /** The ISN and timestamp keys: the previous version's when it deposited them (set before any namespace is made). */
    private final TcpIsn isn;
    /** The congestion-control algorithms: Reno, then the services bound below. */
    private final CongestionControl cc = new CongestionControl();
    private volatile SocketHandOver holder;
    private final java.util.function.BooleanSupplier predecessorLeaving;
    private final java.util.function.BooleanSupplier updating;
    private final int stateVersion;
    /**
     * Segments inside {@link #receive} now, per softirq CPU (the last slot: threads outside them): a
     * hand-over waits for these to finish ({@code synchronize_net}) before it freezes a socket, so no
     * segment the old version took is left behind. Each CPU writes its own slot: no contention.
     */
    private final java.util.concurrent.atomic.AtomicIntegerArray inReceive;
    /** What the last hand-over did, for the benchmark and the tests: nanoseconds and counts. */
    volatile String lastHandOver = "";
    /**
     * When this instance's hand-over steps began and ended ({@code System.nanoTime}; 0 if not run), for
     * TcpHandOverIT's breakdown of the swap: made, freeze start and end, adopt start and end, attached.
     * Written once per step, never on the packet path.
     */
    private final long[] marks = new long[23];

    /** What the last hand-over of this instance did (its freeze, or its adoption and warm-up), for the benchmark. */
    public String handOverNote() {
        String w = warmedUp;
        String p = prebuilt;
        String note = p.isEmpty() ? lastHandOver : lastHandOver + "; " + p;
        return (w.isEmpty() ? note : note + " (" + w + ")") + swapSteps();
    }

    /**
     * A live hand-over's steps on the swapping thread, in ms: the old version's (its protocol's unregistration and the
     * dispatch of it to IPv4, the socket layer, the core and the SNMP readers; the rest freeze handed to its thread after the
     * deposit) or the new one's (from {@link #take} to the adoption, its namespaces and TIME-WAIT, its listeners, the rest,
     * and the registration's dispatch, in which IPv4 hands over the held segments).
     */
    private String swapSteps() {
        long[] m = marks;
        if (m[11] != 0 && m[12] != 0) {
            return String.format("; live leave: the unregistration's dispatch %.1f ms, the rest freeze handed over %.1f ms after the deposit",
                    (m[12] - m[11]) / 1e6, m[10] == 0 ? -1.0 : (m[10] - m[2]) / 1e6);
        }
        if (m[13] != 0 && m[3] != 0 && m[15] != 0) {
            return String.format("; live take: to the adoption %.1f ms, namespaces and TIME-WAIT %.1f ms, listeners %.1f ms (%d children in"
                    + " their queues; %.1f ms of CPU; %.1f ms in the socket layer's adopted), the rest %.1f ms, the registration's dispatch"
                    + " %.1f ms", (m[3] - m[13]) / 1e6, (m[14] - m[3]) / 1e6, (m[16] - m[14]) / 1e6, m[19], m[18] / 1e6, m[17] / 1e6,
                    (m[4] - m[16]) / 1e6, (m[15] - m[4]) / 1e6);
        }
        return "";
    }

    /**
     * A copy of {@link #marks}: made, freeze start, end, adopt start, end, attached, lazy pass start, end, first segment;
     * then the stopping thread's CPU time (ns) when the freeze began, which the benchmark sets against that thread's when the
     * services left.
     */
    public long[] handOverMarks() {
        return marks.clone();
    }

    /** The thread and namespace of the first segment this version handled ({@code marks[8]}). */
    private volatile String firstSegmentBy = "";
    private volatile String firstSegmentIn = "";

    /**
     * For the hand-over benchmark, in ms from {@code origin} (a nanoTime): the first segment this version handled (when, on
     * which thread, in which namespace) and the first each namespace's connections sent (when, on which thread, its flags
     * and length): whether the new version's first segment waited for its own first send, or for the path between.
     */
    public String firstNote(long origin) {
        StringBuilder b = new StringBuilder();
        if (marks[20] != 0) {
            b.append(String.format("the first wake-up of what was remade %.1f; ", (marks[20] - origin) / 1e6));
        }
        if (marks[8] != 0) {
            b.append(String.format("first segment handled %.1f on %s in %s", (marks[8] - origin) / 1e6, firstSegmentBy, firstSegmentIn));
        }
        for (TcpNet net : nets.values()) {
            if (net.firstSentNanos != 0) {
                b.append(b.isEmpty() ? "" : "; ").append(String.format("%s first sent %.1f on %s (flags 0x%x, %d bytes)", net.ns.name(),
                        (net.firstSentNanos - origin) / 1e6, net.firstSentBy, net.firstSentFlags, net.firstSentLen));
            }
        }
        return b.toString();
    }

    public TcpProtocol(NetCore core, Ipv4 ipv4) {
        this(core, ipv4, null, () -> false, TcpHandOver.STATE_VERSION);
    }

    /**
     * The component: the holder (the socket layer's {@link SocketHandOver}, bound dynamically below, so
     * an update of the socket layer does not take TCP down with it) keeps the connections across an
     * update of this bundle; the bundle's {@value BundleUpdates#STATE_VERSION_HEADER} header says which state layout
     * it writes and reads. The deposit is taken in {@link #activate}, once the holder is bound.
     */
    @Activate
    public TcpProtocol(@Reference NetCore core, @Reference Ipv4 ipv4, BundleContext context) {
        this(core, ipv4, null, new Asks(context, Asks.BEING_UPDATED), BundleUpdates.stateVersion(context.getBundle(), TcpHandOver.STATE_VERSION),
                new Asks(context, Asks.PREDECESSOR_STOPPING), new Asks(context, Asks.SUCCESSOR_TAKES_DEFERRED));
        this.firstAskWaitNanos = Long.getLong(FIRST_ASK_WAIT_PROPERTY, 250) * 1_000_000;
        this.context = context;
        this.standby = Live.runningVersionLeavesLive(context);
        this.warmFreezeAfterMs = Boolean.parseBoolean(System.getProperty(WARM_FREEZE_PROPERTY, "true")) ? WARM_FREEZE_AFTER_MS : -1;
    }

    /*
     * Classes, not lambdas, on the way from a new version's start in standby to its preparation (the constructor, the namespaces'
     * state): each lambda's class is spun at the first run of its call site, and a new version's call sites are all new (0.5-1 ms
     * each, one after another on the update command's thread, task upd15f). The update's warm-up thread loads these classes
     * beside the start: they are the component's nested classes.
     */

    /**
     * The component's questions about its bundle and its neighbours: an update under way, the old version stopping (yes or no),
     * which connections handed over in place the next version takes ({@link #successorTakesDeferred}'s form).
     */
    private static final class Asks implements java.util.function.BooleanSupplier, java.util.function.IntSupplier {
        static final int BEING_UPDATED = 0;
        static final int PREDECESSOR_STOPPING = 1;
        static final int SUCCESSOR_TAKES_DEFERRED = 2;
        private final BundleContext context;
        private final int what;

        Asks(BundleContext context, int what) {
            this.context = context;
            this.what = what;
        }

        @Override
        public boolean getAsBoolean() {
            return what == BEING_UPDATED ? BundleUpdates.beingUpdated(context) : BundleUpdates.predecessorStopping(context);
        }

        @Override
        public int getAsInt() {
            return successorTakesDeferred(context);
        }
    }

    /** A thread's own header view, for a thread outside the softirqs. */
    private static final class ThreadViews extends ThreadLocal<TcpHeader> {
        @Override
        protected TcpHeader initialValue() {
            return new TcpHeader();
        }
    }

    /** The core's clock, for the ISN's and the namespaces' timers. */
    static final class CoreClock implements java.util.function.LongSupplier {
        private final NetCore core;

        CoreClock(NetCore core) {
            this.core = core;
        }

        @Override
        public long getAsLong() {
            return core.nanoTime();
        }
    }

    /** The component's pass over the connections left for later: a thread of its own. */
    private static final class AdoptThreads implements java.util.concurrent.Executor {
        @Override
        public void execute(Runnable r) {
            Thread.ofPlatform().daemon().name("tcp-adopt").start(r);
        }
    }

    /** Whether {@link #take} has come: {@link #prepare} stops making namespaces. */
    private static final class Taking implements java.util.function.BooleanSupplier {
        private final TcpProtocol tcp;

        Taking(TcpProtocol tcp) {
            this.tcp = tcp;
        }

        @Override
        public boolean getAsBoolean() {
            return tcp.taking;
        }
    }

    /** A namespace's TCP state, made at its first use. */
    private static final class MakeNet implements java.util.function.Function<NetNamespace, TcpNet> {
        private final TcpProtocol tcp;

        MakeNet(TcpProtocol tcp) {
            this.tcp = tcp;
        }

        @Override
        public TcpNet apply(NetNamespace ns) {
            return new TcpNet(ns, tcp.core, tcp.ipv4, tcp.isn, tcp.cc);
        }
    }

    private final MakeNet makeNet = new MakeNet(this);

    /** {@code -Dmodnet.tcp.warmfreeze=false} leaves the freeze's code cold until an update (the benchmark's comparison). */
    static final String WARM_FREEZE_PROPERTY = "modnet.tcp.warmfreeze";
    /**
     * How long after its activation a version that adopted connections warms its freeze: past its own adoption's pass and
     * start-up, which the warm-up would compete with for the cores. A version that adopted nothing warms at once.
     */
    static final long WARM_FREEZE_AFTER_MS = 2_000;
    /**
     * {@code -Dmodnet.tcp.warmfreeze.after.ms=N}: a version that adopted nothing waits N ms too (before task gc15 every version
     * waited {@value #WARM_FREEZE_AFTER_MS} ms, which put the warm-up next to the benchmark's update: the benchmark's A/B).
     */
    static final String WARM_FREEZE_AFTER_PROPERTY = "modnet.tcp.warmfreeze.after.ms";
    /** {@code -Dmodnet.tcp.warmfreeze.freezes=N}: the warm-up's scratch freezes (16,000 before task gc15: the benchmark's A/B). */
    static final String WARM_FREEZES_PROPERTY = "modnet.tcp.warmfreeze.freezes";
    /** When {@link #warmFreeze} runs after the activation, in ms; -1 (the tests' wiring) never. */
    private long warmFreezeAfterMs = -1;
    /** Set first thing in {@link #deactivate}: {@link #warmFreeze} stops. */
    private volatile boolean gone;
    /** What {@link #warmFreeze} did, for the benchmark; empty until it ran. */
    volatile String warmedFreeze = "";

    /**
     * Once, on a thread of its own: this version's freeze code runs on scratch objects ({@link
     * TcpHandOverWarmUp#runFreezeSide}: a scratch namespace's tables walked as a live hand-over walks them, its connections
     * frozen as the next version's asks freeze them) until the JIT has compiled it, so that the walk over every connection
     * when an update comes (with their segments held) and the freezes after it do not start in the interpreter. Needing no
     * real connection, it runs at once when this version started afresh: done in a few hundred ms, before the connections an
     * update will carry exist, never beside the update (the benchmark's update came ~2 s after the activation, where this
     * warm-up ran when it waited {@value #WARM_FREEZE_AFTER_MS} ms: cut short, or competing with the update for the two
     * cores). A version that adopted connections waits {@value #WARM_FREEZE_AFTER_MS} ms, past its pass. Stops as soon as
     * an update of this module begins (a bundle of its symbolic name installed: {@link UpdateWatch}) or this version leaves.
     * The thread then stays, parked, for the freeze of the connections a live hand-over leaves in place ({@link RestFreeze}):
     * started inside the swap, a thread costs the swapping thread the wait for it to come alive (a thread at nice 0 on cores
     * the packet threads keep busy: 0.5-7 ms in the benchmark's runs).
     */
    private void warmFreeze() {
        long after = marks[3] != 0 ? warmFreezeAfterMs : Long.getLong(WARM_FREEZE_AFTER_PROPERTY, 0);
        if (warmFreezeAfterMs < 0) {
            return;
        }
        Thread.ofPlatform().daemon().name("tcp-warm-freeze").start(() -> {
            restWaiter = Thread.currentThread();
            // synchronize_net's read of the receive counts: the packet path only adds to them, so this read's VarHandle access is
            // linked at its first call, in a JVM's first update's leave with the segments held (a sample of the swap thread caught
            // it there, task adopt15h); linked now, on this thread, at the activation
            inReceive.get(0);
            UpdateWatch update = UpdateWatch.start(this);
            try {
                warmFreeze(after, update);
            } finally {
                update.close();
            }
            awaitRestJob();
        });
    }

    /** {@link #warmFreeze}'s warm-up on its thread: the wait, then the classes, the walks and the freezes. */
    private void warmFreeze(long after, UpdateWatch update) {
        try {
            long until = System.nanoTime() + after * 1_000_000;
            while (!update.getAsBoolean() && restJob == null && !retired && System.nanoTime() - until < 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(this, 50_000_000);
            }
            if (update.getAsBoolean() || restJob != null || retired) {
                warmedFreeze = "freeze not warmed: an update came first";
                return; // left (or going) before the warm-up: no warm-up, then the rest freeze if any
            }
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long cpu = mx.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            marks[21] = start;
            // the classes a live hand-over's leave makes, loaded now rather than in its frozen window
            new FreezeOnAsk(this).getClass();
            new RestFreeze(this, null, null, 0).getClass();
            new InPlaceTable(this, false).getClass();
            // and every other class of this jar and of the hand-over API: the freeze of a real namespace meets some the scratch
            // one does not (a listener's children, out-of-order segments), each a jar read and a definition inside the swap
            int classes = Live.preload(context);
            int[] n = TcpHandOverWarmUp.runFreezeSide(core, ipv4, Integer.getInteger(WARM_FREEZES_PROPERTY, TcpHandOverWarmUp.FREEZES),
                    TcpHandOverWarmUp.WALKS, update);
            marks[22] = System.nanoTime();
            warmedFreeze = String.format("freeze warmed on %d scratch freezes and %d scratch walks (%d classes loaded first) in %.1f ms,"
                    + " %.1f ms of CPU, from %.1f ms after the activation%s", n[0], n[1], classes, (marks[22] - start) / 1e6,
                    (mx.getCurrentThreadCpuTime() - cpu) / 1e6, (start - marks[15]) / 1e6, update.getAsBoolean() ? ", cut short by an update" : "");
        } catch (RuntimeException e) {
            warmedFreeze = "freeze warm-up failed: " + e;
            LOG.warn("tcp: the freeze's warm-up failed (an update freezes cold): {}", e.toString());
        }
    }

    /**
     * Whether an update of this module has begun, for {@link #warmFreeze}: another bundle of its symbolic name was installed
     * (the shell's staged {@code update} installs the new jar beside the running one first, some ms before anything stops), or
     * this version is leaving. A synchronous listener: told on the installing thread, before the update's next step.
     */
    private static final class UpdateWatch implements org.osgi.framework.SynchronousBundleListener, java.util.function.BooleanSupplier,
            AutoCloseable {
        private final TcpProtocol tcp;
        private final String name;
        private volatile boolean began;

        private UpdateWatch(TcpProtocol tcp) {
            this.tcp = tcp;
            this.name = tcp.context.getBundle().getSymbolicName();
        }

        static UpdateWatch start(TcpProtocol tcp) {
            UpdateWatch w = new UpdateWatch(tcp);
            try {
                tcp.context.addBundleListener(w);
            } catch (IllegalStateException e) {
                w.began = true; // the bundle is stopping already
            }
            return w;
        }

        @Override
        public void bundleChanged(org.osgi.framework.BundleEvent ev) {
            if (ev.getType() == org.osgi.framework.BundleEvent.INSTALLED && name.equals(ev.getBundle().getSymbolicName())
                    && ev.getBundle().getBundleId() != tcp.context.getBundle().getBundleId()) {
                began = true;
            }
        }

        @Override
        public boolean getAsBoolean() {
            return began || tcp.gone || tcp.leavingLive;
        }

        @Override
        public void close() {
            try {
                tcp.context.removeBundleListener(this);
            } catch (IllegalStateException e) {
                // the bundle stopped: its listeners went with it
            }
        }
    }

    /** The thread {@link #warmFreeze} started, waiting for {@link #restJob} once its warm-up is done; null if none. */
    private volatile Thread restWaiter;
    /** The rest freeze a live hand-over gives {@link #restWaiter}. */
    private volatile Runnable restJob;
    /** Set by {@link #deactivate}: {@link #restWaiter} waits no more. */
    private volatile boolean retired;

    /** On {@link #restWaiter}: runs the rest freeze when a live hand-over gives it; returns at once when this version retires. */
    private void awaitRestJob() {
        while (true) {
            Runnable job = restJob;
            if (job != null) {
                job.run();
                return;
            }
            if (retired) {
                return;
            }
            java.util.concurrent.locks.LockSupport.park(this);
        }
    }

    /**
     * The rest freeze on {@link #restWaiter} if it waits (one write and an unpark), else on a thread started for it; the
     * thread {@link #awaitRestFreeze} joins.
     */
    private Thread startRestFreeze(Runnable job) {
        Thread w = restWaiter;
        if (w != null && w.isAlive() && !retired) {
            restJob = job;
            java.util.concurrent.locks.LockSupport.unpark(w);
            return w;
        }
        return Thread.ofPlatform().daemon().name("tcp-freeze-rest").start(job);
    }

    TcpProtocol(NetCore core, Ipv4 ipv4, SocketHandOver holder, java.util.function.BooleanSupplier updating,
            int stateVersion) {
        this(core, ipv4, holder, updating, stateVersion, () -> false);
    }

    /**
     * With a holder given (the tests' wiring), adopts what the previous version deposited at once;
     * the component adopts in {@link #activate}.
     */
    TcpProtocol(NetCore core, Ipv4 ipv4, SocketHandOver holder, java.util.function.BooleanSupplier updating,
            int stateVersion, java.util.function.BooleanSupplier predecessorLeaving) {
        this(core, ipv4, holder, updating, stateVersion, predecessorLeaving, () -> IN_PLACE_RELEASED);
    }

    /** As above; {@code successorDefers} says which connections handed over in place the next version takes ({@link #successorReads}). */
    TcpProtocol(NetCore core, Ipv4 ipv4, SocketHandOver holder, java.util.function.BooleanSupplier updating,
            int stateVersion, java.util.function.BooleanSupplier predecessorLeaving, java.util.function.IntSupplier successorDefers) {
        marks[0] = System.nanoTime();
        this.successorDefers = successorDefers;
        this.core = core;
        this.ipv4 = ipv4;
        this.updating = updating;
        this.stateVersion = stateVersion;
        this.predecessorLeaving = predecessorLeaving;
        this.views = new TcpHeader[core.cpus()];
        for (int i = 0; i < views.length; i++) {
            views[i] = new TcpHeader();
        }
        this.inReceive = new java.util.concurrent.atomic.AtomicIntegerArray((core.cpus() + 1) * 16); // a cache line each
        this.isn = new TcpIsn(new CoreClock(core));
        // the pass that remakes the connections left for later: on a thread of its own for the component,
        // so IPv4's registration goes on; in the tests' wiring (a holder given) at once, on virtual time
        this.lazyPass = holder != null ? Runnable::run
                : new AdoptThreads();
        this.earlyRemake = holder != null ? 0 : Integer.getInteger(EARLY_REMAKE_PROPERTY, 2); // the tests' wiring: see earlyRemake(int)
        if (holder != null) {
            this.holder = holder;
            takeOver(holder);
        }
    }

    /**
     * DS: after the constructor and the holder's bind. The protocol's services are registered here, by this
     * component, once it has adopted what its previous version deposited; in standby (a running version of
     * this layer offers a live hand-over: the shell's {@code update} started this one beside it) only this
     * version's {@link LiveHandOver}: the rest waits for {@link #take}.
     */
    @Activate
    void activate() {
        if (!standby) {
            SocketHandOver h = holder;
            if (h != null) {
                takeOver(h);
            }
            startServing();
        }
        Live.register(this);
    }

    /** After the adoption: the freeze's warm-up, then the protocol's services and {@code /proc/net/tcp} and lsmod's count. */
    private void startServing() {
        registerProtocol();
        marks[15] = System.nanoTime();
        // here, not later (after IPv4's attach): the previous version's /proc/net/tcp may leave before that,
        // and a reader would find none between the two
        registerUsers();
        warmFreeze(); // after the registration: its thread is not on the way to the first segment
    }

    /**
     * A running version of this layer offers a live hand-over ({@link LiveHandOver}) and this one was started beside it: no
     * service of the protocol is registered until {@link #take}.
     */
    private boolean standby;
    /** The protocol's own registration (every interface of the component's, with IPv4's and the socket layer's properties). */
    private ServiceRegistration<?> protocolRegistration;
    /** This version's {@link LiveHandOver}, registered by {@link #activate}. */
    private ServiceRegistration<?> liveRegistration;
    /** Set by {@link #leaveLive}: this version hands over with its bundle still active (see {@link #handingOver}). */
    private volatile boolean leavingLive;
    /** {@link #leaveLive} deposited the state: the deactivation hands nothing over. */
    private volatile boolean handedOver;
    /** The freeze of the connections deposited in place after a live hand-over: the deactivation waits for it. */
    private volatile Thread restFreeze;
    /** Set by {@link #take}: {@link #prepare}'s warm-up stops. */
    private volatile boolean taking;

    /**
     * The protocol's services, as SCR registered them before: one registration with every interface, so IPv4 (protocol 6),
     * the socket layer (AF_INET, SOCK_STREAM), the core (its per-namespace operations) and the SNMP readers see one service
     * arrive and one leave. The component registers it itself so that a live hand-over ({@link #leaveLive}) can take it away
     * with the bundle still active, and a version in standby registers it only once it has adopted.
     */
    private void registerProtocol() {
        BundleContext c = context;
        if (c == null) {
            return;
        }
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(InetProtocol.PROTOCOL, 6);
        props.put(SocketProtocol.FAMILY, 2);
        props.put(SocketProtocol.TYPE, 1);
        props.put(SocketProtocol.PROTOCOL, 6);
        props.put(SocketProtocol.DEFAULT, Boolean.TRUE);
        props.put(PernetOperations.ORDER, 20);
        synchronized (users) {
            if (gone || protocolRegistration != null) {
                return;
            }
        }
        // outside the lock: IPv4 hands this version its held segments inside the registration's dispatch
        ServiceRegistration<?> r;
        try {
            r = c.registerService(new String[] { InetProtocol.class.getName(), SocketProtocol.class.getName(),
                    PernetOperations.class.getName(), SnmpMib.class.getName(), TcpProtocol.class.getName(),
                    org.modnet.api.inet.InetOffload.class.getName() }, this, props);
        } catch (IllegalStateException stopping) {
            return; // the bundle stopped under the registration
        }
        boolean late;
        synchronized (users) {
            late = gone;
            if (!late) {
                protocolRegistration = r;
            }
        }
        if (late) { // deactivated during the registration: it goes again
            try {
                r.unregister();
            } catch (IllegalStateException stopped) {
                // gone with the bundle
            }
        }
    }

    /** The protocol's registration goes first: its users hold its segments and park its sockets when this version hands over. */
    private void unregisterProtocol() {
        ServiceRegistration<?> r;
        synchronized (users) {
            r = protocolRegistration;
            protocolRegistration = null;
        }
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException gone) {
                // the bundle's stop took it already
            }
        }
    }

    /**
     * {@value #PREPARE_WARM_UP_PROPERTY}{@code =true}: {@link #prepare} also runs the adoption's code on scratch sockets. Off by
     * default: a version in standby has loaded and linked most of it in its activation already, and in the benchmark's runs
     * the warm-up cost more time before the swap (45-185 ms at load 10-15) than the adoption it shortened.
     */
    static final String PREPARE_WARM_UP_PROPERTY = "modnet.tcp.prepare.warmup";

    /**
     * {@link LiveHandOver#prepare}, in standby: every namespace's state made (and with {@link #PREPARE_WARM_UP_PROPERTY} the
     * adoption's code run on scratch sockets, {@link TcpHandOverWarmUp}) before the running version leaves; stops early if
     * {@link #take} comes.
     */
    void prepare() {
        long start = System.nanoTime();
        prebuildNets(new Taking(this));
        long made = System.nanoTime();
        String listener = warmListener();
        if (!Boolean.getBoolean(PREPARE_WARM_UP_PROPERTY)) {
            warmedUp = String.format("prepared in standby: namespaces in %.1f ms%s", (made - start) / 1e6, listener);
            return;
        }
        double nets = (made - start) / 1e6;
        made = System.nanoTime();
        try {
            int n = TcpHandOverWarmUp.run(core, ipv4, TcpHandOverWarmUp.SOCKETS, () -> taking);
            warmedUp = String.format("prepared in standby: namespaces in %.1f ms%s, warmed up on %d scratch sockets in %.1f ms", nets, listener,
                    n, (System.nanoTime() - made) / 1e6);
        } catch (RuntimeException e) {
            warmedUp = "warm-up failed: " + e;
            LOG.warn("tcp: hand-over warm-up failed (the adoption runs cold): {}", e.toString());
        }
    }

    /**
     * {@code -Dmodnet.tcp.prepare.listener=true} runs {@link #warmListener} in the preparation; off by default. The listeners'
     * remake was the swap's step that varied most under 1,000 connections: 1.4-18.6 ms, once 112.2 ms of which 109.0 ms the swap
     * thread's CPU (task adopt15h, BENCHMARKS.md): the version's first sockets are made there, and the port's inheritance
     * linked its lambda there (a sample of the swap thread caught it in {@code linkMethodHandleConstant}). Made in the
     * preparation, those first sockets meet the new jar's classes while the update's thread is loading them beside it, and
     * Felix's parallel class loader has a thread that wants a class another is defining spin on the CPU until it is
     * ({@code BundleWiringImpl$BundleClassLoader.defineClassParallel}): the scratch remakes then took 40-276 ms of CPU, every
     * sample in that loop; after that thread, 1.5-2.2 ms, but waiting for it cost the update more than the swap gained.
     */
    static final String PREPARE_LISTENER_PROPERTY = "modnet.tcp.prepare.listener";

    /**
     * In {@link #prepare}: a scratch listener and a scratch connection remade as the adoption remakes them ({@link
     * TcpHandOverWarmUp#adoption}), so that the swap's remake of the real listeners and the first segments' remakes of their
     * connections run initialised classes and linked call sites; what it took, for the report.
     */
    private String warmListener() {
        if (!Boolean.getBoolean(PREPARE_LISTENER_PROPERTY)) {
            return "";
        }
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu = mx.getCurrentThreadCpuTime();
        long t = System.nanoTime();
        try {
            boolean ok = TcpHandOverWarmUp.adoption(core, ipv4);
            return String.format(", a scratch listener and connection remade%s in %.1f ms (%.1f ms of CPU)", ok ? "" : " (not as expected)", (System.nanoTime() - t) / 1e6,
                    (mx.getCurrentThreadCpuTime() - cpu) / 1e6);
        } catch (RuntimeException e) {
            LOG.warn("tcp: the scratch remakes failed (the adoption remakes its listeners cold): {}", e.toString());
            return ", the scratch remakes failed: " + e;
        }
    }

    /**
     * {@link LiveHandOver#leave}: the running version leaves with its bundle still active: its protocol's service goes (IPv4
     * holds protocol 6's segments, the socket layer parks its sockets: {@link #handingOver} says so), then every
     * connection is frozen and deposited as a stop for an update would; the connections deposited in place are frozen on a
     * thread of their own once the next version has asked for its first one. The bundle's stop then hands nothing over.
     */
    void leaveLive() {
        marks[11] = System.nanoTime();
        leavingLive = true;
        unregisterProtocol();
        marks[12] = System.nanoTime();
        leave(true);
        handedOver = true;
    }

    /** {@link LiveHandOver#take}: the next version adopts what {@link #leaveLive} deposited and registers its services. */
    void take() {
        marks[13] = System.nanoTime();
        taking = true;
        synchronized (users) {
            if (!standby || gone) {
                return; // took over in its activation already, or stopped
            }
            standby = false;
        }
        SocketHandOver h = holder;
        if (h != null) {
            takeOver(h, h.take(LAYER)); // no wait, and no lambda of awaitDeposit's to link on the way
        }
        startServing();
    }

    /**
     * The OSGi side of the live hand-over, apart: its handlers name OSGi types, which the verifier would otherwise load with
     * TcpProtocol, and the stacks built without OSGi have no framework on their class path (see {@link ProcRanking}).
     */
    private static final class Live implements LiveHandOver {
        private final TcpProtocol tcp;

        Live(TcpProtocol tcp) {
            this.tcp = tcp;
        }

        @Override
        public void prepare() {
            tcp.prepare();
        }

        @Override
        public void leave() {
            tcp.leaveLive();
        }

        @Override
        public void take() {
            tcp.take();
        }

        /** Every class of this bundle's jar and of the hand-over API package loaded and initialised; how many. */
        static int preload(BundleContext c) {
            if (c == null) {
                return 0;
            }
            int n = load(c.getBundle(), "org/modnet/tcp");
            Bundle api = org.osgi.framework.FrameworkUtil.getBundle(TcpConnectionState.class);
            return api == null ? n : n + load(api, "org/modnet/api/handover");
        }

        private static int load(Bundle b, String path) {
            java.util.Enumeration<java.net.URL> entries;
            try {
                entries = b.findEntries(path, "*.class", false);
            } catch (IllegalStateException gone) {
                return 0;
            }
            int n = 0;
            while (entries != null && entries.hasMoreElements()) {
                String p = entries.nextElement().getPath();
                String name = p.substring(p.startsWith("/") ? 1 : 0, p.length() - ".class".length()).replace('/', '.');
                if (name.endsWith("package-info")) {
                    continue;
                }
                try {
                    Class<?> k = b.loadClass(name);
                    Class.forName(name, true, k.getClassLoader());
                    n++;
                } catch (ClassNotFoundException | LinkageError | IllegalStateException | SecurityException e) {
                    // loaded at first use, as before
                }
            }
            return n;
        }

        static void register(TcpProtocol tcp) {
            BundleContext c = tcp.context;
            if (c == null) {
                return;
            }
            synchronized (tcp.users) {
                if (tcp.gone) {
                    return;
                }
                try {
                    tcp.liveRegistration = c.registerService(LiveHandOver.class, new Live(tcp),
                            new Hashtable<>(Map.of(LiveHandOver.LAYER, LAYER)));
                } catch (IllegalStateException stopping) {
                    // the bundle stopped under the registration
                }
            }
        }

        static void unregister(TcpProtocol tcp) {
            ServiceRegistration<?> r;
            synchronized (tcp.users) {
                r = tcp.liveRegistration;
                tcp.liveRegistration = null;
            }
            if (r != null) {
                try {
                    r.unregister();
                } catch (IllegalStateException gone) {
                    // the bundle's stop took it already
                }
            }
        }

        /**
         * Another bundle of this one's name is active and offers a live hand-over of TCP: this version was started beside
         * it (the shell's {@code update}) and stands by. False without a context (the tests' wiring).
         */
        static boolean runningVersionLeavesLive(BundleContext c) {
            if (c == null) {
                return false;
            }
            try {
                Bundle me = c.getBundle();
                ServiceReference<?>[] refs = c.getServiceReferences(LiveHandOver.class.getName(), "(" + LiveHandOver.LAYER + "=" + LAYER + ")");
                if (refs != null) {
                    for (ServiceReference<?> r : refs) {
                        Bundle b = r.getBundle();
                        if (b != null && b != me && me.getSymbolicName().equals(b.getSymbolicName()) && b.getState() == Bundle.ACTIVE) {
                            return true;
                        }
                    }
                }
                return false;
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalStateException(e); // a constant filter
            } catch (IllegalStateException e) {
                return false; // the context is no longer valid
            }
        }
    }

    /** The bundle's context (the component's wiring; null in the tests'): {@link #registerUsers}. */
    private BundleContext context;
    /** {@code /proc/net/tcp} and lsmod's count, registered by {@link #registerUsers}. */
    private final List<ServiceRegistration<?>> users = new ArrayList<>();

    /**
     * {@code /proc/net/tcp} ({@link ProcNetTcp}) and the module's users for lsmod ({@link TcpModuleUsage}),
     * registered by this component itself, not as components of their own: SCR disposes a stopping
     * bundle's components one after the other in its {@code Service-Component} order, which bnd writes
     * by class name, so these two (each a service to unregister, a component to deactivate) went before
     * the protocol on every update, on the hand-over's path; now they go at the end of {@link #deactivate},
     * after the deposit, beside the next version's adoption.
     */
    private void registerUsers() {
        BundleContext c = context;
        if (c == null) {
            return;
        }
        synchronized (users) {
            if (gone) {
                return; // deactivated already
            }
            try {
                // ranked above the previous version's, which stays registered until its stop ends: a reader
                // of /proc/net/tcp (the shell takes the best-ranked file of a path) sees this version's only,
                // the one whose sockets these are since its adoption, and the previous one's until then
                users.add(c.registerService(ProcFile.class, new ProcNetTcp(this), new Hashtable<>(Map.of(ProcFile.PATH, PROC_NET_TCP,
                        org.osgi.framework.Constants.SERVICE_RANKING, ProcRanking.next(c)))));
                users.add(c.registerService(ModuleUsage.class, new TcpModuleUsage(this), null));
            } catch (IllegalStateException stopping) {
                // the bundle stopped under the late registration: nothing to show
            }
        }
    }

    static final String PROC_NET_TCP = "/proc/net/tcp";

    /**
     * One above the highest ranking of a {@code /proc/net/tcp} registered now (a previous version's), else 0.
     * A class of its own: its handler names {@code InvalidSyntaxException}, which the verifier would otherwise
     * load with TcpProtocol, and the stacks built without OSGi (packetdrill's testbed, the benchmarks, the
     * fuzzers) have no OSGi framework on their class path.
     */
    private static final class ProcRanking {
        static int next(BundleContext c) {
            int top = -1;
            try {
                for (ServiceReference<ProcFile> r : c.getServiceReferences(ProcFile.class, "(" + ProcFile.PATH + "=" + PROC_NET_TCP + ")")) {
                    top = Math.max(top, r.getProperty(org.osgi.framework.Constants.SERVICE_RANKING) instanceof Integer i ? i : 0);
                }
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalStateException(e);
            }
            return top == Integer.MAX_VALUE ? top : top + 1;
        }
    }

    private void unregisterUsers() {
        synchronized (users) {
            for (ServiceRegistration<?> r : users) {
                try {
                    r.unregister();
                } catch (IllegalStateException gone) {
                    // the bundle's stop took it already
                }
            }
            users.clear();
        }
    }

    /**
     * The socket layer's hand-over holder, dynamic and greedy: when the socket layer is updated, its old
     * version's holder leaves and its next one arrives while TCP stays (its sockets are not parked: they
     * go to the next socket layer with its tables); it is asked only on TCP's own update.
     */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unsetHolder")
    void setHolder(SocketHandOver h) {
        holder = h;
    }

    void unsetHolder(SocketHandOver h) {
        synchronized (this) {
            if (holder == h) {
                holder = null;
            }
        }
    }

    /**
     * Adopts what the previous version deposited, if any, before any segment or call reaches this one:
     * the secrets first (ISNs continue), then every namespace's sockets.
     */
    private void takeOver(SocketHandOver holder) {
        takeOver(holder, awaitDeposit(holder, predecessorLeaving, this::warmUp));
    }

    /** As above, with the deposit taken ({@link #take}: it is there, its predecessor has left). */
    private void takeOver(SocketHandOver holder, LayerState sockets) {
        TcpLayerState tcp = sockets == null ? null : holder.takeDetail(LAYER) instanceof TcpLayerState t ? t : null;
        boolean readable = sockets != null && tcp != null && sockets.version() == TcpHandOver.STATE_VERSION
                && tcp.version() == TcpHandOver.STATE_VERSION && stateVersion == TcpHandOver.STATE_VERSION;
        TcpNamespaceState first = readable && !tcp.namespaces().isEmpty() ? tcp.namespaces().get(0) : null;
        if (first != null) { // the namespaces made before the deposit hold this very TcpIsn: they see the keys too
            isn.adoptKeys(first.isnKey0(), first.isnKey1(), first.tsKey0(), first.tsKey1());
        }
        TcpDeferredConnections inPlace = sockets != null && holder.takeDetail(DEFERRED) instanceof TcpDeferredConnections d ? d : null;
        TcpConnectionsInPlace table = sockets != null && holder.takeDetail(IN_PLACE) instanceof TcpConnectionsInPlace t ? t : null;
        if (sockets != null) {
            if (readable) {
                adopt(sockets, tcp, inPlace, table);
            } else {
                holder.refuse(sockets, "this tcp reads state version " + TcpHandOver.STATE_VERSION + ", the deposit is version "
                        + sockets.version() + (tcp == null ? " without its connections" : ""));
                if (table != null) { // their descriptors, which the deposit's sockets do not list, are closed too
                    holder.finished(new LayerState(sockets.layer(), sockets.version(), table.table().connections(), Map.of()));
                    table.table().release();
                }
            }
        }
    }

    /**
     * A version started beside its predecessor's stop makes its per-namespace state (the hash tables,
     * the sysctls, the MIB, the timewait death row) for every namespace there is while that predecessor
     * freezes, so that the adoption, once the deposit comes, only copies the state in. The keys the
     * deposit carries are set into the {@link TcpIsn} these namespaces share; the syncookie keys and the
     * counters by {@link TcpHandOver#adopt(TcpNet, TcpNamespaceState)}. A namespace made for nothing
     * (no state came for it) is what {@link #init} would have made.
     */
    private void prebuildNets(java.util.function.BooleanSupplier over) {
        long start = System.nanoTime();
        int made = 0;
        for (NetNamespace ns : core.namespaces()) {
            if (over.getAsBoolean()) {
                break; // the deposit came: the adoption makes the rest, as it would have made them all
            }
            net(ns, true); // the adoption's own net(ns, true) waits for one being made here
            made++;
        }
        prebuilt = String.format("%d namespaces made before the deposit in %.1f ms", made, (System.nanoTime() - start) / 1e6);
    }

    /** What {@link #prebuildNets} did, for the benchmark; empty when it did not run. */
    private volatile String prebuilt = "";

    /** How long a new version started beside its predecessor's stop waits for that predecessor's deposit. */
    static final long DEPOSIT_WAIT_NANOS = 10_000_000_000L;

    /**
     * The previous version's deposit ({@link BundleUpdates#awaitDeposit}): at once when it is there; when
     * the previous version is still stopping (a staged update starts this version beside that stop, see
     * the shell's {@code update}), waited for while it freezes. Null when nothing was or will be deposited.
     */
    static LayerState awaitDeposit(SocketHandOver holder, java.util.function.BooleanSupplier predecessorLeaving) {
        return awaitDeposit(holder, predecessorLeaving, came -> { });
    }

    /** As above; {@code meanwhile} starts the warm-up beside the wait (see {@link BundleUpdates#awaitDeposit}). */
    static LayerState awaitDeposit(SocketHandOver holder, java.util.function.BooleanSupplier predecessorLeaving,
            java.util.function.Consumer<java.util.function.BooleanSupplier> meanwhile) {
        return BundleUpdates.awaitDeposit(() -> holder.take(LAYER), predecessorLeaving, DEPOSIT_WAIT_NANOS, meanwhile);
    }

    /**
     * While the previous version freezes: this version's namespaces are made ({@link #prebuildNets}), then its
     * freeze and adoption code runs on scratch
     * sockets ({@link TcpHandOverWarmUp}) on a thread of its own, until the deposit comes, so the
     * adoption that follows runs linked code and never waits for the warm-up. A failure here costs
     * only the warm-up.
     */
    private void warmUp(java.util.function.BooleanSupplier over) {
        Thread.ofPlatform().daemon().name("tcp-hand-over-warm-up").start(() -> {
            prebuildNets(over); // first: what the adoption needs; the warm-up only makes it faster
            long start = System.nanoTime();
            try {
                int n = TcpHandOverWarmUp.run(core, ipv4, TcpHandOverWarmUp.SOCKETS, over);
                warmedUp = String.format("warmed up on %d scratch sockets in %.1f ms beside the previous version's freeze", n,
                        (System.nanoTime() - start) / 1e6);
            } catch (RuntimeException e) {
                warmedUp = "warm-up failed: " + e;
                LOG.warn("tcp: hand-over warm-up failed (the adoption runs cold): {}", e.toString());
            }
        });
    }

    /** What {@link #warmUp} did, for the benchmark; empty when it did not run. */
    volatile String warmedUp = "";

    /**
     * The bundle of this module installed beside this one (a staged update's next version) says it takes
     * connections handed over in place ({@value #DEFERRED_HEADER}); Felix's own update, which shows no
     * next version before this one stops, and an older next version get every connection frozen.
     */
    private static int successorTakesDeferred(BundleContext context) {
        try {
            Bundle me = context.getBundle();
            for (Bundle b : context.getBundles()) {
                if (b != me && me.getSymbolicName().equals(b.getSymbolicName()) && b.getState() != Bundle.UNINSTALLED) {
                    String v = b.getHeaders("").get(DEFERRED_HEADER);
                    if (v != null) { // -Dmodnet.tcp.inplace=list: the list even to a next version that reads the table (the benchmark's A/B)
                        return "list".equals(System.getProperty(IN_PLACE_PROPERTY)) ? IN_PLACE_LIST : inPlaceForm(v);
                    }
                }
            }
            return 0;
        } catch (IllegalStateException e) {
            return 0;
        }
    }

    /**
     * What a next version's {@value #DEFERRED_HEADER} header says it reads: 1 the list, 2 the table too, 3 (or more) the table
     * and it releases it ({@link TcpConnectionsInPlace.Table#release}) when its pass is over.
     */
    static int inPlaceForm(String header) {
        try {
            return Math.min(Math.max(Integer.parseInt(header.trim()), 1), IN_PLACE_RELEASED);
        } catch (NumberFormatException e) {
            return IN_PLACE_LIST;
        }
    }

    static final String IN_PLACE_PROPERTY = "modnet.tcp.inplace";
    /** The next version reads {@link TcpDeferredConnections} (handover 1.7: a record per connection, built in the swap). */
    static final int IN_PLACE_LIST = 1;
    /** The next version reads {@link TcpConnectionsInPlace} too (handover 1.11: this version's own tables, looked up by 4-tuple). */
    static final int IN_PLACE_TABLE = 2;
    /**
     * The next version reads the table and releases it when its pass is over (handover 1.13): this version's stop waits for
     * that, so none of its code is called once its bundle has stopped and may be refreshed.
     */
    static final int IN_PLACE_RELEASED = 3;

    /** The tests' wiring: the next version reads {@code form} ({@link #IN_PLACE_LIST}, {@link #IN_PLACE_TABLE}, 0 neither). */
    void successorReads(int form) {
        successorDefers = () -> form;
    }

    static final String DEFERRED_HEADER = "Modnet-Tcp-Deferred";
    /** The holder's key for {@link TcpDeferredConnections}, beside {@link #LAYER}'s {@link TcpLayerState}. */
    static final String DEFERRED = "tcp-deferred";
    /** The holder's key for {@link TcpConnectionsInPlace}, beside {@link #LAYER}'s {@link TcpLayerState}. */
    static final String IN_PLACE = "tcp-in-place";
    private volatile java.util.function.IntSupplier successorDefers;

    /** The connections deposited in place, in the walk's order; each frozen once, by the next version's first need or the rest freeze. */
    private volatile List<TcpSock> leftInPlace = List.of();
    /** The table deposited by the last live hand-over to a next version that reads one; null if none. */
    private volatile InPlaceTable inPlaceTable;
    /** {@link #leftInPlace} by socket id: made in the swap for a {@link TcpDeferredConnections}, at its first need for a table. */
    private volatile Map<Long, TcpSock> inPlaceById;
    private final java.util.concurrent.atomic.AtomicInteger frozenOnAsk = new java.util.concurrent.atomic.AtomicInteger();

    /** {@link TcpDeferredConnections#freeze}: the connection of socket {@code id} frozen now if it is not yet. */
    private TcpConnectionState freezeDeferred(long id) {
        Map<Long, TcpSock> byId = inPlaceById;
        if (byId == null) {
            byId = inPlaceById();
        }
        TcpSock sk = byId.get(id);
        return sk == null ? null : freezeDeferred(sk, true);
    }

    private synchronized Map<Long, TcpSock> inPlaceById() {
        Map<Long, TcpSock> byId = inPlaceById;
        if (byId == null) {
            List<TcpSock> all = leftInPlace;
            byId = new java.util.HashMap<>(all.size() * 2);
            for (TcpSock sk : all) {
                byId.put(sk.inode(), sk);
            }
            inPlaceById = byId;
        }
        return byId;
    }

    /** A connection deposited in place, frozen now if it is not yet (once: its socket's monitor, which nothing else takes). */
    private TcpConnectionState freezeDeferred(TcpSock sk, boolean asked) {
        synchronized (sk) {
            if (sk.inPlaceState == null) {
                sk.inPlaceState = TcpHandOver.freeze(sk);
                if (asked) {
                    frozenOnAsk.incrementAndGet();
                }
            }
            return sk.inPlaceState;
        }
    }

    /**
     * {@link TcpConnectionsInPlace.Table}: this version's tables, read by its next version after the swap. A class, not a
     * lambda (see {@link RestFreeze}).
     */
    private static final class InPlaceTable implements TcpConnectionsInPlace.Table {
        private final TcpProtocol tcp;
        final TcpConnectionsInPlace deposit;
        private volatile List<SocketState> connections;
        /** The local ports the connections left in place hold, by namespace: made at the first ask. */
        private volatile Map<NetNamespace, java.util.BitSet> ports;

        /** Whether this version's stop waits for {@link #release}: a live hand-over to a next version that says it gives it. */
        final boolean awaited;
        private volatile boolean released;
        private volatile Thread stopping;

        InPlaceTable(TcpProtocol tcp, boolean awaited) {
            this.tcp = tcp;
            this.awaited = awaited;
            this.deposit = new TcpConnectionsInPlace(this);
        }

        @Override
        public void release() {
            released = true;
            java.util.concurrent.locks.LockSupport.unpark(stopping);
        }

        /**
         * This version's stop: waits until the next version has released the table or {@code nanos} passed; whether it was
         * released. Parked, not spinning: the next version's pass needs the cores.
         */
        boolean awaitRelease(long nanos) {
            stopping = Thread.currentThread();
            long until = System.nanoTime() + nanos;
            while (!released && System.nanoTime() - until < 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(this, until - System.nanoTime());
            }
            return released;
        }

        /**
         * The list and the ports made now if no one asked for them yet: by the rest freeze, so that nothing this version's
         * code has not run yet runs after its bundle has stopped (a class it would load then has no bundle to come from).
         */
        void complete() {
            connections();
            ports();
        }

        @Override
        public TcpConnectionState freeze(NetNamespace ns, int raddr, int rport, int laddr, int lport) {
            TcpNet net = tcp.nets.get(ns);
            TcpSock sk = net == null ? null : net.lookupEstablished(raddr, rport, laddr, lport);
            return sk == null || !sk.inPlace ? null : tcp.freezeDeferred(sk, true);
        }

        @Override
        public TcpConnectionState freeze(long id) {
            return tcp.freezeDeferred(id);
        }

        @Override
        public boolean holdsPort(NetNamespace ns, int port) {
            Map<NetNamespace, java.util.BitSet> p = ports;
            if (p == null) {
                p = ports();
            }
            java.util.BitSet b = p.get(ns);
            return b != null && port >= 0 && b.get(port);
        }

        private synchronized Map<NetNamespace, java.util.BitSet> ports() {
            Map<NetNamespace, java.util.BitSet> p = ports;
            if (p == null) {
                p = new java.util.HashMap<>();
                for (TcpSock sk : tcp.leftInPlace) {
                    java.util.BitSet b = p.get(sk.namespace());
                    if (b == null) {
                        b = new java.util.BitSet(65536);
                        p.put(sk.namespace(), b);
                    }
                    b.set(sk.lport());
                }
                ports = p;
            }
            return p;
        }

        @Override
        public synchronized List<SocketState> connections() {
            List<SocketState> c = connections;
            if (c == null) {
                List<SocketState> all = new ArrayList<>(tcp.leftInPlace.size());
                for (TcpSock sk : tcp.leftInPlace) {
                    all.add(TcpHandOver.inPlace(sk));
                }
                c = List.copyOf(all);
                connections = c;
            }
            return c;
        }
    }

    /**
     * Leaving for an update of this bundle (a transient stop while the framework keeps running: it stays
     * persistently started), or because IPv4 leaves for one (TCP's static reference to
     * {@code Ipv4} takes it down with IPv4 and brings it back with the next IPv4, which holds protocol 6
     * meanwhile): the connections are frozen and go to the holder either way. A framework shutting down,
     * {@code stop} or {@code rmmod} close the connections as before. An update of the socket
     * layer (the holder) no longer takes TCP down: the reference to it is dynamic, and TCP's sockets
     * stay where they are, in the socket layer's tables that its next version takes.
     */
    @Override
    public boolean handingOver() {
        return holder != null && (leavingLive || updating.getAsBoolean() || ipv4 instanceof org.modnet.api.handover.HandsOver ip && ip.handingOver());
    }

    @Override
    public void init(NetNamespace ns) {
        net(ns, true); // one call site for every namespace made: its lambda is linked once, before an update's registration
    }

    @Override
    public void exit(NetNamespace ns) {
        if (!handingOver()) { // leaving for an update: the sockets stay until deactivate deposits them
            nets.remove(ns);
        }
    }

    /**
     * The protocol's service goes, then the hand-over or the close ({@link #leave}), then {@code /proc/net/tcp} and lsmod's
     * count ({@link #registerUsers}). After a live hand-over ({@link #leaveLive}) only the freeze of what was deposited in
     * place is waited for.
     */
    @Deactivate
    void deactivate() {
        try {
            if (handedOver) {
                awaitRestFreeze();
                awaitRelease();
            } else {
                unregisterProtocol();
                leave(false);
            }
        } finally {
            retired = true;
            Thread w = restWaiter;
            if (w != null) {
                java.util.concurrent.locks.LockSupport.unpark(w);
            }
            unregisterUsers();
            Live.unregister(this);
        }
    }

    /**
     * {@value #RELEASE_WAIT_PROPERTY}: how long this version's stop waits, after a live hand-over of its tables, for the next
     * version to release them (ms; its pass takes 100-500 ms under 1,000 connections). 0, the default: no wait, as before
     * (the rest freeze has run every path of the tables before the stop returns, so the calls after it run loaded code
     * only), and {@code update} returns 100-500 ms sooner. The backlog overflows seen with the wait in task upd15j came
     * without it too (the backlog counted segments at their buffers' size, task standby15): they were no reason.
     */
    static final String RELEASE_WAIT_PROPERTY = "modnet.tcp.releasewait.ms";

    /**
     * After a live hand-over that left the connections in this version's tables to a next version that releases them
     * ({@link #IN_PLACE_RELEASED}): this version's stop waits until it has (its pass is over), so that no code of this
     * bundle runs once it has stopped: Felix's refresh of it, which {@code update} runs after the uninstall, disposes of its
     * class loader, and a class of this bundle not loaded by then could not be loaded any more (TcpConnectionsInPlace's
     * contract). Bounded: a next version that never releases (stopped in a way that skipped its pass) costs the bound.
     */
    private void awaitRelease() {
        InPlaceTable t = inPlaceTable;
        long bound = Long.getLong(RELEASE_WAIT_PROPERTY, 0L); // 0: no wait
        if (t == null || !t.awaited || bound <= 0) {
            return;
        }
        SocketHandOver h = holder;
        Record untaken = h == null ? null : h.takeDetail(IN_PLACE);
        if (untaken != null) { // no next version took the tables (a swap that failed first): nothing calls them, and this
            h.depositDetail(IN_PLACE, untaken); // version's restart takes them back
            return;
        }
        long start = System.nanoTime();
        boolean released = t.awaitRelease(bound * 1_000_000L);
        releaseWaited = System.nanoTime() - start;
        if (!released) {
            LOG.warn("tcp: the next version did not release this version's tables in {} ms: stopping all the same",
                    releaseWaited / 1_000_000);
        }
    }

    /** How long the last stop waited for the next version's release (ns), for the tests and the log. */
    volatile long releaseWaited = -1;

    /** Waits for the freeze of the connections a live hand-over deposited in place: none of this version's code runs after its stop. */
    private void awaitRestFreeze() {
        Thread t = restFreeze;
        if (t != null) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Leaving for an update: every socket is frozen and its state goes to the holder, which keeps the descriptors. {@code live}
     * (the bundle stays active until the next version has taken over): the connections deposited in place are frozen on a thread
     * of their own, and this returns once the state is deposited.
     */
    private void leave(boolean live) {
        synchronized (users) {
            gone = true; // the freeze's warm-up stops, whether this version hands over or closes; nothing registers from here
        }
        finishAdoption(); // what an update just before left for later is remade, to be frozen or closed with the rest
        SocketHandOver holder = this.holder;
        if (holder == null || !handingOver()) {
            return;
        }
        long start = System.nanoTime();
        marks[1] = start;
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu = mx.getCurrentThreadCpuTime();
        marks[9] = cpu;
        leaving = true; // before the wait: a segment that comes later is dropped, never answered with a reset
        synchronizeNet();
        long synced = System.nanoTime();
        int form = Boolean.parseBoolean(System.getProperty(LAZY_PROPERTY, "true")) ? successorDefers.getAsInt() : 0;
        List<TcpSock> later = form > 0 ? new ArrayList<>() : null;
        // the table: the connections stay in this version's hashes, the next version looks each up when it needs it, and
        // the walk only marks them; the list (a next version that reads no table): a record of each, built here
        List<SocketState> laterStates = form == IN_PLACE_LIST ? new ArrayList<>() : null;
        LayerState sockets = export(later, laterStates);
        long walked = System.nanoTime();
        TcpLayerState tcp = (TcpLayerState) pending;
        if (later != null && !later.isEmpty()) {
            leftInPlace = later;
            if (laterStates != null) {
                inPlaceById();
                holder.depositDetail(DEFERRED, new TcpDeferredConnections(laterStates, new FreezeOnAsk(this)));
            } else {
                InPlaceTable t = new InPlaceTable(this, live && form >= IN_PLACE_RELEASED);
                inPlaceTable = t;
                holder.depositDetail(IN_PLACE, t.deposit);
            }
        }
        holder.depositDetail(LAYER, tcp);
        holder.deposit(sockets);
        marks[2] = System.nanoTime();
        long[] took = { tcp.connections().size(), tcp.listeners().size(), tcp.timewait().size(), marks[2] - start,
                mx.getCurrentThreadCpuTime() - cpu, synced - start, walked - synced, marks[2] - walked };
        if (live) { // the next version takes over now: the account and the rest's freeze beside it, and the stop waits for that
            restFreeze = startRestFreeze(new RestFreeze(this, took, later, tcp.version()));
            marks[10] = System.nanoTime();
            return;
        }
        account(took);
        if (later != null && !later.isEmpty()) {
            freezeRest(later, tcp.version());
            return;
        }
        LOG.info("tcp: {} (state version {})", lastHandOver, tcp.version());
    }

    /** The freeze's line: connections, listeners, TIME-WAIT, then ns: all, CPU, synchronize_net, the walk, the deposit. */
    private void account(long[] t) {
        lastHandOver = String.format("froze %d connections, %d listeners, %d TIME-WAIT in %.1f ms (%.1f ms of CPU; synchronize_net %.1f ms,"
                + " the walk %.1f ms, the deposit %.1f ms; %s)", t[0], t[1], t[2], t[3] / 1e6, t[4] / 1e6, t[5] / 1e6, t[6] / 1e6,
                t[7] / 1e6, warmedFreeze.isEmpty() ? "its code cold" : warmedFreeze);
    }

    /**
     * After a live hand-over, on a thread of its own: the freeze's account, then what was deposited in place and not asked for
     * yet. A class, not a lambda: a lambda's class is spun at its first use, here on the way to the next version's adoption
     * (the shell's {@code update} loads this jar's classes beside the swap).
     */
    private static final class RestFreeze implements Runnable {
        private final TcpProtocol tcp;
        private final long[] took;
        private final List<TcpSock> later;
        private final int version;

        RestFreeze(TcpProtocol tcp, long[] took, List<TcpSock> later, int version) {
            this.tcp = tcp;
            this.took = took;
            this.later = later;
            this.version = version;
        }

        @Override
        public void run() {
            tcp.account(took);
            if (later != null && !later.isEmpty()) {
                tcp.freezeRest(later, version);
            } else {
                LOG.info("tcp: {} (state version {})", tcp.lastHandOver, version);
            }
        }
    }

    /** {@link TcpDeferredConnections#freeze}: a class, not a method reference (see {@link RestFreeze}). */
    private static final class FreezeOnAsk implements java.util.function.LongFunction<TcpConnectionState> {
        private final TcpProtocol tcp;

        FreezeOnAsk(TcpProtocol tcp) {
            this.tcp = tcp;
        }

        @Override
        public TcpConnectionState apply(long id) {
            return tcp.freezeDeferred(id);
        }
    }

    /** The connections deposited in place that the next version has not asked for yet, frozen once it asked for its first. */
    private void freezeRest(List<TcpSock> later, int version) {
        long waited = System.nanoTime();
        awaitFirstAsk();
        // the rest frozen here, so that none of this version's code runs once its bundle has stopped
        long rest = System.nanoTime();
        for (TcpSock sk : later) {
            freezeDeferred(sk, false);
        }
        InPlaceTable table = inPlaceTable;
        if (table != null) {
            table.complete();
            inPlaceById(); // the ids too, for the next version's pass
        }
        int asked = frozenOnAsk.get();
        lastHandOver += String.format(" and %d deposited in place (clocks stopped); waited %.1f ms for the next version's first"
                + " ask, then froze them in %.1f ms, %d of them asked for first by the next version", later.size(),
                (rest - waited) / 1e6, (System.nanoTime() - rest) / 1e6, asked);
        LOG.info("tcp: {} (state version {})", lastHandOver, version);
    }

    /**
     * How long a deposit in place waits for the next version's first ask before this version freezes the
     * rest itself: 0 in the tests' wiring (the next version is made after this one's deactivation);
     * {@value #FIRST_ASK_WAIT_PROPERTY} ms (default 250) for the component, whose next version starts beside the stop.
     */
    private long firstAskWaitNanos;
    static final String FIRST_ASK_WAIT_PROPERTY = "modnet.tcp.firstaskwait.ms";

    /**
     * After a deposit in place, until the next version asks for its first connection (it has adopted and
     * a held segment reached it) or {@link #firstAskWaitNanos} passes: this version's freeze of the rest,
     * a walk over every connection, would otherwise share the two cores with the next version's adoption
     * and its first segments, the very steps the traffic waits for. After that it freezes the rest beside
     * the next version's asks, as before.
     */
    private void awaitFirstAsk() {
        long until = System.nanoTime() + firstAskWaitNanos;
        while (frozenOnAsk.get() == 0 && System.nanoTime() - until < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
    }

    /**
     * {@code synchronize_net}: IPv4 no longer calls {@link #receive} (this protocol's service is gone);
     * waits until the calls that began before that have returned.
     */
    private void synchronizeNet() {
        long deadline = System.nanoTime() + 1_000_000_000L;
        for (int i = 0; i < inReceive.length(); i += 16) {
            for (int spins = 0; inReceive.get(i) != 0 && System.nanoTime() < deadline; spins++) {
                if (spins < 100) {
                    Thread.onSpinWait();
                } else if (spins < 200) {
                    Thread.yield(); // a softirq thread preempted inside receive needs this core more than the spin does
                } else {
                    // a nap, not a yield: the freeze's thread runs raised, and a yield gives nothing to a nice-0 thread (nor, under
                    // SCHED_FIFO, to any normal one) preempted on this core inside receive (a FIFO swap spun here 104 ms once)
                    java.util.concurrent.locks.LockSupport.parkNanos(this, 20_000);
                }
            }
        }
    }

    /**
     * Set when this version starts handing over: IPv4 may still call {@link #receive} (when IPv4 itself
     * is being updated its unbind of this protocol can come late), and a segment for a socket already
     * frozen must not find "no socket" and be answered with a reset. Dropped instead, and counted here.
     */
    private volatile boolean leaving;
    private final java.util.concurrent.atomic.AtomicLong droppedLeaving = new java.util.concurrent.atomic.AtomicLong();

    /** Segments dropped because they reached this version after it began to hand over. */
    long droppedLeaving() {
        return droppedLeaving.get();
    }

    /** The detail {@link #export} made beside the sockets it returned. */
    private Record pending;

    /** Freezes every namespace: the sockets' common part for the holder, the rest in {@link #pending}. */
    LayerState export() {
        return export(null, null);
    }

    /** As above; with {@code later} given, connections are deposited in place (see {@link TcpHandOver#stopClocks}). */
    LayerState export(List<TcpSock> later, List<SocketState> laterStates) {
        List<SocketState> sockets = new ArrayList<>();
        List<TcpConnectionState> connections = new ArrayList<>();
        List<TcpListenerState> listeners = new ArrayList<>();
        List<TcpTimewaitState> timewait = new ArrayList<>();
        List<TcpNamespaceState> namespaces = new ArrayList<>();
        Map<NetNamespace, Map<String, Long>> counters = new java.util.HashMap<>();
        for (TcpNet net : nets.values()) {
            TcpHandOver.freeze(net, connections, listeners, timewait, sockets, later, laterStates);
            TcpNamespaceState ns = TcpHandOver.namespace(net);
            namespaces.add(ns);
            counters.put(net.ns, ns.mib());
        }
        pending = new TcpLayerState(stateVersion, namespaces, connections, listeners, timewait);
        return new LayerState(LAYER, stateVersion, sockets, counters);
    }

    /**
     * The detail of the last {@link #export} (what {@link #deactivate} deposited), for tests: with the
     * connections deposited in place among its connections, as they were frozen.
     */
    TcpLayerState exported() {
        TcpLayerState t = (TcpLayerState) pending;
        if (leftInPlace.isEmpty()) {
            return t;
        }
        List<TcpConnectionState> all = new ArrayList<>(t.connections());
        for (TcpSock sk : leftInPlace) {
            synchronized (sk) {
                if (sk.inPlaceState != null) {
                    all.add(sk.inPlaceState);
                }
            }
        }
        return new TcpLayerState(t.version(), t.namespaces(), all, t.listeners(), t.timewait());
    }

    /** The new version's side: counters and keys, then each socket remade, hashed, its descriptors moved to it. */
    void adopt(LayerState sockets, TcpLayerState st) {
        adopt(sockets, st, null);
    }

    /** As above, with the connections the previous version deposited in place, if any. */
    void adopt(LayerState sockets, TcpLayerState st, TcpDeferredConnections inPlace) {
        adopt(sockets, st, inPlace, null);
    }

    /**
     * As above, with the connections the previous version left in its own tables ({@code table}), if any: each namespace's
     * table of connections left for later asks the previous version's by 4-tuple (nothing is done per connection here).
     */
    void adopt(LayerState sockets, TcpLayerState st, TcpDeferredConnections inPlace, TcpConnectionsInPlace table) {
        SocketHandOver holder = this.holder;
        long start = System.nanoTime();
        marks[3] = start;
        for (TcpNamespaceState ns : st.namespaces()) {
            TcpHandOver.adopt(net(ns.namespace(), true), ns);
        }
        int cpu = core.currentCpu();
        for (TcpTimewaitState tw : st.timewait()) {
            TcpNet net = net(tw.namespace(), true);
            if (!TcpTimewaitSock.adopt(net, tw, Math.max(cpu, 0))) {
                net.mib.inc(cpu, TcpMib.Ext.TCPTimeWaitOverflow);
            }
        }
        List<Runnable> clocks = new ArrayList<>();
        marks[14] = System.nanoTime();
        long inHolder = 0;
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long listenCpu = mx.getCurrentThreadCpuTime();
        int children = 0;
        for (TcpListenerState ls : st.listeners()) {
            children += ls.acceptQueue().size() + ls.synQueue().size();
            TcpSock l = TcpHandOver.adopt(net(ls.socket().namespace(), true), ls, clocks);
            if (holder != null) {
                long t = System.nanoTime();
                holder.adopted(ls.socket().id(), l);
                inHolder += System.nanoTime() - t;
            }
        }
        marks[17] = inHolder;
        marks[18] = mx.getCurrentThreadCpuTime() - listenCpu;
        marks[19] = children;
        marks[16] = System.nanoTime();
        // a connection a segment finds by its 4-tuple is remade when it is first touched, or by the pass
        // after IPv4 delivered what it held: the first segment does not wait for all of them
        boolean defer = holder != null && Boolean.parseBoolean(System.getProperty(LAZY_PROPERTY, "true"));
        Map<TcpNet, TcpLazyAdopt> later = new java.util.IdentityHashMap<>();
        int now = 0;
        for (TcpConnectionState c : st.connections()) {
            TcpNet net = net(c.socket().namespace(), true);
            if (defer && TcpLazyAdopt.deferrable(c)) {
                lazyTable(later, net).add(c);
                continue;
            }
            now++;
            TcpSock sk = TcpHandOver.adopt(net, c, null, clocks);
            if (holder != null && !sk.isClosed()) {
                holder.adopted(c.socket().id(), sk);
            }
        }
        int inPlaceCount = inPlace == null ? 0 : inPlace.connections().size();
        if (inPlace != null) {
            for (SocketState s : inPlace.connections()) {
                TcpNet net = net(s.namespace(), true);
                if (defer) {
                    lazyTable(later, net).add(s, inPlace.freeze());
                    continue;
                }
                TcpConnectionState c = inPlace.freeze().apply(s.id());
                if (c == null) {
                    continue; // the previous version no longer knows it: its descriptor is closed by finished
                }
                now++;
                TcpSock sk = TcpHandOver.adopt(net, c, null, clocks);
                if (holder != null && !sk.isClosed()) {
                    holder.adopted(c.socket().id(), sk);
                }
            }
        }
        if (table != null) {
            if (defer) {
                for (TcpNamespaceState ns : st.namespaces()) { // every namespace the previous version had: its tables are there
                    TcpNet net = net(ns.namespace(), true);
                    lazyTable(later, net).leftIn(table.table(), net.ns);
                }
            } else {
                for (SocketState s : table.table().connections()) {
                    TcpConnectionState c = table.table().freeze(s.id());
                    if (c == null) {
                        continue; // the previous version no longer knows it: its descriptor is closed by finished
                    }
                    now++;
                    TcpSock sk = TcpHandOver.adopt(net(s.namespace(), true), c, null, clocks);
                    if (holder != null && !sk.isClosed()) {
                        holder.adopted(c.socket().id(), sk);
                    }
                }
                if (holder != null) {
                    holder.finished(new LayerState(sockets.layer(), sockets.version(), table.table().connections(), Map.of()));
                }
                table.table().release(); // every connection remade here: nothing calls the previous version's tables again
            }
        }
        synchronized (this) {
            stoppedClocks = clocks;
            lazySockets = later.isEmpty() ? null : sockets;
            lazyHolder = holder;
            lazyLeftIn = defer ? table : null;
        }
        for (Map.Entry<TcpNet, TcpLazyAdopt> e : later.entrySet()) { // no lambda on the way to the first segment
            e.getKey().lazy = e.getValue(); // published: a segment may find them from here on
        }
        if (holder != null && later.isEmpty()) {
            holder.finished(sockets);
        }
        if (!clocks.isEmpty() || !later.isEmpty()) { // an IPv4 that never calls attached: start them anyway, a second late
            clocksFallback = core.timer(Math.max(cpu, 0), new AttachedLate(this));
            clocksFallback.mod(CLOCKS_FALLBACK_MS);
        }
        marks[4] = System.nanoTime();
        // no lambda here: its class would be spun on the way to the first segment
        // left in the previous version's tables: not counted here (that would be a walk over them), -1 for the line
        long[] report = { st.listeners().size(), st.timewait().size(), now, table != null && defer ? -1 : st.connections().size() + inPlaceCount,
                marks[4] - start, st.version() };
        if (clocksFallback == null) {
            reportAdoption(report);
        } else {
            synchronized (this) {
                adoptionReport = report; // formatted and logged by attached, after the first segments, not before them
            }
        }
    }

    /** The adoption's numbers for the log, until {@link #attached} writes them (guarded by this). */
    private long[] adoptionReport;

    /** The adoption's line: listeners, TIME-WAIT, connections remade, all, ns taken, state version. */
    private void reportAdoption(long[] r) {
        lastHandOver = r[3] < 0
                ? String.format("adopted %d listeners, %d TIME-WAIT and %d connections in %.1f ms; the connections left in the previous"
                        + " version's tables wait there for their first segment or the pass", r[0], r[1], r[2], r[4] / 1e6)
                : String.format("adopted %d listeners, %d TIME-WAIT and %d of %d connections in %.1f ms, %d left to their "
                        + "first segment or the pass", r[0], r[1], r[2], r[3], r[4] / 1e6, r[3] - r[2]);
        LOG.info("tcp: {} (state version {})", lastHandOver, r[5]);
    }

    /** The adopted sockets' timer starts, run once by {@link #attached}; null once it ran (guarded by this). */
    private List<Runnable> stoppedClocks = new ArrayList<>();
    /** {@link #attached} ran: a connection remade since starts its clocks at once (guarded by this). */
    private boolean clocksStarted;
    /** The deposit's sockets while connections in it wait to be remade; the holder hears {@code finished} after the last (guarded by this). */
    private LayerState lazySockets;
    private SocketHandOver lazyHolder;
    /** The previous version's tables the connections left for later are in, if it left them there (guarded by this). */
    private TcpConnectionsInPlace lazyLeftIn;
    /** Runs {@link #finishAdoption} once IPv4 has delivered what it held. */
    private volatile java.util.concurrent.Executor lazyPass;

    /** The tests' wiring: the pass runs where {@code e} says, so a test can look into the moments before it. */
    void passBy(java.util.concurrent.Executor e) {
        lazyPass = e;
    }
    /** Serialises {@link #finishAdoption}: the pass and a deactivation that comes during it. */
    private final Object passLock = new Object();
    private final java.util.concurrent.atomic.AtomicInteger remadeOnSegment = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger remadeByPass = new java.util.concurrent.atomic.AtomicInteger();
    /** Remade for a call that needed them live before the pass: ss, lsmod, an ICMP error, a bind to their port. */
    private final java.util.concurrent.atomic.AtomicInteger remadeOnCall = new java.util.concurrent.atomic.AtomicInteger();
    /** Connections the last adoption left for later that a segment remade, and that the pass remade. */
    int[] remade() {
        return new int[] { remadeOnSegment.get(), remadeByPass.get() };
    }

    /** Connections the last adoption left for later that a call remade before the pass (ss, lsmod, ICMP, bind). */
    int remadeOnCall() {
        return remadeOnCall.get();
    }

    /** {@code -Dmodnet.tcp.lazyadopt=false} remakes every connection inside the adoption, as before (for the benchmark's comparison). */
    static final String LAZY_PROPERTY = "modnet.tcp.lazyadopt";
    private org.modnet.api.net.Timer clocksFallback;
    static final long CLOCKS_FALLBACK_MS = 1000;

    /**
     * IPv4 registered this version and delivered what it held for protocol 6: the adopted connections'
     * timers start with what was left of them when the previous version froze them.
     */
    @Override
    public void attached() {
        if (marks[5] == 0) {
            marks[5] = System.nanoTime();
        }
        List<Runnable> clocks;
        boolean pass;
        LayerState sockets;
        SocketHandOver holder;
        synchronized (this) {
            clocks = stoppedClocks;
            stoppedClocks = null;
            clocksStarted = true;
            pass = lazySockets != null;
            sockets = lazySockets;
            holder = lazyHolder;
        }
        if (clocks == null) {
            return;
        }
        if (holder != null && sockets != null) {
            wakeRemade(holder, sockets); // the listeners and what the held segments remade: their descriptors' waiters look now
        }
        if (clocksFallback != null) {
            clocksFallback.del();
        }
        for (Runnable r : clocks) {
            r.run();
        }
        long[] report;
        synchronized (this) {
            report = adoptionReport;
            adoptionReport = null;
        }
        if (report != null) {
            reportAdoption(report); // before the pass appends its own part
        }
        if (pass && holder != null && sockets != null && earlyRemake > 0) {
            remakeEarly(holder, sockets);
        }
        if (pass) {
            lazyPass.execute(new FinishAdoption(this));
        }
    }

    /**
     * How many connections of a namespace for which IPv4 held nothing {@link #attached} remakes itself, before the pass:
     * {@value #EARLY_REMAKE_PROPERTY} (default 2: a first wake-up soon, the rest by the pass; 0: none, the pass alone, as
     * before: the benchmark's comparison). 0 in the tests' wiring, whose checks of a connection not remade yet run before a
     * pass they hold back.
     */
    static final String EARLY_REMAKE_PROPERTY = "modnet.tcp.earlyremake";
    private int earlyRemake;
    /** Connections {@link #remakeEarly} remade. */
    private final java.util.concurrent.atomic.AtomicInteger remadeEarly = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * A namespace for which IPv4 held nothing (its streams were quiet as the old version left: the applications were
     * between calls, or waited for a window or a timer) has no segment to remake its connections before the pass, and
     * their applications, whose descriptors are parked, can do nothing until the pass reaches them: the pass's thread
     * starts, its first asks run the previous version's cold freeze, and its first wake-up comes after a batch. So the
     * registration's thread, still raised, remakes the first few of each such namespace here and wakes them, and their
     * applications and clocks go on from there.
     */
    private void remakeEarly(SocketHandOver holder, LayerState sockets) {
        boolean any = false;
        for (TcpNet net : nets.values()) {
            TcpLazyAdopt lazy = net.lazy;
            if (lazy == null || net.remadeOnSegment != 0) {
                continue;
            }
            int n = 0;
            for (TcpLazyAdopt.Pending p : lazy.pending()) {
                if (n >= earlyRemake) {
                    break;
                }
                if (remake(net, p)) {
                    n++;
                    remadeEarly.incrementAndGet();
                    any = true;
                }
            }
        }
        if (any) {
            if (marks[20] == 0) {
                marks[20] = System.nanoTime();
            }
            wakeRemade(holder, sockets);
        }
    }

    /** The tests' and the benchmark's switch of {@link #remakeEarly}: how many per namespace (0: none). */
    void earlyRemake(int n) {
        earlyRemake = n;
    }

    /**
     * {@link #finishAdoption} on the pass's thread. A class, not a method reference: its call site would be linked at its first
     * run, in the registration's dispatch on the swap's thread (task adopt15h).
     */
    private static final class FinishAdoption implements Runnable {
        private final TcpProtocol tcp;

        FinishAdoption(TcpProtocol tcp) {
            this.tcp = tcp;
        }

        @Override
        public void run() {
            tcp.finishAdoption();
        }
    }

    /** Clocks of a connection remade after the adoption: queued for {@link #attached}, or started now if it ran. */
    private void startOrQueue(List<Runnable> clocks) {
        synchronized (this) {
            if (!clocksStarted) {
                stoppedClocks.addAll(clocks);
                return;
            }
        }
        for (Runnable r : clocks) {
            r.run();
        }
    }

    /**
     * A segment found no connection: if its 4-tuple names one the adoption left for later, that one is
     * remade now (once, by whichever thread comes first) and the established hash has it.
     */
    private TcpSock touch(TcpNet net, TcpLazyAdopt lazy, int raddr, int rport, int laddr, int lport) {
        TcpLazyAdopt.Pending p = lazy.find(raddr, rport, laddr, lport);
        if (p == null) {
            return null;
        }
        if (remake(net, p)) {
            remadeOnSegment.incrementAndGet();
            net.remadeOnSegment++;
        }
        return net.lookupEstablished(raddr, rport, laddr, lport);
    }

    /** {@code net}'s table in {@code later}, made at its first connection. */
    private TcpLazyAdopt lazyTable(Map<TcpNet, TcpLazyAdopt> later, TcpNet net) {
        TcpLazyAdopt t = later.get(net);
        if (t == null) {
            t = new TcpLazyAdopt(new RemakeForCall(this, net));
            later.put(net, t);
        }
        return t;
    }

    /**
     * The table of a namespace's connections left for later: a call that needs one as a live connection remakes it. Classes, not
     * lambdas, here and in {@link AttachedLate}: they are on the way to the first segment, and a lambda's class is spun at its
     * first use where a class of the jar is loaded beside the swap.
     */
    private static final class RemakeForCall implements java.util.function.Predicate<TcpLazyAdopt.Pending> {
        private final TcpProtocol tcp;
        private final TcpNet net;

        RemakeForCall(TcpProtocol tcp, TcpNet net) {
            this.tcp = tcp;
            this.net = net;
        }

        @Override
        public boolean test(TcpLazyAdopt.Pending p) {
            boolean did = tcp.remake(net, p);
            if (did) {
                tcp.remadeOnCall.incrementAndGet();
            }
            return did;
        }
    }

    /** {@link #attached} from the core's timer, for an IPv4 that never calls it. */
    private static final class AttachedLate implements Runnable {
        private final TcpProtocol tcp;

        AttachedLate(TcpProtocol tcp) {
            this.tcp = tcp;
        }

        @Override
        public void run() {
            tcp.attached();
        }
    }

    /** Remakes one connection left for later and moves its descriptors to it; false if another thread did. */
    private boolean remake(TcpNet net, TcpLazyAdopt.Pending p) {
        if (p.done) {
            return false;
        }
        List<Runnable> clocks = new ArrayList<>(1);
        synchronized (p) {
            if (p.done) {
                return false;
            }
            try {
                TcpConnectionState st = p.state();
                if (st != null) {
                    TcpSock sk = TcpHandOver.adopt(net, st, null, clocks);
                    SocketHandOver h = lazyHolder;
                    if (h != null && !sk.isClosed()) {
                        h.adopted(st.socket().id(), sk);
                    }
                }
            } catch (RuntimeException e) { // its parked descriptor is closed by finished, as one not adopted
                LOG.warn("tcp: could not remake a connection handed over: {}", e.toString());
                clocks.clear();
            } finally {
                p.done = true;
            }
        }
        startOrQueue(clocks);
        return true;
    }

    /**
     * The pass: every connection still waiting is remade, then the holder closes what no one adopted and
     * wakes the descriptors' waiters. Run once IPv4 has delivered what it held, and by a deactivation
     * before it freezes (it waits for a pass in progress).
     */
    void finishAdoption() {
        synchronized (passLock) {
            LayerState sockets;
            SocketHandOver holder;
            TcpConnectionsInPlace table;
            synchronized (this) {
                sockets = lazySockets;
                holder = lazyHolder;
                table = lazyLeftIn;
            }
            if (sockets == null) {
                return;
            }
            long start = System.nanoTime();
            marks[6] = start;
            // the namespaces in turn, a batch of each between two wake-ups: one namespace's thousand connections first left the
            // other's applications (the peers of the first's) parked to the end, 100-150 ms in (task gap15)
            List<TcpNet> order = new ArrayList<>();
            List<java.util.Iterator<TcpLazyAdopt.Pending>> left = new ArrayList<>();
            for (TcpNet net : nets.values()) {
                TcpLazyAdopt lazy = net.lazy;
                if (lazy != null) {
                    order.add(net);
                    left.add(lazy.pending().iterator());
                }
            }
            for (boolean more = !order.isEmpty(); more;) {
                more = false;
                for (int i = 0; i < order.size(); i++) {
                    java.util.Iterator<TcpLazyAdopt.Pending> it = left.get(i);
                    TcpNet net = order.get(i);
                    int turn = PASS_TURNS ? WAKE_BATCH : Integer.MAX_VALUE;
                    for (int n = 0; n < turn && it.hasNext();) {
                        if (remake(net, it.next())) {
                            remadeByPass.incrementAndGet();
                        }
                        if (++n % WAKE_BATCH == 0 && holder != null) {
                            if (marks[20] == 0) {
                                marks[20] = System.nanoTime(); // the pass's first wake-up, for the benchmark's firstNote
                            }
                            wakeRemade(holder, sockets);
                        }
                    }
                    more |= it.hasNext();
                }
            }
            for (TcpNet net : order) {
                net.lazy = null;
            }
            synchronized (this) {
                lazySockets = null;
                lazyLeftIn = null;
            }
            if (holder != null) {
                holder.finished(sockets);
                if (table != null) { // the descriptors of those the previous version no longer knew: closed
                    holder.finished(new LayerState(sockets.layer(), sockets.version(), table.table().connections(), Map.of()));
                }
            }
            marks[7] = System.nanoTime();
            lastHandOver = lastHandOver + String.format("; then %d remade on their first segment, %d for a call, %d at the registration"
                    + " (IPv4 held nothing for them), %d by the pass in %.1f ms", remadeOnSegment.get(), remadeOnCall.get(),
                    remadeEarly.get(), remadeByPass.get(), (marks[7] - start) / 1e6);
            if (table != null) {
                table.table().release(); // nothing calls the previous version's tables from here on: its stop may return
            }
        }
    }

    /**
     * How many connections the pass remakes between two wake-ups of what it (and the segments meanwhile) remade: their
     * descriptors' poll and epoll waiters look again and find the new sockets, as Linux's would be woken by what they receive.
     */
    static final int WAKE_BATCH = 32;
    /**
     * Whether the pass takes the namespaces in turn, a batch of each ({@link #finishAdoption}); {@code
     * -Dmodnet.tcp.passturns=false}: one namespace after the other, as before (the benchmark's comparison only).
     */
    static final boolean PASS_TURNS = !"false".equals(System.getProperty("modnet.tcp.passturns"));
    /**
     * Wakes what was remade once the held segments are delivered and then in the pass's batches ({@link #wakeRemade}), as
     * Linux's waiters would be woken by what arrives; without it an epoll loop saw none of its connections until the pass's
     * end, 130-700 ms after the registration. {@code -Dmodnet.tcp.wakeremade=false} leaves the wake-up to the pass's end (the
     * benchmark's comparison only). The socket backlog overflows (TCPBacklogDrop) that made task upd15j turn it off came with
     * it off too: they were the backlog counting each segment at its 64 KiB buffer (task standby15, now Linux's truesize).
     */
    private volatile boolean wakeRemade = !"false".equals(System.getProperty("modnet.tcp.wakeremade"));

    /** The tests' wiring: {@link #wakeRemade} on or off for this version. */
    void wakeRemade(boolean on) {
        wakeRemade = on;
    }

    /**
     * The holder wakes the waiters of every parked socket adopted since its last wake-up (a {@code finished} that closes
     * nothing else: the deposit's sockets are not listed). Before, they were woken only at the pass's end, 130-500 ms after
     * the registration under 1,000 connections: an epoll loop saw none of its connections until then (a parked socket reports
     * nothing), and with the streams stopped before the swap only a remade connection's own timers sent anything. Not in the
     * registration's dispatch: a reader woken there holds its socket while the held segments for it are delivered, and they
     * go to its backlog.
     */
    private void wakeRemade(SocketHandOver holder, LayerState sockets) {
        if (!wakeRemade) {
            return;
        }
        holder.finished(new LayerState(sockets.layer(), sockets.version(), List.of(), Map.of()));
    }

    private TcpNet net(NetNamespace ns, boolean create) {
        return create ? nets.computeIfAbsent(ns, makeNet) : nets.get(ns);
    }

    TcpNet net(NetNamespace ns) {
        return nets.get(ns);
    }

    // --- congestion control as services (tcp_register_congestion_control) ---

    /** A {@link TcpCongestionOps} service arrived: listed in every namespace's {@code tcp_available_congestion_control}. */
    @Reference(service = TcpCongestionOps.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeCongestion")
    public void addCongestion(TcpCongestionOps ops, Map<String, Object> props) {
        Object n = props.get(TcpCongestionOps.NAME);
        String name = n instanceof String s ? s : ops.name();
        try {
            cc.register(ops, name);
        } catch (org.modnet.api.net.NetException e) {
            LOG.warn("{}", e.getMessage()); // tcp_register_congestion_control's pr_notice
            return;
        }
        CongestionControl.Ca ca = cc.find(name);
        int cpu = core.currentCpu();
        for (TcpNet net : nets.values()) {
            net.cong.listChanged(null, ca);
            for (TcpSock sk : net.hashed()) { // an update of the algorithm: its connections come back to it
                sk.congReturn(ca, cpu);
            }
        }
    }

    /**
     * The service left: every connection on it moves to its namespace's default and is counted
     * (TCPCongestionFallback); Linux would have refused the unload while a connection used it. If an
     * algorithm of the same name comes back (the bundle was updated), they return to it.
     */
    public void removeCongestion(TcpCongestionOps ops) {
        CongestionControl.Ca left = cc.unregister(ops);
        if (left == null) {
            return;
        }
        int cpu = core.currentCpu();
        for (TcpNet net : nets.values()) {
            net.cong.listChanged(left, null);
            for (TcpSock sk : net.hashed()) {
                sk.congFallback(left, cpu);
            }
            for (TcpSock sk : net.orphans) {
                sk.congFallback(left, cpu);
            }
        }
    }

    /** The algorithms' names, as {@code tcp_available_congestion_control} lists them. */
    String availableCongestionControl() {
        return cc.available();
    }

    // --- receive ---

    // --- the socket switch ---

    @Override
    public Sock create(NetNamespace ns) throws SockException {
        TcpNet net = nets.get(ns);
        if (net == null) {
            throw SockException.of(Errno.EAFNOSUPPORT); // the namespace is going away
        }
        TcpSock sk = new TcpSock(net);
        if (net.noPmtuDisc.get() != 0) { // inet_create: net.ipv4.ip_no_pmtu_disc makes IP_PMTUDISC_DONT the default
            sk.setOption(org.modnet.socket.api.SocketCalls.IPPROTO_IP, org.modnet.socket.api.SocketCalls.IP_MTU_DISCOVER,
                    new int[] { org.modnet.socket.api.SocketCalls.IP_PMTUDISC_DONT });
        }
        net.created.add(sk);
        return sk;
    }

    @Override
    public String name() {
        return "TCP";
    }

    @Override
    public long memoryPages(NetNamespace ns) {
        TcpNet net = nets.get(ns);
        return net == null ? 0 : net.tmem.pages();
    }

    /**
     * The hashed sockets ({@code inet_diag}'s walk): listeners, then SYN-RECV, connections and orphans,
     * then the TIME-WAIT socks (each seen as a socket in its state).
     */
    @Override
    public List<Sock> sockets(NetNamespace ns) {
        TcpNet net = nets.get(ns);
        if (net == null) {
            return List.of();
        }
        List<Sock> out = new ArrayList<>(net.hashed());
        for (TcpTimewaitSock tw : net.deathRow.all()) {
            out.add(tw.view());
        }
        return out;
    }

    /**
     * {@code tcp_v4_rcv}: a segment not for this host is discarded uncounted, every other one counts in
     * InSegs; a short or truncated one is dropped, a bad data offset is InErrs, a bad checksum
     * InCsumErrors and InErrs. A segment that passes goes to its connection ({@code
     * __inet_lookup_established}), else to a listener on its port, else is answered with a reset unless
     * it is one. The socket owns the skb from there.
     */
    @Override
    public void receive(SkBuff skb) {
        int cpu = core.currentCpu();
        int slot = (cpu >= 0 && cpu < views.length ? cpu : views.length) * 16;
        inReceive.incrementAndGet(slot);
        if (marks[8] == 0) { // the first segment this version handles, for the benchmark: a plain read after that
            marks[8] = System.nanoTime();
            firstSegmentBy = Thread.currentThread().getName();
            firstSegmentIn = skb.dev() == null ? "?" : skb.dev().namespace().name();
        }
        try {
            if (leaving) { // checked after the count: the hand-over waits for those that read false
                droppedLeaving.incrementAndGet();
                TcpNet net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
                if (net != null) {
                    net.mib.inc(cpu, TcpMib.Ext.TCPHandOverLeavingDrop);
                }
                skb.free();
                return;
            }
            rcv(skb, cpu);
        } finally {
            inReceive.decrementAndGet(slot);
        }
    }

    private void rcv(SkBuff skb, int cpu) {
        TcpNet net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
        if (net == null) {
            skb.free();
            return;
        }
        TcpHeader th = cpu >= 0 && cpu < views.length ? views[cpu] : threadViews.get();
        TcpHeader.Check check = th.check(skb, TcpAf.INET);
        check.count(net.mib, cpu);
        if (check != TcpHeader.Check.OK) {
            if (check.inSegs) {
                net.drops.count(cpu, check == TcpHeader.Check.BAD_CSUM ? TcpDrops.Reason.TCP_CSUM : TcpDrops.Reason.PKT_TOO_SMALL);
            }
            skb.free();
            return;
        }
        int nh = skb.networkHeader();
        int saddr = skb.getU32(nh + 12);
        int daddr = skb.getU32(nh + 16);
        int sport = th.source();
        int dport = th.dest();
        skb.setTransportHeader(skb.data());
        TcpSock sk = net.lookupEstablished(saddr, sport, daddr, dport);
        TcpLazyAdopt lazy = net.lazy;
        if (sk == null && lazy != null) { // just after an update: its connection may not be remade yet
            sk = touch(net, lazy, saddr, sport, daddr, dport);
        }
        if (sk == null) {
            TcpTimewaitSock tw = net.deathRow.lookup(saddr, sport, daddr, dport);
            if (tw != null && !net.deathRow.receive(tw, skb, cpu)) {
                net.drops.count(cpu, TcpDrops.Reason.NOT_SPECIFIED); // do_time_wait's discard_it
                skb.free(); // answered by the TIME-WAIT sock (tcp_timewait_state_process)
                return;
            }
            sk = net.lookupListener(saddr, sport, daddr, dport);
            if (tw != null) { // a newer SYN recycled the TIME-WAIT: the listener takes it with the ISN left
                if (sk != null) {
                    sk.deliver(skb, cpu);
                } else {
                    net.drops.count(cpu, TcpDrops.Reason.NO_SOCKET);
                    skb.free();
                }
                net.deathRow.clearIsn(cpu);
                return;
            }
        }
        if (sk != null) {
            if (!sk.filter(skb, th.headerLen())) { // tcp_filter: SKB_DROP_REASON_SOCKET_FILTER, no MIB counter in Linux
                net.drops.count(cpu, TcpDrops.Reason.SOCKET_FILTER);
                skb.free();
                return;
            }
            sk.deliver(skb, cpu);
            return;
        }
        sendReset(net, skb, cpu);
        net.drops.count(cpu, TcpDrops.Reason.NO_SOCKET);
        skb.free();
    }

    /**
     * {@code tcp_v4_err}: an ICMP error quoting one of our segments ({@link TcpErr}). Counted as a
     * segment in {@link #receive} is not: IPv4 counted the ICMP message.
     */
    @Override
    public void error(SkBuff skb, int inner, int type, int code, int info) {
        errorFoundSocket(skb, inner, type, code, info);
    }

    /** {@link #error}: false when no socket, not even a TIME-WAIT one, has the quoted 4-tuple (Icmp InErrors). */
    @Override
    public boolean errorFoundSocket(SkBuff skb, int inner, int type, int code, int info) {
        TcpNet net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
        if (net == null || leaving) {
            return true; // not counted: the module is going, not the socket
        }
        return TcpErr.err(net, skb, inner, type, code, info, Math.max(core.currentCpu(), 0));
    }

    /**
     * {@code tcp_v4_send_reset} with no socket: never for a reset, nor for a segment to a broadcast or
     * multicast address. A segment with ACK is answered {@code <SEQ=SEG.ACK><CTL=RST>}, any other
     * {@code <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>} (SYN and FIN count in SEG.LEN); window 0, no
     * options, from the address the segment was sent to, with its TOS less the ECN bits, counted in
     * OutSegs and OutRsts. The segment's TCP header is at {@code in.data()}.
     */
    static void sendReset(TcpNet net, SkBuff in, int cpu) {
        int t = in.data();
        int flags = in.getU8(t + TcpHeader.FLAGS);
        if ((flags & TcpHeader.RST) != 0) {
            return;
        }
        int nh = in.networkHeader();
        int saddr = in.getU32(nh + 16); // we answer from the address it was sent to
        int daddr = in.getU32(nh + 12);
        if (net.ipv4.addressType(net.ns, saddr) != Ipv4.AddressType.LOCAL) {
            return; // RTN_LOCAL only: no reset to a broadcast or multicast segment
        }
        int hlen = (in.getU8(t + TcpHeader.DOFF) >>> 4) * 4;
        int payload = in.len() - hlen;
        int seq;
        int ack;
        int out;
        if ((flags & TcpHeader.ACK) != 0) {
            seq = in.getU32(t + TcpHeader.ACK_SEQ);
            ack = 0;
            out = TcpHeader.RST;
        } else {
            seq = 0;
            ack = in.getU32(t + TcpHeader.SEQ) + payload + ((flags & TcpHeader.SYN) != 0 ? 1 : 0)
                    + ((flags & TcpHeader.FIN) != 0 ? 1 : 0);
            out = TcpHeader.RST | TcpHeader.ACK;
        }
        int sport = in.getU16(t + TcpHeader.DEST);
        int dport = in.getU16(t + TcpHeader.SOURCE);
        int tos = in.getU8(nh + 1) & ~ECN_MASK;
        SkBuff rst = net.core.allocSkb(TcpHeader.MIN_LEN, HEADROOM);
        if (rst == null) {
            return; // the pool counted its refusal; Linux's ip_send_unicast_reply fails the same way
        }
        int o = rst.put(TcpHeader.MIN_LEN);
        TcpHeader.write(rst, o, sport, dport, seq, ack, out, 0, 0);
        TcpHeader.setChecksum(rst, o, TcpHeader.MIN_LEN, TcpAf.inetPseudoSum(saddr, daddr, TcpHeader.MIN_LEN));
        net.mib.inc(cpu, TcpMib.Tcp.OutSegs);
        net.mib.inc(cpu, TcpMib.Tcp.OutRsts);
        net.ipv4.send(net.ns, rst, saddr, daddr, TcpAf.IPPROTO_TCP, 0, tos, true); // TCP's control socket: IP_PMTUDISC_DO
    }

    // --- the MIBs ---

    @Override
    public String mib() {
        return "Tcp";
    }

    /** Tcp then TcpExt, by nstat's names, in /proc/net/snmp and /proc/net/netstat order. */
    @Override
    public Map<String, Long> counters(NetNamespace ns) {
        TcpNet net = nets.get(ns);
        if (net == null) {
            return Map.of();
        }
        Map<String, Long> all = net.mib.snapshot();
        // LINUX_MIB_BUSYPOLLRXPACKETS: napi_busy_loop counts it in the device's namespace, in the core
        all.put("TcpExt" + TcpMib.Ext.BusyPollRxPackets.name(), ns.busyPollRxPackets());
        return all;
    }

    // --- software segmentation (tcp4_gso_segment), for IPv4's inet_gso_segment ---

    @Override
    public int headerLen(SkBuff skb, int th) {
        return TcpOffload.headerLen(skb, th);
    }

    @Override
    public void gsoFixSegment(SkBuff seg, int index, int count, int offset, int payloadLen, boolean csumOffload) {
        TcpOffload.fixSegment(seg, index, count, offset, payloadLen, csumOffload);
    }

    /** {@code tcp4_gro_receive}'s look at a segment alone. */
    @Override
    public int groHeaderLen(SkBuff skb, int th, int len) {
        return TcpGro.headerLen(skb, th, len);
    }

    /** {@code tcp_gro_receive} against a held flow. */
    @Override
    public int groMatch(SkBuff held, int heldTh, SkBuff skb, int th, int hlen) {
        return TcpGro.match(held, heldTh, skb, th, hlen);
    }

    @Override
    public void groMerged(SkBuff held, int heldTh, SkBuff skb, int th) {
        TcpGro.merged(held, heldTh, skb, th);
    }

    /** {@code tcp4_gro_complete}. */
    @Override
    public void groComplete(SkBuff skb, int th, int len) {
        TcpGro.complete(skb, th, len);
    }

    /** Sockets in the hashes of every namespace (listeners, connections, TIME-WAIT): the module's users. */
    int sockets() {
        int n = 0;
        for (TcpNet net : nets.values()) {
            n += net.hashed().size();
        }
        return n;
    }
}

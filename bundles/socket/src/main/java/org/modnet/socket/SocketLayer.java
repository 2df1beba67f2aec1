package org.modnet.socket;

import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.modnet.api.handover.BundleUpdates;
import org.modnet.api.handover.LayerState;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketHandOver;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.SocketLayerState;
import org.modnet.socket.api.SocketProcess;
import org.modnet.socket.api.SocketProtocol;
import org.modnet.socket.api.Sockets;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The socket layer ({@code net/socket.c}, {@code af_inet.c}'s socket switch): finds the protocol a
 * {@code socket(2)} asks for among the registered {@link SocketProtocol} services, keeps every open
 * socket by namespace (for {@code ss}), and closes the sockets of a protocol that leaves or a namespace
 * that goes away.
 * <p>
 * Updated live ({@code update org.modnet.socket}): the old version hands everything it holds to the
 * next as a {@link SocketLayerState} (the processes' descriptor tables, the open sockets and their
 * protocols, the hand-over holder's tables), by keeping the objects: they are API objects since
 * {@code Sock} and {@link SocketProcess} live in the API bundle. Applications keep their descriptors; the
 * protocols, whose static reference to {@link SocketHandOver} goes with this version, see
 * {@link #handingOver()} and hand their sockets over through it as on their own update.
 */
@Component(service = { Sockets.class, PernetOperations.class, SocketLayer.class, SocketHandOver.class,
        SnmpMib.class }, immediate = true, property = { PernetOperations.ORDER + ":Integer=30" })
public final class SocketLayer implements Sockets, PernetOperations, SocketHandOver, SnmpMib {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SocketLayer.class);
    /** How long a blocking call on a parked descriptor sleeps between looks at the hand-over. */
    private static final long PARK_POLL_MILLIS = 50;

    /** The layout of {@link SocketLayerState} this version writes and reads. */
    static final int STATE_VERSION = 1;

    private final NetCore core;
    private final java.util.function.BooleanSupplier updating;
    private final int stateVersion;
    private final AtomicInteger pids;
    private final List<Entry> protocols = new CopyOnWriteArrayList<>();
    private final Map<NetNamespace, Set<Sock>> open;
    /**
     * The processes this layer serves, until they close or their application lets go of them (a weak
     * set: an unclosed process is not kept for ever): handed to the next version. Iterated under its lock.
     */
    private final Set<SocketProcess> processes;
    /** What blocking calls on a parked socket wait on; shared with the versions before and after. */
    private final Object monitor;
    /** Set when this version has handed everything over: it adds nothing any more. */
    private volatile boolean retired;
    /** What the last update of this layer did, for tests and the log. */
    volatile String lastHandOver = "";

    /** One {@code inet_protosw} entry. */
    record Entry(SocketProtocol protocol, int family, int type, int number, boolean isDefault) {
    }

    public SocketLayer(NetCore core) {
        this(core, () -> false, STATE_VERSION, null);
    }

    /** The component: adopts what the previous version of this bundle deposited, if anything. */
    @Activate
    public SocketLayer(@Reference NetCore core, BundleContext context) {
        this(core, () -> BundleUpdates.beingUpdated(context), BundleUpdates.stateVersion(context.getBundle(), STATE_VERSION), SocketLayerState.take());
        parker = ParkWorker.start();
    }

    /**
     * A socket layer that hands over when {@code updating} says so, and starts from {@code from} (a
     * previous version's state, null for none): with the very tables and processes, when it reads
     * its layout; else the deposit is refused, its sockets are closed and counted.
     */
    SocketLayer(NetCore core, java.util.function.BooleanSupplier updating, int stateVersion, SocketLayerState from) {
        this.core = core;
        this.updating = updating;
        this.stateVersion = stateVersion;
        boolean readable = from != null && from.version() == STATE_VERSION && stateVersion == STATE_VERSION;
        if (from != null && !readable) {
            LOG.warn("socket: state version {} refused (this version reads {}): {} processes' sockets closed", from.version(),
                    STATE_VERSION, from.processes().size());
            from.open().values().forEach(set -> List.copyOf(set).forEach(Sock::close));
            from.parked().values().forEach(Sock::close);
        }
        if (readable) {
            long start = System.nanoTime();
            open = from.open();
            owners = from.owners();
            parked = from.parked();
            successors = from.successors();
            early = from.early();
            unowned = from.unowned();
            deposits = from.deposits();
            details = from.details();
            handOverCounts = from.counters();
            pids = from.pids();
            processes = from.processes();
            monitor = from.monitor();
            owners.forEach((sock, p) -> { // the protocols' park switches, which the sockets carry
                java.util.concurrent.atomic.AtomicBoolean g = sock.parkGate();
                if (g != null) {
                    gates.putIfAbsent(p, g);
                }
            });
            synchronized (processes) {
                for (SocketProcess p : processes) {
                    NetNamespace ns = namespace(p.calls().netns());
                    p.serve(new Process(this, p, ns == null ? core.initNet() : ns));
                }
            }
            lastHandOver = String.format("adopted %d processes, %d sockets in %.1f ms", processes.size(),
                    open.values().stream().mapToInt(Set::size).sum(), (System.nanoTime() - start) / 1e6);
            LOG.info("socket: {} (state version {})", lastHandOver, from.version());
        } else {
            open = new ConcurrentHashMap<>();
            owners = new ConcurrentHashMap<>();
            parked = new ConcurrentHashMap<>();
            successors = new ConcurrentHashMap<>();
            early = new ConcurrentHashMap<>();
            unowned = ConcurrentHashMap.newKeySet();
            deposits = new ConcurrentHashMap<>();
            details = new ConcurrentHashMap<>();
            handOverCounts = new ConcurrentHashMap<>();
            pids = new AtomicInteger(1000);
            processes = java.util.Collections.synchronizedSet(java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));
            monitor = new Object();
            if (from != null) {
                synchronized (from.processes()) {
                    for (SocketProcess p : from.processes()) { // their descriptors now name closed sockets: EBADF
                        NetNamespace ns = namespace(p.calls().netns());
                        p.serve(new Process(this, p, ns == null ? core.initNet() : ns));
                        processes.add(p);
                    }
                }
                count(core.initNet(), REFUSED);
            }
        }
    }

    /**
     * The bundle is stopping for an update (a transient stop: it stays persistently started) while the
     * framework keeps running; {@code stop}, {@code rmmod} or a shutdown close the sockets.
     */

    /**
     * Leaving for an update of this bundle: the protocols, which go down with this version's
     * {@link SocketHandOver} service, hand their sockets over through it, and the descriptors stay.
     */
    @Override
    public boolean handingOver() {
        return retired || updating.getAsBoolean();
    }

    /** This version handed everything to its successor. */
    boolean retired() {
        return retired;
    }

    /**
     * The version that serves {@code task} after this one, waiting a little for it to come (a call that
     * came in as this version left); null if none came.
     */
    SocketCalls successor(SocketProcess task, SocketCalls self) {
        long deadline = System.nanoTime() + SUCCESSOR_WAIT_NANOS;
        while (task.calls() == self && System.nanoTime() < deadline) {
            synchronized (monitor) {
                try {
                    monitor.wait(PARK_POLL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
        return task.calls() == self ? null : task.calls();
    }

    private static final long SUCCESSOR_WAIT_NANOS = 5_000_000_000L;

    @Deactivate
    void deactivate() {
        if (parker != null) {
            parker.stop(); // after what it was given: a walk waited for below
        }
        if (handingOver()) {
            long start = System.nanoTime();
            awaitParkWalk();
            for (Set<Sock> set : open.values()) { // the protocols' sockets not parked by their unbind yet
                for (Sock s : set) {
                    SocketProtocol p = owners.get(s);
                        if (p != null && p.handingOver() && !parked.containsKey(s.inode())) {
                        parked.put(s.inode(), s);
                        s.park();
                    }
                }
            }
            retired = true;
            SocketLayerState.deposit(new SocketLayerState(stateVersion, processes, open, owners, parked, successors, early,
                    unowned, deposits, details, handOverCounts, pids, monitor));
            lastHandOver = String.format("handed over %d processes, %d sockets in %.1f ms", processes.size(),
                    open.values().stream().mapToInt(Set::size).sum(), (System.nanoTime() - start) / 1e6);
            LOG.info("socket: {} (state version {})", lastHandOver, stateVersion);
            return;
        }
        open.values().forEach(set -> List.copyOf(set).forEach(Sock::close));
        open.clear();
    }

    /** Socket filters' maker, while the eBPF layer is there. */
    private volatile SkFilterLoader filters;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    void setFilters(SkFilterLoader f) {
        filters = f;
    }

    void unsetFilters(SkFilterLoader f) {
        if (filters == f) {
            filters = null;
        }
    }

    SkFilterLoader filters() {
        return filters;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addProtocol(SocketProtocol p, Map<String, Object> props) {
        Entry e = new Entry(p, number(props, SocketProtocol.FAMILY), number(props, SocketProtocol.TYPE),
                number(props, SocketProtocol.PROTOCOL), Boolean.TRUE.equals(props.get(SocketProtocol.DEFAULT))
                        || "true".equals(props.get(SocketProtocol.DEFAULT)));
        protocols.add(e);
        for (Sock s : List.copyOf(unowned)) { // sockets this protocol adopted in its activation
            claim(s, e);
        }
    }

    /** An adopted socket of {@code e}'s kind becomes that protocol's: listed as its, parked with it. */
    private boolean claim(Sock s, Entry e) {
        if (s.type() != e.type() || s.protocol() != e.number()) {
            return false;
        }
        owners.put(s, e.protocol());
        s.parkWith(gate(e.protocol()));
        unowned.remove(s);
        return true;
    }

    /**
     * Each protocol's park switch ({@link Sock#parkWith}), shared by all its sockets; removed and set
     * when it leaves for an update. Made again from the sockets by a next version of this layer.
     */
    private final Map<SocketProtocol, java.util.concurrent.atomic.AtomicBoolean> gates = new ConcurrentHashMap<>();

    private java.util.concurrent.atomic.AtomicBoolean gate(SocketProtocol p) {
        return gates.computeIfAbsent(p, k -> new java.util.concurrent.atomic.AtomicBoolean());
    }

    /**
     * A protocol leaves: its sockets are closed, and calls on their descriptors return EBADF — unless
     * it is being updated and hands its sockets over: then they are parked until the new version
     * adopts them ({@link SocketHandOver}). The park is one write: the switch all its sockets share
     * ({@link Sock#parkWith}), so the framework's dispatch of the protocol's unregistration, and the
     * protocol's freeze behind it, do not wait for a walk over every descriptor; that walk (the holder's
     * table of parked sockets, each socket's own park and its waiters' wake-up) runs after, on a thread
     * of its own, and whatever reads that table waits for it ({@link #awaitParkWalk}).
     */
    public void removeProtocol(SocketProtocol p) {
        for (Entry e : protocols) { // a loop, not removeIf's lambda: its class would be spun here, inside an update's swap
            if (e.protocol() == p) {
                protocols.remove(e);
            }
        }
        if (retired) {
            return; // unbound after this version handed over: its sockets are the next version's
        }
        if (p.handingOver()) {
            java.util.concurrent.atomic.AtomicBoolean g = gates.remove(p);
            if (g != null) {
                g.set(true); // every socket of p reads as parked from here on
            }
            awaitParkWalk(); // one at a time (a protocol that left just before)
            indexed = false;
            ParkWorker w = parker;
            if (w == null || !w.submit(new ParkWalk(this, p))) {
                parkWalk = Thread.ofPlatform().daemon().name("socket-park").start(new ParkWalk(this, p));
            }
            return;
        }
        gates.remove(p);
        for (Set<Sock> set : open.values()) {
            for (Sock s : List.copyOf(set)) {
                if (owner(s) == p) {
                    s.close();
                    set.remove(s);
                }
            }
        }
    }

    /** The walk behind a protocol's park: every socket of {@code p} in the parked table, then each one's own park. */
    private void parkAll(SocketProtocol p) {
        List<Sock> mine = new ArrayList<>();
        for (Set<Sock> set : open.values()) {
            for (Sock s : set) {
                if (owner(s) == p) {
                    parked.put(s.inode(), s);
                    mine.add(s);
                }
            }
        }
        indexed = true;
        synchronized (monitor) {
            monitor.notifyAll(); // a reader of the table waiting for it
        }
        for (Sock s : mine) {
            s.park(); // its waiters woken: they see a parked socket, and the new one once adopted
        }
    }

    /** {@link #parkAll} on its own thread: a class, not a lambda, whose class would be spun inside the swap at the first update. */
    private static final class ParkWalk implements Runnable {
        private final SocketLayer layer;
        private final SocketProtocol p;

        ParkWalk(SocketLayer layer, SocketProtocol p) {
            this.layer = layer;
            this.p = p;
        }

        @Override
        public void run() {
            layer.parkAll(p);
        }
    }

    /** The last {@link #removeProtocol}'s walk when it ran on a thread started for it; null when none did. */
    private volatile Thread parkWalk;

    /**
     * The component's park walks' thread, started with the component and parked until a protocol leaves for an update:
     * started inside the unregistration's dispatch, a thread costs the swapping thread the wait for it to come alive (at nice
     * 0, on cores the packet threads keep busy). Null in the tests' wiring: a thread per walk, as before.
     */
    private ParkWorker parker;

    /** A thread that runs the walks given to it, one after the other, until it is stopped. A class, not a lambda. */
    private static final class ParkWorker implements Runnable {
        private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> jobs = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private volatile boolean stopped;
        private volatile Thread thread;

        static ParkWorker start() {
            ParkWorker w = new ParkWorker();
            w.thread = Thread.ofPlatform().daemon().name("socket-park").start(w);
            return w;
        }

        /** False if it has stopped: the caller runs the walk on a thread of its own. */
        boolean submit(Runnable job) {
            Thread t = thread;
            if (stopped || t == null || !t.isAlive()) {
                return false;
            }
            jobs.add(job);
            java.util.concurrent.locks.LockSupport.unpark(t);
            return true;
        }

        /** Ends once what was given to it has run. */
        void stop() {
            stopped = true;
            java.util.concurrent.locks.LockSupport.unpark(thread);
        }

        @Override
        public void run() {
            while (true) {
                Runnable job = jobs.poll();
                if (job != null) {
                    try {
                        job.run();
                    } catch (RuntimeException e) {
                        LOG.warn("socket: a park walk failed: {}", e.toString());
                    }
                    continue;
                }
                if (stopped) {
                    for (Runnable late; (late = jobs.poll()) != null;) { // given as it stopped
                        late.run();
                    }
                    return;
                }
                java.util.concurrent.locks.LockSupport.park(this);
            }
        }
    }
    /** The last walk has filled the parked table (its sockets' own parks may still be going on). */
    private volatile boolean indexed = true;

    /** Waits until the last protocol's walk has filled the parked table: before anything reads or changes it. */
    private void awaitParkWalk() {
        if (indexed) {
            return;
        }
        synchronized (monitor) {
            while (!indexed) {
                try {
                    monitor.wait(PARK_POLL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    // --- the hand-over holder ---

    /** Sockets whose protocol is being updated, by inode, until a new socket adopts them or they close. */
    private final Map<Long, Sock> parked;
    /** Parked socket to the socket that adopted it, until every descriptor points at the new one. */
    private final Map<Sock, Sock> successors;
    /** Layer name to its deposit, between the old version's deactivation and the new one's activation. */
    private final Map<String, LayerState> deposits;
    private final Map<NetNamespace, java.util.concurrent.atomic.AtomicLongArray> handOverCounts;
    private static final String[] HANDOVER_COUNTERS = { "HandOverSocketsAdopted", "HandOverSocketsClosed", "HandOverRefused" };
    private static final int ADOPTED = 0;
    private static final int CLOSED = 1;
    private static final int REFUSED = 2;

    private void count(NetNamespace ns, int which) {
        handOverCounts.computeIfAbsent(ns, n -> new java.util.concurrent.atomic.AtomicLongArray(HANDOVER_COUNTERS.length))
                .incrementAndGet(which);
    }

    @Override
    public void deposit(LayerState state) {
        early.clear();
        deposits.put(state.layer(), state);
    }

    /**
     * Sockets a new version adopted whose old socket no descriptor named when it did (an accept still
     * returning it, or none: TCP's orphans), by the old socket's id; an accept that returns the old
     * socket after that moves its descriptor to the new one. Emptied by the next deposit.
     */
    private final Map<Long, Sock> early;

    private Sock openById(long id) {
        for (Set<Sock> set : open.values()) {
            for (Sock s : set) {
                if (s.inode() == id) {
                    return s;
                }
            }
        }
        return null;
    }

    @Override
    public LayerState take(String layer) {
        return deposits.remove(layer);
    }

    /** Layer name to what it handed over beside its sockets (TCP's connections), until its new version takes it. */
    private final Map<String, Record> details;

    @Override
    public void depositDetail(String layer, Record detail) {
        details.put(layer, detail);
    }

    @Override
    public Record takeDetail(String layer) {
        return details.remove(layer);
    }

    @Override
    public void adopted(long id, Sock now) {
        awaitParkWalk();
        Sock old = parked.remove(id);
        if (old == null) {
            old = openById(id); // accepted as its protocol was leaving, after the sockets were parked
            if (old == null) {
                early.put(id, now); // none yet: an accept may still be installing it (accepted), or none will
                return;
            }
            old.park();
        }
        if (old.isClosed()) {
            now.close(); // its descriptor was closed while parked
            return;
        }
        Set<Sock> set = open.computeIfAbsent(now.namespace(), n -> ConcurrentHashMap.newKeySet());
        set.add(now);
        set.remove(old);
        owners.remove(old);
        unowned.add(now);
        for (Entry e : protocols) { // remade after its protocol registered (a lazy adoption): claimed now
            if (claim(now, e)) {
                break;
            }
        }
        now.users(old.users());
        old.handFilterTo(now); // SO_ATTACH_FILTER/SO_ATTACH_BPF's filter is the socket layer's: it moves, not copied
        successors.put(old, now);
        count(now.namespace(), ADOPTED);
        synchronized (monitor) {
            monitor.notifyAll();
        }
        // closing it wakes its poll and epoll waiters, which look again and find the new socket: done for
        // all of them in finished, so the adoption is not interrupted by a wake-up per socket
        superseded.add(old);
    }

    /** Parked sockets adopted since the last {@link #finished}: closed there, together. */
    private final java.util.Queue<Sock> superseded = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private void closeSuperseded() {
        for (Sock old; (old = superseded.poll()) != null;) {
            old.close();
        }
    }

    /** Adopted sockets whose new protocol has not registered yet: {@link #addProtocol} claims them. */
    private final Set<Sock> unowned;

    @Override
    public void finished(LayerState state) {
        awaitParkWalk();
        closeSuperseded();
        for (var st : state.sockets()) {
            Sock old = parked.remove(st.id());
            if (old != null) {
                closeParked(old);
            }
        }
    }

    @Override
    public void refuse(LayerState state, String why) {
        LOG.warn("{}: state version {} refused, {} sockets closed: {}", state.layer(), state.version(),
                state.sockets().size(), why);
        count(state.sockets().isEmpty() ? core.initNet() : state.sockets().get(0).namespace(), REFUSED);
        finished(state);
    }

    private void closeParked(Sock old) {
        count(old.namespace(), CLOSED);
        Set<Sock> set = open.get(old.namespace());
        if (set != null) {
            set.remove(old);
        }
        owners.remove(old);
        old.close();
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    /** The socket that adopted a parked one, or null while none has. */
    Sock successor(Sock old) {
        return successors.get(old);
    }

    /** The descriptor moved to {@code now}: the parked socket is forgotten. */
    void repointed(Sock old) {
        successors.remove(old);
    }

    /**
     * A call on a parked descriptor: EAGAIN when non-blocking, else waits until the socket is adopted
     * or closed (SO_RCVTIMEO is not applied to the wait: the hand-over is the stack's doing).
     */
    void awaitHandOver(Sock old) throws SockException {
        if (old.isNonBlocking()) {
            throw SockException.of(Errno.EAGAIN);
        }
        synchronized (monitor) {
            while (old.isParked() && !old.isClosed() && successors.get(old) == null) {
                try {
                    monitor.wait(PARK_POLL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw SockException.of(Errno.EINTR);
                }
            }
        }
    }

    @Override
    public String mib() {
        return "SockHandOver";
    }

    @Override
    public Map<String, Long> counters(NetNamespace ns) {
        var a = handOverCounts.get(ns);
        Map<String, Long> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < HANDOVER_COUNTERS.length; i++) {
            m.put(HANDOVER_COUNTERS[i], a == null ? 0 : a.get(i));
        }
        return m;
    }

    private final Map<Sock, SocketProtocol> owners;

    private SocketProtocol owner(Sock s) {
        return owners.get(s);
    }

    private static int number(Map<String, Object> props, String key) {
        Object v = props.get(key);
        if (v instanceof Number n) {
            return n.intValue();
        }
        try {
            return v == null ? -1 : Integer.parseInt(v.toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void init(NetNamespace ns) {
        open.putIfAbsent(ns, ConcurrentHashMap.newKeySet());
    }

    @Override
    public void exit(NetNamespace ns) {
        providers.remove(ns);
        if (handingOver()) {
            return; // leaving for an update, not the namespace going away: the next version keeps its sockets
        }
        Set<Sock> set = open.remove(ns);
        if (set != null) {
            set.forEach(this::forget);
            set.forEach(Sock::close);
        }
    }

    /**
     * {@code __sock_create}: EAFNOSUPPORT for a family no protocol serves, ESOCKTNOSUPPORT for a type
     * none offers, EPROTONOSUPPORT for a protocol number that does not match the type.
     */
    Sock create(NetNamespace ns, int family, int type, int protocol) throws SockException {
        if (family < 0 || family >= 46) {
            throw SockException.of(Errno.EAFNOSUPPORT);
        }
        if (type < 1 || type > 10) {
            throw SockException.of(Errno.EINVAL);
        }
        boolean familyKnown = false;
        boolean typeKnown = false;
        for (Entry e : protocols) {
            if (e.family() != family) {
                continue;
            }
            familyKnown = true;
            if (e.type() != type) {
                continue;
            }
            typeKnown = true;
            if (e.number() == protocol || (protocol == 0 && e.isDefault())) {
                Sock s = e.protocol().create(ns);
                Set<Sock> set = open.computeIfAbsent(ns, n -> ConcurrentHashMap.newKeySet());
                set.add(s);
                owners.put(s, e.protocol());
                s.parkWith(gate(e.protocol()));
                return s;
            }
        }
        if (!familyKnown) {
            throw SockException.of(Errno.EAFNOSUPPORT);
        }
        throw SockException.of(typeKnown ? Errno.EPROTONOSUPPORT : Errno.ESOCKTNOSUPPORT);
    }

    /** A connection accepted from {@code listener} is a socket of the same protocol (ss lists it, closing the protocol closes it). */
    void accepted(Sock listener, Sock child) {
        SocketProtocol owner = owners.get(listener);
        if (owner == null) {
            return;
        }
        open.computeIfAbsent(child.namespace(), n -> ConcurrentHashMap.newKeySet()).add(child);
        owners.put(child, owner);
        child.parkWith(listener.parkGate());
        if (listener.isParked()) {
            awaitParkWalk(); // accepted as the protocol left for an update: the child waits for its successor too
            parked.put(child.inode(), child);
            child.park();
            Sock now = early.remove(child.inode());
            if (now != null) {
                adopted(child.inode(), now);
            }
        }
    }

    /** The last descriptor of a socket is closed. */
    void closed(Sock s) {
        forget(s);
        s.close();
    }

    private void forget(Sock s) {
        Set<Sock> set = open.get(s.namespace());
        if (set != null) {
            set.remove(s);
        }
        owners.remove(s);
    }

    NetNamespace namespace(String name) {
        if (name == null || name.isEmpty() || name.equals("init_net")) {
            return core.initNet();
        }
        return core.namespace(name);
    }

    int nextPid() {
        return pids.incrementAndGet();
    }

    @Override
    public SocketCalls process(String command, String netns) {
        NetNamespace ns = namespace(netns);
        if (ns == null) {
            return null;
        }
        SocketProcess task = new SocketProcess(command, nextPid());
        task.serve(new Process(this, task, ns));
        processes.add(task);
        return task;
    }

    private final Map<NetNamespace, ModnetSelectorProvider> providers = new ConcurrentHashMap<>();

    /** One provider per namespace, so channels and selectors from separate calls work together. */
    @Override
    public SelectorProvider provider(String netns) {
        NetNamespace ns = namespace(netns);
        return ns == null ? null : providers.computeIfAbsent(ns, n -> new ModnetSelectorProvider(this, n));
    }

    @Override
    public java.net.DatagramSocket datagramSocket(String netns) throws java.net.SocketException {
        NetNamespace ns = namespace(netns);
        if (ns == null) {
            throw new java.net.SocketException("network namespace \"" + netns + "\" does not exist");
        }
        return ModnetDatagramSocket.open(this, ns);
    }

    @Override
    public java.net.Socket socket(String netns) throws java.net.SocketException {
        return ModnetStreamSockets.socket(this, existing(netns));
    }

    @Override
    public java.net.ServerSocket serverSocket(String netns) throws java.io.IOException {
        return ModnetStreamSockets.serverSocket(this, existing(netns));
    }

    private NetNamespace existing(String netns) throws java.net.SocketException {
        NetNamespace ns = namespace(netns);
        if (ns == null) {
            throw new java.net.SocketException("network namespace \"" + netns + "\" does not exist");
        }
        return ns;
    }

    @Override
    public List<Sock> sockets(String netns) {
        NetNamespace ns = namespace(netns);
        Set<Sock> set = ns == null ? null : open.get(ns);
        if (set == null) {
            return List.of();
        }
        List<Sock> all = new ArrayList<>(set);
        all.sort(Comparator.comparingLong(Sock::inode));
        return all;
    }

    /**
     * Every socket of {@code ns}, by inode: the open ones and those only their protocol still holds
     * (connections not yet accepted, orphans finishing their close, TIME-WAIT), as {@code ss} dumps them.
     */
    List<Sock> allSockets(NetNamespace ns) {
        Set<Sock> all = new java.util.HashSet<>(sockets(ns.name()));
        for (Entry e : protocols) {
            all.addAll(e.protocol().sockets(ns));
        }
        List<Sock> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparingLong(Sock::inode));
        return sorted;
    }

    /** The protocols and their names, for {@code /proc/net/sockstat}: name to pages in use and sockets open. */
    Map<String, long[]> usage(NetNamespace ns) {
        Map<String, long[]> m = new java.util.TreeMap<>();
        for (Entry e : protocols) {
            m.putIfAbsent(e.protocol().name(), new long[] { 0, e.protocol().memoryPages(ns) });
        }
        for (Sock s : sockets(ns.name())) {
            SocketProtocol p = owner(s);
            if (p != null) {
                m.computeIfAbsent(p.name(), n -> new long[2])[0]++;
            }
        }
        return m;
    }

    /** The process closed: it is not handed to a next version. */
    void exited(SocketProcess task) {
        processes.remove(task);
    }

    NetCore core() {
        return core;
    }
}

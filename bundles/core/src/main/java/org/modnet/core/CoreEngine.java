package org.modnet.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

import org.modnet.api.net.Errno;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.net.SoftnetStat;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stack's core, free of OSGi so tests can build one: namespaces with their sysctls, the softirq
 * threads, packet dispatch, the pernet operations of the layers, and the RTNL lock every
 * configuration change takes.
 */
final class CoreEngine implements NetCore, org.modnet.api.sched.QdiscHook {
    private static final Logger LOG = LoggerFactory.getLogger(CoreEngine.class);

    private final Object rtnl = new Object();
    private final Softirq[] softirqs;
    private final Backlog[] backlogs;
    private final PacketDispatch dispatch = new PacketDispatch();
    private final TableHolder tables = new TableHolder(dispatch);
    /** How long frames wait for a handler's next version before they are dropped ({@code modnet.handover.timeout.ms}). */
    private static final long HOLD_TIMEOUT_MS = Long.getLong("modnet.handover.timeout.ms", 5_000);
    private final SkBuffPool pool;
    /** 64 KiB buffers for what an ordinary one cannot hold: reassembled datagrams, lo's large MTU. */
    private final SkBuffPool largePool;
    private final Map<String, Namespace> namespaces = Collections.synchronizedMap(new LinkedHashMap<>());
    private final SysctlConf sysctlConf = new SysctlConf();
    private final DefaultQdisc defaultQdisc = new DefaultQdisc(this);
    private final Namespace initNet;
    private final List<Pernet> pernets = new ArrayList<>();
    private final boolean threads;
    private final LongSupplier nanoClock;

    private record Pernet(PernetOperations ops, int order) {
    }

    /**
     * @param cpus    softirq threads
     * @param threads whether to start them; tests that drive {@link #softirq(int)} by hand pass false
     */
    CoreEngine(int cpus, boolean threads, SkBuffPool pool, LongSupplier nanoClock) {
        this.pool = pool;
        this.largePool = new SkBuffPool(Integer.getInteger("modnet.skb.large", 256), 65536 + 512);
        this.threads = threads;
        this.nanoClock = nanoClock;
        this.initNet = new Namespace(this, Namespace.INIT_NET);
        registerCoreSysctls(initNet);
        defaultQdisc.register(initNet.sysctlTree()); // global in Linux: init_net's table only
        namespaces.put(initNet.name(), initNet);
        // net.core.dev_weight and the budgets are global in Linux: init_net's values rule every CPU
        IntSysctl weight = sysctlInt("net.core.dev_weight");
        IntSysctl budget = sysctlInt("net.core.netdev_budget");
        IntSysctl usecs = sysctlInt("net.core.netdev_budget_usecs");
        this.softirqs = new Softirq[cpus];
        this.backlogs = new Backlog[cpus];
        IntSysctl maxBacklog = sysctlInt("net.core.netdev_max_backlog");
        for (int i = 0; i < cpus; i++) {
            softirqs[i] = new Softirq(i, weight::get, budget::get, usecs::get, nanoClock);
            backlogs[i] = new Backlog(this, softirqs[i], maxBacklog::get);
        }
        if (threads) {
            for (Softirq s : softirqs) {
                s.start();
            }
        }
    }

    private IntSysctl sysctlInt(String name) {
        // registerInt returns the existing handle for a registered name
        return initNet.sysctlTree().registerInt(name, 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** The {@code net.core} sysctls, with Linux's defaults and ranges. */
    private static void registerCoreSysctls(Namespace ns) {
        SysctlTree s = ns.sysctlTree();
        s.registerInt("net.core.dev_weight", 64, 1, Integer.MAX_VALUE);
        s.registerInt("net.core.netdev_budget", 300, 1, Integer.MAX_VALUE);
        s.registerInt("net.core.netdev_budget_usecs", 2000, 1, Integer.MAX_VALUE);
        s.registerInt("net.core.netdev_max_backlog", 1000, 1, Integer.MAX_VALUE);
        s.registerInt("net.core.rmem_default", 212992, 256, Integer.MAX_VALUE);
        s.registerInt("net.core.rmem_max", 212992, 256, Integer.MAX_VALUE);
        s.registerInt("net.core.wmem_default", 212992, 256, Integer.MAX_VALUE);
        s.registerInt("net.core.wmem_max", 212992, 256, Integer.MAX_VALUE);
        s.registerInt("net.core.somaxconn", 4096, 0, Integer.MAX_VALUE);
        s.registerInt("net.core.optmem_max", 131072, 0, Integer.MAX_VALUE);
        // busy polling (Documentation/admin-guide/sysctl/net.rst): microseconds a blocking read
        // (busy_read, each socket's SO_BUSY_POLL default) and a poll or select (busy_poll) spin on the
        // device queue a socket last received from before sleeping; 0, Linux's default, is off
        s.registerInt("net.core.busy_read", 0, 0, Integer.MAX_VALUE);
        s.registerInt("net.core.busy_poll", 0, 0, Integer.MAX_VALUE);
    }

    Object rtnl() {
        return rtnl;
    }

    SysctlConf sysctlConf() {
        return sysctlConf;
    }

    /**
     * Configured sysctls (a feature's, through Configuration Admin): every namespace takes them now,
     * namespaces made later and entries registered later take them when they appear, and names no
     * longer configured go back to their defaults.
     */
    void configureSysctls(Map<String, String> values) {
        synchronized (rtnl) {
            Map<String, String> before = sysctlConf.values();
            sysctlConf.values(values);
            for (NetNamespace ns : namespaces()) {
                ((Namespace) ns).sysctlTree().reconfigure(before, sysctlConf.values());
            }
        }
    }

    NetCore api() {
        return this;
    }

    PacketDispatch dispatch() {
        return dispatch;
    }

    Softirq softirq(int cpu) {
        return softirqs[cpu];
    }

    @Override
    public int currentCpu() {
        Thread t = Thread.currentThread();
        for (Softirq s : softirqs) {
            if (s.runsOn(t)) {
                return s.cpu();
            }
        }
        return -1;
    }

    /** {@code MIN_NAPI_ID}: NAPI ids start above the CPUs' numbers ({@code NR_CPUS} + 1 on Debian's kernels). */
    static final int MIN_NAPI_ID = 8193;
    /** {@code BUSY_POLL_BUDGET}: frames one busy poll takes at most. */
    static final int BUSY_POLL_BUDGET = 8;
    /** {@code napi_hash}: instance {@code MIN_NAPI_ID + i} at {@code i}, weakly (a device that went takes its own with it). */
    @SuppressWarnings("unchecked")
    private volatile java.lang.ref.WeakReference<Napi>[] napiHash = new java.lang.ref.WeakReference[0];

    /** {@code napi_hash_add}: gives {@code napi} its id. */
    synchronized void hashNapi(Napi napi) {
        java.lang.ref.WeakReference<Napi>[] h = java.util.Arrays.copyOf(napiHash, napiHash.length + 1);
        h[h.length - 1] = new java.lang.ref.WeakReference<>(napi);
        napi.id(MIN_NAPI_ID + h.length - 1);
        napiHash = h;
    }

    /** {@code napi_by_id}: null for an id never given or whose device went. */
    Napi napiById(int id) {
        java.lang.ref.WeakReference<Napi>[] h = napiHash;
        int i = id - MIN_NAPI_ID;
        return i < 0 || i >= h.length ? null : h[i].get();
    }

    @Override
    public int currentNapiId() {
        Thread t = Thread.currentThread();
        for (Softirq s : softirqs) {
            if (s.runsOn(t)) {
                Napi n = s.polling;
                return n == null ? 0 : n.id();
            }
        }
        return 0;
    }

    @Override
    public void napiBusyLoop(int napiId, java.util.function.BooleanSupplier loopEnd, long nanos) {
        napiBusyLoop(napiId, loopEnd, nanos, false, 0);
    }

    @Override
    public void napiBusyLoop(int napiId, java.util.function.BooleanSupplier loopEnd, long nanos, boolean prefer, int budget) {
        int pollBudget = budget > 0 ? budget : BUSY_POLL_BUDGET;
        Napi napi = napiById(napiId);
        if (napi == null || nanos <= 0) {
            return;
        }
        Softirq s = napi.softirq();
        long start = System.nanoTime(); // busy_loop_current_time: the wall clock, even where the core's is virtual
        boolean owned = false;
        try {
            while (true) {
                if (s.tryBh()) {
                    Thread previous = s.enter();
                    try {
                        if (!owned) {
                            owned = napi.busyPollStart(prefer); // not while the softirq has it scheduled: it reads the frames then
                        }
                        if (owned) {
                            s.polling = napi;
                            napi.busyPoll(pollBudget);
                        }
                    } finally {
                        s.polling = null;
                        s.exit(previous);
                        s.unlockBh();
                    }
                }
                if (loopEnd.getAsBoolean() || System.nanoTime() - start >= nanos) {
                    return;
                }
                Thread.onSpinWait();
            }
        } finally {
            if (owned) {
                s.lockBh();
                Thread previous = s.enter();
                try {
                    s.polling = napi;
                    napi.busyPollStop(pollBudget, prefer); // with prefer, the interrupt may stay off: the watchdog's then
                } finally {
                    s.polling = null;
                    s.exit(previous);
                    s.unlockBh();
                }
            }
        }
    }

    @Override
    public void napiSuspendIrqs(int napiId) {
        Napi napi = napiById(napiId);
        if (napi != null) {
            napi.suspendIrqs();
        }
    }

    @Override
    public void napiResumeIrqs(int napiId) {
        Napi napi = napiById(napiId);
        if (napi != null) {
            napi.resumeIrqs();
        }
    }

    @Override
    public boolean enqueueToBacklog(SkBuff skb, int cpu) {
        return enqueueToBacklog(skb, cpu, null);
    }

    @Override
    public boolean enqueueToBacklog(SkBuff skb, int cpu, java.util.function.Predicate<SkBuff> first) {
        if (cpu < 0 || cpu >= backlogs.length || !(skb.dev() instanceof NetDev)) {
            skb.free();
            return false;
        }
        return backlogs[cpu].enqueue(skb, first);
    }

    /** The softirq that polls receive queue {@code queue} of device {@code ifindex}: queues spread over CPUs. */
    Softirq softirqFor(int ifindex, int queue) {
        return softirqs[Math.floorMod(ifindex + queue, softirqs.length)];
    }

    Namespace own(NetNamespace ns) throws NetException {
        Namespace n = namespaces.get(ns.name());
        if (n != ns) {
            throw new NetException(Errno.EINVAL, "namespace " + ns.name() + " does not exist");
        }
        return n;
    }

    @Override
    public NetNamespace initNet() {
        return initNet;
    }

    @Override
    public NetNamespace namespace(String name) {
        return namespaces.get(name);
    }

    @Override
    public List<NetNamespace> namespaces() {
        synchronized (namespaces) {
            return new ArrayList<>(namespaces.values());
        }
    }

    @Override
    public NetNamespace addNamespace(String name) throws NetException {
        if (name == null || name.isEmpty() || name.length() > 255 || name.contains("/") || name.equals(".")
                || name.equals("..")) {
            throw new NetException(Errno.EINVAL, "invalid namespace name \"" + name + "\"");
        }
        synchronized (rtnl) {
            if (namespaces.containsKey(name)) {
                throw new NetException(Errno.EEXIST);
            }
            Namespace ns = new Namespace(this, name);
            registerCoreSysctls(ns);
            namespaces.put(name, ns);
            for (Pernet p : pernets) {
                init(p.ops, ns);
            }
            return ns;
        }
    }

    @Override
    public void deleteNamespace(String name) throws NetException {
        synchronized (rtnl) {
            Namespace ns = namespaces.get(name);
            if (ns == null || ns == initNet) {
                throw new NetException(Errno.ENOENT);
            }
            List<Pernet> reversed = new ArrayList<>(pernets);
            Collections.reverse(reversed);
            for (Pernet p : reversed) {
                exit(p.ops, ns);
            }
            for (NetDevice dev : ns.devices()) {
                ((NetDev) dev).unregisterLocked();
            }
            namespaces.remove(name);
        }
    }

    /** A layer's per-namespace operations arrive: run them for every namespace, in order. */
    void addPernet(PernetOperations ops, int order) {
        synchronized (rtnl) {
            pernets.add(new Pernet(ops, order));
            pernets.sort(Comparator.comparingInt(Pernet::order));
            for (NetNamespace ns : namespaces()) {
                init(ops, (Namespace) ns);
                for (NetDevice dev : ns.devices()) {
                    notify(ops, dev, null, 0); // register_netdevice_notifier replays NETDEV_REGISTER
                }
            }
        }
    }

    void removePernet(PernetOperations ops) {
        synchronized (rtnl) {
            // a loop, not removeIf's lambda: its class would be spun inside a live update's swap (the leaving protocol's unbind)
            for (int i = pernets.size() - 1; i >= 0; i--) {
                if (pernets.get(i).ops == ops) {
                    pernets.remove(i);
                }
            }
            for (NetNamespace ns : namespaces()) {
                exit(ops, (Namespace) ns);
            }
        }
    }

    /** The netdevice notifier chain, under RTNL: 0 register, 1 unregister, 2 change of name. */
    void netdevEvent(NetDevice dev, int event, String oldName) {
        for (Pernet p : pernets) {
            notify(p.ops, dev, oldName, event);
        }
    }

    private static void notify(PernetOperations ops, NetDevice dev, String oldName, int event) {
        try {
            switch (event) {
                case 0 -> ops.netdevRegister(dev);
                case 1 -> ops.netdevUnregister(dev);
                default -> ops.netdevChangeName(dev, oldName);
            }
        } catch (RuntimeException e) {
            LOG.error("netdevice event {} of {} for {} failed: {}", event, ops.getClass().getName(), dev.name(), e.toString());
        }
    }

    private static void init(PernetOperations ops, Namespace ns) {
        try {
            ops.init(ns);
        } catch (NetException | RuntimeException e) {
            LOG.error("pernet init of {} in namespace {} failed: {}", ops.getClass().getName(), ns, e.toString());
        }
    }

    private static void exit(PernetOperations ops, Namespace ns) {
        try {
            ops.exit(ns);
        } catch (RuntimeException e) {
            LOG.error("pernet exit of {} in namespace {} failed: {}", ops.getClass().getName(), ns, e.toString());
        }
    }

    private final GsoDispatch offloads = new GsoDispatch();

    GsoDispatch offloads() {
        return offloads;
    }

    void addOffload(int ethertype, org.modnet.api.net.PacketOffload offload) {
        offloads.add(ethertype, offload);
    }

    void removeOffload(int ethertype, org.modnet.api.net.PacketOffload offload) {
        offloads.remove(ethertype, offload);
    }

    void addHandler(int ethertype, PacketHandler handler) {
        dispatch.add(ethertype, handler);
    }

    void removeHandler(int ethertype, PacketHandler handler) {
        // a handler leaving for an update whose next version adopts its state: its frames wait
        boolean handOver = handler instanceof org.modnet.api.handover.HandsOver h && h.handingOver();
        int generation = dispatch.remove(ethertype, handler, handOver);
        if (generation >= 0) {
            timer(0, () -> dispatch.releaseHeld(ethertype, generation)).mod(HOLD_TIMEOUT_MS);
        }
    }

    /** The holder of the layers' tables across their updates ({@link org.modnet.api.handover.StateHolder}). */
    TableHolder tables() {
        return tables;
    }

    @Override
    public int cpus() {
        return softirqs.length;
    }

    @Override
    public List<SoftnetStat> softnetStats() {
        List<SoftnetStat> stats = new ArrayList<>(softirqs.length);
        for (Softirq s : softirqs) {
            stats.add(s.stat());
        }
        return stats;
    }

    @Override
    public void netifReceiveSkb(SkBuff skb) {
        NetDevice dev = skb.dev();
        if (dev instanceof NetDev d) {
            dispatch.deliver(skb, dev, d.tcHook(true), d.nfIngress());
        } else {
            dispatch.deliver(skb, dev, null);
        }
    }

    /** The NAPI poll's hand-off: the frame came in on {@code dev}. */
    void receive(SkBuff skb, NetDev dev) {
        dispatch.deliver(skb, dev, dev.tcHook(true), dev.nfIngress());
    }

    @Override
    public void devQueueXmit(SkBuff skb) {
        devQueueXmitStatus(skb);
    }

    @Override
    public int devQueueXmitStatus(SkBuff skb) {
        if (!(skb.dev() instanceof NetDev dev)) {
            skb.free();
            throw new IllegalArgumentException("dev_queue_xmit: the skb names no device of this core");
        }
        if (!dev.isRegistered()) {
            dev.stats().addShared(org.modnet.api.net.DeviceStats.Field.TX_DROPPED, 1); // unregistered meanwhile
            skb.free();
            return org.modnet.api.sched.Qdisc.NET_XMIT_DROP;
        }
        return dev.xmit(skb);
    }

    // --- the qdisc hook (net/sched grafts its qdiscs here) ---

    /** {@code net.core.default_qdisc} and the qdisc families it may name. */
    DefaultQdisc defaultQdisc() {
        return defaultQdisc;
    }

    private static NetDev netDev(NetDevice dev) {
        if (!(dev instanceof NetDev d)) {
            throw new IllegalArgumentException("not a device of this core: " + dev);
        }
        return d;
    }

    @Override
    public org.modnet.api.sched.Qdisc qdisc(NetDevice dev) {
        return netDev(dev).currentQdisc();
    }

    @Override
    public boolean isDefault(NetDevice dev) {
        return netDev(dev).hasDefaultQdisc();
    }

    @Override
    public org.modnet.api.sched.Qdisc graft(NetDevice dev, org.modnet.api.sched.Qdisc q) {
        NetDev d = netDev(dev);
        org.modnet.api.sched.Qdisc old = d.graft(q);
        d.qdiscRun();
        return old;
    }

    @Override
    public org.modnet.api.sched.Qdisc graftMulti(NetDevice dev, org.modnet.api.sched.Qdisc root,
            java.util.List<org.modnet.api.sched.Qdisc> children) throws org.modnet.api.net.NetException {
        NetDev d = netDev(dev);
        org.modnet.api.sched.Qdisc old = d.graftMulti(root, children);
        d.qdiscRun();
        return old;
    }

    @Override
    public org.modnet.api.sched.Qdisc graftTx(NetDevice dev, int index, org.modnet.api.sched.Qdisc q)
            throws org.modnet.api.net.NetException {
        NetDev d = netDev(dev);
        org.modnet.api.sched.Qdisc old = d.graftTx(index, q);
        d.qdiscRun();
        return old;
    }

    @Override
    public org.modnet.api.sched.Qdisc txQdisc(NetDevice dev, int index) {
        return netDev(dev).txQdisc(index);
    }

    @Override
    public void schedule(NetDevice dev) {
        netDev(dev).qdiscRun();
    }

    @Override
    public org.modnet.api.sched.TcHook attachTc(NetDevice dev, boolean ingress, org.modnet.api.sched.TcHook hook) {
        return netDev(dev).attachTc(ingress, hook);
    }

    @Override
    public org.modnet.api.sched.TcHook tcHook(NetDevice dev, boolean ingress) {
        return netDev(dev).tcHook(ingress);
    }

    org.modnet.api.netfilter.NfIngress.Hook attachIngress(NetDevice dev, org.modnet.api.netfilter.NfIngress.Hook hook) {
        return netDev(dev).attachNfIngress(hook);
    }

    org.modnet.api.netfilter.NfIngress.Hook ingressHook(NetDevice dev) {
        return netDev(dev).nfIngress();
    }

    @Override
    public SkBuffPool pool() {
        return pool;
    }

    @Override
    public SkBuff allocSkb(int len, int headroom) {
        if ((long) len + headroom <= pool.bufferSize()) {
            return pool.alloc(len, headroom);
        }
        return largePool.alloc(len, headroom);
    }

    @Override
    public org.modnet.api.net.Timer timer(int cpu, Runnable function) {
        return softirqs[Math.floorMod(cpu, softirqs.length)].timer(function);
    }

    @Override
    public org.modnet.api.net.Timer hrtimer(int cpu, Runnable function) {
        return softirqs[Math.floorMod(cpu, softirqs.length)].hrtimer(function);
    }

    @Override
    public long nanoTime() {
        return nanoClock.getAsLong();
    }

    /** Stops the softirq threads and unregisters every device (the core bundle stops). */
    void shutdown() {
        synchronized (rtnl) {
            List<Pernet> reversed = new ArrayList<>(pernets);
            Collections.reverse(reversed);
            for (NetNamespace ns : namespaces()) {
                for (Pernet p : reversed) {
                    exit(p.ops, (Namespace) ns);
                }
                for (NetDevice dev : ns.devices()) {
                    ((NetDev) dev).unregisterLocked();
                }
            }
            pernets.clear();
        }
        if (threads) {
            for (Softirq s : softirqs) {
                s.stop();
            }
        }
    }
}

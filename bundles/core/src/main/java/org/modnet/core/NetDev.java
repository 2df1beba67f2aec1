package org.modnet.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.RingParams;
import org.modnet.api.net.Rtnetlink;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.TxResult;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.skb.FlowDissector;
import org.modnet.api.skb.SkBuff;

/**
 * {@code struct net_device}: a registered device, its state, queues and counters. Configuration
 * changes take the core's RTNL lock; the packet path reads volatile fields and takes no lock but the
 * qdisc's, as Linux takes the qdisc root lock.
 */
final class NetDev implements NetDevice {
    private final CoreEngine core;
    private final NetDeviceOps ops;
    private final DeviceSetup setup;
    private final DeviceStats stats = new DeviceStats();
    private final CopyOnWriteArrayList<IfAddress> addresses = new CopyOnWriteArrayList<>();
    private final Map<String, Boolean> features;
    /** {@code dev->features} as bits, kept current by {@link #setFeature}: read per packet. */
    private volatile long featureBits;
    /** Where software segmentation hands each segment: the rest of the transmit path. */
    private final java.util.function.Consumer<SkBuff> segmentOut = this::xmitSegment;

    private volatile Namespace ns;
    private volatile String name;
    private volatile int ifindex;
    private volatile int flags; // IFF_UP, IFF_PROMISC as set; RUNNING/LOWER_UP are derived
    /** The carrier as last seen ({@code __LINK_STATE_NOCARRIER} cleared): alloc_netdev starts a device with it on. */
    private boolean carrierOn = true;
    /** {@code carrier_up_count + carrier_down_count}, written under RTNL. */
    private volatile long carrierChanges;
    private volatile int mtu;
    private volatile MacAddress address;
    private volatile int txQueueLen;
    /** {@code napi_defer_hard_irqs} and {@code gro_flush_timeout} (ns): read by the device's NAPI instances at each completion. */
    private volatile int napiDeferHardIrqs;
    private volatile long groFlushTimeout;
    private volatile int rxRing;
    private volatile int txRing;
    private volatile RxQueueImpl[] rxQueues;
    private final List<RxQueueImpl> retiredQueues = new CopyOnWriteArrayList<>();
    private volatile boolean registered;

    /**
     * The default qdisc (null: noqueue) the device got when it was made or when traffic control last
     * removed its own ({@code net.core.default_qdisc} then).
     */
    private volatile Qdisc defaultQdisc;
    /** {@code IFF_NO_QUEUE}: the driver asked for no queue (lo, veth); the default is noqueue. */
    private final boolean noQueue;
    /**
     * The root qdisc ({@code dev->qdisc}; null: noqueue) and, unless it is a multi-queue root, the slot
     * every transmit queue feeds; swapped by {@link #graft} under the old one's lock.
     */
    private final TxSlot root;
    /** Per transmit queue: the root's slot, or each its own under {@code mq} ({@link #graftMulti}). */
    private volatile TxSlot[] txSlots;
    private final Object graftLock = new Object();
    /** Per transmit queue (as many as the device may have): its byte queue limits ({@code dev_queue->dql}). */
    private final DynamicQueueLimits[] dql;
    /** The driver reports its completions (it called {@link #txSentQueue}): sysfs shows byte_queue_limits. */
    private volatile boolean usesBql;
    /** {@code real_num_tx_queues}: how many transmit queues {@link #pickTx} spreads flows over. */
    private volatile int realNumTxQueues = 1;
    /** The attached XDP program and its mode, changed together. */
    record XdpAttachment(org.modnet.api.net.XdpHook hook, boolean nativeMode) {
    }

    private volatile XdpAttachment xdp;
    /** A clsact/ingress qdisc's classifiers ({@code dev->miniq_ingress}, {@code miniq_egress}); null: none. */
    private volatile org.modnet.api.sched.TcHook tcIngress;
    private volatile org.modnet.api.sched.TcHook tcEgress;
    /** The netdev family's ingress chains ({@code dev->nf_hooks_ingress}); null: none. */
    private volatile org.modnet.api.netfilter.NfIngress.Hook nfIngress;
    /** XDP actions by number (aborted, drop, pass, tx, redirect), counted from several queues at once. */
    private final java.util.concurrent.atomic.AtomicLongArray xdpActions = new java.util.concurrent.atomic.AtomicLongArray(5);

    NetDev(CoreEngine core, Namespace ns, int ifindex, DeviceSetup setup, NetDeviceOps ops) {
        this.core = core;
        this.ns = ns;
        this.ifindex = ifindex;
        this.setup = setup;
        this.ops = ops;
        this.name = setup.name();
        this.flags = setup.flags() & ~(IfFlags.UP | IfFlags.RUNNING | IfFlags.LOWER_UP);
        this.mtu = setup.mtu();
        this.address = setup.address();
        this.txQueueLen = setup.txQueueLen();
        this.rxRing = setup.rxRing();
        this.txRing = setup.txRing();
        this.features = Collections.synchronizedMap(new TreeMap<>(setup.features()));
        this.featureBits = org.modnet.api.net.NetdevFeatures.bits(setup.features());
        this.noQueue = "noqueue".equals(setup.qdisc());
        this.defaultQdisc = core.defaultQdisc().create(this, noQueue);
        this.root = new TxSlot(defaultQdisc);
        this.dql = new DynamicQueueLimits[Math.max(1, setup.maxRxQueues())];
        for (int i = 0; i < dql.length; i++) {
            dql[i] = new DynamicQueueLimits(core.nanoTime());
        }
        this.txSlots = new TxSlot[] { root };
        RxQueueImpl[] queues = new RxQueueImpl[setup.rxQueues()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new RxQueueImpl(this, i, rxRing, core.softirqFor(ifindex, i));
        }
        this.rxQueues = queues;
        this.registered = true;
    }

    CoreEngine core() {
        return core;
    }

    NetDeviceOps ops() {
        return ops;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int ifindex() {
        return ifindex;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public int minMtu() {
        return setup.minMtu();
    }

    @Override
    public int maxMtu() {
        return setup.maxMtu();
    }

    @Override
    public int flags() {
        int f = flags;
        if ((f & IfFlags.UP) != 0 && ops.carrier(this)) {
            f |= IfFlags.RUNNING | IfFlags.LOWER_UP;
        }
        return f;
    }

    @Override
    public boolean isUp() {
        return (flags & IfFlags.UP) != 0;
    }

    @Override
    public int type() {
        return setup.type();
    }

    @Override
    public String kind() {
        return setup.kind();
    }

    @Override
    public MacAddress address() {
        return address;
    }

    @Override
    public MacAddress broadcast() {
        return setup.broadcast();
    }

    @Override
    public int txQueueLen() {
        return txQueueLen;
    }

    @Override
    public int napiDeferHardIrqs() {
        return napiDeferHardIrqs;
    }

    @Override
    public void setNapiDeferHardIrqs(int count) throws NetException {
        if (count < 0) {
            throw new NetException(org.modnet.api.net.Errno.ERANGE, "napi_defer_hard_irqs: " + count); // above S32_MAX as Linux reads it
        }
        napiDeferHardIrqs = count;
    }

    @Override
    public long groFlushTimeout() {
        return groFlushTimeout;
    }

    @Override
    public void setGroFlushTimeout(long nanos) throws NetException {
        if (nanos < 0) {
            throw new NetException(org.modnet.api.net.Errno.EINVAL, "gro_flush_timeout: " + nanos);
        }
        groFlushTimeout = nanos;
    }

    @Override
    public String operState() {
        if (!isUp()) {
            return "DOWN";
        }
        if ((setup.flags() & IfFlags.LOOPBACK) != 0) {
            return "UNKNOWN";
        }
        return ops.carrier(this) ? "UP" : "LOWERLAYERDOWN";
    }

    @Override
    public NetNamespace namespace() {
        return ns;
    }

    Namespace ns() {
        return ns;
    }

    @Override
    public NetDevice link() {
        return ops.link(this);
    }

    @Override
    public DeviceStats stats() {
        return stats;
    }

    @Override
    public String qdisc() {
        Qdisc q = root.qdisc;
        return q == null ? "noqueue" : q.kind();
    }

    @Override
    public int qdiscBacklog() {
        Qdisc q = root.qdisc;
        if (q == null) {
            return 0;
        }
        synchronized (q) {
            return q.qlen();
        }
    }

    Qdisc currentQdisc() {
        return root.qdisc;
    }

    boolean hasDefaultQdisc() {
        return root.qdisc == defaultQdisc;
    }

    /**
     * {@code dev_graft_qdisc}: puts {@code next} on the transmit path (null: the built-in default; a
     * {@code noqueue} qdisc: none) and returns what was there. The old qdisc's queue is freed under its
     * lock, counted in {@code tx_dropped}; a sender that raced the swap sees it and retries on the new one.
     */
    Qdisc graft(Qdisc next) {
        synchronized (graftLock) {
            Qdisc target;
            List<Qdisc> kids = null;
            if (next == null) {
                kids = defaultChildren();
                // attach_default_qdiscs: mq over a default per queue, or attach_one_default_qdisc: today's default, new
                target = kids != null ? new Mq(kids) : core.defaultQdisc().create(this, noQueue);
                defaultQdisc = target;
            } else {
                target = "noqueue".equals(next.kind()) ? null : next;
            }
            Qdisc old = root.qdisc;
            if (old == null) {
                root.qdisc = target;
            } else {
                synchronized (old) {
                    root.qdisc = target;
                    int freed = old.reset();
                    if (freed > 0) {
                        stats.addShared(DeviceStats.Field.TX_DROPPED, freed);
                    }
                }
            }
            shareRoot();
            if (kids != null) {
                perQueueSlots(kids);
            }
            return old;
        }
    }

    /**
     * {@code attach_default_qdiscs}: a device with a queue and more than one transmit queue
     * ({@code netif_is_multiqueue}, not {@code IFF_NO_QUEUE}) gets {@code mq} with a default qdisc per
     * queue; null: one default for all. Under graftLock.
     */
    private List<Qdisc> defaultChildren() {
        if (noQueue || realNumTxQueues < 2) {
            return null;
        }
        List<Qdisc> kids = new ArrayList<>(realNumTxQueues);
        for (int i = 0; i < realNumTxQueues; i++) {
            kids.add(core.defaultQdisc().create(this, false));
        }
        return kids;
    }

    /** Queue i feeds {@code children.get(i)} (null or noqueue: none), each with its own run and stopped flags. Under graftLock. */
    private void perQueueSlots(List<Qdisc> children) {
        TxSlot[] now = new TxSlot[children.size()];
        for (int i = 0; i < now.length; i++) {
            Qdisc c = children.get(i);
            now[i] = new TxSlot(c == null || "noqueue".equals(c.kind()) ? null : c);
        }
        txSlots = now;
    }

    /** The family {@code kind} left: a default qdisc of that family gives way to today's default. */
    void replaceDefaultOf(String kind) {
        Qdisc old = root.qdisc;
        if (old == null || old != defaultQdisc) {
            return;
        }
        boolean theirs = kind.equals(old.kind())
                || old instanceof Mq mq && mq.children().stream().anyMatch(c -> c != null && kind.equals(c.kind()));
        if (!theirs) {
            return;
        }
        graft(null);
        old.destroy();
        qdiscRun();
    }

    @Override
    public List<IfAddress> addresses() {
        return List.copyOf(addresses);
    }

    @Override
    public Map<String, String> driverInfo() {
        return ops.driverInfo(this);
    }

    @Override
    public void setXdp(org.modnet.api.net.XdpHook hook) {
        xdp = hook == null ? null : new XdpAttachment(hook, false);
    }

    @Override
    public void setXdp(org.modnet.api.net.XdpHook hook, boolean nativeMode) throws NetException {
        if (hook != null && nativeMode && !supportsNativeXdp()) {
            throw new NetException(Errno.EOPNOTSUPP, "Underlying driver does not support XDP in native mode.");
        }
        xdp = hook == null ? null : new XdpAttachment(hook, nativeMode);
    }

    @Override
    public org.modnet.api.net.XdpHook xdp() {
        XdpAttachment x = xdp;
        return x == null ? null : x.hook();
    }

    @Override
    public boolean xdpNative() {
        XdpAttachment x = xdp;
        return x != null && x.nativeMode();
    }

    @Override
    public boolean supportsNativeXdp() {
        return ops.nativeXdp(this);
    }

    org.modnet.api.sched.TcHook tcHook(boolean ingress) {
        return ingress ? tcIngress : tcEgress;
    }

    org.modnet.api.netfilter.NfIngress.Hook nfIngress() {
        return nfIngress;
    }

    org.modnet.api.netfilter.NfIngress.Hook attachNfIngress(org.modnet.api.netfilter.NfIngress.Hook hook) {
        org.modnet.api.netfilter.NfIngress.Hook old = nfIngress;
        nfIngress = hook;
        return old;
    }

    org.modnet.api.sched.TcHook attachTc(boolean ingress, org.modnet.api.sched.TcHook hook) {
        org.modnet.api.sched.TcHook old = ingress ? tcIngress : tcEgress;
        if (ingress) {
            tcIngress = hook;
        } else {
            tcEgress = hook;
        }
        return old;
    }

    /** The program and its mode, read once per frame. */
    XdpAttachment xdpAttachment() {
        return xdp;
    }

    void countXdp(int action) {
        xdpActions.incrementAndGet(action);
    }

    long xdpCount(int action) {
        return xdpActions.get(action);
    }

    @Override
    public Map<String, Long> ethtoolStats() {
        Map<String, Long> all = new LinkedHashMap<>();
        String[] names = { "xdp_aborted", "xdp_drop", "xdp_pass", "xdp_tx", "xdp_redirect" };
        for (int a = 0; a < names.length; a++) {
            all.put(names[a], xdpActions.get(a));
        }
        RxQueueImpl[] queues = rxQueues;
        for (RxQueueImpl q : queues) {
            all.put("rx_queue_" + q.index() + "_packets", q.packets());
            all.put("rx_queue_" + q.index() + "_bytes", q.bytes());
            all.put("rx_queue_" + q.index() + "_irqs", q.napi().schedules());
            all.put("rx_queue_" + q.index() + "_polls", q.napi().polls());
            all.put("rx_queue_" + q.index() + "_ring_full_drops", q.ringDrops());
            Gro g = q.gro(); // napi_gro_receive: frames merged, the skbs they went up in, flows flushed early for room
            all.put("rx_queue_" + q.index() + "_gro_merged", g.merged());
            all.put("rx_queue_" + q.index() + "_gro_skbs", g.mergedSkbs());
            all.put("rx_queue_" + q.index() + "_gro_flush_full", g.flushedFull());
            all.put("rx_queue_" + q.index() + "_gro_no_buffer", g.noBuffer());
            // gro_flush_timeout: flows a completion kept held for the next poll, and those it sent up for their age
            all.put("rx_queue_" + q.index() + "_gro_held_over", g.kept());
            all.put("rx_queue_" + q.index() + "_gro_flush_old", g.flushedAged());
            all.put("rx_queue_" + q.index() + "_gro_freed", g.freed()); // held flows freed as the device went down (flush_gro_hash)
        }
        Qdisc q = root.qdisc;
        if (q != null) {
            all.put("tx_qdisc_drops", q.stats().drops());
        }
        return ops.ethtoolStats(this, all);
    }

    @Override
    public Map<String, Boolean> features() {
        synchronized (features) {
            return new LinkedHashMap<>(features);
        }
    }

    @Override
    public long netdevFeatures() {
        return ops.fixFeatures(this, featureBits);
    }

    @Override
    public java.util.Set<String> fixedFeatures() {
        return setup.fixedFeatures();
    }

    /** Features that cannot change: {@code [fixed]} in {@code ethtool -k}. */
    boolean isFixed(String feature) {
        return setup.fixedFeatures().contains(feature);
    }

    @Override
    public RingParams ringParams() {
        return new RingParams(rxRing, setup.rxRingMax(), txRing, setup.txRingMax());
    }

    @Override
    public int rxQueues() {
        return rxQueues.length;
    }

    @Override
    public RxQueue rxQueue(int index) {
        RxQueueImpl[] queues = rxQueues;
        return queues[Math.floorMod(index, queues.length)];
    }

    RxQueueImpl[] queues() {
        return rxQueues;
    }

    @Override
    public int txQueues() {
        return realNumTxQueues;
    }

    /** The driver's maximum: a device gets as many transmit queues as it may get receive queues. */
    @Override
    public int maxTxQueues() {
        return setup.maxRxQueues();
    }

    @Override
    public void setTxQueues(int count) throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            if (count < 1 || count > maxTxQueues()) {
                throw new NetException(Errno.EINVAL);
            }
            Qdisc old = null;
            synchronized (graftLock) {
                boolean defaultRoot = root.qdisc == defaultQdisc;
                if (txSlots[0] != root && !defaultRoot) {
                    throw new NetException(Errno.EBUSY); // tc's mq has a child per queue: replace the root first
                }
                realNumTxQueues = count;
                if (defaultRoot && !noQueue) {
                    old = graft(null); // the default follows the queue count: mq over a default per queue, or one default
                } else {
                    shareRoot();
                }
            }
            if (old != null) {
                old.destroy();
            }
        }
    }

    /** Every transmit queue feeds the root; what per-queue qdiscs held is freed, counted in tx_dropped. Under graftLock. */
    private void shareRoot() {
        TxSlot[] old = txSlots;
        TxSlot[] now = new TxSlot[realNumTxQueues];
        java.util.Arrays.fill(now, root);
        txSlots = now;
        for (TxSlot slot : old) {
            Qdisc q = slot.qdisc;
            if (slot != root && q != null) {
                synchronized (q) {
                    slot.qdisc = null;
                    int freed = q.reset();
                    if (freed > 0) {
                        stats.addShared(DeviceStats.Field.TX_DROPPED, freed);
                    }
                }
            }
        }
    }

    /**
     * {@code mq_attach}: {@code rootQdisc} becomes the root (shown, holding no frame; null: the core's
     * own {@link Mq} over the children) and queue i feeds {@code children.get(i)} (null: noqueue) with
     * its own run flag and stopped flag. Returns the root it replaced; frames queued in the old qdiscs
     * are freed, counted in tx_dropped.
     */
    Qdisc graftMulti(Qdisc rootQdisc, List<Qdisc> children) throws NetException {
        synchronized (graftLock) {
            if (children.size() != realNumTxQueues) {
                throw new NetException(Errno.EINVAL);
            }
            Qdisc old = graft(rootQdisc != null ? rootQdisc : new Mq(children));
            perQueueSlots(children);
            return old;
        }
    }

    /**
     * {@code dev_graft_qdisc} on one transmit queue under a multi-queue root ({@code tc qdisc replace
     * dev D parent :N}): returns the child it replaced, its frames freed and counted in tx_dropped.
     */
    Qdisc graftTx(int index, Qdisc q) throws NetException {
        synchronized (graftLock) {
            TxSlot[] slots = txSlots;
            if (index < 0 || index >= slots.length || slots[index] == root) {
                throw new NetException(Errno.EINVAL);
            }
            TxSlot slot = slots[index];
            Qdisc target = q == null || "noqueue".equals(q.kind()) ? null : q;
            Qdisc old = slot.qdisc;
            if (root.qdisc instanceof Mq mq && q != null) {
                mq.child(index, q); // mq_graft: the root's sums and destroy follow the queue's new qdisc
            }
            if (old == null) {
                slot.qdisc = target;
            } else {
                synchronized (old) {
                    slot.qdisc = target;
                    int freed = old.reset();
                    if (freed > 0) {
                        stats.addShared(DeviceStats.Field.TX_DROPPED, freed);
                    }
                }
            }
            return old;
        }
    }

    /** The qdisc transmit queue {@code index} feeds: the root's, or its own under a multi-queue root. */
    Qdisc txQdisc(int index) {
        TxSlot[] slots = txSlots;
        return index < 0 || index >= slots.length ? null : slots[index].qdisc;
    }

    /**
     * {@code netdev_pick_tx}: a frame of a multi-queue device goes to the queue its flow hashes to
     * ({@code skb_tx_hash}: the hash scaled onto the queues, {@code reciprocal_scale}), so one flow
     * stays on one queue and keeps its order; a single-queue device uses queue 0 without hashing.
     * (Linux first takes a queue the socket recorded or the receive queue of a forwarded frame; modnet
     * records neither yet.)
     */
    int pickTx(SkBuff skb) {
        int n = realNumTxQueues;
        if (n == 1) {
            return 0;
        }
        return FlowDissector.reciprocalScale(FlowDissector.skbGetHash(skb), n);
    }

    @Override
    public int maxRxQueues() {
        return setup.maxRxQueues();
    }

    // --- configuration (rtnetlink) ---

    /** What Linux gives a loopback device coming up with no IPv4 address: {@code 127.0.0.1/8 scope host}. */
    private static final IfAddress LOOPBACK_ADDRESS = loopbackAddress();

    private static IfAddress loopbackAddress() {
        try {
            return new IfAddress(java.net.InetAddress.getByAddress(new byte[] { 127, 0, 0, 1 }), 8, null, "host", "lo");
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always an address
        }
    }

    @Override
    public void open() throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            if (isUp()) {
                return;
            }
            ops.open(this);
            flags |= IfFlags.UP;
            for (DynamicQueueLimits d : dql) {
                d.reset(core.nanoTime()); // netdev_tx_reset_queue: what was in flight went with the close
            }
            for (TxSlot slot : txSlots) {
                slot.stopped = false;
            }
            if (type() == org.modnet.api.net.Eth.ARPHRD_LOOPBACK
                    && addresses.stream().noneMatch(a -> a.address() instanceof java.net.Inet4Address)) {
                addresses.add(new IfAddress(LOOPBACK_ADDRESS.address(), 8, null, "host", name())); // inetdev_event, NETDEV_UP on a loopback device
            }
            ns.addressesChanged(); // connected routes come with the device
            notifyLinkAndPeer();
        }
    }

    @Override
    public void close() {
        synchronized (core.rtnl()) {
            if (!isUp()) {
                return;
            }
            flags &= ~IfFlags.UP;
            ops.stop(this);
            purgeQueues();
            ns.addressesChanged(); // and go with it
            notifyLinkAndPeer();
        }
    }

    @Override
    public void setMtu(int newMtu) throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            if (newMtu > setup.maxMtu()) {
                throw new NetException(Errno.EINVAL, "mtu greater than device maximum");
            }
            if (newMtu < setup.minMtu()) {
                throw new NetException(Errno.EINVAL, "mtu less than device minimum");
            }
            if (mtu != newMtu) {
                mtu = newMtu;
                ns.notifyLink(this, Rtnetlink.RTM_NEWLINK);
            }
        }
    }

    @Override
    public void setAddress(MacAddress newAddress) throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            if ((setup.flags() & IfFlags.LOOPBACK) != 0) {
                throw new NetException(Errno.EOPNOTSUPP);
            }
            if (newAddress.isMulticast() || newAddress.bits() == 0) {
                throw new NetException(Errno.EADDRNOTAVAIL);
            }
            address = newAddress;
            ns.notifyLink(this, Rtnetlink.RTM_NEWLINK);
        }
    }

    @Override
    public void setTxQueueLen(int len) throws NetException {
        if (len < 0) {
            throw new NetException(Errno.EINVAL);
        }
        synchronized (core.rtnl()) {
            checkRegistered();
            txQueueLen = len;
        }
    }

    @Override
    public void setPromisc(boolean on) {
        synchronized (core.rtnl()) {
            int old = flags;
            flags = on ? flags | IfFlags.PROMISC : flags & ~IfFlags.PROMISC;
            if (old != flags) {
                ns.notifyLink(this, Rtnetlink.RTM_NEWLINK);
            }
        }
    }

    @Override
    public void setName(String newName) throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            Namespace.checkName(newName);
            if (newName.equals(name)) {
                return;
            }
            if (isUp()) {
                throw new NetException(Errno.EBUSY);
            }
            ns.rename(this, newName);
            String old = name;
            name = newName;
            core.netdevEvent(this, 2, old);
            ns.notifyLink(this, Rtnetlink.RTM_NEWLINK);
        }
    }

    @Override
    public void setNamespace(NetNamespace target) throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            if (target == ns) {
                return;
            }
            if ((setup.flags() & IfFlags.LOOPBACK) != 0) {
                throw new NetException(Errno.EINVAL, "The interface is local to its namespace");
            }
            Namespace to = core.own(target);
            if (to.device(name) != null) {
                throw new NetException(Errno.EEXIST);
            }
            close();
            core.netdevEvent(this, 1, null);
            Namespace from = ns;
            from.remove(this); // counts an address change if the device had addresses
            addresses.clear(); // addresses belong to the namespace the device leaves
            ifindex = to.add(this, ifindex);
            ns = to;
            core.netdevEvent(this, 0, null);
        }
    }

    @Override
    public void addAddress(IfAddress a) throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            for (IfAddress existing : addresses) {
                if (existing.sameAs(a)) {
                    throw new NetException(Errno.EEXIST);
                }
            }
            addresses.add(a);
            ns.addressesChanged();
            ns.notifyAddress(this, Rtnetlink.RTM_NEWADDR, a);
        }
    }

    @Override
    public void removeAddress(IfAddress a) throws NetException {
        synchronized (core.rtnl()) {
            for (IfAddress existing : addresses) {
                if (existing.sameAs(a)) {
                    addresses.remove(existing);
                    ns.addressesChanged();
                    ns.notifyAddress(this, Rtnetlink.RTM_DELADDR, existing);
                    return;
                }
            }
            throw new NetException(Errno.EADDRNOTAVAIL);
        }
    }

    @Override
    public void setRingParams(int rx, int tx) throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            if ((rx != 0 && setup.rxRingMax() == 0) || (tx != 0 && setup.txRingMax() == 0)) {
                throw new NetException(Errno.EOPNOTSUPP);
            }
            if (rx < 0 || tx < 0 || rx > setup.rxRingMax() || tx > setup.txRingMax()) {
                throw new NetException(Errno.EINVAL);
            }
            if (rx != 0) {
                rxRing = rx;
                for (RxQueueImpl q : rxQueues) {
                    q.resize(rx);
                }
            }
            if (tx != 0) {
                txRing = tx;
            }
        }
    }

    @Override
    public void setRxQueues(int count) throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            ops.setChannels(this, count); // a driver without set_channels refuses whatever the count, before anything changes
            if (count < 1 || count > setup.maxRxQueues()) {
                throw new NetException(Errno.EINVAL);
            }
            if (count == rxQueues.length) {
                return;
            }
            RxQueueImpl[] old = rxQueues;
            RxQueueImpl[] now = new RxQueueImpl[count];
            for (int i = 0; i < count; i++) {
                now[i] = i < old.length ? old[i] : new RxQueueImpl(this, i, rxRing, core.softirqFor(ifindex, i));
            }
            for (int i = count; i < old.length; i++) {
                retiredQueues.add(old[i]); // still polled until empty: its NAPI stays valid
            }
            rxQueues = now;
        }
    }

    @Override
    public void setFeature(String feature, boolean on) throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            synchronized (features) {
                if (!features.containsKey(feature)) {
                    throw new NetException(Errno.EOPNOTSUPP, "feature " + feature + " is not supported by " + name);
                }
                if (isFixed(feature) && features.get(feature) != on) {
                    throw new NetException(Errno.EOPNOTSUPP, "feature " + feature + " is fixed on " + name);
                }
                features.put(feature, on);
                featureBits = org.modnet.api.net.NetdevFeatures.bits(features);
            }
        }
    }

    @Override
    public void delete() throws NetException {
        synchronized (core.rtnl()) {
            checkRegistered();
            if (!ops.deletable(this)) {
                throw new NetException(Errno.EOPNOTSUPP);
            }
            ns.unregister(this);
        }
    }

    /** {@code unregister_netdevice}, under RTNL: down, out of the namespace, rings freed. */
    void unregisterLocked() {
        if (!registered) {
            return;
        }
        close();
        core.netdevEvent(this, 1, null);
        for (IfAddress a : addresses) {
            ns.notifyAddress(this, Rtnetlink.RTM_DELADDR, a); // inetdev_destroy: the addresses go first
        }
        ns.notifyLink(this, Rtnetlink.RTM_DELLINK);
        registered = false;
        ns.remove(this);
        ops.uninit(this);
        purgeQueues();
        Qdisc q = root.qdisc;
        if (q != null && q == defaultQdisc) {
            q.destroy(); // the default is the core's own (qdisc_put in dev_shutdown); tc's go with the sched bundle's prune
        }
    }

    /**
     * Counts a change of the carrier ({@code netif_carrier_on/off} count only a change). A paired device
     * has it only while both ends are up, as veth's open and close set it on both ends; other devices as
     * their driver says, up or down (lo's never goes off). Under RTNL.
     */
    void checkCarrier() {
        boolean on = ops.carrier(this) && (link() == null || isUp());
        if (on != carrierOn) {
            carrierOn = on;
            carrierChanges = carrierChanges + 1;
        }
    }

    @Override
    public long carrierChanges() {
        return carrierChanges;
    }

    /**
     * Up or down changes this device's flags and, for a pair, its peer's carrier ({@code LOWER_UP}):
     * both are told, as {@code netif_carrier_on/off} on the peer does on Linux.
     */
    private void notifyLinkAndPeer() {
        checkCarrier();
        ns.notifyLink(this, Rtnetlink.RTM_NEWLINK);
        NetDevice peer = link();
        if (peer instanceof NetDev p && p.registered) {
            p.checkCarrier();
            if (p.isUp()) {
                p.ns.notifyLink(p, Rtnetlink.RTM_NEWLINK);
            }
        }
    }

    boolean isRegistered() {
        return registered;
    }

    private void checkRegistered() throws NetException {
        if (!registered) {
            throw new NetException(Errno.ENODEV);
        }
    }

    private void purgeQueues() {
        for (RxQueueImpl q : rxQueues) {
            q.purge();
        }
        for (RxQueueImpl q : retiredQueues) {
            q.purge();
        }
        for (TxSlot slot : txSlots) {
            Qdisc q = slot.qdisc;
            if (q != null) {
                synchronized (q) {
                    q.reset();
                }
            }
        }
    }

    // --- transmit ---

    /**
     * {@code __dev_queue_xmit}: {@code validate_xmit_skb} (a GSO skb the device cannot take is cut in
     * software, a partial checksum it cannot complete is completed here), then taps, then the qdisc
     * (or straight to the driver with noqueue). Returns {@code NET_XMIT_SUCCESS}, or {@code NET_XMIT_DROP}
     * when the frame was dropped here (the qdisc refused it, the device is down): what
     * {@code dev_queue_xmit} returns to the sender.
     */
    int xmit(SkBuff skb) {
        if (!isUp()) {
            stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
            skb.free();
            return Qdisc.NET_XMIT_DROP;
        }
        org.modnet.api.sched.TcHook egress = tcEgress;
        if (egress != null) { // sch_handle_egress: clsact's egress filters, before the root qdisc
            skb.dev(this);
            int verdict = egress.run(skb, this, false);
            if (verdict != org.modnet.api.sched.TcHook.TC_ACT_OK) {
                return verdict == org.modnet.api.sched.TcHook.TC_ACT_SHOT ? Qdisc.NET_XMIT_DROP : Qdisc.NET_XMIT_SUCCESS;
            }
        }
        long f = netdevFeatures();
        if (skb.isGso() && !org.modnet.api.net.NetdevFeatures.gsoOk(f, skb.gsoType())) {
            return segment(skb, f);
        }
        return xmitSegment(skb);
    }

    /** {@code skb_gso_segment} by the frame's ethertype; a frame nobody can cut is dropped, counted in tx_dropped. */
    private int segment(SkBuff skb, long features) {
        org.modnet.api.net.PacketOffload o = core.offloads().find(skb.protocol() & 0xffff);
        int n = o == null ? -1 : o.gsoSegment(skb, features, segmentOut);
        if (n < 0) {
            stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
        }
        skb.free();
        return n < 0 ? Qdisc.NET_XMIT_DROP : Qdisc.NET_XMIT_SUCCESS;
    }

    /** The transmit path after segmentation: the checksum ({@code skb_csum_hwoffload_help}), taps, qdisc, driver. */
    private int xmitSegment(SkBuff skb) {
        skb.dev(this);
        skb.queueMapping(pickTx(skb));
        if (skb.ipSummed() == org.modnet.api.skb.Checksum.PARTIAL
                && (netdevFeatures() & org.modnet.api.net.NetdevFeatures.NETIF_F_HW_CSUM) == 0
                && !org.modnet.api.inet.InetChecksum.complete(skb)) {
            stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
            skb.free();
            return Qdisc.NET_XMIT_DROP;
        }
        core.dispatch().deliverOutgoing(skb, this);
        XmitNest nest = XMIT_NEST.get();
        if (nest.owner != null) {
            return nest.defer(skb, this); // sent from inside a qdisc's enqueue: a filter's mirred
        }
        int rc = xmitQdisc(skb, nest);
        if (!nest.draining) {
            nest.drain();
        }
        return rc;
    }

    /**
     * A thread's qdisc nesting: which qdisc's lock it holds while enqueueing ({@code q->owner}) and what
     * was sent meanwhile. A filter's {@code mirred} runs inside {@code enqueue} under the qdisc's lock;
     * sending from there straight into another device's qdisc would take a second lock (two devices
     * redirecting to each other from two threads: a deadlock), and into the same one would re-enter it.
     * So such a frame waits here, bounded, and goes once the lock is let go. Linux drops a frame sent
     * back into the qdisc the CPU is running ({@code q->owner}, "mirred deadlock on device recursion")
     * and ends loops through other devices at {@code XMIT_RECURSION_LIMIT}; modnet does the same (the
     * limit counts rounds of waiting frames) and counts each such drop in the device's tx_dropped.
     */
    static final class XmitNest {
        /** {@code XMIT_RECURSION_LIMIT}. */
        static final int RECURSION_LIMIT = 8;
        /** How many frames may wait per thread. */
        static final int MAX_DEFERRED = 64;
        Qdisc owner;
        boolean draining;
        int round;
        private final SkBuff[] frames = new SkBuff[MAX_DEFERRED];
        private final int[] rounds = new int[MAX_DEFERRED];
        private int head;
        private int count;

        int defer(SkBuff skb, NetDev dev) {
            if (dev.slotOf(skb).qdisc == owner || round + 1 > RECURSION_LIMIT || count == MAX_DEFERRED) {
                dev.stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                skb.free();
                return Qdisc.NET_XMIT_DROP;
            }
            int i = (head + count++) % MAX_DEFERRED;
            frames[i] = skb;
            rounds[i] = round + 1;
            return Qdisc.NET_XMIT_SUCCESS;
        }

        /** Sends what waited, each in its own round; what those sends defer waits for the next. */
        void drain() {
            if (count == 0) {
                return;
            }
            draining = true;
            try {
                while (count > 0) {
                    SkBuff skb = frames[head];
                    frames[head] = null;
                    round = rounds[head];
                    head = (head + 1) % MAX_DEFERRED;
                    count--;
                    ((NetDev) skb.dev()).xmitQdisc(skb, this);
                }
            } finally {
                round = 0;
                draining = false;
            }
        }
    }

    private static final ThreadLocal<XmitNest> XMIT_NEST = ThreadLocal.withInitial(XmitNest::new);

    /**
     * What a transmit queue feeds ({@code struct netdev_queue}'s qdisc and state): the qdisc, its run
     * flag ({@code __QDISC_STATE_RUNNING}), the "missed" mark ({@code __QDISC_STATE_MISSED}) and the
     * stopped flag ({@code __QUEUE_STATE_DRV_XOFF}). Every queue shares the root's slot unless a
     * multi-queue root ({@code mq}) gave each queue a qdisc of its own.
     */
    static final class TxSlot {
        volatile Qdisc qdisc;
        final AtomicBoolean running = new AtomicBoolean();
        volatile boolean missed;
        volatile boolean stopped;

        TxSlot(Qdisc qdisc) {
            this.qdisc = qdisc;
        }
    }

    /** The slot the frame's queue ({@code skb->queue_mapping}) feeds. */
    private TxSlot slotOf(SkBuff skb) {
        TxSlot[] slots = txSlots;
        return slots.length == 1 ? slots[0] : slots[Math.floorMod(skb.queueMapping(), slots.length)];
    }

    /** The qdisc (or the driver with noqueue); the caller drains what the qdisc's filters sent meanwhile. */
    private int xmitQdisc(SkBuff skb, XmitNest nest) {
        while (true) {
            TxSlot s = slotOf(skb);
            Qdisc q = s.qdisc;
            if (q == null) {
                if (ops.startXmit(skb, this) == TxResult.BUSY) {
                    // a device without a queue cannot be busy: Linux drops with "Virtual device asks to queue packet!"
                    stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                    skb.free();
                    return Qdisc.NET_XMIT_DROP;
                }
                return Qdisc.NET_XMIT_SUCCESS;
            }
            int rc;
            boolean bypass = false;
            boolean runner = false;
            boolean more = false;
            SkBuff first = null;
            synchronized (q) {
                if (q != s.qdisc || s != slotOf(skb)) {
                    continue; // grafted meanwhile: the old one is gone
                }
                // TCQ_F_CAN_BYPASS: empty and nobody running it, the frame goes straight to the driver
                if (q.canBypass() && q.qlen() == 0 && !s.stopped && s.running.compareAndSet(false, true)) {
                    s.missed = false;
                    q.stats().sent(skb.len());
                    bypass = true;
                    rc = Qdisc.NET_XMIT_SUCCESS;
                } else {
                    nest.owner = q;
                    try {
                        rc = q.enqueue(skb);
                    } finally {
                        nest.owner = null;
                    }
                    // nobody running it: become the runner and take the first frame in the same lock hold
                    if (rc == Qdisc.NET_XMIT_SUCCESS && !s.stopped && s.running.compareAndSet(false, true)) {
                        s.missed = false;
                        runner = true;
                        first = q.dequeue();
                        more = q.qlen() > 0; // read under the lock: anything queued after it sets the missed mark
                    }
                }
            }
            if (bypass) {
                runFrom(s, q, skb, false);
                return Qdisc.NET_XMIT_SUCCESS;
            }
            if (rc != Qdisc.NET_XMIT_SUCCESS) {
                stats.addShared(DeviceStats.Field.TX_DROPPED, 1); // freed and counted by the qdisc too
                return rc;
            }
            if (runner) {
                runFrom(s, q, first, more);
            } else {
                qdiscRun(s);
            }
            return Qdisc.NET_XMIT_SUCCESS;
        }
    }

    /**
     * The runner's part after it took {@code skb} under the lock ({@code sch_direct_xmit}, then
     * {@code __qdisc_run} while the qdisc gives frames); lets the run flag go and runs again if someone
     * queued meanwhile. {@code drain} false: the qdisc held nothing more when the frame was taken (or
     * the frame bypassed it), so the lock is not taken again only to find it empty; a frame queued
     * since left the "missed" mark. (An empty dequeue's bookkeeping, such as fq_codel retiring an
     * emptied flow, is the qdisc's to do at its next enqueue.)
     */
    private void runFrom(TxSlot s, Qdisc q, SkBuff skb, boolean drain) {
        try {
            if (skb != null && transmit(s, q, skb) && drain) {
                qdiscRestart(s);
            }
        } finally {
            s.running.set(false);
        }
        if (s.missed) {
            qdiscRun(s); // frames queued while this one went out
        }
    }

    /** Hands one dequeued frame to the driver; a busy driver gets it back in the qdisc and stops the queue. */
    private boolean transmit(TxSlot s, Qdisc q, SkBuff skb) {
        if (ops.startXmit(skb, this) != TxResult.BUSY) {
            return true;
        }
        synchronized (q) {
            if (q == s.qdisc) {
                q.requeue(skb);
            } else {
                stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                skb.free();
            }
        }
        s.stopped = true; // netif_tx_stop_queue: the driver wakes us when its ring drains
        return false;
    }

    /** {@code qdisc_run} of every queue's qdisc ({@code __netif_schedule} from a watchdog, a graft, a wake). */
    void qdiscRun() {
        TxSlot[] slots = txSlots;
        for (TxSlot s : slots) {
            qdiscRun(s);
        }
    }

    /**
     * {@code qdisc_run}: one thread at a time hands queued frames to the driver until the qdisc is
     * empty or throttled or the driver is busy; a caller that finds it running leaves a "missed" mark
     * the runner sees as it finishes.
     */
    private void qdiscRun(TxSlot s) {
        s.missed = true;
        while (!s.stopped && s.running.compareAndSet(false, true)) {
            s.missed = false;
            try {
                qdiscRestart(s);
            } finally {
                s.running.set(false);
            }
            if (!s.missed) {
                return;
            }
        }
    }

    /** {@code qdisc_restart}, looped: dequeue under the qdisc's lock, transmit outside it, until nothing comes or the driver is busy. */
    private void qdiscRestart(TxSlot s) {
        while (!s.stopped) {
            Qdisc q = s.qdisc;
            if (q == null) {
                return;
            }
            SkBuff skb;
            synchronized (q) {
                if (q != s.qdisc) {
                    continue;
                }
                skb = q.dequeue();
            }
            if (skb == null || !transmit(s, q, skb)) {
                return;
            }
        }
    }

    /**
     * {@code netdev_tx_sent_queue}: over its byte limit the queue stops ({@code __QUEUE_STATE_STACK_XOFF},
     * here the stopped flag of the qdisc slot the queue feeds), so what waits builds in the qdisc.
     * Called by the driver inside {@code startXmit}, on the thread running the queue's qdisc.
     */
    @Override
    public void txSentQueue(int queue, int bytes) {
        if (queue < 0 || queue >= dql.length || queue >= realNumTxQueues) {
            return;
        }
        TxSlot s = slotOfQueue(queue);
        if (s.qdisc == null) {
            // noqueue: a stopped queue would have nowhere to hold a frame (netdev_uses_bql is false
            // for IFF_NO_QUEUE); a veth charges its queue only while a qdisc sits on it
            return;
        }
        if (!usesBql) {
            usesBql = true;
        }
        DynamicQueueLimits d = dql[queue];
        d.queued(bytes);
        if (d.avail() < 0) {
            s.stopped = true;
            if (d.avail() >= 0) {
                s.stopped = false; // a completion raced the stop (netdev_tx_sent_queue's second look)
            }
        }
    }

    /**
     * {@code netdev_tx_completed_queue}: the limit adapts ({@code dql_completed}); a queue that is under
     * its limit again wakes and its qdisc runs ({@code netif_schedule_queue}). Called by the driver's
     * completion, one thread at a time per queue.
     */
    @Override
    public void txCompletedQueue(int queue, int packets, int bytes) {
        if (queue < 0 || queue >= dql.length || bytes <= 0) {
            return;
        }
        DynamicQueueLimits d = dql[queue];
        // never more than is in flight: a frame sent before a qdisc came (uncharged) or before the
        // queue was reset (netdev_tx_reset_queue at open) completes nothing it was not charged for
        long done = Math.min(bytes, d.inflight());
        if (done <= 0) {
            return;
        }
        d.completed(done, core.nanoTime());
        TxSlot s = slotOfQueue(queue);
        if (d.avail() >= 0 && s.stopped) {
            s.stopped = false;
            qdiscRun(s);
        }
    }

    @Override
    public org.modnet.api.net.ByteQueueLimits byteQueueLimits(int queue) {
        // netdev_uses_bql: Linux hides it on devices without a queue and lockless ones (tun, veth); modnet
        // on devices whose driver never charged a frame: a veth charges its queue while a qdisc sits on
        // it (its completion at the peer's NAPI poll, as the veth BQL work proposed for Linux), and then
        // shows it
        if (!usesBql || queue < 0 || queue >= realNumTxQueues) {
            return null;
        }
        DynamicQueueLimits d = dql[queue];
        return new org.modnet.api.net.ByteQueueLimits(d.limit(), d.limitMax(), d.limitMin(), d.holdTimeMs(), d.inflight());
    }

    private TxSlot slotOfQueue(int queue) {
        TxSlot[] slots = txSlots;
        return slots[Math.floorMod(queue, slots.length)];
    }

    /** {@code netif_tx_wake_all_queues}: the driver's transmit ring has room again. */
    void wakeQueue() {
        for (TxSlot s : txSlots) {
            s.stopped = false;
        }
        qdiscRun();
    }

    List<RxQueueImpl> allQueues() {
        List<RxQueueImpl> all = new ArrayList<>(List.of(rxQueues));
        all.addAll(retiredQueues);
        return all;
    }

    @Override
    public String toString() {
        return name + "(" + ifindex + ")";
    }
}

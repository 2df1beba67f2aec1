package org.modnet.core;

import java.lang.foreign.MemorySegment;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.XdpHook;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;

/**
 * One receive queue: a ring the device fills and the NAPI instance that drains it into
 * {@code netif_receive_skb}, with {@code eth_type_trans} on the way, as an Ethernet driver's poll does.
 */
final class RxQueueImpl implements RxQueue, Napi.Poller {
    private final NetDev dev;
    private final int index;
    private final Napi napi;
    /** The NAPI instance's held flows ({@code napi->gro}): frames of one poll merged per flow. */
    private final Gro gro;
    private volatile SkbRing ring;
    /** A ring replaced by {@code ethtool -G}: drained before the new one, so no frame is stranded. */
    private volatile SkbRing retired;

    private volatile DriverPoll driverPoll;
    /** The softirq thread while it has the driver fill the ring in this queue's own poll: no need to schedule it again. */
    private Thread filling;

    private final java.util.concurrent.atomic.AtomicLong ringDrops = new java.util.concurrent.atomic.AtomicLong();
    private long packets; // written by the polling softirq only
    private long bytes; // likewise
    /** The sender the frame {@link #next} took last is charged to (the poller's own). */
    private TxCompletion takenCompletion;

    RxQueueImpl(NetDev dev, int index, int ringSize, Softirq softirq) {
        this.dev = dev;
        this.index = index;
        this.ring = new SkbRing(ringSize, true); // tags: the sender a frame is charged to (TxCompletion)
        this.napi = new Napi(softirq, this);
        this.gro = new Gro(dev.core(), this);
        dev.core().hashNapi(napi);
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public boolean receive(SkBuff skb) {
        return receive(skb, null);
    }

    @Override
    public boolean receive(SkBuff skb, TxCompletion completion) {
        if (!dev.isUp()) {
            dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
            skb.free();
            return false;
        }
        if (!(completion == null ? ring.offer(skb) : ring.offerCharged(skb, completion))) {
            // no free descriptor: the NIC drops the frame and counts it
            dev.stats().addShared(DeviceStats.Field.RX_MISSED_ERRORS, 1);
            ringDrops.incrementAndGet();
            skb.free();
            return false;
        }
        if (Thread.currentThread() != filling) {
            // from the poll's own fill the frame is drained by that same poll; with the interrupt deferred
            // (napi_defer_hard_irqs) it waits for a busy poll or the NAPI watchdog, unless the interrupt
            // came back meanwhile (its completion looks at the ring after clearing the flag: the fence pairs with that)
            if (!napi.irqDeferred()) {
                napi.schedule();
            } else {
                java.lang.invoke.VarHandle.fullFence();
                if (!napi.irqDeferred()) {
                    napi.schedule();
                }
            }
        }
        return true;
    }

    /**
     * A frame in the driver's buffer: native XDP first (before any skb, as a driver's {@code ndo_bpf}
     * program runs on its page), then, for a frame that goes on, an skb from the pool with the frame
     * copied in (the DMA into a packet buffer) into the ring.
     */
    @Override
    public boolean receiveFrame(MemorySegment buffer, int data, int len) {
        if (!dev.isUp()) {
            dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
            return false;
        }
        NetDev.XdpAttachment xdp = dev.xdpAttachment();
        if (xdp != null && xdp.nativeMode()) {
            if (len > dev.mtu() + Eth.ETH_HLEN + 4) {
                dev.stats().addShared(DeviceStats.Field.RX_LENGTH_ERRORS, 1); // the NIC refuses it before XDP sees it
                dev.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
                return false;
            }
            long r;
            try {
                r = xdp.hook().runFrame(buffer, data, len, dev, index);
            } catch (RuntimeException e) {
                r = XdpHook.frameResult(XdpHook.XDP_ABORTED, data, len); // a hook that throws is an aborted program
            }
            int action = XdpHook.frameAction(r);
            if (action > XdpHook.XDP_REDIRECT) {
                action = XdpHook.XDP_ABORTED;
            }
            dev.countXdp(action);
            if (action == XdpHook.XDP_TX) {
                SkBuff skb = copy(buffer, XdpHook.frameData(r), XdpHook.frameLength(r));
                if (skb != null) {
                    skb.dev(dev);
                    skb.resetMacHeader();
                    dev.core().devQueueXmit(skb);
                }
                return false;
            }
            if (action != XdpHook.XDP_PASS) {
                return false; // dropped, aborted, or redirected (the hook copied it out): the buffer is the driver's again
            }
            data = XdpHook.frameData(r);
            len = XdpHook.frameLength(r);
        }
        SkBuff skb = copy(buffer, data, len);
        return skb != null && receive(skb);
    }

    /** An skb holding the frame (from the large pool when it is bigger than a buffer); null (counted as missed) when none is free. */
    private SkBuff copy(MemorySegment buffer, int data, int len) {
        SkBuff skb = dev.core().allocSkb(len, org.modnet.api.skb.SkBuffPool.NET_SKB_PAD);
        if (skb == null) {
            dev.stats().addShared(DeviceStats.Field.RX_MISSED_ERRORS, 1);
            return null;
        }
        MemorySegment.copy(buffer, data, skb.memory(), skb.put(len), len);
        return skb;
    }

    @Override
    public void setDriverPoll(DriverPoll poll) {
        driverPoll = poll;
    }

    @Override
    public void schedule() {
        napi.schedule();
    }

    @Override
    public boolean setIdleWait(IdleWait wait) {
        return napi.softirq().setIdleWait(wait);
    }

    @Override
    public void clearIdleWait(IdleWait wait) {
        napi.softirq().clearIdleWait(wait);
    }

    @Override
    public void busyPollStarted() {
        DriverPoll d = driverPoll;
        if (d != null) {
            d.disarm(this);
        }
    }

    @Override
    public int deferHardIrqs() {
        return dev.napiDeferHardIrqs();
    }

    @Override
    public long groFlushTimeout() {
        return dev.groFlushTimeout();
    }

    @Override
    public boolean groHeld() {
        return gro.held() > 0;
    }

    @Override
    public void groFlush(boolean flushOld) {
        if (gro.held() > 0) {
            gro.flush(flushOld, flushOld ? dev.core().nanoTime() : 0);
        }
    }

    @Override
    public void busyPolled(int work) {
        dev.ns().addBusyPollRxPackets(work); // dev_net(napi->dev)
    }

    @Override
    public int napiId() {
        return napi.id();
    }

    @Override
    public long irqSuspendTimeout() {
        return napi.irqSuspendTimeout();
    }

    @Override
    public void setIrqSuspendTimeout(long nanos) throws org.modnet.api.net.NetException {
        if (nanos < 0) {
            throw new org.modnet.api.net.NetException(org.modnet.api.net.Errno.EINVAL, "irq-suspend-timeout below 0");
        }
        napi.irqSuspendTimeout(nanos);
    }

    @Override
    public void completed() {
        DriverPoll d = driverPoll;
        if (d != null) {
            d.rearm(this);
        } else if (ring.pending() > 0) {
            napi.schedule(); // a frame pushed while the interrupt was deferred: level-triggered, it fires now
        }
    }

    @Override
    public int poll(Napi n, int budget) {
        DriverPoll d = driverPoll;
        if (d != null) {
            int room = Math.min(budget, ring.size()) - ring.pending();
            if (room > 0) {
                filling = Thread.currentThread();
                try {
                    d.fill(this, room); // the driver's reads, in this poll: frames go into the ring, drained below
                } finally {
                    filling = null;
                }
            }
        }
        DeviceStats stats = dev.stats();
        int done = 0;
        long good = 0;
        long bytes = 0;
        // veth_xdp_rcv's completion: what this poll took of each sender's, reported once per run of its frames
        TxCompletion charged = null;
        int chargedPackets = 0;
        int chargedBytes = 0;
        // napi_gro_receive where the driver calls it with GRO on; lo's frames go through netif_rx, never GRO
        // and not once the device is down: its NAPI instance is gone with GRO's flows (purge), a late frame goes up alone
        boolean groOn = (dev.netdevFeatures() & org.modnet.api.net.NetdevFeatures.NETIF_F_GRO) != 0
                && (dev.flags() & org.modnet.api.net.IfFlags.LOOPBACK) == 0 && dev.isUp();
        if (groOn) {
            gro.pollStarted(dev.core().nanoTime()); // jiffies, the age of the flows this poll begins
        }
        while (done < budget) {
            SkBuff skb = next();
            if (skb == null) {
                break;
            }
            done++;
            int len = skb.len();
            TxCompletion c = takenCompletion;
            if (c != null) {
                if (c != charged) {
                    if (charged != null) {
                        charged.completed(chargedPackets, chargedBytes);
                    }
                    charged = c;
                    chargedPackets = 0;
                    chargedBytes = 0;
                }
                chargedPackets++;
                chargedBytes += len;
            }
            skb.dev(dev);
            if (len > dev.mtu() + Eth.ETH_HLEN + 4 && !skb.isGso()) {
                // larger than the MTU allows (a VLAN tag's 4 bytes granted): the NIC would not take it;
                // a GSO skb from a veth peer or lo is many frames' worth, each within the MTU
                stats.inc(DeviceStats.Field.RX_LENGTH_ERRORS);
                stats.inc(DeviceStats.Field.RX_ERRORS);
                skb.free();
                continue;
            }
            if (Eth.typeTrans(skb, dev) < 0) {
                stats.inc(DeviceStats.Field.RX_LENGTH_ERRORS);
                stats.inc(DeviceStats.Field.RX_ERRORS);
                skb.free();
                continue;
            }
            good++;
            bytes += len;
            if (skb.pktType() == PktType.MULTICAST) {
                stats.inc(DeviceStats.Field.MULTICAST);
            }
            if (groOn) {
                gro.receive(skb); // napi_gro_receive: what it hands up goes through netifReceive
            } else {
                netifReceive(skb);
            }
        }
        // held flows go up in the completion (napi_complete_done), or stay for the next poll with gro_flush_timeout
        stats.add(DeviceStats.Field.RX_PACKETS, good);
        stats.add(DeviceStats.Field.RX_BYTES, bytes);
        packets += good;
        this.bytes += bytes;
        if (charged != null) {
            charged.completed(chargedPackets, chargedBytes); // netdev_tx_completed_queue: may wake the sender's queue
        }
        return done;
    }

    /**
     * {@code netif_receive_skb} of what the poll (or GRO, for a flow it held) hands up, its data at the
     * network header ({@code eth_type_trans} done): generic XDP first, as {@code __netif_receive_skb_core}
     * runs {@code do_xdp_generic}, so a program on a device with GRO on sees the merged skb, then the stack.
     */
    void netifReceive(SkBuff skb) {
        NetDev.XdpAttachment xdp = dev.xdpAttachment();
        if (xdp != null && !xdp.nativeMode() && !runXdp(xdp.hook(), skb)) {
            return; // dropped, sent back, or redirected: counted by action
        }
        dev.core().receive(skb, dev);
    }

    /**
     * The XDP hook (generic XDP, {@code do_xdp_generic}): the frame from its MAC header (pushed back, as
     * {@code netif_receive_generic_xdp} does) made linear and writable, the program run, its action
     * carried out and counted. True when the frame goes on into the stack (XDP_PASS), {@code eth_type_trans}
     * done again on what the program left (it may have rewritten the header or moved the frame's start).
     */
    private boolean runXdp(org.modnet.api.net.XdpHook xdp, SkBuff skb) {
        int macLen = skb.data() - skb.macHeader();
        if (macLen > 0) {
            skb.push(macLen);
        }
        if ((skb.dataLen() > 0 && !skb.linearize()) || (!skb.isWritable() && !skb.unshare())) {
            dev.countXdp(org.modnet.api.net.XdpHook.XDP_ABORTED);
            dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
            skb.free();
            return false;
        }
        int action;
        try {
            action = xdp.run(skb, dev, index());
        } catch (RuntimeException e) {
            action = org.modnet.api.net.XdpHook.XDP_ABORTED; // a hook that throws is an aborted program
        }
        if (action < 0 || action > org.modnet.api.net.XdpHook.XDP_REDIRECT) {
            action = org.modnet.api.net.XdpHook.XDP_ABORTED;
        }
        dev.countXdp(action);
        switch (action) {
            case org.modnet.api.net.XdpHook.XDP_PASS -> {
                if (Eth.typeTrans(skb, dev) < 0) {
                    dev.stats().addShared(DeviceStats.Field.RX_LENGTH_ERRORS, 1); // the program cut the frame below a header
                    dev.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
                    skb.free();
                    return false;
                }
                return true;
            }
            case org.modnet.api.net.XdpHook.XDP_TX -> {
                skb.dev(dev);
                skb.resetMacHeader();
                dev.core().devQueueXmit(skb);
            }
            case org.modnet.api.net.XdpHook.XDP_REDIRECT -> {
                // the hook queued the frame on its target and owns it
            }
            default -> skb.free(); // XDP_DROP, XDP_ABORTED
        }
        return false;
    }

    /** A frame charged to a sender and taken outside a poll: completed alone. */
    private static void complete(Object tag, int len) {
        if (tag instanceof TxCompletion c) {
            c.completed(1, len);
        }
    }

    /** The next frame of the rings; {@link #takenCompletion} says whom it is charged to. */
    private SkBuff next() {
        SkbRing old = retired;
        if (old != null) {
            SkBuff skb = old.poll();
            if (skb != null) {
                takenCompletion = (TxCompletion) old.takenTag();
                return skb;
            }
        }
        SkbRing r = ring;
        SkBuff skb = r.poll();
        takenCompletion = skb == null ? null : (TxCompletion) r.takenTag();
        return skb;
    }

    /** {@code ethtool -G rx N}: a new ring; frames in the old one are still delivered. */
    void resize(int size) {
        SkbRing old = ring;
        if (old.size() == size) {
            return;
        }
        SkbRing previous = retired;
        if (previous != null && previous.pending() > 0) {
            // a second resize before the first drained: keep the older frames in order by moving them
            SkBuff skb;
            while ((skb = previous.poll()) != null) {
                Object tag = previous.takenTag();
                if (!old.offer(skb, tag)) {
                    dev.stats().addShared(DeviceStats.Field.RX_MISSED_ERRORS, 1);
                    complete(tag, skb.len());
                    skb.free();
                }
            }
        }
        retired = old;
        ring = new SkbRing(size, true);
        napi.schedule();
    }

    /**
     * Frees frames left in the rings and the flows GRO holds (the device went down or away: a veth's close
     * disables and deletes its NAPI instances, {@code __netif_napi_del}'s {@code flush_gro_hash} freeing
     * what GRO held, and cleans its rings). The held flows are freed in this queue's softirq context,
     * taken as {@code napi_disable} waits for a poll under way, so no poll touches them meanwhile.
     */
    int purge() {
        Softirq s = napi.softirq();
        boolean inside = s.runsOn(Thread.currentThread()); // closed from the softirq context itself: held already
        if (!inside) {
            s.lockBh(); // a poll under way ends first; the next one sees the device down and holds nothing
        }
        try {
            gro.freeAll();
        } finally {
            if (!inside) {
                s.unlockBh();
            }
        }
        int n = 0;
        for (SkbRing r : new SkbRing[] { retired, ring }) {
            if (r == null) {
                continue;
            }
            SkBuff skb;
            while ((skb = r.poll()) != null) {
                complete(r.takenTag(), skb.len()); // freed with the ring: its sender's queue must not wait for it
                skb.free();
                n++;
            }
        }
        return n;
    }

    @Override
    public int size() {
        return ring.size();
    }

    @Override
    public int pending() {
        SkbRing old = retired;
        return ring.pending() + (old == null ? 0 : old.pending());
    }

    @Override
    public int cpu() {
        return napi.softirq().cpu();
    }

    Napi napi() {
        return napi;
    }

    Gro gro() {
        return gro;
    }

    long ringDrops() {
        return ringDrops.get();
    }

    long packets() {
        return packets;
    }

    long bytes() {
        return bytes;
    }
}

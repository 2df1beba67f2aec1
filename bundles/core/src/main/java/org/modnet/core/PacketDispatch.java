package org.modnet.core;

import java.util.Arrays;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.skb.SkBuff;

/**
 * The {@code ptype_base}/{@code ptype_all} tables: packet handlers by ethertype, and taps that see
 * every frame. Handlers come and go as services; the tables are copied on change and read without a
 * lock by the packet path, so a handler that arrives or leaves changes the path at once.
 */
final class PacketDispatch {
    private static final PacketHandler[] NONE = new PacketHandler[0];

    private volatile PacketHandler[][] byType = new PacketHandler[0x10000][];
    private volatile PacketHandler[] taps = NONE;
    /** Outgoing copies a tap missed because no buffer head was free (what tcpdump reports as dropped). */
    private final java.util.concurrent.atomic.AtomicLong tapDrops = new java.util.concurrent.atomic.AtomicLong();

    /**
     * {@code dev_add_pack}. The new version of a handler whose frames were held during its update gets
     * them first, in arrival order, before the path is its: no frame overtakes one that waited.
     */
    synchronized void add(int ethertype, PacketHandler handler) {
        if (ethertype == org.modnet.api.net.Eth.ETH_P_ALL) {
            taps = append(taps, handler);
            return;
        }
        PacketHandler[][] table = byType.clone();
        table[ethertype & 0xffff] = append(table[ethertype & 0xffff], handler);
        if (heldType != (ethertype & 0xffff)) {
            byType = table;
            return;
        }
        synchronized (held) {
            for (int i = 0; i < heldCount; i++) {
                SkBuff skb = held[i];
                NetDevice dev = heldDev[i];
                held[i] = null;
                heldDev[i] = null;
                handler.receive(skb, dev);
            }
            heldDelivered += heldCount;
            heldCount = 0;
            heldType = -1;
            byType = table;
        }
    }

    /**
     * {@code dev_remove_pack}. With {@code handOver} (the handler leaves for an update and its next
     * version adopts its state) the ethertype's frames wait in a bounded queue until the next version
     * registers, instead of being dropped as frames nobody handles.
     */
    synchronized int remove(int ethertype, PacketHandler handler, boolean handOver) {
        if (ethertype == org.modnet.api.net.Eth.ETH_P_ALL) {
            taps = without(taps, handler);
            return -1;
        }
        PacketHandler[][] table = byType.clone();
        PacketHandler[] left = without(table[ethertype & 0xffff], handler);
        table[ethertype & 0xffff] = left.length == 0 ? null : left;
        int generation = -1;
        if (handOver && left.length == 0) {
            synchronized (held) {
                generation = ++heldGeneration;
            }
            heldType = ethertype & 0xffff; // before the handler leaves the table: no frame falls between
        }
        byType = table;
        return generation;
    }

    void remove(int ethertype, PacketHandler handler) {
        remove(ethertype, handler, false);
    }

    /** Frames held for a handler being updated: bounded; a refusal is the device's rx_dropped. */
    static final int HELD_MAX = 4096;
    private final SkBuff[] held = new SkBuff[HELD_MAX]; // guarded by itself
    private final NetDevice[] heldDev = new NetDevice[HELD_MAX]; // guarded by held
    private int heldCount; // guarded by held
    private volatile int heldType = -1;
    private long heldTotal; // guarded by held
    private long heldDrops; // guarded by held
    private long heldDelivered; // guarded by held
    private long heldExpired; // guarded by held
    /** Which hold a timeout belongs to: an old update's timer must not release a later update's frames. */
    private int heldGeneration; // guarded by held

    /** The ethertype whose frames are held, or -1. */
    int heldType() {
        return heldType;
    }

    /**
     * Nobody came for the held frames (the update failed, or the module was removed): they are dropped,
     * each counted in its device's {@code rx_dropped}, and the ethertype is no longer held.
     */
    void releaseHeld(int ethertype, int generation) {
        synchronized (held) {
            if (heldType != (ethertype & 0xffff) || heldGeneration != generation) {
                return;
            }
            for (int i = 0; i < heldCount; i++) {
                heldDev[i].stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
                held[i].free();
                held[i] = null;
                heldDev[i] = null;
            }
            heldExpired += heldCount;
            heldCount = 0;
            heldType = -1;
        }
    }

    /** HandOverHeld, HandOverHeldDelivered, HandOverHeldDrops, HandOverHeldExpired. */
    long[] heldCounters() {
        synchronized (held) {
            return new long[] { heldTotal, heldDelivered, heldDrops, heldExpired };
        }
    }

    /** A frame whose handler is being updated: it waits, unless the new version came meanwhile. */
    private void hold(SkBuff skb, NetDevice dev) {
        int type = skb.protocol() & 0xffff;
        synchronized (held) {
            PacketHandler[] now = byType[type];
            if (now != null || heldType != type) {
                deliverTo(now, skb, dev); // the new version registered while this frame waited for the lock
                return;
            }
            if (heldCount == HELD_MAX) {
                heldDrops++;
                dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
                skb.free();
                return;
            }
            heldTotal++;
            held[heldCount] = skb;
            heldDev[heldCount++] = dev;
        }
    }

    boolean hasTaps() {
        return taps.length > 0;
    }

    /**
     * {@code __netif_receive_skb_core}: taps get a reference each, then the handlers of the frame's
     * ethertype; a frame nobody handles is dropped and counted in the device's {@code rx_dropped}.
     */
    void deliver(SkBuff skb, NetDevice dev) {
        deliver(skb, dev, null);
    }

    /** As {@link #deliver(SkBuff, NetDevice)}, with the device's clsact ingress hook between the taps and the handlers ({@code sch_handle_ingress}). */
    void deliver(SkBuff skb, NetDevice dev, org.modnet.api.sched.TcHook ingress) {
        deliver(skb, dev, ingress, null);
    }

    /** As above, with the netdev family's ingress chains after tc's ({@code nf_ingress}, as {@code __netif_receive_skb_core} orders them). */
    void deliver(SkBuff skb, NetDevice dev, org.modnet.api.sched.TcHook ingress, org.modnet.api.netfilter.NfIngress.Hook nf) {
        for (PacketHandler tap : taps) {
            tap.receive(skb.get(), dev);
        }
        if (ingress != null && ingress.run(skb, dev, true) != org.modnet.api.sched.TcHook.TC_ACT_OK) {
            return; // dropped (counted by the hook) or redirected
        }
        if (nf != null) {
            org.modnet.api.netfilter.Verdict v = nf.ingress(skb, dev);
            if (v == org.modnet.api.netfilter.Verdict.DROP) {
                skb.free(); // counted by the chain's rules, as Linux's NF_DROP here is
                return;
            }
            if (v == org.modnet.api.netfilter.Verdict.STOLEN) {
                return;
            }
        }
        PacketHandler[] handlers = byType[skb.protocol() & 0xffff];
        if (handlers == null && heldType == (skb.protocol() & 0xffff)) {
            hold(skb, dev);
            return;
        }
        deliverTo(handlers, skb, dev);
    }

    private static void deliverTo(PacketHandler[] handlers, SkBuff skb, NetDevice dev) {
        if (handlers == null) {
            dev.stats().inc(DeviceStats.Field.RX_DROPPED);
            skb.free();
            return;
        }
        int last = handlers.length - 1;
        for (int i = 0; i < last; i++) {
            handlers[i].receive(skb.get(), dev);
        }
        handlers[last].receive(skb, dev);
    }

    /** {@code dev_queue_xmit_nit}: every tap sees a copy of each frame sent, marked OUTGOING. */
    void deliverOutgoing(SkBuff skb, NetDevice dev) {
        for (PacketHandler tap : taps) {
            SkBuff clone = skb.clone();
            if (clone == null) {
                tapDrops.incrementAndGet(); // the packet still goes out; only the tap's copy is lost
                continue;
            }
            clone.pktType(org.modnet.api.skb.PktType.OUTGOING);
            tap.receive(clone, dev);
        }
    }

    long tapDrops() {
        return tapDrops.get();
    }

    private static PacketHandler[] append(PacketHandler[] list, PacketHandler h) {
        PacketHandler[] base = list == null ? NONE : list;
        PacketHandler[] out = Arrays.copyOf(base, base.length + 1);
        out[base.length] = h;
        return out;
    }

    private static PacketHandler[] without(PacketHandler[] list, PacketHandler h) {
        if (list == null) {
            return NONE;
        }
        return Arrays.stream(list).filter(x -> x != h).toArray(PacketHandler[]::new);
    }
}

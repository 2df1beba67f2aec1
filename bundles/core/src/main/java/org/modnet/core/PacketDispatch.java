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

    synchronized void add(int ethertype, PacketHandler handler) {
        if (ethertype == org.modnet.api.net.Eth.ETH_P_ALL) {
            taps = append(taps, handler);
            return;
        }
        PacketHandler[][] table = byType.clone();
        table[ethertype & 0xffff] = append(table[ethertype & 0xffff], handler);
        byType = table;
    }

    synchronized void remove(int ethertype, PacketHandler handler) {
        if (ethertype == org.modnet.api.net.Eth.ETH_P_ALL) {
            taps = without(taps, handler);
            return;
        }
        PacketHandler[][] table = byType.clone();
        PacketHandler[] left = without(table[ethertype & 0xffff], handler);
        table[ethertype & 0xffff] = left.length == 0 ? null : left;
        byType = table;
    }

    boolean hasTaps() {
        return taps.length > 0;
    }

    /**
     * {@code __netif_receive_skb_core}: taps get a reference each, then the handlers of the frame's
     * ethertype; a frame nobody handles is dropped and counted in the device's {@code rx_dropped}.
     */
    void deliver(SkBuff skb, NetDevice dev) {
        for (PacketHandler tap : taps) {
            tap.receive(skb.get(), dev);
        }
        PacketHandler[] handlers = byType[skb.protocol() & 0xffff];
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

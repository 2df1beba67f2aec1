package org.modnet.ipv4;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.modnet.api.handover.HandsOver;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.Errno;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/**
 * IPv4's hold on the neighbour table (ARP, in the ethernet bundle), which may be swapped under it: the
 * table in use, read once per packet without a lock. While the ethernet bundle is updated (its table
 * leaves {@linkplain HandsOver#handingOver() handing over}) packets for next hops wait in a bounded
 * queue and go to the new table first, in order, when it comes; a packet the bound refuses, or one
 * sent when there is no table at all, is discarded and counted (OutDiscards).
 */
final class NeighbourSlot implements NeighbourTable {
    /** Packets that wait for the next version of the neighbour table. */
    static final int HELD_MAX = 4096;
    /** How long they wait before they are discarded: the update failed or ARP was removed. */
    private static final long HOLD_TIMEOUT_MS = Long.getLong("modnet.handover.timeout.ms", 5_000);

    private final NetCore core;
    private final Consumer<SkBuff> discard;
    private volatile NeighbourTable table;
    private volatile Unreachable unreachable;

    private final SkBuff[] held = new SkBuff[HELD_MAX]; // guarded by itself
    private final NetDevice[] heldDev = new NetDevice[HELD_MAX]; // guarded by held
    private final int[] heldHop = new int[HELD_MAX]; // guarded by held
    private int heldCount; // guarded by held
    private volatile boolean holding;
    private long heldTotal; // guarded by held
    private long heldDrops; // guarded by held
    private int holdGeneration; // guarded by held
    /** Calls into a table in progress, per CPU (a cache line each, the last for threads outside softirq). */
    private final java.util.concurrent.atomic.AtomicIntegerArray inTable;

    /** @param discard counts a packet that cannot be sent (OutDiscards in its namespace) and frees it */
    NeighbourSlot(NetCore core, Consumer<SkBuff> discard) {
        this.core = core;
        this.discard = discard;
        this.inTable = new java.util.concurrent.atomic.AtomicIntegerArray((core.cpus() + 1) * 16);
    }

    private int enter() {
        int cpu = core.currentCpu();
        int slot = (cpu >= 0 && cpu < core.cpus() ? cpu : core.cpus()) * 16;
        inTable.incrementAndGet(slot);
        return slot;
    }

    /**
     * {@code synchronize_net}: the table is no longer read; waits until the calls that read it before have
     * returned, so the table's version may retire (its deactivation follows this unbind) without a
     * packet still on its way into it.
     */
    private void synchronizeNet() {
        long deadline = System.nanoTime() + 1_000_000_000L;
        for (int i = 0; i < inTable.length(); i += 16) {
            for (int spins = 0; inTable.get(i) != 0 && System.nanoTime() < deadline; spins++) {
                if (spins < 100) {
                    Thread.onSpinWait();
                } else {
                    // a nap: the update's thread runs raised, and a packet thread preempted on this core inside the table needs it
                    java.util.concurrent.locks.LockSupport.parkNanos(this, 20_000);
                }
            }
        }
    }

    /** The table arrived (ARP started, or its next version): held packets go to it first, then the path is its. */
    void bind(NeighbourTable t) {
        Unreachable u = unreachable;
        if (u != null) {
            t.setUnreachable(u);
        }
        synchronized (held) {
            for (int i = 0; i < heldCount; i++) {
                SkBuff skb = held[i];
                held[i] = null;
                t.output(skb, heldDev[i], heldHop[i]);
                heldDev[i] = null;
            }
            heldCount = 0;
            holding = false;
            table = t;
        }
    }

    /** The table leaves; if it hands over to its next version, packets wait for that. */
    void unbind(NeighbourTable t) {
        if (table != t) {
            return;
        }
        if (t instanceof HandsOver h && h.handingOver()) {
            int generation;
            synchronized (held) {
                generation = ++holdGeneration;
            }
            holding = true; // before the table goes: no packet falls between
            core.timer(0, new Expire(generation)).mod(HOLD_TIMEOUT_MS);
        }
        table = null;
        synchronizeNet();
    }

    /**
     * The hold's timeout: a class, not a lambda, since the first hold of a JVM is inside an update of ethernet, where a
     * lambda's class would be spun while the packets wait.
     */
    private final class Expire implements Runnable {
        private final int generation;

        Expire(int generation) {
            this.generation = generation;
        }

        @Override
        public void run() {
            expire(generation);
        }
    }

    /** Nobody came: the held packets are discarded. */
    private void expire(int generation) {
        synchronized (held) {
            if (table != null || !holding || generation != holdGeneration) { // a later update's hold is not this one's
                return;
            }
            holding = false;
            for (int i = 0; i < heldCount; i++) {
                heldDrops++;
                SkBuff skb = held[i];
                held[i] = null;
                heldDev[i] = null;
                discard.accept(skb);
            }
            heldCount = 0;
        }
    }

    /** Packets held across updates of the neighbour table, and those the bound or the timeout refused. */
    long[] heldCounters() {
        synchronized (held) {
            return new long[] { heldTotal, heldDrops };
        }
    }

    @Override
    public int outputStatus(SkBuff skb, NetDevice dev, int nextHop) {
        int slot = enter(); // before the read: an unbind waits for this call
        try {
            NeighbourTable t = table;
            if (t != null) {
                return t.outputStatus(skb, dev, nextHop); // the usual path: the table's answer (a full qdisc's drop)
            }
        } finally {
            inTable.decrementAndGet(slot);
        }
        output(skb, dev, nextHop);
        return 0;
    }

    @Override
    public void output(SkBuff skb, NetDevice dev, int nextHop) {
        int slot = enter();
        try {
            NeighbourTable t = table;
            if (t != null) {
                t.output(skb, dev, nextHop);
                return;
            }
        } finally {
            inTable.decrementAndGet(slot);
        }
        if (!holding) {
            skb.dev(dev);
            discard.accept(skb); // no ARP: nothing resolves the next hop
            return;
        }
        synchronized (held) {
            NeighbourTable t = table;
            if (t != null) { // the new version came while this packet waited for the lock
                t.output(skb, dev, nextHop);
                return;
            }
            if (!holding || heldCount == HELD_MAX) {
                heldDrops++;
                skb.dev(dev);
                discard.accept(skb);
                return;
            }
            heldTotal++;
            held[heldCount] = skb;
            heldDev[heldCount] = dev;
            heldHop[heldCount++] = nextHop;
        }
    }

    @Override
    public void setUnreachable(Unreachable handler) {
        unreachable = handler;
        NeighbourTable t = table;
        if (t != null) {
            t.setUnreachable(handler);
        }
    }

    @Override
    public List<Neighbour> entries(NetNamespace ns) {
        NeighbourTable t = table;
        return t == null ? List.of() : t.entries(ns);
    }

    @Override
    public Neighbour lookup(NetDevice dev, int address) {
        NeighbourTable t = table;
        return t == null ? null : t.lookup(dev, address);
    }

    @Override
    public void add(NetDevice dev, int address, MacAddress lladdr, NudState state, boolean replace) throws NetException {
        live().add(dev, address, lladdr, state, replace);
    }

    @Override
    public void delete(NetDevice dev, int address) throws NetException {
        live().delete(dev, address);
    }

    @Override
    public int flush(NetNamespace ns, NetDevice devOrNull) {
        NeighbourTable t = table;
        return t == null ? 0 : t.flush(ns, devOrNull);
    }

    @Override
    public Map<String, Long> stats(NetNamespace ns) {
        NeighbourTable t = table;
        return t == null ? Map.of() : t.stats(ns);
    }

    private NeighbourTable live() throws NetException {
        NeighbourTable t = table;
        if (t == null) {
            throw new NetException(Errno.ENODEV, "no neighbour table: the ethernet module is not loaded");
        }
        return t;
    }
}

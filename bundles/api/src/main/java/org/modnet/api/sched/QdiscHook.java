package org.modnet.api.sched;

import org.modnet.api.net.NetDevice;

/**
 * The core's qdisc hook on each device's transmit path, offered by the core: what sits there now,
 * {@code dev_graft_qdisc} and {@code __netif_schedule}. With nothing grafted the device keeps its
 * built-in default ({@code pfifo_fast}, or {@code noqueue} for virtual devices).
 */
public interface QdiscHook {
    /** The qdisc on the device now (the default included); null for {@code noqueue}. */
    Qdisc qdisc(NetDevice dev);

    /** True if {@link #qdisc} is the device's built-in default. */
    boolean isDefault(NetDevice dev);

    /**
     * Puts {@code q} on the device ({@code kind() == "noqueue"}: no queue; null: the built-in default)
     * and returns the one it replaced. Packets queued in the old one are freed and counted in the
     * device's {@code tx_dropped}; the caller destroys the old one if it is its own.
     */
    Qdisc graft(NetDevice dev, Qdisc q);

    /** {@code __netif_schedule}: runs the device's qdisc (from a watchdog timer). */
    void schedule(NetDevice dev);

    /**
     * Puts a {@code clsact}/{@code ingress} qdisc's classifier hook on the device's receive path
     * ({@code ingress} true) or transmit path (null takes it off) and returns the one it replaced.
     */
    default TcHook attachTc(NetDevice dev, boolean ingress, TcHook hook) {
        throw new UnsupportedOperationException("this core has no tc ingress/egress hook");
    }

    /** The hook on the device's ingress or egress now, or null. */
    default TcHook tcHook(NetDevice dev, boolean ingress) {
        return null;
    }
}

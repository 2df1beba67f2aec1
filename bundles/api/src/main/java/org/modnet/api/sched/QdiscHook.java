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

    /**
     * {@code mq_attach}: puts the multi-queue root {@code root} on the device (shown by {@link #qdisc},
     * holding no frame itself) and gives transmit queue i its own qdisc {@code children.get(i)}
     * ({@code kind() == "noqueue"}: none). {@code children} has one entry per transmit queue.
     * {@code root} null: the core's own {@code mq} ({@code sch_mq}, the one its default for a
     * multi-queue device is), whose counters are its children's sum and which destroys them with
     * itself; {@link #graftTx} keeps its children current (since 1.4). Returns the root it replaced,
     * as {@link #graft}.
     *
     * @throws org.modnet.api.net.NetException EINVAL when the count is not the device's queue count
     * @since 1.2
     */
    default Qdisc graftMulti(NetDevice dev, Qdisc root, java.util.List<Qdisc> children) throws org.modnet.api.net.NetException {
        throw new org.modnet.api.net.NetException(org.modnet.api.net.Errno.EOPNOTSUPP);
    }

    /**
     * Replaces transmit queue {@code index}'s own qdisc under a multi-queue root and returns the one
     * there; its frames are freed and counted in {@code tx_dropped}.
     *
     * @throws org.modnet.api.net.NetException EINVAL when the queue has no qdisc of its own
     * @since 1.2
     */
    default Qdisc graftTx(NetDevice dev, int index, Qdisc q) throws org.modnet.api.net.NetException {
        throw new org.modnet.api.net.NetException(org.modnet.api.net.Errno.EOPNOTSUPP);
    }

    /** The qdisc transmit queue {@code index} feeds (the root's unless a multi-queue root is on). @since 1.2 */
    default Qdisc txQdisc(NetDevice dev, int index) {
        return index == 0 ? qdisc(dev) : null;
    }

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

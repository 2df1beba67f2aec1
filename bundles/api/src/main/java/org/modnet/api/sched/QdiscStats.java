package org.modnet.api.sched;

/**
 * A qdisc's counters ({@code gnet_stats_basic} and {@code gnet_stats_queue}): written by the qdisc
 * under its lock, read by {@code tc -s} without one.
 */
public final class QdiscStats {
    private volatile long bytes;
    private volatile long packets;
    private volatile long drops;
    private volatile long overlimits;
    private volatile long requeues;

    /** {@code qdisc_bstats_update}: one frame of {@code len} bytes left the qdisc. */
    public void sent(int len) {
        bytes += len;
        packets++;
    }

    public void drop() {
        drops++;
    }

    public void drops(int n) {
        drops += n;
    }

    public void overlimit() {
        overlimits++;
    }

    public void requeue() {
        requeues++;
    }

    /**
     * Adds another qdisc's counters to these: how {@code mq} reports the sum of its queues' qdiscs
     * ({@code gnet_stats_add_basic}, {@code gnet_stats_add_queue}).
     *
     * @since 1.2
     */
    public void add(QdiscStats other) {
        bytes += other.bytes;
        packets += other.packets;
        drops += other.drops;
        overlimits += other.overlimits;
        requeues += other.requeues;
    }

    public long bytes() {
        return bytes;
    }

    public long packets() {
        return packets;
    }

    public long drops() {
        return drops;
    }

    public long overlimits() {
        return overlimits;
    }

    public long requeues() {
        return requeues;
    }
}

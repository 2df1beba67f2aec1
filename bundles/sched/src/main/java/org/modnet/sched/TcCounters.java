package org.modnet.sched;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The counters of a classifier hook or an action ({@code gnet_stats_basic} and the drop and overlimit
 * parts of {@code gnet_stats_queue}): bumped from any softirq thread without a lock, read by {@code tc -s}.
 */
final class TcCounters {
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong packets = new AtomicLong();
    private final AtomicLong drops = new AtomicLong();
    private final AtomicLong overlimits = new AtomicLong();

    void sent(int len) {
        bytes.addAndGet(len);
        packets.incrementAndGet();
    }

    void drop() {
        drops.incrementAndGet();
    }

    void overlimit() {
        overlimits.incrementAndGet();
    }

    long bytes() {
        return bytes.get();
    }

    long packets() {
        return packets.get();
    }

    long drops() {
        return drops.get();
    }

    long overlimits() {
        return overlimits.get();
    }

    /** iproute2's {@code print_tcstats2_attr}: the Sent line and the backlog line after {@code prefix}. */
    void print(java.util.List<String> out, String prefix) {
        out.add(prefix + "Sent " + bytes() + " bytes " + packets() + " pkt (dropped " + drops() + ", overlimits "
                + overlimits() + " requeues 0) ");
        out.add(prefix + "backlog 0b 0p requeues 0 ");
    }
}

package org.modnet.api.sched;

import org.modnet.api.skb.SkBuff;

/**
 * A queueing discipline on a device's transmit path ({@code struct Qdisc} with its {@code Qdisc_ops}).
 * The core calls it holding its lock ({@code synchronized} on the qdisc: the qdisc root lock), so an
 * implementation needs no lock of its own; it must not allocate, block or log per packet.
 */
public interface Qdisc {
    /** {@code NET_XMIT_SUCCESS}: queued (or consumed on purpose, as netem's loss does). */
    int NET_XMIT_SUCCESS = 0;
    /** {@code NET_XMIT_DROP}: refused and freed; the qdisc counted it, the core counts it in {@code tx_dropped}. */
    int NET_XMIT_DROP = 1;

    /** The family, as {@code tc} and {@code ip link} print it: {@code pfifo_fast}, {@code netem}. */
    String kind();

    /** Takes the skb: queues it, or frees it and counts the drop ({@link #NET_XMIT_DROP}). */
    int enqueue(SkBuff skb);

    /**
     * The next frame to send, or null when empty or throttled (a throttled qdisc arms its own watchdog
     * and asks the core to run it again, {@link QdiscEnv#schedule()}). Counts it as sent.
     */
    SkBuff dequeue();

    /** {@code dev_requeue_skb}: a frame the driver could not take goes out first next time. */
    void requeue(SkBuff skb);

    /** Packets queued ({@code sch->q.qlen}). */
    int qlen();

    /** Bytes queued ({@code sch->qstats.backlog}). */
    int backlogBytes();

    /** {@code qdisc_reset}: frees what is queued; returns how many packets it freed. */
    int reset();

    /** The counters {@code tc -s qdisc} prints. */
    QdiscStats stats();

    /**
     * {@code TCQ_F_CAN_BYPASS}: a work-conserving qdisc that, when empty and idle, lets the core hand a
     * frame straight to the driver (counted as sent by it) instead of queueing and dequeueing it.
     */
    default boolean canBypass() {
        return false;
    }

    /** The options as {@code tc qdisc show} prints them after {@code refcnt N }, e.g. {@code limit 1000 delay 50ms  10ms}. */
    default String options() {
        return "";
    }

    /** The family's own statistics line for {@code tc -s} ({@code fq_codel}'s maxpacket ...), or null. */
    default String xstats() {
        return null;
    }

    /** {@code tc qdisc change}: new options in tc's words; the qdisc keeps its queue. */
    default void change(java.util.List<String> args) {
        throw new org.modnet.api.shell.CommandException("Error: Change operation not supported by specified qdisc.", 2);
    }

    /** Taken off the device ({@code qdisc_destroy}): stop timers. Its queue was already reset. */
    default void destroy() {
    }
}

package org.modnet.api.handover;

import java.util.Map;

/**
 * The holder of a layer's tables across its update, kept by the core, which outlives both versions:
 * the old version {@link #deposit}s in its deactivation, the new one {@link #take}s in its activation
 * before it registers a service, or {@link #refuse}s a state version it cannot read. Meanwhile the
 * core holds the frames of an ethertype whose handler is leaving for an update
 * ({@link HandsOver#handingOver()}), in a bounded queue, and gives them to the new handler first.
 * @since 1.1
 */
public interface StateHolder {
    /** The old version's tables; replaces an earlier deposit of the same layer that nobody took. */
    void deposit(TableState state);

    /** The deposit of {@code layer}, removed from the holder; null if none is waiting. */
    TableState take(String layer);

    /** The new version cannot read the deposit: it starts empty; the refusal is logged and counted. */
    void refuse(TableState state, String why);

    /**
     * The holder's counters: {@code HandOverDeposits}, {@code HandOverAdopted}, {@code HandOverRefused},
     * and the frames held meanwhile: {@code HandOverHeld}, {@code HandOverHeldDrops} (refused by the
     * queue's bound; each is also the device's {@code rx_dropped}).
     */
    Map<String, Long> counters();
}

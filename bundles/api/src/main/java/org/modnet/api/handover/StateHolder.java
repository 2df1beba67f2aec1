package org.modnet.api.handover;

import java.util.List;
import java.util.Map;

import org.modnet.api.skb.SkBuff;

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

    /**
     * A deposit whose tables still change after the old version's deactivation: a layer whose old
     * functions keep running until the new version's take their place (netfilter's hooks do) gives
     * {@code latest}, which {@link #take} asks for the tables as they are then, so what the old version
     * learnt meanwhile (a flow that began during the update) is not lost; {@code now} is what the new
     * version gets if {@code latest} fails. The default takes {@code now}.
     * @since 1.4
     */
    default void deposit(TableState now, java.util.function.Supplier<TableState> latest) {
        deposit(now);
    }

    /** The deposit of {@code layer}, removed from the holder; null if none is waiting. */
    TableState take(String layer);

    /** The new version cannot read the deposit: it starts empty; the refusal is logged and counted. */
    void refuse(TableState state, String why);

    /**
     * Packets a leaving version held for the layers above it that were being handed over with it (IPv4's
     * segments for UDP and TCP, which leave before IPv4 does when IPv4 is updated), in arrival order, each
     * with its data at its transport header and its network header set. Its next version takes them with
     * its tables ({@link #takeHeld}) and holds them first, ahead of the frames the core held meanwhile, so
     * none is lost and none overtaken. A holder that does not keep them frees them. Replaces packets of
     * the same layer that nobody took (they are freed and counted).
     * @since 1.7
     */
    default void depositHeld(String layer, List<SkBuff> packets) {
        packets.forEach(SkBuff::free);
    }

    /** The packets {@link #depositHeld} keeps for {@code layer}, removed from the holder; empty if none. @since 1.7 */
    default List<SkBuff> takeHeld(String layer) {
        return List.of();
    }

    /**
     * The holder's counters: {@code HandOverDeposits}, {@code HandOverAdopted}, {@code HandOverRefused},
     * and the frames held meanwhile: {@code HandOverHeld}, {@code HandOverHeldDrops} (refused by the
     * queue's bound; each is also the device's {@code rx_dropped}).
     */
    Map<String, Long> counters();
}

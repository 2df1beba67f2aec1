package org.modnet.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The core's {@link StateHolder}: a layer's tables wait here between its old version's deactivation
 * and its new version's activation; the frames of its ethertype wait meanwhile in
 * {@link PacketDispatch}'s hold queue, whose counters this reports with its own.
 */
final class TableHolder implements StateHolder {
    private static final Logger LOG = LoggerFactory.getLogger(TableHolder.class);

    /** A deposit: the tables at the old version's deactivation, and how to ask it for them later (or null). */
    private record Deposit(TableState now, Supplier<TableState> latest) {
    }

    private final Map<String, Deposit> deposits = new ConcurrentHashMap<>();
    private final PacketDispatch dispatch;
    private final AtomicLong deposited = new AtomicLong();
    private final AtomicLong adopted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    /** Packets a leaving layer held for the layers above it, by layer, until its next version takes them. */
    private final Map<String, java.util.List<org.modnet.api.skb.SkBuff>> heldAbove = new ConcurrentHashMap<>();
    private final AtomicLong heldPassed = new AtomicLong();
    private final AtomicLong heldPassedDrops = new AtomicLong();

    TableHolder(PacketDispatch dispatch) {
        this.dispatch = dispatch;
    }

    @Override
    public void deposit(TableState state) {
        deposit(state, null);
    }

    @Override
    public void deposit(TableState now, Supplier<TableState> latest) {
        deposits.put(now.layer(), new Deposit(now, latest));
        deposited.incrementAndGet();
    }

    @Override
    public TableState take(String layer) {
        Deposit d = deposits.remove(layer);
        if (d == null) {
            return null;
        }
        adopted.incrementAndGet();
        if (d.latest == null) {
            return d.now;
        }
        try {
            TableState st = d.latest.get();
            if (st != null && st.layer().equals(layer) && st.version() == d.now.version()) {
                return st;
            }
            LOG.warn("{}: the leaving version's latest tables did not match its deposit; the deposit is adopted", layer);
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("{}: the leaving version could not give its latest tables ({}); the deposit is adopted", layer, e.toString());
        }
        return d.now;
    }

    @Override
    public void depositHeld(String layer, java.util.List<org.modnet.api.skb.SkBuff> packets) {
        java.util.List<org.modnet.api.skb.SkBuff> earlier = heldAbove.put(layer, java.util.List.copyOf(packets));
        heldPassed.addAndGet(packets.size());
        if (earlier != null) { // nobody took them: an update that never came
            earlier.forEach(org.modnet.api.skb.SkBuff::free);
            heldPassedDrops.addAndGet(earlier.size());
        }
    }

    @Override
    public java.util.List<org.modnet.api.skb.SkBuff> takeHeld(String layer) {
        java.util.List<org.modnet.api.skb.SkBuff> packets = heldAbove.remove(layer);
        return packets == null ? java.util.List.of() : packets;
    }

    @Override
    public void refuse(TableState state, String why) {
        adopted.decrementAndGet(); // taken, but not adopted
        refused.incrementAndGet();
        LOG.warn("{}: state hand-over refused, the new version starts empty: {}", state.layer(), why);
    }

    @Override
    public Map<String, Long> counters() {
        long[] held = dispatch.heldCounters();
        Map<String, Long> out = new LinkedHashMap<>();
        out.put("HandOverDeposits", deposited.get());
        out.put("HandOverAdopted", adopted.get());
        out.put("HandOverRefused", refused.get());
        out.put("HandOverHeld", held[0]);
        out.put("HandOverHeldDelivered", held[1]);
        out.put("HandOverHeldDrops", held[2]);
        out.put("HandOverHeldExpired", held[3]);
        out.put("HandOverHeldPassed", heldPassed.get());
        out.put("HandOverHeldPassedDrops", heldPassedDrops.get());
        return out;
    }
}

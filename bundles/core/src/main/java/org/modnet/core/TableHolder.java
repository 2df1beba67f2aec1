package org.modnet.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

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

    private final Map<String, TableState> deposits = new ConcurrentHashMap<>();
    private final PacketDispatch dispatch;
    private final AtomicLong deposited = new AtomicLong();
    private final AtomicLong adopted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    TableHolder(PacketDispatch dispatch) {
        this.dispatch = dispatch;
    }

    @Override
    public void deposit(TableState state) {
        deposits.put(state.layer(), state);
        deposited.incrementAndGet();
    }

    @Override
    public TableState take(String layer) {
        TableState st = deposits.remove(layer);
        if (st != null) {
            adopted.incrementAndGet();
        }
        return st;
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
        return out;
    }
}

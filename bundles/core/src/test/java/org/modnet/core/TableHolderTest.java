package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.handover.TableState;

/** The holder of a layer's tables between its versions. */
class TableHolderTest {
    private final TableHolder holder = new TableHolder(new PacketDispatch());

    private static TableState tables(int version, String what) {
        return new TableState("conntrack", version, List.of(), Map.of("0/conntrack", what));
    }

    @Test
    void aDepositIsTakenOnceAndCounted() {
        TableState st = tables(1, "a");
        holder.deposit(st);
        assertSame(st, holder.take("conntrack"));
        assertNull(holder.take("conntrack"));
        assertEquals(1L, holder.counters().get("HandOverDeposits"));
        assertEquals(1L, holder.counters().get("HandOverAdopted"));
    }

    @Test
    void theNewVersionGetsTheTablesAsTheyAreWhenItTakesThem() {
        StringBuilder flows = new StringBuilder("a");
        holder.deposit(tables(1, flows.toString()), () -> tables(1, flows.toString()));
        flows.append(" b"); // the old hooks learnt a flow after the deposit
        assertEquals("a b", holder.take("conntrack").extra().get("0/conntrack"));
    }

    @Test
    void aLeavingVersionThatCannotAnswerLeavesItsDeposit() {
        TableState now = tables(1, "a");
        holder.deposit(now, () -> {
            throw new IllegalStateException("its bundle is gone");
        });
        assertSame(now, holder.take("conntrack"));
        holder.deposit(now, () -> tables(2, "other layout"));
        assertSame(now, holder.take("conntrack"), "the later tables must be in the deposit's layout");
    }

    @Test
    void packetsALeavingLayerHeldAreTakenOnceInOrder() {
        org.modnet.api.skb.SkBuffPool pool = new org.modnet.api.skb.SkBuffPool(8, 256);
        org.modnet.api.skb.SkBuff first = pool.alloc(20);
        org.modnet.api.skb.SkBuff second = pool.alloc(20);
        holder.depositHeld("ipv4", List.of(first, second));
        assertEquals(List.of(first, second), holder.takeHeld("ipv4"));
        assertEquals(List.of(), holder.takeHeld("ipv4"), "given once");
        assertEquals(2L, holder.counters().get("HandOverHeldPassed"));
    }

    @Test
    void heldPacketsNobodyTookAreFreedAndCountedWhenTheNextDepositReplacesThem() {
        org.modnet.api.skb.SkBuffPool pool = new org.modnet.api.skb.SkBuffPool(8, 256);
        holder.depositHeld("ipv4", List.of(pool.alloc(20), pool.alloc(20)));
        holder.depositHeld("ipv4", List.of());
        assertEquals(0, pool.inUse(), "the first deposit's packets went back to the pool");
        assertEquals(2L, holder.counters().get("HandOverHeldPassedDrops"));
    }
}

package org.modnet.sched;

import org.modnet.api.net.NetDevice;
import org.modnet.api.sched.TcHook;
import org.modnet.api.skb.SkBuff;

/**
 * The {@code clsact} and {@code ingress} qdiscs ({@code net/sched/sch_ingress.c}): no queue, only filter
 * blocks the core runs on the device's receive path and — {@code clsact} only — its transmit path
 * ({@code sch_handle_ingress}, {@code sch_handle_egress}). Every frame is counted as sent; one the
 * filters drop is freed here and counted as dropped; one an action took is the action's.
 */
final class ClsAct implements TcHook {
    /** {@code TC_H_CLSACT}/{@code TC_H_INGRESS}: the handle {@code ffff:}. */
    static final int HANDLE = 0xffff0000;
    /** {@code TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)}: {@code ffff:fff2}. */
    static final int INGRESS = 0xfffffff2;
    /** {@code TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)}: {@code ffff:fff3}. */
    static final int EGRESS = 0xfffffff3;
    /** The parent tc prints for both: {@code ffff:fff1} ({@code TC_H_INGRESS}). */
    static final int PARENT = 0xfffffff1;

    final String kind;
    final TcFilterBlock ingress = new TcFilterBlock();
    /** Null for the {@code ingress} qdisc, which has no egress hook. */
    final TcFilterBlock egress;
    final TcCounters stats = new TcCounters();

    ClsAct(String kind) {
        this.kind = kind;
        this.egress = kind.equals("clsact") ? new TcFilterBlock() : null;
    }

    @Override
    public int run(SkBuff skb, NetDevice dev, boolean atIngress) {
        TcFilterBlock block = atIngress ? ingress : egress;
        if (block == null) {
            return TC_ACT_OK;
        }
        stats.sent(skb.len());
        switch (TcFilterBlock.verdict(block.classify(skb, atIngress))) {
            case TC_ACT_SHOT -> {
                stats.drop();
                skb.free();
                return TC_ACT_SHOT;
            }
            case TC_ACT_STOLEN, TC_ACT_QUEUED, TC_ACT_TRAP, TC_ACT_REDIRECT -> {
                return TC_ACT_STOLEN; // the action (mirred, a program's redirect) has the frame now
            }
            default -> {
                return TC_ACT_OK; // ok, pipe, unspec, reclassify: on its way
            }
        }
    }

    /** The block a filter's parent names, or null when this qdisc has none there. */
    TcFilterBlock block(int parent) {
        if (parent == INGRESS || parent == HANDLE) {
            return ingress;
        }
        if (parent == EGRESS) {
            return egress;
        }
        return null;
    }

    void destroy() {
        ingress.flush();
        if (egress != null) {
            egress.flush();
        }
    }
}

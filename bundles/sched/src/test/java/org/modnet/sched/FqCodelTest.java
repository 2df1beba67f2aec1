package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.skb.SkBuff;

/** fq_codel: per-flow fairness, new flows first, CoDel's sojourn control, the overlimit drop. */
class FqCodelTest {
    private final SchedRig rig;

    FqCodelTest() throws Exception {
        rig = new SchedRig();
    }

    @AfterEach
    void close() {
        rig.close();
        assertEquals(0, rig.core.core().pool().inUse());
    }

    private SchFqCodel fq(String args) {
        return new SchFqCodel(rig.tc.api().env(rig.va), args.isEmpty() ? List.of() : Arrays.asList(args.split(" ")));
    }

    private SkBuff flow(int hash, int size) {
        SkBuff skb = rig.frame(size, 0);
        skb.hash(hash);
        return skb;
    }

    @Test
    void printsItsOptionsAndStatisticsAsLinux() {
        rig.tc("qdisc add dev va root fq_codel");
        assertEquals(List.of("qdisc fq_codel 8001: root refcnt 2 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms "
                + "memory_limit 32Mb ecn drop_batch 64 "), rig.tc("qdisc show dev va"));
        rig.send(100);
        rig.core.run();
        assertEquals(List.of("qdisc fq_codel 8001: root refcnt 2 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms "
                + "memory_limit 32Mb ecn drop_batch 64 ", " Sent 100 bytes 1 pkt (dropped 0, overlimits 0 requeues 0) ",
                " backlog 0b 0p requeues 0", "  maxpacket 100 drop_overlimit 0 new_flow_count 1 ecn_mark 0\n"
                        + "  new_flows_len 0 old_flows_len 0"), rig.tc("-s qdisc show dev va"));
        rig.tc("qdisc change dev va root fq_codel target 2ms interval 50ms noecn limit 100");
        assertEquals(List.of("qdisc fq_codel 8001: root refcnt 2 limit 100p flows 1024 quantum 1514 target 2ms interval 50ms "
                + "memory_limit 32Mb drop_batch 64 "), rig.tc("qdisc show dev va"));
    }

    @Test
    void aFlowThatEmptiedComesBackAsANewFlowThoughTheCoreAskedNoMore() {
        rig.tc("qdisc add dev va root fq_codel");
        rig.send(100);
        rig.core.run();
        rig.send(100); // the core took the first out and saw the queue empty: the flow's retirement waited until now
        rig.core.run();
        assertEquals(2, rig.received);
        assertTrue(String.join("\n", rig.tc("-s qdisc show dev va")).contains(" new_flow_count 2 "),
                "sparse flows count as new each time, as in Linux");
    }

    @Test
    void twoBusyFlowsShareByQuantum() {
        SchFqCodel q = fq("quantum 1000");
        for (int i = 0; i < 10; i++) {
            q.enqueue(flow(0x10000000, 1000));
        }
        for (int i = 0; i < 10; i++) {
            q.enqueue(flow(0x90000000, 1000));
        }
        List<Integer> order = new ArrayList<>();
        SkBuff skb;
        while ((skb = q.dequeue()) != null) {
            order.add(skb.hash() == 0x10000000 ? 1 : 2);
            skb.free();
        }
        assertEquals(20, order.size());
        for (int i = 0; i < 18; i += 2) {
            assertTrue(order.get(i) != order.get(i + 1), "round robin by quantum: " + order);
        }
    }

    @Test
    void aNewSparseFlowGoesAheadOfABusyOne() {
        SchFqCodel q = fq("");
        for (int i = 0; i < 20; i++) {
            q.enqueue(flow(0x10000000, 1000));
        }
        q.dequeue().free(); // the busy flow has been served: it is an old flow now, its deficit spent soon
        q.dequeue().free();
        q.enqueue(flow(0x90000000, 100));
        SkBuff next = q.dequeue();
        assertEquals(100, next.len(), "the new flow's packet goes next");
        next.free();
        q.reset();
    }

    @Test
    void overTheLimitTheFattestFlowLosesFromItsHead() {
        SchFqCodel q = fq("limit 10 drop_batch 4");
        for (int i = 0; i < 8; i++) {
            q.enqueue(flow(0x10000000, 1000));
        }
        q.enqueue(flow(0x90000000, 100));
        q.enqueue(flow(0x90000000, 100));
        q.enqueue(flow(0x90000000, 100)); // the 11th packet
        assertEquals(4, q.dropOverlimit(), "half the fat flow's bytes, at most drop_batch packets");
        assertEquals(7, q.qlen());
        assertEquals(4, rig.va.stats().get(DeviceStats.Field.TX_DROPPED));
        q.reset();
    }

    /** Packets arrive 5% faster than they leave: a standing queue that CoDel must keep near its target. */
    private double[] standingQueue(String args, boolean ect) {
        SchFqCodel q = fq(args);
        double sum = 0;
        int n = 0;
        for (int ms = 0; ms < 20_000; ms++) {
            int arrivals = ms % 20 == 0 ? 2 : 1;
            for (int i = 0; i < arrivals; i++) {
                SkBuff skb = flow(0x10000000, 1000);
                if (ect) {
                    skb.setU8(skb.data() + 14 + 1, 0x02); // ECT(0) in an IPv4 header
                    skb.setU8(skb.data() + 14, 0x45);
                    skb.setU16(skb.data() + 12, 0x0800);
                }
                skb.mark(ms);
                q.enqueue(skb);
            }
            SkBuff out = q.dequeue();
            if (out != null) {
                if (ms >= 15_000) {
                    sum += ms - out.mark();
                    n++;
                }
                out.free();
            }
            rig.clock.addAndGet(1_000_000L);
        }
        double[] r = { sum / n, q.stats().drops(), q.ecnMarks() };
        q.reset();
        return r;
    }

    @Test
    void codelKeepsAStandingQueuesSojournNearItsTarget() {
        double[] r = standingQueue("", false);
        assertTrue(r[0] < 15, "mean sojourn " + r[0] + " ms in the last 5 s (target 5 ms)");
        assertTrue(r[1] > 400, "CoDel dropped " + r[1]);
    }

    @Test
    void codelMarksEcnCapablePacketsInsteadOfDropping() {
        double[] r = standingQueue("", true);
        assertTrue(r[2] > 400, "marked " + r[2]);
        assertEquals(0, r[1], "nothing dropped");
    }
}

package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/** fq on the rig's virtual clock: flows served in turn, per-flow limits, pacing and its statistics. */
class FqTest {
    private final SchedRig rig;

    FqTest() throws Exception {
        rig = new SchedRig();
    }

    @AfterEach
    void close() {
        rig.close();
        assertEquals(0, rig.core.core().pool().inUse(), "every skb went back to the pool");
    }

    private SchFq fq(String args) {
        return new SchFq(rig.tc.api().env(rig.va), args.isEmpty() ? List.of() : Arrays.asList(args.split(" ")));
    }

    /** A frame of flow {@code flow} (its flow hash), {@code size} bytes. */
    private SkBuff frame(int flow, int size) {
        SkBuff skb = rig.frame(size, 0);
        skb.hash(flow);
        return skb;
    }

    private static void drain(Qdisc q) {
        SkBuff skb;
        while ((skb = q.dequeue()) != null) {
            skb.free();
        }
    }

    @Test
    void showPrintsLinuxsDefaults() {
        rig.tc("qdisc add dev va root handle 1: fq");
        assertEquals(List.of("qdisc fq 1: root refcnt 2 limit 10000p flow_limit 100p buckets 1024 orphan_mask 1023 quantum 3028b "
                + "initial_quantum 15140b low_rate_threshold 550Kbit refill_delay 40ms timer_slack 10us horizon 10s horizon_drop "),
                rig.tc("qdisc show dev va"));
        rig.tc("qdisc change dev va root fq maxrate 10mbit nopacing flow_limit 50");
        assertTrue(rig.tc("qdisc show dev va").get(0).contains("flow_limit 50p buckets 1024 orphan_mask 1023 nopacing quantum 3028b "
                + "initial_quantum 15140b maxrate 10Mbit "));
    }

    @Test
    void flowsTakeTurnsByQuantum() {
        SchFq q = fq("quantum 1000 initial_quantum 1000");
        for (int i = 0; i < 4; i++) {
            q.enqueue(frame(1, 1000));
        }
        for (int i = 0; i < 4; i++) {
            q.enqueue(frame(2, 1000));
        }
        List<Integer> order = new ArrayList<>();
        SkBuff skb;
        while ((skb = q.dequeue()) != null) {
            order.add(skb.hash());
            skb.free();
        }
        assertEquals(List.of(1, 2, 1, 2, 1, 2, 1, 2), order);
        q.destroy();
    }

    @Test
    void aFlowOverItsFlowLimitIsDroppedAndCounted() {
        SchFq q = fq("flow_limit 3");
        for (int i = 0; i < 5; i++) {
            q.enqueue(frame(1, 100));
        }
        assertEquals(Qdisc.NET_XMIT_SUCCESS, q.enqueue(frame(2, 100)), "another flow still gets in");
        assertEquals(4, q.qlen());
        assertEquals(2, q.stats().drops());
        assertEquals(2, q.flowsPlimit());
        assertTrue(q.xstats().contains(" flows_plimit 2"), q.xstats());
        drain(q);
        q.destroy();
    }

    @Test
    void controlPriorityGoesFirstThroughTheInternalFlow() {
        SchFq q = fq("");
        q.enqueue(frame(1, 100));
        SkBuff ctl = frame(1, 200);
        ctl.priority(7);
        q.enqueue(ctl);
        SkBuff first = q.dequeue();
        assertEquals(200, first.len());
        first.free();
        assertTrue(q.xstats().contains("highprio 1 "), q.xstats());
        drain(q);
        q.destroy();
    }

    @Test
    void aPacketWaitsForItsDepartureTime() {
        SchFq q = fq("");
        SkBuff skb = frame(1, 100);
        skb.tstamp(rig.clock.get() + 5_000_000L);
        q.enqueue(skb);
        assertNull(q.dequeue(), "its time has not come");
        assertTrue(q.xstats().startsWith("  flows 1 (inactive 0 throttled 1) next_packet_delay 5ms\n  gc 0 highprio 0 throttled 1"),
                q.xstats());
        rig.clock.addAndGet(5_000_000L);
        SkBuff out = q.dequeue();
        assertNotNull(out);
        assertEquals(0, out.tstamp(), "the departure time is not left on the packet");
        out.free();
        q.destroy();
    }

    @Test
    void aPacketBeyondTheHorizonIsDropped() {
        SchFq q = fq("horizon 1s");
        SkBuff skb = frame(1, 100);
        skb.tstamp(rig.clock.get() + 2_000_000_000L);
        assertEquals(Qdisc.NET_XMIT_DROP, q.enqueue(skb));
        assertTrue(q.xstats().contains("horizon_drops 1 "), q.xstats());
        q.destroy();
    }

    /** Keeps {@code flows} flows of 1000-byte frames queued on va for {@code ms} of virtual time; the bytes vb received. */
    private long flood(int ms, int flows) {
        long before = rig.receivedBytes;
        for (int t = 0; t < ms; t++) {
            while (rig.qdisc().qlen() < 20 * flows) {
                for (int f = 1; f <= flows; f++) {
                    rig.core.core().devQueueXmit(frame(f, 1000));
                }
            }
            rig.advanceMillis(1);
        }
        return rig.receivedBytes - before;
    }

    @Test
    void maxratePacesEachFlowOnItsOwn() {
        rig.tc("qdisc add dev va root fq maxrate 8mbit");
        long one = flood(1000, 1);
        // 8 Mbit/s = 1 MB/s, after the first initial_quantum
        assertEquals(1_000_000, one, 1_000_000 * 0.05, "one flow sent " + one);
        long two = flood(1000, 2);
        assertEquals(2_000_000, two, 2_000_000 * 0.05, "each of two flows has its own 8 Mbit/s: " + two);
        String[] s = String.join("\n", rig.tc("-s qdisc show dev va")).split("\n");
        assertTrue(s[3].startsWith("  flows 2 (inactive 0 throttled "), String.join("\n", s));
        assertTrue(s[4].matches("  gc 0 highprio 0 throttled [1-9][0-9]+"), String.join("\n", s));
        rig.qdisc().reset();
    }

    @Test
    void badWordsAreRefusedInTcsWords() {
        assertEquals("Error: sch_fq: invalid quantum.",
                assertThrows(CommandException.class, () -> rig.tc("qdisc add dev va root fq quantum 0")).getMessage());
        assertEquals("Illegal \"maxrate\"", assertThrows(CommandException.class, () -> rig.tc("qdisc add dev va root fq maxrate x")).getMessage());
        assertTrue(assertThrows(CommandException.class, () -> rig.tc("qdisc add dev va root fq pace")).getMessage().startsWith("What is \"pace\"?"));
    }
    @Test
    void aFlowIdleForThreeSecondsGivesItsSlotAwayAndOneWithoutASlotGoesInternal() {
        SchFq q = fq("buckets 2");
        q.enqueue(frame(1, 100));
        q.enqueue(frame(2, 100));
        q.enqueue(frame(3, 100)); // both slots taken: the internal flow, as when Linux cannot allocate a flow
        assertTrue(q.xstats().contains("alloc_errors 1"), q.xstats());
        drain(q);
        assertEquals(2, q.flows());
        rig.clock.addAndGet(3_100_000_000L);
        q.enqueue(frame(3, 100));
        assertTrue(q.xstats().contains("\n  gc 1 "), q.xstats());
        assertEquals(2, q.flows(), "flow 3 took an idle flow's slot");
        drain(q);
        q.destroy();
    }
}

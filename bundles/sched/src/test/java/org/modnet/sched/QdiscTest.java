package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.skb.SkBuff;

/** Each qdisc's own rules, driven directly on a virtual clock. */
class QdiscTest {
    private final SchedRig rig;

    QdiscTest() throws Exception {
        rig = new SchedRig();
    }

    @AfterEach
    void close() {
        rig.close();
        assertEquals(0, rig.core.core().pool().inUse(), "every skb went back to the pool");
    }

    private Qdisc make(Qdisc q) {
        return q;
    }

    private SchFifo fifo(boolean bytes, String args) {
        return new SchFifo(rig.tc.api().env(rig.va), bytes, words(args));
    }

    private SchNetem netem(String args) {
        return new SchNetem(rig.tc.api().env(rig.va), words(args));
    }

    private static List<String> words(String args) {
        return args.isEmpty() ? List.of() : Arrays.asList(args.split(" "));
    }

    private int drain(Qdisc q) {
        int n = 0;
        SkBuff skb;
        while ((skb = q.dequeue()) != null) {
            skb.free();
            n++;
        }
        return n;
    }

    @Test
    void pfifoKeepsOrderAndDropsOverItsPacketLimit() {
        SchFifo q = fifo(false, "limit 3");
        for (int i = 0; i < 4; i++) {
            assertEquals(i < 3 ? Qdisc.NET_XMIT_SUCCESS : Qdisc.NET_XMIT_DROP, q.enqueue(rig.frame(60 + i, 0)));
        }
        assertEquals(3, q.qlen());
        assertEquals(60 + 61 + 62, q.backlogBytes());
        for (int i = 0; i < 3; i++) {
            SkBuff skb = q.dequeue();
            assertEquals(60 + i, skb.len());
            skb.free();
        }
        assertEquals(1, q.stats().drops());
        assertEquals(3, q.stats().packets());
        assertEquals(183, q.stats().bytes());
    }

    @Test
    void bfifoLimitsBytes() {
        SchFifo q = fifo(true, "limit 1000");
        int taken = 0;
        for (int i = 0; i < 5; i++) {
            if (q.enqueue(rig.frame(300, 0)) == Qdisc.NET_XMIT_SUCCESS) {
                taken++;
            }
        }
        assertEquals(3, taken);
        assertEquals(2, q.stats().drops());
        q.reset();
    }

    @Test
    void pfifoDefaultsToTxqueuelen() throws Exception {
        rig.va.setTxQueueLen(7);
        SchFifo q = fifo(false, "");
        assertEquals("limit 7p", q.options());
    }

    @Test
    void pfifoFastSendsBandZeroFirstByPriority() {
        SchPfifoFast q = new SchPfifoFast(rig.tc.api().env(rig.va), List.of());
        q.enqueue(rig.frame(61, 1)); // TC_PRIO_FILLER: band 2
        q.enqueue(rig.frame(62, 0)); // TC_PRIO_BESTEFFORT: band 1
        q.enqueue(rig.frame(63, 6)); // TC_PRIO_INTERACTIVE: band 0
        List<Integer> order = new ArrayList<>();
        SkBuff skb;
        while ((skb = q.dequeue()) != null) {
            order.add(skb.len());
            skb.free();
        }
        assertEquals(List.of(63, 62, 61), order);
    }

    @Test
    void prioFollowsItsPriomap() {
        SchPrio q = new SchPrio(rig.tc.api().env(rig.va), words("bands 2 priomap 1 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1"));
        q.enqueue(rig.frame(60, 0));
        q.enqueue(rig.frame(61, 1));
        SkBuff first = q.dequeue();
        assertEquals(61, first.len(), "priority 1 maps to band 0");
        first.free();
        drain(q);
    }

    @Test
    void requeuedFrameGoesOutFirstAndIsCounted() {
        SchFifo q = fifo(false, "");
        q.enqueue(rig.frame(60, 0));
        q.enqueue(rig.frame(61, 0));
        SkBuff skb = q.dequeue();
        q.requeue(skb);
        assertEquals(2, q.qlen());
        SkBuff again = q.dequeue();
        assertEquals(60, again.len());
        again.free();
        assertEquals(1, q.stats().requeues());
        drain(q);
    }

    @Test
    void tbfSendsItsBurstThenOnePacketPerTokenTime() {
        // 1 Mbit/s = 125000 B/s: a 1000-byte packet costs 8 ms of tokens; the bucket holds 10 KiB
        SchTbf q = new SchTbf(rig.tc.api().env(rig.va), words("rate 1mbit burst 10kb limit 100000"));
        for (int i = 0; i < 20; i++) {
            assertEquals(Qdisc.NET_XMIT_SUCCESS, q.enqueue(rig.frame(1000, 0)));
        }
        assertEquals(10, drain(q), "a full bucket of 10240 bytes lets ten 1000-byte packets go at once");
        assertEquals(1, q.stats().overlimits());
        rig.clock.addAndGet(6_000_000L);
        assertNull(q.dequeue(), "240 bytes left and 750 more after 6 ms are not enough");
        rig.clock.addAndGet(1_000_000L);
        SkBuff skb = q.dequeue();
        assertNotNull(skb, "7 ms pay for one more");
        skb.free();
        q.reset();
        q.destroy();
    }

    @Test
    void tbfDropsWhatIsOverItsLimitOrBiggerThanItsBurst() {
        SchTbf q = new SchTbf(rig.tc.api().env(rig.va), words("rate 1mbit burst 1000 limit 2500"));
        assertEquals(Qdisc.NET_XMIT_DROP, q.enqueue(rig.frame(1200, 0)), "a packet bigger than the bucket could never go");
        assertEquals(Qdisc.NET_XMIT_SUCCESS, q.enqueue(rig.frame(1000, 0)));
        assertEquals(Qdisc.NET_XMIT_SUCCESS, q.enqueue(rig.frame(1000, 0)));
        assertEquals(Qdisc.NET_XMIT_DROP, q.enqueue(rig.frame(1000, 0)), "2500 bytes of queue hold two");
        assertEquals(2, q.stats().drops());
        q.reset();
        q.destroy();
    }

    @Test
    void tbfLimitFromLatencyIsRateTimesLatencyPlusBurst() {
        SchTbf q = new SchTbf(rig.tc.api().env(rig.va), words("rate 10mbit burst 32kbit latency 400ms"));
        assertEquals(1_250_000L * 4 / 10 + 4096, q.limit());
        q.destroy();
    }

    @Test
    void netemHoldsEachPacketForItsDelay() {
        SchNetem q = netem("delay 50ms");
        q.enqueue(rig.frame(60, 0));
        rig.clock.addAndGet(49_999_999L);
        assertNull(q.dequeue());
        rig.clock.addAndGet(1L);
        SkBuff skb = q.dequeue();
        assertNotNull(skb);
        skb.free();
        q.destroy();
    }

    private long countLost(String args, int n) {
        SchNetem q = netem(args);
        long before = q.stats().drops();
        for (int i = 0; i < n; i++) {
            q.enqueue(rig.frame(60, 0));
            SkBuff skb = q.dequeue();
            if (skb != null) {
                skb.free();
            }
        }
        q.destroy();
        return q.stats().drops() - before;
    }

    @Test
    void netemSeededLossIsAboutItsPercentageAndRepeatsExactly() {
        long lost = countLost("loss 20% seed 7", 10_000);
        assertTrue(lost > 1_850 && lost < 2_150, "lost " + lost + " of 10000 at 20%");
        assertEquals(lost, countLost("loss 20% seed 7", 10_000), "the same seed loses the same packets");
        assertTrue(countLost("loss 20% seed 8", 10_000) != lost, "another seed, another run");
    }

    /** An IPv4 frame whose TOS byte carries the ECN field {@code ecn}. */
    private SkBuff ipv4Frame(int ecn) {
        SkBuff skb = rig.frame(60, 0);
        skb.setU16(skb.data() + 12, 0x0800);
        skb.setU8(skb.data() + 14, 0x45);
        skb.setU8(skb.data() + 14 + 1, ecn);
        skb.setU16(skb.data() + 14 + 10, org.modnet.api.inet.InetChecksum.checksum(skb, skb.data() + 14, 20));
        return skb;
    }

    @Test
    void netemWithEcnMarksEctPacketsCeInsteadOfLosingThemAndLosesTheRest() {
        SchNetem q = netem("loss 100% ecn");
        q.enqueue(ipv4Frame(0x02)); // ECT(0)
        q.enqueue(ipv4Frame(0x01)); // ECT(1)
        q.enqueue(ipv4Frame(0x00)); // Not-ECT: lost as without ecn
        SkBuff a = q.dequeue();
        SkBuff b = q.dequeue();
        assertNotNull(a);
        assertNotNull(b);
        assertEquals(3, a.getU8(a.data() + 15) & 3, "CE");
        assertEquals(3, b.getU8(b.data() + 15) & 3, "CE");
        assertEquals(0, org.modnet.api.inet.InetChecksum.checksum(a, a.data() + 14, 20) & 0xffff,
                "the header checksum follows the TOS byte");
        assertNull(q.dequeue(), "the Not-ECT packet was lost");
        assertEquals(3, q.stats().drops(), "Linux counts a mark as a drop too (qdisc_qstats_drop)");
        a.free();
        b.free();
        q.destroy();
    }

    @Test
    void netemCorrelatedLossComesInBursts() {
        // with correlation the same mean, but runs: count loss-after-loss pairs
        SchNetem q = netem("loss 20% 50% seed 3");
        int pairs = 0;
        boolean lastLost = false;
        for (int i = 0; i < 10_000; i++) {
            long before = q.stats().drops();
            q.enqueue(rig.frame(60, 0));
            boolean lost = q.stats().drops() > before;
            if (lost && lastLost) {
                pairs++;
            }
            lastLost = lost;
            SkBuff skb = q.dequeue();
            if (skb != null) {
                skb.free();
            }
        }
        q.destroy();
        long lost = q.stats().drops();
        // Linux's correlation smooths the draws: fewer losses than 20%, but a loss makes the next likelier
        assertTrue(lost > 100, "lost " + lost);
        assertTrue((double) pairs / lost > 2.0 * lost / 10_000, "losses cluster: " + pairs + " pairs in " + lost);
    }

    @Test
    void netemGilbertElliottLosesInTheBadState() {
        long lost = countLost("loss gemodel 1% 10% 100% 0% seed 5", 20_000);
        // stationary bad-state share p/(p+r) = 1/11 of packets, all lost there
        assertTrue(lost > 20_000 / 11 * 0.7 && lost < 20_000 / 11 * 1.3, "lost " + lost);
    }

    @Test
    void netemDuplicatesAboutItsPercentage() {
        SchNetem q = netem("duplicate 10% seed 11");
        int out = 0;
        for (int i = 0; i < 10_000; i++) {
            q.enqueue(rig.frame(60, 0));
            out += drain(q);
        }
        assertTrue(out > 10_900 && out < 11_100, out + " packets out of 10000 sent");
        q.destroy();
    }

    @Test
    void netemReordersOneInGapAheadOfTheDelayed() {
        SchNetem q = netem("delay 10ms reorder 100% gap 3 seed 1");
        for (int i = 0; i < 6; i++) {
            q.enqueue(rig.frame(60 + i, 0));
        }
        // every third packet (the 3rd, the 6th) skips the delay
        List<Integer> now = new ArrayList<>();
        SkBuff skb;
        while ((skb = q.dequeue()) != null) {
            now.add(skb.len());
            skb.free();
        }
        assertEquals(List.of(62, 65), now);
        rig.clock.addAndGet(10_000_000L);
        assertEquals(4, drain(q));
        assertEquals(2, q.stats().requeues(), "Linux counts a reordered packet as a requeue");
        q.destroy();
    }

    @Test
    void netemCorruptFlipsOneBit() {
        SchNetem q = netem("corrupt 100% seed 2");
        SkBuff skb = rig.frame(100, 0);
        byte[] before = new byte[100];
        skb.getBytes(skb.data(), before, 0, 100);
        q.enqueue(skb);
        SkBuff out = q.dequeue();
        byte[] after = new byte[100];
        out.getBytes(out.data(), after, 0, 100);
        int bits = 0;
        for (int i = 0; i < 100; i++) {
            bits += Integer.bitCount((before[i] ^ after[i]) & 0xff);
        }
        assertEquals(1, bits);
        out.free();
        q.destroy();
    }

    @Test
    void netemDropsOverItsLimit() {
        SchNetem q = netem("delay 1s limit 5");
        int dropped = 0;
        for (int i = 0; i < 8; i++) {
            if (q.enqueue(rig.frame(60, 0)) == Qdisc.NET_XMIT_DROP) {
                dropped++;
            }
        }
        assertEquals(3, dropped);
        assertEquals(5, q.qlen());
        q.reset();
        q.destroy();
    }

    @Test
    void netemRateSerialisesPackets() {
        SchNetem q = netem("rate 1mbit");
        q.enqueue(rig.frame(1000, 0));
        q.enqueue(rig.frame(1000, 0));
        rig.clock.addAndGet(8_000_000L);
        assertEquals(1, drain(q), "the first takes 8 ms at 1 Mbit/s");
        rig.clock.addAndGet(8_000_000L);
        assertEquals(1, drain(q), "the second 8 ms after it");
        q.destroy();
    }

    private double[] delays(String args, int n) {
        SchNetem q = netem(args);
        double[] d = new double[n];
        long t0 = rig.clock.get();
        for (int i = 0; i < n; i++) {
            SkBuff skb = rig.frame(60, 0);
            q.enqueue(skb);
            d[i] = (skb.tstamp() - t0) / 1e6;
            q.reset();
        }
        q.reset();
        q.destroy();
        return d;
    }

    private static double mean(double[] d) {
        return Arrays.stream(d).average().orElseThrow();
    }

    private static double sd(double[] d) {
        double m = mean(d);
        return Math.sqrt(Arrays.stream(d).map(x -> (x - m) * (x - m)).sum() / d.length);
    }

    @Test
    void netemJitterFollowsItsDistribution() {
        double[] uniform = delays("delay 50ms 10ms seed 1 limit 10000", 10_000);
        assertEquals(50, mean(uniform), 0.5);
        assertTrue(Arrays.stream(uniform).allMatch(x -> x >= 40 && x <= 60), "uniform stays within +-jitter");
        assertEquals(10 / Math.sqrt(3), sd(uniform), 0.3);

        double[] normal = delays("delay 50ms 10ms distribution normal seed 1 limit 10000", 10_000);
        assertEquals(50, mean(normal), 0.5);
        assertEquals(10, sd(normal), 0.5);
        assertTrue(Arrays.stream(normal).anyMatch(x -> x < 40) && Arrays.stream(normal).anyMatch(x -> x > 60));

        double[] pareto = delays("delay 50ms 10ms distribution pareto seed 1 limit 10000", 10_000);
        assertTrue(Arrays.stream(pareto).min().orElseThrow() > 40, "pareto's short side is bounded");
        assertTrue(Arrays.stream(pareto).max().orElseThrow() > 80, "and its tail is long");

        double[] pn = delays("delay 50ms 10ms distribution paretonormal seed 1 limit 10000", 10_000);
        assertEquals(50, mean(pn), 1.0);
    }

    @Test
    void netemSlotsReleasePacketsInBursts() {
        SchNetem q = netem("slot 10ms 10ms packets 3");
        assertEquals("limit 1000 slot 10ms 10ms packets 3", q.options());
        for (int i = 0; i < 7; i++) {
            q.enqueue(rig.frame(60, 0));
        }
        assertEquals(3, drain(q), "the open slot sends its three");
        rig.clock.addAndGet(9_000_000L);
        assertEquals(0, drain(q), "the next slot opens 10 ms later");
        rig.clock.addAndGet(1_000_000L);
        assertEquals(3, drain(q));
        rig.clock.addAndGet(10_000_000L);
        assertEquals(1, drain(q));
        q.destroy();
    }
}

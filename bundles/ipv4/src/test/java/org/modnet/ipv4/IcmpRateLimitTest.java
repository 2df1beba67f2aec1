package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.IntSysctl;

/** The global and per-destination buckets alone, on a clock the test moves and with the random draw pinned. */
class IcmpRateLimitTest {
    private static final class Value implements IntSysctl {
        private int value;

        Value(int value) {
            this.value = value;
        }

        @Override
        public String name() {
            return "test";
        }

        @Override
        public int get() {
            return value;
        }

        @Override
        public void set(int v) {
            value = v;
        }
    }

    private final Value perSec = new Value(1000);
    private final Value burst = new Value(50);
    private final Value mask = new Value(6168);
    private final Value ratelimit = new Value(1000);
    private int draw = 1;
    private final IcmpRateLimit limit = new IcmpRateLimit(perSec, burst, mask, ratelimit, n -> draw);

    /** Messages the global bucket lets out in one instant, each consuming as a sent message does. */
    private int globalBurst(long now, int tries) {
        int sent = 0;
        for (int i = 0; i < tries; i++) {
            if (limit.globalAllow(now)) {
                limit.consume();
                sent++;
            }
        }
        return sent;
    }

    @Test
    void aBurstIsCappedAtIcmpMsgsBurstWhenEveryMessageCostsOneCredit() {
        assertEquals(50, globalBurst(10_000, 1820));
    }

    @Test
    void messagesThatCostNoCreditLetMoreOutAndTwoCreditsFewer() {
        draw = 2;
        assertEquals(25, globalBurst(10_000, 1820));
        draw = 0;
        assertEquals(1820, globalBurst(20_000, 1820), "credit that is never taken never runs out");
    }

    @Test
    void creditComesBackAtIcmpMsgsPerSecButNotWithinTwentyMilliseconds() {
        assertEquals(50, globalBurst(10_000, 100));
        assertEquals(0, globalBurst(10_019, 100), "no refill under HZ/50");
        assertEquals(20, globalBurst(10_020, 100), "20 ms at 1000/s");
        assertEquals(50, globalBurst(60_000, 100), "a long pause earns no more than the burst");
    }

    @Test
    void aSmallerBurstSysctlCapsTheNextRefill() {
        burst.set(5);
        assertEquals(5, globalBurst(10_000, 100));
        perSec.set(0);
        assertEquals(0, globalBurst(20_000, 100), "icmp_msgs_per_sec 0 earns nothing");
    }

    @Test
    void theDefaultRatemaskLimitsErrorsButNotEchoRepliesNorFragmentationNeeded() {
        assertTrue(limit.limited(Icmp.DEST_UNREACH, 3));
        assertTrue(limit.limited(4, 0), "source quench");
        assertTrue(limit.limited(Icmp.TIME_EXCEEDED, 1));
        assertTrue(limit.limited(Icmp.PARAMETER_PROB, 0));
        assertFalse(limit.limited(Icmp.ECHO_REPLY, 0));
        assertFalse(limit.limited(Icmp.DEST_UNREACH, 4), "path MTU discovery is never limited");
        assertFalse(limit.limited(40, 0), "types above NR_ICMP_TYPES");
        mask.set(6169);
        assertTrue(limit.limited(Icmp.ECHO_REPLY, 0));
    }

    @Test
    void aDestinationGetsSixThenOneAnIcmpRatelimit() {
        int host = 0x0a000002;
        int sent = 0;
        for (int i = 0; i < 20; i++) {
            sent += limit.hostAllow(host, 100_000) ? 1 : 0;
        }
        assertEquals(6, sent, "XRLIM_BURST_FACTOR");
        assertFalse(limit.hostAllow(host, 100_999));
        assertTrue(limit.hostAllow(host, 101_000));
        assertFalse(limit.hostAllow(host, 101_000));
        assertTrue(limit.hostAllow(0x0a000003, 101_000), "another destination has its own bucket");
        ratelimit.set(0);
        assertTrue(limit.hostAllow(host, 101_000), "icmp_ratelimit 0 limits nothing");
    }

    @Test
    void moreDestinationsThanTheTableHoldsAreCountedWhenALimitIsForgotten() {
        int tableSize = 2 * IcmpRateLimit.SETS;
        for (int d = 1; d <= 4 * tableSize; d++) {
            for (int i = 0; i < 6; i++) {
                assertTrue(limit.hostAllow(d, 100_000));
            }
        }
        assertTrue(limit.evictions() >= 4 * tableSize - tableSize, "evicted " + limit.evictions());
        long before = limit.evictions();
        for (int d = 10 * tableSize; d < 10 * tableSize + tableSize / 4; d++) {
            limit.hostAllow(d, 200_000); // later: every remembered bucket is full again
        }
        assertTrue(limit.evictions() - before < 64, "full buckets are replaced without loss: " + (limit.evictions() - before));
    }

    @Test
    void cpusRacingForTheLastCreditsOvershootByAtMostOneEach() throws Exception {
        int threads = 4;
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        Thread[] t = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            t[i] = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                sent.addAndGet(globalBurst(10_000, 20_000));
            });
            t[i].start();
        }
        go.countDown();
        for (Thread thread : t) {
            thread.join();
        }
        assertTrue(sent.get() >= 50 && sent.get() <= 50 + threads - 1, "sent " + sent.get());
    }

    @Test
    void cpusRacingForOneDestinationTakeItsSixTokensExactly() throws Exception {
        int threads = 4;
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        Thread[] t = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            t[i] = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int k = 0; k < 10_000; k++) {
                    if (limit.hostAllow(0x0a000002, 100_000)) {
                        sent.incrementAndGet();
                    }
                }
            });
            t[i].start();
        }
        go.countDown();
        for (Thread thread : t) {
            thread.join();
        }
        assertEquals(6, sent.get());
    }
}

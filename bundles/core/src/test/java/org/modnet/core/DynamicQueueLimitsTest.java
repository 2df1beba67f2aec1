package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Byte queue limits' adaptation, as {@code lib/dynamic_queue_limits.c} behaves; time is handed in. */
class DynamicQueueLimitsTest {
    private static final long MS = 1_000_000L;
    private static final int FRAME = 1500;

    @Test
    void freshQueueShowsLinuxDefaults() {
        DynamicQueueLimits dql = new DynamicQueueLimits(0);
        assertEquals(0, dql.limit());
        assertEquals(0, dql.limitMin());
        assertEquals(1879048192L, dql.limitMax());
        assertEquals(1000, dql.holdTimeMs());
        assertEquals(0, dql.inflight());
    }

    @Test
    void firstFrameStopsTheQueueAndItsCompletionGrowsTheLimit() {
        DynamicQueueLimits dql = new DynamicQueueLimits(0);
        dql.queued(FRAME);
        assertTrue(dql.avail() < 0, "over a zero limit: the queue stops");
        assertEquals(FRAME, dql.inflight());

        dql.completed(FRAME, MS);
        assertEquals(FRAME, dql.limit(), "starved: the limit grows by what completed");
        assertEquals(0, dql.inflight());
        assertEquals(FRAME, dql.avail(), "room again: the queue wakes");
    }

    @Test
    void starvedQueueGrowsByWhatCompletedBeyondTheEarlierQueue() {
        DynamicQueueLimits dql = new DynamicQueueLimits(0);
        dql.queued(FRAME);
        dql.completed(FRAME, MS);
        dql.queued(FRAME);
        dql.queued(FRAME);
        assertEquals(-FRAME, dql.avail());

        dql.completed(2 * FRAME, 2 * MS); // the queue ran dry while over its limit
        assertEquals(3 * FRAME, dql.limit());
    }

    @Test
    void busyQueueKeepsItsSlackUntilTheHoldTimeThenShrinks() {
        DynamicQueueLimits dql = new DynamicQueueLimits(0);
        dql.setLimit(100_000);
        for (int i = 0; i < 10; i++) {
            dql.queued(FRAME);
        }
        long t = 0;
        // one frame completes and one is queued every 10 ms: never idle, 97,000 bytes of slack
        while (t < 990 * MS) {
            t += 10 * MS;
            dql.completed(FRAME, t);
            dql.queued(FRAME);
            assertEquals(100_000, dql.limit(), "shrinks only after a whole hold time of slack");
        }
        while (t <= 1000 * MS) {
            t += 10 * MS;
            dql.completed(FRAME, t);
            dql.queued(FRAME);
        }
        assertEquals(100_000 - (100_000 - 2 * FRAME), dql.limit(), "loses the smallest slack seen");
        assertEquals(10 * FRAME, dql.inflight());
    }

    @Test
    void limitStaysWithinLimitMinAndLimitMax() {
        DynamicQueueLimits dql = new DynamicQueueLimits(0);
        dql.setLimitMax(2000);
        for (int i = 0; i < 4; i++) {
            dql.queued(FRAME);
        }
        dql.completed(4 * FRAME, MS);
        assertEquals(2000, dql.limit());

        dql.setLimitMin(5000);
        dql.setLimitMax(DynamicQueueLimits.MAX_LIMIT);
        dql.reset(2 * MS);
        assertEquals(5000, dql.limit(), "a reset starts at limit_min");
        assertEquals(5000, dql.avail());
    }

    @Test
    void sysfsTakesMaxAndRefusesValuesBeyondIt() {
        assertEquals(1879048192L, DynamicQueueLimits.parseLimit("max\n"));
        assertEquals(3000, DynamicQueueLimits.parseLimit("3000\n"));
        assertThrows(IllegalArgumentException.class, () -> DynamicQueueLimits.parseLimit("1879048193"));
        assertThrows(IllegalArgumentException.class, () -> DynamicQueueLimits.parseLimit("-1"));
        assertThrows(IllegalArgumentException.class, () -> DynamicQueueLimits.parseLimit("lots"));
    }
}

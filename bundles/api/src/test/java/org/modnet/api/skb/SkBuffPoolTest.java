package org.modnet.api.skb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The pool: bounds and their counter, leak detection, frees from other threads, no garbage. */
class SkBuffPoolTest {
    private final SkBuffPool pool = new SkBuffPool(64, 512);

    @Test
    void aPoolMadeWithOnlyACountHasTheDefaultSizeAndHeadroom() {
        SkBuffPool p = new SkBuffPool(2);
        assertEquals(SkBuffPool.DEFAULT_SIZE, p.bufferSize());
        SkBuff skb = p.alloc(1500);
        assertEquals(SkBuffPool.NET_SKB_PAD, skb.headroom());
        assertTrue(skb.tailroom() >= 1500);
        skb.free();
    }

    @Test
    void anEmptyPoolRefusesAndCountsThenRecoversAfterFrees() {
        List<SkBuff> all = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            all.add(pool.alloc(10));
        }
        assertNull(pool.alloc(10));
        assertNull(pool.alloc(10));
        assertEquals(2, pool.refusals());
        assertEquals(new SkBuffPool.Stats(64, 64, 64, 2), pool.stats());

        all.remove(0).free();
        SkBuff again = pool.alloc(10);
        assertNotNull(again);
        assertEquals(2, pool.refusals(), "a success is not counted");
        again.free();
        all.forEach(SkBuff::free);
        assertEquals(0, pool.inUse());
    }

    @Test
    void aSizeLargerThanABufferIsRefusedAndCounted() {
        assertNull(pool.alloc(1000));
        assertEquals(1, pool.refusals());
    }

    @Test
    void cloneRefusesWhenNoHeadIsLeft() {
        SkBuff skb = pool.alloc(10);
        List<SkBuff> clones = new ArrayList<>();
        SkBuff c;
        while ((c = skb.clone()) != null) {
            clones.add(c);
        }
        assertEquals(2 * pool.capacity() - 1, clones.size(), "twice as many heads as data areas");
        assertEquals(1, pool.refusals());
        clones.forEach(SkBuff::free);
        skb.free();
        pool.assertNoLeaks();
    }

    @Test
    void theLeakDetectorFindsAPlantedLeakWithItsAllocationSite() {
        pool.setLeakCheck(true);
        SkBuff leaked = plantLeak();
        List<String> leaks = pool.leaks();
        assertEquals(1, leaks.size());
        assertTrue(leaks.get(0).contains("plantLeak"), leaks.get(0));
        AssertionError e = assertThrows(AssertionError.class, pool::assertNoLeaks);
        assertTrue(e.getMessage().contains("plantLeak"), e.getMessage());
        leaked.free();
    }

    private SkBuff plantLeak() {
        return pool.alloc(10);
    }

    @Test
    void theLeakDetectorFindsAPageNoBufferHolds() {
        pool.setLeakCheck(true);
        SkBuff skb = pool.alloc(10);
        SkbData page = skb.allocPage();
        skb.addFrag(page, 0, 10); // and the caller forgets its own reference
        skb.free();
        List<String> leaks = pool.leaks();
        assertEquals(1, leaks.size(), leaks.toString());
        assertTrue(leaks.get(0).contains("theLeakDetectorFindsAPageNoBufferHolds"), leaks.get(0));
        SkBuff.releasePage(page);
        pool.assertNoLeaks();
    }

    @Test
    void theLeakDetectorReportsNothingWhenEverythingWasFreed() {
        pool.setLeakCheck(true);
        SkBuff skb = pool.alloc(10);
        SkBuff clone = skb.clone();
        SkbData page = skb.allocPage();
        skb.addFrag(page, 0, 10);
        SkBuff.releasePage(page);
        assertEquals(2, pool.leaks().size(), "both heads are live for now");
        clone.free();
        skb.free();
        assertEquals(List.of(), pool.leaks());
        pool.assertNoLeaks();
    }

    @Test
    void leakCheckingOffRecordsNoStacks() {
        pool.setLeakCheck(false);
        SkBuff skb = pool.alloc(10);
        assertNull(skb.allocatedAt);
        skb.free();
    }

    @Test
    void buffersFreedOnAnotherThreadReturnToThePool() throws Exception {
        BlockingQueue<SkBuff> handoff = new ArrayBlockingQueue<>(16);
        Thread freer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < 10_000; i++) {
                    handoff.take().free();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int i = 0; i < 10_000; i++) {
            SkBuff skb;
            while ((skb = pool.alloc(32)) == null) {
                Thread.onSpinWait();
            }
            skb.put(32);
            handoff.put(skb);
        }
        freer.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(freer.isAlive());
        assertEquals(0, pool.inUse());
        pool.assertNoLeaks();
    }

    @Test
    void manyThreadsAllocatingAndFreeingNeverShareABuffer() throws Exception {
        SkBuffPool small = new SkBuffPool(8, 256);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int mine = t + 1;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 20_000; i++) {
                        SkBuff skb = small.alloc(4);
                        if (skb == null) {
                            continue;
                        }
                        int off = skb.put(4);
                        skb.setU32(off, mine);
                        SkBuff clone = skb.clone();
                        Thread.yield();
                        if (skb.getU32(off) != mine) {
                            throw new AssertionError("buffer handed to two threads at once");
                        }
                        if (clone != null) {
                            clone.free();
                        }
                        skb.free();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertEquals(0, small.inUse());
        assertEquals(0, small.headsInUse());
        small.assertNoLeaks();
    }

    @Test
    void allocatingAndFreeingInALoopAllocatesNoHeapInSteadyState() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        pool.setLeakCheck(false); // a leak-checking run records a stack per allocation, on purpose
        cycle(20_000); // warm up: class loading, first compilations
        long before = threads.getThreadAllocatedBytes(id);
        cycle(200_000);
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 200_000, allocated + " bytes for 200000 cycles: something allocates per packet");
    }

    private void cycle(int n) {
        for (int i = 0; i < n; i++) {
            SkBuff skb = pool.alloc(64);
            int off = skb.put(64);
            skb.setU32(off, i);
            skb.push(14);
            skb.pull(14);
            SkBuff clone = skb.clone();
            clone.free();
            skb.free();
        }
    }
}

package org.modnet.api.skb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SkBuff semantics as skbuff.h defines them. */
class SkBuffTest {
    private final SkBuffPool pool = new SkBuffPool(64, 512);

    @AfterEach
    void nothingLeaked() {
        assertEquals(List.of(), pool.leaks());
        assertEquals(0, pool.inUse());
    }

    private SkBuff withPayload(int n) {
        SkBuff skb = pool.alloc(n);
        int off = skb.put(n);
        for (int i = 0; i < n; i++) {
            skb.setU8(off + i, i);
        }
        return skb;
    }

    @Test
    void aFreshBufferHasTheDefaultHeadroomAndNoData() {
        SkBuff skb = pool.alloc(100);
        assertEquals(SkBuffPool.NET_SKB_PAD, skb.headroom());
        assertEquals(0, skb.len());
        assertEquals(512 - SkBuffPool.NET_SKB_PAD, skb.tailroom());
        skb.free();
    }

    @Test
    void pushPrependsIntoTheHeadroomAndPullStripsIt() {
        SkBuff skb = withPayload(20);
        int payload = skb.data();
        int header = skb.push(14);
        assertEquals(payload - 14, header);
        assertEquals(34, skb.len());
        assertEquals(header + 14, skb.pull(14));
        assertEquals(payload, skb.data());
        assertEquals(20, skb.len());
        skb.free();
    }

    @Test
    void pushBeyondTheHeadroomIsRefused() {
        SkBuff skb = pool.alloc(10);
        assertThrows(SkbException.class, () -> skb.push(SkBuffPool.NET_SKB_PAD + 1));
        assertEquals(SkBuffPool.NET_SKB_PAD, skb.headroom(), "nothing moved");
        skb.free();
    }

    @Test
    void pullBeyondTheDataFailsAndChangesNothing() {
        SkBuff skb = withPayload(10);
        int data = skb.data();
        assertEquals(-1, skb.pull(11));
        assertEquals(data, skb.data());
        assertEquals(10, skb.len());
        skb.free();
    }

    @Test
    void putBeyondTheTailroomIsRefused() {
        SkBuff skb = pool.alloc(10);
        assertThrows(SkbException.class, () -> skb.put(skb.tailroom() + 1));
        assertEquals(0, skb.len());
        skb.free();
    }

    @Test
    void reserveOnlyWorksOnAnEmptyBufferAndMovesDataAndTail() {
        SkBuff skb = pool.alloc(10, 0);
        skb.reserve(32);
        assertEquals(32, skb.data());
        assertEquals(32, skb.tail());
        skb.put(4);
        assertThrows(SkbException.class, () -> skb.reserve(4));
        skb.free();
    }

    @Test
    void trimCutsTheTail() {
        SkBuff skb = withPayload(100);
        skb.trim(60);
        assertEquals(60, skb.len());
        assertEquals(skb.data() + 60, skb.tail());
        assertThrows(SkbException.class, () -> skb.trim(61));
        skb.free();
    }

    @Test
    void headerOffsetsStayWhereTheyWereSetWhilePushAndPullMoveData() {
        SkBuff skb = withPayload(40);
        skb.resetNetworkHeader();
        int net = skb.networkHeader();
        skb.push(14);
        skb.resetMacHeader();
        assertEquals(net - 14, skb.macHeader());
        skb.pull(14);
        assertEquals(net, skb.networkHeader());
        assertEquals(net, skb.data());
        skb.free();
    }

    @Test
    void bytesAreReadAndWrittenInNetworkOrder() {
        SkBuff skb = pool.alloc(8);
        int off = skb.put(8);
        skb.setU16(off, 0x0800);
        skb.setU32(off + 2, 0xc0a80001);
        assertEquals(0x08, skb.getU8(off));
        assertEquals(0x00, skb.getU8(off + 1));
        assertEquals(0x0800, skb.getU16(off));
        assertEquals(0xc0a80001, skb.getU32(off + 2));
        assertThrows(IndexOutOfBoundsException.class, () -> skb.getU32(skb.end() - 2));
        skb.free();
    }

    @Test
    void aCloneSharesTheDataAndCountsIt() {
        SkBuff skb = withPayload(10);
        SkBuff clone = skb.clone();
        assertNotSame(skb, clone);
        assertTrue(skb.isCloned());
        assertTrue(clone.isCloned());
        assertSame(skb.memory(), clone.memory());
        assertEquals(1, pool.inUse(), "one data area for both");
        clone.free();
        assertFalse(skb.isCloned(), "the last clone gone, the data is ours again");
        skb.free();
    }

    @Test
    void writingToDataAClonesSharesIsRefusedUntilUnshare() {
        SkBuff skb = withPayload(10);
        SkBuff clone = skb.clone();
        int off = skb.data();
        assertThrows(SkbException.class, () -> skb.setU8(off, 0xff));

        assertTrue(skb.unshare());
        skb.setU8(off, 0xff);
        assertEquals(0xff, skb.getU8(off));
        assertEquals(0, clone.getU8(off), "the clone still sees the old byte");
        assertEquals(2, pool.inUse());
        clone.free();
        skb.free();
    }

    @Test
    void aCopyIsIndependent() {
        SkBuff skb = withPayload(10);
        SkBuff copy = skb.copy();
        assertFalse(skb.isCloned());
        copy.setU8(copy.data(), 0xee);
        assertEquals(0, skb.getU8(skb.data()));
        assertEquals(10, copy.len());
        assertEquals(skb.data(), copy.data(), "headroom kept");
        copy.free();
        skb.free();
    }

    @Test
    void freeingTheOriginalAndItsCloneReturnsTheDataOnce() {
        SkBuff skb = withPayload(10);
        SkBuff clone = skb.clone();
        skb.free();
        assertEquals(1, pool.inUse(), "the clone still holds the data");
        clone.free();
        assertEquals(0, pool.inUse());
    }

    @Test
    void getAddsAUserAndTheLastFreeReleases() {
        SkBuff skb = withPayload(4);
        assertSame(skb, skb.get());
        assertTrue(skb.isShared());
        skb.free();
        assertEquals(1, pool.inUse());
        skb.free();
        assertEquals(0, pool.inUse());
    }

    @Test
    void aDoubleFreeIsReported() {
        SkBuff skb = withPayload(4);
        skb.free();
        assertThrows(SkbException.class, skb::free);
    }

    @Test
    void anEmptyPoolRefusesAndCountsThenRecoversAfterFrees() {
        List<SkBuff> all = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            all.add(pool.alloc(10));
        }
        assertNull(pool.alloc(10));
        assertEquals(1, pool.refusals());
        all.remove(0).free();
        SkBuff again = pool.alloc(10);
        assertTrue(again != null);
        again.free();
        all.forEach(SkBuff::free);
    }

    @Test
    void aSizeLargerThanABufferIsRefused() {
        assertNull(pool.alloc(1000));
        assertEquals(1, pool.refusals());
    }

    @Test
    void fragmentsCountInLenButNotInTheLinearPart() {
        SkBuff skb = withPayload(10);
        SkbData page = skb.allocPage();
        assertTrue(skb.addFrag(page, 0, 100));
        SkBuff.releasePage(page); // the skb holds its own reference
        assertEquals(110, skb.len());
        assertEquals(100, skb.dataLen());
        assertEquals(10, skb.headLen());
        assertEquals(0, skb.tailroom(), "no tailroom once there are fragments");
        assertEquals(2, pool.inUse());
        skb.free();
    }

    @Test
    void linearizeCopiesFragmentsIntoTheLinearArea() {
        SkBuff skb = withPayload(4);
        SkbData page = skb.allocPage();
        page.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 7, (byte) 0x5a);
        skb.addFrag(page, 5, 8);
        SkBuff.releasePage(page);
        assertTrue(skb.linearize());
        assertEquals(12, skb.len());
        assertEquals(0, skb.dataLen());
        assertEquals(0x5a, skb.getU8(skb.data() + 4 + 2));
        assertEquals(1, pool.inUse(), "the page went back");
        skb.free();
    }

    @Test
    void theOwnerIsToldExactlyOnceWhenTheBufferIsFreed() {
        int[] told = new int[1];
        SkBuff skb = withPayload(4);
        skb.setOwner(s -> told[0]++);
        skb.get();
        skb.free();
        assertEquals(0, told[0], "a user is left");
        skb.free();
        assertEquals(1, told[0]);
    }

    @Test
    void theLeakDetectorFindsAPlantedLeakWithItsAllocationSite() {
        pool.setLeakCheck(true);
        SkBuff leaked = plantLeak();
        List<String> leaks = pool.leaks();
        assertEquals(1, leaks.size());
        assertTrue(leaks.get(0).contains("plantLeak"), leaks.get(0));
        leaked.free();
    }

    private SkBuff plantLeak() {
        return pool.alloc(10);
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
    }
}

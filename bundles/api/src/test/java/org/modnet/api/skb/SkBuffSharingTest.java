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

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** skb_get, skb_clone, skb_copy, skb_unshare, skb_cow, kfree_skb and the owner's destructor. */
class SkBuffSharingTest {
    private final SkBuffPool pool = new SkBuffPool(8, 512);

    @AfterEach
    void nothingLeaked() {
        pool.assertNoLeaks();
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
    void aCloneSharesTheDataAndCountsIt() {
        SkBuff skb = withPayload(10);
        SkBuff clone = skb.clone();
        assertNotSame(skb, clone);
        assertTrue(skb.isCloned());
        assertTrue(clone.isCloned());
        assertSame(skb.memory(), clone.memory());
        assertEquals(1, pool.inUse(), "one data area for both");
        assertEquals(2, pool.headsInUse());
        clone.free();
        assertFalse(skb.isCloned(), "the last clone gone, the data is ours again");
        skb.free();
    }

    @Test
    void aCloneMovesItsOffsetsWithoutMovingTheOriginals() {
        SkBuff skb = withPayload(20);
        skb.resetNetworkHeader();
        SkBuff clone = skb.clone();
        clone.pull(8);
        assertEquals(20, skb.len());
        assertEquals(12, clone.len());
        assertEquals(skb.networkHeader(), clone.networkHeader());
        clone.free();
        skb.free();
    }

    @Test
    void writingToDataAClonesSharesIsRefused() {
        SkBuff skb = withPayload(10);
        SkBuff clone = skb.clone();
        int off = skb.data();
        assertFalse(skb.isWritable());
        assertFalse(skb.isWritable(4));
        assertThrows(SkbException.class, () -> skb.setU8(off, 0xff));
        assertThrows(SkbException.class, () -> clone.setDataU16(0, 0xffff));
        clone.free();
        skb.free();
    }

    @Test
    void unshareGivesAPrivateWritableCopySoAWriteIsSeenThroughOneHeadOnly() {
        SkBuff skb = withPayload(10);
        SkBuff clone = skb.clone();
        int off = skb.data();

        assertTrue(skb.unshare());
        assertTrue(skb.isWritable(10));
        assertFalse(clone.isCloned(), "the clone is the data's only user now");
        skb.setU8(off, 0xff);
        assertEquals(0xff, skb.getU8(off));
        assertEquals(0, clone.getU8(off), "the clone still sees the old byte");
        assertEquals(9, skb.getU8(off + 9), "the rest was copied");
        assertEquals(2, pool.inUse());
        clone.free();
        skb.free();
    }

    @Test
    void unshareOfDataNoCloneSharesCopiesNothing() {
        SkBuff skb = withPayload(10);
        var mem = skb.memory();
        assertTrue(skb.unshare());
        assertSame(mem, skb.memory());
        skb.free();
    }

    @Test
    void cowMakesHeadroomByMovingTheDataAndEveryHeaderWithIt() {
        SkBuff skb = pool.alloc(100, 4);
        skb.put(20);
        skb.setDataU8(0, 0x45);
        skb.resetNetworkHeader();
        skb.setTransportHeader(skb.data() + 20);
        SkBuff clone = skb.clone();

        assertTrue(skb.cow(32));
        assertEquals(32, skb.headroom());
        assertEquals(32, skb.networkHeader());
        assertEquals(52, skb.transportHeader());
        assertEquals(0x45, skb.getU8(skb.networkHeader()));
        assertTrue(skb.isWritable());
        assertEquals(4, clone.headroom(), "the clone did not move");
        clone.free();
        skb.free();
    }

    @Test
    void cowRefusesHeadroomTheDataWouldNotFitBehind() {
        SkBuff skb = pool.alloc(500, 0);
        skb.put(500);
        assertFalse(skb.cow(64));
        assertEquals(0, skb.headroom());
        skb.free();
    }

    @Test
    void aCopyIsIndependent() {
        SkBuff skb = withPayload(10);
        skb.mark(7);
        SkBuff copy = skb.copy();
        assertFalse(skb.isCloned());
        assertFalse(copy.isCloned());
        copy.setU8(copy.data(), 0xee);
        assertEquals(0, skb.getU8(skb.data()));
        assertEquals(10, copy.len());
        assertEquals(7, copy.mark());
        assertEquals(skb.data(), copy.data(), "headroom kept");
        assertEquals(2, pool.inUse());
        copy.free();
        skb.free();
    }

    @Test
    void freeingTheOriginalAndItsCloneReturnsTheDataExactlyOnce() {
        SkBuff skb = withPayload(10);
        SkBuff clone = skb.clone();
        skb.free();
        assertEquals(1, pool.inUse(), "the clone still holds the data");
        clone.free();
        assertEquals(0, pool.inUse());
        // every area back exactly once: the whole pool can be taken again, and no more
        List<SkBuff> all = new ArrayList<>();
        for (int i = 0; i < pool.capacity(); i++) {
            all.add(pool.alloc(10));
        }
        assertTrue(all.stream().allMatch(s -> s != null));
        assertEquals(pool.capacity(), all.stream().map(SkBuff::memory).distinct().count());
        assertNull(pool.alloc(10));
        all.forEach(SkBuff::free);
    }

    @Test
    void getAddsAUserAndOnlyTheLastFreeReleases() {
        SkBuff skb = withPayload(4);
        assertSame(skb, skb.get());
        assertTrue(skb.isShared());
        assertEquals(2, skb.users());
        skb.free();
        assertEquals(1, pool.inUse());
        skb.free();
        assertEquals(0, pool.inUse());
    }

    @Test
    void aDoubleFreeIsReported() {
        SkBuff skb = withPayload(4);
        skb.free();
        SkbException e = assertThrows(SkbException.class, skb::free);
        assertTrue(e.getMessage().contains("double free"), e.getMessage());
        assertEquals(0, pool.headsInUse(), "the report leaves the head free");
    }

    @Test
    void theOwnerIsToldExactlyOnceWhenTheLastUserFrees() {
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
    void aCloneIsNotChargedToTheOwner() {
        int[] told = new int[1];
        SkBuff skb = withPayload(4);
        skb.setOwner(s -> told[0]++);
        SkBuff clone = skb.clone();
        assertNull(clone.owner());
        clone.free();
        assertEquals(0, told[0]);
        skb.free();
        assertEquals(1, told[0]);
    }

    @Test
    void aNewOwnerOrphansThePreviousOne() {
        int[] first = new int[1];
        int[] second = new int[1];
        SkBuff skb = withPayload(4);
        skb.setOwner(s -> first[0]++);
        skb.setOwner(s -> second[0]++);
        assertEquals(1, first[0]);
        skb.free();
        assertEquals(1, first[0]);
        assertEquals(1, second[0]);
    }

    @Test
    void truesizeStaysWhatWasChargedWhileTheBufferShrinks() {
        SkBuff skb = withPayload(100);
        int charged = skb.truesize();
        assertTrue(charged > pool.bufferSize());
        skb.trim(10);
        skb.pull(5);
        assertEquals(charged, skb.truesize());
        skb.free();
    }
}

package org.modnet.api.skb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Paged fragments: len against data_len, skb_linearize, pskb_may_pull, trim into fragments. */
class SkBuffFragTest {
    private final SkBuffPool pool = new SkBuffPool(32, 512);

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

    /** Adds a fragment of {@code size} bytes whose bytes count up from {@code first}. */
    private void addFrag(SkBuff skb, int size, int first) {
        SkbData page = skb.allocPage();
        for (int i = 0; i < size; i++) {
            page.segment().set(ValueLayout.JAVA_BYTE, 8 + i, (byte) (first + i));
        }
        assertTrue(skb.addFrag(page, 8, size));
        SkBuff.releasePage(page); // the skb holds its own reference
    }

    @Test
    void fragmentsCountInLenButNotInTheLinearPart() {
        SkBuff skb = withPayload(10);
        addFrag(skb, 100, 0);
        assertEquals(110, skb.len());
        assertEquals(100, skb.dataLen());
        assertEquals(10, skb.headLen());
        assertTrue(skb.isNonlinear());
        assertEquals(1, skb.nrFrags());
        assertEquals(0, skb.tailroom(), "no tailroom once there are fragments");
        assertEquals(2, pool.inUse());
        skb.free();
    }

    @Test
    void aFragmentAddsItsPageToTheTruesize() {
        SkBuff skb = withPayload(10);
        int before = skb.truesize();
        addFrag(skb, 100, 0);
        assertEquals(before + pool.bufferSize(), skb.truesize());
        skb.free();
    }

    @Test
    void noMoreThanMaxSkbFragsFragmentsAreTaken() {
        SkBuff skb = withPayload(10);
        for (int i = 0; i < SkBuff.MAX_SKB_FRAGS; i++) {
            addFrag(skb, 4, 0);
        }
        SkbData page = skb.allocPage();
        assertFalse(skb.addFrag(page, 0, 4));
        SkBuff.releasePage(page);
        assertEquals(10 + 4 * SkBuff.MAX_SKB_FRAGS, skb.len());
        skb.free();
    }

    @Test
    void aFragmentOutsideItsPageIsRefused() {
        SkBuff skb = withPayload(10);
        SkbData page = skb.allocPage();
        assertThrows(SkbException.class, () -> skb.addFrag(page, pool.bufferSize() - 4, 8));
        SkBuff.releasePage(page);
        skb.free();
    }

    @Test
    void linearizeCopiesFragmentsIntoTheLinearArea() {
        SkBuff skb = withPayload(4);
        addFrag(skb, 8, 0x50);
        addFrag(skb, 3, 0x60);
        assertTrue(skb.linearize());
        assertEquals(15, skb.len());
        assertEquals(0, skb.dataLen());
        assertEquals(0, skb.nrFrags());
        assertEquals(0x52, skb.getDataU8(4 + 2));
        assertEquals(0x62, skb.getDataU8(4 + 8 + 2));
        assertEquals(1, pool.inUse(), "the pages went back");
        skb.free();
    }

    @Test
    void linearizeFailsCleanlyWhenTheFragmentsDoNotFit() {
        SkBuff skb = pool.alloc(400, 0);
        skb.put(400);
        addFrag(skb, 200, 0);
        assertFalse(skb.linearize());
        assertEquals(600, skb.len());
        assertEquals(1, skb.nrFrags());
        skb.free();
    }

    @Test
    void linearizeOfACloneLeavesTheOtherHeadsDataAlone() {
        SkBuff skb = withPayload(4);
        addFrag(skb, 8, 0x50);
        SkBuff clone = skb.clone();
        assertTrue(clone.linearize());
        assertEquals(12, clone.headLen());
        assertEquals(4, skb.headLen());
        assertEquals(8, skb.dataLen());
        clone.free();
        skb.free();
    }

    @Test
    void mayPullMovesJustEnoughBytesOutOfTheFragments() {
        SkBuff skb = withPayload(4);
        addFrag(skb, 6, 0x50);
        addFrag(skb, 6, 0x60);
        assertTrue(skb.mayPull(12));
        assertEquals(12, skb.headLen());
        assertEquals(16, skb.len());
        assertEquals(1, skb.nrFrags(), "the emptied fragment went");
        assertEquals(0x61, skb.getDataU8(11));
        int data = skb.data();
        assertEquals(data + 12, skb.pull(12), "and now the header pulls");
        skb.free();
    }

    @Test
    void mayPullMoreThanThePacketFails() {
        SkBuff skb = withPayload(4);
        addFrag(skb, 6, 0);
        assertFalse(skb.mayPull(11));
        assertEquals(4, skb.headLen());
        skb.free();
    }

    @Test
    void trimIntoTheFragmentsShortensAndDropsThem() {
        SkBuff skb = withPayload(10);
        addFrag(skb, 20, 0);
        addFrag(skb, 20, 0);
        skb.trim(25);
        assertEquals(25, skb.len());
        assertEquals(15, skb.dataLen());
        assertEquals(1, skb.nrFrags());
        assertEquals(15, skb.fragSize(0));
        assertEquals(2, pool.inUse(), "the second page went back");
        skb.trim(5);
        assertEquals(0, skb.nrFrags());
        assertEquals(5, skb.headLen());
        skb.free();
    }
}

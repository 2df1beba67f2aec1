package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TcpSeqTest {
    private static final int NEAR_WRAP = 0xfffffff0;

    @Test
    void aNumberJustBeforeTheWrapComesBeforeOneJustAfterIt() {
        assertTrue(TcpSeq.before(NEAR_WRAP, 0x10));
        assertTrue(TcpSeq.after(0x10, NEAR_WRAP));
        assertFalse(TcpSeq.after(NEAR_WRAP, 0x10));
        assertFalse(TcpSeq.before(0x10, NEAR_WRAP));
    }

    @Test
    void aNumberIsNeitherBeforeNorAfterItself() {
        assertFalse(TcpSeq.before(12345, 12345));
        assertFalse(TcpSeq.after(12345, 12345));
        assertTrue(TcpSeq.beforeOrEqual(12345, 12345));
        assertTrue(TcpSeq.afterOrEqual(12345, 12345));
    }

    @Test
    void ordinaryNumbersCompareAsIntegers() {
        assertTrue(TcpSeq.before(1, 2));
        assertTrue(TcpSeq.after(0x7ffffffe, 0x10));
    }

    @Test
    void numbersHalfTheSpaceApartAreEachBeforeTheOtherAsInLinux() {
        // (s32)(a - b) < 0 both ways when they differ by exactly 2^31: Linux's before() has this too
        assertTrue(TcpSeq.before(0, 0x80000000));
        assertTrue(TcpSeq.before(0x80000000, 0));
    }

    @Test
    void betweenIncludesBothEndsAndWorksAcrossTheWrap() {
        assertTrue(TcpSeq.between(NEAR_WRAP, NEAR_WRAP, 0x10));
        assertTrue(TcpSeq.between(0xffffffff, NEAR_WRAP, 0x10));
        assertTrue(TcpSeq.between(0, NEAR_WRAP, 0x10));
        assertTrue(TcpSeq.between(0x10, NEAR_WRAP, 0x10));
        assertFalse(TcpSeq.between(0x11, NEAR_WRAP, 0x10));
        assertFalse(TcpSeq.between(NEAR_WRAP - 1, NEAR_WRAP, 0x10));
    }

    @Test
    void betweenWithAnEmptyOrInvertedRangeHoldsOnlyItsStart() {
        assertTrue(TcpSeq.between(5, 5, 5));
        assertFalse(TcpSeq.between(6, 5, 5));
        // seq3 before seq2: Linux's unsigned form takes the long way round, from seq2 up through the wrap to seq3
        assertTrue(TcpSeq.between(NEAR_WRAP, 100, 50));
        assertFalse(TcpSeq.between(75, 100, 50));
    }

    @Test
    void maxAndMinFollowSequenceOrderNotIntegerOrder() {
        assertEquals(0x10, TcpSeq.max(NEAR_WRAP, 0x10));
        assertEquals(NEAR_WRAP, TcpSeq.min(NEAR_WRAP, 0x10));
    }

    @Test
    void unsignedShowsTheWireValue() {
        assertEquals(4294967280L, TcpSeq.unsigned(NEAR_WRAP));
    }
}

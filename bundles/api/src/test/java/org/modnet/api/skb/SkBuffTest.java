package org.modnet.api.skb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The linear buffer as skbuff.h defines it: reserve, push, pull, put, trim, header offsets, bytes. */
class SkBuffTest {
    private final SkBuffPool pool = new SkBuffPool(16, 512);

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
    void aFreshBufferHasTheDefaultHeadroomAndNoData() {
        SkBuff skb = pool.alloc(100);
        assertEquals(SkBuffPool.NET_SKB_PAD, skb.headroom());
        assertEquals(0, skb.len());
        assertEquals(512 - SkBuffPool.NET_SKB_PAD, skb.tailroom());
        assertEquals(-1, skb.macHeader(), "no header set yet");
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
    void pushBeyondTheHeadroomIsRefusedAndMovesNothing() {
        SkBuff skb = pool.alloc(10);
        assertThrows(SkbException.class, () -> skb.push(SkBuffPool.NET_SKB_PAD + 1));
        assertEquals(SkBuffPool.NET_SKB_PAD, skb.headroom());
        assertEquals(0, skb.len());
        skb.free();
    }

    @Test
    void pushOfExactlyTheHeadroomLeavesNone() {
        SkBuff skb = pool.alloc(10);
        assertEquals(0, skb.push(SkBuffPool.NET_SKB_PAD));
        assertEquals(0, skb.headroom());
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
    void putBeyondTheTailroomIsRefusedAndMovesNothing() {
        SkBuff skb = pool.alloc(10);
        int tail = skb.tail();
        assertThrows(SkbException.class, () -> skb.put(skb.tailroom() + 1));
        assertEquals(0, skb.len());
        assertEquals(tail, skb.tail());
        skb.free();
    }

    @Test
    void putAppendsAtTheTailAndReturnsWhereTheNewBytesStart() {
        SkBuff skb = pool.alloc(30);
        int first = skb.put(10);
        int second = skb.put(20);
        assertEquals(first + 10, second);
        assertEquals(30, skb.len());
        assertEquals(second + 20, skb.tail());
        skb.free();
    }

    @Test
    void reserveMovesDataAndTailSoPushAndPutLandWhereExpected() {
        SkBuff skb = pool.alloc(10, 0);
        skb.reserve(32);
        assertEquals(32, skb.data());
        assertEquals(32, skb.tail());
        assertEquals(32, skb.put(4));
        assertEquals(24, skb.push(8));
        assertEquals(12, skb.len());
        skb.free();
    }

    @Test
    void reserveIsRefusedOnceTheBufferHoldsData() {
        SkBuff skb = pool.alloc(10);
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
        skb.free();
    }

    @Test
    void trimToMoreThanTheLengthIsRefused() {
        SkBuff skb = withPayload(10);
        assertThrows(SkbException.class, () -> skb.trim(11));
        assertEquals(10, skb.len());
        skb.free();
    }

    @Test
    void headerOffsetsStayWhereTheyWereSetWhilePushAndPullMoveData() {
        SkBuff skb = withPayload(40);
        skb.resetNetworkHeader();
        int net = skb.networkHeader();
        skb.setTransportHeader(net + 20);
        skb.push(14);
        skb.resetMacHeader();
        assertEquals(net - 14, skb.macHeader());
        skb.pull(14);
        skb.pull(20);
        assertEquals(net, skb.networkHeader());
        assertEquals(net + 20, skb.transportHeader());
        assertEquals(-20, skb.networkOffset(), "the network header is behind data once pulled");
        skb.free();
    }

    @Test
    void aHeaderOffsetReadsTheHeaderBytesAfterItWasPulled() {
        SkBuff skb = withPayload(40);
        skb.resetMacHeader();
        skb.pull(14);
        assertEquals(13, skb.getU8(skb.macHeader() + 13));
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
        skb.free();
    }

    @Test
    void absoluteAccessOutsideTheDataAreaIsRefused() {
        SkBuff skb = pool.alloc(8);
        assertThrows(IndexOutOfBoundsException.class, () -> skb.getU32(skb.end() - 2));
        assertThrows(IndexOutOfBoundsException.class, () -> skb.setU8(-1, 0));
        skb.free();
    }

    @Test
    void accessRelativeToDataFollowsPushAndPull() {
        SkBuff skb = withPayload(8);
        skb.setDataU16(0, 0xabcd);
        assertEquals(0xabcd, skb.getU16(skb.data()));
        skb.push(2);
        skb.setDataU16(0, 0x1234);
        assertEquals(0x1234abcd, skb.getDataU32(0));
        skb.pull(3);
        assertEquals(0xcd, skb.getDataU8(0));
        skb.free();
    }

    @Test
    void accessRelativeToDataStopsAtTheEndOfTheLinearData() {
        SkBuff skb = withPayload(8);
        assertEquals(7, skb.getDataU8(7));
        assertThrows(IndexOutOfBoundsException.class, () -> skb.getDataU8(8));
        assertThrows(IndexOutOfBoundsException.class, () -> skb.getDataU32(5));
        assertThrows(IndexOutOfBoundsException.class, () -> skb.getDataU8(-1));
        skb.free();
    }

    @Test
    void useAfterFreeIsReportedAsSuch() {
        SkBuff skb = withPayload(8);
        int off = skb.data();
        skb.free();
        SkbException e = assertThrows(SkbException.class, () -> skb.getU8(off));
        assertTrue(e.getMessage().contains("freed"), e.getMessage());
    }

    @Test
    void checksumAndGsoStateIsKeptAsSet() {
        SkBuff skb = withPayload(8);
        assertEquals(Checksum.NONE, skb.ipSummed());
        skb.csumPartial(skb.data(), 6);
        assertEquals(Checksum.PARTIAL, skb.ipSummed());
        assertEquals(6, skb.csumOffset());
        assertFalse(skb.isGso());
        skb.gso(1448, 4, 1);
        assertTrue(skb.isGso());
        assertEquals(4, skb.gsoSegs());
        skb.free();
    }
}

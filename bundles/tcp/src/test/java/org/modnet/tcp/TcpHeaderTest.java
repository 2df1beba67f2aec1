package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.tcp.Segments.mss;
import static org.modnet.tcp.Segments.nop;
import static org.modnet.tcp.Segments.opts;
import static org.modnet.tcp.Segments.ts;
import static org.modnet.tcp.Segments.ws;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkbData;
import org.modnet.tcp.TcpHeader.Check;

class TcpHeaderTest {
    private final Segments segments = new Segments();
    private final TcpHeader th = new TcpHeader();
    private final TcpMib mib = new TcpMib(2);

    @AfterEach
    void everyBufferWentBack() {
        assertEquals(0, segments.pool.inUse());
    }

    private static final byte[] NO_OPTIONS = new byte[0];

    @Test
    void aValidSegmentReadsItsFields() {
        SkBuff skb = segments.segment(TcpHeader.SYN | TcpHeader.ACK, 0xfffffff0, 0x01020304, 29200,
                opts(mss(1460), nop(), ws(7)), 10);
        assertSame(Check.OK, th.check(skb, TcpAf.INET));
        assertEquals(Segments.SPORT, th.source());
        assertEquals(Segments.DPORT, th.dest());
        assertEquals(0xfffffff0, th.seq());
        assertEquals(0x01020304, th.ackSeq());
        assertEquals(28, th.headerLen());
        assertEquals(8, th.optionsLen());
        assertEquals(th.offset() + 20, th.optionsOffset());
        assertTrue(th.syn() && th.ack());
        assertFalse(th.fin() || th.rst() || th.psh() || th.urg() || th.ece() || th.cwr() || th.ae());
        assertEquals(29200, th.window());
        assertEquals(0, th.urgPtr());
        assertEquals(10, th.payloadLen());
        assertSame(skb, th.skb());
        skb.free();
    }

    @Test
    void endSeqCountsTheDataAndOneEachForSynAndFinAcrossTheWrap() {
        SkBuff skb = segments.segment(TcpHeader.SYN | TcpHeader.FIN, 0xfffffffe, 0, 1000, NO_OPTIONS, 5);
        assertSame(Check.OK, th.check(skb, TcpAf.INET));
        assertEquals(0xfffffffe + 5 + 2, th.endSeq());
        assertEquals(5, th.endSeq());
        skb.free();
    }

    @Test
    void theEcnFlagsAndAccurateEcnsAceFieldRead() {
        SkBuff skb = segments.segment(TcpHeader.AE << 8 | TcpHeader.CWR | TcpHeader.ACK, 1, 1, 1, NO_OPTIONS, 0);
        assertSame(Check.OK, th.check(skb, TcpAf.INET));
        assertTrue(th.ae() && th.cwr() && !th.ece());
        assertEquals(0b110, th.ace(), "AE=1 CWR=1 ECE=0");
        assertEquals(0x100 | TcpHeader.CWR | TcpHeader.ACK, th.flags());
        skb.free();
    }

    @Test
    void aSegmentNotAddressedToThisHostIsDiscardedBeforeItIsCounted() {
        SkBuff skb = segments.segment(TcpHeader.ACK, NO_OPTIONS);
        skb.pktType(PktType.BROADCAST);
        Check c = th.check(skb, TcpAf.INET);
        assertSame(Check.NOT_HOST, c);
        c.count(mib, 0);
        assertEquals(0, mib.get(TcpMib.Tcp.InSegs));
        skb.free();
    }

    @Test
    void eachOutcomeMovesTheCountersLinuxMoves() {
        Check.OK.count(mib, 0);
        Check.TOO_SHORT.count(mib, 1);
        Check.TRUNCATED.count(mib, -1);
        assertEquals(3, mib.get(TcpMib.Tcp.InSegs));
        assertEquals(0, mib.get(TcpMib.Tcp.InErrs));
        Check.BAD_DOFF.count(mib, 0);
        assertEquals(1, mib.get(TcpMib.Tcp.InErrs));
        assertEquals(0, mib.get(TcpMib.Tcp.InCsumErrors));
        Check.BAD_CSUM.count(mib, 1);
        assertEquals(5, mib.get(TcpMib.Tcp.InSegs));
        assertEquals(2, mib.get(TcpMib.Tcp.InErrs));
        assertEquals(1, mib.get(TcpMib.Tcp.InCsumErrors));
    }

    @Test
    void aSegmentShorterThanTwentyBytesIsDiscardedWithoutAnErrorCountAsLinuxDoes() {
        SkBuff skb = segments.segment(TcpHeader.ACK, NO_OPTIONS);
        skb.trim(19);
        Check c = th.check(skb, TcpAf.INET);
        assertSame(Check.TOO_SHORT, c);
        assertFalse(c.inErrs || c.inCsumErrors);
        assertNull(th.skb(), "the view reads nothing after a failed check");
        skb.free();
    }

    @Test
    void aDataOffsetBelowFiveWordsIsABadSegmentCountedInInErrs() {
        SkBuff skb = segments.segment(TcpHeader.ACK, NO_OPTIONS);
        skb.setU8(skb.data() + TcpHeader.DOFF, 4 << 4);
        Check c = th.check(skb, TcpAf.INET);
        assertSame(Check.BAD_DOFF, c);
        assertTrue(c.inErrs);
        assertFalse(c.inCsumErrors);
        skb.free();
    }

    @Test
    void aDataOffsetOfZeroIsABadSegmentToo() {
        SkBuff skb = segments.segment(TcpHeader.ACK, NO_OPTIONS);
        skb.setU8(skb.data() + TcpHeader.DOFF, 0);
        assertSame(Check.BAD_DOFF, th.check(skb, TcpAf.INET));
        skb.free();
    }

    @Test
    void aHeaderLongerThanThePacketIsDiscardedWithoutAnErrorCountAsLinuxDoes() {
        SkBuff skb = segments.segment(TcpHeader.ACK, 1, 1, 1, opts(mss(1460)), 0); // 24 bytes
        skb.setU8(skb.data() + TcpHeader.DOFF, 15 << 4); // says 60
        Check c = th.check(skb, TcpAf.INET);
        assertSame(Check.TRUNCATED, c);
        assertFalse(c.inErrs || c.inCsumErrors);
        skb.free();
    }

    @Test
    void aBadChecksumIsCountedInInCsumErrorsAndInErrs() {
        SkBuff skb = segments.segment(TcpHeader.ACK, 1, 1, 1, NO_OPTIONS, 7);
        skb.setU8(skb.data() + 25, skb.getU8(skb.data() + 25) ^ 0x40); // one bit of data flipped
        Check c = th.check(skb, TcpAf.INET);
        assertSame(Check.BAD_CSUM, c);
        assertTrue(c.inErrs && c.inCsumErrors);
        skb.free();
    }

    @Test
    void theChecksumCoversThePseudoHeader() {
        SkBuff skb = segments.segment(TcpHeader.ACK, NO_OPTIONS);
        skb.setU32(skb.networkHeader() + 16, Segments.DADDR + 1); // same bytes, to another address
        assertSame(Check.BAD_CSUM, th.check(skb, TcpAf.INET));
        skb.free();
    }

    @Test
    void aChecksumTheDeviceVerifiedIsNotCheckedAgain() {
        SkBuff skb = segments.segment(TcpHeader.ACK, NO_OPTIONS);
        skb.setU16(skb.data() + TcpHeader.CHECK, 0x1234);
        skb.ipSummed(Checksum.UNNECESSARY);
        assertSame(Check.OK, th.check(skb, TcpAf.INET));
        skb.free();
    }

    @Test
    void aSegmentWhosePayloadLiesInPageFragmentsFromAnOddOffsetVerifies() {
        // 20 header + 3 linear bytes, then 5 and 4 bytes in two fragments: pieces start at odd offsets
        int[] payload = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12 };
        SkBuff skb = segments.pool.alloc(64);
        int nh = skb.put(20 + 23);
        skb.setU8(nh, 0x45);
        skb.setU32(nh + 12, Segments.SADDR);
        skb.setU32(nh + 16, Segments.DADDR);
        skb.setNetworkHeader(nh);
        int t = skb.pull(20);
        TcpHeader.write(skb, t, 1, 2, 3, 4, TcpHeader.ACK | TcpHeader.PSH, 5, 0);
        for (int i = 0; i < 3; i++) {
            skb.setU8(t + 20 + i, payload[i]);
        }
        SkbData page = skb.allocPage();
        for (int i = 3; i < payload.length; i++) {
            page.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 100 + i, (byte) payload[i]);
        }
        assertTrue(skb.addFrag(page, 103, 5));
        assertTrue(skb.addFrag(page, 108, 4));
        SkBuff.releasePage(page);
        int len = 20 + payload.length;
        assertEquals(len, skb.len());
        // the sender's checksum, computed over a flat copy of the same bytes
        SkBuff flat = segments.pool.alloc(64);
        int f = flat.put(len);
        for (int i = 0; i < 20; i++) {
            flat.setU8(f + i, skb.getU8(t + i));
        }
        for (int i = 0; i < payload.length; i++) {
            flat.setU8(f + 20 + i, payload[i]);
        }
        TcpHeader.setChecksum(flat, f, len, TcpAf.inetPseudoSum(Segments.SADDR, Segments.DADDR, len));
        skb.setU16(t + TcpHeader.CHECK, flat.getU16(f + TcpHeader.CHECK));
        flat.free();
        assertSame(Check.OK, th.check(skb, TcpAf.INET));
        assertEquals(payload.length, th.payloadLen());
        skb.setU16(t + TcpHeader.CHECK, skb.getU16(t + TcpHeader.CHECK) ^ 1);
        assertSame(Check.BAD_CSUM, th.check(skb, TcpAf.INET));
        skb.free();
    }

    @Test
    void checkingSegmentsAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        SkBuff skb = segments.segment(TcpHeader.ACK, 1, 1, 1, opts(nop(), nop(), ts(1, 2)), 100);
        int sink = 0;
        for (int i = 0; i < 20_000; i++) {
            sink += check(skb);
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 200_000; i++) {
            sink += check(skb);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 200000 checks: something allocates per segment");
        assertTrue(sink != 0);
        skb.free();
    }

    private int check(SkBuff skb) {
        return th.check(skb, TcpAf.INET) == Check.OK ? th.seq() + th.window() + th.endSeq() : 0;
    }
}

package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.skb.SkBuff;

/** The options Linux sends, byte for byte ({@code tcp_options_write}), and their sizes ({@code tcp_options_size}). */
class TcpOutOptionsTest {
    private static final int ALL = TcpOptions.SYSCTL_WINDOW_SCALING | TcpOptions.SYSCTL_TIMESTAMPS
            | TcpOptions.SYSCTL_SACK;

    private final Segments segments = new Segments();
    private final TcpOutOptions out = new TcpOutOptions();
    private final SkBuff skb = segments.pool.alloc(128);
    private final int at = skb.put(64);

    @AfterEach
    void free() {
        skb.free();
        assertEquals(0, segments.pool.inUse());
    }

    private String written(int size) {
        assertEquals(size, out.size(), "size() agrees with what was chosen");
        int end = out.write(skb, at);
        assertEquals(at + size, end, "write() writes exactly size() bytes");
        return Segments.hex(skb, at, size);
    }

    @Test
    void aSynWithEverythingIsTheTwentyBytesLinuxSends() {
        // tcpdump of a Linux SYN: <mss 1460,sackOK,TS val 2864434397 ecr 0,nop,wscale 7>
        int size = out.syn(1460, true, 0xaabbccdd, true, 7, true);
        assertEquals(20, size);
        assertEquals("020405b4" + "0402080a" + "aabbccdd" + "00000000" + "01030307", written(size));
    }

    @Test
    void aSynWithoutTimestampsPutsSackPermittedAfterTwoNops() {
        int size = out.syn(1460, false, 0, true, 7, true);
        assertEquals(12, size);
        assertEquals("020405b4" + "01010402" + "01030307", written(size));
    }

    @Test
    void aSynWithOnlyMssIsFourBytes() {
        int size = out.syn(536, false, 0, false, 0, false);
        assertEquals(4, size);
        assertEquals("02040218", written(size));
    }

    @Test
    void aSynWithTimestampsButNoSackUsesNopNop() {
        int size = out.syn(1460, true, 1, true, 7, false);
        assertEquals(20, size);
        assertEquals("020405b4" + "0101080a" + "00000001" + "00000000" + "01030307", written(size));
    }

    @Test
    void aSynAckEchoesThePeersTimestampInLinuxsLayout() {
        int size = out.synAck(1460, true, 7, true, 0x01020304, 0x11223344, true);
        assertEquals(20, size);
        assertEquals("020405b4" + "0402080a" + "01020304" + "11223344" + "01030307", written(size));
    }

    @Test
    void aSynAckToASynWithoutOptionsCarriesOnlyMss() {
        int size = out.synAck(1460, false, 0, false, 0, 0, false);
        assertEquals(4, size);
        assertEquals("020405b4", written(size));
    }

    @Test
    void dataSegmentsCarryNopNopTimestamp() {
        int size = out.established(true, 100, 200, null, null, 0);
        assertEquals(12, size);
        assertEquals("0101080a" + "00000064" + "000000c8", written(size));
    }

    @Test
    void dataSegmentsWithoutTimestampsCarryNothing() {
        assertEquals(0, out.established(false, 0, 0, null, null, 0));
        assertEquals(0, out.size());
    }

    @Test
    void sackBlocksFollowTheTimestampWithTheirOwnNopNop() {
        int[] start = { 1000, 3000 };
        int[] end = { 2000, 4000 };
        int size = out.established(true, 1, 2, start, end, 2);
        assertEquals(12 + 4 + 16, size);
        assertEquals("0101080a" + "00000001" + "00000002" + "01010512" + "000003e8" + "000007d0" + "00000bb8"
                + "00000fa0", written(size));
    }

    @Test
    void onlyThreeSackBlocksFitBesideTimestamps() {
        int[] start = { 1, 3, 5, 7 };
        int[] end = { 2, 4, 6, 8 };
        assertEquals(40, out.established(true, 1, 2, start, end, 4));
        assertEquals(3, out.numSackBlocks);
    }

    @Test
    void fourSackBlocksFitWithoutTimestamps() {
        int[] start = { 1, 3, 5, 7, 9 };
        int[] end = { 2, 4, 6, 8, 10 };
        assertEquals(36, out.established(false, 0, 0, start, end, 5));
        assertEquals(4, out.numSackBlocks);
        assertTrue(written(36).startsWith("01010522"));
    }

    @Test
    void whatTheWriterSendsTheParserReadsBack() {
        int size = out.syn(1440, true, 77, true, 9, true);
        SkBuff seg = segments.segment(TcpHeader.SYN, 5, 0, 1000, new byte[size], 0);
        int th = seg.data();
        out.write(seg, th + TcpHeader.MIN_LEN);
        TcpOptions in = new TcpOptions();
        in.parse(seg, th, false, ALL);
        assertEquals(1440, in.mssClamp);
        assertTrue(in.sackOk && in.wscaleOk && in.sawTstamp);
        assertEquals(9, in.sndWscale);
        assertEquals(77, in.rcvTsval);
        seg.free();
    }

    @Test
    void aHeaderWrittenWithOptionsChecksAndParses() {
        int size = out.established(true, 5, 6, new int[] { 10 }, new int[] { 20 }, 1);
        SkBuff seg = segments.pool.alloc(128);
        int nh = seg.put(20 + 20 + size);
        seg.setU8(nh, 0x45);
        seg.setU32(nh + 12, Segments.SADDR);
        seg.setU32(nh + 16, Segments.DADDR);
        seg.setNetworkHeader(nh);
        int th = seg.pull(20);
        TcpHeader.write(seg, th, 1, 2, 3, 4, TcpHeader.ACK, 100, size);
        out.write(seg, th + TcpHeader.MIN_LEN);
        TcpHeader.setChecksum(seg, th, 20 + size, TcpAf.inetPseudoSum(Segments.SADDR, Segments.DADDR, 20 + size));
        TcpHeader h = new TcpHeader();
        assertSame(TcpHeader.Check.OK, h.check(seg, TcpAf.INET));
        assertEquals(20 + size, h.headerLen());
        TcpOptions in = new TcpOptions();
        in.sackOk = true;
        in.tstampOk = true;
        in.parse(seg, th, true, ALL);
        assertEquals(1, in.numRcvSacks);
        assertEquals(20, in.rcvSackEnd[0]);
        assertEquals(6, in.rcvTsecr);
        seg.free();
    }

    @Test
    void buildingOptionsAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        int[] start = { 1, 3, 5 };
        int[] end = { 2, 4, 6 };
        for (int i = 0; i < 20_000; i++) {
            cycle(start, end, i);
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 200_000; i++) {
            cycle(start, end, i);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 200000 segments' options");
    }

    private void cycle(int[] start, int[] end, int i) {
        out.syn(1460, true, i, true, 7, true);
        out.write(skb, at);
        out.established(true, i, i, start, end, 3);
        out.write(skb, at);
    }
}

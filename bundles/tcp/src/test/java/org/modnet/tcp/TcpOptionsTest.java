package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.tcp.Segments.eol;
import static org.modnet.tcp.Segments.mss;
import static org.modnet.tcp.Segments.nop;
import static org.modnet.tcp.Segments.opts;
import static org.modnet.tcp.Segments.padded;
import static org.modnet.tcp.Segments.raw;
import static org.modnet.tcp.Segments.sack;
import static org.modnet.tcp.Segments.sackPerm;
import static org.modnet.tcp.Segments.ts;
import static org.modnet.tcp.Segments.ws;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.skb.SkBuff;

/** {@code tcp_parse_options}' behaviour, one rule per test, on the option blocks Linux sends and on broken ones. */
class TcpOptionsTest {
    private static final int ALL = TcpOptions.SYSCTL_WINDOW_SCALING | TcpOptions.SYSCTL_TIMESTAMPS
            | TcpOptions.SYSCTL_SACK;
    private static final int SYN = TcpHeader.SYN;
    private static final int SYN_ACK = TcpHeader.SYN | TcpHeader.ACK;
    private static final int ACK = TcpHeader.ACK;

    private final Segments segments = new Segments();
    private final TcpOptions o = new TcpOptions();

    @AfterEach
    void everyBufferWentBack() {
        assertEquals(0, segments.pool.inUse());
    }

    /** Parses as a listener (not established) or a connection (established) would. */
    private void parse(int flags, byte[] options, boolean estab, int sysctls) {
        SkBuff skb = segments.segment(flags, options);
        o.parse(skb, skb.data(), estab, sysctls);
        skb.free();
    }

    private void parseSyn(byte[] options) {
        parse(SYN, padded(options), false, ALL);
    }

    @Test
    void linuxsSynOptionsGiveMssSackTimestampsAndWindowScale() {
        parseSyn(opts(mss(1460), sackPerm(), ts(0x11223344, 0), nop(), ws(7)));
        assertEquals(1460, o.mssClamp);
        assertTrue(o.sackOk);
        assertTrue(o.sawTstamp);
        assertEquals(0x11223344, o.rcvTsval);
        assertEquals(0, o.rcvTsecr);
        assertTrue(o.wscaleOk);
        assertEquals(7, o.sndWscale);
        assertFalse(o.sawUnknown);
    }

    @Test
    void linuxsSynAckOptionsParseTheSameInTheirOwnOrder() {
        parse(SYN_ACK, opts(mss(1400), sackPerm(), ts(5, 0x11223344), nop(), ws(9)), false, ALL);
        assertEquals(1400, o.mssClamp);
        assertTrue(o.sackOk && o.sawTstamp && o.wscaleOk);
        assertEquals(0x11223344, o.rcvTsecr);
        assertEquals(9, o.sndWscale);
    }

    @Test
    void aSynWithoutTimestampsLaysOutSackPermittedBetweenNops() {
        parseSyn(opts(mss(1460), nop(), nop(), sackPerm(), nop(), ws(7)));
        assertTrue(o.sackOk && o.wscaleOk);
        assertFalse(o.sawTstamp);
    }

    @Test
    void aDataSegmentsNopNopTimestampIsReadOnAnEstablishedConnection() {
        o.tstampOk = true;
        parse(ACK, opts(nop(), nop(), ts(100, 200)), true, ALL);
        assertTrue(o.sawTstamp);
        assertEquals(100, o.rcvTsval);
        assertEquals(200, o.rcvTsecr);
    }

    @Test
    void timestampsAreIgnoredOnAConnectionThatDidNotNegotiateThem() {
        o.tstampOk = false;
        parse(ACK, opts(nop(), nop(), ts(100, 200)), true, ALL);
        assertFalse(o.sawTstamp);
    }

    @Test
    void timestampsOnASynAreIgnoredWhenTcpTimestampsIsOff() {
        parse(SYN, padded(opts(mss(1460), ts(1, 0))), false, ALL & ~TcpOptions.SYSCTL_TIMESTAMPS);
        assertFalse(o.sawTstamp);
        assertEquals(1460, o.mssClamp, "the rest is still read");
    }

    @Test
    void windowScaleIsIgnoredWhenTcpWindowScalingIsOff() {
        parse(SYN, padded(opts(nop(), ws(7))), false, ALL & ~TcpOptions.SYSCTL_WINDOW_SCALING);
        assertFalse(o.wscaleOk);
        assertEquals(0, o.sndWscale);
    }

    @Test
    void sackPermittedIsIgnoredWhenTcpSackIsOff() {
        parse(SYN, padded(sackPerm()), false, ALL & ~TcpOptions.SYSCTL_SACK);
        assertFalse(o.sackOk);
    }

    @Test
    void mssWindowScaleAndSackPermittedCountOnlyOnASyn() {
        parse(ACK, padded(opts(mss(1000), sackPerm(), nop(), ws(3))), false, ALL);
        assertEquals(TcpOptions.MSS_DEFAULT, o.mssClamp);
        assertFalse(o.sackOk || o.wscaleOk);
    }

    @Test
    void mssWindowScaleAndSackPermittedAreIgnoredOnceEstablishedEvenOnASyn() {
        parse(SYN, padded(opts(mss(1000), sackPerm(), nop(), ws(3))), true, ALL);
        assertEquals(TcpOptions.MSS_DEFAULT, o.mssClamp);
        assertFalse(o.sackOk || o.wscaleOk);
    }

    @Test
    void anMssOfZeroIsIgnoredAndTheClampKeepsItsValueAsLinuxDoes() {
        parseSyn(mss(0));
        assertEquals(TcpOptions.MSS_DEFAULT, o.mssClamp);
    }

    @Test
    void anAnnouncedMssAboveTcpMaxsegIsClampedToIt() {
        o.userMss = 1200;
        parseSyn(mss(1460));
        assertEquals(1200, o.mssClamp);
        parseSyn(mss(1000));
        assertEquals(1000, o.mssClamp, "below TCP_MAXSEG it is taken as announced");
    }

    @Test
    void aWindowScaleOfFifteenIsTakenAsFourteenAndCounted() {
        parseSyn(opts(nop(), ws(15)));
        assertTrue(o.wscaleOk);
        assertEquals(14, o.sndWscale);
        assertEquals(1, o.illegalWscale);
        parseSyn(opts(nop(), ws(255)));
        assertEquals(14, o.sndWscale);
        assertEquals(2, o.illegalWscale);
        parseSyn(opts(nop(), ws(14)));
        assertEquals(14, o.sndWscale);
        assertEquals(2, o.illegalWscale, "14 itself is legal");
    }

    @Test
    void aZeroLengthOptionStopsParsingAndWhatCameBeforeStays() {
        parseSyn(opts(mss(1460), raw(30, 0), nop(), ws(7)));
        assertEquals(1460, o.mssClamp);
        assertFalse(o.wscaleOk, "nothing after the silly option is read");
    }

    @Test
    void aLengthOfOneStopsParsing() {
        parseSyn(opts(raw(2, 1), mss(1460)));
        assertEquals(TcpOptions.MSS_DEFAULT, o.mssClamp);
    }

    @Test
    void anOptionReachingPastTheHeaderIsNotParsed() {
        // MSS is whole, then a timestamp whose length (10) runs past the 12 option bytes
        parseSyn(opts(mss(1460), raw(8, 10, 0, 0, 0, 1, 1, 1)));
        assertEquals(1460, o.mssClamp);
        assertFalse(o.sawTstamp);
    }

    @Test
    void aKindInTheLastByteWithoutRoomForItsLengthStopsParsing() {
        parseSyn(opts(nop(), nop(), nop(), raw(2)));
        assertEquals(TcpOptions.MSS_DEFAULT, o.mssClamp);
        assertFalse(o.sawUnknown);
    }

    @Test
    void endOfOptionListStopsParsing() {
        parseSyn(opts(eol(), raw(0, 0, 0), mss(1000)));
        assertEquals(TcpOptions.MSS_DEFAULT, o.mssClamp);
    }

    @Test
    void anUnknownKindIsSkippedByItsLengthAndNoted() {
        parseSyn(opts(raw(99, 6, 1, 2, 3, 4), mss(1300)));
        assertTrue(o.sawUnknown);
        assertEquals(1300, o.mssClamp);
    }

    @Test
    void aKnownKindWithTheWrongLengthIsSkippedByItsLength() {
        parseSyn(opts(raw(2, 5, 0x05, 0xb4, 0), raw(3, 4, 7, 0), mss(1300)));
        assertEquals(1300, o.mssClamp, "the 5-byte MSS was skipped, the real one read");
        assertFalse(o.wscaleOk, "a 4-byte window scale is not one");
    }

    @Test
    void fastOpenAndSignatureKindsAreSkippedWithoutCountingAsUnknown() {
        parseSyn(opts(raw(34, 2), raw(254, 4, 0xf9, 0x89), raw(19, 2), nop(), nop()));
        assertFalse(o.sawUnknown);
        parseSyn(opts(raw(254, 4, 0x12, 0x34)));
        assertTrue(o.sawUnknown, "an experimental option that is not Fast Open is unknown");
    }

    @Test
    void sackBlocksAreReadWhenSackWasNegotiated() {
        o.sackOk = true;
        o.tstampOk = true;
        parse(ACK, opts(nop(), nop(), ts(1, 2), nop(), nop(), sack(100, 200, 300, 400, 0xfffffff0, 0x10)), true, ALL);
        assertEquals(3, o.numRcvSacks);
        assertEquals(100, o.rcvSackStart[0]);
        assertEquals(200, o.rcvSackEnd[0]);
        assertEquals(0xfffffff0, o.rcvSackStart[2]);
        assertEquals(0x10, o.rcvSackEnd[2]);
        assertEquals(20 + 12 + 2, o.sackOffset, "where the option lies, as TCP_SKB_CB(skb)->sacked");
        assertTrue(o.sawTstamp);
    }

    @Test
    void fourSackBlocksFitWithoutTimestamps() {
        o.sackOk = true;
        parse(ACK, opts(nop(), nop(), sack(1, 2, 3, 4, 5, 6, 7, 8)), true, ALL);
        assertEquals(4, o.numRcvSacks);
        assertEquals(8, o.rcvSackEnd[3]);
    }

    @Test
    void sackBlocksAreIgnoredWithoutSackNegotiated() {
        o.sackOk = false;
        parse(ACK, opts(nop(), nop(), sack(1, 2)), true, ALL);
        assertEquals(0, o.numRcvSacks);
        assertEquals(0, o.sackOffset);
    }

    @Test
    void aSackOptionWhoseLengthIsNotWholeBlocksIsIgnored() {
        o.sackOk = true;
        parse(ACK, padded(opts(nop(), nop(), raw(5, 9, 0, 0, 0, 1, 0, 0, 0))), true, ALL);
        assertEquals(0, o.numRcvSacks);
        parse(ACK, opts(nop(), nop(), raw(5, 2)), true, ALL);
        assertEquals(0, o.numRcvSacks, "a SACK option with no block");
    }

    @Test
    void perSegmentResultsAreClearedByTheNextParse() {
        o.sackOk = true;
        o.tstampOk = true;
        parse(ACK, opts(nop(), nop(), ts(1, 2), nop(), nop(), sack(1, 2)), true, ALL);
        parse(ACK, new byte[0], true, ALL);
        assertFalse(o.sawTstamp);
        assertEquals(0, o.numRcvSacks);
        assertTrue(o.sackOk && o.tstampOk, "what was negotiated stays");
    }

    @Test
    void fastParseReadsTheAlignedTimestampAndRemovesTheOffsetFromTheEcho() {
        o.tstampOk = true;
        SkBuff skb = segments.segment(ACK, opts(nop(), nop(), ts(500, 1000)));
        assertTrue(o.fastParse(skb, skb.data(), ALL, 300));
        assertEquals(500, o.rcvTsval);
        assertEquals(700, o.rcvTsecr);
        skb.free();
    }

    @Test
    void fastParseLeavesAZeroEchoAtZero() {
        o.tstampOk = true;
        SkBuff skb = segments.segment(ACK, opts(nop(), nop(), ts(500, 0)));
        assertTrue(o.fastParse(skb, skb.data(), ALL, 300));
        assertEquals(0, o.rcvTsecr);
        skb.free();
    }

    @Test
    void fastParseFallsBackToTheFullParserForAnyOtherLayout() {
        o.tstampOk = true;
        o.sackOk = true;
        SkBuff skb = segments.segment(ACK, opts(nop(), nop(), sack(1, 2), nop(), nop(), ts(7, 1000)));
        assertTrue(o.fastParse(skb, skb.data(), ALL, 300));
        assertEquals(7, o.rcvTsval);
        assertEquals(700, o.rcvTsecr);
        assertEquals(1, o.numRcvSacks);
        skb.free();
        skb = segments.segment(ACK, new byte[0]);
        assertFalse(o.fastParse(skb, skb.data(), ALL, 300));
        assertFalse(o.sawTstamp);
        skb.free();
    }

    @Test
    void clearForgetsWhatWasNegotiated() {
        parseSyn(opts(mss(1460), sackPerm(), ts(1, 0), nop(), ws(7)));
        o.clear();
        assertFalse(o.sackOk || o.wscaleOk || o.tstampOk || o.sawTstamp);
        assertEquals(0, o.sndWscale);
    }

    @Test
    void parsingAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        o.sackOk = true;
        o.tstampOk = true;
        SkBuff skb = segments.segment(ACK, opts(nop(), nop(), ts(1, 2), nop(), nop(), sack(1, 2, 3, 4, 5, 6)));
        int th = skb.data();
        for (int i = 0; i < 20_000; i++) {
            o.parse(skb, th, true, ALL);
            o.fastParse(skb, th, ALL, 1);
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 200_000; i++) {
            o.parse(skb, th, true, ALL);
            o.fastParse(skb, th, ALL, 1);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 200000 parses");
        assertEquals(3, o.numRcvSacks);
        skb.free();
    }
}

package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class TcUtilTest {
    @Test
    void readsTimesInTcUnitsAndPrintsThemAsIproute2() {
        assertEquals(50_000_000L, TcUtil.parseTime("50ms"));
        assertEquals(800_000L, TcUtil.parseTime("800us"));
        assertEquals(1_500_000_000L, TcUtil.parseTime("1.5s"));
        assertEquals(10_000L, TcUtil.parseTime("10"), "a bare number is microseconds");
        assertNull(TcUtil.parseTime("5parsecs"));
        assertEquals("50ms", TcUtil.time(50_000_000L));
        assertEquals("991us", TcUtil.time(990_666L));
        assertEquals("1.5s", TcUtil.time(1_500_000_000L));
        assertEquals("400ms", TcUtil.time(400_000_000L));
    }

    @Test
    void readsRatesInBitsAndPrintsThemInThousands() {
        assertEquals(1_250_000L, TcUtil.parseRate("10mbit"));
        assertEquals(1_000_000L, TcUtil.parseRate("1mbps"), "bps is bytes");
        assertEquals("10Mbit", TcUtil.rate(1_250_000L));
        assertEquals("12Mbit", TcUtil.rate(1_500_000L));
        assertEquals("1500Kbit", TcUtil.rate(187_500L));
        assertEquals("800bit", TcUtil.rate(100L));
    }

    @Test
    void readsSizesAndPrintsThemAsSprintSize() {
        assertEquals(4096L, TcUtil.parseSize("32kbit"));
        assertEquals(10240L, TcUtil.parseSize("10kb"));
        assertEquals(1514L, TcUtil.parseSize("1514"));
        assertEquals("4Kb", TcUtil.size(4096));
        assertEquals("10Kb", TcUtil.size(10240));
        assertEquals("1513b", TcUtil.size(1513));
        assertEquals("0b", TcUtil.size(0));
        assertEquals("1Mb", TcUtil.size(1024 * 1024));
    }

    @Test
    void readsPercentagesUpToAHundredAndPrintsThemAsG() {
        assertEquals("20%", TcUtil.percent(TcUtil.parsePercent("20%")));
        assertEquals("0.1%", TcUtil.percent(TcUtil.parsePercent("0.1%")));
        assertEquals("25%", TcUtil.percent(TcUtil.parsePercent("25")));
        assertNull(TcUtil.parsePercent("120%"));
        assertNull(TcUtil.parsePercent("-1%"));
    }

    @Test
    void readsQdiscHandlesInHex() {
        assertEquals(0x10000, TcUtil.parseQdiscHandle("1:"));
        assertEquals(0x80010000, TcUtil.parseQdiscHandle("8001:"));
        assertEquals(-1, TcUtil.parseQdiscHandle("zz:"));
        assertEquals(0x10010, TcUtil.parseClassid("1:10"));
        assertEquals("8001:", TcUtil.handle(0x80010000));
        assertEquals("0:", TcUtil.handle(0));
    }
}

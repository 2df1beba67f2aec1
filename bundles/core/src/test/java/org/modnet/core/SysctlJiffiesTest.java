package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.Jiffies;
import org.modnet.api.net.NetException;
import org.modnet.api.net.Sysctl;

/**
 * Entries Linux stores in jiffies read back as Linux's do: the values below are what Linux 6.18 at HZ=250 printed after
 * the same {@code sysctl -w} in a network namespace.
 */
class SysctlJiffiesTest {
    private final SysctlTree t = new SysctlTree();

    private String written(String name, String value) throws NetException {
        t.set(name, value);
        return t.get(name);
    }

    @Test
    void millisecondsKeptInJiffiesRoundUpToAJiffy() throws NetException {
        assumeTrue(Jiffies.HZ == 250, "the expected values are HZ=250's");
        IntSysctl e = t.registerInt("net.ipv4.icmp_ratelimit", 1000, 0, Integer.MAX_VALUE);
        t.stored("net.ipv4.icmp_ratelimit", Sysctl.Stored.MS_JIFFIES);
        assertEquals("1000", t.get("net.ipv4.icmp_ratelimit"), "the default is whole jiffies");
        assertEquals("1004", written("net.ipv4.icmp_ratelimit", "1001"));
        assertEquals(1004, e.get(), "the layer reads what sysctl shows");
        assertEquals("4", written("net.ipv4.icmp_ratelimit", "1"));
        assertEquals("0", written("net.ipv4.icmp_ratelimit", "0"));
        assertThrows(NetException.class, () -> t.set("net.ipv4.icmp_ratelimit", "-5"));
        assertEquals("0", t.get("net.ipv4.icmp_ratelimit"));
    }

    @Test
    void hundredthsOfASecondKeptInJiffiesRoundDown() throws NetException {
        assumeTrue(Jiffies.HZ == 250, "the expected values are HZ=250's");
        t.registerInt("net.ipv4.neigh.default.locktime", 100, 0, Integer.MAX_VALUE);
        t.stored("net.ipv4.neigh.default.locktime", Sysctl.Stored.USER_HZ_JIFFIES);
        assertEquals("100", t.get("net.ipv4.neigh.default.locktime"));
        assertEquals("2", written("net.ipv4.neigh.default.locktime", "3"));
        assertEquals("0", written("net.ipv4.neigh.default.locktime", "1"));
        assertEquals("100", written("net.ipv4.neigh.default.locktime", "100"));
    }

    @Test
    void aDevicesCopyOfADefaultIsKeptInJiffiesToo() throws NetException {
        assumeTrue(Jiffies.HZ == 250, "the expected values are HZ=250's");
        IntSysctl dflt = t.registerInt("net.ipv4.neigh.default.retrans_time_ms", 1000, 1, Integer.MAX_VALUE);
        t.stored("net.ipv4.neigh.default.retrans_time_ms", Sysctl.Stored.MS_JIFFIES);
        t.registerInt("net.ipv4.neigh.lo.retrans_time_ms", dflt, 1, Integer.MAX_VALUE);
        t.stored("net.ipv4.neigh.lo.retrans_time_ms", Sysctl.Stored.MS_JIFFIES);
        assertEquals("1004", written("net.ipv4.neigh.default.retrans_time_ms", "1001"));
        assertEquals("1004", t.get("net.ipv4.neigh.lo.retrans_time_ms"), "the copy follows the default");
        assertEquals("30004", written("net.ipv4.neigh.lo.retrans_time_ms", "30001"));
    }

    @Test
    void theConversionsAtEachHzAreLinuxs() {
        // clock_t_to_jiffies then jiffies_to_clock_t: 3 hundredths are 7 jiffies at 250 (2.8 back: 2), 10 at 300 (3)
        assertEquals(7, Jiffies.fromUserHz(3, 250));
        assertEquals(2, Jiffies.toUserHz(7, 250));
        assertEquals(9, Jiffies.fromUserHz(3, 300));
        assertEquals(2, Jiffies.toUserHz(9, 300), "9 ticks of 3333333 ns are 2.99 hundredths");
        assertEquals(30, Jiffies.fromUserHz(3, 1000));
        assertEquals(3, Jiffies.toUserHz(30, 1000));
        assertEquals(3, Jiffies.toUserHz(3, 100));
        assertEquals(1004, Jiffies.toMsecs(Jiffies.fromMsecs(1001, 250), 250));
        assertEquals(1004, Jiffies.toMsecs(Jiffies.fromMsecs(1001, 300), 300), "301 jiffies of 3 1/3 ms, rounded up");
    }
}

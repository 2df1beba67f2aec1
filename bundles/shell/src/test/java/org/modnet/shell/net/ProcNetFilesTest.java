package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NudState;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.MacAddress;

/** /proc/net/route and /proc/net/arp byte for byte as Linux 6.x printed them for the same tables. */
class ProcNetFilesTest {
    private final FakeDevice v0 = FakeDevice.ether("v0", "veth", "02:00:00:00:00:01");

    private static String pad(String s) {
        return s + " ".repeat(127 - s.length());
    }

    @Test
    void routeShowsTheMainTableAsFibRouteSeqShowDoes() {
        List<String> lines = ProcNetRoute.lines(List.of(
                new RouteEntry("unicast", 0, 0, 0x0a0303fe, v0, 0, 5, "boot", "global"),
                new RouteEntry("unicast", 0x0a030300, 24, 0, v0, 0x0a030301, 0, "kernel", "link"),
                new RouteEntry("blackhole", 0x0a080000, 16, 0, null, 0, 0, "boot", "global"),
                new RouteEntry("unicast", 0x09090909 + 0x01000000, 32, 0, v0, 0, 0, "boot", "link"),
                new RouteEntry("unreachable", 0x0b000000, 8, 0, null, 0, 0, "boot", "global")));
        // from a Linux namespace: default via 10.3.3.254 metric 5, 10.3.3.0/24 dev v0, blackhole 10.8.0.0/16, 10.9.9.9 dev v0
        assertEquals(pad("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"), lines.get(0));
        assertEquals(pad("v0\t00000000\tFE03030A\t0003\t0\t0\t5\t00000000\t0\t0\t0"), lines.get(1));
        assertEquals(pad("v0\t0003030A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0"), lines.get(2));
        assertEquals(pad("*\t0000080A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0"), lines.get(3));
        assertEquals(pad("v0\t0909090A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0"), lines.get(4));
        assertEquals(pad("*\t0000000B\t00000000\t0201\t0\t0\t0\t000000FF\t0\t0\t0"), lines.get(5), "unreachable: RTF_REJECT");
    }

    @Test
    void arpShowsEachEntryAsArpSeqShowDoes() {
        List<String> lines = ProcNetArp.lines(List.of(
                new Neighbour(0x0a030309, v0, MacAddress.parse("02:00:00:00:00:09"), NudState.PERMANENT, 0, 0, 0, 0, 0),
                new Neighbour(0x0a030307, v0, null, NudState.FAILED, 0, 0, 0, 3, 0),
                new Neighbour(0x0a030308, v0, MacAddress.parse("02:00:00:00:00:08"), NudState.REACHABLE, 0, 0, 0, 0, 0),
                new Neighbour(0x7f000001, v0, null, NudState.NOARP, 0, 0, 0, 0, 0)));
        assertEquals(List.of(
                "IP address       HW type     Flags       HW address            Mask     Device",
                "10.3.3.9         0x1         0x6         02:00:00:00:00:09     *        v0",
                "10.3.3.7         0x1         0x0         00:00:00:00:00:00     *        v0",
                "10.3.3.8         0x1         0x2         02:00:00:00:00:08     *        v0"), lines);
    }
}

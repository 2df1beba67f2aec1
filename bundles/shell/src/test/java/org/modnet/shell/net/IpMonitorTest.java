package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NudState;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.Rtnetlink;
import org.modnet.api.net.RtnlMessage;
import org.modnet.api.shell.CommandException;

/** {@code ip monitor}'s lines, as iproute2 6.1 printed them for the same changes on Linux 6.18. */
class IpMonitorTest {
    private final TestShell shell = new TestShell();
    private final FakeDevice[] pair = FakeCore.vethPair(shell.init(), "v1", "v0");
    private final FakeDevice v0 = pair[1];

    private static int ip(String a) {
        return (int) org.modnet.api.inet.Ipv4Addresses.parse(a);
    }

    private String format(int type, Object body, boolean label) {
        return IpMonitor.format(new RtnlMessage(type, v0, body), shell.init(), label);
    }

    @Test
    void linkIsTheHeaderWithoutQlenAndTheLinkLine() {
        pair[0].open();
        v0.open();
        assertEquals("3: v0@v1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \n"
                + "    link/ether 02:00:00:00:00:0b brd ff:ff:ff:ff:ff:ff", format(Rtnetlink.RTM_NEWLINK, null, false));
        assertTrue(format(Rtnetlink.RTM_DELLINK, null, true).startsWith("[LINK]Deleted 3: v0@v1: "));
    }

    @Test
    void addressIsIfindexNameAndTheAddressLines() {
        IfAddress a = new IfAddress(Ipv4.parse("10.0.0.1"), 24, null, "global", "v0");
        assertEquals("3: v0    inet 10.0.0.1/24 scope global v0\n       valid_lft forever preferred_lft forever",
                format(Rtnetlink.RTM_NEWADDR, a, false));
        assertEquals("[ADDR]Deleted 3: v0    inet 10.0.0.1/24 scope global v0\n       valid_lft forever preferred_lft forever",
                format(Rtnetlink.RTM_DELADDR, a, true));
    }

    @Test
    void routeIsAsIpRoutePrintsItWithItsTrailingSpace() {
        RouteEntry kernel = new RouteEntry("unicast", ip("10.0.0.0"), 24, 0, v0, ip("10.0.0.1"), 0, "kernel", "link");
        RouteEntry byHand = new RouteEntry("unicast", ip("10.9.0.0"), 16, ip("10.0.0.2"), v0, 0, 0, "boot", "global");
        assertEquals("10.0.0.0/24 dev v0 proto kernel scope link src 10.0.0.1 ", format(Rtnetlink.RTM_NEWROUTE, kernel, false));
        assertEquals("[ROUTE]10.9.0.0/16 via 10.0.0.2 dev v0 ", format(Rtnetlink.RTM_NEWROUTE, byHand, true));
        assertEquals("Deleted 10.9.0.0/16 via 10.0.0.2 dev v0 ", format(Rtnetlink.RTM_DELROUTE, byHand, false));
    }

    @Test
    void aRouteOfAnotherTableCarriesItsTable() {
        RouteEntry r = new RouteEntry("unicast", ip("10.5.0.0"), 16, 0, v0, 0, 0, "boot", "link");
        assertEquals("10.5.0.0/16 dev v0 table 100 scope link ",
                format(Rtnetlink.RTM_NEWROUTE, new org.modnet.api.inet.TableRoute(100, r), false));
    }

    @Test
    void neighbourShowsItsAddressOnlyWhileValid() {
        MacAddress mac = MacAddress.parse("02:00:00:00:00:03");
        Neighbour reachable = new Neighbour(ip("10.0.0.3"), v0, mac, NudState.REACHABLE, 0, 0, 0, 0, 0);
        Neighbour failed = new Neighbour(ip("10.0.0.3"), v0, mac, NudState.FAILED, 0, 0, 0, 0, 0);
        assertEquals("10.0.0.3 dev v0 lladdr 02:00:00:00:00:03 REACHABLE ", format(Rtnetlink.RTM_NEWNEIGH, reachable, false));
        assertEquals("10.0.0.3 dev v0 FAILED ", format(Rtnetlink.RTM_NEWNEIGH, failed, false));
        assertEquals("[NEIGH]Deleted 10.0.0.3 dev v0 FAILED ", format(Rtnetlink.RTM_DELNEIGH, failed, true));
    }

    @Test
    void aBodyOfTheWrongKindPrintsNothing() {
        assertNull(format(Rtnetlink.RTM_NEWROUTE, "not a route", false));
    }

    @Test
    void objectsPickGroupsAndNoneMeansAll() {
        assertEquals(Rtnetlink.ALL_GROUPS, IpMonitor.parse(List.of()).groups());
        assertEquals(Rtnetlink.ALL_GROUPS, IpMonitor.parse(List.of("all")).groups());
        IpMonitor.Request r = IpMonitor.parse(List.of("link", "neigh", "label"));
        assertEquals(Rtnetlink.mask(Rtnetlink.RTNLGRP_LINK) | Rtnetlink.mask(Rtnetlink.RTNLGRP_NEIGH), r.groups());
        assertTrue(r.label());
        assertEquals(Rtnetlink.mask(Rtnetlink.RTNLGRP_IPV4_IFADDR), IpMonitor.parse(List.of("addr")).groups());
    }

    @Test
    void anUnknownArgumentIsRefusedInIproute2sWords() {
        CommandException e = assertThrows(CommandException.class, () -> shell.ip("monitor foo"));
        assertEquals("Argument \"foo\" is unknown, try \"ip monitor help\".", e.getMessage());
        assertEquals(255, e.status());
    }

    @Test
    void runsUntilInterruptedPrintingWhatItJoinedAndLeavesTheGroups() throws Exception {
        Thread t = new Thread(() -> shell.ip("monitor route label"));
        t.start();
        while (!shell.init().rtnlListening(Rtnetlink.RTNLGRP_IPV4_ROUTE)) {
            Thread.onSpinWait();
        }
        assertTrue(!shell.init().rtnlListening(Rtnetlink.RTNLGRP_LINK), "only the route group was joined");
        RouteEntry r = new RouteEntry("blackhole", ip("10.8.0.0"), 16, 0, null, 0, 0, "boot", "global");
        shell.init().rtnlNotify(new RtnlMessage(Rtnetlink.RTM_NEWROUTE, null, r));
        shell.init().rtnlNotify(new RtnlMessage(Rtnetlink.RTM_NEWLINK, v0, null)); // not joined: not printed
        shell.init().rtnlNotify(new RtnlMessage(Rtnetlink.RTM_DELROUTE, null, r));
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!seen.toString().contains("Deleted") && System.nanoTime() < deadline) {
            seen.append(shell.out()); // out() takes what was printed so far
            Thread.sleep(5);
        }
        t.interrupt();
        t.join();
        assertEquals("[ROUTE]blackhole 10.8.0.0/16 \n[ROUTE]Deleted blackhole 10.8.0.0/16 \n", seen.append(shell.out()).toString());
        assertTrue(shell.init().rtnl.isEmpty(), "the listener left with the command");
    }
}

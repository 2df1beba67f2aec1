package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/** {@code ip route ... features ecn} (RTAX_FEATURES), shown as iproute2 6.1 shows it on Linux. */
class IpRouteFeaturesTest {
    private final TestShell shell = new TestShell();
    private final List<RouteEntry> added = new ArrayList<>();

    IpRouteFeaturesTest() {
        shell.routes = new RouteTable() {
            @Override
            public List<RouteEntry> routes(NetNamespace ns) {
                return added;
            }

            @Override
            public void add(NetNamespace ns, RouteEntry route, boolean replace) {
                added.add(route);
            }

            @Override
            public void delete(NetNamespace ns, int prefix, int len, int metric) {
            }

            @Override
            public Decision get(NetNamespace ns, int address) {
                return new Decision(address, added.get(0), address, 0x0a090001);
            }
        };
    }

    @Test
    void featuresEcnIsKeptOnTheRouteAndShownAfterTheMetric() {
        shell.ip("route add 10.9.0.0/24 dev lo metric 5 features ecn");
        assertEquals(RouteEntry.RTAX_FEATURE_ECN, added.get(0).features());
        assertEquals("10.9.0.0/24 dev lo scope link metric 5 features ecn", shell.ip("route show").strip());
        String json = shell.ip("-j route show");
        assertTrue(json.contains("\"metric\":5,\"flags\":[],\"metrics\":[{\"ecn\":null}]"), json);
    }

    @Test
    void aRouteWithoutFeaturesShowsNone() {
        shell.ip("route add 10.9.0.0/24 dev lo");
        assertEquals(0, added.get(0).features());
        assertEquals("10.9.0.0/24 dev lo scope link", shell.ip("route show").strip());
    }

    @Test
    void anUnknownFeatureIsRefusedInIproute2sWords() {
        CommandException e = shell.ipFails("route add 10.9.0.0/24 dev lo features foo");
        assertEquals("Error: argument \"foo\" is wrong: \"features\" value not valid\n", e.getMessage());
        assertTrue(added.isEmpty());
    }

    @Test
    void routeGetShowsTheFeatureOnTheCacheLineAsLinuxDoes() {
        // Linux 6.18, iproute2 6.1: "10.9.0.5 dev v0 src 10.9.0.1 uid 0 \n    cache features ecn "
        shell.ip("route add 10.9.0.0/24 dev lo features ecn");
        assertEquals("10.9.0.5 dev lo src 10.9.0.1 uid 0\n    cache features ecn", shell.ip("route get 10.9.0.5").strip());
        String json = shell.ip("-j route get 10.9.0.5");
        assertTrue(json.contains("\"uid\":0,\"cache\":[],\"metrics\":[{\"ecn\":null}]"), json);
    }

    @Test
    void routeGetWithoutFeaturesShowsABareCacheLine() {
        shell.ip("route add 10.9.0.0/24 dev lo");
        assertEquals("10.9.0.5 dev lo src 10.9.0.1 uid 0\n    cache", shell.ip("route get 10.9.0.5").strip());
        assertTrue(!shell.ip("-j route get 10.9.0.5").contains("metrics"));
    }
}

package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Rtnetlink;
import org.modnet.api.net.TxResult;
import org.modnet.core.StandaloneCore;

/**
 * RTM_NEWROUTE and RTM_DELROUTE from the IPv4 layer: the kernel's routes as an address comes and a link
 * goes down (told with the change, not at the next lookup), and routes by hand, as {@code ip monitor
 * route} hears them.
 */
class RouteNotifyTest {
    private StandaloneCore stack;
    private NetNamespace ns;
    private NetDevice eth0;
    private Ipv4Net net;
    private final List<String> heard = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 64, () -> 0L);
        ns = stack.core().addNamespace("r");
        eth0 = ns.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        net = new Ipv4Net(ns, stack.core(), new NoNeighbours(), new NfHooks());
        ns.rtnlListen(Rtnetlink.mask(Rtnetlink.RTNLGRP_IPV4_ROUTE), m -> {
            RouteEntry r = m.body() instanceof org.modnet.api.inet.TableRoute t ? t.route() : (RouteEntry) m.body();
            String table = m.body() instanceof org.modnet.api.inet.TableRoute t ? " table " + t.table() : "";
            heard.add((m.type() == Rtnetlink.RTM_NEWROUTE ? "new " : "del ") + Ipv4Addresses.format(r.prefix()) + "/" + r.len()
                    + " " + r.protocol() + table);
        });
    }

    @AfterEach
    void tearDown() {
        net.exit();
        stack.shutdown();
    }

    @Test
    void theKernelsRouteFollowsTheAddressAndTheLinkAtOnce() throws Exception {
        eth0.open();
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        assertEquals(List.of("new 10.0.0.0/24 kernel"), heard, "with the address, before any lookup");
        eth0.close();
        eth0.open();
        eth0.removeAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        assertEquals(List.of("new 10.0.0.0/24 kernel", "del 10.0.0.0/24 kernel", "new 10.0.0.0/24 kernel",
                "del 10.0.0.0/24 kernel"), heard);
    }

    @Test
    void routesByHandAreToldAsAddedAndDeleted() throws Exception {
        eth0.open();
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        heard.clear();
        net.fib.add(new RouteEntry("unicast", (int) Ipv4Addresses.parse("10.9.0.0"), 16, (int) Ipv4Addresses.parse("10.0.0.2"),
                eth0, 0, 0, "boot", "global"), false);
        net.fib.delete((int) Ipv4Addresses.parse("10.9.0.0"), 16, -1);
        assertEquals(List.of("new 10.9.0.0/16 boot", "del 10.9.0.0/16 boot"), heard);
    }

    @Test
    void aRouteOfAnotherTableIsToldWithItsTable() throws Exception {
        net.rules.tableOrNew(100).add(new RouteEntry("blackhole", (int) Ipv4Addresses.parse("10.9.0.0"), 16, 0, null, 0, 0, "boot",
                "global"), false);
        assertEquals(List.of("new 10.9.0.0/16 boot table 100"), heard);
    }

    @Test
    void theLayerStopsListeningWhenItLeaves() {
        assertEquals(true, ns.rtnlListening(Rtnetlink.RTNLGRP_LINK), "the layer listens to links and addresses");
        net.exit();
        assertEquals(false, ns.rtnlListening(Rtnetlink.RTNLGRP_LINK), "and leaves with the namespace or the layer");
        net = new Ipv4Net(ns, stack.core(), new NoNeighbours(), new NfHooks()); // tearDown exits this one
    }
}

package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Errno;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.core.StandaloneCore;

/** The routing table of a namespace: the kernel's connected routes follow addresses; routes by hand stay. */
class Ipv4FibTest {
    private StandaloneCore stack;
    private NetNamespace ns;
    private NetDevice eth0;
    private Ipv4Fib fib;

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 64, System::nanoTime);
        ns = stack.core().addNamespace("r");
        eth0 = ns.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        fib = new Ipv4Fib(ns);
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    @Test
    void anAddressOnADeviceThatIsUpMakesAConnectedRouteAndDownRemovesIt() throws Exception {
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        assertNull(fib.lookup(0x0a000002), "down: no route");
        eth0.open();
        RouteEntry r = fib.lookup(0x0a000002);
        assertEquals(eth0, r.dev());
        assertEquals(0x0a000001, r.src());
        assertEquals("kernel", r.protocol());
        assertEquals("link", r.scope());
        eth0.close();
        assertNull(fib.lookup(0x0a000002));
    }

    @Test
    void aLookupTakesNoLockWhileTheTableIsBeingChanged() throws Exception {
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        eth0.open();
        fib.lookup(0x0a000002); // the connected route is made and published
        java.util.concurrent.CompletableFuture<RouteEntry> looked;
        synchronized (fib) { // a writer inside a route change holds the table's lock
            looked = java.util.concurrent.CompletableFuture.supplyAsync(() -> fib.lookup(0x0a000002));
            assertEquals(eth0, looked.get(5, java.util.concurrent.TimeUnit.SECONDS).dev(),
                    "the packet path reads the published table, as fib_lookup reads under RCU");
        }
        fib.add(new RouteEntry("unicast", 0, 0, 0x0a0000fe, eth0, 0, 0, "static", "global"), false);
        assertEquals(0x0a0000fe, fib.lookup(0x08080808).gateway(), "a change is published to the next lookup");
    }

    @Test
    void aDefaultRouteByHandCatchesTheRestAndStaysWhenAddressesChange() throws Exception {
        eth0.open();
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        fib.add(new RouteEntry("unicast", 0, 0, 0x0a0000fe, eth0, 0, 0, "boot", "global"), false);
        assertEquals(0x0a0000fe, fib.lookup(0x08080808).gateway());
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.1.0.1"), 16, null, "global", "eth0"));
        assertEquals(0x0a0000fe, fib.lookup(0x08080808).gateway(), "the manual route survives the rebuild");
        assertEquals(0, fib.lookup(0x0a010203).gateway(), "the new connected route");
    }

    @Test
    void addingTheSameRouteTwiceIsEexistUnlessReplacedAndDeletingAMissingOneIsEsrch() throws Exception {
        RouteEntry r = new RouteEntry("unicast", 0x0a020000, 16, 0, eth0, 0, 5, "boot", "link");
        fib.add(r, false);
        assertEquals(Errno.EEXIST, assertThrows(NetException.class, () -> fib.add(r, false)).errno());
        fib.add(new RouteEntry("blackhole", 0x0a020000, 16, 0, null, 0, 5, "boot", "global"), true);
        assertEquals("blackhole", fib.lookup(0x0a020001).type());
        fib.add(new RouteEntry("unicast", 0x0a020000, 16, 0, eth0, 0, 1, "boot", "link"), false);
        assertEquals(1, fib.lookup(0x0a020001).metric(), "the lower metric wins");
        fib.delete(0x0a020000, 16, 1);
        fib.delete(0x0a020000, 16, -1);
        assertNull(fib.lookup(0x0a020001));
        assertEquals(Errno.ESRCH, assertThrows(NetException.class, () -> fib.delete(0x0a020000, 16, -1)).errno());
    }
}

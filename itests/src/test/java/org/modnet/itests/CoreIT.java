package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.function.LongSupplier;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * The core on a real Felix, as the host feature installs it: two namespaces joined by a veth pair,
 * pktgen frames across, counted on both ends; the veth driver stopped and started live.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class CoreIT {

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private NetCore core;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void installHost() throws Exception {
        features.install("host");
        core = ModnetRuntime.service(context, NetCore.class, null);
    }

    @Test
    public void loopbackIsTheFirstDeviceOfEveryNamespace() throws Exception {
        NetDevice lo = core.initNet().device("lo");
        assertNotNull(lo);
        assertEquals(1, lo.ifindex());
        assertTrue("lo is up in init_net", lo.isUp());
        NetNamespace ns = core.addNamespace("blue");
        assertEquals(1, ns.device("lo").ifindex());
        assertEquals("lo starts down in a new namespace, as in Linux", false, ns.device("lo").isUp());
    }

    @Test
    public void pktgenFramesCrossAVethPairBetweenNamespacesAndAreCountedOnBothEnds() throws Exception {
        NetNamespace ns1 = core.addNamespace("ns1");
        NetNamespace ns2 = core.addNamespace("ns2");
        LinkFactory veth = ModnetRuntime.service(context, LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice a = veth.create(ns1, "veth0", List.of("peer", "name", "veth1"));
        NetDevice b = ns1.device("veth1");
        b.setNamespace(ns2);
        assertNull(ns1.device("veth1"));
        assertEquals(b, ns2.device("veth1"));
        a.open();
        b.open();
        b.setRingParams(4096, 0); // ethtool -G veth1 rx 4096: room for the whole burst

        String out = ModnetRuntime.run(processor, "ns1", "pktgen veth0 count 1000 pkt_size 100 path tx");
        assertThat(out, containsString("1000 (100byte,0frags)"));

        assertEquals(1000, a.stats().get(DeviceStats.Field.TX_PACKETS));
        assertEquals(0, a.stats().get(DeviceStats.Field.TX_DROPPED));
        assertEquals(100_000, a.stats().get(DeviceStats.Field.TX_BYTES));
        awaitAtLeast(() -> b.stats().get(DeviceStats.Field.RX_PACKETS), 1000);
        assertEquals(100_000, b.stats().get(DeviceStats.Field.RX_BYTES));
        // pktgen's ethertype has no handler in ns2: each frame is dropped there, and counted
        awaitAtLeast(() -> b.stats().get(DeviceStats.Field.RX_DROPPED), 1000);
        long processed = core.softnetStats().stream().mapToLong(s -> s.processed()).sum();
        assertTrue("softnet_stat counts what NAPI processed: " + processed, processed >= 1000);
    }

    @Test
    public void aBurstLargerThanTheReceiveRingIsDroppedAndCountedNeverLost() throws Exception {
        NetNamespace ns1 = core.addNamespace("ns1");
        LinkFactory veth = ModnetRuntime.service(context, LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice a = veth.create(ns1, "veth0", List.of("peer", "name", "veth1"));
        NetDevice b = ns1.device("veth1");
        a.open();
        b.open();
        b.setRingParams(16, 0);

        ModnetRuntime.run(processor, "ns1", "pktgen veth0 count 5000 pkt_size 60 path tx");

        long sent = a.stats().get(DeviceStats.Field.TX_PACKETS);
        long dropped = a.stats().get(DeviceStats.Field.TX_DROPPED);
        assertEquals("every frame is sent or counted as dropped", 5000, sent + dropped);
        assertEquals("the peer counts what its full ring refused", dropped, b.stats().get(DeviceStats.Field.RX_MISSED_ERRORS));
        awaitAtLeast(() -> b.stats().get(DeviceStats.Field.RX_PACKETS), sent);
    }

    @Test
    public void stoppingTheVethBundleRemovesBothEndsAndStartingItRestoresTheDriver() throws Exception {
        NetNamespace ns1 = core.addNamespace("ns1");
        NetNamespace ns2 = core.addNamespace("ns2");
        LinkFactory veth = ModnetRuntime.service(context, LinkFactory.class, "(modnet.link.kind=veth)");
        veth.create(ns1, "veth0", List.of("peer", "name", "veth1"));
        ns1.device("veth1").setNamespace(ns2);

        Bundle driver = ModnetRuntime.bundleNamed(context, "org.modnet.drivers.veth");
        driver.stop();
        assertNull("veth0 is gone with its driver", ns1.device("veth0"));
        assertNull("so is its peer in the other namespace", ns2.device("veth1"));
        assertEquals(0, context.getServiceReferences(LinkFactory.class, "(modnet.link.kind=veth)").size());

        driver.start();
        LinkFactory again = ModnetRuntime.service(context, LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice d = again.create(ns1, "veth0", List.of("peer", "name", "veth1"));
        assertEquals("veth", d.kind());
    }

    @Test
    public void stoppingTheLoopbackBundleRemovesLoFromEveryNamespaceAndStartingItBringsItBack() throws Exception {
        NetNamespace blue = core.addNamespace("blue");
        Bundle driver = ModnetRuntime.bundleNamed(context, "org.modnet.drivers.loopback");
        driver.stop();
        assertNull(core.initNet().device("lo"));
        assertNull(blue.device("lo"));
        driver.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while ((core.initNet().device("lo") == null || blue.device("lo") == null) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, core.initNet().device("lo").ifindex());
        assertEquals(1, blue.device("lo").ifindex());
    }

    @Test
    public void pktgenRefusesBadArgumentsWithItsUsageAndSendsNothing() throws Exception {
        NetDevice lo = core.initNet().device("lo");
        long before = lo.stats().get(DeviceStats.Field.RX_PACKETS);
        for (String bad : new String[] { "pktgen", "pktgen lo count", "pktgen lo frobnicate 1", "pktgen lo count x",
                "pktgen lo pkt_size 10", "pktgen nosuchdev", "pktgen lo dst_mac 1:2:3" }) {
            try {
                ModnetRuntime.run(processor, bad);
                throw new AssertionError("accepted: " + bad);
            } catch (Exception e) {
                assertThat(bad, e.getMessage(), containsString("pktgen"));
            }
        }
        assertEquals(before, lo.stats().get(DeviceStats.Field.RX_PACKETS));
    }

    @Test
    public void ipv4FramesAreCountedByIpAndDroppedByTheCoreWhileTheIpv4BundleIsStopped() throws Exception {
        NetDevice lo = core.initNet().device("lo");
        // pktgen's payload starts with its magic 0xbe9be955: as IPv4, version 11, a header error
        ModnetRuntime.run(processor, "pktgen lo count 10 proto 0x0800");
        awaitAtLeast(() -> counter("IpInHdrErrors"), 10);
        assertEquals(10, counter("IpInReceives"));

        Bundle ipv4 = ModnetRuntime.bundleNamed(context, "org.modnet.ipv4");
        ipv4.stop();
        long dropped = lo.stats().get(DeviceStats.Field.RX_DROPPED);
        ModnetRuntime.run(processor, "pktgen lo count 10 proto 0x0800");
        awaitAtLeast(() -> lo.stats().get(DeviceStats.Field.RX_DROPPED) - dropped, 10);
        assertThat(ModnetRuntime.run(processor, "nstat -az"), org.hamcrest.CoreMatchers.not(containsString("IpInReceives")));

        ipv4.start();
        awaitAtLeast(() -> counter("IpInReceives") + 1, 1); // IPv4 is back, its counters from zero
        ModnetRuntime.run(processor, "pktgen lo count 10 proto 0x0800");
        awaitAtLeast(() -> counter("IpInHdrErrors"), 10);
    }

    /** A counter as {@code nstat -az} prints it, or -1 if it is not shown. */
    private long counter(String name) {
        String out;
        try {
            out = ModnetRuntime.run(processor, "nstat -az");
        } catch (Exception e) {
            throw new AssertionError("nstat failed", e);
        }
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals(name)) {
                return Long.parseLong(f[1]);
            }
        }
        return -1;
    }

    private static void awaitAtLeast(LongSupplier value, long wanted) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (value.getAsLong() < wanted && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(wanted, value.getAsLong());
    }

}

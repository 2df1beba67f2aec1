package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/** Traffic control on a real Felix through the shell: tc with netem and tbf between two namespaces. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class TcIT {
    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private NetCore core;
    private NetDevice a;
    private NetDevice b;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void setUp() throws Exception {
        features.install("host");
        core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.sched.QdiscOps.class, "(modnet.qdisc.kind=netem)");
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, null);
        NetDevice[] pair = ModnetRuntime.vethPair(context, core);
        a = pair[0];
        b = pair[1];
        ModnetRuntime.run(processor, "ns1", "ping -c 1 10.0.0.2"); // ARP resolved before any qdisc
    }

    private static double[] rtt(String pingOutput) {
        Matcher m = Pattern.compile("rtt min/avg/max/mdev = ([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+) ms").matcher(pingOutput);
        assertTrue(pingOutput, m.find());
        return new double[] { Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
                Double.parseDouble(m.group(4)) };
    }

    private static int received(String pingOutput) {
        Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(pingOutput);
        assertTrue(pingOutput, m.find());
        return Integer.parseInt(m.group(2));
    }

    @Test
    public void netemDelayWithJitterShowsInPingRtts() throws Exception {
        ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 root netem delay 50ms 10ms");
        assertEquals("qdisc netem 8001: root refcnt 2 limit 1000 delay 50ms  10ms\n",
                ModnetRuntime.run(processor, "ns1", "tc qdisc show dev veth0"));
        assertThat(ModnetRuntime.run(processor, "ns1", "ip link show veth0"), containsString(" qdisc netem "));
        String out = ModnetRuntime.run(processor, "ns1", "ping -c 40 -i 0.02 -W 2 10.0.0.2");
        assertEquals(40, received(out));
        double[] r = rtt(out);
        assertTrue("mean " + r[1], r[1] > 45 && r[1] < 60);
        assertTrue("min " + r[0], r[0] >= 39.5);
        assertTrue("max " + r[2], r[2] < 200); // a late wakeup on a loaded machine is not netem's
        assertTrue("mdev " + r[3] + " (uniform +-10 ms: about 5.8)", r[3] > 3 && r[3] < 9);
        String stats = ModnetRuntime.run(processor, "ns1", "tc -s qdisc show dev veth0");
        assertThat(stats, containsString(" Sent 3920 bytes 40 pkt (dropped 0, overlimits 0 requeues 0) "));
    }

    @Test
    public void seededLossLosesAboutItsShareAndRepeatsExactly() throws Exception {
        // no ARP through netem: a probe whose timing differs between the runs would take a draw of the
        // seeded sequence and shift which pings it loses
        ModnetRuntime.run(processor, "ns1", "ip neigh replace 10.0.0.2 lladdr " + b.address() + " dev " + a.name() + " nud permanent");
        ModnetRuntime.run(processor, b.namespace().name(), "ip neigh replace 10.0.0.1 lladdr " + a.address() + " dev " + b.name()
                + " nud permanent");
        int[] got = new int[2];
        for (int run = 0; run < 2; run++) {
            ModnetRuntime.run(processor, "ns1", "tc qdisc replace dev veth0 root netem loss '20%' seed 42");
            got[run] = received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 1000 -i 0.002 -W 1 10.0.0.2"));
            ModnetRuntime.run(processor, "ns1", "tc qdisc del dev veth0 root");
        }
        assertTrue("received " + got[0] + " of 1000 at 20% loss", got[0] > 740 && got[0] < 860);
        assertEquals("the same seed loses the same pings", got[0], got[1]);
    }

    @Test
    public void tbfShapesAFloodToItsRate() throws Exception {
        // 3000 frames of 1250 bytes (3.75 MB) queued at once behind 10 Mbit/s: about 3 s to drain
        ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 root tbf rate 10mbit burst 32kb latency 5s");
        long rx0 = b.stats().get(DeviceStats.Field.RX_PACKETS);
        long bytes0 = b.stats().get(DeviceStats.Field.RX_BYTES);
        long start = System.nanoTime();
        ModnetRuntime.run(processor, "ns1", "pktgen veth0 count 3000 pkt_size 1250 path tx dst_mac " + b.address());
        long deadline = start + 10_000_000_000L;
        while (b.stats().get(DeviceStats.Field.RX_PACKETS) < rx0 + 3000 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals("every frame is delivered, none dropped", rx0 + 3000, b.stats().get(DeviceStats.Field.RX_PACKETS));
        long bytes = 3000L * 1250;
        assertTrue(b.stats().get(DeviceStats.Field.RX_BYTES) - bytes0 >= 3000L * 1236);
        // the first bucketful leaves at once; a 32 KiB bucket (26 ms at 10 Mbit/s) absorbs late watchdog wakeups
        double rate = (bytes - 32768) / seconds;
        assertEquals("delivered " + rate + " B/s", 1_250_000, rate, 1_250_000 * 0.05);
    }

    @Test
    public void replacingTheQdiscUnderAFloodLosesNoPacketThatNoCounterShows() throws Exception {
        String[] kinds = { "pfifo", "netem delay 1ms", "tbf rate 100mbit burst 64kb latency 10ms", "fq_codel", "pfifo_fast", "prio",
                "bfifo limit 20000" };
        // veth counts a frame its peer's full ring refuses in its own tx_dropped (and the peer's rx_missed_errors)
        long rx0 = b.stats().get(DeviceStats.Field.RX_PACKETS);
        long tx0 = a.stats().get(DeviceStats.Field.TX_DROPPED);
        String[] flood = new String[1];
        Thread sender = new Thread(() -> {
            try {
                flood[0] = ModnetRuntime.run(processor, "ns1", "pktgen veth0 count 1000000 pkt_size 64 path tx dst_mac " + b.address());
            } catch (Exception e) {
                flood[0] = e.toString();
            }
        });
        sender.start();
        int replaced = 0;
        while (sender.isAlive()) {
            ModnetRuntime.run(processor, "ns1", "tc qdisc replace dev veth0 root " + kinds[replaced++ % kinds.length]);
            Thread.sleep(2);
        }
        sender.join();
        ModnetRuntime.run(processor, "ns1", "tc qdisc del dev veth0 root");
        Thread.sleep(300);
        Matcher m = Pattern.compile("usec, (\\d+) \\(64byte").matcher(flood[0]);
        assertTrue(flood[0], m.find());
        long sent = Long.parseLong(m.group(1));
        long delivered = b.stats().get(DeviceStats.Field.RX_PACKETS) - rx0;
        long dropped = a.stats().get(DeviceStats.Field.TX_DROPPED) - tx0;
        String what = "sent " + sent + ", delivered " + delivered + ", tx_dropped " + dropped + ", " + replaced + " replacements";
        System.out.println("TcIT: " + what);
        assertTrue(what, replaced > 5);
        assertEquals(what, sent, delivered + dropped);
    }

    @Test
    public void badInputIsRefusedInTcsWordsAndDelRestoresTheDefault() throws Exception {
        try {
            ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 root foo");
            fail("unknown kind");
        } catch (Exception e) {
            assertThat(e.getMessage(), containsString("Error: Specified qdisc kind is unknown."));
        }
        ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 root pfifo limit 10");
        ModnetRuntime.run(processor, "ns1", "tc qdisc del dev veth0 root");
        assertEquals("qdisc noqueue 0: root refcnt 2 \n", ModnetRuntime.run(processor, "ns1", "tc qdisc show dev veth0"));
    }

    @Test
    public void stoppingTheSchedBundleRestoresTheDefaultAndStartingItBringsTcBack() throws Exception {
        ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 root netem delay 1s");
        Bundle sched = ModnetRuntime.bundleNamed(context, "org.modnet.sched");
        sched.stop();
        assertEquals("noqueue", a.qdisc());
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 1 10.0.0.2"), containsString("1 received"));
        sched.start();
        ModnetRuntime.service(context, org.modnet.api.sched.QdiscOps.class, "(modnet.qdisc.kind=netem)");
        for (int i = 0; i < 100; i++) {
            try {
                ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 root netem delay 1ms");
                break;
            } catch (Exception notYet) {
                Thread.sleep(50); // the tc command registers as its DS component activates
            }
        }
        assertEquals("netem", a.qdisc());
    }
}

package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

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
import org.osgi.framework.BundleContext;

/**
 * Byte queue limits acting in a driver, through the shell: a veth with a qdisc charges each frame to
 * its transmit queue and completes it as the peer's NAPI poll takes it, so under a flood the queue
 * stops at its limit and the standing queue builds in the qdisc (fq_codel), not in the peer's ring.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class BqlIT {
    private static final String BQL = "/sys/class/net/veth0/queues/tx-0/byte_queue_limits/";

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private NetDevice a;
    private NetDevice b;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void setUp() throws Exception {
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.sched.QdiscOps.class, "(modnet.qdisc.kind=fq_codel)");
        NetDevice[] pair = ModnetRuntime.vethPair(context, core);
        a = pair[0];
        b = pair[1];
        // only pktgen's frames cross during the flood (no ARP probe to count on either side)
        ModnetRuntime.run(processor, "ns1", "ip neigh replace 10.0.0.2 lladdr " + b.address() + " dev veth0 nud permanent");
        ModnetRuntime.run(processor, "ns2", "ip neigh replace 10.0.0.1 lladdr " + a.address() + " dev veth1 nud permanent");
    }

    private String sh(String ns, String line) throws Exception {
        return ModnetRuntime.run(processor, ns, line);
    }

    private long bql(String file) throws Exception {
        return Long.parseLong(sh("ns1", "cat " + BQL + file).strip());
    }

    @Test
    public void aVethWithoutAQdiscHasNoByteQueueLimits() throws Exception {
        sh("ns1", "ping -c 3 -i 0.01 -W 1 10.0.0.2");
        // noqueue: nothing to hold a stopped queue's frames, so nothing is charged (netdev_uses_bql)
        assertEquals("tx_maxrate\ntx_timeout\n", sh("ns1", "ls /sys/class/net/veth0/queues/tx-0"));
    }

    @Test
    public void aUdpFloodThroughFqCodelKeepsInflightWithinTheLimitAndQueuesInTheQdisc() throws Exception {
        sh("ns1", "tc qdisc add dev veth0 root fq_codel");
        assertThat(sh("ns1", "ping -c 1 -W 1 10.0.0.2"), containsString("1 received"));
        // the first frame charged to the queue: sysfs shows its limits (netdev_uses_bql)
        assertEquals("byte_queue_limits\ntx_maxrate\ntx_timeout\n", sh("ns1", "ls /sys/class/net/veth0/queues/tx-0"));
        // the peer does more per frame than the sender: ingress filters it must walk (none matches)
        sh("ns2", "tc qdisc add dev veth1 clsact");
        for (int i = 1; i <= 40; i++) {
            sh("ns2", "tc filter add dev veth1 ingress prio " + i + " protocol ip u32 match ip dst 192.0.2." + i + "/32 action drop");
        }
        long rx0 = b.stats().get(DeviceStats.Field.RX_PACKETS);
        long txDropped0 = a.stats().get(DeviceStats.Field.TX_DROPPED);
        String[] flood = new String[1];
        Thread sender = new Thread(() -> {
            try {
                flood[0] = sh("ns1", "pktgen veth0 count 300000 pkt_size 64 path tx dst_mac " + b.address());
            } catch (Exception e) {
                flood[0] = e.toString();
            }
        });
        sender.start();
        long maxBacklog = 0;
        long maxInflight = 0;
        long maxLimit = 0;
        int samples = 0;
        Pattern backlog = Pattern.compile("backlog (\\d+)b (\\d+)p");
        while (sender.isAlive()) {
            long inflight = bql("inflight");
            long limit = bql("limit");
            samples++;
            // dql lets the last frame take the queue over its limit, then stops it
            assertTrue("inflight " + inflight + " over limit " + limit, inflight <= limit + 1514);
            maxInflight = Math.max(maxInflight, inflight);
            maxLimit = Math.max(maxLimit, limit);
            Matcher m = backlog.matcher(sh("ns1", "tc -s qdisc show dev veth0"));
            if (m.find()) {
                maxBacklog = Math.max(maxBacklog, Long.parseLong(m.group(2)));
            }
        }
        sender.join();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (bql("inflight") > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals("every charged frame completes", 0, bql("inflight"));
        assertTrue(bql("limit") > 0);
        assertEquals(1879048192L, bql("limit_max"));
        assertEquals(0, bql("limit_min"));
        assertEquals(1000, bql("hold_time"));
        Matcher sent = Pattern.compile("usec, (\\d+) \\(64byte").matcher(flood[0]);
        assertTrue(flood[0], sent.find());
        long pktgen = Long.parseLong(sent.group(1));
        long delivered = b.stats().get(DeviceStats.Field.RX_PACKETS) - rx0;
        long dropped = a.stats().get(DeviceStats.Field.TX_DROPPED) - txDropped0;
        String stats = sh("ns1", "tc -s qdisc show dev veth0");
        Matcher q = Pattern.compile("\\(dropped (\\d+), overlimits").matcher(stats);
        assertTrue(stats, q.find());
        long qdiscDropped = Long.parseLong(q.group(1));
        String what = "sent " + pktgen + ", delivered " + delivered + ", tx_dropped " + dropped + ", fq_codel dropped " + qdiscDropped
                + ", peer rx_missed_errors " + b.stats().get(DeviceStats.Field.RX_MISSED_ERRORS) + ", most queued " + maxBacklog
                + "p, most in flight " + maxInflight + " bytes, largest limit " + maxLimit + " bytes, over " + samples + " samples";
        System.out.println("BqlIT: " + what + "\n" + stats);
        assertEquals("no loss without a counter: " + what, pktgen, delivered + dropped);
        assertTrue("the standing queue is in the qdisc: " + what, maxBacklog > 100);
        assertTrue("and fq_codel drops from it: " + what, qdiscDropped > 0);
        assertEquals("hold_time\ninflight\nlimit\nlimit_max\nlimit_min\n", sh("ns1", "ls " + BQL));
    }
}

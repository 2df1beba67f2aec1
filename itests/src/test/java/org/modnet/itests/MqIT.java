package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * Multi-queue transmit through the shell: a veth pair with four queues a side, made by {@code ip link
 * add ... numtxqueues 4}, and the {@code mq} qdisc giving each queue its own qdisc.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class MqIT {
    /** Addresses on the far end: eight flows for the queue pick to spread. */
    private static final int FLOWS = 8;

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void setUp() throws Exception {
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.sched.QdiscOps.class, "(modnet.qdisc.kind=mq)");
        ModnetRuntime.service(context, org.modnet.api.net.LinkFactory.class, "(modnet.link.kind=veth)");
        core.addNamespace("ns1");
        core.addNamespace("ns2");
        sh("ns1", "ip link add name va numtxqueues 4 numrxqueues 4 type veth peer name vb numtxqueues 4 numrxqueues 4");
        sh("ns1", "ip link set vb netns ns2");
        sh("ns1", "ip addr add 10.0.0.1/24 dev va");
        for (int i = 0; i < FLOWS; i++) {
            sh("ns2", "ip addr add 10.0.0." + (2 + i) + "/24 dev vb");
        }
        sh("ns1", "ip link set va up");
        sh("ns2", "ip link set vb up");
        for (int i = 0; i < FLOWS; i++) {
            sh("ns1", "ping -c 1 -W 2 10.0.0." + (2 + i)); // ARP resolved before the counting starts
        }
    }

    private String sh(String ns, String line) throws Exception {
        return ModnetRuntime.run(processor, ns, line);
    }

    /** Each qdisc's Sent packets in {@code tc -s qdisc show} order. */
    private static List<Long> sentPackets(String stats) {
        List<Long> sent = new ArrayList<>();
        Matcher m = Pattern.compile(" Sent (\\d+) bytes (\\d+) pkt").matcher(stats);
        while (m.find()) {
            sent.add(Long.parseLong(m.group(2)));
        }
        return sent;
    }

    private void pingEveryFlow(int count) throws Exception {
        for (int i = 0; i < FLOWS; i++) {
            String out = sh("ns1", "ping -c " + count + " -i 0.002 -W 2 10.0.0." + (2 + i));
            assertThat(out, containsString(count + " packets transmitted, " + count + " received"));
        }
    }

    @Test
    public void theQueuesShowInIpLinkAndSysfs() throws Exception {
        assertThat(sh("ns1", "ip -d link show va"), containsString("numtxqueues 4 numrxqueues 4 "));
        assertThat(sh("ns2", "ip -d link show vb"), containsString("numtxqueues 4 numrxqueues 4 "));
        assertEquals("rx-0\nrx-1\nrx-2\nrx-3\ntx-0\ntx-1\ntx-2\ntx-3\n", sh("ns1", "ls /sys/class/net/va/queues"));
        assertThat(sh("ns1", "ethtool -l va"), containsString("Current hardware settings:\nRX:\t\t4\nTX:\t\t4\n"));
        assertEquals("qdisc noqueue 0: root refcnt 2 \n", sh("ns1", "tc qdisc show dev va"));
    }

    @Test
    public void mqHasAChildPerQueueAndAFloodSpreadsOverThem() throws Exception {
        sh("ns1", "tc qdisc replace dev va root mq");
        String show = sh("ns1", "tc qdisc show dev va");
        assertThat(show, containsString("qdisc mq 8001: root \n"));
        for (int q = 1; q <= 4; q++) {
            assertThat(show, containsString("qdisc pfifo_fast 0: parent 8001:" + q + " bands 3 priomap "));
        }
        pingEveryFlow(25);
        List<Long> sent = sentPackets(sh("ns1", "tc -s qdisc show dev va"));
        assertEquals(sent.toString(), 5, sent.size());
        long children = 0;
        int busy = 0;
        for (long s : sent.subList(1, 5)) {
            children += s;
            busy += s > 0 ? 1 : 0;
        }
        assertEquals("mq's Sent is its children's sum: " + sent, (long) sent.get(0), children);
        assertTrue("pings to 8 addresses are " + children + " packets at least", children >= 25 * FLOWS);
        assertTrue("8 flows use more than one queue: " + sent, busy >= 2);
    }

    /**
     * A device with a queue that gets a second transmit queue gets {@code mq} over a default per queue
     * ({@code attach_default_qdiscs}), as a multi-queue NIC or tun has; veth asks for no queue and keeps
     * noqueue (above). Back to one queue, one default again.
     */
    @Test
    public void aMultiQueueDeviceWithAQueueGetsMqByDefault() throws Exception {
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        org.modnet.api.net.NetDevice nic = core.namespace("ns1").register(
                org.modnet.api.net.DeviceSetup.ether("eth7", "test").withQueues(1, 4), new org.modnet.api.net.NetDeviceOps() {
                    @Override
                    public org.modnet.api.net.TxResult startXmit(org.modnet.api.skb.SkBuff skb, org.modnet.api.net.NetDevice d) {
                        skb.free();
                        return org.modnet.api.net.TxResult.OK;
                    }
                });
        nic.open();
        String prio = "bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1";
        assertEquals("qdisc pfifo_fast 0: root refcnt 2 " + prio + "\n", sh("ns1", "tc qdisc show dev eth7"));
        nic.setTxQueues(3); // the driver's netif_set_real_num_tx_queues (a multi-queue tun's files: TapInteropTest)
        String mq = "qdisc mq 0: root \nqdisc pfifo_fast 0: parent :3 " + prio + "\nqdisc pfifo_fast 0: parent :2 " + prio
                + "\nqdisc pfifo_fast 0: parent :1 " + prio + "\n";
        assertEquals(mq, sh("ns1", "tc qdisc show dev eth7"));
        assertThat(sh("ns1", "ip link show eth7"), containsString(" qdisc mq "));
        assertThat(sh("ns1", "tc qdisc show"), containsString("qdisc pfifo_fast 0: dev eth7 parent :2 " + prio + "\n"));
        // tc's own root and back: the default it restores is mq again
        sh("ns1", "tc qdisc replace dev eth7 root pfifo limit 10");
        assertEquals("qdisc pfifo 8001: root refcnt 2 limit 10p\n", sh("ns1", "tc qdisc show dev eth7"));
        sh("ns1", "tc qdisc del dev eth7 root");
        assertEquals(mq, sh("ns1", "tc qdisc show dev eth7"));
        nic.setTxQueues(1);
        assertEquals("qdisc pfifo_fast 0: root refcnt 2 " + prio + "\n", sh("ns1", "tc qdisc show dev eth7"));
    }

    @Test
    public void replacingOneQueuesQdiscKeepsEveryFlowGoing() throws Exception {
        sh("ns1", "tc qdisc replace dev va root mq");
        sh("ns1", "tc qdisc replace dev va parent 8001:2 fq_codel");
        String show = sh("ns1", "tc qdisc show dev va");
        assertThat(show, containsString("qdisc fq_codel 8002: parent 8001:2 limit 10240p "));
        assertThat(show, containsString("qdisc pfifo_fast 0: parent 8001:1 "));
        pingEveryFlow(10);
        sh("ns1", "tc qdisc del dev va root");
        assertEquals("qdisc noqueue 0: root refcnt 2 \n", sh("ns1", "tc qdisc show dev va"));
        pingEveryFlow(2);
    }
}

package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscOps;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/** {@code sch_mq}: a qdisc per transmit queue of a multi-queue device, through tc. */
class MqTest {
    private static final String PFIFO_FAST = "pfifo_fast 0: parent 8001:%d bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1";
    private SchedRig rig;

    @BeforeEach
    void setUp() throws Exception {
        rig = new SchedRig();
        rig.tc.addFamily(new MqOps(), Map.of(QdiscOps.KIND, "mq"));
        rig.va.setTxQueues(4);
    }

    @AfterEach
    void tearDown() throws Exception {
        rig.close();
    }

    /** {@code n} frames of {@code n} flows (their hashes spread over the queues). */
    private void flood(int n) {
        for (int i = 0; i < n; i++) {
            SkBuff skb = rig.frame(100, 0);
            skb.hash(0x9e3779b9 * (i + 1));
            rig.core.core().devQueueXmit(skb);
        }
        rig.core.run();
    }

    @Test
    void mqShowsAChildPerQueueWithTheDefaultQdiscLastQueueFirst() {
        rig.tc("qdisc replace dev va root mq");
        assertEquals(List.of("qdisc mq 8001: root ", "qdisc " + PFIFO_FAST.formatted(4), "qdisc " + PFIFO_FAST.formatted(3),
                "qdisc " + PFIFO_FAST.formatted(2), "qdisc " + PFIFO_FAST.formatted(1)), rig.tc("qdisc show dev va"));
        assertEquals("mq", rig.qdisc().kind(), "the core's mq is on the device");
        assertEquals(4, java.util.stream.IntStream.range(0, 4).mapToObj(i -> rig.core.qdiscHook().txQdisc(rig.va, i))
                .distinct().count(), "each queue feeds a qdisc of its own");
    }

    @Test
    void aQueueOfTheDefaultMqTakesAQdiscOfItsOwnAndDelPutsTheDefaultBack() throws Exception {
        org.modnet.api.net.NetDevice nic = rig.core.core().initNet().register(
                org.modnet.api.net.DeviceSetup.ether("eth0", "test").withQueues(1, 4), new org.modnet.api.net.NetDeviceOps() {
                    @Override
                    public org.modnet.api.net.TxResult startXmit(SkBuff skb, org.modnet.api.net.NetDevice d) {
                        skb.free();
                        return org.modnet.api.net.TxResult.OK;
                    }
                });
        nic.setTxQueues(2);
        String prio = "bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1";
        List<String> defaults = List.of("qdisc mq 0: root ", "qdisc pfifo_fast 0: parent :2 " + prio, "qdisc pfifo_fast 0: parent :1 " + prio);
        assertEquals(defaults, rig.tc("qdisc show dev eth0"), "attach_default_qdiscs: mq over a default per queue");
        rig.tc("qdisc replace dev eth0 parent :2 pfifo limit 5");
        assertEquals(List.of("qdisc mq 0: root ", "qdisc pfifo 8001: parent :2 limit 5p", "qdisc pfifo_fast 0: parent :1 " + prio),
                rig.tc("qdisc show dev eth0"));
        assertEquals("pfifo", rig.core.qdiscHook().txQdisc(nic, 1).kind(), "queue 2 (index 1) feeds it");
        rig.tc("qdisc del dev eth0 parent :2");
        assertEquals(defaults, rig.tc("qdisc show dev eth0"));
        CommandException e = assertThrows(CommandException.class, () -> rig.tc("qdisc replace dev eth0 parent :3 pfifo"));
        assertTrue(e.getMessage().contains("Specified class not found."), e.getMessage());
    }

    @Test
    void aFloodSpreadsOverTheQueuesAndMqShowsTheirSum() {
        rig.tc("qdisc add dev va root handle 1: mq");
        flood(64);
        assertEquals(64, rig.received);
        long sum = 0;
        for (int i = 0; i < 4; i++) {
            long sent = rig.core.qdiscHook().txQdisc(rig.va, i).stats().packets();
            assertTrue(sent > 0, "queue " + i + " sent nothing");
            sum += sent;
        }
        assertEquals(64, sum);
        List<String> s = rig.tc("-s qdisc show dev va");
        assertEquals("qdisc mq 1: root ", s.get(0));
        assertEquals(" Sent 6400 bytes 64 pkt (dropped 0, overlimits 0 requeues 0) ", s.get(1));
    }

    @Test
    void replacingOneQueuesQdiscLeavesTheOthers() {
        rig.tc("qdisc replace dev va root mq");
        rig.tc("qdisc replace dev va parent 8001:2 fq_codel");
        List<String> show = rig.tc("qdisc show dev va");
        assertEquals("qdisc " + PFIFO_FAST.formatted(3), show.get(2));
        assertTrue(show.get(3).startsWith("qdisc fq_codel 8002: parent 8001:2 limit 10240p"), show.get(3));
        assertEquals("qdisc " + PFIFO_FAST.formatted(1), show.get(4));
        Qdisc q1 = rig.core.qdiscHook().txQdisc(rig.va, 1);
        assertEquals("fq_codel", q1.kind());
        flood(64);
        assertEquals(64, rig.received, "every queue still sends");
        assertTrue(q1.stats().packets() > 0);

        rig.tc("qdisc del dev va parent 8001:2");
        assertEquals("qdisc " + PFIFO_FAST.formatted(2), rig.tc("qdisc show dev va").get(3), "the default is back");
    }

    /** mq_dump sums the queues' qdiscs as they are now: one replaced after the attach counts, the one it replaced no longer. */
    @Test
    void mqsCountersFollowAQueueWhoseQdiscWasReplaced() {
        rig.tc("qdisc add dev va root handle 1: mq");
        rig.tc("qdisc replace dev va parent 1:2 pfifo");
        flood(64);
        assertEquals(64, rig.received);
        assertTrue(rig.core.qdiscHook().txQdisc(rig.va, 1).stats().packets() > 0, "the pfifo on queue 2 sent some");
        assertEquals(" Sent 6400 bytes 64 pkt (dropped 0, overlimits 0 requeues 0) ", rig.tc("-s qdisc show dev va").get(1));
    }

    @Test
    void mqNeedsAMultiQueueDevice() throws Exception {
        rig.va.setTxQueues(1);
        CommandException e = assertThrows(CommandException.class, () -> rig.tc("qdisc add dev va root mq"));
        assertEquals("RTNETLINK answers: Operation not supported", e.getMessage());
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 "), rig.tc("qdisc show dev va"));
    }

    @Test
    void aClassfulRootOnAMultiQueueDeviceTakesEveryQueue() {
        rig.tc("qdisc replace dev va root mq");
        rig.tc("qdisc replace dev va root handle 1: prio");
        for (int i = 0; i < 4; i++) {
            assertSame(rig.qdisc(), rig.core.qdiscHook().txQdisc(rig.va, i));
        }
        flood(16);
        assertEquals(16, rig.received);
        rig.tc("qdisc del dev va root");
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 "), rig.tc("qdisc show dev va"));
    }
}

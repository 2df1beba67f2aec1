package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscOps;
import org.modnet.api.sched.QdiscStats;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.net.Eth;

/** {@code net.core.default_qdisc} and {@code dev_queue_xmit}'s answer. */
class DefaultQdiscTest {
    private final CoreEngine core = TestDevices.manualCore(1);

    @AfterEach
    void stop() {
        core.shutdown();
    }

    /** A qdisc family as the sched bundle registers one: a FIFO of {@code limit} frames. */
    static final class Fifo implements Qdisc {
        final String kind;
        final int limit;
        final ArrayDeque<SkBuff> q = new ArrayDeque<>();
        final QdiscStats stats = new QdiscStats();
        boolean destroyed;

        Fifo(String kind, int limit) {
            this.kind = kind;
            this.limit = limit;
        }

        @Override
        public String kind() {
            return kind;
        }

        @Override
        public int enqueue(SkBuff skb) {
            if (q.size() >= limit) {
                stats.drop();
                skb.free();
                return NET_XMIT_DROP;
            }
            q.add(skb);
            return NET_XMIT_SUCCESS;
        }

        @Override
        public SkBuff dequeue() {
            SkBuff s = q.poll();
            if (s != null) {
                stats.sent(s.len());
            }
            return s;
        }

        @Override
        public void requeue(SkBuff skb) {
            q.addFirst(skb);
        }

        @Override
        public int qlen() {
            return q.size();
        }

        @Override
        public int backlogBytes() {
            return q.stream().mapToInt(SkBuff::len).sum();
        }

        @Override
        public int reset() {
            int n = q.size();
            q.forEach(SkBuff::free);
            q.clear();
            return n;
        }

        @Override
        public QdiscStats stats() {
            return stats;
        }

        @Override
        public void destroy() {
            destroyed = true;
        }
    }

    private static final QdiscOps FQ_CODEL = (env, args) -> new Fifo("fq_codel", 3);

    private String sysctl() throws NetException {
        return core.initNet().sysctl().get(DefaultQdisc.SYSCTL);
    }

    private void set(String v) throws NetException {
        core.initNet().sysctl().set(DefaultQdisc.SYSCTL, v);
    }

    @Test
    void theDefaultIsPfifoFastAndWithoutAFamilyNothingElseIsPossible() throws Exception {
        assertEquals("pfifo_fast", sysctl());
        NetException e = assertThrows(NetException.class, () -> set("fq_codel"));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("pfifo_fast", sysctl());
        set("pfifo_fast");
        NetDevice dev = TestDevices.ether(core, "eth0", new TestDevices.RecordingDriver());
        assertEquals("pfifo_fast", dev.qdisc());
        assertEquals("noqueue", core.initNet().register(DeviceSetup.loopback(), new TestDevices.RecordingDriver()).qdisc());
    }

    @Test
    void newDevicesGetTheDefaultOldOnesKeepTheirsAndQueuelessOnesKeepNoqueue() throws Exception {
        NetDevice lo = core.initNet().register(DeviceSetup.loopback(), new TestDevices.RecordingDriver());
        NetDevice before = TestDevices.ether(core, "eth0", new TestDevices.RecordingDriver());
        core.defaultQdisc().addFamily("fq_codel", FQ_CODEL);
        NetException e = assertThrows(NetException.class, () -> set("sfq"));
        assertEquals(Errno.ENOENT, e.errno());
        set("fq_codel");
        assertEquals("fq_codel", sysctl());
        NetDevice after = TestDevices.ether(core, "eth1", new TestDevices.RecordingDriver());
        assertEquals("fq_codel", after.qdisc());
        assertTrue(core.isDefault(after));
        assertEquals("pfifo_fast", before.qdisc(), "a device keeps the default it got");
        NetDevice veth = core.initNet().register(DeviceSetup.ether("veth0", "veth").withQdisc("noqueue"),
                new TestDevices.RecordingDriver());
        assertEquals("noqueue", veth.qdisc());
        assertEquals("noqueue", lo.qdisc());
        core.graft(veth, null);
        assertEquals("noqueue", veth.qdisc(), "tc qdisc del on a queueless device leaves noqueue");
    }

    @Test
    void removingTcsQdiscGivesTodaysDefaultAFreshOne() throws Exception {
        core.defaultQdisc().addFamily("fq_codel", FQ_CODEL);
        NetDevice dev = TestDevices.ether(core, "eth0", new TestDevices.RecordingDriver());
        assertEquals("pfifo_fast", dev.qdisc());
        core.graft(dev, new Fifo("tbf", 10));
        assertEquals("tbf", dev.qdisc());
        set("fq_codel");
        core.graft(dev, null); // tc qdisc del dev eth0 root
        assertEquals("fq_codel", dev.qdisc());
        assertTrue(core.isDefault(dev));
        Qdisc first = core.qdisc(dev);
        core.graft(dev, new Fifo("tbf", 10));
        core.graft(dev, null);
        assertNotSame(first, core.qdisc(dev));
        assertEquals("fq_codel", dev.qdisc());
    }

    @Test
    void aFamilyThatLeavesTakesItsDefaultsAndTheSettingWithIt() throws Exception {
        core.defaultQdisc().addFamily("fq_codel", FQ_CODEL);
        set("fq_codel");
        NetDevice dev = TestDevices.ether(core, "eth0", new TestDevices.RecordingDriver());
        Fifo was = (Fifo) core.qdisc(dev);
        core.defaultQdisc().removeFamily("fq_codel", FQ_CODEL);
        assertEquals("pfifo_fast", sysctl());
        assertEquals("pfifo_fast", dev.qdisc());
        assertTrue(was.destroyed);
        assertThrows(NetException.class, () -> set("fq_codel"));
    }

    @Test
    void anUnregisteredDeviceTakesItsDefaultWithIt() throws Exception {
        core.defaultQdisc().addFamily("fq_codel", FQ_CODEL);
        set("fq_codel");
        NetDevice dev = TestDevices.ether(core, "eth0", new TestDevices.RecordingDriver());
        Fifo q = (Fifo) core.qdisc(dev);
        core.initNet().unregister(dev);
        assertTrue(q.destroyed);
    }

    @Test
    void devQueueXmitAnswersDropWhenTheQdiscRefusesTheFrame() throws Exception {
        core.defaultQdisc().addFamily("fq_codel", FQ_CODEL);
        set("fq_codel");
        TestDevices.RecordingDriver driver = new TestDevices.RecordingDriver();
        NetDevice dev = TestDevices.ether(core, "eth0", driver);
        driver.busy = true;
        int[] rc = new int[5];
        for (int i = 0; i < rc.length; i++) {
            SkBuff skb = TestDevices.frame(core.pool(), MacAddress.BROADCAST, Eth.ETH_P_IP, 60);
            skb.dev(dev);
            rc[i] = core.devQueueXmitStatus(skb);
        }
        // the first is taken by the runner and given back by the busy driver: 3 fit in the queue
        assertEquals(Qdisc.NET_XMIT_SUCCESS, rc[0]);
        assertEquals(Qdisc.NET_XMIT_DROP, rc[4]);
        long drops = java.util.Arrays.stream(rc).filter(r -> r == Qdisc.NET_XMIT_DROP).count();
        assertEquals(drops, core.qdisc(dev).stats().drops());
        assertEquals(drops, dev.stats().get(DeviceStats.Field.TX_DROPPED));
        dev.close();
        SkBuff skb = TestDevices.frame(core.pool(), MacAddress.BROADCAST, Eth.ETH_P_IP, 60);
        skb.dev(dev);
        assertEquals(Qdisc.NET_XMIT_DROP, core.devQueueXmitStatus(skb), "a device that is down drops");
    }
}

package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.TxResult;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.DefaultQdiscTest.Fifo;

/** A multi-queue root ({@code mq}): each transmit queue its own qdisc, run flag and stopped flag. */
class MultiQueueTransmitTest {
    private final CoreEngine core = TestDevices.manualCore(1);
    private final QueueDriver driver = new QueueDriver();

    /** Keeps what it sends; refuses the frames of the queues marked busy, as a full TX ring would. */
    static final class QueueDriver implements NetDeviceOps {
        final List<SkBuff> sent = new ArrayList<>();
        final boolean[] busy = new boolean[4];

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice dev) {
            if (busy[skb.queueMapping()]) {
                return TxResult.BUSY;
            }
            sent.add(skb);
            return TxResult.OK;
        }
    }

    @AfterEach
    void stop() {
        driver.sent.forEach(SkBuff::free);
        core.shutdown();
    }

    private NetDevice device() throws Exception {
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth0", "test").withQueues(1, 8), driver);
        dev.setTxQueues(4);
        dev.open();
        return dev;
    }

    private static List<Qdisc> children(int n) {
        List<Qdisc> c = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            c.add(new Fifo("pfifo", 1000));
        }
        return c;
    }

    private void send(NetDevice dev, int flow) {
        SkBuff skb = TestDevices.frame(core.pool(), MacAddress.BROADCAST, Eth.ETH_P_IP, 60);
        int ip = skb.data() + Eth.ETH_HLEN;
        skb.setU8(ip, 0x45);
        skb.setU8(ip + 9, 17);
        skb.setU32(ip + 12, 0x0a000001);
        skb.setU32(ip + 16, 0x0a000002);
        skb.setU16(ip + 20, 40000 + flow);
        skb.setU16(ip + 22, 53);
        skb.dev(dev);
        core.devQueueXmit(skb);
    }

    @Test
    void eachQueueFeedsItsOwnQdiscAndTheRootHoldsNothing() throws Exception {
        NetDevice dev = device();
        Fifo mq = new Fifo("mq", 0);
        List<Qdisc> kids = children(4);
        core.graftMulti(dev, mq, kids);
        assertSame(mq, core.qdisc(dev));
        java.util.Arrays.fill(driver.busy, true);
        for (int flow = 0; flow < 64; flow++) {
            send(dev, flow);
        }
        int total = 0;
        for (int i = 0; i < 4; i++) {
            assertSame(kids.get(i), core.txQdisc(dev, i));
            int n = kids.get(i).qlen();
            assertTrue(n > 0, "queue " + i + " got no flow");
            total += n;
            for (SkBuff skb : ((Fifo) kids.get(i)).q) {
                assertEquals(i, skb.queueMapping(), "a frame sits in its own queue's qdisc");
            }
        }
        assertEquals(64, total);
        assertEquals(0, mq.stats().drops(), "nothing reached the root");
    }

    @Test
    void aStoppedQueueHoldsItsFramesWhileTheOthersSendAndDrainsWhenWoken() throws Exception {
        NetDevice dev = device();
        List<Qdisc> kids = children(4);
        core.graftMulti(dev, new Fifo("mq", 0), kids);
        driver.busy[1] = true;
        for (int flow = 0; flow < 64; flow++) {
            send(dev, flow);
        }
        int held = kids.get(1).qlen();
        assertTrue(held > 0);
        assertEquals(64 - held, driver.sent.size(), "queues 0, 2 and 3 were not held up by queue 1");
        driver.busy[1] = false;
        ((NetDev) dev).wakeQueue();
        assertEquals(64, driver.sent.size());
        assertEquals(0, kids.get(1).qlen());
    }

    @Test
    void replacingOneQueuesQdiscFreesAndCountsWhatItHeldAndLeavesTheOthers() throws Exception {
        NetDevice dev = device();
        List<Qdisc> kids = children(4);
        core.graftMulti(dev, new Fifo("mq", 0), kids);
        java.util.Arrays.fill(driver.busy, true);
        for (int flow = 0; flow < 64; flow++) {
            send(dev, flow);
        }
        int held = kids.get(2).qlen();
        Fifo next = new Fifo("fq_codel", 1000);
        assertSame(kids.get(2), core.graftTx(dev, 2, next));
        assertSame(next, core.txQdisc(dev, 2));
        assertEquals(held, dev.stats().get(DeviceStats.Field.TX_DROPPED));
        assertEquals(64 - held, kids.get(0).qlen() + kids.get(1).qlen() + kids.get(3).qlen());
    }

    @Test
    void aSingleRootAgainMakesEveryQueueShareIt() throws Exception {
        NetDevice dev = device();
        core.graftMulti(dev, new Fifo("mq", 0), children(4));
        Fifo htb = new Fifo("htb", 1000);
        core.graft(dev, htb);
        for (int i = 0; i < 4; i++) {
            assertSame(htb, core.txQdisc(dev, i));
        }
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> core.graftTx(dev, 1, new Fifo("pfifo", 1))).errno());
        java.util.Arrays.fill(driver.busy, true);
        for (int flow = 0; flow < 16; flow++) {
            send(dev, flow);
        }
        assertEquals(16, htb.qlen(), "a classful root takes every queue's frames");
    }

    @Test
    void theQueueCountCannotChangeUnderAMultiQueueRoot() throws Exception {
        NetDevice dev = device();
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> core.graftMulti(dev, new Fifo("mq", 0), children(3))).errno());
        core.graftMulti(dev, new Fifo("mq", 0), children(4));
        assertEquals(Errno.EBUSY, assertThrows(NetException.class, () -> dev.setTxQueues(2)).errno());
    }
}

package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;

/**
 * Byte queue limits across a pair, as a veth charges its queue: a frame is charged as it takes its
 * slot in the peer's ring ({@link RxQueue#receive(SkBuff, RxQueue.TxCompletion)}) and completed when
 * the peer's NAPI poll takes it.
 */
class BqlPairTest {
    private static final int FRAME = 60;
    private final CoreEngine core = TestDevices.manualCore(1);

    /** One end: its transmit is the peer's receive, charged to its queue 0. */
    static final class End implements NetDeviceOps, RxQueue.TxCompletion {
        NetDevice self;
        NetDevice peer;

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice dev) {
            peer.rxQueue(0).receive(skb, this);
            return TxResult.OK;
        }

        @Override
        public void sent(int bytes) {
            self.txSentQueue(0, bytes);
        }

        @Override
        public void completed(int packets, int bytes) {
            self.txCompletedQueue(0, packets, bytes);
        }
    }

    @AfterEach
    void stop() {
        core.shutdown();
    }

    private NetDevice[] pair(String qdisc) throws Exception {
        End a = new End();
        NetDevice devA = core.initNet().register(qdisc == null ? DeviceSetup.ether("va", "test") : DeviceSetup.ether("va", "test").withQdisc(qdisc), a);
        NetDevice devB = core.initNet().register(DeviceSetup.ether("vb", "test").withQdisc("noqueue"), new TestDevices.RecordingDriver());
        a.self = devA;
        a.peer = devB;
        devA.open();
        devB.open();
        return new NetDevice[] { devA, devB };
    }

    private void send(NetDevice dev, int n) {
        for (int i = 0; i < n; i++) {
            SkBuff skb = TestDevices.frame(core.pool(), MacAddress.BROADCAST, 0x88b5, FRAME); // a local experimental type: dropped, counted
            skb.dev(dev);
            core.devQueueXmit(skb);
        }
    }

    @Test
    void aFrameInThePeersRingIsInFlightUntilThePeersPollTakesIt() throws Exception {
        NetDevice[] d = pair(null);
        send(d[0], 10);
        assertEquals(1, d[1].rxQueue(0).pending(), "a zero limit lets one frame into the peer's ring");
        assertEquals(9, d[0].qdiscBacklog(), "the rest waits in the qdisc");
        assertEquals(FRAME, d[0].byteQueueLimits(0).inflight());
        while (core.softirq(0).netRxAction()) {
            // the peer's poll completes what it took, which wakes the queue, which sends more
        }
        assertEquals(0, d[0].qdiscBacklog(), "every frame went");
        assertEquals(0, d[0].byteQueueLimits(0).inflight(), "and completed");
        assertTrue(d[0].byteQueueLimits(0).limit() >= FRAME, "the limit grew as the queue starved");
        assertEquals(10, d[1].stats().get(DeviceStats.Field.RX_PACKETS));
    }

    @Test
    void framesFreedWithThePeersRingCompleteToo() throws Exception {
        NetDevice[] d = pair(null);
        send(d[0], 3);
        assertEquals(FRAME, d[0].byteQueueLimits(0).inflight());
        d[1].close(); // the ring is purged: nothing may stay charged for ever
        assertEquals(0, d[0].byteQueueLimits(0).inflight());
        assertTrue(d[0].qdiscBacklog() <= 2);
    }

    @Test
    void withoutAQdiscNothingIsChargedAndSysfsShowsNothing() throws Exception {
        NetDevice[] d = pair("noqueue");
        send(d[0], 5);
        assertEquals(5, d[1].rxQueue(0).pending(), "noqueue: straight into the ring");
        assertNull(d[0].byteQueueLimits(0));
        while (core.softirq(0).netRxAction()) {
            // the completions find nothing charged
        }
        assertNull(d[0].byteQueueLimits(0));
    }

    @Test
    void aMultiQueueDeviceWithAQueueGetsMqOverADefaultPerQueue() throws Exception {
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth0", "test").withQueues(1, 4), new TestDevices.RecordingDriver());
        assertEquals("pfifo_fast", dev.qdisc());
        dev.setTxQueues(2);
        assertEquals("mq", dev.qdisc());
        NetDev nd = (NetDev) dev;
        assertTrue(nd.txQdisc(0) != null && nd.txQdisc(1) != null && nd.txQdisc(0) != nd.txQdisc(1), "a qdisc per queue");
        assertEquals("pfifo_fast", nd.txQdisc(1).kind());
        dev.setTxQueues(1);
        assertEquals("pfifo_fast", dev.qdisc());
        NetDevice veth = core.initNet().register(DeviceSetup.ether("veth0", "test").withQdisc("noqueue").withQueues(1, 4),
                new TestDevices.RecordingDriver());
        veth.setTxQueues(2);
        assertEquals("noqueue", veth.qdisc(), "IFF_NO_QUEUE: no mq, as Linux's veth");
    }
}

package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.ByteQueueLimits;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;

/** Byte queue limits on a driver that completes its transmissions later, as a NIC's TX ring does. */
class BqlTest {
    private static final int FRAME = 60;
    private final CoreEngine core = TestDevices.manualCore(1);
    private final Ring ring = new Ring();

    /** A TX ring: frames wait there until the test completes them. */
    static final class Ring implements NetDeviceOps {
        final ArrayDeque<SkBuff> frames = new ArrayDeque<>();
        long sent;

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice dev) {
            frames.add(skb);
            sent++;
            dev.txSentQueue(skb.queueMapping(), skb.len());
            return TxResult.OK;
        }

        /** The ring's completion interrupt: everything on it went out. */
        void completeAll(NetDevice dev) {
            int n = frames.size();
            int bytes = 0;
            for (SkBuff skb; (skb = frames.poll()) != null;) {
                bytes += skb.len();
                skb.free();
            }
            dev.txCompletedQueue(0, n, bytes);
        }
    }

    @AfterEach
    void stop() {
        ring.frames.forEach(SkBuff::free);
        core.shutdown();
    }

    private void send(NetDevice dev, int n) {
        for (int i = 0; i < n; i++) {
            SkBuff skb = TestDevices.frame(core.pool(), MacAddress.BROADCAST, Eth.ETH_P_IP, FRAME);
            skb.dev(dev);
            core.devQueueXmit(skb);
        }
    }

    @Test
    void theQueueStopsOverItsLimitSoTheBacklogBuildsInTheQdisc() throws Exception {
        NetDevice dev = TestDevices.ether(core, "eth0", ring);
        send(dev, 10);
        assertEquals(1, ring.frames.size(), "a zero limit lets one frame out");
        assertEquals(9, dev.qdiscBacklog(), "the rest waits in the qdisc");
        ByteQueueLimits bql = dev.byteQueueLimits(0);
        assertEquals(0, bql.limit());
        assertEquals(FRAME, bql.inflight());
        assertEquals(1879048192L, bql.limitMax());
        assertEquals(1000, bql.holdTimeMs());
    }

    @Test
    void aCompletionGrowsTheLimitAndWakesTheQueue() throws Exception {
        NetDevice dev = TestDevices.ether(core, "eth0", ring);
        send(dev, 10);
        ring.completeAll(dev);
        assertEquals(FRAME, dev.byteQueueLimits(0).limit(), "starved: the limit grew by what completed");
        assertTrue(ring.frames.size() >= 1, "woken: the qdisc sent again");
        long inflight = dev.byteQueueLimits(0).inflight();
        assertTrue(inflight <= dev.byteQueueLimits(0).limit() + FRAME, "inflight " + inflight + " stays near the limit");
        assertTrue(dev.qdiscBacklog() > 0, "still a standing queue in the qdisc");
        for (int round = 0; round < 20 && ring.sent < 10; round++) {
            ring.completeAll(dev);
        }
        ring.completeAll(dev);
        assertEquals(10, ring.sent, "every frame went out");
        assertEquals(0, dev.qdiscBacklog());
        assertEquals(0, dev.byteQueueLimits(0).inflight());
    }

    @Test
    void aDeviceWithoutAQueueHasNoByteQueueLimits() throws Exception {
        NetDevice dev = core.initNet().register(DeviceSetup.ether("veth0", "test").withQdisc("noqueue"), ring);
        assertNull(dev.byteQueueLimits(0));
        TestDevices.RecordingDriver direct = new TestDevices.RecordingDriver();
        NetDevice eth = TestDevices.ether(core, "eth1", direct);
        send(eth, 1);
        direct.freeAll();
        assertNull(eth.byteQueueLimits(0), "a driver that completes inside startXmit has none, as tun in Linux");
        NetDevice eth2 = TestDevices.ether(core, "eth2", ring);
        send(eth2, 1);
        assertNull(eth2.byteQueueLimits(1), "only the queues in use");
    }
}

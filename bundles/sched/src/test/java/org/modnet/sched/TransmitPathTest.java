package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Qdiscs on a device's transmit path: the core's hook, the watchdog on the timer wheel, the counters. */
class TransmitPathTest {
    private final SchedRig rig;

    TransmitPathTest() throws Exception {
        rig = new SchedRig();
    }

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void netemDelayedFrameLeavesWhenTheWatchdogFires() {
        rig.tc("qdisc add dev va root netem delay 20ms");
        rig.send(100);
        rig.core.run();
        assertEquals(0, rig.received);
        assertEquals(1, rig.qdisc().qlen());
        rig.advanceMillis(19);
        assertEquals(0, rig.received);
        rig.advanceMillis(2);
        assertEquals(1, rig.received, "the watchdog ran the qdisc from the timer wheel");
        assertEquals(0, rig.qdisc().qlen());
        assertEquals(1, rig.qdisc().stats().packets());
    }

    @Test
    void tbfLimitsTheDeliveredRate() {
        // 10 Mbit/s with a 10 KiB bucket; offer 2.5 MB/s (twice the rate) for 2 s in 1 ms steps
        rig.tc("qdisc add dev va root tbf rate 10mbit burst 10kb latency 50ms");
        long start = rig.clock.get();
        for (int ms = 0; ms < 2000; ms++) {
            for (int i = 0; i < 2; i++) {
                rig.send(1250);
            }
            rig.advanceMillis(1);
        }
        double seconds = (rig.clock.get() - start) / 1e9;
        double rate = rig.receivedBytes / seconds;
        assertEquals(1_250_000, rate, 1_250_000 * 0.05, "delivered " + rate + " B/s");
        long offered = 4000;
        long dropped = rig.qdisc().stats().drops();
        assertTrue(dropped > 0, "the excess is dropped at the limit");
        assertEquals(offered, rig.received + dropped + rig.qdisc().qlen(), "every packet is delivered, queued or counted");
        assertEquals(dropped, rig.txDropped(), "qdisc drops show in the device's tx_dropped");
        assertTrue(rig.qdisc().stats().overlimits() > 0);
    }

    @Test
    void replacingAQdiscUnderTrafficLosesNoPacketThatNoCounterShows() {
        rig.tc("qdisc add dev va root netem delay 5ms");
        long sent = 0;
        String[] kinds = { "pfifo", "netem delay 3ms", "tbf rate 5mbit burst 5kb latency 20ms", "pfifo_fast", "netem delay 1ms" };
        long qdiscDrops = 0;
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 20; i++) {
                rig.send(500);
                sent++;
            }
            rig.advanceMillis(1);
            qdiscDrops += rig.qdisc().stats().drops();
            rig.tc("qdisc replace dev va root " + kinds[round % kinds.length]);
        }
        qdiscDrops += rig.qdisc().stats().drops();
        rig.tc("qdisc del dev va root");
        rig.advanceMillis(10);
        assertEquals(sent, rig.received + rig.txDropped(), "what did not arrive is in tx_dropped");
        assertTrue(rig.txDropped() >= qdiscDrops);
        assertEquals(0, rig.core.core().pool().inUse(), "nothing leaked");
    }

    @Test
    void anEmptyFifoLetsAFrameStraightThroughAndCountsIt() {
        rig.tc("qdisc add dev va root pfifo");
        rig.send(100);
        assertEquals(1, rig.qdisc().stats().packets(), "TCQ_F_CAN_BYPASS: sent by the qdisc without queueing");
        assertEquals(0, rig.qdisc().qlen());
        rig.core.run();
        assertEquals(1, rig.received);
    }

    @Test
    void deletingTheQdiscRestoresTheDirectPath() {
        rig.tc("qdisc add dev va root netem delay 1s");
        rig.tc("qdisc del dev va root");
        rig.send(100);
        rig.core.run();
        assertEquals(1, rig.received, "noqueue again: straight to the peer");
    }
}

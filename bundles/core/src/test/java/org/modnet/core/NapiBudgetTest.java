package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;

/** The receive engine's budgets, as net_rx_action and NAPI apply them. */
class NapiBudgetTest {
    private CoreEngine core;
    private NetDevice dev;
    private final List<Integer> delivered = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        core = TestDevices.manualCore(1);
        dev = TestDevices.ether(core, "eth0", new TestDevices.RecordingDriver());
        core.addHandler(Eth.ETH_P_IP, (skb, d) -> {
            delivered.add(1);
            skb.free();
        });
    }

    @AfterEach
    void tearDown() {
        core.shutdown();
        assertEquals(0, core.pool().inUse(), "every skb went back to the pool");
    }

    private void burst(int frames) {
        for (int i = 0; i < frames; i++) {
            dev.rxQueue(0).receive(TestDevices.frame(core.pool(), dev.address(), Eth.ETH_P_IP, 100));
        }
    }

    @Test
    void aPollTakesAtMostTheWeightAndTheInstanceStaysScheduledUntilItCompletes() {
        List<Integer> takes = new ArrayList<>();
        int[] left = { 100 };
        Softirq cpu = new Softirq(0, () -> 8, () -> 300, () -> 2000, () -> 0L);
        Napi napi = new Napi(cpu, (n, budget) -> {
            int take = Math.min(budget, left[0]);
            left[0] -= take;
            takes.add(take);
            return take;
        });
        assertTrue(napi.schedule(), "the first schedule takes the interrupt");
        assertFalse(napi.schedule(), "a second one while scheduled does not");
        while (cpu.netRxAction()) {
            // ksoftirqd runs rounds until nothing is scheduled
        }
        assertEquals(List.of(8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 4), takes);
        assertFalse(napi.isScheduled(), "a poll under its weight completes and unmasks");
        assertEquals(100, cpu.stat().processed());
    }

    @Test
    void devWeightFromSysctlBoundsEachPollOfADevice() throws Exception {
        core.initNet().sysctl().set("net.core.dev_weight", "8");
        burst(100);
        while (core.softirq(0).netRxAction()) {
            // drain
        }
        assertEquals(100, delivered.size());
        assertEquals(13L, dev.ethtoolStats().get("rx_queue_0_polls"), "ceil(100 / 8) polls");
        assertEquals(100, dev.stats().get(DeviceStats.Field.RX_PACKETS));
    }

    @Test
    void aRoundStopsAtTheBudgetAndCountsATimeSqueeze() throws Exception {
        core.initNet().sysctl().set("net.core.dev_weight", "8");
        core.initNet().sysctl().set("net.core.netdev_budget", "20");
        burst(100);
        Softirq cpu = core.softirq(0);

        assertTrue(cpu.netRxAction(), "work is left after one round");
        assertEquals(24, delivered.size(), "three polls of 8: the budget of 20 is spent after the third");
        assertEquals(1, cpu.stat().timeSqueeze());

        while (cpu.netRxAction()) {
            // ksoftirqd runs rounds until the work is done
        }
        assertEquals(100, delivered.size());
        assertEquals(4, cpu.stat().timeSqueeze(), "rounds of 24 frames: 24, 48, 72, 96 each left work");
        assertEquals(100, cpu.stat().processed());
    }

    @Test
    void aFullReceiveRingDropsAndCountsWhatItCannotHold() throws Exception {
        dev.setRingParams(16, 0);
        burst(100);
        assertEquals(16, dev.rxQueue(0).pending());
        assertEquals(84, dev.stats().get(DeviceStats.Field.RX_MISSED_ERRORS));
        while (core.softirq(0).netRxAction()) {
            // drain
        }
        assertEquals(16, delivered.size());
        assertEquals(84L, dev.ethtoolStats().get("rx_queue_0_ring_full_drops"));
    }

    @Test
    void theInterruptIsTakenOnceUntilThePollCompletes() {
        burst(10);
        assertEquals(1L, dev.ethtoolStats().get("rx_queue_0_irqs"), "one interrupt for the burst: NAPI masks it");
        while (core.softirq(0).netRxAction()) {
            // drain
        }
        burst(1);
        assertEquals(2L, dev.ethtoolStats().get("rx_queue_0_irqs"), "completed: the next frame interrupts again");
        while (core.softirq(0).netRxAction()) {
            // drain
        }
    }

    @Test
    void aFrameForAProtocolNobodyHandlesIsDroppedAndCounted() {
        dev.rxQueue(0).receive(TestDevices.frame(core.pool(), dev.address(), Eth.ETH_P_IPV6, 80));
        assertFalse(core.softirq(0).netRxAction());
        assertEquals(1, dev.stats().get(DeviceStats.Field.RX_DROPPED));
        assertEquals(0, delivered.size());
    }

    @Test
    void aRuntFrameIsALengthErrorNotADelivery() {
        SkBuff runt = core.pool().alloc(10);
        runt.put(10);
        dev.rxQueue(0).receive(runt);
        core.softirq(0).netRxAction();
        assertEquals(1, dev.stats().get(DeviceStats.Field.RX_LENGTH_ERRORS));
        assertEquals(1, dev.stats().get(DeviceStats.Field.RX_ERRORS));
        assertEquals(0, dev.stats().get(DeviceStats.Field.RX_PACKETS));
    }

    @Test
    void aRuntFrameThroughTheBacklogIsALengthErrorCountedInRxErrorsToo() {
        SkBuff runt = core.pool().alloc(10);
        runt.put(10);
        runt.dev(dev);
        assertTrue(core.enqueueToBacklog(runt, 0));
        core.softirq(0).netRxAction();
        assertEquals(1, dev.stats().get(DeviceStats.Field.RX_LENGTH_ERRORS));
        assertEquals(1, dev.stats().get(DeviceStats.Field.RX_ERRORS), "ip -s link's errors include length errors");
        assertEquals(0, delivered.size());
    }

    @Test
    void aFrameLargerThanTheMtuAllowsIsALengthErrorAndAVlanTaggedFullFrameIsNot() {
        dev.rxQueue(0).receive(TestDevices.frame(core.pool(), dev.address(), Eth.ETH_P_IP, 1500 + 14 + 5));
        dev.rxQueue(0).receive(TestDevices.frame(core.pool(), dev.address(), Eth.ETH_P_IP, 1500 + 14 + 4));
        core.softirq(0).netRxAction();
        assertEquals(1, dev.stats().get(DeviceStats.Field.RX_LENGTH_ERRORS));
        assertEquals(1, delivered.size());
    }

    @Test
    void aDeviceThatIsDownReceivesNothing() {
        dev.close();
        assertFalse(dev.rxQueue(0).receive(TestDevices.frame(core.pool(), dev.address(), Eth.ETH_P_IP, 80)));
        assertEquals(1, dev.stats().get(DeviceStats.Field.RX_DROPPED));
    }

    /**
     * A frame handed to a CPU's backlog may bring a first step, run there before the stack (a cpumap
     * entry's program): it lets the frame go on, or takes it. A frame whose device went down while it
     * waited is dropped and counted.
     */
    @Test
    void aBacklogFramesFirstStepRunsBeforeTheStackAndADownDevicesFrameIsCounted() throws Exception {
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            SkBuff skb = TestDevices.frame(core.pool(), dev.address(), Eth.ETH_P_IP, 100 + i);
            skb.dev(dev);
            int n = i;
            assertTrue(core.enqueueToBacklog(skb, 0, i == 3 ? null : s -> {
                seen.add(s.len());
                if (n == 1) {
                    s.free(); // taken
                    return false;
                }
                return true;
            }));
        }
        while (core.softirq(0).netRxAction()) {
            // drain
        }
        assertEquals(List.of(100, 101, 102), seen, "each step saw its own frame, from its MAC header, in order");
        assertEquals(3, delivered.size(), "the frames let go on, and the one without a step");
        assertEquals(4, core.softnetStats().get(0).processed());

        SkBuff late = TestDevices.frame(core.pool(), dev.address(), Eth.ETH_P_IP, 100);
        late.dev(dev);
        assertTrue(core.enqueueToBacklog(late, 0, s -> true));
        dev.close();
        while (core.softirq(0).netRxAction()) {
            // drain
        }
        assertEquals(3, delivered.size());
        assertEquals(1, dev.stats().get(DeviceStats.Field.RX_DROPPED), "the device went down while the frame waited");
    }
}

package org.modnet.ethernet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/** 802.1Q frames through the real receive path: the tag parsed and counted, the frame dropped and counted. */
class VlanTest {
    private StandaloneCore stack;
    private NetDevice eth0;
    private final Vlan vlan = new Vlan();

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 64, System::nanoTime);
        stack.addHandler(Eth.ETH_P_8021Q, vlan);
        eth0 = stack.core().initNet().register(DeviceSetup.ether("eth0", "test"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        eth0.open();
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
        assertEquals(0, stack.core().pool().inUse());
    }

    private void tagged(int tagBytes, int tci, int inner) {
        SkBuff skb = stack.core().pool().alloc(Eth.ETH_HLEN + tagBytes);
        int o = skb.put(Eth.ETH_HLEN + tagBytes);
        long dst = eth0.address().bits();
        skb.setU16(o, (int) (dst >>> 32));
        skb.setU32(o + 2, (int) dst);
        skb.setU16(o + 12, Eth.ETH_P_8021Q);
        if (tagBytes >= 4) {
            skb.setU16(o + 14, tci);
            skb.setU16(o + 16, inner);
        }
        eth0.rxQueue(0).receive(skb);
        stack.run();
    }

    @Test
    void aTaggedFrameIsParsedCountedAndDroppedForWantOfAVlanDevice() {
        tagged(46, 0x2000 | 42, Eth.ETH_P_IP); // priority 1, VLAN 42, IPv4 inside
        assertEquals((42L << 16) | Eth.ETH_P_IP, vlan.lastTag(eth0.namespace()));
        assertEquals(1L, vlan.counters(eth0.namespace()).get("VlanInFrames"));
        assertEquals(1L, vlan.counters(eth0.namespace()).get("VlanInUnknownVid"));
        assertEquals(1, eth0.stats().get(DeviceStats.Field.RX_DROPPED));
    }

    @Test
    void aTagCutShortIsALengthError() {
        tagged(2, 0, 0);
        assertEquals(1L, vlan.counters(eth0.namespace()).get("VlanInMalformed"));
        assertEquals(1, eth0.stats().get(DeviceStats.Field.RX_LENGTH_ERRORS));
    }
}

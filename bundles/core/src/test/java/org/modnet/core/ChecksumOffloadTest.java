package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetdevFeatures;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.SkBuff;

/** validate_xmit_skb: partial checksums completed for devices that cannot, GSO skbs cut for devices without TSO. */
class ChecksumOffloadTest {
    private static final Map<String, Boolean> OFFLOADS = Map.of("tx-checksumming", true, "scatter-gather", true,
            "tcp-segmentation-offload", true);

    private final CoreEngine core = TestDevices.manualCore(1);
    private final TestDevices.RecordingDriver driver = new TestDevices.RecordingDriver();

    @AfterEach
    void tearDown() {
        driver.freeAll();
        core.shutdown();
    }

    private NetDevice device(Map<String, Boolean> features) throws Exception {
        NetDevice d = core.initNet().register(DeviceSetup.ether("t0", "test").withFeatures(features, Set.of()), driver);
        d.open();
        return d;
    }

    /** A frame: 14 bytes of Ethernet, 20 of IPv4, then 40 bytes summed from csum_start with the sum at +16. */
    private SkBuff partialFrame(NetDevice d) {
        SkBuff skb = core.allocSkb(74, 64);
        int o = skb.put(74);
        for (int i = 0; i < 74; i++) {
            skb.setU8(o + i, i * 7 + 3);
        }
        skb.setU16(o + 12, Eth.ETH_P_IP);
        skb.setMacHeader(o);
        skb.setNetworkHeader(o + 14);
        skb.setU16(o + 34 + 16, 0x1234); // the pseudo-header's sum, as TCP leaves it
        skb.csumPartial(o + 34, 16);
        skb.protocol(Eth.ETH_P_IP);
        skb.dev(d);
        return skb;
    }

    @Test
    void aDeviceWithoutTxChecksummingGetsTheSumCompletedInSoftware() throws Exception {
        NetDevice d = device(Map.of());
        SkBuff skb = partialFrame(d);
        int start = skb.csumStart();
        core.devQueueXmit(skb);
        assertEquals(1, driver.sent.size());
        SkBuff out = driver.sent.get(0);
        assertSame(Checksum.NONE, out.ipSummed());
        // the field's old content was the seed: the whole span, sum included, now folds to 0xffff plus that seed
        int field = out.getU16(start + 16);
        out.setU16(start + 16, 0x1234);
        int seeded = InetChecksum.sum(out, start, 40, 0);
        assertEquals(~seeded & 0xffff, field, "the complement of the sum over the span with the pseudo-header seed");
    }

    @Test
    void aDeviceWithTxChecksummingGetsThePartialSumAsItIs() throws Exception {
        NetDevice d = device(OFFLOADS);
        SkBuff skb = partialFrame(d);
        int start = skb.csumStart();
        core.devQueueXmit(skb);
        SkBuff out = driver.sent.get(0);
        assertSame(Checksum.PARTIAL, out.ipSummed());
        assertEquals(0x1234, out.getU16(start + 16));
    }

    @Test
    void ethtoolKeepsTheFeatureBitsCurrentAndTsoNeedsChecksumming() throws Exception {
        NetDevice d = device(OFFLOADS);
        assertEquals(NetdevFeatures.NETIF_F_TSO | NetdevFeatures.NETIF_F_SG | NetdevFeatures.NETIF_F_HW_CSUM, d.netdevFeatures());
        d.setFeature("tx-checksumming", false);
        assertEquals(NetdevFeatures.NETIF_F_SG, d.netdevFeatures(), "no TSO without checksumming (netdev_fix_features)");
        SkBuff skb = partialFrame(d);
        core.devQueueXmit(skb);
        assertSame(Checksum.NONE, driver.sent.get(0).ipSummed());
    }

    @Test
    void aGsoSkbForADeviceWithoutTsoGoesThroughTheOffloadOfItsEthertype() throws Exception {
        NetDevice d = device(Map.of("tx-checksumming", true));
        List<Long> features = new ArrayList<>();
        core.addOffload(Eth.ETH_P_IP, (skb, f, out) -> {
            features.add(f);
            for (int i = 0; i < 2; i++) {
                SkBuff seg = core.allocSkb(60, 64);
                seg.put(60);
                out.accept(seg);
            }
            return 2;
        });
        SkBuff skb = partialFrame(d);
        skb.gso(20, 2, NetdevFeatures.SKB_GSO_TCPV4);
        core.devQueueXmit(skb);
        assertEquals(2, driver.sent.size(), "the segments reach the driver, the GSO skb does not");
        assertEquals(List.of(NetdevFeatures.NETIF_F_HW_CSUM), features);
        assertTrue(driver.sent.stream().allMatch(s -> s.dev() == d));
    }

    @Test
    void aGsoSkbNobodyCanCutIsDroppedAndCounted() throws Exception {
        NetDevice d = device(Map.of());
        SkBuff skb = partialFrame(d);
        skb.gso(20, 2, NetdevFeatures.SKB_GSO_TCPV4);
        core.devQueueXmit(skb);
        assertEquals(0, driver.sent.size());
        assertEquals(1, d.stats().get(DeviceStats.Field.TX_DROPPED));
    }
}

package org.modnet.api.net;

import java.util.Map;

import org.modnet.api.skb.SkBuff;

/**
 * What a driver does for its device, {@code struct net_device_ops}. Only {@link #startXmit} is
 * required. The core calls these with the device's state consistent; callbacks must not block.
 */
public interface NetDeviceOps {

    /** {@code ndo_start_xmit}: send the frame (the skb's data starts at the MAC header). */
    TxResult startXmit(SkBuff skb, NetDevice dev);

    /** {@code ndo_open}: the device goes up. */
    default void open(NetDevice dev) throws NetException {
    }

    /** {@code ndo_stop}: the device goes down. */
    default void stop(NetDevice dev) {
    }

    /** {@code ndo_uninit}: the device is being unregistered (a veth end takes its peer with it). */
    default void uninit(NetDevice dev) {
    }

    /** The device this one is paired with (a veth's peer), or null: {@code ip link} shows {@code veth0@veth1}. */
    default NetDevice link(NetDevice dev) {
        return null;
    }

    /** Whether {@code ip link del} may remove the device (lo may not: EOPNOTSUPP). */
    default boolean deletable(NetDevice dev) {
        return false;
    }

    /** Whether the carrier is on ({@code LOWER_UP}): a veth end has carrier while its peer is up. */
    default boolean carrier(NetDevice dev) {
        return true;
    }

    /** {@code ethtool -i}. */
    default Map<String, String> driverInfo(NetDevice dev) {
        return Map.of("driver", dev.kind(), "version", "1.0", "bus-info", "");
    }

    /**
     * The driver runs XDP programs on its own receive buffers ({@code ndo_bpf}, native XDP): it hands
     * frames to {@link RxQueue#receiveFrame}, which runs an attached native program before any skb.
     */
    default boolean nativeXdp(NetDevice dev) {
        return false;
    }

    /** {@code ethtool -S}: the driver's own counters. */
    default Map<String, Long> ethtoolStats(NetDevice dev) {
        return Map.of();
    }

    /**
     * {@code ethtool -S}'s whole list: the driver's counters under its own (Linux's) names, in its
     * order, then the stack's generic ones ({@code generic}: XDP verdicts and each receive queue's
     * packets, bytes, interrupts, polls and ring drops, in their order), from which a driver may take
     * the values of its names. By default {@link #ethtoolStats(NetDevice)}, then the generic ones.
     *
     * @since 1.12
     */
    default Map<String, Long> ethtoolStats(NetDevice dev, Map<String, Long> generic) {
        Map<String, Long> all = new java.util.LinkedHashMap<>(ethtoolStats(dev));
        all.putAll(generic);
        return all;
    }

    /**
     * {@code ethtool_ops.set_channels}: the device's receive queues (its combined channels) become
     * {@code combined}, asked before the core checks the count and makes the change. A driver without
     * {@code set_channels} throws EOPNOTSUPP, as Linux refuses {@code ethtool -L} for one; by default
     * the change is the core's alone.
     *
     * @since 1.20
     */
    default void setChannels(NetDevice dev, int combined) throws NetException {
    }

    /**
     * {@code ndo_fix_features}: what the driver can offer now of the features that are on (a veth whose
     * peer runs native XDP takes no segmentation offload). Called on the packet path: no allocation.
     */
    default long fixFeatures(NetDevice dev, long features) {
        return features;
    }
}

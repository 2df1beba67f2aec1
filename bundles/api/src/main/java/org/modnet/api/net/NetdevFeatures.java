package org.modnet.api.net;

import java.util.Map;

/**
 * {@code netdev_features_t}: a device's offloads as bits ({@code NETIF_F_*}), for the packet path to
 * read without a map; {@code ethtool -k} names them. {@link #bits} also applies Linux's
 * {@code netdev_fix_features} rules: no segmentation offload without scatter-gather and transmit
 * checksumming, since every segment's checksum would have to be made in software.
 */
public final class NetdevFeatures {
    private NetdevFeatures() {
    }

    /** {@code scatter-gather}. */
    public static final long NETIF_F_SG = 1L << 0;
    /** {@code tx-checksumming}: the device completes {@code CHECKSUM_PARTIAL} sums (as {@code NETIF_F_HW_CSUM}). */
    public static final long NETIF_F_HW_CSUM = 1L << 3;
    /** {@code tx-vlan-offload}. */
    public static final long NETIF_F_HW_VLAN_CTAG_TX = 1L << 7;
    /** {@code rx-vlan-offload}. */
    public static final long NETIF_F_HW_VLAN_CTAG_RX = 1L << 8;
    /** {@code generic-segmentation-offload}. */
    public static final long NETIF_F_GSO = 1L << 11;
    /** {@code generic-receive-offload}. */
    public static final long NETIF_F_GRO = 1L << 14;
    /** {@code tcp-segmentation-offload}: the device takes {@code SKB_GSO_TCPV4} skbs whole. */
    public static final long NETIF_F_TSO = 1L << 16;
    /**
     * {@code tx-udp-segmentation} ({@code NETIF_F_GSO_UDP_L4}): the device takes {@code SKB_GSO_UDP_L4}
     * skbs whole (a {@code UDP_SEGMENT} send), cutting them into datagrams itself. @since 1.19
     */
    public static final long NETIF_F_GSO_UDP_L4 = 1L << 33;
    /** {@code rx-checksumming}. */
    public static final long NETIF_F_RXCSUM = 1L << 40;
    /** {@code loopback}. */
    public static final long NETIF_F_LOOPBACK = 1L << 41;

    /** {@code SKB_GSO_TCPV4}: an skb's {@code gso_type} for TCP over IPv4. */
    public static final int SKB_GSO_TCPV4 = 1 << 0;
    /** {@code SKB_GSO_UDP_L4}: UDP payload cut into datagrams of {@code gso_size} (not UFO's fragments). @since 1.19 */
    public static final int SKB_GSO_UDP_L4 = 1 << 17;

    /**
     * {@code net_gso_ok}: whether a device with {@code features} takes a GSO skb of {@code gsoType}
     * whole; otherwise the core cuts it in software before the device. @since 1.19
     */
    public static boolean gsoOk(long features, int gsoType) {
        if (gsoType == SKB_GSO_TCPV4) {
            return (features & NETIF_F_TSO) != 0;
        }
        return gsoType == SKB_GSO_UDP_L4 && (features & NETIF_F_GSO_UDP_L4) != 0;
    }

    /** The bits of the features that are on, as {@code netdev_fix_features} leaves them. */
    public static long bits(Map<String, Boolean> features) {
        long f = 0;
        f |= on(features, "scatter-gather", NETIF_F_SG);
        f |= on(features, "tx-checksumming", NETIF_F_HW_CSUM);
        f |= on(features, "tx-vlan-offload", NETIF_F_HW_VLAN_CTAG_TX);
        f |= on(features, "rx-vlan-offload", NETIF_F_HW_VLAN_CTAG_RX);
        f |= on(features, "generic-segmentation-offload", NETIF_F_GSO);
        f |= on(features, "generic-receive-offload", NETIF_F_GRO);
        f |= on(features, "tcp-segmentation-offload", NETIF_F_TSO);
        f |= on(features, "tx-udp-segmentation", NETIF_F_GSO_UDP_L4);
        f |= on(features, "rx-checksumming", NETIF_F_RXCSUM);
        f |= on(features, "loopback", NETIF_F_LOOPBACK);
        if ((f & NETIF_F_SG) == 0 || (f & NETIF_F_HW_CSUM) == 0) {
            f &= ~NETIF_F_TSO; // "Dropping TSO features since no SG/CSUM feature."
        }
        if ((f & NETIF_F_HW_CSUM) == 0) {
            // harmonize_features: a device that cannot sum a partial skb takes no GSO skb whole either
            f &= ~NETIF_F_GSO_UDP_L4;
        }
        return f;
    }

    private static long on(Map<String, Boolean> features, String name, long bit) {
        return Boolean.TRUE.equals(features.get(name)) ? bit : 0;
    }
}

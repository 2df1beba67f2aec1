package org.modnet.api.net;

import java.util.Map;
import java.util.Set;

/**
 * How a driver describes a device it registers ({@code alloc_netdev} + the driver's setup function).
 * Start from {@link #ether} or {@link #loopback} and change what differs with the {@code with}
 * methods.
 *
 * @param features      offloads the device has, and whether each is on ({@code ethtool -k})
 * @param fixedFeatures features that cannot be changed ({@code [fixed]} in {@code ethtool -k})
 */
public record DeviceSetup(String name, String kind, int type, int flags, int mtu, int minMtu, int maxMtu,
        MacAddress address, MacAddress broadcast, int txQueueLen, String qdisc, int rxQueues, int maxRxQueues,
        int rxRing, int rxRingMax, int txRing, int txRingMax, Map<String, Boolean> features,
        Set<String> fixedFeatures) {

    public DeviceSetup {
        features = Map.copyOf(features);
        fixedFeatures = Set.copyOf(fixedFeatures);
    }

    /** An Ethernet device ({@code ether_setup}): MTU 1500, broadcast and multicast, a random address. */
    public static DeviceSetup ether(String name, String kind) {
        return new DeviceSetup(name, kind, Eth.ARPHRD_ETHER, IfFlags.BROADCAST | IfFlags.MULTICAST, Eth.ETH_DATA_LEN, 68,
                65535, MacAddress.random(), MacAddress.BROADCAST, 1000, "pfifo_fast", 1, 1, 256, 4096, 256, 4096,
                Map.of(), Set.of());
    }

    /** The loopback device ({@code loopback_setup}): MTU 65536, no queue, no ARP. */
    public static DeviceSetup loopback() {
        return new DeviceSetup("lo", "loopback", Eth.ARPHRD_LOOPBACK, IfFlags.LOOPBACK, 65536, 0, Integer.MAX_VALUE,
                MacAddress.ZERO, MacAddress.ZERO, 1000, "noqueue", 1, 1, 1024, 1024, 0, 0, Map.of(), Set.of());
    }

    public DeviceSetup withName(String n) {
        return new DeviceSetup(n, kind, type, flags, mtu, minMtu, maxMtu, address, broadcast, txQueueLen, qdisc, rxQueues,
                maxRxQueues, rxRing, rxRingMax, txRing, txRingMax, features, fixedFeatures);
    }

    public DeviceSetup withQdisc(String q) {
        return new DeviceSetup(name, kind, type, flags, mtu, minMtu, maxMtu, address, broadcast, txQueueLen, q, rxQueues,
                maxRxQueues, rxRing, rxRingMax, txRing, txRingMax, features, fixedFeatures);
    }

    public DeviceSetup withQueues(int rx, int maxRx) {
        return new DeviceSetup(name, kind, type, flags, mtu, minMtu, maxMtu, address, broadcast, txQueueLen, qdisc, rx,
                maxRx, rxRing, rxRingMax, txRing, txRingMax, features, fixedFeatures);
    }

    public DeviceSetup withRings(int rx, int rxMax, int tx, int txMax) {
        return new DeviceSetup(name, kind, type, flags, mtu, minMtu, maxMtu, address, broadcast, txQueueLen, qdisc, rxQueues,
                maxRxQueues, rx, rxMax, tx, txMax, features, fixedFeatures);
    }

    public DeviceSetup withFeatures(Map<String, Boolean> f, Set<String> fixed) {
        return new DeviceSetup(name, kind, type, flags, mtu, minMtu, maxMtu, address, broadcast, txQueueLen, qdisc, rxQueues,
                maxRxQueues, rxRing, rxRingMax, txRing, txRingMax, f, fixed);
    }

    public DeviceSetup withFlags(int f) {
        return new DeviceSetup(name, kind, type, f, mtu, minMtu, maxMtu, address, broadcast, txQueueLen, qdisc, rxQueues,
                maxRxQueues, rxRing, rxRingMax, txRing, txRingMax, features, fixedFeatures);
    }

    public DeviceSetup withAddress(MacAddress a) {
        return new DeviceSetup(name, kind, type, flags, mtu, minMtu, maxMtu, a, broadcast, txQueueLen, qdisc, rxQueues,
                maxRxQueues, rxRing, rxRingMax, txRing, txRingMax, features, fixedFeatures);
    }
}

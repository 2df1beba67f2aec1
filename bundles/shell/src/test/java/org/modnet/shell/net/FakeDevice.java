package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.RingParams;
import org.modnet.api.net.RxQueue;

/** An in-memory device for the command tests: refuses what the core refuses, with the same errno. */
final class FakeDevice implements NetDevice {
    String name;
    int ifindex;
    int mtu;
    int minMtu = 68;
    int maxMtu = 65535;
    int flags;
    final int type;
    final String kind;
    /** The driver has no {@code set_channels} (afpacket): {@code ethtool -L} is refused. */
    boolean noSetChannels;
    MacAddress address;
    MacAddress broadcast;
    int txQueueLen = 1000;
    int napiDeferHardIrqs;
    long groFlushTimeout;
    FakeNamespace ns;
    org.modnet.api.net.XdpHook xdp;

    @Override
    public void setXdp(org.modnet.api.net.XdpHook hook) {
        xdp = hook;
    }

    @Override
    public org.modnet.api.net.XdpHook xdp() {
        return xdp;
    }
    FakeDevice peer;
    final DeviceStats stats = new DeviceStats();
    String qdisc;
    final List<IfAddress> addresses = new ArrayList<>();
    Map<String, String> driverInfo = Map.of();
    Map<String, Long> ethtoolStats = new LinkedHashMap<>();
    final Map<String, Boolean> features = new LinkedHashMap<>();
    Set<String> fixed = Set.of();
    int rxRing = 256;
    int rxRingMax = 4096;
    int txRing;
    int txRingMax;
    int rxQueues = 1;
    int maxRxQueues = 1;
    int txQueues = 1;
    /** What byteQueueLimits answers for every queue in use; null: no queue, no BQL. */
    org.modnet.api.net.ByteQueueLimits bql;
    boolean promisc;

    FakeDevice(String name, String kind, int type, MacAddress address, MacAddress broadcast, int mtu, String qdisc) {
        this.name = name;
        this.kind = kind;
        this.type = type;
        this.address = address;
        this.broadcast = broadcast;
        this.mtu = mtu;
        this.qdisc = qdisc;
    }

    static FakeDevice loopback() {
        FakeDevice lo = new FakeDevice("lo", "loopback", Eth.ARPHRD_LOOPBACK, MacAddress.ZERO, MacAddress.ZERO, 65536,
                "noqueue");
        lo.flags = IfFlags.LOOPBACK;
        lo.maxMtu = Integer.MAX_VALUE;
        lo.minMtu = 0;
        return lo;
    }

    static FakeDevice ether(String name, String kind, String mac) {
        FakeDevice d = new FakeDevice(name, kind, Eth.ARPHRD_ETHER, MacAddress.parse(mac), MacAddress.BROADCAST, 1500,
                "noqueue");
        d.flags = IfFlags.BROADCAST | IfFlags.MULTICAST;
        return d;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int ifindex() {
        return ifindex;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public int napiDeferHardIrqs() {
        return napiDeferHardIrqs;
    }

    @Override
    public void setNapiDeferHardIrqs(int count) {
        napiDeferHardIrqs = count;
    }

    @Override
    public long groFlushTimeout() {
        return groFlushTimeout;
    }

    @Override
    public void setGroFlushTimeout(long nanos) {
        groFlushTimeout = nanos;
    }

    @Override
    public int minMtu() {
        return minMtu;
    }

    @Override
    public int maxMtu() {
        return maxMtu;
    }

    @Override
    public int flags() {
        return flags | (promisc ? IfFlags.PROMISC : 0);
    }

    @Override
    public int type() {
        return type;
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public MacAddress address() {
        return address;
    }

    @Override
    public MacAddress broadcast() {
        return broadcast;
    }

    @Override
    public int txQueueLen() {
        return txQueueLen;
    }

    @Override
    public String operState() {
        if ((flags & IfFlags.LOOPBACK) != 0) {
            return isUp() ? "UNKNOWN" : "DOWN";
        }
        if (!isUp()) {
            return "DOWN";
        }
        return (flags & IfFlags.LOWER_UP) != 0 ? "UP" : "LOWERLAYERDOWN";
    }

    @Override
    public NetNamespace namespace() {
        return ns;
    }

    @Override
    public NetDevice link() {
        return peer;
    }

    @Override
    public DeviceStats stats() {
        return stats;
    }

    @Override
    public String qdisc() {
        return qdisc;
    }

    @Override
    public int qdiscBacklog() {
        return 0;
    }

    @Override
    public List<IfAddress> addresses() {
        return List.copyOf(addresses);
    }

    @Override
    public Map<String, String> driverInfo() {
        return driverInfo;
    }

    @Override
    public Map<String, Long> ethtoolStats() {
        return ethtoolStats;
    }

    @Override
    public Map<String, Boolean> features() {
        return new LinkedHashMap<>(features);
    }

    @Override
    public Set<String> fixedFeatures() {
        return fixed;
    }

    @Override
    public RingParams ringParams() {
        return new RingParams(rxRing, rxRingMax, txRing, txRingMax);
    }

    @Override
    public int rxQueues() {
        return rxQueues;
    }

    @Override
    public RxQueue rxQueue(int index) {
        return index == 0 ? queue0 : null;
    }

    /** Queue 0, when a test gives the device one (a NAPI instance for ynl); null otherwise. */
    RxQueue queue0;

    @Override
    public int maxRxQueues() {
        return maxRxQueues;
    }

    /** Up; a veth end has carrier when its peer is up too, and gives its peer carrier. */
    @Override
    public void open() {
        flags |= IfFlags.UP;
        carrier();
        if (peer != null) {
            peer.carrier();
        }
    }

    private void carrier() {
        boolean on = isUp() && (peer == null || peer.isUp());
        flags = on ? flags | IfFlags.RUNNING | IfFlags.LOWER_UP : flags & ~(IfFlags.RUNNING | IfFlags.LOWER_UP);
    }

    @Override
    public void close() {
        flags &= ~(IfFlags.UP | IfFlags.RUNNING | IfFlags.LOWER_UP);
        if (peer != null) {
            peer.carrier();
        }
    }

    @Override
    public void setMtu(int m) throws NetException {
        if (m > maxMtu) {
            throw new NetException(Errno.EINVAL, "mtu greater than device maximum");
        }
        if (m < minMtu) {
            throw new NetException(Errno.EINVAL, "mtu less than device minimum");
        }
        mtu = m;
    }

    @Override
    public void setAddress(MacAddress a) throws NetException {
        if (type == Eth.ARPHRD_LOOPBACK) {
            throw new NetException(Errno.EOPNOTSUPP);
        }
        if (a.isMulticast()) {
            throw new NetException(Errno.EADDRNOTAVAIL);
        }
        address = a;
    }

    @Override
    public void setTxQueueLen(int len) throws NetException {
        if (len < 0) {
            throw new NetException(Errno.EINVAL);
        }
        txQueueLen = len;
    }

    @Override
    public void setPromisc(boolean on) {
        promisc = on;
    }

    @Override
    public void setName(String n) throws NetException {
        if (ns.device(n) != null) {
            throw new NetException(Errno.EEXIST);
        }
        name = n;
    }

    @Override
    public void setNamespace(NetNamespace target) throws NetException {
        if (type == Eth.ARPHRD_LOOPBACK) {
            throw new NetException(Errno.EINVAL, "The interface is local to its namespace");
        }
        FakeNamespace to = (FakeNamespace) target;
        if (to.device(name) != null) {
            throw new NetException(Errno.EEXIST);
        }
        close();
        addresses.clear();
        ns.devices.remove(this);
        to.add(this);
    }

    @Override
    public void addAddress(IfAddress a) throws NetException {
        for (IfAddress have : addresses) {
            if (have.sameAs(a)) {
                throw new NetException(Errno.EEXIST);
            }
        }
        addresses.add(a);
    }

    @Override
    public void removeAddress(IfAddress a) throws NetException {
        if (!addresses.removeIf(have -> have.sameAs(a))) {
            throw new NetException(Errno.EADDRNOTAVAIL);
        }
    }

    @Override
    public void setRingParams(int rx, int tx) throws NetException {
        if ((rx != 0 && rxRingMax == 0) || (tx != 0 && txRingMax == 0)) {
            throw new NetException(Errno.EOPNOTSUPP);
        }
        if (rx < 0 || tx < 0 || rx > rxRingMax || tx > txRingMax) {
            throw new NetException(Errno.EINVAL);
        }
        if (rx != 0) {
            rxRing = rx;
        }
        if (tx != 0) {
            txRing = tx;
        }
    }

    @Override
    public int txQueues() {
        return txQueues;
    }

    @Override
    public org.modnet.api.net.ByteQueueLimits byteQueueLimits(int queue) {
        return queue < txQueues ? bql : null;
    }

    @Override
    public int maxTxQueues() {
        return maxRxQueues;
    }

    @Override
    public void setTxQueues(int count) throws NetException {
        if (count < 1 || count > maxRxQueues) {
            throw new NetException(Errno.EINVAL);
        }
        txQueues = count;
    }

    @Override
    public void setRxQueues(int count) throws NetException {
        if (noSetChannels) {
            throw new NetException(Errno.EOPNOTSUPP); // a driver without set_channels, as the core asks it, whatever the count
        }
        if (count < 1 || count > maxRxQueues) {
            throw new NetException(Errno.EINVAL);
        }
        rxQueues = count;
    }

    @Override
    public void setFeature(String feature, boolean on) throws NetException {
        if (!features.containsKey(feature)) {
            throw new NetException(Errno.EOPNOTSUPP, "feature " + feature + " is not supported by " + name);
        }
        if (fixed.contains(feature) && features.get(feature) != on) {
            throw new NetException(Errno.EOPNOTSUPP, "feature " + feature + " is fixed on " + name);
        }
        features.put(feature, on);
    }

    @Override
    public void delete() throws NetException {
        if (type == Eth.ARPHRD_LOOPBACK) {
            throw new NetException(Errno.EOPNOTSUPP);
        }
        ns.devices.remove(this);
        if (peer != null) {
            peer.ns.devices.remove(peer);
        }
    }
}

package org.modnet.api.net;

import java.util.List;
import java.util.Map;

/**
 * A network device, as {@code struct net_device}: what a packet knows of the interface it came in on
 * or goes out of, and what {@code ip link}, {@code ip addr} and {@code ethtool} change. The core
 * implements it; drivers describe a device with a {@link DeviceSetup} and {@link NetDeviceOps}.
 * Changes that Linux refuses are refused here with the same errno.
 */
public interface NetDevice {
    /** The interface name, {@code eth0}, {@code lo}, {@code veth0}. */
    String name();

    /** The interface index, unique in its namespace. */
    int ifindex();

    /** The largest payload (L3 packet) the device sends, in bytes. */
    int mtu();

    int minMtu();

    int maxMtu();

    /** {@link IfFlags}: UP, BROADCAST, LOOPBACK, RUNNING, LOWER_UP, ... */
    int flags();

    default boolean isUp() {
        return (flags() & IfFlags.UP) != 0;
    }

    /** {@code ARPHRD_ETHER} or {@code ARPHRD_LOOPBACK}. */
    int type();

    /** The driver's link kind: {@code loopback}, {@code veth}, {@code tap}. */
    String kind();

    MacAddress address();

    MacAddress broadcast();

    int txQueueLen();

    /**
     * {@code napi_defer_hard_irqs} ({@code /sys/class/net/DEV/napi_defer_hard_irqs}): how many NAPI
     * completions in a row leave the device's interrupt off and arm the instance's watchdog for
     * {@code gro_flush_timeout} instead; also what a preferred busy poll ({@code SO_PREFER_BUSY_POLL})
     * needs to keep the interrupt off after it stops. 0, Linux's default: off.
     *
     * @since 1.16
     */
    default int napiDeferHardIrqs() {
        return 0;
    }

    /**
     * Sets {@link #napiDeferHardIrqs()}, as a write to the sysfs file does.
     *
     * @throws NetException ERANGE above {@code S32_MAX} or below 0 (sysfs's check), EOPNOTSUPP for a device without NAPI
     * @since 1.16
     */
    default void setNapiDeferHardIrqs(int count) throws NetException {
        throw new NetException(Errno.EOPNOTSUPP, name() + ": no NAPI instance");
    }

    /**
     * {@code gro_flush_timeout} ({@code /sys/class/net/DEV/gro_flush_timeout}), nanoseconds: the NAPI
     * watchdog's delay while the interrupt is deferred ({@link #napiDeferHardIrqs()}). 0, Linux's default: off.
     *
     * @since 1.16
     */
    default long groFlushTimeout() {
        return 0;
    }

    /**
     * Sets {@link #groFlushTimeout()}, as a write to the sysfs file does.
     *
     * @throws NetException EINVAL below 0, EOPNOTSUPP for a device without NAPI
     * @since 1.16
     */
    default void setGroFlushTimeout(long nanos) throws NetException {
        throw new NetException(Errno.EOPNOTSUPP, name() + ": no NAPI instance");
    }

    /** {@code UP}, {@code DOWN}, {@code UNKNOWN} (no carrier notion, as lo), {@code LOWERLAYERDOWN}. */
    String operState();

    NetNamespace namespace();

    /**
     * {@code carrier_changes} ({@code /sys/class/net/DEV/carrier_changes}, {@code ip -s -s link}'s
     * {@code transns}): how often the carrier went on or off since the device was made.
     */
    default long carrierChanges() {
        return 0;
    }

    /** The other end of a paired device (a veth peer), or null: {@code veth0@veth1}. */
    NetDevice link();

    DeviceStats stats();

    /** The queueing discipline's name, as {@code ip link} shows it: {@code noqueue}, {@code pfifo_fast}. */
    String qdisc();

    /** Packets waiting in the qdisc now. */
    int qdiscBacklog();

    List<IfAddress> addresses();

    // --- what the driver answers for ethtool ---

    /** {@code ethtool -i}: driver name and version, bus info. */
    Map<String, String> driverInfo();

    /** {@code ethtool -S}: the driver's own counters, in its order. */
    Map<String, Long> ethtoolStats();

    /** {@code ethtool -k}: offload features ({@code rx-checksumming}, {@code tcp-segmentation-offload}, ...) and state. */
    Map<String, Boolean> features();

    /**
     * The features that are on as {@link NetdevFeatures} bits ({@code dev->features}), for the packet
     * path: the core keeps them cached, so reading them neither allocates nor locks.
     */
    default long netdevFeatures() {
        return NetdevFeatures.bits(features());
    }

    /** The features that cannot be changed: {@code [fixed]} in {@code ethtool -k}. */
    java.util.Set<String> fixedFeatures();

    /** {@code ethtool -g}: ring sizes now and at most. */
    RingParams ringParams();

    /** Receive queues (channels): one ring and one NAPI instance each. */
    int rxQueues();

    RxQueue rxQueue(int index);

    int maxRxQueues();

    /**
     * Transmit queues in use ({@code real_num_tx_queues}): {@code dev_queue_xmit} picks one per flow
     * ({@code netdev_pick_tx}). One unless the driver or {@code numtxqueues} asked for more.
     *
     * @since 1.9
     */
    default int txQueues() {
        return 1;
    }

    /**
     * {@code netdev_tx_sent_queue}: the driver put {@code bytes} on transmit queue {@code queue}'s ring
     * and will report them completed; the queue stops while more than its byte limit is in flight (BQL).
     * A driver that completes inside {@code startXmit} never calls it.
     *
     * @since 1.9
     */
    default void txSentQueue(int queue, int bytes) {
    }

    /**
     * {@code netdev_tx_completed_queue}: the ring finished {@code packets} frames of {@code bytes}; the
     * limit adapts and a queue BQL stopped wakes once it is under its limit again.
     *
     * @since 1.9
     */
    default void txCompletedQueue(int queue, int packets, int bytes) {
    }

    /** Transmit queue {@code queue}'s byte queue limits, or null where the device has none (no queue). @since 1.9 */
    default ByteQueueLimits byteQueueLimits(int queue) {
        return null;
    }

    /** The most transmit queues the device can have ({@code ethtool -l}'s pre-set maximum). @since 1.9 */
    default int maxTxQueues() {
        return 1;
    }

    // --- changes, as rtnetlink makes them ---

    /** {@code ip link set DEV up}: {@code dev_open}. */
    void open() throws NetException;

    /** {@code ip link set DEV down}: {@code dev_close}. */
    void close();

    void setMtu(int mtu) throws NetException;

    void setAddress(MacAddress address) throws NetException;

    void setTxQueueLen(int len) throws NetException;

    void setPromisc(boolean on);

    void setName(String name) throws NetException;

    /** {@code ip link set DEV netns NS}: moves the device, which goes down first, as Linux does. */
    void setNamespace(NetNamespace ns) throws NetException;

    void addAddress(IfAddress address) throws NetException;

    void removeAddress(IfAddress address) throws NetException;

    /** {@code ethtool -G}: new ring sizes; 0 leaves a ring as it is. */
    void setRingParams(int rx, int tx) throws NetException;

    /**
     * {@code ethtool -L combined N}: the driver's {@code set_channels} is asked first, whatever the count
     * (a driver without it refuses with EOPNOTSUPP); the count the device has changes nothing.
     */
    void setRxQueues(int count) throws NetException;

    /**
     * {@code netif_set_real_num_tx_queues}: {@code numtxqueues N} at creation, {@code ethtool -L tx N};
     * EINVAL outside 1..{@link #maxTxQueues()}.
     *
     * @since 1.9
     */
    default void setTxQueues(int count) throws NetException {
        if (count != 1) {
            throw new NetException(Errno.EINVAL);
        }
    }

    /** {@code ethtool -K}: turns a feature on or off; fixed features refuse. */
    void setFeature(String name, boolean on) throws NetException;

    /** {@code ip link del}: unregisters the device (and, for a pair, its peer). */
    void delete() throws NetException;

    /**
     * Attaches an XDP program to the receive hook (null detaches), as {@code ip link set dev DEV xdp}
     * does; it runs on every receive queue at once. EOPNOTSUPP for devices that have no receive path.
     */
    default void setXdp(XdpHook hook) throws NetException {
        throw new NetException(Errno.EOPNOTSUPP, "XDP is not supported on this device");
    }

    /** The attached XDP program, or null. */
    default XdpHook xdp() {
        return null;
    }

    /**
     * Attaches an XDP program in native mode ({@code xdpdrv}: the driver runs it on its own buffers,
     * before any skb — {@link RxQueue#receiveFrame}) or generic mode ({@code xdpgeneric}: at the
     * receive poll, on skbs). Native mode on a driver without it is EOPNOTSUPP.
     */
    default void setXdp(XdpHook hook, boolean nativeMode) throws NetException {
        if (nativeMode && hook != null) {
            throw new NetException(Errno.EOPNOTSUPP, "Underlying driver does not support XDP in native mode.");
        }
        setXdp(hook);
    }

    /** The attached program runs in the driver (native XDP), not at the receive poll. */
    default boolean xdpNative() {
        return false;
    }

    /** The driver can run XDP programs itself ({@code ndo_bpf}): {@code ip link set ... xdp} picks native mode then. */
    default boolean supportsNativeXdp() {
        return false;
    }
}

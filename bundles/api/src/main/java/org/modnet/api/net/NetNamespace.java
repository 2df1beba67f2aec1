package org.modnet.api.net;

import java.util.List;

/**
 * A network namespace, {@code struct net}: its own devices, addresses, sysctls, and (as layers
 * arrive) routes, neighbours, rules and sockets. {@code init_net} exists from the start.
 */
public interface NetNamespace {
    /** The name {@code ip netns} knows it by; {@code init_net} for the initial namespace. */
    String name();

    boolean isInitNet();

    /** Devices in ifindex order. */
    List<NetDevice> devices();

    /** The device of that name, or null. */
    NetDevice device(String name);

    /** The device of that index, or null. */
    NetDevice device(int ifindex);

    /** {@code register_netdevice}: the device appears, down, with the next free ifindex (lo gets 1). */
    NetDevice register(DeviceSetup setup, NetDeviceOps ops) throws NetException;

    /**
     * {@code unregister_netdevice}: the driver takes its device away (module unload, namespace exit).
     * Unlike {@link NetDevice#delete}, which is the user's {@code ip link del}, this always succeeds.
     */
    void unregister(NetDevice dev);

    Sysctl sysctl();

    /**
     * A number that changes whenever an address is added to or removed from a device of this namespace,
     * or a device goes up, down or away: layers cache what they derive from addresses (local addresses,
     * connected routes) against it.
     */
    long addressGeneration();

    NetCore core();

    /**
     * Joins rtnetlink groups ({@link Rtnetlink#mask} of each {@code RTNLGRP_*}): the listener hears every
     * later notification of those groups in this namespace until the returned handle is closed.
     */
    default AutoCloseable rtnlListen(int groupMask, RtnlListener listener) {
        throw new UnsupportedOperationException("rtnetlink notifications are not supported by this namespace");
    }

    /**
     * Whether anybody listens to the group: a notifier checks this first and builds no message when
     * nobody does (one volatile read, no lock, so the packet path may ask).
     */
    default boolean rtnlListening(int group) {
        return false;
    }

    /** {@code rtnl_notify}: hands the message to every listener of its type's group. */
    default void rtnlNotify(RtnlMessage message) {
    }

    /**
     * {@code LINUX_MIB_BUSYPOLLRXPACKETS} ({@code TcpExtBusyPollRxPackets}): frames the busy polls of
     * this namespace's devices' NAPI instances took ({@code napi_busy_loop}, from a blocking read or an
     * epoll wait), counted where Linux counts them, the device's namespace.
     *
     * @since 1.17
     */
    default long busyPollRxPackets() {
        return 0;
    }
}

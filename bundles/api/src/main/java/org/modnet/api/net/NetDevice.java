package org.modnet.api.net;

/**
 * A network device, as {@code struct net_device}: what a packet knows of the interface it came in on
 * or goes out of.
 */
public interface NetDevice {
    /** The interface name, {@code eth0}, {@code lo}, {@code veth0}. */
    String name();

    /** The interface index, unique in its namespace. */
    int ifindex();

    /** The largest payload (L3 packet) the device sends, in bytes. */
    int mtu();
}

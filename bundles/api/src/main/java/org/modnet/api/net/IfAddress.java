package org.modnet.api.net;

import java.net.InetAddress;

/**
 * An address on an interface ({@code struct in_ifaddr}), as {@code ip addr} shows it:
 * {@code inet 10.0.0.1/24 brd 10.0.0.255 scope global veth0}.
 *
 * @param address   the local address
 * @param prefixLen the prefix length, 0..32 for IPv4
 * @param broadcast the broadcast address, or null
 * @param scope     {@code global}, {@code host} (127.0.0.0/8 on lo), {@code link}
 * @param label     the label, by default the device name
 */
public record IfAddress(InetAddress address, int prefixLen, InetAddress broadcast, String scope, String label) {

    public IfAddress {
        int max = address.getAddress().length * 8;
        if (prefixLen < 0 || prefixLen > max) {
            throw new IllegalArgumentException("prefix length " + prefixLen + " is not in 0.." + max);
        }
    }

    /** The family as {@code ip} prints it: {@code inet} or {@code inet6}. */
    public String family() {
        return address.getAddress().length == 4 ? "inet" : "inet6";
    }

    /** Whether the two name the same address and prefix (what {@code ip addr del} matches). */
    public boolean sameAs(IfAddress other) {
        return address.equals(other.address) && prefixLen == other.prefixLen;
    }
}

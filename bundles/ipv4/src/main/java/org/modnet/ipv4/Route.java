package org.modnet.ipv4;

import org.modnet.api.net.NetDevice;

/**
 * A route ({@code struct fib_alias} + {@code fib_nh}), as {@code ip route} shows it.
 *
 * @param type     {@code unicast}, {@code local}, {@code blackhole}, {@code unreachable}, {@code prohibit}
 * @param gateway  the next hop ({@code via}), 0 for a directly connected network
 * @param src      the preferred source address, 0 for none
 * @param protocol {@code kernel} (made from an address), {@code boot} or {@code static} (by hand)
 * @param scope    {@code link} for connected networks, {@code host} for local ones, {@code global} else
 */
record Route(String type, int prefix, int len, int gateway, NetDevice dev, int src, int metric, String protocol,
        String scope) {

    boolean isKernel() {
        return protocol.equals("kernel");
    }
}

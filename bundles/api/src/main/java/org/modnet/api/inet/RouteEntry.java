package org.modnet.api.inet;

import org.modnet.api.net.NetDevice;

/**
 * An IPv4 route as {@code ip route} shows and takes it. Addresses are ints in network order.
 *
 * @param type     {@code unicast}, {@code blackhole}, {@code unreachable}, {@code prohibit}
 * @param gateway  the next hop ({@code via}), 0 for none
 * @param dev      the output device, or null (blackhole and friends)
 * @param src      the preferred source address ({@code src}), 0 for none
 * @param metric   lower wins among routes of the same prefix
 * @param protocol {@code kernel} (from an address), {@code boot} (by hand), {@code static}
 * @param scope    {@code link}, {@code host} or {@code global}
 * @param features the route's {@code RTAX_FEATURES} metric ({@code ip route ... features ecn}): {@link
 *                 #RTAX_FEATURE_ECN}; 0 for none. @since 1.12
 */
public record RouteEntry(String type, int prefix, int len, int gateway, NetDevice dev, int src, int metric, String protocol,
        String scope, int features) {
    /** {@code RTAX_FEATURE_ECN}: TCP asks for and accepts ECN to this destination whatever {@code tcp_ecn} says. */
    public static final int RTAX_FEATURE_ECN = 1 << 0;

    /** A route without features. */
    public RouteEntry(String type, int prefix, int len, int gateway, NetDevice dev, int src, int metric, String protocol,
            String scope) {
        this(type, prefix, len, gateway, dev, src, metric, protocol, scope, 0);
    }
}

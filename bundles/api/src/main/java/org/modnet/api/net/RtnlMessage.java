package org.modnet.api.net;

/**
 * One rtnetlink notification.
 *
 * @param type an {@code RTM_*} of {@link Rtnetlink}
 * @param dev  the device it is about (for a route, its output device, or null for a blackhole)
 * @param body what changed: null for a link (the device itself, read in the listener, which runs while
 *             the change holds the RTNL lock), an {@link IfAddress} for an address,
 *             {@code org.modnet.api.inet.RouteEntry} for a route, {@code org.modnet.api.inet.Neighbour}
 *             for a neighbour (a snapshot: a neighbour changes in softirq, without RTNL)
 */
public record RtnlMessage(int type, NetDevice dev, Object body) {
}

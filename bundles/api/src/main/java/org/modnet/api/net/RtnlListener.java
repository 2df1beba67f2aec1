package org.modnet.api.net;

/**
 * Hears the notifications of the groups it joined ({@link NetNamespace#rtnlListen}). It is called on
 * the thread that made the change — under RTNL for links, addresses and routes, in softirq for
 * neighbours — so it must be quick, must not block, and must not call back into the stack: a listener
 * that prints queues the message (and counts what does not fit, as a netlink socket's overrun).
 */
@FunctionalInterface
public interface RtnlListener {
    void rtnlMessage(RtnlMessage message);
}

package org.modnet.api.net;

/**
 * A layer's per-namespace setup, {@code struct pernet_operations}: registered as a service, it is
 * called for every namespace that exists and every one made later, and for each one removed or when
 * the service goes. {@value #ORDER} (an Integer, lower first) orders the calls: loopback goes first.
 */
public interface PernetOperations {
    String ORDER = "modnet.pernet.order";

    void init(NetNamespace ns) throws NetException;

    void exit(NetNamespace ns);

    /**
     * {@code NETDEV_REGISTER} of {@code register_netdevice_notifier}: a device appeared in its namespace
     * (registered, or moved in). Called under RTNL, after {@link #init}, and for every device already
     * there when the layer arrives, as the kernel replays the notifier; per-device state (sysctl
     * directories) is made here.
     */
    default void netdevRegister(NetDevice dev) {
    }

    /** {@code NETDEV_UNREGISTER}: the device leaves its namespace (unregistered, or moving out), under RTNL. */
    default void netdevUnregister(NetDevice dev) {
    }

    /** {@code NETDEV_CHANGENAME}: the device was renamed from {@code oldName}, under RTNL. */
    default void netdevChangeName(NetDevice dev, String oldName) {
    }
}

package org.modnet.api.xsk;

import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.osgi.annotation.versioning.ProviderType;

/** The AF_XDP address family: {@code socket(AF_XDP, SOCK_RAW, 0)} in a namespace. */
@ProviderType
public interface AfXdp {
    /** {@code AF_XDP}, as {@code socket(2)} takes it. */
    int AF_XDP = 44;

    /** A new, unbound AF_XDP socket in {@code ns}, its fd unique in the instance. */
    XdpSocket socket(NetNamespace ns) throws NetException;
}

package org.modnet.api.net;

import java.util.List;

/**
 * A driver that makes devices on demand, {@code struct rtnl_link_ops}: {@code ip link add NAME type
 * KIND ARGS...} finds the factory registered with service property {@value #KIND}.
 */
public interface LinkFactory {
    String KIND = "modnet.link.kind";

    /** Creates the device (and any peer) in {@code ns}; {@code args} are the words after {@code type KIND}. */
    NetDevice create(NetNamespace ns, String name, List<String> args) throws NetException;
}

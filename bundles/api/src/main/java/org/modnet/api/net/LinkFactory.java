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

    /**
     * {@code rtnl_create_link}: creates the device with the queue counts {@code ip link add NAME
     * numtxqueues N numrxqueues N type KIND ...} gave before {@code type} ({@code IFLA_NUM_TX_QUEUES},
     * {@code IFLA_NUM_RX_QUEUES}; 0 when not given), so a driver whose queues are its own resources
     * makes them with the device. By default {@link #create(NetNamespace, String, List)}: the caller
     * then sets the counts on the device made.
     *
     * @since 1.20
     */
    default NetDevice create(NetNamespace ns, String name, List<String> args, int numTxQueues, int numRxQueues) throws NetException {
        return create(ns, name, args);
    }
}

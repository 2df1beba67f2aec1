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
}

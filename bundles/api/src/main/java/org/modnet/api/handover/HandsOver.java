package org.modnet.api.handover;

/**
 * A service whose provider may hand its state to its next version: asked while the service is being
 * removed, so the layer using it can keep what depends on it (IPv4 holds the protocol's packets, the
 * socket layer parks its sockets' descriptors) instead of tearing it down. One method for every such
 * service type, so a component offering several answers once.
 */
public interface HandsOver {
    /** True when the provider is leaving for an update and its next version will adopt its state. */
    default boolean handingOver() {
        return false;
    }
}

package org.modnet.shell.net;

import org.modnet.api.net.LinkFactory;

/** The link drivers registered as {@link LinkFactory} services, by their {@value LinkFactory#KIND}. */
@FunctionalInterface
interface LinkFactories {
    LinkFactories NONE = kind -> null;

    /** The driver for {@code ip link add ... type KIND}, or null if none is registered. */
    LinkFactory find(String kind);
}

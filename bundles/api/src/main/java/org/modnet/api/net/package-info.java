/**
 * Network devices, the receive and transmit engine, and namespaces: modnet's
 * {@code include/linux/netdevice.h} and {@code net/core}.
 */
@Export
@Version("1.20.0")
package org.modnet.api.net;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

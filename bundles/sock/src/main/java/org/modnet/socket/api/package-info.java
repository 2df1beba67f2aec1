/**
 * The socket layer's API and SPI. Applications use {@link org.modnet.socket.api.Sockets}: BSD-style
 * calls on file descriptors ({@link org.modnet.socket.api.SocketCalls}) or Java's own channel and
 * selector types through a per-namespace {@link java.nio.channels.spi.SelectorProvider}. Protocols
 * ({@code inet_protosw}) register a {@link org.modnet.socket.api.SocketProtocol} service whose sockets
 * extend {@link org.modnet.socket.api.Sock}.
 */
@Export
@Version("1.19.0")
package org.modnet.socket.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

package org.modnet.socket;

import java.io.IOException;
import java.net.ProtocolFamily;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;

import org.modnet.api.net.NetNamespace;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * Java's {@link SelectorProvider} for the sockets of one modnet network namespace: what
 * {@code sun.nio.ch.DefaultSelectorProvider} is for the host's sockets. {@link #openDatagramChannel()}
 * gives a {@link ModnetDatagramChannel} on a new UDP socket ({@code socket(AF_INET, SOCK_DGRAM, 0)}),
 * {@link #openSelector()} a {@link ModnetSelector} that waits on such channels. A channel registers only
 * with a selector of the same provider, as {@link java.nio.channels.spi.AbstractSelectableChannel}
 * requires. {@link #openSocketChannel()} and {@link #openServerSocketChannel()} give a
 * {@link ModnetSocketChannel} and a {@link ModnetServerSocketChannel} on a new stream socket (TCP);
 * pipes are not network sockets at all.
 */
final class ModnetSelectorProvider extends SelectorProvider {
    private final SocketLayer layer;
    private final NetNamespace ns;

    ModnetSelectorProvider(SocketLayer layer, NetNamespace ns) {
        this.layer = Objects.requireNonNull(layer, "layer");
        this.ns = Objects.requireNonNull(ns, "ns");
    }

    SocketLayer layer() {
        return layer;
    }

    NetNamespace namespace() {
        return ns;
    }

    /** {@code socket(AF_INET, SOCK_DGRAM, 0)} in the namespace; the errno becomes a {@link SocketException}. */
    Sock newUdpSocket() throws SocketException {
        try {
            return layer.create(ns, SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0);
        } catch (SockException e) {
            throw new SocketException(e.errno().text());
        }
    }

    @Override
    public DatagramChannel openDatagramChannel() throws IOException {
        return new ModnetDatagramChannel(this, newUdpSocket());
    }

    /** {@link StandardProtocolFamily#INET} only: modnet's sockets are IPv4. */
    @Override
    public DatagramChannel openDatagramChannel(ProtocolFamily family) throws IOException {
        Objects.requireNonNull(family, "family");
        if (family == StandardProtocolFamily.INET6) {
            throw new UnsupportedOperationException("IPv6 datagram channels are not supported: modnet's sockets are IPv4 (use StandardProtocolFamily.INET)");
        }
        if (family != StandardProtocolFamily.INET) {
            throw new UnsupportedOperationException("protocol family " + family + " is not supported: modnet's datagram channels are StandardProtocolFamily.INET");
        }
        return openDatagramChannel();
    }

    @Override
    public AbstractSelector openSelector() {
        return new ModnetSelector(this);
    }

    @Override
    public Pipe openPipe() {
        throw new UnsupportedOperationException("pipes are not sockets: modnet's provider has none (use SelectorProvider.provider().openPipe())");
    }

    /** {@code socket(AF_INET, SOCK_STREAM, 0)} in the namespace: TCP, or "Socket type not supported" without it. */
    Sock newStreamSocket() throws SocketException {
        try {
            return layer.create(ns, SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
        } catch (SockException e) {
            throw new SocketException(e.errno().text());
        }
    }

    @Override
    public ServerSocketChannel openServerSocketChannel() throws IOException {
        return new ModnetServerSocketChannel(this, newStreamSocket());
    }

    @Override
    public SocketChannel openSocketChannel() throws IOException {
        return new ModnetSocketChannel(this, newStreamSocket(), false);
    }

    /** {@link StandardProtocolFamily#INET} only, as for datagram channels. */
    @Override
    public SocketChannel openSocketChannel(ProtocolFamily family) throws IOException {
        inetOnly(family);
        return openSocketChannel();
    }

    @Override
    public ServerSocketChannel openServerSocketChannel(ProtocolFamily family) throws IOException {
        inetOnly(family);
        return openServerSocketChannel();
    }

    private static void inetOnly(ProtocolFamily family) {
        Objects.requireNonNull(family, "family");
        if (family != StandardProtocolFamily.INET) {
            throw new UnsupportedOperationException("protocol family " + family + " is not supported: modnet's sockets are IPv4 (use StandardProtocolFamily.INET)");
        }
    }

    @Override
    public String toString() {
        return "modnet sockets in " + ns.name();
    }
}

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

import org.modnet.api.net.NetNamespace;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * Java's channel factory for one namespace: datagram channels on modnet UDP sockets and selectors that
 * wait on them. A channel registers only with a selector of the same provider, as Java requires.
 */
final class ModnetSelectorProvider extends SelectorProvider {
    private final SocketLayer layer;
    private final NetNamespace ns;

    ModnetSelectorProvider(SocketLayer layer, NetNamespace ns) {
        this.layer = layer;
        this.ns = ns;
    }

    SocketLayer layer() {
        return layer;
    }

    /** A new UDP socket in the namespace, or the errno as Java's exception. */
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

    @Override
    public DatagramChannel openDatagramChannel(ProtocolFamily family) throws IOException {
        if (family != StandardProtocolFamily.INET) {
            throw new UnsupportedOperationException("modnet's sockets are IPv4 (StandardProtocolFamily.INET)");
        }
        return openDatagramChannel();
    }

    @Override
    public AbstractSelector openSelector() {
        return new ModnetSelector(this);
    }

    @Override
    public Pipe openPipe() {
        throw new UnsupportedOperationException("a pipe is not a network socket: use SelectorProvider.provider()");
    }

    @Override
    public ServerSocketChannel openServerSocketChannel() {
        throw new UnsupportedOperationException("stream sockets arrive with the TCP layer");
    }

    @Override
    public SocketChannel openSocketChannel() {
        throw new UnsupportedOperationException("stream sockets arrive with the TCP layer");
    }

    @Override
    public String toString() {
        return "modnet sockets in " + ns.name();
    }
}

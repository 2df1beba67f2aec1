package org.modnet.socket.api;

import java.nio.channels.spi.SelectorProvider;
import java.util.List;

/**
 * The socket layer, a service: processes (descriptor tables) for the BSD-style calls, Java channel
 * providers, and what {@code ss} and {@code /proc/net/sockstat} show.
 */
public interface Sockets {
    /**
     * A new process named {@code command} (what {@code ss -p} shows) whose sockets are created in
     * {@code netns} (empty or null: {@code init_net}); null if there is no such namespace.
     */
    SocketCalls process(String command, String netns);

    /**
     * Java's channels and selectors on modnet sockets in {@code netns}: {@code openDatagramChannel()},
     * {@code openSocketChannel()}, {@code openServerSocketChannel()} and {@code openSelector()} of the
     * returned provider give a {@link java.nio.channels.DatagramChannel}, a
     * {@link java.nio.channels.SocketChannel} and a {@link java.nio.channels.ServerSocketChannel} (on the
     * protocol serving {@code SOCK_STREAM}: TCP) and a {@link java.nio.channels.Selector} that waits on
     * them. Null if there is no such namespace.
     */
    SelectorProvider provider(String netns);

    /**
     * A {@link java.net.DatagramSocket} on a modnet UDP socket in {@code netns}, unbound (bind it, or
     * send and it binds an ephemeral port).
     */
    java.net.DatagramSocket datagramSocket(String netns) throws java.net.SocketException;

    /**
     * A {@link java.net.Socket} on a modnet stream socket in {@code netns}, unconnected: connect it and
     * use its streams. Served by the protocol registered for {@code SOCK_STREAM} (TCP); without one,
     * "Socket type not supported".
     */
    java.net.Socket socket(String netns) throws java.net.SocketException;

    /** A {@link java.net.ServerSocket} on a modnet stream socket in {@code netns}, unbound. */
    java.net.ServerSocket serverSocket(String netns) throws java.io.IOException;

    /** Every open socket of a namespace, for {@code ss}. */
    List<Sock> sockets(String netns);
}

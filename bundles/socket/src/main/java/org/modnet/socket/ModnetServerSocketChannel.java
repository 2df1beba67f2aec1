package org.modnet.socket;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import org.modnet.api.net.Errno;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * A {@link ServerSocketChannel} on one modnet stream socket: {@code bind(2)} and {@code listen(2)} in
 * {@link #bind(SocketAddress, int)} (a backlog below 1 is Java's 50, and TCP caps it at
 * {@code net.core.somaxconn}), {@code accept(2)} blocking or not (null when no connection waits), each
 * accepted connection a {@link ModnetSocketChannel} in blocking mode that {@code ss} lists. A selector
 * reports {@link SelectionKey#OP_ACCEPT} when the accept queue has a connection (POLLIN).
 */
final class ModnetServerSocketChannel extends ServerSocketChannel implements ModnetChannel {
    private static final Set<SocketOption<?>> OPTIONS = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT);

    private final ModnetSelectorProvider provider;
    private final Sock sock;
    private final ReentrantLock acceptLock = new ReentrantLock();
    private final Object stateLock = new Object();
    private volatile boolean bound;
    private ModnetServerSocketAdaptor adaptor; // guarded by stateLock

    ModnetServerSocketChannel(ModnetSelectorProvider provider, Sock sock) {
        super(provider);
        this.provider = provider;
        this.sock = Objects.requireNonNull(sock, "sock");
    }

    @Override
    public Sock sock() {
        return sock;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    boolean isBound() {
        return bound;
    }

    /** {@code bind(2)} then {@code listen(2)}; null binds an ephemeral port on the wildcard address. */
    @Override
    public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (bound) {
                throw new AlreadyBoundException();
            }
            SockAddr a = local == null ? SockAddr.ANY : ModnetDatagramChannel.address(local);
            try {
                sock.bind(a);
                sock.listen(backlog < 1 ? 50 : backlog);
            } catch (SockException e) {
                throw ModnetDatagramChannel.bindException(e);
            }
            bound = true;
        }
        return this;
    }

    /**
     * {@code accept(2)}: the next connection of the accept queue; blocking, it waits for one,
     * non-blocking it is null when there is none.
     */
    @Override
    public SocketChannel accept() throws IOException {
        acceptLock.lock();
        try {
            ensureOpen();
            if (!bound) {
                throw new NotYetBoundException();
            }
            boolean done = false;
            Sock child;
            try {
                begin();
                child = sock.accept(!isBlocking());
                done = true;
            } catch (SockException e) {
                if (e.errno() == Errno.EAGAIN) {
                    done = true;
                    return null;
                }
                if (e.errno() == Errno.EINTR && Thread.currentThread().isInterrupted()) {
                    // the sleep may wake before Thread.interrupt calls the interruptor: begin() on an
                    // interrupted thread runs it here, so the channel closes and end() throws
                    // ClosedByInterruptException (see ModnetSocketChannel.interrupted)
                    begin();
                    throw new ClosedByInterruptException();
                }
                throw ModnetDatagramChannel.exception(e);
            } finally {
                end(done);
            }
            provider.layer().accepted(sock, child);
            child.setNonBlocking(false);
            return new ModnetSocketChannel(provider, child, true);
        } finally {
            acceptLock.unlock();
        }
    }

    /** The wait of {@link ServerSocket#setSoTimeout}: SocketTimeoutException when nothing came in time. */
    void awaitAcceptable(int millis) throws IOException {
        if (millis <= 0) {
            return;
        }
        try {
            boolean ready = ModnetSocketChannel.awaitPoll(sock, SocketCalls.POLLIN, millis);
            ensureOpen();
            if (!ready) {
                throw new SocketTimeoutException("Accept timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new ClosedByInterruptException();
        }
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        ensureOpen();
        SockAddr a = sock.localAddress();
        return bound ? a.toInetSocketAddress() : null;
    }

    @Override
    public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        Objects.requireNonNull(name, "name");
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (!name.type().isInstance(value)) {
            throw new IllegalArgumentException("Invalid value '" + value + "'");
        }
        synchronized (stateLock) {
            ensureOpen();
            int v = value instanceof Boolean b ? (b ? 1 : 0) : (Integer) value;
            if (name == StandardSocketOptions.SO_RCVBUF && v < 0) {
                throw new IllegalArgumentException("Invalid receive buffer size");
            }
            try {
                sock.setOption(SocketCalls.SOL_SOCKET, ModnetSocketChannel.solSocket(name), new int[] { v });
            } catch (SockException e) {
                throw new SocketException(e.errno().text());
            }
        }
        return this;
    }

    @SuppressWarnings("unchecked")
    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        Objects.requireNonNull(name, "name");
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        synchronized (stateLock) {
            ensureOpen();
            int[] v = new int[2];
            try {
                sock.getOption(SocketCalls.SOL_SOCKET, ModnetSocketChannel.solSocket(name), v);
            } catch (SockException e) {
                throw new SocketException(e.errno().text());
            }
            return name.type() == Boolean.class ? (T) Boolean.valueOf(v[0] != 0) : (T) Integer.valueOf(v[0]);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return OPTIONS;
    }

    /** POLLIN on a listener is a connection to accept; an error or a close makes the key ready. */
    @Override
    public int readyOps(int mask, int interest) {
        if ((mask & SocketCalls.POLLNVAL) != 0) {
            return 0;
        }
        if ((mask & (SocketCalls.POLLERR | SocketCalls.POLLHUP)) != 0 && bound) {
            return interest;
        }
        return (mask & SocketCalls.POLLIN) != 0 ? interest & SelectionKey.OP_ACCEPT : 0;
    }

    @Override
    public ServerSocket socket() {
        synchronized (stateLock) {
            if (adaptor == null) {
                try {
                    adaptor = new ModnetServerSocketAdaptor(this);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            return adaptor;
        }
    }

    @Override
    protected void implCloseSelectableChannel() {
        provider.layer().closed(sock);
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        sock.setNonBlocking(!block);
    }

    @Override
    public String toString() {
        if (!isOpen()) {
            return "modnet ServerSocketChannel[closed]";
        }
        return "modnet ServerSocketChannel[" + (bound ? sock.localAddress().toInetSocketAddress() : "unbound") + "]";
    }
}

package org.modnet.socket;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;

import org.modnet.socket.api.SockAddr;

/**
 * {@link ServerSocketChannel#socket()}: a {@link ServerSocket} whose operations are its channel's, as
 * {@code sun.nio.ch.ServerSocketAdaptor} is; {@link #accept()} works in blocking mode only and
 * {@link #setSoTimeout} bounds it.
 */
final class ModnetServerSocketAdaptor extends ServerSocket {
    private final ModnetServerSocketChannel ch;
    private volatile int timeout;

    ModnetServerSocketAdaptor(ModnetServerSocketChannel ch) throws IOException {
        super(new ModnetStreamSockets.Impl(null, null, null));
        this.ch = ch;
    }

    @Override
    public ServerSocketChannel getChannel() {
        return ch;
    }

    @Override
    public void bind(SocketAddress local) throws IOException {
        bind(local, 50);
    }

    @Override
    public void bind(SocketAddress local, int backlog) throws IOException {
        ch.bind(local, backlog);
    }

    @Override
    public Socket accept() throws IOException {
        synchronized (ch.blockingLock()) {
            if (!ch.isOpen()) {
                throw new SocketException("Socket is closed");
            }
            if (!ch.isBound()) {
                throw new SocketException("Socket is not bound yet");
            }
            if (!ch.isBlocking()) {
                throw new IllegalBlockingModeException();
            }
            ch.awaitAcceptable(timeout);
            SocketChannel c = ch.accept();
            return c.socket();
        }
    }

    @Override
    public InetAddress getInetAddress() {
        SockAddr a = ch.isOpen() && ch.isBound() ? ch.sock().localAddress() : null;
        return a == null ? null : a.toInetSocketAddress().getAddress();
    }

    @Override
    public int getLocalPort() {
        return ch.isOpen() && ch.isBound() ? ch.sock().localAddress().port() : -1;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return ch.isOpen() && ch.isBound() ? ch.sock().localAddress().toInetSocketAddress() : null;
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (!ch.isOpen()) {
            throw new SocketException("Socket is closed");
        }
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        this.timeout = timeout;
    }

    @Override
    public int getSoTimeout() throws IOException {
        if (!ch.isOpen()) {
            throw new SocketException("Socket is closed");
        }
        return timeout;
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, on);
        } catch (IOException e) {
            throw new SocketException("Socket is closed");
        }
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        try {
            return ch.getOption(StandardSocketOptions.SO_REUSEADDR);
        } catch (IOException e) {
            throw new SocketException("Socket is closed");
        }
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("negative receive size");
        }
        try {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, size);
        } catch (IOException e) {
            throw new SocketException("Socket is closed");
        }
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        try {
            return ch.getOption(StandardSocketOptions.SO_RCVBUF);
        } catch (IOException e) {
            throw new SocketException("Socket is closed");
        }
    }

    @Override
    public <T> ServerSocket setOption(SocketOption<T> name, T value) throws IOException {
        ch.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return ch.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return ch.supportedOptions();
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }

    @Override
    public boolean isBound() {
        return ch.isBound();
    }

    @Override
    public boolean isClosed() {
        return !ch.isOpen();
    }

    @Override
    public String toString() {
        return ch.isBound() ? "ServerSocket[addr=" + getInetAddress() + ",localport=" + getLocalPort() + "]" : "ServerSocket[unbound]";
    }
}

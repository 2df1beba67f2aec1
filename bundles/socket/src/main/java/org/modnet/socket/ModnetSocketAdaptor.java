package org.modnet.socket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Set;

import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * {@link SocketChannel#socket()}: a {@link Socket} whose every operation is its channel's, as
 * {@code sun.nio.ch.SocketAdaptor} is. Its streams and its connect work in blocking mode only
 * ({@link IllegalBlockingModeException} otherwise); {@link #setSoTimeout} bounds a read.
 */
final class ModnetSocketAdaptor extends Socket {
    private final ModnetSocketChannel ch;
    private volatile int timeout;
    private InputStream in;
    private OutputStream out;

    ModnetSocketAdaptor(ModnetSocketChannel ch) throws SocketException {
        super(new ModnetStreamSockets.Impl(null, null, null));
        this.ch = ch;
    }

    @Override
    public SocketChannel getChannel() {
        return ch;
    }

    @Override
    public void connect(SocketAddress remote) throws IOException {
        connect(remote, 0);
    }

    @Override
    public void connect(SocketAddress remote, int timeout) throws IOException {
        Objects.requireNonNull(remote, "connect: The address can't be null");
        if (timeout < 0) {
            throw new IllegalArgumentException("connect: timeout can't be negative");
        }
        synchronized (ch.blockingLock()) {
            if (!ch.isBlocking()) {
                throw new IllegalBlockingModeException();
            }
            if (timeout == 0) {
                ch.connect(remote);
                return;
            }
            ch.configureBlocking(false);
            try {
                if (!ch.connect(remote)) {
                    if (!ch.awaitPoll(SocketCalls.POLLOUT | SocketCalls.POLLERR | SocketCalls.POLLHUP, timeout)) {
                        ch.close();
                        throw new SocketTimeoutException("Connect timed out");
                    }
                    ch.finishConnect();
                }
            } finally {
                if (ch.isOpen()) {
                    ch.configureBlocking(true);
                }
            }
        }
    }

    @Override
    public void bind(SocketAddress local) throws IOException {
        ch.bind(local);
    }

    @Override
    public InetAddress getInetAddress() {
        InetSocketAddress r = remote();
        return r == null ? null : r.getAddress();
    }

    @Override
    public int getPort() {
        InetSocketAddress r = remote();
        return r == null ? 0 : r.getPort();
    }

    private InetSocketAddress remote() {
        if (!ch.isConnected()) {
            return null;
        }
        SockAddr a = ch.sock().remoteAddress();
        return a.port() == 0 ? null : a.toInetSocketAddress();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return remote();
    }

    @Override
    public InetAddress getLocalAddress() {
        if (ch.isOpen()) {
            SockAddr a = ch.sock().localAddress();
            if (a.port() != 0) {
                return a.toInetSocketAddress().getAddress();
            }
        }
        return new InetSocketAddress(0).getAddress();
    }

    @Override
    public int getLocalPort() {
        if (!ch.isOpen()) {
            return -1;
        }
        int p = ch.sock().localAddress().port();
        return p == 0 ? -1 : p;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        if (!ch.isOpen()) {
            return null;
        }
        SockAddr a = ch.sock().localAddress();
        return a.port() == 0 ? null : a.toInetSocketAddress();
    }

    @Override
    public InputStream getInputStream() throws IOException {
        check("input");
        if (ch.isInputClosed()) {
            throw new SocketException("Socket input is shutdown");
        }
        synchronized (this) {
            if (in == null) {
                in = new InputStream() {
                    @Override
                    public int read() throws IOException {
                        byte[] one = new byte[1];
                        int n = read(one, 0, 1);
                        return n < 0 ? -1 : one[0] & 0xff;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        Objects.checkFromIndexSize(off, len, b.length);
                        if (len == 0) {
                            return 0;
                        }
                        synchronized (ch.blockingLock()) {
                            if (!ch.isBlocking()) {
                                throw new IllegalBlockingModeException();
                            }
                            ch.awaitReadable(timeout);
                            return ch.read(ByteBuffer.wrap(b, off, len));
                        }
                    }

                    @Override
                    public int available() throws IOException {
                        return ch.isOpen() ? ch.sock().available() : 0;
                    }

                    @Override
                    public void close() throws IOException {
                        ch.close();
                    }
                };
            }
            return in;
        }
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        check("output");
        if (ch.isOutputClosed()) {
            throw new SocketException("Socket output is shutdown");
        }
        synchronized (this) {
            if (out == null) {
                out = new OutputStream() {
                    @Override
                    public void write(int b) throws IOException {
                        write(new byte[] { (byte) b }, 0, 1);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        Objects.checkFromIndexSize(off, len, b.length);
                        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                        synchronized (ch.blockingLock()) {
                            if (!ch.isBlocking()) {
                                throw new IllegalBlockingModeException();
                            }
                            while (buf.hasRemaining()) {
                                ch.write(buf);
                            }
                        }
                    }

                    @Override
                    public void close() throws IOException {
                        ch.close();
                    }
                };
            }
            return out;
        }
    }

    private void check(String what) throws SocketException {
        if (!ch.isOpen()) {
            throw new SocketException("Socket is closed");
        }
        if (!ch.isConnected()) {
            throw new SocketException("Socket is not connected");
        }
    }

    // --- options, through the channel ---

    private <T> void set(SocketOption<T> name, T value) throws SocketException {
        try {
            ch.setOption(name, value);
        } catch (SocketException e) {
            throw e;
        } catch (IOException e) {
            throw new SocketException(e.getMessage() == null ? "Socket is closed" : e.getMessage());
        }
    }

    private <T> T get(SocketOption<T> name) throws SocketException {
        try {
            return ch.getOption(name);
        } catch (SocketException e) {
            throw e;
        } catch (IOException e) {
            throw new SocketException(e.getMessage() == null ? "Socket is closed" : e.getMessage());
        }
    }

    @Override
    public <T> Socket setOption(SocketOption<T> name, T value) throws IOException {
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
    public void setTcpNoDelay(boolean on) throws SocketException {
        set(StandardSocketOptions.TCP_NODELAY, on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return get(StandardSocketOptions.TCP_NODELAY);
    }

    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        set(StandardSocketOptions.SO_LINGER, on ? Math.max(linger, 0) : -1);
    }

    @Override
    public int getSoLinger() throws SocketException {
        return get(StandardSocketOptions.SO_LINGER);
    }

    @Override
    public void sendUrgentData(int data) throws IOException {
        throw new SocketException("Urgent data not supported");
    }

    @Override
    public void setOOBInline(boolean on) throws SocketException {
        if (on) {
            throw new SocketException("urgent data is not supported");
        }
    }

    @Override
    public boolean getOOBInline() {
        return false;
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
    public int getSoTimeout() throws SocketException {
        if (!ch.isOpen()) {
            throw new SocketException("Socket is closed");
        }
        return timeout;
    }

    @Override
    public void setSendBufferSize(int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("Invalid send size");
        }
        set(StandardSocketOptions.SO_SNDBUF, size);
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        return get(StandardSocketOptions.SO_SNDBUF);
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("Invalid receive size");
        }
        set(StandardSocketOptions.SO_RCVBUF, size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return get(StandardSocketOptions.SO_RCVBUF);
    }

    @Override
    public void setKeepAlive(boolean on) throws SocketException {
        set(StandardSocketOptions.SO_KEEPALIVE, on);
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        return get(StandardSocketOptions.SO_KEEPALIVE);
    }

    @Override
    public void setTrafficClass(int tc) throws SocketException {
        set(StandardSocketOptions.IP_TOS, tc);
    }

    @Override
    public int getTrafficClass() throws SocketException {
        return get(StandardSocketOptions.IP_TOS);
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        set(StandardSocketOptions.SO_REUSEADDR, on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return get(StandardSocketOptions.SO_REUSEADDR);
    }

    // --- state ---

    @Override
    public void close() throws IOException {
        ch.close();
    }

    @Override
    public void shutdownInput() throws IOException {
        try {
            ch.shutdownInput();
        } catch (java.nio.channels.ClosedChannelException e) {
            throw new SocketException("Socket is closed");
        } catch (java.nio.channels.NotYetConnectedException e) {
            throw new SocketException("Socket is not connected");
        }
    }

    @Override
    public void shutdownOutput() throws IOException {
        try {
            ch.shutdownOutput();
        } catch (java.nio.channels.ClosedChannelException e) {
            throw new SocketException("Socket is closed");
        } catch (java.nio.channels.NotYetConnectedException e) {
            throw new SocketException("Socket is not connected");
        }
    }

    @Override
    public boolean isConnected() {
        return ch.isConnected();
    }

    @Override
    public boolean isBound() {
        return ch.isOpen() && ch.sock().localAddress().port() != 0;
    }

    @Override
    public boolean isClosed() {
        return !ch.isOpen();
    }

    @Override
    public boolean isInputShutdown() {
        return ch.isInputClosed();
    }

    @Override
    public boolean isOutputShutdown() {
        return ch.isOutputClosed();
    }

    @Override
    public String toString() {
        if (ch.isConnected()) {
            return "Socket[addr=" + getInetAddress() + ",port=" + getPort() + ",localport=" + getLocalPort() + "]";
        }
        return "Socket[unconnected]";
    }
}

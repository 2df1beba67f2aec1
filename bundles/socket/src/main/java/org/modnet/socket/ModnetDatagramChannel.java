package org.modnet.socket;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.Set;

import org.modnet.api.net.Errno;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * A {@link DatagramChannel} on a modnet UDP socket: blocking or not, selectable with a
 * {@link ModnetSelector} of the same provider, interruptible (an interrupt closes it, as Java's do).
 * Errors become Java's exceptions: ECONNREFUSED a {@link PortUnreachableException}, a refused bind a
 * {@link BindException}, no route a {@link NoRouteToHostException}.
 */
final class ModnetDatagramChannel extends DatagramChannel {
    private static final Set<SocketOption<?>> OPTIONS = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT,
            StandardSocketOptions.SO_BROADCAST, StandardSocketOptions.IP_TOS);

    private final ModnetSelectorProvider provider;
    private final Sock sock;
    private DatagramSocket adapter;

    ModnetDatagramChannel(ModnetSelectorProvider provider, Sock sock) {
        super(provider);
        this.provider = provider;
        this.sock = sock;
    }

    Sock sock() {
        return sock;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    /** The errno as the exception Java's own channels throw for it. */
    static IOException exception(SockException e) {
        Errno errno = e.errno();
        return switch (errno) {
            case ECONNREFUSED -> new PortUnreachableException(errno.text());
            case EADDRINUSE, EADDRNOTAVAIL -> new BindException(errno.text());
            case ENETUNREACH, EHOSTUNREACH -> new NoRouteToHostException(errno.text());
            case EBADF -> new AsynchronousCloseException();
            default -> new SocketException(errno.text());
        };
    }

    static SockAddr address(SocketAddress a) {
        if (!(a instanceof InetSocketAddress isa)) {
            throw new UnsupportedAddressTypeException();
        }
        if (isa.isUnresolved()) {
            throw new UnresolvedAddressException();
        }
        if (isa.getAddress().isAnyLocalAddress()) {
            return new SockAddr(0, isa.getPort()); // :: or 0.0.0.0, the wildcard either way
        }
        SockAddr s = SockAddr.of(isa);
        if (s == null) {
            throw new UnsupportedAddressTypeException(); // IPv6
        }
        return s;
    }

    @Override
    public DatagramChannel bind(SocketAddress local) throws IOException {
        ensureOpen();
        if (sock.localAddress().port() != 0) {
            throw new AlreadyBoundException();
        }
        try {
            sock.bind(local == null ? SockAddr.ANY : address(local));
        } catch (SockException e) {
            throw exception(e);
        }
        return this;
    }

    @Override
    public DatagramChannel connect(SocketAddress remote) throws IOException {
        ensureOpen();
        if (isConnected()) {
            throw new AlreadyConnectedException();
        }
        try {
            sock.connect(address(remote));
        } catch (SockException e) {
            throw exception(e);
        }
        return this;
    }

    @Override
    public DatagramChannel disconnect() throws IOException {
        if (isOpen() && isConnected()) {
            try {
                sock.connect(null);
            } catch (SockException e) {
                throw exception(e);
            }
        }
        return this;
    }

    @Override
    public boolean isConnected() {
        return sock.state() == Sock.TCP_ESTABLISHED;
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        ensureOpen();
        return isConnected() ? sock.remoteAddress().toInetSocketAddress() : null;
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        ensureOpen();
        SockAddr a = sock.localAddress();
        return a.port() == 0 ? null : a.toInetSocketAddress();
    }

    @Override
    public SocketAddress receive(ByteBuffer dst) throws IOException {
        ensureOpen();
        SockAddr[] from = new SockAddr[1];
        boolean done = false;
        try {
            begin();
            sock.recv(dst, from, 0);
            done = true;
            return from[0].toInetSocketAddress();
        } catch (SockException e) {
            if (e.errno() == Errno.EAGAIN) {
                done = true;
                return null; // non-blocking and nothing queued
            }
            throw exception(e);
        } finally {
            end(done);
        }
    }

    @Override
    public int send(ByteBuffer src, SocketAddress target) throws IOException {
        ensureOpen();
        SockAddr to = address(target);
        if (isConnected() && !to.equals(sock.remoteAddress())) {
            throw new AlreadyConnectedException();
        }
        boolean done = false;
        try {
            begin();
            int n = sock.send(src, to, 0);
            done = true;
            return n;
        } catch (SockException e) {
            if (e.errno() == Errno.EAGAIN) {
                done = true;
                return 0; // non-blocking and the send buffer is full
            }
            throw exception(e);
        } finally {
            end(done);
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return (int) read(new ByteBuffer[] { dst }, 0, 1);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        ensureOpen();
        if (!isConnected()) {
            throw new NotYetConnectedException();
        }
        ByteBuffer[] iov = java.util.Arrays.copyOfRange(dsts, offset, offset + length);
        boolean done = false;
        try {
            begin();
            int n = sock.recvmsg(iov, null, 0, null);
            done = true;
            return n;
        } catch (SockException e) {
            if (e.errno() == Errno.EAGAIN) {
                done = true;
                return 0;
            }
            throw exception(e);
        } finally {
            end(done);
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return (int) write(new ByteBuffer[] { src }, 0, 1);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        ensureOpen();
        if (!isConnected()) {
            throw new NotYetConnectedException();
        }
        ByteBuffer[] iov = java.util.Arrays.copyOfRange(srcs, offset, offset + length);
        boolean done = false;
        try {
            begin();
            int n = sock.sendmsg(iov, null, 0);
            done = true;
            return n;
        } catch (SockException e) {
            if (e.errno() == Errno.EAGAIN) {
                done = true;
                return 0;
            }
            throw exception(e);
        } finally {
            end(done);
        }
    }

    @Override
    public <T> DatagramChannel setOption(SocketOption<T> name, T value) throws IOException {
        ensureOpen();
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (value == null) {
            throw new IllegalArgumentException("Invalid value 'null'");
        }
        int v = value instanceof Boolean b ? (b ? 1 : 0) : (Integer) value;
        try {
            sock.setOption(level(name), number(name), new int[] { v });
        } catch (SockException e) {
            throw exception(e);
        }
        return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(SocketOption<T> name) throws IOException {
        ensureOpen();
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        int[] v = new int[2];
        try {
            sock.getOption(level(name), number(name), v);
        } catch (SockException e) {
            throw exception(e);
        }
        return name.type() == Boolean.class ? (T) Boolean.valueOf(v[0] != 0) : (T) Integer.valueOf(v[0]);
    }

    private static int level(SocketOption<?> name) {
        return name == StandardSocketOptions.IP_TOS ? SocketCalls.IPPROTO_IP : SocketCalls.SOL_SOCKET;
    }

    private static int number(SocketOption<?> name) {
        if (name == StandardSocketOptions.SO_RCVBUF) {
            return SocketCalls.SO_RCVBUF;
        } else if (name == StandardSocketOptions.SO_SNDBUF) {
            return SocketCalls.SO_SNDBUF;
        } else if (name == StandardSocketOptions.SO_REUSEADDR) {
            return SocketCalls.SO_REUSEADDR;
        } else if (name == StandardSocketOptions.SO_REUSEPORT) {
            return SocketCalls.SO_REUSEPORT;
        } else if (name == StandardSocketOptions.SO_BROADCAST) {
            return SocketCalls.SO_BROADCAST;
        }
        return SocketCalls.IP_TOS;
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return OPTIONS;
    }

    @Override
    public synchronized DatagramSocket socket() {
        if (adapter == null) {
            adapter = new ModnetDatagramSocket(provider.layer(), sock);
        }
        return adapter;
    }

    @Override
    public MembershipKey join(InetAddress group, NetworkInterface interf) {
        throw new UnsupportedOperationException("multicast is not supported yet");
    }

    @Override
    public MembershipKey join(InetAddress group, NetworkInterface interf, InetAddress source) {
        throw new UnsupportedOperationException("multicast is not supported yet");
    }

    @Override
    protected void implCloseSelectableChannel() {
        provider.layer().closed(sock); // wakes a thread blocked in receive and every selector
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        sock.setNonBlocking(!block);
    }

    @Override
    public String toString() {
        return "modnet DatagramChannel[" + (isOpen() ? sock.localAddress() : "closed") + "]";
    }
}

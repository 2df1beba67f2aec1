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
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import org.modnet.api.net.Errno;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * A {@link DatagramChannel} on one modnet UDP socket: what {@code sun.nio.ch.DatagramChannelImpl} is on
 * a host socket. Every operation is the socket's ({@code bind(2)}, {@code connect(2)},
 * {@code recvfrom(2)}, {@code sendto(2)}, {@code setsockopt(2)}), blocking or not as the channel is
 * configured ({@code O_NONBLOCK}); the channel is selectable with a {@link ModnetSelector} of the same
 * provider and interruptible (an interrupt or an asynchronous close wakes a blocked caller, as Java's
 * channels do).
 *
 * <p>Errors become the exceptions Java's own channel throws for them: ECONNREFUSED (an ICMP port
 * unreachable on a connected socket) a {@link PortUnreachableException}; EADDRINUSE, EADDRNOTAVAIL and
 * EACCES from bind a {@link BindException}; no route a {@link NoRouteToHostException}; any other errno
 * a {@link SocketException} with its {@code strerror} text; a closed channel a
 * {@link ClosedChannelException}. Only one thread at a time reads (receive, read) and one writes (send,
 * write); bind, connect and disconnect are serialized with each other.
 */
final class ModnetDatagramChannel extends DatagramChannel implements ModnetChannel {
    private static final Set<SocketOption<?>> OPTIONS = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT,
            StandardSocketOptions.SO_BROADCAST, StandardSocketOptions.IP_TOS);

    private final ModnetSelectorProvider provider;
    private final Sock sock;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Object stateLock = new Object();
    private ModnetDatagramSocket adapter; // guarded by stateLock

    ModnetDatagramChannel(ModnetSelectorProvider provider, Sock sock) {
        super(provider);
        this.provider = provider;
        this.sock = Objects.requireNonNull(sock, "sock");
    }

    /** The modnet socket under the channel (selectors poll it and wait on it). */
    @Override
    public Sock sock() {
        return sock;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    // --- errno to Java ---

    /** The errno of a socket call as the exception Java's channels throw for it. */
    static IOException exception(SockException e) {
        Errno errno = e.errno();
        return switch (errno) {
            case ECONNREFUSED -> new PortUnreachableException(errno.text());
            case ENETUNREACH, EHOSTUNREACH -> new NoRouteToHostException(errno.text());
            case EBADF -> new ClosedChannelException(); // the socket was closed under the call
            default -> new SocketException(errno.text());
        };
    }

    /** The errno of {@code bind(2)}: the address is taken, not local or not permitted is a {@link BindException}. */
    static IOException bindException(SockException e) {
        Errno errno = e.errno();
        return switch (errno) {
            case EADDRINUSE, EADDRNOTAVAIL, EACCES -> new BindException(errno.text());
            default -> exception(e);
        };
    }

    /**
     * Java's socket address as a {@code sockaddr_in}: the wildcard ({@code 0.0.0.0} or {@code ::}) is
     * {@code INADDR_ANY}; an unresolved name is an {@link UnresolvedAddressException}, anything not
     * IPv4 an {@link UnsupportedAddressTypeException}.
     */
    static SockAddr address(SocketAddress a) {
        Objects.requireNonNull(a, "address");
        if (!(a instanceof InetSocketAddress isa)) {
            throw new UnsupportedAddressTypeException();
        }
        if (isa.isUnresolved()) {
            throw new UnresolvedAddressException();
        }
        if (isa.getAddress().isAnyLocalAddress()) {
            return new SockAddr(0, isa.getPort());
        }
        SockAddr s = SockAddr.of(isa);
        if (s == null) {
            throw new UnsupportedAddressTypeException(); // IPv6: modnet's sockets are IPv4
        }
        return s;
    }

    /**
     * {@code connect(AF_UNSPEC)}, keeping the local port: Linux's {@code udp_disconnect} drops a port the
     * socket got implicitly, and Java's channels bind it again afterwards (as
     * {@code DatagramChannelImpl.disconnect} does on Linux) so the socket stays where it was bound.
     */
    static void disconnectKeepingPort(Sock sock) throws SockException {
        SockAddr before = sock.localAddress();
        sock.connect(null);
        SockAddr after = sock.localAddress();
        if (before.port() != 0 && after.port() == 0) {
            sock.bind(new SockAddr(after.address(), before.port()));
        }
    }

    /**
     * Whether a blocked call (between {@code begin} and {@code end}) ended with EINTR because its
     * thread was interrupted: the socket's sleep answers the interrupt itself, perhaps before
     * {@link Thread#interrupt} has called the channel's interruptor. {@link #begin()} on an interrupted
     * thread runs the interruptor here (marks this thread, closes the channel), so {@code end} throws
     * {@link ClosedByInterruptException} whichever thread got there first; closing the channel
     * directly would make {@code end} throw AsynchronousCloseException instead.
     */
    private boolean closedByInterrupt(SockException e) {
        if (e.errno() != Errno.EINTR || !Thread.currentThread().isInterrupted()) {
            return false;
        }
        begin();
        return true;
    }

    // --- binding and connecting ---

    /** {@code bind(2)}; null binds an ephemeral port on the wildcard address. */
    @Override
    public DatagramChannel bind(SocketAddress local) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (isBound()) {
                throw new AlreadyBoundException();
            }
            SockAddr a = local == null ? SockAddr.ANY : address(local);
            try {
                sock.bind(a);
            } catch (SockException e) {
                throw bindException(e);
            }
        }
        return this;
    }

    private boolean isBound() {
        return sock.localAddress().port() != 0;
    }

    /** Binds an ephemeral port if the socket has none, as Java's channels do before a receive. */
    private void bindIfUnbound() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (!isBound()) {
                try {
                    sock.bind(SockAddr.ANY);
                } catch (SockException e) {
                    throw bindException(e);
                }
            }
        }
    }

    /** {@code connect(2)}: an unbound socket is bound to an ephemeral port first (UDP's autobind). */
    @Override
    public DatagramChannel connect(SocketAddress remote) throws IOException {
        SockAddr to = address(remote);
        synchronized (stateLock) {
            ensureOpen();
            if (isConnected()) {
                throw new AlreadyConnectedException();
            }
            boolean done = false;
            try {
                begin();
                sock.connect(to);
                done = true;
            } catch (SockException e) {
                throw exception(e);
            } finally {
                end(done);
            }
        }
        return this;
    }

    /** {@code connect(AF_UNSPEC)}; nothing when not connected or closed. The local port is kept. */
    @Override
    public DatagramChannel disconnect() throws IOException {
        synchronized (stateLock) {
            if (!isOpen() || !isConnected()) {
                return this;
            }
            try {
                disconnectKeepingPort(sock);
            } catch (SockException e) {
                throw exception(e);
            }
        }
        return this;
    }

    @Override
    public boolean isConnected() {
        return isOpen() && sock.state() == Sock.TCP_ESTABLISHED;
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        ensureOpen();
        return isConnected() ? sock.remoteAddress().toInetSocketAddress() : null;
    }

    /** {@code getsockname(2)}; null while the socket has no port. */
    @Override
    public SocketAddress getLocalAddress() throws IOException {
        ensureOpen();
        SockAddr a = sock.localAddress();
        return a.port() == 0 ? null : a.toInetSocketAddress();
    }

    // --- datagrams ---

    /**
     * {@code recvfrom(2)}: the sender's address, or null in non-blocking mode when nothing is queued
     * (EAGAIN). A datagram longer than the buffer's room is cut, the rest discarded.
     */
    @Override
    public SocketAddress receive(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("Read-only buffer");
        }
        readLock.lock();
        try {
            bindIfUnbound();
            SockAddr[] from = new SockAddr[1];
            io(() -> sock.recv(dst, from, 0)); // EAGAIN leaves no sender: null, as the channel says "nothing yet"
            return from[0] == null ? null : from[0].toInetSocketAddress();
        } finally {
            readLock.unlock();
        }
    }

    /**
     * {@code sendto(2)}: the buffer's remaining bytes as one datagram; returns their count, or 0 in
     * non-blocking mode when the send buffer is full (EAGAIN). A connected channel sends only to its peer.
     */
    @Override
    public int send(ByteBuffer src, SocketAddress target) throws IOException {
        Objects.requireNonNull(src, "src");
        SockAddr to = address(target);
        writeLock.lock();
        try {
            ensureOpen();
            if (isConnected() && !to.equals(sock.remoteAddress())) {
                throw new AlreadyConnectedException();
            }
            return io(() -> sock.send(src, to, 0));
        } finally {
            writeLock.unlock();
        }
    }

    /** A socket call that may block, as the channel makes one. */
    @FunctionalInterface
    private interface SockCall {
        int run() throws SockException;
    }

    /**
     * One socket call between {@code begin()} and {@code end()}: EAGAIN (non-blocking, nothing to do)
     * gives 0, an interrupt that closed the channel {@link ClosedByInterruptException}, other errnos
     * their Java exception.
     */
    private int io(SockCall call) throws IOException {
        boolean done = false;
        try {
            begin();
            int n = call.run();
            done = true;
            return n;
        } catch (SockException e) {
            if (e.errno() == Errno.EAGAIN) {
                done = true;
                return 0;
            }
            if (closedByInterrupt(e)) {
                done = true;
                throw new ClosedByInterruptException();
            }
            throw exception(e);
        } finally {
            end(done);
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        return (int) read(new ByteBuffer[] { dst }, 0, 1);
    }

    /**
     * {@code recvmsg(2)} from the connected peer into the buffers in turn (a scattering read); 0 in
     * non-blocking mode when nothing is queued.
     */
    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        ByteBuffer[] iov = Arrays.copyOfRange(dsts, offset, offset + length);
        for (ByteBuffer b : iov) {
            if (Objects.requireNonNull(b, "buffer").isReadOnly()) {
                throw new IllegalArgumentException("Read-only buffer");
            }
        }
        readLock.lock();
        try {
            ensureOpen();
            if (!isConnected()) {
                throw new NotYetConnectedException();
            }
            return io(() -> sock.recvmsg(iov, null, 0, null));
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        return (int) write(new ByteBuffer[] { src }, 0, 1);
    }

    /**
     * {@code sendmsg(2)} to the connected peer: the buffers' remaining bytes gathered into one datagram;
     * 0 in non-blocking mode when the send buffer is full.
     */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        ByteBuffer[] iov = Arrays.copyOfRange(srcs, offset, offset + length);
        for (ByteBuffer b : iov) {
            Objects.requireNonNull(b, "buffer");
        }
        writeLock.lock();
        try {
            ensureOpen();
            if (!isConnected()) {
                throw new NotYetConnectedException();
            }
            return io(() -> sock.sendmsg(iov, null, 0));
        } finally {
            writeLock.unlock();
        }
    }

    // --- options ---

    /**
     * {@code setsockopt(2)}: SO_RCVBUF, SO_SNDBUF, SO_REUSEADDR, SO_REUSEPORT, SO_BROADCAST at
     * {@code SOL_SOCKET}, IP_TOS at {@code IPPROTO_IP}. The buffer sizes are Linux's: doubled, within
     * {@code net.core.[rw]mem_max} and a minimum, as {@link #getOption} then reports them.
     */
    @Override
    public <T> DatagramChannel setOption(SocketOption<T> name, T value) throws IOException {
        Objects.requireNonNull(name, "name");
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (!name.type().isInstance(value)) {
            throw new IllegalArgumentException("Invalid value '" + value + "'");
        }
        int v;
        if (value instanceof Boolean b) {
            v = b ? 1 : 0;
        } else {
            v = (Integer) value;
            if ((name == StandardSocketOptions.SO_RCVBUF || name == StandardSocketOptions.SO_SNDBUF) && v < 0) {
                throw new IllegalArgumentException("Invalid send/receive buffer size");
            }
            if (name == StandardSocketOptions.IP_TOS && (v < 0 || v > 255)) {
                throw new IllegalArgumentException("Invalid IP_TOS value");
            }
        }
        synchronized (stateLock) {
            ensureOpen();
            try {
                sock.setOption(level(name), number(name), new int[] { v });
            } catch (SockException e) {
                throw exception(e);
            }
        }
        return this;
    }

    /** {@code getsockopt(2)} of one of the supported options. */
    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(SocketOption<T> name) throws IOException {
        Objects.requireNonNull(name, "name");
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        int[] v = new int[2];
        synchronized (stateLock) {
            ensureOpen();
            try {
                sock.getOption(level(name), number(name), v);
            } catch (SockException e) {
                throw exception(e);
            }
        }
        return name.type() == Boolean.class ? (T) Boolean.valueOf(v[0] != 0) : (T) Integer.valueOf(v[0]);
    }

    /** The {@code setsockopt} level of a supported option. */
    static int level(SocketOption<?> name) {
        return name == StandardSocketOptions.IP_TOS ? SocketCalls.IPPROTO_IP : SocketCalls.SOL_SOCKET;
    }

    /** The Linux number of a supported option. */
    static int number(SocketOption<?> name) {
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
        } else if (name == StandardSocketOptions.IP_TOS) {
            return SocketCalls.IP_TOS;
        }
        throw new UnsupportedOperationException("'" + name + "' not supported");
    }

    /** The options this channel supports (and its {@link #socket()} adapter too). */
    static Set<SocketOption<?>> options() {
        return OPTIONS;
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return OPTIONS;
    }

    // --- the rest of DatagramChannel ---

    /** A {@link DatagramSocket} view of this channel: the same socket, closed with it. */
    @Override
    public DatagramSocket socket() {
        synchronized (stateLock) {
            if (adapter == null) {
                adapter = new ModnetDatagramSocket(provider.layer(), sock, this);
            }
            return adapter;
        }
    }

    /** Multicast: modnet's UDP has no group membership yet ({@code IP_ADD_MEMBERSHIP}). */
    @Override
    public MembershipKey join(InetAddress group, NetworkInterface interf) throws IOException {
        ensureOpen();
        throw new SocketException("multicast is not supported yet");
    }

    @Override
    public MembershipKey join(InetAddress group, NetworkInterface interf, InetAddress source) throws IOException {
        ensureOpen();
        throw new SocketException("multicast is not supported yet");
    }

    /**
     * The last close: the socket layer releases the socket, which wakes a thread blocked in it (it
     * sees the channel closed) and every selector waiting on it (which then drops its key).
     */
    @Override
    protected void implCloseSelectableChannel() {
        provider.layer().closed(sock);
    }

    /** {@code fcntl(F_SETFL, O_NONBLOCK)}. */
    @Override
    protected void implConfigureBlocking(boolean block) {
        sock.setNonBlocking(!block);
    }

    @Override
    public String toString() {
        if (!isOpen()) {
            return "modnet DatagramChannel[closed]";
        }
        return "modnet DatagramChannel[" + sock.localAddress() + (isConnected() ? " -> " + sock.remoteAddress() : "") + "]";
    }
}

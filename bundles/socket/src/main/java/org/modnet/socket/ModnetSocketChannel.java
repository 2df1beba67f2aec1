package org.modnet.socket;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.NoConnectionPendingException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.modnet.api.net.Errno;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.TcpInfo;
import org.modnet.socket.api.TcpSocketOptions;

/**
 * A {@link SocketChannel} on one modnet stream socket (TCP): what {@code sun.nio.ch.SocketChannelImpl}
 * is on a host socket. {@code connect(2)} blocking, or {@code EINPROGRESS} then
 * {@link #finishConnect()} once the selector reports {@link SelectionKey#OP_CONNECT} (POLLOUT);
 * {@code recvmsg(2)} and {@code sendmsg(2)} for reads and writes, scattering and gathering; a blocking
 * write sends every byte, as Java's does. Errors are Java's: a refused or timed-out connect is a
 * {@link ConnectException} ("Connection refused", "Connection timed out") and closes the channel, a
 * reset a {@link SocketException} "Connection reset", a write after the peer is gone an
 * {@link IOException} "Broken pipe"; the channel states throw {@link NotYetConnectedException},
 * {@link AlreadyConnectedException}, {@link ConnectionPendingException},
 * {@link NoConnectionPendingException} and {@link ClosedChannelException} where the JDK does.
 */
final class ModnetSocketChannel extends SocketChannel implements ModnetChannel {

    private static final Set<SocketOption<?>> OPTIONS = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT,
            StandardSocketOptions.SO_KEEPALIVE, StandardSocketOptions.SO_LINGER, StandardSocketOptions.TCP_NODELAY,
            StandardSocketOptions.IP_TOS, TcpSocketOptions.TCP_INFO);

    private final ModnetSelectorProvider provider;
    private final Sock sock;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Object stateLock = new Object();

    private volatile boolean connected;
    private volatile boolean pending; // guarded by stateLock for writes
    private volatile boolean inputClosed;
    private volatile boolean outputClosed;
    private ModnetSocketAdaptor adaptor; // guarded by stateLock

    ModnetSocketChannel(ModnetSelectorProvider provider, Sock sock, boolean connected) {
        super(provider);
        this.provider = provider;
        this.sock = Objects.requireNonNull(sock, "sock");
        this.connected = connected;
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

    // --- errno to Java ---

    /** The errno of a failed connect: refused, timed out and unreachable as Java names them. */
    static IOException connectException(Errno errno) {
        return switch (errno) {
            case ECONNREFUSED, ETIMEDOUT -> new ConnectException(errno.text());
            case ENETUNREACH, EHOSTUNREACH -> new NoRouteToHostException(errno.text());
            case EBADF -> new ClosedChannelException();
            default -> new SocketException(errno.text());
        };
    }

    /** The errno of a read or a write on a connection. */
    static IOException ioException(Errno errno) {
        return switch (errno) {
            case ECONNRESET -> new SocketException("Connection reset");
            case EBADF -> new ClosedChannelException();
            case ETIMEDOUT -> new SocketException(errno.text());
            default -> new IOException(errno.text());
        };
    }

    // --- binding and connecting ---

    @Override
    public SocketChannel bind(SocketAddress local) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (pending) {
                throw new ConnectionPendingException();
            }
            if (connected) {
                throw new AlreadyConnectedException();
            }
            if (sock.localAddress().port() != 0) {
                throw new AlreadyBoundException();
            }
            SockAddr a = local == null ? SockAddr.ANY : ModnetDatagramChannel.address(local);
            try {
                sock.bind(a);
            } catch (SockException e) {
                throw ModnetDatagramChannel.bindException(e);
            }
        }
        return this;
    }

    /**
     * {@code connect(2)}: blocking, it returns once connected; non-blocking, it returns false with the
     * handshake under way (true if it completed at once). A failure closes the channel, as Java's does.
     */
    @Override
    public boolean connect(SocketAddress remote) throws IOException {
        SockAddr to = ModnetDatagramChannel.address(remote);
        synchronized (stateLock) {
            ensureOpen();
            if (connected) {
                throw new AlreadyConnectedException();
            }
            if (pending) {
                throw new ConnectionPendingException();
            }
            boolean done = false;
            try {
                begin();
                try {
                    sock.connect(to);
                } catch (SockException e) {
                    if (e.errno() == Errno.EINPROGRESS && !isBlocking()) {
                        pending = true;
                        done = true;
                        return false;
                    }
                    if (e.errno() == Errno.EINTR && Thread.currentThread().isInterrupted()) {
                        throw interrupted();
                    }
                    done = true; // the call ended; the close below is ours, not an asynchronous one
                    close();
                    throw connectException(e.errno() == Errno.EINPROGRESS ? Errno.ETIMEDOUT : e.errno());
                }
                connected = true;
                done = true;
                return true;
            } finally {
                end(done);
            }
        }
    }

    /**
     * Completes a non-blocking connect: true once the handshake is done, false while it goes on (in
     * non-blocking mode); in blocking mode it waits. A failed handshake throws and closes the channel.
     */
    @Override
    public boolean finishConnect() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (connected) {
                return true;
            }
            if (!pending) {
                throw new NoConnectionPendingException();
            }
            boolean done = false;
            try {
                begin();
                while (true) {
                    int st = sock.state();
                    if (st != Sock.TCP_SYN_SENT) {
                        int err = sock.takeError();
                        if (err != 0 || st == Sock.TCP_CLOSE) {
                            done = true;
                            close();
                            throw connectException(err != 0 ? Errno.of(err) : Errno.ECONNREFUSED);
                        }
                        pending = false;
                        connected = true;
                        done = true;
                        return true;
                    }
                    if (!isBlocking()) {
                        done = true;
                        return false;
                    }
                    awaitPoll(SocketCalls.POLLOUT | SocketCalls.POLLERR | SocketCalls.POLLHUP, -1);
                }
            } finally {
                end(done);
            }
        }
    }

    /**
     * Waits until the socket's poll mask has one of {@code events}, {@code millis} at most (negative:
     * for ever); false when the time ran out. An interrupt closes the channel (as {@link #begin()}'s
     * interruptor would) and is a {@link ClosedByInterruptException}.
     */
    boolean awaitPoll(int events, long millis) throws IOException {
        try {
            boolean ready = awaitPoll(sock, events, millis);
            ensureOpen();
            return ready;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new ClosedByInterruptException();
        }
    }

    /**
     * Sleeps on the socket's wait queue until its poll mask has one of {@code events} (or POLLNVAL: it
     * was closed), {@code millis} at most (negative: for ever); false when the time ran out.
     */
    static boolean awaitPoll(Sock sock, int events, long millis) throws InterruptedException {
        ReentrantLock lock = new ReentrantLock();
        Condition changed = lock.newCondition();
        java.util.concurrent.atomic.AtomicBoolean woken = new java.util.concurrent.atomic.AtomicBoolean();
        Sock.Waiter w = s -> {
            woken.set(true);
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        };
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(millis, 0));
        sock.addWaiter(w);
        try {
            while (true) {
                woken.set(false); // a change from here on is seen: the sleep below is skipped
                if ((sock.poll() & (events | SocketCalls.POLLNVAL)) != 0) {
                    return true;
                }
                long left = millis < 0 ? Long.MAX_VALUE : deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                lock.lock(); // never held while polling the socket: the waker may hold the socket's lock
                try {
                    if (!woken.get()) {
                        changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
                    }
                } finally {
                    lock.unlock();
                }
            }
        } finally {
            sock.removeWaiter(w);
        }
    }

    @Override
    public boolean isConnected() {
        return connected && isOpen();
    }

    @Override
    public boolean isConnectionPending() {
        return pending && isOpen();
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        ensureOpen();
        SockAddr a = sock.remoteAddress();
        return a.port() == 0 ? null : a.toInetSocketAddress();
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        ensureOpen();
        SockAddr a = sock.localAddress();
        return a.port() == 0 ? null : a.toInetSocketAddress();
    }

    @Override
    public SocketChannel shutdownInput() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (!connected) {
                throw new NotYetConnectedException();
            }
            if (!inputClosed) {
                shutdown(SocketCalls.SHUT_RD);
                inputClosed = true;
            }
        }
        return this;
    }

    @Override
    public SocketChannel shutdownOutput() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (!connected) {
                throw new NotYetConnectedException();
            }
            if (!outputClosed) {
                shutdown(SocketCalls.SHUT_WR);
                outputClosed = true;
            }
        }
        return this;
    }

    private void shutdown(int how) throws IOException {
        try {
            sock.shutdown(how);
        } catch (SockException e) {
            if (e.errno() != Errno.ENOTCONN) { // the connection already ended: nothing left to shut
                throw ioException(e.errno());
            }
        }
    }

    boolean isInputClosed() {
        return inputClosed;
    }

    boolean isOutputClosed() {
        return outputClosed;
    }

    // --- reading and writing ---

    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("Read-only buffer");
        }
        readLock.lock();
        try {
            readOne[0] = dst; // no array per call: a request/response server reads once a request
            return (int) readLocked(readOne);
        } finally {
            readOne[0] = null;
            readLock.unlock();
        }
    }

    /** The one buffer of {@link #read(ByteBuffer)}, under the read lock. */
    private final ByteBuffer[] readOne = new ByteBuffer[1];
    /** The one buffer of {@link #write(ByteBuffer)}, under the write lock. */
    private final ByteBuffer[] writeOne = new ByteBuffer[1];

    /**
     * {@code recvmsg(2)}: what is there, up to the buffers' room; -1 at the end of the stream (or after
     * {@link #shutdownInput()}), 0 when nothing is there in non-blocking mode or the buffers are full.
     */
    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        ByteBuffer[] iov = Arrays.copyOfRange(dsts, offset, offset + length);
        for (ByteBuffer b : iov) {
            if (b.isReadOnly()) {
                throw new IllegalArgumentException("Read-only buffer");
            }
        }
        readLock.lock();
        try {
            return readLocked(iov);
        } finally {
            readLock.unlock();
        }
    }

    private long readLocked(ByteBuffer[] iov) throws IOException {
        ensureOpen();
        if (!connected) {
            throw new NotYetConnectedException();
        }
        if (inputClosed) {
            return -1;
        }
        if (remaining(iov) == 0) {
            return 0;
        }
        boolean done = false;
        try {
            begin();
            int n = iov.length == 1 ? sock.recv(iov[0], null, 0) : sock.recvmsg(iov, null, 0, new int[1]);
            done = true;
            return n == 0 ? -1 : n;
        } catch (SockException e) {
            if (e.errno() == Errno.EAGAIN) {
                done = true;
                return 0;
            }
            throw failed(e);
        } finally {
            end(done);
        }
    }

    /**
     * A blocked call ended by its thread's interrupt (between {@code begin} and {@code end}). The
     * socket's sleep wakes on the interrupt itself, and {@link Thread#interrupt} sets the status before
     * it looks for the channel's interruptor: the reader can run {@code end} before the interruptor
     * was called, which would leave the channel open. {@code begin()} on an interrupted thread runs the
     * interruptor itself (marks this thread and closes the channel), so {@code end} then throws
     * {@link ClosedByInterruptException} whichever thread got there first.
     */
    private ClosedByInterruptException interrupted() {
        begin();
        return new ClosedByInterruptException();
    }

    /**
     * EINTR from an interrupt is {@link ClosedByInterruptException}; others map. Called between
     * {@code begin} and {@code end}.
     */
    private IOException failed(SockException e) throws IOException {
        if (e.errno() == Errno.EINTR && Thread.currentThread().isInterrupted()) {
            return interrupted();
        }
        if (!isOpen()) {
            return new java.nio.channels.AsynchronousCloseException();
        }
        return ioException(e.errno());
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        writeLock.lock();
        try {
            writeOne[0] = src;
            return (int) writeLocked(writeOne);
        } finally {
            writeOne[0] = null;
            writeLock.unlock();
        }
    }

    /**
     * {@code sendmsg(2)}: in blocking mode every byte (sleeping for room in the send buffer), in
     * non-blocking mode what fits now (0 when nothing does).
     */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        ByteBuffer[] iov = Arrays.copyOfRange(srcs, offset, offset + length);
        writeLock.lock();
        try {
            return writeLocked(iov);
        } finally {
            writeLock.unlock();
        }
    }

    private long writeLocked(ByteBuffer[] iov) throws IOException {
        ensureOpen();
        if (!connected) {
            throw new NotYetConnectedException();
        }
        if (outputClosed) {
            throw new ClosedChannelException();
        }
        long total = 0;
        boolean done = false;
        try {
            begin();
            while (remaining(iov) > 0) {
                int n;
                try {
                    n = iov.length == 1 ? sock.send(iov[0], null, 0) : sock.sendmsg(iov, null, 0);
                } catch (SockException e) {
                    if (e.errno() == Errno.EAGAIN) {
                        break;
                    }
                    if (total > 0 && e.errno() != Errno.EINTR) {
                        break; // what was sent counts; the error comes with the next call
                    }
                    throw failed(e);
                }
                total += n;
                if (!isBlocking()) {
                    break;
                }
            }
            done = true;
            return total;
        } finally {
            end(done);
        }
    }

    // --- options ---

    @Override
    public <T> SocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        Objects.requireNonNull(name, "name");
        if (!OPTIONS.contains(name) || name == TcpSocketOptions.TCP_INFO) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (!name.type().isInstance(value)) {
            throw new IllegalArgumentException("Invalid value '" + value + "'");
        }
        synchronized (stateLock) {
            ensureOpen();
            try {
                if (name == StandardSocketOptions.TCP_NODELAY) {
                    sock.setOption(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, new int[] { (Boolean) value ? 1 : 0 });
                } else if (name == StandardSocketOptions.SO_LINGER) {
                    int secs = (Integer) value;
                    sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_LINGER, secs < 0 ? new int[] { 0, 0 } : new int[] { 1, Math.min(secs, 65535) });
                } else if (name == StandardSocketOptions.IP_TOS) {
                    sock.setOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, new int[] { (Integer) value });
                } else {
                    int v = value instanceof Boolean b ? (b ? 1 : 0) : (Integer) value;
                    if ((name == StandardSocketOptions.SO_RCVBUF || name == StandardSocketOptions.SO_SNDBUF) && v < 0) {
                        throw new IllegalArgumentException("Invalid send/receive buffer size");
                    }
                    sock.setOption(SocketCalls.SOL_SOCKET, solSocket(name), new int[] { v });
                }
            } catch (SockException e) {
                throw new SocketException(e.errno().text());
            }
        }
        return this;
    }

    static int solSocket(SocketOption<?> name) {
        if (name == StandardSocketOptions.SO_RCVBUF) {
            return SocketCalls.SO_RCVBUF;
        }
        if (name == StandardSocketOptions.SO_SNDBUF) {
            return SocketCalls.SO_SNDBUF;
        }
        if (name == StandardSocketOptions.SO_REUSEADDR) {
            return SocketCalls.SO_REUSEADDR;
        }
        if (name == StandardSocketOptions.SO_REUSEPORT) {
            return SocketCalls.SO_REUSEPORT;
        }
        if (name == StandardSocketOptions.SO_KEEPALIVE) {
            return SocketCalls.SO_KEEPALIVE;
        }
        throw new UnsupportedOperationException("'" + name + "' not supported");
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
                if (name == TcpSocketOptions.TCP_INFO) {
                    TcpInfo info = sock.tcpInfo(); // tcp_get_info: any state, as Linux answers before connect too
                    if (info == null) {
                        throw new SocketException(Errno.ENOPROTOOPT.text());
                    }
                    return (T) info;
                }
                if (name == StandardSocketOptions.TCP_NODELAY) {
                    sock.getOption(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, v);
                    return (T) Boolean.valueOf(v[0] != 0);
                }
                if (name == StandardSocketOptions.SO_LINGER) {
                    sock.getOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_LINGER, v);
                    return (T) Integer.valueOf(v[0] != 0 ? v[1] : -1);
                }
                if (name == StandardSocketOptions.IP_TOS) {
                    sock.getOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, v);
                    return (T) Integer.valueOf(v[0]);
                }
                sock.getOption(SocketCalls.SOL_SOCKET, solSocket(name), v);
                return name.type() == Boolean.class ? (T) Boolean.valueOf(v[0] != 0) : (T) Integer.valueOf(v[0]);
            } catch (SockException e) {
                throw new SocketException(e.errno().text());
            }
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return OPTIONS;
    }

    // --- selection ---

    /**
     * As {@code SocketChannelImpl.translateReadyOps}: POLLOUT completes a pending connect
     * ({@link SelectionKey#OP_CONNECT}); reading and writing once connected; an error or a hang-up
     * makes the key ready for all it is interested in, so the next call reports what happened.
     */
    @Override
    public int readyOps(int mask, int interest) {
        if ((mask & SocketCalls.POLLNVAL) != 0) {
            return 0;
        }
        if ((mask & (SocketCalls.POLLERR | SocketCalls.POLLHUP)) != 0) {
            return interest;
        }
        int ops = 0;
        if ((mask & SocketCalls.POLLIN) != 0 && connected) {
            ops |= SelectionKey.OP_READ;
        }
        if ((mask & SocketCalls.POLLOUT) != 0 && pending) {
            ops |= SelectionKey.OP_CONNECT;
        }
        if ((mask & SocketCalls.POLLOUT) != 0 && connected) {
            ops |= SelectionKey.OP_WRITE;
        }
        return ops & interest;
    }

    // --- the socket adaptor, closing, blocking ---

    @Override
    public Socket socket() {
        synchronized (stateLock) {
            if (adaptor == null) {
                try {
                    adaptor = new ModnetSocketAdaptor(this);
                } catch (SocketException e) {
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

    /** {@code fcntl(F_SETFL, O_NONBLOCK)}. */
    @Override
    protected void implConfigureBlocking(boolean block) {
        sock.setNonBlocking(!block);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("modnet SocketChannel[");
        if (!isOpen()) {
            return b.append("closed]").toString();
        }
        b.append(connected ? "connected" : pending ? "connection-pending" : "unconnected");
        SockAddr l = sock.localAddress();
        if (l.port() != 0) {
            b.append(" local=").append(l.toInetSocketAddress());
        }
        SockAddr r = sock.remoteAddress();
        if (r.port() != 0) {
            b.append(" remote=").append(r.toInetSocketAddress());
        }
        return b.append(']').toString();
    }

    private static long remaining(ByteBuffer[] iov) {
        long n = 0;
        for (ByteBuffer b : iov) {
            n += b.remaining();
        }
        return n;
    }

    /** {@link java.net.Socket#setSoTimeout}'s wait for a read: SocketTimeoutException when the time ran out. */
    void awaitReadable(int millis) throws IOException {
        if (millis > 0 && !awaitPoll(SocketCalls.POLLIN | SocketCalls.POLLERR | SocketCalls.POLLHUP | SocketCalls.POLLRDHUP, millis)) {
            throw new SocketTimeoutException("Read timed out");
        }
    }
}

package org.modnet.socket;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.DatagramSocketImpl;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketOptions;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.IllegalBlockingModeException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetNamespace;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * A {@link DatagramSocket} on a modnet UDP socket: what {@code java.net.DatagramSocket} is on a host
 * socket. It is built the way Java lets a datagram socket have another implementation, through the
 * protected constructor {@link DatagramSocket#DatagramSocket(DatagramSocketImpl)}: on JDK 25 that
 * constructor wraps the given {@link DatagramSocketImpl} in {@code java.net.NetMulticastSocket}, which
 * keeps the Java-side state (closed, bound, connected, the implicit bind before a send or receive) and
 * calls the implementation for each operation. The implementation here ({@link Impl}) does each one as
 * the modnet socket's system call: {@code bind}, {@code connect}, {@code sendto}, {@code recvfrom}
 * (with {@code MSG_PEEK} for peekData), {@code setsockopt}, {@code close}.
 *
 * <p>{@link #setSoTimeout} bounds each receive: the thread sleeps on the socket's wait queue until a
 * datagram arrives or the time runs out, then a {@link SocketTimeoutException}. The socket's state
 * queries (bound, connected, addresses, closed) read the modnet socket itself, so the view made for
 * {@link DatagramChannel#socket()} stays true to what the channel does; that view closes the channel
 * when it is closed and refuses to block on a channel in non-blocking mode
 * ({@link IllegalBlockingModeException}), as Java's channel adaptors do. Multicast group membership is
 * not supported yet.
 *
 * <p>One limit of the public API: a {@link DatagramPacket}'s buffer length is private to
 * {@code java.net}, so a receive fills at most {@link DatagramPacket#getLength()} bytes and leaves the
 * packet's length at the datagram's size; a packet reused for receiving needs {@code setLength} (or
 * {@code setData}) again, as with any {@link DatagramSocketImpl} outside {@code java.net}.
 */
final class ModnetDatagramSocket extends DatagramSocket {
    private final Sock sock;
    private final ModnetDatagramChannel channel;
    private final Object syncLock = new Object();

    private ModnetDatagramSocket(Impl impl) {
        super(impl);
        this.sock = impl.sock;
        this.channel = impl.channel;
    }

    /** A socket over an existing modnet socket; {@code channel} is the channel it is the view of, or null. */
    ModnetDatagramSocket(SocketLayer layer, Sock sock, ModnetDatagramChannel channel) {
        this(new Impl(layer, sock, channel));
    }

    /** {@code socket(AF_INET, SOCK_DGRAM, 0)} in {@code ns}, as a DatagramSocket; unbound. */
    static ModnetDatagramSocket open(SocketLayer layer, NetNamespace ns) throws SocketException {
        Sock s;
        try {
            s = layer.create(ns, SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0);
        } catch (SockException e) {
            throw new SocketException(e.errno().text());
        }
        return new ModnetDatagramSocket(layer, s, null);
    }

    Sock sock() {
        return sock;
    }

    /**
     * Brings Java's state (kept by the wrapper the protected constructor makes) up to the socket's,
     * which the channel may have bound, connected or disconnected: the implementation takes such a
     * bind or connect as already done.
     */
    private void sync() throws SocketException {
        synchronized (syncLock) {
            if (isClosed()) {
                return;
            }
            if (isBound() && !super.isBound()) {
                super.bind(sock.localAddress().toInetSocketAddress());
            }
            boolean connected = isConnected();
            if (connected && !super.isConnected()) {
                super.connect(sock.remoteAddress().toInetSocketAddress());
            } else if (!connected && super.isConnected()) {
                super.disconnect();
            }
        }
    }

    /**
     * {@code bind(2)}; null binds an ephemeral port. A failed bind leaves the socket open, as Java's
     * own datagram socket does.
     */
    @Override
    public void bind(SocketAddress addr) throws SocketException {
        synchronized (syncLock) {
            if (isClosed()) {
                throw new SocketException("Socket is closed");
            }
            if (isBound()) {
                throw new SocketException("already bound");
            }
            if (addr != null && !(addr instanceof InetSocketAddress)) {
                throw new IllegalArgumentException("Unsupported address type!");
            }
            InetSocketAddress isa = addr == null ? new InetSocketAddress(0) : (InetSocketAddress) addr;
            if (isa.isUnresolved()) {
                throw new SocketException("Unresolved address");
            }
            try {
                sock.bind(new SockAddr(Impl.address(isa.getAddress()), isa.getPort()));
            } catch (SockException e) {
                throw Impl.socketException(ModnetDatagramChannel.bindException(e));
            }
            sync();
        }
    }

    @Override
    public void connect(SocketAddress addr) throws SocketException {
        sync();
        super.connect(addr);
    }

    @Override
    public void connect(InetAddress address, int port) {
        try {
            sync();
        } catch (SocketException e) {
            throw new UncheckedIOException("connect failed", e);
        }
        super.connect(address, port);
    }

    @Override
    public void disconnect() {
        try {
            sync();
        } catch (SocketException e) {
            throw new UncheckedIOException("disconnect failed", e);
        }
        super.disconnect();
    }

    @Override
    public void send(DatagramPacket p) throws IOException {
        sync();
        super.send(p);
    }

    @Override
    public void receive(DatagramPacket p) throws IOException {
        sync();
        super.receive(p);
    }

    @Override
    public boolean isBound() {
        return sock.localAddress().port() != 0;
    }

    @Override
    public boolean isConnected() {
        return sock.state() == Sock.TCP_ESTABLISHED;
    }

    @Override
    public InetAddress getInetAddress() {
        return isConnected() ? sock.remoteAddress().toInetSocketAddress().getAddress() : null;
    }

    @Override
    public int getPort() {
        return isConnected() ? sock.remoteAddress().port() : -1;
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return isConnected() ? sock.remoteAddress().toInetSocketAddress() : null;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return isClosed() || !isBound() ? null : sock.localAddress().toInetSocketAddress();
    }

    @Override
    public InetAddress getLocalAddress() {
        return isClosed() ? null : sock.localAddress().toInetSocketAddress().getAddress();
    }

    @Override
    public int getLocalPort() {
        return isClosed() ? -1 : sock.localAddress().port();
    }

    @Override
    public boolean isClosed() {
        return channel != null ? !channel.isOpen() : super.isClosed() || sock.isClosed();
    }

    /** The channel this socket is the view of, or null for a socket opened on its own. */
    @Override
    public DatagramChannel getChannel() {
        return channel;
    }

    @Override
    public String toString() {
        return "modnet DatagramSocket[" + (isClosed() ? "closed" : sock.localAddress()) + "]";
    }

    /** The {@link DatagramSocketImpl} whose every operation is a modnet socket call. */
    private static final class Impl extends DatagramSocketImpl {
        private static final Set<SocketOption<?>> OPTIONS = ModnetDatagramChannel.options();

        private final SocketLayer layer;
        private final Sock sock;
        private final ModnetDatagramChannel channel;
        /** SO_TIMEOUT in milliseconds; 0 waits for ever. */
        private volatile int timeoutMillis;

        Impl(SocketLayer layer, Sock sock, ModnetDatagramChannel channel) {
            this.layer = Objects.requireNonNull(layer, "layer");
            this.sock = Objects.requireNonNull(sock, "sock");
            this.channel = channel;
            this.localPort = sock.localAddress().port();
        }

        /** An exception for a {@code throws SocketException} signature: the mapped one if it is one. */
        static SocketException socketException(IOException io) {
            if (io instanceof SocketException se) {
                return se;
            }
            SocketException se = new SocketException(io instanceof java.nio.channels.ClosedChannelException ? "Socket is closed" : io.getMessage());
            se.initCause(io);
            return se;
        }

        private static SocketException error(SockException e) {
            return socketException(ModnetDatagramChannel.exception(e));
        }

        /** An IPv4 address as the socket's int; null and the wildcard are INADDR_ANY. */
        static int address(InetAddress a) throws SocketException {
            if (a == null || a.isAnyLocalAddress()) {
                return 0;
            }
            SockAddr s = SockAddr.of(new InetSocketAddress(a, 0));
            if (s == null) {
                throw new SocketException("modnet's sockets are IPv4, not " + a.getHostAddress());
            }
            return s.address();
        }

        private void ensureOpen() throws SocketException {
            if (sock.isClosed() || (channel != null && !channel.isOpen())) {
                throw new SocketException("Socket is closed");
            }
        }

        /** A channel's view may only block when the channel does. */
        private void ensureBlocking() {
            if (channel != null && !channel.isBlocking()) {
                throw new IllegalBlockingModeException();
            }
        }

        /** The modnet socket was created with this implementation: there is nothing left to create. */
        @Override
        protected void create() throws SocketException {
            ensureOpen();
        }

        /**
         * {@code bind(2)}, or, when the socket is already bound there (by the channel, or by the
         * socket's own {@code bind}), taking that binding as this one.
         */
        @Override
        protected void bind(int lport, InetAddress laddr) throws SocketException {
            ensureOpen();
            int a = address(laddr);
            SockAddr now = sock.localAddress();
            if (now.port() != 0 && (lport == 0 || lport == now.port()) && (a == 0 || a == now.address())) {
                localPort = now.port();
                return;
            }
            try {
                sock.bind(new SockAddr(a, lport));
            } catch (SockException e) {
                throw socketException(ModnetDatagramChannel.bindException(e));
            }
            localPort = sock.localAddress().port();
        }

        /** {@code connect(2)}; a socket already connected to that peer (by the channel) stays as it is. */
        @Override
        protected void connect(InetAddress address, int port) throws SocketException {
            ensureOpen();
            SockAddr to = new SockAddr(address(address), port);
            try {
                if (sock.state() != Sock.TCP_ESTABLISHED || !sock.remoteAddress().equals(to)) {
                    sock.connect(to);
                }
            } catch (SockException e) {
                throw error(e);
            }
            localPort = sock.localAddress().port();
        }

        /** {@code connect(AF_UNSPEC)}, keeping the local port (see {@link ModnetDatagramChannel#disconnectKeepingPort}). */
        @Override
        protected void disconnect() {
            if (sock.isClosed() || sock.state() != Sock.TCP_ESTABLISHED) {
                return;
            }
            try {
                ModnetDatagramChannel.disconnectKeepingPort(sock);
            } catch (SockException e) {
                throw new UncheckedIOException("disconnect failed", error(e));
            }
            localPort = sock.localAddress().port();
        }

        /** {@code sendto(2)} of the packet's bytes; Java has filled in the connected peer's address. */
        @Override
        protected void send(DatagramPacket p) throws IOException {
            ensureOpen();
            ensureBlocking();
            SockAddr to = p.getAddress() == null ? null : new SockAddr(address(p.getAddress()), p.getPort());
            try {
                sock.send(ByteBuffer.wrap(p.getData(), p.getOffset(), p.getLength()), to, 0);
            } catch (SockException e) {
                throw error(e);
            }
            localPort = sock.localAddress().port();
        }

        /**
         * Cannot be done outside {@code java.net}: the sender's address is to be written into the given
         * {@link InetAddress}, which is immutable from here. Java's own datagram socket never calls it
         * (it peeks with {@link #peekData}); a caller should do the same.
         */
        @Override
        protected int peek(InetAddress i) throws IOException {
            throw new SocketException("peek(InetAddress) cannot return the sender's address outside java.net: use peekData(DatagramPacket)");
        }

        /** {@code recvfrom(MSG_PEEK)}: the next datagram stays queued; returns its sender's port. */
        @Override
        protected int peekData(DatagramPacket p) throws IOException {
            return receive(p, SocketCalls.MSG_PEEK);
        }

        @Override
        protected void receive(DatagramPacket p) throws IOException {
            receive(p, 0);
        }

        /**
         * {@code recvfrom(2)} into the packet: its data, length and sender. With SO_TIMEOUT the thread
         * sleeps on the socket's wait queue at most that long.
         */
        private int receive(DatagramPacket p, int flags) throws IOException {
            ensureOpen();
            ensureBlocking();
            ByteBuffer b = ByteBuffer.wrap(p.getData(), p.getOffset(), p.getLength());
            SockAddr[] from = new SockAddr[1];
            int n;
            try {
                int timeout = timeoutMillis;
                n = timeout == 0 ? sock.recv(b, from, flags) : timedRecv(b, from, flags, timeout);
            } catch (SockException e) {
                if (e.errno() == Errno.EBADF) {
                    throw new SocketException("Socket closed");
                }
                throw error(e);
            }
            p.setLength(n);
            p.setSocketAddress(from[0].toInetSocketAddress());
            return from[0].port();
        }

        /** A receive bounded by {@code millis}: tries without waiting, and sleeps until the socket wakes it. */
        private int timedRecv(ByteBuffer b, SockAddr[] from, int flags, int millis) throws IOException, SockException {
            Thread me = Thread.currentThread();
            Sock.Waiter w = s -> LockSupport.unpark(me);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            sock.addWaiter(w); // before the try, so a datagram arriving between try and sleep unparks
            try {
                while (true) {
                    try {
                        return sock.recv(b, from, flags | SocketCalls.MSG_DONTWAIT);
                    } catch (SockException e) {
                        if (e.errno() != Errno.EAGAIN) {
                            throw e;
                        }
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("Receive timed out");
                    }
                    if (me.isInterrupted()) {
                        throw SockException.of(Errno.EINTR);
                    }
                    LockSupport.parkNanos(this, left);
                }
            } finally {
                sock.removeWaiter(w);
            }
        }

        /**
         * IP_TTL. Java reaches the TTL of an implementation only through {@code MulticastSocket}, where
         * it is the multicast TTL; this socket sends no multicast, so its TTL is that of the datagrams
         * it does send, the socket's IP_TTL.
         */
        @Override
        protected void setTimeToLive(int ttl) throws IOException {
            ensureOpen();
            try {
                sock.setOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, new int[] { ttl });
            } catch (SockException e) {
                throw error(e);
            }
        }

        @Override
        protected int getTimeToLive() throws IOException {
            ensureOpen();
            try {
                return get(SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL);
            } catch (SockException e) {
                throw error(e);
            }
        }

        @Override
        @Deprecated(forRemoval = true, since = "1.2")
        @SuppressWarnings("removal")
        protected void setTTL(byte ttl) throws IOException {
            setTimeToLive(ttl & 0xff);
        }

        @Override
        @Deprecated(forRemoval = true, since = "1.2")
        @SuppressWarnings("removal")
        protected byte getTTL() throws IOException {
            return (byte) getTimeToLive();
        }

        @Override
        protected void join(InetAddress inetaddr) throws IOException {
            throw new SocketException("multicast is not supported yet");
        }

        @Override
        protected void leave(InetAddress inetaddr) throws IOException {
            throw new SocketException("multicast is not supported yet");
        }

        @Override
        protected void joinGroup(SocketAddress mcastaddr, NetworkInterface netIf) throws IOException {
            throw new SocketException("multicast is not supported yet");
        }

        @Override
        protected void leaveGroup(SocketAddress mcastaddr, NetworkInterface netIf) throws IOException {
            throw new SocketException("multicast is not supported yet");
        }

        /** {@code close(2)}; a channel's view closes the channel. */
        @Override
        protected void close() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    throw new UncheckedIOException("closing the datagram channel failed", e);
                }
            } else {
                layer.closed(sock);
            }
        }

        // --- options: SocketOptions numbers (DatagramSocket's setters) and SocketOption objects (setOption) ---

        @Override
        public void setOption(int optID, Object value) throws SocketException {
            ensureOpen();
            try {
                switch (optID) {
                    case SocketOptions.SO_TIMEOUT -> {
                        int t = intValue(optID, value);
                        if (t < 0) {
                            throw new IllegalArgumentException("timeout < 0");
                        }
                        timeoutMillis = t;
                    }
                    case SocketOptions.SO_RCVBUF -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, new int[] { size(optID, value) });
                    case SocketOptions.SO_SNDBUF -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_SNDBUF, new int[] { size(optID, value) });
                    case SocketOptions.SO_REUSEADDR -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, new int[] { flag(optID, value) });
                    case SocketOptions.SO_REUSEPORT -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEPORT, new int[] { flag(optID, value) });
                    case SocketOptions.SO_BROADCAST -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_BROADCAST, new int[] { flag(optID, value) });
                    case SocketOptions.IP_TOS -> {
                        int tos = intValue(optID, value);
                        if (tos < 0 || tos > 255) {
                            throw new IllegalArgumentException("Invalid IP_TOS value");
                        }
                        sock.setOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, new int[] { tos });
                    }
                    default -> throw new SocketException("socket option 0x" + Integer.toHexString(optID) + " is not supported");
                }
            } catch (SockException e) {
                throw error(e);
            }
        }

        private static int intValue(int optID, Object value) throws SocketException {
            if (value instanceof Integer i) {
                return i;
            }
            throw new SocketException("socket option 0x" + Integer.toHexString(optID) + " takes an Integer, not " + value);
        }

        private static int size(int optID, Object value) throws SocketException {
            int v = intValue(optID, value);
            if (v < 0) {
                throw new IllegalArgumentException("Invalid send/receive buffer size");
            }
            return v;
        }

        private static int flag(int optID, Object value) throws SocketException {
            if (value instanceof Boolean b) {
                return b ? 1 : 0;
            }
            throw new SocketException("socket option 0x" + Integer.toHexString(optID) + " takes a Boolean, not " + value);
        }

        @Override
        public Object getOption(int optID) throws SocketException {
            ensureOpen();
            try {
                return switch (optID) {
                    case SocketOptions.SO_TIMEOUT -> timeoutMillis;
                    case SocketOptions.SO_BINDADDR -> sock.localAddress().toInetSocketAddress().getAddress();
                    case SocketOptions.SO_RCVBUF -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF);
                    case SocketOptions.SO_SNDBUF -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_SNDBUF);
                    case SocketOptions.SO_REUSEADDR -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR) != 0;
                    case SocketOptions.SO_REUSEPORT -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEPORT) != 0;
                    case SocketOptions.SO_BROADCAST -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_BROADCAST) != 0;
                    case SocketOptions.IP_TOS -> get(SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS);
                    default -> throw new SocketException("socket option 0x" + Integer.toHexString(optID) + " is not supported");
                };
            } catch (SockException e) {
                throw error(e);
            }
        }

        private int get(int level, int name) throws SockException {
            int[] v = new int[2];
            sock.getOption(level, name, v);
            return v[0];
        }

        /** {@link DatagramSocket#setOption(SocketOption, Object)}: the same options as the channel's. */
        @Override
        protected <T> void setOption(SocketOption<T> name, T value) throws IOException {
            Objects.requireNonNull(name, "name");
            if (!OPTIONS.contains(name)) {
                throw new UnsupportedOperationException("'" + name + "' not supported");
            }
            if (!name.type().isInstance(value)) {
                throw new IllegalArgumentException("Invalid value '" + value + "'");
            }
            setOption(optionId(name), value);
        }

        @Override
        @SuppressWarnings("unchecked")
        protected <T> T getOption(SocketOption<T> name) throws IOException {
            Objects.requireNonNull(name, "name");
            if (!OPTIONS.contains(name)) {
                throw new UnsupportedOperationException("'" + name + "' not supported");
            }
            return (T) getOption(optionId(name));
        }

        @Override
        protected Set<SocketOption<?>> supportedOptions() {
            return OPTIONS;
        }

        private static int optionId(SocketOption<?> name) {
            if (name == StandardSocketOptions.SO_RCVBUF) {
                return SocketOptions.SO_RCVBUF;
            } else if (name == StandardSocketOptions.SO_SNDBUF) {
                return SocketOptions.SO_SNDBUF;
            } else if (name == StandardSocketOptions.SO_REUSEADDR) {
                return SocketOptions.SO_REUSEADDR;
            } else if (name == StandardSocketOptions.SO_REUSEPORT) {
                return SocketOptions.SO_REUSEPORT;
            } else if (name == StandardSocketOptions.SO_BROADCAST) {
                return SocketOptions.SO_BROADCAST;
            } else if (name == StandardSocketOptions.IP_TOS) {
                return SocketOptions.IP_TOS;
            }
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
    }
}

package org.modnet.socket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOptions;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetNamespace;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * Java's stream sockets on modnet: a {@link Socket} and a {@link ServerSocket} built on a
 * {@link SocketImpl} whose operations are a modnet {@code SOCK_STREAM} socket's — connect, listen,
 * accept, and the byte streams over recv and send. Whatever protocol serves {@code SOCK_STREAM} in the
 * socket switch (TCP) serves them; until one does, creating one fails with "Socket type not supported".
 */
final class ModnetStreamSockets {
    private ModnetStreamSockets() {
    }

    static Socket socket(SocketLayer layer, NetNamespace ns) throws SocketException {
        return new ModnetSocket(new Impl(layer, ns, null));
    }

    static ServerSocket serverSocket(SocketLayer layer, NetNamespace ns) throws IOException {
        return new ModnetServerSocket(layer, ns);
    }

    /** A {@link Socket} over {@link Impl}. */
    static final class ModnetSocket extends Socket {
        ModnetSocket(Impl impl) throws SocketException {
            super(impl);
        }
    }

    /** A {@link ServerSocket} whose accepted sockets are modnet sockets too. */
    static final class ModnetServerSocket extends ServerSocket {
        private final SocketLayer layer;
        private final NetNamespace ns;

        ModnetServerSocket(SocketLayer layer, NetNamespace ns) throws IOException {
            super(new Impl(layer, ns, null));
            this.layer = layer;
            this.ns = ns;
        }

        @Override
        public Socket accept() throws IOException {
            if (isClosed()) {
                throw new SocketException("Socket is closed");
            }
            if (!isBound()) {
                throw new SocketException("Socket is not bound yet");
            }
            Socket s = new ModnetSocket(new Impl(layer, ns, Impl.ACCEPTING));
            implAccept(s);
            return s;
        }
    }

    /** The modnet socket behind a Java stream socket. */
    static final class Impl extends SocketImpl {
        /** Marks an impl that an accept will fill, rather than one that creates its own socket. */
        static final Sock ACCEPTING = null;

        private final SocketLayer layer;
        private final NetNamespace ns;
        private Sock sock;
        private int timeoutMillis;
        private InputStream in;
        private OutputStream out;

        Impl(SocketLayer layer, NetNamespace ns, Sock sock) {
            this.layer = layer;
            this.ns = ns;
            this.sock = sock;
        }

        private Sock sock() throws SocketException {
            if (sock == null) {
                throw new SocketException("Socket is not created");
            }
            return sock;
        }

        private static IOException error(SockException e) {
            return switch (e.errno()) {
                case ECONNREFUSED -> new java.net.ConnectException(e.errno().text());
                case ETIMEDOUT -> new SocketTimeoutException(e.errno().text());
                default -> ModnetDatagramChannel.exception(e);
            };
        }

        private static SockAddr address(InetAddress a, int port) throws SocketException {
            if (a == null || a.isAnyLocalAddress()) {
                return new SockAddr(0, port);
            }
            SockAddr s = SockAddr.of(new InetSocketAddress(a, port));
            if (s == null) {
                throw new SocketException("modnet's sockets are IPv4: " + a);
            }
            return s;
        }

        @Override
        protected void create(boolean stream) throws IOException {
            if (!stream) {
                throw new SocketException("a datagram socket is a DatagramSocket");
            }
            if (sock != null) {
                return;
            }
            try {
                sock = layer.create(ns, SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
            } catch (SockException e) {
                throw new SocketException(e.errno().text());
            }
        }

        @Override
        protected void connect(String host, int port) throws IOException {
            connect(new InetSocketAddress(host, port), 0);
        }

        @Override
        protected void connect(InetAddress address, int port) throws IOException {
            connect(new InetSocketAddress(address, port), 0);
        }

        @Override
        protected void connect(SocketAddress remote, int timeout) throws IOException {
            if (!(remote instanceof InetSocketAddress isa) || isa.isUnresolved()) {
                throw new java.net.UnknownHostException(String.valueOf(remote));
            }
            Sock s = sock();
            try {
                if (timeout > 0) {
                    s.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_SNDTIMEO, new int[] { timeout / 1000, timeout % 1000 * 1000 });
                }
                s.connect(address(isa.getAddress(), isa.getPort()));
            } catch (SockException e) {
                if (e.errno() == Errno.EAGAIN || e.errno() == Errno.EINPROGRESS) {
                    throw new SocketTimeoutException("Connect timed out");
                }
                throw error(e);
            }
            address = isa.getAddress();
            port = isa.getPort();
            localport = s.localAddress().port();
        }

        @Override
        protected void bind(InetAddress host, int lport) throws IOException {
            try {
                sock().bind(address(host, lport));
            } catch (SockException e) {
                throw error(e);
            }
            localport = sock.localAddress().port();
        }

        @Override
        protected void listen(int backlog) throws IOException {
            try {
                sock().listen(backlog);
            } catch (SockException e) {
                throw error(e);
            }
        }

        @Override
        protected void accept(SocketImpl target) throws IOException {
            if (!(target instanceof Impl child)) {
                throw new SocketException("a modnet server socket accepts into a modnet socket");
            }
            Sock s = sock();
            try {
                s.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO,
                        new int[] { timeoutMillis / 1000, timeoutMillis % 1000 * 1000 });
                Sock accepted = s.accept(false);
                layer.accepted(s, accepted); // ss lists it, as an accept(2) through a process does
                child.sock = accepted;
                SockAddr peer = accepted.remoteAddress();
                child.address = peer.toInetSocketAddress().getAddress();
                child.port = peer.port();
                child.localport = accepted.localAddress().port();
            } catch (SockException e) {
                if (e.errno() == Errno.EAGAIN) {
                    throw new SocketTimeoutException("Accept timed out");
                }
                throw error(e);
            }
        }

        @Override
        protected synchronized InputStream getInputStream() throws IOException {
            Sock s = sock();
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
                        java.util.Objects.checkFromIndexSize(off, len, b.length);
                        if (len == 0) {
                            return 0;
                        }
                        try {
                            s.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO,
                                    new int[] { timeoutMillis / 1000, timeoutMillis % 1000 * 1000 });
                            int n = s.recv(ByteBuffer.wrap(b, off, len), null, 0);
                            return n == 0 ? -1 : n; // 0 from a stream socket is the end of the stream
                        } catch (SockException e) {
                            if (e.errno() == Errno.EAGAIN) {
                                throw new SocketTimeoutException("Read timed out");
                            }
                            throw error(e);
                        }
                    }

                    @Override
                    public int available() throws IOException {
                        return Impl.this.available();
                    }
                };
            }
            return in;
        }

        @Override
        protected synchronized OutputStream getOutputStream() throws IOException {
            Sock s = sock();
            if (out == null) {
                out = new OutputStream() {
                    @Override
                    public void write(int b) throws IOException {
                        write(new byte[] { (byte) b }, 0, 1);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        java.util.Objects.checkFromIndexSize(off, len, b.length);
                        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                        try {
                            while (buf.hasRemaining()) {
                                s.send(buf, null, 0);
                            }
                        } catch (SockException e) {
                            throw error(e);
                        }
                    }
                };
            }
            return out;
        }

        /** What can be read without blocking: the socket's queued bytes, as FIONREAD counts them. */
        @Override
        protected int available() throws IOException {
            return sock().available();
        }

        @Override
        protected void close() {
            if (sock != null) {
                layer.closed(sock);
            }
        }

        @Override
        protected void shutdownInput() throws IOException {
            shutdown(SocketCalls.SHUT_RD);
        }

        @Override
        protected void shutdownOutput() throws IOException {
            shutdown(SocketCalls.SHUT_WR);
        }

        private void shutdown(int how) throws IOException {
            try {
                sock().shutdown(how);
            } catch (SockException e) {
                throw error(e);
            }
        }

        @Override
        protected void sendUrgentData(int data) throws IOException {
            throw new SocketException("urgent data is not supported");
        }

        @Override
        public void setOption(int optID, Object value) throws SocketException {
            try {
                switch (optID) {
                    case SocketOptions.SO_TIMEOUT -> timeoutMillis = Math.max(0, (Integer) value);
                    case SocketOptions.SO_RCVBUF -> sock().setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, new int[] { (Integer) value });
                    case SocketOptions.SO_SNDBUF -> sock().setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_SNDBUF, new int[] { (Integer) value });
                    case SocketOptions.SO_REUSEADDR -> sock().setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, new int[] { Boolean.TRUE.equals(value) ? 1 : 0 });
                    case SocketOptions.SO_KEEPALIVE -> sock().setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_KEEPALIVE, new int[] { Boolean.TRUE.equals(value) ? 1 : 0 });
                    case SocketOptions.SO_LINGER -> sock().setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_LINGER,
                            value instanceof Integer secs ? new int[] { 1, secs } : new int[] { 0, 0 });
                    case SocketOptions.IP_TOS -> sock().setOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, new int[] { (Integer) value });
                    case SocketOptions.TCP_NODELAY -> sock().setOption(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, new int[] { Boolean.TRUE.equals(value) ? 1 : 0 });
                    default -> throw new SocketException("option " + optID + " is not supported yet");
                }
            } catch (SockException e) {
                throw new SocketException(e.errno().text());
            }
        }

        @Override
        public Object getOption(int optID) throws SocketException {
            int[] v = new int[2];
            try {
                return switch (optID) {
                    case SocketOptions.SO_TIMEOUT -> timeoutMillis;
                    case SocketOptions.SO_BINDADDR -> sock().localAddress().toInetSocketAddress().getAddress();
                    case SocketOptions.SO_RCVBUF -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, v);
                    case SocketOptions.SO_SNDBUF -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_SNDBUF, v);
                    case SocketOptions.SO_REUSEADDR -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, v) != 0;
                    case SocketOptions.SO_KEEPALIVE -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_KEEPALIVE, v) != 0;
                    case SocketOptions.SO_LINGER -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_LINGER, v) != 0 ? (Object) v[1] : (Object) (-1);
                    case SocketOptions.IP_TOS -> get(SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, v);
                    case SocketOptions.TCP_NODELAY -> get(SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, v) != 0;
                    default -> throw new SocketException("option " + optID + " is not supported yet");
                };
            } catch (SockException e) {
                throw new SocketException(e.errno().text());
            }
        }

        private int get(int level, int name, int[] v) throws SockException, SocketException {
            sock().getOption(level, name, v);
            return v[0];
        }
    }
}

package org.modnet.socket;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.DatagramSocketImpl;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
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
 * A {@link DatagramSocket} on a modnet UDP socket, built the way Java lets a socket have another
 * implementation: the protected constructor taking a {@link DatagramSocketImpl}, here one whose every
 * operation is the modnet socket's. {@code setSoTimeout} is SO_RCVTIMEO (a {@link SocketTimeoutException}
 * when it runs out).
 */
final class ModnetDatagramSocket extends DatagramSocket {

    ModnetDatagramSocket(SocketLayer layer, Sock sock) {
        super(new Impl(layer, sock));
    }

    static ModnetDatagramSocket open(SocketLayer layer, NetNamespace ns) throws SocketException {
        try {
            return new ModnetDatagramSocket(layer, layer.create(ns, SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
        } catch (SockException e) {
            throw new SocketException(e.errno().text());
        }
    }

    /** The implementation Java's DatagramSocket calls: each method one socket call. */
    private static final class Impl extends DatagramSocketImpl {
        private final SocketLayer layer;
        private final Sock sock;
        private int timeoutMillis;

        Impl(SocketLayer layer, Sock sock) {
            this.layer = layer;
            this.sock = sock;
        }

        private static SocketException error(SockException e) {
            IOException io = ModnetDatagramChannel.exception(e);
            return io instanceof SocketException se ? se : new SocketException(e.errno().text());
        }

        private static int address(InetAddress a) throws SocketException {
            if (a == null || a.isAnyLocalAddress()) {
                return 0;
            }
            SockAddr s = SockAddr.of(new InetSocketAddress(a, 0));
            if (s == null) {
                throw new SocketException("modnet's sockets are IPv4: " + a);
            }
            return s.address();
        }

        @Override
        protected void create() {
            // the modnet socket exists already
        }

        @Override
        protected void bind(int lport, InetAddress laddr) throws SocketException {
            try {
                sock.bind(new SockAddr(address(laddr), lport));
                localPort = sock.localAddress().port();
            } catch (SockException e) {
                throw error(e);
            }
        }

        @Override
        protected void connect(InetAddress address, int port) throws SocketException {
            try {
                sock.connect(new SockAddr(address(address), port));
                localPort = sock.localAddress().port();
            } catch (SockException e) {
                throw error(e);
            }
        }

        @Override
        protected void disconnect() {
            try {
                sock.connect(null);
            } catch (SockException e) {
                // AF_UNSPEC does not fail
            }
        }

        @Override
        protected void send(DatagramPacket p) throws IOException {
            SockAddr to = p.getAddress() == null ? null : new SockAddr(address(p.getAddress()), p.getPort());
            try {
                sock.send(ByteBuffer.wrap(p.getData(), p.getOffset(), p.getLength()), to, 0);
                localPort = sock.localAddress().port();
            } catch (SockException e) {
                throw error(e);
            }
        }

        @Override
        protected int peek(InetAddress i) throws IOException {
            throw new SocketException("peek(InetAddress) cannot report the sender's address: use peekData");
        }

        @Override
        protected int peekData(DatagramPacket p) throws IOException {
            return receive(p, SocketCalls.MSG_PEEK);
        }

        @Override
        protected void receive(DatagramPacket p) throws IOException {
            receive(p, 0);
        }

        private int receive(DatagramPacket p, int flags) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(p.getData(), p.getOffset(), p.getData().length - p.getOffset());
            SockAddr[] from = new SockAddr[1];
            try {
                sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO,
                        new int[] { timeoutMillis / 1000, timeoutMillis % 1000 * 1000 });
                int n = sock.recv(b, from, flags);
                p.setLength(Math.min(n, b.capacity()));
                p.setSocketAddress(from[0].toInetSocketAddress());
                return from[0].port();
            } catch (SockException e) {
                if (e.errno() == Errno.EAGAIN) {
                    throw new SocketTimeoutException("Receive timed out");
                }
                throw error(e);
            }
        }

        @Override
        protected void setTTL(byte ttl) throws IOException {
            setTimeToLive(ttl & 0xff);
        }

        @Override
        protected byte getTTL() throws IOException {
            return (byte) getTimeToLive();
        }

        @Override
        protected void setTimeToLive(int ttl) throws IOException {
            throw new SocketException("multicast TTL: multicast is not supported yet");
        }

        @Override
        protected int getTimeToLive() throws IOException {
            throw new SocketException("multicast TTL: multicast is not supported yet");
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

        @Override
        protected void close() {
            layer.closed(sock);
        }

        @Override
        public void setOption(int optID, Object value) throws SocketException {
            try {
                switch (optID) {
                    case SocketOptions.SO_TIMEOUT -> timeoutMillis = Math.max(0, (Integer) value);
                    case SocketOptions.SO_RCVBUF -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, new int[] { (Integer) value });
                    case SocketOptions.SO_SNDBUF -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_SNDBUF, new int[] { (Integer) value });
                    case SocketOptions.SO_REUSEADDR -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, new int[] { flag(value) });
                    case SocketOptions.SO_REUSEPORT -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEPORT, new int[] { flag(value) });
                    case SocketOptions.SO_BROADCAST -> sock.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_BROADCAST, new int[] { flag(value) });
                    case SocketOptions.IP_TOS -> sock.setOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, new int[] { (Integer) value });
                    default -> throw new SocketException("option " + optID + " is not supported");
                }
            } catch (SockException e) {
                throw error(e);
            }
        }

        private static int flag(Object v) {
            return Boolean.TRUE.equals(v) ? 1 : 0;
        }

        @Override
        public Object getOption(int optID) throws SocketException {
            int[] v = new int[2];
            try {
                return switch (optID) {
                    case SocketOptions.SO_TIMEOUT -> timeoutMillis;
                    case SocketOptions.SO_BINDADDR -> sock.localAddress().toInetSocketAddress().getAddress();
                    case SocketOptions.SO_RCVBUF -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, v);
                    case SocketOptions.SO_SNDBUF -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_SNDBUF, v);
                    case SocketOptions.SO_REUSEADDR -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, v) != 0;
                    case SocketOptions.SO_REUSEPORT -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEPORT, v) != 0;
                    case SocketOptions.SO_BROADCAST -> get(SocketCalls.SOL_SOCKET, SocketCalls.SO_BROADCAST, v) != 0;
                    case SocketOptions.IP_TOS -> get(SocketCalls.IPPROTO_IP, SocketCalls.IP_TOS, v);
                    default -> throw new SocketException("option " + optID + " is not supported");
                };
            } catch (SockException e) {
                throw error(e);
            }
        }

        private int get(int level, int name, int[] v) throws SockException {
            sock.getOption(level, name, v);
            return v[0];
        }
    }
}

package org.modnet.socket;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.SocketProtocol;

/**
 * A datagram protocol for tests of the socket layer's Java adapters and system calls: UDP's socket
 * semantics over 127.0.0.1 without its wire. Sockets of one {@link Net} find each other by port; a
 * datagram is copied into a fresh skb (charged to the sender's send buffer, as {@code sock_alloc_send_skb}
 * does) whose headroom carries the sender's address, and queued on the socket bound to the destination
 * port with {@link Sock#queueReceive}. Like UDP: bind refuses a port in use (EADDRINUSE) and an address
 * that is not local (EADDRNOTAVAIL), send and connect bind an ephemeral port first, a connected socket
 * receives only from its peer, {@code connect(AF_UNSPEC)} drops an implicitly chosen port, and a datagram
 * to a port nobody holds is an ECONNREFUSED reported to a connected sender (the ICMP port unreachable).
 */
final class LoopSock extends Sock {
    static final int LOCALHOST = 0x7f000001;
    private static final int HEADROOM = 16;

    /** The ports of one test stack, and the protocol entry that makes sockets on them. */
    static final class Net implements SocketProtocol {
        final Map<Integer, LoopSock> ports = new ConcurrentHashMap<>();
        private final AtomicInteger ephemeral = new AtomicInteger(40000);

        @Override
        public Sock create(NetNamespace ns) {
            return new LoopSock(ns, this);
        }

        @Override
        public String name() {
            return "UDP";
        }

        @Override
        public long memoryPages(NetNamespace ns) {
            return 0;
        }

        /** The properties UDP registers with in the socket switch. */
        static Map<String, Object> udpProperties() {
            return Map.of(SocketProtocol.FAMILY, SocketCalls.AF_INET, SocketProtocol.TYPE, SocketCalls.SOCK_DGRAM,
                    SocketProtocol.PROTOCOL, SocketCalls.IPPROTO_UDP, SocketProtocol.DEFAULT, true);
        }
    }

    private final Net net;
    private boolean addressLocked; // guarded by lock
    private boolean portLocked; // guarded by lock

    LoopSock(NetNamespace ns, Net net) {
        super(ns, SocketCalls.SOCK_DGRAM, SocketCalls.IPPROTO_UDP, null);
        this.net = net;
    }

    @Override
    public String netid() {
        return "udp";
    }

    /** The socket's own lock, for a test that holds it as a call in progress would. */
    java.util.concurrent.locks.ReentrantLock lockForTest() {
        return lock;
    }

    private int pickPort() {
        while (true) {
            int p = net.ephemeral.getAndIncrement();
            if (net.ports.putIfAbsent(p, this) == null) {
                return p;
            }
        }
    }

    @Override
    public void bind(SockAddr addr) throws SockException {
        if (addr.address() != 0 && addr.address() != LOCALHOST) {
            throw SockException.of(Errno.EADDRNOTAVAIL);
        }
        lock.lock();
        try {
            if (localPort != 0 || isClosed()) {
                throw SockException.of(Errno.EINVAL);
            }
            int port;
            if (addr.port() == 0) {
                port = pickPort();
            } else if (net.ports.putIfAbsent(addr.port(), this) == null) {
                port = addr.port();
            } else {
                throw SockException.of(Errno.EADDRINUSE);
            }
            localAddress = addr.address();
            localPort = port;
            addressLocked = addr.address() != 0;
            portLocked = addr.port() != 0;
        } finally {
            lock.unlock();
        }
    }

    private void autobind() {
        lock.lock();
        try {
            if (localPort == 0 && !isClosed()) {
                localPort = pickPort();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void connect(SockAddr addr) throws SockException {
        lock.lock();
        try {
            if (addr == null) {
                state = TCP_CLOSE;
                remoteAddress = 0;
                remotePort = 0;
                if (!addressLocked) {
                    localAddress = 0;
                }
                if (!portLocked && localPort != 0) {
                    net.ports.remove(localPort, this);
                    localPort = 0;
                }
                return;
            }
            autobind();
            if (!addressLocked) {
                localAddress = LOCALHOST;
            }
            remoteAddress = addr.address();
            remotePort = addr.port();
            state = TCP_ESTABLISHED;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int sendmsg(ByteBuffer[] iov, SockAddr to, int flags) throws SockException {
        autobind();
        SockAddr dest;
        if (to != null) {
            if (to.port() == 0) {
                throw SockException.of(Errno.EINVAL);
            }
            dest = to;
        } else if (state == TCP_ESTABLISHED) {
            dest = remoteAddress();
        } else {
            throw SockException.of(Errno.EDESTADDRREQ);
        }
        int len = (int) remaining(iov);
        SkBuff skb = allocSend(len, HEADROOM, flags);
        int o = skb.put(len);
        copyIn(iov, skb, o);
        skb.setU32(skb.data() - 8, localAddress == 0 ? LOCALHOST : localAddress);
        skb.setU16(skb.data() - 4, localPort);
        LoopSock peer = net.ports.get(dest.port());
        if (peer == null || peer.isClosed()) {
            skb.free();
            if (state == TCP_ESTABLISHED) {
                reportError(Errno.ECONNREFUSED); // the ICMP port unreachable, for the next call
            }
            return len;
        }
        if (peer.state == TCP_ESTABLISHED && peer.remotePort != localPort) {
            skb.free(); // the peer is connected elsewhere: its filter drops the datagram
            return len;
        }
        if (!peer.filter(skb, 0)) {
            skb.free(); // the peer's socket filter dropped it (sk_filter), counted in its drops
            return len;
        }
        if (peer.queueReceive(skb) != null) {
            skb.free(); // the receive buffer is full: dropped and counted, as UDP does
        }
        return len;
    }

    @Override
    protected SockAddr source(SkBuff skb) {
        return new SockAddr(skb.getU32(skb.data() - 8), skb.getU16(skb.data() - 4));
    }

    @Override
    protected void release() {
        lock.lock();
        try {
            if (localPort != 0) {
                net.ports.remove(localPort, this);
            }
        } finally {
            lock.unlock();
        }
    }
}

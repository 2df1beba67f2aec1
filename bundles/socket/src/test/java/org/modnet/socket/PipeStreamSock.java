package org.modnet.socket;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * A stream protocol for tests of the socket layer's stream adapters: connected pairs are in-memory
 * byte pipes, listeners are found by port. It has TCP's socket semantics (listen, accept, a byte
 * stream, 0 at the end of the stream, ECONNREFUSED without a listener) and none of its wire.
 */
final class PipeStreamSock extends Sock {
    private final Map<Integer, PipeStreamSock> listeners;
    private final Condition moved = lock.newCondition();
    private final ArrayDeque<PipeStreamSock> backlog = new ArrayDeque<>();
    private final java.io.ByteArrayOutputStream incoming = new java.io.ByteArrayOutputStream();
    private int readAt;
    private boolean peerGone;
    private PipeStreamSock peer;

    PipeStreamSock(NetNamespace ns, Map<Integer, PipeStreamSock> listeners) {
        super(ns, SocketCalls.SOCK_STREAM, SocketCalls.IPPROTO_TCP, null);
        this.listeners = listeners;
    }

    static Map<Integer, PipeStreamSock> registry() {
        return new ConcurrentHashMap<>();
    }

    @Override
    public void bind(SockAddr addr) throws SockException {
        int port = addr.port() == 0 ? 50000 + listeners.size() : addr.port();
        if (listeners.containsKey(port)) {
            throw SockException.of(Errno.EADDRINUSE);
        }
        localAddress = addr.address();
        localPort = port;
    }

    @Override
    public void listen(int backlogSize) throws SockException {
        if (localPort == 0) {
            bind(SockAddr.ANY);
        }
        state = TCP_LISTEN;
        listeners.put(localPort, this);
    }

    @Override
    public Sock accept(boolean nonBlock) throws SockException {
        int[] t = new int[2];
        getOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, t);
        long nanos = t[0] * 1_000_000_000L + t[1] * 1000L;
        lock.lock();
        try {
            while (backlog.isEmpty()) {
                if (nonBlock || isClosed()) {
                    throw SockException.of(isClosed() ? Errno.EBADF : Errno.EAGAIN);
                }
                if (nanos == 0) {
                    moved.awaitUninterruptibly();
                } else if ((nanos = moved.awaitNanos(nanos)) <= 0) {
                    throw SockException.of(Errno.EAGAIN);
                }
            }
            return backlog.poll();
        } catch (InterruptedException e) {
            throw SockException.of(Errno.EINTR);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void connect(SockAddr addr) throws SockException {
        PipeStreamSock listener = addr == null ? null : listeners.get(addr.port());
        if (listener == null) {
            throw SockException.of(Errno.ECONNREFUSED);
        }
        PipeStreamSock child = new PipeStreamSock(ns, listeners);
        child.localAddress = addr.address();
        child.localPort = addr.port();
        child.remoteAddress = 0x7f000001;
        child.remotePort = 40000 + listeners.size();
        child.state = TCP_ESTABLISHED;
        child.peer = this;
        peer = child;
        localAddress = 0x7f000001;
        localPort = child.remotePort;
        remoteAddress = addr.address();
        remotePort = addr.port();
        state = TCP_ESTABLISHED;
        listener.lock.lock();
        try {
            listener.backlog.add(child);
            listener.moved.signalAll();
        } finally {
            listener.lock.unlock();
        }
    }

    @Override
    public int send(ByteBuffer buf, SockAddr to, int flags) throws SockException {
        PipeStreamSock p = peer;
        if (p == null) {
            throw SockException.of(Errno.ENOTCONN);
        }
        int n = buf.remaining();
        byte[] b = new byte[n];
        buf.get(b);
        p.lock.lock();
        try {
            p.incoming.write(b, 0, n);
            p.moved.signalAll();
        } finally {
            p.lock.unlock();
        }
        return n;
    }

    @Override
    public int sendmsg(ByteBuffer[] iov, SockAddr to, int flags) throws SockException {
        int n = 0;
        for (ByteBuffer b : iov) {
            n += send(b, to, flags);
        }
        return n;
    }

    @Override
    public int recv(ByteBuffer buf, SockAddr[] from, int flags) throws SockException {
        int[] t = new int[2];
        getOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, t);
        long nanos = t[0] * 1_000_000_000L + t[1] * 1000L;
        lock.lock();
        try {
            while (incoming.size() == readAt) {
                if (peerGone || isClosed()) {
                    return 0;
                }
                if (nanos == 0) {
                    moved.awaitUninterruptibly();
                } else if ((nanos = moved.awaitNanos(nanos)) <= 0) {
                    throw SockException.of(Errno.EAGAIN);
                }
            }
            byte[] all = incoming.toByteArray();
            int n = Math.min(buf.remaining(), all.length - readAt);
            buf.put(all, readAt, n);
            readAt += n;
            return n;
        } catch (InterruptedException e) {
            throw SockException.of(Errno.EINTR);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int available() {
        lock.lock();
        try {
            return incoming.size() - readAt;
        } finally {
            lock.unlock();
        }
    }

    @Override
    protected SockAddr source(SkBuff skb) {
        return remoteAddress();
    }

    @Override
    protected void release() {
        listeners.remove(localPort, this);
        PipeStreamSock p = peer;
        if (p != null) {
            p.lock.lock();
            try {
                p.peerGone = true;
                p.moved.signalAll();
            } finally {
                p.lock.unlock();
            }
        }
        lock.lock();
        try {
            moved.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String netid() {
        return "tcp";
    }
}

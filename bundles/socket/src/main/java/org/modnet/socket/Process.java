package org.modnet.socket;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetNamespace;
import org.modnet.socket.api.EpollEvent;
import org.modnet.socket.api.EventPoll;
import org.modnet.socket.api.MsgHdr;
import org.modnet.socket.api.PollFd;
import org.modnet.socket.api.SleepListener;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.SocketProcess;

/**
 * A process's descriptor table and its socket system calls ({@code net/socket.c}'s {@code sys_*}):
 * each call checks its arguments as the kernel does, finds the socket, and turns what the socket
 * throws into the negative errno. A runtime failure inside a protocol is a stack bug: it is logged once
 * with its trace and the call returns EFAULT rather than throwing at the application.
 */
final class Process implements SocketCalls {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Process.class);
    private static final int FIRST_FD = 3;

    private final SocketLayer layer;
    private final SocketProcess task;
    private final String command;
    private final int pid;
    private volatile NetNamespace ns;
    /**
     * The descriptor table, the task's: read without a lock, changed under its monitor. It outlives this
     * object: the socket layer's next version serves the same table ({@link SocketProcess}).
     */
    private final java.util.concurrent.atomic.AtomicReferenceArray<Object> files;

    /** Serves {@code task}, whose sockets are created in {@code ns}. */
    Process(SocketLayer layer, SocketProcess task, NetNamespace ns) {
        this.layer = layer;
        this.task = task;
        this.files = task.files();
        this.command = task.command();
        this.pid = task.pid();
        this.ns = ns;
    }

    /** What a call does with its socket; throws the errno it fails with. */
    @FunctionalInterface
    private interface Call {
        int on(Sock s) throws SockException;
    }

    /** The socket behind a descriptor: EBADF for none, ENOTSOCK for an epoll instance. */
    private Sock sock(int fd) throws SockException {
        return sock(fd, 0);
    }

    /** As {@link #sock(int)}; with MSG_DONTWAIT a parked socket is EAGAIN instead of a wait. */
    private Sock sock(int fd, int flags) throws SockException {
        while (true) {
            Object f = file(fd);
            if (!(f instanceof Sock s)) {
                throw SockException.of(f == null ? Errno.EBADF : Errno.ENOTSOCK);
            }
            if (!s.isParked() || s.isClosed()) {
                return s;
            }
            if ((flags & MSG_DONTWAIT) != 0) {
                throw SockException.of(Errno.EAGAIN);
            }
            layer.awaitHandOver(s); // its protocol is being updated: wait for the new version's socket
        }
    }

    private int call(int fd, Call c) {
        return call(fd, 0, c);
    }

    /**
     * Whether a call that failed on {@code s} failed because the socket was parked under it: then it
     * runs again on the socket the new version makes. Not when the hand-over was refused and closed it.
     */
    private boolean parkedUnder(int fd, Sock s) {
        return s.isParked() && !(s.isClosed() && layer.successor(s) == null && file(fd) == s);
    }

    /** A call with MSG_* flags: MSG_DONTWAIT does not wait for a parked socket's hand-over either. */
    private int call(int fd, int flags, Call c) {
        try {
            while (true) {
                Sock s = sock(fd, flags);
                try {
                    return c.on(s);
                } catch (SockException e) {
                    if (!parkedUnder(fd, s)) {
                        throw e;
                    }
                }
            }
        } catch (SockException e) {
            return -e.errno().number();
        } catch (RuntimeException e) {
            return stackBug(fd, e);
        }
    }

    private int stackBug(int fd, RuntimeException e) {
        LOG.error("socket call on fd {} of {} failed inside the stack", fd, command, e);
        return -Errno.EFAULT.number();
    }

    /** The file behind a descriptor; a socket adopted by its protocol's new version replaces the parked one here. */
    private Object file(int fd) {
        Object f = fd < 0 || fd >= RLIMIT_NOFILE ? null : files.get(fd);
        if (f instanceof Sock s && s.isParked()) {
            Sock now = layer.successor(s);
            if (now != null) {
                if (files.compareAndSet(fd, s, now)) {
                    layer.repointed(s);
                }
                return files.get(fd);
            }
        }
        return f;
    }

    private int install(Object f) {
        synchronized (files) {
            return installLocked(f);
        }
    }

    private int installLocked(Object f) {
        for (int fd = FIRST_FD; fd < RLIMIT_NOFILE; fd++) {
            if (files.get(fd) == null) {
                files.set(fd, f);
                if (f instanceof Sock s) {
                    s.users("(\"" + command + "\",pid=" + pid + ",fd=" + fd + ")");
                }
                return fd;
            }
        }
        return -Errno.EMFILE.number();
    }

    @Override
    public int socket(int domain, int type, int protocol) {
        if (layer.retired()) { // this version was replaced while the call came in: the next one creates it
            SocketCalls next = layer.successor(task, this);
            if (next != null) {
                return next.socket(domain, type, protocol);
            }
        }
        boolean nonBlock = (type & SOCK_NONBLOCK) != 0;
        int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
        Sock s;
        try {
            s = layer.create(ns, domain, base, protocol);
        } catch (SockException e) {
            return -e.errno().number();
        }
        s.setNonBlocking(nonBlock);
        int fd = install(s);
        if (fd < 0) {
            layer.closed(s);
        }
        return fd;
    }

    @Override
    public int bind(int fd, SockAddr addr) {
        if (addr == null) {
            return -Errno.EFAULT.number();
        }
        return call(fd, s -> {
            s.bind(addr);
            return 0;
        });
    }

    @Override
    public int listen(int fd, int backlog) {
        return call(fd, s -> {
            s.listen(backlog);
            return 0;
        });
    }

    @Override
    public int accept(int fd, SockAddr[] peer, int flags) {
        if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) {
            return -Errno.EINVAL.number();
        }
        return call(fd, s -> {
            Sock child = s.accept((flags & SOCK_NONBLOCK) != 0 || s.isNonBlocking());
            child.setNonBlocking((flags & SOCK_NONBLOCK) != 0);
            if (peer != null && peer.length > 0) {
                peer[0] = child.remoteAddress();
            }
            layer.accepted(s, child);
            int nfd = install(child);
            if (nfd < 0) {
                layer.closed(child);
            }
            return nfd;
        });
    }

    @Override
    public int connect(int fd, SockAddr addr) {
        return call(fd, s -> {
            s.connect(addr);
            return 0;
        });
    }

    @Override
    public int send(int fd, ByteBuffer buf, int flags) {
        return sendto(fd, buf, flags, null);
    }

    @Override
    public int sendto(int fd, ByteBuffer buf, int flags, SockAddr to) {
        if (buf == null) {
            return -Errno.EFAULT.number();
        }
        try { // no lambda: the datagram path allocates nothing per call
            while (true) {
                Sock s = sock(fd, flags);
                try {
                    return s.send(buf, to, flags);
                } catch (SockException e) {
                    if (!parkedUnder(fd, s)) {
                        throw e;
                    }
                }
            }
        } catch (SockException e) {
            return -e.errno().number();
        } catch (RuntimeException e) {
            return stackBug(fd, e);
        }
    }

    @Override
    public int sendmsg(int fd, MsgHdr msg, int flags) {
        if (msg == null || msg.iov == null || hasNull(msg.iov)) {
            return -Errno.EFAULT.number();
        }
        if (msg.iov.length > 1024) {
            return -Errno.EMSGSIZE.number(); // UIO_MAXIOV
        }
        return call(fd, flags, s -> s.sendmsg(msg.iov, msg.name, flags));
    }

    @Override
    public int recv(int fd, ByteBuffer buf, int flags) {
        return recvfrom(fd, buf, flags, null);
    }

    @Override
    public int recvfrom(int fd, ByteBuffer buf, int flags, SockAddr[] from) {
        if (buf == null) {
            return -Errno.EFAULT.number();
        }
        try { // no lambda: the datagram path allocates nothing per call
            while (true) {
                Sock s = sock(fd, flags);
                try {
                    return s.recv(buf, from, flags);
                } catch (SockException e) {
                    if (!parkedUnder(fd, s)) {
                        throw e;
                    }
                }
            }
        } catch (SockException e) {
            return -e.errno().number();
        } catch (RuntimeException e) {
            return stackBug(fd, e);
        }
    }

    @Override
    public int recvmsg(int fd, MsgHdr msg, int flags) {
        if (msg == null || msg.iov == null || hasNull(msg.iov)) {
            return -Errno.EFAULT.number();
        }
        if (msg.iov.length > 1024) {
            return -Errno.EMSGSIZE.number();
        }
        SockAddr[] from = new SockAddr[1];
        int[] msgFlags = new int[1];
        org.modnet.socket.api.SockExtendedErr[] ee = new org.modnet.socket.api.SockExtendedErr[1];
        boolean errQueue = (flags & SocketCalls.MSG_ERRQUEUE) != 0;
        int[] ttl = { -1 };
        int r = call(fd, flags, s -> errQueue ? s.recvError(msg.iov, from, msgFlags, ee, ttl) : s.recvmsg(msg.iov, from, flags, msgFlags));
        if (r >= 0) {
            msg.name = from[0];
            msg.flags = msgFlags[0];
            msg.extendedErr = ee[0];
            msg.ttl = ttl[0];
        }
        return r;
    }

    private static boolean hasNull(ByteBuffer[] iov) {
        for (ByteBuffer b : iov) {
            if (b == null) {
                return true;
            }
        }
        return false;
    }

    @Override
    public int shutdown(int fd, int how) {
        return call(fd, s -> {
            s.shutdown(how);
            return 0;
        });
    }

    @Override
    public int close(int fd) {
        Object f;
        synchronized (files) {
            f = file(fd);
            if (f == null) {
                return -Errno.EBADF.number();
            }
            files.set(fd, null);
        }
        if (f instanceof Sock s) {
            layer.closed(s);
        } else if (f instanceof EventPoll e) { // an epoll instance, made by this version or an earlier one
            e.close();
        }
        return 0;
    }

    @Override
    public int setsockopt(int fd, int level, int name, int... value) {
        if (level == SOL_SOCKET && name == SO_ATTACH_BPF) {
            return call(fd, s -> {
                if (value == null || value.length < 1) {
                    throw SockException.of(Errno.EINVAL); // optlen != sizeof(u32)
                }
                s.attachFilter(filters().bpf(value[0]));
                return 0;
            });
        }
        return call(fd, s -> {
            s.setOption(level, name, value); // SO_ATTACH_FILTER with integers: no sock_fprog, EINVAL
            return 0;
        });
    }

    @Override
    public int setsockopt(int fd, int level, int name, ByteBuffer value) {
        if (value == null) {
            return -Errno.EFAULT.number();
        }
        java.nio.ByteBuffer le = value.slice().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (level == SOL_SOCKET && name == SO_ATTACH_FILTER) {
            return call(fd, s -> {
                if (le.remaining() % 8 != 0) {
                    throw SockException.of(Errno.EINVAL);
                }
                long[] insns = new long[le.remaining() / 8];
                for (int i = 0; i < insns.length; i++) {
                    insns[i] = le.getLong(i * 8);
                }
                s.attachFilter(filters().classic(insns));
                value.position(value.limit());
                return 0;
            });
        }
        int[] ints = new int[le.remaining() / 4]; // an int option as C passes it
        for (int i = 0; i < ints.length; i++) {
            ints[i] = le.getInt(i * 4);
        }
        int r = setsockopt(fd, level, name, ints);
        if (r == 0) {
            value.position(value.limit());
        }
        return r;
    }

    /** The eBPF layer's filter maker: ENOPROTOOPT without the ebpf bundle. */
    private SkFilterLoader filters() throws SockException {
        SkFilterLoader l = layer.filters();
        if (l == null) {
            throw SockException.of(Errno.ENOPROTOOPT);
        }
        return l;
    }

    @Override
    public int getsockopt(int fd, int level, int name, int[] value) {
        if (value == null) {
            return -Errno.EFAULT.number();
        }
        if (level == SOL_SOCKET && name == SO_GET_FILTER) {
            // sk_get_filter: each struct sock_filter as two ints (code|jt<<16|jf<<24, then k); none gives 0;
            // an eBPF program has no classic form (EACCES); too little room is EINVAL
            return call(fd, s -> {
                Sock.Filter f = s.attachedFilter();
                if (f == null) {
                    return 0;
                }
                long[] c = f.classic();
                if (c == null) {
                    throw SockException.of(Errno.EACCES);
                }
                if (value.length < 2 * c.length) {
                    throw SockException.of(Errno.EINVAL);
                }
                for (int i = 0; i < c.length; i++) {
                    value[2 * i] = (int) c[i];
                    value[2 * i + 1] = (int) (c[i] >>> 32);
                }
                return 2 * c.length;
            });
        }
        return call(fd, s -> s.getOption(level, name, value));
    }

    @Override
    public int getsockname(int fd, SockAddr[] out) {
        if (out == null || out.length == 0) {
            return -Errno.EFAULT.number();
        }
        return call(fd, s -> {
            out[0] = s.localAddress();
            return 0;
        });
    }

    @Override
    public int getpeername(int fd, SockAddr[] out) {
        if (out == null || out.length == 0) {
            return -Errno.EFAULT.number();
        }
        return call(fd, s -> {
            int st = s.state(); // inet_getname: a peer once connected, until closed
            if (s.remoteAddress().port() == 0 || st == Sock.TCP_CLOSE || st == Sock.TCP_SYN_SENT || st == Sock.TCP_LISTEN) {
                throw SockException.of(Errno.ENOTCONN);
            }
            out[0] = s.remoteAddress();
            return 0;
        });
    }

    @Override
    public int ioctl(int fd, int request, int[] out) {
        if (out == null || out.length < 1) {
            return -Errno.EFAULT.number();
        }
        return call(fd, s -> {
            out[0] = s.ioctl(request);
            return 0;
        });
    }

    @Override
    public int fcntl(int fd, int cmd, int arg) {
        return call(fd, s -> switch (cmd) {
            case F_GETFL -> 2 /* O_RDWR */ | (s.isNonBlocking() ? O_NONBLOCK : 0);
            case F_SETFL -> {
                s.setNonBlocking((arg & O_NONBLOCK) != 0);
                yield 0;
            }
            default -> throw SockException.of(Errno.EINVAL);
        });
    }

    @Override
    public int poll(PollFd[] fds, int timeoutMillis) {
        if (fds == null || hasNull(fds)) {
            return -Errno.EFAULT.number();
        }
        if (fds.length > RLIMIT_NOFILE) {
            return -Errno.EINVAL.number();
        }
        Thread me = Thread.currentThread();
        Sock.Waiter waker = s -> {
            SleepListener.notifyWoken(s, me);
            LockSupport.unpark(me);
        };
        Sock[] socks = new Sock[fds.length];
        for (int i = 0; i < fds.length; i++) {
            if (file(fds[i].fd) instanceof Sock s) {
                socks[i] = s;
                s.addWaiter(waker);
            }
        }
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        try {
            while (true) {
                int ready = 0;
                for (int i = 0; i < fds.length; i++) {
                    PollFd p = fds[i];
                    if (p.fd < 0) {
                        p.revents = 0; // ignored, as poll(2) does
                        continue;
                    }
                    int mask = socks[i] == null ? POLLNVAL : socks[i].poll();
                    p.revents = mask & (p.events | POLLERR | POLLHUP | POLLNVAL);
                    if (p.revents != 0) {
                        ready++;
                    }
                }
                if (ready > 0 || timeoutMillis == 0) {
                    return ready;
                }
                if (Thread.interrupted()) {
                    return -Errno.EINTR.number();
                }
                long left = deadline - System.nanoTime();
                if (timeoutMillis >= 0 && left <= 0) {
                    return 0;
                }
                sleeping(socks, true);
                try {
                    if (timeoutMillis < 0) {
                        LockSupport.park(this);
                    } else {
                        LockSupport.parkNanos(this, left);
                    }
                } finally {
                    sleeping(socks, false);
                }
            }
        } finally {
            for (Sock s : socks) {
                if (s != null) {
                    s.removeWaiter(waker);
                }
            }
        }
    }

    /** Tells the {@link SleepListener}s that this thread sleeps on (or woke from) each socket it polls. */
    private static void sleeping(Sock[] socks, boolean asleep) {
        for (Sock s : socks) {
            if (s != null) {
                if (asleep) {
                    SleepListener.notifySleeping(s);
                } else {
                    SleepListener.notifyAwake(s);
                }
            }
        }
    }

    private static boolean hasNull(PollFd[] fds) {
        for (PollFd p : fds) {
            if (p == null) {
                return true;
            }
        }
        return false;
    }

    @Override
    public int epollCreate() {
        return install(new Epoll(this::file, () -> ns));
    }

    @Override
    public int epollCtl(int epfd, int op, int fd, int events, long data) {
        Object e = file(epfd);
        if (e == null) {
            return -Errno.EBADF.number();
        }
        Object target = file(fd);
        if (target == null) {
            return -Errno.EBADF.number();
        }
        if (!(e instanceof EventPoll ep) || epfd == fd) {
            return -Errno.EINVAL.number();
        }
        if (!(target instanceof Sock s)) {
            return -Errno.EPERM.number(); // an epoll instance inside another is not supported here
        }
        return ep.ctl(op, fd, s, events, data);
    }

    @Override
    public int epollWait(int epfd, EpollEvent[] events, int timeoutMillis) {
        Object e = file(epfd);
        if (e == null) {
            return -Errno.EBADF.number();
        }
        if (!(e instanceof EventPoll ep) || events == null || events.length == 0) {
            return -Errno.EINVAL.number();
        }
        for (EpollEvent ev : events) {
            if (ev == null) {
                return -Errno.EFAULT.number();
            }
        }
        return ep.await(events, timeoutMillis);
    }

    @Override
    public int epollSetParams(int epfd, long busyPollUsecs, int busyPollBudget, int preferBusyPoll) {
        Object e = file(epfd);
        if (e == null) {
            return -Errno.EBADF.number();
        }
        if (!(e instanceof Epoll ep)) {
            return -Errno.ENOTTY.number(); // the descriptor's own ioctl does not know EPIOCSPARAMS
        }
        try {
            ep.setEpollParams(busyPollUsecs, busyPollBudget, preferBusyPoll);
            return 0;
        } catch (org.modnet.socket.api.SockException x) {
            return -x.errno().number();
        }
    }

    @Override
    public int epollGetParams(int epfd, long[] out) {
        Object e = file(epfd);
        if (e == null) {
            return -Errno.EBADF.number();
        }
        if (!(e instanceof Epoll ep)) {
            return -Errno.ENOTTY.number();
        }
        if (out == null || out.length < 3) {
            return -Errno.EFAULT.number();
        }
        out[0] = ep.busyPollUsecs();
        out[1] = ep.busyPollBudget();
        out[2] = ep.preferBusyPoll() ? 1 : 0;
        return 0;
    }

    @Override
    public int setns(String netns) {
        NetNamespace n = layer.namespace(netns);
        if (n == null) {
            return -Errno.ENOENT.number();
        }
        ns = n;
        return 0;
    }

    @Override
    public String netns() {
        return ns.name();
    }

    @Override
    public int pid() {
        return pid;
    }

    @Override
    public void close() {
        for (int fd = 0; fd < RLIMIT_NOFILE; fd++) {
            if (file(fd) != null) {
                close(fd);
            }
        }
        layer.exited(task);
    }
}

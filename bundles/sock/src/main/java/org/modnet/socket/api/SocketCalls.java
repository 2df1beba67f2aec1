package org.modnet.socket.api;

import java.nio.ByteBuffer;

/**
 * The socket system calls of one process: a descriptor table whose sockets are created in one network
 * namespace (the process's, as {@code setns} moves it). Every call returns what the system call
 * returns — a descriptor, a count, or 0 — and on failure the negative errno ({@code -EAGAIN} is
 * {@code -11}), as the kernel's {@code sys_*} functions do; nothing is thrown for bad arguments, a bad
 * descriptor or the state of the network. Descriptors start at 3, the lowest free one first, up to
 * {@link #RLIMIT_NOFILE}. Buffers are read from and written to between their position and limit, and
 * their position moves by the count transferred.
 */
public interface SocketCalls extends AutoCloseable {
    int AF_UNSPEC = 0;
    int AF_INET = 2;
    int AF_INET6 = 10;

    int SOCK_STREAM = 1;
    int SOCK_DGRAM = 2;
    int SOCK_RAW = 3;
    int SOCK_NONBLOCK = 0x800;
    int SOCK_CLOEXEC = 0x80000;

    int IPPROTO_IP = 0;
    int IPPROTO_TCP = 6;
    int IPPROTO_UDP = 17;

    int SOL_SOCKET = 1;
    int SO_REUSEADDR = 2;
    int SO_TYPE = 3;
    int SO_ERROR = 4;
    int SO_BROADCAST = 6;
    int SO_SNDBUF = 7;
    int SO_RCVBUF = 8;
    int SO_KEEPALIVE = 9;
    /** The priority the socket's packets carry ({@code sk_priority} to {@code skb->priority}), which qdiscs classify by. @since 1.7 */
    int SO_PRIORITY = 12;
    int SO_LINGER = 13;
    /** The mark the socket's packets carry ({@code sk_mark} to {@code skb->mark}), which {@code ip rule fwmark} matches. @since 1.11 */
    int SO_MARK = 36;
    int SO_REUSEPORT = 15;
    int SO_RCVTIMEO = 20;
    int SO_SNDTIMEO = 21;
    /**
     * Socket filters ({@code socket(7)}): {@code SO_ATTACH_FILTER} takes a classic BPF program (through
     * {@link #setsockopt(int, int, int, ByteBuffer)}: its {@code struct sock_filter} array);
     * {@code SO_ATTACH_BPF} an eBPF {@code SOCKET_FILTER} program — here its id, as {@code bpftool prog
     * show} lists it and {@code BpfProg.id()} gives it, where Linux takes a descriptor of it;
     * {@code SO_DETACH_FILTER} removes either ({@code SO_DETACH_BPF} is the same number);
     * {@code SO_LOCK_FILTER} 1 forbids changing it from then on; {@code SO_GET_FILTER} reads a classic
     * one back. @since 1.11
     */
    int SO_ATTACH_FILTER = 26;
    int SO_GET_FILTER = SO_ATTACH_FILTER;
    int SO_DETACH_FILTER = 27;
    int SO_DETACH_BPF = SO_DETACH_FILTER;
    int SO_LOCK_FILTER = 44;
    int SO_ATTACH_BPF = 50;
    int SO_PROTOCOL = 38;
    int SO_DOMAIN = 39;
    /** {@code SO_MAX_PACING_RATE}: the most a socket is paced at, bytes per second (~0: no limit). @since 1.9 */
    int SO_MAX_PACING_RATE = 47;
    /**
     * {@code SO_BUSY_POLL}: microseconds a blocking read or a poll of the socket polls its device's
     * queue itself before it sleeps ({@code sk_ll_usec}; {@code net.core.busy_read} is its default).
     * @since 1.15
     */
    int SO_BUSY_POLL = 46;
    /** {@code SO_INCOMING_NAPI_ID} (get only): the NAPI instance the socket last received from, 0 before any. @since 1.15 */
    int SO_INCOMING_NAPI_ID = 56;
    /**
     * {@code SO_PREFER_BUSY_POLL} (boolean): a busy poll of the socket keeps its device's interrupt off
     * when it stops, with the device's {@code napi_defer_hard_irqs} and {@code gro_flush_timeout} set
     * ({@code sk_prefer_busy_poll}). @since 1.16
     */
    int SO_PREFER_BUSY_POLL = 69;
    /** {@code SO_BUSY_POLL_BUDGET}: frames a busy poll of the socket takes at most, 0..65535 (0: 8, {@code BUSY_POLL_BUDGET}). @since 1.16 */
    int SO_BUSY_POLL_BUDGET = 70;

    int IP_TOS = 1;
    int IP_TTL = 2;
    /** Path-MTU discovery of the socket ({@code ip(7)}): DF on what it sends. @since 1.4 */
    int IP_MTU_DISCOVER = 10;
    /** Extended error reporting ({@code ip(7)}); here only its effect on a send's result: ENOBUFS from a full qdisc reaches the sender. @since 1.6 */
    int IP_RECVERR = 11;
    /** The {@code IP_TTL} control message: here, the TTL an ICMP error read with {@code MSG_ERRQUEUE} arrived with ({@link MsgHdr#ttl}). @since 1.13 */
    int IP_RECVTTL = 12;
    /** getsockopt only: the path MTU of a connected socket's route (ENOTCONN unconnected). @since 1.10 */
    int IP_MTU = 14;
    /** IP_MTU_DISCOVER values: never DF; DF unless the route's MTU is locked (the default); always DF; and the ones that ignore the path MTU. @since 1.4 */
    int IP_PMTUDISC_DONT = 0;
    int IP_PMTUDISC_WANT = 1;
    int IP_PMTUDISC_DO = 2;
    int IP_PMTUDISC_PROBE = 3;
    int IP_PMTUDISC_INTERFACE = 4;
    int IP_PMTUDISC_OMIT = 5;

    /** {@code IPPROTO_TCP}-level options, Linux's numbers ({@code include/uapi/linux/tcp.h}). */
    int TCP_NODELAY = 1;
    int TCP_MAXSEG = 2;
    int TCP_CORK = 3;
    int TCP_KEEPIDLE = 4;
    int TCP_KEEPINTVL = 5;
    int TCP_KEEPCNT = 6;
    int TCP_USER_TIMEOUT = 18;
    /** {@code TCP_WINDOW_CLAMP}: the largest window the socket offers (0 forgets it, before a connection only). @since 1.19 */
    int TCP_WINDOW_CLAMP = 10;
    /** {@code TCP_QUICKACK}: non-zero leaves pingpong mode (acknowledges at once), 0 enters it. @since 1.19 */
    int TCP_QUICKACK = 12;
    /** {@code SOL_TCP} ({@code IPPROTO_TCP}) options. {@code TCP_INFO}: a {@link TcpInfo} as 32-bit words. */
    int SOL_TCP = 6;
    int TCP_INFO = 11;

    /** {@code SOL_UDP} ({@code IPPROTO_UDP}) options, Linux's numbers ({@code include/uapi/linux/udp.h}). @since 1.19 */
    int SOL_UDP = IPPROTO_UDP;
    /**
     * {@code UDP_SEGMENT}: the size a send is cut into datagrams of ({@code gso_size}, 0 to 65535; 0: off),
     * the whole send going down as one GSO skb. @since 1.19
     */
    int UDP_SEGMENT = 103;

    int MSG_PEEK = 0x2;
    int MSG_TRUNC = 0x20;
    /** Read the socket's error queue ({@code IP_RECVERR}): the quoted payload, its destination and a {@link SockExtendedErr}. @since 1.12 */
    int MSG_ERRQUEUE = 0x2000;
    int MSG_DONTWAIT = 0x40;
    /** {@code recv} waits until the whole buffer is filled (or the stream ends, an error, a signal or SO_RCVTIMEO). */
    int MSG_WAITALL = 0x100;
    /** {@code send} on TCP: more data follows, hold a partial segment back and mark no push (as {@code TCP_CORK} for one call). */
    int MSG_MORE = 0x8000;

    /** {@code ioctl(2)} requests, Linux's numbers: bytes to read ({@code FIONREAD}, TCP's {@code SIOCINQ}). */
    int FIONREAD = 0x541B;
    int SIOCINQ = FIONREAD;
    /** Bytes in the send queue not yet acknowledged (TCP), or not yet freed (UDP). */
    int SIOCOUTQ = 0x5411;
    /** TCP: bytes in the send queue not yet sent. */
    int SIOCOUTQNSD = 0x894B;

    int SHUT_RD = 0;
    int SHUT_WR = 1;
    int SHUT_RDWR = 2;

    int F_GETFL = 3;
    int F_SETFL = 4;
    int O_NONBLOCK = 0x800;

    int POLLIN = 0x1;
    int POLLPRI = 0x2;
    int POLLOUT = 0x4;
    int POLLERR = 0x8;
    int POLLHUP = 0x10;
    int POLLNVAL = 0x20;
    int POLLRDNORM = 0x40;
    int POLLWRNORM = 0x100;
    int POLLRDHUP = 0x2000;

    int EPOLL_CTL_ADD = 1;
    int EPOLL_CTL_DEL = 2;
    int EPOLL_CTL_MOD = 3;
    int EPOLLIN = POLLIN;
    int EPOLLOUT = POLLOUT;
    int EPOLLERR = POLLERR;
    int EPOLLHUP = POLLHUP;
    int EPOLLRDHUP = POLLRDHUP;
    int EPOLLONESHOT = 1 << 30;
    int EPOLLET = 1 << 31;

    /** The descriptor limit of a process, {@code ulimit -n}'s default. */
    int RLIMIT_NOFILE = 1024;

    /** {@code socket(2)}: {@code type} may carry {@link #SOCK_NONBLOCK}; protocol 0 picks the type's default. */
    int socket(int domain, int type, int protocol);

    int bind(int fd, SockAddr addr);

    int listen(int fd, int backlog);

    /** {@code accept4(2)}; {@code peer}, when not null, gets the peer's address in element 0. */
    int accept(int fd, SockAddr[] peer, int flags);

    /** {@code connect(2)}; a null address is {@code AF_UNSPEC}, which dissolves a datagram association. */
    int connect(int fd, SockAddr addr);

    int send(int fd, ByteBuffer buf, int flags);

    int sendto(int fd, ByteBuffer buf, int flags, SockAddr to);

    int sendmsg(int fd, MsgHdr msg, int flags);

    int recv(int fd, ByteBuffer buf, int flags);

    /** {@code recvfrom(2)}; {@code from}, when not null, gets the sender's address in element 0. */
    int recvfrom(int fd, ByteBuffer buf, int flags, SockAddr[] from);

    int recvmsg(int fd, MsgHdr msg, int flags);

    int shutdown(int fd, int how);

    /** {@code close(2)} of a socket or an epoll instance. */
    int close(int fd);

    /**
     * {@code setsockopt(2)} with the option's integers: one for most options, two for {@code SO_LINGER}
     * (l_onoff, l_linger) and for {@code SO_RCVTIMEO}/{@code SO_SNDTIMEO} (seconds, microseconds).
     * Too few values is EINVAL, as a short {@code optlen} is.
     */
    int setsockopt(int fd, int level, int name, int... value);

    /**
     * {@code setsockopt(2)} with the option's bytes as a C caller lays them out: for
     * {@link #SO_ATTACH_FILTER}, the program's {@code struct sock_filter} array (8 bytes each,
     * little-endian: u16 code, u8 jt, u8 jf, u32 k) from the buffer's position to its limit, which
     * {@code struct sock_fprog} would point to. EINVAL for a program the kernel's checker refuses, EPERM
     * when the filter is locked, ENOPROTOOPT for an option that takes no bytes here. @since 1.11
     */
    default int setsockopt(int fd, int level, int name, ByteBuffer value) {
        return -org.modnet.api.net.Errno.ENOPROTOOPT.number();
    }

    /** {@code getsockopt(2)}: fills {@code value} and returns how many integers the option has. */
    int getsockopt(int fd, int level, int name, int[] value);

    /**
     * {@code getsockopt(2)} into a C caller's bytes: the option's 32-bit words little-endian, as the
     * kernel copies an {@code int} or {@code struct tcp_info} ({@code TCP_INFO}) on x86-64 and arm64,
     * cut to the buffer's remaining bytes as a short {@code optlen} cuts it. Returns the bytes written
     * (the position moves past them), or the negative errno. Not for the {@code timeval} options, whose
     * C struct has 64-bit fields.
     */
    default int getsockopt(int fd, int level, int name, ByteBuffer value) {
        if (value == null) {
            return -org.modnet.api.net.Errno.EFAULT.number();
        }
        int[] words = new int[64];
        int n = getsockopt(fd, level, name, words);
        if (n < 0) {
            return n;
        }
        ByteBuffer le = ByteBuffer.allocate(n * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            le.putInt(words[i]);
        }
        int len = Math.min(le.capacity(), value.remaining());
        value.put(le.array(), 0, len);
        return len;
    }

    int getsockname(int fd, SockAddr[] out);

    int getpeername(int fd, SockAddr[] out);

    /**
     * {@code ioctl(2)} with an {@code int} result in {@code out[0]}: {@link #FIONREAD}/{@link #SIOCINQ},
     * {@link #SIOCOUTQ}, {@link #SIOCOUTQNSD}; ENOTTY for a request the socket does not know, EINVAL for
     * a TCP listener, EFAULT without room for the answer.
     */
    int ioctl(int fd, int request, int[] out);

    /** {@code fcntl(2)} for {@link #F_GETFL} and {@link #F_SETFL} ({@link #O_NONBLOCK}). */
    int fcntl(int fd, int cmd, int arg);

    /** {@code poll(2)}: a negative timeout waits for ever, 0 does not wait. */
    int poll(PollFd[] fds, int timeoutMillis);

    /** {@code epoll_create1(2)}. */
    int epollCreate();

    int epollCtl(int epfd, int op, int fd, int events, long data);

    /** {@code epoll_wait(2)}: up to {@code events.length} ready descriptors. */
    int epollWait(int epfd, EpollEvent[] events, int timeoutMillis);

    /**
     * {@code ioctl(epfd, EPIOCSPARAMS, &params)} (Linux 6.9): the epoll instance's busy polling, as
     * {@link EpollParams#setEpollParams}: microseconds (0: {@code net.core.busy_poll} decides), frames a
     * poll (0: 8), preferred (1) or not (0). 0, or -EBADF, -ENOTTY for a descriptor that is not an epoll
     * instance, -EINVAL for a value out of range. @since 1.17
     */
    default int epollSetParams(int epfd, long busyPollUsecs, int busyPollBudget, int preferBusyPoll) {
        return -org.modnet.api.net.Errno.ENOTTY.number();
    }

    /**
     * {@code ioctl(epfd, EPIOCGPARAMS, &params)}: {@code busy_poll_usecs}, {@code busy_poll_budget} and
     * {@code prefer_busy_poll} into {@code out[0..2]}; 0 or the negative errno as {@link #epollSetParams}
     * (-EFAULT without room for three). @since 1.17
     */
    default int epollGetParams(int epfd, long[] out) {
        return -org.modnet.api.net.Errno.ENOTTY.number();
    }

    /** {@code setns(2)} by name: later sockets are created in that namespace; ENOENT if there is none. */
    int setns(String netns);

    /** The namespace new sockets are created in. */
    String netns();

    /** The process's pid, as {@code ss -p} shows it. */
    int pid();

    /** The process exits: every descriptor is closed. */
    @Override
    void close();

    /** The {@code strerror} text of a negative return, e.g. "Connection refused". */
    static String strerror(int ret) {
        org.modnet.api.net.Errno e = org.modnet.api.net.Errno.of(-ret);
        return e == null ? "Unknown error " + (-ret) : e.text();
    }
}

package org.modnet.packetdrill;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The symbols a script's system calls name, with their Linux (x86-64) values, as packetdrill's
 * {@code symbols_linux.c} resolves them: address families, socket types and protocols, socket option
 * levels and names, {@code MSG_*}, {@code fcntl} and {@code O_*} flags, {@code shutdown} modes,
 * ioctls, poll and epoll events, IP/IPv6 options, timestamping flags, errno names. An integer
 * expression of these ({@code O_RDWR|O_NONBLOCK}) evaluates to its value.
 */
public final class Symbols {
    private static final Map<String, Long> VALUES = new HashMap<>();

    static {
        table("AF_UNSPEC 0 AF_INET 2 AF_INET6 10 PF_UNSPEC 0 PF_INET 2 PF_INET6 10");
        table("SOCK_STREAM 1 SOCK_DGRAM 2 SOCK_RAW 3 SOCK_NONBLOCK 2048 SOCK_CLOEXEC 524288");
        table("IPPROTO_IP 0 IPPROTO_ICMP 1 IPPROTO_TCP 6 IPPROTO_UDP 17 IPPROTO_IPV6 41 IPPROTO_ICMPV6 58"
                + " IPPROTO_RAW 255");
        table("SOL_IP 0 SOL_SOCKET 1 SOL_TCP 6 SOL_UDP 17 SOL_IPV6 41");
        table("SO_DEBUG 1 SO_REUSEADDR 2 SO_TYPE 3 SO_ERROR 4 SO_DONTROUTE 5 SO_BROADCAST 6 SO_SNDBUF 7"
                + " SO_RCVBUF 8 SO_KEEPALIVE 9 SO_OOBINLINE 10 SO_NO_CHECK 11 SO_PRIORITY 12 SO_LINGER 13"
                + " SO_REUSEPORT 15 SO_PASSCRED 16 SO_PEERCRED 17 SO_RCVLOWAT 18 SO_SNDLOWAT 19 SO_RCVTIMEO 20"
                + " SO_SNDTIMEO 21 SO_BINDTODEVICE 25 SO_TIMESTAMP 29 SO_ACCEPTCONN 30 SO_SNDBUFFORCE 32"
                + " SO_RCVBUFFORCE 33 SO_MARK 36 SO_TIMESTAMPING 37 SO_PROTOCOL 38 SO_DOMAIN 39 SO_RXQ_OVFL 40"
                + " SO_BUSY_POLL 46 SO_MAX_PACING_RATE 47 SO_INCOMING_CPU 49 SO_MEMINFO 55 SO_COOKIE 57"
                + " SO_ZEROCOPY 60 SO_TXTIME 61");
        table("TCP_NODELAY 1 TCP_MAXSEG 2 TCP_CORK 3 TCP_KEEPIDLE 4 TCP_KEEPINTVL 5 TCP_KEEPCNT 6 TCP_SYNCNT 7"
                + " TCP_LINGER2 8 TCP_DEFER_ACCEPT 9 TCP_WINDOW_CLAMP 10 TCP_INFO 11 TCP_QUICKACK 12"
                + " TCP_CONGESTION 13 TCP_MD5SIG 14 TCP_THIN_LINEAR_TIMEOUTS 16 TCP_THIN_DUPACK 17"
                + " TCP_USER_TIMEOUT 18 TCP_REPAIR 19 TCP_REPAIR_QUEUE 20 TCP_QUEUE_SEQ 21 TCP_REPAIR_OPTIONS 22"
                + " TCP_FASTOPEN 23 TCP_TIMESTAMP 24 TCP_NOTSENT_LOWAT 25 TCP_CC_INFO 26 TCP_SAVE_SYN 27"
                + " TCP_SAVED_SYN 28 TCP_REPAIR_WINDOW 29 TCP_FASTOPEN_CONNECT 30 TCP_ULP 31 TCP_MD5SIG_EXT 32"
                + " TCP_FASTOPEN_KEY 33 TCP_FASTOPEN_NO_COOKIE 34 TCP_ZEROCOPY_RECEIVE 35 TCP_INQ 36"
                + " TCP_TX_DELAY 37");
        table("IP_TOS 1 IP_TTL 2 IP_HDRINCL 3 IP_OPTIONS 4 IP_MTU_DISCOVER 10 IP_RECVERR 11 IP_RECVTOS 13 IP_MTU 14"
                + " IP_FREEBIND 15 IP_TRANSPARENT 19 IP_BIND_ADDRESS_NO_PORT 24 IP_PMTUDISC_DONT 0"
                + " IP_PMTUDISC_WANT 1 IP_PMTUDISC_DO 2 IP_PMTUDISC_PROBE 3");
        table("IPV6_MTU_DISCOVER 23 IPV6_MTU 24 IPV6_RECVERR 25 IPV6_V6ONLY 26 IPV6_RECVTCLASS 66 IPV6_TCLASS 67");
        table("MSG_OOB 0x1 MSG_PEEK 0x2 MSG_DONTROUTE 0x4 MSG_CTRUNC 0x8 MSG_TRUNC 0x20 MSG_DONTWAIT 0x40"
                + " MSG_EOR 0x80 MSG_WAITALL 0x100 MSG_ERRQUEUE 0x2000 MSG_NOSIGNAL 0x4000 MSG_MORE 0x8000"
                + " MSG_ZEROCOPY 0x4000000 MSG_FASTOPEN 0x20000000 MSG_CMSG_CLOEXEC 0x40000000");
        table("F_GETFD 1 F_SETFD 2 F_GETFL 3 F_SETFL 4 FD_CLOEXEC 1 O_RDONLY 0 O_WRONLY 1 O_RDWR 2"
                + " O_NONBLOCK 2048 O_CLOEXEC 524288");
        table("SHUT_RD 0 SHUT_WR 1 SHUT_RDWR 2");
        table("SIOCINQ 0x541B FIONREAD 0x541B SIOCOUTQ 0x5411 TIOCOUTQ 0x5411 FIONBIO 0x5421 SIOCOUTQNSD 0x894B");
        table("POLLIN 0x1 POLLPRI 0x2 POLLOUT 0x4 POLLERR 0x8 POLLHUP 0x10 POLLNVAL 0x20 POLLRDNORM 0x40"
                + " POLLRDBAND 0x80 POLLWRNORM 0x100 POLLWRBAND 0x200 POLLMSG 0x400 POLLRDHUP 0x2000");
        table("EPOLLIN 0x1 EPOLLPRI 0x2 EPOLLOUT 0x4 EPOLLERR 0x8 EPOLLHUP 0x10 EPOLLRDNORM 0x40"
                + " EPOLLRDBAND 0x80 EPOLLWRNORM 0x100 EPOLLWRBAND 0x200 EPOLLMSG 0x400 EPOLLRDHUP 0x2000"
                + " EPOLLEXCLUSIVE 0x10000000 EPOLLWAKEUP 0x20000000 EPOLLONESHOT 0x40000000 EPOLLET 0x80000000"
                + " EPOLL_CTL_ADD 1 EPOLL_CTL_DEL 2 EPOLL_CTL_MOD 3");
        table("SO_EE_ORIGIN_NONE 0 SO_EE_ORIGIN_LOCAL 1 SO_EE_ORIGIN_ICMP 2 SO_EE_ORIGIN_ICMP6 3"
                + " SO_EE_ORIGIN_TXSTATUS 4 SO_EE_ORIGIN_TIMESTAMPING 4 SO_EE_ORIGIN_ZEROCOPY 5"
                + " SCM_TSTAMP_SND 0 SCM_TSTAMP_SCHED 1 SCM_TSTAMP_ACK 2 SCM_TIMESTAMPING 37"
                + " SCM_TIMESTAMPING_OPT_STATS 54");
        table("SOF_TIMESTAMPING_TX_HARDWARE 0x1 SOF_TIMESTAMPING_TX_SOFTWARE 0x2 SOF_TIMESTAMPING_RX_HARDWARE 0x4"
                + " SOF_TIMESTAMPING_RX_SOFTWARE 0x8 SOF_TIMESTAMPING_SOFTWARE 0x10"
                + " SOF_TIMESTAMPING_SYS_HARDWARE 0x20 SOF_TIMESTAMPING_RAW_HARDWARE 0x40"
                + " SOF_TIMESTAMPING_OPT_ID 0x80 SOF_TIMESTAMPING_TX_SCHED 0x100 SOF_TIMESTAMPING_TX_ACK 0x200"
                + " SOF_TIMESTAMPING_OPT_CMSG 0x400 SOF_TIMESTAMPING_OPT_TSONLY 0x800"
                + " SOF_TIMESTAMPING_OPT_STATS 0x1000 SOF_TIMESTAMPING_OPT_PKTINFO 0x2000"
                + " SOF_TIMESTAMPING_OPT_TX_SWHW 0x4000");
        table("EPERM 1 ENOENT 2 ESRCH 3 EINTR 4 EIO 5 ENXIO 6 E2BIG 7 ENOEXEC 8 EBADF 9 ECHILD 10 EAGAIN 11"
                + " EWOULDBLOCK 11 ENOMEM 12 EACCES 13 EFAULT 14 EBUSY 16 EEXIST 17 ENODEV 19 ENOTDIR 20 EISDIR 21"
                + " EINVAL 22 ENFILE 23 EMFILE 24 ENOTTY 25 EFBIG 27 ENOSPC 28 ESPIPE 29 EROFS 30 EPIPE 32 ERANGE 34"
                + " EDEADLK 35 ENAMETOOLONG 36 ENOSYS 38 ENOTEMPTY 39 ELOOP 40 ENOMSG 42 ENODATA 61 ETIME 62"
                + " EPROTO 71 EBADMSG 74 EOVERFLOW 75 ENOTSOCK 88 EDESTADDRREQ 89 EMSGSIZE 90 EPROTOTYPE 91"
                + " ENOPROTOOPT 92 EPROTONOSUPPORT 93 ESOCKTNOSUPPORT 94 EOPNOTSUPP 95 ENOTSUP 95 EPFNOSUPPORT 96"
                + " EAFNOSUPPORT 97 EADDRINUSE 98 EADDRNOTAVAIL 99 ENETDOWN 100 ENETUNREACH 101 ENETRESET 102"
                + " ECONNABORTED 103 ECONNRESET 104 ENOBUFS 105 EISCONN 106 ENOTCONN 107 ESHUTDOWN 108"
                + " ETOOMANYREFS 109 ETIMEDOUT 110 ECONNREFUSED 111 EHOSTDOWN 112 EHOSTUNREACH 113 EALREADY 114"
                + " EINPROGRESS 115 ECANCELED 125");
    }

    private Symbols() {
    }

    private static void table(String pairs) {
        String[] words = pairs.trim().split("\\s+");
        for (int i = 0; i < words.length; i += 2) {
            Long v = Lexer.strtol(words[i + 1]);
            if (v == null || VALUES.put(words[i], v) != null) {
                throw new IllegalStateException("symbol table: " + words[i]);
            }
        }
    }

    /** The value of a symbol, or empty when packetdrill would not know it. */
    public static OptionalLong value(String name) {
        Long v = VALUES.get(name);
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /**
     * The value of an integer expression: a number, a symbol, or {@code A|B}; empty for anything else
     * (a list, a struct, {@code ...}, a string) or an unknown symbol.
     */
    public static OptionalLong integer(Expression e) {
        return switch (e) {
            case Expression.Int i -> OptionalLong.of(i.value());
            case Expression.Word w -> value(w.name());
            case Expression.Binary b when b.op().equals("|") -> {
                OptionalLong l = integer(b.left());
                OptionalLong r = integer(b.right());
                yield l.isPresent() && r.isPresent() ? OptionalLong.of(l.getAsLong() | r.getAsLong())
                        : OptionalLong.empty();
            }
            default -> OptionalLong.empty();
        };
    }
}

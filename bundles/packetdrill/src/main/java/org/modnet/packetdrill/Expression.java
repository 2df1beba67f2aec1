package org.modnet.packetdrill;

import java.util.List;

/**
 * An argument or result of a system call line (parser.y {@code expression}). Symbols stay words here
 * ({@code SOL_SOCKET}, {@code O_NONBLOCK}, errno names): the runner resolves them as
 * {@code symbols_linux.c} does.
 */
public sealed interface Expression {

    /** {@code ...}: the runner fills in the value (the socket's address, a buffer of N bytes, ...). */
    record Ellipsis() implements Expression {
        @Override
        public String toString() { return "..."; }
    }

    /** A decimal or {@code 0x} integer; {@code hex} says how it was written. */
    record Int(long value, boolean hex) implements Expression {
        @Override
        public String toString() { return hex ? "0x" + Long.toHexString(value) : Long.toString(value); }
    }

    /** A symbol: {@code SOCK_STREAM}, {@code MSG_MORE}, {@code EPOLLIN}. */
    record Word(String name) implements Expression {
        @Override
        public String toString() { return name; }
    }

    /** {@code "text"} (escapes left as written); {@code "text"...} has {@code ellipsis}: a prefix. */
    record Str(String text, boolean ellipsis) implements Expression {
        @Override
        public String toString() { return '"' + text + '"' + (ellipsis ? "..." : ""); }
    }

    /** {@code A | B} (bitwise or) or {@code NAME = VALUE}; {@code |} groups to the right. */
    record Binary(String op, Expression left, Expression right) implements Expression {
        @Override
        public String toString() { return left + op + right; }
    }

    /** {@code [a, b]}: an array, or {@code [v]} a pointer to an int. */
    record ListOf(List<Expression> elements) implements Expression {
        public ListOf {
            elements = List.copyOf(elements);
        }
    }

    /** {@code {a, b}}: a struct given by position. */
    record Group(List<Expression> elements) implements Expression {
        public Group {
            elements = List.copyOf(elements);
        }
    }

    /** {@code inet_addr("192.0.2.1")} (version 4) or {@code inet6_addr("2001:db8::1")} (version 6). */
    record InetAddr(int version, String address) implements Expression {
    }

    /** {@code {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}}. */
    record Sockaddr(String family, int port, String address) implements Expression {
    }

    /** {@code {..., N}}: a struct iovec of N bytes. */
    record Iovec(Expression base, long length) implements Expression {
    }

    /**
     * {@code {msg_name(...)=..., msg_iov(N)=[...], msg_flags=F[, msg_control=[...]]}}: {@code control}
     * is empty when not given.
     */
    record Msghdr(long iovCount, ListOf iov, Expression flags, ListOf control) implements Expression {
    }

    /** {@code {cmsg_level=L, cmsg_type=T, cmsg_data=D}}. */
    record Cmsg(Expression level, Expression type, Expression data) implements Expression {
    }

    /** {@code {fd=F, events=E[, revents=R]}}: revents 0 when not given. */
    record Pollfd(Expression fd, Expression events, Expression revents) implements Expression {
    }

    /** {@code {events=E, fd=F}} (or {@code ptr=}, {@code u32=}, {@code u64=}): a struct epoll_event. */
    record EpollEvent(Expression events, String dataField, Expression data) implements Expression {
    }

    /** {@code {onoff=1, linger=0}}: a struct linger. */
    record Linger(long onoff, long linger) implements Expression {
    }

    /** {@code {scm_sec=S, scm_nsec=N}}: one timestamp of SCM_TIMESTAMPING. */
    record ScmTimestamping(long sec, long nsec) implements Expression {
    }

    /** {@code {ee_errno=.., ee_origin=.., ee_type=.., ee_code=.., ee_info=.., ee_data=..}}. */
    record SockExtendedErr(Expression errno, Expression origin, Expression type, Expression code, Expression info,
            Expression data) implements Expression {
    }
}

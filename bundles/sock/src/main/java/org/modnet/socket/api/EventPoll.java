package org.modnet.socket.api;

/**
 * An epoll instance as a descriptor table holds it ({@code struct eventpoll} behind its file): made by
 * the socket layer, kept in a {@link SocketProcess}'s table, so a version of the layer that did not
 * make it still serves {@code epoll_ctl} and {@code epoll_wait} on it after an update. Its sockets are
 * API objects; its own code is the version that made it, until it is closed. @since 1.8
 */
public interface EventPoll {
    /** {@code epoll_ctl} on {@code sock}, the socket behind {@code fd}: 0 or a negative errno. */
    int ctl(int op, int fd, Sock sock, int events, long data);

    /** {@code epoll_wait}: the number of events written, 0 on timeout, or a negative errno. */
    int await(EpollEvent[] events, int timeoutMillis);

    /** The last descriptor is closed: the interest list is dropped and waiters return. */
    void close();
}

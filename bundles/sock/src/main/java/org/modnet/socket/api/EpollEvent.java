package org.modnet.socket.api;

/** {@code struct epoll_event}: what is ready and the caller's data registered with the descriptor. */
public final class EpollEvent {
    public int events;
    public long data;
}

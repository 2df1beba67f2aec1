package org.modnet.socket.api;

/** {@code struct pollfd}: the descriptor, the events asked for, and (after {@code poll}) those that are ready. */
public final class PollFd {
    public int fd;
    public int events;
    public int revents;

    public PollFd(int fd, int events) {
        this.fd = fd;
        this.events = events;
    }
}

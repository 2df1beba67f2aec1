package org.modnet.socket.api;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A process as an application holds it ({@code task_struct} with its {@code files_struct}): its
 * descriptor table, and the socket layer version that serves its calls now. The table is kept here,
 * in the API bundle, so it outlives an update of the socket layer ({@code update org.modnet.socket}):
 * the new version takes the same table and serves the same object, and every descriptor the
 * application holds stays valid. The table's entries are {@link Sock}s (API objects, made by their
 * protocol) and the layer's own open files (epoll instances, {@link EventPoll}); it is handed over by
 * keeping the objects, not by copying them: a socket is the protocol's, not the socket layer's.
 * Changes to the table are made under the table's monitor ({@link #files()}). @since 1.8
 */
public final class SocketProcess implements SocketCalls {
    private final String command;
    private final int pid;
    private final AtomicReferenceArray<Object> files = new AtomicReferenceArray<>(RLIMIT_NOFILE);
    private volatile SocketCalls calls;

    /** A process named {@code command} (what {@code ss -p} shows) with an empty descriptor table, served by nobody yet. */
    public SocketProcess(String command, int pid) {
        this.command = command == null ? "java" : command;
        this.pid = pid;
    }

    /** The name {@code ss -p} shows. */
    public String command() {
        return command;
    }

    /** The descriptor table, {@value SocketCalls#RLIMIT_NOFILE} slots; changed under its own monitor. */
    public AtomicReferenceArray<Object> files() {
        return files;
    }

    /** The socket layer's calls on this table; the layer's next version serves the process from now on. */
    public void serve(SocketCalls calls) {
        this.calls = calls;
    }

    /** What serves the calls now (the socket layer version that made or adopted this process). */
    public SocketCalls calls() {
        return calls;
    }

    @Override
    public int socket(int domain, int type, int protocol) {
        return calls.socket(domain, type, protocol);
    }

    @Override
    public int bind(int fd, SockAddr addr) {
        return calls.bind(fd, addr);
    }

    @Override
    public int listen(int fd, int backlog) {
        return calls.listen(fd, backlog);
    }

    @Override
    public int accept(int fd, SockAddr[] peer, int flags) {
        return calls.accept(fd, peer, flags);
    }

    @Override
    public int connect(int fd, SockAddr addr) {
        return calls.connect(fd, addr);
    }

    @Override
    public int send(int fd, ByteBuffer buf, int flags) {
        return calls.send(fd, buf, flags);
    }

    @Override
    public int sendto(int fd, ByteBuffer buf, int flags, SockAddr to) {
        return calls.sendto(fd, buf, flags, to);
    }

    @Override
    public int sendmsg(int fd, MsgHdr msg, int flags) {
        return calls.sendmsg(fd, msg, flags);
    }

    @Override
    public int recv(int fd, ByteBuffer buf, int flags) {
        return calls.recv(fd, buf, flags);
    }

    @Override
    public int recvfrom(int fd, ByteBuffer buf, int flags, SockAddr[] from) {
        return calls.recvfrom(fd, buf, flags, from);
    }

    @Override
    public int recvmsg(int fd, MsgHdr msg, int flags) {
        return calls.recvmsg(fd, msg, flags);
    }

    @Override
    public int shutdown(int fd, int how) {
        return calls.shutdown(fd, how);
    }

    @Override
    public int close(int fd) {
        return calls.close(fd);
    }

    @Override
    public int setsockopt(int fd, int level, int name, int... value) {
        return calls.setsockopt(fd, level, name, value);
    }

    @Override
    public int setsockopt(int fd, int level, int name, ByteBuffer value) {
        return calls.setsockopt(fd, level, name, value);
    }

    @Override
    public int getsockopt(int fd, int level, int name, int[] value) {
        return calls.getsockopt(fd, level, name, value);
    }

    @Override
    public int getsockname(int fd, SockAddr[] out) {
        return calls.getsockname(fd, out);
    }

    @Override
    public int getpeername(int fd, SockAddr[] out) {
        return calls.getpeername(fd, out);
    }

    @Override
    public int ioctl(int fd, int request, int[] out) {
        return calls.ioctl(fd, request, out);
    }

    @Override
    public int fcntl(int fd, int cmd, int arg) {
        return calls.fcntl(fd, cmd, arg);
    }

    @Override
    public int poll(PollFd[] fds, int timeoutMillis) {
        return calls.poll(fds, timeoutMillis);
    }

    @Override
    public int epollCreate() {
        return calls.epollCreate();
    }

    @Override
    public int epollCtl(int epfd, int op, int fd, int events, long data) {
        return calls.epollCtl(epfd, op, fd, events, data);
    }

    @Override
    public int epollWait(int epfd, EpollEvent[] events, int timeoutMillis) {
        return calls.epollWait(epfd, events, timeoutMillis);
    }

    @Override
    public int epollSetParams(int epfd, long busyPollUsecs, int busyPollBudget, int preferBusyPoll) {
        return calls.epollSetParams(epfd, busyPollUsecs, busyPollBudget, preferBusyPoll);
    }

    @Override
    public int epollGetParams(int epfd, long[] out) {
        return calls.epollGetParams(epfd, out);
    }

    @Override
    public int setns(String netns) {
        return calls.setns(netns);
    }

    @Override
    public String netns() {
        return calls.netns();
    }

    @Override
    public int pid() {
        return pid;
    }

    @Override
    public void close() {
        calls.close();
    }
}

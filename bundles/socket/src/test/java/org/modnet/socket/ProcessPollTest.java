package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.EPOLLET;
import static org.modnet.socket.api.SocketCalls.EPOLLIN;
import static org.modnet.socket.api.SocketCalls.EPOLLOUT;
import static org.modnet.socket.api.SocketCalls.EPOLL_CTL_ADD;
import static org.modnet.socket.api.SocketCalls.EPOLL_CTL_DEL;
import static org.modnet.socket.api.SocketCalls.POLLERR;
import static org.modnet.socket.api.SocketCalls.POLLIN;
import static org.modnet.socket.api.SocketCalls.POLLNVAL;
import static org.modnet.socket.api.SocketCalls.POLLOUT;
import static org.modnet.socket.api.SocketCalls.SOCK_DGRAM;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.EpollEvent;
import org.modnet.socket.api.PollFd;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/** The BSD calls of a {@link Process} on datagram sockets: sendto/recvfrom, and poll and epoll readiness and waking. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ProcessPollTest {
    private static final SockAddr SERVER = new SockAddr(LoopSock.LOCALHOST, 5300);

    private final LoopStack stack = new LoopStack();
    private final SocketCalls proc = stack.layer.process("test", "");
    private final SocketCalls peer = stack.layer.process("peer", "");

    @AfterEach
    void tearDown() {
        proc.close();
        peer.close();
        stack.close();
    }

    private int server() {
        int fd = proc.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        assertTrue(fd >= 3, "socket: " + fd);
        assertEquals(0, proc.bind(fd, SERVER));
        return fd;
    }

    private void sendLater(String s) {
        CompletableFuture.runAsync(() -> {
            try {
                Thread.sleep(150);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            send(s);
        });
    }

    private void send(String s) {
        int fd = peer.socket(AF_INET, SOCK_DGRAM, 0);
        int n = peer.sendto(fd, ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)), 0, SERVER);
        assertEquals(s.length(), n, SocketCalls.strerror(n));
        peer.close(fd);
    }

    private static PollFd pollFd(int fd, int events) {
        return new PollFd(fd, events);
    }

    @Test
    void aSocketParkedForItsProtocolsUpdateIsNotReportedToEpollUntilItsSuccessorIsThere() {
        int fd = server();
        int ep = proc.epollCreate();
        assertEquals(0, proc.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 7));
        EpollEvent[] ev = { new EpollEvent() };
        assertEquals(1, proc.epollWait(ep, ev, 0), "writable");
        LoopSock old = stack.net.ports.get(5300);
        old.park(); // its protocol is handing it over
        assertEquals(0, proc.epollWait(ep, ev, 0), "nothing to do on it meanwhile: a level-triggered loop would spin on EAGAIN");
        stack.layer.adopted(old.inode(), stack.net.create(stack.stack.core().initNet()));
        stack.layer.finished(new org.modnet.api.handover.LayerState("udp", 1, java.util.List.of(), java.util.Map.of()));
        assertEquals(1, proc.epollWait(ep, ev, 1000), "the successor under the same descriptor is writable");
        assertEquals(7, ev[0].data);
    }

    @Test
    void sendtoAndRecvfrom() {
        int fd = server();
        ByteBuffer buf = ByteBuffer.allocate(20);
        assertEquals(-Errno.EAGAIN.number(), proc.recvfrom(fd, buf, 0, null), "non-blocking and nothing queued");
        send("hello");
        SockAddr[] from = new SockAddr[1];
        assertEquals(5, proc.recvfrom(fd, buf, 0, from));
        assertEquals(LoopSock.LOCALHOST, from[0].address());
        assertEquals("hello", new String(buf.array(), 0, 5, StandardCharsets.UTF_8));
    }

    @Test
    void pollReportsWritableAtOnceAndReadableWhenADatagramArrives() {
        int fd = server();
        PollFd[] fds = { pollFd(fd, POLLIN | POLLOUT) };
        assertEquals(1, proc.poll(fds, 0));
        assertEquals(POLLOUT, fds[0].revents & (POLLIN | POLLOUT));

        fds[0].events = POLLIN;
        assertEquals(0, proc.poll(fds, 0), "nothing to read");
        assertEquals(0, proc.poll(fds, 30), "nor after a timeout");
        sendLater("wake");
        assertEquals(1, proc.poll(fds, -1), "woken by the datagram");
        assertEquals(POLLIN, fds[0].revents & POLLIN);
    }

    @Test
    void pollReportsAPendingErrorAndABadDescriptor() {
        int fd = proc.socket(AF_INET, SOCK_DGRAM, 0);
        assertEquals(0, proc.connect(fd, new SockAddr(LoopSock.LOCALHOST, 9)));
        assertEquals(1, proc.send(fd, ByteBuffer.wrap(new byte[] { 1 }), 0));
        PollFd[] fds = { pollFd(fd, POLLIN), pollFd(99, POLLIN) };
        assertEquals(2, proc.poll(fds, 0));
        assertEquals(POLLERR, fds[0].revents & POLLERR, "ECONNREFUSED pending");
        assertEquals(POLLNVAL, fds[1].revents);
        assertEquals(-Errno.ECONNREFUSED.number(), proc.recv(fd, ByteBuffer.allocate(4), 0));
    }

    @Test
    void epollWaitIsWokenAndLevelTriggeredRepeats() {
        int fd = server();
        int ep = proc.epollCreate();
        assertEquals(0, proc.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 77));
        EpollEvent[] events = { new EpollEvent(), new EpollEvent() };
        assertEquals(0, proc.epollWait(ep, events, 0));
        sendLater("one");
        assertEquals(1, proc.epollWait(ep, events, -1));
        assertEquals(77, events[0].data);
        assertEquals(EPOLLIN, events[0].events);
        assertEquals(1, proc.epollWait(ep, events, 0), "level triggered: still readable");
        assertEquals(3, proc.recv(fd, ByteBuffer.allocate(10), 0));
        assertEquals(0, proc.epollWait(ep, events, 0), "read: not ready any more");
        assertEquals(0, proc.epollCtl(ep, EPOLL_CTL_DEL, fd, 0, 0));
        send("two");
        assertEquals(0, proc.epollWait(ep, events, 0), "no longer in the interest list");
    }

    @Test
    void edgeTriggeredEpollReportsOncePerArrival() {
        int fd = server();
        int ep = proc.epollCreate();
        assertEquals(0, proc.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, 5));
        EpollEvent[] events = { new EpollEvent() };
        send("a");
        assertEquals(1, proc.epollWait(ep, events, 0));
        assertEquals(0, proc.epollWait(ep, events, 0), "edge triggered: reported once, though still readable");
        send("b");
        assertEquals(1, proc.epollWait(ep, events, -1), "a new arrival is a new edge");
    }

    @Test
    void epollReportsWritable() {
        int fd = server();
        int ep = proc.epollCreate();
        assertEquals(0, proc.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 1));
        EpollEvent[] events = { new EpollEvent() };
        assertEquals(1, proc.epollWait(ep, events, -1));
        assertEquals(EPOLLOUT, events[0].events);
    }

    @Test
    void closingADescriptorTakesItOutOfEpoll() {
        int fd = server();
        int ep = proc.epollCreate();
        assertEquals(0, proc.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 1));
        send("x");
        assertEquals(0, proc.close(fd));
        EpollEvent[] events = { new EpollEvent() };
        assertEquals(0, proc.epollWait(ep, events, 0));
        assertEquals(-Errno.EBADF.number(), proc.recv(fd, ByteBuffer.allocate(4), 0));
    }
}

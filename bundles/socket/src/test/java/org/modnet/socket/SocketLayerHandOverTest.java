package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.EPOLLIN;
import static org.modnet.socket.api.SocketCalls.EPOLL_CTL_ADD;
import static org.modnet.socket.api.SocketCalls.SOCK_DGRAM;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.modnet.api.net.NetNamespace;
import org.modnet.core.StandaloneCore;
import org.modnet.socket.api.EpollEvent;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.SocketLayerState;
import org.modnet.socket.api.SocketProcess;

/**
 * {@code update org.modnet.socket}: the old version deposits what it holds as it is deactivated (as DS
 * does it: the namespace exits and the protocol's unbind come too), the next one adopts it, and the
 * descriptors an application opened before keep working, epoll instances and a call in progress
 * included. {@link LoopSock}'s protocol stays registered across the swap, as one that does not go
 * down with the holder.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class SocketLayerHandOverTest {
    private static final SockAddr SERVER = new SockAddr(LoopSock.LOCALHOST, 5400);

    private final StandaloneCore stack = StandaloneCore.manual(1, 1024, System::nanoTime);
    private final NetNamespace init = stack.core().initNet();
    private final LoopSock.Net udp = new LoopSock.Net();
    private final AtomicBoolean updating = new AtomicBoolean();
    private final SocketLayer old = new SocketLayer(stack.core(), updating::get, SocketLayer.STATE_VERSION, null);
    private SocketLayer next;

    SocketLayerHandOverTest() {
        old.init(init);
        old.addProtocol(udp, LoopSock.Net.udpProperties());
    }

    @AfterEach
    void tearDown() {
        SocketLayerState.take();
        if (next != null) {
            next.deactivate();
        }
        stack.shutdown();
    }

    /** The old version leaves for an update as DS takes it down, and a version reading {@code stateVersion} comes. */
    private SocketLayer update(int stateVersion) {
        updating.set(true);
        old.exit(init); // the core runs the pernet exit as the service goes
        old.deactivate();
        old.removeProtocol(udp); // DS unbinds the dynamic reference after deactivate
        next = new SocketLayer(stack.core(), () -> false, stateVersion, SocketLayerState.take());
        next.init(init);
        next.addProtocol(udp, LoopSock.Net.udpProperties());
        return next;
    }

    private static int send(SocketCalls p, int fd, String s) {
        return p.sendto(fd, ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)), 0, SERVER);
    }

    private static String text(ByteBuffer b, int n) {
        return new String(b.array(), 0, n, StandardCharsets.UTF_8);
    }

    @Test
    void descriptorsOpenedBeforeTheUpdateWorkAfterIt() {
        SocketCalls app = old.process("app", "");
        int server = app.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        assertEquals(0, app.bind(server, SERVER));
        int client = app.socket(AF_INET, SOCK_DGRAM, 0);
        assertEquals(6, send(app, client, "before"));
        SocketCalls served = ((SocketProcess) app).calls();

        SocketLayer next = update(SocketLayer.STATE_VERSION);

        assertNotSame(served, ((SocketProcess) app).calls(), "the next version serves the process");
        ByteBuffer buf = ByteBuffer.allocate(32);
        assertEquals(6, app.recvfrom(server, buf, 0, null), "queued before the update, received after");
        assertEquals("before", text(buf, 6));
        assertEquals(5, send(app, client, "after"));
        buf.clear();
        assertEquals(5, app.recvfrom(server, buf, 0, null));
        assertEquals("after", text(buf, 5));
        assertEquals(2, next.sockets("").size(), "ss lists the adopted sockets");
        int third = app.socket(AF_INET, SOCK_DGRAM, 0);
        assertEquals(client + 1, third, "new descriptors come from the same table");
        assertEquals(0, app.close(client));
        assertEquals(2, next.sockets("").size());
        assertTrue(next.lastHandOver.startsWith("adopted 1 processes, 2 sockets"), next.lastHandOver);
    }

    @Test
    void anEpollInstanceMadeBeforeTheUpdateStillReports() {
        SocketCalls app = old.process("app", "");
        int server = app.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        assertEquals(0, app.bind(server, SERVER));
        int ep = app.epollCreate();
        assertEquals(0, app.epollCtl(ep, EPOLL_CTL_ADD, server, EPOLLIN, 42));

        update(SocketLayer.STATE_VERSION);

        int client = app.socket(AF_INET, SOCK_DGRAM, 0);
        assertEquals(2, send(app, client, "hi"));
        EpollEvent[] events = { new EpollEvent() };
        assertEquals(1, app.epollWait(ep, events, 1000));
        assertEquals(42, events[0].data);
        assertEquals(EPOLLIN, events[0].events & EPOLLIN);
    }

    @Test
    void aBlockingCallInTheOldVersionFinishesAfterTheUpdate() throws Exception {
        SocketCalls app = old.process("app", "");
        int server = app.socket(AF_INET, SOCK_DGRAM, 0);
        assertEquals(0, app.bind(server, SERVER));
        ByteBuffer buf = ByteBuffer.allocate(32);
        CompletableFuture<Integer> recv = CompletableFuture.supplyAsync(() -> app.recvfrom(server, buf, 0, null));
        Thread.sleep(100); // let it block in the old version's code
        assertFalse(recv.isDone());

        update(SocketLayer.STATE_VERSION);

        SocketCalls other = next.process("other", "");
        int client = other.socket(AF_INET, SOCK_DGRAM, 0);
        assertEquals(4, send(other, client, "late"));
        assertEquals(4, recv.get(5, TimeUnit.SECONDS));
        assertEquals("late", text(buf, 4));
    }

    @Test
    void aClosedProcessIsNotHandedOver() {
        SocketCalls gone = old.process("gone", "");
        gone.socket(AF_INET, SOCK_DGRAM, 0);
        gone.close();
        SocketCalls kept = old.process("kept", "");
        kept.socket(AF_INET, SOCK_DGRAM, 0);

        SocketLayer next = update(SocketLayer.STATE_VERSION);

        assertTrue(next.lastHandOver.startsWith("adopted 1 processes, 1 sockets"), next.lastHandOver);
    }

    @Test
    void aPlainStopClosesTheSocketsAndDepositsNothing() {
        SocketCalls app = old.process("app", "");
        int fd = app.socket(AF_INET, SOCK_DGRAM, 0);
        old.deactivate();
        assertNull(SocketLayerState.take());
        assertTrue(old.sockets("").isEmpty());
        assertTrue(app.recvfrom(fd, ByteBuffer.allocate(4), SocketCalls.MSG_DONTWAIT, null) < 0, "closed with the layer");
    }

    @Test
    void aStateVersionTheNextVersionCannotReadIsRefusedAndCounted() {
        SocketCalls app = old.process("app", "");
        int fd = app.socket(AF_INET, SOCK_DGRAM, 0);
        assertEquals(0, app.bind(fd, SERVER));

        SocketLayer next = update(SocketLayer.STATE_VERSION + 1);

        assertEquals(1L, next.counters(init).get("HandOverRefused"));
        assertTrue(next.sockets("").isEmpty(), "the old sockets were closed");
        int again = app.socket(AF_INET, SOCK_DGRAM, 0);
        assertTrue(again >= 3, "the process is served by the new version: " + again);
        assertEquals(0, app.bind(again, SERVER), "the port was freed");
    }
}

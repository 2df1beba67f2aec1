package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.core.StandaloneCore;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * Busy polling from TCP's side: {@code SO_BUSY_POLL} (its default {@code net.core.busy_read}),
 * {@code sk_napi_id} learnt on receive ({@code SO_INCOMING_NAPI_ID}), and a selector with
 * {@code net.core.busy_poll} on reading lo's frames on its own thread: lo's queue takes no interrupt.
 */
class TcpBusyPollTest {
    private static final int LOCALHOST = 0x7f000001;

    @Test
    void soBusyPollStartsAtBusyReadAndIsSetPerSocket() throws Exception {
        try (TcpStack s = new TcpStack()) {
            SocketCalls sys = s.process();
            int[] v = new int[1];
            int before = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            assertEquals(1, sys.getsockopt(before, SOL_SOCKET, SocketCalls.SO_BUSY_POLL, v));
            assertEquals(0, v[0], "off by default, as Linux");
            s.ns.sysctl().set("net.core.busy_read", "50");
            int after = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            assertEquals(1, sys.getsockopt(after, SOL_SOCKET, SocketCalls.SO_BUSY_POLL, v));
            assertEquals(50, v[0], "sock_init_data: busy_read is a new socket's default");
            assertEquals(1, sys.getsockopt(before, SOL_SOCKET, SocketCalls.SO_BUSY_POLL, v));
            assertEquals(0, v[0], "a socket made before keeps its own");
            assertEquals(0, sys.setsockopt(before, SOL_SOCKET, SocketCalls.SO_BUSY_POLL, 20));
            assertEquals(1, sys.getsockopt(before, SOL_SOCKET, SocketCalls.SO_BUSY_POLL, v));
            assertEquals(20, v[0]);
            assertEquals(-Errno.EINVAL.number(), sys.setsockopt(before, SOL_SOCKET, SocketCalls.SO_BUSY_POLL, -1));
            assertEquals(-Errno.ENOPROTOOPT.number(), sys.setsockopt(before, SOL_SOCKET, SocketCalls.SO_INCOMING_NAPI_ID, 1),
                    "SO_INCOMING_NAPI_ID is read only");
            sys.close();
        }
    }

    /**
     * SO_PREFER_BUSY_POLL (69) and SO_BUSY_POLL_BUDGET (70) as Linux's sock_setsockopt takes them: off
     * and 0 by default, per socket, the flag any non-zero int, the budget a u16 (EINVAL outside it; the
     * CAP_NET_ADMIN rule for raising either does not apply to modnet's processes).
     */
    @Test
    void soPreferBusyPollAndSoBusyPollBudget() throws Exception {
        try (TcpStack s = new TcpStack()) {
            SocketCalls sys = s.process();
            int[] v = new int[1];
            int a = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            int b = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            assertEquals(69, SocketCalls.SO_PREFER_BUSY_POLL);
            assertEquals(70, SocketCalls.SO_BUSY_POLL_BUDGET);
            assertEquals(1, sys.getsockopt(a, SOL_SOCKET, SocketCalls.SO_PREFER_BUSY_POLL, v));
            assertEquals(0, v[0], "off by default");
            assertEquals(1, sys.getsockopt(a, SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, v));
            assertEquals(0, v[0], "0: BUSY_POLL_BUDGET");
            assertEquals(0, sys.setsockopt(a, SOL_SOCKET, SocketCalls.SO_PREFER_BUSY_POLL, 5));
            assertEquals(1, sys.getsockopt(a, SOL_SOCKET, SocketCalls.SO_PREFER_BUSY_POLL, v));
            assertEquals(1, v[0], "a boolean: any non-zero value is 1");
            assertEquals(1, sys.getsockopt(b, SOL_SOCKET, SocketCalls.SO_PREFER_BUSY_POLL, v));
            assertEquals(0, v[0], "per socket");
            assertEquals(0, sys.setsockopt(a, SOL_SOCKET, SocketCalls.SO_PREFER_BUSY_POLL, 0));
            assertEquals(1, sys.getsockopt(a, SOL_SOCKET, SocketCalls.SO_PREFER_BUSY_POLL, v));
            assertEquals(0, v[0]);
            assertEquals(0, sys.setsockopt(a, SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, 64));
            assertEquals(1, sys.getsockopt(a, SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, v));
            assertEquals(64, v[0]);
            assertEquals(0, sys.setsockopt(a, SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, 65535), "above NAPI_POLL_WEIGHT: allowed with CAP_NET_ADMIN");
            assertEquals(-Errno.EINVAL.number(), sys.setsockopt(a, SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, 65536), "a u16");
            assertEquals(-Errno.EINVAL.number(), sys.setsockopt(a, SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, -1));
            assertEquals(1, sys.getsockopt(a, SOL_SOCKET, SocketCalls.SO_BUSY_POLL_BUDGET, v));
            assertEquals(65535, v[0], "a refused value changes nothing");
            sys.close();
        }
    }

    @Test
    void aSocketLearnsTheNapiIdOfTheQueueItReceivedFrom() throws Exception {
        try (TcpStack s = new TcpStack()) {
            SocketCalls sys = s.process();
            int l = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            assertEquals(0, sys.bind(l, new SockAddr(LOCALHOST, 7300)));
            assertEquals(0, sys.listen(l, 8));
            int c = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            int[] v = new int[1];
            assertEquals(1, sys.getsockopt(c, SOL_SOCKET, SocketCalls.SO_INCOMING_NAPI_ID, v));
            assertEquals(0, v[0], "nothing received yet");
            sys.connect(c, new SockAddr(LOCALHOST, 7300));
            s.run();
            int a = sys.accept(l, null, SOCK_NONBLOCK);
            assertTrue(a >= 0, "accept: " + SocketCalls.strerror(a));
            assertEquals(1, sys.getsockopt(c, SOL_SOCKET, SocketCalls.SO_INCOMING_NAPI_ID, v));
            int napi = v[0];
            assertTrue(napi >= 8193, "lo's queue's id, above the CPUs' numbers (MIN_NAPI_ID): " + napi);
            assertEquals(1, sys.getsockopt(a, SOL_SOCKET, SocketCalls.SO_INCOMING_NAPI_ID, v));
            assertEquals(napi, v[0], "both ends receive through lo's one queue");
            sys.close();
        }
    }

    @Test
    void aSelectorWithBusyPollOnReadsLoopbackFramesItselfAndTheQueueTakesNoInterrupt() throws Exception {
        try (TcpStack s = new TcpStack(StandaloneCore.threaded(1, 8192))) {
            SelectorProvider provider = s.sockets.provider("");
            try (ServerSocketChannel server = provider.openServerSocketChannel(); SocketChannel client = provider.openSocketChannel();
                    Selector selector = provider.openSelector()) {
                server.bind(new InetSocketAddress("127.0.0.1", 7301));
                client.connect(new InetSocketAddress("127.0.0.1", 7301));
                SocketChannel accepted = server.accept();
                accepted.configureBlocking(false);
                // one exchange first: the accepted socket has received through lo's queue (sk_napi_id)
                client.write(ByteBuffer.wrap(new byte[] { 1 }));
                accepted.register(selector, SelectionKey.OP_READ);
                assertEquals(1, selector.select(10_000));
                selector.selectedKeys().clear();
                assertEquals(1, accepted.read(ByteBuffer.allocate(16)));

                s.ns.sysctl().set("net.core.busy_poll", "5000000"); // 5 s: the whole wait below is a busy poll
                Thread.sleep(300); // the first byte's delayed ACK and any other frame have gone by
                long irqs = s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs");
                long polls = s.ns.device("lo").ethtoolStats().get("rx_queue_0_polls");
                Thread sender = Thread.ofPlatform().start(() -> {
                    try {
                        Thread.sleep(100);
                        client.write(ByteBuffer.wrap(new byte[] { 2, 3, 4 }));
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                assertEquals(1, selector.select(10_000), "the bytes arrived while the selector polled lo's queue");
                sender.join();
                ByteBuffer got = ByteBuffer.allocate(16);
                assertEquals(3, accepted.read(got));
                assertEquals(irqs, s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs"),
                        "lo's queue took no interrupt: the busy poller held it, so nothing woke the softirq for those frames");
                assertTrue(s.ns.device("lo").ethtoolStats().get("rx_queue_0_polls") > polls, "polled by the selector's thread");
            }
        }
    }

    /**
     * epoll's EPIOCSPARAMS on modnet's selector (an epoll instance): its own busy_poll_usecs with
     * net.core.busy_poll left at 0, and prefer_busy_poll with lo's napi_defer_hard_irqs and
     * gro_flush_timeout set: a frame that comes between two selections (the application busy elsewhere)
     * takes no interrupt either; it waits in lo's queue for the next selection's busy poll.
     */
    @Test
    void aSelectorWithPreferredBusyPollKeepsLoopbacksInterruptOffBetweenSelections() throws Exception {
        try (TcpStack s = new TcpStack(StandaloneCore.threaded(1, 8192))) {
            SelectorProvider provider = s.sockets.provider("");
            try (ServerSocketChannel server = provider.openServerSocketChannel(); SocketChannel client = provider.openSocketChannel();
                    Selector selector = provider.openSelector()) {
                org.modnet.socket.api.EpollParams ep = (org.modnet.socket.api.EpollParams) selector;
                assertEquals(0, ep.busyPollUsecs());
                assertEquals(0, ep.busyPollBudget());
                assertTrue(!ep.preferBusyPoll(), "EPIOCGPARAMS of a new instance: all 0");
                for (long[] bad : new long[][] { { 1L << 31, 0, 0 }, { 0, 65536, 0 }, { 0, 0, 2 }, { -1, 0, 0 } }) {
                    org.modnet.socket.api.SockException e = org.junit.jupiter.api.Assertions.assertThrows(org.modnet.socket.api.SockException.class,
                            () -> ep.setEpollParams(bad[0], (int) bad[1], (int) bad[2]));
                    assertEquals(Errno.EINVAL, e.errno());
                }
                server.bind(new InetSocketAddress("127.0.0.1", 7303));
                client.connect(new InetSocketAddress("127.0.0.1", 7303));
                SocketChannel accepted = server.accept();
                accepted.configureBlocking(false);
                client.write(ByteBuffer.wrap(new byte[] { 1 }));
                accepted.register(selector, SelectionKey.OP_READ);
                assertEquals(1, selector.select(10_000));
                selector.selectedKeys().clear();
                assertEquals(1, accepted.read(ByteBuffer.allocate(16)));

                assertEquals("0", s.ns.sysctl().get("net.core.busy_poll"));
                ep.setEpollParams(5_000_000, 16, 1); // 5 s, 16 frames a poll, preferred
                assertEquals(5_000_000, ep.busyPollUsecs());
                assertEquals(16, ep.busyPollBudget());
                assertTrue(ep.preferBusyPoll());
                s.ns.device("lo").setNapiDeferHardIrqs(100);
                s.ns.device("lo").setGroFlushTimeout(java.util.concurrent.TimeUnit.SECONDS.toNanos(60)); // longer than the test
                Thread.sleep(300); // the first byte's delayed ACK and any other frame have gone by
                long irqs = s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs");
                ByteBuffer got = ByteBuffer.allocate(16);
                for (int round = 0; round < 3; round++) {
                    Thread sender = Thread.ofPlatform().start(() -> {
                        try {
                            Thread.sleep(50);
                            client.write(ByteBuffer.wrap(new byte[] { 2, 3, 4 }));
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    assertEquals(1, selector.select(10_000), "the bytes arrived while the selector polled lo's queue");
                    sender.join();
                    selector.selectedKeys().clear();
                    got.clear();
                    assertEquals(3, accepted.read(got));
                    client.write(ByteBuffer.wrap(new byte[] { 5, 6 })); // between selections: waits for the next poll
                    Thread.sleep(50);
                    assertEquals(1, selector.select(10_000), "found by the next selection's busy poll");
                    selector.selectedKeys().clear();
                    got.clear();
                    assertEquals(2, accepted.read(got));
                }
                assertEquals(irqs, s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs"),
                        "lo's queue took no interrupt in three rounds, between selections either");
            }
        }
    }

    /**
     * Linux 6.13's IRQ suspension from the selector's side: with prefer_busy_poll and lo's queue's
     * irq-suspend-timeout set, a selection whose busy poll finds nothing gives lo's interrupt back before
     * it sleeps (napi_resume_irqs), so a frame that comes then is delivered by the interrupt; without the
     * resume it would wait for the watchdog (gro_flush_timeout, 60 s here). The frames the busy polls read
     * are counted in TcpExtBusyPollRxPackets.
     */
    @Test
    void aSelectionThatFindsNothingGivesLoopbacksInterruptBackWithIrqSuspendTimeout() throws Exception {
        try (TcpStack s = new TcpStack(StandaloneCore.threaded(1, 8192))) {
            SelectorProvider provider = s.sockets.provider("");
            try (ServerSocketChannel server = provider.openServerSocketChannel(); SocketChannel client = provider.openSocketChannel();
                    Selector selector = provider.openSelector()) {
                server.bind(new InetSocketAddress("127.0.0.1", 7304));
                client.connect(new InetSocketAddress("127.0.0.1", 7304));
                SocketChannel accepted = server.accept();
                accepted.configureBlocking(false);
                accepted.register(selector, SelectionKey.OP_READ);
                client.write(ByteBuffer.wrap(new byte[] { 1 }));
                assertEquals(1, selector.select(10_000)); // the selector learns lo's NAPI id from the socket
                selector.selectedKeys().clear();
                assertEquals(1, accepted.read(ByteBuffer.allocate(16)));
                assertEquals(0L, s.ns.busyPollRxPackets(), "no busy polling yet");
                assertEquals(0L, s.tcp.counters(s.ns).get("TcpExtBusyPollRxPackets"));

                org.modnet.socket.api.EpollParams ep = (org.modnet.socket.api.EpollParams) selector;
                ep.setEpollParams(300_000, 16, 1); // 300 ms, preferred
                org.modnet.api.net.NetDevice lo = s.ns.device("lo");
                lo.setNapiDeferHardIrqs(1);
                lo.setGroFlushTimeout(java.util.concurrent.TimeUnit.SECONDS.toNanos(60)); // longer than the test
                lo.rxQueue(0).setIrqSuspendTimeout(java.util.concurrent.TimeUnit.SECONDS.toNanos(60));
                assertEquals(java.util.concurrent.TimeUnit.SECONDS.toNanos(60), lo.rxQueue(0).irqSuspendTimeout());
                Thread.sleep(300); // the first byte's delayed ACK has gone by
                Thread sender = Thread.ofPlatform().start(() -> {
                    try {
                        Thread.sleep(50);
                        client.write(ByteBuffer.wrap(new byte[] { 2, 3, 4 }));
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                assertEquals(1, selector.select(10_000), "the bytes arrived while the selector polled lo's queue");
                sender.join();
                selector.selectedKeys().clear();
                ByteBuffer got = ByteBuffer.allocate(16);
                assertEquals(3, accepted.read(got));
                long busy = s.ns.busyPollRxPackets();
                assertTrue(busy >= 1, "the segment was read by the selector's busy poll: " + busy);
                assertEquals(busy, s.tcp.counters(s.ns).get("TcpExtBusyPollRxPackets"), "counted in the namespace's TcpExt");

                assertEquals(0, selector.select(600), "nothing for the next selection: its busy poll ends empty, then it sleeps");
                long irqs = lo.ethtoolStats().get("rx_queue_0_irqs");
                client.write(ByteBuffer.wrap(new byte[] { 5, 6 })); // nobody polls now
                got.clear();
                for (int i = 0; i < 500 && got.position() < 2; i++) {
                    accepted.read(got); // non-blocking, no busy read: only a softirq's poll can deliver the bytes
                    Thread.sleep(10);
                }
                assertEquals(2, got.position(), "delivered without a busy poll: the empty selection gave lo's interrupt back");
                assertTrue(lo.ethtoolStats().get("rx_queue_0_irqs") > irqs, "by an interrupt");
            }
        }
    }

    /**
     * modnet's own epoll ({@code epoll_wait} through {@link SocketCalls}) busy polls as Linux's
     * {@code ep_busy_loop}: with {@code net.core.busy_poll} on, a wait with nothing ready polls the queue
     * its sockets last received from; the segment that comes meanwhile is read by the waiting thread (lo's
     * queue takes no interrupt) and counted in TcpExtBusyPollRxPackets.
     */
    @Test
    void epollWaitWithBusyPollOnReadsLoopbackFramesItself() throws Exception {
        try (TcpStack s = new TcpStack(StandaloneCore.threaded(1, 8192))) {
            SocketCalls sys = s.process();
            int listener = sys.socket(AF_INET, SOCK_STREAM, 0);
            assertEquals(0, sys.bind(listener, new SockAddr(LOCALHOST, 7305)));
            assertEquals(0, sys.listen(listener, 8));
            int client = sys.socket(AF_INET, SOCK_STREAM, 0);
            assertEquals(0, sys.connect(client, new SockAddr(LOCALHOST, 7305)));
            int accepted = sys.accept(listener, new SockAddr[1], 0);
            assertTrue(accepted >= 0);
            int ep = sys.epollCreate();
            assertEquals(0, sys.epollCtl(ep, SocketCalls.EPOLL_CTL_ADD, accepted, SocketCalls.EPOLLIN, 42));
            org.modnet.socket.api.EpollEvent[] events = { new org.modnet.socket.api.EpollEvent() };
            assertEquals(1, sys.send(client, ByteBuffer.wrap(new byte[] { 1 }), 0));
            assertEquals(1, sys.epollWait(ep, events, 10_000)); // the instance learns lo's NAPI id from the socket's wake-up
            assertEquals(1, sys.recv(accepted, ByteBuffer.allocate(16), 0));
            s.ns.sysctl().set("net.core.busy_poll", "5000000"); // 5 s
            Thread.sleep(300); // the first byte's delayed ACK has gone by
            long irqs = s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs");
            long busy = s.ns.busyPollRxPackets();
            Thread sender = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(100);
                    sys.send(client, ByteBuffer.wrap(new byte[] { 2, 3, 4 }), 0);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            assertEquals(1, sys.epollWait(ep, events, 10_000), "the bytes arrived while epoll_wait polled lo's queue");
            assertEquals(42, events[0].data);
            sender.join();
            assertEquals(3, sys.recv(accepted, ByteBuffer.allocate(16), 0));
            assertEquals(irqs, s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs"), "lo's queue took no interrupt");
            assertTrue(s.ns.busyPollRxPackets() > busy, "the segment counted in BusyPollRxPackets");
            assertEquals(s.ns.busyPollRxPackets(), s.tcp.counters(s.ns).get("TcpExtBusyPollRxPackets"));
            sys.close();
        }
    }

    /**
     * EPIOCSPARAMS and EPIOCGPARAMS on modnet's own epoll ({@link SocketCalls#epollSetParams}), as on its
     * selector: the instance's busy_poll_usecs with net.core.busy_poll left at 0, and prefer_busy_poll with
     * lo's napi_defer_hard_irqs and gro_flush_timeout set: a frame that comes between two waits takes no
     * interrupt either; it waits in lo's queue for the next wait's busy poll. Checked as Linux checks them:
     * EINVAL out of range, ENOTTY on a socket, EBADF on no descriptor.
     */
    @Test
    void epollWithPreferredBusyPollKeepsLoopbacksInterruptOffBetweenWaits() throws Exception {
        try (TcpStack s = new TcpStack(StandaloneCore.threaded(1, 8192))) {
            SocketCalls sys = s.process();
            int listener = sys.socket(AF_INET, SOCK_STREAM, 0);
            assertEquals(0, sys.bind(listener, new SockAddr(LOCALHOST, 7306)));
            assertEquals(0, sys.listen(listener, 8));
            int client = sys.socket(AF_INET, SOCK_STREAM, 0);
            assertEquals(0, sys.connect(client, new SockAddr(LOCALHOST, 7306)));
            int accepted = sys.accept(listener, new SockAddr[1], 0);
            assertTrue(accepted >= 0);
            int ep = sys.epollCreate();
            long[] params = { -1, -1, -1 };
            assertEquals(0, sys.epollGetParams(ep, params));
            assertArrayEquals(new long[] { 0, 0, 0 }, params, "EPIOCGPARAMS of a new instance: all 0");
            for (long[] bad : new long[][] { { 1L << 31, 0, 0 }, { 0, 65536, 0 }, { 0, 0, 2 }, { -1, 0, 0 } }) {
                assertEquals(-Errno.EINVAL.number(), sys.epollSetParams(ep, bad[0], (int) bad[1], (int) bad[2]));
            }
            assertEquals(-Errno.ENOTTY.number(), sys.epollSetParams(accepted, 50, 8, 0), "a socket's ioctl does not know it");
            assertEquals(-Errno.EBADF.number(), sys.epollSetParams(999, 50, 8, 0));
            assertEquals(0, sys.epollCtl(ep, SocketCalls.EPOLL_CTL_ADD, accepted, SocketCalls.EPOLLIN, 42));
            org.modnet.socket.api.EpollEvent[] events = { new org.modnet.socket.api.EpollEvent() };
            assertEquals(1, sys.send(client, ByteBuffer.wrap(new byte[] { 1 }), 0));
            assertEquals(1, sys.epollWait(ep, events, 10_000)); // the instance learns lo's NAPI id from the socket's wake-up
            assertEquals(1, sys.recv(accepted, ByteBuffer.allocate(16), 0));

            assertEquals("0", s.ns.sysctl().get("net.core.busy_poll"));
            assertEquals(0, sys.epollSetParams(ep, 5_000_000, 16, 1)); // 5 s, 16 frames a poll, preferred
            assertEquals(0, sys.epollGetParams(ep, params));
            assertArrayEquals(new long[] { 5_000_000, 16, 1 }, params);
            s.ns.device("lo").setNapiDeferHardIrqs(100);
            s.ns.device("lo").setGroFlushTimeout(java.util.concurrent.TimeUnit.SECONDS.toNanos(60)); // longer than the test
            Thread.sleep(300); // the first byte's delayed ACK and any other frame have gone by
            long irqs = s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs");
            long busy = s.ns.busyPollRxPackets();
            ByteBuffer got = ByteBuffer.allocate(16);
            for (int round = 0; round < 3; round++) {
                Thread sender = Thread.ofPlatform().start(() -> {
                    try {
                        Thread.sleep(50);
                        sys.send(client, ByteBuffer.wrap(new byte[] { 2, 3, 4 }), 0);
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                });
                assertEquals(1, sys.epollWait(ep, events, 10_000), "the bytes arrived while epoll_wait polled lo's queue");
                sender.join();
                got.clear();
                assertEquals(3, sys.recv(accepted, got, 0));
                assertEquals(2, sys.send(client, ByteBuffer.wrap(new byte[] { 5, 6 }), 0)); // between waits: waits for the next poll
                Thread.sleep(50);
                assertEquals(1, sys.epollWait(ep, events, 10_000), "found by the next wait's busy poll");
                got.clear();
                assertEquals(2, sys.recv(accepted, got, 0));
            }
            assertEquals(irqs, s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs"),
                    "lo's queue took no interrupt in three rounds, between waits either");
            assertTrue(s.ns.busyPollRxPackets() > busy, "the segments counted in BusyPollRxPackets");
            sys.close();
        }
    }

    @Test
    void aBlockingReadWithBusyReadOnReadsLoopbackFramesItselfAndTheQueueTakesNoInterrupt() throws Exception {
        try (TcpStack s = new TcpStack(StandaloneCore.threaded(1, 8192))) {
            s.ns.sysctl().set("net.core.busy_read", "5000000"); // each socket made from now on: SO_BUSY_POLL 5 s
            SelectorProvider provider = s.sockets.provider("");
            try (ServerSocketChannel server = provider.openServerSocketChannel(); SocketChannel client = provider.openSocketChannel()) {
                server.bind(new InetSocketAddress("127.0.0.1", 7302));
                client.connect(new InetSocketAddress("127.0.0.1", 7302));
                SocketChannel accepted = server.accept();
                client.write(ByteBuffer.wrap(new byte[] { 1 }));
                assertEquals(1, accepted.read(ByteBuffer.allocate(16)));
                Thread.sleep(300); // the first byte's delayed ACK and any other frame have gone by
                long irqs = s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs");
                Thread sender = Thread.ofPlatform().start(() -> {
                    try {
                        Thread.sleep(100);
                        client.write(ByteBuffer.wrap(new byte[] { 2, 3, 4 }));
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                ByteBuffer got = ByteBuffer.allocate(16);
                assertEquals(3, accepted.read(got), "a blocking read, busy polling lo's queue meanwhile");
                assertEquals(irqs, s.ns.device("lo").ethtoolStats().get("rx_queue_0_irqs"), "lo's queue took no interrupt");
                sender.join();
            }
        }
    }

    /**
     * GRO under a busy-polling read ({@code SO_BUSY_POLL}): a busy poll does not complete the NAPI
     * instance ({@code napi_complete_done} does nothing under {@code NAPI_STATE_IN_BUSY_POLL}), so the
     * flow GRO holds after one busy poll takes the next busy poll's frame, and TCP gets the two frames as
     * one segment; the read returns both. (Were the held flow sent up after each busy poll, the read
     * would return the first frame's bytes alone.) Then the read's {@code busy_poll_stop} completes
     * the instance with nothing held.
     */
    @Test
    void framesOfTwoBusyPollsMergeIntoOneSegmentForABusyPollingRead() throws Exception {
        try (TcpPeer p = new TcpPeer(org.modnet.api.net.DeviceSetup.ether("d0", "test")
                .withFeatures(java.util.Map.of("generic-receive-offload", true), java.util.Set.of()))) { // a device with GRO on
            int l = p.listen(8080);
            int fd = p.accept(l, 8080, new byte[0], new byte[0], null);
            assertEquals(0, p.sys.fcntl(fd, SocketCalls.F_SETFL, 0), "a blocking socket: its reads busy poll");
            assertEquals(0, p.sys.setsockopt(fd, SOL_SOCKET, SocketCalls.SO_BUSY_POLL, 20_000_000)); // 20 s
            java.util.Map<String, Long> before = p.d0.ethtoolStats();
            long inSegs = p.count(TcpMib.Tcp.InSegs);
            int[] got = new int[1];
            Thread reader = Thread.ofPlatform().start(() -> got[0] = p.sys.recv(fd, ByteBuffer.allocate(4000), 0));
            // the reader's busy loop polls d0's queue itself (nothing else runs the virtual softirq); each frame
            // below is pushed once a busy poll has been, and the second once the first was taken
            waitFor(() -> p.d0.ethtoolStats().get("rx_queue_0_polls") > before.get("rx_queue_0_polls"), reader);
            assertTrue(p.d0.rxQueue(0).receive(withId(p.segment(8080, TcpHeader.ACK, TcpPeer.PEER_ISS + 1, p.iss + 1, 65535, new byte[0], 1000), 1)));
            waitFor(() -> p.d0.ethtoolStats().get("rx_queue_0_packets") > before.get("rx_queue_0_packets"), reader);
            long polled = p.d0.ethtoolStats().get("rx_queue_0_polls");
            waitFor(() -> p.d0.ethtoolStats().get("rx_queue_0_polls") > polled, reader); // another busy poll, with the flow held
            assertTrue(p.d0.rxQueue(0).receive(withId(p.segment(8080, TcpHeader.ACK | TcpHeader.PSH, TcpPeer.PEER_ISS + 1001, p.iss + 1, 65535,
                    new byte[0], 1000), 2)));
            reader.join(30_000);
            assertTrue(!reader.isAlive(), "the read returned");
            assertEquals(2000, got[0], "both frames' bytes in one read: merged over two busy polls into one segment");
            java.util.Map<String, Long> after = p.d0.ethtoolStats();
            assertEquals(inSegs + 1, p.count(TcpMib.Tcp.InSegs), "TCP took one segment");
            assertEquals(before.get("rx_queue_0_gro_merged") + 1, after.get("rx_queue_0_gro_merged"));
            assertEquals(before.get("rx_queue_0_gro_skbs") + 1, after.get("rx_queue_0_gro_skbs"));
            assertEquals(before.get("rx_queue_0_irqs"), after.get("rx_queue_0_irqs"), "the busy poller took both frames: no interrupt");
            assertTrue(p.s.ns.busyPollRxPackets() >= 2, "both counted in BusyPollRxPackets");
        }
    }

    /** The frame's IPv4 ID set to {@code id} (GRO merges packets whose IDs follow each other), its header checksum made again. */
    private static org.modnet.api.skb.SkBuff withId(org.modnet.api.skb.SkBuff f, int id) {
        int nh = f.data() + 14;
        f.setU16(nh + 4, id);
        f.setU16(nh + 10, 0);
        f.setU16(nh + 10, org.modnet.api.inet.InetChecksum.checksum(f, nh, 20));
        return f;
    }

    /** Waits (up to 20 s) for {@code done}, while {@code reader} still runs. */
    private static void waitFor(java.util.function.BooleanSupplier done, Thread reader) throws InterruptedException {
        long end = System.nanoTime() + 20_000_000_000L;
        while (!done.getAsBoolean()) {
            assertTrue(reader.isAlive(), "the reader returned early");
            assertTrue(System.nanoTime() - end < 0, "not reached in 20 s");
            Thread.sleep(1);
        }
    }
}

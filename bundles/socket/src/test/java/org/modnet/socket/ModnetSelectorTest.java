package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.LoopStack.bytes;
import static org.modnet.socket.LoopStack.local;
import static org.modnet.socket.LoopStack.text;

import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link ModnetSelector}: readiness from the sockets' poll masks, waking by their wait queues, and Selector's key rules. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ModnetSelectorTest {
    private final LoopStack stack = new LoopStack();

    @AfterEach
    void tearDown() {
        stack.close();
    }

    /** Runs {@code r} on another thread after a pause, so that the test thread is asleep in a select. */
    private static CompletableFuture<Void> later(ThrowingRunnable r) {
        return CompletableFuture.runAsync(() -> {
            try {
                Thread.sleep(150);
                r.run();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void anArrivingDatagramWakesASelect() throws Exception {
        try (Selector selector = stack.provider().openSelector(); DatagramChannel server = stack.channel();
                DatagramChannel client = stack.channel()) {
            server.bind(local(8000)).configureBlocking(false);
            SelectionKey key = server.register(selector, SelectionKey.OP_READ, "attachment");
            assertSame(selector, key.selector());
            assertSame(server, key.channel());
            assertEquals("attachment", key.attachment());
            assertEquals(0, selector.selectNow(), "nothing queued yet");

            CompletableFuture<Void> sent = later(() -> client.send(bytes("wake"), local(8000)));
            assertEquals(1, selector.select());
            sent.get(10, TimeUnit.SECONDS);
            assertEquals(1, selector.selectedKeys().size());
            assertSame(key, selector.selectedKeys().iterator().next());
            assertTrue(key.isReadable());
            assertEquals(SelectionKey.OP_READ, key.readyOps());

            ByteBuffer in = ByteBuffer.allocate(10);
            server.receive(in);
            assertEquals("wake", text(in));
            selector.selectedKeys().clear();
            assertEquals(0, selector.selectNow(), "read: not ready any more");
        }
    }

    @Test
    void aSelectWithATimeoutWakesForADatagramToo() throws Exception {
        try (Selector selector = stack.provider().openSelector(); DatagramChannel server = stack.channel();
                DatagramChannel client = stack.channel()) {
            server.bind(local(8001)).configureBlocking(false);
            server.register(selector, SelectionKey.OP_READ);
            assertEquals(0, selector.select(50), "the timeout ran out");
            CompletableFuture<Void> sent = later(() -> client.send(bytes("x"), local(8001)));
            assertEquals(1, selector.select(10_000));
            sent.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aUdpSocketIsWritableAtOnce() throws Exception {
        try (Selector selector = stack.provider().openSelector(); DatagramChannel ch = stack.channel()) {
            ch.configureBlocking(false);
            SelectionKey key = ch.register(selector, SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            assertEquals(1, selector.select());
            assertEquals(SelectionKey.OP_WRITE, key.readyOps());
            assertEquals(0, selector.selectNow(), "already selected, and its ready set did not change");
            key.interestOps(SelectionKey.OP_READ);
            selector.selectedKeys().clear();
            assertEquals(0, selector.selectNow());
        }
    }

    @Test
    void aSelectionWithAnActionHandsItEachReadyKeyAndLeavesTheSelectedSetAlone() throws Exception {
        try (Selector selector = stack.provider().openSelector(); DatagramChannel a = stack.channel();
                DatagramChannel b = stack.channel(); DatagramChannel idle = stack.channel()) {
            a.configureBlocking(false);
            b.configureBlocking(false);
            idle.bind(local(8010)).configureBlocking(false);
            SelectionKey ka = a.register(selector, SelectionKey.OP_WRITE);
            SelectionKey kb = b.register(selector, SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            idle.register(selector, SelectionKey.OP_READ);
            java.util.List<SelectionKey> seen = new java.util.ArrayList<>();
            assertEquals(2, selector.select(seen::add, 1000));
            assertEquals(java.util.Set.of(ka, kb), java.util.Set.copyOf(seen), "the two writable keys, not the idle one");
            assertEquals(2, seen.size(), "each once");
            assertEquals(SelectionKey.OP_WRITE, kb.readyOps());
            assertTrue(selector.selectedKeys().isEmpty(), "an action's selection adds nothing to the set");

            seen.clear();
            assertEquals(2, selector.selectNow(seen::add), "still ready: handed over again, unlike a selected key");
            assertEquals(2, seen.size());
        }
    }

    @Test
    void anActionThatClosesTheSelectorEndsTheSelectionWithClosedSelectorException() throws Exception {
        Selector selector = stack.provider().openSelector();
        try (DatagramChannel ch = stack.channel()) {
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_WRITE);
            assertThrows(ClosedSelectorException.class, () -> selector.selectNow(k -> {
                try {
                    selector.close();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
            assertFalse(selector.isOpen());
        }
    }

    @Test
    void keysRemovedThroughTheIteratorLeaveTheSelectedSetAndComeBackAtTheNextSelection() throws Exception {
        try (Selector selector = stack.provider().openSelector()) {
            java.util.List<DatagramChannel> chs = new java.util.ArrayList<>();
            java.util.Set<SelectionKey> all = new java.util.HashSet<>();
            for (int i = 0; i < 9; i++) { // more than the set's first array holds
                DatagramChannel ch = stack.channel();
                ch.configureBlocking(false);
                chs.add(ch);
                all.add(ch.register(selector, SelectionKey.OP_WRITE));
            }
            try {
                for (int round = 0; round < 3; round++) {
                    assertEquals(9, selector.selectNow());
                    assertEquals(9, selector.selectedKeys().size());
                    assertEquals(all, java.util.Set.copyOf(selector.selectedKeys()));
                    int removed = 0;
                    for (var it = selector.selectedKeys().iterator(); it.hasNext();) {
                        SelectionKey k = it.next();
                        assertTrue(selector.selectedKeys().contains(k));
                        if (removed++ % 2 == 0) {
                            it.remove();
                            assertFalse(selector.selectedKeys().contains(k));
                            assertThrows(IllegalStateException.class, it::remove, "once per next()");
                        }
                    }
                    assertEquals(4, selector.selectedKeys().size(), "the five removed are gone");
                    assertEquals(5, selector.selectNow(), "the five removed come back; the four left did not change");
                    assertEquals(9, selector.selectedKeys().size());
                    selector.selectedKeys().clear();
                    assertTrue(selector.selectedKeys().isEmpty());
                    assertFalse(selector.selectedKeys().iterator().hasNext());
                }
            } finally {
                for (DatagramChannel ch : chs) {
                    ch.close();
                }
            }
        }
    }

    /**
     * httpd's loop selects once a request: a selection with an action allocates nothing (the JDK's
     * default copies the selected-key set each time; a selected-key set of hash nodes made one a key).
     */
    @Test
    void aSelectionWithAnActionAllocatesNothing() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (Selector selector = stack.provider().openSelector(); DatagramChannel ch = stack.channel()) {
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_WRITE);
            int[] count = new int[1];
            java.util.function.Consumer<SelectionKey> action = k -> count[0]++;
            for (int i = 0; i < 20_000; i++) {
                selector.select(action, 1000);
            }
            int n = 20_000;
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < n; i++) {
                selector.select(action, 1000);
            }
            long bytes = mx.getCurrentThreadAllocatedBytes() - before;
            assertEquals(2 * n, count[0]);
            assertTrue(bytes < n, bytes + " bytes over " + n + " selections");
        }
    }

    @Test
    void aPendingErrorMakesTheKeyReadyForItsInterest() throws Exception {
        try (Selector selector = stack.provider().openSelector(); DatagramChannel ch = stack.channel()) {
            ch.connect(local(9)).configureBlocking(false);
            SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
            assertEquals(0, selector.selectNow());
            ch.write(bytes("to nobody")); // the port unreachable comes back as a pending ECONNREFUSED
            assertEquals(1, selector.selectNow());
            assertEquals(SelectionKey.OP_READ, key.readyOps(), "POLLERR: ready for what it is interested in");
        }
    }

    @Test
    void wakeupEndsASelectInProgressAndOtherwiseTheNextOne() throws Exception {
        try (Selector selector = stack.provider().openSelector(); DatagramChannel ch = stack.channel()) {
            ch.bind(local(8002)).configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
            CompletableFuture<Void> woke = later(selector::wakeup);
            assertEquals(0, selector.select());
            woke.get(10, TimeUnit.SECONDS);

            selector.wakeup();
            assertEquals(0, selector.select(), "the earlier wakeup makes this select return at once");
            selector.wakeup();
            assertEquals(0, selector.selectNow(), "selectNow clears it");
            assertEquals(0, selector.select(50), "so this one waits its time out");
        }
    }

    @Test
    void anInterruptEndsASelectAndStaysSet() throws Exception {
        try (Selector selector = stack.provider().openSelector()) {
            Thread.currentThread().interrupt();
            assertEquals(0, selector.select());
            assertTrue(Thread.interrupted());
        }
    }

    @Test
    void aCancelledKeyLeavesAtTheNextSelection() throws Exception {
        try (Selector selector = stack.provider().openSelector(); DatagramChannel ch = stack.channel()) {
            ch.configureBlocking(false);
            SelectionKey key = ch.register(selector, SelectionKey.OP_WRITE);
            assertEquals(1, selector.selectNow());
            key.cancel();
            assertFalse(key.isValid());
            assertThrows(CancelledKeyException.class, key::readyOps);
            assertThrows(CancelledKeyException.class, () -> key.interestOps(SelectionKey.OP_READ));
            assertTrue(selector.keys().contains(key), "until the next selection");
            assertEquals(0, selector.selectNow());
            assertTrue(selector.keys().isEmpty());
            assertTrue(selector.selectedKeys().isEmpty());
            assertFalse(ch.isRegistered());
            assertTrue(((ModnetDatagramChannel) ch).sock().poll() != 0, "the socket itself is untouched");
            ch.configureBlocking(true); // allowed again: no key is left
            ch.configureBlocking(false);
            SelectionKey again = ch.register(selector, SelectionKey.OP_WRITE);
            assertEquals(1, selector.selectNow());
            assertTrue(again.isWritable());
        }
    }

    @Test
    void closingARegisteredChannelWakesTheSelectorAndItsKeyGoes() throws Exception {
        try (Selector selector = stack.provider().openSelector()) {
            DatagramChannel ch = stack.channel();
            ch.bind(local(8003)).configureBlocking(false);
            SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
            CompletableFuture<Void> closed = later(ch::close);
            assertEquals(0, selector.select());
            closed.get(10, TimeUnit.SECONDS);
            assertFalse(key.isValid());
            selector.selectNow();
            assertTrue(selector.keys().isEmpty());
        }
    }

    @Test
    void onlyBlockingFreeModnetChannelsRegister() throws Exception {
        try (Selector selector = stack.provider().openSelector(); DatagramChannel ch = stack.channel()) {
            assertThrows(IllegalBlockingModeException.class, () -> ch.register(selector, SelectionKey.OP_READ));
            Pipe pipe = Pipe.open();
            try {
                pipe.source().configureBlocking(false);
                assertThrows(IllegalSelectorException.class, () -> pipe.source().register(selector, SelectionKey.OP_READ));
            } finally {
                pipe.source().close();
                pipe.sink().close();
            }
            ch.configureBlocking(false);
            try (Selector jdk = Selector.open()) {
                assertThrows(IllegalSelectorException.class, () -> ch.register(jdk, SelectionKey.OP_READ));
            }
        }
    }

    @Test
    void aClosedSelectorRefusesAndItsKeysAreInvalid() throws Exception {
        Selector selector = stack.provider().openSelector();
        try (DatagramChannel ch = stack.channel()) {
            ch.configureBlocking(false);
            SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
            selector.close();
            assertFalse(selector.isOpen());
            assertFalse(key.isValid());
            assertFalse(ch.isRegistered());
            assertNull(ch.keyFor(selector));
            assertThrows(ClosedSelectorException.class, selector::select);
            assertThrows(ClosedSelectorException.class, selector::selectNow);
            assertThrows(ClosedSelectorException.class, selector::keys);
            assertThrows(ClosedSelectorException.class, selector::selectedKeys);
            selector.close();
        }
    }

    @Test
    void aSelectorWaitsOnManyChannels() throws Exception {
        try (Selector selector = stack.provider().openSelector(); DatagramChannel a = stack.channel();
                DatagramChannel b = stack.channel(); DatagramChannel sender = stack.channel()) {
            a.bind(local(8010)).configureBlocking(false);
            b.bind(local(8011)).configureBlocking(false);
            SelectionKey ka = a.register(selector, SelectionKey.OP_READ);
            SelectionKey kb = b.register(selector, SelectionKey.OP_READ);
            CompletableFuture<Void> sent = later(() -> sender.send(bytes("b"), local(8011)));
            assertEquals(1, selector.select());
            sent.get(10, TimeUnit.SECONDS);
            assertTrue(selector.selectedKeys().contains(kb));
            assertFalse(selector.selectedKeys().contains(ka));
            sender.send(bytes("a"), local(8010));
            assertEquals(1, selector.selectNow(), "one more key selected");
            assertEquals(2, selector.selectedKeys().size());
            assertThrows(UnsupportedOperationException.class, () -> selector.selectedKeys().add(ka));
            assertThrows(UnsupportedOperationException.class, () -> selector.keys().remove(ka));
        }
    }
}

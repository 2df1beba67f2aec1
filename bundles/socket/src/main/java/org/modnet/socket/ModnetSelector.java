package org.modnet.socket;

import java.io.IOException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelectionKey;
import java.nio.channels.spi.AbstractSelector;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketCalls;

/**
 * A {@link Selector} over modnet sockets: each registered channel's socket has this selector on its
 * wait queue, so an arriving datagram (or room to send, or an error) wakes a select in progress;
 * readiness comes from the socket's poll mask. Select, selectNow, wakeup, cancelled keys and the
 * selected-key set behave as the JDK's selectors do.
 */
final class ModnetSelector extends AbstractSelector {
    private final Set<SelectionKey> keys = ConcurrentHashMap.newKeySet();
    private final Set<SelectionKey> publicKeys = Collections.unmodifiableSet(keys);
    private final Set<SelectionKey> selected = ConcurrentHashMap.newKeySet();
    private final Set<SelectionKey> publicSelected = new AbstractSet<>() { // removal only, as the spec says
        @Override
        public Iterator<SelectionKey> iterator() {
            return selected.iterator();
        }

        @Override
        public int size() {
            return selected.size();
        }

        @Override
        public boolean remove(Object o) {
            return selected.remove(o);
        }

        @Override
        public void clear() {
            selected.clear();
        }
    };

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile boolean pending;
    private volatile boolean woken;
    private final Sock.Waiter waiter = s -> signal();

    ModnetSelector(ModnetSelectorProvider provider) {
        super(provider);
    }

    /** One registration: the channel, its interest and its ready operations. */
    private static final class Key extends AbstractSelectionKey {
        private final ModnetSelector selector;
        private final ModnetDatagramChannel channel;
        private volatile int interest;
        private volatile int ready;

        Key(ModnetSelector selector, ModnetDatagramChannel channel) {
            this.selector = selector;
            this.channel = channel;
        }

        @Override
        public java.nio.channels.SelectableChannel channel() {
            return channel;
        }

        @Override
        public Selector selector() {
            return selector;
        }

        @Override
        public int interestOps() {
            ensureValid();
            return interest;
        }

        @Override
        public SelectionKey interestOps(int ops) {
            ensureValid();
            if ((ops & ~channel.validOps()) != 0) {
                throw new IllegalArgumentException("Invalid interest ops: " + ops);
            }
            interest = ops;
            selector.signal(); // a select in progress re-checks with the new interest
            return this;
        }

        @Override
        public int readyOps() {
            ensureValid();
            return ready;
        }

        private void ensureValid() {
            if (!isValid()) {
                throw new java.nio.channels.CancelledKeyException();
            }
        }
    }

    private void signal() {
        pending = true;
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    protected SelectionKey register(AbstractSelectableChannel ch, int ops, Object att) {
        if (!(ch instanceof ModnetDatagramChannel channel)) {
            throw new IllegalSelectorException();
        }
        if (!isOpen()) {
            throw new ClosedSelectorException();
        }
        Key k = new Key(this, channel);
        k.interestOps(ops);
        k.attach(att);
        keys.add(k);
        channel.sock().addWaiter(waiter);
        return k;
    }

    @Override
    public Set<SelectionKey> keys() {
        if (!isOpen()) {
            throw new ClosedSelectorException();
        }
        return publicKeys;
    }

    @Override
    public Set<SelectionKey> selectedKeys() {
        if (!isOpen()) {
            throw new ClosedSelectorException();
        }
        return publicSelected;
    }

    @Override
    public int selectNow() throws IOException {
        return select(0, true);
    }

    @Override
    public int select(long timeout) throws IOException {
        if (timeout < 0) {
            throw new IllegalArgumentException("Negative timeout");
        }
        return select(timeout == 0 ? -1 : timeout, false);
    }

    @Override
    public int select() throws IOException {
        return select(-1, false);
    }

    /** The select loop: {@code millis} -1 waits for ever; {@code now} does not wait at all. */
    private int select(long millis, boolean now) throws IOException {
        if (!isOpen()) {
            throw new ClosedSelectorException();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(millis, 0));
        try {
            begin();
            while (true) {
                pending = false;
                dropCancelled();
                int n = updateReady();
                if (n > 0 || now) {
                    woken = false;
                    return n;
                }
                if (woken || Thread.currentThread().isInterrupted()) {
                    woken = false;
                    return 0;
                }
                lock.lock();
                try {
                    while (!pending && !woken) {
                        if (millis < 0) {
                            changed.await();
                        } else {
                            long left = deadline - System.nanoTime();
                            if (left <= 0) {
                                return 0;
                            }
                            changed.awaitNanos(left);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // select returns, the interrupt stays set
                    return 0;
                } finally {
                    lock.unlock();
                }
            }
        } finally {
            end();
            dropCancelled();
        }
    }

    /** Puts ready keys in the selected set; returns how many keys' ready sets were updated. */
    private int updateReady() {
        int updated = 0;
        for (SelectionKey sk : keys) {
            Key k = (Key) sk;
            if (!k.isValid()) {
                continue;
            }
            int mask = k.channel.sock().poll();
            int ops = 0;
            boolean trouble = (mask & (SocketCalls.POLLERR | SocketCalls.POLLHUP | SocketCalls.POLLNVAL)) != 0;
            if ((mask & SocketCalls.POLLIN) != 0 || trouble) {
                ops |= SelectionKey.OP_READ;
            }
            if ((mask & SocketCalls.POLLOUT) != 0 || trouble) {
                ops |= SelectionKey.OP_WRITE;
            }
            ops &= k.interest;
            if (ops == 0) {
                continue;
            }
            if (selected.contains(k)) {
                if ((k.ready | ops) != k.ready) {
                    k.ready |= ops;
                    updated++;
                }
            } else {
                k.ready = ops;
                selected.add(k);
                updated++;
            }
        }
        return updated;
    }

    private void dropCancelled() {
        Set<SelectionKey> cancelled = cancelledKeys();
        synchronized (cancelled) {
            for (SelectionKey sk : cancelled) {
                forget((Key) sk);
            }
            cancelled.clear();
        }
    }

    private void forget(Key k) {
        keys.remove(k);
        selected.remove(k);
        deregister(k);
        boolean stillHere = keys.stream().anyMatch(o -> ((Key) o).channel == k.channel);
        if (!stillHere) {
            k.channel.sock().removeWaiter(waiter);
        }
    }

    @Override
    public Selector wakeup() {
        woken = true;
        signal();
        return this;
    }

    @Override
    protected void implCloseSelector() {
        wakeup();
        for (SelectionKey sk : Set.copyOf(keys)) {
            forget((Key) sk);
        }
        dropCancelled();
    }
}

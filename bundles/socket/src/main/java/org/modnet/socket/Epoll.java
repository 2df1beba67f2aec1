package org.modnet.socket;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.modnet.api.net.Errno;
import org.modnet.socket.api.EpollEvent;
import org.modnet.socket.api.EventPoll;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketCalls;

/**
 * An epoll instance ({@code fs/eventpoll.c}): an interest list of sockets, each with a callback on its
 * wait queue that puts it on the ready list; {@code epoll_wait} checks only the ready list. Level
 * triggered entries go back on the list while still ready; {@code EPOLLET} ones wait for the next wake;
 * {@code EPOLLONESHOT} ones are disarmed after one report. A closed socket leaves the interest list.
 */
final class Epoll implements EventPoll {
    private static final int ALWAYS = SocketCalls.EPOLLERR | SocketCalls.EPOLLHUP;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final Map<Integer, Item> interest = new LinkedHashMap<>(); // guarded by lock
    private final LinkedHashSet<Item> readyList = new LinkedHashSet<>(); // guarded by lock
    private boolean closed;
    /**
     * The owning process's descriptor table: a socket parked for its protocol's update and then closed
     * has a successor under the same descriptor, which the entry follows ({@link #follow}).
     */
    private final java.util.function.IntFunction<Object> files;

    /** An instance that follows no successor (a socket that closes leaves the interest list). */
    Epoll() {
        this(fd -> null);
    }

    Epoll(java.util.function.IntFunction<Object> files) {
        this.files = files;
    }

    /**
     * A closed socket that was parked for its protocol's update: the socket the new version made for it
     * under the same descriptor, or null (it was closed for good). The entry moves to it, so an epoll
     * loop goes on across the update. Called without the lock.
     */
    private Sock follow(Item item) {
        Sock old = item.sock;
        if (!old.isParked() || !(files.apply(item.fd) instanceof Sock now) || now == old || now.isClosed()) {
            return null;
        }
        lock.lock();
        try {
            if (interest.get(item.fd) != item || item.sock != old) {
                return item.sock;
            }
            item.sock = now;
        } finally {
            lock.unlock();
        }
        now.addWaiter(item);
        return now;
    }

    private final class Item implements Sock.Waiter {
        final int fd;
        volatile Sock sock;
        int events;
        long data;

        Item(int fd, Sock sock) {
            this.fd = fd;
            this.sock = sock;
        }

        /** {@code ep_poll_callback}. */
        @Override
        public void wake(Sock s) {
            lock.lock();
            try {
                if (interest.get(fd) == this && (events & ~(SocketCalls.EPOLLET | SocketCalls.EPOLLONESHOT)) != 0) {
                    readyList.add(this);
                    ready.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    @Override
    public int ctl(int op, int fd, Sock sock, int events, long data) {
        lock.lock();
        try {
            Item existing = interest.get(fd);
            if (existing != null && existing.sock.isClosed()) {
                if (existing.sock.isParked() && sock != existing.sock && !sock.isClosed()) {
                    existing.sock = sock; // the socket its protocol's next version made for this descriptor
                    sock.addWaiter(existing);
                } else {
                    remove(existing);
                    existing = null;
                }
            }
            switch (op) {
                case SocketCalls.EPOLL_CTL_ADD -> {
                    if (existing != null) {
                        return -Errno.EEXIST.number();
                    }
                    Item item = new Item(fd, sock);
                    item.events = events | ALWAYS;
                    item.data = data;
                    interest.put(fd, item);
                    sock.addWaiter(item);
                    readyList.add(item); // ep_insert polls once: a socket ready now is reported
                    ready.signalAll();
                    return 0;
                }
                case SocketCalls.EPOLL_CTL_MOD -> {
                    if (existing == null) {
                        return -Errno.ENOENT.number();
                    }
                    existing.events = events | ALWAYS;
                    existing.data = data;
                    readyList.add(existing);
                    ready.signalAll();
                    return 0;
                }
                case SocketCalls.EPOLL_CTL_DEL -> {
                    if (existing == null) {
                        return -Errno.ENOENT.number();
                    }
                    remove(existing);
                    return 0;
                }
                default -> {
                    return -Errno.EINVAL.number();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void remove(Item item) {
        interest.remove(item.fd, item);
        readyList.remove(item);
        item.sock.removeWaiter(item);
    }

    @Override
    public int await(EpollEvent[] out, int timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        lock.lock();
        try {
            while (true) {
                int n = harvest(out);
                if (n > 0 || timeoutMillis == 0) {
                    return n;
                }
                if (closed) {
                    return -Errno.EBADF.number();
                }
                try {
                    if (timeoutMillis < 0) {
                        ready.await();
                    } else {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            return 0;
                        }
                        ready.awaitNanos(left);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -Errno.EINTR.number();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code ep_send_events}: reports the ready items that are still ready, re-queuing level-triggered
     * ones. Called with the lock held; the sockets are polled without it (the ready items are taken off
     * the list first, as the kernel splices them to its txlist), since a protocol wakes its waiters, and
     * so takes this lock in {@link Item#wake}, while it holds its socket: polling a socket under this
     * lock would take the two locks in the other order.
     */
    private int harvest(EpollEvent[] out) {
        if (readyList.isEmpty()) {
            return 0;
        }
        java.util.List<Item> batch = new java.util.ArrayList<>(readyList);
        readyList.clear();
        int[] masks = new int[batch.size()];
        lock.unlock();
        try {
            for (int i = 0; i < masks.length; i++) {
                Item item = batch.get(i);
                Sock sk = item.sock;
                if (sk.isClosed()) {
                    Sock now = follow(item);
                    sk = now != null ? now : sk;
                }
                // a socket parked for its protocol's update has nothing to report until the new version adopts
                // it (closing this one wakes the entry, which then follows it): polled, a frozen connection with
                // room in its ring would say EPOLLOUT and a level-triggered loop would spin on EAGAIN meanwhile
                masks[i] = sk.isClosed() ? -1 : sk.isParked() ? 0 : sk.poll();
            }
        } finally {
            lock.lock();
        }
        int n = 0;
        for (int i = 0; i < masks.length; i++) {
            Item item = batch.get(i);
            if (interest.get(item.fd) != item) {
                continue; // removed while it was polled
            }
            if (masks[i] == -1) {
                remove(item);
                continue;
            }
            int mask = masks[i] & item.events;
            if (mask == 0) {
                continue;
            }
            if (n == out.length) {
                readyList.add(item); // no room in this call: the next one reports it
                continue;
            }
            out[n].events = mask;
            out[n].data = item.data;
            n++;
            if ((item.events & SocketCalls.EPOLLONESHOT) != 0) {
                item.events &= SocketCalls.EPOLLET | SocketCalls.EPOLLONESHOT; // disarmed until EPOLL_CTL_MOD
            } else if ((item.events & SocketCalls.EPOLLET) == 0) {
                readyList.add(item);
            }
        }
        return n;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (Item item : java.util.List.copyOf(interest.values())) {
                remove(item);
            }
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }
}

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
final class Epoll implements EventPoll, org.modnet.socket.api.EpollParams {
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
        this(files, () -> null);
    }

    /** An instance that busy polls ({@code ep_busy_loop}) with {@code net.core.busy_poll} of the namespace {@code ns} gives. */
    Epoll(java.util.function.IntFunction<Object> files, java.util.function.Supplier<org.modnet.api.net.NetNamespace> ns) {
        this.files = files;
        this.ns = ns;
    }

    private final java.util.function.Supplier<org.modnet.api.net.NetNamespace> ns;
    /** {@code ep->napi_id}: the NAPI instance a socket that woke this instance last received from; 0, none. */
    private volatile int napiId;
    /** A socket woke the instance since the busy poll began: {@code ep_busy_loop_end}. */
    private volatile boolean woken;
    private final java.util.function.BooleanSupplier busyLoopEnd = () -> woken;
    /** {@code net.core.busy_poll} of {@link #busyPollNs}, looked up once. */
    private volatile org.modnet.api.net.IntSysctl busyPoll;
    private volatile org.modnet.api.net.NetNamespace busyPollNs;
    /** EPIOCSPARAMS's busy polling of this instance. */
    private final EpParams params = new EpParams();

    /** {@code ep_set_busy_poll_napi_id}. */
    private void setNapiId(Sock sk) {
        int id = sk.napiId();
        if (id != 0 && id != napiId) {
            napiId = id;
        }
    }

    /**
     * {@code ep_busy_loop}: with {@code net.core.busy_poll} on and a NAPI instance known, polls it on
     * this thread for up to that many microseconds (or {@code left} nanoseconds), the lock released;
     * true when a socket woke the instance meanwhile. One that found nothing forgets the instance
     * ({@code ep->napi_id = 0}) until a socket wakes it again.
     */
    private boolean busyLoop(long left) {
        int id = napiId;
        org.modnet.api.net.NetNamespace n = ns.get();
        if (id == 0 || n == null || left <= 0) {
            return false;
        }
        org.modnet.api.net.IntSysctl bp = busyPoll;
        if (bp == null || busyPollNs != n) {
            try {
                bp = n.sysctl().registerInt("net.core.busy_poll", 0, 0, Integer.MAX_VALUE); // the core's entry, registered already
            } catch (RuntimeException e) {
                return false;
            }
            busyPoll = bp;
            busyPollNs = n;
        }
        long usecs = params.usecs(bp); // ep_busy_loop_on / ep_busy_loop_timeout
        if (usecs <= 0) {
            return false;
        }
        boolean prefer = params.preferBusyPoll();
        woken = false;
        lock.unlock();
        try {
            n.core().napiBusyLoop(id, busyLoopEnd, Math.min(left, usecs * 1000L), prefer, params.busyPollBudget());
        } finally {
            lock.lock();
        }
        if (!readyList.isEmpty()) {
            return true;
        }
        if (prefer) {
            n.core().napiResumeIrqs(id); // napi_resume_irqs (Linux 6.13): the wait sleeps, the interrupt comes back now
        }
        napiId = 0;
        return false;
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
                setNapiId(s);
                if (interest.get(fd) == this && (events & ~(SocketCalls.EPOLLET | SocketCalls.EPOLLONESHOT)) != 0) {
                    woken = true;
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
                    setNapiId(sock); // ep_insert
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

    /** {@code ep_suspend_napi_irqs}: this wait returns events; the instance's interrupt stays off ({@code irq-suspend-timeout}). */
    private void suspendNapiIrqs() {
        int id = napiId;
        org.modnet.api.net.NetNamespace n = ns.get();
        if (id != 0 && n != null) {
            n.core().napiSuspendIrqs(id);
        }
    }

    @Override
    public void setEpollParams(long busyPollUsecs, int busyPollBudget, int preferBusyPoll) throws org.modnet.socket.api.SockException {
        params.setEpollParams(busyPollUsecs, busyPollBudget, preferBusyPoll);
    }

    @Override
    public long busyPollUsecs() {
        return params.busyPollUsecs();
    }

    @Override
    public int busyPollBudget() {
        return params.busyPollBudget();
    }

    @Override
    public boolean preferBusyPoll() {
        return params.preferBusyPoll();
    }

    private void remove(Item item) {
        interest.remove(item.fd, item);
        readyList.remove(item);
        item.sock.removeWaiter(item);
    }

    @Override
    public int await(EpollEvent[] out, int timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        boolean busied = false;
        lock.lock();
        try {
            while (true) {
                int n = harvest(out);
                if (n > 0 || timeoutMillis == 0) {
                    if (n > 0 && params.preferBusyPoll()) {
                        suspendNapiIrqs();
                    }
                    return n;
                }
                if (closed) {
                    return -Errno.EBADF.number();
                }
                if (!busied) {
                    busied = true;
                    if (busyLoop(timeoutMillis < 0 ? Long.MAX_VALUE : deadline - System.nanoTime())) {
                        continue;
                    }
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

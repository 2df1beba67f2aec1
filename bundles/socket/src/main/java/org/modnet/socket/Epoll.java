package org.modnet.socket;

import java.util.LinkedHashMap;
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
 * The ready list is intrusive, as the kernel's {@code rdllist} (each item carries its own links), and
 * {@code epoll_wait} splices it to a transfer list threaded through the items: a wake and a wait
 * allocate nothing (a thousand streams' wakes boxed descriptors and made set entries, BENCHMARKS.md).
 */
final class Epoll implements EventPoll, org.modnet.socket.api.EpollParams {
    private static final int ALWAYS = SocketCalls.EPOLLERR | SocketCalls.EPOLLHUP;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final Map<Integer, Item> interest = new LinkedHashMap<>(); // guarded by lock
    /** {@code ep->rdllist}: the ready items, oldest first, linked through {@link Item#readyNext}; guarded by lock. */
    private Item readyHead;
    private Item readyTail;
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
        if (readyHead != null) {
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
            if (!item.live || item.sock != old) {
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
        /** In the interest list ({@code interest.get(fd) == this}); guarded by lock. */
        boolean live;
        /** On the ready list ({@code ep_is_linked}); guarded by lock. */
        boolean onReady;
        Item readyPrev;
        Item readyNext;
        /** On an {@code epoll_wait}'s transfer list, being polled without the lock; guarded by lock. */
        boolean transferring;
        /** Woken (or re-armed) while transferring: back on the ready list after ({@code ep->ovflist}). */
        boolean rewoken;
        Item txNext;
        /** What polling it returned on the transfer list: -1 closed. */
        int txMask;

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
                if (live && (events & ~(SocketCalls.EPOLLET | SocketCalls.EPOLLONESHOT)) != 0) {
                    woken = true;
                    readyAdd(this);
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
                    item.live = true;
                    setNapiId(sock); // ep_insert
                    sock.addWaiter(item);
                    readyAdd(item); // ep_insert polls once: a socket ready now is reported
                    ready.signalAll();
                    return 0;
                }
                case SocketCalls.EPOLL_CTL_MOD -> {
                    if (existing == null) {
                        return -Errno.ENOENT.number();
                    }
                    existing.events = events | ALWAYS;
                    existing.data = data;
                    readyAdd(existing);
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
        item.live = false;
        item.rewoken = false;
        if (item.onReady) {
            readyUnlink(item);
        }
        item.sock.removeWaiter(item);
    }

    /** Puts {@code item} at the ready list's tail unless it is on it (or, being polled, marks it to go back). Lock held. */
    private void readyAdd(Item item) {
        if (item.transferring) {
            item.rewoken = true;
            return;
        }
        if (item.onReady) {
            return;
        }
        item.onReady = true;
        item.readyNext = null;
        item.readyPrev = readyTail;
        if (readyTail == null) {
            readyHead = item;
        } else {
            readyTail.readyNext = item;
        }
        readyTail = item;
    }

    /** Takes {@code item}, which is on it, off the ready list. Lock held. */
    private void readyUnlink(Item item) {
        Item p = item.readyPrev;
        Item nx = item.readyNext;
        if (p == null) {
            readyHead = nx;
        } else {
            p.readyNext = nx;
        }
        if (nx == null) {
            readyTail = p;
        } else {
            nx.readyPrev = p;
        }
        item.readyPrev = null;
        item.readyNext = null;
        item.onReady = false;
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
                if (readyHead != null) {
                    continue; // woken while harvest polled without the lock: that signal came before this wait (ep_poll
                              // looks at ep_events_available before it sleeps)
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
        if (readyHead == null) {
            return 0;
        }
        Item tx = readyHead; // list_splice_init(&ep->rdllist, &txlist)
        for (Item it = tx; it != null; it = it.readyNext) {
            it.txNext = it.readyNext;
            it.onReady = false;
            it.transferring = true;
            it.readyPrev = null;
        }
        for (Item it = tx; it != null; it = it.txNext) {
            it.readyNext = null;
        }
        readyHead = null;
        readyTail = null;
        lock.unlock();
        try {
            for (Item item = tx; item != null; item = item.txNext) {
                Sock sk = item.sock;
                if (sk.isClosed()) {
                    Sock now = follow(item);
                    sk = now != null ? now : sk;
                }
                // a socket parked for its protocol's update has nothing to report until the new version adopts
                // it (closing this one wakes the entry, which then follows it): polled, a frozen connection with
                // room in its ring would say EPOLLOUT and a level-triggered loop would spin on EAGAIN meanwhile
                item.txMask = sk.isClosed() ? -1 : sk.isParked() ? 0 : sk.poll();
            }
        } finally {
            lock.lock();
        }
        int n = 0;
        Item item = tx;
        Item unsent = null; // ready items there was no room for, in order: back to the list's head after
        Item unsentTail = null;
        while (item != null) {
            Item next = item.txNext;
            item.txNext = null;
            item.transferring = false;
            if (item.rewoken) {
                item.rewoken = false;
                readyAdd(item); // woken while it was polled: on the ready list again, as the kernel's ovflist
            }
            if (n == out.length && !item.onReady && item.live && item.txMask != -1 && (item.txMask & item.events) != 0) {
                if (unsent == null) {
                    unsent = item;
                } else {
                    unsentTail.txNext = item;
                }
                unsentTail = item;
            } else {
                n = report(out, n, item);
            }
            item = next;
        }
        if (unsent != null) { // ep_done_scan splices the rest of the txlist to the ready list's head
            Item head = readyHead;
            Item prev = null;
            for (Item it = unsent; it != null; ) {
                Item nx = it.txNext;
                it.txNext = null;
                it.onReady = true;
                it.readyPrev = prev;
                it.readyNext = nx;
                prev = it;
                it = nx;
            }
            unsentTail.readyNext = head;
            if (head == null) {
                readyTail = unsentTail;
            } else {
                head.readyPrev = unsentTail;
            }
            readyHead = unsent;
        }
        return n;
    }

    /** One transferred item: its event into {@code out[n]} if it has one; the count after. Lock held. */
    private int report(EpollEvent[] out, int n, Item item) {
        if (!item.live) {
            return n; // removed while it was polled
        }
        if (item.txMask == -1) {
            remove(item);
            return n;
        }
        int mask = item.txMask & item.events;
        if (mask == 0) {
            return n;
        }
        if (n == out.length) {
            readyAdd(item); // no room in this call (it is on the list again already): the next one reports it
            return n;
        }
        out[n].events = mask;
        out[n].data = item.data;
        if ((item.events & SocketCalls.EPOLLONESHOT) != 0) {
            item.events &= SocketCalls.EPOLLET | SocketCalls.EPOLLONESHOT; // disarmed until EPOLL_CTL_MOD
        } else if ((item.events & SocketCalls.EPOLLET) == 0) {
            readyAdd(item);
        }
        return n + 1;
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

package org.modnet.socket;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelectionKey;
import java.nio.channels.spi.AbstractSelector;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketCalls;

/**
 * A {@link Selector} over modnet sockets, what {@code sun.nio.ch.EPollSelectorImpl} is over host
 * sockets: each registered channel's socket has this selector's {@link Sock.Waiter} on its wait queue
 * (as epoll's callback sits on {@code sk_wq}), so an arriving datagram, room to send, an error or a
 * close wakes a select in progress instead of it polling. The ready operations come from the socket's
 * poll mask: POLLIN is {@link SelectionKey#OP_READ}, POLLOUT {@link SelectionKey#OP_WRITE}, and POLLERR
 * or POLLHUP make a key ready for every operation it is interested in, as
 * {@code DatagramChannelImpl.translateReadyOps} does; POLLNVAL (a closed socket) makes it ready for
 * none.
 *
 * <p>Select, select with a timeout, selectNow, wakeup, the key set, the selected-key set and cancelled
 * keys follow {@link Selector}'s specification: a cancelled key leaves both sets at the next selection;
 * a key already selected gets new ready operations added; the count returned is of keys whose ready
 * set changed. When a registered channel is closed during a select, the select returns (0 unless
 * another key became ready) with that channel's key gone.
 */
final class ModnetSelector extends AbstractSelector implements org.modnet.socket.api.EpollParams {
    private final Set<SelectionKey> keys = ConcurrentHashMap.newKeySet();
    private final Set<SelectionKey> publicKeys = Collections.unmodifiableSet(keys);
    /**
     * The selected-key set: the keys in {@link #selectedArray}'s first {@link #selectedEnd} slots, a
     * removed key's slot null until the set empties or a full array is packed (a key knows its slot). Nothing
     * is allocated per key selected or removed; the array grows only with the number of keys.
     * Selector's selected-key set is not thread-safe: the selecting thread and the caller share it.
     */
    private Key[] selectedArray = new Key[4];
    private int selectedEnd;
    private int selectedCount;
    /** The selected-key set as the caller sees it: keys may be removed, never added. */
    private final Set<SelectionKey> publicSelected = new AbstractSet<>() {
        @Override
        public Iterator<SelectionKey> iterator() {
            return new SelectedIterator();
        }

        @Override
        public int size() {
            return selectedCount;
        }

        @Override
        public boolean contains(Object o) {
            return o instanceof Key k && k.selector == ModnetSelector.this && k.selectedSlot >= 0;
        }

        @Override
        public boolean remove(Object o) {
            return o instanceof Key k && k.selector == ModnetSelector.this && unselect(k);
        }

        @Override
        public void clear() {
            for (int i = 0; i < selectedEnd; i++) {
                Key k = selectedArray[i];
                if (k != null) {
                    k.selectedSlot = -1;
                    selectedArray[i] = null;
                }
            }
            selectedEnd = 0;
            selectedCount = 0;
        }
    };

    /** Walks the selected keys' slots; small enough for the JIT to keep it off the heap. */
    private final class SelectedIterator implements Iterator<SelectionKey> {
        private int next = -1;
        private int last = -1;

        SelectedIterator() {
            next = advance(0);
        }

        private int advance(int i) {
            while (i < selectedEnd && selectedArray[i] == null) {
                i++;
            }
            return i;
        }

        @Override
        public boolean hasNext() {
            return next < selectedEnd;
        }

        @Override
        public SelectionKey next() {
            if (next >= selectedEnd) {
                throw new java.util.NoSuchElementException();
            }
            last = next;
            next = advance(next + 1);
            return selectedArray[last];
        }

        @Override
        public void remove() {
            if (last < 0 || selectedArray[last] == null) {
                throw new IllegalStateException();
            }
            unselect(selectedArray[last]);
            last = -1;
        }
    }

    /** Adds a key to the selected-key set (it is not in it). */
    private void addSelected(Key k) {
        if (selectedEnd == selectedArray.length) {
            packSelected();
            if (selectedEnd == selectedArray.length) {
                selectedArray = Arrays.copyOf(selectedArray, selectedArray.length * 2);
            }
        }
        k.selectedSlot = selectedEnd;
        selectedArray[selectedEnd++] = k;
        selectedCount++;
    }

    private boolean unselect(Key k) {
        int slot = k.selectedSlot;
        if (slot < 0) {
            return false;
        }
        selectedArray[slot] = null;
        k.selectedSlot = -1;
        if (--selectedCount == 0) {
            selectedEnd = 0; // every slot before the end is null: the array starts over
        }
        return true;
    }

    /** Moves the selected keys to the front of their array, in order, over the slots of removed ones. */
    private void packSelected() {
        int j = 0;
        for (int i = 0; i < selectedEnd; i++) {
            Key k = selectedArray[i];
            if (k != null) {
                selectedArray[i] = null;
                selectedArray[j] = k;
                k.selectedSlot = j++;
            }
        }
        selectedEnd = j;
    }

    /**
     * {@link #keys} as an array, replaced whole under {@link #keysLock} as keys come and go: a
     * selection walks it without an iterator (the httpd selects once a request).
     */
    private volatile Key[] keyArray = new Key[0];
    private final Object keysLock = new Object();
    /** The thread asleep in a selection, unparked by {@link #signal} (a condition's wait would allocate a node per sleep). */
    private volatile Thread selecting;
    /** Something may have changed since the selecting thread last looked: it looks again before sleeping. */
    private volatile boolean pending;
    /** Selections with an action so far: a key found ready in one carries its number. */
    private long actionRounds;
    /** {@link #wakeup()} was called and no selection has returned since. */
    private volatile boolean woken;
    /** On the wait queue of every registered channel's socket. */
    private final Sock.Waiter waiter = s -> signal();
    /**
     * Busy polling, as epoll does it ({@code ep_busy_loop}): {@code net.core.busy_poll} of the first
     * registered socket's namespace (microseconds, 0 off) and its core; null until a channel registers.
     */
    private volatile org.modnet.api.net.IntSysctl busyPoll;
    private volatile org.modnet.api.net.NetCore core;
    /** {@code ep->napi_id}: the NAPI instance the socket last found ready received from; 0 for none yet. */
    private volatile int busyNapiId;
    /** EPIOCSPARAMS's busy polling of this instance. */
    private final EpParams params = new EpParams();
    /** What ends a busy poll: a socket changed (its waiter ran), or a wakeup. */
    private final java.util.function.BooleanSupplier busyLoopEnd = () -> pending || woken;

    ModnetSelector(ModnetSelectorProvider provider) {
        super(provider);
    }

    /** One registration ({@code SelectionKeyImpl}): the channel, its interest set and its ready set. */
    private static final class Key extends AbstractSelectionKey {
        private final ModnetSelector selector;
        private final ModnetChannel channel;
        private volatile int interest;
        private volatile int ready;
        /** Its slot in the selected-key set's array, or -1 when it is not in that set. */
        private int selectedSlot = -1;
        /** The number of the last {@link #select(Consumer, long)} that found it ready (the action's pass). */
        private long firedIn;

        Key(ModnetSelector selector, ModnetChannel channel) {
            this.selector = selector;
            this.channel = channel;
        }

        @Override
        public SelectableChannel channel() {
            return (SelectableChannel) channel;
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

        /** A new interest set; a select in progress looks again with it. */
        @Override
        public SelectionKey interestOps(int ops) {
            ensureValid();
            if ((ops & ~((SelectableChannel) channel).validOps()) != 0) {
                throw new IllegalArgumentException("Invalid interest ops: " + ops);
            }
            interest = ops;
            selector.signal();
            return this;
        }

        @Override
        public int readyOps() {
            ensureValid();
            return ready;
        }

        private void ensureValid() {
            if (!isValid()) {
                throw new CancelledKeyException();
            }
        }

        @Override
        public String toString() {
            return "modnet SelectionKey[" + channel + (isValid() ? ", interest=" + interest + ", ready=" + ready : ", cancelled") + "]";
        }
    }

    /** The waiter's work: note the change and wake the selecting thread, if any. */
    private void signal() {
        pending = true; // before reading selecting: a selector that missed this flag is seen asleep, and unparked
        Thread t = selecting;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void ensureOpen() {
        if (!isOpen()) {
            throw new ClosedSelectorException();
        }
    }

    /** Only modnet channels (of this provider, which the channel checks first) can register. */
    @Override
    protected SelectionKey register(AbstractSelectableChannel ch, int ops, Object att) {
        if (!(ch instanceof ModnetChannel channel) || ch.provider() != provider()) {
            throw new IllegalSelectorException();
        }
        ensureOpen();
        Key k = new Key(this, channel);
        k.attach(att);
        k.interestOps(ops);
        synchronized (keysLock) {
            keys.add(k);
            Key[] more = Arrays.copyOf(keyArray, keyArray.length + 1);
            more[more.length - 1] = k;
            keyArray = more;
        }
        channel.sock().addWaiter(waiter);
        int napi = channel.sock().napiId();
        if (napi != 0) {
            busyNapiId = napi; // as ep_insert sets it for a socket that has received already
        }
        if (busyPoll == null) {
            org.modnet.api.net.NetNamespace ns = channel.sock().namespace();
            if (ns != null) {
                core = ns.core();
                busyPoll = ns.sysctl().registerInt("net.core.busy_poll", 0, 0, Integer.MAX_VALUE); // the core's entry, registered already
            }
        }
        signal(); // a select in progress takes the new key into account
        return k;
    }

    @Override
    public Set<SelectionKey> keys() {
        ensureOpen();
        return publicKeys;
    }

    @Override
    public Set<SelectionKey> selectedKeys() {
        ensureOpen();
        return publicSelected;
    }

    @Override
    public int selectNow() throws IOException {
        return doSelect(null, 0);
    }

    /** Waits up to {@code timeout} milliseconds; 0 waits for ever, as {@link Selector#select(long)} says. */
    @Override
    public int select(long timeout) throws IOException {
        return doSelect(null, nanos(timeout));
    }

    @Override
    public int select() throws IOException {
        return doSelect(null, -1);
    }

    /**
     * The selection that hands each ready key to {@code action} instead of the selected-key set, as
     * {@code SelectorImpl.processReadyEvents} does (Selector's default copies the set per selection):
     * the key's ready set is exactly what its channel is ready for now; the selected-key set is left
     * alone. The action runs after the selection's wait, synchronized on this selector.
     */
    @Override
    public int select(Consumer<SelectionKey> action, long timeout) throws IOException {
        return doSelect(Objects.requireNonNull(action), nanos(timeout));
    }

    @Override
    public int select(Consumer<SelectionKey> action) throws IOException {
        return doSelect(Objects.requireNonNull(action), -1);
    }

    @Override
    public int selectNow(Consumer<SelectionKey> action) throws IOException {
        return doSelect(Objects.requireNonNull(action), 0);
    }

    private static long nanos(long timeoutMillis) {
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("Negative timeout");
        }
        return timeoutMillis == 0 ? -1 : TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    }

    /**
     * The selection: drop cancelled keys, poll every socket, and sleep until a socket's waiter, a
     * wakeup, an interrupt or the timeout ends it; then, with an {@code action}, hand it the keys found
     * ready. {@code nanos} -1 waits for ever, 0 does not wait.
     */
    private int doSelect(Consumer<SelectionKey> action, long nanos) throws IOException {
        ensureOpen();
        synchronized (this) {
            ensureOpen();
            long round = action == null ? 0 : ++actionRounds;
            int n = waitReady(round, nanos);
            if (action == null || n == 0) {
                return n;
            }
            Key[] ks = keyArray;
            for (int i = 0; i < ks.length; i++) {
                Key k = ks[i];
                if (k.firedIn == round) {
                    action.accept(k);
                    ensureOpen(); // the action closed the selector: ClosedSelectorException, as Selector says
                }
            }
            return n;
        }
    }

    /** The part of {@link #doSelect} that waits: how many keys were found ready (for {@code round}'s action, if not 0). */
    private int waitReady(long round, long nanos) {
        long deadline = System.nanoTime() + Math.max(nanos, 0);
        boolean slept = false;
        boolean busied = false;
        try {
            begin(); // an interrupt wakes the selection up
            while (true) {
                pending = false; // a change from here on makes the loop look again
                int closedChannels = dropClosedAndCancelled();
                int n = updateReady(round);
                if (n > 0 || nanos == 0) {
                    if (n > 0 && params.preferBusyPoll()) {
                        suspendNapiIrqs();
                    }
                    return n;
                }
                if (woken || Thread.currentThread().isInterrupted() || (slept && closedChannels > 0)) {
                    return 0;
                }
                if (!busied) {
                    busied = true;
                    if (busyLoop(nanos < 0 ? Long.MAX_VALUE : deadline - System.nanoTime())) {
                        continue; // something changed while this thread polled the device itself: look again
                    }
                }
                selecting = Thread.currentThread(); // before looking at pending (see signal)
                try {
                    while (!pending && !woken) {
                        if (Thread.currentThread().isInterrupted()) {
                            return 0; // the selection returns; the interrupt stays set
                        }
                        if (nanos < 0) {
                            LockSupport.park(this);
                        } else {
                            long left = deadline - System.nanoTime();
                            if (left <= 0) {
                                return 0;
                            }
                            LockSupport.parkNanos(this, left);
                        }
                    }
                } finally {
                    selecting = null;
                }
                slept = true;
            }
        } finally {
            woken = false; // this selection consumed any wakeup
            end();
            dropClosedAndCancelled();
        }
    }

    /**
     * {@code ep_busy_loop}: with {@code net.core.busy_poll} on and a NAPI instance known, polls that
     * device queue on this thread for up to as many microseconds (or {@code left} nanoseconds) before
     * sleeping; true when a socket changed or a wakeup came meanwhile.
     */
    private boolean busyLoop(long left) {
        org.modnet.api.net.IntSysctl bp = busyPoll;
        int napi = busyNapiId;
        if (bp == null || napi == 0 || left <= 0) {
            return false;
        }
        long usecs = params.usecs(bp); // ep_busy_loop_on / ep_busy_loop_timeout
        if (usecs <= 0) {
            return false;
        }
        boolean prefer = params.preferBusyPoll();
        core.napiBusyLoop(napi, busyLoopEnd, Math.min(left, usecs * 1000L), prefer, params.busyPollBudget());
        if (pending || woken) {
            return true;
        }
        // the busy poll timed out: with prefer_busy_poll the instance's interrupt comes back now
        // (napi_resume_irqs, Linux 6.13), and the instance is forgotten until a socket that becomes
        // ready names it again (ep->napi_id = 0), so a sleep's wake-up does not start with a busy poll
        if (prefer) {
            core.napiResumeIrqs(napi);
        }
        busyNapiId = 0;
        return false;
    }

    /** {@code ep_suspend_napi_irqs}: this wait returns events; the instance's interrupt stays off ({@code irq-suspend-timeout}). */
    private void suspendNapiIrqs() {
        int napi = busyNapiId;
        if (napi != 0) {
            core.napiSuspendIrqs(napi);
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

    /**
     * Cancels the keys of channels that were closed (their sockets woke this selector as they closed,
     * before the channel cancelled its keys) and deregisters every cancelled key; returns how many keys
     * went because their channel was closed.
     */
    private int dropClosedAndCancelled() {
        int closed = 0;
        Key[] ks = keyArray;
        for (int i = 0; i < ks.length; i++) {
            Key k = ks[i];
            if (!k.channel().isOpen()) {
                k.cancel();
                closed++;
            }
        }
        Set<SelectionKey> cancelled = cancelledKeys();
        List<SelectionKey> gone;
        synchronized (cancelled) {
            if (cancelled.isEmpty()) {
                return closed; // nothing to copy: a selection allocates nothing
            }
            gone = List.copyOf(cancelled);
            cancelled.clear();
        }
        for (SelectionKey k : gone) {
            forget((Key) k);
        }
        return closed;
    }

    /** Takes a key out of both sets, deregisters it from its channel and this selector off its socket. */
    private void forget(Key k) {
        boolean had;
        synchronized (keysLock) {
            had = keys.remove(k);
            if (had) {
                Key[] ks = keyArray;
                Key[] fewer = new Key[ks.length - 1];
                for (int i = 0, j = 0; i < ks.length; i++) {
                    if (ks[i] != k && j < fewer.length) {
                        fewer[j++] = ks[i];
                    }
                }
                keyArray = fewer;
            }
        }
        if (had) {
            k.channel.sock().removeWaiter(waiter);
        }
        unselect(k);
        deregister(k);
    }

    /**
     * Polls every valid key's socket; returns how many keys were found ready. For a selection with an
     * action ({@code round} not 0) a ready key gets exactly the ready operations and the round's mark;
     * otherwise it is added to the selected-key set, or gets new ready operations there, and only those
     * additions and changes are counted.
     */
    private int updateReady(long round) {
        int updated = 0;
        Key[] ks = keyArray;
        for (int i = 0; i < ks.length; i++) {
            Key k = ks[i];
            if (!k.isValid()) {
                continue;
            }
            Sock sk = k.channel.sock();
            int ops = k.channel.readyOps(sk.poll(), k.interest);
            if (ops == 0) {
                continue;
            }
            int napi = sk.napiId();
            if (napi != 0) {
                busyNapiId = napi; // ep_set_busy_poll_napi_id
            }
            if (round != 0) {
                k.ready = ops;
                k.firedIn = round;
                updated++;
            } else if (k.selectedSlot >= 0) {
                int before = k.ready;
                if ((before | ops) != before) {
                    k.ready = before | ops;
                    updated++;
                }
            } else {
                k.ready = ops;
                addSelected(k);
                updated++;
            }
        }
        return updated;
    }

    /** The poll mask as selection operations, limited to the interest set. */
    static int readyOps(int mask, int interest) {
        if ((mask & SocketCalls.POLLNVAL) != 0) {
            return 0;
        }
        if ((mask & (SocketCalls.POLLERR | SocketCalls.POLLHUP)) != 0) {
            return interest;
        }
        int ops = 0;
        if ((mask & SocketCalls.POLLIN) != 0) {
            ops |= SelectionKey.OP_READ;
        }
        if ((mask & SocketCalls.POLLOUT) != 0) {
            ops |= SelectionKey.OP_WRITE;
        }
        return ops & interest;
    }

    /** Makes a selection in progress return now, or the next one if none is. */
    @Override
    public Selector wakeup() {
        woken = true;
        signal();
        return this;
    }

    /** Wakes a selection in progress, then deregisters every key: they are all invalid afterwards. */
    @Override
    protected void implCloseSelector() {
        wakeup();
        synchronized (this) {
            for (SelectionKey k : List.copyOf(keys)) {
                forget((Key) k);
            }
            dropClosedAndCancelled();
        }
    }

    @Override
    public String toString() {
        return "modnet Selector[" + provider() + ", " + keys.size() + " keys]";
    }
}

package org.modnet.socket.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.modnet.api.handover.Datagram;
import org.modnet.api.handover.SockOptions;
import org.modnet.api.handover.SocketState;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkbOwner;

/**
 * A socket, {@code struct sock} with its {@code proto_ops}: what every protocol shares — the receive
 * queue and its memory accounting ({@code sk_rmem_alloc} against {@code sk_rcvbuf}, the protocol's
 * pages against its {@code *_mem} sysctl), send buffer accounting ({@code sk_wmem_alloc} against
 * {@code sk_sndbuf}), the socket options, the pending error ({@code sk_err}), shutdown, and the wait
 * queue that blocking calls, {@code poll}, {@code epoll} and selectors sleep on. Protocols extend it
 * and implement address binding, connecting and sending.
 *
 * <p>The softirq thread queues received packets with {@link #queueReceive}; application threads take
 * them with {@link #recvmsg}. A packet charges the socket its {@code truesize} until it is freed.
 */
public abstract class Sock {
    /** {@code sk_state} values as Linux numbers them (TCP's states; datagram sockets use two). */
    public static final int TCP_ESTABLISHED = 1;
    public static final int TCP_SYN_SENT = 2;
    public static final int TCP_SYN_RECV = 3;
    public static final int TCP_FIN_WAIT1 = 4;
    public static final int TCP_FIN_WAIT2 = 5;
    public static final int TCP_TIME_WAIT = 6;
    public static final int TCP_CLOSE = 7;
    public static final int TCP_CLOSE_WAIT = 8;
    public static final int TCP_LAST_ACK = 9;
    public static final int TCP_LISTEN = 10;
    public static final int TCP_CLOSING = 11;

    /** {@code sk_shutdown} bits. */
    public static final int RCV_SHUTDOWN = 1;
    public static final int SEND_SHUTDOWN = 2;

    /** {@code SOCK_MIN_RCVBUF} and {@code SOCK_MIN_SNDBUF}: what SO_RCVBUF/SO_SNDBUF never go below. */
    public static final int MIN_RCVBUF = 2304;
    public static final int MIN_SNDBUF = 4608;
    /** {@code sk_userlocks} bits: the user set SO_SNDBUF / SO_RCVBUF, so autotuning leaves it alone. @since 1.3 */
    public static final int SOCK_SNDBUF_LOCK = 1;
    public static final int SOCK_RCVBUF_LOCK = 2;

    /**
     * A socket filter ({@code struct sk_filter}) as the socket layer made it from what
     * {@code SO_ATTACH_FILTER} or {@code SO_ATTACH_BPF} gave: the program a protocol runs through
     * {@link #filter(SkBuff, int)} on each packet before it queues it.
     * @since 1.11
     */
    public interface Filter {
        /**
         * How many bytes of {@code skb}, from its data (the transport header) on, to keep; 0 drops it.
         * Runs on the softirq thread: allocates nothing, takes no lock.
         */
        long run(Sock sk, SkBuff skb);

        /** {@code SO_GET_FILTER}: the classic instructions it was made from, or null for an eBPF program. */
        long[] classic();

        /** Detached, replaced, or its socket closed: lets go of the program. */
        void release();
    }

    /** A sleeper in {@code poll}, {@code epoll} or a selector: told whenever the socket's state may have changed. */
    @FunctionalInterface
    public interface Waiter {
        void wake(Sock sock);
    }

    private static final AtomicLong INODES = new AtomicLong(20_000);

    protected final NetNamespace ns;
    private final int type;
    private final int protocol;
    private final long inode = INODES.incrementAndGet();
    private final SockMemory memory;
    /** The namespace's {@code net.core} sysctls this socket reads. */
    private final CoreSysctls core;

    protected final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int sleepers; // guarded by lock
    private final ArrayDeque<SkBuff> receiveQueue = new ArrayDeque<>(); // guarded by lock
    /**
     * The pollers (selectors) watching this socket, replaced whole under its own monitor on add and
     * remove: a wake-up walks the array, making no iterator (it runs on every segment that changes
     * readiness).
     */
    private volatile Waiter[] waiters = NO_WAITERS;
    private static final Waiter[] NO_WAITERS = new Waiter[0];

    private final AtomicInteger rmemAlloc = new AtomicInteger();
    private final AtomicInteger wmemAlloc = new AtomicInteger();
    private final AtomicLong drops = new AtomicLong();
    private final SkbOwner rfree = this::rfree;
    private final SkbOwner wfree = this::wfree;

    private volatile int rcvbuf;
    private volatile int sndbuf;
    private volatile int userLocks;
    private volatile boolean reuseAddr;
    private volatile boolean reusePort;
    private volatile boolean broadcast;
    private volatile boolean keepalive;
    private volatile int lingerOnOff;
    private volatile int lingerSeconds;
    private volatile long rcvTimeoNanos;
    private volatile long sndTimeoNanos;
    private volatile int ttl = -1;
    private volatile int tos;
    /** SO_PRIORITY ({@code sk_priority}); handed over with the other options. */
    private volatile int priority;
    /** SO_MARK ({@code sk_mark}): what the socket's packets carry in {@code skb->mark}, which routing rules match. */
    private volatile int mark;
    /** {@code sk_ll_usec}: SO_BUSY_POLL, from {@code net.core.busy_read} when the socket is made. */
    private volatile int llUsec;
    /** {@code sk_prefer_busy_poll}: SO_PREFER_BUSY_POLL. */
    private volatile boolean preferBusyPoll;
    /** {@code sk_busy_poll_budget}: SO_BUSY_POLL_BUDGET, 0 for {@code BUSY_POLL_BUDGET}. */
    private volatile int busyPollBudget;
    /** {@code sk_napi_id}: the NAPI instance this socket last received from ({@link #markNapiId}), 0 before any. */
    private volatile int napiId;
    /** {@code sk_max_pacing_rate}: bytes per second, -1 (Linux's ~0UL) for no limit. */
    private volatile long maxPacingRate = -1L;
    private volatile int pmtudisc = SocketCalls.IP_PMTUDISC_WANT; // inet_create's default (ip_no_pmtu_disc 0)
    /** IP_RECVERR ({@code inet->recverr}): errors reported on sends, and ICMP errors queued ({@link #queueError}). */
    private volatile boolean recverr;
    /** IP_RECVTTL ({@code IP_CMSG_TTL}): {@code recvmsg(MSG_ERRQUEUE)} tells the TTL the ICMP error came with. */
    private volatile boolean recvttl;
    /** {@code sk_error_queue}'s most entries; the receive buffer bounds it too, as on Linux. @since 1.12 */
    public static final int ERRQUEUE_SLOTS = 16;
    /** Per entry: errno, origin, type, code, info, offender, the quoted destination's address and port, the ICMP's TTL. */
    private static final int EE_FIELDS = 9;
    /** The error queue's payloads and fields, made when IP_RECVERR is first set (guarded by the lock). */
    private SkBuff[] errSkb;
    private int[] errFields;
    private int errHead;
    private int errCount;
    private volatile boolean nonBlocking;
    private volatile int error; // sk_err, an errno number
    private volatile int shutdown;
    private volatile boolean dead;
    private volatile boolean parked;
    /**
     * Shared by every socket of one protocol's registration: set once when that protocol leaves for an
     * update, it parks them all at once ({@link #isParked}); null for none. @since 1.16
     */
    private volatile java.util.concurrent.atomic.AtomicBoolean parkGate;

    /** The attached socket filter ({@code sk->sk_filter}), null for none; SO_LOCK_FILTER's flag. */
    private volatile Filter filter;
    private volatile boolean filterLocked;

    /** {@code sk_state}. */
    protected volatile int state = TCP_CLOSE;
    /** The bound or chosen local address and port, and the connected peer's (0 when none). */
    protected volatile int localAddress;
    protected volatile int localPort;
    protected volatile int remoteAddress;
    protected volatile int remotePort;

    private volatile String users = "";

    protected Sock(NetNamespace ns, int type, int protocol, SockMemory memory) {
        this.ns = ns;
        this.type = type;
        this.protocol = protocol;
        this.memory = memory;
        this.core = CoreSysctls.of(ns);
        this.rcvbuf = core.rmemDefault.get();
        this.sndbuf = core.wmemDefault.get();
        this.llUsec = Math.max(0, core.busyRead.get()); // sock_init_data
    }

    /** {@code net.ipv4.ip_default_ttl}, 64 while IPv4 is not there: IPv4's entry, gone with it, so read by name. */
    private int defaultTtl() {
        try {
            return Integer.parseInt(ns.sysctl().get("net.ipv4.ip_default_ttl"));
        } catch (org.modnet.api.net.NetException | NumberFormatException e) {
            return 64;
        }
    }

    // --- what the protocol implements (proto_ops) ---

    /** {@code bind(2)}: EADDRINUSE, EADDRNOTAVAIL, EINVAL (already bound), EACCES... */
    public abstract void bind(SockAddr addr) throws SockException;

    /** {@code connect(2)}; null is {@code AF_UNSPEC}. */
    public abstract void connect(SockAddr addr) throws SockException;

    /**
     * {@code sendmsg(2)}: sends the bytes between the buffers' positions and limits (moving the positions),
     * to {@code to} or the connected peer; returns the count.
     */
    public abstract int sendmsg(ByteBuffer[] iov, SockAddr to, int flags) throws SockException;

    /** {@code sendto(2)} from one buffer; protocols override it to spare the vector. */
    public int send(ByteBuffer buf, SockAddr to, int flags) throws SockException {
        return sendmsg(new ByteBuffer[] { buf }, to, flags);
    }

    /** The sender of a queued datagram (for {@code recvfrom}); its data starts at the payload. */
    protected abstract SockAddr source(SkBuff skb);

    /** The protocol forgets the socket: unhash, release its port ({@code sk_prot->close}). */
    protected abstract void release();

    /** {@code SO_RCVTIMEO} in nanoseconds, 0 for none: read without allocating, for a protocol's blocking calls. @since 1.2 */
    protected final long rcvTimeo() {
        return rcvTimeoNanos;
    }

    /** {@code SO_SNDTIMEO} in nanoseconds, 0 for none. @since 1.2 */
    protected final long sndTimeo() {
        return sndTimeoNanos;
    }

    /** The protocol's name in {@code ss}'s Netid column: "udp", "tcp". */
    public abstract String netid();

    /**
     * Whether this is a timewait sock's view ({@code inet_timewait_sock}: TIME-WAIT, or an orphan's
     * FIN-WAIT-2 handed to one): no descriptor and no full socket, counted in {@code tw}, not in
     * {@code inuse} or {@code alloc}. @since 1.2
     */
    public boolean isTimewait() {
        return false;
    }

    /** {@code listen(2)}: datagram sockets cannot. */
    public void listen(int backlog) throws SockException {
        throw SockException.of(Errno.EOPNOTSUPP);
    }

    /** {@code accept(2)}: datagram sockets cannot. */
    public Sock accept(boolean nonBlock) throws SockException {
        throw SockException.of(Errno.EOPNOTSUPP);
    }

    /** SO_KEEPALIVE was set or cleared ({@code sk_prot->keepalive}): a protocol that probes starts or stops. */
    protected void keepaliveChanged(boolean on) {
    }

    /** A protocol-level option other than IP_TTL and IP_TOS. */
    protected void setProtocolOption(int level, int name, int[] value) throws SockException {
        throw SockException.of(Errno.ENOPROTOOPT);
    }

    protected int getProtocolOption(int level, int name, int[] value) throws SockException {
        throw SockException.of(Errno.ENOPROTOOPT);
    }

    // --- receiving ---

    /**
     * {@code __sock_queue_rcv_skb}: queues a packet (data at its payload) and wakes readers; the socket
     * owns it from now on. Returns null, or {@code ENOMEM} when the receive buffer is full and
     * {@code ENOBUFS} when the protocol's memory limit is reached — then the caller still owns the
     * packet, counts the drop and frees it.
     */
    public final Errno queueReceive(SkBuff skb) {
        int size = skb.truesize();
        if (rmemAlloc.get() > rcvbuf) {
            drops.incrementAndGet();
            return Errno.ENOMEM;
        }
        if (memory != null && !memory.charge(size)) {
            drops.incrementAndGet();
            return Errno.ENOBUFS;
        }
        rmemAlloc.addAndGet(size);
        skb.setOwner(rfree);
        lock.lock();
        try {
            if (dead) {
                skb.free();
                return null;
            }
            receiveQueue.addLast(skb);
            if (sleepers > 0) {
                changed.signal();
            }
        } finally {
            lock.unlock();
        }
        wakeWaiters();
        return null;
    }

    /**
     * {@code sk_filter_trim_cap}: runs the attached filter on {@code skb}, whose data is at its transport
     * header. False when the filter dropped it — counted in the socket's drops; the caller counts it in
     * its MIB as Linux does and frees it — else true, the skb cut to the length the filter kept but
     * never below {@code cap} bytes (the transport header). Without a filter: true at once.
     * @since 1.11
     */
    public final boolean filter(SkBuff skb, int cap) {
        Filter f = filter;
        if (f == null) {
            return true;
        }
        long keep = f.run(this, skb);
        if (keep == 0) {
            drops.incrementAndGet();
            return false;
        }
        if (keep < skb.len()) {
            skb.trim((int) Math.min(skb.len(), Math.max(cap, keep)));
        }
        return true;
    }

    /**
     * {@code sk_attach_filter}/{@code sk_attach_bpf}'s last step: {@code f} replaces the filter the
     * socket had, which is released; EPERM when SO_LOCK_FILTER locked it (then {@code f} is released).
     * @since 1.11
     */
    public final void attachFilter(Filter f) throws SockException {
        Filter old;
        lock.lock();
        try {
            if (filterLocked || dead) {
                f.release();
                throw SockException.of(filterLocked ? Errno.EPERM : Errno.EBADF);
            }
            old = filter;
            filter = f;
        } finally {
            lock.unlock();
        }
        if (old != null) {
            old.release();
        }
    }

    /** The attached filter, or null. @since 1.11 */
    public final Filter attachedFilter() {
        return filter;
    }

    /**
     * A hand-over's step for the socket layer, which made the filter: the socket filter attached to this
     * (parked) socket and its SO_LOCK_FILTER flag move to {@code next}, the socket that adopted it, so
     * the old socket's close does not release a filter the new one runs. Nothing when {@code next}
     * already has one. @since 1.18
     */
    public final void handFilterTo(Sock next) {
        Filter f;
        boolean locked;
        lock.lock();
        try {
            f = filter;
            locked = filterLocked;
            filter = null;
        } finally {
            lock.unlock();
        }
        boolean taken = false;
        next.lock.lock();
        try {
            if (!next.dead && next.filter == null) {
                next.filter = f;
                next.filterLocked = locked;
                taken = true;
            }
        } finally {
            next.lock.unlock();
        }
        if (!taken && f != null) {
            f.release();
        }
    }

    /** {@code sk_detach_filter}: EPERM when locked, ENOENT without a filter. */
    private void detachFilter() throws SockException {
        Filter old;
        lock.lock();
        try {
            if (filterLocked) {
                throw SockException.of(Errno.EPERM);
            }
            old = filter;
            if (old == null) {
                throw SockException.of(Errno.ENOENT);
            }
            filter = null;
        } finally {
            lock.unlock();
        }
        old.release();
    }

    private void rfree(SkBuff skb) {
        int size = skb.truesize();
        rmemAlloc.addAndGet(-size);
        if (memory != null) {
            memory.uncharge(size);
        }
    }

    /**
     * {@code skb_recv_datagram} and the copy to the caller: waits (unless non-blocking or
     * {@code MSG_DONTWAIT}) for a datagram, copies as much as fits, and returns its length with
     * {@code MSG_TRUNC}, else the count copied. A pending error is returned first (and cleared);
     * after {@code shutdown(SHUT_RD)} an empty queue gives 0.
     */
    public int recvmsg(ByteBuffer[] iov, SockAddr[] from, int flags, int[] msgFlags) throws SockException {
        return receive(null, iov, from, flags, msgFlags);
    }

    /** {@code recvfrom(2)} into one buffer: {@link #recvmsg} without the vector. */
    public int recv(ByteBuffer buf, SockAddr[] from, int flags) throws SockException {
        return receive(buf, null, from, flags, null);
    }

    /** Told of each datagram read (not peeked): UDP counts InDatagrams here, as {@code udp_recvmsg} does. */
    protected void received(SkBuff skb) {
    }

    private int receive(ByteBuffer one, ByteBuffer[] iov, SockAddr[] from, int flags, int[] msgFlags) throws SockException {
        SkBuff skb;
        boolean peek = (flags & SocketCalls.MSG_PEEK) != 0;
        long timeout = (flags & SocketCalls.MSG_DONTWAIT) != 0 || nonBlocking ? 0 : rcvTimeoNanos == 0 ? -1 : rcvTimeoNanos;
        long deadline = System.nanoTime() + timeout;
        lock.lock();
        try {
            while (true) {
                if (dead) {
                    throw SockException.of(Errno.EBADF);
                }
                if (isParked()) {
                    throw SockException.of(Errno.EAGAIN); // the caller retries on the socket that adopts this one
                }
                int err = takeErrorLocked();
                if (err != 0) {
                    throw SockException.of(Errno.of(err));
                }
                skb = peek ? receiveQueue.peekFirst() : receiveQueue.pollFirst();
                if (skb != null) {
                    break;
                }
                if ((shutdown & RCV_SHUTDOWN) != 0) {
                    return 0;
                }
                if (timeout == 0) {
                    throw SockException.of(Errno.EAGAIN);
                }
                if (!sleep(timeout < 0 ? -1 : deadline - System.nanoTime())) {
                    throw SockException.of(Errno.EAGAIN); // SO_RCVTIMEO ran out
                }
            }
            if (peek) {
                skb = skb.clone(); // the data stays queued; the copy below reads the clone
            }
        } finally {
            lock.unlock();
        }
        try {
            if (skb == null) {
                throw SockException.of(Errno.ENOMEM);
            }
            if (from != null && from.length > 0) {
                from[0] = source(skb);
            }
            int len = skb.len();
            if (skb.dataLen() > 0 && !skb.linearize()) {
                throw SockException.of(Errno.ENOMEM);
            }
            int copied = one != null ? copyOut(skb, skb.data(), len, one) : copyOut(skb, skb.data(), len, iov);
            if (copied < len && msgFlags != null && msgFlags.length > 0) {
                msgFlags[0] |= SocketCalls.MSG_TRUNC;
            }
            if (!peek) {
                received(skb);
                wakeWaiters(); // readiness changed: an edge-triggered or level poll re-checks
            }
            return (flags & SocketCalls.MSG_TRUNC) != 0 ? len : copied;
        } finally {
            if (skb != null) {
                skb.free();
            }
        }
    }

    /** Copies {@code len} bytes at {@code offset} of the skb into the buffers; returns what fitted. */
    protected static int copyOut(SkBuff skb, int offset, int len, ByteBuffer[] iov) {
        int done = 0;
        for (ByteBuffer b : iov) {
            done += copyOut(skb, offset + done, len - done, b);
        }
        return done;
    }

    /** Copies up to {@code len} bytes at {@code offset} of the skb into one buffer; returns what fitted. */
    protected static int copyOut(SkBuff skb, int offset, int len, ByteBuffer b) {
        int n = Math.min(b.remaining(), len);
        if (n <= 0) {
            return 0;
        }
        if (b.hasArray()) {
            MemorySegment.copy(skb.memory(), ValueLayout.JAVA_BYTE, offset, b.array(), b.arrayOffset() + b.position(), n);
        } else {
            MemorySegment.copy(skb.memory(), offset, MemorySegment.ofBuffer(b), 0, n);
        }
        b.position(b.position() + n);
        return n;
    }

    /** Copies the buffers' remaining bytes to the skb at {@code offset}, moving their positions. */
    protected static void copyIn(ByteBuffer[] iov, SkBuff skb, int offset) {
        int at = offset;
        for (ByteBuffer b : iov) {
            at += copyIn(b, skb, at);
        }
    }

    /** Copies one buffer's remaining bytes to the skb at {@code offset}; returns the count. */
    protected static int copyIn(ByteBuffer b, SkBuff skb, int offset) {
        int n = b.remaining();
        if (b.hasArray()) {
            MemorySegment.copy(b.array(), b.arrayOffset() + b.position(), skb.memory(), ValueLayout.JAVA_BYTE, offset, n);
        } else {
            MemorySegment.copy(MemorySegment.ofBuffer(b), 0, skb.memory(), offset, n);
        }
        b.position(b.position() + n);
        return n;
    }

    /** The bytes the buffers hold between position and limit. */
    protected static long remaining(ByteBuffer[] iov) {
        long n = 0;
        for (ByteBuffer b : iov) {
            n += b.remaining();
        }
        return n;
    }

    // --- sending ---

    /**
     * {@code sock_alloc_send_skb}: a buffer of {@code size} bytes after {@code headroom}, charged to the
     * send buffer until the driver frees it. Waits while the send buffer is full (EAGAIN when
     * non-blocking or when {@code SO_SNDTIMEO} runs out); a pending error is returned first;
     * ENOBUFS when no buffer is left; EPIPE after {@code shutdown(SHUT_WR)}.
     */
    protected final SkBuff allocSend(int size, int headroom, int flags) throws SockException {
        long timeout = (flags & SocketCalls.MSG_DONTWAIT) != 0 || nonBlocking ? 0 : sndTimeoNanos == 0 ? -1 : sndTimeoNanos;
        long deadline = System.nanoTime() + timeout;
        while (true) {
            if (dead) {
                throw SockException.of(Errno.EBADF);
            }
            int err = takeError();
            if (err != 0) {
                throw SockException.of(Errno.of(err));
            }
            if ((shutdown & SEND_SHUTDOWN) != 0) {
                throw SockException.of(Errno.EPIPE);
            }
            if (wmemAlloc.get() < sndbuf) {
                break;
            }
            if (timeout == 0) {
                throw SockException.of(Errno.EAGAIN);
            }
            lock.lock();
            try {
                if (wmemAlloc.get() >= sndbuf && !sleep(timeout < 0 ? -1 : deadline - System.nanoTime())) {
                    throw SockException.of(Errno.EAGAIN);
                }
            } finally {
                lock.unlock();
            }
        }
        SkBuff skb = ns.core().allocSkb(size, headroom);
        if (skb == null) {
            throw SockException.of(Errno.ENOBUFS);
        }
        wmemAlloc.addAndGet(skb.truesize());
        skb.setOwner(wfree);
        return skb;
    }

    private void wfree(SkBuff skb) {
        int before = wmemAlloc.getAndAdd(-skb.truesize());
        if (before >= sndbuf && before - skb.truesize() < sndbuf) {
            wakeUp(); // sock_wfree: writers waiting for room
        }
    }

    // --- errors, shutdown, waking ---

    /** {@code sk_err} set and {@code sk_error_report}: the next call returns it. */
    public final void reportError(Errno e) {
        error = e.number();
        wakeUp();
    }

    /**
     * {@code ip_icmp_error} and {@code sock_queue_err_skb}: with IP_RECVERR set, queues an ICMP error
     * about a datagram this socket sent — the quoted payload from {@code payload} to the end of
     * {@code icmp} (a clone is kept, charged to the receive buffer), the errno, the ICMP type, code and
     * info, the ICMP sender and the quoted destination — and sets {@code sk_err}. False (and nothing
     * queued) without IP_RECVERR; a full receive buffer or queue refuses it, counted in the socket's
     * drops (Linux frees it without a count).
     */
    public final boolean queueError(SkBuff icmp, int payload, Errno errno, int type, int code, int info, int offender, int addr,
            int port) {
        if (!recverr) {
            return false;
        }
        SkBuff c = icmp.clone();
        if (c == null || c.pull(payload - c.data()) < 0) {
            if (c != null) {
                c.free();
            }
            drops.incrementAndGet();
            return false;
        }
        return enqueueError(c, errno.number(), SockExtendedErr.SO_EE_ORIGIN_ICMP, type, code, info, offender, addr, port,
                icmp.getU8(icmp.networkHeader() + 8), true);
    }

    /**
     * {@code ip_local_error}: with IP_RECVERR set, queues an error found on this host before anything
     * was sent ({@code SO_EE_ORIGIN_LOCAL}, no payload, no offender): EMSGSIZE with the MTU that refused
     * the datagram in {@code info}, for the destination {@code addr} and the connected {@code port} (0
     * when unconnected). Unlike an ICMP error it leaves {@code sk_err} alone: the send's own result says
     * it. False (nothing queued) without IP_RECVERR or room, a full queue counted in the drops.
     *
     * @since 1.13
     */
    public final boolean queueLocalError(Errno errno, int info, int addr, int port) {
        if (!recverr) {
            return false;
        }
        SkBuff c = ns.core().allocSkb(0, 0);
        if (c == null) {
            drops.incrementAndGet();
            return false;
        }
        return enqueueError(c, errno.number(), SockExtendedErr.SO_EE_ORIGIN_LOCAL, 0, 0, info, 0, addr, port, -1, false);
    }

    /**
     * {@code sock_queue_err_skb}: {@code c} charged to the receive buffer and put on the error queue with
     * its {@code sock_extended_err} fields ({@code ttl} -1 when none came with it), and {@code sk_err} set
     * when {@code setError}; a full buffer or queue, or a dead socket, frees it and counts a drop.
     */
    private boolean enqueueError(SkBuff c, int errno, int origin, int type, int code, int info, int offender, int addr, int port,
            int ttl, boolean setError) {
        int size = c.truesize();
        if (rmemAlloc.get() + size >= rcvbuf || memory != null && !memory.charge(size)) {
            c.free();
            drops.incrementAndGet();
            return false;
        }
        rmemAlloc.addAndGet(size);
        c.setOwner(rfree);
        lock.lock();
        try {
            if (dead || errSkb == null || errCount == ERRQUEUE_SLOTS) {
                c.free();
                drops.incrementAndGet();
                return false;
            }
            int slot = (errHead + errCount) % ERRQUEUE_SLOTS;
            errSkb[slot] = c;
            int f = slot * EE_FIELDS;
            errFields[f] = errno;
            errFields[f + 1] = origin;
            errFields[f + 2] = type;
            errFields[f + 3] = code;
            errFields[f + 4] = info;
            errFields[f + 5] = offender;
            errFields[f + 6] = addr;
            errFields[f + 7] = port;
            errFields[f + 8] = ttl;
            errCount++;
            if (setError) {
                error = errno;
            }
            if (sleepers > 0) {
                changed.signal();
            }
        } finally {
            lock.unlock();
        }
        wakeWaiters();
        return true;
    }

    /** Entries on the error queue. */
    public final int errorQueueLength() {
        lock.lock();
        try {
            return errCount;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code ip_recv_error}: {@code recvmsg(MSG_ERRQUEUE)} — the oldest queued error's payload into
     * {@code iov} ({@code MSG_TRUNC} if it did not fit), its destination in {@code from[0]}, its
     * {@code sock_extended_err} in {@code ee[0]}, {@code MSG_ERRQUEUE} in the flags; {@code sk_err}
     * becomes the next entry's errno, or 0. EAGAIN when the queue is empty: it never blocks.
     */
    public final int recvError(ByteBuffer[] iov, SockAddr[] from, int[] msgFlags, SockExtendedErr[] ee) throws SockException {
        return recvError(iov, from, msgFlags, ee, null);
    }

    /**
     * {@link #recvError(ByteBuffer[], SockAddr[], int[], SockExtendedErr[])}, and with IP_RECVTTL set the
     * TTL the ICMP error arrived with in {@code ttl[0]} (the {@code IP_TTL} control message; -1 for a
     * local error or without IP_RECVTTL).
     *
     * @since 1.13
     */
    public final int recvError(ByteBuffer[] iov, SockAddr[] from, int[] msgFlags, SockExtendedErr[] ee, int[] ttl) throws SockException {
        SkBuff skb;
        int[] f = new int[EE_FIELDS];
        lock.lock();
        try {
            if (errCount == 0) {
                throw SockException.of(Errno.EAGAIN);
            }
            skb = errSkb[errHead];
            errSkb[errHead] = null;
            System.arraycopy(errFields, errHead * EE_FIELDS, f, 0, EE_FIELDS);
            errHead = (errHead + 1) % ERRQUEUE_SLOTS;
            errCount--;
            // sock_dequeue_err_skb: sk_err becomes the next entry's errno if ICMP reported it, else 0
            error = errCount == 0 || errFields[errHead * EE_FIELDS + 1] != SockExtendedErr.SO_EE_ORIGIN_ICMP ? 0
                    : errFields[errHead * EE_FIELDS];
        } finally {
            lock.unlock();
        }
        try {
            int len = skb.len();
            if (skb.dataLen() > 0 && !skb.linearize()) {
                throw SockException.of(Errno.ENOMEM);
            }
            int copied = copyOut(skb, skb.data(), len, iov);
            if (msgFlags != null && msgFlags.length > 0) {
                msgFlags[0] |= SocketCalls.MSG_ERRQUEUE | (copied < len ? SocketCalls.MSG_TRUNC : 0);
            }
            if (from != null && from.length > 0) {
                from[0] = new SockAddr(f[6], f[7]);
            }
            if (ee != null && ee.length > 0) {
                ee[0] = new SockExtendedErr(f[0], f[1], f[2], f[3], f[4], 0, f[5]);
            }
            if (ttl != null && ttl.length > 0) {
                ttl[0] = recvttl && f[1] == SockExtendedErr.SO_EE_ORIGIN_ICMP ? f[8] : -1;
            }
            return copied;
        } finally {
            skb.free();
        }
    }

    /**
     * Empties the error queue into API values (fields and a copy of the quoted payload), oldest first,
     * freeing the packets: the old version's part of a hand-over; {@code sk_err} is left to
     * {@link #takeError}. @since 1.18
     */
    public final List<org.modnet.api.handover.QueuedError> takeErrorQueue() {
        List<org.modnet.api.handover.QueuedError> out = new ArrayList<>();
        int[] f = new int[EE_FIELDS];
        while (true) {
            SkBuff skb;
            lock.lock();
            try {
                if (errCount == 0) {
                    return out;
                }
                skb = errSkb[errHead];
                errSkb[errHead] = null;
                System.arraycopy(errFields, errHead * EE_FIELDS, f, 0, EE_FIELDS);
                errHead = (errHead + 1) % ERRQUEUE_SLOTS;
                errCount--;
            } finally {
                lock.unlock();
            }
            try {
                if (skb.dataLen() > 0 && !skb.linearize()) {
                    drops.incrementAndGet();
                    continue;
                }
                byte[] payload = new byte[skb.len()];
                skb.getBytes(skb.data(), payload, 0, payload.length);
                out.add(new org.modnet.api.handover.QueuedError(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], payload));
            } finally {
                skb.free();
            }
        }
    }

    private void purgeErrorQueue() {
        while (true) {
            SkBuff skb;
            lock.lock();
            try {
                if (errCount == 0) {
                    return;
                }
                skb = errSkb[errHead];
                errSkb[errHead] = null;
                errHead = (errHead + 1) % ERRQUEUE_SLOTS;
                errCount--;
            } finally {
                lock.unlock();
            }
            skb.free();
        }
    }

    /** {@code sock_error}: the pending error, cleared; 0 if none. */
    public final int takeError() {
        lock.lock();
        try {
            return takeErrorLocked();
        } finally {
            lock.unlock();
        }
    }

    private int takeErrorLocked() {
        int e = error;
        error = 0;
        return e;
    }

    /** {@code shutdown(2)} for datagram sockets ({@code inet_shutdown}): ENOTCONN unless connected, but the bits are set. */
    public void shutdown(int how) throws SockException {
        if (how < SocketCalls.SHUT_RD || how > SocketCalls.SHUT_RDWR) {
            throw SockException.of(Errno.EINVAL);
        }
        shutdown |= how + 1; // SHUT_RD -> RCV, SHUT_WR -> SEND, SHUT_RDWR -> both
        wakeUp();
        if (state != TCP_ESTABLISHED) {
            throw SockException.of(Errno.ENOTCONN);
        }
    }

    /** Sets the {@code sk_shutdown} bits (a stream protocol on the peer's FIN or a reset). */
    protected final void setShutdown(int bits) {
        shutdown = bits;
    }

    /** Whether an error is pending ({@code sk_err}), without clearing it. */
    protected final boolean hasError() {
        return error != 0;
    }

    /** Wakes blocked callers and every poller. */
    protected final void wakeUp() {
        lock.lock();
        try {
            if (sleepers > 0) {
                SleepListener.notifyWoken(this, null);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        wakeWaiters();
    }

    private void wakeWaiters() {
        Waiter[] ws = waiters;
        for (int i = 0; i < ws.length; i++) {
            ws[i].wake(this);
        }
    }

    /** Sleeps (lock held) until woken or {@code nanos} pass (negative: for ever); false on timeout. */
    private boolean sleep(long nanos) throws SockException {
        if (nanos == 0) {
            return false;
        }
        sleepers++;
        SleepListener.notifySleeping(this);
        try {
            if (nanos < 0) {
                changed.await();
                return true;
            }
            return changed.await(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw SockException.of(Errno.EINTR);
        } finally {
            sleepers--;
            SleepListener.notifyAwake(this);
        }
    }

    public final void addWaiter(Waiter w) {
        synchronized (waiterLock) {
            Waiter[] ws = waiters;
            for (Waiter x : ws) {
                if (x.equals(w)) {
                    return;
                }
            }
            Waiter[] more = java.util.Arrays.copyOf(ws, ws.length + 1);
            more[ws.length] = w;
            waiters = more;
        }
    }

    public final void removeWaiter(Waiter w) {
        synchronized (waiterLock) {
            Waiter[] ws = waiters;
            for (int i = 0; i < ws.length; i++) {
                if (ws[i].equals(w)) {
                    Waiter[] fewer = new Waiter[ws.length - 1];
                    System.arraycopy(ws, 0, fewer, 0, i);
                    System.arraycopy(ws, i + 1, fewer, i, ws.length - i - 1);
                    waiters = fewer.length == 0 ? NO_WAITERS : fewer;
                    return;
                }
            }
        }
    }

    private final Object waiterLock = new Object();

    /**
     * The {@code poll} mask now: readable with a queued datagram, a pending error or a read shutdown;
     * writable while the send buffer has room; HUP when shut down both ways.
     */
    public int poll() {
        if (dead) {
            return SocketCalls.POLLNVAL;
        }
        int mask = 0;
        int sh = shutdown;
        if (error != 0 || errCount != 0) { // sk_err or a queued error: datagram_poll's EPOLLERR
            mask |= SocketCalls.POLLERR;
        }
        if (sh == (RCV_SHUTDOWN | SEND_SHUTDOWN)) {
            mask |= SocketCalls.POLLHUP;
        }
        if ((sh & RCV_SHUTDOWN) != 0) {
            mask |= SocketCalls.POLLIN | SocketCalls.POLLRDNORM | SocketCalls.POLLRDHUP;
        }
        lock.lock();
        try {
            if (!receiveQueue.isEmpty()) {
                mask |= SocketCalls.POLLIN | SocketCalls.POLLRDNORM;
            }
        } finally {
            lock.unlock();
        }
        if (wmemAlloc.get() < sndbuf) {
            mask |= SocketCalls.POLLOUT | SocketCalls.POLLWRNORM;
        }
        return mask;
    }

    /**
     * {@code close(2)}'s last reference: the protocol releases the socket, queued packets are freed and
     * sleepers woken (they see EBADF).
     */
    public final void close() {
        lock.lock();
        try {
            if (dead) {
                return;
            }
            dead = true;
        } finally {
            lock.unlock();
        }
        release();
        drainReceiveQueue();
        purgeErrorQueue();
        Filter f = filter; // sk_destruct lets go of the filter
        filter = null;
        if (f != null) {
            f.release();
        }
        wakeUp();
    }

    private void drainReceiveQueue() {
        while (true) {
            SkBuff skb;
            lock.lock();
            try {
                skb = receiveQueue.pollFirst();
            } finally {
                lock.unlock();
            }
            if (skb == null) {
                return;
            }
            skb.free();
        }
    }

    /**
     * {@code FIONREAD}: bytes that can be read now without blocking — for a datagram socket the size of
     * the next datagram; stream protocols count their queued bytes.
     */
    public int available() {
        lock.lock();
        try {
            SkBuff next = receiveQueue.peekFirst();
            return next == null ? 0 : next.len();
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code sk_prot->ioctl} for the requests with an {@code int} answer: FIONREAD as {@link #available()},
     * SIOCOUTQ as {@link #sendQueue()}; a protocol adds its own. ENOTTY for any other request.
     */
    public int ioctl(int request) throws SockException {
        return switch (request) {
            case SocketCalls.FIONREAD -> available();
            case SocketCalls.SIOCOUTQ -> sendQueue();
            default -> throw SockException.of(Errno.ENOTTY);
        };
    }

    // --- hand-over on update (org.modnet.api.handover) ---

    /**
     * The protocol is being updated: calls sleeping on the socket return (the socket layer retries them
     * on the socket that adopts this one) and new calls wait for it. Packets may still be queued until
     * the state is taken. @since 1.5
     */
    public final void park() {
        lock.lock();
        try {
            parked = true;
            if (sleepers > 0) {
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        wakeWaiters();
    }

    /**
     * Whether {@link #park()} was called, or this socket's protocol left for an update and set the gate
     * it shares with its other sockets ({@link #parkWith}). @since 1.5
     */
    public final boolean isParked() {
        if (parked) {
            return true;
        }
        java.util.concurrent.atomic.AtomicBoolean g = parkGate;
        return g != null && g.get();
    }

    /**
     * The socket layer's switch for this socket's protocol: when the protocol leaves for an update the
     * layer sets it, and every socket that shares it reads as parked at once, with no walk over them
     * (their waiters are woken, and {@link #park()} called, afterwards, off the protocol's way out). @since 1.16
     */
    public final void parkWith(java.util.concurrent.atomic.AtomicBoolean gate) {
        parkGate = gate;
    }

    /** The switch given to {@link #parkWith}, or null. @since 1.16 */
    public final java.util.concurrent.atomic.AtomicBoolean parkGate() {
        return parkGate;
    }

    /** The options a hand-over carries. @since 1.5 */
    public final SockOptions options() {
        return new SockOptions(rcvbuf, sndbuf, userLocks, reuseAddr, reusePort, broadcast, keepalive, lingerOnOff,
                lingerSeconds, rcvTimeoNanos, sndTimeoNanos, ttl, tos, pmtudisc, nonBlocking, recverr, priority, mark, recvttl,
                llUsec, preferBusyPoll, busyPollBudget, maxPacingRate);
    }

    /**
     * Empties the receive queue into datagrams (sender and a copy of the payload), freeing the packets:
     * the old version's part of a hand-over. @since 1.5
     */
    public final List<Datagram> takeReceiveQueue() {
        List<Datagram> out = new ArrayList<>();
        while (true) {
            SkBuff skb;
            lock.lock();
            try {
                skb = receiveQueue.pollFirst();
            } finally {
                lock.unlock();
            }
            if (skb == null) {
                return out;
            }
            try {
                SockAddr from = source(skb);
                if (skb.dataLen() > 0 && !skb.linearize()) {
                    drops.incrementAndGet();
                    continue;
                }
                byte[] payload = new byte[skb.len()];
                skb.getBytes(skb.data(), payload, 0, payload.length);
                out.add(new Datagram(from.address(), from.port(), payload));
            } finally {
                skb.free();
            }
        }
    }

    /**
     * Takes what every socket shares from a handed-over state: options, {@code sk_state}, addresses,
     * shutdown bits, the pending error and the drop count. The protocol restores its own part and
     * re-queues the datagrams. @since 1.5
     */
    protected final void adopt(SocketState st) {
        SockOptions o = st.options();
        rcvbuf = Math.max(MIN_RCVBUF, o.rcvbuf());
        sndbuf = Math.max(MIN_SNDBUF, o.sndbuf());
        userLocks = o.userLocks();
        reuseAddr = o.reuseAddr();
        reusePort = o.reusePort();
        broadcast = o.broadcast();
        keepalive = o.keepalive();
        lingerOnOff = o.lingerOnOff();
        lingerSeconds = o.lingerSeconds();
        rcvTimeoNanos = o.rcvTimeoNanos();
        sndTimeoNanos = o.sndTimeoNanos();
        ttl = o.ttl();
        tos = o.tos();
        pmtudisc = o.pmtudisc();
        nonBlocking = o.nonBlocking();
        if (o.recvErr()) { // the error queue's entries are queued again below (1.12 deposits carry them)
            lock.lock();
            try {
                if (errSkb == null) {
                    errSkb = new SkBuff[ERRQUEUE_SLOTS];
                    errFields = new int[ERRQUEUE_SLOTS * EE_FIELDS];
                }
            } finally {
                lock.unlock();
            }
        }
        recverr = o.recvErr();
        priority = o.priority();
        mark = o.mark();
        recvttl = o.recvTtl();
        if (o.busyPollUsec() >= 0) { // -1: a deposit from before 1.12, net.core.busy_read's stays
            llUsec = o.busyPollUsec();
        }
        preferBusyPoll = o.preferBusyPoll();
        busyPollBudget = o.busyPollBudget();
        maxPacingRate = o.maxPacingRate();
        state = st.state();
        localAddress = st.localAddress();
        localPort = st.localPort();
        remoteAddress = st.remoteAddress();
        remotePort = st.remotePort();
        shutdown = st.shutdown();
        error = st.error();
        drops.set(st.drops());
        for (org.modnet.api.handover.QueuedError e : st.errorQueue()) { // queued again, charged to this socket; sk_err is the state's
            SkBuff c = ns.core().allocSkb(e.payload().length, 0);
            if (c == null) {
                drops.incrementAndGet();
                continue;
            }
            c.setBytes(c.put(e.payload().length), e.payload(), 0, e.payload().length);
            enqueueError(c, e.errno(), e.origin(), e.type(), e.code(), e.info(), e.offender(), e.address(), e.port(), e.ttl(), false);
        }
    }

    public final boolean isClosed() {
        return dead;
    }

    // --- options (SOL_SOCKET and the IP ones every inet socket has) ---

    public final void setOption(int level, int name, int[] v) throws SockException {
        if (level == SocketCalls.SOL_SOCKET) {
            setSocketOption(name, v);
        } else if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_MTU_DISCOVER) {
            need(v, 1);
            if (v[0] < SocketCalls.IP_PMTUDISC_DONT || v[0] > SocketCalls.IP_PMTUDISC_OMIT) {
                throw SockException.of(Errno.EINVAL);
            }
            pmtudisc = v[0];
        } else if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_RECVERR) {
            need(v, 1);
            lock.lock();
            try {
                if (v[0] != 0 && errSkb == null) {
                    errSkb = new SkBuff[ERRQUEUE_SLOTS];
                    errFields = new int[ERRQUEUE_SLOTS * EE_FIELDS];
                }
            } finally {
                lock.unlock();
            }
            recverr = v[0] != 0;
            if (v[0] == 0) {
                purgeErrorQueue(); // ip_setsockopt: turning it off empties the queue
            }
        } else if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_RECVTTL) {
            need(v, 1);
            recvttl = v[0] != 0;
        } else if (level == SocketCalls.IPPROTO_IP && (name == SocketCalls.IP_TTL || name == SocketCalls.IP_TOS)) {
            need(v, 1);
            if (name == SocketCalls.IP_TTL) {
                if (v[0] != -1 && (v[0] < 1 || v[0] > 255)) {
                    throw SockException.of(Errno.EINVAL);
                }
                ttl = v[0];
            } else {
                tos = v[0] & 0xff;
            }
        } else {
            setProtocolOption(level, name, v);
        }
    }

    private void setSocketOption(int name, int[] v) throws SockException {
        switch (name) {
            case SocketCalls.SO_RCVBUF -> {
                need(v, 1);
                int max = core.rmemMax.get();
                rcvbuf = Math.max(MIN_RCVBUF, (int) Math.min(Integer.MAX_VALUE, 2L * Math.min(Math.max(v[0], 0), max)));
                userLocks |= SOCK_RCVBUF_LOCK;
                wakeUp();
            }
            case SocketCalls.SO_SNDBUF -> {
                need(v, 1);
                int max = core.wmemMax.get();
                sndbuf = Math.max(MIN_SNDBUF, (int) Math.min(Integer.MAX_VALUE, 2L * Math.min(Math.max(v[0], 0), max)));
                userLocks |= SOCK_SNDBUF_LOCK;
                wakeUp();
            }
            case SocketCalls.SO_PRIORITY -> {
                // sock_setsockopt: 0..6 for anyone, any value with CAP_NET_ADMIN, which modnet's processes have
                need(v, 1);
                priority = v[0];
            }
            case SocketCalls.SO_MARK -> {
                // sock_setsockopt: CAP_NET_ADMIN, which modnet's processes have
                need(v, 1);
                mark = v[0];
            }
            case SocketCalls.SO_MAX_PACING_RATE -> {
                // sock_setsockopt: a 32-bit value (~0U: no limit) or, given 8 bytes, a 64-bit one
                need(v, 1);
                long rate = v.length >= 2 ? Integer.toUnsignedLong(v[0]) | ((long) v[1] << 32)
                        : v[0] == -1 ? -1L : Integer.toUnsignedLong(v[0]);
                maxPacingRate = rate;
            }
            case SocketCalls.SO_BUSY_POLL -> {
                // sock_setsockopt: a negative time is EINVAL; raising it needs CAP_NET_ADMIN, which modnet's processes have
                need(v, 1);
                if (v[0] < 0) {
                    throw SockException.of(Errno.EINVAL);
                }
                llUsec = v[0];
            }
            // sock_setsockopt: raising either needs CAP_NET_ADMIN, which modnet's processes have
            case SocketCalls.SO_PREFER_BUSY_POLL -> preferBusyPoll = flag(v);
            case SocketCalls.SO_BUSY_POLL_BUDGET -> {
                need(v, 1);
                if (v[0] < 0 || v[0] > 0xffff) {
                    throw SockException.of(Errno.EINVAL); // a u16
                }
                busyPollBudget = v[0];
            }
            case SocketCalls.SO_INCOMING_NAPI_ID -> throw SockException.of(Errno.ENOPROTOOPT); // get only
            case SocketCalls.SO_REUSEADDR -> reuseAddr = flag(v);
            case SocketCalls.SO_REUSEPORT -> reusePort = flag(v);
            case SocketCalls.SO_BROADCAST -> broadcast = flag(v);
            case SocketCalls.SO_KEEPALIVE -> {
                keepalive = flag(v);
                keepaliveChanged(keepalive);
            }
            case SocketCalls.SO_LINGER -> {
                need(v, 2);
                lingerOnOff = v[0] != 0 ? 1 : 0;
                lingerSeconds = Math.max(0, v[1]);
            }
            case SocketCalls.SO_RCVTIMEO -> rcvTimeoNanos = timeout(v);
            case SocketCalls.SO_SNDTIMEO -> sndTimeoNanos = timeout(v);
            case SocketCalls.SO_DETACH_FILTER -> detachFilter();
            case SocketCalls.SO_LOCK_FILTER -> {
                boolean lockIt = flag(v);
                if (filterLocked && !lockIt) {
                    throw SockException.of(Errno.EPERM); // a locked filter stays locked
                }
                filterLocked = lockIt;
            }
            // attaching needs the eBPF layer: the socket layer's setsockopt makes the filter and calls attachFilter
            case SocketCalls.SO_ATTACH_FILTER, SocketCalls.SO_ATTACH_BPF -> throw SockException.of(Errno.EINVAL);
            case SocketCalls.SO_TYPE, SocketCalls.SO_ERROR, SocketCalls.SO_PROTOCOL, SocketCalls.SO_DOMAIN -> throw SockException.of(Errno.ENOPROTOOPT);
            default -> throw SockException.of(Errno.ENOPROTOOPT);
        }
    }

    /** {@code sock_set_timeout}: microseconds outside [0, 1000000) are EDOM; a negative time is "never". */
    private static long timeout(int[] v) throws SockException {
        need(v, 2);
        if (v[1] < 0 || v[1] >= 1_000_000) {
            throw SockException.of(Errno.EDOM);
        }
        if (v[0] < 0) {
            return 0;
        }
        long nanos = TimeUnit.SECONDS.toNanos(v[0]) + TimeUnit.MICROSECONDS.toNanos(v[1]);
        return nanos;
    }

    private static boolean flag(int[] v) throws SockException {
        need(v, 1);
        return v[0] != 0;
    }

    private static void need(int[] v, int n) throws SockException {
        if (v == null || v.length < n) {
            throw SockException.of(Errno.EINVAL);
        }
    }

    /** Fills {@code out} and returns how many values the option has. */
    public final int getOption(int level, int name, int[] out) throws SockException {
        if (level == SocketCalls.SOL_SOCKET && (name == SocketCalls.SO_RCVTIMEO || name == SocketCalls.SO_SNDTIMEO)) {
            // read by every blocking send and receive: written in place, no array made
            need(out, 2);
            long nanos = name == SocketCalls.SO_RCVTIMEO ? rcvTimeoNanos : sndTimeoNanos;
            out[0] = (int) (nanos / 1_000_000_000L);
            out[1] = (int) (nanos % 1_000_000_000L / 1000);
            return 2;
        }
        int[] v;
        if (level == SocketCalls.SOL_SOCKET) {
            v = switch (name) {
                case SocketCalls.SO_RCVBUF -> new int[] { rcvbuf };
                case SocketCalls.SO_SNDBUF -> new int[] { sndbuf };
                case SocketCalls.SO_PRIORITY -> new int[] { priority };
                case SocketCalls.SO_MARK -> new int[] { mark };
                // sock_getsockopt with 4 bytes: the rate, ~0U when it does not fit (or there is no limit)
                case SocketCalls.SO_MAX_PACING_RATE -> new int[] { maxPacingRate >= 0 && maxPacingRate < 0xffffffffL ? (int) maxPacingRate : -1 };
                case SocketCalls.SO_BUSY_POLL -> new int[] { llUsec };
                case SocketCalls.SO_INCOMING_NAPI_ID -> new int[] { napiId };
                case SocketCalls.SO_PREFER_BUSY_POLL -> new int[] { preferBusyPoll ? 1 : 0 };
                case SocketCalls.SO_BUSY_POLL_BUDGET -> new int[] { busyPollBudget };
                case SocketCalls.SO_REUSEADDR -> new int[] { reuseAddr ? 1 : 0 };
                case SocketCalls.SO_REUSEPORT -> new int[] { reusePort ? 1 : 0 };
                case SocketCalls.SO_BROADCAST -> new int[] { broadcast ? 1 : 0 };
                case SocketCalls.SO_KEEPALIVE -> new int[] { keepalive ? 1 : 0 };
                case SocketCalls.SO_LINGER -> new int[] { lingerOnOff, lingerSeconds };
                case SocketCalls.SO_TYPE -> new int[] { type };
                case SocketCalls.SO_PROTOCOL -> new int[] { protocol };
                case SocketCalls.SO_DOMAIN -> new int[] { SocketCalls.AF_INET };
                case SocketCalls.SO_ERROR -> new int[] { takeError() };
                case SocketCalls.SO_LOCK_FILTER -> new int[] { filterLocked ? 1 : 0 };
                default -> throw SockException.of(Errno.ENOPROTOOPT);
            };
        } else if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_TTL) {
            v = new int[] { ttl == -1 ? defaultTtl() : ttl };
        } else if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_TOS) {
            v = new int[] { tos };
        } else if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_MTU_DISCOVER) {
            v = new int[] { pmtudisc };
        } else if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_RECVERR) {
            v = new int[] { recverr ? 1 : 0 };
        } else if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_RECVTTL) {
            v = new int[] { recvttl ? 1 : 0 };
        } else if (level == SocketCalls.SOL_TCP && name == SocketCalls.TCP_INFO && type == SocketCalls.SOCK_STREAM) {
            TcpInfo info = tcpInfo();
            if (info == null) {
                return getProtocolOption(level, name, out);
            }
            return out == null ? 0 : info.words(out); // do_tcp_getsockopt: cut to the caller's length
        } else {
            return getProtocolOption(level, name, out);
        }
        if (out == null || out.length < v.length) {
            throw SockException.of(Errno.EINVAL);
        }
        System.arraycopy(v, 0, out, 0, v.length);
        return v.length;
    }

    // --- what protocols, the socket layer and ss read ---

    /** {@code tcp_get_info}: the connection's {@code struct tcp_info}; null for a protocol that has none. */
    public TcpInfo tcpInfo() {
        return null;
    }

    /** {@code TCP_CONGESTION}: the congestion control's name ({@code ss -i}, "reno"); null for a protocol without one. */
    public String congestionControl() {
        return null;
    }

    /**
     * {@code INET_DIAG_BBRINFO} ({@code struct tcp_bbr_info}): BBR's bandwidth estimate in bytes per
     * second, minimum RTT in microseconds, pacing and window gains in 1/256, for {@code ss -i}'s {@code
     * bbr:(...)}; null when the connection's algorithm is not BBR. @since 1.9
     */
    public long[] bbrInfo() {
        return null;
    }

    /** The timer the socket waits on ({@code ss -o}, {@code /proc/net/tcp}'s tr and tm->when). */
    public SockTimer timer() {
        return SockTimer.NONE;
    }

    /**
     * {@code sk_get_meminfo}: the {@code SK_MEMINFO_*} vector {@code ss -m} prints as
     * {@code skmem:(r,rb,t,tb,f,w,o,bl,d)} — receive memory, receive buffer, transmit memory, send
     * buffer, forward allocation, queued for sending, option memory, backlog, drops.
     */
    public long[] memInfo() {
        return new long[] { rmemAlloc(), rcvbuf, wmemAlloc(), sndbuf, 0, 0, 0, 0, drops() };
    }

    public final NetNamespace namespace() {
        return ns;
    }

    /**
     * {@code sk_mark_napi_id}: the protocol's receive path (softirq context) notes the NAPI instance
     * the packet came from, which busy polling polls ({@link org.modnet.api.net.NetCore#currentNapiId()}).
     * @since 1.15
     */
    public final void markNapiId(int id) {
        if (id != 0 && napiId != id) {
            napiId = id;
        }
    }

    /** {@code sk_napi_id}: 0 before the socket received anything through a NAPI poll. @since 1.15 */
    public final int napiId() {
        return napiId;
    }

    /** {@code sk_ll_usec}: SO_BUSY_POLL's microseconds, 0 for none ({@code sk_can_busy_loop}). @since 1.15 */
    public final int busyPollUsecs() {
        return llUsec;
    }

    /** {@code sk_prefer_busy_poll}: SO_PREFER_BUSY_POLL. @since 1.16 */
    public final boolean preferBusyPoll() {
        return preferBusyPoll;
    }

    /** {@code sk_busy_poll_budget}: SO_BUSY_POLL_BUDGET, 0 for the default. @since 1.16 */
    public final int busyPollBudget() {
        return busyPollBudget;
    }

    public final int type() {
        return type;
    }

    public final int protocol() {
        return protocol;
    }

    public final long inode() {
        return inode;
    }

    public final int state() {
        return state;
    }

    public final SockAddr localAddress() {
        return new SockAddr(localAddress, localPort);
    }

    public final SockAddr remoteAddress() {
        return new SockAddr(remoteAddress, remotePort);
    }

    /** {@code sk_rmem_alloc}: bytes charged by queued packets (ss's Recv-Q for a datagram socket). */
    public final int rmemAlloc() {
        return rmemAlloc.get();
    }

    /** {@code sk_wmem_alloc}: bytes of sent packets not yet freed by the driver (ss's Send-Q). */
    public final int wmemAlloc() {
        return wmemAlloc.get();
    }

    /**
     * ss's Recv-Q: for a datagram socket the bytes charged by queued packets; a stream protocol reports
     * unread bytes, or for a listener the connections waiting in the accept queue.
     */
    public int recvQueue() {
        return rmemAlloc();
    }

    /** ss's Send-Q: bytes sent and not yet freed; a stream protocol reports unacknowledged bytes, a listener its backlog. */
    public int sendQueue() {
        return wmemAlloc();
    }

    /** {@code sk_drops}: packets the receive buffer or memory limit refused. */
    public final long drops() {
        return drops.get();
    }

    public final int rcvbuf() {
        return rcvbuf;
    }

    public final int sndbuf() {
        return sndbuf;
    }

    /** {@code sk_userlocks}: {@link #SOCK_SNDBUF_LOCK} and {@link #SOCK_RCVBUF_LOCK}. @since 1.3 */
    public final int userLocks() {
        return userLocks;
    }

    /**
     * The protocol sizes its own buffers ({@code tcp_init_sock}, {@code sk_clone}, autotuning): no
     * {@code rmem_max}/{@code wmem_max} clamp, and {@code locks} become the socket's user locks.
     * @since 1.3
     */
    protected final void setBuffers(int sndbuf, int rcvbuf, int locks) {
        this.sndbuf = Math.max(MIN_SNDBUF, sndbuf);
        this.rcvbuf = Math.max(MIN_RCVBUF, rcvbuf);
        this.userLocks = locks;
        wakeUp();
    }

    public final boolean reuseAddr() {
        return reuseAddr;
    }

    public final boolean reusePort() {
        return reusePort;
    }

    public final boolean broadcast() {
        return broadcast;
    }

    /** SO_KEEPALIVE ({@code SOCK_KEEPOPEN}). */
    public final boolean keepalive() {
        return keepalive;
    }

    /**
     * {@code ip_dont_fragment}: whether what this socket sends carries DF (IP_MTU_DISCOVER DO, or WANT,
     * the default; modnet does not lock a route's MTU). @since 1.4
     */
    public final boolean dontFragment() {
        int p = pmtudisc;
        return p == SocketCalls.IP_PMTUDISC_DO || p == SocketCalls.IP_PMTUDISC_WANT;
    }

    /** IP_MTU_DISCOVER's value ({@code inet->pmtudisc}): one of SocketCalls' IP_PMTUDISC_*. @since 1.10 */
    public final int pmtuDiscover() {
        return pmtudisc;
    }

    /** IP_RECVERR: whether a send reports errors a datagram met on its way out (ENOBUFS from a full qdisc). @since 1.6 */
    public final boolean recvErr() {
        return recverr;
    }

    /** IP_TTL, or 0 for the namespace's default. */
    public final int ttl() {
        return ttl == -1 ? 0 : ttl;
    }

    public final int tos() {
        return tos;
    }

    /** SO_MAX_PACING_RATE: the ceiling of the socket's pacing rate in bytes per second, -1 for none. @since 1.9 */
    public final long maxPacingRate() {
        return maxPacingRate;
    }

    /** SO_PRIORITY: what the socket's packets carry in {@code skb->priority}. @since 1.7 */
    public final int priority() {
        return priority;
    }

    /** SO_MARK: what the socket's packets carry in {@code skb->mark}, and the mark its routes are looked up with. @since 1.11 */
    public final int mark() {
        return mark;
    }

    public final boolean isNonBlocking() {
        return nonBlocking;
    }

    public final void setNonBlocking(boolean on) {
        nonBlocking = on;
    }

    public final int shutdownBits() {
        return shutdown;
    }

    /** ss's "users:" entry, e.g. {@code ("nc",pid=3,fd=3)}; set by whoever holds a descriptor. */
    public final String users() {
        return users;
    }

    public final void users(String u) {
        users = u == null ? "" : u;
    }
}

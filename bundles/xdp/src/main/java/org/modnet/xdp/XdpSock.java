package org.modnet.xdp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.api.xsk.XdpSocket;
import org.modnet.api.xsk.XdpStatistics;
import org.modnet.api.xsk.XdpUmemReg;
import org.modnet.api.xsk.XskRing;

/**
 * An AF_XDP socket, {@code struct xdp_sock} ({@code net/xdp/xsk.c}, {@code xsk_buff_pool.c}), in copy
 * mode, as generic XDP runs it: {@link #rcv} copies a frame an xskmap redirected here into the next
 * UMEM chunk of the fill ring and describes it on the RX ring — no allocation, every refusal counted
 * as {@code XDP_STATISTICS} counts it; {@link #sendto} copies what the TX ring describes into skbs for
 * the bound device and returns each chunk on the completion ring ({@code xsk_generic_xmit}).
 * <p>
 * The sockets of the instance are found by fd through one array the receive path reads without a lock
 * ({@link #byFd}); fds are not reused, so an xskmap entry left over from a closed socket finds nothing.
 */
final class XdpSock implements XdpSocket {
    /** {@code TX_BATCH_SIZE}: the most frames one {@code sendto} sends. */
    static final int TX_BATCH_SIZE = 32;
    private static final long PAGE_SIZE = 4096;

    /** The first fd: 0, 1 and 2 are a process's standard streams. */
    private static final AtomicInteger FDS = new AtomicInteger(3);
    private static volatile XdpSock[] byFd = new XdpSock[16];

    private static final VarHandle RX_LOCK;
    static {
        try {
            RX_LOCK = MethodHandles.lookup().findVarHandle(XdpSock.class, "rxLock", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int fd;
    private final NetNamespace ns;
    private final Runnable onClose;
    private final Arena arena = Arena.ofShared();

    private MemorySegment umem;
    private long umemSize;
    private int chunkSize;
    private int headroom;

    /** Ring sizes as set, by option number (0: not set). */
    private final int[] sizes = new int[7];
    /** The rings' memory, by option number. */
    private final MemorySegment[] rings = new MemorySegment[7];

    /** The stack's side of each ring. */
    private XskRing fq;
    private XskRing cq;
    private XskRing rx;
    private XskRing tx;

    private volatile NetDevice dev;
    private volatile int queueId = -1;
    private volatile boolean closed;

    /** {@code xs->rx_lock}: held while a frame is put on the RX ring (uncontended when one CPU polls the queue). */
    @SuppressWarnings("unused")
    private volatile int rxLock;
    private volatile Thread waiter;

    // XDP_STATISTICS
    private volatile long rxDropped;
    private volatile long rxQueueFull;
    private volatile long fqEmptyDescs;
    private volatile long fqInvalidDescs;
    private long txInvalidDescs;
    private long txEmptyDescs;

    XdpSock(NetNamespace ns, Runnable onClose) {
        this.fd = FDS.getAndIncrement();
        this.ns = ns;
        this.onClose = onClose;
        register(this);
    }

    private static synchronized void register(XdpSock s) {
        XdpSock[] all = byFd;
        if (s.fd >= all.length) {
            all = java.util.Arrays.copyOf(all, Math.max(all.length * 2, s.fd + 1));
        } else {
            all = all.clone();
        }
        all[s.fd] = s;
        byFd = all;
    }

    private static synchronized void unregister(XdpSock s) {
        XdpSock[] all = byFd.clone();
        if (s.fd < all.length && all[s.fd] == s) {
            all[s.fd] = null;
        }
        byFd = all;
    }

    /** The open socket with this fd, or null: what an xskmap's value names. */
    static XdpSock byFd(int fd) {
        XdpSock[] all = byFd;
        return fd > 0 && fd < all.length ? all[fd] : null;
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public synchronized void umemReg(XdpUmemReg reg) throws NetException {
        if (umem != null) {
            throw new NetException(Errno.EBUSY, "a UMEM is registered already");
        }
        MemorySegment a = reg.area();
        int chunk = reg.chunkSize();
        if (reg.flags() != 0) {
            throw new NetException(Errno.EINVAL, "UMEM flags 0x" + Integer.toHexString(reg.flags())
                    + ": modnet offers aligned chunks only (no XDP_UMEM_UNALIGNED_CHUNK_FLAG)");
        }
        if (chunk < XdpUmemReg.XDP_UMEM_MIN_CHUNK_SIZE || chunk > PAGE_SIZE || (chunk & (chunk - 1)) != 0) {
            throw new NetException(Errno.EINVAL, "chunk size " + chunk + ": a power of two from 2048 to 4096");
        }
        if (a == null || !a.isNative() || a.address() % PAGE_SIZE != 0) {
            throw new NetException(Errno.EINVAL, "the UMEM must be native, page-aligned memory");
        }
        long chunks = a.byteSize() / chunk;
        if (chunks == 0 || chunks > 0xffffffffL || a.byteSize() % chunk != 0) {
            throw new NetException(Errno.EINVAL, "UMEM of " + a.byteSize() + " bytes is not a whole number of " + chunk + "-byte chunks");
        }
        if (reg.headroom() < 0 || reg.headroom() >= chunk - XdpUmemReg.XDP_PACKET_HEADROOM) {
            throw new NetException(Errno.EINVAL, "headroom " + reg.headroom() + " leaves no room for a frame in a " + chunk + "-byte chunk");
        }
        umem = a;
        umemSize = a.byteSize();
        chunkSize = chunk;
        headroom = reg.headroom();
    }

    @Override
    public synchronized void ringSize(int ring, int entries) throws NetException {
        if (ring != XDP_RX_RING && ring != XDP_TX_RING && ring != XDP_UMEM_FILL_RING && ring != XDP_UMEM_COMPLETION_RING) {
            throw new NetException(Errno.ENOPROTOOPT, "no such ring option " + ring);
        }
        if (dev != null) {
            throw new NetException(Errno.EBUSY, "the socket is bound");
        }
        if (entries <= 0 || (entries & (entries - 1)) != 0) {
            throw new NetException(Errno.EINVAL, "a ring's size is a power of two, not " + entries);
        }
        if (rings[ring] != null) {
            throw new NetException(Errno.EINVAL, "ring " + ring + " is made already"); // xsk_init_queue: the queue exists
        }
        sizes[ring] = entries;
        int entry = ring == XDP_RX_RING || ring == XDP_TX_RING ? XskRing.DESC_SIZE : XskRing.ADDR_SIZE;
        rings[ring] = arena.allocate(XskRing.byteSize(entries, entry), PAGE_SIZE);
        switch (ring) {
            case XDP_RX_RING -> rx = XskRing.producer(rings[ring], entries, entry);
            case XDP_TX_RING -> tx = XskRing.consumer(rings[ring], entries, entry);
            case XDP_UMEM_FILL_RING -> fq = XskRing.consumer(rings[ring], entries, entry);
            default -> cq = XskRing.producer(rings[ring], entries, entry);
        }
    }

    @Override
    public synchronized XskRing ring(int ring) throws NetException {
        if (ring < 0 || ring >= rings.length || rings[ring] == null) {
            throw new NetException(Errno.EINVAL, "ring " + ring + " is not made (set its size first)");
        }
        int entry = ring == XDP_RX_RING || ring == XDP_TX_RING ? XskRing.DESC_SIZE : XskRing.ADDR_SIZE;
        // the program produces into the fill and TX rings, and consumes RX and completion
        return ring == XDP_UMEM_FILL_RING || ring == XDP_TX_RING ? XskRing.producer(rings[ring], sizes[ring], entry)
                : XskRing.consumer(rings[ring], sizes[ring], entry);
    }

    @Override
    public void bind(int ifindex, int queueId, int flags) throws NetException {
        synchronized (XdpSock.class) { // one socket per device queue: checked and taken in one step
            synchronized (this) {
                if (dev != null) {
                    throw new NetException(Errno.EINVAL, "the socket is bound already");
                }
                if (closed) {
                    throw new NetException(Errno.EBADF);
                }
                if ((flags & ~(XDP_SHARED_UMEM | XDP_COPY | XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP)) != 0
                        || (flags & (XDP_COPY | XDP_ZEROCOPY)) == (XDP_COPY | XDP_ZEROCOPY)) {
                    throw new NetException(Errno.EINVAL, "bad bind flags 0x" + Integer.toHexString(flags));
                }
                if ((flags & XDP_SHARED_UMEM) != 0) {
                    throw new NetException(Errno.EOPNOTSUPP, "modnet does not share a UMEM between sockets (XDP_SHARED_UMEM)");
                }
                if ((flags & XDP_ZEROCOPY) != 0) {
                    throw new NetException(Errno.EOPNOTSUPP, "no modnet driver has zero-copy AF_XDP: bind with XDP_COPY");
                }
                if (rx == null && tx == null) {
                    throw new NetException(Errno.EINVAL, "neither an RX nor a TX ring");
                }
                NetDevice d = ns.device(ifindex);
                if (d == null) {
                    throw new NetException(Errno.ENODEV);
                }
                if (queueId < 0 || queueId >= Math.max(d.rxQueues(), 1)) {
                    throw new NetException(Errno.EINVAL, d.name() + " has no queue " + queueId);
                }
                if (umem == null || fq == null || cq == null) {
                    throw new NetException(Errno.EINVAL, "no UMEM, or no fill or completion ring");
                }
                for (XdpSock s : byFd) {
                    if (s != null && s != this && s.dev == d && s.queueId == queueId) {
                        throw new NetException(Errno.EBUSY, d.name() + " queue " + queueId + " has an AF_XDP socket");
                    }
                }
                this.queueId = queueId;
                this.dev = d;
            }
        }
    }

    /**
     * {@code xsk_rcv}: the frame [{@code off}, {@code off + len}) of {@code src}, received on
     * {@code from}'s queue {@code queue}, into the next fill-ring chunk and onto the RX ring. False —
     * the redirect fails, the frame stays the caller's — when the socket is bound elsewhere
     * ({@code xsk_rcv_check}), the frame does not fit a chunk (rx_dropped), the fill ring is empty
     * (rx_fill_ring_empty_descs, rx_dropped) or the RX ring full (rx_ring_full).
     */
    boolean rcv(MemorySegment src, long off, int len, NetDevice from, int queue) {
        if (dev != from || queueId != queue) {
            return false; // -EINVAL: an xskmap entry for another device's or queue's socket
        }
        while (!RX_LOCK.compareAndSet(this, 0, 1)) {
            Thread.onSpinWait();
        }
        try {
            if (closed) {
                return false;
            }
            if (len > chunkSize - headroom - XdpUmemReg.XDP_PACKET_HEADROOM) {
                rxDropped++;
                return false; // -ENOSPC: longer than a chunk holds
            }
            long addr = -1;
            while (fq.peek(1) == 1) {
                long a = fq.addr(fq.index());
                if (Long.compareUnsigned(a, umemSize) < 0) {
                    addr = a & ~(long) (chunkSize - 1); // aligned mode: the chunk the address falls in
                    break;
                }
                fqInvalidDescs++; // an address outside the UMEM: skipped, as xp_alloc skips it
                fq.release(1);
            }
            if (addr < 0) {
                fqEmptyDescs++;
                rxDropped++;
                return false; // -ENOMEM: no chunk to put it in
            }
            int idx = rx.reserve(1);
            if (idx < 0) {
                rxQueueFull++;
                return false; // -ENOBUFS: the chunk stays on the fill ring
            }
            long data = addr + headroom + XdpUmemReg.XDP_PACKET_HEADROOM;
            MemorySegment.copy(src, off, umem, data, len);
            fq.release(1);
            rx.desc(idx, data, len, 0);
            rx.submit(1);
        } finally {
            RX_LOCK.setRelease(this, 0);
        }
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
        return true;
    }

    @Override
    public synchronized void sendto() throws NetException {
        NetDevice d = dev;
        if (d == null) {
            throw new NetException(Errno.ENXIO, "the socket is not bound");
        }
        if (tx == null) {
            throw new NetException(Errno.ENOBUFS, "the socket has no TX ring");
        }
        if (!d.isUp()) {
            throw new NetException(Errno.ENETDOWN);
        }
        for (int sent = 0;; sent++) {
            if (tx.peek(1) == 0) {
                txEmptyDescs++; // xskq_cons_peek_desc found the ring empty
                return;
            }
            if (sent == TX_BATCH_SIZE) {
                throw new NetException(Errno.EAGAIN, "a batch of " + TX_BATCH_SIZE + " sent; send again");
            }
            int i = tx.index();
            long addr = tx.descAddr(i);
            int len = tx.descLen(i);
            int options = tx.descOptions(i);
            if (!validTxDesc(addr, len, options)) {
                txInvalidDescs++;
                tx.release(1);
                continue;
            }
            int c = cq.reserve(1);
            if (c < 0) {
                throw new NetException(Errno.EAGAIN, "the completion ring is full");
            }
            SkBuff skb = d.namespace().core().allocSkb(len, SkBuffPool.NET_SKB_PAD);
            if (skb == null) {
                cq.cancel(1);
                throw new NetException(Errno.ENOBUFS);
            }
            MemorySegment.copy(umem, addr, skb.memory(), skb.put(len), len);
            skb.dev(d);
            skb.resetMacHeader();
            tx.release(1);
            d.namespace().core().devQueueXmitStatus(skb); // a frame the queue drops is still completed, as xsk_destruct_skb does
            cq.addr(c, addr);
            cq.submit(1);
        }
    }

    /** {@code xp_aligned_validate_desc}: inside the UMEM, inside one chunk, no options modnet does not know. */
    private boolean validTxDesc(long addr, int len, int options) {
        if (options != 0 || len <= 0 || len > chunkSize) {
            return false; // XDP_PKT_CONTD (multi-buffer) is not offered: the socket is not bound with XDP_USE_SG
        }
        long end = addr + len - 1;
        return addr >= 0 && Long.compareUnsigned(end, umemSize) < 0 && addr / chunkSize == end / chunkSize;
    }

    @Override
    public boolean poll(long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        XskRing view = ringView();
        if (view == null) {
            return false;
        }
        waiter = Thread.currentThread();
        try {
            while (view.producer() == view.consumer()) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    return false;
                }
                LockSupport.parkNanos(this, left);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
            return true;
        } finally {
            waiter = null;
        }
    }

    private synchronized XskRing ringView() {
        return rings[XDP_RX_RING] == null ? null : XskRing.consumer(rings[XDP_RX_RING], sizes[XDP_RX_RING], XskRing.DESC_SIZE);
    }

    @Override
    public XdpStatistics statistics() {
        // what xsk_getsockopt gives with the extra fields: rx_ring_full apart from rx_dropped
        return new XdpStatistics(rxDropped, 0, txInvalidDescs, rxQueueFull, fqEmptyDescs, txEmptyDescs);
    }

    /** Addresses the fill ring gave outside the UMEM, skipped (the kernel counts them on the fill queue, not in XDP_STATISTICS). */
    long fillInvalidDescs() {
        return fqInvalidDescs;
    }

    NetDevice device() {
        return dev;
    }

    int queueId() {
        return queueId;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            dev = null;
        }
        unregister(this);
        onClose.run();
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }
}

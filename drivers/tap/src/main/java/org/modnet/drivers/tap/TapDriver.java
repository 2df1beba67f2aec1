package org.modnet.drivers.tap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.module.ModuleUsage;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ip link add NAME type tap [multi_queue] [numqueues N]}: a modnet device whose wire is a Linux
 * TAP interface of the same name ({@code /dev/net/tun}, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, and
 * IFF_MULTI_QUEUE with a file descriptor per queue), made, or an existing persistent one attached.
 * The softirq thread of the CPU that polls a queue waits for it itself when idle ({@link CpuWait}, an
 * epoll set per CPU), as an idle CPU takes its interrupt; where it cannot, one "interrupt" thread sleeps
 * in epoll_wait on the queue's file descriptor. Either way a readable queue has its NAPI instance
 * scheduled, and the NAPI poll reads the frames — non-blocking, up to its budget, straight into packet
 * buffers — as a NIC's poll cleans its receive ring; NAPI completing unmasks the queue. Transmit is a non-blocking write. Native XDP ({@code xdpdrv}) runs in that thread on the TAP's own buffer before
 * any skb, as tun runs it before building one. Needs root (CAP_NET_ADMIN) and /dev/net/tun, and says so otherwise.
 */
@Component(service = { LinkFactory.class, ModuleUsage.class }, immediate = true, property = LinkFactory.KIND + "=tap")
public final class TapDriver implements LinkFactory, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger(TapDriver.class);
    /** Frames one wake-up reads from one TAP before looking at the others. */
    private static final int BURST = 64;
    /** {@code XDP_PACKET_HEADROOM}. */
    private static final int XDP_HEADROOM = 256;
    /** Queues one poll(2) watches at most. */
    private static final int MAX_POLLED = 1024;
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    /**
     * What a TAP offers ({@code ethtool -k}), as virtio-net with its offloads negotiated:
     * {@code tcp-segmentation-offload} hands Linux TCPv4 GSO frames whole (its tun cuts them, or its
     * stack takes them as they are), {@code tx-checksumming} leaves checksums partial for Linux, and
     * {@code generic-receive-offload} asks Linux for its GSO frames ({@code TUNSETOFFLOAD} with
     * {@code TUN_F_TSO4}) so that modnet's TCP takes 64 KB at a time; off, Linux sends MTU frames.
     */
    static final Map<String, Boolean> FEATURES = Map.of("rx-checksumming", true, "tx-checksumming", true,
            "scatter-gather", true, "tcp-segmentation-offload", true, "generic-segmentation-offload", true,
            "generic-receive-offload", true);

    /**
     * A TAP's offloads: {@link #FEATURES}, and {@code tx-udp-segmentation} where Linux's tun took USO
     * ({@code TUN_F_USO4|TUN_F_USO6}, Linux 6.2 and later): modnet's {@code UDP_SEGMENT} sends go to
     * Linux whole ({@code VIRTIO_NET_HDR_GSO_UDP_L4}) and Linux may send its own; where it was refused
     * the feature is absent ({@code off [fixed]}) and the core cuts them into datagrams.
     */
    static Map<String, Boolean> features(boolean uso) {
        if (!uso) {
            return FEATURES;
        }
        Map<String, Boolean> m = new java.util.HashMap<>(FEATURES);
        m.put("tx-udp-segmentation", true);
        return Map.copyOf(m);
    }
    /** A buffer from the core's large pool: the largest frame Linux may hand over (64 KB of IP, a VLAN tag, the header). */
    private static final int LARGE_FRAME = 65536 + 128;

    private final NetCore core;
    private final List<Tap> taps = new CopyOnWriteArrayList<>();
    /** {@link #taps} as an array for the interrupt thread, which walks it on every wake-up without an iterator. */
    private volatile Tap[] polled = new Tap[0];
    private volatile boolean running = true;
    private final Thread irq;

    /** Wakes the interrupt thread out of epoll_wait (the driver stops, a TAP is added). */
    private final int wakeup;
    /**
     * The interrupt thread's epoll instance: the doorbell, and every queue's descriptor watched once per
     * arming ({@code EPOLLONESHOT}). NAPI completing re-arms a queue with one {@code epoll_ctl} from the
     * softirq, as a driver re-enables its interrupt, instead of ringing a doorbell that woke the
     * interrupt thread to poll(2) again (two wake-ups and four system calls per NAPI cycle, about one
     * per 64 KB GSO frame under a TCP stream).
     */
    private final int epfd;
    private final MemorySegment wakeupValue = Arena.ofAuto().allocate(8, 8);
    /**
     * Per CPU, the epoll set its softirq thread sleeps in when idle ({@link RxQueue.IdleWait}), watching
     * the queues that CPU polls: made when a queue there first needs it. A queue whose CPU has one is not
     * in {@link #epfd}: its frames wake the softirq thread directly, as an interrupt wakes an idle CPU.
     */
    private final CpuWait[] cpuWaits;

    @Activate
    public TapDriver(@Reference NetCore core) {
        this.core = core;
        this.wakeup = Tun.eventfd();
        if (wakeup < 0) {
            throw new IllegalStateException("tap: eventfd failed, errno " + -wakeup);
        }
        this.epfd = Tun.epollCreate();
        if (epfd < 0) {
            Tun.close(wakeup);
            throw new IllegalStateException("tap: epoll_create1 failed, errno " + -epfd);
        }
        Scratch sc = SCRATCH.get();
        int r = Tun.epollCtl(sc.state, epfd, Tun.EPOLL_CTL_ADD, wakeup, Tun.EPOLLIN, sc.event);
        if (r < 0) {
            Tun.close(epfd);
            Tun.close(wakeup);
            throw new IllegalStateException("tap: epoll_ctl failed, errno " + -r);
        }
        wakeupValue.set(ValueLayout.JAVA_LONG, 0, 1);
        this.cpuWaits = new CpuWait[Math.max(core.cpus(), 1)];
        this.irq = Thread.ofPlatform().name("tap-irq").daemon().start(this::irqLoop);
    }

    /** Rings the interrupt thread's doorbell: it looks at its TAPs again (offloads to negotiate, the driver stopping). */
    private void wake() {
        Tun.write(SCRATCH.get().state, wakeup, wakeupValue, 8);
    }

    /** Per thread that transmits or rings the doorbell: errno capture state, and room for a frame that lacks headroom. */
    private static final class Scratch {
        final MemorySegment state = Arena.ofAuto().allocate(Tun.captureLayout());
        final MemorySegment frame = Arena.ofAuto().allocate(Tun.VNET_HDR_LEN + 65536 + 512, 8);
        /** One struct epoll_event, for re-arming a queue. */
        final MemorySegment event = Arena.ofAuto().allocate(16, 8);
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * A diagnostic trace of when frames were read and written ({@code -Dmodnet.tap.trace=FILE}; off, the
     * default, costs one branch a frame): the last {@link Trace#SIZE} reads of every TAP queue with the
     * {@code CLOCK_MONOTONIC} time ({@link System#nanoTime}) and who read it (a busy poller, the softirq
     * after the queue's interrupt, the softirq otherwise: the NAPI watchdog or an IRQ resume), and the
     * last as many writes with the times the write began and returned; written to FILE, one line each,
     * when the driver stops. Preallocated: recording allocates nothing.
     */
    static final Trace TRACE = Trace.of(System.getProperty("modnet.tap.trace"));

    static final class Trace {
        static final int SIZE = 1 << 21;
        static final byte BUSY_POLL = 0;
        static final byte SOFTIRQ_IRQ = 1;
        static final byte SOFTIRQ_OTHER = 2;
        final String file;
        final long[] rxAt = new long[SIZE];
        final byte[] rxWho = new byte[SIZE];
        final long[] txAt = new long[SIZE];
        final long[] txDone = new long[SIZE];
        /** Written by the one thread that reads the queue at a time (NAPI's rule); by many writers for tx, hence atomic. */
        long rx;
        final java.util.concurrent.atomic.AtomicLong tx = new java.util.concurrent.atomic.AtomicLong();

        private Trace(String file) {
            this.file = file;
        }

        static Trace of(String file) {
            return file == null || file.isEmpty() ? null : new Trace(file);
        }

        void read(byte who) {
            int i = (int) (rx++ & (SIZE - 1));
            rxAt[i] = System.nanoTime();
            rxWho[i] = who;
        }

        void wrote(long at) {
            int i = (int) (tx.getAndIncrement() & (SIZE - 1));
            txAt[i] = at;
            txDone[i] = System.nanoTime();
        }

        /** "rx TIME WHO" and "tx TIME DONE" lines, oldest first. */
        void write() {
            try (java.io.PrintWriter w = new java.io.PrintWriter(java.nio.file.Files.newBufferedWriter(java.nio.file.Path.of(file)))) {
                for (long k = Math.max(0, rx - SIZE); k < rx; k++) {
                    int i = (int) (k & (SIZE - 1));
                    w.println("rx " + rxAt[i] + " " + rxWho[i]);
                }
                long n = tx.get();
                for (long k = Math.max(0, n - SIZE); k < n; k++) {
                    int i = (int) (k & (SIZE - 1));
                    w.println("tx " + txAt[i] + " " + txDone[i]);
                }
            } catch (java.io.IOException e) {
                LOG.warn("tap: trace {}: {}", file, e.toString());
            }
        }
    }

    /** Why a TAP could not be opened, from TUNSETIFF's (or open's) errno, in words a user can act on. */
    static NetException openError(int errno, String name) {
        return switch (errno) {
            case 1, 13 -> new NetException(Errno.EPERM, "tap: opening /dev/net/tun needs root (CAP_NET_ADMIN)");
            case 2, 19 -> new NetException(Errno.ENODEV, "tap: /dev/net/tun is missing (modprobe tun)");
            case 16 -> new NetException(Errno.EBUSY, "tap: the Linux interface " + name + " is in use");
            case 22 -> new NetException(Errno.EINVAL, "tap: the Linux interface " + name
                    + " exists with other flags (multi_queue must match how it was made)");
            default -> new NetException(Errno.EINVAL, "tap: TUNSETIFF failed, errno " + errno);
        };
    }

    @Override
    public NetDevice create(NetNamespace ns, String name, List<String> args) throws NetException {
        boolean multiQueue = false;
        int queues = 1;
        for (int i = 0; i < args.size(); i++) {
            switch (args.get(i)) {
                case "multi_queue" -> multiQueue = true;
                case "numqueues" -> {
                    if (i + 1 >= args.size()) {
                        throw new NetException(Errno.EINVAL, "tap: \"numqueues\" needs a number");
                    }
                    try {
                        queues = Integer.parseInt(args.get(++i));
                    } catch (NumberFormatException e) {
                        queues = -1;
                    }
                    if (queues < 1 || queues > 256) {
                        throw new NetException(Errno.EINVAL, "tap: numqueues must be 1 to 256, not \"" + args.get(i) + "\"");
                    }
                    multiQueue = true;
                }
                default -> throw new NetException(Errno.EINVAL, "tap: unknown argument \"" + args.get(i) + "\"");
            }
        }
        if (multiQueue && !args.contains("numqueues")) {
            queues = core.cpus();
        }
        if (ns.device(name) != null) {
            throw new NetException(Errno.EEXIST);
        }
        int[] fds = new int[queues];
        for (int q = 0; q < queues; q++) {
            int fd = Tun.openTap(name, multiQueue, Tun.TUN_F_CSUM | Tun.TUN_F_TSO4);
            if (fd < 0) {
                for (int k = 0; k < q; k++) {
                    Tun.close(fds[k]);
                }
                throw openError(-fd, name);
            }
            fds[q] = fd;
        }
        // USO where Linux's tun takes it (the offloads are the device's: one queue asks for all)
        boolean uso = Tun.trySetOffload(fds[0], Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | Tun.TUN_F_USO) == 0;
        Tap tap = new Tap(fds, uso);
        try {
            tap.dev = ns.register(DeviceSetup.ether(name, "tap").withRings(1024, 4096, 1024, 4096).withQueues(queues, queues)
                    .withFeatures(features(uso), java.util.Set.of()), tap);
        } catch (NetException e) {
            for (int fd : fds) {
                Tun.close(fd);
            }
            throw e;
        }
        for (Queue q : tap.queues) {
            tap.dev.rxQueue(q.index).setDriverPoll(q);
        }
        if (queues > 1) {
            // tun_attach: a transmit queue per file as well (real_num_tx_queues), so the default qdisc is mq
            tap.dev.setTxQueues(queues);
        }
        taps.add(tap);
        polled = taps.toArray(new Tap[0]);
        for (Queue q : tap.queues) {
            q.attach();
        }
        wake();
        return tap.dev;
    }

    /**
     * The interrupt: waits in epoll_wait for an armed queue to become readable (the event is one-shot:
     * the interrupt masks itself) and schedules its NAPI instance, whose poll reads the frames
     * ({@link Queue#fill}); NAPI completing arms the queue again with epoll_ctl. Nothing is read here
     * but the doorbell, and nothing spins.
     */
    private void irqLoop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Tun.captureLayout());
            MemorySegment events = arena.allocate((long) Tun.EPOLL_EVENT_SIZE * MAX_POLLED, 8);
            MemorySegment drain = arena.allocate(8, 8);
            while (running) {
                for (Tap t : polled) {
                    t.negotiate(state);
                }
                int ready = Tun.epollWait(state, epfd, events, MAX_POLLED, 100);
                for (int i = 0; i < ready; i++) {
                    int fd = Tun.epollFd(events, i);
                    if (fd == wakeup) {
                        Tun.read(state, wakeup, drain, 8); // the doorbell: reset it (level-triggered)
                        continue;
                    }
                    Queue q = queueOf(fd);
                    if (q != null) {
                        q.interrupt(); // one-shot: the descriptor stays unwatched until NAPI re-arms it
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.error("tap: the interrupt thread stopped: {}", e.toString());
        }
    }

    /** The queue whose descriptor is {@code fd}, or null (its TAP went meanwhile). */
    private Queue queueOf(int fd) {
        for (Tap t : polled) {
            for (Queue q : t.queues) {
                if (q.fd == fd) {
                    return q;
                }
            }
        }
        return null;
    }

    @Deactivate
    void deactivate() {
        running = false;
        for (Tap t : taps) {
            NetDevice d = t.dev;
            if (d != null) {
                d.namespace().unregister(d);
            }
        }
        synchronized (cpuWaits) {
            for (CpuWait w : cpuWaits) {
                if (w != null) {
                    w.close();
                }
            }
        }
        wake();
        try {
            irq.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Tun.close(epfd);
        Tun.close(wakeup);
        if (TRACE != null) {
            TRACE.write();
        }
    }

    /** The idle wait of CPU {@code cpu}'s softirq thread, made on first use; null if its descriptors could not be made. */
    private CpuWait cpuWait(int cpu) {
        synchronized (cpuWaits) {
            int i = Math.floorMod(cpu, cpuWaits.length);
            if (cpuWaits[i] == null && running) {
                int ep = Tun.epollCreate();
                int ev = ep < 0 ? -1 : Tun.eventfd();
                if (ev < 0) {
                    if (ep >= 0) {
                        Tun.close(ep);
                    }
                    return null;
                }
                CpuWait w = new CpuWait(ep, ev);
                if (!w.watch(Tun.EPOLL_CTL_ADD, ev)) {
                    Tun.close(ep);
                    Tun.close(ev);
                    return null;
                }
                cpuWaits[i] = w;
            }
            return cpuWaits[i];
        }
    }

    /**
     * A CPU's idle wait: the softirq thread, with nothing to do, sleeps in {@code epoll_wait} on the
     * descriptors of the queues it polls (level-triggered: nobody else waits on them, and the thread only
     * comes here once their NAPI completed, so there is nothing to mask or unmask per cycle) and an
     * eventfd that {@link #wake} rings when work is raised from another thread.
     */
    private final class CpuWait implements RxQueue.IdleWait {
        private static final int MAX_EVENTS = 64;
        final int epfd;
        final int efd;
        /** The softirq that took this wait, through one of its queues: asked to give it back when the driver stops. */
        volatile RxQueue via;
        /** Set before the descriptors close: an idle call that sees it returns; one already inside is woken and waited for. */
        private volatile boolean closed;
        private volatile boolean inIdle;
        // the softirq thread's own: one thread idles in a CPU's wait
        private final MemorySegment state = Arena.ofAuto().allocate(Tun.captureLayout());
        private final MemorySegment events = Arena.ofAuto().allocate((long) Tun.EPOLL_EVENT_SIZE * MAX_EVENTS, 8);
        private final MemorySegment drain = Arena.ofAuto().allocate(8, 8);
        private final MemorySegment timespec = Arena.ofAuto().allocate(16, 8);

        CpuWait(int epfd, int efd) {
            this.epfd = epfd;
            this.efd = efd;
        }

        @Override
        public void idle(long nanos) {
            inIdle = true;
            try {
                if (closed) {
                    return;
                }
                // to the nanosecond where the sleep ends within a millisecond: a NAPI watchdog's gro_flush_timeout is microseconds
                int ready = nanos < 0 ? Tun.epollWait(state, epfd, events, MAX_EVENTS, -1)
                        : nanos < 1_000_000 ? Tun.epollWaitNanos(state, epfd, events, MAX_EVENTS, nanos, timespec)
                        : Tun.epollWait(state, epfd, events, MAX_EVENTS, (int) Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000));
                for (int i = 0; i < ready; i++) {
                    int fd = Tun.epollFd(events, i);
                    if (fd == efd) {
                        Tun.read(state, efd, drain, 8); // rung by wake: reset it
                        continue;
                    }
                    Queue q = queueOf(fd);
                    if (q != null) {
                        q.interrupt(); // napi_schedule on this very thread: polled as soon as this returns
                    }
                }
            } finally {
                inIdle = false;
            }
        }

        @Override
        public void wake() {
            Tun.write(SCRATCH.get().state, efd, wakeupValue, 8);
        }

        /** {@code fd} in or out of the set, level-triggered; false (nothing changed) if refused. */
        boolean watch(int op, int fd) {
            Scratch sc = SCRATCH.get();
            return Tun.epollCtl(sc.state, epfd, op, fd, Tun.EPOLLIN, sc.event) >= 0;
        }

        /** The softirq gives the wait back and leaves it; then its descriptors close. */
        void close() {
            closed = true;
            RxQueue q = via;
            if (q != null) {
                q.clearIdleWait(this);
            }
            wake();
            for (int i = 0; inIdle && i < 2000; i++) {
                LockSupport.parkNanos(1_000_000); // it was woken: a moment at most
            }
            Tun.close(epfd);
            Tun.close(efd);
        }
    }

    /** One queue of a TAP: its file descriptor, its receive queue (whose NAPI poll reads it), and the buffer native XDP reads into. */
    private final class Queue implements RxQueue.DriverPoll {
        final Tap tap;
        final int index;
        final int fd;
        /** Where native XDP reads frames: the headroom a program may grow into, the virtio-net header, the largest frame. */
        private final MemorySegment page = Arena.ofAuto().allocate(XDP_HEADROOM + 65536, 64);
        /** Its Linux side is gone (reads fail): no polling. */
        volatile boolean broken;
        /** The interrupt is enabled: the interrupt thread watches the descriptor (off from the interrupt until NAPI completes). */
        volatile boolean armed = true;
        /** The idle wait of the CPU that polls this queue, when that CPU's softirq thread waits for it itself; else null (the interrupt thread does). */
        volatile CpuWait waiter;
        /** A busy poller took the queue's descriptor out of its epoll set ({@link #disarm}); NAPI completing puts it back. */
        private volatile boolean busyMasked;
        /** The interrupt was taken since the last read ({@link #TRACE}'s who). */
        private volatile boolean irqTaken;
        /** The NAPI poll's own capture state for reads (one poll of a queue at a time, by NAPI's rule). */
        private final MemorySegment state = Arena.ofAuto().allocate(Tun.captureLayout());
        /** readv's two iovecs: a packet buffer's room, then the spare large buffer past as many bytes. */
        private final MemorySegment iov = Arena.ofAuto().allocate(32, 8);
        /**
         * A buffer from the core's large pool, held while Linux may send GSO frames: a frame larger than
         * a packet buffer runs on into it, so small frames cost no large buffer and large ones no big copy.
         * Taken out while a read uses it, so that the device going ({@link #release}) and the poll never
         * both free it.
         */
        private final java.util.concurrent.atomic.AtomicReference<SkBuff> spareSlot = new java.util.concurrent.atomic.AtomicReference<>();

        Queue(Tap tap, int index, int fd) {
            this.tap = tap;
            this.index = index;
            this.fd = fd;
        }

        /** Readable: mask, and let NAPI read ({@code napi_schedule} from the interrupt handler). */
        void interrupt() {
            NetDevice d = tap.dev;
            if (d == null || tap.closed) {
                return;
            }
            armed = false;
            irqTaken = true;
            d.rxQueue(index).schedule();
        }

        /**
         * Where the queue's interrupt is taken: in the idle wait of the CPU that polls it, or, when that
         * CPU runs no softirq thread of its own or waits in another driver's already, by the interrupt thread.
         */
        void attach() {
            RxQueue rq = tap.dev.rxQueue(index);
            CpuWait w = cpuWait(rq.cpu());
            if (w != null && rq.setIdleWait(w)) {
                w.via = rq;
                if (w.watch(Tun.EPOLL_CTL_ADD, fd)) {
                    waiter = w;
                    return;
                }
            }
            watch(Tun.EPOLL_CTL_ADD);
        }

        @Override
        public void rearm(RxQueue queue) {
            armed = true;
            if (broken) {
                return; // a queue that failed is not watched again: its descriptor would be ready for ever
            }
            CpuWait w = waiter;
            if (busyMasked) { // back into the set a busy poller took it out of: readable already, the wait sees it at once
                busyMasked = false;
                if (w != null) {
                    w.watch(Tun.EPOLL_CTL_ADD, fd);
                } else {
                    watch(Tun.EPOLL_CTL_ADD);
                }
            } else if (w == null) {
                watch(Tun.EPOLL_CTL_MOD); // in a CPU's idle wait it is watched level-triggered, never masked otherwise
            }
        }

        /**
         * A busy poller took the queue: frames it reads itself must wake nobody, so the descriptor leaves
         * the epoll set it is in until {@link #rearm}. Taken out, not modified to no events: epoll adds
         * EPOLLERR and EPOLLHUP to every mask, and a waiter whose item is still there is woken in the
         * kernel by each frame, finds nothing to report and sleeps again (2 wake-ups a request measured).
         */
        @Override
        public void disarm(RxQueue queue) {
            if (broken || busyMasked) {
                return;
            }
            armed = false;
            CpuWait w = waiter;
            Scratch sc = SCRATCH.get();
            busyMasked = Tun.epollCtl(sc.state, w != null ? w.epfd : epfd, Tun.EPOLL_CTL_DEL, fd, 0, sc.event) >= 0;
        }

        /** Watches the descriptor for one readable event (the interrupt enabled); a refusal is an rx error, counted. */
        void watch(int op) {
            Scratch sc = SCRATCH.get();
            if (Tun.epollCtl(sc.state, epfd, op, fd, Tun.EPOLLIN | Tun.EPOLLONESHOT, sc.event) < 0) {
                NetDevice d = tap.dev;
                if (d != null) {
                    d.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
                }
            }
        }

        /** In the NAPI poll: up to {@code budget} frames read without blocking, straight into packet buffers (the NIC's DMA). */
        @Override
        public int fill(RxQueue queue, int budget) {
            NetDevice d = tap.dev;
            if (d == null || tap.closed || broken) {
                return 0;
            }
            if (d.xdpNative()) {
                return fillNative(d, queue, budget);
            }
            int n = 0;
            while (n < budget) {
                SkBuff skb = core.pool().alloc(core.pool().bufferSize() - org.modnet.api.skb.SkBuffPool.NET_SKB_PAD);
                if (skb == null) {
                    d.stats().addShared(DeviceStats.Field.RX_MISSED_ERRORS, 1); // no buffer: the frame waits in the kernel
                    return n;
                }
                int room = skb.tailroom();
                SkBuff spare = spareSlot.getAndSet(null);
                if (spare == null && (tap.offloads & Tun.TUN_F_TSO4) != 0) {
                    spare = core.allocSkb(LARGE_FRAME, org.modnet.api.skb.SkBuffPool.NET_SKB_PAD); // null: the pool refused, counted there
                }
                long r;
                if (spare != null) {
                    iov.set(ValueLayout.JAVA_LONG, 0, skb.memory().address() + skb.tail());
                    iov.set(ValueLayout.JAVA_LONG, 8, room);
                    iov.set(ValueLayout.JAVA_LONG, 16, spare.memory().address() + spare.tail() + room);
                    iov.set(ValueLayout.JAVA_LONG, 24, spare.tailroom() - room);
                    r = Tun.readv(state, fd, iov, 2);
                } else {
                    r = Tun.readAt(state, fd, skb.memory(), skb.tail(), room);
                }
                if (r > room) {
                    // a GSO frame: its first bytes move in front of the rest, in the large buffer
                    MemorySegment.copy(skb.memory(), skb.tail(), spare.memory(), spare.tail(), room);
                    skb.free();
                    skb = spare;
                } else if (spare != null) {
                    keep(spare);
                }
                if (r <= 0) {
                    skb.free();
                    if (r != -Tun.EAGAIN && r != 0) {
                        failed(d, r);
                    }
                    return n;
                }
                n++;
                if (TRACE != null) {
                    traceRead();
                }
                skb.put((int) r);
                if (!tap.vnetHeader(skb, d)) {
                    skb.free();
                    continue;
                }
                queue.receive(skb);
            }
            return n;
        }

        /**
         * Native XDP, as tun runs a program before it builds an skb: each frame is read into the queue's
         * own page and the program runs there; only what it passes is copied into a packet buffer.
         */
        private int fillNative(NetDevice d, RxQueue queue, int budget) {
            int at = XDP_HEADROOM - Tun.VNET_HDR_LEN; // the header lands in the headroom, the frame at XDP_HEADROOM
            int n = 0;
            while (n < budget) {
                long r = Tun.readAt(state, fd, page, at, page.byteSize() - at);
                if (r <= 0) {
                    if (r != -Tun.EAGAIN && r != 0) {
                        failed(d, r);
                    }
                    return n;
                }
                n++;
                if (TRACE != null) {
                    traceRead();
                }
                if (tap.vnetHeader(page, at, (int) r, d) < 0) {
                    continue;
                }
                queue.receiveFrame(page, XDP_HEADROOM, (int) r - Tun.VNET_HDR_LEN); // dropped frames are counted there
            }
            return n;
        }

        private void traceRead() {
            boolean softirq = Thread.currentThread().getName().startsWith("ksoftirqd");
            TRACE.read(!softirq ? Trace.BUSY_POLL : irqTaken ? Trace.SOFTIRQ_IRQ : Trace.SOFTIRQ_OTHER);
            irqTaken = false;
        }

        /** The spare large buffer back in its slot; freed if the device went meanwhile. */
        private void keep(SkBuff spare) {
            spareSlot.set(spare);
            if (tap.closed) {
                release();
            }
        }

        /** The spare large buffer back to its pool (the device goes); whoever takes it from the slot frees it. */
        void release() {
            SkBuff s = spareSlot.getAndSet(null);
            if (s != null) {
                s.free();
            }
        }

        private void failed(NetDevice d, long r) {
            d.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
            broken = true; // a TAP whose reads fail (its interface deleted) would make poll(2) return at once, for ever
            CpuWait w = waiter;
            if (w != null) {
                w.watch(Tun.EPOLL_CTL_DEL, fd); // likewise the idle wait, level-triggered
            }
            if (!tap.reported) {
                tap.reported = true; // said once
                LOG.warn("tap {}: read failed with errno {}; the device stays, without carrier, counting what it cannot send", d.name(), -r);
            }
        }
    }

    /**
     * One TAP: its queues (one file descriptor each; several with multi_queue, each its own receive
     * queue and NAPI instance) and its modnet device. Every frame crosses with a virtio-net header, as
     * virtio-net's receive and transmit read and write it: Linux may hand over partial checksums
     * (NEEDS_CSUM), which stay {@code CHECKSUM_PARTIAL} (they never left the machine, so TCP and UDP
     * take them as verified, as Linux does), vouch for one (DATA_VALID), and, with {@code TUN_F_TSO4}
     * negotiated, hand over a TCPv4 GSO frame of up to 64 KB, which goes up as one GSO skb; modnet
     * hands Linux its partial checksums and its TCP's GSO skbs whole the same way.
     */
    private final class Tap implements NetDeviceOps {
        final Queue[] queues;
        volatile NetDevice dev;
        volatile boolean closed;
        volatile boolean reported;
        private volatile boolean gsoReported;
        /** Partial checksums Linux handed over that were completed here for native XDP ({@code ethtool -S}: rx_csum_completed). */
        private final java.util.concurrent.atomic.LongAdder csumCompleted = new java.util.concurrent.atomic.LongAdder();
        /** {@code TUN_F_*} Linux was last allowed ({@code TUNSETOFFLOAD}); changed by the interrupt thread only. */
        volatile int offloads;
        /** Whether Linux's tun took {@code TUN_F_USO4|TUN_F_USO6} when the TAP was made (Linux 6.2 and later). */
        final boolean uso;
        /** virtio-net's device statistics by their names in {@code ethtool -S}: rx_needs_csum and the rest. */
        private final java.util.concurrent.atomic.LongAdder rxNeedsCsum = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder rxCsumValid = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder rxGsoPackets = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder rxGsoBytes = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder txNeedsCsum = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder txGsoPackets = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder txGsoBytes = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder txGsoSegments = new java.util.concurrent.atomic.LongAdder();

        Tap(int[] fds, boolean uso) {
            this.uso = uso;
            this.offloads = Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | (uso ? Tun.TUN_F_USO : 0);
            queues = new Queue[fds.length];
            for (int q = 0; q < fds.length; q++) {
                queues[q] = new Queue(this, q, fds[q]);
            }
        }

        /**
         * {@code TUNSETOFFLOAD} again when what Linux may send changed: GSO frames while
         * {@code generic-receive-offload} is on and no program runs natively (XDP sees single frames,
         * as virtio-net turns its guest offloads off for XDP). From the interrupt thread; a volatile read
         * when nothing changed.
         */
        void negotiate(MemorySegment state) {
            NetDevice d = dev;
            if (d == null || closed) {
                return;
            }
            boolean gro = (d.netdevFeatures() & org.modnet.api.net.NetdevFeatures.NETIF_F_GRO) != 0;
            int want = Tun.TUN_F_CSUM | (gro && !d.xdpNative() ? Tun.TUN_F_TSO4 | (uso ? Tun.TUN_F_USO : 0) : 0);
            if (want != offloads) {
                int r = Tun.setOffload(state, queues[0].fd, want);
                if (r < 0) {
                    LOG.warn("tap {}: TUNSETOFFLOAD failed with errno {}", d.name(), -r);
                }
                offloads = want; // not asked again either way: a failure is said once
            }
        }

        /**
         * The header of a frame read into an skb ({@code virtio_net_hdr_to_skb}): its checksum state and
         * GSO fields onto the skb, the header removed; false (counted) if the frame cannot be taken.
         */
        boolean vnetHeader(SkBuff skb, NetDevice d) {
            MemorySegment buf = skb.memory();
            int at = skb.data();
            int frame = skb.len() - Tun.VNET_HDR_LEN;
            if (frame < org.modnet.api.net.Eth.ETH_HLEN) {
                countBad(d);
                return false;
            }
            int flags = buf.get(ValueLayout.JAVA_BYTE, at) & 0xff;
            int gso = buf.get(ValueLayout.JAVA_BYTE, at + 1) & 0xff & ~Tun.VIRTIO_NET_HDR_GSO_ECN;
            int gsoSize = Short.toUnsignedInt(buf.get(LE16, at + 4));
            int start = Short.toUnsignedInt(buf.get(LE16, at + 6));
            int offset = Short.toUnsignedInt(buf.get(LE16, at + 8));
            boolean partial = (flags & Tun.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
            if (partial && (start >= frame || start + offset + 2 > frame)) {
                countBad(d);
                return false;
            }
            int segs = 0;
            if (gso != Tun.VIRTIO_NET_HDR_GSO_NONE) {
                segs = gsoSegs(buf, at + Tun.VNET_HDR_LEN, frame, gso, gsoSize, partial, start, d);
                if (segs < 0) {
                    return false;
                }
            }
            skb.pull(Tun.VNET_HDR_LEN);
            if (partial) {
                skb.csumPartial(skb.data() + start, offset); // skb_partial_csum_set
                rxNeedsCsum.increment();
            } else if ((flags & Tun.VIRTIO_NET_HDR_F_DATA_VALID) != 0) {
                skb.ipSummed(Checksum.UNNECESSARY); // vouched for by Linux
                rxCsumValid.increment();
            }
            if (segs > 0) {
                skb.gso(gsoSize, segs, gso == Tun.VIRTIO_NET_HDR_GSO_UDP_L4 ? org.modnet.api.net.NetdevFeatures.SKB_GSO_UDP_L4
                        : org.modnet.api.net.NetdevFeatures.SKB_GSO_TCPV4);
                rxGsoPackets.increment();
                rxGsoBytes.add(frame);
            }
            return true;
        }

        /**
         * A GSO frame's segment count, from its TCP or UDP header (at {@code csum_start}, as Linux's tun
         * puts it) and {@code gso_size}; -1 (counted) for one modnet cannot take: a type not negotiated
         * (UDP without USO), no partial checksum, a frame cut short (read without a large buffer) or
         * headers that do not add up (USO over IPv6, which modnet does not speak).
         */
        private int gsoSegs(MemorySegment buf, int base, int frame, int gso, int gsoSize, boolean partial, int start,
                NetDevice d) {
            boolean udp = gso == Tun.VIRTIO_NET_HDR_GSO_UDP_L4 && (offloads & Tun.TUN_F_USO4) != 0;
            if (gso != Tun.VIRTIO_NET_HDR_GSO_TCPV4 && !udp) {
                gsoOk(gso, d); // counted, said once
                return -1;
            }
            int eth = org.modnet.api.net.Eth.ETH_HLEN;
            if (!partial || gsoSize == 0 || start + 20 > frame
                    || Short.toUnsignedInt(buf.get(BE16, base + 12)) != org.modnet.api.net.Eth.ETH_P_IP
                    || eth + Short.toUnsignedInt(buf.get(BE16, base + eth + 2)) != frame) {
                countBad(d);
                return -1;
            }
            int doff = udp ? 8 : ((buf.get(ValueLayout.JAVA_BYTE, base + start + 12) & 0xff) >>> 4) * 4;
            int payload = frame - start - doff;
            if (!udp && doff < 20 || payload <= 0) {
                countBad(d);
                return -1;
            }
            return (payload + gsoSize - 1) / gsoSize;
        }

        /**
         * The virtio-net header at {@code at} of {@code buf}, {@code len} bytes with the frame after it:
         * a partial checksum completed in place. Its flags, or -1 (counted) if the frame cannot be taken.
         */
        int vnetHeader(MemorySegment buf, int at, int len, NetDevice d) {
            if (len < Tun.VNET_HDR_LEN) {
                countBad(d);
                return -1;
            }
            int flags = buf.get(ValueLayout.JAVA_BYTE, at) & 0xff;
            if (!gsoOk(buf.get(ValueLayout.JAVA_BYTE, at + 1) & 0xff, d)) {
                return -1;
            }
            if ((flags & Tun.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0) {
                int start = Short.toUnsignedInt(buf.get(LE16, at + 6));
                int field = start + Short.toUnsignedInt(buf.get(LE16, at + 8));
                int frame = len - Tun.VNET_HDR_LEN;
                if (start >= frame || field + 2 > frame) {
                    countBad(d);
                    return -1;
                }
                // the field holds the pseudo-header's sum: the sum from csum_start to the end completes it
                int base = at + Tun.VNET_HDR_LEN;
                int c = ~InetChecksum.sum(buf, base + start, frame - start, 0) & 0xffff;
                buf.set(BE16, base + field, (short) (c == 0 ? 0xffff : c));
                csumCompleted.increment();
            }
            return flags;
        }

        /**
         * A GSO frame on a path that takes none (native XDP), or of a type not negotiated (UDP, TCPv6):
         * dropped and counted.
         */
        private boolean gsoOk(int gso, NetDevice d) {
            if ((gso & 0x7f) == Tun.VIRTIO_NET_HDR_GSO_NONE) {
                return true;
            }
            countBad(d);
            if (!gsoReported) {
                gsoReported = true;
                LOG.warn("tap {}: Linux sent a segmentation-offload frame (gso_type {}) where none is taken; dropped", d.name(), gso);
            }
            return false;
        }

        private void countBad(NetDevice d) {
            d.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
            d.stats().addShared(DeviceStats.Field.RX_FRAME_ERRORS, 1);
        }

        @Override
        public boolean nativeXdp(NetDevice self) {
            return true;
        }

        @Override
        public boolean carrier(NetDevice self) {
            for (Queue q : queues) {
                if (q.broken) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice self) {
            DeviceStats stats = self.stats();
            if (closed || !carrier(self) || !skb.linearize()) {
                stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                skb.free();
                return TxResult.OK;
            }
            int len = skb.len();
            // tun_net_xmit: the file of the transmit queue the core picked (skb->queue_mapping)
            Queue q = queues[queues.length == 1 ? 0 : Math.floorMod(skb.queueMapping(), queues.length)];
            Scratch scratch = SCRATCH.get();
            // the virtio-net header first (virtio_net_hdr_from_skb): a partial checksum for Linux to
            // complete, a TCPv4 GSO skb whole (validate_xmit_skb cut any other kind before it came here)
            int flags = 0;
            int start = 0;
            int offset = 0;
            if (skb.ipSummed() == Checksum.PARTIAL) {
                flags = Tun.VIRTIO_NET_HDR_F_NEEDS_CSUM;
                start = skb.csumStart() - skb.data();
                offset = skb.csumOffset();
            }
            int gsoType = Tun.VIRTIO_NET_HDR_GSO_NONE;
            int hdrLen = 0;
            if (skb.isGso()) {
                boolean udp = skb.gsoType() == org.modnet.api.net.NetdevFeatures.SKB_GSO_UDP_L4 && uso;
                if (flags == 0 || skb.gsoType() != org.modnet.api.net.NetdevFeatures.SKB_GSO_TCPV4 && !udp) {
                    stats.addShared(DeviceStats.Field.TX_DROPPED, 1); // Linux's tun refuses GSO without a partial checksum
                    skb.free();
                    return TxResult.OK;
                }
                if (udp) { // USO: Linux cuts it into datagrams (__udp_gso_segment) or its UDP takes it whole
                    gsoType = Tun.VIRTIO_NET_HDR_GSO_UDP_L4;
                    hdrLen = start + 8; // up to the UDP payload
                } else {
                    gsoType = Tun.VIRTIO_NET_HDR_GSO_TCPV4;
                    hdrLen = start + ((skb.getU8(skb.csumStart() + 12) >>> 4) * 4); // up to the TCP payload
                }
            }
            MemorySegment buf;
            long at;
            if (skb.headroom() >= Tun.VNET_HDR_LEN && skb.isWritable()) {
                at = skb.push(Tun.VNET_HDR_LEN);
                buf = skb.memory();
            } else {
                at = 0;
                buf = scratch.frame;
                MemorySegment.copy(skb.memory(), skb.data(), buf, Tun.VNET_HDR_LEN, len);
            }
            buf.set(ValueLayout.JAVA_BYTE, at, (byte) flags);
            buf.set(ValueLayout.JAVA_BYTE, at + 1, (byte) gsoType);
            buf.set(LE16, at + 2, (short) hdrLen);
            buf.set(LE16, at + 4, (short) (gsoType == Tun.VIRTIO_NET_HDR_GSO_NONE ? 0 : skb.gsoSize()));
            buf.set(LE16, at + 6, (short) start);
            buf.set(LE16, at + 8, (short) offset);
            buf.set(LE16, at + 10, (short) 0);
            long began = TRACE != null ? System.nanoTime() : 0;
            long w = Tun.writeAt(scratch.state, q.fd, buf, at, len + Tun.VNET_HDR_LEN);
            if (TRACE != null) {
                TRACE.wrote(began);
            }
            if (w == len + Tun.VNET_HDR_LEN) {
                stats.addShared(DeviceStats.Field.TX_PACKETS, 1);
                stats.addShared(DeviceStats.Field.TX_BYTES, len);
                if (flags != 0) {
                    txNeedsCsum.increment();
                }
                if (gsoType != Tun.VIRTIO_NET_HDR_GSO_NONE) {
                    txGsoPackets.increment();
                    txGsoBytes.add(len);
                    txGsoSegments.add(skb.gsoSegs());
                }
            } else {
                // EAGAIN (the kernel's queue is full) or the interface went away: dropped, counted
                stats.addShared(w == -Tun.EAGAIN ? DeviceStats.Field.TX_FIFO_ERRORS : DeviceStats.Field.TX_ERRORS, 1);
                stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
            }
            skb.free();
            return TxResult.OK;
        }

        @Override
        public boolean deletable(NetDevice self) {
            return true;
        }

        @Override
        public void uninit(NetDevice self) {
            taps.remove(this);
            polled = taps.toArray(new Tap[0]);
            if (!closed) {
                closed = true;
                for (Queue q : queues) {
                    Tun.close(q.fd);
                }
                for (Queue q : queues) {
                    q.release();
                }
            }
        }

        @Override
        public Map<String, String> driverInfo(NetDevice self) {
            return Map.of("driver", "tun", "version", "1.6", "bus-info", "tap");
        }

        @Override
        public Map<String, Long> ethtoolStats(NetDevice self) {
            Map<String, Long> m = new java.util.LinkedHashMap<>();
            m.put("rx_csum_completed", csumCompleted.sum());
            m.put("rx_needs_csum", rxNeedsCsum.sum());
            m.put("rx_csum_valid", rxCsumValid.sum());
            m.put("rx_gso_packets", rxGsoPackets.sum());
            m.put("rx_gso_bytes", rxGsoBytes.sum());
            m.put("tx_needs_csum", txNeedsCsum.sum());
            m.put("tx_gso_packets", txGsoPackets.sum());
            m.put("tx_gso_bytes", txGsoBytes.sum());
            m.put("tx_gso_segments", txGsoSegments.sum());
            m.put("queues", (long) queues.length);
            return m;
        }
    }

    /** The devices this driver made and that are still registered: lsmod's users, rmmod's refusal. */
    @Override
    public Map<String, Integer> users() {
        return Map.of(DEVICES, taps.size());
    }
}

package org.modnet.drivers.afpacket;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.module.ModuleUsage;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
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
import org.modnet.api.skb.SkBuffPool;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ip link add NAME [numrxqueues N] type afpacket dev LINUXDEV [netns LINUXNS] [promisc on|off] [numrxqueues N]
 * [fanout hash|lb|cpu|rnd|qm] [txring on|off]}: a modnet device whose wire is an existing Linux
 * interface, reached through packet sockets (packet(7)) — {@code socket(AF_PACKET, SOCK_RAW)} bound to
 * the interface's index for every protocol (ETH_P_ALL), in the Linux network namespace modnet runs in
 * or the named one ({@code ip netns}'s /var/run/netns/LINUXNS, entered with setns(2) by the thread that
 * opens the sockets; they stay there). PACKET_IGNORE_OUTGOING keeps modnet from hearing its own
 * frames; PACKET_MR_PROMISC membership (unless {@code promisc off}) lets it hear frames for its own MAC
 * address, which is not the Linux interface's. The device takes the Linux interface's MTU.
 *
 * <p>Receive is a TPACKET_V3 ring mmap'ed from each receive socket ({@link RxRing}), one socket per
 * queue ({@code numrxqueues N}, a combined channel each): with several, the sockets are one
 * PACKET_FANOUT group (hash by default, as Linux's RSS spreads flows), so the kernel spreads the frames
 * over the queues and each queue's ring is read by its own NAPI instance, on the CPU the core gives that
 * queue. One "interrupt" thread sleeps in poll(2) until the kernel retires a block, masks the socket and
 * schedules the queue's NAPI poll, which copies the block's frames into packet buffers. A VLAN tag the
 * kernel took off (TP_STATUS_VLAN_VALID) is put back in the frame; a checksum Linux left partial
 * (TP_STATUS_CSUMNOTREADY: a frame made on this host whose checksum a NIC would have finished) is
 * completed, as the TAP does with NEEDS_CSUM. The kernel's ring drops (PACKET_STATISTICS tp_drops) are
 * rx_missed_errors, as a NIC's ring overruns are.
 *
 * <p>Transmit is a TX ring ({@link TxRing}) on a socket of its own (bound with protocol 0, so it hears
 * nothing): frames are copied into its slots and the kernel kicked once per batch (see {@link Port});
 * {@code txring off} sends each frame with a non-blocking send(2) instead.
 */
@Component(service = { LinkFactory.class, ModuleUsage.class }, immediate = true, property = LinkFactory.KIND + "=afpacket")
public final class AfPacketDriver implements LinkFactory, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger(AfPacketDriver.class);
    /** The receive ring: 64 blocks of 64 KiB (4 MiB); a block holds one frame of up to about 64 KiB. */
    static final int BLOCK_SIZE = 1 << 16;
    static final int BLOCK_NR = 64;
    static final int FRAME_SIZE = 2048;
    /** The transmit ring: 8 blocks of 64 KiB, 256 slots of 2 KiB (a slot holds a frame of up to 2000 bytes). */
    static final int TX_BLOCK_SIZE = 1 << 16;
    static final int TX_BLOCK_NR = 8;
    static final int TX_FRAMES = TX_BLOCK_SIZE / FRAME_SIZE * TX_BLOCK_NR;
    /** Frames a NAPI poll's batch holds back at most before they are kicked out (a quarter of the ring). */
    static final int TX_BATCH = 64;
    /** Receive queues ({@code numrxqueues}) at most: a packet socket, ring and NAPI instance each. */
    static final int MAX_QUEUES = 16;
    /** How long the kernel keeps a block that is not full before it hands it over, in ms (the receive latency when quiet). */
    static final int RETIRE_BLOCK_MS = 1;
    /** Sockets one poll(2) watches at most. */
    private static final int MAX_POLLED = 1024;
    /** How often the interrupt thread collects the kernel's drop counters, at most. */
    private static final long STATS_NANOS = 100_000_000L;
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final NetCore core;
    private final List<Port> ports = new CopyOnWriteArrayList<>();
    /** The queues of {@link #ports} as an array for the interrupt thread, which walks it on every wake-up without an iterator. */
    private volatile Queue[] polled = new Queue[0];
    private volatile boolean running = true;
    private final Thread irq;
    /** Wakes the interrupt thread out of poll(2) when a socket is armed again. */
    private final int wakeup;
    private final MemorySegment wakeupValue = Arena.ofAuto().allocate(8, 8);

    /** Per thread that transmits or rings the doorbell: its errno capture state. */
    private static final ThreadLocal<MemorySegment> STATE = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Packet.captureLayout()));

    @Activate
    public AfPacketDriver(@Reference NetCore core) {
        this.core = core;
        this.wakeup = Packet.eventfd();
        if (wakeup < 0) {
            throw new IllegalStateException("afpacket: eventfd failed, errno " + -wakeup);
        }
        wakeupValue.set(ValueLayout.JAVA_LONG, 0, 1);
        this.irq = Thread.ofPlatform().name("afpacket-irq").daemon().start(this::irqLoop);
    }

    private void wake() {
        Packet.write(STATE.get(), wakeup, wakeupValue, 8);
    }

    /** What {@code ip link add ... type afpacket} was asked for. */
    record Args(String dev, String netns, boolean promisc, int queues, int fanout, boolean txRing) {
        Args(String dev, String netns, boolean promisc) {
            this(dev, netns, promisc, 1, Packet.PACKET_FANOUT_HASH, true);
        }

        static Args parse(List<String> args) throws NetException {
            return parse(args, 0);
        }

        /**
         * The words after {@code type afpacket}, with {@code linkQueues} the {@code numrxqueues} given
         * before {@code type} (0 when not): the queue count unless the driver's own {@code numrxqueues}
         * names one, and then the two must agree.
         */
        static Args parse(List<String> args, int linkQueues) throws NetException {
            String dev = null;
            String netns = null;
            boolean promisc = true;
            int queues = 0; // not given here
            if (linkQueues != 0 && (linkQueues < 1 || linkQueues > MAX_QUEUES)) {
                throw new NetException(Errno.EINVAL, "Invalid \"numrxqueues\" value \"" + linkQueues + "\": afpacket takes 1 to "
                        + MAX_QUEUES);
            }
            int fanout = Packet.PACKET_FANOUT_HASH;
            boolean txRing = true;
            for (int i = 0; i < args.size(); i++) {
                String w = args.get(i);
                switch (w) {
                    case "dev", "netns", "promisc", "numrxqueues", "fanout", "txring" -> {
                        if (i + 1 >= args.size()) {
                            throw new NetException(Errno.EINVAL, "afpacket: \"" + w + "\" needs an argument");
                        }
                        String v = args.get(++i);
                        switch (w) {
                            case "dev" -> dev = v;
                            case "netns" -> {
                                if (v.isEmpty() || v.contains("/") || v.equals(".") || v.equals("..")) {
                                    throw new NetException(Errno.EINVAL, "afpacket: invalid netns name \"" + v + "\"");
                                }
                                netns = v;
                            }
                            case "numrxqueues" -> {
                                queues = -1;
                                try {
                                    queues = Integer.parseInt(v);
                                } catch (NumberFormatException e) {
                                    // refused below
                                }
                                if (queues < 1 || queues > MAX_QUEUES) {
                                    throw new NetException(Errno.EINVAL, "Invalid \"numrxqueues\" value \"" + v + "\": afpacket takes 1 to "
                                            + MAX_QUEUES);
                                }
                            }
                            case "fanout" -> fanout = switch (v) {
                                case "hash" -> Packet.PACKET_FANOUT_HASH;
                                case "lb" -> Packet.PACKET_FANOUT_LB;
                                case "cpu" -> Packet.PACKET_FANOUT_CPU;
                                case "rnd" -> Packet.PACKET_FANOUT_RND;
                                case "qm" -> Packet.PACKET_FANOUT_QM;
                                default -> throw new NetException(Errno.EINVAL,
                                        "afpacket: argument of \"fanout\" must be hash, lb, cpu, rnd or qm, not \"" + v + "\"");
                            };
                            default -> { // promisc, txring
                                if (!v.equals("on") && !v.equals("off")) {
                                    throw new NetException(Errno.EINVAL, "afpacket: argument of \"" + w + "\" must be \"on\" or \"off\", not \"" + v + "\"");
                                }
                                if (w.equals("promisc")) {
                                    promisc = v.equals("on");
                                } else {
                                    txRing = v.equals("on");
                                }
                            }
                        }
                    }
                    default -> throw new NetException(Errno.EINVAL, "afpacket: unknown argument \"" + w + "\"");
                }
            }
            if (queues == 0) {
                queues = linkQueues != 0 ? linkQueues : 1;
            } else if (linkQueues != 0 && linkQueues != queues) {
                throw new NetException(Errno.EINVAL, "afpacket: numrxqueues " + linkQueues + " before \"type\" and " + queues
                        + " after it differ");
            }
            if (dev == null) {
                throw new NetException(Errno.EINVAL, "afpacket: \"dev LINUXDEV\" is required");
            }
            if (dev.isEmpty() || dev.length() > 15 || dev.contains("/") || dev.chars().anyMatch(Character::isWhitespace)) {
                throw new NetException(Errno.ENODEV, "Cannot find device \"" + dev + "\"");
            }
            return new Args(dev, netns, promisc, queues, fanout, txRing);
        }
    }

    /** A receive socket with its mapped ring. */
    record RxSocket(int fd, MemorySegment ring) {
    }

    /**
     * The packet sockets of one device, bound to a Linux interface: one receive socket per queue (joined
     * in one fanout group when there are several), and the transmit socket with its ring (-1 and null
     * with {@code txring off}: frames are then sent from the first receive socket).
     */
    record Opened(RxSocket[] rx, int txFd, MemorySegment txRing, int mtu, int ifindex, int fanoutId) {
        void close() {
            for (RxSocket s : rx) {
                if (s != null) {
                    Packet.munmap(s.ring);
                    Packet.close(s.fd);
                }
            }
            if (txRing != null) {
                Packet.munmap(txRing);
            }
            if (txFd >= 0) {
                Packet.close(txFd);
            }
        }
    }

    @Override
    public NetDevice create(NetNamespace ns, String name, List<String> words) throws NetException {
        return create(ns, name, words, 0, 0);
    }

    /**
     * {@code rtnl_create_link}'s queue counts: {@code ip link add NAME numrxqueues N type afpacket dev X}
     * makes N receive sockets as {@code ... type afpacket dev X numrxqueues N} does (the sockets are
     * made with the device; the transmit queues are the core's, set on the device made).
     */
    @Override
    public NetDevice create(NetNamespace ns, String name, List<String> words, int numTxQueues, int numRxQueues) throws NetException {
        Args args = Args.parse(words, numRxQueues);
        if (ns.device(name) != null) {
            throw new NetException(Errno.EEXIST);
        }
        Opened o = args.netns == null ? open(args) : openIn(args);
        Port port = new Port(o, args);
        DeviceSetup e = DeviceSetup.ether(name, "afpacket");
        // the Linux interface's MTU, and no more: a larger frame would not leave it; a channel per receive socket
        DeviceSetup setup = new DeviceSetup(e.name(), e.kind(), e.type(), e.flags(), o.mtu, e.minMtu(), Math.max(e.minMtu(), o.mtu),
                e.address(), e.broadcast(), e.txQueueLen(), e.qdisc(), args.queues, args.queues, e.rxRing(), e.rxRingMax(), e.txRing(),
                e.txRingMax(), e.features(), e.fixedFeatures());
        try {
            port.dev = ns.register(setup, port);
        } catch (NetException ex) {
            port.release();
            throw ex;
        }
        for (Queue q : port.queues) {
            q.rq = port.dev.rxQueue(q.index);
            q.rq.setDriverPoll(q);
        }
        synchronized (ports) { // the snapshot after the change, whichever of two changes ends last
            ports.add(port);
            polled = polledQueues();
        }
        wake();
        return port.dev;
    }

    /** Every port's queues, for the interrupt thread. Under {@code ports}' monitor. */
    private Queue[] polledQueues() {
        List<Queue> all = new java.util.ArrayList<>();
        for (Port p : ports) {
            all.addAll(List.of(p.queues));
        }
        return all.toArray(new Queue[0]);
    }

    /** Opens the sockets from a thread that first enters the named Linux network namespace (setns(2) moves only that thread). */
    private static Opened openIn(Args args) throws NetException {
        Object[] out = new Object[1];
        Thread t = Thread.ofPlatform().name("afpacket-setns").start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(Packet.captureLayout());
                int nsfd = Packet.open(state, arena, "/var/run/netns/" + args.netns);
                if (nsfd < 0) {
                    out[0] = new NetException(Errno.EINVAL, "afpacket: Cannot open network namespace \"" + args.netns + "\": "
                            + text(-nsfd));
                    return;
                }
                int r = Packet.setns(state, nsfd);
                Packet.close(nsfd);
                if (r < 0) {
                    out[0] = new NetException(Errno.EPERM, "afpacket: setting the network namespace \"" + args.netns + "\" failed: "
                            + text(-r));
                    return;
                }
                out[0] = open(args);
            } catch (NetException e) {
                out[0] = e;
            } catch (RuntimeException e) {
                out[0] = new NetException(Errno.EINVAL, "afpacket: " + e);
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetException(Errno.EINTR);
        }
        if (out[0] instanceof NetException e) {
            throw e;
        }
        return (Opened) out[0];
    }

    /**
     * Every socket of the device, in the calling thread's network namespace: the receive sockets (the
     * first also checks the interface and joins promiscuously; with several, each joins the fanout group
     * the first made), then the transmit socket. Whatever was opened is closed again on failure.
     */
    static Opened open(Args args) throws NetException {
        RxSocket[] rx = new RxSocket[args.queues];
        int txFd = -1;
        MemorySegment txRing = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Packet.captureLayout());
            int[] info = new int[3]; // ifindex, mtu, fanout id
            for (int q = 0; q < rx.length; q++) {
                rx[q] = openRx(state, arena, args, q, info);
            }
            if (args.txRing) {
                txFd = Packet.socket(state);
                check(txFd, "socket(AF_PACKET)");
                check(Packet.setsockopt(state, txFd, Packet.SOL_PACKET, Packet.PACKET_VERSION, arena.allocateFrom(ValueLayout.JAVA_INT,
                        Packet.TPACKET_V3)), "PACKET_VERSION");
                // a frame the kernel refuses is skipped (TP_STATUS_AVAILABLE), not left to stop the ring
                check(Packet.setsockopt(state, txFd, Packet.SOL_PACKET, Packet.PACKET_LOSS, arena.allocateFrom(ValueLayout.JAVA_INT, 1)),
                        "PACKET_LOSS");
                MemorySegment req = arena.allocate(28, 4); // struct tpacket_req3; no retire timer, private area or features for transmit
                req.set(ValueLayout.JAVA_INT, 0, TX_BLOCK_SIZE);
                req.set(ValueLayout.JAVA_INT, 4, TX_BLOCK_NR);
                req.set(ValueLayout.JAVA_INT, 8, FRAME_SIZE);
                req.set(ValueLayout.JAVA_INT, 12, TX_FRAMES);
                check(Packet.setsockopt(state, txFd, Packet.SOL_PACKET, Packet.PACKET_TX_RING, req), "PACKET_TX_RING");
                txRing = Packet.mmap(state, txFd, (long) TX_BLOCK_SIZE * TX_BLOCK_NR);
                if (txRing == null) {
                    check(-Packet.errno(state), "mmap");
                }
                // protocol 0: registers no packet type, so it hears nothing, and sends on the interface
                check(Packet.bind(state, arena, txFd, info[0], 0), "bind");
            }
            return new Opened(rx, txFd, txRing, info[1], info[0], info[2]);
        } catch (NetException | RuntimeException e) {
            new Opened(rx, txFd, txRing, 0, 0, 0).close();
            throw e;
        }
    }

    /**
     * Receive socket {@code q}: made protocol 0 so it hears nothing before its ring exists, the ring set
     * up and mapped, then bound for every protocol; the first also finds the interface (into
     * {@code info}: ifindex, MTU) and joins promiscuously. With several queues each joins the fanout
     * group (the first asks the kernel for a free group id, into {@code info[2]}); the group, not the
     * socket, ignores outgoing frames then, so it is asked to (PACKET_FANOUT_FLAG_IGNORE_OUTGOING).
     */
    private static RxSocket openRx(MemorySegment state, Arena arena, Args args, int q, int[] info) throws NetException {
        int fd = Packet.socket(state);
        if (fd < 0) {
            throw fd == -1 || fd == -13 ? new NetException(Errno.EPERM, "afpacket: a packet socket needs root (CAP_NET_RAW)")
                    : new NetException(errno(-fd), "afpacket: socket(AF_PACKET) failed: " + text(-fd));
        }
        MemorySegment ring = null;
        try {
            if (q == 0) {
                int ifindex = Packet.ifreqInt(state, arena, fd, Packet.SIOCGIFINDEX, args.dev);
                if (ifindex < 0) {
                    throw new NetException(Errno.ENODEV, "Cannot find device \"" + args.dev + "\"");
                }
                int type = Packet.hardwareType(state, arena, fd, args.dev);
                if (type != 1) { // ARPHRD_ETHER
                    throw new NetException(Errno.EINVAL, "afpacket: " + args.dev + " is not an Ethernet interface");
                }
                int mtu = Packet.ifreqInt(state, arena, fd, Packet.SIOCGIFMTU, args.dev);
                check(mtu, "SIOCGIFMTU");
                info[0] = ifindex;
                info[1] = mtu;
            }
            check(Packet.setsockopt(state, fd, Packet.SOL_PACKET, Packet.PACKET_VERSION, arena.allocateFrom(ValueLayout.JAVA_INT,
                    Packet.TPACKET_V3)), "PACKET_VERSION");
            // struct tpacket_req3: block size and count, frame size and count, retire timeout, private size, features
            MemorySegment req = arena.allocate(28, 4);
            req.set(ValueLayout.JAVA_INT, 0, BLOCK_SIZE);
            req.set(ValueLayout.JAVA_INT, 4, BLOCK_NR);
            req.set(ValueLayout.JAVA_INT, 8, FRAME_SIZE);
            req.set(ValueLayout.JAVA_INT, 12, BLOCK_SIZE / FRAME_SIZE * BLOCK_NR);
            req.set(ValueLayout.JAVA_INT, 16, RETIRE_BLOCK_MS);
            check(Packet.setsockopt(state, fd, Packet.SOL_PACKET, Packet.PACKET_RX_RING, req), "PACKET_RX_RING");
            ring = Packet.mmap(state, fd, (long) BLOCK_SIZE * BLOCK_NR);
            if (ring == null) {
                check(-Packet.errno(state), "mmap");
            }
            check(Packet.setsockopt(state, fd, Packet.SOL_PACKET, Packet.PACKET_IGNORE_OUTGOING, arena.allocateFrom(ValueLayout.JAVA_INT, 1)),
                    "PACKET_IGNORE_OUTGOING");
            check(Packet.bind(state, arena, fd, info[0]), "bind");
            if (args.queues > 1) {
                int mode = args.fanout | Packet.PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
                int value = q == 0 ? (mode | Packet.PACKET_FANOUT_FLAG_UNIQUEID) << 16 : info[2] | mode << 16;
                check(Packet.setsockopt(state, fd, Packet.SOL_PACKET, Packet.PACKET_FANOUT, arena.allocateFrom(ValueLayout.JAVA_INT, value)),
                        "PACKET_FANOUT");
                if (q == 0) {
                    MemorySegment got = arena.allocate(4, 4);
                    check(Packet.getsockopt(state, fd, Packet.SOL_PACKET, Packet.PACKET_FANOUT, got, arena.allocate(4, 4)), "PACKET_FANOUT");
                    info[2] = got.get(ValueLayout.JAVA_INT, 0) & 0xffff;
                }
            }
            if (args.promisc && q == 0) {
                MemorySegment mreq = arena.allocate(16, 4); // struct packet_mreq: ifindex, type, alen, address
                mreq.set(ValueLayout.JAVA_INT, 0, info[0]);
                mreq.set(ValueLayout.JAVA_SHORT, 4, (short) Packet.PACKET_MR_PROMISC);
                check(Packet.setsockopt(state, fd, Packet.SOL_PACKET, Packet.PACKET_ADD_MEMBERSHIP, mreq), "PACKET_ADD_MEMBERSHIP");
            }
            return new RxSocket(fd, ring);
        } catch (NetException | RuntimeException e) {
            if (ring != null) {
                Packet.munmap(ring);
            }
            Packet.close(fd);
            throw e;
        }
    }

    private static void check(int r, String what) throws NetException {
        if (r < 0) {
            throw new NetException(errno(-r), "afpacket: " + what + " failed: " + text(-r));
        }
    }

    private static Errno errno(int n) {
        Errno e = Errno.of(n);
        return e == null ? Errno.EINVAL : e;
    }

    /** strerror's words for errno {@code n}. */
    private static String text(int n) {
        Errno e = Errno.of(n);
        return e == null ? "errno " + n : e.text();
    }

    /**
     * The interrupt: waits in poll(2) for an armed socket whose ring has a retired block, masks it and
     * schedules its NAPI poll; NAPI completing arms it again and rings the doorbell. Every 100 ms at most
     * it also collects each socket's PACKET_STATISTICS drops.
     */
    private void irqLoop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Packet.captureLayout());
            MemorySegment fds = arena.allocate(8L * (MAX_POLLED + 1));
            MemorySegment drain = arena.allocate(8, 8);
            Queue[] now = new Queue[MAX_POLLED];
            long statsAt = System.nanoTime();
            while (running) {
                int n = 0;
                Queue[] all = polled;
                for (int i = 0; i < all.length && n < MAX_POLLED; i++) {
                    Queue q = all[i];
                    if (q.armed && !q.port.broken) {
                        now[n++] = q;
                    }
                }
                for (int i = 0; i < n; i++) {
                    fds.set(ValueLayout.JAVA_INT, 8L * i, now[i].fd);
                    fds.set(ValueLayout.JAVA_SHORT, 8L * i + 4, Packet.POLLIN);
                    fds.set(ValueLayout.JAVA_SHORT, 8L * i + 6, (short) 0);
                }
                fds.set(ValueLayout.JAVA_INT, 8L * n, wakeup);
                fds.set(ValueLayout.JAVA_SHORT, 8L * n + 4, Packet.POLLIN);
                fds.set(ValueLayout.JAVA_SHORT, 8L * n + 6, (short) 0);
                int ready = Packet.poll(state, fds, n + 1, 100);
                long t = System.nanoTime();
                if (t - statsAt >= STATS_NANOS) {
                    statsAt = t;
                    for (Queue q : all) {
                        q.collectStats(state);
                        q.port.flushTx(); // a kick the kernel refused for a full send buffer, tried again
                    }
                }
                if (ready <= 0) {
                    continue;
                }
                if (fds.get(ValueLayout.JAVA_SHORT, 8L * n + 6) != 0) {
                    Packet.read(state, wakeup, drain, 8);
                }
                for (int i = 0; i < n; i++) {
                    short revents = fds.get(ValueLayout.JAVA_SHORT, 8L * i + 6);
                    if ((revents & Packet.POLLERR) != 0) {
                        now[i].error(state);
                    } else if (revents != 0) {
                        now[i].interrupt();
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.error("afpacket: the interrupt thread stopped: {}", e.toString());
        }
    }

    @Deactivate
    void deactivate() {
        running = false;
        for (Port p : ports) {
            NetDevice d = p.dev;
            if (d != null) {
                d.namespace().unregister(d);
            }
        }
        wake();
        try {
            irq.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Packet.close(wakeup);
    }

    /**
     * A partial checksum completed in the frame of {@code len} bytes at {@code base} of {@code buf}: Linux
     * left the pseudo-header's sum in the TCP or UDP checksum field (CHECKSUM_PARTIAL) for a NIC to finish,
     * and the sum from the transport header to the end finishes it. False when the frame is not IPv4 or
     * IPv6 carrying TCP or UDP directly, which Linux's partial checksums do not leave for a packet socket
     * otherwise.
     */
    static boolean completeChecksum(MemorySegment buf, long base, int len) {
        int l3 = 14;
        if (len < l3) {
            return false;
        }
        int proto = Short.toUnsignedInt(buf.get(BE16, base + 12));
        while ((proto == 0x8100 || proto == 0x88a8) && len >= l3 + 4) {
            proto = Short.toUnsignedInt(buf.get(BE16, base + l3 + 2));
            l3 += 4;
        }
        int l4;
        int next;
        if (proto == 0x0800 && len >= l3 + 20) {
            l4 = l3 + (buf.get(ValueLayout.JAVA_BYTE, base + l3) & 0x0f) * 4;
            next = buf.get(ValueLayout.JAVA_BYTE, base + l3 + 9) & 0xff;
        } else if (proto == 0x86dd && len >= l3 + 40) {
            l4 = l3 + 40;
            next = buf.get(ValueLayout.JAVA_BYTE, base + l3 + 6) & 0xff;
        } else {
            return false;
        }
        int field = switch (next) {
            case 6 -> l4 + 16;
            case 17 -> l4 + 6;
            default -> -1;
        };
        if (field < 0 || field + 2 > len) {
            return false;
        }
        int c = ~InetChecksum.sum(buf, base + l4, len - l4, 0) & 0xffff;
        buf.set(BE16, base + field, (short) (c == 0 ? 0xffff : c));
        return true;
    }

    /**
     * One receive queue: its packet socket and TPACKET_V3 ring, read by the queue's own NAPI instance
     * (a fanout group member when the device has several).
     */
    private final class Queue implements RxQueue.DriverPoll {
        final Port port;
        final int index;
        final int fd;
        final RxRing rx;
        /** The device's queue this socket fills; set once registered. */
        volatile RxQueue rq;
        volatile boolean armed = true;
        /** A busy poller took the queue ({@link #disarm}): its reads take no transmit batch of their own. */
        private volatile boolean busy;
        /** A NAPI poll is reading the ring (it must stay mapped until the poll leaves). */
        private volatile boolean polling;
        private final java.util.concurrent.atomic.AtomicBoolean unmapped = new java.util.concurrent.atomic.AtomicBoolean();
        /** The statistics' own getsockopt buffers. */
        private final MemorySegment statsBuf = Arena.ofAuto().allocate(12, 4);
        private final MemorySegment statsLen = Arena.ofAuto().allocate(4, 4);
        private final LongAdder kernelPackets = new LongAdder();
        private final LongAdder kernelDrops = new LongAdder();

        Queue(Port port, int index, RxSocket s) {
            this.port = port;
            this.index = index;
            this.fd = s.fd;
            this.rx = new RxRing(s.ring, BLOCK_SIZE, BLOCK_NR);
        }

        void interrupt() {
            RxQueue q = rq;
            if (q == null || port.closed) {
                return;
            }
            armed = false;
            q.schedule();
        }

        /**
         * POLLERR: the socket's pending error, read (which clears it). ENETDOWN is what a packet socket
         * hears when its interface is set down or unregistered: down, the carrier is off until the
         * interface is up and running again; gone (its index no longer names it), the device stays
         * without carrier and the socket is no longer polled.
         */
        void error(MemorySegment irqState) {
            synchronized (statsBuf) {
                int r = Packet.getsockopt(irqState, fd, Packet.SOL_SOCKET, Packet.SO_ERROR, statsBuf.asSlice(0, 4), statsLen);
                int err = r < 0 ? -r : statsBuf.get(ValueLayout.JAVA_INT, 0);
                if (err != Packet.ENETDOWN && err != Packet.ENODEV && err != Packet.ENXIO) {
                    return;
                }
                NetDevice d = port.dev;
                try (Arena arena = Arena.ofConfined()) {
                    if (Packet.ifreqInt(irqState, arena, fd, Packet.SIOCGIFINDEX, port.args.dev) != port.ifindex) {
                        if (!port.broken) {
                            port.broken = true;
                            LOG.warn("afpacket {}: the Linux interface {} went away; the device stays, without carrier",
                                    d == null ? "?" : d.name(), port.args.dev);
                        }
                    } else {
                        port.linuxDown = true;
                    }
                }
            }
        }

        /** Whether the Linux interface is up and running ({@code SIOCGIFFLAGS}: IFF_UP and IFF_RUNNING). */
        private boolean linuxRunning(MemorySegment irqState) {
            try (Arena arena = Arena.ofConfined()) {
                int flags = Packet.ifreqInt(irqState, arena, fd, Packet.SIOCGIFFLAGS, port.args.dev);
                return flags >= 0 && (flags & 0x41) == 0x41;
            }
        }

        /**
         * PACKET_STATISTICS (read and reset by the kernel): the frames the ring had no room for are this
         * device's rx_missed_errors, as a NIC counts frames its full receive ring missed.
         */
        void collectStats(MemorySegment irqState) {
            NetDevice d = port.dev;
            if (d == null || port.closed) {
                return;
            }
            if (index == 0 && port.linuxDown && !port.broken && linuxRunning(irqState)) {
                port.linuxDown = false; // the Linux interface is up again: the kernel has hooked the socket back on
            }
            synchronized (statsBuf) { // from the interrupt thread and ethtool -S; the kernel resets on each read
                if (Packet.getsockopt(irqState, fd, Packet.SOL_PACKET, Packet.PACKET_STATISTICS, statsBuf, statsLen) < 0) {
                    return;
                }
                long packets = Integer.toUnsignedLong(statsBuf.get(ValueLayout.JAVA_INT, 0));
                long drops = Integer.toUnsignedLong(statsBuf.get(ValueLayout.JAVA_INT, 4));
                long freezes = Integer.toUnsignedLong(statsBuf.get(ValueLayout.JAVA_INT, 8));
                kernelPackets.add(packets);
                kernelDrops.add(drops);
                port.kernelPackets.add(packets);
                port.kernelDrops.add(drops);
                port.freezes.add(freezes);
                if (drops > 0) {
                    d.stats().addShared(DeviceStats.Field.RX_MISSED_ERRORS, drops);
                }
            }
        }

        @Override
        public void rearm(RxQueue queue) {
            busy = false;
            port.endBatch();
            armed = true;
            wake();
        }

        @Override
        public void disarm(RxQueue queue) {
            busy = true;
            port.endBatch();
        }

        /**
         * In the NAPI poll: up to {@code budget} frames of the retired blocks, each copied into a packet
         * buffer. What the previous poll sent is kicked out first; what this one's frames make the stack
         * send waits for the kick that ends it (the next fill, or NAPI completing).
         */
        @Override
        public int fill(RxQueue queue, int budget) {
            polling = true; // before looking at closed: release() sees this, or this sees closed (both volatile)
            try {
                NetDevice d = port.dev;
                if (d == null || port.closed) {
                    return 0;
                }
                port.flushTx();
                if (!busy) {
                    port.batchOwner = Thread.currentThread();
                }
                return drain(d, queue, budget);
            } finally {
                polling = false;
                if (port.closed) {
                    unmap();
                }
            }
        }

        private int drain(NetDevice d, RxQueue queue, int budget) {
            SkBuffPool pool = core.pool();
            int n = 0;
            long hdr;
            while (n < budget && (hdr = rx.next()) >= 0) {
                SkBuff skb = pool.alloc(pool.bufferSize() - SkBuffPool.NET_SKB_PAD);
                if (skb == null) {
                    d.stats().addShared(DeviceStats.Field.RX_MISSED_ERRORS, 1); // no buffer: the frame stays in the ring
                    return n;
                }
                n++;
                if (take(d, hdr, skb)) {
                    queue.receive(skb);
                } else {
                    skb.free();
                }
                rx.advance();
            }
            return n;
        }

        /** One frame of the ring into {@code skb}, its VLAN tag back in place and its checksum finished; false (counted) if it cannot be taken. */
        private boolean take(NetDevice d, long hdr, SkBuff skb) {
            int status = rx.status(hdr);
            int snap = rx.snaplen(hdr);
            long mac = rx.mac(hdr);
            boolean vlan = (status & RxRing.TP_STATUS_VLAN_VALID) != 0;
            int len = snap + (vlan ? 4 : 0);
            if (snap != rx.len(hdr) || snap < 14 || mac + snap > rx.ring.byteSize() || len > skb.tailroom()) {
                // cut short by the ring, or larger than a packet buffer (a Linux GRO or GSO frame)
                port.truncated.increment();
                d.stats().addShared(DeviceStats.Field.RX_LENGTH_ERRORS, 1);
                d.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
                return false;
            }
            MemorySegment m = skb.memory();
            int at = skb.tail();
            if (vlan) {
                // the kernel keeps the tag beside the frame (hardware or software VLAN acceleration): back between the addresses and the type
                MemorySegment.copy(rx.ring, mac, m, at, 12);
                m.set(BE16, at + 12, (short) rx.vlanTpid(hdr, status));
                m.set(BE16, at + 14, (short) rx.vlanTci(hdr));
                MemorySegment.copy(rx.ring, mac + 12, m, at + 16, snap - 12);
                port.vlanRestored.increment();
            } else {
                MemorySegment.copy(rx.ring, mac, m, at, snap);
            }
            skb.put(len);
            if ((status & RxRing.TP_STATUS_CSUMNOTREADY) != 0) {
                if (completeChecksum(m, at, len)) {
                    port.csumCompleted.increment();
                }
                skb.ipSummed(Checksum.UNNECESSARY); // Linux vouches for a frame it made itself
            } else if ((status & RxRing.TP_STATUS_CSUM_VALID) != 0) {
                skb.ipSummed(Checksum.UNNECESSARY);
            }
            return true;
        }

        /** The ring unmapped, once, when no NAPI poll is in it. */
        void unmap() {
            if (unmapped.compareAndSet(false, true)) {
                Packet.munmap(rx.ring);
            }
        }
    }

    /**
     * One Linux interface's packet sockets and the modnet device they are the wire of: the receive
     * queues, and the transmit ring. Frames go into the ring's slots from any thread (no lock: a slot is
     * taken with a compare-and-set) and the kernel is kicked ({@code send(fd, NULL, 0)}, which sends every
     * requested slot) once per batch: a frame sent by the thread running one of this device's NAPI polls
     * waits for the poll's end (the next {@link Queue#fill} or NAPI completing), or until
     * {@value #TX_BATCH} wait, so a poll's replies and ACKs leave with one system call; any other sender
     * kicks at once. One kick runs at a time:
     * whoever finds one running leaves it a request it takes before it lets go. A full ring drops the
     * frame (counted: {@code tx_ring_full}, tx dropped, tx_fifo_errors) and never waits.
     */
    private final class Port implements NetDeviceOps {
        final Args args;
        final Queue[] queues;
        final int ifindex;
        /** The transmit socket and its ring; -1 and null with {@code txring off} (send(2) per frame on the first receive socket). */
        final int txFd;
        final TxRing tx;
        volatile NetDevice dev;
        volatile boolean closed;
        /** The Linux interface went away (the socket reports ENETDOWN and its index is gone): no polling, no carrier. */
        volatile boolean broken;
        /** The Linux interface is down (ENETDOWN while it still exists): no carrier until it is up and running. */
        volatile boolean linuxDown;
        /** The thread in one of this device's NAPI polls, whose transmits wait for the poll's end to be kicked. */
        volatile Thread batchOwner;
        /** Frames requested since the last kick (or kicks asked for): a kick is owed while above 0. */
        private final java.util.concurrent.atomic.AtomicInteger unkicked = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicBoolean kicking = new java.util.concurrent.atomic.AtomicBoolean();
        /** Transmits inside the ring now: the ring stays mapped until the last leaves. */
        private final java.util.concurrent.atomic.AtomicInteger txUsers = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicBoolean txUnmapped = new java.util.concurrent.atomic.AtomicBoolean();
        final LongAdder kernelPackets = new LongAdder();
        final LongAdder kernelDrops = new LongAdder();
        final LongAdder freezes = new LongAdder();
        final LongAdder csumCompleted = new LongAdder();
        final LongAdder vlanRestored = new LongAdder();
        final LongAdder truncated = new LongAdder();
        private final LongAdder txRingFrames = new LongAdder();
        private final LongAdder txKicks = new LongAdder();
        private final LongAdder txKickBusy = new LongAdder();
        private final LongAdder txRingFull = new LongAdder();

        Port(Opened o, Args args) {
            this.args = args;
            this.ifindex = o.ifindex;
            this.queues = new Queue[o.rx.length];
            for (int q = 0; q < queues.length; q++) {
                queues[q] = new Queue(this, q, o.rx[q]);
            }
            this.txFd = o.txFd;
            this.tx = o.txRing == null ? null : new TxRing(o.txRing, FRAME_SIZE, TX_FRAMES);
        }

        @Override
        public boolean carrier(NetDevice self) {
            return !broken && !linuxDown;
        }

        /**
         * No {@code set_channels}: each queue is a packet socket in the fanout group, made with the device,
         * so {@code ethtool -L} is refused (EOPNOTSUPP, as Linux refuses it to a driver without one) rather
         * than retiring a queue whose socket the kernel would go on feeding. The count is chosen at
         * {@code ip link add} ({@code numrxqueues N}).
         */
        @Override
        public void setChannels(NetDevice self, int combined) throws NetException {
            throw new NetException(Errno.EOPNOTSUPP);
        }

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice self) {
            if (tx == null) {
                return sendOne(skb, self);
            }
            DeviceStats stats = self.stats();
            txUsers.incrementAndGet(); // before looking at closed: release() sees this, or this sees closed
            try {
                int len = skb.len();
                if (closed || broken || len > tx.maxLen || !skb.linearize()) {
                    stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                    skb.free();
                    return TxResult.OK;
                }
                long slot = tx.claim();
                if (slot < 0) {
                    flushTx(); // frames that wait for a kick hold the slots: out with them, and look again
                    slot = tx.claim();
                }
                if (slot < 0) {
                    txRingFull.increment();
                    stats.addShared(DeviceStats.Field.TX_FIFO_ERRORS, 1);
                    stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                    skb.free();
                    return TxResult.OK;
                }
                MemorySegment.copy(skb.memory(), skb.data(), tx.ring, tx.data(slot), len);
                tx.submit(slot, len);
                skb.free();
                txRingFrames.increment();
                stats.addShared(DeviceStats.Field.TX_PACKETS, 1);
                stats.addShared(DeviceStats.Field.TX_BYTES, len);
                if (unkicked.incrementAndGet() >= TX_BATCH || batchOwner != Thread.currentThread()) {
                    kick(); // not in a poll's batch, or the batch is long enough to go (its slots are wanted back)
                }
                return TxResult.OK;
            } finally {
                if (txUsers.decrementAndGet() == 0 && closed) {
                    unmapTx();
                }
            }
        }

        /** Without the transmit ring ({@code txring off}): a non-blocking send(2) straight from the packet buffer. */
        private TxResult sendOne(SkBuff skb, NetDevice self) {
            DeviceStats stats = self.stats();
            if (closed || broken || !skb.linearize()) {
                stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                skb.free();
                return TxResult.OK;
            }
            int len = skb.len();
            long w = Packet.send(STATE.get(), queues[0].fd, skb.memory().address() + skb.data(), len);
            if (w == len) {
                stats.addShared(DeviceStats.Field.TX_PACKETS, 1);
                stats.addShared(DeviceStats.Field.TX_BYTES, len);
            } else {
                // EAGAIN/ENOBUFS: the socket's or the interface's queue is full; anything else: the interface is down or gone
                stats.addShared(w == -Packet.EAGAIN || w == -Packet.ENOBUFS ? DeviceStats.Field.TX_FIFO_ERRORS : DeviceStats.Field.TX_ERRORS, 1);
                stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
            }
            skb.free();
            return TxResult.OK;
        }

        /** A NAPI poll (or busy poll) ended: its thread's frames are kicked out, and it batches no more. */
        void endBatch() {
            if (batchOwner == Thread.currentThread()) {
                batchOwner = null;
            }
            flushTx();
        }

        /** The kick owed, if any. */
        void flushTx() {
            if (tx != null && unkicked.get() > 0) {
                kick();
            }
        }

        /**
         * {@code send(fd, NULL, 0, MSG_DONTWAIT)}: the kernel sends every slot requested so far. One
         * kicker at a time (the kernel would serialize them on its ring lock anyway); requests that came
         * during a kick are taken by another round. A kick the kernel refuses for a full send buffer
         * leaves its frames requested and the kick owed (tried again at the next batch, or by the
         * interrupt thread).
         */
        private void kick() {
            while (unkicked.get() > 0 && kicking.compareAndSet(false, true)) {
                boolean busy;
                try {
                    unkicked.set(0);
                    long r = Packet.send(STATE.get(), txFd, 0L, 0L);
                    txKicks.increment();
                    busy = r == -Packet.EAGAIN || r == -Packet.ENOBUFS;
                    if (busy) {
                        txKickBusy.increment();
                        unkicked.incrementAndGet();
                    }
                } finally {
                    kicking.set(false);
                }
                if (busy) {
                    return;
                }
            }
        }

        @Override
        public boolean deletable(NetDevice self) {
            return true;
        }

        @Override
        public void uninit(NetDevice self) {
            synchronized (ports) {
                ports.remove(this);
                polled = polledQueues();
            }
            release();
        }

        void release() {
            if (!closed) {
                closed = true;
                for (Queue q : queues) {
                    Packet.close(q.fd); // the kernel keeps the ring while it is mapped
                    if (!q.polling) {
                        q.unmap();
                    } // else the poll reading it unmaps it as it leaves
                }
                if (txFd >= 0) {
                    Packet.close(txFd);
                }
                if (txUsers.get() == 0) {
                    unmapTx();
                } // else the last transmit in it unmaps it as it leaves
            }
        }

        private void unmapTx() {
            if (tx != null && txUnmapped.compareAndSet(false, true)) {
                Packet.munmap(tx.ring);
            }
        }

        @Override
        public Map<String, String> driverInfo(NetDevice self) {
            return Map.of("driver", "af_packet", "version", "TPACKET_V3", "bus-info", args.netns == null ? args.dev : args.netns + "/" + args.dev);
        }

        @Override
        public Map<String, Long> ethtoolStats(NetDevice self) {
            MemorySegment state = STATE.get();
            for (Queue q : queues) {
                q.collectStats(state);
            }
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("tp_packets", kernelPackets.sum());
            m.put("tp_drops", kernelDrops.sum());
            m.put("tp_freeze_q_cnt", freezes.sum());
            m.put("rx_csum_completed", csumCompleted.sum());
            m.put("rx_vlan_restored", vlanRestored.sum());
            m.put("rx_truncated", truncated.sum());
            m.put("tx_ring_frames", txRingFrames.sum());
            m.put("tx_ring_kicks", txKicks.sum());
            m.put("tx_ring_kick_busy", txKickBusy.sum());
            m.put("tx_ring_full", txRingFull.sum());
            if (queues.length > 1) {
                for (Queue q : queues) {
                    m.put("rx_queue_" + q.index + "_tp_packets", q.kernelPackets.sum());
                    m.put("rx_queue_" + q.index + "_tp_drops", q.kernelDrops.sum());
                }
            }
            return m;
        }
    }

    @Override
    public Map<String, Integer> users() {
        return Map.of(DEVICES, ports.size());
    }
}

package org.modnet.drivers.tap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ip link add NAME type tap}: a modnet device whose wire is a Linux TAP interface of the same
 * name ({@code /dev/net/tun}, IFF_TAP | IFF_NO_PI). One "interrupt" thread polls every TAP's file
 * descriptor and, when frames wait, reads them straight into packet buffers and puts them in the
 * device's receive ring, where NAPI takes them; it sleeps in poll(2) when nothing comes. Transmit is a
 * non-blocking write. Native XDP ({@code xdpdrv}) runs in that thread on the TAP's own buffer before
 * any skb, as tun runs it before building one. Needs root (CAP_NET_ADMIN) and /dev/net/tun, and says so otherwise.
 */
@Component(service = LinkFactory.class, immediate = true, property = LinkFactory.KIND + "=tap")
public final class TapDriver implements LinkFactory {
    private static final Logger LOG = LoggerFactory.getLogger(TapDriver.class);
    /** Frames one wake-up reads from one TAP before looking at the others. */
    private static final int BURST = 64;
    /** {@code XDP_PACKET_HEADROOM}. */
    private static final int XDP_HEADROOM = 256;

    private final NetCore core;
    private final List<Tap> taps = new CopyOnWriteArrayList<>();
    private volatile boolean running = true;
    private final Thread irq;

    @Activate
    public TapDriver(@Reference NetCore core) {
        this.core = core;
        this.irq = Thread.ofPlatform().name("tap-irq").daemon().start(this::irqLoop);
    }

    @Override
    public NetDevice create(NetNamespace ns, String name, List<String> args) throws NetException {
        if (!args.isEmpty()) {
            throw new NetException(Errno.EINVAL, "tap: unknown argument \"" + args.get(0) + "\"");
        }
        if (ns.device(name) != null) {
            throw new NetException(Errno.EEXIST);
        }
        int fd = Tun.openTap(name);
        if (fd < 0) {
            int errno = -fd;
            throw switch (errno) {
                case 1, 13 -> new NetException(Errno.EPERM, "tap: opening /dev/net/tun needs root (CAP_NET_ADMIN)");
                case 2, 19 -> new NetException(Errno.ENODEV, "tap: /dev/net/tun is missing (modprobe tun)");
                case 16 -> new NetException(Errno.EBUSY, "tap: the Linux interface " + name + " is in use");
                default -> new NetException(Errno.EINVAL, "tap: TUNSETIFF failed, errno " + errno);
            };
        }
        Tap tap = new Tap(fd);
        try {
            tap.dev = ns.register(DeviceSetup.ether(name, "tap").withRings(1024, 4096, 1024, 4096), tap);
        } catch (NetException e) {
            Tun.close(fd);
            throw e;
        }
        taps.add(tap);
        return tap.dev;
    }

    /** The interrupt: wait for any TAP to have frames, then move them into the receive rings. */
    private void irqLoop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Tun.captureLayout());
            MemorySegment fds = arena.allocate(8L * 256);
            while (running) {
                Tap[] now = taps.stream().filter(t -> !t.broken).toArray(Tap[]::new); // a TAP that failed is not polled: no spin
                int n = Math.min(now.length, 256);
                for (int i = 0; i < n; i++) {
                    fds.set(ValueLayout.JAVA_INT, 8L * i, now[i].fd);
                    fds.set(ValueLayout.JAVA_SHORT, 8L * i + 4, Tun.POLLIN);
                    fds.set(ValueLayout.JAVA_SHORT, 8L * i + 6, (short) 0);
                }
                int ready = Tun.poll(state, fds, n, 100);
                if (ready <= 0) {
                    if (n == 0) {
                        Thread.sleep(100);
                    }
                    continue;
                }
                for (int i = 0; i < n; i++) {
                    short revents = fds.get(ValueLayout.JAVA_SHORT, 8L * i + 6);
                    if (revents != 0) {
                        now[i].drain(state);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("tap: the interrupt thread stopped: {}", e.toString());
        }
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
        try {
            irq.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One TAP: its file descriptor and its modnet device. */
    private final class Tap implements NetDeviceOps {
        final int fd;
        /** Where native XDP reads frames: the headroom a program may grow into, then the largest frame. */
        private final MemorySegment page = Arena.ofAuto().allocate(XDP_HEADROOM + 65536, 64);
        volatile NetDevice dev;
        private volatile boolean closed;
        private volatile boolean reported;
        /** Its Linux interface is gone (reads fail): no carrier, no polling, transmits dropped and counted. */
        volatile boolean broken;

        Tap(int fd) {
            this.fd = fd;
        }

        /** Reads what waits, up to a burst, straight into packet buffers (the NIC's DMA). */
        void drain(MemorySegment state) {
            NetDevice d = dev;
            if (d == null || closed) {
                return;
            }
            if (d.xdpNative()) {
                drainNative(state, d);
                return;
            }
            for (int i = 0; i < BURST; i++) {
                SkBuff skb = core.pool().alloc(core.pool().bufferSize() - org.modnet.api.skb.SkBuffPool.NET_SKB_PAD);
                if (skb == null) {
                    d.stats().addShared(DeviceStats.Field.RX_MISSED_ERRORS, 1); // no buffer: the frame waits in the kernel
                    return;
                }
                int room = skb.tailroom();
                long r = Tun.read(state, fd, skb.memory().asSlice(skb.tail(), room), room);
                if (r <= 0) {
                    skb.free();
                    if (r != -Tun.EAGAIN && r != 0) {
                        failed(d, r);
                    }
                    return;
                }
                skb.put((int) r);
                d.rxQueue(0).receive(skb); // a frame the ring has no room for is counted there
            }
        }

        /**
         * Native XDP, as tun runs a program before it builds an skb: each frame is read into the TAP's
         * own page (XDP_PACKET_HEADROOM before it) and the program runs there; only what it passes is
         * copied into a packet buffer.
         */
        private void drainNative(MemorySegment state, NetDevice d) {
            for (int i = 0; i < BURST; i++) {
                long r = Tun.read(state, fd, page.asSlice(XDP_HEADROOM), page.byteSize() - XDP_HEADROOM);
                if (r <= 0) {
                    if (r != -Tun.EAGAIN && r != 0) {
                        failed(d, r);
                    }
                    return;
                }
                d.rxQueue(0).receiveFrame(page, XDP_HEADROOM, (int) r); // dropped frames are counted there
            }
        }

        @Override
        public boolean nativeXdp(NetDevice self) {
            return true;
        }

        private void failed(NetDevice d, long r) {
            d.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
            broken = true; // a TAP whose reads fail (its interface deleted) would make poll(2) return at once, for ever
            if (!reported) {
                reported = true; // said once
                LOG.warn("tap {}: read failed with errno {}; the device stays, without carrier, counting what it cannot send", d.name(), -r);
            }
        }

        @Override
        public boolean carrier(NetDevice self) {
            return !broken;
        }

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice self) {
            DeviceStats stats = self.stats();
            if (closed || broken || !skb.linearize()) {
                stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                skb.free();
                return TxResult.OK;
            }
            int len = skb.len();
            try (Arena arena = Arena.ofConfined()) {
                long w = Tun.write(arena.allocate(Tun.captureLayout()), fd, skb.memory().asSlice(skb.data(), len), len);
                if (w == len) {
                    stats.addShared(DeviceStats.Field.TX_PACKETS, 1);
                    stats.addShared(DeviceStats.Field.TX_BYTES, len);
                } else {
                    // EAGAIN (the kernel's queue is full) or the interface went away: dropped, counted
                    stats.addShared(w == -Tun.EAGAIN ? DeviceStats.Field.TX_FIFO_ERRORS : DeviceStats.Field.TX_ERRORS, 1);
                    stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                }
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
            if (!closed) {
                closed = true;
                Tun.close(fd);
            }
        }

        @Override
        public Map<String, String> driverInfo(NetDevice self) {
            return Map.of("driver", "tun", "version", "1.6", "bus-info", "tap");
        }
    }
}

package org.modnet.drivers.pcap;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.module.ModuleUsage;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.capture.file.PcapReader;
import org.modnet.capture.file.PcapWriter;
import org.modnet.capture.file.PcapngWriter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ip link add NAME type pcap [replay FILE [topspeed] [loop N]] [record FILE]}: a device whose
 * wire is a capture file. Brought up, it receives the replay file's frames — at the pace they were
 * captured, or with {@code topspeed} as fast as it can, {@code loop} times (0: until it goes down) —
 * into its receive ring as a NIC receives them (its own buffer, so native XDP runs there); what it
 * transmits is written to the record file (pcap, or pcapng when the name ends in {@code .pcapng}),
 * or, without one, counted and let go as onto an unplugged cable. Files are checked when the device
 * is made: one that cannot be read or written refuses the device.
 */
@Component(service = { LinkFactory.class, ModuleUsage.class }, immediate = true, property = LinkFactory.KIND + "=pcap")
public final class PcapDriver implements LinkFactory, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger(PcapDriver.class);
    /** {@code XDP_PACKET_HEADROOM} before each frame in the replay buffer. */
    private static final int HEADROOM = 256;
    private static final int SNAPLEN = 262144;

    private final List<Wire> wires = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public NetDevice create(NetNamespace ns, String name, List<String> args) throws NetException {
        Path replay = null;
        Path record = null;
        boolean topspeed = false;
        long loops = 1;
        for (int i = 0; i < args.size(); i++) {
            String w = args.get(i);
            switch (w) {
                case "replay", "record", "loop" -> {
                    if (i + 1 >= args.size()) {
                        throw new NetException(Errno.EINVAL, "pcap: \"" + w + "\" needs a value");
                    }
                    String v = args.get(++i);
                    if (w.equals("replay")) {
                        replay = Path.of(v);
                    } else if (w.equals("record")) {
                        record = Path.of(v);
                    } else {
                        try {
                            loops = Long.parseLong(v);
                        } catch (NumberFormatException e) {
                            loops = -1;
                        }
                        if (loops < 0) {
                            throw new NetException(Errno.EINVAL, "pcap: loop takes a count (0: for ever), not \"" + v + "\"");
                        }
                    }
                }
                case "topspeed" -> topspeed = true;
                default -> throw new NetException(Errno.EINVAL, "pcap: unknown argument \"" + w + "\"");
            }
        }
        if (ns.device(name) != null) {
            throw new NetException(Errno.EEXIST);
        }
        if (replay != null) {
            try (PcapReader r = new PcapReader(new BufferedInputStream(Files.newInputStream(replay)))) {
                r.next(); // a file whose header or first frame is broken refuses the device now, not later
            } catch (NoSuchFileException e) {
                throw new NetException(Errno.ENOENT, "pcap: " + replay + ": No such file or directory");
            } catch (IOException e) {
                throw new NetException(Errno.EINVAL, "pcap: " + replay + ": " + e.getMessage());
            }
        }
        PcapWriter writer = null;
        if (record != null) {
            try {
                OutputStream out = new BufferedOutputStream(Files.newOutputStream(record));
                writer = record.toString().endsWith(".pcapng") ? new PcapngWriter(out, SNAPLEN, name) : new PcapWriter(out, SNAPLEN);
            } catch (IOException e) {
                throw new NetException(Errno.EACCES, "pcap: cannot write " + record + ": " + e.getMessage());
            }
        }
        Wire wire = new Wire(replay, topspeed, loops, writer);
        try {
            wire.dev = ns.register(DeviceSetup.ether(name, "pcap").withRings(1024, 4096, 256, 4096), wire);
        } catch (NetException e) {
            wire.closeRecord();
            throw e;
        }
        wires.add(wire);
        return wire.dev;
    }

    /** The driver goes (its bundle stopped or updated): its devices go with it, replays stopped, records closed. */
    @Deactivate
    void deactivate() {
        for (Wire w : wires) {
            NetDevice d = w.dev;
            if (d != null && d.namespace().device(d.name()) == d) {
                d.namespace().unregister(d);
            }
        }
        wires.clear();
    }

    /** One pcap device: its replay (a thread while the device is up) and its record file. */
    private final class Wire implements NetDeviceOps {
        private final Path replay;
        private final boolean topspeed;
        private final long loops;
        private final PcapWriter record;
        volatile NetDevice dev;
        private volatile Thread replayer;
        private final AtomicLong replayed = new AtomicLong();
        private final AtomicLong loopsDone = new AtomicLong();
        private final AtomicLong recorded = new AtomicLong();
        private volatile boolean reported;

        Wire(Path replay, boolean topspeed, long loops, PcapWriter record) {
            this.replay = replay;
            this.topspeed = topspeed;
            this.loops = loops;
            this.record = record;
        }

        @Override
        public void open(NetDevice self) {
            if (replay != null) {
                Thread t = Thread.ofPlatform().daemon().name("pcap-" + self.name()).unstarted(() -> replayAll(self));
                replayer = t; // before it runs: the thread checks it is still the replayer
                t.start();
            }
        }

        @Override
        public void stop(NetDevice self) {
            Thread t = replayer;
            replayer = null;
            if (t != null) {
                t.interrupt();
                try {
                    t.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            flush();
        }

        /** The file, {@code loops} times (0: until the device goes down), into the receive queue. */
        private void replayAll(NetDevice self) {
            // ndo_open runs before the device is marked up: the first frame waits for that, as a link comes up
            try {
                for (int i = 0; i < 5000 && !self.isUp() && replayer == Thread.currentThread(); i++) {
                    Thread.sleep(1);
                }
            } catch (InterruptedException e) {
                return;
            }
            MemorySegment page = Arena.ofAuto().allocate(HEADROOM + SNAPLEN, 64);
            for (long n = 0; (loops == 0 || n < loops) && replayer == Thread.currentThread(); n++) {
                if (!replayOnce(self, page)) {
                    return;
                }
                loopsDone.incrementAndGet();
            }
        }

        private boolean replayOnce(NetDevice self, MemorySegment page) {
            long start = System.nanoTime();
            long first = -1;
            try (PcapReader r = new PcapReader(new BufferedInputStream(Files.newInputStream(replay)))) {
                PcapReader.Record f;
                while ((f = r.next()) != null) {
                    if (replayer != Thread.currentThread()) {
                        return false;
                    }
                    if (!topspeed && f.nanos() > 0) {
                        first = first < 0 ? f.nanos() : first;
                        long wait = start + (f.nanos() - first) - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                    }
                    byte[] b = f.bytes();
                    MemorySegment.copy(b, 0, page, ValueLayout.JAVA_BYTE, HEADROOM, b.length);
                    self.rxQueue(0).receiveFrame(page, HEADROOM, b.length); // refused frames are counted there
                    replayed.incrementAndGet();
                }
                return true;
            } catch (InterruptedException e) {
                return false; // the device went down
            } catch (IOException e) {
                self.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
                if (!reported) {
                    reported = true; // said once
                    LOG.warn("pcap {}: replay of {} stopped: {}", self.name(), replay, e.getMessage());
                }
                return false;
            }
        }

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice self) {
            DeviceStats stats = self.stats();
            int len = skb.len();
            if (record != null) {
                byte[] frame = new byte[len];
                skb.getBytes(skb.data(), frame, 0, len);
                try {
                    synchronized (record) {
                        record.write(System.currentTimeMillis() * 1_000_000L, frame, len);
                    }
                    recorded.incrementAndGet();
                } catch (IOException e) {
                    stats.addShared(DeviceStats.Field.TX_ERRORS, 1);
                    stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
                    if (!reported) {
                        reported = true;
                        LOG.warn("pcap {}: recording failed: {}", self.name(), e.getMessage());
                    }
                    skb.free();
                    return TxResult.OK;
                }
            }
            stats.addShared(DeviceStats.Field.TX_PACKETS, 1);
            stats.addShared(DeviceStats.Field.TX_BYTES, len);
            skb.free();
            return TxResult.OK;
        }

        @Override
        public boolean nativeXdp(NetDevice self) {
            return true;
        }

        private void flush() {
            if (record != null) {
                synchronized (record) {
                    try {
                        record.flush();
                    } catch (IOException e) {
                        LOG.warn("pcap {}: flushing the record file failed: {}", dev == null ? "?" : dev.name(), e.getMessage());
                    }
                }
            }
        }

        void closeRecord() {
            if (record != null) {
                synchronized (record) {
                    try {
                        record.close();
                    } catch (IOException e) {
                        LOG.warn("pcap: closing the record file failed: {}", e.getMessage());
                    }
                }
            }
        }

        @Override
        public boolean deletable(NetDevice self) {
            return true;
        }

        @Override
        public void uninit(NetDevice self) {
            stop(self);
            closeRecord();
            wires.remove(this);
        }

        @Override
        public Map<String, String> driverInfo(NetDevice self) {
            return Map.of("driver", "pcap", "version", "1.0", "bus-info", replay == null ? "" : replay.toString());
        }

        @Override
        public Map<String, Long> ethtoolStats(NetDevice self) {
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("replayed", replayed.get());
            m.put("replay_loops", loopsDone.get());
            m.put("recorded", recorded.get());
            return m;
        }
    }

    /** The devices this driver made and that are still registered: lsmod's users, rmmod's refusal. */
    @Override
    public Map<String, Integer> users() {
        return Map.of(DEVICES, wires.size());
    }
}

package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.classfile.ClassFile;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.skb.SkBuff;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * Issue 15's hand-over for IPv4 and ethernet on a real Felix: a flood of IPv4 frames from a through the
 * router r to b (over a route added by hand on r), while r's IPv4 or ethernet bundle is updated to a
 * rebuilt jar with {@code update NAME FILE} in the shell. Every frame sent arrives at b or is on a
 * counter, the route and the neighbour table are kept (no ARP after the swap), and the update command
 * refuses what it cannot swap safely, leaving the stack as it was.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class L3HandOverIT {
    private static final int SEQ_MAX = 1 << 20;

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private NetCore core;
    private NetDevice a0;
    private NetDevice ra;
    private NetDevice b0;
    private ServiceRegistration<PacketHandler> tap;
    /** Arrivals at b0: the flood's sequence numbers in arrival order, and when each came. */
    private final int[] arrivals = new int[SEQ_MAX];
    private final long[] arrivalNanos = new long[SEQ_MAX];
    private final AtomicInteger arrived = new AtomicInteger();
    /**
     * Broadcast ARP requests from r for b's address at b0: what r sends only when it has no entry for b
     * (a kept entry that goes stale is confirmed by unicast probes first, {@code ucast_solicit}), so one
     * after the swap means the swap lost the neighbour, however long the update took.
     */
    private final AtomicLong arpBroadcastsForB = new AtomicLong();
    /** When each sequence number was sent, for the delay of each frame. */
    private final long[] sendNanos = new long[SEQ_MAX];

    @Configuration
    public Option[] config() throws Exception {
        Option[] boot = ModnetRuntime.options();
        Option[] all = java.util.Arrays.copyOf(boot, boot.length + 1);
        all[boot.length] = org.ops4j.pax.exam.CoreOptions.bundle(ModnetRuntime.root()
                .resolve("run-configs/target/repo/org.modnet.sock-0.1.0-SNAPSHOT.jar").toUri().toString());
        return all;
    }

    @Before
    public void threeNamespaces() throws Exception {
        features.install("host");
        core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.RouteTable.class, null);
        ModnetRuntime.service(context, StateHolder.class, null);
        ModnetRuntime.run(processor, String.join(" ; ",
                "ip netns add a", "ip netns add r", "ip netns add b",
                "ip -n r link add ra type veth peer name a0", "ip -n r link set a0 netns a",
                "ip -n r link add rb type veth peer name b0", "ip -n r link set b0 netns b",
                "ip -n a addr add 10.0.1.2/24 dev a0", "ip -n r addr add 10.0.1.1/24 dev ra",
                "ip -n r addr add 10.0.2.1/24 dev rb", "ip -n b addr add 10.0.2.2/24 dev b0",
                "ip -n a link set a0 up", "ip -n r link set ra up", "ip -n r link set rb up", "ip -n b link set b0 up",
                "ip -n a route add default via 10.0.1.1", "ip -n b route add default via 10.0.2.1",
                "ip -n r route add 10.9.0.0/16 via 10.0.2.2",
                "ip netns exec r sysctl -w net.ipv4.ip_forward=1",
                // a router's rings sized for a pause of a few hundred milliseconds at the flood's rate
                "ip netns exec r ethtool -G ra rx 4096", "ip netns exec b ethtool -G b0 rx 4096"));
        assertThat(ModnetRuntime.run(processor, "a", "ping -c 1 -W 2 10.0.2.2"), containsString("1 received"));
        a0 = core.namespace("a").device("a0");
        ra = core.namespace("r").device("ra");
        b0 = core.namespace("b").device("b0");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(PacketHandler.ETHERTYPE, Eth.ETH_P_ALL);
        tap = context.registerService(PacketHandler.class, this::tap, props);
    }

    @After
    public void removeTap() {
        if (tap != null) {
            tap.unregister();
        }
    }

    /** At b0: the flood's frames (UDP to port 9, the sequence number first in the payload) and ARP. */
    private void tap(SkBuff skb, NetDevice dev) {
        try {
            if (dev != b0) {
                return;
            }
            int h = skb.data();
            if (skb.protocol() == Eth.ETH_P_ARP) {
                // the Ethernet header is before data: a broadcast who-has 10.0.2.2 tell 10.0.2.1
                int eth = skb.macHeaderWasSet() ? skb.macHeader() : h - 14;
                boolean broadcast = eth >= 0 && skb.getU16(eth) == 0xffff && skb.getU32(eth + 2) == -1;
                if (broadcast && skb.len() >= 28 && skb.getU16(h + 6) == 1 && skb.getU32(h + 14) == 0x0a000201
                        && skb.getU32(h + 24) == 0x0a000202) {
                    arpBroadcastsForB.incrementAndGet();
                }
                return;
            }
            if (skb.protocol() == Eth.ETH_P_IP && skb.len() >= 32 && skb.getU8(h + 9) == 17 && skb.getU16(h + 22) == 9) {
                int i = arrived.getAndIncrement();
                if (i < SEQ_MAX) {
                    arrivals[i] = (int) skb.getU32(h + 28);
                    arrivalNanos[i] = System.nanoTime();
                }
            }
        } finally {
            skb.free();
        }
    }

    /** One frame a -> 10.9.0.5 through r: Ethernet to ra's address, IPv4, UDP to port 9, the sequence number. */
    private boolean send(int seq) {
        SkBuff skb = core.allocSkb(14 + 20 + 8 + 4, 64);
        if (skb == null) {
            return false;
        }
        int o = skb.put(14 + 20 + 8 + 4);
        for (int i = 0; i < 46; i += 2) {
            skb.setU16(o + i, 0);
        }
        long dst = ra.address().bits();
        long src = a0.address().bits();
        skb.setU16(o, (int) (dst >>> 32));
        skb.setU32(o + 2, (int) dst);
        skb.setU16(o + 6, (int) (src >>> 32));
        skb.setU32(o + 8, (int) src);
        skb.setU16(o + 12, Eth.ETH_P_IP);
        int h = o + 14;
        skb.setU8(h, 0x45);
        skb.setU16(h + 2, 32);
        skb.setU16(h + 4, seq & 0xffff);
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, 17);
        skb.setU32(h + 12, 0x0a010002);
        skb.setU32(h + 16, 0x0a090005);
        skb.setU16(h + 10, InetChecksum.checksum(skb, h, 20));
        skb.setU16(h + 20, 4000);
        skb.setU16(h + 22, 9);
        skb.setU16(h + 24, 12);
        skb.setU32(h + 28, seq);
        sendNanos[seq] = System.nanoTime();
        skb.dev(a0);
        skb.protocol(Eth.ETH_P_IP);
        core.devQueueXmit(skb);
        return true;
    }

    private Map<String, Long> holder() throws Exception {
        return ModnetRuntime.service(context, StateHolder.class, null).counters();
    }

    private long ip(String ns, String name) throws Exception {
        for (String line : ModnetRuntime.run(processor, ns, "nstat -az " + name).split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 2 && w[0].equals(name)) {
                return Long.parseLong(w[1]);
            }
        }
        throw new AssertionError("nstat has no " + name);
    }

    /** Every counter of {@code nstat -az} in {@code ns}. */
    private Map<String, Long> nstat(String ns) throws Exception {
        return ModnetRuntime.nstat(processor, ns);
    }

    private String nstatLine(String ns, String name) throws Exception {
        return name + " " + ip(ns, name);
    }

    /** A bundle's jar from the repo, rebuilt: the same classes, a manifest with {@code header: value} set. */
    private static Path rebuilt(String bsn, String header, String value) throws Exception {
        Path jar = ModnetRuntime.root().resolve("run-configs/target/repo/" + bsn + "-0.1.0-SNAPSHOT.jar");
        Path out = Files.createTempFile(bsn + "-rebuilt", ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(jar))) {
            Manifest mf = new Manifest(in.getManifest());
            mf.getMainAttributes().putValue(header, value);
            try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(out), mf)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    o.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(o);
                    o.closeEntry();
                }
            }
        }
        return out;
    }

    /** What a flood through r did while {@code during} ran. */
    private record Flood(int sent, int received, int distinct, int reordered, long maxGapNanos, long swapNanos, long updateNanos,
            String output, long firstAfterSwapNanos, int delayed, long maxDelayNanos, long baseDelayNanos) {
    }

    /** A frame counts as delayed by the swap when it took longer than this from a0 to b0. */
    private static final long DELAYED_NANOS = 10_000_000;

    private Flood flood(java.util.concurrent.Callable<String> during) throws Exception {
        AtomicInteger sent = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        java.util.concurrent.Executor own = r -> Thread.ofPlatform().daemon().start(r);
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
            while (!stop.get() && sent.get() < SEQ_MAX) {
                if (send(sent.get())) {
                    sent.incrementAndGet();
                }
                if (sent.get() % 16 == 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // ~16 frames a millisecond at most
                }
            }
        }, own);
        Thread.sleep(1000);
        long t0 = System.nanoTime();
        String out = during.call();
        long t1 = System.nanoTime();
        Thread.sleep(1000);
        stop.set(true);
        sender.get(10, TimeUnit.SECONDS);
        Thread.sleep(500); // the last frames drain
        int n = Math.min(arrived.get(), SEQ_MAX);
        java.util.BitSet seen = new java.util.BitSet();
        int reordered = 0;
        int max = -1;
        long maxGap = 0;
        long swapGap = 0;
        int swapEnd = -1;
        int delayed = 0;
        long maxDelay = 0;
        long[] before = new long[n];
        int nb = 0;
        for (int i = 0; i < n; i++) {
            long delay = arrivalNanos[i] - sendNanos[arrivals[i]];
            maxDelay = Math.max(maxDelay, delay);
            if (delay > DELAYED_NANOS) {
                delayed++;
            }
            if (arrivalNanos[i] < t0) {
                before[nb++] = delay;
            }
            seen.set(arrivals[i]);
            if (arrivals[i] < max) {
                reordered++;
            }
            max = Math.max(max, arrivals[i]);
            if (i > 0) {
                long gap = arrivalNanos[i] - arrivalNanos[i - 1];
                maxGap = Math.max(maxGap, gap);
                if (arrivalNanos[i] >= t0 && arrivalNanos[i - 1] <= t1 && gap > swapGap) {
                    swapGap = gap; // the pause around the swap: it ends with the first frame the new version forwarded
                    swapEnd = i;
                }
            }
        }
        java.util.Arrays.sort(before, 0, nb);
        long base = nb == 0 ? 0 : before[(int) (nb * 0.99)];
        return new Flood(sent.get(), n, seen.cardinality(), reordered, maxGap, swapGap, t1 - t0, out,
                swapEnd < 0 ? -1 : arrivalNanos[swapEnd] - t0, delayed, maxDelay, base);
    }

    /**
     * Frames lost on the way that a counter shows, each once, where Linux counts it: a frame the peer's
     * ring refuses is the sending veth's tx_dropped (veth_xmit's {@code priv->dropped}; modnet's ring
     * also counts it in the receiver's rx_missed_errors, which is therefore left out here), a frame the
     * receiving side drops (the core's hold queue, no handler) its rx_dropped, and r's IPv4 discards.
     */
    private long counted() throws Exception {
        NetDevice rb = core.namespace("r").device("rb");
        return a0.stats().get(DeviceStats.Field.TX_DROPPED) + ra.stats().get(DeviceStats.Field.RX_DROPPED)
                + rb.stats().get(DeviceStats.Field.TX_DROPPED) + b0.stats().get(DeviceStats.Field.RX_DROPPED)
                + ip("r", "IpInDiscards") + ip("r", "IpOutDiscards");
    }

    /** The entry's address and device from {@code ip neigh show}, without its NUD state (which ages with time). */
    private static String lladdr(String neigh) {
        return neigh.replaceAll(" (REACHABLE|STALE|DELAY|PROBE)", "").trim();
    }

    private static String drops(NetDevice d) {
        StringBuilder sb = new StringBuilder(d.name() + ":");
        for (DeviceStats.Field fl : DeviceStats.Field.values()) {
            long v = d.stats().get(fl);
            if (v != 0 && fl != DeviceStats.Field.RX_BYTES && fl != DeviceStats.Field.TX_BYTES) {
                sb.append(' ').append(fl.name().toLowerCase()).append('=').append(v);
            }
        }
        return sb.toString();
    }

    private void report(String what, Flood f, long counted) throws Exception {
        System.out.println(what + ": " + drops(a0) + "; " + drops(ra) + "; " + drops(core.namespace("r").device("rb")) + "; " + drops(b0)
                + "; holder " + holder() + "; softnet " + core.softnetStats());
        System.out.printf("%s under a forwarding flood: sent %d, arrived %d (%d distinct), reordered %d, counted drops %d,"
                + " uncounted %d; update took %.1f ms; longest pause in arrivals around the swap %.1f ms (longest overall %.1f ms);"
                + " last frame forwarded by the old version %.1f ms and first by the new version %.1f ms after the update began;"
                + " delayed > %d ms: %d (longest a0 -> b0 %.1f ms, p99 before the update %.2f ms); r's %s, %s; load average %s%n%s%n",
                what, f.sent(), f.received(), f.distinct(), f.reordered(), counted, f.sent() - f.distinct() - counted,
                f.updateNanos() / 1e6, f.swapNanos() / 1e6, f.maxGapNanos() / 1e6, (f.firstAfterSwapNanos() - f.swapNanos()) / 1e6,
                f.firstAfterSwapNanos() / 1e6,
                DELAYED_NANOS / 1_000_000, f.delayed(), f.maxDelayNanos() / 1e6, f.baseDelayNanos() / 1e6, nstatLine("r", "IpInDiscards"),
                nstatLine("r", "IpOutDiscards"), loadAverage(), f.output());
    }

    /** The machine's load average (1, 5, 15 minutes), for the benchmark's record: the swap's times depend on it. */
    private static String loadAverage() {
        try {
            String[] w = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return w[0] + " " + w[1] + " " + w[2];
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /** With -Dmodnet.handover.l3timeline=true the command's thread is sampled through the update (a timeline of its stack). */
    private static final boolean TIMELINE = Boolean.getBoolean("modnet.handover.l3timeline");

    /**
     * The swap's steps as the test sees them, in ms from the command's start: the bundle's events, its service
     * ({@code service}) and its packet handler (of {@code ethertype}) leaving and coming back; with {@link #TIMELINE}, the
     * command thread's stack each time it changed.
     */
    private final class SwapWatch implements AutoCloseable {
        private final Map<String, Long> marks = new java.util.concurrent.ConcurrentHashMap<>();
        private final org.osgi.framework.AllServiceListener services;
        private final org.osgi.framework.SynchronousBundleListener bundles;
        private final java.util.List<String> timeline = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        private volatile long start;

        SwapWatch(String bsn, String service, String serviceName, int ethertype) {
            services = ev -> {
                java.util.List<String> classes = java.util.Arrays.asList((String[]) ev.getServiceReference()
                        .getProperty(org.osgi.framework.Constants.OBJECTCLASS));
                String what = classes.contains(PacketHandler.class.getName())
                        && Integer.valueOf(ethertype).equals(ev.getServiceReference().getProperty(PacketHandler.ETHERTYPE)) ? "packet handler"
                        : classes.contains(service) ? serviceName : null;
                if (what != null && start != 0) {
                    marks.putIfAbsent(what + (ev.getType() == org.osgi.framework.ServiceEvent.REGISTERED ? " back" : " left"), System.nanoTime());
                }
            };
            bundles = ev -> {
                if (bsn.equals(ev.getBundle().getSymbolicName()) && start != 0) {
                    marks.putIfAbsent("bundle " + ModnetRuntime.bundleEvent(ev.getType()), System.nanoTime());
                }
            };
            // filtered, and for all services: an unfiltered ServiceListener makes Felix check, for every service event of the
            // update, that this bundle sees the service's class (a dynamic import run through the resolver for a private class,
            // on the command's thread), which slowed the update it measures
            try {
                context.addServiceListener(services, "(|(objectClass=" + PacketHandler.class.getName() + ")(objectClass=" + service + "))");
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalArgumentException(e);
            }
            context.addBundleListener(bundles);
            jvm(); // the platform MBean server made now, not in the flood's clock (its first use took ~130 ms)
        }

        /** Runs the command line, its thread sampled with {@link #TIMELINE}. */
        String run(String line) throws Exception {
            AtomicBoolean sampling = new AtomicBoolean(TIMELINE);
            Thread caller = Thread.currentThread();
            Thread sampler = Thread.ofPlatform().daemon().start(() -> {
                String last = null;
                Thread command = null; // Gogo runs the line on a job thread of its own ("pipe-..."): the one whose stack holds the command
                ThreadGroup root = Thread.currentThread().getThreadGroup();
                while (root.getParent() != null) {
                    root = root.getParent();
                }
                Thread[] all = new Thread[512];
                while (sampling.get()) {
                    if (command == null) {
                        int n = root.enumerate(all);
                        for (int i = 0; i < n && command == null; i++) {
                            if ((all[i] == caller || all[i].getName().startsWith("pipe")) && java.util.Arrays.stream(all[i].getStackTrace())
                                    .anyMatch(f -> f.getClassName().endsWith("ModuleCommands"))) {
                                command = all[i];
                            }
                        }
                    }
                    if (command != null) {
                        String k = ModnetRuntime.stackKey(command.getStackTrace(), 4, 14, "org.modnet", "org.apache.felix");
                        if (!k.equals(last)) {
                            timeline.add(String.format("%.1f %s", (System.nanoTime() - start) / 1e6, k));
                            last = k;
                        }
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000);
                }
            });
            long[] before = jvm();
            start = System.nanoTime();
            try {
                return ModnetRuntime.run(processor, line);
            } finally {
                long wall = System.nanoTime() - start;
                long[] after = jvm();
                sampling.set(false);
                sampler.join();
                during = String.format("the JVM during the command (%.1f ms): %d GC pauses, %d ms in them; %.1f ms of the JVM's CPU (both cores: %.1f);"
                        + " %d ms of JIT compilation", wall / 1e6, after[0] - before[0], after[1] - before[1], (after[2] - before[2]) / 1e6,
                        2 * wall / 1e6, after[3] - before[3]);
            }
        }

        /** What the JVM did meanwhile: collections, ms in them, the process's CPU ns, ms of JIT compilation. */
        private static long[] jvm() {
            long count = 0;
            long ms = 0;
            for (java.lang.management.GarbageCollectorMXBean gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
                count += Math.max(0, gc.getCollectionCount());
                ms += Math.max(0, gc.getCollectionTime());
            }
            long cpu = 0;
            try { // the platform MBean's attribute: no com.sun.management class in this bundle
                Object v = java.lang.management.ManagementFactory.getPlatformMBeanServer().getAttribute(
                        new javax.management.ObjectName("java.lang:type=OperatingSystem"), "ProcessCpuTime");
                cpu = v instanceof Number n ? n.longValue() : 0;
            } catch (Exception e) {
                // not there: 0
            }
            java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
            return new long[] { count, ms, cpu, jit == null ? 0 : jit.getTotalCompilationTime() };
        }

        private volatile String during = "";

        void print(String what) {
            StringBuilder sb = new StringBuilder(what + "'s steps, ms after the command began:");
            marks.entrySet().stream().sorted(Map.Entry.comparingByValue())
                    .forEach(e -> sb.append(String.format(" %s %.1f;", e.getKey(), (e.getValue() - start) / 1e6)));
            System.out.println(sb);
            System.out.println(what + ": " + during);
            for (String t : timeline) {
                System.out.println(what + ": command thread at " + t);
            }
        }

        @Override
        public void close() {
            context.removeServiceListener(services);
            context.removeBundleListener(bundles);
        }
    }

    @Test
    public void ipv4UpdatedUnderAForwardingFloodKeepsRoutesAndNeighboursAndLosesNothingUncounted() throws Exception {
        Path jar = rebuilt("org.modnet.ipv4", "Modnet-Rebuilt", "hand-over test");
        Bundle ipv4 = ModnetRuntime.bundleNamed(context, "org.modnet.ipv4");
        long modified = ipv4.getLastModified();
        Map<String, Long> before = holder();
        long countedBefore = counted();
        String neighBefore = ModnetRuntime.run(processor, "r", "ip neigh show 10.0.2.2");
        assertThat(neighBefore, containsString("lladdr"));
        long broadcastsBefore = arpBroadcastsForB.get();
        Flood f;
        try (SwapWatch watch = new SwapWatch("org.modnet.ipv4", org.modnet.api.inet.Ipv4.class.getName(), "Ipv4 service", Eth.ETH_P_IP)) {
            f = flood(() -> watch.run("update ipv4 " + jar));
            report("ipv4 update", f, counted() - countedBefore);
            watch.print("ipv4 update");
        }
        Map<String, Long> after = holder();
        long counted = counted() - countedBefore;
        Bundle now = ModnetRuntime.bundleNamed(context, "org.modnet.ipv4");
        assertTrue("the bundle was updated (staged: a new bundle)", now.getBundleId() != ipv4.getBundleId() || now.getLastModified() != modified);
        assertThat(f.output(), containsString("state handed over"));
        assertEquals(1L, after.get("HandOverAdopted") - before.get("HandOverAdopted"));
        assertEquals("every frame sent arrived at b or is on a counter", f.sent(), f.distinct() + counted);
        assertTrue("frames arrived after the swap", f.received() > 0 && arrivalNanos[f.received() - 1] > 0);
        assertEquals("no broadcast ARP request for b after the swap: the router kept b's address", broadcastsBefore,
                arpBroadcastsForB.get());
        assertEquals("the same neighbour entry for b", lladdr(neighBefore), lladdr(ModnetRuntime.run(processor, "r", "ip neigh show 10.0.2.2")));
        assertThat(ModnetRuntime.run(processor, "r", "ip route"), containsString("10.9.0.0/16 via 10.0.2.2 dev rb"));
        assertThat(ModnetRuntime.run(processor, "r", "sysctl net.ipv4.ip_forward"), containsString("net.ipv4.ip_forward = 1"));
        assertTrue("the flood went on through the new version", arrivalNanos[f.received() - 1] > 0);
        // the ARP check can fail: a router that lost b's address asks for it by broadcast
        ModnetRuntime.run(processor, "ip -n r neigh flush dev rb");
        assertThat(ModnetRuntime.run(processor, "a", "ping -c 1 -W 2 10.0.2.2"), containsString("1 received"));
        assertTrue("a lost neighbour shows as a broadcast ARP request at b", arpBroadcastsForB.get() > broadcastsBefore);
    }

    @Test
    public void udpSocketsKeepTheirDescriptorsAndQueuesAcrossAnUpdateOfIpv4() throws Exception {
        org.modnet.socket.api.Sockets sockets = ModnetRuntime.service(context, org.modnet.socket.api.Sockets.class, null);
        org.modnet.socket.api.SocketCalls rx = sockets.process("receiver", "b");
        org.modnet.socket.api.SocketCalls tx = sockets.process("sender", "a");
        int rfd = rx.socket(org.modnet.socket.api.SocketCalls.AF_INET, org.modnet.socket.api.SocketCalls.SOCK_DGRAM, 0);
        assertTrue(rfd >= 0);
        assertEquals(0, rx.bind(rfd, new org.modnet.socket.api.SockAddr(0, 7000)));
        // a bound against a hang, not a timing check: the first datagram after the update goes through
        // three new IPv4s and a new UDP whose classes are loaded and run interpreted first, which on a
        // loaded machine took more than the 3 s this was (a datagram late, not lost; a lost one still fails)
        assertEquals(0, rx.setsockopt(rfd, org.modnet.socket.api.SocketCalls.SOL_SOCKET, org.modnet.socket.api.SocketCalls.SO_RCVTIMEO, 60, 0));
        assertEquals(0, rx.setsockopt(rfd, org.modnet.socket.api.SocketCalls.SOL_SOCKET, org.modnet.socket.api.SocketCalls.SO_RCVBUF, 1 << 20));
        int tfd = tx.socket(org.modnet.socket.api.SocketCalls.AF_INET, org.modnet.socket.api.SocketCalls.SOCK_DGRAM, 0);
        org.modnet.socket.api.SockAddr to = new org.modnet.socket.api.SockAddr(0x0a000202, 7000);
        for (int i = 0; i < 50; i++) {
            assertEquals(4, tx.sendto(tfd, java.nio.ByteBuffer.allocate(4).putInt(0, i), 0, to));
        }
        Thread.sleep(200);
        Map<String, Map<String, Long>> countersBefore = new java.util.LinkedHashMap<>();
        for (String ns : new String[] { "a", "r", "b" }) {
            countersBefore.put(ns, nstat(ns));
        }
        String out = ModnetRuntime.run(processor, "update ipv4 " + rebuilt("org.modnet.ipv4", "Modnet-Rebuilt", "udp test"));
        assertThat(out, containsString("state handed over"));
        ModnetRuntime.service(context, org.modnet.socket.api.SocketProtocol.class, null);
        for (int i = 50; i < 100; i++) {
            assertEquals("the sender's descriptor works after the update", 4,
                    tx.sendto(tfd, java.nio.ByteBuffer.allocate(4).putInt(0, i), 0, to));
        }
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(16);
        for (int i = 0; i < 100; i++) {
            buf.clear();
            long t = System.nanoTime();
            int n = rx.recvfrom(rfd, buf, 0, null);
            if (i == 50) {
                System.out.printf("udp across an update of ipv4: the first datagram after it came %.1f ms after the receive began%n",
                        (System.nanoTime() - t) / 1e6);
            }
            if (n != 4) {
                StringBuilder moved = new StringBuilder();
                for (String ns : countersBefore.keySet()) {
                    Map<String, Long> now = nstat(ns);
                    moved.append(ns).append(':');
                    now.forEach((k, v) -> {
                        if (!v.equals(countersBefore.get(ns).getOrDefault(k, 0L))) {
                            moved.append(' ').append(k).append('+').append(v - countersBefore.get(ns).getOrDefault(k, 0L));
                        }
                    });
                    moved.append("; ");
                }
                assertEquals("datagram " + i + " on the receiver's descriptor, in order (counters that moved from the update: " + moved
                        + "holder " + holder() + ")", 4, n);
            }
            assertEquals(i, buf.getInt(0));
        }
        assertEquals(0, tx.close(tfd));
        assertEquals(0, rx.close(rfd));
    }

    @Test
    public void ethernetUpdatedUnderAForwardingFloodKeepsTheNeighbourTable() throws Exception {
        Path jar = rebuilt("org.modnet.ethernet", "Modnet-Rebuilt", "hand-over test");
        String neighBefore = ModnetRuntime.run(processor, "r", "ip neigh show dev rb");
        assertThat(neighBefore, containsString("lladdr"));
        long countedBefore = counted();
        long broadcastsBefore = arpBroadcastsForB.get();
        Flood f;
        try (SwapWatch watch = new SwapWatch("org.modnet.ethernet", org.modnet.api.inet.NeighbourTable.class.getName(), "neighbour table",
                Eth.ETH_P_ARP)) {
            f = flood(() -> watch.run("update ethernet " + jar));
            report("ethernet update", f, counted() - countedBefore);
            watch.print("ethernet update");
        }
        long counted = counted() - countedBefore;
        assertThat(f.output(), containsString("state handed over"));
        assertEquals("every frame sent arrived at b or is on a counter", f.sent(), f.distinct() + counted);
        assertEquals("no broadcast ARP request for b after the swap: the neighbour was kept", broadcastsBefore, arpBroadcastsForB.get());
        String neighAfter = ModnetRuntime.run(processor, "r", "ip neigh show dev rb");
        assertEquals("the same link address", neighBefore.replaceAll(" (REACHABLE|STALE|DELAY|PROBE)", ""),
                neighAfter.replaceAll(" (REACHABLE|STALE|DELAY|PROBE)", ""));
        assertThat(ModnetRuntime.run(processor, "a", "ping -c 1 -W 2 10.0.2.2"), containsString("1 received"));
    }

    @Test
    public void anUpdateToAnUnreadableStateVersionIsRefusedBeforeTheSwapAndTrafficContinues() throws Exception {
        Path jar = rebuilt("org.modnet.ipv4", "Modnet-State-Version", "2");
        Bundle ipv4 = ModnetRuntime.bundleNamed(context, "org.modnet.ipv4");
        long modified = ipv4.getLastModified();
        Flood f = flood(() -> ModnetRuntime.runCapturing(processor, null, "update ipv4 " + jar));
        assertThat(f.output(), containsString("update: ERROR: could not update 'ipv4': the new version cannot adopt the running state:"
                + " it reads state version 2, the running version holds version 1; the running version is unchanged"));
        assertEquals("the running version was never stopped", modified, ipv4.getLastModified());
        assertEquals(Bundle.ACTIVE, ipv4.getState());
        assertEquals("nothing lost: the old version forwarded throughout", f.sent(), f.distinct());
        assertThat(ModnetRuntime.run(processor, "r", "ip route"), containsString("10.9.0.0/16 via 10.0.2.2 dev rb"));
    }

    @Test
    public void modinfoListsAModulesParametersWithLinuxsFields() throws Exception {
        String ipv4 = ModnetRuntime.run(processor, "modinfo ipv4");
        for (String field : new String[] { "filename:", "name:", "version:", "description:", "author:", "depends:" }) {
            assertThat(ipv4, containsString(field));
        }
        assertThat(ipv4, containsString("parm:        net.ipv4.ip_forward=0 (sysctl)"));
        assertThat(ipv4, containsString("parm:        net.ipv4.ip_local_port_range=32768 60999 (sysctl)"));
        assertThat(ModnetRuntime.run(processor, "modinfo ethernet"), containsString("parm:        net.ipv4.neigh.default.gc_thresh3=1024 (sysctl)"));
        assertThat(ModnetRuntime.run(processor, "modinfo core"), containsString("parm:        org.modnet.sysctl (Configuration Admin PID)"));
        // a module that describes its configuration (metatype) lists each parameter as MODULE_PARM_DESC does
        String cubic = ModnetRuntime.run(processor, "modinfo tcp_cubic");
        assertThat(cubic, containsString("parm:        beta:the window kept after a loss, in 1/1024 (717 is 0.7) (int)"));
        assertThat(cubic, containsString("parm:        hystart_low_window:"));
        assertThat(cubic, not(containsString("Configuration Admin PID")));
    }

    // --- bad input through the shell ---

    private static Path jar(String name, Manifest mf, Map<String, byte[]> entries) throws Exception {
        Path out = Files.createTempFile(name, ".jar");
        try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(out), mf)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                o.putNextEntry(new JarEntry(e.getKey()));
                o.write(e.getValue());
                o.closeEntry();
            }
        }
        return out;
    }

    private static Manifest manifest(String... headers) {
        Manifest m = new Manifest();
        m.getMainAttributes().putValue("Manifest-Version", "1.0");
        m.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
        for (int i = 0; i < headers.length; i += 2) {
            m.getMainAttributes().putValue(headers[i], headers[i + 1]);
        }
        return m;
    }

    private int bundleCount() {
        return context.getBundles().length;
    }

    @Test
    public void aFileThatIsNoBundleIsRefused() throws Exception {
        Path text = Files.createTempFile("notes", ".jar");
        Files.writeString(text, "not a jar");
        int n = bundleCount();
        assertThat(ModnetRuntime.runCapturing(processor, null, "insmod " + text),
                containsString("insmod: ERROR: could not insert module " + text + ": Invalid module format"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "update ipv4 " + text),
                containsString("update: ERROR: could not update 'ipv4': " + text + ": Invalid module format"));
        assertEquals(n, bundleCount());
        assertThat(ModnetRuntime.run(processor, "a", "ping -c 1 -W 2 10.0.2.2"), containsString("1 received"));
    }

    @Test
    public void aBundleThatIsNoModnetModuleIsRefused() throws Exception {
        Path plain = jar("plain", manifest("Bundle-SymbolicName", "com.example.plain", "Bundle-Version", "1.0.0",
                "Import-Package", "org.osgi.framework"), Map.of());
        int n = bundleCount();
        assertThat(ModnetRuntime.runCapturing(processor, null, "insmod " + plain),
                containsString("insmod: ERROR: could not insert module " + plain + ": Invalid module format (not a modnet module"));
        assertEquals("nothing installed", n, bundleCount());
    }

    @Test
    public void aModuleWhoseApiVersionDoesNotMatchIsRefusedAndTheRunningOneStays() throws Exception {
        Path wrongApi = jar("wrongapi", manifest("Bundle-SymbolicName", "org.modnet.example.wrongapi", "Bundle-Version", "1.0.0",
                "Import-Package", "org.modnet.api.net;version=\"[9.0,10)\""), Map.of());
        int n = bundleCount();
        assertThat(ModnetRuntime.runCapturing(processor, null, "insmod " + wrongApi),
                containsString("Unknown symbol in module (nothing exports package org.modnet.api.net in version [9.0.0,10.0.0)"
                        + ", which is here in version 1."));
        assertEquals(n, bundleCount());
        // the same for an update of a running module: refused before the swap
        Manifest mf;
        Path ipv4Jar = ModnetRuntime.root().resolve("run-configs/target/repo/org.modnet.ipv4-0.1.0-SNAPSHOT.jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(ipv4Jar))) {
            mf = new Manifest(in.getManifest());
        }
        mf.getMainAttributes().putValue("Import-Package", "org.modnet.api.net;version=\"[9.0,10)\"");
        Path ipv4Wrong = jar("ipv4wrong", mf, Map.of());
        Bundle ipv4 = ModnetRuntime.bundleNamed(context, "org.modnet.ipv4");
        long modified = ipv4.getLastModified();
        assertThat(ModnetRuntime.runCapturing(processor, null, "update ipv4 " + ipv4Wrong),
                containsString("update: ERROR: could not update 'ipv4': Unknown symbol in module"));
        assertEquals(modified, ipv4.getLastModified());
        assertThat(ModnetRuntime.run(processor, "a", "ping -c 1 -W 2 10.0.2.2"), containsString("1 received"));
    }

    /** A class {@code example.Boom implements Runnable} whose constructor throws: a component that fails to activate. */
    private static byte[] boomClass() {
        ClassDesc boom = ClassDesc.of("example.Boom");
        ClassDesc ise = ClassDesc.of("java.lang.IllegalStateException");
        return ClassFile.of().build(boom, cb -> cb.withFlags(ClassFile.ACC_PUBLIC | ClassFile.ACC_SUPER)
                .withInterfaceSymbols(ClassDesc.of("java.lang.Runnable"))
                .withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC, code -> code
                        .aload(0).invokespecial(ConstantDescs.CD_Object, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void)
                        .new_(ise).dup().ldc("boom: this module fails in its activation")
                        .invokespecial(ise, ConstantDescs.INIT_NAME, MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_String))
                        .athrow())
                .withMethodBody("run", ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC, code -> code.return_()));
    }

    /** {@code example.Boom implements BundleActivator}: its start throws. */
    private static byte[] boomActivator() {
        ClassDesc boom = ClassDesc.of("example.Boom");
        ClassDesc ise = ClassDesc.of("java.lang.IllegalStateException");
        ClassDesc ctx = ClassDesc.of("org.osgi.framework.BundleContext");
        MethodTypeDesc withContext = MethodTypeDesc.of(ConstantDescs.CD_void, ctx);
        return ClassFile.of().build(boom, cb -> cb.withFlags(ClassFile.ACC_PUBLIC | ClassFile.ACC_SUPER)
                .withInterfaceSymbols(ClassDesc.of("org.osgi.framework.BundleActivator"))
                .withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC, code -> code
                        .aload(0).invokespecial(ConstantDescs.CD_Object, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void).return_())
                .withMethodBody("start", withContext, ClassFile.ACC_PUBLIC, code -> code
                        .new_(ise).dup().ldc("boom: this version fails as it starts")
                        .invokespecial(ise, ConstantDescs.INIT_NAME, MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_String))
                        .athrow())
                .withMethodBody("stop", withContext, ClassFile.ACC_PUBLIC, code -> code.return_()));
    }

    @Test
    public void anUpdateToAVersionThatFailsToStartPutsTheOldOneBackWithItsState() throws Exception {
        Path ipv4Jar = ModnetRuntime.root().resolve("run-configs/target/repo/org.modnet.ipv4-0.1.0-SNAPSHOT.jar");
        Path broken = Files.createTempFile("org.modnet.ipv4-broken", ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(ipv4Jar))) {
            Manifest mf = new Manifest(in.getManifest());
            mf.getMainAttributes().putValue("Bundle-Activator", "example.Boom");
            try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(broken), mf)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    o.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(o);
                    o.closeEntry();
                }
                o.putNextEntry(new JarEntry("example/Boom.class"));
                o.write(boomActivator());
                o.closeEntry();
            }
        }
        String out = ModnetRuntime.runCapturing(processor, null, "update ipv4 " + broken);
        assertThat(out, containsString("update: ERROR: could not update 'ipv4': "));
        assertThat(out, org.hamcrest.CoreMatchers.anyOf(containsString("; the old version was restored"),
                containsString("; the new bundle was removed and the old version restarted"))); // in place, or staged
        Bundle ipv4 = ModnetRuntime.bundleNamed(context, "org.modnet.ipv4");
        assertEquals(Bundle.ACTIVE, ipv4.getState());
        assertEquals("the old jar again", null, ipv4.getHeaders().get("Bundle-Activator"));
        ModnetRuntime.service(context, org.modnet.api.inet.RouteTable.class, null);
        assertThat("the state the old version deposited came back to it", ModnetRuntime.run(processor, "r", "ip route"),
                containsString("10.9.0.0/16 via 10.0.2.2 dev rb"));
        assertThat(ModnetRuntime.run(processor, "a", "ping -c 1 -W 2 10.0.2.2"), containsString("1 received"));
    }

    @Test
    public void updateWithoutAFileReadsTheModuleFromWhereItCame() throws Exception {
        String out = ModnetRuntime.run(processor, "update ethernet");
        assertThat(out, containsString("update: org.modnet.ethernet 0.1.0.SNAPSHOT -> 0.1.0.SNAPSHOT from "));
        assertThat(out, containsString("state handed over"));
        assertThat(ModnetRuntime.run(processor, "r", "ip neigh show dev rb"), containsString("10.0.2.2 lladdr"));
    }

    @Test
    public void aModuleWhoseComponentThrowsInItsActivationIsRefusedAndUninstalled() throws Exception {
        String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<scr:component xmlns:scr=\"http://www.osgi.org/xmlns/scr/v1.3.0\" name=\"example.Boom\" immediate=\"true\">\n"
                + "  <implementation class=\"example.Boom\"/>\n"
                + "  <service><provide interface=\"java.lang.Runnable\"/></service>\n"
                + "</scr:component>\n";
        Path boom = jar("boom", manifest("Bundle-SymbolicName", "org.modnet.example.boom", "Bundle-Version", "1.0.0",
                "Import-Package", "org.modnet.api.net;version=\"[1.0,2)\"", "Service-Component", "OSGI-INF/example.Boom.xml",
                "Provide-Capability", "osgi.service;objectClass:List<String>=\"java.lang.Runnable\""),
                Map.of("example/Boom.class", boomClass(), "OSGI-INF/example.Boom.xml", xml.getBytes(StandardCharsets.UTF_8)));
        int n = bundleCount();
        assertThat(ModnetRuntime.runCapturing(processor, null, "insmod " + boom),
                containsString("insmod: ERROR: could not insert module " + boom + ": its components did not come up (nothing registered java.lang.Runnable"));
        assertEquals("uninstalled again", n, bundleCount());
        assertThat(ModnetRuntime.run(processor, "a", "ping -c 1 -W 2 10.0.2.2"), containsString("1 received"));
        assertThat(ModnetRuntime.run(processor, "lsmod"), org.hamcrest.CoreMatchers.not(containsString("boom")));
    }
}

package org.modnet.bench;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.core.StandaloneCore;
import org.modnet.drivers.loopback.Loopback;
import org.modnet.drivers.veth.VethDriver;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;
import org.modnet.socket.SocketLayer;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.SocketProtocol;
import org.modnet.tcp.TcpProtocol;

/**
 * modnet's TCP measured between two namespaces A (10.0.0.1) and B (10.0.0.2) joined by an in-memory
 * veth pair, through the BSD calls of {@link SocketCalls}. Not JMH: each mode is one long run whose
 * rate, CPU time and allocation are read around it, so the same numbers can be printed beside Linux's
 * (bin/modnet-tcp-bench runs iperf3 between two Linux namespaces in the same run).
 *
 * <pre>
 *   bulk [SECONDS] [--manual] [--buf BYTES]   one connection A -> B, as fast as it goes;
 *        [--mss-frames] [--gro on|off]       va cutting MSS frames (tso, gso off), vb's GRO
 *   crr [SECONDS] [--manual]                  connect, a 64-byte request, a 64-byte reply, close
 *   rr [SECONDS]                              one connection, a 64-byte request and a 64-byte reply at a time
 *                                             (one thread, as --manual): bytes allocated per round trip
 *   idle [COUNT] [--buf BYTES]                COUNT established connections held, heap per connection
 *   goodput [SECONDS]                         the loss grid: one connection over netem, 100 ms RTT, 32 KiB
 *                                             buffers, 0/1/2/5/10% loss, reno, cubic and bbr, on virtual time;
 *                                             -Dmodnet.goodput.delay=50ms: netem's delay each way;
 *                                             -Dmodnet.goodput.runs=N: the median of N loss patterns (netem seeds),
 *                                             .algos=/.losses= a part of the grid, .trace=true one point's
 *                                             counters and time per ca_state, .series=MS its state every MS,
 *                                             .stepNs= the virtual clock's step (1 ms)
 * </pre>
 *
 * {@code --manual}: one thread does everything (sends until the window is full, runs the softirq,
 * reads), so the figure is the stack's own cost without thread hand-offs; otherwise the core has two
 * softirq threads and the sender and the receiver are threads of their own, as in the OSGi runtime.
 */
public final class TcpBench {
    static final int SERVER = 0x0a000002;
    static final int PORT = 5001;

    private final StandaloneCore stack;
    private final SocketLayer sockets;
    private final NetNamespace nsA;
    private final NetNamespace nsB;
    private final NetDevice va;
    private final NetDevice vb;
    private final TcpProtocol tcp;

    TcpBench(boolean threaded, int cpus, int buffers) throws Exception {
        this(threaded, cpus, buffers, System::nanoTime);
    }

    TcpBench(boolean threaded, int cpus, int buffers, java.util.function.LongSupplier clock) throws Exception {
        stack = threaded ? StandaloneCore.threaded(cpus, buffers) : StandaloneCore.manual(cpus, buffers, clock);
        ArpProtocol arp = new ArpProtocol(stack.core());
        Ipv4Protocol ipv4 = new Ipv4Protocol(stack.core(), arp);
        tcp = new TcpProtocol(stack.core(), ipv4);
        sockets = new SocketLayer(stack.core());
        stack.addPernet(new Loopback(), 0);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addPernet(tcp, 20);
        stack.addPernet(sockets, 30);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        ipv4.addProtocol(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.addOffload(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        stack.addOffload(Eth.ETH_P_IP, ipv4);
        sockets.addProtocol(tcp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 1, SocketProtocol.PROTOCOL, 6,
                SocketProtocol.DEFAULT, true));
        nsA = stack.core().addNamespace("A");
        nsB = stack.core().addNamespace("B");
        va = new VethDriver().create(nsA, "va", List.of("peer", "name", "vb"));
        vb = nsA.device("vb");
        vb.setNamespace(nsB);
        va.addAddress(address("10.0.0.1"));
        vb.addAddress(address("10.0.0.2"));
        va.open();
        vb.open();
    }

    private static IfAddress address(String a) throws Exception {
        return new IfAddress(InetAddress.getByName(a), 16, InetAddress.getByName("10.0.255.255"), "global", a);
    }

    /** One more address on A, for clients bound to it (each address has its own 64 Ki ports). */
    void addClientAddress(String a) throws Exception {
        va.addAddress(address(a));
    }

    /** Socket buffers of {@code bytes} in both namespaces: rmem/wmem_max and tcp_rmem/tcp_wmem's default. */
    void buffers(int bytes) throws Exception {
        for (NetNamespace ns : List.of(nsA, nsB)) {
            ns.sysctl().set("net.core.rmem_max", Integer.toString(bytes));
            ns.sysctl().set("net.core.wmem_max", Integer.toString(bytes));
            ns.sysctl().set("net.ipv4.tcp_rmem", "4096 " + bytes + " " + Math.max(bytes, 6291456));
            ns.sysctl().set("net.ipv4.tcp_wmem", "4096 " + bytes + " " + Math.max(bytes, 4194304));
        }
    }

    void close() {
        stack.shutdown();
    }

    static int check(int r, String what) {
        if (r < 0) {
            throw new IllegalStateException(what + ": " + SocketCalls.strerror(r));
        }
        return r;
    }

    // --- what the run cost: CPU time of the whole process, bytes allocated by every thread ---

    record Cost(long wallNanos, long cpuNanos, long allocated, long gcs) {
        static Cost now() {
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long gcs = 0;
            for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                gcs += Math.max(0, gc.getCollectionCount());
            }
            return new Cost(System.nanoTime(), os.getProcessCpuTime(), threads.getTotalThreadAllocatedBytes(), gcs);
        }

        Cost since(Cost start) {
            return new Cost(wallNanos - start.wallNanos, cpuNanos - start.cpuNanos, allocated - start.allocated,
                    gcs - start.gcs);
        }
    }

    // --- bulk ---

    /** Bytes moved A -> B in {@code seconds}, with what it cost, printed. */
    void bulk(double seconds, boolean manual) throws Exception {
        SocketCalls server = sockets.process("bench-server", "B");
        SocketCalls client = sockets.process("bench-client", "A");
        int l = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
        check(server.bind(l, new SockAddr(0, PORT)), "bind");
        check(server.listen(l, 16), "listen");
        int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | (manual ? SocketCalls.SOCK_NONBLOCK : 0), 0),
                "socket");
        int r = client.connect(c, new SockAddr(SERVER, PORT));
        if (manual) {
            if (r != -115) {
                check(r, "connect");
            }
            stack.run();
        } else {
            check(r, "connect");
        }
        int s = check(server.accept(l, null, manual ? SocketCalls.SOCK_NONBLOCK : 0), "accept");
        int[] mss = new int[1];
        client.getsockopt(c, SocketCalls.IPPROTO_TCP, 2 /* TCP_MAXSEG */, mss);
        int[] sndbuf = new int[1];
        int[] rcvbuf = new int[1];
        client.getsockopt(c, SocketCalls.SOL_SOCKET, SocketCalls.SO_SNDBUF, sndbuf);
        server.getsockopt(s, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, rcvbuf);

        ByteBuffer out = ByteBuffer.allocate(128 << 10);
        ByteBuffer in = ByteBuffer.allocate(128 << 10);
        // warm-up: the JIT and the windows
        long warm = manual ? manualMove(client, c, server, s, out, in, 2_000_000_000L)
                : threadedMove(client, c, server, s, out, in, 2_000_000_000L);
        long segs0 = tcp.counters(nsA).getOrDefault("TcpOutSegs", 0L);
        Cost start = Cost.now();
        long moved = manual ? manualMove(client, c, server, s, out, in, (long) (seconds * 1e9))
                : threadedMove(client, c, server, s, out, in, (long) (seconds * 1e9));
        Cost cost = Cost.now().since(start);
        long segs = tcp.counters(nsA).getOrDefault("TcpOutSegs", 0L) - segs0;
        double gbit = moved * 8.0 / cost.wallNanos;
        System.out.printf("modnet bulk (%s): %.3f Gbit/s, %d bytes in %.2f s, TCP_MAXSEG %s, %d segments sent (%.0f bytes each), sndbuf %d, rcvbuf %d (warm-up moved %d)%n",
                manual ? "one thread" : "softirq threads + sender + receiver", gbit, moved, cost.wallNanos / 1e9,
                mss[0] == 0 ? "not readable yet" : Integer.toString(mss[0]), segs, (double) moved / Math.max(1, segs), sndbuf[0], rcvbuf[0], warm);
        System.out.printf("modnet bulk: CPU %.3f s per GB (%.0f%% of one core), %.1f bytes allocated per MB, %d GCs%n",
                cost.cpuNanos / 1e9 / (moved / 1e9), 100.0 * cost.cpuNanos / cost.wallNanos,
                cost.allocated / (moved / 1e6), cost.gcs);
        System.out.println("modnet bulk: veth " + vb.ringParams() + ", rx_dropped va " + va.stats().get(
                org.modnet.api.net.DeviceStats.Field.RX_DROPPED) + " vb " + vb.stats().get(org.modnet.api.net.DeviceStats.Field.RX_DROPPED)
                + ", tx_dropped va " + va.stats().get(org.modnet.api.net.DeviceStats.Field.TX_DROPPED));
        System.out.println("modnet bulk: vb rx_packets " + vb.stats().get(org.modnet.api.net.DeviceStats.Field.RX_PACKETS)
                + ", generic-receive-offload " + (vb.features().getOrDefault("generic-receive-offload", false) ? "on" : "off") + ", "
                + vb.ethtoolStats().entrySet().stream().filter(e -> e.getKey().contains("_gro_")).map(e -> e.getKey() + " " + e.getValue())
                        .collect(java.util.stream.Collectors.joining(", ")));
        System.out.println("modnet bulk: sender " + nonZero(tcp.counters(nsA)) + "; receiver " + nonZero(tcp.counters(nsB)));
        System.out.printf("RESULT bulk_gbit=%.3f mss=%d seg_bytes=%.0f cpu_s_per_gb=%.3f alloc_b_per_mb=%.1f%n", gbit, mss[0],
                (double) moved / Math.max(1, segs), cost.cpuNanos / 1e9 / (moved / 1e9), cost.allocated / (moved / 1e6));
        client.close();
        server.close();
    }

    /** The sender and the receiver on threads of their own, blocking calls; bytes received in {@code nanos}. */
    private static long threadedMove(SocketCalls client, int c, SocketCalls server, int s, ByteBuffer out, ByteBuffer in,
            long nanos) throws Exception {
        AtomicLong received = new AtomicLong();
        long end = System.nanoTime() + nanos;
        // a receiver that drained everything just before the sender stopped at the deadline would wait
        // for ever: it waits at most 100 ms at a time and looks at the clock again
        check(server.setsockopt(s, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 0, 100_000), "SO_RCVTIMEO");
        Thread rx = Thread.ofPlatform().name("bench-rx").start(() -> {
            while (System.nanoTime() < end) {
                in.clear();
                int n = server.recv(s, in, 0);
                if (n == -11) {
                    continue; // EAGAIN: SO_RCVTIMEO passed without data
                }
                if (n <= 0) {
                    throw new IllegalStateException("recv: " + SocketCalls.strerror(n));
                }
                received.addAndGet(n);
            }
        });
        while (System.nanoTime() < end) {
            out.clear();
            check(client.send(c, out, 0), "send");
        }
        rx.join();
        return received.get();
    }

    /** One thread: send until the windows are full, run the softirqs, read what arrived; bytes read in {@code nanos}. */
    private long manualMove(SocketCalls client, int c, SocketCalls server, int s, ByteBuffer out, ByteBuffer in, long nanos) {
        long received = 0;
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 8; i++) {
                out.clear();
                int n = client.send(c, out, SocketCalls.MSG_DONTWAIT);
                if (n == -11) {
                    break;
                }
                check(n, "send");
            }
            stack.run();
            while (true) {
                in.clear();
                int n = server.recv(s, in, SocketCalls.MSG_DONTWAIT);
                if (n == -11) {
                    break;
                }
                received += check(n, "recv");
            }
            stack.run();
        }
        return received;
    }

    /** The counters that are not 0, but the everyday ones. */
    private static String nonZero(Map<String, Long> counters) {
        StringBuilder b = new StringBuilder();
        counters.forEach((k, v) -> {
            if (v != 0 && !k.matches("Tcp(ActiveOpens|PassiveOpens|CurrEstab|RtoAlgorithm|RtoMin|RtoMax|MaxConn"
                    + "|ExtTCPOrigDataSent|ExtTCPPureAcks|ExtTCPHPAcks|ExtTCPHPHits)")) { // segments and delayed ACKs: beside Linux's nstat
                b.append(b.isEmpty() ? "" : " ").append(k).append(' ').append(v);
            }
        });
        return b.isEmpty() ? "no other counters" : b.toString();
    }

    // --- goodput under loss ---

    /** smoltcp's published goodput at 10% loss over its own benchmark link (B/s): the comparison without Linux's grid. */
    static final double SMOLTCP_10PCT = 37_775;

    /**
     * One point of the goodput grid on a fresh stack: A sends to B for {@code seconds} of virtual time
     * (the core's clock moves 1 ms a step, so a minute of a 100 ms RTT link takes seconds), through
     * {@code tc qdisc replace dev va|vb root netem delay 50ms loss L%} on both ends (100 ms RTT, the loss
     * both ways), a 32 KiB window ({@code tcp_rmem} and {@code tcp_wmem} 4096 57344 57344 as on Linux's
     * side: no autotuning past them), {@code algo} as {@code net.ipv4.tcp_congestion_control}.
     * Returns bytes per second the receiver read.
     */
    static double goodputPoint(String algo, double lossPct, double seconds) throws Exception {
        return goodputPoint(algo, lossPct, seconds, -1);
    }

    /** One point with netem's {@code seed N} on each end (N and N + 1), or its default seed when {@code seed} is negative. */
    static double goodputPoint(String algo, double lossPct, double seconds, long seed) throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        TcpBench b = new TcpBench(false, 1, 16384, clock::get);
        try {
            b.tcp.addCongestion(new org.modnet.tcp_cubic.Cubic(), Map.of(org.modnet.api.tcp.TcpCongestionOps.NAME, "cubic"));
            b.tcp.addCongestion(new org.modnet.tcp_bbr.Bbr(), Map.of(org.modnet.api.tcp.TcpCongestionOps.NAME, "bbr"));
            org.modnet.sched.NetemLink tc = new org.modnet.sched.NetemLink(b.stack);
            String loss = lossPct == Math.rint(lossPct) ? Integer.toString((int) lossPct) : Double.toString(lossPct);
            for (var dev : List.of(b.va, b.vb)) { // one segment a frame, so the loss hits segments, as on smoltcp's link
                dev.setFeature("tcp-segmentation-offload", false);
                dev.setFeature("generic-segmentation-offload", false);
            }
            String delay = System.getProperty("modnet.goodput.delay", "50ms"); // each way: another path RTT, as netem takes it
            if (seed < 0) {
                tc.netem("A", "va", "delay", delay, "loss", loss + "%", "limit", "1000");
                tc.netem("B", "vb", "delay", delay, "loss", loss + "%", "limit", "1000");
            } else {
                tc.netem("A", "va", "delay", delay, "loss", loss + "%", "limit", "1000", "seed", Long.toString(seed));
                tc.netem("B", "vb", "delay", delay, "loss", loss + "%", "limit", "1000", "seed", Long.toString(seed + 1));
            }
            // a 32 KiB window and no autotuning past it, as smoltcp's fixed buffers: Linux's sysctls of
            // bin/modnet-goodput-linux (a 56 KiB buffer offers about 32 KiB at a 1500-byte frame's scaling ratio)
            for (NetNamespace ns : List.of(b.nsA, b.nsB)) {
                ns.sysctl().set("net.ipv4.tcp_rmem", "4096 " + (56 << 10) + " " + (56 << 10));
                ns.sysctl().set("net.ipv4.tcp_wmem", "4096 " + (56 << 10) + " " + (56 << 10));
                ns.sysctl().set("net.ipv4.tcp_congestion_control", algo);
            }
            SocketCalls server = b.sockets.process("bench-server", "B");
            SocketCalls client = b.sockets.process("bench-client", "A");
            int l = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK, 0), "socket");
            check(server.bind(l, new SockAddr(0, PORT)), "bind");
            check(server.listen(l, 16), "listen");
            int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK, 0), "socket");
            client.connect(c, new SockAddr(SERVER, PORT));
            int s = -11;
            for (int ms = 0; ms < 30_000 && s < 0; ms++) { // the handshake, retried through loss
                b.stack.run();
                s = server.accept(l, null, SocketCalls.SOCK_NONBLOCK);
                clock.addAndGet(1_000_000L);
            }
            check(s, "accept");
            ByteBuffer out = ByteBuffer.allocate(64 << 10);
            ByteBuffer in = ByteBuffer.allocate(64 << 10);
            long start = clock.get();
            long end = start + (long) (seconds * 1e9);
            long received = 0;
            boolean trace = Boolean.getBoolean("modnet.goodput.trace");
            org.modnet.socket.api.Sock snd = trace ? b.tcp.sockets(b.nsA).stream()
                    .filter(k -> k.tcpInfo() != null && k.tcpInfo().state() == 1).findFirst().orElse(null) : null;
            // the receiver's ACK delay for data that arrived in order, as bin/modnet-goodput-linux's capture at
            // the receiver measures Linux's (to the millisecond step here): bytes newly in order, then the
            // next step the receiver sent a segment in (its ACK covers them)
            org.modnet.socket.api.Sock rcv = trace ? b.tcp.sockets(b.nsB).stream()
                    .filter(k -> k.tcpInfo() != null && k.tcpInfo().state() == 1).findFirst().orElse(null) : null;
            long rcvBytes = rcv == null ? 0 : rcv.tcpInfo().bytesReceived();
            int rcvSegsOut = rcv == null ? 0 : rcv.tcpInfo().segsOut();
            java.util.ArrayDeque<long[]> inOrder = new java.util.ArrayDeque<>(); // {arrival ns, segments}
            long ackDelaySegs = 0;
            long ackDelayNsSum = 0;
            long ackDelayedSegs = 0;
            long[] caMs = new long[5];
            long idleMs = 0;
            long limitedMs = 0;
            long srttSum = 0;
            long srttN = 0;
            long cwndSum = 0;
            long rtoSum = 0;
            long lastSendNs = clock.get(); // the sender's silences: the time between two data transmissions over 150 ms
            int segsOut = 0;
            int silences = 0;
            int[] sendBursts = new int[6]; // data segments the sender sent in one step: 1, 2, ... 5 and more
            int[] silenceBins = new int[44]; // 50 ms bins, the last one 2.15 s and over
            long silentNs = 0;
            int every = Integer.getInteger("modnet.goodput.series", 0);
            long stepNs = Long.getLong("modnet.goodput.stepNs", 1_000_000L); // the virtual clock's step
            long step = 0;
            while (clock.get() < end) {
                if (snd != null) {
                    org.modnet.socket.api.TcpInfo ti = snd.tcpInfo();
                    if (every > 0 && step++ % Math.max(every * 1_000_000L / stepNs, 1) == 0) {
                        long[] bi = snd.bbrInfo();
                        System.out.printf("SERIES t=%d ms ca=%d cwnd=%d inflight=%d unacked=%d sacked=%d lost=%d retrans=%d"
                                + " sndwnd=%d pacing=%d bbr=%s rcvd=%d%n", (clock.get() - start) / 1_000_000, ti.caState(),
                                ti.sndCwnd(), ti.unacked() - ti.sacked() - ti.lost() + ti.retrans(), ti.unacked(), ti.sacked(),
                                ti.lost(), ti.retrans(), ti.sndWnd(), ti.pacingRate(),
                                bi == null ? "-" : java.util.Arrays.toString(bi), received);
                    }
                    caMs[Math.min(ti.caState(), 4)] += stepNs; // ns until printed
                    if (ti.dataSegsOut() != segsOut) { // as a capture at the sender would see them (Linux's side: CAPTURE=1)
                        if (clock.get() - lastSendNs > 150_000_000L) {
                            silences++;
                            silentNs += clock.get() - lastSendNs;
                            silenceBins[(int) Math.min((clock.get() - lastSendNs) / 50_000_000L, silenceBins.length - 1)]++;
                        }
                        sendBursts[Math.min(ti.dataSegsOut() - segsOut, sendBursts.length - 1)]++;
                        segsOut = ti.dataSegsOut();
                        lastSendNs = clock.get();
                    }
                    srttSum += ti.rtt(); // iperf3's mean_rtt is the mean of tcpi_rtt: the same here, every step
                    cwndSum += ti.sndCwnd();
                    rtoSum += ti.rto();
                    srttN++;
                    if (ti.unacked() - ti.sacked() - ti.lost() + ti.retrans() <= 0) {
                        idleMs += stepNs;
                    }
                    if (ti.unacked() - ti.sacked() - ti.lost() + ti.retrans() >= ti.sndCwnd()) {
                        limitedMs += stepNs;
                    }
                }
                if (rcv != null) {
                    org.modnet.socket.api.TcpInfo ri = rcv.tcpInfo();
                    if (ri.bytesReceived() != rcvBytes) {
                        inOrder.add(new long[] { clock.get(), Math.max((ri.bytesReceived() - rcvBytes) / 1448, 1) });
                        rcvBytes = ri.bytesReceived();
                    }
                    if (ri.segsOut() != rcvSegsOut) {
                        rcvSegsOut = ri.segsOut();
                        for (long[] a : inOrder) {
                            long d = clock.get() - a[0] - stepNs; // seen a step after its arrival and ACK
                            ackDelaySegs += a[1];
                            ackDelayNsSum += a[1] * Math.max(d, 0);
                            ackDelayedSegs += d > 0 ? a[1] : 0;
                        }
                        inOrder.clear();
                    }
                }
                out.clear();
                int n = client.send(c, out, SocketCalls.MSG_DONTWAIT);
                if (n != -11) {
                    check(n, "send");
                }
                b.stack.run();
                while (true) {
                    in.clear();
                    int r = server.recv(s, in, SocketCalls.MSG_DONTWAIT);
                    if (r == -11) {
                        break;
                    }
                    received += check(r, "recv");
                }
                b.stack.run();
                clock.addAndGet(stepNs);
            }
            if (snd != null) {
                for (int k = 0; k < caMs.length; k++) {
                    caMs[k] /= 1_000_000L;
                }
                idleMs /= 1_000_000L;
                limitedMs /= 1_000_000L;
                org.modnet.socket.api.TcpInfo ti = snd.tcpInfo();
                System.out.printf("TRACE %s %s%%: ms in ca_state open/disorder/cwr/recovery/loss %d/%d/%d/%d/%d, nothing in flight %d ms,"
                        + " sender silent over 150 ms %d times, %d ms in all,"
                        + " cwnd-full %d ms, cwnd %d ssthresh %d rto %d us srtt %d us (mean %d us) retrans %d rto-count %d%n  sender %s%n  receiver %s%n",
                        algo, loss, caMs[0], caMs[1], caMs[2], caMs[3], caMs[4], idleMs, silences, silentNs / 1_000_000L, limitedMs, ti.sndCwnd(), ti.sndSsthresh(),
                        ti.rto(), ti.rtt(), srttN == 0 ? 0 : srttSum / srttN, ti.totalRetrans(), ti.totalRto(), nonZero(b.tcp.counters(b.nsA)),
                        nonZero(b.tcp.counters(b.nsB)));
                StringBuilder bins = new StringBuilder("  silences by 50 ms from 150 ms:");
                for (int k = 3; k < silenceBins.length; k++) {
                    if (silenceBins[k] > 0) {
                        bins.append(' ').append(k * 50).append(':').append(silenceBins[k]);
                    }
                }
                System.out.println(bins);
                int bursts = java.util.Arrays.stream(sendBursts).sum();
                System.out.printf("  sender: %d sending steps, of 1/2/3/4/5+ segments %.1f/%.1f/%.1f/%.1f/%.1f%%%n", bursts,
                        100.0 * sendBursts[1] / Math.max(bursts, 1), 100.0 * sendBursts[2] / Math.max(bursts, 1), 100.0 * sendBursts[3] / Math.max(bursts, 1),
                        100.0 * sendBursts[4] / Math.max(bursts, 1), 100.0 * sendBursts[5] / Math.max(bursts, 1));
                System.out.printf("  receiver: in-order segments %d, ACK delay mean %.2f ms, %.1f%% over one step%n", ackDelaySegs,
                        ackDelaySegs == 0 ? 0.0 : ackDelayNsSum / 1e6 / ackDelaySegs, ackDelaySegs == 0 ? 0.0 : 100.0 * ackDelayedSegs / ackDelaySegs);
                System.out.printf("  mean cwnd %.2f, mean rto %d us (each step, as the ss -ti samples of Linux's side)%n",
                        srttN == 0 ? 0.0 : (double) cwndSum / srttN, srttN == 0 ? 0 : rtoSum / srttN);
            }
            return received / ((clock.get() - start) / 1e9);
        } finally {
            b.close();
        }
    }

    /** The grid: goodput for each algorithm and loss rate, printed as a table and as RESULT lines. */
    static void goodputGrid(double seconds) throws Exception {
        String[] algos = System.getProperty("modnet.goodput.algos", "reno,cubic,bbr").split(",");
        double[] losses = java.util.Arrays.stream(System.getProperty("modnet.goodput.losses", "0,1,2,5,10").split(","))
                .mapToDouble(Double::parseDouble).toArray();
        int runs = Integer.getInteger("modnet.goodput.runs", 1);
        System.out.printf("modnet goodput, one connection, netem delay %s each way, loss both ways,"
                + " 32 KiB buffers, %.0f s of virtual time per point (B/s):%n", System.getProperty("modnet.goodput.delay", "50ms"), seconds);
        System.out.printf("%-6s %10s %10s %10s %10s %10s%n", "algo", "0%", "1%", "2%", "5%", "10%");
        for (String a : algos) {
            StringBuilder row = new StringBuilder(String.format("%-6s", a));
            for (double loss : losses) {
                double g;
                if (runs <= 1) {
                    g = goodputPoint(a, loss, seconds);
                } else { // several loss patterns (netem seeds 1000 + 10 r): the median, and the spread
                    double[] v = new double[runs];
                    for (int r = 0; r < runs; r++) {
                        v[r] = goodputPoint(a, loss, seconds, 1000 + 10L * r);
                    }
                    java.util.Arrays.sort(v);
                    g = v[runs / 2];
                    System.out.printf("RUNS goodput algo=%s loss=%.0f%% sorted=%s%n", a, loss, java.util.Arrays.toString(
                            java.util.Arrays.stream(v).mapToLong(Math::round).toArray()));
                }
                row.append(String.format(" %10.0f", g));
                System.out.printf("RESULT goodput algo=%s loss=%.0f%% bytes_per_s=%.0f vs_smoltcp_10pct=%.2f%n", a, loss, g,
                        g / SMOLTCP_10PCT);
            }
            System.out.println(row);
        }
    }

    // --- connections per second ---

    /** connect, a 64-byte request, a 64-byte reply, the client closes, the server closes: as many as fit in the time. */
    void crr(double seconds, boolean manual) throws Exception {
        SocketCalls server = sockets.process("bench-server", "B");
        SocketCalls client = sockets.process("bench-client", "A");
        int l = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
        check(server.setsockopt(l, SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1), "SO_REUSEADDR");
        check(server.bind(l, new SockAddr(0, PORT)), "bind");
        check(server.listen(l, 4096), "listen");
        // the client closes first, as netperf's TCP_CRR: its TIME-WAIT holds its port for 60 s, so at
        // more than 1,000 connections/s the range (64 Ki ports) runs out within the run; as on Linux,
        // tcp_tw_reuse=1 lets connect take over a TIME-WAIT port whose last timestamp is a second old
        for (NetNamespace ns : List.of(nsA, nsB)) {
            ns.sysctl().set("net.ipv4.ip_local_port_range", "1024 65000");
        }
        nsA.sysctl().set("net.ipv4.tcp_tw_reuse", "1");
        long warm = manual ? manualCrr(client, server, l, 1_000_000_000L) : threadedCrr(client, server, l, 1_000_000_000L);
        Cost start = Cost.now();
        long n = manual ? manualCrr(client, server, l, (long) (seconds * 1e9)) : threadedCrr(client, server, l, (long) (seconds * 1e9));
        Cost cost = Cost.now().since(start);
        double rate = n * 1e9 / cost.wallNanos;
        System.out.printf("modnet crr (%s): %.0f connections/s (%d in %.2f s; warm-up %d), CPU %.1f us and %.0f bytes allocated per connection%n",
                manual ? "one thread" : "softirq threads + client + server", rate, n, cost.wallNanos / 1e9, warm,
                cost.cpuNanos / 1e3 / n, (double) cost.allocated / n);
        System.out.printf("RESULT crr_per_s=%.0f%n", rate);
        client.close();
        server.close();
    }

    private static long threadedCrr(SocketCalls client, SocketCalls server, int l, long nanos) throws Exception {
        long end = System.nanoTime() + nanos;
        AtomicLong served = new AtomicLong();
        Thread srv = Thread.ofPlatform().name("bench-server").start(() -> {
            ByteBuffer b = ByteBuffer.allocate(64);
            while (true) {
                int s = server.accept(l, null, 0);
                if (s < 0) {
                    return; // the listener was closed
                }
                b.clear();
                if (server.recv(s, b, 0) == 0) {
                    server.close(s);
                    return; // the connection that says stop
                }
                b.flip();
                server.send(s, b, 0);
                b.clear();
                server.recv(s, b, 0); // the client's FIN
                server.close(s);
                served.incrementAndGet();
            }
        });
        ByteBuffer b = ByteBuffer.allocate(64);
        long n = 0;
        SockAddr to = new SockAddr(SERVER, PORT);
        while (System.nanoTime() < end) {
            int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
            check(client.connect(c, to), "connect");
            b.clear();
            check(client.send(c, b, 0), "send");
            b.clear();
            int got = 0;
            while (got < 64) {
                int r = check(client.recv(c, b, 0), "recv");
                if (r == 0) {
                    break;
                }
                got += r;
            }
            if (got != 64) {
                throw new IllegalStateException("reply of " + got + " bytes");
            }
            client.close(c);
            n++;
        }
        int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
        check(client.connect(c, to), "connect");
        client.shutdown(c, SocketCalls.SHUT_WR);
        srv.join(10_000);
        client.close(c);
        if (served.get() != n) {
            throw new IllegalStateException("served " + served.get() + " of " + n);
        }
        return n;
    }

    private long manualCrr(SocketCalls client, SocketCalls server, int l, long nanos) {
        long end = System.nanoTime() + nanos;
        ByteBuffer b = ByteBuffer.allocate(64);
        long n = 0;
        SockAddr to = new SockAddr(SERVER, PORT);
        while (System.nanoTime() < end) {
            int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK, 0), "socket");
            int r = client.connect(c, to);
            if (r != -115) {
                check(r, "connect");
            }
            stack.run();
            b.clear();
            check(client.send(c, b, 0), "send");
            stack.run();
            int s = check(server.accept(l, null, SocketCalls.SOCK_NONBLOCK), "accept");
            b.clear();
            check(server.recv(s, b, 0), "server recv");
            b.flip();
            check(server.send(s, b, 0), "server send");
            stack.run();
            b.clear();
            if (check(client.recv(c, b, 0), "recv") != 64) {
                throw new IllegalStateException("short reply");
            }
            client.close(c);
            stack.run();
            b.clear();
            if (server.recv(s, b, 0) != 0) {
                throw new IllegalStateException("no end of stream at the server");
            }
            server.close(s);
            stack.run();
            n++;
        }
        return n;
    }

    // --- request/response ---

    /**
     * netperf's TCP_RR on one thread: a 64-byte request, a 64-byte reply, on one connection kept open,
     * the softirqs run in between; round trips per second and the bytes every thread allocated per round
     * trip (the packet path, the socket calls and TCP: 0 is the aim).
     */
    void rr(double seconds) throws Exception {
        SocketCalls server = sockets.process("bench-server", "B");
        SocketCalls client = sockets.process("bench-client", "A");
        int l = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
        check(server.bind(l, new SockAddr(0, PORT)), "bind");
        check(server.listen(l, 16), "listen");
        int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK, 0), "socket");
        int r = client.connect(c, new SockAddr(SERVER, PORT));
        if (r != -115) {
            check(r, "connect");
        }
        stack.run();
        int s = check(server.accept(l, null, SocketCalls.SOCK_NONBLOCK), "accept");
        check(client.setsockopt(c, SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, 1), "TCP_NODELAY");
        check(server.setsockopt(s, SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, 1), "TCP_NODELAY");
        ByteBuffer b = ByteBuffer.allocate(64);
        long warm = manualRr(client, c, server, s, b, 2_000_000_000L);
        Cost start = Cost.now();
        long n = manualRr(client, c, server, s, b, (long) (seconds * 1e9));
        Cost cost = Cost.now().since(start);
        System.out.printf("modnet rr (one thread): %.0f round trips/s (%d in %.2f s; warm-up %d), CPU %.1f us and %.1f bytes allocated per round trip, %d GCs%n",
                n * 1e9 / cost.wallNanos, n, cost.wallNanos / 1e9, warm, cost.cpuNanos / 1e3 / n, (double) cost.allocated / n, cost.gcs);
        System.out.printf("RESULT rr_per_s=%.0f alloc_b_per_rr=%.1f%n", n * 1e9 / cost.wallNanos, (double) cost.allocated / n);
        client.close();
        server.close();
    }

    private long manualRr(SocketCalls client, int c, SocketCalls server, int s, ByteBuffer b, long nanos) {
        long end = System.nanoTime() + nanos;
        long n = 0;
        while (System.nanoTime() < end) {
            b.clear();
            check(client.send(c, b, 0), "send");
            stack.run();
            b.clear();
            if (check(server.recv(s, b, 0), "server recv") != 64) {
                throw new IllegalStateException("short request");
            }
            b.flip();
            check(server.send(s, b, 0), "server send");
            stack.run();
            b.clear();
            if (check(client.recv(c, b, 0), "recv") != 64) {
                throw new IllegalStateException("short reply");
            }
            n++;
        }
        return n;
    }

    // --- idle connections ---

    /** {@code count} established connections, both ends in this heap; bytes of heap per connection after GC. */
    void idle(int count) throws Exception {
        int perAddress = 60_000;
        int addresses = (count + perAddress - 1) / perAddress;
        for (int i = 0; i < addresses; i++) {
            addClientAddress("10.0.1." + (i + 1));
        }
        // a process holds RLIMIT_NOFILE descriptors: the connections are spread over processes of 1000,
        // each server process with a listener of its own (port 6000 + its number)
        List<SocketCalls> servers = new ArrayList<>();
        List<SocketCalls> clients = new ArrayList<>();
        int l = -1;
        SockAddr to = null;
        long before = heapAfterGc();
        Cost start = Cost.now();
        SocketCalls client = null;
        SocketCalls server = null;
        int made = 0;
        String stopped = null;
        try {
            for (int i = 0; i < count; i++) {
                if (i % 1000 == 0) {
                    if (heapNearlyFull()) {
                        stopped = "the heap being nearly full (85% after a GC)";
                        break;
                    }
                    client = sockets.process("bench-client", "A");
                    server = sockets.process("bench-server", "B");
                    clients.add(client);
                    servers.add(server);
                    l = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
                    check(server.bind(l, new SockAddr(0, 6000 + i / 1000)), "bind");
                    check(server.listen(l, 4096), "listen");
                    to = new SockAddr(SERVER, 6000 + i / 1000);
                }
                int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK, 0), "socket");
                int addr = 0x0a000100 + 1 + i / perAddress;
                check(client.bind(c, new SockAddr(addr, 1024 + i % perAddress)), "bind");
                int r = client.connect(c, to);
                if (r != -115) {
                    check(r, "connect");
                }
                stack.run();
                check(server.accept(l, null, SocketCalls.SOCK_NONBLOCK), "accept");
                made++;
            }
        } catch (OutOfMemoryError | IllegalStateException e) {
            stopped = e.toString();
        }
        Cost cost = Cost.now().since(start);
        long after = heapAfterGc();
        double per = (after - before) / (double) made;
        long max = Runtime.getRuntime().maxMemory();
        System.out.printf("modnet idle: %d established connections (both ends in this heap) in %.1f s, heap %d -> %d MiB of %d MiB,"
                + " %.0f bytes per connection (both ends)%s%n", made, cost.wallNanos / 1e9, before >> 20, after >> 20, max >> 20, per,
                stopped == null ? "" : "; stopped by " + stopped);
        System.out.printf("RESULT idle_made=%d idle_bytes_per_conn=%.0f%n", made, per);
        for (SocketCalls p : clients) {
            p.close();
        }
        for (SocketCalls p : servers) {
            p.close();
        }
    }

    /** Whether the heap, after a GC if it looks full, is more than 85% used: stop before an OutOfMemoryError. */
    private static boolean heapNearlyFull() {
        Runtime rt = Runtime.getRuntime();
        if (rt.totalMemory() - rt.freeMemory() < rt.maxMemory() * 0.85) {
            return false;
        }
        System.gc();
        return rt.totalMemory() - rt.freeMemory() > rt.maxMemory() * 0.85;
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "bulk";
        double seconds = 10;
        int count = 100_000;
        boolean manual = false;
        int buf = 0;
        int ring = 0;
        boolean mssFrames = false;
        String gro = null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--mss-frames" -> mssFrames = true; // va: tso off, gso off (ethtool -K va tso off gso off)
                case "--gro" -> gro = args[++i]; // vb: ethtool -K vb gro on|off
                case "--manual" -> manual = true;
                case "--buf" -> buf = Integer.parseInt(args[++i]);
                case "--ring" -> ring = Integer.parseInt(args[++i]);
                default -> {
                    if (mode.equals("idle")) {
                        count = Integer.parseInt(args[i]);
                    } else {
                        seconds = Double.parseDouble(args[i]);
                    }
                }
            }
        }
        boolean threaded = !manual && !mode.equals("idle") && !mode.equals("goodput") && !mode.equals("rr");
        TcpBench b = new TcpBench(threaded, threaded ? 2 : 1, Integer.getInteger("modnet.skb.buffers", 16384));
        try {
            if (buf > 0) {
                b.buffers(buf);
            }
            if (ring > 0) {
                b.va.setRingParams(ring, 0);
                b.vb.setRingParams(ring, 0);
            }
            if (mssFrames) {
                b.va.setFeature("tcp-segmentation-offload", false);
                b.va.setFeature("generic-segmentation-offload", false);
            }
            if (gro != null) {
                b.vb.setFeature("generic-receive-offload", gro.equals("on"));
            }
            switch (mode) {
                case "goodput" -> goodputGrid(seconds);
                case "bulk" -> b.bulk(seconds, manual);
                case "crr" -> b.crr(seconds, manual);
                case "rr" -> b.rr(seconds);
                case "idle" -> b.idle(count);
                default -> throw new IllegalArgumentException("usage: TcpBench bulk|crr|rr [SECONDS] [--manual] [--buf BYTES] | idle [COUNT] [--buf BYTES]");
            }
        } finally {
            b.close();
        }
        System.exit(0);
    }
}

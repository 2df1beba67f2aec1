package org.modnet.udp;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * UDP between two namespaces joined by a veth pair, on one core: a burst of datagrams sent with
 * {@code sendto} from A (UDP, IP output, ARP-resolved neighbour, veth), then B's softirq (NAPI, IPv4,
 * UDP demux, the socket queue), then {@code recv} in B. One op is one datagram sent, delivered and
 * read; {@code -prof gc} gives the bytes allocated per datagram.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = { "--enable-native-access=ALL-UNNAMED" })
public class UdpBenchmark {
    static final int BURST = 32;

    @Param({ "64", "1400" })
    public int size;

    private StandaloneCore stack;
    private SocketCalls a;
    private SocketCalls b;
    private int sender;
    private int receiver;
    private SockAddr to;
    private ByteBuffer out;
    private final ByteBuffer in = ByteBuffer.allocate(2048);

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 8192, System::nanoTime);
        ArpProtocol arp = new ArpProtocol(stack.core());
        Ipv4Protocol ipv4 = new Ipv4Protocol(stack.core(), arp);
        UdpProtocol udp = new UdpProtocol(ipv4);
        SocketLayer sockets = new SocketLayer(stack.core());
        stack.addPernet(new Loopback(), 0);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addPernet(udp, 20);
        stack.addPernet(sockets, 30);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        ipv4.addProtocol(udp, Map.of(InetProtocol.PROTOCOL, 17));
        sockets.addProtocol(udp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 2, SocketProtocol.PROTOCOL, 17,
                SocketProtocol.DEFAULT, true));
        NetNamespace nsA = stack.core().addNamespace("A");
        NetNamespace nsB = stack.core().addNamespace("B");
        NetDevice va = new VethDriver().create(nsA, "va", List.of("peer", "name", "vb"));
        NetDevice vb = nsA.device("vb");
        vb.setNamespace(nsB);
        va.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, InetAddress.getByName("10.0.0.255"), "global", "va"));
        vb.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, InetAddress.getByName("10.0.0.255"), "global", "vb"));
        va.open();
        vb.open();
        a = sockets.process("bench", "A");
        b = sockets.process("bench", "B");
        sender = a.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0);
        receiver = b.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0);
        check(b.bind(receiver, new SockAddr(0x0a000002, 9000)));
        check(b.setsockopt(receiver, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, 16 << 20));
        to = new SockAddr(0x0a000002, 9000);
        out = ByteBuffer.allocate(size);
        // ARP resolves on the first datagram; the path under test must deliver them all
        for (int i = 0; i < 3; i++) {
            if (burst() != BURST) {
                throw new IllegalStateException("datagrams were lost in warm-up burst " + i);
            }
        }
    }

    private static void check(int r) {
        if (r < 0) {
            throw new IllegalStateException(SocketCalls.strerror(r));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        stack.shutdown();
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public int burst() {
        for (int i = 0; i < BURST; i++) {
            out.clear();
            a.sendto(sender, out, 0, to);
        }
        stack.run();
        int got = 0;
        for (int i = 0; i < BURST; i++) {
            in.clear();
            if (b.recv(receiver, in, SocketCalls.MSG_DONTWAIT) == size) {
                got++;
            }
        }
        return got;
    }
}

package org.modnet.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceStats;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.ipv4.RouteService;

/**
 * bpf_fib_lookup: xdp_fwd (clang-built, as the kernel's samples/bpf one) on B's ingress forwards A's
 * packets for C itself once B's FIB and neighbour table can say where — and leaves to the stack what
 * it cannot: a next hop not yet resolved, forwarding disabled, a packet for B, one larger than the
 * egress MTU.
 */
class FibLookupTest {
    /** The eBPF implementation, outside OSGi. */
    static final BpfSyscall BPF = new BpfSyscallImpl();

    private static final int C = 0x0a000102;
    private ThreeNamespaces net;
    private BpfMap results;

    @BeforeEach
    void setUp() throws Exception {
        net = new ThreeNamespaces();
        new RouteService(net.ipv4).add(net.a, new RouteEntry("unicast", 0x0a000100, 24, 0x0a000002, net.va, 0, 0, "boot", "global"), false);
        net.b.sysctl().set("net.ipv4.ip_forward", "1");
    }

    @AfterEach
    void tearDown() {
        net.stack.shutdown();
    }

    private static byte[] build(String cpu) throws Exception {
        boolean clang = java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "clang")));
        Assumptions.assumeTrue(clang, "needs clang and libbpf-dev (.ci/run installs them)");
        Path src = Path.of("src/test/resources/bpf/xdp_fwd.c").toAbsolutePath();
        Path out = Path.of("target", "xdp_fwd-" + cpu + ".o").toAbsolutePath();
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-mcpu=" + cpu, "-I/usr/include/" + arch + "-linux-gnu", "-c",
                src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "clang failed:\n" + log);
        return Files.readAllBytes(out);
    }

    private void attach(String variant) throws Exception {
        String[] v = variant.split("/");
        BpfObject o = BPF.objOpen(build(v[0]));
        List<BpfMap> maps = o.createMaps(1);
        results = maps.get(0);
        FibLookup fib = new FibLookup(new RouteService(net.ipv4), net.arp, net.ipv4);
        BpfObject.ProgramDef d = o.program("xdp");
        net.vb.setXdp(new EbpfXdpHook(BPF, BPF.progLoad(d.name(), d.insns(), ProgType.XDP, AttachType.DEFAULT, maps, fib.helpers(), null, v[1], false)));
    }

    /** How often the lookup answered {@code code}. */
    private long answered(int code) {
        return ByteBuffer.wrap(results.lookup(new byte[] { (byte) code, 0, 0, 0 })).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private long ip(org.modnet.api.net.NetNamespace ns, String counter) {
        return net.ipv4.counters(ns).get(counter);
    }

    @ParameterizedTest
    @ValueSource(strings = { "v1/interpreter", "v3/jit" })
    void forwardsAtTheHookOnceTheNextHopIsResolvedAndLeavesTheRestToTheStack(String variant) throws Exception {
        attach(variant);
        long dRx = net.vd.stats().get(DeviceStats.Field.RX_PACKETS);

        net.send(C, 17, 100);
        net.stack.run();
        assertEquals(1, answered(FibLookup.NO_NEIGH), "C not resolved yet on vc");
        assertEquals(1L, ip(net.b, "IpForwDatagrams"), "so B's stack forwarded it, resolving C");
        assertEquals(dRx + 2, net.vd.stats().get(DeviceStats.Field.RX_PACKETS), "B's ARP request for C, then the datagram");

        long cIn = ip(net.c, "IpInReceives");
        long cHdrErrors = ip(net.c, "IpInHdrErrors");
        for (int i = 0; i < 3; i++) {
            net.send(C, 17, 100);
        }
        net.stack.run();
        assertEquals(3, answered(FibLookup.SUCCESS));
        assertEquals(3L, net.vb.ethtoolStats().get("xdp_redirect"));
        assertEquals(1L, ip(net.b, "IpForwDatagrams"), "XDP forwarded these: B's IPv4 never saw them");
        assertEquals(cIn + 3, ip(net.c, "IpInReceives"), "C received them");
        assertEquals(cHdrErrors, ip(net.c, "IpInHdrErrors"), "with TTL and checksum rewritten correctly");

        net.send(0x0a000002, 17, 20);
        net.stack.run();
        assertEquals(1, answered(FibLookup.NOT_FWDED), "B's own address is not forwarded");

        net.vc.setMtu(576);
        net.send(C, 17, 1000);
        net.stack.run();
        assertEquals(1, answered(FibLookup.FRAG_NEEDED), "larger than vc's MTU: the stack fragments it");
        assertEquals(2L, ip(net.b, "IpForwDatagrams"));
        assertTrue(ip(net.b, "IpFragCreates") >= 2);

        RouteService routes = new RouteService(net.ipv4);
        routes.add(net.a, new RouteEntry("unicast", 0x0a000200, 24, 0x0a000002, net.va, 0, 0, "boot", "global"), false);
        routes.add(net.b, new RouteEntry("blackhole", 0x0a000200, 24, 0, null, 0, 0, "boot", "global"), false);
        routes.add(net.a, new RouteEntry("unicast", 0x0a000300, 24, 0x0a000002, net.va, 0, 0, "boot", "global"), false);
        routes.add(net.b, new RouteEntry("prohibit", 0x0a000300, 24, 0, null, 0, 0, "boot", "global"), false);
        routes.add(net.a, new RouteEntry("unicast", 0x0a090000, 16, 0x0a000002, net.va, 0, 0, "boot", "global"), false);
        net.send(0x0a000201, 17, 20);
        net.send(0x0a000301, 17, 20);
        net.send(0x0a090909, 17, 20);
        net.stack.run();
        assertEquals(1, answered(FibLookup.BLACKHOLE));
        assertEquals(1, answered(FibLookup.PROHIBIT));
        assertEquals(2, answered(FibLookup.NOT_FWDED), "B has no route to 10.9.9.9");

        net.b.sysctl().set("net.ipv4.ip_forward", "0");
        net.send(C, 17, 100);
        net.stack.run();
        assertEquals(1, answered(FibLookup.FWD_DISABLED));
        assertEquals(0, net.stack.core().pool().inUse(), "nothing leaked on any path");
    }
}

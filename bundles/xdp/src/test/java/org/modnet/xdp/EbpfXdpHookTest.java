package org.modnet.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.core.StandaloneCore;
import org.modnet.ebpf.api.Assembler;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.LoadedProgram;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.Verifier;
import org.modnet.ebpf.api.XdpBuffer;
import org.modnet.ipv4.Ipv4Protocol;

/**
 * eBPF programs at the XDP hook of a veth end, on traffic IPv4 sends across namespaces A (10.0.0.1),
 * B (10.0.0.2) and C (10.0.1.2, behind B's second pair): ICMP dropped while UDP passes, frames
 * reflected with XDP_TX, and frames moved to another device with a devmap.
 */
class EbpfXdpHookTest {
    private ThreeNamespaces net;
    private StandaloneCore stack;
    private Ipv4Protocol ipv4;
    private NetNamespace a;
    private NetNamespace b;
    private NetDevice va;
    private NetDevice vb;
    private NetDevice vc;
    private NetDevice vd;

    @BeforeEach
    void setUp() throws Exception {
        net = new ThreeNamespaces();
        stack = net.stack;
        ipv4 = net.ipv4;
        a = net.a;
        b = net.b;
        va = net.va;
        vb = net.vb;
        vc = net.vc;
        vd = net.vd;
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    private void send(int proto, int n) {
        net.send(0x0a000002, proto, n);
    }

    private EbpfXdpHook attach(NetDevice dev, String asm, List<BpfMap> maps, String engine) throws Exception {
        LoadedProgram p = LoadedProgram.load("prog", Assembler.assemble(asm), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps),
                engine, false, null);
        EbpfXdpHook hook = new EbpfXdpHook(p);
        dev.setXdp(hook);
        return hook;
    }

    private long ip(NetNamespace ns, String counter) {
        return ipv4.counters(ns).get(counter);
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void icmpIsDroppedAtTheHookWhileUdpPassesAndDetachingRestoresIt(String engine) throws Exception {
        attach(vb, """
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 34
                jgt %r4, %r3, pass
                ldxb %r5, [%r2+23]
                jne %r5, 1, pass
                mov %r0, 1
                exit
                pass:
                mov %r0, 2
                exit
                """, List.of(), engine);
        long before = ip(b, "IpInReceives");
        send(1, 8);
        send(1, 8);
        send(17, 20);
        stack.run();
        assertEquals(2L, vb.ethtoolStats().get("xdp_drop"));
        assertEquals(1L, vb.ethtoolStats().get("xdp_pass"));
        assertEquals(before + 1, ip(b, "IpInReceives"), "only the UDP packet reached IPv4");
        vb.setXdp(null);
        send(1, 8);
        stack.run();
        assertEquals(before + 2, ip(b, "IpInReceives"), "detached: ICMP reaches IPv4 again");
        assertEquals(2L, vb.ethtoolStats().get("xdp_drop"));
        assertEquals(0, stack.core().pool().inUse());
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void macSwapReflectsFramesWithXdpTx(String engine) throws Exception {
        attach(vb, """
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 14
                jgt %r4, %r3, pass
                ldxw %r5, [%r2+0]
                ldxh %r6, [%r2+4]
                ldxw %r7, [%r2+6]
                ldxh %r8, [%r2+10]
                stxw [%r2+0], %r7
                stxh [%r2+4], %r8
                stxw [%r2+6], %r5
                stxh [%r2+10], %r6
                mov %r0, 3
                exit
                pass:
                mov %r0, 2
                exit
                """, List.of(), engine);
        long aRx = va.stats().get(DeviceStats.Field.RX_PACKETS);
        long aNotMine = ip(a, "IpInAddrErrors");
        send(17, 20);
        send(17, 20);
        stack.run();
        assertEquals(2L, vb.ethtoolStats().get("xdp_tx"));
        assertEquals(aRx + 2, va.stats().get(DeviceStats.Field.RX_PACKETS), "both came back to A");
        assertEquals(aNotMine + 2, ip(a, "IpInAddrErrors"), "addressed to B, so A's IPv4 does not take them");
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void redirectMapMovesFramesToAnotherDevice(String engine) throws Exception {
        BpfMap ports = BpfMap.create("ports", Verifier.MAP_DEVMAP, 4, 4, 4, 0, 1);
        int ifindex = vc.ifindex();
        ports.update(new byte[4], new byte[] { (byte) ifindex, (byte) (ifindex >>> 8), 0, 0 }, BpfMap.BPF_ANY);
        EbpfXdpHook hook = attach(vb, """
                ldmap %r1, 0
                mov %r2, 0
                mov %r3, 0
                call 51
                exit
                """, List.of(ports), engine);
        long dRx = vd.stats().get(DeviceStats.Field.RX_PACKETS);
        send(17, 20);
        send(17, 20);
        send(17, 20);
        stack.run();
        assertEquals(3L, vb.ethtoolStats().get("xdp_redirect"));
        assertEquals(dRx + 3, vd.stats().get(DeviceStats.Field.RX_PACKETS), "out through vc, into vd in C");
        assertTrue(hook.describe().startsWith("id " + hook.id() + " name prog"), hook.describe());
        ports.delete(new byte[4]);
        ports.update(new byte[4], new byte[4], BpfMap.BPF_ANY); // ifindex 0: not a target
        send(17, 20);
        stack.run();
        assertEquals(1L, vb.ethtoolStats().get("xdp_aborted"), "no target: the flags' action, XDP_ABORTED (0)");
        assertEquals(0, stack.core().pool().inUse(), "nothing leaked on any path");
    }
}

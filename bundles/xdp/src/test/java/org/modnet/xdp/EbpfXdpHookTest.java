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
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.ipv4.Ipv4Protocol;

/**
 * eBPF programs at the XDP hook of a veth end, on traffic IPv4 sends across namespaces A (10.0.0.1),
 * B (10.0.0.2) and C (10.0.1.2, behind B's second pair): ICMP dropped while UDP passes, frames
 * reflected with XDP_TX, and frames moved to another device with a devmap.
 */
class EbpfXdpHookTest {
    /** The eBPF implementation, outside OSGi. */
    static final BpfSyscall BPF = new BpfSyscallImpl();

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

    /** {@code variant}: the engine, and "/native" for the veth's native hook (the frame handed over in place) rather than the generic one. */
    private EbpfXdpHook attach(NetDevice dev, String asm, List<BpfMap> maps, String variant) throws Exception {
        String[] v = variant.split("/");
        BpfProg p = BPF.progLoad("prog", BPF.assemble(asm), ProgType.XDP, AttachType.DEFAULT, maps, null, null, v[0], false);
        EbpfXdpHook hook = new EbpfXdpHook(BPF, p);
        dev.setXdp(hook, v.length > 1 && v[1].equals("native"));
        return hook;
    }

    private long ip(NetNamespace ns, String counter) {
        return ipv4.counters(ns).get(counter);
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit", "jit/native" })
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
        assertEquals(2L, vb.ethtoolStats().get("rx_queue_0_xdp_drops"), "veth's name for them, as ethtool -S shows Linux's");
        assertEquals(before + 1, ip(b, "IpInReceives"), "only the UDP packet reached IPv4");
        vb.setXdp(null);
        send(1, 8);
        stack.run();
        assertEquals(before + 2, ip(b, "IpInReceives"), "detached: ICMP reaches IPv4 again");
        assertEquals(2L, vb.ethtoolStats().get("xdp_drop"));
        assertEquals(0, stack.core().pool().inUse());
    }

    /**
     * An update of the ebpf bundle: the programs the old implementation loaded come off the hooks
     * (the devices receive as without XDP, and the programs are unloaded), while a program another
     * implementation loaded stays attached and running.
     */
    @ParameterizedTest
    @ValueSource(strings = { "jit", "jit/native" })
    void programsOfAnImplementationThatGoesAwayAreDetachedAndOthersStay(String engine) throws Exception {
        BpfSyscall old = new BpfSyscallImpl();
        BpfProg dropAll = old.progLoad("drop_all", old.assemble("mov %r0, 1\nexit"), ProgType.XDP, AttachType.DEFAULT, List.of(), null, null);
        vb.setXdp(new EbpfXdpHook(old, dropAll), engine.endsWith("native"));
        EbpfXdpHook kept = attach(va, "mov %r0, 2\nexit", List.of(), engine);
        long before = ip(b, "IpInReceives");
        send(1, 8);
        stack.run();
        assertEquals(1L, vb.ethtoolStats().get("xdp_drop"));
        assertEquals(before, ip(b, "IpInReceives"), "dropped at the hook");

        assertEquals(1, XdpDetach.detach(stack.core(), old), "one hook of the implementation that went");
        assertEquals(null, vb.xdp(), "detached");
        assertEquals(false, dropAll.loaded(), "the detached program is unloaded");
        assertEquals(kept, va.xdp(), "another implementation's program stays");
        assertTrue(kept.program().loaded());
        send(1, 8);
        stack.run();
        assertEquals(before + 1, ip(b, "IpInReceives"), "the device receives without XDP");
        assertEquals(1L, vb.ethtoolStats().get("xdp_drop"));
        assertEquals(0, XdpDetach.detach(stack.core(), old), "nothing left to detach");
        assertEquals(0, stack.core().pool().inUse());
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit", "interpreter/native", "jit/native" })
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

    /** {@code bpf_redirect_map(&map0, 0, XDP_ABORTED)}. */
    private static final String REDIRECT_TO_SLOT_0 = """
            ldmap %r1, 0
            mov %r2, 0
            mov %r3, 0
            call 51
            exit
            """;

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit", "interpreter/native", "jit/native" })
    void redirectMapMovesFramesToAnotherDevice(String engine) throws Exception {
        BpfMap ports = BPF.mapCreate("ports", BpfMap.MAP_DEVMAP, 4, 4, 4, 0, 1);
        int ifindex = vc.ifindex();
        ports.update(new byte[4], new byte[] { (byte) ifindex, (byte) (ifindex >>> 8), 0, 0 }, BpfMap.BPF_ANY);
        EbpfXdpHook hook = attach(vb, REDIRECT_TO_SLOT_0, List.of(ports), engine);
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

    /**
     * A devmap entry that names a BPF_XDP_DEVMAP program has it run on each frame before it leaves the
     * entry's device: it sees that device as egress_ifindex (kept here in its map), UDP passes, ICMP is
     * dropped and counted in the device's TX dropped; once the program is unloaded, the entry passes nothing.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit", "jit/native" })
    void aDevmapEntrysProgramRunsOnTheFramesLeavingThroughIt(String engine) throws Exception {
        BpfMap seen = BPF.mapCreate("seen", BpfMap.MAP_ARRAY, 4, 4, 1, 0, 1);
        BpfProg egress = BPF.progLoad("egress", BPF.assemble("""
                ldxw %r6, [%r1+20]
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 24
                mov %r8, 1
                jgt %r4, %r3, out
                ldxb %r5, [%r2+23]
                jne %r5, 17, out
                mov %r8, 2
                stw [%r10-4], 0
                ldmap %r1, 0
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                stxw [%r0+0], %r6
                out:
                mov %r0, %r8
                exit
                """), ProgType.XDP, AttachType.XDP_DEVMAP, List.of(seen), null, null, engine.split("/")[0], false);
        BpfMap ports = BPF.mapCreate("ports", BpfMap.MAP_DEVMAP, 4, 8, 4, 0, 1);
        int ifindex = vc.ifindex();
        int id = egress.id();
        assertEquals(0, ports.update(new byte[4], new byte[] { (byte) ifindex, (byte) (ifindex >>> 8), 0, 0, (byte) id, (byte) (id >>> 8), 0, 0 },
                BpfMap.BPF_ANY));
        attach(vb, REDIRECT_TO_SLOT_0, List.of(ports), engine);
        long dRx = vd.stats().get(DeviceStats.Field.RX_PACKETS);
        long cDropped = vc.stats().get(DeviceStats.Field.TX_DROPPED);
        send(17, 20);
        send(17, 20);
        send(1, 20);
        stack.run();
        assertEquals(3L, vb.ethtoolStats().get("xdp_redirect"));
        assertEquals(dRx + 2, vd.stats().get(DeviceStats.Field.RX_PACKETS), "the UDP frames left through vc");
        assertEquals(cDropped + 1, vc.stats().get(DeviceStats.Field.TX_DROPPED), "the ICMP frame, dropped by the entry's program");
        assertEquals(ifindex, java.nio.ByteBuffer.wrap(seen.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(),
                "the program saw vc as egress_ifindex");

        egress.close();
        send(17, 20);
        stack.run();
        assertEquals(dRx + 2, vd.stats().get(DeviceStats.Field.RX_PACKETS), "an entry whose program is gone passes nothing");
        assertEquals(cDropped + 2, vc.stats().get(DeviceStats.Field.TX_DROPPED));
        assertEquals(0, stack.core().pool().inUse(), "nothing leaked on any path");
    }

    /**
     * A cpumap sends frames into the stack on another CPU, through its backlog: here the IP protocol
     * number less one picks the CPU — the CPU that does not poll vb has an entry; vb's own has none (no
     * queue size); 5 has one, but there is no CPU 5.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void cpumapRedirectHandsFramesToTheOtherCpusBacklog(String engine) throws Exception {
        stack.shutdown();
        ThreeNamespaces two = new ThreeNamespaces(2);
        stack = two.stack;
        BpfMap cpus = BPF.mapCreate("cpus", BpfMap.MAP_CPUMAP, 4, 4, 8, 0, 1);
        int other = 1 - two.vb.rxQueue(0).cpu();
        cpus.update(new byte[] { (byte) other, 0, 0, 0 }, new byte[] { (byte) 192, 0, 0, 0 }, BpfMap.BPF_ANY); // qsize 192
        cpus.update(new byte[] { 5, 0, 0, 0 }, new byte[] { (byte) 192, 0, 0, 0 }, BpfMap.BPF_ANY);
        BpfProg p = BPF.progLoad("prog", BPF.assemble("""
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 34
                jgt %r4, %r3, pass
                ldxb %r6, [%r2+23]
                sub %r6, 1
                ldmap %r1, 0
                mov %r2, %r6
                mov %r3, 0
                call 51
                exit
                pass:
                mov %r0, 2
                exit
                """), ProgType.XDP, AttachType.DEFAULT, List.of(cpus), null, null, engine, false);
        two.vb.setXdp(new EbpfXdpHook(BPF, p));
        long processed = two.stack.core().softnetStats().get(other).processed();
        long in = two.ipv4.counters(two.b).get("IpInReceives");
        for (int i = 0; i < 3; i++) {
            two.send(0x0a000002, other + 1, 20);
        }
        two.send(0x0a000002, 1 - other + 1, 20);
        two.send(0x0a000002, 6, 20);
        two.stack.run();
        assertEquals(3L, two.vb.ethtoolStats().get("xdp_redirect"));
        assertEquals(in + 3, two.ipv4.counters(two.b).get("IpInReceives"), "the redirected frames reached B's IPv4");
        assertEquals(processed + 3, two.stack.core().softnetStats().get(other).processed(), "on the other CPU, from its backlog");
        assertEquals(2L, two.vb.ethtoolStats().get("xdp_aborted"), "no entry for vb's own CPU, no CPU 5");
        assertEquals(0, two.stack.core().pool().inUse(), "nothing leaked");
    }

    /**
     * A cpumap entry that names a BPF_XDP_CPUMAP program has it run on the entry's CPU before the frame
     * enters the stack there: UDP passes into B's IPv4, ICMP is dropped and counted in vb's RX dropped,
     * TCP is redirected out of vc to C; the program saw vb as ingress_ifindex, queue 0. Once the
     * program is unloaded, the entry's frames are dropped and counted.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit", "jit/native" })
    void aCpumapEntrysProgramRunsOnItsCpuBeforeTheStack(String variant) throws Exception {
        stack.shutdown();
        ThreeNamespaces two = new ThreeNamespaces(2);
        stack = two.stack;
        String engine = variant.split("/")[0];
        BpfMap seen = BPF.mapCreate("seen", BpfMap.MAP_ARRAY, 4, 12, 1, 0, 1);
        BpfProg onCpu = BPF.progLoad("on_cpu", BPF.assemble("""
                mov %r9, %r1
                call 8
                mov %r1, %r9
                mov %r9, %r0
                ldxw %r6, [%r1+12]
                ldxw %r8, [%r1+16]
                ldxw %r2, [%r1+0]
                ldxw %r3, [%r1+4]
                mov %r4, %r2
                add %r4, 24
                mov %r0, 1
                jgt %r4, %r3, out
                ldxb %r7, [%r2+23]
                stw [%r10-4], 0
                ldmap %r1, 0
                mov %r2, %r10
                add %r2, -4
                call 1
                mov %r1, %r0
                mov %r0, 1
                jeq %r1, 0, out
                stxw [%r1+0], %r6
                stxw [%r1+4], %r8
                stxw [%r1+8], %r9
                mov %r0, 2
                jeq %r7, 17, out
                mov %r0, 1
                jeq %r7, 1, out
                mov %r1, VC
                mov %r2, 0
                call 23
                out:
                exit
                """.replace("VC", Integer.toString(two.vc.ifindex()))), ProgType.XDP, AttachType.XDP_CPUMAP, List.of(seen), null, null, engine, false);
        int other = 1 - two.vb.rxQueue(0).cpu();
        BpfMap cpus = BPF.mapCreate("cpus", BpfMap.MAP_CPUMAP, 4, 8, 2, 0, 1);
        int id = onCpu.id();
        assertEquals(0, cpus.update(new byte[] { (byte) other, 0, 0, 0 }, new byte[] { (byte) 192, 0, 0, 0, (byte) id, (byte) (id >>> 8), 0, 0 },
                BpfMap.BPF_ANY));
        BpfProg p = BPF.progLoad("prog", BPF.assemble("""
                ldmap %r1, 0
                mov %r2, OTHER
                mov %r3, 0
                call 51
                exit
                """.replace("OTHER", Integer.toString(other))), ProgType.XDP, AttachType.DEFAULT, List.of(cpus), null, null, engine, false);
        two.vb.setXdp(new EbpfXdpHook(BPF, p), variant.endsWith("native"));
        long processed = two.stack.core().softnetStats().get(other).processed();
        long in = two.ipv4.counters(two.b).get("IpInReceives");
        long dropped = two.vb.stats().get(DeviceStats.Field.RX_DROPPED);
        long dRx = two.vd.stats().get(DeviceStats.Field.RX_PACKETS);
        two.send(0x0a000002, 17, 20);
        two.send(0x0a000002, 17, 20);
        two.send(0x0a000002, 1, 20);
        two.send(0x0a000002, 6, 20);
        two.stack.run();
        assertEquals(4L, two.vb.ethtoolStats().get("xdp_redirect"));
        // B's port unreachables and C's frame may be polled there too
        assertTrue(two.stack.core().softnetStats().get(other).processed() >= processed + 4, "every frame went through the other CPU's backlog");
        assertEquals(in + 2, two.ipv4.counters(two.b).get("IpInReceives"), "the UDP frames the entry's program passed reached B's IPv4");
        assertEquals(dropped + 1, two.vb.stats().get(DeviceStats.Field.RX_DROPPED), "the ICMP frame, dropped by the entry's program");
        assertEquals(dRx + 1, two.vd.stats().get(DeviceStats.Field.RX_PACKETS), "the TCP frame, redirected out of vc to C");
        java.nio.ByteBuffer v = java.nio.ByteBuffer.wrap(seen.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(two.vb.ifindex(), v.getInt(0), "the program saw vb as ingress_ifindex");
        assertEquals(0, v.getInt(4), "and queue 0, as the kernel's cpumap reports it");
        assertEquals(other, v.getInt(8), "bpf_get_smp_processor_id: the entry's CPU");

        onCpu.close();
        two.send(0x0a000002, 17, 20);
        two.stack.run();
        assertEquals(in + 2, two.ipv4.counters(two.b).get("IpInReceives"), "an entry whose program is gone passes nothing");
        assertEquals(dropped + 2, two.vb.stats().get(DeviceStats.Field.RX_DROPPED), "and counts the drop");
        assertEquals(0, two.stack.core().pool().inUse(), "nothing leaked on any path");
    }

    /**
     * A program runs as the CPU whose softirq polls the device, as the kernel's XDP does:
     * bpf_get_smp_processor_id is that CPU, and a per-CPU map counts on that CPU's values only.
     */
    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void aProgramRunsAsTheCpuWhoseSoftirqPollsTheDevice(String engine) throws Exception {
        stack.shutdown();
        ThreeNamespaces two = new ThreeNamespaces(2);
        stack = two.stack;
        BpfMap hits = BPF.mapCreate("hits", BpfMap.MAP_PERCPU_ARRAY, 4, 8, 1, 0, 2);
        BpfMap cpu = BPF.mapCreate("cpu", BpfMap.MAP_ARRAY, 4, 4, 1, 0, 1);
        List<BpfMap> maps = List.of(hits, cpu);
        BpfProg p = BPF.progLoad("prog", BPF.assemble("""
                call 8
                mov %r6, %r0
                stw [%r10-4], 0
                ldmap %r1, 1
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                stxw [%r0+0], %r6
                ldmap %r1, 0
                mov %r2, %r10
                add %r2, -4
                call 1
                jeq %r0, 0, out
                ldxdw %r1, [%r0+0]
                add %r1, 1
                stxdw [%r0+0], %r1
                out:
                mov %r0, 2
                exit
                """), ProgType.XDP, AttachType.DEFAULT, maps, null, null, engine, false);
        for (NetDevice dev : List.of(two.vb, two.va)) {
            int polling = dev.rxQueue(0).cpu();
            dev.setXdp(new EbpfXdpHook(BPF, p));
            long[] before = { perCpu(hits, 0), perCpu(hits, 1) };
            two.send(0x0a000002, 17, 20); // vb receives it; B answers with a port unreachable, which va receives
            two.stack.run();
            assertEquals(polling, java.nio.ByteBuffer.wrap(cpu.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(),
                    dev.name() + ": the CPU that polls it");
            assertEquals(before[polling] + 1, perCpu(hits, polling), dev.name() + ": counted on its CPU");
            assertEquals(before[1 - polling], perCpu(hits, 1 - polling), dev.name() + ": and on no other");
            dev.setXdp(null);
        }
        assertTrue(two.va.rxQueue(0).cpu() != two.vb.rxQueue(0).cpu(), "the two devices are polled on different CPUs");
    }

    private static long perCpu(BpfMap map, int cpu) {
        return java.nio.ByteBuffer.wrap(map.lookup(new byte[4], cpu)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }
}

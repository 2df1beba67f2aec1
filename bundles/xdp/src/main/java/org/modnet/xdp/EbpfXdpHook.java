package org.modnet.xdp;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.WeakHashMap;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.XdpHook;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.XdpContext;

/**
 * A loaded eBPF program at a device's XDP hook: each CPU's softirq runs it in that CPU's address space
 * (its stack, its per-CPU map values) on the frame's buffer in place; moves of the frame's start and
 * end become the skb's; XDP_REDIRECT queues the frame on the target device of the same namespace (a
 * target that is missing or down makes the run XDP_ABORTED, as {@code xdp_do_redirect} failing does),
 * or, through a cpumap, on another CPU's backlog, whose softirq takes it into the stack. A devmap entry
 * that names a program ({@code struct bpf_devmap_val.bpf_prog}) has it run on the frame first, seeing
 * the target as {@code egress_ifindex}: the frame leaves if it returns XDP_PASS, and is dropped,
 * counted in the target's TX dropped, for anything else, as {@code dev_map_bpf_prog_run} does. A
 * cpumap entry's program ({@code struct bpf_cpumap_val.bpf_prog}) runs on the entry's CPU before the
 * frame enters the stack there.
 * <p>
 * The program and its per-CPU contexts are the ebpf bundle's objects, reached through the API: a run
 * is one interface call ({@link XdpContext#run}), with no service lookup. When the implementation that
 * made them is updated, {@link XdpDetach} replaces the hook with one running the adopted program; when
 * it is stopped, it takes the hook off its device.
 */
public final class EbpfXdpHook implements XdpHook {

    private final BpfSyscall bpf;
    private final BpfProg program;
    /** By CPU, for runs in a CPU's softirq, which are never concurrent. */
    private volatile PerCpu[] byCpu = new PerCpu[0];
    /** By thread, for runs outside any softirq (native XDP on a veth whose peer a shell command sends on). */
    private final ThreadLocal<PerCpu> byThread = new ThreadLocal<>();
    /** The core of the device the hook serves, from its first run. */
    private NetCore core;

    /**
     * One CPU's (or one thread's): its address space for the program, and for the devmap and cpumap
     * entries' programs it meets. Its CPU is what {@code bpf_get_smp_processor_id} returns and which
     * CPU's values of per-CPU maps the programs use.
     */
    private final class PerCpu {
        final int cpu;
        final XdpContext own;
        final Map<BpfProg, XdpContext> entries = new WeakHashMap<>();

        PerCpu(int cpu) {
            this.cpu = cpu;
            this.own = program.xdpContext(cpu);
        }

        XdpContext entry(BpfProg p) {
            return entries.computeIfAbsent(p, q -> q.xdpContext(cpu));
        }
    }

    /** A hook for {@code program} (the hook takes over the caller's reference), which {@code bpf} loaded. */
    public EbpfXdpHook(BpfSyscall bpf, BpfProg program) {
        this.bpf = bpf;
        this.program = program;
    }

    /** The implementation that loaded the program. */
    BpfSyscall bpf() {
        return bpf;
    }

    /**
     * The address space for a run on this thread: its CPU's, in a softirq, as the kernel runs XDP with
     * the CPU it is on; else the thread's own, counted as a CPU chosen by the thread (a thread
     * outside softirq shares that CPU's per-CPU map values, not its stack).
     */
    private PerCpu perCpu(NetDevice dev) {
        NetCore core = this.core;
        if (core == null) {
            core = this.core = dev.namespace().core(); // a hook serves one device, of one core
        }
        int cpu = core.currentCpu();
        if (cpu < 0) {
            PerCpu c = byThread.get();
            return c != null ? c : ownPerCpu(core);
        }
        PerCpu[] all = byCpu;
        PerCpu c = cpu < all.length ? all[cpu] : null;
        return c != null ? c : create(cpu);
    }

    private PerCpu ownPerCpu(NetCore core) {
        PerCpu c = new PerCpu((int) Math.floorMod(Thread.currentThread().threadId(), (long) core.cpus()));
        byThread.set(c);
        return c;
    }

    private synchronized PerCpu create(int cpu) {
        PerCpu[] all = byCpu;
        if (cpu < all.length && all[cpu] != null) {
            return all[cpu];
        }
        PerCpu[] grown = java.util.Arrays.copyOf(all, Math.max(all.length, cpu + 1));
        grown[cpu] = new PerCpu(cpu);
        byCpu = grown;
        return grown[cpu];
    }

    /**
     * Why the program cannot be attached to a device's hook (a devmap or cpumap entry's program, as
     * {@code dev_xdp_attach} refuses them), or null if it can.
     */
    static String notForADevice(BpfProg p) {
        return switch (p.attachType()) {
            case XDP_DEVMAP -> "BPF_XDP_DEVMAP programs can not be attached to a device";
            case XDP_CPUMAP -> "BPF_XDP_CPUMAP programs can not be attached to a device";
            default -> null;
        };
    }

    public BpfProg program() {
        return program;
    }

    /** The program's id, as {@code ip link} and {@code bpftool} show it. */
    public int id() {
        return program.id();
    }

    @Override
    public int run(SkBuff skb, NetDevice dev, int rxQueue) {
        PerCpu c = perCpu(dev);
        int action = runOn(skb, dev, c.own, rxQueue, 0);
        if (action == XDP_REDIRECT) {
            if (c.own.redirectXsk() >= 0) {
                return toSocket(skb, dev, rxQueue, c.own.redirectXsk());
            }
            return redirect(skb, dev, rxQueue, c);
        }
        return action;
    }

    /** Native XDP: the program on the driver's buffer in place; a redirected frame is copied into an skb for its target. */
    @Override
    public long runFrame(MemorySegment buffer, int data, int len, NetDevice dev, int rxQueue) {
        PerCpu c = perCpu(dev);
        XdpContext x = c.own;
        x.device(dev);
        int action = x.run(buffer, data, len, dev.ifindex(), rxQueue);
        int start = x.data();
        int length = x.length();
        if (action == XDP_REDIRECT) {
            XdpSock xs = x.redirectXsk() >= 0 ? XdpSock.byFd(x.redirectXsk()) : null;
            action = x.redirectXsk() < 0 ? redirectFrame(buffer, start, length, dev, rxQueue, c)
                    : xs != null && xs.rcv(buffer, start, length, dev, rxQueue) ? XDP_REDIRECT : XDP_ABORTED;
        }
        return XdpHook.frameResult(action, start, length);
    }

    /**
     * XDP_REDIRECT through an xskmap (generic XDP, {@code xsk_generic_rcv}): the frame copied into the
     * AF_XDP socket's UMEM and the skb freed; a socket that is gone, bound elsewhere, or out of room
     * fails the redirect (XDP_ABORTED, counted by the socket where it is its own).
     */
    private static int toSocket(SkBuff skb, NetDevice dev, int rxQueue, int fd) {
        XdpSock xs = XdpSock.byFd(fd);
        if (xs == null || !xs.rcv(skb.memory(), skb.data(), skb.len(), dev, rxQueue)) {
            return XDP_ABORTED;
        }
        skb.free();
        return XDP_REDIRECT;
    }

    /**
     * {@code x}'s program on the skb's frame in its address space (the frame received on {@code dev},
     * leaving through {@code egressIfindex} for a devmap entry's program, else 0); the skb then takes
     * the frame's start and end where the program moved them. Returns the action.
     */
    /** {@code XDP_RSS_TYPE_L4}: a hash over the flow's ports, of an unknown L3 (the skb does not say which). */
    private static final int XDP_RSS_TYPE_L4 = 1 << 3;

    private static int runOn(SkBuff skb, NetDevice dev, XdpContext x, int rxQueue, int egressIfindex) {
        x.device(dev);
        // what the skb knows of the frame, for the bpf_xdp_metadata_rx_* kfuncs (veth's xmo_rx_* serve them from the skb too)
        if (skb.hash() != 0) {
            x.rxHash(skb.hash(), XDP_RSS_TYPE_L4);
        }
        if (skb.tstamp() != 0) {
            x.rxTimestamp(skb.tstamp());
        }
        int start = skb.data();
        int action = x.run(skb.memory(), start, skb.len(), dev.ifindex(), rxQueue, egressIfindex);
        int moved = x.data() - start;
        if (moved > 0) {
            skb.pull(moved);
        } else if (moved < 0) {
            skb.push(-moved);
        }
        int len = x.length();
        if (len < skb.len()) {
            skb.trim(len);
        } else if (len > skb.len()) {
            skb.put(len - skb.len());
        }
        return action;
    }

    private int redirectFrame(MemorySegment buffer, int data, int len, NetDevice dev, int rxQueue, PerCpu c) {
        NetDevice target = target(dev, c.own);
        if (target == null) {
            return XDP_ABORTED;
        }
        SkBuff skb = dev.namespace().core().allocSkb(len, SkBuffPool.NET_SKB_PAD);
        if (skb == null) {
            return XDP_ABORTED; // no buffer for the copy: xdp_do_redirect fails
        }
        MemorySegment.copy(buffer, data, skb.memory(), skb.put(len), len);
        deliver(skb, dev, target, rxQueue, c, c.own);
        return XDP_REDIRECT;
    }

    private int redirect(SkBuff skb, NetDevice dev, int rxQueue, PerCpu c) {
        NetDevice target = target(dev, c.own);
        if (target == null) {
            return XDP_ABORTED;
        }
        deliver(skb, dev, target, rxQueue, c, c.own);
        return XDP_REDIRECT;
    }

    /**
     * Where the program redirected the frame: the target device, or for a cpumap the receiving device
     * itself; null when the redirect fails (no such device, down, no such CPU) — XDP_ABORTED.
     */
    private static NetDevice target(NetDevice dev, XdpContext x) {
        if (x.redirectCpu() >= 0) {
            return x.redirectCpu() < dev.namespace().core().cpus() ? dev : null;
        }
        NetDevice target = dev.namespace().device(x.redirectIfindex());
        return target != null && target.isUp() ? target : null;
    }

    /**
     * The frame where {@code x}'s program redirected it: out of the target device, after the devmap
     * entry's program if it names one; or (a cpumap) into the stack on that CPU through its backlog,
     * after the cpumap entry's program if it names one, run on that CPU.
     */
    private void deliver(SkBuff skb, NetDevice dev, NetDevice target, int rxQueue, PerCpu c, XdpContext x) {
        if (x.redirectCpu() >= 0) {
            skb.dev(dev);
            int id = x.redirectProgram();
            // a full backlog drops the frame, counted in softnet_stat
            dev.namespace().core().enqueueToBacklog(skb, x.redirectCpu(), id == 0 ? null : s -> onCpu(s, id));
            return;
        }
        if (x.redirectProgram() != 0 && !egress(skb, dev, target, rxQueue, c, x.redirectProgram())) {
            skb.free();
            target.stats().addShared(DeviceStats.Field.TX_DROPPED, 1);
            return;
        }
        skb.dev(target);
        skb.resetMacHeader();
        dev.namespace().core().devQueueXmit(skb);
    }

    /**
     * A cpumap entry's program on a frame, on the entry's CPU before the frame enters the stack, as
     * the kernel's cpumap thread runs it ({@code cpu_map_bpf_prog_run_xdp}): XDP_PASS lets the frame
     * go on into the stack, XDP_REDIRECT sends it where the program says, and anything else — or a
     * redirect that fails, or a program unloaded since the entry named it — drops it, counted in the
     * receiving device's RX dropped. The frame's receive queue reads as 0, as the kernel's does.
     */
    private boolean onCpu(SkBuff skb, int id) {
        NetDevice dev = skb.dev();
        BpfProg p = bpf.prog(id);
        PerCpu c = perCpu(dev);
        XdpContext e = p == null ? null : c.entry(p);
        int action = p == null ? XDP_ABORTED : runOn(skb, dev, e, 0, 0);
        if (action == XDP_PASS) {
            return true;
        }
        NetDevice target = action == XDP_REDIRECT ? target(dev, e) : null;
        if (target != null) {
            deliver(skb, dev, target, 0, c, e);
        } else {
            skb.free();
            dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
        }
        return false;
    }

    /**
     * The devmap entry's program on the frame: true if it passes it. A program unloaded since the
     * entry named it passes nothing, as a redirect that cannot be completed.
     */
    private boolean egress(SkBuff skb, NetDevice dev, NetDevice target, int rxQueue, PerCpu c, int id) {
        BpfProg p = bpf.prog(id);
        return p != null && runOn(skb, dev, c.entry(p), rxQueue, target.ifindex()) == XDP_PASS;
    }

    @Override
    public void close() {
        program.close();
    }

    @Override
    public String describe() {
        return "id " + program.id() + " name " + program.name() + (program.jited() ? " jited" : "");
    }
}

package org.modnet.xdp;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.XdpHook;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.ebpf.api.LoadedProgram;
import org.modnet.ebpf.api.XdpBuffer;

/**
 * A loaded eBPF program at a device's XDP hook: each softirq thread runs it in its own address space
 * (its stack, its per-CPU map values) on the frame's buffer in place; moves of the frame's start and
 * end become the skb's; XDP_REDIRECT queues the frame on the target device of the same namespace (a
 * target that is missing or down makes the run XDP_ABORTED, as {@code xdp_do_redirect} failing does),
 * or, through a cpumap, on another CPU's backlog, whose softirq takes it into the stack.
 */
public final class EbpfXdpHook implements XdpHook {

    private final LoadedProgram program;
    private final AtomicInteger cpus = new AtomicInteger();
    private final ThreadLocal<XdpBuffer> buffers;

    public EbpfXdpHook(LoadedProgram program) {
        this.program = program;
        this.buffers = ThreadLocal.withInitial(() -> new XdpBuffer(program.memory(cpus.getAndIncrement())));
    }

    public LoadedProgram program() {
        return program;
    }

    /** The program's id, as {@code ip link} and {@code bpftool} show it. */
    public int id() {
        return program.id();
    }

    @Override
    public int run(SkBuff skb, NetDevice dev, int rxQueue) {
        XdpBuffer x = buffers.get();
        x.device(dev);
        int start = skb.data();
        int action = x.run(program, skb.memory(), start, skb.len(), dev.ifindex(), rxQueue);
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
        if (action == XDP_REDIRECT) {
            return redirect(skb, dev, x);
        }
        return action;
    }

    /** Native XDP: the program on the driver's buffer in place; a redirected frame is copied into an skb for its target. */
    @Override
    public long runFrame(MemorySegment buffer, int data, int len, NetDevice dev, int rxQueue) {
        XdpBuffer x = buffers.get();
        x.device(dev);
        int action = x.run(program, buffer, data, len, dev.ifindex(), rxQueue);
        int start = x.data();
        int length = x.length();
        if (action == XDP_REDIRECT) {
            action = redirectFrame(buffer, start, length, dev, x);
        }
        return XdpHook.frameResult(action, start, length);
    }

    private static int redirectFrame(MemorySegment buffer, int data, int len, NetDevice dev, XdpBuffer x) {
        NetDevice target = target(dev, x);
        if (target == null) {
            return XDP_ABORTED;
        }
        SkBuff skb = dev.namespace().core().allocSkb(len, SkBuffPool.NET_SKB_PAD);
        if (skb == null) {
            return XDP_ABORTED; // no buffer for the copy: xdp_do_redirect fails
        }
        MemorySegment.copy(buffer, data, skb.memory(), skb.put(len), len);
        deliver(skb, dev, target, x);
        return XDP_REDIRECT;
    }

    private static int redirect(SkBuff skb, NetDevice dev, XdpBuffer x) {
        NetDevice target = target(dev, x);
        if (target == null) {
            return XDP_ABORTED;
        }
        deliver(skb, dev, target, x);
        return XDP_REDIRECT;
    }

    /**
     * Where the program redirected the frame: the target device, or for a cpumap the receiving device
     * itself; null when the redirect fails (no such device, down, no such CPU) — XDP_ABORTED.
     */
    private static NetDevice target(NetDevice dev, XdpBuffer x) {
        if (x.redirectCpu() >= 0) {
            return x.redirectCpu() < dev.namespace().core().cpus() ? dev : null;
        }
        NetDevice target = dev.namespace().device(x.redirectIfindex());
        return target != null && target.isUp() ? target : null;
    }

    /** The frame out of the target device, or (a cpumap) into the stack on that CPU through its backlog. */
    private static void deliver(SkBuff skb, NetDevice dev, NetDevice target, XdpBuffer x) {
        if (x.redirectCpu() >= 0) {
            skb.dev(dev);
            dev.namespace().core().enqueueToBacklog(skb, x.redirectCpu()); // a full backlog drops it, counted in softnet_stat
            return;
        }
        skb.dev(target);
        skb.resetMacHeader();
        dev.namespace().core().devQueueXmit(skb);
    }

    @Override
    public void close() {
        program.close();
    }

    @Override
    public String describe() {
        return "id " + program.id() + " name " + program.name() + (program.engine().equals("jit") ? " jited" : "");
    }
}

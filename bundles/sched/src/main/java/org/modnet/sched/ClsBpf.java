package org.modnet.sched;

import java.util.HexFormat;
import java.util.List;

import org.modnet.api.net.Eth;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.sched.TcHook;
import org.modnet.api.skb.SkBuff;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.TcContext;

/**
 * {@code bpf} ({@code net/sched/cls_bpf.c}): an eBPF program of type {@code SCHED_CLS} run on the
 * frame, from its Ethernet header on (at ingress the header is pushed back for the run, as cls_bpf
 * does). In direct-action mode ({@code da}) its return value is the verdict — {@code TC_ACT_OK},
 * {@code SHOT}, {@code REDIRECT} (to where {@code bpf_redirect} said), {@code UNSPEC} for the next
 * filter; others count as unspec. Otherwise 0 means no match and anything else a match, the filter's
 * actions deciding. The program may write the frame, so a shared one is made private first; as in
 * Linux it sees the linear part between data and data_end (a GSO frame's pages are not pulled in:
 * {@code skb->len} says how long the whole is). Contexts come from a small pool made with the filter (a CAS takes one, a store gives
 * it back), so neither a softirq nor a sending thread allocates, and a run nested in another (a
 * clone redirected into a device whose hook runs this program again) gets a context of its own.
 */
final class ClsBpf implements Cls {
    private final NetCore core;
    private final boolean da;
    private final String label;
    /** The program and its contexts; replaced whole when the ebpf bundle is updated ({@link #rebind}). */
    private volatile Bound bound;

    /** Every bpf classifier in use, so an update of the ebpf bundle can move each to the adopted program. */
    static final java.util.Set<ClsBpf> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** One program with its pool of contexts: a run reads it once and gives its context back to the same pool. */
    private record Bound(BpfProg prog, Run[] pool, java.util.concurrent.atomic.AtomicIntegerArray busy) {
    }

    /** One thread's run: the context, and the frame the runtime's own helpers (clone_redirect, change_head) act on. */
    static final class Run {
        final TcContext ctx;
        SkBuff skb;
        boolean ingress;

        Run(TcContext ctx) {
            this.ctx = ctx;
            ctx.device(this);
        }
    }

    /** The class the last frame this thread classified went to ({@code res->classid}). */
    private static final ThreadLocal<int[]> CLASSID = ThreadLocal.withInitial(() -> new int[1]);
    /** The filter's own {@code classid} ({@code prog->res.classid}), 0 for none. */
    private final int classid;

    ClsBpf(NetCore core, BpfProg prog, boolean da, String label, int classid) {
        this.classid = classid;
        this.core = core;
        this.da = da;
        this.label = label;
        this.bound = bind(prog);
        LIVE.add(this);
    }

    private Bound bind(BpfProg prog) {
        int cpus = Math.max(1, core.cpus());
        int n = Integer.highestOneBit(Math.max(4, 2 * cpus + 2) - 1) << 1; // a power of two above the threads that run at once
        Run[] pool = new Run[n];
        for (int i = 0; i < n; i++) {
            pool[i] = new Run(prog.tcContext(i % cpus));
        }
        return new Bound(prog, pool, new java.util.concurrent.atomic.AtomicIntegerArray(n));
    }

    /** The program this filter runs now. */
    BpfProg prog() {
        return bound.prog;
    }

    /**
     * An update of the ebpf bundle: from the next frame on this filter runs {@code next} (the adopted
     * program of the same id, the caller's reference now this filter's); a run in progress ends on the
     * old program, whose reference this filter lets go of.
     */
    synchronized void rebind(BpfProg next) {
        Bound old = bound;
        bound = bind(next);
        old.prog.close();
    }

    /** A free context, or null when every one is in use (more runs at once than the pool holds). */
    private static int acquire(Run[] pool, java.util.concurrent.atomic.AtomicIntegerArray busy) {
        int n = pool.length;
        int start = (int) Thread.currentThread().threadId() & (n - 1);
        for (int k = 0; k < n; k++) {
            int i = (start + k) & (n - 1);
            if (busy.get(i) == 0 && busy.compareAndSet(i, 0, 1)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public int classid(int own) {
        return CLASSID.get()[0];
    }

    @Override
    public int classify(SkBuff skb, boolean ingress) {
        if (!skb.isWritable() && !skb.unshare()) {
            return da ? TcHook.TC_ACT_SHOT : NO_MATCH; // no private copy to give the program
        }
        if (ingress) {
            skb.push(Eth.ETH_HLEN);
        }
        Bound b = bound;
        int slot = acquire(b.pool, b.busy);
        Run run = slot >= 0 ? b.pool[slot] : new Run(b.prog.tcContext(0)); // a rare overflow: a context of its own
        run.skb = skb;
        run.ingress = ingress;
        NetDevice dev = skb.dev();
        int proto = skb.protocol() & 0xffff;
        run.ctx.fields(skb.len(), skb.pktType().ordinal(), skb.mark(), skb.queueMapping(), Short.reverseBytes((short) proto) & 0xffff,
                skb.priority(), ingress ? dev.ifindex() : 0, dev.ifindex(), skb.hash());
        run.ctx.csumPartial(skb.ipSummed() == org.modnet.api.skb.Checksum.PARTIAL);
        run.ctx.tcClassid(classid); // cls_bpf_classify: the program starts from the filter's class id
        run.ctx.packet(skb.memory(), skb.data(), skb.tail(), true);
        int r = run.ctx.run();
        skb.mark(run.ctx.mark()); // skb->mark and ->priority as the program left them
        skb.priority(run.ctx.priority());
        int tcClassid = run.ctx.tcClassid();
        run.skb = null;
        int redirectIfindex = run.ctx.redirectIfindex();
        int redirectFlags = run.ctx.redirectFlags();
        if (slot >= 0) {
            b.busy.set(slot, 0);
        }
        if (ingress) {
            skb.pull(Eth.ETH_HLEN);
        }
        if (!da) { // 0: not ours; -1: the filter's classid; else the class the program returned
            if (r == 0) {
                return NO_MATCH;
            }
            CLASSID.get()[0] = r == -1 ? classid : r;
            return MATCH;
        }
        CLASSID.get()[0] = (classid & 0xffff0000) | tcClassid; // TC_H_MAJ(res.classid) | tc_classid
        return switch (r) {
            case TcHook.TC_ACT_OK, TcHook.TC_ACT_SHOT, TcHook.TC_ACT_STOLEN, TcHook.TC_ACT_TRAP, TcHook.TC_ACT_UNSPEC -> r;
            case TcHook.TC_ACT_REDIRECT -> redirect(skb, dev, ingress, redirectIfindex, redirectFlags);
            default -> TcHook.TC_ACT_UNSPEC; // cls_bpf_exec_opcode
        };
    }

    /** {@code skb_do_redirect}: out of (or, with BPF_F_INGRESS, into) the device the program named; the frame is taken either way. */
    private int redirect(SkBuff skb, NetDevice dev, boolean ingress, int ifindex, int flags) {
        NetDevice target = ifindex > 0 && dev.namespace() != null ? dev.namespace().device(ifindex) : null;
        boolean toIngress = (flags & TcContext.BPF_F_INGRESS) != 0;
        if (target == null || !ActMirred.forward(core, skb, target, !toIngress, !ingress)) {
            return TcHook.TC_ACT_SHOT; // no such device, down, or a loop: dropped and counted by the hook
        }
        return TcHook.TC_ACT_STOLEN;
    }

    /** {@code bpf_clone_redirect}: a clone of the frame (data at its Ethernet header) out of or into another device. */
    static long cloneRedirect(NetCore core, Run run, long ifindex, long flags) {
        if ((flags & ~(long) TcContext.BPF_F_INGRESS) != 0) {
            return -22;
        }
        SkBuff skb = run.skb;
        NetDevice dev = skb.dev();
        NetDevice target = dev.namespace() != null ? dev.namespace().device((int) ifindex) : null;
        if (target == null) {
            return -22;
        }
        SkBuff c = skb.clone();
        if (c == null) {
            return -12;
        }
        boolean toIngress = (flags & TcContext.BPF_F_INGRESS) != 0;
        if (!ActMirred.forward(core, c, target, !toIngress, true)) {
            c.free();
            return -100; // ENETDOWN
        }
        return 0;
    }

    /** {@code bpf_skb_change_head}: {@code len} zeroed bytes in front of the frame, which starts there now (a new L2 header). */
    static long changeHead(Run run, long len, long flags) {
        SkBuff skb = run.skb;
        if (flags != 0 || len < 0 || len > 0xffff) {
            return -22;
        }
        if (skb.headroom() < len) {
            return -12; // ENOMEM: the kernel would reallocate; modnet's pools keep their headroom
        }
        int data = skb.push((int) len);
        for (int i = 0; i < len; i++) {
            skb.setU8(data + i, 0);
        }
        skb.resetMacHeader();
        run.ctx.packet(skb.memory(), skb.data(), skb.tail(), true);
        return 0;
    }

    @Override
    public void print(List<String> out, StringBuilder line, boolean stats) {
        line.append(label).append(' ');
        if (da) {
            line.append("direct-action ");
        }
        BpfProg prog = bound.prog;
        line.append("not_in_hw id ").append(prog.id()).append(" name ").append(prog.name()).append(" tag ").append(tag())
                .append(prog.jited() ? " jited" : "");
        out.add(line.toString());
    }

    /** The program's tag: the first 8 bytes of a SHA-1 of its instructions, as the kernel's {@code bpf_prog_calc_tag}. */
    private String tag() {
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-1");
            for (long insn : bound.prog.xlated()) {
                for (int b = 0; b < 8; b++) {
                    sha.update((byte) (insn >>> (8 * b)));
                }
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            return "0000000000000000";
        }
    }

    @Override
    public synchronized void destroy() {
        LIVE.remove(this);
        bound.prog.close();
    }
}

package org.modnet.socket;

import java.util.concurrent.atomic.AtomicIntegerArray;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.SkFilterContext;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Socket filters ({@code net/core/filter.c}'s {@code sk_attach_filter}, {@code sk_attach_bpf},
 * {@code sk_filter_trim_cap}'s run): a classic program goes through the eBPF layer's checker and
 * translation, an eBPF one is taken by id and must be a {@code SOCKET_FILTER}. Each filter holds a pool
 * of contexts, one taken per run with a compare-and-set, so runs on several softirq threads at once
 * take no lock and allocate nothing.
 */
@Component(service = SkFilterLoader.class)
public final class SkFilters implements SkFilterLoader {
    private final BpfSyscall bpf;
    private final int cpus;

    @Activate
    public SkFilters(@Reference NetCore core, @Reference BpfSyscall bpf) {
        this(bpf, core.cpus());
    }

    SkFilters(BpfSyscall bpf, int cpus) {
        this.bpf = bpf;
        this.cpus = Math.max(1, cpus);
    }

    @Override
    public Sock.Filter classic(long[] insns) throws SockException {
        try {
            return new Run(bpf.progLoadClassic("sk_filter", insns, BpfSyscall.JIT), insns.clone(), cpus);
        } catch (BpfException e) {
            throw SockException.of(Errno.EINVAL); // bpf_check_classic's refusals are all EINVAL
        }
    }

    @Override
    public Sock.Filter bpf(int progId) throws SockException {
        BpfProg p = bpf.prog(progId);
        if (p == null) {
            throw SockException.of(Errno.EBADF);
        }
        if (p.type() != ProgType.SOCKET_FILTER) {
            throw SockException.of(Errno.EINVAL); // bpf_prog_get_type: another type
        }
        try {
            return new Run(p.hold(), null, cpus);
        } catch (IllegalStateException unloaded) {
            throw SockException.of(Errno.EBADF);
        }
    }

    /** One attached program and its contexts. */
    static final class Run implements Sock.Filter {
        /** Every attached filter, for {@link SkFilterRebind} (weak: a filter of a closed socket just goes). */
        static final java.util.Set<Run> LIVE = java.util.Collections.synchronizedSet(
                java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));

        /** The program and its contexts, swapped as one on an update of the eBPF layer. */
        private record Bound(BpfProg prog, SkFilterContext[] pool, AtomicIntegerArray busy) {
        }

        private final long[] classic;
        private final int cpus;
        private volatile Bound bound;

        Run(BpfProg prog, long[] classic, int cpus) {
            this.classic = classic;
            this.cpus = cpus;
            this.bound = bind(prog);
            LIVE.add(this);
        }

        private Bound bind(BpfProg prog) {
            int n = Integer.highestOneBit(Math.max(4, 2 * cpus + 2) - 1) << 1; // a power of two above the threads that run at once
            SkFilterContext[] pool = new SkFilterContext[n];
            for (int i = 0; i < n; i++) {
                pool[i] = prog.skFilterContext(i % cpus);
            }
            return new Bound(prog, pool, new AtomicIntegerArray(n));
        }

        /** The program it runs now. */
        BpfProg prog() {
            return bound.prog;
        }

        /**
         * An update of the ebpf bundle: from the next packet on this filter runs {@code next} (the adopted
         * program of the same id, the caller's reference now this filter's); a run in progress ends on the old one.
         */
        synchronized void rebind(BpfProg next) {
            Bound old = bound;
            bound = bind(next);
            old.prog.close();
        }

        @Override
        public long run(Sock sk, SkBuff skb) {
            Bound b = bound;
            SkFilterContext[] pool = b.pool;
            AtomicIntegerArray busy = b.busy;
            int n = pool.length;
            int start = (int) Thread.currentThread().threadId() & (n - 1);
            int slot = -1;
            for (int k = 0; k < n; k++) {
                int i = (start + k) & (n - 1);
                if (busy.get(i) == 0 && busy.compareAndSet(i, 0, 1)) {
                    slot = i;
                    break;
                }
            }
            // every context in use: more runs at once than the pool holds, a rare case that gets its own
            SkFilterContext ctx = slot >= 0 ? pool[slot] : b.prog.skFilterContext(0);
            try {
                if (skb.isNonlinear()) {
                    skb.linearize(); // LD_ABS reads the linear bytes; a failure leaves them short and loads past them end with 0
                }
                NetDevice dev = skb.dev();
                int ifindex = dev == null ? 0 : dev.ifindex();
                ctx.fields(skb.len(), skb.pktType().ordinal(), skb.mark(), skb.queueMapping(),
                        Short.reverseBytes((short) skb.protocol()) & 0xffff, 0, 0, 0, skb.priority(), ifindex, ifindex, skb.hash());
                ctx.packet(skb.memory(), skb.macHeaderWasSet() ? skb.macHeader() : -1, skb.networkHeader(), skb.data(), skb.tail());
                ctx.socketCookie(sk.inode());
                return ctx.filter();
            } finally {
                if (slot >= 0) {
                    busy.set(slot, 0);
                }
            }
        }

        @Override
        public long[] classic() {
            return classic == null ? null : classic.clone();
        }

        @Override
        public synchronized void release() {
            LIVE.remove(this);
            bound.prog.close();
        }
    }
}

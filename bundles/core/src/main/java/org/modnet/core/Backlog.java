package org.modnet.core;

import java.util.function.IntSupplier;
import java.util.function.Predicate;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.skb.SkBuff;

/**
 * One CPU's input backlog ({@code softnet_data.input_pkt_queue} and its {@code process_backlog} NAPI):
 * frames handed to a CPU from elsewhere — an XDP program's cpumap redirect, as RPS steers them — wait
 * here, at most {@code net.core.netdev_max_backlog} of them, and that CPU's softirq takes them into
 * the stack. A full backlog drops the frame and counts it in {@code softnet_stat}'s dropped column.
 * A frame may come with a first step to run on this CPU (a cpumap entry's XDP program, as the
 * kernel's cpumap thread runs it), which lets it go on into the stack or takes it.
 */
final class Backlog implements Napi.Poller {
    private final CoreEngine core;
    private final Softirq softirq;
    private final IntSupplier maxBacklog;
    private final SkbRing queue = new SkbRing(1 << 16, true);
    private final Napi napi;

    Backlog(CoreEngine core, Softirq softirq, IntSupplier maxBacklog) {
        this.core = core;
        this.softirq = softirq;
        this.maxBacklog = maxBacklog;
        this.napi = new Napi(softirq, this);
    }

    /**
     * {@code enqueue_to_backlog}: the frame (its device set, data at the MAC header) queued for this
     * CPU, with its first step or null; false if dropped.
     */
    boolean enqueue(SkBuff skb, Predicate<SkBuff> first) {
        if (queue.pending() >= maxBacklog.getAsInt() || !queue.offer(skb, first)) {
            softirq.countDrop();
            skb.free();
            return false;
        }
        napi.schedule();
        return true;
    }

    /** {@code process_backlog}: each frame through its first step, if any, and {@code eth_type_trans} into the stack, on this CPU. */
    @Override
    public int poll(Napi n, int budget) {
        int done = 0;
        while (done < budget) {
            SkBuff skb = queue.poll();
            if (skb == null) {
                break;
            }
            done++;
            @SuppressWarnings("unchecked")
            Predicate<SkBuff> first = (Predicate<SkBuff>) queue.takenTag();
            NetDev dev = (NetDev) skb.dev();
            if (dev == null || !dev.isUp()) {
                if (dev != null) {
                    dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1); // went down while the frame waited
                }
                skb.free();
                continue;
            }
            if (first != null && !first.test(skb)) {
                continue;
            }
            if (Eth.typeTrans(skb, dev) < 0) {
                dev.stats().addShared(DeviceStats.Field.RX_LENGTH_ERRORS, 1);
                dev.stats().addShared(DeviceStats.Field.RX_ERRORS, 1); // the total ip -s link shows, as the ring's poll counts it
                skb.free();
                continue;
            }
            core.receive(skb, dev);
        }
        return done;
    }

    int pending() {
        return queue.pending();
    }
}

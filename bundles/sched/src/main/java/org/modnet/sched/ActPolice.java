package org.modnet.sched;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import org.modnet.api.sched.TcHook;
import org.modnet.api.skb.SkBuff;

/**
 * {@code police} ({@code net/sched/act_police.c}): a token bucket of {@code burst} bytes filled at
 * {@code rate}; a frame that finds enough tokens conforms (its verdict, {@code ok} unless told), one
 * that does not — or is longer than {@code mtu} — exceeds: an overlimit, and the exceed verdict
 * ({@code reclassify} unless told; {@code drop} counts a drop). The bucket is kept as the time at which
 * it is full again (the GCRA form of the same bucket), one word that a CAS moves, so no lock is taken.
 */
final class ActPolice extends TcAction {
    private final long rate;
    private final long burst;
    private final long mtu;
    private final int exceed;
    private final int conform;
    private final long burstNs;
    private final LongSupplier clock;
    /** The time the bucket would be full again; a frame conforms while it lies at most burstNs ahead. */
    private final AtomicLong full;

    ActPolice(int index, long rate, long burst, long mtu, int exceed, int conform, LongSupplier clock) {
        super(index);
        this.rate = rate;
        this.burst = burst;
        this.mtu = mtu;
        this.exceed = exceed;
        this.conform = conform;
        this.clock = clock;
        this.burstNs = nanos(burst);
        this.full = new AtomicLong(clock.getAsLong());
    }

    /** {@code psched_l2t_ns}: how long {@code bytes} take at the rate. */
    private long nanos(long bytes) {
        return (long) (bytes * 1e9 / rate);
    }

    @Override
    String kind() {
        return "police";
    }

    @Override
    int act(SkBuff skb, boolean ingress) {
        int len = skb.len();
        stats.sent(len);
        if (len <= mtu) {
            long cost = nanos(len);
            long now = clock.getAsLong();
            while (true) {
                long f = full.get();
                long next = Math.max(f, now) + cost;
                if (next - now > burstNs) {
                    break;
                }
                if (full.compareAndSet(f, next)) {
                    return conform;
                }
            }
        }
        stats.overlimit();
        if (exceed == TcHook.TC_ACT_SHOT) {
            stats.drop();
        }
        return exceed;
    }

    @Override
    List<String> describe() {
        String result = conform == TcHook.TC_ACT_OK ? " " : "/" + verdictName(conform) + " ";
        return List.of(" police 0x" + Integer.toHexString(index) + " rate " + TcUtil.rate(rate) + " burst "
                + TcUtil.size(burst) + " mtu " + TcUtil.size(mtu) + " action " + verdictName(exceed) + result
                + "overhead 0b ", "\t" + refs());
    }
}

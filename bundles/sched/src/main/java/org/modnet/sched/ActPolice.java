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
    /** {@code struct tcf_police_params}: swapped whole by {@code tc actions replace}, read once per frame. */
    private record Params(long rate, long burst, long mtu, int exceed, int conform, long burstNs) {
        /** {@code psched_l2t_ns}: how long {@code bytes} take at the rate. */
        long nanos(long bytes) {
            return (long) (bytes * 1e9 / rate);
        }
    }

    private volatile Params params;
    private final LongSupplier clock;
    /** The time the bucket would be full again; a frame conforms while it lies at most burstNs ahead. */
    private final AtomicLong full;

    ActPolice(int index, long rate, long burst, long mtu, int exceed, int conform, LongSupplier clock) {
        super(index);
        this.clock = clock;
        this.params = new Params(rate, burst, mtu, exceed, conform, (long) (burst * 1e9 / rate));
        this.full = new AtomicLong(clock.getAsLong());
    }

    /** The new parameters, and a full bucket, as {@code tcf_police_init} gives a replaced policer. */
    @Override
    void replaceWith(TcAction fresh) {
        params = ((ActPolice) fresh).params;
        full.set(clock.getAsLong());
    }

    @Override
    String kind() {
        return "police";
    }

    @Override
    int act(SkBuff skb, boolean ingress) {
        Params p = params;
        int len = skb.len();
        stats.sent(len);
        if (len <= p.mtu) {
            long cost = p.nanos(len);
            long now = clock.getAsLong();
            while (true) {
                long f = full.get();
                long next = Math.max(f, now) + cost;
                if (next - now > p.burstNs) {
                    break;
                }
                if (full.compareAndSet(f, next)) {
                    return p.conform;
                }
            }
        }
        stats.overlimit();
        if (p.exceed == TcHook.TC_ACT_SHOT) {
            stats.drop();
        }
        return p.exceed;
    }

    @Override
    List<String> describe() {
        Params p = params;
        long rate = p.rate;
        long burst = p.burst;
        long mtu = p.mtu;
        int exceed = p.exceed;
        int conform = p.conform;
        String result = conform == TcHook.TC_ACT_OK ? " " : "/" + verdictName(conform) + " ";
        return List.of(" police 0x" + Integer.toHexString(index) + " rate " + TcUtil.rate(rate) + " burst "
                + TcUtil.size(burst) + " mtu " + TcUtil.size(mtu) + " action " + verdictName(exceed) + result
                + "overhead 0b ", "\t" + refs());
    }
}

package org.modnet.ipv4;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntUnaryOperator;

import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.Jiffies;

/**
 * How many ICMP messages may leave, as {@code net/ipv4/icmp.c} decides: types in
 * {@code net.ipv4.icmp_ratemask} (never "fragmentation needed", which path MTU discovery needs) share
 * one namespace-wide token bucket ({@code icmp_global_allow}: {@code icmp_msgs_per_sec} credits a
 * second, at most {@code icmp_msgs_burst}) and then a bucket per destination ({@code inet_peer}'s
 * {@code inet_peer_xrlim_allow}: one message per {@code icmp_ratelimit} ms, bursts of 6).
 *
 * <p>Lock-free and allocation-free: the global bucket is two atomics, the per-destination buckets a
 * fixed table of atomic longs. A message sent takes 0, 1 or 2 credits at random, 1 on average
 * ({@code icmp_global_consume}, the CVE-2020-25705 hardening: an observer cannot count credits
 * exactly to probe for open UDP ports).
 */
final class IcmpRateLimit {
    /** {@code XRLIM_BURST_FACTOR}: a destination may have six messages' worth of tokens saved. */
    static final int BURST_FACTOR = 6;
    /** Destinations remembered: two ways of {@value #SETS} sets. */
    static final int SETS = 1024;
    /** Linux's {@code NR_ICMP_TYPES}: types above it are never limited. */
    private static final int NR_ICMP_TYPES = 18;
    private static final int FRAG_NEEDED = 4;

    private final IntSysctl msgsPerSec;
    private final IntSysctl msgsBurst;
    private final IntSysctl ratemask;
    private final IntSysctl ratelimit;
    private final IntUnaryOperator randomBelow;

    private final AtomicInteger credit = new AtomicInteger();
    private final AtomicLong stamp = new AtomicLong(Long.MIN_VALUE / 2);

    /** Per destination: address in the high 32 bits, the bucket's base time (ms, mod 2^32) in the low. */
    private final AtomicLongArray peers = new AtomicLongArray(2 * SETS);
    private final int seed = ThreadLocalRandom.current().nextInt();
    private final AtomicLong evictions = new AtomicLong();

    /**
     * @param randomBelow {@code n -> a uniform int in [0, n)}; tests pin it
     */
    IcmpRateLimit(IntSysctl msgsPerSec, IntSysctl msgsBurst, IntSysctl ratemask, IntSysctl ratelimit,
            IntUnaryOperator randomBelow) {
        this.msgsPerSec = msgsPerSec;
        this.msgsBurst = msgsBurst;
        this.ratemask = ratemask;
        this.ratelimit = ratelimit;
        this.randomBelow = randomBelow;
    }

    IcmpRateLimit(IntSysctl msgsPerSec, IntSysctl msgsBurst, IntSysctl ratemask, IntSysctl ratelimit) {
        this(msgsPerSec, msgsBurst, ratemask, ratelimit, n -> ThreadLocalRandom.current().nextInt(n));
    }

    /** {@code icmpv4_mask_allow} negated: whether a message of this type and code is rate-limited at all. */
    boolean limited(int type, int code) {
        if (type > NR_ICMP_TYPES || type < 0) {
            return false;
        }
        if (type == Icmp.DEST_UNREACH && code == FRAG_NEEDED) {
            return false; // path MTU discovery must not be starved
        }
        return ((1 << type) & ratemask.get()) != 0;
    }

    /**
     * {@code icmp_global_allow}: true while credit is left, or when at least 20 ms since the last refill
     * earn new credit (capped at {@code icmp_msgs_burst}). Racing CPUs may all pass on the last credit,
     * as in Linux; the credit then goes negative and the next refill pays it back.
     */
    boolean globalAllow(long nowMs) {
        if (credit.get() > 0) {
            return true;
        }
        long old = stamp.get();
        long delta = Math.min(nowMs - old, 1000);
        if (delta < 20) {
            return false;
        }
        long incr = (long) Math.max(0, msgsPerSec.get()) * delta / 1000;
        if (incr == 0) {
            return false;
        }
        if (stamp.compareAndSet(old, nowMs)) {
            int burst = Math.max(0, msgsBurst.get());
            int c;
            int n;
            do {
                c = credit.get();
                n = (int) Math.min(c + incr, burst);
            } while (!credit.compareAndSet(c, n));
        }
        return true;
    }

    /** {@code icmp_global_consume}: a message left; it costs 0, 1 or 2 credits. */
    void consume() {
        int credits = randomBelow.applyAsInt(3);
        if (credits != 0) {
            credit.addAndGet(-credits);
        }
    }

    /**
     * {@code inet_peer_xrlim_allow}: the destination's bucket earns one token a jiffy up to
     * {@code 6 * icmp_ratelimit}; a message takes {@code icmp_ratelimit} (milliseconds rounded up to
     * jiffies, as {@code proc_dointvec_ms_jiffies} stores it). A destination not in the table
     * starts with a full bucket; taking its place from another whose bucket was not yet full forgets a
     * limit, and is counted ({@link #evictions()}).
     */
    boolean hostAllow(int destination, long nowMs) {
        long timeout = Jiffies.fromMsecs(ratelimit.get());
        if (timeout <= 0 || destination == 0) {
            return true;
        }
        long cap = Math.min(BURST_FACTOR * timeout, Integer.MAX_VALUE);
        int now = (int) Jiffies.at(nowMs * 1_000_000, Jiffies.HZ);
        int set = 2 * (mix(destination ^ seed) & (SETS - 1));
        for (;;) {
            int slot = -1;
            long v = 0;
            long tokens = cap;
            boolean lossy = false;
            for (int w = 0; w < 2; w++) {
                long e = peers.get(set + w);
                if ((int) (e >>> 32) == destination) {
                    slot = set + w;
                    v = e;
                    tokens = Math.min(cap, Integer.toUnsignedLong(now - (int) e));
                    break;
                }
            }
            if (slot < 0) {
                // a free way, else the way whose bucket is fullest (a full bucket forgets nothing)
                long best = -1;
                for (int w = 0; w < 2; w++) {
                    long e = peers.get(set + w);
                    long t = e == 0 ? Long.MAX_VALUE : Math.min(cap, Integer.toUnsignedLong(now - (int) e));
                    if (t > best) {
                        best = t;
                        slot = set + w;
                        v = e;
                    }
                }
                lossy = best < cap;
            }
            boolean allowed = tokens >= timeout;
            if (allowed) {
                tokens -= timeout;
            }
            long next = ((long) destination << 32) | ((now - (int) tokens) & 0xffffffffL);
            if (peers.compareAndSet(slot, v, next)) {
                if (lossy) {
                    evictions.incrementAndGet();
                }
                return allowed;
            }
        }
    }

    /** Destinations forgotten while their bucket still limited them: the table's bound at work. */
    long evictions() {
        return evictions.get();
    }

    /** Credit left in the global bucket now (may be briefly negative). */
    int credit() {
        return credit.get();
    }

    private static int mix(int x) {
        x ^= x >>> 16;
        x *= 0x7feb352d;
        x ^= x >>> 15;
        x *= 0x846ca68b;
        x ^= x >>> 16;
        return x;
    }
}

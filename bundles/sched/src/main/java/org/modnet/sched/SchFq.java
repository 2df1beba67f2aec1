package org.modnet.sched;

import java.util.List;

import org.modnet.api.net.Timer;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.FlowDissector;
import org.modnet.api.skb.SkBuff;

/**
 * {@code fq}, fair queue packet scheduler with pacing ({@code net/sched/sch_fq.c}): one queue per flow
 * (per socket, or per hash of the addresses and ports for packets without one, masked by
 * {@code orphan_mask}), served round robin with a {@code quantum} of bytes per turn; a flow that
 * comes back after being idle starts on the new-flows list with {@code initial_quantum}. Each flow
 * is paced: a packet leaves no earlier than its departure time ({@code skb->tstamp}, earliest
 * departure time) nor than its flow's next slot at the flow's rate ({@code maxrate}); flows that
 * must wait sit on the throttled list and the watchdog wakes the qdisc for the first of them.
 * Packets of {@code TC_PRIO_CONTROL} priority go through an internal flow ahead of all others.
 *
 * <p>Linux allocates flows as they appear and keeps them in red-black trees per bucket; here the
 * flows are {@code buckets} slots made with the qdisc, found by hash with a short probe. A flow idle
 * for three seconds is reclaimed when its slot is wanted ({@code gc}); a packet that finds no slot
 * goes through the internal flow and counts as an allocation error, as Linux does when it cannot
 * allocate a flow.
 */
final class SchFq extends SchedQdisc {
    static final String USAGE = """
            Usage: ... fq	[ limit PACKETS ] [ flow_limit PACKETS ]
            		[ quantum BYTES ] [ initial_quantum BYTES ]
            		[ maxrate RATE ] [ buckets NUMBER ]
            		[ [no]pacing ] [ refill_delay TIME ]
            		[ low_rate_threshold RATE ]
            		[ orphan_mask MASK]
            		[ timer_slack TIME]
            		[ ce_threshold TIME ]
            		[ horizon TIME ]
            		[ horizon_{cap|drop} ]""";

    /** {@code ~0UL}: no rate limit. */
    static final long UNLIMITED = Long.MAX_VALUE;
    /** {@code TC_PRIO_CONTROL}. */
    private static final int TC_PRIO_CONTROL = 7;
    /** {@code FQ_GC_AGE}: a flow idle this long may give its slot to another. */
    private static final long GC_AGE = 3 * TcUtil.NSEC_PER_SEC;
    /** How many slots a flow's hash may land on. */
    private static final int PROBE = 8;

    record Params(int limit, int flowLimit, int quantum, int initialQuantum, long maxrate, int bucketsLog, boolean pacing,
            long refillDelay, long lowRateThreshold, int orphanMask, long timerSlack, long ceThreshold, long horizon,
            boolean horizonDrop) {
        static Params parse(List<String> words, Params old, int mtu) {
            Args a = new Args(words, USAGE);
            int limit = old != null ? old.limit() : 10000;
            int flowLimit = old != null ? old.flowLimit() : 100;
            int quantum = old != null ? old.quantum() : 2 * mtu;
            int initial = old != null ? old.initialQuantum() : 10 * mtu;
            long maxrate = old != null ? old.maxrate() : UNLIMITED;
            int log = old != null ? old.bucketsLog() : 10;
            boolean pacing = old == null || old.pacing();
            long refill = old != null ? old.refillDelay() : 40 * TcUtil.NSEC_PER_MSEC;
            long lowRate = old != null ? old.lowRateThreshold() : 550_000 / 8;
            int orphan = old != null ? old.orphanMask() : 1023;
            long slack = old != null ? old.timerSlack() : 10 * TcUtil.NSEC_PER_USEC;
            long ce = old != null ? old.ceThreshold() : UNLIMITED;
            long horizon = old != null ? old.horizon() : 10 * TcUtil.NSEC_PER_SEC;
            boolean horizonDrop = old == null || old.horizonDrop();
            while (a.more()) {
                String w = a.next();
                switch (w) {
                    case "limit" -> limit = u32(a, "limit");
                    case "flow_limit" -> flowLimit = u32(a, "flow_limit");
                    case "buckets" -> {
                        int b = u32(a, "buckets");
                        log = b == 0 ? 0 : 31 - Integer.numberOfLeadingZeros(b); // ilog2
                        if (log < 1 || log > 18) {
                            throw new CommandException("RTNETLINK answers: Invalid argument", 2);
                        }
                    }
                    case "maxrate" -> maxrate = rate(a, "maxrate");
                    case "low_rate_threshold" -> lowRate = rate(a, "low_rate_threshold");
                    case "quantum" -> {
                        quantum = u32(a, "quantum");
                        if (quantum == 0 || quantum > 1 << 20) {
                            throw new CommandException("Error: sch_fq: invalid quantum.", 2);
                        }
                    }
                    case "initial_quantum" -> initial = u32(a, "initial_quantum");
                    case "orphan_mask" -> orphan = u32(a, "orphan_mask");
                    case "refill_delay" -> refill = time(a, "refill_delay");
                    case "timer_slack" -> slack = time(a, "timer_slack");
                    case "ce_threshold" -> ce = time(a, "ce_threshold");
                    case "horizon" -> horizon = time(a, "horizon");
                    case "horizon_drop" -> horizonDrop = true;
                    case "horizon_cap" -> horizonDrop = false;
                    case "pacing" -> pacing = true;
                    case "nopacing" -> pacing = false;
                    default -> throw a.unknown(w);
                }
            }
            if (limit == 0) {
                throw new CommandException("RTNETLINK answers: Invalid argument", 2);
            }
            return new Params(limit, flowLimit, quantum, initial, maxrate, log, pacing, refill, lowRate, orphan, slack, ce, horizon,
                    horizonDrop);
        }

        private static int u32(Args a, String what) {
            Integer v = TcUtil.parseU32(a.value());
            if (v == null) {
                throw TcUtil.illegal(what);
            }
            return v;
        }

        private static long rate(Args a, String what) {
            Long v = TcUtil.parseRate(a.value());
            if (v == null) {
                throw TcUtil.illegal(what);
            }
            return v;
        }

        private static long time(Args a, String what) {
            Long v = TcUtil.parseTime(a.value());
            if (v == null || v < 0) {
                throw TcUtil.illegal(what);
            }
            return v;
        }
    }

    /** Where a flow is: on no list (detached), new or old flows, or throttled. */
    private static final byte DETACHED = 0;
    private static final byte NEW = 1;
    private static final byte OLD = 2;
    private static final byte THROTTLED = 3;

    private final int mtu;
    private final Timer watchdog;
    private Params p;
    // the flow slots (struct fq_flow), by index
    private int mask;
    private boolean[] inUse;
    private long[] key;
    private SkbQueue[] queues;
    private int[] credit;
    private long[] timeNextPacket;
    private long[] age;
    private byte[] list;
    private int[] next;
    private final SkbQueue internal = new SkbQueue();
    private int newHead = -1;
    private int newTail = -1;
    private int oldHead = -1;
    private int oldTail = -1;
    private int throttledHead = -1;
    private int qlen;
    private int bytes;
    // xstats (struct tc_fq_qd_stats)
    private int flows;
    private int inactiveFlows;
    private int throttledFlows;
    private long gcFlows;
    private long highprioPackets;
    private long throttled;
    private long flowsPlimit;
    private long pktsTooLong;
    private long allocationErrors;
    private long horizonDrops;
    private long horizonCaps;
    private long ceMark;
    private long timeNextDelayedFlow = Long.MAX_VALUE;

    SchFq(QdiscEnv env, List<String> args) {
        super(env);
        this.mtu = env.device().mtu() + 14; // psched_mtu
        this.p = Params.parse(args, null, mtu);
        table(1 << p.bucketsLog());
        this.watchdog = env.timer(env::schedule);
    }

    private void table(int n) {
        mask = n - 1;
        inUse = new boolean[n];
        key = new long[n];
        queues = new SkbQueue[n];
        for (int i = 0; i < n; i++) {
            queues[i] = new SkbQueue();
        }
        credit = new int[n];
        timeNextPacket = new long[n];
        age = new long[n];
        list = new byte[n];
        next = new int[n];
        flows = 0;
        inactiveFlows = 0;
        throttledFlows = 0;
    }

    @Override
    public String kind() {
        return "fq";
    }

    /**
     * The socket's pacing rate ({@code sk->sk_pacing_rate}) in bytes per second, {@link #UNLIMITED} if
     * it sets none. The hook for TCP's pacing: modnet's TCP computes a pacing rate for
     * {@code tcp_info} but does not hand one to its skbs yet, so every flow is paced by
     * {@code maxrate} alone (and by departure times in {@code skb->tstamp}).
     */
    private static long pacingRate(SkBuff skb) {
        return UNLIMITED;
    }

    // --- the packet path -------------------------------------------------------------------------

    /** {@code fq_classify}: the flow's slot, or -1 for the internal flow. */
    private int classify(SkBuff skb, long now) {
        if ((skb.priority() & 15) == TC_PRIO_CONTROL) {
            highprioPackets++;
            return -1;
        }
        long k;
        Object owner = skb.owner();
        if (owner != null) {
            k = (long) System.identityHashCode(owner) << 1; // the socket
        } else {
            k = ((long) (FlowDissector.skbGetHash(skb) & p.orphanMask()) << 1) | 1; // orphans: a pseudo socket per hash, as Linux
        }
        long h = k * 0x9e3779b97f4a7c15L;
        int base = (int) (h >>> 40) & mask;
        int free = -1;
        for (int i = 0; i < PROBE; i++) {
            int s = (base + i) & mask;
            if (inUse[s]) {
                if (key[s] == k) {
                    return s;
                }
                if (free < 0 && list[s] == DETACHED && now - age[s] > GC_AGE) {
                    free = s; // fq_gc: an old idle flow gives way
                }
            } else if (free < 0) {
                free = s;
            }
        }
        if (free < 0) {
            allocationErrors++;
            return -1;
        }
        if (inUse[free]) {
            gcFlows++;
            flows--;
            inactiveFlows--;
        }
        inUse[free] = true;
        key[free] = k;
        credit[free] = p.initialQuantum();
        timeNextPacket[free] = 0;
        list[free] = DETACHED;
        age[free] = now;
        flows++;
        inactiveFlows++;
        return free;
    }

    @Override
    public int enqueue(SkBuff skb) {
        if (qlen >= p.limit()) {
            return drop(skb);
        }
        long now = env.nanoTime();
        long t = skb.tstamp();
        if (t == 0) {
            skb.tstamp(now); // time_to_send: now
        } else if (t > now + p.horizon()) {
            if (p.horizonDrop()) {
                horizonDrops++;
                return drop(skb);
            }
            horizonCaps++;
            skb.tstamp(now + p.horizon());
        }
        int f = classify(skb, now);
        if (f < 0) {
            internal.addLast(skb);
        } else {
            if (queues[f].len() >= p.flowLimit()) {
                flowsPlimit++;
                return drop(skb);
            }
            if (list[f] == DETACHED) {
                append(f, NEW);
                if (now - age[f] > p.refillDelay()) {
                    credit[f] = Math.max(credit[f], p.quantum());
                }
                inactiveFlows--;
            }
            queues[f].addLast(skb);
        }
        qlen++;
        bytes += skb.len();
        return NET_XMIT_SUCCESS;
    }

    /** {@code fq_check_throttled}: throttled flows whose time has come go to the old flows. */
    private void checkThrottled(long now) {
        if (timeNextDelayedFlow > now) {
            return;
        }
        long first = Long.MAX_VALUE;
        int prev = -1;
        for (int f = throttledHead; f >= 0;) {
            int nf = next[f];
            if (timeNextPacket[f] <= now) {
                if (prev < 0) {
                    throttledHead = nf;
                } else {
                    next[prev] = nf;
                }
                throttledFlows--;
                append(f, OLD);
            } else {
                first = Math.min(first, timeNextPacket[f]);
                prev = f;
            }
            f = nf;
        }
        timeNextDelayedFlow = first;
    }

    @Override
    protected SkBuff dequeueNext() {
        if (qlen == 0) {
            return null;
        }
        SkBuff skb = internal.pollFirst();
        if (skb != null) {
            qlen--;
            bytes -= skb.len();
            skb.tstamp(0);
            return skb;
        }
        long now = env.nanoTime();
        checkThrottled(now);
        while (true) {
            boolean fromNew = newHead >= 0;
            int f = fromNew ? newHead : oldHead;
            if (f < 0) {
                if (timeNextDelayedFlow != Long.MAX_VALUE) {
                    // qdisc_watchdog_schedule_range_ns (the wheel counts in ms)
                    long wait = timeNextDelayedFlow - now;
                    watchdog.mod(Math.max(1, (wait + TcUtil.NSEC_PER_MSEC - 1) / TcUtil.NSEC_PER_MSEC));
                }
                return null;
            }
            if (credit[f] <= 0) {
                credit[f] += p.quantum();
                unlinkHead(f);
                append(f, OLD);
                continue;
            }
            skb = queues[f].peek();
            if (skb == null) {
                unlinkHead(f);
                if (fromNew && oldHead >= 0) {
                    append(f, OLD); // a pass through the old flows first, so new ones cannot starve them
                } else {
                    list[f] = DETACHED;
                    age[f] = now;
                    inactiveFlows++;
                }
                continue;
            }
            long timeNext = Math.max(skb.tstamp(), timeNextPacket[f]);
            if (now < timeNext) {
                unlinkHead(f);
                timeNextPacket[f] = timeNext;
                throttle(f);
                continue;
            }
            if (now - timeNext > p.ceThreshold()) {
                SchFqCodel.markCe(skb);
                ceMark++;
            }
            queues[f].pollFirst();
            qlen--;
            bytes -= skb.len();
            int plen = skb.len();
            credit[f] -= plen;
            skb.tstamp(0);
            if (!p.pacing()) {
                return skb;
            }
            long rate = Math.min(p.maxrate(), pacingRate(skb));
            if (rate <= p.lowRateThreshold()) {
                credit[f] = 0; // slow flows are paced packet by packet
            } else {
                plen = Math.max(plen, p.quantum());
                if (credit[f] > 0) {
                    return skb;
                }
            }
            if (rate != UNLIMITED) {
                long len = rate == 0 ? TcUtil.NSEC_PER_SEC : Math.min(plen * TcUtil.NSEC_PER_SEC / rate, TcUtil.NSEC_PER_SEC);
                if (timeNextPacket[f] != 0) {
                    len -= Math.min(len / 2, now - timeNextPacket[f]); // make up for a late timer
                }
                timeNextPacket[f] = now + len;
            }
            return skb;
        }
    }

    /** {@code fq_flow_set_throttled}. */
    private void throttle(int f) {
        list[f] = THROTTLED;
        next[f] = throttledHead;
        throttledHead = f;
        throttledFlows++;
        throttled++;
        timeNextDelayedFlow = Math.min(timeNextDelayedFlow, timeNextPacket[f]);
    }

    private void append(int f, byte where) {
        next[f] = -1;
        list[f] = where;
        if (where == NEW) {
            if (newTail < 0) {
                newHead = f;
            } else {
                next[newTail] = f;
            }
            newTail = f;
        } else {
            if (oldTail < 0) {
                oldHead = f;
            } else {
                next[oldTail] = f;
            }
            oldTail = f;
        }
    }

    /** Takes the flow at the head of its list off it. */
    private void unlinkHead(int f) {
        if (list[f] == NEW) {
            newHead = next[f];
            if (newHead < 0) {
                newTail = -1;
            }
        } else {
            oldHead = next[f];
            if (oldHead < 0) {
                oldTail = -1;
            }
        }
        next[f] = -1;
        list[f] = DETACHED;
    }

    @Override
    protected int resetQueue() {
        int n = internal.purge();
        for (int i = 0; i <= mask; i++) {
            n += queues[i].purge();
            inUse[i] = false;
            list[i] = DETACHED;
        }
        newHead = newTail = oldHead = oldTail = throttledHead = -1;
        flows = inactiveFlows = throttledFlows = 0;
        timeNextDelayedFlow = Long.MAX_VALUE;
        qlen = 0;
        bytes = 0;
        watchdog.del();
        return n;
    }

    @Override
    protected int queueLen() {
        return qlen;
    }

    @Override
    protected int queueBytes() {
        return bytes;
    }

    @Override
    public void change(List<String> args) {
        Params np = Params.parse(args, p, mtu);
        if (np.bucketsLog() != p.bucketsLog()) {
            if (qlen > 0) {
                throw new CommandException("RTNETLINK answers: Device or resource busy", 2);
            }
            resetQueue();
            table(1 << np.bucketsLog());
        }
        p = np;
        while (qlen > p.limit()) { // fq_change: what is over the new limit goes, from the front
            SkBuff skb = dequeueNext();
            if (skb == null) {
                break;
            }
            stats.drop();
            skb.free();
            env.device().stats().addShared(org.modnet.api.net.DeviceStats.Field.TX_DROPPED, 1);
        }
    }

    @Override
    public void destroy() {
        watchdog.del();
    }

    @Override
    public String options() {
        StringBuilder sb = new StringBuilder();
        sb.append("limit ").append(p.limit()).append("p flow_limit ").append(p.flowLimit()).append("p buckets ")
                .append(1 << p.bucketsLog()).append(" orphan_mask ").append(p.orphanMask()).append(' ');
        if (!p.pacing()) {
            sb.append("nopacing ");
        }
        sb.append("quantum ").append(TcUtil.size(p.quantum())).append(' ');
        sb.append("initial_quantum ").append(TcUtil.size(p.initialQuantum())).append(' ');
        if (p.maxrate() != UNLIMITED) {
            sb.append("maxrate ").append(TcUtil.rate(p.maxrate())).append(' ');
        }
        sb.append("low_rate_threshold ").append(TcUtil.rate(p.lowRateThreshold())).append(' ');
        sb.append("refill_delay ").append(TcUtil.time(p.refillDelay())).append(' ');
        if (p.ceThreshold() != UNLIMITED) {
            sb.append("ce_threshold ").append(TcUtil.time(p.ceThreshold())).append(' ');
        }
        sb.append("timer_slack ").append(TcUtil.time(p.timerSlack())).append(' ');
        sb.append("horizon ").append(TcUtil.time(p.horizon())).append(' ');
        sb.append(p.horizonDrop() ? "horizon_drop " : "horizon_cap ");
        return sb.toString();
    }

    @Override
    public String xstats() {
        StringBuilder sb = new StringBuilder();
        sb.append("  flows ").append(flows).append(" (inactive ").append(inactiveFlows).append(" throttled ").append(throttledFlows)
                .append(')');
        if (timeNextDelayedFlow != Long.MAX_VALUE) {
            sb.append(" next_packet_delay ").append(TcUtil.time(Math.max(0, timeNextDelayedFlow - env.nanoTime())));
        }
        sb.append("\n  gc ").append(gcFlows).append(" highprio ").append(highprioPackets).append(" throttled ").append(throttled);
        if (ceMark > 0) {
            sb.append(" ce_mark ").append(ceMark);
        }
        if (flowsPlimit > 0) {
            sb.append(" flows_plimit ").append(flowsPlimit);
        }
        if (pktsTooLong > 0 || allocationErrors > 0) {
            sb.append("\n  pkts_too_long ").append(pktsTooLong).append(" alloc_errors ").append(allocationErrors);
        }
        if (horizonDrops > 0 || horizonCaps > 0) {
            sb.append("\n  horizon_drops ").append(horizonDrops).append(" horizon_caps ").append(horizonCaps);
        }
        return sb.toString();
    }

    int flows() {
        return flows;
    }

    long flowsPlimit() {
        return flowsPlimit;
    }
}

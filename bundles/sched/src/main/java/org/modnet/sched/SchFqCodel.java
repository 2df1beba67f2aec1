package org.modnet.sched;

import java.util.List;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.FlowDissector;
import org.modnet.api.skb.SkBuff;

/**
 * {@code fq_codel} ({@code net/sched/sch_fq_codel.c} with CoDel, {@code include/net/codel_impl.h}):
 * packets hashed by flow into {@code flows} queues served by deficit round robin, new flows before
 * old ones; in each queue CoDel watches the sojourn time and, once it has stayed above
 * {@code target} for an {@code interval}, drops (or ECN-marks) at the head at a rate growing with the
 * square root of the drop count. Over {@code limit} packets or {@code memory_limit} bytes the fattest
 * flow loses up to {@code drop_batch} packets from its head. Every structure is made when the qdisc
 * is: flows are array slots, the new/old lists link slot numbers, queues link the skbs; each skb's
 * enqueue time is in its {@code tstamp}.
 */
final class SchFqCodel extends SchedQdisc {
    static final String USAGE = """
            Usage: ... fq_codel	[ limit PACKETS ] [ flows NUMBER ]
            					[ memory_limit BYTES ]
            					[ target TIME ] [ interval TIME ]
            					[ quantum BYTES ] [ [no]ecn ]
            					[ ce_threshold TIME ] [ drop_batch SIZE ]""";

    record Params(int limit, int flows, int quantum, long target, long interval, long memoryLimit, boolean ecn, int dropBatch) {
        static Params parse(List<String> words, Params old, int mtu) {
            Args a = new Args(words, USAGE);
            int limit = old != null ? old.limit() : 10240;
            int flows = old != null ? old.flows() : 1024;
            int quantum = old != null ? old.quantum() : mtu;
            long target = old != null ? old.target() : 5 * TcUtil.NSEC_PER_MSEC;
            long interval = old != null ? old.interval() : 100 * TcUtil.NSEC_PER_MSEC;
            long memory = old != null ? old.memoryLimit() : 32L << 20;
            boolean ecn = old == null || old.ecn();
            int batch = old != null ? old.dropBatch() : 64;
            while (a.more()) {
                String w = a.next();
                switch (w) {
                    case "limit" -> limit = positive(a.value(), "limit");
                    case "flows" -> {
                        int f = positive(a.value(), "flows");
                        if (old != null && f != old.flows()) {
                            throw new CommandException("RTNETLINK answers: Invalid argument", 2);
                        }
                        if (f > 65536) {
                            throw TcUtil.illegal("flows");
                        }
                        flows = f;
                    }
                    case "quantum" -> quantum = positive(a.value(), "quantum");
                    case "target" -> target = time(a.value(), "target");
                    case "interval" -> interval = time(a.value(), "interval");
                    case "memory_limit" -> {
                        Long m = TcUtil.parseSize(a.value());
                        if (m == null || m == 0) {
                            throw TcUtil.illegal("memory_limit");
                        }
                        memory = m;
                    }
                    case "ecn" -> ecn = true;
                    case "noecn" -> ecn = false;
                    case "drop_batch" -> batch = positive(a.value(), "drop_batch");
                    default -> throw a.unknown(w);
                }
            }
            return new Params(limit, flows, quantum, target, interval, memory, ecn, batch);
        }

        private static int positive(String v, String what) {
            Integer n = TcUtil.parseU32(v);
            if (n == null || n == 0) {
                throw TcUtil.illegal(what);
            }
            return n;
        }

        private static long time(String v, String what) {
            Long t = TcUtil.parseTime(v);
            if (t == null || t <= 0) {
                throw TcUtil.illegal(what);
            }
            return t;
        }
    }

    private static final int NONE = 0;
    private static final int NEW = 1;
    private static final int OLD = 2;

    private Params p;
    private final int mtu;
    private final SkbQueue[] queues;
    private final int[] deficit;
    private final int[] backlog;
    private final int[] next; // the new/old lists, by slot number
    private final byte[] onList;
    private int newHead = -1, newTail = -1, oldHead = -1, oldTail = -1;
    private int newLen, oldLen;
    // CoDel's per-flow variables (struct codel_vars)
    private final int[] count;
    private final int[] lastCount;
    private final boolean[] dropping;
    private final long[] firstAboveTime;
    private final long[] dropNext;

    private int qlen;
    private int bytes;
    private long memoryUsage;
    // xstats (tc_fq_codel_qd_stats)
    private int maxPacket;
    private long dropOverlimit;
    private long newFlowCount;
    private long ecnMark;

    SchFqCodel(QdiscEnv env, List<String> args) {
        super(env);
        this.mtu = env.device().mtu() + 14; // psched_mtu: MTU plus the hard header
        this.p = Params.parse(args, null, mtu);
        int n = p.flows();
        queues = new SkbQueue[n];
        for (int i = 0; i < n; i++) {
            queues[i] = new SkbQueue();
        }
        deficit = new int[n];
        backlog = new int[n];
        next = new int[n];
        onList = new byte[n];
        count = new int[n];
        lastCount = new int[n];
        dropping = new boolean[n];
        firstAboveTime = new long[n];
        dropNext = new long[n];
    }

    @Override
    public String kind() {
        return "fq_codel";
    }

    /** {@code fq_codel_classify} without filters: the flow hash scaled to the table. */
    private int classify(SkBuff skb) {
        int h = FlowDissector.skbGetHash(skb);
        return (int) (((h & 0xffffffffL) * queues.length) >>> 32);
    }

    /** Where the IPv4 header of an Ethernet frame starts (absolute), or -1. */
    private static int ipv4Header(SkBuff skb) {
        int d = skb.data();
        if (skb.headLen() < 34 || skb.getU16(d + 12) != 0x0800 || (skb.getU8(d + 14) >> 4) != 4) {
            return -1;
        }
        return d + 14;
    }

    /** {@code INET_ECN_set_ce}: an ECN-capable IPv4 packet is marked CE (checksum updated); false if not capable. */
    static boolean markCe(SkBuff skb) {
        int ip = ipv4Header(skb);
        if (ip < 0) {
            return false;
        }
        int tos = skb.getU8(ip + 1);
        if ((tos & 3) == 0) {
            return false; // Not-ECT
        }
        if ((tos & 3) == 3) {
            return true;
        }
        if ((skb.isCloned() || skb.isShared()) && !skb.unshare()) {
            return false;
        }
        ip = ipv4Header(skb);
        int oldWord = skb.getU16(ip);
        skb.setU8(ip + 1, tos | 3);
        int newWord = skb.getU16(ip);
        // RFC 1624: HC' = ~(~HC + ~m + m')
        int sum = (~skb.getU16(ip + 10) & 0xffff) + (~oldWord & 0xffff) + newWord;
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        skb.setU16(ip + 10, ~sum & 0xffff);
        return true;
    }

    @Override
    public int enqueue(SkBuff skb) {
        if (qlen == 0 && (newHead >= 0 || oldHead >= 0)) {
            retireAll(); // the empty dequeue the core skips when it knows the queue is empty
        }
        int idx = classify(skb);
        skb.tstamp(env.nanoTime()); // codel_set_enqueue_time
        queues[idx].addLast(skb);
        backlog[idx] += skb.len();
        bytes += skb.len();
        qlen++;
        memoryUsage += skb.truesize();
        if (onList[idx] == NONE) {
            append(idx, NEW);
            deficit[idx] = p.quantum();
            newFlowCount++;
        }
        if (qlen <= p.limit() && memoryUsage <= p.memoryLimit()) {
            return NET_XMIT_SUCCESS;
        }
        int dropped = dropFattest();
        env.device().stats().addShared(DeviceStats.Field.TX_DROPPED, dropped);
        return NET_XMIT_SUCCESS; // as NET_XMIT_CN: the drops are counted, the sender goes on
    }

    /** {@code fq_codel_drop}: up to drop_batch packets from the head of the flow with the most bytes, at least half of it. */
    private int dropFattest() {
        int fat = 0;
        for (int i = 1; i < backlog.length; i++) {
            if (backlog[i] > backlog[fat]) {
                fat = i;
            }
        }
        int threshold = backlog[fat] >> 1;
        int droppedBytes = 0;
        int n = 0;
        while (n < p.dropBatch() && droppedBytes < threshold) {
            SkBuff skb = headOf(fat);
            if (skb == null) {
                break;
            }
            droppedBytes += skb.len();
            skb.free();
            n++;
        }
        stats.drops(n);
        dropOverlimit += n;
        return n;
    }

    private SkBuff headOf(int idx) {
        SkBuff skb = queues[idx].pollFirst();
        if (skb != null) {
            backlog[idx] -= skb.len();
            bytes -= skb.len();
            qlen--;
            memoryUsage -= skb.truesize();
        }
        return skb;
    }

    @Override
    protected SkBuff dequeueNext() {
        if (qlen == 0) {
            retireAll();
            return null;
        }
        while (true) {
            boolean fromNew = newHead >= 0;
            int idx = fromNew ? newHead : oldHead;
            if (idx < 0) {
                return null;
            }
            if (deficit[idx] <= 0) {
                deficit[idx] += p.quantum();
                unlink(idx);
                append(idx, OLD);
                continue;
            }
            SkBuff skb = codelDequeue(idx);
            if (skb == null) {
                unlink(idx);
                if (fromNew && oldHead >= 0) {
                    append(idx, OLD); // keep an emptied new flow from coming back as new at once
                }
                continue;
            }
            deficit[idx] -= skb.len();
            skb.tstamp(0);
            return skb;
        }
    }

    /**
     * The dequeue loop's outcome when no flow holds a packet, without walking it: every listed flow
     * is found empty, gets its quantum back while its deficit is spent (the moves to the old list),
     * leaves CoDel's dropping state and is detached. A queue that drains as it fills ends every packet with such
     * a dequeue, so it reads no clock; an enqueue into an empty qdisc does it first, for a core that
     * did not ask again once the queue was empty.
     */
    private void retireAll() {
        for (int head = newHead; head >= 0; head = newHead) {
            retire(head);
        }
        for (int head = oldHead; head >= 0; head = oldHead) {
            retire(head);
        }
    }

    private void retire(int idx) {
        while (deficit[idx] <= 0) {
            deficit[idx] += p.quantum();
        }
        dropping[idx] = false;
        unlink(idx);
    }

    /** {@code codel_dequeue} on one flow's queue. */
    private SkBuff codelDequeue(int f) {
        SkBuff skb = headOf(f);
        if (skb == null) {
            dropping[f] = false;
            return null;
        }
        if (backlog[f] <= mtu) {
            // codel_should_drop is false with no more than an MTU left behind, whatever the sojourn, and
            // that ends a dropping state: the outcome needs no clock (the common case of a queue that
            // drains as it fills, which reads the clock only to stamp the packet in)
            if (skb.len() > maxPacket) {
                maxPacket = skb.len();
            }
            firstAboveTime[f] = 0;
            dropping[f] = false;
            return skb;
        }
        long now = env.nanoTime();
        boolean drop = shouldDrop(f, skb, now);
        if (dropping[f]) {
            if (!drop) {
                dropping[f] = false;
            } else {
                while (dropping[f] && now >= dropNext[f]) {
                    count[f]++;
                    if (p.ecn() && markCe(skb)) {
                        ecnMark++;
                        dropNext[f] = controlLaw(dropNext[f], count[f]);
                        return skb;
                    }
                    dropAtHead(skb);
                    skb = headOf(f);
                    if (!shouldDrop(f, skb, now)) {
                        dropping[f] = false;
                    } else {
                        dropNext[f] = controlLaw(dropNext[f], count[f]);
                    }
                }
            }
        } else if (drop) {
            if (p.ecn() && markCe(skb)) {
                ecnMark++;
            } else {
                dropAtHead(skb);
                skb = headOf(f);
                shouldDrop(f, skb, now);
            }
            dropping[f] = true;
            int delta = count[f] - lastCount[f];
            count[f] = delta > 1 && now - dropNext[f] < 16 * p.interval() ? delta : 1;
            lastCount[f] = count[f];
            dropNext[f] = controlLaw(now, count[f]);
        }
        return skb;
    }

    private void dropAtHead(SkBuff skb) {
        stats.drop();
        env.device().stats().addShared(DeviceStats.Field.TX_DROPPED, 1);
        skb.free();
    }

    /** {@code codel_should_drop}: sojourn above target for a whole interval, with more than a packet queued. */
    private boolean shouldDrop(int f, SkBuff skb, long now) {
        if (skb == null) {
            firstAboveTime[f] = 0;
            return false;
        }
        if (skb.len() > maxPacket) {
            maxPacket = skb.len();
        }
        long sojourn = now - skb.tstamp();
        if (sojourn < p.target() || backlog[f] <= mtu) {
            firstAboveTime[f] = 0;
            return false;
        }
        if (firstAboveTime[f] == 0) {
            firstAboveTime[f] = now + p.interval();
            return false;
        }
        return now >= firstAboveTime[f];
    }

    /** {@code codel_control_law}: the next drop after interval / sqrt(count). */
    private long controlLaw(long t, int n) {
        return t + (long) (p.interval() / Math.sqrt(n));
    }

    private void append(int idx, int list) {
        next[idx] = -1;
        onList[idx] = (byte) list;
        if (list == NEW) {
            if (newTail < 0) {
                newHead = idx;
            } else {
                next[newTail] = idx;
            }
            newTail = idx;
            newLen++;
        } else {
            if (oldTail < 0) {
                oldHead = idx;
            } else {
                next[oldTail] = idx;
            }
            oldTail = idx;
            oldLen++;
        }
    }

    /** Takes a flow off the head of its list (flows are only ever taken from the head). */
    private void unlink(int idx) {
        if (onList[idx] == NEW) {
            newHead = next[idx];
            if (newHead < 0) {
                newTail = -1;
            }
            newLen--;
        } else if (onList[idx] == OLD) {
            oldHead = next[idx];
            if (oldHead < 0) {
                oldTail = -1;
            }
            oldLen--;
        }
        onList[idx] = NONE;
        next[idx] = -1;
    }

    @Override
    protected int resetQueue() {
        int n = 0;
        for (int i = 0; i < queues.length; i++) {
            n += queues[i].purge();
            backlog[i] = 0;
            onList[i] = NONE;
            dropping[i] = false;
            count[i] = 0;
            lastCount[i] = 0;
            firstAboveTime[i] = 0;
        }
        newHead = newTail = oldHead = oldTail = -1;
        newLen = oldLen = 0;
        qlen = 0;
        bytes = 0;
        memoryUsage = 0;
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
        p = Params.parse(args, p, mtu);
        while (qlen > p.limit()) {
            int n = dropFattest();
            env.device().stats().addShared(DeviceStats.Field.TX_DROPPED, n);
        }
    }

    @Override
    public String options() {
        return "limit " + p.limit() + "p flows " + p.flows() + " quantum " + p.quantum() + " target " + TcUtil.time(p.target())
                + " interval " + TcUtil.time(p.interval()) + " memory_limit " + TcUtil.size(p.memoryLimit())
                + (p.ecn() ? " ecn" : "") + " drop_batch " + p.dropBatch() + " ";
    }

    @Override
    public String xstats() {
        // an empty qdisc's flows are all detached once its empty dequeue ran, which may wait for the next enqueue
        return "  maxpacket " + maxPacket + " drop_overlimit " + dropOverlimit + " new_flow_count " + newFlowCount + " ecn_mark "
                + ecnMark + "\n  new_flows_len " + (qlen == 0 ? 0 : newLen) + " old_flows_len " + (qlen == 0 ? 0 : oldLen);
    }

    long dropOverlimit() {
        return dropOverlimit;
    }

    long ecnMarks() {
        return ecnMark;
    }
}

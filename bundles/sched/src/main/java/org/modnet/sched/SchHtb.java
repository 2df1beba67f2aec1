package org.modnet.sched;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.modnet.api.net.Timer;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/**
 * {@code htb}, the hierarchy token bucket ({@code net/sched/sch_htb.c}): a tree of classes, each with
 * two token buckets, {@code rate} (what it is guaranteed) and {@code ceil} (what it may reach by
 * borrowing from its parent). Packets wait in the leaves' child qdiscs (a {@code pfifo} until
 * {@code tc qdisc add ... parent H:N} grafts another). A leaf sends on its own while it has rate
 * tokens; past its rate, while under its ceil, it borrows from the nearest ancestor that still has
 * rate tokens. Dequeue serves the lowest level that can send first (own rate before borrowed), then
 * the lowest {@code prio}, and among equals runs deficit round robin by each leaf's {@code quantum}.
 * When nothing may send the watchdog is armed for the first class whose tokens will suffice.
 *
 * <p>Linux keeps per-level, per-prio red-black trees and an event queue so dequeue is O(log n); this
 * walks the leaves (bounded by the classes a user made) and works the modes out from the tokens at
 * the time of dequeue, which gives the same choices.
 */
final class SchHtb extends SchedQdisc implements ClassfulQdisc, TcFilterParent {
    static final String USAGE = """
            Usage: ... qdisc add ... htb [default N] [r2q N]
                                  [direct_qlen P] [offload]
             default  minor id of class to which unclassified packets are sent {0}
             r2q      DRR quantums are computed as rate in Bps/r2q {10}
             direct_qlen  Limit of the direct queue {in packets}
            ... class add ... htb rate R1 [burst B1] [mpu B] [overhead O]
                                  [prio P] [ceil R2] [cburst B2] [mtu MTU] [quantum Q]
             rate     rate allocated to this class (class can still borrow)
             burst    max bytes burst which can be accumulated during idle period {computed}
             ceil     definite upper class rate (no borrows) {rate}
             cburst   burst but for ceil {computed}
             mtu      max packet size we create rate map for {1600}
             prio     priority of leaf; lower are served first {0}
             quantum  how much bytes to serve from leaf at once {use r2q}""";

    /** {@code TC_HTB_MAXDEPTH}: levels 0 (leaves) .. 7. */
    static final int MAXDEPTH = 8;
    /** {@code TC_HTB_NUMPRIO}. */
    static final int NUMPRIO = 8;
    /** {@code mbuffer}: how far back idle time is credited (60 s, as {@code htb_change_class} sets it). */
    private static final long MBUFFER = 60 * TcUtil.NSEC_PER_SEC;
    /** {@code PSCHED_SHIFT}: tc prints tokens in ticks of 64 ns. */
    private static final int PSCHED_SHIFT = 6;

    /** The class modes of {@code htb_class_mode}. */
    static final int CANT_SEND = 0;
    static final int MAY_BORROW = 1;
    static final int CAN_SEND = 2;

    /** {@code struct htb_class}. */
    final class HtbClass {
        final int classid;
        HtbClass parent;
        int level;
        int children;
        // struct tc_htb_opt as the user gave it; rates in bytes per second
        long rate;
        long ceil;
        long burst;
        long cburst;
        int prio;
        int quantum;
        boolean quantumGiven;
        // the buckets, in ns of transmission time
        long buffer;
        long cbuffer;
        long tokens;
        long ctokens;
        long tc;
        int mode = CAN_SEND;
        final int[] deficit = new int[MAXDEPTH];
        Qdisc leaf;
        // counters (tc -s class show)
        long bytes;
        long packets;
        long drops;
        long overlimits;
        long lends;
        long borrows;

        HtbClass(int classid) {
            this.classid = classid;
        }

        boolean isLeaf() {
            return level == 0;
        }
    }

    private final Timer watchdog;
    private final SkbQueue direct = new SkbQueue();
    private final TcfClassifier.Result result = new TcfClassifier.Result();
    /** The filters {@code tc filter add dev D parent H: ... flowid H:N} puts here ({@code q->block}). */
    private final TcFilterBlock block = new TcFilterBlock();
    private volatile TcfClassifier filters = this::blockClassify;
    private int handleMajor;
    private int defcls;
    private int r2q = 10;
    private int directQlen;
    private long directPackets;
    /** Every class, sorted by classid; {@link #leaves} the level-0 ones (the ones that queue). */
    private HtbClass[] classes = new HtbClass[0];
    private HtbClass[] leaves = new HtbClass[0];
    /** DRR position per level and prio: the index in {@link #leaves} served last. */
    private final int[][] ptr = new int[MAXDEPTH][NUMPRIO];
    /** Set by {@link #sendLevel}: how long a leaf that cannot send must wait, ns. */
    private long wait;
    /** Set by {@link #classify}: a filter said drop. */
    private boolean shot;

    SchHtb(QdiscEnv env, List<String> args) {
        super(env);
        this.directQlen = txQueueLen();
        configure(args);
        this.watchdog = env.timer(env::schedule);
    }

    private void configure(List<String> words) {
        Args a = new Args(words, USAGE);
        int def = defcls;
        int r = r2q;
        int dq = directQlen;
        while (a.more()) {
            String w = a.next();
            switch (w) {
                case "default" -> {
                    String v = a.value();
                    try {
                        def = Integer.parseUnsignedInt(v.startsWith("0x") ? v.substring(2) : v, 16); // get_u32(..., 16)
                    } catch (NumberFormatException e) {
                        throw a.usage("Illegal \"default\"");
                    }
                }
                case "r2q" -> {
                    Integer v = TcUtil.parseU32(a.value());
                    if (v == null) {
                        throw a.usage("Illegal \"r2q\"");
                    }
                    r = v;
                }
                case "direct_qlen" -> {
                    Integer v = TcUtil.parseU32(a.value());
                    if (v == null) {
                        throw a.usage("Illegal \"direct_qlen\"");
                    }
                    dq = v;
                }
                case "offload" -> throw new CommandException("Error: HTB offload is not supported by the device.", 2);
                case "debug" -> a.value();
                default -> throw a.unknown(w);
            }
        }
        defcls = def;
        r2q = r == 0 ? 1 : r;
        directQlen = dq;
    }

    @Override
    public String kind() {
        return "htb";
    }

    @Override
    public void handle(int handle) {
        handleMajor = handle & 0xffff0000;
    }

    int handle() {
        return handleMajor;
    }

    /** Lets filters choose classes ({@code tc filter add dev D parent 1: ...}); {@link TcfClassifier#NONE} to remove them. */
    @Override
    public void filters(TcfClassifier f) {
        filters = f == null ? TcfClassifier.NONE : f;
    }

    @Override
    public TcFilterBlock filters() {
        return block;
    }

    /** {@code tcf_classify} on the block: a filter's verdict, its flowid the class; nothing matched, unspec. */
    private int blockClassify(SkBuff skb, TcfClassifier.Result res) {
        if (block.isEmpty()) {
            return TcfClassifier.TC_ACT_UNSPEC;
        }
        long r = block.classify(skb, false);
        int verdict = TcFilterBlock.verdict(r);
        if (verdict < 0) {
            return TcfClassifier.TC_ACT_UNSPEC;
        }
        if (verdict == TcfClassifier.TC_ACT_SHOT) {
            return TcfClassifier.TC_ACT_SHOT;
        }
        res.classid = TcFilterBlock.classid(r);
        return TcfClassifier.TC_ACT_OK;
    }

    // --- the packet path -------------------------------------------------------------------------

    /** A class whose lookup said: the direct queue. */
    private static final HtbClass DIRECT = null;

    /**
     * {@code htb_classify}: {@code skb->priority} naming this qdisc goes direct, naming a leaf goes
     * there; then the filters; then the default class, and the direct queue if that is not a leaf.
     * Returns the class, or null for the direct queue; sets {@link #shot} when a filter said drop.
     */
    private HtbClass classify(SkBuff skb) {
        shot = false;
        int prio = skb.priority();
        if (prio == handleMajor) {
            return DIRECT;
        }
        if ((prio & 0xffff0000) == handleMajor) {
            HtbClass cl = find(prio);
            if (cl != null && cl.isLeaf()) {
                return cl;
            }
        }
        int act = filters.classify(skb, result);
        if (act == TcfClassifier.TC_ACT_SHOT) {
            shot = true;
            return null;
        }
        if (act != TcfClassifier.TC_ACT_UNSPEC) {
            int id = result.classid;
            if (id == handleMajor) {
                return DIRECT;
            }
            HtbClass cl = find(id);
            if (cl != null && cl.isLeaf()) {
                return cl;
            }
        }
        HtbClass cl = find(handleMajor | (defcls & 0xffff));
        return cl != null && cl.isLeaf() ? cl : DIRECT;
    }

    @Override
    public int enqueue(SkBuff skb) {
        HtbClass cl = classify(skb);
        if (shot) {
            return drop(skb);
        }
        if (cl == null) {
            if (direct.len() >= directQlen) {
                return drop(skb);
            }
            direct.addLast(skb);
            directPackets++;
            return NET_XMIT_SUCCESS;
        }
        int rc = cl.leaf.enqueue(skb);
        if (rc != NET_XMIT_SUCCESS) {
            cl.drops++;
            stats.drop();
        }
        return rc;
    }

    /**
     * {@code htb_class_mode} along the path up from a leaf: the level of the first class that may
     * send on its own rate, every class below it being under its ceil; -1 if the path is blocked,
     * with {@link #wait} set to when it may unblock.
     */
    private int sendLevel(HtbClass leaf, long now) {
        for (HtbClass c = leaf; c != null; c = c.parent) {
            long diff = Math.min(now - c.tc, MBUFFER);
            long ct = c.ctokens + diff;
            if (ct < 0) {
                wait = -ct;
                return -1;
            }
            long t = c.tokens + diff;
            if (t >= 0) {
                return c.level;
            }
            if (c.parent == null) {
                wait = -t;
                return -1;
            }
        }
        return -1;
    }

    @Override
    protected SkBuff dequeueNext() {
        SkBuff skb = direct.pollFirst(); // the direct queue goes first, unshaped
        if (skb != null) {
            return skb;
        }
        HtbClass[] ls = leaves;
        long now = env.nanoTime();
        int bestLevel = MAXDEPTH;
        int bestPrio = NUMPRIO;
        long minWait = Long.MAX_VALUE;
        for (HtbClass l : ls) {
            if (l.leaf.qlen() == 0) {
                continue;
            }
            int lvl = sendLevel(l, now);
            if (lvl < 0) {
                minWait = Math.min(minWait, wait);
            } else if (lvl < bestLevel || (lvl == bestLevel && l.prio < bestPrio)) {
                bestLevel = lvl;
                bestPrio = l.prio;
            }
        }
        if (bestLevel == MAXDEPTH) {
            armWatchdog(minWait);
            return null;
        }
        // htb_dequeue_tree: deficit round robin among the leaves that send at that level and prio
        int n = ls.length;
        int start = ptr[bestLevel][bestPrio];
        for (int k = 0; k < n; k++) {
            int i = (start + k) % n;
            HtbClass l = ls[i];
            if (l.prio != bestPrio || l.leaf.qlen() == 0 || sendLevel(l, now) != bestLevel) {
                continue;
            }
            skb = l.leaf.dequeue();
            if (skb == null) {
                continue; // a non-work-conserving child (netem, tbf) holds it back: it arms its own watchdog
            }
            int len = skb.len();
            l.deficit[bestLevel] -= len;
            if (l.deficit[bestLevel] < 0) {
                l.deficit[bestLevel] += l.quantum;
                ptr[bestLevel][bestPrio] = (i + 1) % n;
            } else {
                ptr[bestLevel][bestPrio] = i;
            }
            charge(l, bestLevel, len, now);
            return skb;
        }
        armWatchdog(minWait); // the leaves that could send held back (netem, tbf inside): the blocked ones still need waking
        return null;
    }

    /** {@code qdisc_watchdog_schedule_ns}: back when the first blocked class has its tokens (the wheel counts in ms). */
    private void armWatchdog(long wait) {
        if (wait != Long.MAX_VALUE) {
            watchdog.mod(Math.max(1, (wait + TcUtil.NSEC_PER_MSEC - 1) / TcUtil.NSEC_PER_MSEC));
        }
    }

    /** {@code psched_l2t_ns}: the time {@code len} bytes take at {@code rate} bytes per second. */
    private static long l2t(long rate, long len) {
        return len * TcUtil.NSEC_PER_SEC / rate;
    }

    /** {@code htb_accnt_tokens}: idle credit up to the bucket, less the packet's time, no deeper than mbuffer. */
    private static long account(long tokens, long diff, long bucket, long cost) {
        long toks = Math.min(tokens + diff, bucket) - cost;
        return toks <= -MBUFFER ? 1 - MBUFFER : toks;
    }

    /**
     * {@code htb_charge_class}: the leaf and every ancestor pay the packet against their ceil; those
     * at or above the level it was sent at pay against their rate too (the one at that level lent it),
     * those below only borrowed.
     */
    private void charge(HtbClass leaf, int level, int bytes, long now) {
        for (HtbClass c = leaf; c != null; c = c.parent) {
            long diff = Math.min(now - c.tc, MBUFFER);
            if (c.level >= level) {
                if (c.level == level) {
                    c.lends++;
                }
                c.tokens = account(c.tokens, diff, c.buffer, l2t(c.rate, bytes));
            } else {
                c.borrows++;
                c.tokens += diff;
            }
            c.ctokens = account(c.ctokens, diff, c.cbuffer, l2t(c.ceil, bytes));
            c.tc = now;
            c.bytes += bytes;
            c.packets++;
            int mode = c.ctokens < 0 ? CANT_SEND : c.tokens >= 0 ? CAN_SEND : MAY_BORROW;
            if (mode != c.mode && mode == CANT_SEND) {
                c.overlimits++; // htb_change_class_mode
                stats.overlimit();
            }
            c.mode = mode;
        }
    }

    @Override
    protected int resetQueue() {
        int n = direct.purge();
        long now = env.nanoTime();
        for (HtbClass c : classes) {
            if (c.leaf != null) {
                n += c.leaf.reset();
            }
            Arrays.fill(c.deficit, 0);
        }
        for (int[] row : ptr) {
            Arrays.fill(row, 0);
        }
        watchdog.del();
        return n;
    }

    @Override
    protected int queueLen() {
        int n = direct.len();
        for (HtbClass l : leaves) {
            n += l.leaf.qlen();
        }
        return n;
    }

    @Override
    protected int queueBytes() {
        int n = direct.bytes();
        for (HtbClass l : leaves) {
            n += l.leaf.backlogBytes();
        }
        return n;
    }

    // --- classes (tc class add|change|del|show), under the qdisc's lock -------------------------------

    HtbClass find(int classid) {
        HtbClass[] cs = classes;
        int lo = 0;
        int hi = cs.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Integer.compareUnsigned(cs[mid].classid, classid);
            if (c == 0) {
                return cs[mid];
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return null;
    }

    /** The parsed words of {@code tc class ... htb}, as {@code htb_parse_class_opt} reads them. */
    record ClassOpts(long rate, long ceil, long burst, long cburst, int prio, int quantum) {
        static ClassOpts parse(List<String> words) {
            Args a = new Args(words, USAGE);
            long rate = 0;
            long ceil = 0;
            long burst = 0;
            long cburst = 0;
            long mtu = 1600;
            int prio = 0;
            int quantum = 0;
            while (a.more()) {
                String w = a.next();
                switch (w) {
                    case "rate" -> rate = need(TcUtil.parseRate(a.value()), "rate");
                    case "ceil" -> ceil = need(TcUtil.parseRate(a.value()), "ceil");
                    case "burst", "buffer", "maxburst" -> burst = need(TcUtil.parseSize(a.value()), "buffer");
                    case "cburst", "cbuffer", "cmaxburst" -> cburst = need(TcUtil.parseSize(a.value()), "cbuffer");
                    case "mtu" -> {
                        Integer v = TcUtil.parseU32(a.value());
                        if (v == null) {
                            throw a.usage("Illegal \"mtu\"");
                        }
                        mtu = v;
                    }
                    case "prio" -> {
                        Integer v = TcUtil.parseU32(a.value());
                        if (v == null) {
                            throw a.usage("Illegal \"prio\"");
                        }
                        prio = v;
                    }
                    case "quantum" -> {
                        Integer v = TcUtil.parseU32(a.value());
                        if (v == null) {
                            throw a.usage("Illegal \"quantum\"");
                        }
                        quantum = v;
                    }
                    case "mpu", "overhead", "linklayer", "slot", "pslot" -> a.value(); // accepted, not modelled
                    default -> throw a.unknown(w);
                }
            }
            if (rate == 0) {
                throw new CommandException("\"rate\" is required.", 1);
            }
            if (ceil == 0) {
                ceil = rate;
            }
            // iproute2: a bucket big enough for one timer tick at the rate (hz is 10^9 with high-resolution timers) and an MTU
            if (burst == 0) {
                burst = rate / TcUtil.NSEC_PER_SEC + mtu;
            }
            if (cburst == 0) {
                cburst = ceil / TcUtil.NSEC_PER_SEC + mtu;
            }
            return new ClassOpts(rate, ceil, burst, cburst, Math.min(prio, NUMPRIO - 1), quantum);
        }

        private static long need(Long v, String what) {
            if (v == null) {
                throw TcUtil.illegal(what);
            }
            return v;
        }
    }

    private void apply(HtbClass c, ClassOpts o) {
        c.rate = o.rate();
        c.ceil = o.ceil();
        c.burst = o.burst();
        c.cburst = o.cburst();
        c.prio = o.prio();
        c.buffer = l2t(c.rate, c.burst);
        c.cbuffer = l2t(c.ceil, c.cburst);
        c.quantumGiven = o.quantum() != 0;
        // htb_change_class: rate / r2q, kept between 1000 and 200000 unless the user set it
        c.quantum = c.quantumGiven ? o.quantum() : (int) Math.max(1000, Math.min(200_000, c.rate / r2q));
    }

    private static CommandException rtnetlink(String what) {
        return new CommandException("RTNETLINK answers: " + what, 2);
    }

    /** {@code htb_change_class} for a new class: {@code parent} is this qdisc's handle (a root class) or a class. */
    void addClass(int parent, int classid, List<String> args) {
        if ((classid & 0xffff0000) != handleMajor || (classid & 0xffff) == 0) {
            throw rtnetlink("Invalid argument");
        }
        if (find(classid) != null) {
            throw rtnetlink("File exists");
        }
        HtbClass p = null;
        if (parent != handleMajor && parent != SchApi.ROOT) {
            p = find(parent);
            if (p == null) {
                throw rtnetlink("No such file or directory");
            }
            if (p.parent != null && p.parent.level < 2) {
                throw new CommandException("Error: sch_htb: tree is too deep.", 2);
            }
        }
        ClassOpts o = ClassOpts.parse(args);
        HtbClass c = new HtbClass(classid);
        apply(c, o);
        c.tokens = c.buffer;
        c.ctokens = c.cbuffer;
        c.tc = env.nanoTime();
        c.leaf = new SchFifo(env, false, List.of());
        if (p != null) {
            if (p.isLeaf()) { // the parent was a leaf: its queue goes (qdisc_purge_queue), it becomes inner
                stats.drops(p.leaf.reset());
                p.leaf.destroy();
                p.leaf = null;
                p.level = (p.parent != null ? p.parent.level : MAXDEPTH) - 1;
                p.tokens = p.buffer;
                p.ctokens = p.cbuffer;
                p.tc = c.tc;
            }
            p.children++;
            c.parent = p;
        }
        List<HtbClass> all = new ArrayList<>(Arrays.asList(classes));
        all.add(c);
        index(all);
    }

    /** {@code tc class change}: new rates and buckets for a class; its queue stays. */
    void changeClass(int classid, List<String> args) {
        HtbClass c = find(classid);
        if (c == null) {
            throw rtnetlink("No such file or directory");
        }
        apply(c, ClassOpts.parse(args));
        c.tokens = Math.min(c.tokens, c.buffer);
        c.ctokens = Math.min(c.ctokens, c.cbuffer);
    }

    /** {@code htb_delete}: a class with children or a filter pointing at it stays. */
    void deleteClass(int classid) {
        HtbClass c = find(classid);
        if (c == null) {
            throw rtnetlink("No such file or directory");
        }
        if (c.children > 0) {
            throw new CommandException("Error: HTB class in use.", 2);
        }
        if (c.leaf != null) {
            stats.drops(c.leaf.reset());
            c.leaf.destroy();
        }
        List<HtbClass> all = new ArrayList<>(Arrays.asList(classes));
        all.remove(c);
        HtbClass p = c.parent;
        if (p != null && --p.children == 0) { // htb_parent_to_leaf: the parent queues again
            p.level = 0;
            p.leaf = new SchFifo(env, false, List.of());
            p.tokens = p.buffer;
            p.ctokens = p.cbuffer;
            p.tc = env.nanoTime();
            p.mode = CAN_SEND;
        }
        index(all);
    }

    private void index(List<HtbClass> all) {
        all.sort((x, y) -> Integer.compareUnsigned(x.classid, y.classid));
        classes = all.toArray(new HtbClass[0]);
        leaves = all.stream().filter(HtbClass::isLeaf).toArray(HtbClass[]::new);
        for (int[] row : ptr) {
            Arrays.fill(row, 0);
        }
        for (HtbClass l : leaves) {
            Arrays.fill(l.deficit, 0);
        }
    }

    List<HtbClass> classes() {
        return List.of(classes);
    }

    @Override
    public boolean hasLeaf(int classid) {
        HtbClass c = find(classid);
        return c != null && c.isLeaf();
    }

    @Override
    public Qdisc leaf(int classid) {
        HtbClass c = find(classid);
        return c == null ? null : c.leaf;
    }

    @Override
    public Qdisc graft(int classid, Qdisc q) {
        HtbClass c = find(classid);
        Qdisc old = c.leaf;
        c.leaf = q != null ? q : new SchFifo(env, false, List.of());
        return old;
    }

    /** {@code htb_dump_class}: the line {@code tc class show} prints after {@code class htb 1:10 }. */
    String classLine(HtbClass c, int leafHandle) {
        StringBuilder sb = new StringBuilder();
        sb.append(c.parent == null ? "root " : "parent " + TcUtil.handle(c.parent.classid) + " ");
        if (leafHandle != 0) {
            sb.append("leaf ").append(TcUtil.handle(leafHandle)).append(' ');
        }
        if (c.isLeaf()) {
            sb.append("prio ").append(c.prio).append(' ');
        }
        sb.append("rate ").append(TcUtil.rate(c.rate)).append(' ');
        sb.append("ceil ").append(TcUtil.rate(c.ceil)).append(' ');
        sb.append("burst ").append(TcUtil.size(c.burst)).append(' ');
        sb.append("cburst ").append(TcUtil.size(c.cburst)).append(' ');
        return sb.toString();
    }

    /** {@code htb_dump_class_stats}: the counters of {@code tc -s class show}, in its lines. */
    List<String> classStats(HtbClass c) {
        int qlen = c.leaf != null ? c.leaf.qlen() : 0;
        int backlog = c.leaf != null ? c.leaf.backlogBytes() : 0;
        // the buckets as last charged (not the idle credit since), in ticks, clamped to an int as htb_dump_class_stats does
        int toks = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, c.tokens >> PSCHED_SHIFT));
        int ctoks = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, c.ctokens >> PSCHED_SHIFT));
        return List.of(" Sent " + c.bytes + " bytes " + c.packets + " pkt (dropped " + c.drops + ", overlimits " + c.overlimits
                + " requeues 0) ", " backlog " + TcUtil.size(backlog) + " " + qlen + "p requeues 0",
                " lended: " + c.lends + " borrowed: " + c.borrows + " giants: 0",
                " tokens: " + toks + " ctokens: " + ctoks);
    }

    @Override
    public void change(List<String> args) {
        configure(args);
    }

    @Override
    public void destroy() {
        watchdog.del();
        block.flush(); // its filters go with it: their actions and programs are let go
        for (HtbClass c : classes) {
            if (c.leaf != null) {
                c.leaf.destroy();
            }
        }
    }

    @Override
    public String options() {
        return "r2q " + r2q + " default 0x" + Integer.toHexString(defcls) + " direct_packets_stat " + directPackets
                + " direct_qlen " + directQlen + " ";
    }

    long directPackets() {
        return directPackets;
    }
}

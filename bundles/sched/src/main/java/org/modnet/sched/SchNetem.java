package org.modnet.sched;

import java.util.List;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.Timer;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.SkBuff;

/**
 * {@code netem}, the network emulator ({@code net/sched/sch_netem.c}): per packet, in Linux's order,
 * duplicate, lose (random with correlation, or the Gilbert-Elliott model), corrupt one bit, then
 * either delay (latency with jitter drawn from a distribution, then serialised at {@code rate}) into
 * the time-sorted queue, or, one in {@code gap} packets with probability {@code reorder}, send at once
 * ahead of the delayed ones. The time-sorted queue links the skbs themselves, each carrying its send
 * time in {@code tstamp}; it holds at most {@code limit}. Randomness comes from a seeded generator
 * ({@code seed N}), so a run repeats exactly.
 */
final class SchNetem extends SchedQdisc {
    static final String USAGE = """
            Usage: ... netem [ limit PACKETS ]
                             [ delay TIME [ JITTER [CORRELATION]]]
                             [ distribution {uniform|normal|pareto|paretonormal} ]
                             [ corrupt PERCENT [CORRELATION]]
                             [ duplicate PERCENT [CORRELATION]]
                             [ loss random PERCENT [CORRELATION]]
                             [ loss gemodel PERCENT [R [1-H [1-K]]]
                             [ ecn ]
                             [ reorder PERCENT [CORRELATION] [ gap DISTANCE ]]
                             [ rate RATE ]
                             [ slot MIN_DELAY [MAX_DELAY] [packets MAX_PACKETS] [bytes MAX_BYTES]]
                             [ seed SEED ]""";

    enum Dist { UNIFORM, NORMAL, PARETO, PARETONORMAL }

    /** The options ({@code struct tc_netem_qopt} and its attributes); probabilities are fractions of 2^32-1. */
    record Params(int limit, long latency, long jitter, long delayCorr, Dist dist, boolean distGiven,
            long loss, long lossCorr, boolean gemodel, long geP, long geR, long ge1H, long ge1K,
            long duplicate, long dupCorr, long reorder, long reorderCorr, int gap,
            long corrupt, long corruptCorr, long rate, long slotMin, long slotMax, int slotPackets, int slotBytes, Long seed,
            boolean ecn) {

        static Params parse(List<String> words) {
            Args a = new Args(words, USAGE);
            int limit = 1000;
            long latency = 0, jitter = 0, delayCorr = 0;
            Dist dist = Dist.UNIFORM;
            boolean distGiven = false;
            long loss = 0, lossCorr = 0;
            boolean ge = false;
            long geP = 0, geR = 0, ge1H = TcUtil.UINT32_MAX, ge1K = 0;
            long dup = 0, dupCorr = 0, reorder = 0, reorderCorr = 0, corrupt = 0, corruptCorr = 0;
            int gap = 0;
            long rate = 0;
            long slotMin = -1, slotMax = -1;
            int slotPackets = 0, slotBytes = 0;
            Long seed = null;
            boolean ecn = false;
            while (a.more()) {
                String w = a.next();
                switch (w) {
                    case "limit" -> {
                        Integer v = TcUtil.parseU32(a.value());
                        if (v == null) {
                            throw TcUtil.illegal("limit");
                        }
                        limit = v;
                    }
                    case "latency", "delay" -> {
                        latency = time(a.value(), "latency");
                        String j = a.optionalNumber();
                        if (j != null) {
                            jitter = time(j, "jitter");
                            String c = a.optionalNumber();
                            if (c != null) {
                                delayCorr = percent(c, "latency");
                            }
                        }
                    }
                    case "loss" -> {
                        String kind = a.value();
                        if (kind.equals("gemodel")) {
                            ge = true;
                            loss = 0;
                            geP = percent(a.value(), "loss gemodel p");
                            geR = TcUtil.UINT32_MAX - geP;
                            String r = a.optionalNumber();
                            if (r != null) {
                                geR = percent(r, "loss gemodel r");
                                String h = a.optionalNumber();
                                if (h != null) {
                                    ge1H = percent(h, "loss gemodel h");
                                    String k = a.optionalNumber();
                                    if (k != null) {
                                        ge1K = percent(k, "loss gemodel k");
                                    }
                                }
                            }
                        } else {
                            String v = kind.equals("random") ? a.value() : kind;
                            ge = false;
                            loss = percent(v, "loss percent");
                            String c = a.optionalNumber();
                            if (c != null) {
                                lossCorr = percent(c, "loss correlation");
                            }
                        }
                    }
                    case "duplicate" -> {
                        dup = percent(a.value(), "duplicate");
                        String c = a.optionalNumber();
                        if (c != null) {
                            dupCorr = percent(c, "duplicate");
                        }
                    }
                    case "reorder" -> {
                        reorder = percent(a.value(), "reorder");
                        String c = a.optionalNumber();
                        if (c != null) {
                            reorderCorr = percent(c, "reorder");
                        }
                    }
                    case "gap" -> {
                        Integer v = TcUtil.parseU32(a.value());
                        if (v == null) {
                            throw TcUtil.illegal("gap");
                        }
                        gap = v;
                    }
                    case "corrupt" -> {
                        corrupt = percent(a.value(), "corrupt");
                        String c = a.optionalNumber();
                        if (c != null) {
                            corruptCorr = percent(c, "corrupt");
                        }
                    }
                    case "distribution" -> {
                        String d = a.value();
                        dist = switch (d) {
                            case "uniform" -> Dist.UNIFORM;
                            case "normal" -> Dist.NORMAL;
                            case "pareto" -> Dist.PARETO;
                            case "paretonormal" -> Dist.PARETONORMAL;
                            default -> throw new CommandException("No distribution data for " + d + " (/usr/lib/tc/" + d
                                    + ".dist: No such file or directory)", 1);
                        };
                        distGiven = true;
                    }
                    case "rate" -> {
                        Long r = TcUtil.parseRate(a.value());
                        if (r == null || r == 0) {
                            throw TcUtil.illegal("rate");
                        }
                        rate = r;
                        while (a.optionalNumber() != null) {
                            // PACKETOVERHEAD CELLSIZE CELLOVERHEAD: accepted, not modelled
                        }
                    }
                    case "slot" -> {
                        slotMin = time(a.value(), "slot min delay");
                        String max = a.optionalNumber();
                        slotMax = max != null ? time(max, "slot max delay") : slotMin;
                        if (slotMax < slotMin) {
                            throw TcUtil.illegal("slot max delay");
                        }
                        while (a.more()) {
                            if (!a.peekIs("packets") && !a.peekIs("bytes")) {
                                break;
                            }
                            String k = a.next();
                            Integer v = TcUtil.parseU32(a.value());
                            if (v == null || v == 0) {
                                throw TcUtil.illegal("slot " + k);
                            }
                            if (k.equals("packets")) {
                                slotPackets = v;
                            } else {
                                slotBytes = v;
                            }
                        }
                    }
                    case "ecn" -> ecn = true;
                    case "seed" -> {
                        try {
                            seed = Long.parseUnsignedLong(a.value());
                        } catch (NumberFormatException e) {
                            throw TcUtil.illegal("seed");
                        }
                    }
                    default -> throw a.unknown(w);
                }
            }
            if (reorder != 0) {
                if (latency == 0) {
                    throw a.usage("reordering not possible without specifying some delay");
                }
                if (gap == 0) {
                    gap = 1;
                }
            } else if (gap > 0) {
                throw a.usage("gap specified without reorder probability");
            }
            if (ecn && loss == 0 && !ge) {
                throw a.usage("ecn requested without loss model");
            }
            if (distGiven && jitter == 0) {
                throw a.usage("distribution specified but no latency and jitter values");
            }
            return new Params(limit, latency, jitter, delayCorr, dist, distGiven, loss, lossCorr, ge, geP, geR, ge1H, ge1K,
                    dup, dupCorr, reorder, reorderCorr, gap, corrupt, corruptCorr, rate, slotMin, slotMax, slotPackets, slotBytes, seed,
                    ecn);
        }

        private static long time(String v, String what) {
            Long t = TcUtil.parseTime(v);
            if (t == null || t < 0) {
                throw TcUtil.illegal(what);
            }
            return t;
        }

        private static long percent(String v, String what) {
            Long p = TcUtil.parsePercent(v);
            if (p == null) {
                throw TcUtil.illegal(what);
            }
            return p;
        }
    }

    /** Packets sent ahead by reorder (Linux's {@code sch->q}): out before the delayed ones. */
    private final SkbQueue direct = new SkbQueue();
    /** The time-sorted queue ({@code tfifo}): send time in each skb's tstamp. */
    private final SkbQueue tfifo = new SkbQueue();
    private final Timer watchdog;
    private Params p;
    private long prng;
    /** Last values of the correlated generators ({@code struct crndstate.last}). */
    private long delayLast, lossLast, dupLast, reorderLast, corruptLast;
    private boolean geBad;
    private int counter;
    /** The slot now open ({@code struct slotstate}): when it opens (0: no slots), what it may still send. */
    private long slotNext;
    private long slotPacketsLeft;
    private long slotBytesLeft;

    SchNetem(QdiscEnv env, List<String> args) {
        super(env);
        apply(Params.parse(args));
        this.watchdog = env.timer(env::schedule);
    }

    private void apply(Params np) {
        boolean reseed = p == null || np.seed() != null;
        p = np;
        slotPacketsLeft = slotPackets();
        slotBytesLeft = slotBytes();
        slotNext = np.slotMin() >= 0 ? env.nanoTime() : 0;
        if (reseed) {
            prng = np.seed() != null ? np.seed() : System.nanoTime() ^ 0x9e3779b97f4a7c15L;
            delayLast = lossLast = dupLast = reorderLast = corruptLast = 0;
            geBad = false;
            counter = 0;
        }
    }

    @Override
    public String kind() {
        return "netem";
    }

    // --- randomness: a seeded 64-bit mix (splitmix64), 32 bits per draw ---

    private long u32() {
        long z = (prng += 0x9e3779b97f4a7c15L);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return (z ^ (z >>> 31)) >>> 32;
    }

    /** {@code get_crandom}: a draw correlated with the last by {@code rho} (a fraction of 2^32-1). */
    private long crandom(long rho, int which) {
        long value = u32();
        if (rho == 0) {
            return value;
        }
        long last = switch (which) {
            case 0 -> delayLast;
            case 1 -> lossLast;
            case 2 -> dupLast;
            case 3 -> reorderLast;
            default -> corruptLast;
        };
        long r = rho + 1;
        // (value * (2^32 - r) + last * r) >> 32, in unsigned 64-bit arithmetic
        long answer = ((value * ((1L << 32) - r)) >>> 32) + ((last * r) >>> 32);
        answer &= TcUtil.UINT32_MAX;
        switch (which) {
            case 0 -> delayLast = answer;
            case 1 -> lossLast = answer;
            case 2 -> dupLast = answer;
            case 3 -> reorderLast = answer;
            default -> corruptLast = answer;
        }
        return answer;
    }

    /** {@code tabledist}: latency plus jitter times a draw from the distribution (uniform: +-jitter). */
    private long delay() {
        if (p.jitter() == 0) {
            return p.latency();
        }
        long rnd = crandom(p.delayCorr(), 0);
        double u = (rnd + 0.5) / 4294967296.0;
        double t = switch (p.dist()) {
            case UNIFORM -> 2 * u - 1;
            case NORMAL -> normal(u);
            case PARETO -> pareto(u);
            case PARETONORMAL -> 0.25 * normal(u) + 0.75 * pareto(crandomUniform());
        };
        if (p.dist() != Dist.UNIFORM) {
            t = Math.max(-4, Math.min(4, t)); // Linux's tables hold +-4 standard deviations
        }
        return p.latency() + Math.round(t * p.jitter());
    }

    private double crandomUniform() {
        return (u32() + 0.5) / 4294967296.0;
    }

    /** The standard normal's quantile (Acklam's rational approximation, relative error < 1.2e-9). */
    static double normal(double u) {
        double[] a = NORMAL_A, b = NORMAL_B, c = NORMAL_C, d = NORMAL_D;
        if (u < 0.02425) {
            double q = Math.sqrt(-2 * Math.log(u));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                    / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (u > 1 - 0.02425) {
            return -normal(1 - u);
        }
        double q = u - 0.5;
        double r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }

    private static final double[] NORMAL_A = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
            1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
    private static final double[] NORMAL_B = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
            6.680131188771972e+01, -1.328068155288572e+01 };
    private static final double[] NORMAL_C = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
            -2.549671010243829e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
    private static final double[] NORMAL_D = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
            3.754408661907416e+00 };

    /** A Pareto draw (shape 3, as iproute2's table) scaled to mean 0 and standard deviation 1. */
    static double pareto(double u) {
        double x = Math.pow(1 - u, -1.0 / 3);
        return (x - 1.5) / Math.sqrt(0.75);
    }

    /** {@code loss_event}: random loss, or the Gilbert-Elliott chain (p: good to bad, r: back; loss 1-h in bad, 1-k in good). */
    private boolean lossEvent() {
        if (p.gemodel()) {
            if (!geBad) {
                if (u32() < p.geP()) {
                    geBad = true;
                }
                return u32() < p.ge1K();
            }
            if (u32() < p.geR()) {
                geBad = false;
            }
            return u32() < p.ge1H();
        }
        return p.loss() != 0 && p.loss() >= crandom(p.lossCorr(), 1);
    }

    @Override
    public int enqueue(SkBuff skb) {
        return enqueue(skb, true);
    }

    private int enqueue(SkBuff skb, boolean mayDuplicate) {
        int count = 1;
        if (mayDuplicate && p.duplicate() != 0 && p.duplicate() >= crandom(p.dupCorr(), 2)) {
            count++;
        }
        if (lossEvent()) {
            if (p.ecn() && SchFqCodel.markCe(skb)) {
                stats.drop(); // Linux counts the mark as a drop (qdisc_qstats_drop), though the packet goes on
            } else {
                count--;
            }
        }
        if (count == 0) {
            // lost on purpose: counted as the qdisc's drop, the sender is not told (__NET_XMIT_BYPASS)
            stats.drop();
            skb.free();
            return NET_XMIT_SUCCESS;
        }
        if (count > 1) {
            SkBuff twin = skb.clone();
            if (twin != null) {
                enqueue(twin, false);
            }
        }
        if (p.corrupt() != 0 && p.corrupt() >= crandom(p.corruptCorr(), 4)) {
            corrupt(skb);
        }
        if (qlen() >= p.limit()) {
            return drop(skb);
        }
        long now = env.nanoTime();
        if (p.gap() == 0 || counter < p.gap() - 1 || p.reorder() < crandom(p.reorderCorr(), 3)) {
            long delay = delay();
            if (p.rate() != 0) {
                SkBuff last = tfifo.peekLast();
                if (last != null) {
                    delay = Math.max(0, delay - (last.tstamp() - now));
                    now = last.tstamp();
                }
                delay += skb.len() * TcUtil.NSEC_PER_SEC / p.rate();
            }
            skb.tstamp(now + Math.max(0, delay));
            counter++;
            tfifoEnqueue(skb);
        } else {
            skb.tstamp(now); // reordered: ahead of everything delayed
            counter = 0;
            direct.addLast(skb);
            stats.requeue();
        }
        return NET_XMIT_SUCCESS;
    }

    /** Flips one bit in the linear data; a partial checksum is completed first so the damage shows. */
    private void corrupt(SkBuff skb) {
        if ((skb.isCloned() || skb.isShared()) && !skb.unshare()) {
            return;
        }
        if (skb.ipSummed() == Checksum.PARTIAL && !InetChecksum.complete(skb)) {
            return;
        }
        int n = skb.headLen();
        if (n == 0) {
            return;
        }
        int at = (int) ((u32() * n) >>> 32);
        skb.setDataU8(at, skb.getDataU8(at) ^ (1 << (int) ((u32() * 8) >>> 32)));
    }

    /** {@code tfifo_enqueue}: by send time, after every packet due at the same time or earlier. */
    private void tfifoEnqueue(SkBuff skb) {
        SkBuff last = tfifo.peekLast();
        if (last == null || last.tstamp() <= skb.tstamp()) {
            tfifo.addLast(skb);
            return;
        }
        SkBuff prev = null;
        for (SkBuff at = tfifo.peek(); at != null && at.tstamp() <= skb.tstamp(); at = at.next()) {
            prev = at;
        }
        tfifo.addAfter(prev, skb);
    }

    @Override
    protected SkBuff dequeueNext() {
        SkBuff skb = direct.pollFirst();
        if (skb != null) {
            skb.tstamp(0);
            return skb;
        }
        skb = tfifo.peek();
        if (skb == null) {
            return null;
        }
        long now = env.nanoTime();
        if (slotNext != 0 && slotNext < skb.tstamp()) {
            nextSlot(now); // the head is not due in this slot: the next one opens later
        }
        if (skb.tstamp() <= now && slotNext <= now) {
            tfifo.pollFirst();
            skb.tstamp(0);
            if (slotNext != 0) {
                slotPacketsLeft--;
                slotBytesLeft -= skb.len();
                if (slotPacketsLeft <= 0 || slotBytesLeft <= 0) {
                    nextSlot(now);
                }
            }
            return skb;
        }
        long wait = Math.max(skb.tstamp(), slotNext) - now;
        watchdog.mod(Math.max(1, (wait + TcUtil.NSEC_PER_MSEC - 1) / TcUtil.NSEC_PER_MSEC));
        return null;
    }

    /** {@code get_slot_next}: the next slot opens a uniform draw in [min, max] from now, with a fresh budget. */
    private void nextSlot(long now) {
        long span = p.slotMax() - p.slotMin();
        slotNext = now + p.slotMin() + (span == 0 ? 0 : (long) ((u32() / 4294967296.0) * span));
        slotPacketsLeft = slotPackets();
        slotBytesLeft = slotBytes();
    }

    private long slotPackets() {
        return p.slotPackets() == 0 ? Integer.MAX_VALUE : p.slotPackets();
    }

    private long slotBytes() {
        return p.slotBytes() == 0 ? Integer.MAX_VALUE : p.slotBytes();
    }

    @Override
    protected int resetQueue() {
        watchdog.del();
        return direct.purge() + tfifo.purge();
    }

    @Override
    protected int queueLen() {
        return direct.len() + tfifo.len();
    }

    @Override
    protected int queueBytes() {
        return direct.bytes() + tfifo.bytes();
    }

    @Override
    public void change(List<String> args) {
        apply(Params.parse(args));
    }

    @Override
    public void destroy() {
        watchdog.del();
    }

    @Override
    public String options() {
        StringBuilder sb = new StringBuilder("limit ").append(p.limit());
        if (p.latency() != 0) {
            sb.append(" delay ").append(TcUtil.time(p.latency()));
            if (p.jitter() != 0) {
                sb.append("  ").append(TcUtil.time(p.jitter()));
                if (p.delayCorr() != 0) {
                    sb.append(' ').append(TcUtil.percent(p.delayCorr()));
                }
            }
        }
        if (p.gemodel()) {
            sb.append(" loss gemodel p ").append(TcUtil.percent(p.geP())).append(" r ").append(TcUtil.percent(p.geR()))
                    .append(" 1-h ").append(TcUtil.percent(p.ge1H())).append(" 1-k ").append(TcUtil.percent(p.ge1K()));
        } else if (p.loss() != 0) {
            sb.append(" loss ").append(TcUtil.percent(p.loss()));
            if (p.lossCorr() != 0) {
                sb.append(' ').append(TcUtil.percent(p.lossCorr()));
            }
        }
        if (p.ecn()) {
            sb.append(" ecn");
        }
        pct(sb, " duplicate ", p.duplicate(), p.dupCorr());
        pct(sb, " reorder ", p.reorder(), p.reorderCorr());
        pct(sb, " corrupt ", p.corrupt(), p.corruptCorr());
        if (p.rate() != 0) {
            sb.append(" rate ").append(TcUtil.rate(p.rate()));
        }
        if (p.slotMin() >= 0) {
            sb.append(" slot ").append(TcUtil.time(p.slotMin())).append(' ').append(TcUtil.time(p.slotMax()));
            if (p.slotPackets() != 0) {
                sb.append(" packets ").append(p.slotPackets());
            }
            if (p.slotBytes() != 0) {
                sb.append(" bytes ").append(p.slotBytes());
            }
        }
        if (p.seed() != null) {
            sb.append(" seed ").append(Long.toUnsignedString(p.seed()));
        }
        if (p.gap() != 0) {
            sb.append(" gap ").append(p.gap());
        }
        return sb.toString();
    }

    private static void pct(StringBuilder sb, String word, long v, long corr) {
        if (v != 0) {
            sb.append(word).append(TcUtil.percent(v));
            if (corr != 0) {
                sb.append(' ').append(TcUtil.percent(corr));
            }
        }
    }
}

package org.modnet.sched;

import java.util.List;

import org.modnet.api.net.Timer;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/**
 * {@code tbf}, the token bucket filter ({@code net/sched/sch_tbf.c}): tokens are nanoseconds of
 * transmission time at {@code rate}, up to {@code burst}'s worth; a packet leaves when the bucket
 * holds its time (and, with {@code peakrate}, the second bucket of {@code mtu} holds its time at the
 * peak rate). Otherwise the qdisc is throttled: it counts an overlimit and arms its watchdog for when
 * the tokens will be there. Queued bytes are bounded by {@code limit} (from {@code latency}: rate x
 * latency + burst).
 */
final class SchTbf extends SchedQdisc {
    static final String USAGE = "Usage: ... tbf limit BYTES burst BYTES[/BYTES] rate KBPS [ mtu BYTES[/BYTES] ]\n"
            + "\t[ peakrate KBPS ] [ latency TIME ] [ overhead BYTES ] [ linklayer TYPE ]";

    /** The parsed options, as {@code struct tc_tbf_qopt} carries them (rates in bytes per second). */
    record Params(long rate, long burst, long limit, long peakrate, long mtu) {
        /** {@code psched_l2t_ns}: the time {@code len} bytes take at {@code rate}. */
        static long l2t(long rate, long len) {
            return len * TcUtil.NSEC_PER_SEC / rate;
        }

        static Params parse(List<String> words) {
            Args a = new Args(words, USAGE);
            long rate = 0;
            long burst = 0;
            long limit = 0;
            long latency = -1;
            long peak = 0;
            long mtu = 0;
            while (a.more()) {
                String w = a.next();
                switch (w) {
                    case "limit" -> {
                        if (latency >= 0) {
                            throw a.usage("tbf: specifying both \"limit\" and \"latency\" is not allowed");
                        }
                        limit = need(TcUtil.parseSize(a.value()), "limit");
                    }
                    case "latency" -> {
                        if (limit > 0) {
                            throw a.usage("tbf: specifying both \"limit\" and \"latency\" is not allowed");
                        }
                        Long t = TcUtil.parseTime(a.value());
                        if (t == null || t < 0) {
                            throw TcUtil.illegal("latency");
                        }
                        latency = t;
                    }
                    case "burst", "buffer", "maxburst" -> burst = need(TcUtil.parseSize(stripCell(a.value())), "burst");
                    case "mtu", "minburst" -> mtu = need(TcUtil.parseSize(stripCell(a.value())), "mtu");
                    case "rate" -> rate = need(TcUtil.parseRate(a.value()), "rate");
                    case "peakrate" -> peak = need(TcUtil.parseRate(a.value()), "peakrate");
                    case "mpu", "overhead", "linklayer" -> a.value(); // accepted, not modelled
                    default -> throw a.unknown(w);
                }
            }
            if (rate == 0) {
                throw a.usage("tbf: the \"rate\" parameter is mandatory.");
            }
            if (burst == 0) {
                throw a.usage("tbf: the \"burst\" parameter is mandatory.");
            }
            if (peak != 0 && mtu == 0) {
                throw a.usage("tbf: when \"peakrate\" is specified, \"mtu\" must also be specified.");
            }
            if (limit == 0 && latency < 0) {
                throw a.usage("tbf: either \"limit\" or \"latency\" is required.");
            }
            if (latency >= 0) {
                limit = (long) (rate * (latency / 1e9)) + burst;
                if (peak != 0) {
                    limit = Math.min(limit, (long) (peak * (latency / 1e9)) + mtu);
                }
            }
            if (peak != 0 && peak <= rate) {
                throw new CommandException("Error: Peakrate must be greater than rate.", 2);
            }
            return new Params(rate, burst, limit, peak, mtu);
        }

        private static String stripCell(String v) {
            int slash = v.indexOf('/');
            return slash < 0 ? v : v.substring(0, slash);
        }

        private static long need(Long v, String what) {
            if (v == null) {
                throw TcUtil.illegal(what);
            }
            return v;
        }
    }

    private final SkbQueue q = new SkbQueue();
    private final Timer watchdog;
    private Params p;
    private long buffer; // burst as time, ns
    private long mtuTime; // mtu as time at the peak rate, ns
    private long maxSize; // the largest packet that can ever go
    private long tokens;
    private long ptokens;
    private long tc; // t_c: when the buckets were last filled

    SchTbf(QdiscEnv env, List<String> args) {
        super(env);
        apply(Params.parse(args));
        this.watchdog = env.timer(env::schedule);
    }

    private void apply(Params np) {
        p = np;
        buffer = Params.l2t(np.rate(), np.burst());
        mtuTime = np.peakrate() == 0 ? 0 : Params.l2t(np.peakrate(), np.mtu());
        maxSize = np.peakrate() == 0 ? np.burst() : Math.min(np.burst(), np.mtu());
        tokens = buffer;
        ptokens = mtuTime;
        tc = env.nanoTime();
    }

    @Override
    public String kind() {
        return "tbf";
    }

    @Override
    public int enqueue(SkBuff skb) {
        if (skb.len() > maxSize || q.bytes() + skb.len() > p.limit()) {
            return drop(skb);
        }
        q.addLast(skb);
        return NET_XMIT_SUCCESS;
    }

    @Override
    protected SkBuff dequeueNext() {
        SkBuff skb = q.peek();
        if (skb == null) {
            return null;
        }
        long now = env.nanoTime();
        long toks = Math.min(now - tc + tokens, buffer);
        long ptoks = 0;
        if (p.peakrate() != 0) {
            ptoks = Math.min(now - tc + ptokens, mtuTime) - Params.l2t(p.peakrate(), skb.len());
        }
        toks -= Params.l2t(p.rate(), skb.len());
        if ((toks | ptoks) >= 0) {
            q.pollFirst();
            tc = now;
            tokens = toks;
            ptokens = ptoks;
            return skb;
        }
        // qdisc_watchdog_schedule_ns: back when the deficit is paid (the wheel counts in ms)
        long wait = Math.max(-toks, -ptoks);
        watchdog.mod(Math.max(1, (wait + TcUtil.NSEC_PER_MSEC - 1) / TcUtil.NSEC_PER_MSEC));
        stats.overlimit();
        return null;
    }

    @Override
    protected int resetQueue() {
        tokens = buffer;
        ptokens = mtuTime;
        tc = env.nanoTime();
        return q.purge();
    }

    @Override
    protected int queueLen() {
        return q.len();
    }

    @Override
    protected int queueBytes() {
        return q.bytes();
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
        StringBuilder sb = new StringBuilder();
        sb.append("rate ").append(TcUtil.rate(p.rate())).append(' ');
        sb.append("burst ").append(TcUtil.size(p.burst())).append(' ');
        if (p.peakrate() != 0) {
            sb.append("peakrate ").append(TcUtil.rate(p.peakrate())).append(' ');
            sb.append("minburst ").append(TcUtil.size(p.mtu())).append(' ');
        }
        // tbf_print_opt: the latency the limit gives, or the limit when that is negative
        double latency = p.limit() / (double) p.rate() - p.burst() / (double) p.rate();
        if (p.peakrate() != 0) {
            latency = Math.max(latency, p.limit() / (double) p.peakrate() - p.mtu() / (double) p.peakrate());
        }
        if (latency >= 0) {
            sb.append("lat ").append(TcUtil.time(Math.round(latency * 1e9))).append(' ');
        } else {
            sb.append("limit ").append(TcUtil.size(p.limit())).append(' ');
        }
        return sb.toString();
    }

    long limit() {
        return p.limit();
    }
}

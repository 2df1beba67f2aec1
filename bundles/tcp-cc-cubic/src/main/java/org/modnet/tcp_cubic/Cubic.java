package org.modnet.tcp_cubic;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.modnet.api.module.ModuleUsage;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.api.tcp.TcpCongestionState;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * CUBIC (RFC 9438) as Linux's {@code net/ipv4/tcp_cubic.c} runs it, with HyStart (Ha and Rhee, "Taming
 * the elephants", 2011) leaving slow start early: Linux's default congestion control.
 *
 * <p>The window follows W(t) = C·(t − K)³ + W_max from the last reduction, in Linux's fixed point
 * (time in 1/1024 s, {@code bic_scale} 41 standing for C = 0.4), grows at least as fast as Reno would
 * (the TCP-friendly region, RFC 9438 4.3), remembers a lower W_max when the window keeps falling (fast
 * convergence, 4.7) and shrinks by beta = 717/1024 on a loss. Where Linux and RFC 9438 differ, this
 * does what Linux does: beta 0.7 (717/1024), the Reno estimate's rate from {@code beta_scale}, at most one
 * segment per two acknowledged, W(t) evaluated one minimum RTT ahead, original HyStart rather than
 * RFC 9406's HyStart++.
 *
 * <p>Everything but {@link #init} and the configuration runs on TCP's packet path: integer arithmetic on
 * the connection's own {@link Ca}, no allocation, no lock. The module parameters are Linux's ({@code
 * /sys/module/tcp_cubic/parameters/*}) as the configuration of PID {@value #PID}.
 */
@Component(service = { TcpCongestionOps.class, ModuleUsage.class }, immediate = true, configurationPid = Cubic.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, property = TcpCongestionOps.NAME + "=" + TcpCongestion.CUBIC)
@Designate(ocd = Cubic.Parameters.class)
public final class Cubic implements TcpCongestionOps, ModuleUsage {
    /**
     * The module parameters described for {@code modinfo}'s {@code parm:} lines (the bundle's metatype;
     * {@link Params#from} reads the values). A double underscore in a method name stands for the
     * underscore of Linux's parameter name, as the metatype annotations map names.
     */
    @ObjectClassDefinition(id = PID, name = PID, description = "CUBIC's module parameters")
    @interface Parameters {
        @AttributeDefinition(description = "1 to shrink the remembered maximum when windows keep falling (fast convergence)")
        int fast__convergence() default 1;

        @AttributeDefinition(description = "the window kept after a loss, in 1/1024 (717 is 0.7)")
        int beta() default 717;

        @AttributeDefinition(description = "slow start threshold of a new connection, 0 for none")
        int initial__ssthresh() default 0;

        @AttributeDefinition(description = "the cubic curve's scale, 41 for C = 0.4 in 1/1024")
        int bic__scale() default 41;

        @AttributeDefinition(description = "1 to grow at least as fast as Reno would (the TCP-friendly region)")
        int tcp__friendliness() default 1;

        @AttributeDefinition(description = "1 to leave slow start early with HyStart")
        int hystart() default 1;

        @AttributeDefinition(description = "HyStart's detectors: 1 ACK train, 2 delay increase, 3 both")
        int hystart__detect() default 3;

        @AttributeDefinition(description = "no HyStart exit below this window, in segments")
        int hystart__low__window() default 16;

        @AttributeDefinition(description = "the gap between ACKs that still counts as a train, in microseconds")
        int hystart__ack__delta__us() default 2000;
    }

    /** The configuration's PID: the module's name, as Linux's {@code /sys/module/tcp_cubic}. */
    public static final String PID = "tcp_cubic";

    /** {@code BICTCP_BETA_SCALE}: beta is in 1/1024. */
    static final int BETA_SCALE = 1024;
    /** {@code BICTCP_HZ}: W(t)'s time is in 2^-10 s. */
    static final int BICTCP_HZ = 10;
    /** {@code HYSTART_ACK_TRAIN}, {@code HYSTART_DELAY}: the bits of {@code hystart_detect}. */
    static final int HYSTART_ACK_TRAIN = 1;
    static final int HYSTART_DELAY = 2;
    /** Delay detection takes the minimum of this many RTT samples per round. */
    static final int HYSTART_MIN_SAMPLES = 8;
    /** {@code HYSTART_DELAY_THRESH}: the RTT rise that ends slow start is delay_min/8 within these bounds (us). */
    static final long HYSTART_DELAY_MIN_US = 4_000;
    static final long HYSTART_DELAY_MAX_US = 16_000;
    /** {@code HZ / 32}: W(t) is evaluated at most this often while the window stays the same (ms, as jiffies at HZ=1000). */
    static final long UPDATE_INTERVAL_MS = 1000 / 32;

    /**
     * The module parameters ({@code module_param} in tcp_cubic.c) and what {@code cubictcp_register}
     * derives from them. Immutable: a configuration change swaps the whole set, so a connection reads a
     * consistent one. Linux derives beta_scale, cube_rtt_scale and cube_factor once at module load;
     * here they follow a change of beta or bic_scale.
     */
    record Params(boolean fastConvergence, int beta, int initialSsthresh, int bicScale, boolean tcpFriendliness,
            boolean hystart, int hystartDetect, int hystartLowWindow, int hystartAckDeltaUs) {
        static final Params DEFAULTS = new Params(true, 717, 0, 41, true, true, HYSTART_ACK_TRAIN | HYSTART_DELAY, 16, 2000);

        /** {@code beta_scale}: 8·(1024 + beta) / 3 / (1024 − beta), the Reno estimate's acks per segment ×8. */
        int betaScale() {
            return 8 * (BETA_SCALE + beta) / 3 / (BETA_SCALE - beta);
        }

        /** {@code cube_rtt_scale}: 1024·C/RTT with the 100 ms RTT bic_scale is calibrated to (41·10 = 410 for C = 0.4). */
        long cubeRttScale() {
            return bicScale * 10L;
        }

        /** {@code cube_factor}: 2^40 / cube_rtt_scale, so K = cbrt(cube_factor · (W_max − cwnd)) in 1/1024 s. */
        long cubeFactor() {
            return (1L << (10 + 3 * BICTCP_HZ)) / cubeRttScale();
        }

        /** The parameters as Linux's sysfs names them, for the configuration and for a reader. */
        Map<String, Object> asMap() {
            return Map.of("fast_convergence", fastConvergence ? 1 : 0, "beta", beta, "initial_ssthresh", initialSsthresh,
                    "bic_scale", bicScale, "tcp_friendliness", tcpFriendliness ? 1 : 0, "hystart", hystart ? 1 : 0,
                    "hystart_detect", hystartDetect, "hystart_low_window", hystartLowWindow,
                    "hystart_ack_delta_us", hystartAckDeltaUs);
        }

        /**
         * The parameters a configuration gives, each checked as {@code param_set_int} would be and
         * within what the arithmetic needs; a bad one keeps its old value and is named in the message.
         */
        static Params from(Map<String, ?> cfg, Params old, StringBuilder refused) {
            return new Params(
                    bool(cfg, "fast_convergence", old.fastConvergence, refused),
                    integer(cfg, "beta", old.beta, 1, BETA_SCALE - 1, refused),
                    integer(cfg, "initial_ssthresh", old.initialSsthresh, 0, Integer.MAX_VALUE, refused),
                    integer(cfg, "bic_scale", old.bicScale, 1, 1 << 20, refused),
                    bool(cfg, "tcp_friendliness", old.tcpFriendliness, refused),
                    bool(cfg, "hystart", old.hystart, refused),
                    integer(cfg, "hystart_detect", old.hystartDetect, 0, HYSTART_ACK_TRAIN | HYSTART_DELAY, refused),
                    integer(cfg, "hystart_low_window", old.hystartLowWindow, 0, Integer.MAX_VALUE, refused),
                    integer(cfg, "hystart_ack_delta_us", old.hystartAckDeltaUs, 0, 1_000_000, refused));
        }

        private static int integer(Map<String, ?> cfg, String key, int old, int min, int max, StringBuilder refused) {
            Object v = cfg.get(key);
            if (v == null) {
                return old;
            }
            try {
                long n = v instanceof Number num ? num.longValue() : Long.parseLong(v.toString().strip());
                if (n >= min && n <= max) {
                    return (int) n;
                }
            } catch (NumberFormatException e) {
                // named below
            }
            refused.append(refused.isEmpty() ? "" : ", ").append(key).append('=').append(v);
            return old;
        }

        private static boolean bool(Map<String, ?> cfg, String key, boolean old, StringBuilder refused) {
            Object v = cfg.get(key);
            if (v instanceof Boolean b) {
                return b;
            }
            return integer(cfg, key, old ? 1 : 0, 0, Integer.MAX_VALUE, refused) != 0;
        }
    }

    /** {@code struct bictcp}: one connection's CUBIC and HyStart state. Times in ms (Linux's jiffies) or us. */
    static final class Ca {
        /** {@code cnt}: acknowledged segments per one segment of window growth. */
        int cnt;
        /** {@code last_max_cwnd}: W_max, the window before the last reduction (0: none yet). */
        int lastMaxCwnd;
        /** {@code last_cwnd}, {@code last_time}: when W(t) was last evaluated, and at what window. */
        int lastCwnd;
        long lastTimeMs;
        /** {@code bic_origin_point}: the curve's plateau; {@code bic_K}: its time from the epoch, in 1/1024 s. */
        int originPoint;
        long k;
        /** {@code delay_min}: the smallest RTT seen, in us (0: none yet). */
        long delayMinUs;
        /** {@code epoch_start}: when this congestion-avoidance epoch began, in ms (0: none). */
        long epochStartMs;
        /** {@code ack_cnt}, {@code tcp_cwnd}: the Reno-friendly estimate's acknowledged segments and window. */
        int ackCnt;
        int tcpCwnd;
        // HyStart
        /** {@code sample_cnt}: RTT samples in this round; {@code found}: slow start already left. */
        int sampleCnt;
        boolean found;
        /** {@code round_start}, {@code last_ack} in us; {@code end_seq}: the round ends when snd_una passes it. */
        long roundStartUs;
        long lastAckUs;
        int endSeq;
        /** {@code curr_rtt}: the round's minimum RTT sample, in us. */
        long currRttUs;

        /** {@code bictcp_reset}: everything but HyStart's round, and {@code found} too. */
        void reset() {
            cnt = 0;
            lastMaxCwnd = 0;
            lastCwnd = 0;
            lastTimeMs = 0;
            originPoint = 0;
            k = 0;
            delayMinUs = 0;
            epochStartMs = 0;
            ackCnt = 0;
            tcpCwnd = 0;
            found = false;
        }
    }

    private static final System.Logger LOG = System.getLogger(Cubic.class.getName());

    private volatile Params params = Params.DEFAULTS;
    /** Connections between init and release: lsmod's "Used by". */
    private final AtomicInteger connections = new AtomicInteger();

    public Cubic() {
    }

    /** With parameters, as a test or a configuration gives them. */
    Cubic(Params params) {
        this.params = params;
    }

    @Activate
    @Modified
    void configure(Map<String, Object> cfg) {
        StringBuilder refused = new StringBuilder();
        params = Params.from(cfg, Params.DEFAULTS, refused);
        if (!refused.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "tcp_cubic: Invalid argument: " + refused + " (kept the default)");
        }
    }

    Params params() {
        return params;
    }

    @Override
    public String name() {
        return TcpCongestion.CUBIC;
    }

    @Override
    public Map<String, Integer> users() {
        return Map.of(SOCKETS, connections.get());
    }

    /** {@code cubictcp_init}. */
    @Override
    public Object init(TcpCongestionState sk) {
        connections.incrementAndGet();
        Ca ca = new Ca();
        Params p = params;
        ca.reset();
        if (p.hystart) {
            hystartReset(sk, ca);
        }
        if (!p.hystart && p.initialSsthresh != 0) {
            sk.ssthresh(p.initialSsthresh);
        }
        return ca;
    }

    @Override
    public void release(TcpCongestionState sk) {
        connections.decrementAndGet();
    }

    /** {@code bictcp_hystart_reset}: a new round of slow start begins with what is sent from now. */
    static void hystartReset(TcpCongestionState sk, Ca ca) {
        long now = sk.nowUs();
        ca.roundStartUs = now;
        ca.lastAckUs = now;
        ca.endSeq = sk.sndNxt();
        ca.currRttUs = Long.MAX_VALUE;
        ca.sampleCnt = 0;
    }

    /** {@code cubictcp_cong_avoid}: slow start below ssthresh, then one segment per {@code cnt} acknowledged. */
    @Override
    public void congAvoid(TcpCongestionState sk, int ack, int acked) {
        Ca ca = (Ca) sk.priv();
        if (ca == null || !sk.isCwndLimited()) {
            return;
        }
        if (TcpCongestion.inSlowStart(sk)) {
            acked = TcpCongestion.slowStart(sk, acked);
            if (acked <= 0) {
                return;
            }
        }
        update(params, ca, sk.cwnd(), acked, sk.nowUs());
        TcpCongestion.congAvoidAi(sk, ca.cnt, acked);
    }

    /**
     * {@code bictcp_update}: sets {@code ca.cnt} so the window reaches W(t + delay_min) over the next RTT,
     * or the Reno estimate if that is larger, and never grows faster than 1.5× per RTT.
     */
    static void update(Params p, Ca ca, int cwnd, int acked, long nowUs) {
        long now = nowUs / 1000; // Linux's tcp_jiffies32 at HZ=1000
        ca.ackCnt += acked;
        if (ca.lastCwnd == cwnd && now - ca.lastTimeMs <= UPDATE_INTERVAL_MS) {
            return;
        }
        // W(t) changes at most once per tick; a reduction clears epoch_start and forces it
        if (ca.epochStartMs == 0 || now != ca.lastTimeMs) {
            ca.lastCwnd = cwnd;
            ca.lastTimeMs = now;
            if (ca.epochStartMs == 0) {
                ca.epochStartMs = Math.max(now, 1); // 0 means "no epoch"
                ca.ackCnt = acked;
                ca.tcpCwnd = cwnd;
                if (ca.lastMaxCwnd <= cwnd) {
                    ca.k = 0;
                    ca.originPoint = cwnd;
                } else {
                    ca.k = cubicRoot(p.cubeFactor() * (ca.lastMaxCwnd - cwnd)); // RFC 9438 (2), in 1/1024 s
                    ca.originPoint = ca.lastMaxCwnd;
                }
            }
            // t: the time since the epoch plus one minimum RTT, from ms to 1/1024 s
            long t = now - ca.epochStartMs + (ca.delayMinUs + 999) / 1000;
            t = (t << BICTCP_HZ) / 1000;
            long target = target(p, ca, t);
            if (target > cwnd) {
                ca.cnt = (int) Math.min(cwnd / (target - cwnd), Integer.MAX_VALUE);
            } else {
                ca.cnt = 100 * cwnd; // at or above the curve: grow by next to nothing
            }
            if (ca.lastMaxCwnd == 0 && ca.cnt > 20) {
                ca.cnt = 20; // no W_max known yet: at least 5% per RTT
            }
        }
        if (p.tcpFriendliness) {
            // RFC 9438 4.3: Reno's window grown with the same ACKs, one segment per beta_scale/8 windows' acks
            int delta = Math.max((cwnd * p.betaScale()) >> 3, 1);
            while (ca.ackCnt > delta) {
                ca.ackCnt -= delta;
                ca.tcpCwnd++;
            }
            if (ca.tcpCwnd > cwnd) {
                int maxCnt = cwnd / (ca.tcpCwnd - cwnd);
                if (ca.cnt > maxCnt) {
                    ca.cnt = maxCnt;
                }
            }
        }
        ca.cnt = Math.max(ca.cnt, 2); // at most one segment per two acknowledged: 1.5x per RTT
    }

    /**
     * W(t) in segments, t in 1/1024 s since the epoch: origin ± C·|t − K|³ in Linux's fixed point ({@code
     * cube_rtt_scale · offs³ >> 40}). |t − K| is held below 2^18 (about 256 s) so the cube cannot
     * overflow; the window is far past any clamp by then.
     */
    static long target(Params p, Ca ca, long t) {
        long offs = Math.min(Math.abs(t - ca.k), (1L << 18) - 1);
        long delta = (p.cubeRttScale() * offs * offs * offs) >>> (10 + 3 * BICTCP_HZ);
        return t < ca.k ? Math.max(ca.originPoint - delta, 0) : ca.originPoint + delta;
    }

    /**
     * The integer cube root, rounded down. Linux's {@code cubic_root} takes a table and one
     * Newton-Raphson step (within 0.2%); the exact root here never differs from it by more than that.
     */
    private static final long MAX_ROOT = 2_097_151; // the cube root of Long.MAX_VALUE, rounded down

    static long cubicRoot(long a) {
        if (a <= 0) {
            return 0;
        }
        long x = Math.min((long) Math.cbrt((double) a), MAX_ROOT);
        while (x > 0 && x * x * x > a) {
            x--;
        }
        while (x < MAX_ROOT && (x + 1) * (x + 1) * (x + 1) <= a) { // 2097152^3 would overflow
            x++;
        }
        return x;
    }

    /** {@code cubictcp_recalc_ssthresh}: W_max (lowered again on a falling window), then beta·cwnd. */
    @Override
    public int ssthresh(TcpCongestionState sk) {
        Ca ca = (Ca) sk.priv();
        Params p = params;
        int cwnd = sk.cwnd();
        if (ca != null) {
            ca.epochStartMs = 0; // the epoch ends
            if (cwnd < ca.lastMaxCwnd && p.fastConvergence) {
                // RFC 9438 4.7: release bandwidth to a newer flow: W_max = cwnd·(1 + beta)/2
                ca.lastMaxCwnd = (int) ((long) cwnd * (BETA_SCALE + p.beta) / (2 * BETA_SCALE));
            } else {
                ca.lastMaxCwnd = cwnd;
            }
        }
        return Math.max((int) ((long) cwnd * p.beta / BETA_SCALE), 2);
    }

    /** {@code cubictcp_state}: a timeout starts over, HyStart included. */
    @Override
    public void setState(TcpCongestionState sk, int newState) {
        Ca ca = (Ca) sk.priv();
        if (ca != null && newState == TcpCongestion.CA_LOSS) {
            ca.reset();
            hystartReset(sk, ca);
        }
    }

    /**
     * {@code cubictcp_cwnd_event}: sending starts again after the application was idle; the epoch moves
     * by the idle time, so the curve does not count time nothing was sent (RFC 9438 5.8).
     */
    @Override
    public void cwndEvent(TcpCongestionState sk, int event) {
        Ca ca = (Ca) sk.priv();
        if (ca == null || event != TcpCongestion.CA_EVENT_TX_START) {
            return;
        }
        long now = sk.nowUs() / 1000;
        long delta = now - sk.lastSendUs() / 1000;
        if (ca.epochStartMs != 0 && delta > 0 && sk.lastSendUs() != 0) {
            ca.epochStartMs += delta;
            if (ca.epochStartMs > now) {
                ca.epochStartMs = now;
            }
        }
    }

    /** {@code cubictcp_acked}: the minimum RTT, and HyStart in slow start. */
    @Override
    public void pktsAcked(TcpCongestionState sk, int pkts, long rttUs) {
        Ca ca = (Ca) sk.priv();
        if (ca == null || rttUs < 0) {
            return; // a duplicate ACK without a timestamp gives no sample
        }
        if (ca.epochStartMs != 0 && sk.nowUs() / 1000 - ca.epochStartMs < 1000) {
            return; // right after a reduction the RTT samples are the queue draining: skip them for 1 s
        }
        long delay = Math.max(rttUs, 1);
        if (ca.delayMinUs == 0 || ca.delayMinUs > delay) {
            ca.delayMinUs = delay;
        }
        Params p = params;
        if (!ca.found && TcpCongestion.inSlowStart(sk) && p.hystart) {
            hystartUpdate(p, sk, ca, delay);
        }
    }

    /**
     * {@code hystart_update}: leaves slow start (ssthresh = cwnd) when a round's ACKs keep coming
     * closely spaced for longer than half the minimum RTT (the ACK train: the pipe is full) or when the
     * round's minimum RTT rose by delay_min/8, clamped to 4..16 ms (the queue is growing). From
     * {@code hystart_low_window} segments on. Counted in TcpExtTCPHystartTrainDetect/TrainCwnd and
     * DelayDetect/DelayCwnd.
     */
    static void hystartUpdate(Params p, TcpCongestionState sk, Ca ca, long delay) {
        if (sk.sndUna() - ca.endSeq > 0) { // after(snd_una, end_seq): the round ended
            hystartReset(sk, ca);
        }
        int cwnd = sk.cwnd();
        if (cwnd < p.hystartLowWindow) {
            return;
        }
        if ((p.hystartDetect & HYSTART_ACK_TRAIN) != 0) {
            long now = sk.nowUs();
            if (now - ca.lastAckUs <= p.hystartAckDeltaUs) {
                ca.lastAckUs = now;
                // the minimum RTT plus hystart_ack_delay (a TSO burst's time at the pacing rate, at most
                // 1 ms), halved as for a socket nothing paces (sk_pacing_status SK_PACING_NONE: CUBIC
                // asks for no pacing and modnet has no fq to give it)
                long threshold = (ca.delayMinUs + hystartAckDelayUs(sk.pacingRate())) >> 1;
                if (now - ca.roundStartUs > threshold) {
                    ca.found = true;
                    sk.mibAdd(TcpCongestion.MIB_HYSTART_TRAIN_DETECT, 1);
                    sk.mibAdd(TcpCongestion.MIB_HYSTART_TRAIN_CWND, cwnd);
                    sk.ssthresh(cwnd);
                }
            }
        }
        if ((p.hystartDetect & HYSTART_DELAY) != 0) {
            if (ca.currRttUs > delay) {
                ca.currRttUs = delay;
            }
            if (ca.sampleCnt < HYSTART_MIN_SAMPLES) {
                ca.sampleCnt++;
            } else if (ca.currRttUs > ca.delayMinUs + delayThresh(ca.delayMinUs >> 3)) {
                ca.found = true;
                sk.mibAdd(TcpCongestion.MIB_HYSTART_DELAY_DETECT, 1);
                sk.mibAdd(TcpCongestion.MIB_HYSTART_DELAY_CWND, cwnd);
                sk.ssthresh(cwnd);
            }
        }
    }

    /**
     * {@code hystart_ack_delay}: how long two 64 KB GSO bursts take at the pacing rate ({@code
     * sk_pacing_rate}, which TCP keeps for every socket), at most 1 ms; 0 without a rate.
     */
    static long hystartAckDelayUs(long pacingRate) {
        return pacingRate <= 0 ? 0 : Math.min(1000L, 2L * 65536 * 1_000_000 / pacingRate);
    }

    /** {@code HYSTART_DELAY_THRESH}: clamped to 4..16 ms. */
    static long delayThresh(long us) {
        return Math.clamp(us, HYSTART_DELAY_MIN_US, HYSTART_DELAY_MAX_US);
    }

    /** {@code undo_cwnd}: Linux's cubic takes Reno's ({@code tcp_reno_undo_cwnd}). */
    @Override
    public int undoCwnd(TcpCongestionState sk) {
        return TcpCongestion.renoUndoCwnd(sk);
    }
}

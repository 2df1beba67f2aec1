package org.modnet.tcp_bbr;

import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;

import org.modnet.api.module.ModuleUsage;
import org.modnet.api.tcp.TcpCcInfo;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.api.tcp.TcpCongestionState;
import org.modnet.api.tcp.TcpRateSample;
import org.osgi.service.component.annotations.Component;

/**
 * BBR ("Bottleneck Bandwidth and Round-trip propagation time", Cardwell et al., ACM Queue 2016; the
 * IETF draft "BBR Congestion Control") as version 1 runs in Linux's {@code net/ipv4/tcp_bbr.c}. It does
 * not treat loss as the signal of congestion: it keeps a model of the path, the maximum delivery rate
 * seen over the last ten round trips ({@link WinMaxFilter}) and the minimum RTT seen over ten seconds,
 * and from every ACK's {@link TcpRateSample} sets the pacing rate to gain·bandwidth and the window to
 * cwnd_gain·bandwidth·min_rtt, so the queue at the bottleneck stays near empty.
 *
 * <p>Its states: STARTUP doubles the rate each round (gain 2/ln2) until the bandwidth stops growing by
 * 25% for three rounds; DRAIN empties the queue STARTUP built; PROBE_BW cycles the pacing gain through
 * 5/4, 3/4 and six rounds of 1 to probe for more bandwidth and drain what the probe queued; PROBE_RTT
 * drops the window to four segments for 200 ms when the minimum RTT went ten seconds without being
 * seen again. A policer is detected by long-term sampling (a loss rate over 20% at a steady rate) and
 * the flow then paces at that rate for 48 rounds.
 *
 * <p>It calls for pacing ({@link TcpCongestionState#pacingNeeded()}): TCP paces internally, or fq does.
 * Everything but {@link #init} and {@link #info} runs on the packet path: integer arithmetic on the
 * connection's own {@link Ca}, no allocation, no lock.
 */
@Component(service = { TcpCongestionOps.class, ModuleUsage.class }, immediate = true,
        property = TcpCongestionOps.NAME + "=" + Bbr.NAME)
public final class Bbr implements TcpCongestionOps, ModuleUsage {
    /** The algorithm's name ({@code tcp_bbr_cong_ops.name}). */
    public static final String NAME = "bbr";

    /** {@code BW_SCALE}: a bandwidth is segments per microsecond times 2^24. */
    static final int BW_SCALE = 24;
    static final long BW_UNIT = 1L << BW_SCALE;
    /** {@code BBR_SCALE}: gains are in 1/256. */
    static final int BBR_SCALE = 8;
    static final int BBR_UNIT = 1 << BBR_SCALE;

    /** {@code enum bbr_mode}. */
    static final int STARTUP = 0;
    static final int DRAIN = 1;
    static final int PROBE_BW = 2;
    static final int PROBE_RTT = 3;

    /** {@code CYCLE_LEN}: the pacing-gain cycle's phases. */
    static final int CYCLE_LEN = 8;
    /** {@code bbr_bw_rtts}: the bandwidth filter's window, in rounds. */
    static final int BW_RTTS = CYCLE_LEN + 2;
    /** {@code bbr_min_rtt_win_sec}: the minimum RTT's window. */
    static final long MIN_RTT_WIN_MS = 10_000;
    /** {@code bbr_probe_rtt_mode_ms}: the least time PROBE_RTT holds the window at its minimum. */
    static final long PROBE_RTT_MODE_MS = 200;
    /** {@code bbr_min_tso_rate}: below this (bits per second) one segment per TSO burst is enough. */
    static final long MIN_TSO_RATE = 1_200_000;
    /** {@code bbr_pacing_margin_percent}: pace 1% below the estimate, so a queue built does not persist. */
    static final int PACING_MARGIN_PERCENT = 1;
    /** {@code bbr_high_gain}: 2/ln(2), the smallest gain that doubles the delivery rate each round. */
    static final int HIGH_GAIN = BBR_UNIT * 2885 / 1000 + 1;
    /** {@code bbr_drain_gain}: its inverse, draining STARTUP's queue in a round. */
    static final int DRAIN_GAIN = BBR_UNIT * 1000 / 2885;
    /** {@code bbr_cwnd_gain}: the window PROBE_BW keeps, twice the BDP (for delayed and stretched ACKs). */
    static final int CWND_GAIN = BBR_UNIT * 2;
    /** {@code bbr_pacing_gain}: the PROBE_BW cycle. */
    static final int[] PACING_GAIN = { BBR_UNIT * 5 / 4, BBR_UNIT * 3 / 4, BBR_UNIT, BBR_UNIT, BBR_UNIT, BBR_UNIT,
            BBR_UNIT, BBR_UNIT };
    /** {@code bbr_cycle_rand}: the cycle starts at a random phase but the 3/4 one. */
    static final int CYCLE_RAND = 7;
    /** {@code bbr_cwnd_min_target}: the least window, four segments, so delayed ACKs keep flowing. */
    static final int CWND_MIN_TARGET = 4;
    /** {@code bbr_full_bw_thresh}, {@code bbr_full_bw_cnt}: STARTUP ends after 3 rounds without 25% growth. */
    static final int FULL_BW_THRESH = BBR_UNIT * 5 / 4;
    static final int FULL_BW_CNT = 3;
    /** Long-term ("policer") sampling: {@code bbr_lt_intvl_min_rtts}, {@code bbr_lt_loss_thresh} (50/256 = 20%), ... */
    static final int LT_INTVL_MIN_RTTS = 4;
    static final int LT_LOSS_THRESH = 50;
    static final int LT_BW_RATIO = BBR_UNIT / 8;
    static final long LT_BW_DIFF = 4000 / 8; // bytes per second
    static final int LT_BW_MAX_RTTS = 48;
    /** Ack aggregation: {@code bbr_extra_acked_gain}, {@code bbr_extra_acked_win_rtts}, ... */
    static final int EXTRA_ACKED_GAIN = BBR_UNIT;
    static final int EXTRA_ACKED_WIN_RTTS = 5;
    static final int ACK_EPOCH_ACKED_RESET_THRESH = 1 << 20;
    static final long EXTRA_ACKED_MAX_US = 100_000;
    /** {@code TCP_INIT_CWND}. */
    static final int INIT_CWND = 10;
    /** {@code GSO_MAX_SIZE - 1 - MAX_TCP_HEADER}: the largest TSO burst's payload. */
    static final int GSO_MAX_BYTES = 65536 - 1 - 320;
    /** {@code sk_pacing_shift}: a TSO burst is about 1 ms (2^-10 s) of the pacing rate. */
    static final int PACING_SHIFT = 10;

    /** {@code struct bbr}: one connection's model. */
    static final class Ca {
        int minRttUs;
        long minRttStampMs;
        long probeRttDoneStampMs;
        final WinMaxFilter bw = new WinMaxFilter();
        int rttCnt;
        int nextRttDelivered;
        long cycleMstampUs;
        int mode;
        int prevCaState;
        boolean packetConservation;
        boolean roundStart;
        boolean idleRestart;
        boolean probeRttRoundDone;
        boolean ltIsSampling;
        int ltRttCnt;
        boolean ltUseBw;
        long ltBw;
        int ltLastDelivered;
        long ltLastStampMs;
        int ltLastLost;
        int pacingGain;
        int cwndGain;
        boolean fullBwReached;
        int fullBwCnt;
        int cycleIdx;
        boolean hasSeenRtt;
        int priorCwnd;
        long fullBw;
        long ackEpochMstampUs;
        final int[] extraAcked = new int[2];
        int ackEpochAcked;
        int extraAckedWinRtts;
        int extraAckedWinIdx;
        /** {@code bbr_set_cwnd_to_recover_or_restore}'s second result, kept here so the ACK path allocates nothing. */
        final boolean[] conserve = new boolean[1];
    }

    private final AtomicInteger connections = new AtomicInteger();
    /** {@code get_random_u32_below}: a test pins it. */
    private final IntUnaryOperator random;

    public Bbr() {
        this(below -> ThreadLocalRandom.current().nextInt(below));
    }

    Bbr(IntUnaryOperator random) {
        this.random = random;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Integer> users() {
        return Map.of(SOCKETS, connections.get());
    }

    /** {@code bbr_init}: STARTUP, with a pacing rate from the initial window over the RTT seen (or 1 ms). */
    @Override
    public Object init(TcpCongestionState sk) {
        connections.incrementAndGet();
        Ca bbr = new Ca();
        bbr.nextRttDelivered = sk.delivered();
        bbr.prevCaState = TcpCongestion.CA_OPEN;
        long minRtt = sk.minRttUs();
        bbr.minRttUs = minRtt > 0 ? (int) Math.min(minRtt, Integer.MAX_VALUE) : -1; // -1: ~0U, none yet
        bbr.minRttStampMs = nowMs(sk);
        bbr.bw.reset(0, 0);
        initPacingRateFromRtt(sk, bbr);
        resetLtBwSampling(sk, bbr);
        bbr.mode = STARTUP;
        bbr.ackEpochMstampUs = sk.nowUs();
        sk.pacingNeeded();
        return bbr;
    }

    @Override
    public void release(TcpCongestionState sk) {
        connections.decrementAndGet();
    }

    private static long nowMs(TcpCongestionState sk) {
        return sk.nowUs() / 1000; // tcp_jiffies32 at HZ=1000
    }

    private static long minRtt(Ca bbr) {
        return Integer.toUnsignedLong(bbr.minRttUs);
    }

    /** {@code bbr_max_bw}, {@code bbr_bw}: the filter's maximum, or the policer's rate while it is used. */
    static long maxBw(Ca bbr) {
        return bbr.bw.get();
    }

    static long bw(Ca bbr) {
        return bbr.ltUseBw ? bbr.ltBw : maxBw(bbr);
    }

    /** {@code bbr_rate_bytes_per_sec}: a bandwidth times a gain, in bytes per second, less the pacing margin. */
    static long rateBytesPerSec(int mss, long rate, int gain) {
        rate *= mss;
        rate *= gain;
        rate >>>= BBR_SCALE;
        rate *= 1_000_000L / 100 * (100 - PACING_MARGIN_PERCENT);
        return rate >>> BW_SCALE;
    }

    /** {@code bbr_bw_to_pacing_rate}: capped at {@code SO_MAX_PACING_RATE}. */
    static long bwToPacingRate(TcpCongestionState sk, long bw, int gain) {
        long rate = rateBytesPerSec(sk.mss(), bw, gain);
        long max = sk.maxPacingRate();
        return max >= 0 ? Math.min(rate, max) : rate;
    }

    /** {@code bbr_init_pacing_rate_from_rtt}: high gain times the window over the smoothed RTT (1 ms without one). */
    private static void initPacingRateFromRtt(TcpCongestionState sk, Ca bbr) {
        long rttUs;
        if (sk.srttUs() > 0) {
            rttUs = Math.max(sk.srttUs(), 1);
            bbr.hasSeenRtt = true;
        } else {
            rttUs = 1000;
        }
        long bw = sk.cwnd() * BW_UNIT / rttUs;
        sk.pacingRate(bwToPacingRate(sk, bw, HIGH_GAIN));
    }

    /**
     * {@code bbr_set_pacing_rate}: the pacing rate follows the model once the pipe was filled; before,
     * in STARTUP, it only grows, so a low early estimate does not slow the start.
     */
    static void setPacingRate(TcpCongestionState sk, Ca bbr, long bw, int gain) {
        long rate = bwToPacingRate(sk, bw, gain);
        if (!bbr.hasSeenRtt && sk.srttUs() > 0) {
            initPacingRateFromRtt(sk, bbr);
        }
        long cur = sk.pacingRate();
        if (bbr.fullBwReached || cur < 0 || rate > cur) {
            sk.pacingRate(rate);
        }
    }

    /** {@code bbr_tso_segs_goal}: about 1 ms of the pacing rate per TSO burst, at most 127 segments. */
    static int tsoSegsGoal(TcpCongestionState sk) {
        long rate = sk.pacingRate();
        if (rate < 0) {
            rate = Long.MAX_VALUE;
        }
        int mss = Math.max(sk.mss(), 1);
        long bytes = Math.min(rate >>> PACING_SHIFT, GSO_MAX_BYTES);
        int segs = (int) Math.max(bytes / mss, minTsoSegs(rate));
        return Math.min(segs, 0x7f);
    }

    /** {@code bbr_min_tso_segs}: one segment per burst below {@code bbr_min_tso_rate} (1.2 Mbit/s), else two. */
    static int minTsoSegs(long pacingRate) {
        return pacingRate >= 0 && pacingRate < (MIN_TSO_RATE >>> 3) ? 1 : 2;
    }

    /** {@code min_tso_segs}: TCP's TSO autosizing takes BBR's floor, as {@code tcp_tso_segs} asks {@code ca_ops->min_tso_segs}. */
    @Override
    public int minTsoSegs(TcpCongestionState sk) {
        return minTsoSegs(sk.pacingRate());
    }

    /** {@code bbr_save_cwnd}: the window to return to after recovery or PROBE_RTT. */
    private static void saveCwnd(TcpCongestionState sk, Ca bbr) {
        if (bbr.prevCaState < TcpCongestion.CA_RECOVERY && bbr.mode != PROBE_RTT) {
            bbr.priorCwnd = sk.cwnd();
        } else {
            bbr.priorCwnd = Math.max(bbr.priorCwnd, sk.cwnd());
        }
    }

    /** {@code bbr_cwnd_event}: sending restarts after idle: the restart paces at the estimate (gain 1). */
    @Override
    public void cwndEvent(TcpCongestionState sk, int event) {
        Ca bbr = (Ca) sk.priv();
        if (bbr == null || event != TcpCongestion.CA_EVENT_TX_START || sk.appLimited() == 0) {
            return;
        }
        bbr.idleRestart = true;
        bbr.ackEpochMstampUs = sk.nowUs();
        bbr.ackEpochAcked = 0;
        if (bbr.mode == PROBE_BW) {
            setPacingRate(sk, bbr, bw(bbr), BBR_UNIT);
        } else if (bbr.mode == PROBE_RTT) {
            checkProbeRttDone(sk, bbr);
        }
    }

    /** {@code bbr_bdp}: the bandwidth-delay product times a gain, in segments (the initial window without an RTT). */
    static int bdp(Ca bbr, long bw, int gain) {
        if (bbr.minRttUs == -1) {
            return INIT_CWND; // no RTT sample yet: a cautious default
        }
        long w = bw * minRtt(bbr);
        return (int) Math.min((((w * gain) >>> BBR_SCALE) + BW_UNIT - 1) / BW_UNIT, Integer.MAX_VALUE);
    }

    /**
     * {@code bbr_quantization_budget}: room for three TSO bursts in flight (one being sent, one in the
     * qdisc, one being ACKed), an even window, and two more during the 5/4 probe.
     */
    static int quantizationBudget(TcpCongestionState sk, Ca bbr, int cwnd) {
        cwnd += 3 * tsoSegsGoal(sk);
        cwnd = (cwnd + 1) & ~1;
        if (bbr.mode == PROBE_BW && bbr.cycleIdx == 0) {
            cwnd += 2;
        }
        return cwnd;
    }

    /** {@code bbr_inflight}: the segments in flight a gain of the BDP asks for. */
    static int inflight(TcpCongestionState sk, Ca bbr, long bw, int gain) {
        return quantizationBudget(sk, bbr, bdp(bbr, bw, gain));
    }

    /** {@code bbr_ack_aggregation_cwnd}: the window added for ACKs that arrive in bursts (after STARTUP). */
    private static int ackAggregationCwnd(Ca bbr) {
        if (EXTRA_ACKED_GAIN == 0 || !bbr.fullBwReached) {
            return 0;
        }
        long maxAggr = bw(bbr) * EXTRA_ACKED_MAX_US / BW_UNIT;
        long aggr = ((long) EXTRA_ACKED_GAIN * Math.max(bbr.extraAcked[0], bbr.extraAcked[1])) >>> BBR_SCALE;
        return (int) Math.min(aggr, maxAggr);
    }

    /**
     * {@code bbr_set_cwnd_to_recover_or_restore}: losses leave the window; entering recovery the window
     * is what is in flight (packet conservation for a round); leaving it, the window before.
     */
    private static int recoverOrRestore(TcpCongestionState sk, Ca bbr, TcpRateSample rs, int acked, boolean[] conserve) {
        int prev = bbr.prevCaState;
        int state = sk.caState();
        int cwnd = sk.cwnd();
        if (rs.losses() > 0) {
            cwnd = Math.max(cwnd - rs.losses(), 1);
        }
        if (state == TcpCongestion.CA_RECOVERY && prev != TcpCongestion.CA_RECOVERY) {
            bbr.packetConservation = true;
            bbr.nextRttDelivered = sk.delivered(); // a round from now
            cwnd = sk.packetsInFlight() + acked;
        } else if (prev >= TcpCongestion.CA_RECOVERY && state < TcpCongestion.CA_RECOVERY) {
            cwnd = Math.max(cwnd, bbr.priorCwnd);
            bbr.packetConservation = false;
        }
        bbr.prevCaState = state;
        if (bbr.packetConservation) {
            conserve[0] = true;
            return Math.max(cwnd, sk.packetsInFlight() + acked);
        }
        conserve[0] = false;
        return cwnd;
    }

    /**
     * {@code bbr_set_cwnd}: toward gain·BDP plus the aggregation allowance; before the pipe is full it
     * only grows (by what was acknowledged); never below four segments, and four in PROBE_RTT.
     */
    private void setCwnd(TcpCongestionState sk, Ca bbr, TcpRateSample rs, int acked, long bw, int gain) {
        int cwnd = sk.cwnd();
        if (acked > 0) {
            boolean[] conserve = conserveScratch(bbr);
            cwnd = recoverOrRestore(sk, bbr, rs, acked, conserve);
            if (!conserve[0]) {
                int target = bdp(bbr, bw, gain);
                target += ackAggregationCwnd(bbr);
                target = quantizationBudget(sk, bbr, target);
                if (bbr.fullBwReached) {
                    cwnd = Math.min(cwnd + acked, target);
                } else if (cwnd < target || sk.delivered() < INIT_CWND) {
                    cwnd = cwnd + acked;
                }
                cwnd = Math.max(cwnd, CWND_MIN_TARGET);
            }
        }
        sk.cwnd(Math.min(cwnd, sk.cwndClamp()));
        if (bbr.mode == PROBE_RTT) {
            sk.cwnd(Math.min(sk.cwnd(), CWND_MIN_TARGET));
        }
    }

    /** One flag's scratch per connection, so the ACK path allocates nothing. */
    private static boolean[] conserveScratch(Ca bbr) {
        return bbr.conserve;
    }

    /**
     * {@code bbr_is_next_cycle_phase}: a phase lasts at least a min_rtt; the 5/4 probe also until it put
     * 5/4 of the BDP in flight or saw a loss; the 3/4 drain ends early once in flight is down to the BDP.
     */
    private static boolean isNextCyclePhase(TcpCongestionState sk, Ca bbr, TcpRateSample rs) {
        boolean fullLength = sk.deliveredMstampUs() - bbr.cycleMstampUs > minRtt(bbr);
        if (bbr.pacingGain == BBR_UNIT) {
            return fullLength;
        }
        int inflight = rs.priorInFlight(); // Linux estimates this at the next departure time (EDT); modnet uses the count before the ACK
        long bw = maxBw(bbr);
        if (bbr.pacingGain > BBR_UNIT) {
            return fullLength && (rs.losses() > 0 || inflight >= inflight(sk, bbr, bw, bbr.pacingGain));
        }
        return fullLength || inflight <= inflight(sk, bbr, bw, BBR_UNIT);
    }

    private static void advanceCyclePhase(TcpCongestionState sk, Ca bbr) {
        bbr.cycleIdx = (bbr.cycleIdx + 1) & (CYCLE_LEN - 1);
        bbr.cycleMstampUs = sk.deliveredMstampUs();
    }

    private static void updateCyclePhase(TcpCongestionState sk, Ca bbr, TcpRateSample rs) {
        if (bbr.mode == PROBE_BW && isNextCyclePhase(sk, bbr, rs)) {
            advanceCyclePhase(sk, bbr);
        }
    }

    /** {@code bbr_reset_probe_bw_mode}: PROBE_BW at a random phase of the cycle, never the 3/4 one first. */
    void resetProbeBwMode(TcpCongestionState sk, Ca bbr) {
        bbr.mode = PROBE_BW;
        bbr.cycleIdx = CYCLE_LEN - 1 - random(CYCLE_RAND);
        advanceCyclePhase(sk, bbr);
    }

    private int random(int below) {
        return random.applyAsInt(below);
    }

    private void resetMode(TcpCongestionState sk, Ca bbr) {
        if (!bbr.fullBwReached) {
            bbr.mode = STARTUP;
        } else {
            resetProbeBwMode(sk, bbr);
        }
    }

    // --- long-term bandwidth sampling: a token-bucket policer shows as a steady rate with heavy loss ---

    private static void resetLtBwSamplingInterval(TcpCongestionState sk, Ca bbr) {
        bbr.ltLastStampMs = sk.deliveredMstampUs() / 1000;
        bbr.ltLastDelivered = sk.delivered();
        bbr.ltLastLost = sk.lost();
        bbr.ltRttCnt = 0;
    }

    private static void resetLtBwSampling(TcpCongestionState sk, Ca bbr) {
        bbr.ltBw = 0;
        bbr.ltUseBw = false;
        bbr.ltIsSampling = false;
        resetLtBwSamplingInterval(sk, bbr);
    }

    /** {@code bbr_lt_bw_interval_done}: two intervals at about the same rate (within 1/8 or 4 kbit/s): a policer. */
    private static void ltBwIntervalDone(TcpCongestionState sk, Ca bbr, long bw) {
        if (bbr.ltBw != 0) {
            long diff = Math.abs(bw - bbr.ltBw);
            if (diff * BBR_UNIT <= (long) LT_BW_RATIO * bbr.ltBw || rateBytesPerSec(sk.mss(), diff, BBR_UNIT) <= LT_BW_DIFF) {
                bbr.ltBw = (bw + bbr.ltBw) >>> 1;
                bbr.ltUseBw = true;
                bbr.pacingGain = BBR_UNIT;
                bbr.ltRttCnt = 0;
                return;
            }
        }
        bbr.ltBw = bw;
        resetLtBwSamplingInterval(sk, bbr);
    }

    /** {@code bbr_lt_bw_sampling}: intervals of 4 to 16 rounds that start and end with a loss, not application-limited. */
    void ltBwSampling(TcpCongestionState sk, Ca bbr, int losses, boolean appLimited) {
        if (bbr.ltUseBw) {
            if (bbr.mode == PROBE_BW && bbr.roundStart && ++bbr.ltRttCnt >= LT_BW_MAX_RTTS) {
                resetLtBwSampling(sk, bbr); // the policer may be gone: probe again
                resetProbeBwMode(sk, bbr);
            }
            return;
        }
        if (!bbr.ltIsSampling) {
            if (losses == 0) {
                return;
            }
            resetLtBwSamplingInterval(sk, bbr);
            bbr.ltIsSampling = true;
        }
        if (appLimited) {
            resetLtBwSampling(sk, bbr);
            return;
        }
        if (bbr.roundStart) {
            bbr.ltRttCnt++;
        }
        if (bbr.ltRttCnt < LT_INTVL_MIN_RTTS) {
            return;
        }
        if (bbr.ltRttCnt > 4 * LT_INTVL_MIN_RTTS) {
            resetLtBwSampling(sk, bbr);
            return;
        }
        if (losses == 0) {
            return;
        }
        int lost = sk.lost() - bbr.ltLastLost;
        int delivered = sk.delivered() - bbr.ltLastDelivered;
        if (delivered == 0 || ((long) lost << BBR_SCALE) < (long) LT_LOSS_THRESH * delivered) {
            return;
        }
        long t = sk.deliveredMstampUs() / 1000 - bbr.ltLastStampMs;
        if (t < 1) {
            return;
        }
        if (t >= 0xffffffffL / 1000) {
            resetLtBwSampling(sk, bbr);
            return;
        }
        long bw = (long) delivered * BW_UNIT / (t * 1000);
        ltBwIntervalDone(sk, bbr, bw);
    }

    /** {@code bbr_update_bw}: a new round starts when a segment sent after the last round began is delivered. */
    void updateBw(TcpCongestionState sk, Ca bbr, TcpRateSample rs) {
        bbr.roundStart = false;
        if (rs.delivered() < 0 || rs.intervalUs() <= 0) {
            return;
        }
        if (rs.priorDelivered() - bbr.nextRttDelivered >= 0) {
            bbr.nextRttDelivered = sk.delivered();
            bbr.rttCnt++;
            bbr.roundStart = true;
            bbr.packetConservation = false;
        }
        ltBwSampling(sk, bbr, rs.losses(), rs.isAppLimited());
        long bw = rs.delivered() * BW_UNIT / rs.intervalUs();
        // an application-limited sample lower than the estimate says nothing about the path
        if (!rs.isAppLimited() || bw >= maxBw(bbr)) {
            bbr.bw.update(BW_RTTS, bbr.rttCnt, bw);
        }
    }

    /** {@code bbr_update_ack_aggregation}: how many segments were ACKed beyond what the estimate would deliver. */
    private static void updateAckAggregation(TcpCongestionState sk, Ca bbr, TcpRateSample rs) {
        if (rs.ackedSacked() <= 0 || rs.delivered() < 0 || rs.intervalUs() <= 0) {
            return;
        }
        if (bbr.roundStart) {
            bbr.extraAckedWinRtts = Math.min(0x1f, bbr.extraAckedWinRtts + 1);
            if (bbr.extraAckedWinRtts >= EXTRA_ACKED_WIN_RTTS) {
                bbr.extraAckedWinRtts = 0;
                bbr.extraAckedWinIdx = bbr.extraAckedWinIdx == 0 ? 1 : 0;
                bbr.extraAcked[bbr.extraAckedWinIdx] = 0;
            }
        }
        long epochUs = sk.deliveredMstampUs() - bbr.ackEpochMstampUs;
        long expected = bw(bbr) * epochUs / BW_UNIT;
        if (bbr.ackEpochAcked <= expected || bbr.ackEpochAcked + rs.ackedSacked() >= ACK_EPOCH_ACKED_RESET_THRESH) {
            bbr.ackEpochAcked = 0;
            bbr.ackEpochMstampUs = sk.deliveredMstampUs();
            expected = 0;
        }
        bbr.ackEpochAcked = Math.min(0xfffff, bbr.ackEpochAcked + rs.ackedSacked());
        long extra = Math.min(bbr.ackEpochAcked - expected, sk.cwnd());
        if (extra > bbr.extraAcked[bbr.extraAckedWinIdx]) {
            bbr.extraAcked[bbr.extraAckedWinIdx] = (int) extra;
        }
    }

    /** {@code bbr_check_full_bw_reached}: three rounds in a row without 25% more bandwidth: the pipe is full. */
    static void checkFullBwReached(Ca bbr, TcpRateSample rs) {
        if (bbr.fullBwReached || !bbr.roundStart || rs.isAppLimited()) {
            return;
        }
        long thresh = bbr.fullBw * FULL_BW_THRESH >>> BBR_SCALE;
        if (maxBw(bbr) >= thresh) {
            bbr.fullBw = maxBw(bbr);
            bbr.fullBwCnt = 0;
            return;
        }
        bbr.fullBwCnt++;
        bbr.fullBwReached = bbr.fullBwCnt >= FULL_BW_CNT;
    }

    /** {@code bbr_check_drain}: STARTUP ends in DRAIN, which ends when in flight is down to one BDP. */
    private void checkDrain(TcpCongestionState sk, Ca bbr) {
        if (bbr.mode == STARTUP && bbr.fullBwReached) {
            bbr.mode = DRAIN;
            sk.ssthresh(inflight(sk, bbr, maxBw(bbr), BBR_UNIT)); // for tcp_end_cwnd_reduction, as Linux does
        }
        if (bbr.mode == DRAIN && sk.packetsInFlight() <= inflight(sk, bbr, maxBw(bbr), BBR_UNIT)) {
            resetProbeBwMode(sk, bbr);
        }
    }

    private void checkProbeRttDone(TcpCongestionState sk, Ca bbr) {
        if (bbr.probeRttDoneStampMs == 0 || nowMs(sk) <= bbr.probeRttDoneStampMs) {
            return;
        }
        bbr.minRttStampMs = nowMs(sk); // the minimum is fresh again, seen or not
        sk.cwnd(Math.max(sk.cwnd(), bbr.priorCwnd));
        resetMode(sk, bbr);
    }

    /**
     * {@code bbr_update_min_rtt}: a lower RTT, or any after ten seconds, is the new minimum; ten seconds
     * without one starts PROBE_RTT, which holds four segments in flight for 200 ms and a round.
     */
    void updateMinRtt(TcpCongestionState sk, Ca bbr, TcpRateSample rs) {
        long now = nowMs(sk);
        boolean expired = now > bbr.minRttStampMs + MIN_RTT_WIN_MS;
        long rtt = rs.rttUs();
        if (rtt >= 0 && (rtt < minRtt(bbr) || (expired && !rs.isAckDelayed()))) {
            bbr.minRttUs = (int) Math.min(rtt, 0xfffffffeL);
            bbr.minRttStampMs = now;
        }
        if (expired && !bbr.idleRestart && bbr.mode != PROBE_RTT) {
            bbr.mode = PROBE_RTT;
            saveCwnd(sk, bbr);
            bbr.probeRttDoneStampMs = 0;
        }
        if (bbr.mode == PROBE_RTT) {
            sk.markAppLimited(); // the low rate of this phase is not the path's
            if (bbr.probeRttDoneStampMs == 0 && sk.packetsInFlight() <= CWND_MIN_TARGET) {
                bbr.probeRttDoneStampMs = Math.max(now + PROBE_RTT_MODE_MS, 1);
                bbr.probeRttRoundDone = false;
                bbr.nextRttDelivered = sk.delivered();
            } else if (bbr.probeRttDoneStampMs != 0) {
                if (bbr.roundStart) {
                    bbr.probeRttRoundDone = true;
                }
                if (bbr.probeRttRoundDone) {
                    checkProbeRttDone(sk, bbr);
                }
            }
        }
        if (rs.delivered() > 0) {
            bbr.idleRestart = false;
        }
    }

    /** {@code bbr_update_gains}. */
    private static void updateGains(Ca bbr) {
        switch (bbr.mode) {
            case STARTUP -> {
                bbr.pacingGain = HIGH_GAIN;
                bbr.cwndGain = HIGH_GAIN;
            }
            case DRAIN -> {
                bbr.pacingGain = DRAIN_GAIN;
                bbr.cwndGain = HIGH_GAIN;
            }
            case PROBE_BW -> {
                bbr.pacingGain = bbr.ltUseBw ? BBR_UNIT : PACING_GAIN[bbr.cycleIdx];
                bbr.cwndGain = CWND_GAIN;
            }
            default -> {
                bbr.pacingGain = BBR_UNIT;
                bbr.cwndGain = BBR_UNIT;
            }
        }
    }

    /** {@code bbr_update_model}. */
    void updateModel(TcpCongestionState sk, Ca bbr, TcpRateSample rs) {
        updateBw(sk, bbr, rs);
        updateAckAggregation(sk, bbr, rs);
        updateCyclePhase(sk, bbr, rs);
        checkFullBwReached(bbr, rs);
        checkDrain(sk, bbr);
        updateMinRtt(sk, bbr, rs);
        updateGains(bbr);
    }

    /** {@code bbr_main}: the model from this ACK's sample, then pacing rate and window from the model. */
    @Override
    public boolean congControl(TcpCongestionState sk, int ack, int acked, long rttUs) {
        Ca bbr = (Ca) sk.priv();
        TcpRateSample rs = sk.rateSample();
        if (bbr == null || rs == null) {
            return false; // no sampler: let TCP's own window rules run
        }
        updateModel(sk, bbr, rs);
        long bw = bw(bbr);
        setPacingRate(sk, bbr, bw, bbr.pacingGain);
        setCwnd(sk, bbr, rs, rs.ackedSacked(), bw, bbr.cwndGain);
        return true;
    }

    /** BBR has no {@code cong_avoid}: {@link #congControl} sets the window. */
    @Override
    public void congAvoid(TcpCongestionState sk, int ack, int acked) {
    }

    /** {@code bbr_ssthresh}: the window is saved for after recovery; ssthresh itself stays. */
    @Override
    public int ssthresh(TcpCongestionState sk) {
        Ca bbr = (Ca) sk.priv();
        if (bbr != null) {
            saveCwnd(sk, bbr);
        }
        return sk.ssthresh();
    }

    /** {@code bbr_undo_cwnd}: a spurious loss restarts the full-pipe check and policer detection; the window stays. */
    @Override
    public int undoCwnd(TcpCongestionState sk) {
        Ca bbr = (Ca) sk.priv();
        if (bbr != null) {
            bbr.fullBw = 0;
            bbr.fullBwCnt = 0;
            resetLtBwSampling(sk, bbr);
        }
        return sk.cwnd();
    }

    /** {@code bbr_set_state}: a timeout is a loss for policer detection and starts a new round. */
    @Override
    public void setState(TcpCongestionState sk, int newState) {
        Ca bbr = (Ca) sk.priv();
        if (bbr != null && newState == TcpCongestion.CA_LOSS) {
            bbr.prevCaState = TcpCongestion.CA_LOSS;
            bbr.fullBw = 0;
            bbr.roundStart = true; // an RTO ends the round
            ltBwSampling(sk, bbr, 1, false);
        }
    }

    /** {@code bbr_get_info}: ss -i's {@code bbr:(bw:...,mrtt:...,pacing_gain:...,cwnd_gain:...)}. */
    @Override
    public TcpCcInfo info(TcpCongestionState sk) {
        Ca bbr = (Ca) sk.priv();
        if (bbr == null) {
            return null;
        }
        long bw = (bw(bbr) * sk.mss() * 1_000_000L) >>> BW_SCALE;
        return new TcpCcInfo(NAME, bw, minRtt(bbr), bbr.pacingGain, bbr.cwndGain);
    }
}

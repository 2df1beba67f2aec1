package org.modnet.tcp_westwood;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.modnet.api.module.ModuleUsage;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.api.tcp.TcpCongestionState;
import org.osgi.service.component.annotations.Component;

/**
 * TCP Westwood+ (Mascolo et al., "TCP Westwood: bandwidth estimation for enhanced transport over
 * wireless links", MobiCom 2001; Grieco and Mascolo's "+" variant, CCR 2004): the sender estimates the
 * bandwidth its ACKs show, once per RTT (at least every 50 ms), through a low-pass filter, and after a
 * loss sets the slow-start threshold to what that bandwidth fills over the minimum RTT, instead of
 * halving blindly as Reno does. Between losses it grows the window as Reno.
 *
 * <p>Everything but {@link #init} runs on TCP's packet path: integer arithmetic on the connection's own
 * {@link State}, no allocation.
 */
@Component(service = { TcpCongestionOps.class, ModuleUsage.class }, immediate = true, property = TcpCongestionOps.NAME + "=westwood")
public final class Westwood implements TcpCongestionOps, ModuleUsage {
    /** Connections between init and release: lsmod's "Used by", what rmmod refuses on (Linux's module refcount). */
    private final AtomicInteger connections = new AtomicInteger();

    /** The shortest sampling interval: an RTT, but never below this (the paper's 50 ms floor). */
    static final long MIN_WINDOW_US = 50_000;

    /** One connection's estimator. */
    static final class State {
        /** The filtered bandwidth estimate and the first filter's output, in bytes per second. */
        long bwEst;
        long bwNsEst;
        /** Bytes acknowledged since {@link #windowStartUs}. */
        long bk;
        long windowStartUs;
        int lastSndUna;
        /** The last RTT sample and the smallest seen, in microseconds (0: none yet). */
        long rttUs;
        long rttMinUs;
        boolean resetRttMin;
        boolean sampled;
    }

    @Override
    public String name() {
        return "westwood";
    }

    @Override
    public Object init(TcpCongestionState sk) {
        connections.incrementAndGet();
        State w = new State();
        w.windowStartUs = sk.nowUs();
        w.lastSndUna = sk.sndUna();
        return w;
    }

    /** An ACK: its RTT sample, the bytes it acknowledged, and a new bandwidth sample once per window. */
    @Override
    public void pktsAcked(TcpCongestionState sk, int pkts, long rttUs) {
        State w = (State) sk.priv();
        if (rttUs > 0) {
            w.rttUs = rttUs;
            w.rttMinUs = w.resetRttMin || w.rttMinUs == 0 ? rttUs : Math.min(w.rttMinUs, rttUs);
            w.resetRttMin = false;
        }
        int una = sk.sndUna();
        int delta = una - w.lastSndUna; // sequence space wraps: the difference does not
        if (delta > 0) {
            w.bk += delta;
            w.lastSndUna = una;
        }
        sample(w, sk.nowUs());
    }

    /** Westwood+'s per-RTT sample, then two first-order filters (7/8 of the old, 1/8 of the new). */
    static void sample(State w, long nowUs) {
        long elapsed = nowUs - w.windowStartUs;
        if (elapsed < Math.max(w.rttUs, MIN_WINDOW_US)) {
            return;
        }
        long bw = w.bk * 1_000_000L / elapsed;
        if (!w.sampled) {
            w.bwNsEst = bw;
            w.bwEst = bw;
            w.sampled = true;
        } else {
            w.bwNsEst = (7 * w.bwNsEst + bw) >> 3;
            w.bwEst = (7 * w.bwEst + w.bwNsEst) >> 3;
        }
        w.bk = 0;
        w.windowStartUs = nowUs;
    }

    /** The window the estimate fills over the minimum RTT, in segments, at least two. */
    static int bwRttMin(State w, int mss) {
        return (int) Math.max(2, Math.min(Integer.MAX_VALUE, w.bwEst * w.rttMinUs / 1_000_000L / Math.max(mss, 1)));
    }

    /** After a loss: the bandwidth-delay product, or Reno's half when nothing was measured yet. */
    @Override
    public void release(TcpCongestionState sk) {
        connections.decrementAndGet();
    }

    @Override
    public Map<String, Integer> users() {
        return Map.of(SOCKETS, connections.get());
    }

    @Override
    public int ssthresh(TcpCongestionState sk) {
        State w = (State) sk.priv();
        if (w == null || !w.sampled || w.rttMinUs == 0) {
            return TcpCongestion.renoSsthresh(sk);
        }
        return bwRttMin(w, sk.mss());
    }

    @Override
    public void congAvoid(TcpCongestionState sk, int ack, int acked) {
        TcpCongestion.renoCongAvoid(sk, acked);
    }

    @Override
    public void cwndEvent(TcpCongestionState sk, int event) {
        State w = (State) sk.priv();
        if (w == null) {
            return;
        }
        if (event == TcpCongestion.CA_EVENT_COMPLETE_CWR && w.sampled) {
            int t = bwRttMin(w, sk.mss());
            sk.ssthresh(t);
            sk.cwnd(t);
        } else if (event == TcpCongestion.CA_EVENT_LOSS) {
            w.resetRttMin = true; // queues may have emptied: measure the minimum anew
        }
    }
}

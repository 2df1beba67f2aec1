package org.modnet.tcp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One namespace's TCP counters: the {@code Tcp} MIB (RFC 4022, {@code /proc/net/snmp}) and Linux's
 * {@code TcpExt} counters ({@code /proc/net/netstat}), each list in Linux's order, as {@code nstat}
 * and {@code netstat -s} show them ({@code TcpInSegs}, {@code TcpExtListenDrops}).
 *
 * <p>Striped per CPU, as Linux's per-CPU MIBs are: each softirq CPU counts in a stripe of its own
 * (one writer, no atomic read-modify-write, no shared cache line), and threads outside any softirq
 * (applications, timers run elsewhere) count atomically in one shared stripe. A read sums the
 * stripes; a gauge such as CurrEstab may go up on one CPU and down on another, as in Linux.
 */
final class TcpMib {
    /** {@code snmp4_tcp_list}, in order. The first four are constants, set when the MIB is made. */
    enum Tcp {
        RtoAlgorithm, RtoMin, RtoMax, MaxConn, ActiveOpens, PassiveOpens, AttemptFails, EstabResets, CurrEstab,
        InSegs, OutSegs, RetransSegs, InErrs, OutRsts, InCsumErrors
    }

    /** {@code snmp4_net_list} of Linux 6.8, in order: the TcpExt line of /proc/net/netstat. */
    enum Ext {
        SyncookiesSent, SyncookiesRecv, SyncookiesFailed, EmbryonicRsts, PruneCalled, RcvPruned, OfoPruned,
        OutOfWindowIcmps, LockDroppedIcmps, ArpFilter, TW, TWRecycled, TWKilled, PAWSActive, PAWSEstab,
        DelayedACKs, DelayedACKLocked, DelayedACKLost, ListenOverflows, ListenDrops, TCPHPHits, TCPPureAcks,
        TCPHPAcks, TCPRenoRecovery, TCPSackRecovery, TCPSACKReneging, TCPSACKReorder, TCPRenoReorder,
        TCPTSReorder, TCPFullUndo, TCPPartialUndo, TCPDSACKUndo, TCPLossUndo, TCPLostRetransmit,
        TCPRenoFailures, TCPSackFailures, TCPLossFailures, TCPFastRetrans, TCPSlowStartRetrans, TCPTimeouts,
        TCPLossProbes, TCPLossProbeRecovery, TCPRenoRecoveryFail, TCPSackRecoveryFail, TCPRcvCollapsed,
        TCPBacklogCoalesce, TCPDSACKOldSent, TCPDSACKOfoSent, TCPDSACKRecv, TCPDSACKOfoRecv, TCPAbortOnData,
        TCPAbortOnClose, TCPAbortOnMemory, TCPAbortOnTimeout, TCPAbortOnLinger, TCPAbortFailed,
        TCPMemoryPressures, TCPMemoryPressuresChrono, TCPSACKDiscard, TCPDSACKIgnoredOld, TCPDSACKIgnoredNoUndo,
        TCPSpuriousRTOs, TCPMD5NotFound, TCPMD5Unexpected, TCPMD5Failure, TCPSackShifted, TCPSackMerged,
        TCPSackShiftFallback, TCPBacklogDrop, PFMemallocDrop, TCPMinTTLDrop, TCPDeferAcceptDrop,
        IPReversePathFilter, TCPTimeWaitOverflow, TCPReqQFullDoCookies, TCPReqQFullDrop, TCPRetransFail,
        TCPRcvCoalesce, TCPOFOQueue, TCPOFODrop, TCPOFOMerge, TCPChallengeACK, TCPSYNChallenge,
        TCPFastOpenActive, TCPFastOpenActiveFail, TCPFastOpenPassive, TCPFastOpenPassiveFail,
        TCPFastOpenListenOverflow, TCPFastOpenCookieReqd, TCPFastOpenBlackhole, TCPSpuriousRtxHostQueues,
        BusyPollRxPackets, TCPAutoCorking, TCPFromZeroWindowAdv, TCPToZeroWindowAdv, TCPWantZeroWindowAdv,
        TCPSynRetrans, TCPOrigDataSent, TCPHystartTrainDetect, TCPHystartTrainCwnd, TCPHystartDelayDetect,
        TCPHystartDelayCwnd, TCPACKSkippedSynRecv, TCPACKSkippedPAWS, TCPACKSkippedSeq, TCPACKSkippedFinWait2,
        TCPACKSkippedTimeWait, TCPACKSkippedChallenge, TCPWinProbe, TCPKeepAlive, TCPMTUPFail, TCPMTUPSuccess,
        TCPDelivered, TCPDeliveredCE, TCPAckCompressed, TCPZeroWindowDrop, TCPRcvQDrop, TCPWqueueTooBig,
        TCPFastOpenPassiveAltKey, TcpTimeoutRehash, TcpDuplicateDataRehash, TCPDSACKRecvSegs,
        TCPDSACKIgnoredDubious, TCPMigrateReqSuccess, TCPMigrateReqFailure, TCPPLBRehash, TCPAORequired,
        TCPAOBad, TCPAOKeyNotFound, TCPAOGood, TCPAODroppedIcmps,
        /** modnet's own: connections moved to the default algorithm because theirs was unloaded (Linux refuses the unload). */
        TCPCongestionFallback,
        /**
         * modnet's own: segments that reached this version after it began handing its connections to
         * the next one (an update of TCP or of IPv4), dropped rather than answered with a reset; the
         * peer sends them again. Linux has no such counter: it cannot replace TCP under live connections.
         */
        TCPHandOverLeavingDrop
    }

    /** RFC 2012's "other" is 1; Linux reports 1 (the RFC 6298 estimator is not in the enumeration). */
    static final long RTO_ALGORITHM = 1;
    /** {@code TCP_RTO_MIN} and {@code TCP_RTO_MAX} in milliseconds. */
    static final long RTO_MIN_MS = 200;
    static final long RTO_MAX_MS = 120_000;
    /** No fixed limit on connections: RFC 2012 says -1. */
    static final long MAX_CONN = -1;

    private static final Tcp[] TCP = Tcp.values();
    private static final Ext[] EXT = Ext.values();
    private static final int COUNTERS = TCP.length + EXT.length;
    /** A stripe is padded to whole 64-byte lines plus one, so two CPUs never write the same line. */
    private static final int STRIDE = (COUNTERS + 7) / 8 * 8 + 8;

    private final int cpus;
    private final AtomicLongArray values;

    /** Counters for {@code cpus} softirq CPUs and the threads outside them. */
    TcpMib(int cpus) {
        if (cpus < 1) {
            throw new IllegalArgumentException("a MIB needs at least one CPU, not " + cpus);
        }
        this.cpus = cpus;
        this.values = new AtomicLongArray((cpus + 1) * STRIDE);
        values.set(Tcp.RtoAlgorithm.ordinal(), RTO_ALGORITHM);
        values.set(Tcp.RtoMin.ordinal(), RTO_MIN_MS);
        values.set(Tcp.RtoMax.ordinal(), RTO_MAX_MS);
        values.set(Tcp.MaxConn.ordinal(), MAX_CONN);
    }

    /** The stripe of {@code cpu} ({@code NetCore.currentCpu()}); -1 (no softirq) is the shared stripe 0. */
    private int base(int cpu) {
        return cpu < 0 || cpu >= cpus ? 0 : (cpu + 1) * STRIDE;
    }

    private void add(int cpu, int index, long n) {
        int i = base(cpu) + index;
        if (i < STRIDE) {
            values.getAndAdd(i, n);
        } else {
            values.setOpaque(i, values.getPlain(i) + n); // the CPU's own stripe: it alone writes there
        }
    }

    /** Counts one event on {@code cpu} ({@code __TCP_INC_STATS}). */
    void inc(int cpu, Tcp c) {
        add(cpu, c.ordinal(), 1);
    }

    /** Adds {@code n} (negative to decrement a gauge) on {@code cpu}. */
    void add(int cpu, Tcp c, long n) {
        add(cpu, c.ordinal(), n);
    }

    /** Counts one event on {@code cpu} ({@code __NET_INC_STATS}). */
    void inc(int cpu, Ext c) {
        add(cpu, TCP.length + c.ordinal(), 1);
    }

    void add(int cpu, Ext c, long n) {
        add(cpu, TCP.length + c.ordinal(), n);
    }

    private long sum(int index) {
        long s = 0;
        for (int cpu = 0; cpu <= cpus; cpu++) {
            s += values.getOpaque(cpu * STRIDE + index);
        }
        return s;
    }

    long get(Tcp c) {
        return sum(c.ordinal());
    }

    long get(Ext c) {
        return sum(TCP.length + c.ordinal());
    }

    /** The Tcp MIB by nstat's names ({@code TcpInSegs}), in /proc/net/snmp order. */
    Map<String, Long> tcp() {
        Map<String, Long> all = new LinkedHashMap<>();
        for (Tcp c : TCP) {
            all.put("Tcp" + c.name(), get(c));
        }
        return all;
    }

    /** The TcpExt counters by nstat's names ({@code TcpExtListenDrops}), in /proc/net/netstat order. */
    Map<String, Long> ext() {
        Map<String, Long> all = new LinkedHashMap<>();
        for (Ext c : EXT) {
            all.put("TcpExt" + c.name(), get(c));
        }
        return all;
    }

    /** Both, Tcp first: what an {@code SnmpMib} service's {@code counters(ns)} returns for TCP. */
    Map<String, Long> snapshot() {
        Map<String, Long> all = tcp();
        all.putAll(ext());
        return all;
    }

    /**
     * The counters a previous version of this bundle left ({@link #snapshot}'s names): each continues
     * from its value, gauges (CurrEstab) included; names this version does not know are ignored.
     */
    void restore(Map<String, Long> from) {
        for (Tcp c : TCP) {
            Long v = from.get("Tcp" + c.name());
            if (v != null) {
                add(-1, c.ordinal(), v - get(c));
            }
        }
        for (Ext c : EXT) {
            Long v = from.get("TcpExt" + c.name());
            if (v != null) {
                add(-1, TCP.length + c.ordinal(), v - get(c));
            }
        }
    }
}

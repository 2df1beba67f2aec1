package org.modnet.ipv4;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One namespace's IP MIB (RFC 4293, as {@code netstat -s} and {@code nstat} show it): a counter on
 * every path a packet can end on. Several softirq threads count at once, so the counters are atomic.
 */
final class Ipv4Mib {
    /**
     * Linux's IP counters in {@code /proc/net/snmp}'s order ({@code Ip:}), then the extended ones in
     * {@code /proc/net/netstat}'s ({@code IpExt:}); {@link #ext} says which. The octets, ECN and
     * broadcast counters count as Linux's {@code ip_rcv_core}, {@code ip_rcv_finish_core} and
     * {@code ip_finish_output2} do; modnet has no multicast, so the Mcast ones stay 0.
     */
    enum Counter {
        InReceives, InHdrErrors, InAddrErrors, ForwDatagrams, InUnknownProtos, InDiscards, InDelivers, OutRequests,
        OutDiscards, OutNoRoutes, ReasmTimeout, ReasmReqds, ReasmOKs, ReasmFails, FragOKs, FragFails, FragCreates,
        OutTransmits,
        InNoRoutes(true), InTruncatedPkts(true), InMcastPkts(true), OutMcastPkts(true), InBcastPkts(true), OutBcastPkts(true),
        InOctets(true), OutOctets(true), InMcastOctets(true), OutMcastOctets(true), InBcastOctets(true), OutBcastOctets(true),
        InCsumErrors(true), InNoECTPkts(true), InECT1Pkts(true), InECT0Pkts(true), InCEPkts(true), ReasmOverlaps(true),
        /** {@code LINUX_MIB_IPRPFILTER}: nstat shows it with TCP's extended counters, where Linux keeps it. */
        IPReversePathFilter(true);

        /** An {@code IpExt} counter ({@code /proc/net/netstat}), not an {@code Ip} one. */
        final boolean ext;

        Counter() {
            this(false);
        }

        Counter(boolean ext) {
            this.ext = ext;
        }

        /** The name nstat shows: {@code IpInReceives}, {@code IpExtInOctets}. */
        String mibName() {
            if (this == IPReversePathFilter) {
                return "TcpExt" + name();
            }
            return (ext ? "IpExt" : "Ip") + name();
        }
    }

    /** ECN's codepoint in the TOS byte's low bits indexes these, as {@code IPSTATS_MIB_NOECTPKTS + (tos & 3)}. */
    static final Counter[] ECN = { Counter.InNoECTPkts, Counter.InECT1Pkts, Counter.InECT0Pkts, Counter.InCEPkts };

    private final AtomicLongArray counters = new AtomicLongArray(Counter.values().length);

    void inc(Counter c) {
        counters.incrementAndGet(c.ordinal());
    }

    void add(Counter c, long n) {
        counters.addAndGet(c.ordinal(), n);
    }

    long get(Counter c) {
        return counters.get(c.ordinal());
    }

    /** A hand-over: the counters continue from the old version's (names as {@link #snapshot} gives them). */
    void restore(Map<String, Long> from) {
        for (Counter c : Counter.values()) {
            Long v = from.get(c.mibName());
            if (v == null && c.ext) {
                v = from.get("Ip" + c.name()); // a version before the IpExt names
            }
            if (v != null) {
                counters.addAndGet(c.ordinal(), v);
            }
        }
    }

    /** Every counter by its MIB name, in MIB order, as {@code nstat -az} lists them ({@code Ip}, then {@code IpExt}). */
    Map<String, Long> snapshot() {
        Map<String, Long> all = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            all.put(c.mibName(), get(c));
        }
        return all;
    }
}

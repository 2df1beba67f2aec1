package org.modnet.ipv4;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One namespace's IP MIB (RFC 4293, as {@code netstat -s} and {@code nstat} show it): a counter on
 * every path a packet can end on. Several softirq threads count at once, so the counters are atomic.
 */
final class Ipv4Mib {
    enum Counter {
        InReceives, InHdrErrors, InTooBigErrors, InNoRoutes, InAddrErrors, InUnknownProtos, InTruncatedPkts,
        InDiscards, InDelivers, OutRequests, OutDiscards, OutNoRoutes, ForwDatagrams, ReasmTimeout, ReasmReqds,
        ReasmOKs, ReasmFails, FragOKs, FragFails, FragCreates, InCsumErrors
    }

    private final AtomicLongArray counters = new AtomicLongArray(Counter.values().length);

    void inc(Counter c) {
        counters.incrementAndGet(c.ordinal());
    }

    long get(Counter c) {
        return counters.get(c.ordinal());
    }

    /** A hand-over: the counters continue from the old version's (names as {@link #snapshot} gives them). */
    void restore(Map<String, Long> from) {
        for (Counter c : Counter.values()) {
            Long v = from.get("Ip" + c.name());
            if (v != null) {
                counters.addAndGet(c.ordinal(), v);
            }
        }
    }

    /** Every counter by its MIB name, in MIB order, as {@code nstat -az} lists them with the {@code Ip} prefix. */
    Map<String, Long> snapshot() {
        Map<String, Long> all = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            all.put("Ip" + c.name(), get(c));
        }
        return all;
    }
}

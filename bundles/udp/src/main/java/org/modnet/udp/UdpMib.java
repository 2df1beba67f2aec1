package org.modnet.udp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** One namespace's UDP MIB (RFC 4113 and Linux's additions), as {@code nstat} and {@code netstat -s} show it. */
final class UdpMib {
    enum Counter {
        InDatagrams, NoPorts, InErrors, OutDatagrams, RcvbufErrors, SndbufErrors, InCsumErrors, IgnoredMulti, MemErrors
    }

    private final AtomicLongArray counters = new AtomicLongArray(Counter.values().length);

    void inc(Counter c) {
        counters.incrementAndGet(c.ordinal());
    }

    long get(Counter c) {
        return counters.get(c.ordinal());
    }

    Map<String, Long> snapshot() {
        Map<String, Long> all = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            all.put("Udp" + c.name(), get(c));
        }
        return all;
    }

    /** A handed-over MIB: the counters continue from the previous version's (names it does not know are ignored). */
    void restore(Map<String, Long> from) {
        for (Counter c : Counter.values()) {
            Long v = from.get("Udp" + c.name());
            if (v != null) {
                counters.addAndGet(c.ordinal(), v);
            }
        }
    }
}

package org.modnet.ipv4;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** The ICMP MIB ({@code Icmp*}) and the per-type message counts ({@code IcmpMsgInType8}, ...), as nstat shows them. */
final class IcmpMib {
    enum Counter {
        InMsgs, InErrors, InCsumErrors, InDestUnreachs, InTimeExcds, InParmProbs, InEchos, InEchoReps, OutMsgs, OutErrors,
        /** Errors {@code icmp_ratelimit} held back (Linux 6.0+, in /proc/net/snmp after OutErrors). */
        OutRateLimitHost, OutDestUnreachs, OutTimeExcds, OutParmProbs, OutEchos, OutEchoReps
    }

    private final AtomicLongArray counters = new AtomicLongArray(Counter.values().length);
    private final AtomicLongArray inTypes = new AtomicLongArray(256);
    private final AtomicLongArray outTypes = new AtomicLongArray(256);

    void inc(Counter c) {
        counters.incrementAndGet(c.ordinal());
    }

    long get(Counter c) {
        return counters.get(c.ordinal());
    }

    void in(int type) {
        inTypes.incrementAndGet(type & 0xff);
    }

    void out(int type) {
        outTypes.incrementAndGet(type & 0xff);
    }

    Map<String, Long> snapshot() {
        Map<String, Long> all = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            all.put("Icmp" + c.name(), get(c));
        }
        for (int t = 0; t < 256; t++) {
            if (inTypes.get(t) != 0) {
                all.put("IcmpMsgInType" + t, inTypes.get(t));
            }
        }
        for (int t = 0; t < 256; t++) {
            if (outTypes.get(t) != 0) {
                all.put("IcmpMsgOutType" + t, outTypes.get(t));
            }
        }
        return all;
    }
}

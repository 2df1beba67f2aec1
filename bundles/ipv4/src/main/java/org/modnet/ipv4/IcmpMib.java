package org.modnet.ipv4;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The ICMP MIB ({@code Icmp*}, in {@code /proc/net/snmp}'s order: Linux 6.x puts
 * {@code OutRateLimitGlobal OutRateLimitHost} right after {@code OutErrors}) and the per-type message
 * counts ({@code IcmpMsgInType8}, ...), as nstat shows them.
 */
final class IcmpMib {
    enum Counter {
        InMsgs, InErrors, InCsumErrors, InDestUnreachs, InTimeExcds, InParmProbs, InRedirects, InEchos, InEchoReps, OutMsgs,
        OutErrors, OutRateLimitGlobal, OutRateLimitHost,
        OutDestUnreachs, OutTimeExcds, OutParmProbs, OutRedirects, OutEchos, OutEchoReps
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

    /** A hand-over: the counters continue from the old version's (names as {@link #snapshot} gives them). */
    void restore(Map<String, Long> from) {
        for (Counter c : Counter.values()) {
            Long v = from.get("Icmp" + c.name());
            if (v != null) {
                counters.addAndGet(c.ordinal(), v);
            }
        }
        for (int t = 0; t < 256; t++) {
            Long in = from.get("IcmpMsgInType" + t);
            if (in != null) {
                inTypes.addAndGet(t, in);
            }
            Long out = from.get("IcmpMsgOutType" + t);
            if (out != null) {
                outTypes.addAndGet(t, out);
            }
        }
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

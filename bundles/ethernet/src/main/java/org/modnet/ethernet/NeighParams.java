package org.modnet.ethernet;

import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.Sysctl;

/** {@code net.ipv4.neigh.default.*}: the neighbour table's timers and bounds, per namespace, Linux's defaults. */
final class NeighParams {
    static final String PREFIX = "net.ipv4.neigh.default";

    final IntSysctl baseReachableTimeMs;
    final IntSysctl retransTimeMs;
    final IntSysctl delayFirstProbeTime;
    final IntSysctl gcStaleTime;
    final IntSysctl mcastSolicit;
    final IntSysctl ucastSolicit;
    final IntSysctl unresQlen;
    final IntSysctl gcThresh3;

    NeighParams(Sysctl s) {
        baseReachableTimeMs = s.registerInt(PREFIX + ".base_reachable_time_ms", 30000, 1, Integer.MAX_VALUE);
        retransTimeMs = s.registerInt(PREFIX + ".retrans_time_ms", 1000, 1, Integer.MAX_VALUE);
        delayFirstProbeTime = s.registerInt(PREFIX + ".delay_first_probe_time", 5, 0, Integer.MAX_VALUE);
        gcStaleTime = s.registerInt(PREFIX + ".gc_stale_time", 60, 0, Integer.MAX_VALUE);
        mcastSolicit = s.registerInt(PREFIX + ".mcast_solicit", 3, 0, 255);
        ucastSolicit = s.registerInt(PREFIX + ".ucast_solicit", 3, 0, 255);
        unresQlen = s.registerInt(PREFIX + ".unres_qlen", 101, 0, Integer.MAX_VALUE);
        gcThresh3 = s.registerInt("net.ipv4.neigh.default.gc_thresh3", 1024, 1, Integer.MAX_VALUE);
    }
}

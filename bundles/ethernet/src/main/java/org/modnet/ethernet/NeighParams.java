package org.modnet.ethernet;

import java.util.concurrent.ThreadLocalRandom;

import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.Sysctl;

/**
 * {@code struct neigh_parms}: the timers and bounds of ARP entries, as {@code /proc/sys/net/ipv4/neigh/}
 * shows them in Linux's names, units and defaults. The namespace's {@code default} set also holds the
 * table's garbage-collection knobs ({@code gc_interval}, {@code gc_thresh1..3}); each device gets its own
 * set ({@code net.ipv4.neigh.eth0.*}) that reads as the default until written, as
 * {@code neigh_copy_dflt_parms} keeps it.
 */
final class NeighParams {
    static final String PREFIX = "net.ipv4.neigh.";
    static final String DEFAULT = "default";

    final String name;
    final IntSysctl baseReachableTimeMs;
    final IntSysctl retransTimeMs;
    /** Seconds. */
    final IntSysctl delayFirstProbeTime;
    /** Seconds. */
    final IntSysctl gcStaleTime;
    final IntSysctl mcastSolicit;
    final IntSysctl ucastSolicit;
    final IntSysctl unresQlen;
    /** USER_HZ (centiseconds), as Linux shows {@code locktime}: 100 is one second. */
    final IntSysctl locktime;

    /** {@code parms->reachable_time}: base_reachable_time randomised, redrawn every 300 s by periodic work. */
    private volatile long reachableTime;
    private volatile int reachableBase;

    /** The namespace's {@code default} set. */
    NeighParams(Sysctl s) {
        name = DEFAULT;
        String p = PREFIX + DEFAULT + ".";
        baseReachableTimeMs = s.registerInt(p + "base_reachable_time_ms", 30000, 1, Integer.MAX_VALUE);
        retransTimeMs = s.registerInt(p + "retrans_time_ms", 1000, 1, Integer.MAX_VALUE);
        delayFirstProbeTime = s.registerInt(p + "delay_first_probe_time", 5, 0, Integer.MAX_VALUE);
        gcStaleTime = s.registerInt(p + "gc_stale_time", 60, 0, Integer.MAX_VALUE);
        mcastSolicit = s.registerInt(p + "mcast_solicit", 3, 0, 255);
        ucastSolicit = s.registerInt(p + "ucast_solicit", 3, 0, 255);
        unresQlen = s.registerInt(p + "unres_qlen", 101, 0, Integer.MAX_VALUE);
        locktime = s.registerInt(p + "locktime", 100, 0, Integer.MAX_VALUE);
        storedInJiffies(s, p);
        randomizeReachableTime();
    }

    /** A device's set, following {@code dflt} until an entry is written; {@code dev} is the device's name. */
    NeighParams(Sysctl s, String dev, NeighParams dflt) {
        name = dev;
        String p = PREFIX + dev + ".";
        baseReachableTimeMs = s.registerInt(p + "base_reachable_time_ms", dflt.baseReachableTimeMs, 1, Integer.MAX_VALUE);
        retransTimeMs = s.registerInt(p + "retrans_time_ms", dflt.retransTimeMs, 1, Integer.MAX_VALUE);
        delayFirstProbeTime = s.registerInt(p + "delay_first_probe_time", dflt.delayFirstProbeTime, 0, Integer.MAX_VALUE);
        gcStaleTime = s.registerInt(p + "gc_stale_time", dflt.gcStaleTime, 0, Integer.MAX_VALUE);
        mcastSolicit = s.registerInt(p + "mcast_solicit", dflt.mcastSolicit, 0, 255);
        ucastSolicit = s.registerInt(p + "ucast_solicit", dflt.ucastSolicit, 0, 255);
        unresQlen = s.registerInt(p + "unres_qlen", dflt.unresQlen, 0, Integer.MAX_VALUE);
        locktime = s.registerInt(p + "locktime", dflt.locktime, 0, Integer.MAX_VALUE);
        storedInJiffies(s, p);
        randomizeReachableTime();
    }

    /** The entries Linux's neighbour table keeps in jiffies (its {@code NEIGH_SYSCTL_*_JIFFIES_ENTRY}s among modnet's). */
    private static void storedInJiffies(Sysctl s, String p) {
        s.stored(p + "base_reachable_time_ms", Sysctl.Stored.MS_JIFFIES);
        s.stored(p + "retrans_time_ms", Sysctl.Stored.MS_JIFFIES);
        s.stored(p + "locktime", Sysctl.Stored.USER_HZ_JIFFIES);
    }

    /** {@code neigh_rand_reach_time}: base_reachable_time scaled by a random factor in [0.5, 1.5). */
    void randomizeReachableTime() {
        int base = baseReachableTimeMs.get();
        reachableBase = base;
        reachableTime = base / 2 + ThreadLocalRandom.current().nextLong(Math.max(1, base));
    }

    /** The current reachable time in milliseconds; a written base_reachable_time takes effect at once, as in Linux. */
    long reachableTime() {
        if (reachableBase != baseReachableTimeMs.get()) {
            randomizeReachableTime();
        }
        return reachableTime;
    }

    long locktimeMs() {
        return locktime.get() * 10L;
    }

    long gcStaleTimeMs() {
        return gcStaleTime.get() * 1000L;
    }

    /** The table's own knobs, in {@code default} only ({@code struct neigh_table}). */
    static final class Table {
        /** Seconds; kept because Linux shows it, unused as in Linux since periodic work replaced the GC timer. */
        final IntSysctl gcInterval;
        final IntSysctl gcThresh1;
        final IntSysctl gcThresh2;
        final IntSysctl gcThresh3;

        Table(Sysctl s) {
            String p = PREFIX + DEFAULT + ".";
            gcInterval = s.registerInt(p + "gc_interval", 30, 0, Integer.MAX_VALUE);
            gcThresh1 = s.registerInt(p + "gc_thresh1", 128, 0, Integer.MAX_VALUE);
            gcThresh2 = s.registerInt(p + "gc_thresh2", 512, 0, Integer.MAX_VALUE);
            gcThresh3 = s.registerInt(p + "gc_thresh3", 1024, 0, Integer.MAX_VALUE);
        }
    }
}

package org.modnet.api.inet;

/** A neighbour entry's state, {@code NUD_*} of {@code include/uapi/linux/neighbour.h}. */
public enum NudState {
    /** Resolution under way: requests sent, packets queued. */
    INCOMPLETE,
    /** Confirmed recently. */
    REACHABLE,
    /** Not confirmed for a while; still used, verified on next use. */
    STALE,
    /** Used while stale: waiting a moment for an upper-layer confirmation before probing. */
    DELAY,
    /** Probing by unicast. */
    PROBE,
    /** Resolution failed. */
    FAILED,
    /** No resolution needed (lo, NOARP devices). */
    NOARP,
    /** Configured by hand: never changes, never expires. */
    PERMANENT
}

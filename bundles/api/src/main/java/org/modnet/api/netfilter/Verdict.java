package org.modnet.api.netfilter;

/** What a hook function decides ({@code NF_*}). */
public enum Verdict {
    /** Go on along the path. */
    ACCEPT,
    /** Drop it: the caller frees the packet; the hook counts it in its own rule counters. */
    DROP,
    /** The hook took the packet (queued it, consumed it): the path ends here without a free. */
    STOLEN
}

package org.modnet.api.netfilter;

/** What a hook function decides ({@code NF_*}). */
public enum Verdict {
    /** Go on along the path. */
    ACCEPT,
    /** Drop it: the caller frees the packet; the hook counts it in its own rule counters. */
    DROP,
    /** The hook took the packet (queued it, consumed it): the path ends here without a free. */
    STOLEN,
    /**
     * {@code NF_REPEAT}, a verdict user space gives a queued packet ({@link NfQueue.Listener#verdict}): the
     * hook function that queued it runs again, then the ones after it. Hook functions themselves return
     * ACCEPT, DROP or STOLEN (Linux's hook core takes no other). @since 1.6
     */
    REPEAT,
    /**
     * {@code NF_STOP}, a verdict user space gives a queued packet: accepted, and the hook's functions after
     * the one that queued it are skipped (the path goes on from the hook at once). @since 1.6
     */
    STOP
}

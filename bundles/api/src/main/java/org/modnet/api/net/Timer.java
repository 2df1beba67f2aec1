package org.modnet.api.net;

/**
 * A kernel timer ({@code struct timer_list}): armed with {@link #mod}, it calls its function once on
 * its softirq thread when the time is up. Times are milliseconds ("jiffies" at HZ=1000) of the core's
 * clock, which tests may drive by hand.
 */
public interface Timer {
    /** {@code mod_timer}: (re)arms the timer to fire {@code delayMillis} from now. */
    void mod(long delayMillis);

    /** {@code del_timer}: disarms it; true if it was pending. */
    boolean del();

    /** {@code timer_pending}. */
    boolean pending();
}

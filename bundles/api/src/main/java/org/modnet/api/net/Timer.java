package org.modnet.api.net;

/**
 * A kernel timer ({@code struct timer_list}): armed with {@link #mod}, it calls its function once on
 * its softirq thread when the time is up. Delays are given in milliseconds of the core's clock (which
 * tests may drive by hand); a {@link NetCore#timer} rounds them up to whole {@link Jiffies}
 * ({@code mod_timer(t, jiffies + msecs_to_jiffies(ms))}) and fires at a tick of its timer wheel, never
 * early; a {@link NetCore#hrtimer} keeps the milliseconds.
 */
public interface Timer {
    /** {@code mod_timer}: (re)arms the timer to fire {@code delayMillis} from now (for a jiffy timer, the jiffy that many milliseconds after this one). */
    void mod(long delayMillis);

    /** {@code del_timer}: disarms it; true if it was pending. */
    boolean del();

    /** {@code timer_pending}. */
    boolean pending();
}

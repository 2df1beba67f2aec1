package org.modnet.api.net;

/**
 * The kernel's tick, the jiffy: {@code 1/HZ} of a second. Linux's timer wheel counts in jiffies, and the
 * delays a protocol arms its timers with ({@code mod_timer}) are whole jiffies, so a kernel built with
 * {@code CONFIG_HZ=250} (Debian's and Ubuntu's) rounds a 25 ms RACK reordering timeout up to 7 jiffies
 * (28 ms) where one with {@code CONFIG_HZ=1000} keeps 25. modnet's jiffy is the launcher's property
 * {@value #PROPERTY} (read once, at start, from the system properties): one of Linux's choices 100, 250,
 * 300 or 1000, {@value #DEFAULT_HZ} by default as Debian builds its kernels.
 *
 * <p>The conversions are Linux's ({@code include/linux/jiffies.h}, {@code kernel/time/time.c}): from
 * milliseconds or microseconds they round up, so a timer never fires early; back to microseconds they
 * round down.
 */
public final class Jiffies {
    /** The launcher's (system) property that sets {@link #HZ}. */
    public static final String PROPERTY = "modnet.hz";

    /** {@code CONFIG_HZ} when {@value #PROPERTY} is not set: Debian's. */
    public static final int DEFAULT_HZ = 250;

    /**
     * {@code HZ}: jiffies a second, from {@value #PROPERTY}; {@link #DEFAULT_HZ} for a value that is no
     * CONFIG_HZ, which the core refuses at its start with {@link #hz}'s message (and {@code bin/modnet}
     * before the JVM starts).
     */
    public static final int HZ = hzOrDefault(System.getProperty(PROPERTY));

    private static final long NSEC_PER_SEC = 1_000_000_000L;

    private Jiffies() {
    }

    /**
     * The HZ a value of {@value #PROPERTY} asks for: {@link #DEFAULT_HZ} for none, else one of 100, 250,
     * 300 and 1000 ({@code kernel/Kconfig.hz}'s choices).
     *
     * @throws IllegalArgumentException for anything else, naming the property and the choices
     */
    public static int hz(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_HZ;
        }
        int hz;
        try {
            hz = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            hz = -1;
        }
        if (hz != 100 && hz != 250 && hz != 300 && hz != 1000) {
            throw new IllegalArgumentException(PROPERTY + "=" + value
                    + ": not a CONFIG_HZ of Linux's; choose 100, 250, 300 or 1000 (default " + DEFAULT_HZ + ")");
        }
        return hz;
    }

    private static int hzOrDefault(String value) {
        try {
            return hz(value);
        } catch (IllegalArgumentException e) {
            return DEFAULT_HZ;
        }
    }

    /** {@code msecs_to_jiffies} at {@link #HZ}: rounded up. */
    public static long fromMsecs(long ms) {
        return fromMsecs(ms, HZ);
    }

    /** {@code msecs_to_jiffies} at {@code hz}: rounded up; 0 or less is 0. */
    public static long fromMsecs(long ms, int hz) {
        return ms <= 0 ? 0 : ceilDiv(ms, hz, 1000);
    }

    /** {@code usecs_to_jiffies} at {@link #HZ}: rounded up. */
    public static long fromUsecs(long us) {
        return us <= 0 ? 0 : ceilDiv(us, HZ, 1_000_000);
    }

    /** {@code jiffies_to_msecs} at {@link #HZ}: rounded up (exact but at HZ=300). */
    public static long toMsecs(long j) {
        return ceilDiv(j, 1000, HZ);
    }

    /** {@code USER_HZ}: the hundredths of a second some sysctls count in ({@code clock_t}). @since 1.18 */
    public static final int USER_HZ = 100;

    /** {@code clock_t_to_jiffies} at {@code hz}: hundredths of a second to jiffies, rounded down. @since 1.18 */
    public static long fromUserHz(long cs, int hz) {
        return cs <= 0 ? 0 : cs * hz / USER_HZ;
    }

    /** {@code jiffies_to_clock_t} at {@code hz}: jiffies to hundredths of a second, in whole ticks of {@code TICK_NSEC}, rounded down. @since 1.18 */
    public static long toUserHz(long j, int hz) {
        long tickNsec = (NSEC_PER_SEC + hz / 2) / hz;
        return j <= 0 ? 0 : j * tickNsec / (NSEC_PER_SEC / USER_HZ);
    }

    /** {@code jiffies_to_msecs} at {@code hz}: rounded up (exact but at HZ=300). @since 1.18 */
    public static long toMsecs(long j, int hz) {
        return ceilDiv(j, 1000, hz);
    }

    /** {@code jiffies_to_usecs} at {@link #HZ}: rounded down. */
    public static long toUsecs(long j) {
        return j * 1_000_000L / HZ;
    }

    /**
     * The millisecond delay that {@link Timer#mod} turns back into exactly {@code j} jiffies (at HZ=300 a
     * jiffy is 3 1/3 ms, and {@link #toMsecs} rounds up): how a value Linux keeps in jiffies arms a timer.
     */
    public static long delayMsecs(long j) {
        return delayMsecs(j, HZ);
    }

    /** {@link #delayMsecs(long)} at {@code hz}. */
    public static long delayMsecs(long j, int hz) {
        return j <= 0 ? 0 : j * 1000 / hz;
    }

    /** The jiffies counter at {@code nanos} of a nanosecond clock at {@code hz} ({@code jiffies}), rounded down. */
    public static long at(long nanos, int hz) {
        return Math.floorDiv(nanos, NSEC_PER_SEC) * hz + Math.floorMod(nanos, NSEC_PER_SEC) * hz / NSEC_PER_SEC;
    }

    /** The first nanosecond of jiffy {@code j} at {@code hz}: the inverse of {@link #at}. */
    public static long nanos(long j, int hz) {
        long s = Math.floorDiv(j, hz);
        long rest = Math.floorMod(j, hz);
        return s * NSEC_PER_SEC + (rest * NSEC_PER_SEC + hz - 1) / hz;
    }

    /** {@code x * num / den} rounded up, for x, num, den above zero, without overflowing for x below 2^63 / num. */
    private static long ceilDiv(long x, long num, long den) {
        return Math.floorDiv(x, den) * num + (Math.floorMod(x, den) * num + den - 1) / den;
    }
}

package org.modnet.tcp_bbr;

/**
 * A windowed running maximum in constant space ({@code lib/win_minmax.c}, after Kathleen Nichols'
 * algorithm): the best, second best and third best samples of the window, each newer than the one
 * before, so the maximum over the last {@code win} time units is always {@link #get()} and the next
 * best takes over when it ages out. BBR's bandwidth filter counts time in round trips.
 */
final class WinMaxFilter {
    private final long[] t = new long[3];
    private final long[] v = new long[3];

    long get() {
        return v[0];
    }

    /** Forgets everything: {@code meas} at {@code time} is the best, second and third. */
    long reset(long time, long meas) {
        t[0] = t[1] = t[2] = time;
        v[0] = v[1] = v[2] = meas;
        return meas;
    }

    /** {@code minmax_running_max}: takes the sample {@code meas} at {@code time}; returns the window's maximum. */
    long update(long win, long time, long meas) {
        if (meas >= v[0] || time - t[2] > win) {
            return reset(time, meas); // a new maximum, or nothing in the window is left
        }
        if (meas >= v[1]) {
            set(2, time, meas);
            set(1, time, meas);
        } else if (meas >= v[2]) {
            set(2, time, meas);
        }
        return subwinUpdate(win, time, meas);
    }

    /** The best ages out after {@code win}; the second and third are refreshed after a quarter and a half of it. */
    private long subwinUpdate(long win, long time, long meas) {
        long dt = time - t[0];
        if (dt > win) {
            shift(time, meas);
            if (time - t[0] > win) {
                shift(time, meas);
            }
        } else if (t[1] == t[0] && dt > win / 4) {
            set(2, time, meas);
            set(1, time, meas);
        } else if (t[2] == t[1] && dt > win / 2) {
            set(2, time, meas);
        }
        return v[0];
    }

    private void shift(long time, long meas) {
        set(0, t[1], v[1]);
        set(1, t[2], v[2]);
        set(2, time, meas);
    }

    private void set(int i, long time, long meas) {
        t[i] = time;
        v[i] = meas;
    }
}

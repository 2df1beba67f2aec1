package org.modnet.socket.api;

import java.util.Arrays;

/** The installed {@link SleepListener}s, copied on write: a hook reads one volatile array (empty when none). */
final class SleepListeners {
    static volatile SleepListener[] listeners = new SleepListener[0];

    private SleepListeners() {
    }

    static synchronized void add(SleepListener l) {
        SleepListener[] ls = Arrays.copyOf(listeners, listeners.length + 1);
        ls[ls.length - 1] = l;
        listeners = ls;
    }

    static synchronized void remove(SleepListener l) {
        listeners = Arrays.stream(listeners).filter(x -> x != l).toArray(SleepListener[]::new);
    }
}

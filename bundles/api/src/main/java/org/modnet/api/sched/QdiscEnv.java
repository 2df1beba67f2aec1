package org.modnet.api.sched;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.Timer;

/** What a qdisc gets from the traffic-control layer: its device, the clock and its watchdog. */
public interface QdiscEnv {
    NetDevice device();

    /** The core's clock in nanoseconds (virtual in tests). */
    long nanoTime();

    /** A timer on the device's softirq (the {@code qdisc_watchdog}); its function should call {@link #schedule()}. */
    Timer timer(Runnable function);

    /** {@code __netif_schedule}: runs the device's qdisc again (the TX softirq's {@code qdisc_run}). */
    void schedule();
}

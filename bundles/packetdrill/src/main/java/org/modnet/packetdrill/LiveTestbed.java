package org.modnet.packetdrill;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetException;
import org.modnet.socket.api.Sockets;

/**
 * A testbed in the running stack: a scratch namespace ({@code packetdrill-N}, as packetdrill's
 * {@code in_netns.sh} makes one per run) with its own tun0, deleted afterwards. The core's softirq
 * threads run on wall time and there is no per-namespace virtual clock, so the script runs in real
 * time, as packetdrill does on Linux, and the command widens the default tolerance
 * ({@link Interpreter#LIVE_TOLERANCE_USECS}) unless the script or the command line gives one.
 */
final class LiveTestbed extends Testbed {
    private static final AtomicInteger RUNS = new AtomicInteger();

    private final NetCore core;

    private LiveTestbed(NetCore core, Sockets sockets, RouteTable routes, String name) throws NetException {
        super(core.addNamespace(name), sockets, routes);
        this.core = core;
    }

    static LiveTestbed create(NetCore core, Sockets sockets, RouteTable routes) throws NetException {
        return new LiveTestbed(core, sockets, routes, "packetdrill-" + RUNS.incrementAndGet());
    }

    @Override
    long nanoTime() {
        return core.nanoTime();
    }

    @Override
    void advanceTo(long nanos) {
        long left;
        while ((left = nanos - core.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    @Override
    void settle() {
        LockSupport.parkNanos(500_000); // the softirq threads take what was injected
    }

    @Override
    boolean virtual() {
        return false;
    }

    @Override
    public void close() {
        super.close();
        try {
            core.deleteNamespace(ns.name());
        } catch (NetException e) {
            // already gone: nothing to clean
        }
    }
}

package org.modnet.packetdrill;

import java.net.InetAddress;
import java.net.UnknownHostException;

import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;

/**
 * Where a script runs: a namespace of modnet with {@code tun0} (a {@link TestDevice}) holding the
 * local address, a route to the remote end through it, a process for the script's system calls, and
 * a clock. {@link #advanceTo} moves time on: a virtual clock steps and runs the softirqs and timers
 * that fall due ({@code so_testing}'s {@code usleep} hook in packetdrill); the live stack in Felix
 * runs on wall time, as packetdrill runs on Linux, and sleeps.
 */
public abstract class Testbed implements AutoCloseable {
    protected final NetNamespace ns;
    protected final Sockets sockets;
    protected final RouteTable routes;
    protected final TestDevice tun = new TestDevice();
    private SocketCalls process;

    protected Testbed(NetNamespace ns, Sockets sockets, RouteTable routes) {
        this.ns = ns;
        this.sockets = sockets;
        this.routes = routes;
    }

    /** Creates tun0 with {@code config}'s local address and a route to the remote end through it. */
    void setUp(Config config) throws NetException {
        tun.register(ns, "tun0", config.mtu());
        try {
            int local = (int) Ipv4Addresses.parse(config.localIp());
            tun.device().addAddress(new IfAddress(InetAddress.getByName(config.localIp()), config.prefixLength(),
                    null, "global", "tun0"));
            int remote = (int) Ipv4Addresses.parse(config.remoteIp());
            int len = config.remotePrefixLength();
            int prefix = remote & Ipv4Addresses.mask(len);
            if ((local & Ipv4Addresses.mask(config.prefixLength())) != (remote & Ipv4Addresses.mask(config.prefixLength()))) {
                routes.add(ns, new RouteEntry("unicast", prefix, len, 0, tun.device(), 0, 0, "boot", "link"), true);
            }
        } catch (UnknownHostException e) {
            throw new NetException(org.modnet.api.net.Errno.EINVAL, "bad address: " + e.getMessage());
        }
        settle();
        process = sockets.process("packetdrill", ns.isInitNet() ? "" : ns.name());
    }

    NetNamespace namespace() {
        return ns;
    }

    TestDevice device() {
        return tun;
    }

    SocketCalls process() {
        return process;
    }

    /** The clock in nanoseconds. */
    abstract long nanoTime();

    /** Moves time on to {@code nanos} (virtual: in steps, running what falls due; live: sleeps). */
    abstract void advanceTo(long nanos);

    /** Runs what is pending now (virtual: the softirqs and due timers; live: nothing to do). */
    abstract void settle();

    /** True when time is virtual: exact, so the default tolerance of packetdrill applies. */
    abstract boolean virtual();

    @Override
    public void close() {
        if (process != null) {
            process.close();
        }
        settle();
    }
}

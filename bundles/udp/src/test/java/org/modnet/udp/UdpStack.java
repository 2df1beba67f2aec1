package org.modnet.udp;

import java.util.Map;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetNamespace;
import org.modnet.core.StandaloneCore;
import org.modnet.drivers.loopback.Loopback;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;
import org.modnet.socket.SocketLayer;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.SocketProtocol;

/**
 * The stack without OSGi, wired as Declarative Services would wire it: core (softirqs polled by the
 * test), lo, ARP, IPv4, UDP and the socket layer. {@link #run()} processes whatever was sent.
 */
final class UdpStack implements AutoCloseable {
    final StandaloneCore stack = StandaloneCore.manual(1, 4096, System::nanoTime);
    final Ipv4Protocol ipv4;
    UdpProtocol udp;
    final SocketLayer sockets;
    /** Whether the UDP "bundle" is being updated: what UdpProtocol.handingOver asks OSGi for. */
    volatile boolean updating;
    final NetNamespace ns;

    UdpStack() {
        ArpProtocol arp = new ArpProtocol(stack.core());
        ipv4 = new Ipv4Protocol(stack.core(), arp);
        sockets = new SocketLayer(stack.core());
        udp = new UdpProtocol(ipv4, sockets, () -> updating, UdpProtocol.STATE_VERSION);
        stack.addPernet(new Loopback(), 0);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addPernet(udp, 20);
        stack.addPernet(sockets, 30);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        ipv4.addProtocol(udp, Map.of(InetProtocol.PROTOCOL, 17));
        ipv4.addOffload(udp, Map.of(InetProtocol.PROTOCOL, 17));
        stack.addOffload(Eth.ETH_P_IP, ipv4);
        sockets.addProtocol(udp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 2, SocketProtocol.PROTOCOL, 17,
                SocketProtocol.DEFAULT, true));
        ns = stack.core().initNet();
    }

    /**
     * What Felix and DS do on {@code update} of the UDP bundle: the old component's services leave
     * (IPv4, the socket layer and the core each told), its deactivate runs; {@code between} runs while
     * no UDP is registered; then the new version (reading {@code stateVersion}) activates and registers.
     */
    void update(int stateVersion, Runnable between) {
        UdpProtocol old = udp;
        updating = true;
        ipv4.removeProtocol(old, Map.of(InetProtocol.PROTOCOL, 17));
        ipv4.removeOffload(old, Map.of(InetProtocol.PROTOCOL, 17));
        sockets.removeProtocol(old);
        old.exit(ns);
        old.deactivate();
        updating = false;
        between.run();
        UdpProtocol now = new UdpProtocol(ipv4, sockets, () -> updating, stateVersion);
        now.init(ns);
        ipv4.addProtocol(now, Map.of(InetProtocol.PROTOCOL, 17));
        ipv4.addOffload(now, Map.of(InetProtocol.PROTOCOL, 17));
        sockets.addProtocol(now, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 2, SocketProtocol.PROTOCOL, 17,
                SocketProtocol.DEFAULT, true));
        udp = now;
    }

    SocketCalls process() {
        return sockets.process("test", "");
    }

    UdpMib mib() {
        return udp.net(ns).mib;
    }

    long count(UdpMib.Counter c) {
        return mib().get(c);
    }

    void run() {
        stack.run();
    }

    @Override
    public void close() {
        stack.shutdown();
    }
}

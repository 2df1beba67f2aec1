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
    final UdpProtocol udp;
    final SocketLayer sockets;
    final NetNamespace ns;

    UdpStack() {
        ArpProtocol arp = new ArpProtocol(stack.core());
        ipv4 = new Ipv4Protocol(stack.core(), arp);
        udp = new UdpProtocol(ipv4);
        sockets = new SocketLayer(stack.core());
        stack.addPernet(new Loopback(), 0);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addPernet(udp, 20);
        stack.addPernet(sockets, 30);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        ipv4.addProtocol(udp, Map.of(InetProtocol.PROTOCOL, 17));
        sockets.addProtocol(udp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 2, SocketProtocol.PROTOCOL, 17,
                SocketProtocol.DEFAULT, true));
        ns = stack.core().initNet();
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

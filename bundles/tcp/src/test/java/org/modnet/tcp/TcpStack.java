package org.modnet.tcp;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

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
 * The stack without OSGi, wired as Declarative Services would wire it: core, lo, ARP, IPv4, TCP and
 * the socket layer, on a virtual clock the test moves ({@link #advance}); {@link #run()} processes what
 * was sent and the timers that are due.
 */
final class TcpStack implements AutoCloseable {
    final AtomicLong clock = new AtomicLong(1_000_000_000L);
    final StandaloneCore stack;
    final ArpProtocol arp;
    final Ipv4Protocol ipv4;
    final TcpProtocol tcp;
    final SocketLayer sockets;
    final NetNamespace ns;

    TcpStack() {
        this(null);
    }

    /** With {@code core} given (a threaded one for blocking calls), that core instead of a manual one. */
    TcpStack(StandaloneCore core) {
        stack = core != null ? core : StandaloneCore.manual(1, 8192, clock::get);
        arp = new ArpProtocol(stack.core());
        ipv4 = new Ipv4Protocol(stack.core(), arp);
        tcp = new TcpProtocol(stack.core(), ipv4);
        sockets = new SocketLayer(stack.core());
        stack.addPernet(new Loopback(), 0);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addPernet(tcp, 20);
        stack.addPernet(sockets, 30);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        ipv4.addProtocol(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.addOffload(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        stack.addOffload(Eth.ETH_P_IP, ipv4);
        sockets.addProtocol(tcp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 1, SocketProtocol.PROTOCOL, 6,
                SocketProtocol.DEFAULT, true));
        ns = stack.core().initNet();
    }

    SocketCalls process() {
        return sockets.process("test", "");
    }

    long count(TcpMib.Tcp c) {
        return tcp.net(ns).mib.get(c);
    }

    long count(TcpMib.Ext c) {
        return tcp.net(ns).mib.get(c);
    }

    void run() {
        stack.run();
    }

    /** Moves the virtual clock on in steps of at most 10 ms, running what falls due. */
    void advance(long millis) {
        advance(millis, 10);
    }

    /** Moves the virtual clock on in steps of at most {@code stepMillis}. */
    void advance(long millis, long stepMillis) {
        long left = millis;
        while (left > 0) {
            long step = Math.min(left, stepMillis);
            clock.addAndGet(step * 1_000_000L);
            left -= step;
            stack.run();
        }
    }

    @Override
    public void close() {
        stack.shutdown();
    }
}

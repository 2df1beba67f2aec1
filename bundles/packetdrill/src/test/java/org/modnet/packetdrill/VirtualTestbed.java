package org.modnet.packetdrill;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.net.Eth;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.core.StandaloneCore;
import org.modnet.drivers.loopback.Loopback;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;
import org.modnet.ipv4.RouteService;
import org.modnet.socket.SocketLayer;
import org.modnet.socket.api.SocketProtocol;
import org.modnet.tcp.TcpProtocol;
import org.modnet.tcp_cubic.Cubic;

/**
 * A fresh stack for one script, wired as Declarative Services would wire it (core, lo, ARP, IPv4, TCP
 * with CUBIC, sockets), on a virtual clock: time moves only when the runner moves it, and each step runs the
 * softirq and the timers that fall due, so a script's timing is exact and a 3 s RTO takes no time.
 */
final class VirtualTestbed extends Testbed {
    private final AtomicLong clock;
    private final StandaloneCore stack;

    private VirtualTestbed(StandaloneCore stack, AtomicLong clock, Wiring w) {
        super(stack.core().initNet(), w.sockets, new RouteService(w.ipv4));
        this.stack = stack;
        this.clock = clock;
    }

    /** The layers a test reaches: IPv4 (for routes) and the socket layer. */
    record Wiring(Ipv4Protocol ipv4, SocketLayer sockets) {
    }

    static VirtualTestbed create() {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        StandaloneCore stack = StandaloneCore.manual(1, 8192, clock::get);
        return new VirtualTestbed(stack, clock, wire(stack));
    }

    /** Wires core, lo, ARP, IPv4, TCP and sockets on {@code stack}, as Declarative Services would. */
    static Wiring wire(StandaloneCore stack) {
        ArpProtocol arp = new ArpProtocol(stack.core());
        Ipv4Protocol ipv4 = new Ipv4Protocol(stack.core(), arp);
        TcpProtocol tcp = new TcpProtocol(stack.core(), ipv4);
        // CUBIC registered before any namespace exists, as Linux's default is there from boot
        tcp.addCongestion(new Cubic(), Map.of(TcpCongestionOps.NAME, TcpCongestion.CUBIC));
        SocketLayer sockets = new SocketLayer(stack.core());
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
        return new Wiring(ipv4, sockets);
    }

    @Override
    long nanoTime() {
        return clock.get();
    }

    @Override
    void advanceTo(long nanos) {
        if (nanos > clock.get()) {
            clock.set(nanos);
        }
        stack.run();
    }

    @Override
    void settle() {
        stack.run();
    }

    @Override
    boolean virtual() {
        return true;
    }

    @Override
    public void close() {
        super.close();
        stack.shutdown();
    }
}

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
import org.modnet.socket.api.SockAddr;
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
    /** The IPv4 bundle's component now: {@link #swapIpv4} puts its next version here. */
    Ipv4Protocol ipv4;
    /** Whether the IPv4 bundle is being updated (what {@code Ipv4Protocol.handingOver} asks). */
    final java.util.concurrent.atomic.AtomicBoolean ipv4Updating = new java.util.concurrent.atomic.AtomicBoolean();
    /** The TCP bundle's component now: {@link #swapTcp} puts its next version here. */
    TcpProtocol tcp;
    /** Whether the TCP bundle is being updated (what {@code TcpProtocol.handingOver} asks). */
    final java.util.concurrent.atomic.AtomicBoolean updating = new java.util.concurrent.atomic.AtomicBoolean();
    final SocketLayer sockets;
    final NetNamespace ns;

    TcpStack() {
        this(null);
    }

    /** With {@code core} given (a threaded one for blocking calls), that core instead of a manual one. */
    TcpStack(StandaloneCore core) {
        stack = core != null ? core : StandaloneCore.manual(1, 8192, clock::get);
        arp = new ArpProtocol(stack.core());
        ipv4 = new Ipv4Protocol(stack.core(), arp, stack.tables(), ipv4Updating::get, Ipv4Protocol.STATE_VERSION);
        sockets = new SocketLayer(stack.core());
        tcp = new TcpProtocol(stack.core(), ipv4, sockets, updating::get, TcpHandOver.STATE_VERSION);
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

    /**
     * An update of the TCP bundle as Felix and DS run it: the old component's services go (the socket
     * layer parks its descriptors, IPv4 holds protocol 6), its namespaces exit, it deactivates (freezes
     * and deposits); the new one, whose bundle says {@code stateVersion}, activates (adopts) and its
     * services come back (IPv4 hands it the held segments). Returns the old one.
     */
    TcpProtocol swapTcp(int stateVersion) {
        return swapTcp(stateVersion, () -> { });
    }

    /**
     * Where the next TCP runs its pass over the connections it left for later (null: at once, when IPv4
     * has delivered what it held): a test that keeps it can look into the moments before it.
     */
    java.util.concurrent.Executor pass;

    /** As {@link #swapTcp(int)}, running {@code between} when the next TCP has adopted and not yet registered. */
    TcpProtocol swapTcp(int stateVersion, Runnable between) {
        TcpProtocol old = tcp;
        updating.set(true);
        sockets.removeProtocol(old);
        ipv4.removeProtocol(old, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.removeOffload(old, Map.of(InetProtocol.PROTOCOL, 6));
        old.exit(ns);
        old.deactivate();
        updating.set(false);
        tcp = new TcpProtocol(stack.core(), ipv4, sockets, updating::get, stateVersion);
        if (pass != null) {
            tcp.passBy(pass);
        }
        stack.addPernet(tcp, 20);
        between.run();
        ipv4.addProtocol(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.addOffload(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        sockets.addProtocol(tcp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 1, SocketProtocol.PROTOCOL, 6,
                SocketProtocol.DEFAULT, true));
        return old;
    }

    /**
     * A staged update as the shell runs it: once the old component's services are gone, the new one is
     * made on another thread (SCR starting the new bundle) while the old one still has to freeze; it
     * waits for the deposit. Returns the thread making the new version; {@link #finishBesideTheStop}
     * registers it.
     */
    Thread swapTcpBesideTheStop(java.util.concurrent.atomic.AtomicBoolean predecessorStopping, Runnable whileWaiting) {
        TcpProtocol old = tcp;
        updating.set(true);
        predecessorStopping.set(true);
        sockets.removeProtocol(old);
        ipv4.removeProtocol(old, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.removeOffload(old, Map.of(InetProtocol.PROTOCOL, 6));
        old.exit(ns);
        TcpProtocol[] made = new TcpProtocol[1];
        Thread next = Thread.ofPlatform().start(() -> made[0] = new TcpProtocol(stack.core(), ipv4, sockets, updating::get,
                TcpHandOver.STATE_VERSION, predecessorStopping::get));
        whileWaiting.run();
        old.deactivate();
        updating.set(false);
        predecessorStopping.set(false);
        nextBeside = made;
        return next;
    }

    private TcpProtocol[] nextBeside;

    /** The new version made beside the stop registers: IPv4 and the socket layer bind it. */
    void finishBesideTheStop(Thread next) throws InterruptedException {
        next.join();
        tcp = nextBeside[0];
        stack.addPernet(tcp, 20);
        ipv4.addProtocol(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.addOffload(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        sockets.addProtocol(tcp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 1, SocketProtocol.PROTOCOL, 6,
                SocketProtocol.DEFAULT, true));
    }

    /**
     * An update of the IPv4 bundle as Felix and DS run it: IPv4's service leaves handing over, and DS
     * deactivates TCP with it (its reference to {@code Ipv4} is static), TCP handing over because IPv4
     * does (IPv4 holds protocol 6); then IPv4's namespaces exit and it deposits its tables, naming
     * protocol 6 among those to hold. The next IPv4 adopts its tables and holds protocol 6, the next TCP,
     * bound to it, adopts the connections and registers (the next IPv4 hands it the held segments).
     * Returns the old TCP.
     */
    TcpProtocol swapIpv4() {
        return swapIpv4(() -> { });
    }

    /** As {@link #swapIpv4()}, running {@code between} when the next IPv4 is in and the next TCP not yet. */
    TcpProtocol swapIpv4(Runnable between) {
        return swapIpv4(true, () -> { }, between);
    }

    /**
     * As {@link #swapIpv4(Runnable)}; without {@code unbind} the old IPv4 keeps the old TCP as protocol 6
     * (SCR may not call the unbind of a component it is disposing), and {@code late} runs when the old
     * TCP has handed over while the old IPv4 still takes frames.
     */
    TcpProtocol swapIpv4(boolean unbind, Runnable late, Runnable between) {
        Ipv4Protocol oldIp = ipv4;
        TcpProtocol old = tcp;
        ipv4Updating.set(true);
        sockets.removeProtocol(old);
        if (unbind) {
            oldIp.removeProtocol(old, Map.of(InetProtocol.PROTOCOL, 6));
            oldIp.removeOffload(old, Map.of(InetProtocol.PROTOCOL, 6));
        }
        old.exit(ns);
        old.deactivate();
        late.run();
        stack.removeHandler(Eth.ETH_P_IP, oldIp);
        stack.removePernet(oldIp);
        oldIp.deactivate();
        ipv4Updating.set(false);
        ipv4 = new Ipv4Protocol(stack.core(), arp, stack.tables(), ipv4Updating::get, Ipv4Protocol.STATE_VERSION);
        stack.addPernet(ipv4, 10);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        stack.addOffload(Eth.ETH_P_IP, ipv4);
        between.run();
        tcp = new TcpProtocol(stack.core(), ipv4, sockets, updating::get, TcpHandOver.STATE_VERSION);
        stack.addPernet(tcp, 20);
        ipv4.addProtocol(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.addOffload(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        sockets.addProtocol(tcp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 1, SocketProtocol.PROTOCOL, 6,
                SocketProtocol.DEFAULT, true));
        return old;
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

    /** The connected socket behind {@code fd} of {@code sys}: the one with its local and peer address. */
    TcpSock sock(SocketCalls sys, int fd) {
        SockAddr[] me = new SockAddr[1];
        SockAddr[] peer = new SockAddr[1];
        sys.getsockname(fd, me);
        sys.getpeername(fd, peer);
        return (TcpSock) sockets.sockets("").stream()
                .filter(k -> k.localAddress().equals(me[0]) && k.remoteAddress().equals(peer[0])).findFirst().orElseThrow();
    }

    @Override
    public void close() {
        stack.shutdown();
    }
}

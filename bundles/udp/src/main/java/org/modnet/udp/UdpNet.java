package org.modnet.udp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.FlowDissector;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SockMemory;

/**
 * UDP in one namespace: the socket table ({@code udp_table}, hashed by local port, each slot a
 * copy-on-write array the softirq reads without a lock), port allocation ({@code udp_lib_get_port}),
 * the demultiplexing score ({@code compute_score}), the MIB and the {@code udp_mem} accounting.
 */
final class UdpNet {
    private static final int SLOTS = 1024;
    private static final UdpSock[] NONE = new UdpSock[0];
    /** {@code udp_ehash_secret}: random once per boot in Linux, fixed here so a run is reproducible. */
    static final int UDP_EHASH_SECRET = 0x2545f491;

    final NetNamespace ns;
    final Ipv4 ipv4;
    final UdpMib mib = new UdpMib();
    final SockMemory memory;
    private final AtomicReferenceArray<UdpSock[]> slots = new AtomicReferenceArray<>(SLOTS);
    /** Every open socket, bound or not: what an update hands over. */
    private final Set<UdpSock> sockets = ConcurrentHashMap.newKeySet();

    UdpNet(NetNamespace ns, Ipv4 ipv4) {
        this.ns = ns;
        this.ipv4 = ipv4;
        this.memory = new SockMemory(ns.sysctl().registerInts("net.ipv4.udp_mem",
                SockMemory.defaults(Runtime.getRuntime().maxMemory()), 0, Integer.MAX_VALUE, false));
        ns.sysctl().registerInt("net.ipv4.udp_rmem_min", 4096, 1, Integer.MAX_VALUE);
        ns.sysctl().registerInt("net.ipv4.udp_wmem_min", 4096, 1, Integer.MAX_VALUE);
        for (int i = 0; i < SLOTS; i++) {
            slots.set(i, NONE);
        }
    }

    static int slot(int port) {
        return port & (SLOTS - 1);
    }

    /**
     * {@code udp_lib_get_port}: takes {@code port} for the socket, or with port 0 a free one from
     * {@code ip_local_port_range} starting at a random point. EADDRINUSE when the port is taken (two
     * sockets may share it when both set SO_REUSEADDR, or both SO_REUSEPORT, or their bound addresses
     * differ and neither is the wildcard) or no ephemeral port is left.
     */
    synchronized int getPort(UdpSock sk, int port, int address) throws SockException {
        if (port != 0) {
            if (conflicts(sk, port, address)) {
                throw SockException.of(Errno.EADDRINUSE);
            }
            hash(sk, port);
            return port;
        }
        int[] range = ipv4.localPortRange(ns);
        int low = range[0];
        int n = range[1] - range[0] + 1;
        int start = ThreadLocalRandom.current().nextInt(n);
        for (int i = 0; i < n; i++) {
            int p = low + (start + i) % n;
            if (!ipv4.reservedPort(ns, p) && !conflicts(sk, p, address)) { // ip_local_reserved_ports are skipped
                hash(sk, p);
                return p;
            }
        }
        throw SockException.of(Errno.EADDRINUSE);
    }

    private boolean conflicts(UdpSock sk, int port, int address) {
        for (UdpSock other : slots.get(slot(port))) {
            if (other == sk || other.port() != port) {
                continue;
            }
            int a = other.boundAddress();
            if (a != 0 && address != 0 && a != address) {
                continue; // different addresses: both may have the port
            }
            if ((other.reuseAddr() && sk.reuseAddr()) || (other.reusePort() && sk.reusePort())) {
                continue;
            }
            return true;
        }
        return false;
    }

    private void hash(UdpSock sk, int port) {
        int i = slot(port);
        UdpSock[] old = slots.get(i);
        UdpSock[] now = Arrays.copyOf(old, old.length + 1);
        now[old.length] = sk;
        slots.set(i, now);
    }

    /**
     * {@code udp_lib_unhash}. An SO_REUSEPORT member leaves its group as {@code reuseport_detach_sock}
     * has it: the group's last member takes its place, so the hash picks the socket Linux's would.
     */
    synchronized void unhash(UdpSock sk, int port) {
        int i = slot(port);
        UdpSock[] old = slots.get(i);
        int at = -1;
        int last = -1; // the group's last member
        for (int k = 0; k < old.length; k++) {
            if (old[k] == sk) {
                at = k;
            } else if (sk.reusePort() && old[k].reusePort() && old[k].port() == port
                    && old[k].boundAddress() == sk.boundAddress()) {
                last = k;
            }
        }
        if (at < 0) {
            return;
        }
        UdpSock[] now = old.clone();
        if (last > at) {
            now[at] = now[last];
            at = last;
        }
        System.arraycopy(now, at + 1, now, at, now.length - at - 1);
        slots.set(i, now.length == 1 ? NONE : Arrays.copyOf(now, now.length - 1));
    }

    /**
     * {@code __udp4_lib_lookup}: the socket a datagram from saddr:sport to daddr:dport goes to — the best
     * {@code compute_score} (a bound address, a connected peer address and port each count 4, and must
     * match when set), and among SO_REUSEPORT sockets bound alike, one chosen by the flow's hash so a
     * flow always lands on the same one. Null if none.
     */
    UdpSock lookup(int saddr, int sport, int daddr, int dport) {
        UdpSock[] slot = slots.get(slot(dport));
        UdpSock best = null;
        int bestScore = -1;
        int group = 0; // SO_REUSEPORT sockets with the best score
        for (UdpSock sk : slot) {
            int score = score(sk, saddr, sport, daddr, dport);
            if (score > bestScore) {
                best = sk;
                bestScore = score;
                group = sk.reusePort() ? 1 : 0;
            } else if (score == bestScore && score >= 0 && sk.reusePort() && best.reusePort()) {
                group++;
            }
        }
        if (group < 2) {
            return best;
        }
        // reuseport_select_sock: the member the flow's hash (udp_ehashfn) picks, so a flow stays on one socket
        int pick = FlowDissector.reciprocalScale(FlowDissector.jhash3words(daddr, saddr, dport << 16 | sport, UDP_EHASH_SECRET), group);
        for (UdpSock sk : slot) {
            if (sk.reusePort() && score(sk, saddr, sport, daddr, dport) == bestScore && pick-- == 0) {
                return sk;
            }
        }
        return best;
    }

    private static int score(UdpSock sk, int saddr, int sport, int daddr, int dport) {
        if (sk.port() != dport || sk.isClosed()) {
            return -1;
        }
        int score = 2;
        int bound = sk.boundAddress();
        if (bound != 0) {
            if (bound != daddr) {
                return -1;
            }
            score += 4;
        }
        int peer = sk.peerAddress();
        if (peer != 0) {
            if (peer != saddr) {
                return -1;
            }
            score += 4;
        }
        int peerPort = sk.peerPort();
        if (peerPort != 0) {
            if (peerPort != sport) {
                return -1;
            }
            score += 4;
        }
        return score;
    }

    /**
     * Every socket a broadcast or multicast datagram to daddr:dport from saddr:sport goes to
     * ({@code __udp4_lib_mcast_deliver}): all that match, whatever their score.
     */
    List<UdpSock> all(int saddr, int sport, int daddr, int dport) {
        List<UdpSock> out = new ArrayList<>(2);
        for (UdpSock sk : slots.get(slot(dport))) {
            if (sk.port() != dport || sk.isClosed()) {
                continue;
            }
            int bound = sk.boundAddress();
            if (bound != 0 && bound != daddr) {
                continue;
            }
            if ((sk.peerAddress() != 0 && sk.peerAddress() != saddr) || (sk.peerPort() != 0 && sk.peerPort() != sport)) {
                continue;
            }
            out.add(sk);
        }
        return out;
    }

    /** Every hashed socket (those closed included until they unhash). */
    int hashed() {
        int n = 0;
        for (int i = 0; i < SLOTS; i++) {
            n += slots.get(i).length;
        }
        return n;
    }

    void track(UdpSock sk) {
        sockets.add(sk);
    }

    void untrack(UdpSock sk) {
        sockets.remove(sk);
    }

    List<UdpSock> sockets() {
        return List.copyOf(sockets);
    }

    /**
     * Every open socket, the hashed ones in their slots' order first: what an update hands over, in the
     * order its next version hashes them again, so an SO_REUSEPORT group keeps its members' order and a
     * flow's hash picks the same socket after the update as before.
     */
    synchronized List<UdpSock> socketsInHashOrder() {
        java.util.LinkedHashSet<UdpSock> out = new java.util.LinkedHashSet<>();
        for (int i = 0; i < SLOTS; i++) {
            for (UdpSock sk : slots.get(i)) {
                if (sockets.contains(sk)) {
                    out.add(sk);
                }
            }
        }
        out.addAll(sockets);
        return List.copyOf(out);
    }

    /** A handed-over socket takes its port again: it held it beside the others, so no conflict is checked. */
    synchronized void rehash(UdpSock sk, int port) {
        hash(sk, port);
    }

    void exit() {
        ns.sysctl().unregister("net.ipv4.udp_mem");
        ns.sysctl().unregister("net.ipv4.udp_rmem_min");
        ns.sysctl().unregister("net.ipv4.udp_wmem_min");
    }
}

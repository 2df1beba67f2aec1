package org.modnet.tcp;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.handover.SocketState;
import org.modnet.api.handover.TcpConnectionState;

/**
 * The connections of one namespace a new version has not remade yet (issue 15): the adoption hashes
 * each deposited connection here by its 4-tuple, as the established hash would, and remakes it when
 * it is first touched — its first segment ({@link TcpProtocol}'s receive finds no socket in the
 * established hash and looks here before the listeners), or the pass that remakes the rest once IPv4
 * has delivered what it held. So the first held segment reaches the new version after a pass over
 * the listeners only, whatever the number of connections.
 *
 * <p>Built by one thread before the protocol is registered, read-only afterwards but for each
 * entry's {@code done}; an entry is remade under its own monitor, once, by whichever thread comes
 * first (a softirq, the pass, or a call that must see it as Linux would see a live connection:
 * {@code ss} and {@code lsmod}'s walk, an ICMP error quoting it, a {@code bind} or port search that
 * meets its local port), and stays here done until the pass drops the table.
 */
final class TcpLazyAdopt {
    /** A deposited connection waiting to be remade. */
    static final class Pending {
        /** The state deposited, or null when the previous version freezes it on asking ({@code freeze}). */
        private final TcpConnectionState state;
        private final java.util.function.LongFunction<TcpConnectionState> freeze;
        private final long id;
        final int laddr;
        final int lport;
        final int raddr;
        final int rport;
        /** Remade (guarded by this entry's monitor; volatile for the readers that only test it). */
        volatile boolean done;

        Pending(SocketState s, TcpConnectionState state, java.util.function.LongFunction<TcpConnectionState> freeze) {
            this.state = state;
            this.freeze = freeze;
            this.id = s.id();
            this.laddr = s.localAddress();
            this.lport = s.localPort();
            this.raddr = s.remoteAddress();
            this.rport = s.remotePort();
        }

        /** The connection's state: deposited, or frozen by the previous version now; null if it no longer knows it. */
        TcpConnectionState state() {
            return state != null ? state : freeze.apply(id);
        }
    }

    private static final Pending[] NONE = {};

    private final Pending[][] slots = new Pending[TcpNet.EHASH_SLOTS][];
    /** Every entry, in deposit order, for the pass. */
    final List<Pending> all = new ArrayList<>();
    /** The local ports the entries hold: a port search skips them as it skips a bound port. */
    private final java.util.BitSet ports = new java.util.BitSet(65536);
    /** Remakes an entry for a call that needs it now (true if this call did, false if another thread had). */
    private final java.util.function.Predicate<Pending> remake;

    /** A table with nothing to remake an entry with, for the tests that read its hash alone. */
    TcpLazyAdopt() {
        this(p -> false);
    }

    /**
     * {@code remake} remakes an entry when a call needs the connection as a live one before the pass gets
     * to it: {@code ss} and {@code lsmod} count it, an ICMP error finds it, a {@code bind} meets its port.
     */
    TcpLazyAdopt(java.util.function.Predicate<Pending> remake) {
        this.remake = remake;
        java.util.Arrays.fill(slots, NONE);
    }

    /**
     * Whether the adoption may leave {@code st} for later: a connection in the established hash (it has a
     * 4-tuple a segment finds it by). One that is not hashed (closed with a descriptor still open) is
     * remade at once.
     */
    static boolean deferrable(TcpConnectionState st) {
        SocketState s = st.socket();
        return s.extra().getOrDefault("hashed", 0L) != 0 && s.state() != TcpSock.TCP_LISTEN && s.remoteAddress() != 0
                && s.remotePort() != 0;
    }

    void add(TcpConnectionState st) {
        add(new Pending(st.socket(), st, null));
    }

    /** A connection the previous version deposited in place: {@code freeze} gives its state when it is remade. */
    void add(SocketState s, java.util.function.LongFunction<TcpConnectionState> freeze) {
        add(new Pending(s, null, freeze));
    }

    private void add(Pending p) {
        int i = TcpNet.ehashfn(p.laddr, p.lport, p.raddr, p.rport);
        Pending[] old = slots[i];
        Pending[] now = java.util.Arrays.copyOf(old, old.length + 1);
        now[old.length] = p;
        slots[i] = now;
        all.add(p);
        ports.set(p.lport);
    }

    /** Whether an entry, remade or not, holds local port {@code port}. Allocates nothing. */
    boolean holdsPort(int port) {
        return ports.get(port);
    }

    /** The connection of a segment from raddr:rport to laddr:lport remade now if it waits here; false if none is here. */
    boolean remake(int raddr, int rport, int laddr, int lport) {
        Pending p = find(raddr, rport, laddr, lport);
        if (p == null) {
            return false;
        }
        if (!p.done) {
            remake.test(p);
        }
        return true;
    }

    /** Every connection still waiting that holds local port {@code port} remade now: a bind to it then meets them as live ones. */
    void remakePort(int port) {
        if (!ports.get(port)) {
            return;
        }
        for (Pending p : all) {
            if (p.lport == port && !p.done) {
                remake.test(p);
            }
        }
    }

    /** Every connection still waiting remade now: a walk of the hashes ({@code ss}, {@code lsmod}) then sees them all. */
    void remakeAll() {
        for (Pending p : all) {
            if (!p.done) {
                remake.test(p);
            }
        }
    }

    /** The entry of a segment from raddr:rport to laddr:lport; null if none. Allocates nothing. */
    Pending find(int raddr, int rport, int laddr, int lport) {
        for (Pending p : slots[TcpNet.ehashfn(laddr, lport, raddr, rport)]) {
            if (p.lport == lport && p.rport == rport && p.laddr == laddr && p.raddr == raddr) {
                return p;
            }
        }
        return null;
    }

    int size() {
        return all.size();
    }
}

package org.modnet.tcp;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.handover.SocketState;
import org.modnet.api.handover.TcpConnectionState;
import org.modnet.api.handover.TcpConnectionsInPlace;
import org.modnet.api.net.NetNamespace;

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
 *
 * <p>A previous version that left its connections in its own tables ({@link TcpConnectionsInPlace}, {@link #leftIn}) is
 * asked instead: a 4-tuple this table does not hold is looked up there, and an entry is made for it then (once per
 * connection, whichever thread asks first); the pass and the calls that need them all take the previous version's list.
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
    /** The previous version's tables ({@link #leftIn}), or null; {@link #ns} is this table's namespace there. */
    private volatile TcpConnectionsInPlace.Table table;
    private NetNamespace ns;
    /** The entries made for connections found in {@link #table}, by socket id: one per connection. */
    private final java.util.concurrent.ConcurrentHashMap<Long, Pending> asked = new java.util.concurrent.ConcurrentHashMap<>();

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

    /** The connections of {@code ns} the previous version left in its own tables: looked up there when first needed. */
    void leftIn(TcpConnectionsInPlace.Table t, NetNamespace n) {
        this.ns = n;
        this.table = t; // published (volatile) after ns
    }

    /** The entry of the connection {@code s} (its state {@code st} if known, else asked by id) left in the previous version's tables. */
    private Pending asked(SocketState s, TcpConnectionState st, TcpConnectionsInPlace.Table t) {
        Pending p = asked.get(s.id());
        if (p == null) {
            Pending mine = new Pending(s, st, st != null ? null : new ById(t));
            p = asked.putIfAbsent(s.id(), mine);
            if (p == null) {
                p = mine;
            }
        }
        return p;
    }

    /** The previous version's freeze by socket id: a class, not a method reference (see {@code TcpProtocol.RestFreeze}). */
    private static final class ById implements java.util.function.LongFunction<TcpConnectionState> {
        private final TcpConnectionsInPlace.Table t;

        ById(TcpConnectionsInPlace.Table t) {
            this.t = t;
        }

        @Override
        public TcpConnectionState apply(long id) {
            return t.freeze(id);
        }
    }

    /**
     * Every entry, for the pass: this table's, then (the previous version's tables) one for each connection of this
     * namespace left there.
     */
    List<Pending> pending() {
        TcpConnectionsInPlace.Table t = table;
        if (t == null) {
            return all;
        }
        List<Pending> out = new ArrayList<>(all);
        for (SocketState s : t.connections()) {
            if (s.namespace() == ns) {
                out.add(asked(s, null, t));
            }
        }
        return out;
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
        TcpConnectionsInPlace.Table t = table;
        return ports.get(port) || t != null && t.holdsPort(ns, port);
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
        if (!holdsPort(port)) {
            return;
        }
        for (Pending p : pending()) {
            if (p.lport == port && !p.done) {
                remake.test(p);
            }
        }
    }

    /** Every connection still waiting remade now: a walk of the hashes ({@code ss}, {@code lsmod}) then sees them all. */
    void remakeAll() {
        for (Pending p : pending()) {
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
        TcpConnectionsInPlace.Table t = table;
        if (t == null) {
            return null;
        }
        TcpConnectionState st = t.freeze(ns, raddr, rport, laddr, lport); // null (allocating nothing) if it has none
        return st == null ? null : asked(st.socket(), st, t);
    }

    int size() {
        return all.size();
    }
}

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
 * first (a softirq or the pass), and stays here done until the pass drops the table.
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

    TcpLazyAdopt() {
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

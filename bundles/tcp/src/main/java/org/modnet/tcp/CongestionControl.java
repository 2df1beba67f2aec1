package org.modnet.tcp;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.net.StringSysctl;
import org.modnet.api.net.Sysctl;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.api.tcp.TcpCongestionState;

/**
 * The registered congestion-control algorithms ({@code net/ipv4/tcp_cong.c}'s {@code tcp_cong_list}):
 * Reno built in and first, then the {@link TcpCongestionOps} services in the order they came. The list
 * is a copy-on-write array: a connection finds its algorithm at creation or by {@code TCP_CONGESTION},
 * never on the packet path, which reads only the {@link Ca} it holds.
 */
final class CongestionControl {
    /** One registered algorithm; {@link #gone} once its service left, so a connection still holding it moves. */
    static final class Ca {
        final String name;
        final TcpCongestionOps ops;
        /** Linux's {@code ops->cong_control != NULL}: the algorithm overrides {@link TcpCongestionOps#congControl}. */
        final boolean hasCongControl;
        volatile boolean gone;

        Ca(String name, TcpCongestionOps ops) {
            this.name = name;
            this.ops = ops;
            this.hasCongControl = overridesCongControl(ops);
        }
    }

    /** Looked up once, when the algorithm registers, never on the packet path. */
    static boolean overridesCongControl(TcpCongestionOps ops) {
        try {
            return ops.getClass().getMethod("congControl", TcpCongestionState.class, int.class, int.class, long.class)
                    .getDeclaringClass() != TcpCongestionOps.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /**
     * Reno ({@code tcp_reno}): built in, as Linux builds {@code tcp_reno} into the kernel (it is never a
     * module); the default without cubic and every fallback.
     */
    static final TcpCongestionOps RENO_OPS = new TcpCongestionOps() {
        @Override
        public String name() {
            return TcpCongestion.RENO;
        }

        @Override
        public int ssthresh(TcpCongestionState sk) {
            return TcpCongestion.renoSsthresh(sk);
        }

        @Override
        public void congAvoid(TcpCongestionState sk, int ack, int acked) {
            TcpCongestion.renoCongAvoid(sk, acked);
        }
    };

    final Ca reno = new Ca(TcpCongestion.RENO, RENO_OPS);
    private volatile Ca[] list = { reno };

    /** The algorithm of that name, or null ({@code tcp_ca_find}). */
    Ca find(String name) {
        for (Ca ca : list) {
            if (ca.name.equals(name)) {
                return ca;
            }
        }
        return null;
    }

    /**
     * {@code tcp_register_congestion_control}: a name too long, missing its required methods' owner, or
     * taken is refused (EINVAL, EEXIST) and the algorithm stays unlisted.
     */
    synchronized Ca register(TcpCongestionOps ops, String name) throws NetException {
        if (name == null || name.isEmpty() || name.length() >= TcpCongestion.CA_NAME_MAX || name.indexOf(' ') >= 0) {
            throw new NetException(Errno.EINVAL, "tcp: congestion control name \"" + name + "\" is not valid");
        }
        if (find(name) != null) {
            throw new NetException(Errno.EEXIST, "tcp: " + name + " already registered");
        }
        Ca ca = new Ca(name, ops);
        Ca[] next = Arrays.copyOf(list, list.length + 1);
        next[next.length - 1] = ca;
        list = next;
        return ca;
    }

    /** {@code tcp_unregister_congestion_control}: the entry, marked gone, or null if it was not listed. */
    synchronized Ca unregister(TcpCongestionOps ops) {
        Ca[] l = list;
        for (int i = 1; i < l.length; i++) {
            if (l[i].ops == ops) {
                Ca ca = l[i];
                Ca[] next = new Ca[l.length - 1];
                System.arraycopy(l, 0, next, 0, i);
                System.arraycopy(l, i + 1, next, i, l.length - i - 1);
                list = next;
                ca.gone = true;
                return ca;
            }
        }
        return null;
    }

    /** {@code tcp_get_available_congestion_control}: the names, space-separated, in registration order. */
    String available() {
        StringBuilder b = new StringBuilder();
        for (Ca ca : list) {
            b.append(b.isEmpty() ? "" : " ").append(ca.name);
        }
        return b.toString();
    }

    /**
     * One namespace's choice: {@code net.ipv4.tcp_congestion_control} (the default for new sockets; ENOENT
     * for a name not registered; it becomes allowed, as Linux marks the default non-restricted), {@code
     * net.ipv4.tcp_available_congestion_control} (read-only) and {@code
     * net.ipv4.tcp_allowed_congestion_control} (what an application may pick with {@code TCP_CONGESTION}).
     */
    final class PerNet {
        private volatile Ca dflt = reno;
        private volatile Set<String> allowed = Set.of(TcpCongestion.RENO);
        /** The default and the allowed names whose algorithm left, until it comes back (guarded by the registry's updates). */
        private volatile String dfltLeft;
        private final Set<String> allowedLeft = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final StringSysctl control;
        final StringSysctl availableSysctl;
        final StringSysctl allowedSysctl;

        PerNet(Sysctl s) {
            // Linux's default is CONFIG_DEFAULT_TCP_CONG, cubic: it is the default while its bundle is
            // there, and Reno stands in (as the default that left, see listChanged) until it comes.
            Ca cubic = find(TcpCongestion.CUBIC);
            if (cubic != null) {
                dflt = cubic;
                allowed = Set.of(TcpCongestion.RENO, TcpCongestion.CUBIC);
            } else {
                dfltLeft = TcpCongestion.CUBIC;
            }
            availableSysctl = s.registerString("net.ipv4.tcp_available_congestion_control", available(), null);
            allowedSysctl = s.registerString("net.ipv4.tcp_allowed_congestion_control", allowedText(allowed), new Setter(false));
            control = s.registerString("net.ipv4.tcp_congestion_control", dflt.name, new Setter(true));
            availableSysctl.publish(available()); // the namespace may be made while algorithms are listed
        }

        /**
         * The two writable sysctls' checks: a class, not two method references, whose classes would be spun when a new version
         * makes its namespaces in standby, on the update's path (task upd15f).
         */
        private final class Setter implements StringSysctl.Check {
            private final boolean dfltControl;

            Setter(boolean dfltControl) {
                this.dfltControl = dfltControl;
            }

            @Override
            public String check(String value) throws NetException {
                return dfltControl ? setDefault(value) : setAllowed(value);
            }
        }

        Ca dflt() {
            Ca d = dflt;
            return d.gone ? reno : d;
        }

        Ca find(String name) {
            return CongestionControl.this.find(name);
        }

        boolean allowed(String name) {
            return allowed.contains(name);
        }

        private String setDefault(String name) throws NetException {
            Ca ca = find(name);
            if (ca == null) {
                throw new NetException(Errno.ENOENT);
            }
            dflt = ca;
            dfltLeft = null;
            if (!allowed.contains(name)) {
                Set<String> a = new LinkedHashSet<>(allowed);
                a.add(name);
                allowed = Set.copyOf(a);
                allowedSysctl.publish(allowedText(a));
            }
            return name;
        }

        /** {@code tcp_set_allowed_congestion_control}: every name must be registered; the default stays allowed. */
        private String setAllowed(String value) throws NetException {
            Set<String> a = new LinkedHashSet<>();
            for (String name : value.strip().split("\\s+")) {
                if (name.isEmpty()) {
                    continue;
                }
                if (find(name) == null) {
                    throw new NetException(Errno.ENOENT);
                }
                a.add(name);
            }
            a.add(dflt().name);
            allowed = Set.copyOf(a);
            return allowedText(a);
        }

        /** In registration order, as Linux walks its list. */
        private String allowedText(Set<String> a) {
            StringBuilder b = new StringBuilder();
            for (Ca ca : list) {
                if (a.contains(ca.name)) {
                    b.append(b.isEmpty() ? "" : " ").append(ca.name);
                }
            }
            return b.toString();
        }

        /**
         * The list changed: republish. An algorithm that left stops being the default or allowed, and
         * is remembered: when an algorithm of that name comes back (its bundle updated), it is the
         * default and allowed again, as before.
         */
        void listChanged(Ca left, Ca arrived) {
            availableSysctl.publish(available());
            Set<String> a = new LinkedHashSet<>(allowed);
            if (left != null) {
                if (dflt == left) {
                    dflt = reno;
                    dfltLeft = left.name;
                    control.publish(TcpCongestion.RENO);
                }
                if (a.remove(left.name)) {
                    allowedLeft.add(left.name);
                }
            }
            if (arrived != null) {
                if (arrived.name.equals(dfltLeft) && dflt == reno) {
                    dflt = arrived;
                    control.publish(arrived.name);
                }
                dfltLeft = arrived.name.equals(dfltLeft) ? null : dfltLeft;
                if (allowedLeft.remove(arrived.name)) {
                    a.add(arrived.name);
                }
            }
            a.add(dflt().name);
            allowed = Set.copyOf(a);
            allowedSysctl.publish(allowedText(a));
        }
    }
}

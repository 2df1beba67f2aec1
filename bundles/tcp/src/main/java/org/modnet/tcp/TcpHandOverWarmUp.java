package org.modnet.tcp;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

import org.modnet.api.handover.TcpConnectionState;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.IntVectorSysctl;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Sysctl;

/**
 * Runs the hand-over's own code once before it is needed: a few scratch sockets in a scratch namespace
 * (never registered with the core, never hashed where a segment can find them, their timers never
 * armed) are frozen and adopted into a second scratch namespace, then dropped. A version started beside
 * its predecessor's stop does this while the predecessor freezes, so its adoption runs linked and
 * resolved code (the lambdas of a socket's timers bootstrapped, the records' classes initialised)
 * instead of paying for that with the held segments waiting.
 */
final class TcpHandOverWarmUp {
    /** Enough to link every path of a freeze and an adoption; the JIT's thresholds are not the aim. */
    static final int SOCKETS = 32;

    private TcpHandOverWarmUp() {
    }

    /** Freezes and adopts {@code sockets} scratch sockets; returns how many were adopted. */
    static int run(NetCore core, Ipv4 ipv4, int sockets) {
        return run(core, ipv4, sockets, () -> false);
    }

    /**
     * As above, stopping before the next scratch socket once {@code enough} says so (the deposit it
     * warms up for has come: the adoption itself must not wait for the warm-up).
     */
    static int run(NetCore core, Ipv4 ipv4, int sockets, java.util.function.BooleanSupplier enough) {
        CongestionControl cc = new CongestionControl(); // its own: the scratch namespaces never list in the real one
        TcpIsn isn = new TcpIsn(core::nanoTime);
        TcpNet from = new TcpNet(new Scratch(core), core, ipv4, isn, cc);
        TcpNet to = new TcpNet(new Scratch(core), core, ipv4, isn, cc);
        List<Runnable> clocks = new ArrayList<>(); // collected, never run: no timer is armed
        int adopted = 0;
        for (int i = 0; i < sockets && !enough.getAsBoolean(); i++) {
            TcpSock sk = new TcpSock(from);
            TcpConnectionState st = TcpHandOver.freeze(sk);
            TcpSock again = TcpHandOver.adopt(to, st, null, clocks);
            if (again != null) {
                adopted++;
            }
        }
        return adopted;
    }

    /**
     * The adoption's remakes, run once on scratch sockets before the swap ({@code TcpProtocol.prepare}, in standby, with {@code
     * -Dmodnet.tcp.prepare.listener=true}): a socket of a
     * scratch namespace holding its port as a bound listener does is deposited as the freeze deposits a listener and remade as
     * the adoption remakes one (made, its options and scalars taken, its port inherited, hashed in the listen table), then
     * unhashed, its port put back, dropped; and a scratch connection is frozen and remade as a connection left for later is on
     * its first segment, its clocks' start collected and never run. The swap's remake of the real listeners, and the first
     * segments' remakes after it, then run code whose classes are initialised and whose call sites are linked (a lambda's is
     * linked at its first run, a class spun for it, task adopt15h). Never registered, never
     * armed, never in a table a segment can reach. True if the scratch listener was hashed and the connection remade.
     */
    static boolean adoption(NetCore core, Ipv4 ipv4) {
        TcpNet net = new TcpNet(new Scratch(core), core, ipv4, new TcpIsn(new TcpProtocol.CoreClock(core), 0, 0, 0, 0), new CongestionControl());
        TcpSock sk = new TcpSock(net);
        sk.portHeld = true;
        sk.hashed = true;
        List<Runnable> clocks = new ArrayList<>(); // a listener with empty queues adds none
        TcpSock l = TcpHandOver.adopt(net, TcpHandOver.listenerState(sk), clocks);
        boolean hashed = false;
        for (TcpSock o : net.listenSlot(l.lport() & (TcpNet.LHASH_SLOTS - 1))) {
            hashed |= o == l;
        }
        net.listenUnhash(l);
        net.putPort(l, l.lport());
        net.created.remove(l);
        TcpSock c = TcpHandOver.adopt(net, TcpHandOver.freeze(new TcpSock(net)), null, clocks);
        net.created.remove(c);
        return hashed && c != null && clocks.size() == 1;
    }

    /**
     * Scratch freezes {@link #runFreezeSide} runs: past C2's invocation threshold (5,000) for the freeze and the steps it calls,
     * as a freeze of real connections (each remade by the next version on its first segment, then the rest) would run them. Each
     * makes the records a deposit carries (~5.6 KB, TcpHandOverTest counts it: the scalars' maps, the socket's common part), so not
     * more: 16,000 made 50-90 MB of garbage in a second (task alloc15), G1's young pauses during the streams.
     */
    static final int FREEZES = 6_000;
    /** Walks of the scratch namespace's tables {@link #runFreezeSide} runs, as a live hand-over's walk goes over every table. */
    static final int WALKS = 200;
    /** Connections in the scratch namespace's established hash: the walk meets each as it meets a real one, in its slot. */
    static final int WALK_CONNECTIONS = 64;
    /** Of those, the ones frozen again and again. */
    private static final int FREEZE_SOCKETS = 4;

    /**
     * The old version's side of a hand-over, run by a running version once, at its start or some time after (see {@code
     * TcpProtocol}), on one set of scratch objects: a scratch namespace holding a listener in its listen hash and {@value
     * #WALK_CONNECTIONS} established connections in its established hash (never registered with the core: no segment finds
     * them, no timer of theirs is armed) is walked as a live hand-over walks a real one ({@link TcpHandOver#warmWalk}: every
     * slot, each connection left in place, the branches a real walk takes) {@code walks} times, and {@value #FREEZE_SOCKETS}
     * of its connections are listed as a deposit in place lists them and frozen as the next version's ask freezes them until
     * {@code freezes} freezes ran, the namespace's counters and secrets read as the deposit reads them. An update's walk over
     * every connection (with the segments of 1,000 connections held) and the freezes after it then run compiled code
     * instead of starting in the interpreter. It needs no real connection, so it can run before any exists. Stops early once
     * {@code enough} says so (an update began). Returns {freezes, walks, connections the walks would have left in place}.
     */
    static int[] runFreezeSide(NetCore core, Ipv4 ipv4, int freezes, int walks, java.util.function.BooleanSupplier enough) {
        CongestionControl cc = new CongestionControl();
        TcpNet net = new TcpNet(new Scratch(core), core, ipv4, new TcpIsn(core::nanoTime), cc);
        TcpSock listener = new TcpSock(net);
        listener.portHeld = true;
        listener.hashed = true;
        List<Runnable> clocks = new ArrayList<>(); // a listener with empty queues adds none
        TcpSock l = TcpHandOver.adopt(net, TcpHandOver.listenerState(listener), clocks);
        TcpSock[] sks = new TcpSock[WALK_CONNECTIONS];
        for (int i = 0; i < sks.length; i++) {
            TcpSock sk = new TcpSock(net);
            org.modnet.api.handover.SocketState s = TcpHandOver.inPlace(sk);
            // 10.255.0.1:1 to 10.255.0.2:(1024 + i): the 4-tuple of a connection, in a table nothing looks up
            sk.adoptSocket(new org.modnet.api.handover.SocketState(s.id(), s.namespace(), s.family(), s.type(), s.protocol(),
                    org.modnet.socket.api.Sock.TCP_ESTABLISHED, 0x0aff0001, 1, 0, 0x0aff0002, 1024 + i, 0, 0, s.options(), List.of(), 0,
                    java.util.Map.of()));
            sk.hashed = net.ehashInsert(sk);
            net.created.add(sk);
            sks[i] = sk;
        }
        long sink = 0;
        int frozen = 0;
        int walked = 0;
        int inPlace = 0;
        try {
            for (int r = 0; (frozen < freezes || walked < walks) && !enough.getAsBoolean(); r++) {
                if (walked < walks) {
                    inPlace += TcpHandOver.warmWalk(net);
                    walked++;
                }
                for (int i = 0; i < FREEZE_SOCKETS && frozen < freezes; i++) {
                    TcpSock sk = sks[i];
                    sink += TcpHandOver.deferrable(sk) ? 1 : 0;
                    sink += TcpHandOver.inPlace(sk).id();
                    sink += TcpHandOver.freeze(sk).sequence().sndNxt();
                    frozen++;
                }
                if ((r & 255) == 0) {
                    sink += TcpHandOver.namespace(net).mib().size();
                }
            }
        } finally {
            for (TcpSock sk : sks) {
                if (sk.hashed) {
                    net.ehashRemove(sk);
                }
                net.created.remove(sk);
            }
            net.listenUnhash(l);
            net.putPort(l, l.lport());
            net.created.remove(l);
        }
        return sink == Long.MIN_VALUE ? null : new int[] { frozen, walked, inPlace }; // the sink keeps the results alive for the JIT
    }

    /** A namespace only the warm-up knows: its own sysctl values, no devices, not in the core's list. */
    private record Scratch(NetCore core) implements NetNamespace {
        @Override
        public String name() {
            return "tcp-hand-over-warm-up";
        }

        @Override
        public boolean isInitNet() {
            return false;
        }

        @Override
        public List<NetDevice> devices() {
            return List.of();
        }

        @Override
        public NetDevice device(String name) {
            return null;
        }

        @Override
        public NetDevice device(int ifindex) {
            return null;
        }

        @Override
        public NetDevice register(org.modnet.api.net.DeviceSetup setup, org.modnet.api.net.NetDeviceOps ops) throws NetException {
            throw new NetException(org.modnet.api.net.Errno.EPERM);
        }

        @Override
        public void unregister(NetDevice dev) {
        }

        @Override
        public Sysctl sysctl() {
            return SYSCTL.get();
        }

        @Override
        public long addressGeneration() {
            return 0;
        }

        /** One tree per scratch namespace would be right; one per thread is enough for two scratch nets of defaults. */
        private static final ThreadLocal<Sysctl> SYSCTL = ThreadLocal.withInitial(Values::new);
    }

    /** Registered entries hold their defaults; nothing reads them by name. */
    private static final class Values implements Sysctl {
        private final SortedMap<String, String> all = new TreeMap<>();

        @Override
        public IntSysctl registerInt(String name, int defaultValue, int min, int max) {
            all.put(name, Integer.toString(defaultValue));
            int[] v = { defaultValue };
            return new IntSysctl() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public int get() {
                    return v[0];
                }

                @Override
                public void set(int value) {
                    v[0] = value;
                }
            };
        }

        @Override
        public IntVectorSysctl registerInts(String name, int[] defaults, int min, int max, boolean ordered) {
            int[][] v = { defaults.clone() };
            return new IntVectorSysctl() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public int[] get() {
                    return v[0];
                }

                @Override
                public void set(int... values) {
                    v[0] = values.clone();
                }
            };
        }

        @Override
        public void unregister(String prefix) {
        }

        @Override
        public String get(String name) throws NetException {
            String v = all.get(name);
            if (v == null) {
                throw new NetException(org.modnet.api.net.Errno.ENOENT);
            }
            return v;
        }

        @Override
        public void set(String name, String value) throws NetException {
            throw new NetException(org.modnet.api.net.Errno.EPERM);
        }

        @Override
        public SortedMap<String, String> all() {
            return new TreeMap<>(all);
        }
    }
}

package org.modnet.udp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

import org.modnet.api.handover.BundleUpdates;
import org.modnet.api.handover.LayerState;
import org.modnet.api.handover.SocketState;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketHandOver;
import org.modnet.socket.api.SocketProtocol;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * UDP, IP protocol 17 ({@code net/ipv4/udp.c}): {@code udp_rcv} (length and checksum checks, unicast
 * demux, broadcast delivery to every matching socket, ICMP port unreachable when no socket is bound),
 * {@code udp_err} (ICMP errors become the connected socket's error), the socket switch entry for
 * {@code socket(AF_INET, SOCK_DGRAM, 0)}, the per-namespace state and the {@code Udp} MIB; and UDP's
 * part of segmentation offload ({@code udp4_offload}: {@code UDP_SEGMENT} sends cut into datagrams).
 */
@Component(service = { InetProtocol.class, org.modnet.api.inet.InetOffload.class, SocketProtocol.class,
        PernetOperations.class, SnmpMib.class, UdpProtocol.class }, immediate = true, property = { InetProtocol.PROTOCOL + ":Integer=17",
                SocketProtocol.FAMILY + ":Integer=2", SocketProtocol.TYPE + ":Integer=2",
                SocketProtocol.PROTOCOL + ":Integer=17", SocketProtocol.DEFAULT + ":Boolean=true",
                PernetOperations.ORDER + ":Integer=20" })
public final class UdpProtocol implements InetProtocol, org.modnet.api.inet.InetOffload, SocketProtocol, PernetOperations,
        SnmpMib {
    /** ICMP types and codes udp_err knows. */
    private static final int DEST_UNREACH = 3;
    private static final int TIME_EXCEEDED = 11;
    private static final int PARAMETER_PROB = 12;
    private static final int PORT_UNREACH = 3;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UdpProtocol.class);
    /**
     * The layout of {@link SocketState} this code writes and reads: {@code extra} holds addressLocked,
     * portLocked and gsoSize ({@code UDP_SEGMENT}; a deposit without it, from before, reads as 0: off).
     */
    static final int STATE_VERSION = 1;
    static final String LAYER = "udp";

    private final Ipv4 ipv4;
    private volatile SocketHandOver holder;
    private final BooleanSupplier updating;
    private final int stateVersion;
    private final Map<NetNamespace, UdpNet> nets = new ConcurrentHashMap<>();

    public UdpProtocol(Ipv4 ipv4) {
        this(ipv4, null, () -> false, STATE_VERSION);
    }

    /**
     * The component: the holder (the socket layer's {@link SocketHandOver}, bound dynamically below, so
     * an update of the socket layer does not take UDP down with it) keeps the sockets across an update
     * of this bundle; the bundle's {@value BundleUpdates#STATE_VERSION_HEADER} header says which state layout it
     * writes and reads. The deposit is taken in {@link #activate}, once the holder is bound.
     */
    @Activate
    public UdpProtocol(@Reference Ipv4 ipv4, BundleContext context) {
        this(ipv4, null, () -> BundleUpdates.beingUpdated(context), BundleUpdates.stateVersion(context.getBundle(), STATE_VERSION));
    }

    /** With a holder given (the tests' wiring), adopts what the previous version deposited at once. */
    UdpProtocol(Ipv4 ipv4, SocketHandOver holder, BooleanSupplier updating, int stateVersion) {
        this.ipv4 = ipv4;
        this.updating = updating;
        this.stateVersion = stateVersion;
        if (holder != null) {
            this.holder = holder;
            takeOver(holder);
        }
    }

    /** DS: after the constructor and the holder's bind, before any service of this component is used. */
    @Activate
    void activate() {
        SocketHandOver h = holder;
        if (h != null) {
            takeOver(h);
        }
    }

    /**
     * The socket layer's hand-over holder, dynamic and greedy: when the socket layer is updated, its old
     * version's holder leaves and the next one's arrives while UDP stays (its sockets go to the next
     * socket layer with its tables); it is asked only on UDP's own update.
     */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unsetHolder")
    void setHolder(SocketHandOver h) {
        holder = h;
    }

    void unsetHolder(SocketHandOver h) {
        synchronized (this) {
            if (holder == h) {
                holder = null;
            }
        }
    }

    /** Adopts what the previous version deposited, if any, before any packet or call reaches this one. */
    private void takeOver(SocketHandOver holder) {
        LayerState st = holder.take(LAYER);
        if (st != null) {
            adopt(holder, st);
        }
    }

    /**
     * The bundle is stopping for an update (a transient stop: it stays persistently started) while the
     * framework keeps running. A framework shutting down, {@code stop} or {@code rmmod} close the sockets.
     */

    /**
     * Leaving for an update of this bundle, or because IPv4 leaves for one (UDP's static reference to
     * {@code Ipv4} takes it down with IPv4 and brings it back with the next IPv4): the sockets go to the
     * holder either way. An update of the socket layer (the holder) no longer takes UDP down: the
     * reference is dynamic, and the sockets stay in the socket layer's tables its next version takes.
     */
    @Override
    public boolean handingOver() {
        return holder != null && (updating.getAsBoolean() || ipv4 instanceof org.modnet.api.handover.HandsOver h && h.handingOver());
    }

    /** {@code udp_init_net}; a namespace whose sockets were adopted already has its state. */
    @Override
    public void init(NetNamespace ns) {
        nets.computeIfAbsent(ns, n -> new UdpNet(n, ipv4));
    }

    @Override
    public void exit(NetNamespace ns) {
        // leaving for an update: the sockets stay until deactivate deposits them
        UdpNet net = handingOver() ? nets.get(ns) : nets.remove(ns);
        if (net != null) {
            net.exit();
        }
    }

    /** Leaving for an update: every socket's state goes to the holder, which keeps their descriptors. */
    @Deactivate
    void deactivate() {
        SocketHandOver holder = this.holder;
        if (holder == null || !handingOver()) {
            return;
        }
        LayerState st = export();
        holder.deposit(st);
        LOG.info("udp: {} sockets handed over (state version {})", st.sockets().size(), st.version());
    }

    /** The state of every socket and the MIB of every namespace, as API values. */
    LayerState export() {
        List<SocketState> sockets = new ArrayList<>();
        Map<NetNamespace, Map<String, Long>> counters = new HashMap<>();
        for (UdpNet net : nets.values()) {
            for (UdpSock sk : net.socketsInHashOrder()) {
                if (!sk.isClosed()) {
                    sockets.add(sk.handOver());
                }
            }
            counters.put(net.ns, net.mib.snapshot());
        }
        return new LayerState(LAYER, stateVersion, sockets, counters);
    }

    /** The new version's side: counters continue, each socket is remade and its descriptors moved to it. */
    private void adopt(SocketHandOver holder, LayerState st) {
        if (st.version() != stateVersion || stateVersion != STATE_VERSION) {
            holder.refuse(st, "this udp reads state version " + STATE_VERSION + ", the deposit is version " + st.version());
            return;
        }
        st.counters().forEach((ns, mib) -> net(ns, true).mib.restore(mib));
        for (SocketState ss : st.sockets()) {
            UdpNet net = net(ss.namespace(), true);
            UdpSock sk = new UdpSock(net, ss);
            net.track(sk);
            holder.adopted(ss.id(), sk);
        }
        holder.finished(st);
        LOG.info("udp: {} sockets adopted (state version {})", st.sockets().size(), st.version());
    }

    private UdpNet net(NetNamespace ns, boolean create) {
        return create ? nets.computeIfAbsent(ns, n -> new UdpNet(n, ipv4)) : nets.get(ns);
    }

    UdpNet net(NetNamespace ns) {
        return nets.get(ns);
    }

    // --- the socket switch ---

    @Override
    public Sock create(NetNamespace ns) throws SockException {
        UdpNet net = nets.get(ns);
        if (net == null) {
            throw SockException.of(Errno.EAFNOSUPPORT); // the namespace is going away
        }
        UdpSock sk = new UdpSock(net);
        net.track(sk);
        return sk;
    }

    @Override
    public String name() {
        return "UDP";
    }

    @Override
    public long memoryPages(NetNamespace ns) {
        UdpNet net = nets.get(ns);
        return net == null ? 0 : net.memory.pages();
    }

    // --- receive ---

    /**
     * {@code __udp4_lib_rcv}: a header that does not fit or a length field outside [8, what arrived] is
     * InErrors; a checksum that does not verify is InCsumErrors and InErrors (0 means none was sent);
     * then the datagram goes to its socket, to every matching socket when broadcast, or, when no socket
     * has the port, answers ICMP port unreachable and counts NoPorts.
     */
    @Override
    public void receive(SkBuff skb) {
        UdpNet net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
        if (net == null) {
            skb.free();
            return;
        }
        int u = skb.data();
        if (skb.len() < UdpSock.HEADER || (skb.headLen() < UdpSock.HEADER && !skb.linearize())) {
            drop(net, skb, UdpMib.Counter.InErrors);
            return;
        }
        u = skb.data();
        int ulen = skb.getU16(u + 4);
        if (ulen < UdpSock.HEADER || ulen > skb.len()) {
            drop(net, skb, UdpMib.Counter.InErrors);
            return;
        }
        if (ulen < skb.len()) {
            skb.trim(ulen);
        }
        if (skb.dataLen() > 0 && !skb.linearize()) {
            drop(net, skb, UdpMib.Counter.InErrors);
            return;
        }
        int nh = skb.networkHeader();
        int saddr = skb.getU32(nh + 12);
        int daddr = skb.getU32(nh + 16);
        // skb_csum_unnecessary: a partial sum from a veth peer or lo never left memory, so it is good
        if (skb.getU16(u + 6) != 0 && skb.ipSummed() != Checksum.UNNECESSARY && skb.ipSummed() != Checksum.PARTIAL
                && UdpSock.checksum(skb, u, ulen, saddr, daddr) != 0xffff) {
            net.mib.inc(UdpMib.Counter.InCsumErrors);
            drop(net, skb, UdpMib.Counter.InErrors);
            return;
        }
        int sport = skb.getU16(u);
        int dport = skb.getU16(u + 2);
        skb.setTransportHeader(u);
        Ipv4.AddressType type = (daddr & 0xf0000000) == 0xe0000000 ? Ipv4.AddressType.MULTICAST
                : daddr == -1 ? Ipv4.AddressType.BROADCAST : null;
        if (type == null && ipv4.addressType(net.ns, daddr) == Ipv4.AddressType.BROADCAST) {
            type = Ipv4.AddressType.BROADCAST;
        }
        if (type != null) {
            deliverToAll(net, skb, saddr, sport, daddr, dport);
            return;
        }
        UdpSock sk = net.lookup(saddr, sport, daddr, dport);
        if (sk == null) {
            net.mib.inc(UdpMib.Counter.NoPorts);
            ipv4.sendIcmpError(skb, DEST_UNREACH, PORT_UNREACH, 0);
            skb.free();
            return;
        }
        queue(net, sk, skb);
    }

    /**
     * {@code udp_queue_rcv_skb}: a UDP GSO skb that arrived whole (a TAP's USO frame) is cut into its
     * datagrams first ({@code udp_rcv_segment}: modnet's sockets have no {@code UDP_GRO} to take it so),
     * each queued as if it had come alone; a datagram no buffer was found for is InErrors and RcvbufErrors.
     */
    private static void queue(UdpNet net, UdpSock sk, SkBuff skb) {
        if (!UdpOffload.isUdpGso(skb)) {
            queueOne(net, sk, skb);
            return;
        }
        int mss = skb.gsoSize();
        int expected = (skb.len() - UdpSock.HEADER + mss - 1) / mss;
        SkBuff seg = UdpOffload.rcvSegment(net.ns.core(), skb);
        if (seg == null) {
            net.mib.inc(UdpMib.Counter.InErrors);
            return;
        }
        while (seg != null) {
            SkBuff next = seg.next();
            seg.next(null);
            queueOne(net, sk, seg);
            seg = next;
            expected--;
        }
        for (; expected > 0; expected--) { // no buffer for the rest
            net.mib.inc(UdpMib.Counter.RcvbufErrors);
            net.mib.inc(UdpMib.Counter.InErrors);
        }
    }

    /** {@code udp_queue_rcv_one_skb}: the payload to the socket, or the drop counted as Linux counts it. */
    private static void queueOne(UdpNet net, UdpSock sk, SkBuff skb) {
        if (!sk.filter(skb, UdpSock.HEADER)) { // sk_filter_trim_cap: the socket filter's drop is InErrors and the socket's drops
            drop(net, skb, UdpMib.Counter.InErrors);
            return;
        }
        skb.pull(UdpSock.HEADER);
        Errno err = sk.queueReceive(skb);
        if (err != null) {
            net.mib.inc(err == Errno.ENOMEM ? UdpMib.Counter.RcvbufErrors : UdpMib.Counter.MemErrors);
            drop(net, skb, UdpMib.Counter.InErrors);
        }
    }

    /** {@code __udp4_lib_mcast_deliver}: a clone for each matching socket; none is IgnoredMulti, without ICMP. */
    private static void deliverToAll(UdpNet net, SkBuff skb, int saddr, int sport, int daddr, int dport) {
        List<UdpSock> targets = net.all(saddr, sport, daddr, dport);
        if (targets.isEmpty()) {
            drop(net, skb, UdpMib.Counter.IgnoredMulti);
            return;
        }
        for (int i = 0; i < targets.size() - 1; i++) {
            SkBuff c = skb.clone();
            if (c == null) {
                net.mib.inc(UdpMib.Counter.RcvbufErrors);
                net.mib.inc(UdpMib.Counter.InErrors);
                continue;
            }
            queue(net, targets.get(i), c);
        }
        queue(net, targets.get(targets.size() - 1), skb);
    }

    private static void drop(UdpNet net, SkBuff skb, UdpMib.Counter why) {
        net.mib.inc(why);
        skb.free();
    }

    /**
     * {@code udp_err}: an ICMP error about a datagram we sent. A hard error (port, protocol or
     * administratively unreachable, fragmentation needed, parameter problem) becomes the pending error
     * of the connected socket that sent it, which its next call returns; unconnected sockets ignore
     * errors, as Linux's without IP_RECVERR do. With IP_RECVERR every error is queued on the socket's
     * error queue ({@code recvmsg(MSG_ERRQUEUE)}) and becomes its pending error.
     */
    @Override
    public void error(SkBuff skb, int inner, int type, int code, int info) {
        errorFoundSocket(skb, inner, type, code, info);
    }

    /** {@link #error}: false when no socket sent the quoted datagram (Icmp InErrors, counted by IPv4). */
    @Override
    public boolean errorFoundSocket(SkBuff skb, int inner, int type, int code, int info) {
        UdpNet net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
        if (net == null) {
            return false;
        }
        int ihl = (skb.getU8(inner) & 0xf) * 4;
        int ourAddr = skb.getU32(inner + 12);
        int theirAddr = skb.getU32(inner + 16);
        int ourPort = skb.getU16(inner + ihl);
        int theirPort = skb.getU16(inner + ihl + 2);
        UdpSock sk = net.lookup(theirAddr, theirPort, ourAddr, ourPort);
        if (sk == null) {
            return false;
        }
        Errno err;
        boolean hard;
        switch (type) {
            case DEST_UNREACH -> {
                err = switch (code) {
                    case 0, 6, 11 -> Errno.ENETUNREACH;
                    case 2 -> Errno.ENOPROTOOPT;
                    case 3 -> Errno.ECONNREFUSED;
                    case 4 -> Errno.EMSGSIZE;
                    case 5 -> Errno.EOPNOTSUPP;
                    case 7 -> Errno.EHOSTDOWN;
                    case 9 -> Errno.ENETUNREACH;
                    default -> Errno.EHOSTUNREACH;
                };
                hard = code == 2 || code == 3 || code == 4 || code >= 6 && code != 11 && code != 12 && code <= 15;
            }
            case PARAMETER_PROB -> {
                err = Errno.EPROTO;
                hard = true;
            }
            case TIME_EXCEEDED -> {
                err = Errno.EHOSTUNREACH;
                hard = false;
            }
            default -> {
                return true;
            }
        }
        if (sk.recvErr()) {
            // ip_icmp_error: every error, hard or soft, connected or not, is queued with the quoted payload
            int offender = skb.getU32(skb.networkHeader() + 12);
            sk.queueError(skb, inner + ihl + 8, err, type, code, info, offender, theirAddr, theirPort);
        } else if (!hard || sk.state() != Sock.TCP_ESTABLISHED) {
            return true;
        }
        sk.reportError(err);
        return true;
    }

    // --- segmentation offload (udp4_offload) ---

    /** The UDP header's length, 8, for IPv4's {@code inet_gso_segment}. */
    @Override
    public int headerLen(SkBuff skb, int th) {
        return UdpSock.HEADER;
    }

    /** {@code __udp_gso_segment}'s part: the datagram's UDP length and checksum. */
    @Override
    public void gsoFixSegment(SkBuff seg, int index, int count, int offset, int payloadLen, boolean csumOffload) {
        UdpOffload.fixSegment(seg, payloadLen, csumOffload);
    }

    // --- counters ---

    @Override
    public String mib() {
        return "Udp";
    }

    @Override
    public Map<String, Long> counters(NetNamespace ns) {
        UdpNet net = nets.get(ns);
        return net == null ? Map.of() : net.mib.snapshot();
    }

    /** Sockets hashed in every namespace ({@code sockstat}'s UDP inuse, summed): the module's users. */
    int sockets() {
        int n = 0;
        for (UdpNet net : nets.values()) {
            n += net.hashed();
        }
        return n;
    }
}

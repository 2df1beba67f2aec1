package org.modnet.tcp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.net.Errno;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketProtocol;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TCP, IP protocol 6 ({@code net/ipv4/tcp_ipv4.c}): {@code tcp_v4_rcv}'s checks on every segment
 * (addressed to this host, length, data offset, checksum; each outcome on the counters Linux moves),
 * then the socket lookup — and, with no socket for the segment, {@code tcp_v4_send_reset}: the RST
 * RFC 9293 3.10.7.1 asks of a CLOSED port, so a peer's {@code connect} fails at once with
 * {@code ECONNREFUSED}. The per-namespace state and the {@code Tcp} and {@code TcpExt} MIBs, as
 * {@code nstat} and {@code netstat -s} show them.
 *
 * <p>Nothing on the receive path allocates: each softirq CPU reads segments through its own header
 * view, and a thread outside a softirq (a loopback sender) through a view of its own.
 */
@Component(service = { InetProtocol.class, SocketProtocol.class, PernetOperations.class, SnmpMib.class,
        TcpProtocol.class, org.modnet.api.inet.InetOffload.class }, immediate = true, property = { InetProtocol.PROTOCOL + ":Integer=6",
                SocketProtocol.FAMILY + ":Integer=2", SocketProtocol.TYPE + ":Integer=1",
                SocketProtocol.PROTOCOL + ":Integer=6", SocketProtocol.DEFAULT + ":Boolean=true",
                PernetOperations.ORDER + ":Integer=20" })
public final class TcpProtocol implements InetProtocol, SocketProtocol, PernetOperations, SnmpMib,
        org.modnet.api.inet.InetOffload {
    /** Headroom a segment we build leaves for IPv4 and the link layer ({@link Ipv4#send}'s ask). */
    private static final int HEADROOM = 64;
    /** The ECN bits of the TOS byte: a reply never copies them ({@code INET_ECN_MASK}). */
    private static final int ECN_MASK = 3;
    private static final Logger LOG = LoggerFactory.getLogger(TcpProtocol.class);

    private final NetCore core;
    private final Ipv4 ipv4;
    private final Map<NetNamespace, TcpNet> nets = new ConcurrentHashMap<>();
    /** One header view per softirq CPU; threads outside the softirqs use {@link #threadViews}. */
    private final TcpHeader[] views;
    private final ThreadLocal<TcpHeader> threadViews = ThreadLocal.withInitial(TcpHeader::new);
    private final TcpIsn isn;
    /** The congestion-control algorithms: Reno, then the services bound below. */
    private final CongestionControl cc = new CongestionControl();

    @Activate
    public TcpProtocol(@Reference NetCore core, @Reference Ipv4 ipv4) {
        this.core = core;
        this.ipv4 = ipv4;
        this.isn = new TcpIsn(core::nanoTime);
        this.views = new TcpHeader[core.cpus()];
        for (int i = 0; i < views.length; i++) {
            views[i] = new TcpHeader();
        }
    }

    @Override
    public void init(NetNamespace ns) {
        nets.put(ns, new TcpNet(ns, core, ipv4, isn, cc));
    }

    @Override
    public void exit(NetNamespace ns) {
        nets.remove(ns);
    }

    TcpNet net(NetNamespace ns) {
        return nets.get(ns);
    }

    // --- congestion control as services (tcp_register_congestion_control) ---

    /** A {@link TcpCongestionOps} service arrived: listed in every namespace's {@code tcp_available_congestion_control}. */
    @Reference(service = TcpCongestionOps.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeCongestion")
    public void addCongestion(TcpCongestionOps ops, Map<String, Object> props) {
        Object n = props.get(TcpCongestionOps.NAME);
        String name = n instanceof String s ? s : ops.name();
        try {
            cc.register(ops, name);
        } catch (org.modnet.api.net.NetException e) {
            LOG.warn("{}", e.getMessage()); // tcp_register_congestion_control's pr_notice
            return;
        }
        CongestionControl.Ca ca = cc.find(name);
        int cpu = core.currentCpu();
        for (TcpNet net : nets.values()) {
            net.cong.listChanged(null, ca);
            for (TcpSock sk : net.hashed()) { // an update of the algorithm: its connections come back to it
                sk.congReturn(ca, cpu);
            }
        }
    }

    /**
     * The service left: every connection on it moves to its namespace's default and is counted
     * (TCPCongestionFallback); Linux would have refused the unload while a connection used it. If an
     * algorithm of the same name comes back (the bundle was updated), they return to it.
     */
    public void removeCongestion(TcpCongestionOps ops) {
        CongestionControl.Ca left = cc.unregister(ops);
        if (left == null) {
            return;
        }
        int cpu = core.currentCpu();
        for (TcpNet net : nets.values()) {
            net.cong.listChanged(left, null);
            for (TcpSock sk : net.hashed()) {
                sk.congFallback(left, cpu);
            }
            for (TcpSock sk : net.orphans) {
                sk.congFallback(left, cpu);
            }
        }
    }

    /** The algorithms' names, as {@code tcp_available_congestion_control} lists them. */
    String availableCongestionControl() {
        return cc.available();
    }

    // --- receive ---

    // --- the socket switch ---

    @Override
    public Sock create(NetNamespace ns) throws SockException {
        TcpNet net = nets.get(ns);
        if (net == null) {
            throw SockException.of(Errno.EAFNOSUPPORT); // the namespace is going away
        }
        return new TcpSock(net);
    }

    @Override
    public String name() {
        return "TCP";
    }

    @Override
    public long memoryPages(NetNamespace ns) {
        TcpNet net = nets.get(ns);
        return net == null ? 0 : net.tmem.pages();
    }

    /**
     * The hashed sockets ({@code inet_diag}'s walk): listeners, then SYN-RECV, connections and orphans,
     * then the TIME-WAIT socks (each seen as a socket in its state).
     */
    @Override
    public List<Sock> sockets(NetNamespace ns) {
        TcpNet net = nets.get(ns);
        if (net == null) {
            return List.of();
        }
        List<Sock> out = new ArrayList<>(net.hashed());
        for (TcpTimewaitSock tw : net.deathRow.all()) {
            out.add(tw.view());
        }
        return out;
    }

    /**
     * {@code tcp_v4_rcv}: a segment not for this host is discarded uncounted, every other one counts in
     * InSegs; a short or truncated one is dropped, a bad data offset is InErrs, a bad checksum
     * InCsumErrors and InErrs. A segment that passes goes to its connection ({@code
     * __inet_lookup_established}), else to a listener on its port, else is answered with a reset unless
     * it is one. The socket owns the skb from there.
     */
    @Override
    public void receive(SkBuff skb) {
        TcpNet net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
        if (net == null) {
            skb.free();
            return;
        }
        int cpu = core.currentCpu();
        TcpHeader th = cpu >= 0 && cpu < views.length ? views[cpu] : threadViews.get();
        TcpHeader.Check check = th.check(skb, TcpAf.INET);
        check.count(net.mib, cpu);
        if (check != TcpHeader.Check.OK) {
            if (check.inSegs) {
                net.drops.count(cpu, check == TcpHeader.Check.BAD_CSUM ? TcpDrops.Reason.TCP_CSUM : TcpDrops.Reason.PKT_TOO_SMALL);
            }
            skb.free();
            return;
        }
        int nh = skb.networkHeader();
        int saddr = skb.getU32(nh + 12);
        int daddr = skb.getU32(nh + 16);
        int sport = th.source();
        int dport = th.dest();
        skb.setTransportHeader(skb.data());
        TcpSock sk = net.lookupEstablished(saddr, sport, daddr, dport);
        if (sk == null) {
            TcpTimewaitSock tw = net.deathRow.lookup(saddr, sport, daddr, dport);
            if (tw != null && !net.deathRow.receive(tw, skb, cpu)) {
                net.drops.count(cpu, TcpDrops.Reason.NOT_SPECIFIED); // do_time_wait's discard_it
                skb.free(); // answered by the TIME-WAIT sock (tcp_timewait_state_process)
                return;
            }
            sk = net.lookupListener(daddr, dport);
            if (tw != null) { // a newer SYN recycled the TIME-WAIT: the listener takes it with the ISN left
                if (sk != null) {
                    sk.deliver(skb, cpu);
                } else {
                    net.drops.count(cpu, TcpDrops.Reason.NO_SOCKET);
                    skb.free();
                }
                net.deathRow.clearIsn(cpu);
                return;
            }
        }
        if (sk != null) {
            sk.deliver(skb, cpu);
            return;
        }
        sendReset(net, skb, cpu);
        net.drops.count(cpu, TcpDrops.Reason.NO_SOCKET);
        skb.free();
    }

    /**
     * {@code tcp_v4_send_reset} with no socket: never for a reset, nor for a segment to a broadcast or
     * multicast address. A segment with ACK is answered {@code <SEQ=SEG.ACK><CTL=RST>}, any other
     * {@code <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>} (SYN and FIN count in SEG.LEN); window 0, no
     * options, from the address the segment was sent to, with its TOS less the ECN bits, counted in
     * OutSegs and OutRsts. The segment's TCP header is at {@code in.data()}.
     */
    static void sendReset(TcpNet net, SkBuff in, int cpu) {
        int t = in.data();
        int flags = in.getU8(t + TcpHeader.FLAGS);
        if ((flags & TcpHeader.RST) != 0) {
            return;
        }
        int nh = in.networkHeader();
        int saddr = in.getU32(nh + 16); // we answer from the address it was sent to
        int daddr = in.getU32(nh + 12);
        if (net.ipv4.addressType(net.ns, saddr) != Ipv4.AddressType.LOCAL) {
            return; // RTN_LOCAL only: no reset to a broadcast or multicast segment
        }
        int hlen = (in.getU8(t + TcpHeader.DOFF) >>> 4) * 4;
        int payload = in.len() - hlen;
        int seq;
        int ack;
        int out;
        if ((flags & TcpHeader.ACK) != 0) {
            seq = in.getU32(t + TcpHeader.ACK_SEQ);
            ack = 0;
            out = TcpHeader.RST;
        } else {
            seq = 0;
            ack = in.getU32(t + TcpHeader.SEQ) + payload + ((flags & TcpHeader.SYN) != 0 ? 1 : 0)
                    + ((flags & TcpHeader.FIN) != 0 ? 1 : 0);
            out = TcpHeader.RST | TcpHeader.ACK;
        }
        int sport = in.getU16(t + TcpHeader.DEST);
        int dport = in.getU16(t + TcpHeader.SOURCE);
        int tos = in.getU8(nh + 1) & ~ECN_MASK;
        SkBuff rst = net.core.allocSkb(TcpHeader.MIN_LEN, HEADROOM);
        if (rst == null) {
            return; // the pool counted its refusal; Linux's ip_send_unicast_reply fails the same way
        }
        int o = rst.put(TcpHeader.MIN_LEN);
        TcpHeader.write(rst, o, sport, dport, seq, ack, out, 0, 0);
        TcpHeader.setChecksum(rst, o, TcpHeader.MIN_LEN, TcpAf.inetPseudoSum(saddr, daddr, TcpHeader.MIN_LEN));
        net.mib.inc(cpu, TcpMib.Tcp.OutSegs);
        net.mib.inc(cpu, TcpMib.Tcp.OutRsts);
        net.ipv4.send(net.ns, rst, saddr, daddr, TcpAf.IPPROTO_TCP, 0, tos, true); // TCP's control socket: IP_PMTUDISC_DO
    }

    // --- the MIBs ---

    @Override
    public String mib() {
        return "Tcp";
    }

    /** Tcp then TcpExt, by nstat's names, in /proc/net/snmp and /proc/net/netstat order. */
    @Override
    public Map<String, Long> counters(NetNamespace ns) {
        TcpNet net = nets.get(ns);
        if (net == null) {
            return Map.of();
        }
        return net.mib.snapshot();
    }

    // --- software segmentation (tcp4_gso_segment), for IPv4's inet_gso_segment ---

    @Override
    public int headerLen(SkBuff skb, int th) {
        return TcpOffload.headerLen(skb, th);
    }

    @Override
    public void gsoFixSegment(SkBuff seg, int index, int count, int offset, int payloadLen, boolean csumOffload) {
        TcpOffload.fixSegment(seg, index, count, offset, payloadLen, csumOffload);
    }

    /** Sockets in the hashes of every namespace (listeners, connections, TIME-WAIT): the module's users. */
    int sockets() {
        int n = 0;
        for (TcpNet net : nets.values()) {
            n += net.hashed().size();
        }
        return n;
    }
}

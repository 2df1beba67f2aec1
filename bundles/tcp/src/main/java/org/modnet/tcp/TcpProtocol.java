package org.modnet.tcp;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

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
@Component(service = { InetProtocol.class, PernetOperations.class, SnmpMib.class, TcpProtocol.class },
        immediate = true, property = { InetProtocol.PROTOCOL + ":Integer=6", PernetOperations.ORDER + ":Integer=20" })
public final class TcpProtocol implements InetProtocol, PernetOperations, SnmpMib {
    /** Headroom a segment we build leaves for IPv4 and the link layer ({@link Ipv4#send}'s ask). */
    private static final int HEADROOM = 64;
    /** The ECN bits of the TOS byte: a reply never copies them ({@code INET_ECN_MASK}). */
    private static final int ECN_MASK = 3;

    private final NetCore core;
    private final Ipv4 ipv4;
    private final Map<NetNamespace, TcpNet> nets = new ConcurrentHashMap<>();
    /** One header view per softirq CPU; threads outside the softirqs use {@link #threadViews}. */
    private final TcpHeader[] views;
    private final ThreadLocal<TcpHeader> threadViews = ThreadLocal.withInitial(TcpHeader::new);

    @Activate
    public TcpProtocol(@Reference NetCore core, @Reference Ipv4 ipv4) {
        this.core = core;
        this.ipv4 = ipv4;
        this.views = new TcpHeader[core.cpus()];
        for (int i = 0; i < views.length; i++) {
            views[i] = new TcpHeader();
        }
    }

    @Override
    public void init(NetNamespace ns) {
        nets.put(ns, new TcpNet(ns, core.cpus()));
    }

    @Override
    public void exit(NetNamespace ns) {
        nets.remove(ns);
    }

    TcpNet net(NetNamespace ns) {
        return nets.get(ns);
    }

    // --- receive ---

    /**
     * {@code tcp_v4_rcv}: a segment not for this host is discarded uncounted, every other one counts in
     * InSegs; a short or truncated one is dropped, a bad data offset is InErrs, a bad checksum
     * InCsumErrors and InErrs. A segment that passes finds no socket (none listens or connects yet),
     * and is answered with a reset unless it is one.
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
        if (check == TcpHeader.Check.OK) {
            sendReset(net, th, cpu);
        }
        skb.free();
    }

    /**
     * {@code tcp_v4_send_reset} with no socket: never for a reset, nor for a segment to a broadcast or
     * multicast address. A segment with ACK is answered {@code <SEQ=SEG.ACK><CTL=RST>}, any other
     * {@code <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>} (SYN and FIN count in SEG.LEN); window 0, no
     * options, from the address the segment was sent to, with its TOS less the ECN bits, counted in
     * OutSegs and OutRsts.
     */
    private void sendReset(TcpNet net, TcpHeader th, int cpu) {
        if (th.rst()) {
            return;
        }
        SkBuff in = th.skb();
        int nh = in.networkHeader();
        int saddr = in.getU32(nh + 16); // we answer from the address it was sent to
        int daddr = in.getU32(nh + 12);
        if (ipv4.addressType(net.ns, saddr) != Ipv4.AddressType.LOCAL) {
            return; // RTN_LOCAL only: no reset to a broadcast or multicast segment
        }
        int seq;
        int ack;
        int flags;
        if (th.ack()) {
            seq = th.ackSeq();
            ack = 0;
            flags = TcpHeader.RST;
        } else {
            seq = 0;
            ack = th.seq() + th.payloadLen() + (th.syn() ? 1 : 0) + (th.fin() ? 1 : 0);
            flags = TcpHeader.RST | TcpHeader.ACK;
        }
        int sport = th.dest();
        int dport = th.source();
        int tos = in.getU8(nh + 1) & ~ECN_MASK;
        SkBuff rst = core.allocSkb(TcpHeader.MIN_LEN, HEADROOM);
        if (rst == null) {
            return; // the pool counted its refusal; Linux's ip_send_unicast_reply fails the same way
        }
        int o = rst.put(TcpHeader.MIN_LEN);
        TcpHeader.write(rst, o, sport, dport, seq, ack, flags, 0, 0);
        TcpHeader.setChecksum(rst, o, TcpHeader.MIN_LEN, TcpAf.inetPseudoSum(saddr, daddr, TcpHeader.MIN_LEN));
        net.mib.inc(cpu, TcpMib.Tcp.OutSegs);
        net.mib.inc(cpu, TcpMib.Tcp.OutRsts);
        ipv4.send(net.ns, rst, saddr, daddr, TcpAf.IPPROTO_TCP, 0, tos);
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
}

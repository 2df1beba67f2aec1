package org.modnet.ipv4;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.InetProtocol;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;

/**
 * ICMP ({@code net/ipv4/icmp.c}), IP protocol 1: answers echo requests (unless
 * {@code net.ipv4.icmp_echo_ignore_all}), hands echo replies and errors about our echoes to the ping
 * that waits for them (by identifier, as Linux's ping sockets do), and counts it all in the
 * {@code Icmp} and {@code IcmpMsg} MIBs.
 */
final class Icmp implements InetProtocol {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Icmp.class);
    static final int ECHO_REPLY = 0;
    static final int DEST_UNREACH = 3;
    static final int ECHO = 8;
    static final int REDIRECT = 5;
    static final int TIME_EXCEEDED = 11;
    static final int PARAMETER_PROB = 12;
    static final int HEADER = 8;
    /** Destination unreachable's code 4: fragmentation needed and DF set (RFC 1191 adds the next-hop MTU). */
    static final int FRAG_NEEDED = 4;

    /** What a ping hears. */
    interface EchoListener {
        void reply(int from, int seq, int ttl, int bytes, long sentNanos);

        void error(int from, int type, int code, int seq);
    }

    private final Ipv4Net net;
    final IcmpMib mib = new IcmpMib();
    private final Map<Integer, EchoListener> pings = new ConcurrentHashMap<>();

    private final IcmpRateLimit rateLimit;

    Icmp(Ipv4Net net, IcmpRateLimit rateLimit) {
        this.net = net;
        this.rateLimit = rateLimit;
    }

    boolean listen(int id, EchoListener l) {
        return pings.putIfAbsent(id, l) == null;
    }

    void unlisten(int id) {
        pings.remove(id);
    }

    /** traceroute's UDP probes by their source port: the ICMP errors quoting them. */
    private final Map<Integer, java.util.function.Consumer<TracerouteCommand.Answer>> probes = new ConcurrentHashMap<>();

    boolean listenProbes(int sport, java.util.function.Consumer<TracerouteCommand.Answer> l) {
        return probes.putIfAbsent(sport, l) == null;
    }

    void unlistenProbes(int sport) {
        probes.remove(sport);
    }

    @Override
    public void receive(SkBuff skb) {
        try {
            process(skb);
        } finally {
            skb.free();
        }
    }

    private void process(SkBuff skb) {
        mib.inc(IcmpMib.Counter.InMsgs);
        int i = skb.data();
        int len = skb.len();
        if (skb.headLen() < HEADER || !InetChecksum.verify(skb, i, len)) {
            if (skb.headLen() >= HEADER) {
                mib.inc(IcmpMib.Counter.InCsumErrors);
            }
            mib.inc(IcmpMib.Counter.InErrors);
            return;
        }
        int type = skb.getU8(i);
        mib.in(type);
        int nh = skb.networkHeader();
        int saddr = Ipv4Header.saddr(skb, nh);
        int daddr = Ipv4Header.daddr(skb, nh);
        if ((daddr & 0xf0000000) == 0xe0000000 || net.classify(daddr, skb.dev()) == Ipv4Input.Destination.BROADCAST) {
            // icmp_rcv, RFC 1122 3.2.2.6: an echo to a broadcast is ignored if icmp_echo_ignore_broadcasts;
            // no other message (but timestamps and address masks, which modnet does not answer) is taken
            if (type != ECHO || net.icmpEchoIgnoreBroadcasts.get() != 0) {
                if (type == ECHO) {
                    mib.inc(IcmpMib.Counter.InEchos);
                }
                mib.inc(IcmpMib.Counter.InErrors);
                return;
            }
        }
        switch (type) {
            case ECHO -> {
                mib.inc(IcmpMib.Counter.InEchos);
                if (net.ns.sysctl() != null && echoIgnored()) {
                    return;
                }
                reply(skb, i, len, saddr, daddr);
            }
            case ECHO_REPLY -> {
                mib.inc(IcmpMib.Counter.InEchoReps);
                EchoListener l = pings.get(skb.getU16(i + 4));
                if (l != null && len >= HEADER + 8) {
                    long sent = ((long) skb.getU32(i + HEADER) << 32) | (skb.getU32(i + HEADER + 4) & 0xffffffffL);
                    l.reply(saddr, skb.getU16(i + 6), Ipv4Header.ttl(skb, nh), len, sent);
                }
            }
            case REDIRECT -> {
                mib.inc(IcmpMib.Counter.InRedirects);
                if (len < HEADER + Ipv4Header.MIN_LEN) {
                    mib.inc(IcmpMib.Counter.InErrors);
                    return;
                }
                net.redirected(skb, i, saddr); // the transports' err handlers only update the route: done once here
            }
            case DEST_UNREACH, TIME_EXCEEDED, PARAMETER_PROB -> {
                mib.inc(type == DEST_UNREACH ? IcmpMib.Counter.InDestUnreachs
                        : type == TIME_EXCEEDED ? IcmpMib.Counter.InTimeExcds : IcmpMib.Counter.InParmProbs);
                if (bogus(skb, i, len, saddr, type)) {
                    return;
                }
                if (type == DEST_UNREACH && skb.getU8(i + 1) == FRAG_NEEDED) {
                    fragNeeded(skb, i, len);
                }
                errorAboutEcho(skb, i, len, saddr, type);
                if (!probes.isEmpty() && errorAboutProbe(skb, i, len, saddr, type)) {
                    return; // the probe's sender took it, as its socket would on Linux
                }
                toTransport(skb, i, len, type);
            }
            default -> {
            }
        }
    }

    /**
     * {@code icmp_unreach}: an error about a packet sent to a broadcast address violates RFC 1122; with
     * {@code icmp_ignore_bogus_error_responses} 0 the kernel warns and drops it, with 1 (the default) it
     * passes it on without a word.
     */
    private boolean bogus(SkBuff skb, int i, int len, int from, int type) {
        if (len < HEADER + Ipv4Header.MIN_LEN || net.icmpIgnoreBogusErrorResponses.get() != 0) {
            return false;
        }
        int inner = Ipv4Header.daddr(skb, i + HEADER);
        if (net.classify(inner, null) != Ipv4Input.Destination.BROADCAST) {
            return false;
        }
        LOG.warn("{} sent an invalid ICMP type {}, code {} error to a broadcast: {} on {}", dotted(from), type,
                skb.getU8(i + 1), dotted(inner), skb.dev() == null ? "?" : skb.dev().name());
        return true;
    }

    private static String dotted(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
    }

    private boolean echoIgnored() {
        try {
            return "1".equals(net.ns.sysctl().get("net.ipv4.icmp_echo_ignore_all"));
        } catch (org.modnet.api.net.NetException e) {
            return false;
        }
    }

    /**
     * {@code icmp_unreach}'s ICMP_FRAG_NEEDED, then {@code ipv4_update_pmtu}: the quoted packet's
     * destination gets the next-hop MTU (the low 16 bits of the second word, RFC 1191) as its path MTU,
     * unless {@code net.ipv4.ip_no_pmtu_disc} is set. Linux has each protocol's err_handler update the
     * route for the socket it finds; here the exception is learned once for every protocol, before the
     * hand-off, and then the transport hears of it as before.
     */
    private void fragNeeded(SkBuff skb, int i, int len) {
        if (len < HEADER + Ipv4Header.MIN_LEN || net.noPmtuDisc.get() != 0) {
            return;
        }
        int inner = i + HEADER;
        int dest = Ipv4Header.daddr(skb, inner);
        org.modnet.api.inet.RouteEntry r = net.rules.output(dest, 0, 0, 0, 0, 0, 0, 0);
        if (r != null && r.dev() != null) {
            net.pmtu.update(dest, skb.getU16(i + 6), r.dev().mtu(), net.core.nanoTime() / 1_000_000);
        }
    }

    /** An ICMP error quoting one of our echo requests: tell the ping that sent it. */
    private void errorAboutEcho(SkBuff skb, int i, int len, int from, int type) {
        int inner = i + HEADER;
        if (len < HEADER + Ipv4Header.MIN_LEN + HEADER) {
            return;
        }
        int ihl = Ipv4Header.headerLen(skb, inner);
        if (ihl < Ipv4Header.MIN_LEN || len < HEADER + ihl + HEADER || Ipv4Header.protocol(skb, inner) != 1
                || skb.getU8(inner + ihl) != ECHO) {
            return;
        }
        EchoListener l = pings.get(skb.getU16(inner + ihl + 4));
        if (l != null) {
            l.error(from, type, skb.getU8(i + 1), skb.getU16(inner + ihl + 6));
        }
    }

    /** An ICMP error quoting one of traceroute's UDP probes (its source port): tell the traceroute; false if none is. */
    private boolean errorAboutProbe(SkBuff skb, int i, int len, int from, int type) {
        int inner = i + HEADER;
        if (len < HEADER + Ipv4Header.MIN_LEN + 8) {
            return false;
        }
        int ihl = Ipv4Header.headerLen(skb, inner);
        if (ihl < Ipv4Header.MIN_LEN || len < HEADER + ihl + 8 || Ipv4Header.protocol(skb, inner) != 17) {
            return false;
        }
        var l = probes.get(skb.getU16(inner + ihl));
        if (l != null) {
            l.accept(new TracerouteCommand.Answer(from, type, skb.getU8(i + 1), skb.getU16(inner + ihl + 2), System.nanoTime(),
                    skb.getU16(i + 6), Ipv4Header.ttl(skb, skb.networkHeader())));
            return true;
        }
        return false;
    }

    /**
     * {@code icmp_unreach}'s hand-off: the protocol of the quoted packet hears about the error
     * ({@code err_handler}), when the quote holds its header and 8 bytes of its own; an error for which
     * the protocol has no socket is counted in InErrors, as its handler counts it on Linux.
     */
    private void toTransport(SkBuff skb, int i, int len, int type) {
        int inner = i + HEADER;
        if (len < HEADER + Ipv4Header.MIN_LEN + 8 || skb.headLen() < len) {
            return;
        }
        int ihl = Ipv4Header.headerLen(skb, inner);
        int protocol = Ipv4Header.protocol(skb, inner);
        if (ihl < Ipv4Header.MIN_LEN || len < HEADER + ihl + 8 || protocol == 1) {
            return;
        }
        InetProtocol handler = net.input.protocol(protocol);
        if (handler != null && !handler.errorFoundSocket(skb, inner, type, skb.getU8(i + 1), skb.getU32(i + 4))) {
            mib.inc(IcmpMib.Counter.InErrors);
        }
    }

    /** {@code icmp_echo}: the same message back, as an echo reply from the address it was sent to. */
    private void reply(SkBuff request, int i, int len, int saddr, int daddr) {
        if (!rateAllowed(ECHO_REPLY, 0, saddr)) {
            return;
        }
        SkBuff skb = net.core.allocSkb(len, 128);
        if (skb == null) {
            mib.inc(IcmpMib.Counter.OutErrors);
            return;
        }
        int o = skb.put(len);
        java.lang.foreign.MemorySegment.copy(request.memory(), i, skb.memory(), o, len); // a fresh buffer of ours
        skb.setU8(o, ECHO_REPLY);
        skb.setU16(o + 2, 0);
        skb.setU16(o + 2, InetChecksum.checksum(skb, o, len));
        mib.inc(IcmpMib.Counter.OutMsgs);
        mib.inc(IcmpMib.Counter.OutEchoReps);
        mib.out(ECHO_REPLY);
        net.output.send(skb, (daddr >>> 24) == 127 || net.classify(daddr, null) == Ipv4Input.Destination.LOCAL ? daddr : 0,
                saddr, 1, 0, 0, false); // the ICMP control socket: IP_PMTUDISC_DONT
    }

    /**
     * {@code icmpv4_global_allow} then {@code icmpv4_xrlim_allow}: whether a message of this type may
     * go to {@code destination} now; a refusal is counted ({@code OutRateLimitGlobal},
     * {@code OutRateLimitHost}). Types outside {@code icmp_ratemask} (echo replies, by default) always
     * go, and so does anything to ourselves (Linux does not limit a route through loopback).
     */
    private boolean rateAllowed(int type, int code, int destination) {
        if (!rateLimit.limited(type, code)) {
            return true;
        }
        long now = net.core.nanoTime() / 1_000_000;
        if (!rateLimit.globalAllow(now)) {
            mib.inc(IcmpMib.Counter.OutRateLimitGlobal);
            return false;
        }
        if ((destination >>> 24) != 127 && net.classify(destination, null) != Ipv4Input.Destination.LOCAL
                && !rateLimit.hostAllow(destination, now)) {
            mib.inc(IcmpMib.Counter.OutRateLimitHost);
            return false;
        }
        rateLimit.consume();
        return true;
    }

    /**
     * {@code icmp_send}: an error about {@code orig} (data at its IP header) to its sender, quoting its
     * header and the start of its payload. Never about an ICMP error, a fragment other than the first,
     * or a packet to a broadcast address; rate-limited per destination.
     */
    void sendError(SkBuff orig, int type, int code, int info) {
        int h = orig.networkHeader() >= 0 ? orig.networkHeader() : orig.data();
        int ihl = Ipv4Header.headerLen(orig, h);
        int saddr = Ipv4Header.saddr(orig, h);
        if ((Ipv4Header.fragOff(orig, h) & Ipv4Header.OFFSET_MASK) != 0 || saddr == 0 || saddr == -1
                || (saddr & 0xf0000000) == 0xe0000000) {
            return;
        }
        if (Ipv4Header.protocol(orig, h) == 1 && orig.headLen() >= (h - orig.data()) + ihl + 1) {
            int t = orig.getU8(h + ihl);
            if (t != ECHO && t != ECHO_REPLY) {
                return; // no error about an error
            }
        }
        if (!rateAllowed(type, code, saddr)) {
            return;
        }
        int quoted = Math.min(Ipv4Header.totalLen(orig, h), Math.min(orig.tail() - h, 576 - Ipv4Header.MIN_LEN - HEADER));
        SkBuff skb = net.core.allocSkb(HEADER + quoted, 128);
        if (skb == null) {
            mib.inc(IcmpMib.Counter.OutErrors);
            return;
        }
        int o = skb.put(HEADER + quoted);
        skb.setU8(o, type);
        skb.setU8(o + 1, code);
        skb.setU16(o + 2, 0);
        skb.setU32(o + 4, info);
        java.lang.foreign.MemorySegment.copy(orig.memory(), h, skb.memory(), o + HEADER, quoted);
        skb.setU16(o + 2, InetChecksum.checksum(skb, o, HEADER + quoted));
        mib.inc(IcmpMib.Counter.OutMsgs);
        mib.inc(type == DEST_UNREACH ? IcmpMib.Counter.OutDestUnreachs
                : type == TIME_EXCEEDED ? IcmpMib.Counter.OutTimeExcds
                : type == REDIRECT ? IcmpMib.Counter.OutRedirects : IcmpMib.Counter.OutParmProbs);
        mib.out(type);
        // __icmp_send: the route's source back to the sender, or with icmp_errors_use_inbound_ifaddr the
        // address of the device the packet came in on nearest the sender (inet_select_addr)
        int from = 0;
        NetDevice in = orig.dev();
        if (in != null && net.icmpErrorsUseInboundIfaddr.get() != 0 && !net.output.isLocal(saddr)) {
            from = org.modnet.api.inet.Ipv4Addresses.select(in, saddr, true);
        }
        net.output.send(skb, from, saddr, 1, 0, 0xc0, false);
    }

    /** Sends an echo request with {@code size} bytes of data (the first 8 the send time). */
    Errno sendEcho(int daddr, int id, int seq, int size, int ttl) {
        return sendEcho(daddr, 0, id, seq, size, ttl);
    }

    /** An echo request from {@code saddr} (0: the route's source). */
    Errno sendEcho(int daddr, int saddr, int id, int seq, int size, int ttl) {
        return sendEcho(daddr, saddr, id, seq, size, ttl, 0);
    }

    /** An echo request carrying {@code mark} ({@code skb->mark}, as ping's SO_MARK sets it). */
    Errno sendEcho(int daddr, int saddr, int id, int seq, int size, int ttl, int mark) {
        SkBuff skb = net.core.allocSkb(HEADER + size, 128);
        if (skb == null) {
            return Errno.ENOBUFS;
        }
        skb.mark(mark);
        int o = skb.put(HEADER + size);
        skb.setU8(o, ECHO);
        skb.setU8(o + 1, 0);
        skb.setU16(o + 2, 0);
        skb.setU16(o + 4, id);
        skb.setU16(o + 6, seq);
        long now = System.nanoTime();
        if (size >= 8) {
            skb.setU32(o + HEADER, (int) (now >>> 32));
            skb.setU32(o + HEADER + 4, (int) now);
        }
        for (int k = 8; k < size; k++) {
            skb.setU8(o + HEADER + k, k); // iputils' pattern: 0x08, 0x09, ...
        }
        skb.setU16(o + 2, InetChecksum.checksum(skb, o, HEADER + size));
        mib.inc(IcmpMib.Counter.OutMsgs);
        mib.inc(IcmpMib.Counter.OutEchos);
        mib.out(ECHO);
        return net.output.send(skb, saddr, daddr, 1, ttl, 0, false);
    }
}

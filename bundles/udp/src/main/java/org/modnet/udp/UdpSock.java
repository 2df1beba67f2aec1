package org.modnet.udp;

import java.nio.ByteBuffer;
import java.util.Map;

import org.modnet.api.handover.Datagram;
import org.modnet.api.handover.SocketState;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.Errno;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;

/**
 * A UDP socket ({@code net/ipv4/udp.c}): bind and autobind, connect (the peer filter and the source
 * address), {@code udp_sendmsg} with its checksum, and {@code udp_recvmsg} counting InDatagrams.
 */
final class UdpSock extends Sock {
    static final int HEADER = 8;
    /** The largest payload: 65535 less the IPv4 and UDP headers. */
    static final int MAX_PAYLOAD = 0xffff - 20 - HEADER;
    private static final int HEADROOM = 128;

    private final UdpNet net;
    /** The address bound by the user ({@code SOCK_BINDADDR_LOCK}) or set by connect. */
    private volatile int boundAddress;
    private volatile boolean addressLocked;
    private volatile boolean portLocked;
    /** {@code up->gso_size} ({@code UDP_SEGMENT}): a send longer than this goes as one GSO skb of such datagrams; 0 for none. */
    private volatile int gsoSize;

    UdpSock(UdpNet net) {
        super(net.ns, SocketCalls.SOCK_DGRAM, SocketCalls.IPPROTO_UDP, net.memory);
        this.net = net;
    }

    /** The new version's socket made from a handed-over state: addresses, options, port and queued datagrams. */
    UdpSock(UdpNet net, SocketState st) {
        this(net);
        adopt(st);
        boundAddress = st.boundAddress();
        addressLocked = st.extra().getOrDefault("addressLocked", 0L) != 0;
        portLocked = st.extra().getOrDefault("portLocked", 0L) != 0;
        gsoSize = (int) (long) st.extra().getOrDefault("gsoSize", 0L); // UDP_SEGMENT; absent from older deposits: off
        if (localPort != 0) {
            net.rehash(this, localPort);
        }
        for (Datagram d : st.receiveQueue()) {
            requeue(d);
        }
    }

    /** A datagram queued again as it arrived: IPv4 and UDP headers carry its sender, for recvfrom. */
    private void requeue(Datagram d) {
        int hdr = 20 + HEADER;
        SkBuff skb = ns.core().allocSkb(hdr + d.payload().length, 0);
        if (skb == null) {
            net.mib.inc(UdpMib.Counter.RcvbufErrors);
            net.mib.inc(UdpMib.Counter.InErrors);
            return;
        }
        int o = skb.put(hdr + d.payload().length);
        skb.setNetworkHeader(o);
        skb.setU32(o + 12, d.sourceAddress());
        skb.setU32(o + 16, localAddress);
        skb.setTransportHeader(o + 20);
        skb.setU16(o + 20, d.sourcePort());
        skb.setU16(o + 22, localPort);
        skb.setU16(o + 24, HEADER + d.payload().length);
        skb.setBytes(o + hdr, d.payload(), 0, d.payload().length);
        skb.pull(hdr);
        Errno err = queueReceive(skb);
        if (err != null) {
            net.mib.inc(err == Errno.ENOMEM ? UdpMib.Counter.RcvbufErrors : UdpMib.Counter.MemErrors);
            net.mib.inc(UdpMib.Counter.InErrors);
            skb.free();
        }
    }

    /** This socket as the next version adopts it (its queue is emptied into the state). */
    SocketState handOver() {
        return new SocketState(inode(), ns, SocketCalls.AF_INET, type(), protocol(), state, localAddress, localPort,
                boundAddress, remoteAddress, remotePort, shutdownBits(), takeError(), options(), takeReceiveQueue(),
                drops(), Map.of("addressLocked", addressLocked ? 1L : 0L, "portLocked", portLocked ? 1L : 0L,
                        "gsoSize", (long) gsoSize), takeErrorQueue());
    }

    int port() {
        return localPort;
    }

    int boundAddress() {
        return boundAddress;
    }

    int peerAddress() {
        return remoteAddress;
    }

    int peerPort() {
        return remotePort;
    }

    @Override
    public String netid() {
        return "udp";
    }

    /** {@code inet_bind}: a local, broadcast or multicast address (or 0.0.0.0) and a free port. */
    @Override
    public void bind(SockAddr addr) throws SockException {
        Ipv4.AddressType t = net.ipv4.addressType(ns, addr.address());
        // inet_addr_valid_or_nonlocal: net.ipv4.ip_nonlocal_bind lets a socket bind an address not (yet) ours
        if (t == Ipv4.AddressType.UNICAST && !net.ipv4.nonlocalBind(ns)) {
            throw SockException.of(Errno.EADDRNOTAVAIL);
        }
        lock.lock();
        try {
            if (localPort != 0 || isClosed()) {
                throw SockException.of(Errno.EINVAL); // already bound
            }
            int port = net.getPort(this, addr.port(), addr.address());
            boundAddress = addr.address();
            localAddress = addr.address();
            localPort = port;
            addressLocked = addr.address() != 0;
            portLocked = addr.port() != 0;
        } finally {
            lock.unlock();
        }
    }

    /** {@code inet_autobind}: an ephemeral port for a socket that sends or connects unbound; EAGAIN if none is free. */
    private void autobind() throws SockException {
        lock.lock();
        try {
            if (localPort == 0 && !isClosed()) {
                try {
                    localPort = net.getPort(this, 0, boundAddress);
                } catch (SockException e) {
                    throw SockException.of(Errno.EAGAIN);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@code ip4_datagram_connect}, and {@code udp_disconnect} for AF_UNSPEC. */
    @Override
    public void connect(SockAddr addr) throws SockException {
        if (addr == null) {
            disconnect();
            return;
        }
        Ipv4.OutputRoute route = net.ipv4.route(ns, addr.address(), boundAddress, mark());
        if (route.error() != null) {
            throw SockException.of(route.error());
        }
        if (net.ipv4.addressType(ns, addr.address()) == Ipv4.AddressType.BROADCAST && !broadcast()) {
            throw SockException.of(Errno.EACCES);
        }
        autobind();
        lock.lock();
        try {
            if (boundAddress == 0) {
                boundAddress = route.source();
            }
            localAddress = boundAddress;
            remoteAddress = addr.address();
            remotePort = addr.port();
            state = TCP_ESTABLISHED;
        } finally {
            lock.unlock();
        }
    }

    private void disconnect() {
        lock.lock();
        try {
            state = TCP_CLOSE;
            remoteAddress = 0;
            remotePort = 0;
            if (!portLocked && localPort != 0) {
                net.unhash(this, localPort); // before the address goes: it names the SO_REUSEPORT group left
                localPort = 0;
            }
            if (!addressLocked) {
                boundAddress = 0;
                localAddress = 0;
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int sendmsg(ByteBuffer[] iov, SockAddr to, int flags) throws SockException {
        return udpSendmsg(null, iov, to, flags);
    }

    @Override
    public int send(ByteBuffer buf, SockAddr to, int flags) throws SockException {
        return udpSendmsg(buf, null, to, flags);
    }

    /** {@code udp_sendmsg}, from one buffer or a vector. */
    private int udpSendmsg(ByteBuffer one, ByteBuffer[] iov, SockAddr to, int flags) throws SockException {
        autobind(); // inet_send_prepare: a send binds the socket first, whatever becomes of the datagram
        long len = one != null ? one.remaining() : remaining(iov);
        if (len > MAX_PAYLOAD) {
            throw SockException.of(Errno.EMSGSIZE);
        }
        if ((flags & 0x1) != 0) {
            throw SockException.of(Errno.EOPNOTSUPP); // MSG_OOB
        }
        int daddr;
        int dport;
        if (to != null) {
            if (to.port() == 0) {
                throw SockException.of(Errno.EINVAL);
            }
            daddr = to.address();
            dport = to.port();
        } else {
            if (state != TCP_ESTABLISHED) {
                throw SockException.of(Errno.EDESTADDRREQ);
            }
            daddr = remoteAddress;
            dport = remotePort;
        }
        int saddr = boundAddress;
        if (to != null || saddr == 0) {
            if (net.ipv4.addressType(ns, daddr) == Ipv4.AddressType.BROADCAST && !broadcast()) {
                throw SockException.of(Errno.EACCES);
            }
            if (saddr == 0) {
                Ipv4.OutputRoute route = net.ipv4.route(ns, daddr, 0, mark());
                if (route.error() != null) {
                    throw SockException.of(route.error());
                }
                saddr = route.source();
            }
        }
        int pmtud = pmtuDiscover();
        int gso = gsoSize;
        if (gso != 0) {
            checkGso(gso, len, pmtud, daddr);
        } else if (pmtud >= SocketCalls.IP_PMTUDISC_DO && pmtud != SocketCalls.IP_PMTUDISC_OMIT) {
            // __ip_append_data: a socket that may not fragment gets EMSGSIZE for a datagram above the
            // path MTU (DO) or the device's (PROBE, INTERFACE ignore what ICMP taught)
            int mtu = pmtud == SocketCalls.IP_PMTUDISC_DO ? net.ipv4.pathMtu(ns, daddr) : deviceMtu(daddr);
            if (mtu > 0 && 20 + HEADER + len > mtu) {
                // ip_local_error: an IP_RECVERR socket (tracepath) reads the MTU that refused it from its error queue
                queueLocalError(Errno.EMSGSIZE, mtu, daddr, state == TCP_ESTABLISHED ? remotePort : 0);
                throw SockException.of(Errno.EMSGSIZE);
            }
        }
        SkBuff skb;
        try {
            skb = allocSend(HEADER + (int) len, HEADROOM, flags);
        } catch (SockException e) {
            if (e.errno() == Errno.ENOBUFS || e.errno() == Errno.EAGAIN) {
                net.mib.inc(UdpMib.Counter.SndbufErrors);
            }
            throw e;
        }
        int o = skb.put(HEADER + (int) len);
        if (one != null) {
            copyIn(one, skb, o + HEADER);
        } else {
            copyIn(iov, skb, o + HEADER);
        }
        skb.setU16(o, localPort);
        skb.setU16(o + 2, dport);
        skb.setU16(o + 4, HEADER + (int) len);
        skb.setU16(o + 6, 0);
        if (gso != 0 && len > gso) {
            // udp_send_skb: one skb of many datagrams, its payload not summed (each datagram's sum is made
            // when it is cut, by the core before a device without tx-udp-segmentation or by the device)
            skb.gso(gso, (int) ((len + gso - 1) / gso), org.modnet.api.net.NetdevFeatures.SKB_GSO_UDP_L4);
            skb.setU16(o + 6, UdpOffload.partialCheck(saddr, daddr, HEADER + (int) len));
            skb.csumPartial(o, 6);
        } else {
            skb.setU16(o + 6, checksum(skb, o, HEADER + (int) len, saddr, daddr));
        }
        skb.resetTransportHeader();
        skb.priority(priority()); // sk_priority (SO_PRIORITY)
        skb.mark(mark()); // sk_mark (SO_MARK): the routing rules' fwmark and netfilter see it
        // DF for IP_PMTUDISC_DO and WANT; a datagram above the MTU goes in fragments without it, as WANT's does
        Errno err = net.ipv4.send(ns, skb, saddr, daddr, SocketCalls.IPPROTO_UDP, ttl(), tos(), dontFragment());
        if (err != null) {
            if (err == Errno.ENOBUFS) {
                // udp_send_skb: the device's qdisc (or the headers' room) refused it; only an IP_RECVERR
                // socket hears of it, the others see the datagram sent, and both count it
                net.mib.inc(UdpMib.Counter.SndbufErrors);
                if (!recvErr()) {
                    return (int) len;
                }
            }
            throw SockException.of(err);
        }
        net.mib.inc(UdpMib.Counter.OutDatagrams);
        return (int) len;
    }

    /**
     * {@code udp_send_skb}'s checks of a {@code UDP_SEGMENT} send: EMSGSIZE when one datagram (headers
     * and {@code gso_size}, or the whole payload if shorter) does not fit the MTU a datagram may use
     * ({@code cork->fragsize}: the path MTU, or the device's for IP_PMTUDISC_PROBE and above), EINVAL
     * for more than {@link UdpOffload#UDP_MAX_SEGMENTS} datagrams. The path MTU of the pmtud check
     * below does not apply: {@code __ip_append_data} sizes a GSO send by {@code IP_MAX_MTU}.
     */
    private void checkGso(int gso, long len, int pmtud, int daddr) throws SockException {
        int mtu = pmtud < SocketCalls.IP_PMTUDISC_PROBE ? net.ipv4.pathMtu(ns, daddr) : deviceMtu(daddr);
        if (mtu > 0 && 20 + HEADER + Math.min(len, gso) > mtu) {
            throw SockException.of(Errno.EMSGSIZE);
        }
        if (len > (long) gso * UdpOffload.UDP_MAX_SEGMENTS) {
            throw SockException.of(Errno.EINVAL);
        }
    }

    /** {@code udp_lib_setsockopt}: {@code UDP_SEGMENT} takes 0 to 65535 (EINVAL otherwise); 0 turns it off. */
    @Override
    protected void setProtocolOption(int level, int name, int[] value) throws SockException {
        if (level == SocketCalls.IPPROTO_UDP && name == SocketCalls.UDP_SEGMENT) {
            if (value == null || value.length < 1 || value[0] < 0 || value[0] > 0xffff) {
                throw SockException.of(Errno.EINVAL);
            }
            gsoSize = value[0];
            return;
        }
        super.setProtocolOption(level, name, value);
    }

    /** IP_MTU ({@code do_ip_getsockopt}): the path MTU toward the connected peer, learned MTUs included; {@code UDP_SEGMENT}'s size. */
    @Override
    protected int getProtocolOption(int level, int name, int[] value) throws SockException {
        if (level == SocketCalls.IPPROTO_UDP && name == SocketCalls.UDP_SEGMENT) {
            if (value == null || value.length < 1) {
                throw SockException.of(Errno.EINVAL);
            }
            value[0] = gsoSize;
            return 1;
        }
        if (level == SocketCalls.IPPROTO_IP && name == SocketCalls.IP_MTU) {
            int mtu = state == TCP_ESTABLISHED ? net.ipv4.pathMtu(ns, remoteAddress) : 0;
            if (mtu == 0) {
                throw SockException.of(Errno.ENOTCONN);
            }
            if (value == null || value.length < 1) {
                throw SockException.of(Errno.EINVAL);
            }
            value[0] = mtu;
            return 1;
        }
        return super.getProtocolOption(level, name, value);
    }

    private int deviceMtu(int daddr) {
        Ipv4.OutputRoute r = net.ipv4.route(ns, daddr);
        return r.error() == null && r.device() != null ? r.device().mtu() : 0;
    }

    /**
     * The UDP checksum over the pseudo-header and the datagram (RFC 768): a computed 0 is sent as
     * 0xffff, since 0 means "no checksum".
     */
    static int checksum(SkBuff skb, int offset, int len, int saddr, int daddr) {
        int pseudo = (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + SocketCalls.IPPROTO_UDP + len;
        int sum = ~InetChecksum.sum(skb, offset, len, pseudo) & 0xffff;
        return sum == 0 ? 0xffff : sum;
    }

    /** {@code udp_recvmsg}: a datagram read is one InDatagrams. */
    @Override
    protected void received(SkBuff skb) {
        net.mib.inc(UdpMib.Counter.InDatagrams);
    }

    /** The sender: the IPv4 header's source and the UDP header's source port. */
    @Override
    protected SockAddr source(SkBuff skb) {
        return new SockAddr(skb.getU32(skb.networkHeader() + 12), skb.getU16(skb.transportHeader()));
    }

    @Override
    protected void release() {
        net.untrack(this);
        lock.lock();
        try {
            if (localPort != 0) {
                net.unhash(this, localPort);
            }
        } finally {
            lock.unlock();
        }
    }
}

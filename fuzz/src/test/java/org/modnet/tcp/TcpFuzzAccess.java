package org.modnet.tcp;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;
import org.modnet.drivers.loopback.Loopback;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;
import org.modnet.socket.SocketLayer;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.SocketProtocol;

/**
 * The TCP fuzz target's door to the package-private TCP: a standalone stack on a virtual clock with lo,
 * IPv4, TCP and the socket layer, a listener on 127.0.0.1:7000 and an established connection to it
 * whose two applications keep writing to each other; segments go straight into {@code tcp_v4_rcv} as
 * lo would hand them over, and each must count once in InSegs and end on exactly one fate
 * ({@link TcpDrops}). A connection the input resets or closes is replaced by a new one.
 */
public final class TcpFuzzAccess {
    public static final int LOCALHOST = 0x7f000001;
    public static final int PORT = 7000;
    public static final int CLOSED_PORT = 7001;
    /** Targets a segment can be aimed at. */
    public static final int LISTENER = 0;
    public static final int SERVER = 1;
    public static final int CLIENT = 2;
    public static final int CLOSED = 3;

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final StandaloneCore core = StandaloneCore.manual(1, 8192, clock::get);
    private final TcpProtocol tcp;
    private final SocketLayer sockets;
    private final NetNamespace ns;
    private final NetDevice lo;
    private final SocketCalls sys;
    private final int listener;
    private int client = -1;
    private int server = -1;
    private TcpSock cs;
    private TcpSock ss;
    private final ByteBuffer chunk = ByteBuffer.allocate(1000);
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
    /** Segments pushed and connections made so far (for the report). */
    public long segments;
    public long connections;

    public TcpFuzzAccess() {
        ArpProtocol arp = new ArpProtocol(core.core());
        Ipv4Protocol ipv4 = new Ipv4Protocol(core.core(), arp);
        tcp = new TcpProtocol(core.core(), ipv4);
        sockets = new SocketLayer(core.core());
        core.addPernet(new Loopback(), 0);
        core.addPernet(arp, 5);
        core.addPernet(ipv4, 10);
        core.addPernet(tcp, 20);
        core.addPernet(sockets, 30);
        core.addHandler(Eth.ETH_P_ARP, arp);
        core.addHandler(Eth.ETH_P_IP, ipv4);
        ipv4.addProtocol(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        ipv4.addOffload(tcp, Map.of(InetProtocol.PROTOCOL, 6));
        core.addOffload(Eth.ETH_P_IP, ipv4);
        sockets.addProtocol(tcp, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 1, SocketProtocol.PROTOCOL, 6,
                SocketProtocol.DEFAULT, true));
        ns = core.core().initNet();
        lo = ns.device("lo");
        sys = sockets.process("fuzz", "");
        listener = sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK, 0);
        check(sys.bind(listener, new SockAddr(LOCALHOST, PORT)) == 0, "bind");
        check(sys.listen(listener, 64) == 0, "listen");
        connect();
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** A fresh connection, the old one (if any) closed. */
    private void connect() {
        if (client >= 0) {
            sys.close(client);
            sys.close(server);
        }
        client = sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK, 0);
        sys.connect(client, new SockAddr(LOCALHOST, PORT));
        core.run();
        // the accept queue may hold children the input completed; take until ours comes. The input may
        // have filled the SYN queue with requests whose SYN-ACKs are retried: our SYN is then dropped and
        // sent again (tcp_syn_retries), so the clock moves on until the handshake completes
        server = -1;
        SockAddr[] me = new SockAddr[1];
        sys.getsockname(client, me);
        for (int second = 0; server < 0 && second < 130; second++) {
            for (int fd; (fd = sys.accept(listener, null, SocketCalls.SOCK_NONBLOCK)) >= 0;) {
                SockAddr[] peer = new SockAddr[1];
                sys.getpeername(fd, peer);
                if (me[0].equals(peer[0])) {
                    server = fd;
                } else {
                    sys.close(fd);
                }
            }
            if (server < 0) {
                clock.addAndGet(1_000_000_000L);
                core.run();
            }
        }
        check(server >= 0, "the connection was accepted within 130 s (tcp_syn_retries)");
        cs = sockOf(client);
        ss = sockOf(server);
        connections++;
    }

    private TcpSock sockOf(int fd) {
        SockAddr[] me = new SockAddr[1];
        SockAddr[] peer = new SockAddr[1];
        sys.getsockname(fd, me);
        sys.getpeername(fd, peer);
        for (Sock k : sockets.sockets("")) {
            if (k.localAddress().equals(me[0]) && peer[0].equals(k.remoteAddress())) {
                return (TcpSock) k;
            }
        }
        throw new AssertionError("no sock for fd " + fd);
    }

    private static final Field RCV_NXT;
    private static final Field SND_UNA;

    static {
        try {
            RCV_NXT = TcpSock.class.getDeclaredField("rcvNxt");
            SND_UNA = TcpSock.class.getDeclaredField("sndUna");
            RCV_NXT.setAccessible(true);
            SND_UNA.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static int get(Field f, TcpSock sk) {
        try {
            return f.getInt(sk);
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Pushes {@code seg} (a TCP header and what follows, at least 20 bytes) at {@code target}: its ports
     * are set to the target's, its sequence and acknowledgment numbers made relative to the target's
     * RCV.NXT and SND.UNA when asked, its checksum set when asked. Throws if the segment did not count
     * once in InSegs and end on exactly one fate.
     */
    public void segment(int target, byte[] seg, boolean relSeq, boolean relAck, boolean fixChecksum) {
        if (seg.length >= 20) {
            TcpSock v = target == SERVER ? ss : target == CLIENT ? cs : null;
            if (v != null) {
                put16(seg, 0, v.rport());
                put16(seg, 2, v.lport());
                if (relSeq) {
                    put32(seg, 4, get32(seg, 4) + get(RCV_NXT, v));
                }
                if (relAck) {
                    put32(seg, 8, get32(seg, 8) + get(SND_UNA, v));
                }
            } else {
                put16(seg, 2, target == CLOSED ? CLOSED_PORT : PORT);
                if (get16(seg, 0) == cs.lport()) {
                    put16(seg, 0, cs.lport() ^ 0x4000); // not the connection's own port pair
                }
            }
            if (fixChecksum) {
                checksum(seg);
            }
        }
        long inSegs = tcp.net(ns).mib.get(TcpMib.Tcp.InSegs);
        long fates = tcp.net(ns).drops.total();
        SkBuff skb = core.core().allocSkb(20 + seg.length, 64);
        check(skb != null, "a buffer for the segment");
        int nh = skb.put(20 + seg.length);
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 20 + seg.length);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 6);
        skb.setU32(nh + 12, LOCALHOST);
        skb.setU32(nh + 16, LOCALHOST);
        skb.setNetworkHeader(nh);
        skb.setBytes(nh + 20, seg, 0, seg.length);
        skb.pull(20);
        skb.dev(lo);
        tcp.receive(skb);
        segments++;
        long dIn = tcp.net(ns).mib.get(TcpMib.Tcp.InSegs) - inSegs;
        long dFates = tcp.net(ns).drops.total() - fates;
        if (dIn != 1 || dFates != 1) {
            throw new AssertionError("a segment counted " + dIn + " time(s) in InSegs and ended on " + dFates + " fate(s): "
                    + tcp.net(ns).drops.snapshot());
        }
    }

    /** Both applications write and read a little, the stack runs, the clock moves {@code millis}. */
    public void pump(long millis) {
        for (int fd : new int[] { client, server }) {
            chunk.clear();
            sys.send(fd, chunk, SocketCalls.MSG_DONTWAIT);
            in.clear();
            sys.recv(fd, in, SocketCalls.MSG_DONTWAIT);
        }
        long left = millis;
        do {
            long step = Math.min(left, 50);
            clock.addAndGet(step * 1_000_000L);
            left -= step;
            core.run();
        } while (left > 0);
        if (cs.state() != Sock.TCP_ESTABLISHED || ss.state() != Sock.TCP_ESTABLISHED) {
            connect(); // the input reset or closed it, as a peer may
        }
    }

    /** Over everything received so far, lo's own traffic included: InSegs equals the fates counted. */
    public void assertAccounted() {
        long inSegs = tcp.net(ns).mib.get(TcpMib.Tcp.InSegs);
        long fates = tcp.net(ns).drops.total();
        if (inSegs != fates) {
            throw new AssertionError("InSegs " + inSegs + " but " + fates + " fates: " + tcp.net(ns).drops.snapshot());
        }
    }

    private static void checksum(byte[] tcp) {
        put16(tcp, 16, 0);
        long sum = 2L * ((LOCALHOST >>> 16) + (LOCALHOST & 0xffff)) + 6 + tcp.length;
        for (int i = 0; i + 1 < tcp.length; i += 2) {
            sum += get16(tcp, i);
        }
        if ((tcp.length & 1) != 0) {
            sum += (tcp[tcp.length - 1] & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        put16(tcp, 16, (int) (~sum & 0xffff));
    }

    private static void put16(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 8);
        b[o + 1] = (byte) v;
    }

    private static void put32(byte[] b, int o, int v) {
        put16(b, o, v >>> 16);
        put16(b, o + 2, v);
    }

    private static int get16(byte[] b, int o) {
        return (b[o] & 0xff) << 8 | (b[o + 1] & 0xff);
    }

    private static int get32(byte[] b, int o) {
        return get16(b, o) << 16 | get16(b, o + 2);
    }
}

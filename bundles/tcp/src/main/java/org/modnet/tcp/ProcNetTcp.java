package org.modnet.tcp;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.ProcFile;
import org.modnet.socket.api.SockTimer;
import org.modnet.socket.api.TcpInfo;

/**
 * {@code /proc/net/tcp} ({@code tcp4_seq_show}): one line per hashed socket, listeners first, in
 * Linux's columns — addresses as the {@code __be32} read as a little-endian word ({@code 0100007F} for
 * 127.0.0.1), ports in host order, state, queues, timer and its time in clock ticks (USER_HZ 100),
 * retransmissions, uid, probes, inode, then the refcount, the socket's address, rto, ato,
 * quick-ACK/pingpong (quick ACKs are armed by the first data received, as {@code tcp_incr_quickack} arms them), cwnd and ssthresh ({@code -1} in the first slow start). SYN-RECV and TIME-WAIT
 * have the shorter lines of a request and a timewait sock. Every line is padded to 149 columns, as
 * {@code seq_pad} pads it. Kernel addresses print as zeros, as {@code %pK} does for a reader without
 * {@code CAP_SYSLOG}. Registered by {@link TcpProtocol} itself, which unregisters it after its hand-over.
 */
public final class ProcNetTcp implements ProcFile {
    /** {@code TMPSZ - 1}: the width every line is padded to. */
    private static final int WIDTH = 149;
    private static final String HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
    private static final String NO_POINTER = "0000000000000000";

    private final TcpProtocol tcp;

    public ProcNetTcp(TcpProtocol tcp) {
        this.tcp = tcp;
    }

    @Override
    public List<String> read(NetNamespace ns) {
        TcpNet net = tcp.net(ns);
        return net == null ? lines(List.of(), List.of()) : lines(net.hashed(), net.deathRow.all());
    }

    static List<String> lines(List<TcpSock> socks, List<TcpTimewaitSock> timewait) {
        List<String> out = new ArrayList<>();
        out.add(pad(HEADER));
        int i = 0;
        for (TcpSock sk : socks) {
            out.add(pad(line(i++, sk)));
        }
        for (TcpTimewaitSock tw : timewait) {
            out.add(pad(timewaitLine(i++, tw)));
        }
        return out;
    }

    /** {@code get_timewait4_sock}: a timewait sock's short line, its timer as the only detail. */
    static String timewaitLine(int i, TcpTimewaitSock tw) {
        return String.format(Locale.ROOT, "%4d: %08X:%04X %08X:%04X %02X", i, Integer.reverseBytes(tw.laddr), tw.lport,
                Integer.reverseBytes(tw.raddr), tw.rport, tw.substate) + timewaitTail(tw.remainingMs());
    }

    /** What follows the addresses and state on {@code get_timewait4_sock}'s line. */
    private static String timewaitTail(long expiresMs) {
        return String.format(Locale.ROOT, " %08X:%08X %02X:%08X %08X %5d %8d %d %d %s", 0, 0, 3, ticks(expiresMs), 0, 0, 0, 0, 3, NO_POINTER);
    }

    static String line(int i, TcpSock sk) {
        int st = sk.state();
        String addrs = String.format(Locale.ROOT, "%4d: %08X:%04X %08X:%04X %02X", i, Integer.reverseBytes(sk.laddr()), sk.lport(),
                Integer.reverseBytes(sk.raddr()), sk.rport(), st);
        SockTimer t = sk.timer();
        if (st == TcpSock.TCP_FIN_WAIT2 && sk.isClosed() && t.kind() == SockTimer.TIMEWAIT) {
            return addrs + timewaitTail(t.expiresMs()); // an orphan waiting out tcp_fin_timeout shows as a timewait sock
        }
        if (st == TcpSock.TCP_SYN_RECV) { // get_openreq4
            return addrs + String.format(Locale.ROOT, " %08X:%08X %02X:%08X %08X %5d %8d %d %d %s", 0, 0, 1, ticks(t.expiresMs()), t.retrans(),
                    0, 0, 0, 0, NO_POINTER);
        }
        TcpInfo info = sk.tcpInfo();
        boolean listen = st == TcpSock.TCP_LISTEN;
        int tr = switch (t.kind()) {
            case SockTimer.ON -> 1;
            case SockTimer.PERSIST -> 4;
            case SockTimer.KEEPALIVE, SockTimer.TIMEWAIT -> 2;
            default -> 0;
        };
        long when = tr == 0 ? 0 : ticks(t.expiresMs());
        int ssthresh = listen ? 0 : info.sndSsthresh() >= 0xffff || info.sndSsthresh() == TcpInfo.INFINITE_SSTHRESH ? -1 : info.sndSsthresh();
        return addrs + String.format(Locale.ROOT, " %08X:%08X %02X:%08X %08X %5d %8d %d %d %s %d %d %d %d %d", listen ? 0 : sk.sendQueue(), sk.recvQueue(), tr,
                when, info.retransmits(), 0, info.probes(), sk.isClosed() ? 0 : sk.inode(), 1, NO_POINTER, sk.rtoMs() / 10,
                info.ato() / 10_000, listen || info.dataSegsIn() == 0 ? 0 : sk.quickAcks() << 1 | (sk.inPingpong() ? 1 : 0), info.sndCwnd(), ssthresh);
    }

    /** {@code jiffies_delta_to_clock_t}: milliseconds to USER_HZ ticks, never below zero. */
    private static long ticks(long ms) {
        return Math.max(ms, 0) / 10;
    }

    private static String pad(String s) {
        return s.length() >= WIDTH ? s : s + " ".repeat(WIDTH - s.length());
    }
}
